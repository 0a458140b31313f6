"""``fsregistry.Client`` mirrors ``MlflowClient``, so each public method and property says in
its docstring what it does and where it differs from ``MlflowClient`` (or that it does not,
or that it is fsregistry's own). A new method without one fails here."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from fsregistry.client import Client, MlflowClient


def _public_members() -> dict[str, Callable[..., Any]]:
    """Public methods and property getters of Client, by name."""
    members: dict[str, Callable[..., Any]] = {}
    for name, member in inspect.getmembers(Client):
        if name.startswith("_"):
            continue
        members[name] = member.fget if isinstance(member, property) else member
    return members


def test_mlflow_client_is_client() -> None:
    assert MlflowClient is Client


def test_every_public_member_has_a_docstring() -> None:
    members = _public_members()
    assert len(members) > 50  # the listing itself works (a broken one would pass vacuously)
    missing = sorted(name for name, func in members.items() if not (func.__doc__ or "").strip())
    assert not missing, f"Client members without a docstring: {missing}"


#: Words a docstring uses to relate its member to MlflowClient ("Same as MlflowClient.",
#: "Differs: ...", "fsregistry only: ...", or a sentence naming MLflow's behaviour).
_COMPARING = ("MlflowClient", "MLflow", "Differs", "fsregistry only")


def test_every_docstring_relates_the_member_to_mlflow() -> None:
    silent = sorted(
        name
        for name, func in _public_members().items()
        if not any(word in (func.__doc__ or "") for word in _COMPARING)
    )
    assert not silent, f"Client docstrings that do not compare with MlflowClient: {silent}"
