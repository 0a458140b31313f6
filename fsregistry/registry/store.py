"""MLflow's model registry in MLflow's file layout (docs/mlflow-format.md §2), safe for
concurrent writers.

Layout (exactly MLflow's, so MLflow 2.22 and 3.x read what this writes)::

    models/<name>/meta.yaml          name, timestamps, description
    models/<name>/tags/<key>         one file per tag
    models/<name>/aliases/<alias>    one file per alias, holding the version number
    models/<name>/version-<N>/meta.yaml, tags/<key>

fsregistry's own bookkeeping lives under one extra ``fsregistry:`` key in those meta.yaml
files, which MLflow ignores (:mod:`fsregistry.registry.fields`).

:class:`RegistryStore` is the facade ``fsregistry.Client`` calls, with MLflow's method names;
each method hands over to the module whose docstring is the protocol it follows:

* :mod:`fsregistry.registry.reading`: listing and decoding the files, through the registry
  index (:mod:`fsregistry.registry.model_index`), and which directories are models;
* :mod:`fsregistry.registry.queries`: entities, searches, ``models:/`` URI lookups;
* :mod:`fsregistry.registry.edits`: compare-and-swap of meta.yaml files, tags, aliases,
  deletes, and the change counter every write bumps;
* :mod:`fsregistry.registry.claims`: creating registered models, claiming version numbers;
* :mod:`fsregistry.registry.rename`: rename by ``rename(2)`` on local disk, by markers and a
  tombstone on object stores;
* :mod:`fsregistry.registry.receipts`: how a write whose model an object-store rename carried
  away learns whether its change went along;
* :mod:`fsregistry.registry.stages`: stage transitions and ``archive_existing_versions``;
* :mod:`fsregistry.registry.copies`: copies of versions from another store;
* :mod:`fsregistry.registry.prompts`: what a taken name says about prompts, and creating
  prompts;
* :mod:`fsregistry.registry.audit` and :mod:`fsregistry.registry.history`: every write is
  handed to :class:`~fsregistry.registry.audit.Audit` as a thunk, which records its event
  in the audit trail once the change succeeded (an fsregistry extension).

Every write to an existing model holds its directory for the whole call
(:meth:`~fsregistry.registry.reading.RegistryFiles.pinned`): shared for a change to the model,
exclusive for ``rename_registered_model`` and ``delete_registered_model``, so on local disk a
rename or delete never moves a model out from under a write (the protocol is in
:mod:`fsregistry.registry.rename`); elsewhere it holds nothing. Creating a model is one
atomic create and needs no hold; reads hold nothing.

Every write to an existing model validates its arguments first (no I/O), then, with
``models_only=True`` (what ``fsregistry.Client`` passes), refuses a prompt with MLflow 3's
"not found" by one existence check of one tag file (:mod:`fsregistry.registry.prompts`), and
only then holds the model directory and reads the model: a refused call reads nothing of
the model and leaves no lock file.

The store reads and writes files only: model URIs are resolved by the layer above
(:mod:`fsregistry.uris`) and the result is handed in (:data:`SourceLocator`).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fsregistry.entities import ModelVersion, PagedList, RegisteredModel
from fsregistry.entities.history import ModelEvent
from fsregistry.entities.registry import Prompt
from fsregistry.mlruns.validation import (
    MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH,
    validate_alias,
    validate_key,
    validate_model_name,
    validate_new_model_name,
    validate_tag,
)
from fsregistry.registry.audit import Audit
from fsregistry.registry.claims import Claims, SourceLocator, VersionLocation
from fsregistry.registry.copies import Copies, copy_file
from fsregistry.registry.edits import Edits
from fsregistry.registry.fields import FSREG_KEY, lookup_alias, optional_text, version_number
from fsregistry.registry.prompts import Prompts, refuse_prompt_name
from fsregistry.registry.queries import Queries
from fsregistry.registry.reading import MetaFile, RegistryFiles
from fsregistry.registry.rename import Renames
from fsregistry.registry.stages import Stages, transition_arguments
from fsregistry.storage import Storage

if TYPE_CHECKING:
    from fsregistry.mlruns.uris import ModelUri


class RegistryStore:
    """MLflow's model registry store operations on one store root (see module docstring)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._files = files = RegistryFiles(storage)
        self._queries = Queries(files)
        # Any write may finish an interrupted local rename, which sits above the writes.
        self._edits = Edits(files, self._queries, finish_rename=self._finish_local_rename)
        self._claims = Claims(files, self._edits)
        self._renames = Renames(files, self._edits, self._claims, self._queries)
        self._stages = Stages(files, self._edits, self._queries)
        self._copies = Copies(storage, self._claims, self._edits, self._queries)
        self._prompts = Prompts(files, self._claims.create_registered_model)
        self._audit = Audit(files)

    def __repr__(self) -> str:
        return f"RegistryStore({self.storage.root_uri!r})"

    def _finish_local_rename(self, name: str) -> None:
        self._renames.finish_local_rename(name)

    # -- registered models --------------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, Any] | Iterable[Any] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        """MLflow's ``create_registered_model``; a taken name says whether a prompt or a
        model holds it (:mod:`fsregistry.registry.prompts`)."""
        return self._audit.create_model(
            lambda: self._prompts.create_registered_model(name, tags, description)
        )

    def create_prompt(
        self,
        name: str,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> Prompt:
        """MLflow's ``create_prompt``: a registered model tagged ``mlflow.prompt.is_prompt``."""
        return self._audit.create_model(
            lambda: self._prompts.create_prompt(name, description, tags)
        )

    def ensure_registered_model(self, name: str) -> None:
        """Create ``name`` unless it exists (``register_model`` and copies add a version to
        an existing model; concurrent callers all end up using the one that was created)."""
        self._audit.ensure_model(name, lambda: self._claims.ensure_registered_model(name))

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._queries.get_registered_model(name)

    def update_registered_model(
        self, name: str, description: str | None, *, models_only: bool = False
    ) -> RegisteredModel:
        with self._writing(name, models_only, lambda: optional_text(description, "description")):
            return self._audit.update_model(
                name, description, lambda: self._edits.update_registered_model(name, description)
            )

    def delete_registered_model(self, name: str, *, models_only: bool = False) -> None:
        with self._writing(name, models_only, exclusive=True):
            self._audit.delete_model(name, lambda: self._edits.delete_registered_model(name))

    def rename_registered_model(
        self, name: str, new_name: str, *, models_only: bool = False
    ) -> RegisteredModel:
        check = functools.partial(validate_new_model_name, new_name)
        with self._writing(name, models_only, check, exclusive=True):
            return self._audit.rename_model(
                name, new_name, lambda: self._renames.rename_registered_model(name, new_name)
            )

    def set_registered_model_tag(
        self, name: str, key: str, value: Any, *, models_only: bool = False
    ) -> None:
        check = functools.partial(validate_tag, key, value, MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH)
        with self._writing(name, models_only, check):
            self._audit.set_model_tag(
                name, key, value, lambda: self._edits.set_registered_model_tag(name, key, value)
            )

    def delete_registered_model_tag(
        self, name: str, key: str, *, models_only: bool = False
    ) -> None:
        with self._writing(name, models_only, functools.partial(validate_key, key, "tag key")):
            self._audit.delete_model_tag(
                name, key, lambda: self._edits.delete_registered_model_tag(name, key)
            )

    def refuse_prompt(self, name: str) -> None:
        """MLflow 3 client's "not found" for a prompt given to a model API: one existence
        check of the model's prompt tag file (:mod:`fsregistry.registry.prompts`)."""
        refuse_prompt_name(self._files, name)

    @contextlib.contextmanager
    def _writing(
        self, name: str, models_only: bool, *checks: Callable[[], object], exclusive: bool = False
    ) -> Iterator[None]:
        """Run a write to ``models/<name>``: its argument ``checks`` (pure: no I/O), then with
        ``models_only`` the prompt check, then hold the model directory for the block. So a
        refused call reads nothing of the model and makes no lock file."""
        validate_model_name(name)
        for check in checks:
            check()
        if models_only:
            refuse_prompt_name(self._files, name)
        with self._files.pinned(name, exclusive=exclusive):
            yield

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[RegisteredModel]:
        return self._queries.search_registered_models(
            filter_string, max_results, order_by, page_token
        )

    # -- model versions -----------------------------------------------------------------------
    def register_version(
        self,
        name: str,
        build: Callable[[int], dict[str, Any]],
        tags: Sequence[tuple[str, str]] = (),
        current: MetaFile | None = None,
    ) -> ModelVersion:
        """Claim a version of ``name`` whose meta.yaml is ``build(number)``, write its tags and
        bump the model. The caller has validated everything; ``current`` is the model's
        meta.yaml if the caller just read it (one request less)."""
        with self._files.pinned(name):
            return self._audit.create_version(
                name, lambda: self._claims.register_version(name, build, tags, current)
            )

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | Iterable[Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
        *,
        locate: SourceLocator | None = None,
    ) -> ModelVersion:
        """MLflow's ``create_model_version``. ``locate`` is given by the layer above
        (:func:`fsregistry.uris.version_location`): it turns ``source`` into the version's
        storage location and lineage run, after the model is known to exist. Without it the
        source must already be a location, not a ``models:/`` URI."""
        with self._files.pinned(name):
            return self._audit.create_version(
                name,
                lambda: self._claims.create_model_version(
                    name, source, run_id, tags, run_link, description, model_id, locate=locate
                ),
            )

    def get_model_version(self, name: str, version: Any) -> ModelVersion:
        return self._queries.get_model_version(name, version)

    def update_model_version(
        self, name: str, version: Any, description: str | None, *, models_only: bool = False
    ) -> ModelVersion:
        checks = (
            functools.partial(version_number, version),
            lambda: optional_text(description, "description"),
        )
        with self._writing(name, models_only, *checks):
            return self._audit.update_version(
                name,
                version,
                description,
                lambda: self._edits.update_model_version(name, version, description),
            )

    def delete_model_version(self, name: str, version: Any, *, models_only: bool = False) -> None:
        """Soft delete (``Deleted_Internal``): the number stays taken; aliases to it go."""
        with self._writing(name, models_only, functools.partial(version_number, version)):
            self._audit.delete_version(
                name, version, lambda: self._edits.delete_model_version(name, version)
            )

    def get_model_version_download_uri(self, name: str, version: Any) -> str:
        return self._queries.get_model_version_download_uri(name, version)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        return self._queries.get_latest_versions(name, stages)

    def latest_version_number(self, name: str) -> int:
        """The highest non-deleted version (``models:/<name>/latest``)."""
        return self._queries.latest_version_number(name)

    def version_for_uri(self, parsed: ModelUri) -> int:
        """The version number a parsed ``models:/<name>...`` URI points at."""
        return self._queries.version_for_uri(parsed)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[ModelVersion]:
        return self._queries.search_model_versions(filter_string, max_results, order_by, page_token)

    def set_model_version_tag(
        self, name: str, version: Any, key: str, value: Any, *, models_only: bool = False
    ) -> None:
        checks = (
            functools.partial(version_number, version),
            functools.partial(validate_tag, key, value, MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH),
        )
        with self._writing(name, models_only, *checks):
            self._audit.set_version_tag(
                name,
                version,
                key,
                value,
                lambda: self._edits.set_model_version_tag(name, version, key, value),
            )

    def delete_model_version_tag(
        self, name: str, version: Any, key: str, *, models_only: bool = False
    ) -> None:
        checks = (
            functools.partial(version_number, version),
            functools.partial(validate_key, key, "tag key"),
        )
        with self._writing(name, models_only, *checks):
            self._audit.delete_version_tag(
                name, version, key, lambda: self._edits.delete_model_version_tag(name, version, key)
            )

    # -- aliases ------------------------------------------------------------------------------
    def set_registered_model_alias(
        self, name: str, alias: str, version: Any, *, models_only: bool = False
    ) -> None:
        checks = (
            functools.partial(validate_alias, alias),
            functools.partial(version_number, version),
        )
        with self._writing(name, models_only, *checks):
            self._audit.set_alias(
                name,
                alias,
                version,
                lambda: self._edits.set_registered_model_alias(name, alias, version),
            )

    def delete_registered_model_alias(
        self, name: str, alias: str, *, models_only: bool = False
    ) -> None:
        with self._writing(name, models_only, functools.partial(lookup_alias, alias)):
            self._audit.delete_alias(
                name, alias, lambda: self._edits.delete_registered_model_alias(name, alias)
            )

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self._queries.get_model_version_by_alias(name, alias)

    # -- stages -------------------------------------------------------------------------------
    def transition_model_version_stage(
        self,
        name: str,
        version: Any,
        stage: str,
        archive_existing_versions: bool = False,
        *,
        models_only: bool = False,
    ) -> ModelVersion:
        check = functools.partial(transition_arguments, version, stage, archive_existing_versions)
        with self._writing(name, models_only, check):
            return self._audit.transition(
                name,
                version,
                archive_existing_versions,
                lambda: self._stages.transition_model_version_stage(
                    name, version, stage, archive_existing_versions
                ),
            )

    # -- copies between stores ----------------------------------------------------------------
    def import_model_version(
        self,
        name: str,
        src: ModelVersion,
        artifact_uri: str,
        provenance: Mapping[str, str],
    ) -> ModelVersion:
        """Register a copy of ``src`` (from another store) whose files, found at
        ``artifact_uri``, are copied into ``models/<name>/version-N/artifacts``."""
        with self._files.pinned(name):
            return self._audit.create_version(
                name, lambda: self._copies.import_model_version(name, src, artifact_uri, provenance)
            )

    # -- audit trail (an fsregistry extension) --------------------------------------------------
    def get_model_history(
        self, name: str, version: int | None = None, alias: str | None = None
    ) -> list[ModelEvent]:
        """The audit trail of the name ``name`` (:mod:`fsregistry.registry.history`)."""
        return self._audit.history.model_history(name, version, alias)


__all__ = [
    "FSREG_KEY",
    "RegistryStore",
    "SourceLocator",
    "VersionLocation",
    "copy_file",
    "version_number",
]
