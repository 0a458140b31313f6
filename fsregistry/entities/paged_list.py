"""A list with a continuation token, like ``mlflow.store.entities.PagedList``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

T = TypeVar("T")


class PagedList(list[T]):
    """One page of results; ``token`` fetches the next page (None when there is none)."""

    def __init__(self, items: Iterable[T], token: str | None) -> None:
        super().__init__(items)
        self.token = token

    def to_list(self) -> list[T]:
        """The items as a plain list (without the token), as MLflow's ``PagedList.to_list``."""
        return list(self)
