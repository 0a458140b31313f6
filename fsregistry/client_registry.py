"""``MlflowClient``'s model registry methods, mixed into :class:`fsregistry.Client`.

Same names and arguments as MlflowClient's registry methods; versions may be given as int or
str. The registry lives at ``registry_uri`` (default: the tracking store); the store work is
done by :class:`fsregistry.registry.store.RegistryStore`. Prompts are refused as MLflow 3's
client refuses them (:mod:`fsregistry.registry.prompts`): tags at creation here, and for the
model and version writes by the store (``models_only=True``), after it has validated the
arguments.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from fsregistry import config
from fsregistry.entities import PagedList
from fsregistry.entities.history import ModelEvent
from fsregistry.entities.registry import ALL_STAGES, ModelVersion, Prompt, RegisteredModel
from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist
from fsregistry.mlruns.uris import is_models_uri, parse_models_uri
from fsregistry.mlruns.validation import (
    MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH,
    validate_key,
    validate_model_name,
    validate_tag,
)
from fsregistry.registry.fields import version_number
from fsregistry.registry.prompts import (
    refuse_prompt_model,
    refuse_prompt_tags,
    refuse_prompt_version,
)
from fsregistry.registry.store import RegistryStore, SourceLocator
from fsregistry.search import PROMPT_TAG_KEY
from fsregistry.uris import resolve_model_uri, version_location


class RegistryClient:
    """The model registry methods of ``Client`` (needs ``self._tracking_uri``,
    ``self._registry_uri`` and ``self._storage_options``)."""

    _tracking_uri: str
    _registry_uri: str
    _storage_options: dict[str, Any] | None

    @property
    def registry_store(self) -> RegistryStore:
        """The RegistryStore at ``registry_uri``. fsregistry only (MlflowClient's is private)."""
        return config.registry_store(self._registry_uri, self._storage_options)

    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        deployment_job_id: str | None = None,
    ) -> RegisteredModel:
        """Create a registered model. Same as MlflowClient (``deployment_job_id`` is ignored)."""
        tags = refuse_prompt_tags(tags)
        return self.registry_store.create_registered_model(name, tags, description)

    def create_prompt(
        self,
        name: str,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Prompt:
        """Create a prompt: a registered model tagged ``mlflow.prompt.is_prompt``, hidden from
        searches that do not ask for prompts. Same as MlflowClient (a taken name raises
        ``Prompt (name=...) already exists.``, or says a model holds it); fsregistry has no
        other prompt API (prompt versions, templates, ``load_prompt``)."""
        return self.registry_store.create_prompt(name, description, tags)

    def get_registered_model(self, name: str) -> RegisteredModel:
        """A registered model with its latest versions, tags and aliases. Same as MlflowClient."""
        return refuse_prompt_model(self.registry_store.get_registered_model(name))

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Rename a registered model. Differs: returns the renamed model (MLflow: None)."""
        return self.registry_store.rename_registered_model(name, new_name, models_only=True)

    def update_registered_model(
        self, name: str, description: str | None = None, deployment_job_id: str | None = None
    ) -> RegisteredModel:
        """Set a model's description. Same as MlflowClient (``deployment_job_id`` is ignored)."""
        return self.registry_store.update_registered_model(name, description, models_only=True)

    def delete_registered_model(self, name: str) -> None:
        """Delete a registered model with all its versions. Same as MlflowClient."""
        self.registry_store.delete_registered_model(name, models_only=True)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[RegisteredModel]:
        """A page of registered models; prompts only if the filter names
        ``mlflow.prompt.is_prompt``. Same as MlflowClient."""
        return self.registry_store.search_registered_models(
            filter_string, max_results, order_by, page_token
        )

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        """Set a registered model tag. Same as MlflowClient."""
        self.registry_store.set_registered_model_tag(name, key, value, models_only=True)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        """Delete a registered model tag (a missing one is fine). Same as MlflowClient."""
        self.registry_store.delete_registered_model_tag(name, key, models_only=True)

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        await_creation_for: int = 300,
        model_id: str | None = None,
    ) -> ModelVersion:
        """Register a new version of a model from ``source``. Differs in error codes.

        The version is READY on return, as with MLflow's file store (``await_creation_for`` is
        ignored). A missing model raises RESOURCE_DOES_NOT_EXIST and an unresolvable ``models:/``
        source INVALID_PARAMETER_VALUE (MLflow's file store: INTERNAL_ERROR for both).
        """
        tags = refuse_prompt_tags(tags)
        return self.registry_store.create_model_version(
            name,
            source,
            run_id=run_id,
            tags=tags,
            run_link=run_link,
            description=description,
            model_id=model_id,
            locate=self._locator(),
        )

    def _locator(self) -> SourceLocator:
        """Resolves a new version's source against this client's tracking store and registry."""
        return functools.partial(
            version_location, tracking_uri=self._tracking_uri, registry=self.registry_store
        )

    def get_model_version(self, name: str, version: str | int) -> ModelVersion:
        """One version of a registered model. Same as MlflowClient."""
        return refuse_prompt_version(self.registry_store.get_model_version(name, version))

    def update_model_version(
        self, name: str, version: str | int, description: str | None = None
    ) -> ModelVersion:
        """Set a version's description. Differs: ``description=None`` clears it (MLflow raises)."""
        return self.registry_store.update_model_version(
            name, version, description, models_only=True
        )

    def delete_model_version(self, name: str, version: str | int) -> None:
        """Delete a version; its number is not reused, its aliases go. Same as MlflowClient."""
        self.registry_store.delete_model_version(name, version, models_only=True)

    def _version_or_stage(
        self, name: str, version: str | int | None, stage: str | None
    ) -> str | int:
        if (version is None) == (stage is None):
            raise InvalidParameterValue(
                f"Give exactly one of version and stage, got version={version!r}, stage={stage!r}"
            )
        if version is not None:
            return version
        assert stage is not None
        self.registry_store.refuse_prompt(name)  # before its versions are looked at
        latest = self.registry_store.get_latest_versions(name, [stage])
        if not latest:
            raise ResourceDoesNotExist(
                f"Could not find any model version for {stage} stage (model {name!r})"
            )
        return latest[-1].version

    def set_model_version_tag(
        self,
        name: str,
        version: str | int | None = None,
        key: str | None = None,
        value: Any = None,
        stage: str | None = None,
    ) -> None:
        """Tag a version, given by ``version`` or ``stage``. Differs in one error code.

        A stage holding no version raises RESOURCE_DOES_NOT_EXIST (MLflow: INTERNAL_ERROR).
        """
        if key is None:
            raise InvalidParameterValue("set_model_version_tag needs a tag key")
        # Checked before a stage is looked up (which reads, and may cache, every version).
        validate_tag(key, value, MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH)
        number = self._version_or_stage(name, version, stage)
        self.registry_store.set_model_version_tag(name, number, key, value, models_only=True)

    def delete_model_version_tag(
        self,
        name: str,
        version: str | int | None = None,
        key: str | None = None,
        stage: str | None = None,
    ) -> None:
        """Delete a version's tag, by ``version`` or ``stage``. Differs in one error code.

        A stage holding no version raises RESOURCE_DOES_NOT_EXIST (MLflow: INTERNAL_ERROR).
        """
        if key is None:
            raise InvalidParameterValue("delete_model_version_tag needs a tag key")
        validate_key(key, "tag key")  # before a stage is looked up, as above
        number = self._version_or_stage(name, version, stage)
        self.registry_store.delete_model_version_tag(name, number, key, models_only=True)

    def set_registered_model_alias(self, name: str, alias: str, version: str | int) -> None:
        """Point an alias at a version. Same as MlflowClient."""
        self.registry_store.set_registered_model_alias(name, alias, version, models_only=True)

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        """Remove an alias (a missing one is fine). Same as MlflowClient."""
        self.registry_store.delete_registered_model_alias(name, alias, models_only=True)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version an alias points at (``latest``: the highest). Same as MlflowClient."""
        return refuse_prompt_version(self.registry_store.get_model_version_by_alias(name, alias))

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        """The highest version in each of ``stages`` (default: all). Same as MlflowClient."""
        self.registry_store.refuse_prompt(name)
        return self.registry_store.get_latest_versions(name, stages)

    def transition_model_version_stage(
        self, name: str, version: str | int, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        """Move a version to a stage (optionally archiving others there). Same as MlflowClient."""
        return self.registry_store.transition_model_version_stage(
            name, version, stage, archive_existing_versions, models_only=True
        )

    def get_model_version_stages(self, name: str, version: str | int) -> list[str]:
        """The stages a version can be moved to (MLflow's file store: all four).

        Differs: a missing model or version raises RESOURCE_DOES_NOT_EXIST (MLflow does not look).
        """
        self.registry_store.get_model_version(name, version)
        return list(ALL_STAGES)

    def get_model_history(
        self, name: str, version: str | int | None = None, alias: str | None = None
    ) -> list[ModelEvent]:
        """The registry audit trail of the name ``name``, oldest first (only ``version``'s or
        ``alias``'s events if given). fsregistry extension: MLflow keeps no history."""
        number = None if version is None else version_number(version)
        return self.registry_store.get_model_history(name, number, alias)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[ModelVersion]:
        """A page of model versions matching a filter; prompt versions only if the filter
        names ``mlflow.prompt.is_prompt``. Same as MlflowClient."""
        return self.registry_store.search_model_versions(
            filter_string, max_results, order_by, page_token
        )

    def get_model_version_download_uri(self, name: str, version: str | int) -> str:
        """Where a version's files are (storage_location, else source). Differs: see below.

        A recorded ``file://`` path that no longer exists is mapped into this store when the tree
        was copied here; a version recording neither raises INVALID_STATE.
        """
        version_number(version)  # a refused argument before any read
        self.registry_store.refuse_prompt(name)
        return self.registry_store.get_model_version_download_uri(name, version)

    def copy_model_version(
        self, src_model_uri: str, dst_name: str, *, src_registry_uri: str | None = None
    ) -> ModelVersion:
        """Copy a version (``models:/<name>/<version>``, ``@alias``, ``/latest``, a stage) to a
        new version of ``dst_name`` in this client's registry, creating the model if needed.

        Within one registry this is MLflow's copy: the new version's source is
        ``models:/<name>/<version>`` and it shares the original's files. With
        ``src_registry_uri`` naming another store (e.g. a developer's ``./mlruns`` when this
        client points at the team bucket), the model files are copied into this registry,
        under ``models/<dst_name>/version-<N>/artifacts``, so the destination is
        self-contained: source and storage_location point there, tags
        ``fsregistry.copied_from`` / ``fsregistry.copied_from_registry`` record the origin.

        Differs from MlflowClient (besides ``src_registry_uri``): a URI that is not
        ``models:/`` raises INVALID_PARAMETER_VALUE and a missing source version
        RESOURCE_DOES_NOT_EXIST (MLflow: INTERNAL_ERROR for both); nothing is printed.
        """
        if not is_models_uri(src_model_uri):
            raise InvalidParameterValue(
                f"Unsupported source model URI {src_model_uri!r}: copy_model_version only "
                "copies models:/ URIs"
            )
        parsed = parse_models_uri(src_model_uri)
        if parsed.name is None or parsed.sub_path:
            raise InvalidParameterValue(
                f"Unsupported source model URI {src_model_uri!r}: name a registered model "
                "version (models:/<name>/<version>, @<alias>, /latest or /<stage>)"
            )
        dst = self.registry_store
        src = (
            config.registry_store(src_registry_uri, self._storage_options)
            if src_registry_uri
            else dst
        )
        validate_model_name(dst_name)
        src_mv = src.get_model_version(parsed.name, src.version_for_uri(parsed))
        if PROMPT_TAG_KEY in src_mv.tags:  # MLflow 3: a prompt is not a model
            raise ResourceDoesNotExist(f"Model with uri '{src_model_uri}' not found")
        same_store = src.storage.root_uri == dst.storage.root_uri
        artifact_uri = None
        if not same_store:
            # The source store's runs:/ and models:/ locations resolve against that store.
            artifact_uri = resolve_model_uri(
                f"models:/{src_mv.name}/{src_mv.version}",
                tracking_uri=src_registry_uri,
                registry_uri=src_registry_uri,
            )
        if artifact_uri is None:
            source = f"models:/{src_mv.name}/{src_mv.version}"
            # Resolved before the destination model is created (all-or-nothing).
            located = self._locator()(source, src_mv.run_id, src_mv.model_id)
            dst.ensure_registered_model(dst_name)
            return dst.create_model_version(
                dst_name,
                source,
                run_id=src_mv.run_id,
                tags=src_mv.tags,
                run_link=src_mv.run_link,
                description=src_mv.description,
                model_id=src_mv.model_id,
                locate=lambda _source, _run_id, _model_id: located,
            )
        dst.ensure_registered_model(dst_name)
        provenance = {
            "fsregistry.copied_from": f"models:/{src_mv.name}/{src_mv.version}",
            "fsregistry.copied_from_registry": src.storage.root_uri,
        }
        return dst.import_model_version(dst_name, src_mv, artifact_uri, provenance)
