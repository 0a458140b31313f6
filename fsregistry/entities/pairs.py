"""Entities iterate as ``(name, value)`` pairs, as MLflow's ``_MlflowObject`` does, so
``dict(run.info)``, ``dict(rm)`` and ``dict(mv)`` work as in MLflow's docs.

The names are the entity's public fields (a dataclass's fields, else ``_PAIR_NAMES``),
sorted, as MLflow sorts its properties; values are the attributes as they are, nested
entities included.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, ClassVar


class KeyValuePairs:
    """Mixin: ``iter(entity)`` yields ``(name, value)`` for each public field, by name."""

    __slots__ = ()  # RunData keeps its slots
    _PAIR_NAMES: ClassVar[tuple[str, ...]] = ()

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        if dataclasses.is_dataclass(self):
            names = [f.name for f in dataclasses.fields(self) if not f.name.startswith("_")]
        else:
            names = list(self._PAIR_NAMES)
        for name in sorted(names):
            yield name, getattr(self, name)
