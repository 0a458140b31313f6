"""``fsregistry.Client``: ``MlflowClient``'s methods, argument names and return types."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from fsregistry import config
from fsregistry.entities import (
    DatasetInput,
    Experiment,
    FileInfo,
    Metric,
    PagedList,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.tracking.artifact_repo import ArtifactRepository
from fsregistry.tracking.records import now_ms
from fsregistry.tracking.store import TrackingStore

PARENT_RUN_ID_TAG = "mlflow.parentRunId"


class Client:
    """Low-level access to one tracking store (and registry), like ``MlflowClient``.

    ``tracking_uri``/``registry_uri`` default to the process settings
    (:func:`fsregistry.set_tracking_uri`, ``FSREG_TRACKING_URI``, ``./mlruns``).
    """

    def __init__(
        self,
        tracking_uri: str | os.PathLike[str] | None = None,
        registry_uri: str | os.PathLike[str] | None = None,
        storage_options: dict[str, Any] | None = None,
    ) -> None:
        self._tracking_uri = os.fspath(tracking_uri) if tracking_uri else config.get_tracking_uri()
        self._registry_uri = (
            os.fspath(registry_uri)
            if registry_uri
            else (config.get_registry_uri() if tracking_uri is None else self._tracking_uri)
        )
        self._storage_options = storage_options
        self._store = config.tracking_store(self._tracking_uri, storage_options)

    @property
    def tracking_uri(self) -> str:
        return self._tracking_uri

    @property
    def registry_uri(self) -> str:
        return self._registry_uri

    @property
    def store(self) -> TrackingStore:
        return self._store

    # -- experiments --------------------------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> str:
        return self._store.create_experiment(name, artifact_location, tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self._store.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self._store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: int | str = ViewType.ACTIVE_ONLY,
        max_results: int | None = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[Experiment]:
        return self._store.search_experiments(
            view_type,
            1000 if max_results is None else max_results,
            filter_string,
            order_by,
            page_token,
        )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._store.rename_experiment(experiment_id, new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self._store.delete_experiment(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        self._store.restore_experiment(experiment_id)

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        self._store.set_experiment_tag(experiment_id, key, value)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._store.delete_experiment_tag(experiment_id, key)

    # -- runs ---------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: Mapping[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        user = (tags or {}).get("mlflow.user")
        return self._store.create_run(
            experiment_id, user_id=user, start_time=start_time, tags=tags, run_name=run_name
        )

    def get_run(self, run_id: str) -> Run:
        return self._store.get_run(run_id)

    def get_parent_run(self, run_id: str) -> Run | None:
        parent = self._store.get_run(run_id).data.tags.get(PARENT_RUN_ID_TAG)
        return self._store.get_run(parent) if parent else None

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        end_time = (
            now_ms() if status and RunStatus.is_terminated(RunStatus.from_any(status)) else None
        )
        self._store.update_run_info(run_id, run_status=status, end_time=end_time, run_name=name)

    def set_terminated(
        self, run_id: str, status: str | None = None, end_time: int | None = None
    ) -> RunInfo:
        return self._store.set_terminated(run_id, status or RunStatus.FINISHED, end_time)

    def delete_run(self, run_id: str) -> None:
        self._store.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self._store.restore_run(run_id)

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        self._store.log_param(run_id, key, value)
        return value

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
        synchronous: bool | None = None,
    ) -> None:
        self._store.log_metric(
            run_id, Metric(key, value, timestamp if timestamp is not None else now_ms(), step or 0)
        )

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> None:
        self._store.set_tag(run_id, key, value)

    def delete_tag(self, run_id: str, key: str) -> None:
        self._store.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool | None = None,
    ) -> None:
        self._store.log_batch(run_id, metrics=metrics, params=params, tags=tags)

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput] | None = None) -> None:
        self._store.log_inputs(run_id, datasets or [])

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        return self._store.get_metric_history(run_id, key)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: int | str = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[Run]:
        return self._store.search_runs(
            experiment_ids, filter_string, run_view_type, max_results, order_by, page_token
        )

    def flush(self) -> None:
        """Write metric lines still buffered for an object store (done at end_run anyway)."""
        self._store.flush()

    # -- artifacts ----------------------------------------------------------------------------
    def _artifacts(self, run_id: str) -> ArtifactRepository:
        return ArtifactRepository(self._store.get_run(run_id).info.artifact_uri)

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        self._artifacts(run_id).log_artifact(local_path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        self._artifacts(run_id).log_artifacts(local_dir, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        if not isinstance(text, str):
            raise InvalidParameterValue(f"log_text expects a str, got {type(text).__name__}")
        self._artifacts(run_id).log_text(text, artifact_file)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        self._artifacts(run_id).log_dict(dictionary, artifact_file)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        return self._artifacts(run_id).list_artifacts(path)

    def download_artifacts(self, run_id: str, path: str, dst_path: str | None = None) -> str:
        return self._artifacts(run_id).download_artifacts(path, dst_path)


# MLflow spells it MlflowClient; the alias keeps ported code unchanged.
MlflowClient = Client
