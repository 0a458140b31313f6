"""The model registry: MLflow's file layout (``models/``) with safe concurrent writes.

``fsregistry.Client`` exposes it with ``MlflowClient``'s method names; this package holds the
store (:mod:`.store`), model URI resolution (:mod:`.uris`) and the fluent
:func:`register_model` (:mod:`.fluent`).
"""

from fsregistry.registry.fluent import register_model
from fsregistry.registry.store import RegistryStore
from fsregistry.registry.uris import resolve_model_uri

__all__ = ["RegistryStore", "register_model", "resolve_model_uri"]
