"""Which stores a command works on, from ``--tracking-uri`` / ``--registry-uri``.

No typer here: the fast path of :mod:`fsregistry.cli.quick` uses these without loading it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fsregistry.registry.store import RegistryStore


def make_client(tracking_uri: str | None, registry_uri: str | None = None) -> Any:
    from fsregistry.client import Client

    return Client(tracking_uri=tracking_uri, registry_uri=registry_uri)


def registry_store(tracking_uri: str | None, registry_uri: str | None = None) -> RegistryStore:
    """The registry store ``make_client(tracking_uri, registry_uri)`` would use, without
    loading the client and the tracking store (``fsreg ls models`` needs neither).

    The URIs resolve as ``Client`` resolves them (:func:`fsregistry.config.registry_uri_for`),
    and the tracking URI is opened too, so a bad ``--tracking-uri`` fails the same way as
    through the client.
    """
    from fsregistry import config
    from fsregistry.storage import open_storage

    tracking = os.fspath(tracking_uri) if tracking_uri else config.get_tracking_uri()
    open_storage(tracking)
    return config.registry_store(config.registry_uri_for(tracking, registry_uri))


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
