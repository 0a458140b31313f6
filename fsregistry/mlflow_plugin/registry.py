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
        self, name: str, tags: Any = None, description: str | None = None, **_: Any
    ) -> Any:
        self._write("create_registered_model")
        made = self.store.create_registered_model(name, convert.pairs(tags), description)
        return convert.registered_model(made)

    @translated
    def update_registered_model(
        self, name: str, description: str | None, deployment_job_id: str | None = None
    ) -> Any:
        self._write("update_registered_model")
        return convert.registered_model(self.store.update_registered_model(name, description))

    @translated
    def rename_registered_model(self, name: str, new_name: str) -> Any:
        self._write("rename_registered_model")
        return convert.registered_model(self.store.rename_registered_model(name, new_name))

    @translated
    def delete_registered_model(self, name: str) -> None:
        self._write("delete_registered_model")
        self.store.delete_registered_model(name)

    @translated
    def get_registered_model(self, name: str) -> Any:
        return convert.registered_model(self.store.get_registered_model(name))

    @translated
    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> Any:
        page = self.store.search_registered_models(
            filter_string, 100 if max_results is None else max_results, order_by, page_token
        )
        return convert.paged([convert.registered_model(m) for m in page], page.token)

    @translated
    def get_latest_versions(self, name: str, stages: list[str] | None = None) -> Any:
        return [convert.model_version(v) for v in self.store.get_latest_versions(name, stages)]

    @translated
    def set_registered_model_tag(self, name: str, tag: Any) -> None:
        self._write("set_registered_model_tag")
        self.store.set_registered_model_tag(name, tag.key, tag.value)

    @translated
    def delete_registered_model_tag(self, name: str, key: str) -> None:
        self._write("delete_registered_model_tag")
        self.store.delete_registered_model_tag(name, key)

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

    @translated
    def update_model_version(self, name: str, version: str, description: str | None) -> Any:
        self._write("update_model_version")
        return convert.model_version(self.store.update_model_version(name, version, description))

    @translated
    def transition_model_version_stage(
        self, name: str, version: str, stage: str, archive_existing_versions: bool = False
    ) -> Any:
        self._write("transition_model_version_stage")
        moved = self.store.transition_model_version_stage(
            name, version, stage, archive_existing_versions
        )
        return convert.model_version(moved)

    @translated
    def delete_model_version(self, name: str, version: str) -> None:
        self._write("delete_model_version")
        self.store.delete_model_version(name, version)

    @translated
    def get_model_version(self, name: str, version: str) -> Any:
        return convert.model_version(self.store.get_model_version(name, version))

    @translated
    def get_model_version_download_uri(self, name: str, version: str) -> str:
        return self.store.get_model_version_download_uri(name, version)

    @translated
    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int | None = None,
        order_by: list[str] | None = None,
        page_token: str | None = None,
    ) -> Any:
        page = self.store.search_model_versions(
            filter_string, 10_000 if max_results is None else max_results, order_by, page_token
        )
        return convert.paged([convert.model_version(v) for v in page], page.token)

    @translated
    def set_model_version_tag(self, name: str, version: str, tag: Any) -> None:
        self._write("set_model_version_tag")
        self.store.set_model_version_tag(name, version, tag.key, tag.value)

    @translated
    def delete_model_version_tag(self, name: str, version: str, key: str) -> None:
        self._write("delete_model_version_tag")
        self.store.delete_model_version_tag(name, version, key)

    # -- aliases ---------------------------------------------------------------------------
    @translated
    def set_registered_model_alias(self, name: str, alias: str, version: str) -> None:
        self._write("set_registered_model_alias")
        self.store.set_registered_model_alias(name, alias, version)

    @translated
    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        self._write("delete_registered_model_alias")
        self.store.delete_registered_model_alias(name, alias)

    @translated
    def get_model_version_by_alias(self, name: str, alias: str) -> Any:
        return convert.model_version(self.store.get_model_version_by_alias(name, alias))
