"""Where the tracking and registry stores are, and one store object per URI.

Resolution order for the tracking URI: ``set_tracking_uri``, then ``FSREG_TRACKING_URI``,
then ``MLFLOW_TRACKING_URI`` when it names a path or a bucket (a server or database URI is
MLflow's business, not ours), then ``./mlruns``. The registry URI defaults to the tracking URI.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fsregistry.storage import durability, is_store_url, open_storage

if TYPE_CHECKING:
    from fsregistry.registry.store import RegistryStore
    from fsregistry.tracking.store import TrackingStore

DEFAULT_TRACKING_URI = "./mlruns"

_tracking_uri: str | None = None
_registry_uri: str | None = None
_require_model_hashes: bool | None = None
_stores: dict[tuple[str, str | None], TrackingStore] = {}
_registries: dict[tuple[str, str], RegistryStore] = {}
_lock = threading.Lock()


def _from_env(*names: str) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value and (name.startswith("FSREG_") or is_store_url(value)):
            return value
    return None


def set_tracking_uri(uri: str | os.PathLike[str]) -> None:
    """Point tracking at a path or bucket URL for this process (``mlflow.set_tracking_uri``):
    a string is kept as given, a ``Path`` becomes its absolute ``file://`` URI, as in MLflow."""
    global _tracking_uri
    _tracking_uri = _as_uri(uri)


def _as_uri(uri: str | os.PathLike[str]) -> str:
    if isinstance(uri, Path):
        return uri.absolute().resolve().as_uri()
    return os.fspath(uri)


def get_tracking_uri() -> str:
    """The tracking URI (``mlflow.get_tracking_uri``): as set, else from the environment,
    else ``./mlruns`` as an absolute ``file://`` URI, as MLflow returns its local default."""
    return (
        _tracking_uri
        or _from_env("FSREG_TRACKING_URI", "MLFLOW_TRACKING_URI")
        or Path(os.path.abspath(DEFAULT_TRACKING_URI)).as_uri()
    )


def is_tracking_uri_set() -> bool:
    """Whether ``set_tracking_uri`` or an environment variable names the tracking store
    (``mlflow.is_tracking_uri_set``)."""
    return bool(_tracking_uri or _from_env("FSREG_TRACKING_URI", "MLFLOW_TRACKING_URI"))


def set_registry_uri(uri: str | os.PathLike[str]) -> None:
    """Keep the model registry somewhere else than tracking (``mlflow.set_registry_uri``)."""
    global _registry_uri
    _registry_uri = _as_uri(uri)


def get_registry_uri() -> str:
    """The process registry URI (``mlflow.get_registry_uri``): see :func:`registry_uri_for`."""
    return registry_uri_for(None)


def registry_uri_for(
    tracking_uri: str | os.PathLike[str] | None,
    registry_uri: str | os.PathLike[str] | None = None,
) -> str:
    """The one rule for which registry goes with a tracking URI, MLflow's
    ``_resolve_registry_uri``: ``registry_uri`` when given, else the process setting
    (``set_registry_uri``, ``FSREG_REGISTRY_URI``, ``MLFLOW_REGISTRY_URI``), else
    ``tracking_uri``, else the process tracking URI. ``Client``, every ``fsreg`` command and
    :mod:`fsregistry.uris` decide it here, so ``-t A`` with ``FSREG_REGISTRY_URI=B`` reads the
    registry at B everywhere, as ``MlflowClient(tracking_uri=A)`` does."""
    if registry_uri:
        return os.fspath(registry_uri)
    return (
        _registry_uri
        or _from_env("FSREG_REGISTRY_URI", "MLFLOW_REGISTRY_URI")
        or (os.fspath(tracking_uri) if tracking_uri else None)
        or get_tracking_uri()
    )


def set_require_model_hashes(value: bool | None) -> None:
    """Refuse to load a model that has no ``fsreg.hashes.json`` (one written by MLflow or
    with its manifest deleted), instead of warning that its pickles are unverified; None
    goes back to ``FSREG_REQUIRE_MODEL_HASHES``. Not in MLflow."""
    global _require_model_hashes
    _require_model_hashes = value


def require_model_hashes() -> bool:
    """Whether loaders refuse models without a hash manifest: the setting above, else the
    environment variable ``FSREG_REQUIRE_MODEL_HASHES`` (``1``/``true``/``yes``)."""
    if _require_model_hashes is not None:
        return _require_model_hashes
    value = os.environ.get("FSREG_REQUIRE_MODEL_HASHES", "")
    return value.strip().lower() in ("1", "true", "yes", "on")


def set_fsync_mode(mode: str | None) -> None:
    """When local writes are synced to disk: ``"off"``, ``"meta"`` (the default: every
    ``meta.yaml`` write and directory move is on disk when the call returns) or ``"all"``
    (every write); None goes back to ``FSREG_FSYNC``. S3 and GCS ignore it. MLflow's file
    store never syncs (``"off"``). See :mod:`fsregistry.storage.durability`."""
    durability.set_fsync_mode(mode)


def fsync_mode() -> str:
    """The mode local writes use now: :func:`set_fsync_mode`, else ``FSREG_FSYNC``, else
    ``"meta"``. Not in MLflow."""
    return durability.fsync_mode()


def reset() -> None:
    """Forget ``set_tracking_uri``, ``set_registry_uri``, ``set_require_model_hashes`` and
    ``set_fsync_mode``: the environment variables and ``./mlruns`` apply again. Store objects
    already made are kept (they may hold buffered metrics); a later call for a URI gets the
    same object."""
    global _tracking_uri, _registry_uri, _require_model_hashes
    _tracking_uri = _registry_uri = None
    _require_model_hashes = None
    durability.set_fsync_mode(None)


@contextlib.contextmanager
def using(
    tracking_uri: str | os.PathLike[str] | None = None,
    registry_uri: str | os.PathLike[str] | None = None,
) -> Iterator[None]:
    """Within the block, the process settings are exactly these (None: unset, so the
    environment variables and defaults apply; ``set_require_model_hashes`` and
    ``set_fsync_mode`` are unset too); the previous settings come back after it."""
    global _tracking_uri, _registry_uri, _require_model_hashes
    saved = _tracking_uri, _registry_uri, _require_model_hashes
    saved_fsync = durability.fsync_setting()
    _tracking_uri = os.fspath(tracking_uri) if tracking_uri else None
    _registry_uri = os.fspath(registry_uri) if registry_uri else None
    _require_model_hashes = None
    durability.set_fsync_mode(None)
    try:
        yield
    finally:
        _tracking_uri, _registry_uri, _require_model_hashes = saved
        durability.set_fsync_mode(saved_fsync)


def artifact_root_from_env() -> str | None:
    """Default artifact root for new experiments (``FSREG_ARTIFACT_ROOT``), else the store."""
    return os.environ.get("FSREG_ARTIFACT_ROOT") or None


def tracking_store(
    uri: str | None = None, storage_options: dict[str, Any] | None = None
) -> TrackingStore:
    """The process-wide store object for a tracking URI (shared caches and metric buffers)."""
    from fsregistry.tracking.store import TrackingStore

    uri = uri or get_tracking_uri()
    key = (uri, repr(sorted((storage_options or {}).items())))
    with _lock:
        store = _stores.get(key)
        if store is None:
            store = TrackingStore(open_storage(uri, storage_options), artifact_root_from_env())
            _stores[key] = store
    return store


def registry_store(
    uri: str | None = None, storage_options: dict[str, Any] | None = None
) -> RegistryStore:
    """The process-wide model registry store object for a registry URI."""
    from fsregistry.registry.store import RegistryStore

    uri = uri or get_registry_uri()
    key = (uri, repr(sorted((storage_options or {}).items())))
    with _lock:
        store = _registries.get(key)
        if store is None:
            store = RegistryStore(open_storage(uri, storage_options))
            _registries[key] = store
    return store


def _reset_after_fork() -> None:
    _stores.clear()
    _registries.clear()


os.register_at_fork(after_in_child=_reset_after_fork)
