"""fsregistry's bookkeeping in the registry's meta.yaml files, and the argument rules every
registry operation shares.

fsregistry's own bookkeeping lives under one extra key, ``fsregistry:`` (:data:`FSREG_KEY`),
in the MLflow-layout meta.yaml files; MLflow builds its entities from known keys only, so it
ignores it (and drops it when it rewrites a file itself, which every protocol here
tolerates). The keys under it, each owned by the module that implements its protocol:

* ``nonce``: a per-call random value that makes a creator's bytes its own
  (:mod:`fsregistry.registry.claims`); in a registered model's meta.yaml it also names the
  model's incarnation (:func:`incarnation`);
* ``last_version``: the version number hint of a registered model
  (:mod:`fsregistry.registry.claims`);
* ``stage_seq``, ``stage_owner``: stage transitions (:mod:`fsregistry.registry.stages`);
* ``edit`` (in a version's meta.yaml): the identity of the stage transition or
  ``update_model_version`` that last wrote it (:func:`edit_id`), by which such a write a
  rename carried finds itself in the receipts (:mod:`fsregistry.registry.receipts`);
* ``origin`` (in a registered model's meta.yaml): the incarnation of the model as created,
  carried by every object-store rename to its target (:func:`lineage`);
* ``rename_from``, ``renamed_to``, ``rename_id``, ``rename_started``, ``rename_done``: the
  object-store rename markers (:mod:`fsregistry.registry.rename`);
* ``copied`` (in a tombstone), ``superseded`` (in the model at a name a rename left): what
  renames away from the name copied (:mod:`fsregistry.registry.receipts`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from fsregistry.entities.registry import STAGE_DELETED_INTERNAL
from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist, shown
from fsregistry.mlruns.validation import (
    MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH,
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


def edit_id() -> str:
    """A per-call identity for a version edit (``edit``: a stage transition, a description
    update): 64 random bits, kept by every copy a rename makes (unlike the file's bytes)."""
    return os.urandom(8).hex()


def incarnation(meta: Mapping[str, Any]) -> str | None:
    """Which model a registered model's meta.yaml belongs to, beyond its name: the nonce
    drawn when a model was created at the name (created, or an object-store rename's
    target, :mod:`fsregistry.registry.rename`). On an object store a name can be renamed
    away and back while a write is under way, and the model then at the name is another
    one; a local rename moves the directory and its meta.yaml, and the model stays the same.
    None where MLflow rewrote the file (it drops fsregistry's key): then it cannot be told."""
    value = bookkeeping(meta).get("nonce")
    return value if isinstance(value, str) else None


def lineage(meta: Mapping[str, Any]) -> str | None:
    """Which model a registered model's meta.yaml belongs to across object-store renames:
    its ``origin`` (the incarnation of the model as created, which each rename hands to its
    target), else its own incarnation (not renamed yet). None where MLflow rewrote it."""
    value = bookkeeping(meta).get("origin")
    return value if isinstance(value, str) else incarnation(meta)


# -- arguments ------------------------------------------------------------------------------
def version_number(version: Any) -> int:
    """A version given as int or digit string (MLflow accepts both) -> int >= 1."""
    if isinstance(version, bool):
        raise InvalidParameterValue(
            f"Parameter 'version' must be an integer, got {shown(str(version))}."
        )
    if isinstance(version, int):
        number = version
    elif isinstance(version, str) and version.strip().isdecimal():  # int() refuses "²"
        number = int(version.strip())
    else:
        raise InvalidParameterValue(
            f"Parameter 'version' must be an integer, got {shown(str(version))}."
        )
    if number < 1:
        raise InvalidParameterValue(f"Invalid model version {shown(version)}: must be >= 1")
    return number


def registry_tags(tags: Mapping[str, Any] | Iterable[Any] | None) -> list[tuple[str, str]]:
    """Tags given as a mapping or as tag objects -> validated ``(key, value)`` pairs."""
    return [validate_tag(k, v, MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH) for k, v in tag_items(tags)]


def optional_text(value: Any, what: str) -> str | None:
    """A description, run link or model id: None, or a string of a valid length."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidParameterValue(f"Invalid {what} {shown(value)}: must be a string")
    return validate_value_length(value, MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH, what)


def lookup_alias(alias: Any) -> str:
    """An alias to look up or delete: MLflow's characters (reserved names are simply absent)."""
    if alias == "" or not isinstance(alias, str):
        raise InvalidParameterValue(
            "Registered model alias name cannot be empty. "
            f"(invalid alias {shown(alias)}: must be a non-empty string)"
        )
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
    "edit_id",
    "incarnation",
    "is_deleted",
    "lineage",
    "lookup_alias",
    "nonce",
    "optional_text",
    "registry_tags",
    "version_not_found",
    "version_number",
    "with_bookkeeping",
]
