"""What an export reads from an fsregistry store, through :class:`Client` and its stores.

:class:`StoreSource` walks a store in the order an export writes it (a database's foreign keys
point from runs to experiments and from LoggedModel metrics to runs):

1. every experiment, active and deleted (``ViewType.ALL``), by id;
2. per experiment, every run, active and deleted, each with the full history of every metric
   it has (every step and timestamp, in the order logged), the run's files listed and read
   once (``TrackingStore.get_run_with_history``: what ``get_run`` and ``get_metric_history``
   of every key give, without reading ``meta.yaml`` and each metric file again per key);
3. every LoggedModel of those experiments (params, tags, metrics with their run and dataset);
4. every registered model (prompts included) with all of its live versions, their tags,
   aliases and stages, and each version's download location (``storage_location``).

Reads are paged as MLflow's own client pages them, so a store of any size is walked with
bounded memory: runs are yielded one at a time with their histories.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from fsregistry.client import Client
from fsregistry.entities.registry import ModelVersion, RegisteredModel
from fsregistry.entities.tracking import Experiment, LoggedModel, ViewType
from fsregistry.exceptions import FsRegistryException
from fsregistry.tracking.runs import RunRecord

__all__ = ["ModelRecord", "RunRecord", "StoreSource", "VersionRecord"]

_PAGE = 1000
_PROMPT_FILTER = "tags.`mlflow.prompt.is_prompt` = 'true'"


@dataclass(frozen=True)
class VersionRecord:
    """A model version and where its files are (MLflow's ``storage_location``)."""

    version: ModelVersion
    storage_location: str | None


@dataclass(frozen=True)
class ModelRecord:
    """A registered model (tags, aliases, description) and every live version of it."""

    model: RegisteredModel
    versions: list[VersionRecord]


class StoreSource:
    """Reads a store for an export; ``client`` is an fsregistry :class:`Client` on it."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def experiments(self) -> list[Experiment]:
        """Every experiment, deleted ones included, ordered by numeric id."""
        found: list[Experiment] = []
        token: str | None = None
        while True:
            page = self.client.search_experiments(ViewType.ALL, _PAGE, page_token=token)
            found.extend(page)
            token = page.token
            if not token:
                break
        return sorted(found, key=lambda e: (len(e.experiment_id), e.experiment_id))

    def run_ids(self, experiment_id: str) -> list[str]:
        """Ids of every run of an experiment (deleted included), oldest first."""
        ids: list[str] = []
        token: str | None = None
        while True:
            page = self.client.search_runs(
                [experiment_id],
                run_view_type=ViewType.ALL,
                max_results=_PAGE,
                order_by=["attributes.start_time ASC", "attributes.run_id ASC"],
                page_token=token,
            )
            ids.extend(r.info.run_id for r in page)
            token = page.token
            if not token:
                break
        return ids

    def run(self, run_id: str) -> RunRecord:
        """One run with the full history of each of its metrics (its files listed and read
        once: ``get_run`` and ``get_metric_history`` of every key in one)."""
        return self.client.store.get_run_with_history(run_id)

    def logged_models(self, experiment_ids: list[str]) -> Iterator[LoggedModel]:
        """Every LoggedModel of the given experiments."""
        for experiment_id in experiment_ids:
            token: str | None = None
            while True:
                page = self.client.search_logged_models(
                    [experiment_id], max_results=_PAGE, page_token=token
                )
                yield from page
                token = page.token
                if not token:
                    break

    def registered_models(self) -> Iterator[ModelRecord]:
        """Every registered model (prompts too), with its live versions, by name."""
        store = self.client.registry_store
        models: dict[str, RegisteredModel] = {}
        versions: dict[str, list[ModelVersion]] = {}
        for filter_string in (None, _PROMPT_FILTER):
            models.update(
                (m.name, m) for m in _pages(store.search_registered_models, filter_string)
            )
            for v in _pages(store.search_model_versions, filter_string):
                versions.setdefault(v.name, []).append(v)
        for name in sorted(models):
            found = sorted(versions.get(name, []), key=lambda v: int(v.version))
            unique = {int(v.version): v for v in found}
            yield ModelRecord(
                models[name],
                [VersionRecord(v, self._storage_location(v)) for v in unique.values()],
            )

    def _storage_location(self, version: ModelVersion) -> str | None:
        source = version.source or ""
        if urlparse(source).scheme != "models":
            return source or None
        try:
            return self.client.registry_store.get_model_version_download_uri(
                version.name, version.version
            )
        except FsRegistryException:
            # A source this store cannot resolve (a LoggedModel that was deleted): MLflow's SQL
            # store would have refused the registration; keep the source as the location.
            return source


def _pages(search: Any, filter_string: str | None) -> Iterator[Any]:
    token: str | None = None
    while True:
        page = search(filter_string, _PAGE, None, token)
        yield from page
        token = page.token
        if not token:
            break
