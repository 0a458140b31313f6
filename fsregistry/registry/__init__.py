"""The model registry: MLflow's file layout (``models/``) with safe concurrent writes.

``fsregistry.Client`` exposes it with ``MlflowClient``'s method names; this package holds the
store (:mod:`.store`), model URI resolution (:mod:`.uris`) and the fluent
:func:`register_model` (:mod:`.fluent`). They load on first use, so importing the store alone
(``fsreg ls models``) does not load the rest.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fsregistry.registry.fluent import register_model
    from fsregistry.registry.store import RegistryStore
    from fsregistry.registry.uris import resolve_model_uri

_EXPORTS = {
    "RegistryStore": "fsregistry.registry.store",
    "register_model": "fsregistry.registry.fluent",
    "resolve_model_uri": "fsregistry.registry.uris",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = ["RegistryStore", "register_model", "resolve_model_uri"]
