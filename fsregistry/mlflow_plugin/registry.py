"""MLflow's model registry ``AbstractStore`` over fsregistry's :class:`RegistryStore`.

The whole registry: registered models, versions, tags, descriptions, stages, aliases, search
and ``get_model_version_download_uri``. A new version's ``source`` (``models:/<model_id>``
from an MLflow 3 client, ``runs:/...``, a plain location) is resolved as ``fsregistry``'s
``Client`` resolves it (:func:`fsregistry.uris.version_location`), against the tracking store
the server was started with. Versions are claimed by fsregistry's create-if-absent protocol,
so registrations through the server and through fsregistry never take one number twice.
Prompts are MLflow's own implementation (registered models tagged as prompts, built by
MLflow's abstract store on the methods here); webhooks answer as MLflow's file store does.
"""

from __future__ import annotations

import functools
from typing import Any

from mlflow.store.model_registry.abstract_store import AbstractStore

from fsregistry.mlflow_plugin import convert
from fsregistry.mlflow_plugin.convert import translated
from fsregistry.mlflow_plugin.forward import Forward
from fsregistry.mlflow_plugin.locations import (
    PREFIX,
    refuse_write,
    store_url,
    writes_allowed,
)
from fsregistry.mlflow_plugin.readonly import ReadOnlyStorage
from fsregistry.mlflow_plugin.unsupported import registry_unsupported
from fsregistry.registry.store import RegistryStore
from fsregistry.storage import open_storage
from fsregistry.uris import version_location


@registry_unsupported
class FsregRegistryStore(AbstractStore):  # type: ignore[misc]
    """MLflow's registry store interface on an fsregistry store (``fsreg+<protocol>://...``)."""

    @translated
    def __init__(self, store_uri: str, tracking_uri: str | None = None) -> None:
        super().__init__(store_uri=store_uri, tracking_uri=tracking_uri)
        self.store_uri = store_uri
        self.url = store_url(store_uri)
        self._writable = writes_allowed(store_uri)
        if tracking_uri and tracking_uri.startswith(PREFIX):
            self.tracking_url: str | None = store_url(tracking_uri)
        else:
            self.tracking_url = self.url
        storage = open_storage(self.url)
        if not self._writable:
            storage = ReadOnlyStorage(storage, functools.partial(refuse_write, store_uri))
        self.store = RegistryStore(storage)

    def _write(self, operation: str) -> None:
        if not self._writable:
            raise refuse_write(self.store_uri, operation)

    # -- registered models -----------------------------------------------------------------
    @translated
    def create_registered_model(
        self,
        name: str,
        tags: Any = None,
        description: str | None = None,
        deployment_job_id: str | None = None,
        **_: Any,
    ) -> Any:
        """meta.yaml created if absent, so two concurrent creators get one model (and
        RESOURCE_ALREADY_EXISTS); ``deployment_job_id`` (Databricks only) and other arguments
        ignored; PERMISSION_DENIED if read-only."""
        self._write("create_registered_model")
        made = self.store.create_registered_model(name, convert.pairs(tags), description)
        return convert.registered_model(made)

    @translated
    def update_registered_model(
        self, name: str, description: str | None, deployment_job_id: str | None = None
    ) -> Any:
        """meta.yaml compare-and-swap; ``deployment_job_id`` ignored (Databricks only);
        PERMISSION_DENIED if read-only."""
        self._write("update_registered_model")
        return convert.registered_model(self.store.update_registered_model(name, description))

    rename_registered_model = Forward(
        "name new_name",
        write=True,
        out=convert.registered_model,
        doc="One rename(2) on local disk; on buckets a copy that concurrent writers follow; "
        "PERMISSION_DENIED if read-only.",
    )
    delete_registered_model = Forward(
        "name", write=True, doc="As MLflow's file store; PERMISSION_DENIED if read-only."
    )
    get_registered_model = Forward(
        "name",
        out=convert.registered_model,
        doc="As MLflow's file store (read through the registry index where it is current).",
    )

    search_registered_models = Forward(
        "filter_string? max_results=100 order_by? page_token?",
        out=convert.pages(convert.registered_model),
        doc="As MLflow's file store (read through the registry index where it is current).",
    )

    get_latest_versions = Forward(
        "name stages?",
        out=convert.model_versions,
        doc="As MLflow's file store.",
    )
    set_registered_model_tag = Forward(
        "name tag:kv",
        write=True,
        doc="As MLflow's file store, atomic replace; PERMISSION_DENIED if read-only.",
    )
    delete_registered_model_tag = Forward(
        "name key", write=True, doc="As MLflow's file store; PERMISSION_DENIED if read-only."
    )

    # -- versions --------------------------------------------------------------------------
    @translated
    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Any = None,
        run_link: str | None = None,
        description: str | None = None,
        local_model_path: str | None = None,
        model_id: str | None = None,
    ) -> Any:
        """The number is claimed create-if-absent (never taken twice, unlike MLflow's file
        store), ``models:/``/``runs:/`` sources resolved as fsregistry's Client resolves them;
        PERMISSION_DENIED if read-only."""
        self._write("create_model_version")
        locate = functools.partial(
            version_location, tracking_uri=self.tracking_url, registry=self.store
        )
        made = self.store.create_model_version(
            name,
            source,
            run_id=run_id or None,
            tags=convert.pairs(tags),
            run_link=run_link or None,
            description=description or None,
            model_id=model_id or None,
            locate=locate,
        )
        return convert.model_version(made)

    update_model_version = Forward(
        "name version description",
        write=True,
        out=convert.model_version,
        doc="meta.yaml compare-and-swap; PERMISSION_DENIED if read-only.",
    )
    transition_model_version_stage = Forward(
        "name version stage archive_existing_versions?",
        write=True,
        out=convert.model_version,
        doc="Archiving stays right under concurrent transitions (a per-model stage sequence, "
        "compare-and-swap); PERMISSION_DENIED if read-only.",
    )
    delete_model_version = Forward(
        "name version", write=True, doc="As MLflow's file store; PERMISSION_DENIED if read-only."
    )
    get_model_version = Forward(
        "name version", out=convert.model_version, doc="As MLflow's file store."
    )
    get_model_version_download_uri = Forward(
        "name version", out=str, doc="As MLflow's file store (the version's storage location)."
    )

    search_model_versions = Forward(
        "filter_string? max_results=10000 order_by? page_token?",
        out=convert.pages(convert.model_version),
        doc="As MLflow's file store (read through the registry index where it is current).",
    )

    set_model_version_tag = Forward(
        "name version tag:kv",
        write=True,
        doc="As MLflow's file store, atomic replace; PERMISSION_DENIED if read-only.",
    )
    delete_model_version_tag = Forward(
        "name version key",
        write=True,
        doc="As MLflow's file store; PERMISSION_DENIED if read-only.",
    )

    # -- aliases ---------------------------------------------------------------------------
    set_registered_model_alias = Forward(
        "name alias version",
        write=True,
        doc="As MLflow's file store, atomic replace; PERMISSION_DENIED if read-only.",
    )
    delete_registered_model_alias = Forward(
        "name alias", write=True, doc="As MLflow's file store; PERMISSION_DENIED if read-only."
    )
    get_model_version_by_alias = Forward(
        "name alias", out=convert.model_version, doc="As MLflow's file store."
    )
