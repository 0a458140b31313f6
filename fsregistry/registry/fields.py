"""fsregistry's bookkeeping in the registry's meta.yaml files, and the argument rules every
registry operation shares.

fsregistry's own bookkeeping lives under one extra key, ``fsregistry:`` (:data:`FSREG_KEY`),
in the MLflow-layout meta.yaml files; MLflow builds its entities from known keys only, so it
ignores it (and drops it when it rewrites a file itself, which every protocol here
tolerates). The keys under it, each owned by the module that implements its protocol:

* ``nonce``: a per-call random value that makes a creator's bytes its own
  (:mod:`fsregistry.registry.claims`);
* ``last_version``: the version number hint of a registered model
  (:mod:`fsregistry.registry.claims`);
* ``stage_seq``, ``stage_owner``: stage transitions (:mod:`fsregistry.registry.stages`);
* ``rename_from``, ``renamed_to``, ``rename_id``, ``rename_started``, ``rename_done``: the
  object-store rename markers (:mod:`fsregistry.registry.rename`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from fsregistry.entities.registry import STAGE_DELETED_INTERNAL
from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist
from fsregistry.mlruns.validation import (
    MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH,
    describe,
    tag_items,
    validate_alias,
    validate_tag,
    validate_value_length,
)

# Our bookkeeping key in meta.yaml files (MLflow ignores unknown keys).
FSREG_KEY = "fsregistry"


# -- the bookkeeping key ----------------------------------------------------------------------
def bookkeeping(meta: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``meta``'s ``fsregistry`` keys (empty when there are none)."""
    value = meta.get(FSREG_KEY)
    return dict(value) if isinstance(value, dict) else {}


def with_bookkeeping(meta: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``meta`` with ``fsregistry`` keys set (None removes one)."""
    fs = bookkeeping(meta)
    for key, value in changes.items():
        if value is None:
            fs.pop(key, None)
        else:
            fs[key] = value
    out = dict(meta)
    if fs:
        out[FSREG_KEY] = fs
    else:
        out.pop(FSREG_KEY, None)
    return out


def is_deleted(meta: Mapping[str, Any]) -> bool:
    """Whether a version's meta.yaml marks it soft-deleted (its number stays taken)."""
    return meta.get("current_stage") == STAGE_DELETED_INTERNAL


def nonce() -> str:
    return os.urandom(16).hex()  # not uuid4: importing uuid costs fsreg's start more


# -- arguments ------------------------------------------------------------------------------
def version_number(version: Any) -> int:
    """A version given as int or digit string (MLflow accepts both) -> int >= 1."""
    if isinstance(version, bool):
        raise InvalidParameterValue(
            f"Invalid model version {describe(version)}: must be an integer"
        )
    if isinstance(version, int):
        number = version
    elif isinstance(version, str) and version.strip().isdecimal():  # int() refuses "²"
        number = int(version.strip())
    else:
        raise InvalidParameterValue(
            f"Invalid model version {describe(version)}: must be an integer"
        )
    if number < 1:
        raise InvalidParameterValue(f"Invalid model version {describe(version)}: must be >= 1")
    return number


def registry_tags(tags: Mapping[str, Any] | Iterable[Any] | None) -> list[tuple[str, str]]:
    """Tags given as a mapping or as tag objects -> validated ``(key, value)`` pairs."""
    return [validate_tag(k, v, MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH) for k, v in tag_items(tags)]


def optional_text(value: Any, what: str) -> str | None:
    """A description, run link or model id: None, or a string of a valid length."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidParameterValue(f"Invalid {what} {describe(value)}: must be a string")
    return validate_value_length(value, MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH, what)


def lookup_alias(alias: Any) -> str:
    """An alias to look up or delete: MLflow's characters (reserved names are simply absent)."""
    if alias == "" or not isinstance(alias, str):
        raise InvalidParameterValue(f"Invalid alias {describe(alias)}: must be a non-empty string")
    try:
        return validate_alias(alias)
    except InvalidParameterValue:
        if alias.lower() == "latest" or (alias[:1] in "vV" and alias[1:].isdigit()):
            return alias  # reserved for writing, a valid (always missing) name to look up
        raise


def version_not_found(name: str, number: int) -> ResourceDoesNotExist:
    return ResourceDoesNotExist(f"Model Version (name={name}, version={number}) not found")


__all__ = [
    "FSREG_KEY",
    "bookkeeping",
    "is_deleted",
    "lookup_alias",
    "nonce",
    "optional_text",
    "registry_tags",
    "version_not_found",
    "version_number",
    "with_bookkeeping",
]
