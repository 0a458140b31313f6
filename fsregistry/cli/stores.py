"""Which stores a command works on, from ``--tracking-uri`` / ``--registry-uri``.

Commands that change a store open it as the library does (:class:`fsregistry.Client`, which
gives a new store its Default experiment, as ``MlflowClient`` does). Commands that only read
(``ls``, ``show``, ``artifacts download``, ``predict``, ``models serve``...) open it
read-only: they first check that something is there and never create anything, so a typo in
``-t`` or a command run outside the directory holding ``mlruns/`` says "No store at ..."
(exit code 1) instead of showing an empty store — or making one.

What counts as a store, from one listing of its root (plus, rarely, a few ``meta.yaml``
reads): a tracking store has ``.trash/``, the Default experiment ``0/`` or an experiment
directory with a ``meta.yaml``; a registry has ``models/`` or is a tracking store (whose
registry is empty until a model is registered). A store made by fsregistry or MLflow and
holding nothing yet is a store: reading it succeeds and shows nothing.

No typer here: the fast path of :mod:`fsregistry.cli.quick` uses these without loading it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from fsregistry.exceptions import ResourceDoesNotExist
from fsregistry.mlruns import layout

if TYPE_CHECKING:
    from fsregistry.registry.store import RegistryStore
    from fsregistry.storage import Storage

# Experiment directories whose meta.yaml is read before giving up on a root without .trash/
# or 0/ (a store made by hand, or one whose Default experiment was removed).
_PROBE_DIRS = 20


class NoStore(ResourceDoesNotExist):
    """Nothing at a ``--tracking-uri`` / ``--registry-uri`` that a reading command can read."""


def make_client(tracking_uri: str | None, registry_uri: str | None = None) -> Any:
    """A client for commands that write (a new store gets its Default experiment)."""
    from fsregistry.client import Client

    return Client(tracking_uri=tracking_uri, registry_uri=registry_uri)


def read_client(tracking_uri: str | None, registry_uri: str | None = None) -> Any:
    """A client for commands that only read the tracking store: :class:`NoStore` unless a
    tracking store is there, so making the client creates nothing."""
    tracking = tracking_uri_of(tracking_uri)
    check_tracking_store(tracking)
    return make_client(tracking, registry_uri)


def registry_client(tracking_uri: str | None, registry_uri: str | None = None) -> Any:
    """A client for commands that change what a registry already holds (describe, tag,
    transition, rename, delete, alias): :class:`NoStore` unless a registry or tracking store
    is there, so a typo in ``-t`` creates nothing."""
    from fsregistry import config

    tracking = tracking_uri_of(tracking_uri)
    check_registry_store(config.registry_uri_for(tracking, registry_uri))
    return make_client(tracking, registry_uri)


def check_tracking_store(uri: str) -> None:
    """Raise :class:`NoStore` unless ``uri`` holds a tracking store (see the module doc)."""
    from fsregistry.storage import open_storage

    storage = open_storage(uri)
    dirs, files = storage.list_dir("")
    if _has_experiments(storage, dirs):
        return
    if layout.MODELS in dirs:
        raise NoStore(f"No experiments at {uri}: it holds only a model registry")
    raise NoStore(_no_store(uri, dirs, files))


def check_registry_store(uri: str) -> None:
    """Raise :class:`NoStore` unless ``uri`` holds a model registry or a tracking store."""
    from fsregistry.storage import open_storage

    storage = open_storage(uri)
    dirs, files = storage.list_dir("")
    if layout.MODELS in dirs or _has_experiments(storage, dirs):
        return
    raise NoStore(_no_store(uri, dirs, files))


def _has_experiments(storage: Storage, dirs: list[str]) -> bool:
    if layout.TRASH in dirs or layout.DEFAULT_EXPERIMENT_ID in dirs:
        return True
    candidates = [d for d in dirs if d not in layout.RESERVED_ROOT_FOLDERS][:_PROBE_DIRS]
    return bool(storage.read_many(layout.experiment_meta(d) for d in candidates))


def _no_store(uri: str, dirs: list[str], files: list[str]) -> str:
    if not dirs and not files:
        return f"No store at {uri}: nothing there (give the store with -t/--tracking-uri)"
    return f"No store at {uri}: no experiments or models there (is it the mlruns directory?)"


def tracking_uri_of(tracking_uri: str | None) -> str:
    """The tracking URI a command uses: ``-t`` when given, else the process default."""
    from fsregistry import config

    return os.fspath(tracking_uri) if tracking_uri else config.get_tracking_uri()


def registry_store(tracking_uri: str | None, registry_uri: str | None = None) -> RegistryStore:
    """The registry store ``make_client(tracking_uri, registry_uri)`` would use, read-only
    (:class:`NoStore` unless a registry or tracking store is there), without loading the
    client and the tracking store (``fsreg ls models`` needs neither).

    The URIs resolve as ``Client`` resolves them (:func:`fsregistry.config.registry_uri_for`),
    and the tracking URI is opened too, so a bad ``--tracking-uri`` fails the same way as
    through the client.
    """
    from fsregistry import config
    from fsregistry.storage import open_storage

    tracking = tracking_uri_of(tracking_uri)
    open_storage(tracking)
    registry = config.registry_uri_for(tracking, registry_uri)
    check_registry_store(registry)
    return config.registry_store(registry)


def tracking_store_if_any(tracking_uri: str | None) -> Any:
    """The tracking store at ``tracking_uri`` when there is one there, else None (lineage
    of a version whose runs are elsewhere); creates nothing."""
    from fsregistry import config

    tracking = tracking_uri_of(tracking_uri)
    try:
        check_tracking_store(tracking)
    except NoStore:
        return None
    return config.tracking_store(tracking)


def check_stores_for_uri(
    uri: str, tracking_uri: str | None, registry_uri: str | None = None
) -> None:
    """Before a reading command resolves ``uri``: :class:`NoStore` when it is a ``models:/``
    or ``runs:/`` URI and the store it is read from is not there."""
    from fsregistry import config

    tracking = tracking_uri_of(tracking_uri)
    if uri.startswith("models:/"):
        check_registry_store(config.registry_uri_for(tracking, registry_uri))
    elif uri.startswith("runs:/"):
        check_tracking_store(tracking)


def use_stores(tracking_uri: str | None, registry_uri: str | None = None) -> None:
    """Point the fluent API (``fsregistry.register_model``, ``load_model``, ...) at the stores
    given on the command line; the registry then resolves by
    :func:`fsregistry.config.registry_uri_for` (``--registry-uri``, else
    ``FSREG_REGISTRY_URI``/``MLFLOW_REGISTRY_URI``, else the tracking store)."""
    from fsregistry import config

    if tracking_uri:
        config.set_tracking_uri(tracking_uri)
    if registry_uri:
        config.set_registry_uri(registry_uri)
