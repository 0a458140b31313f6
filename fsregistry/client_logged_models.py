"""``MlflowClient``'s MLflow 3 LoggedModel methods, mixed into :class:`fsregistry.Client`.

Same names, arguments and return types as MLflow 3's client; the store work is done by
:mod:`fsregistry.tracking.logged_models`. Every method is synchronous.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fsregistry.entities import DatasetInput, FileInfo, LoggedModel, PagedList
from fsregistry.entities.logged_models import (
    LoggedModelInput,
    LoggedModelOutput,
    LoggedModelStatus,
)
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.storage.artifact_repo import ArtifactRepository

if TYPE_CHECKING:
    from fsregistry.tracking.store import TrackingStore


def _model_id(model_id: object) -> str:
    if not isinstance(model_id, str) or not model_id:
        raise InvalidParameterValue(f"`model_id` must be a non-empty string, but got {model_id!r}")
    return model_id


def _dict(value: object, what: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidParameterValue(f"{what} must be a dict, got {type(value).__name__}")
    return {str(k): str(v) for k, v in value.items()}


class LoggedModelClient:
    """The LoggedModel methods of ``Client`` (needs ``self._store``)."""

    _store: TrackingStore

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """A new PENDING LoggedModel (a random name if none). Same as MlflowClient."""
        return self._store.create_logged_model(
            experiment_id,
            name,
            source_run_id,
            _dict(tags, "tags"),
            _dict(params, "params"),
            model_type,
        )

    def finalize_logged_model(
        self, model_id: str, status: LoggedModelStatus | str | int
    ) -> LoggedModel:
        """Set a LoggedModel's status (``READY`` / ``FAILED``). Same as MlflowClient."""
        return self._store.finalize_logged_model(_model_id(model_id), status)

    def get_logged_model(self, model_id: str) -> LoggedModel:
        """A LoggedModel with its tags, params and latest metrics. Same as MlflowClient."""
        return self._store.get_logged_model(_model_id(model_id))

    def delete_logged_model(self, model_id: str) -> None:
        """Soft-delete a LoggedModel (its files stay). Same as MlflowClient."""
        self._store.delete_logged_model(_model_id(model_id))

    def set_logged_model_tags(self, model_id: str, tags: dict[str, Any]) -> None:
        """Set tags (``str(value)``) on a LoggedModel. Same as MlflowClient."""
        self._store.set_logged_model_tags(_model_id(model_id), _dict(tags, "tags"))

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Delete a LoggedModel tag (RESOURCE_DOES_NOT_EXIST if absent). Same as MlflowClient."""
        self._store.delete_logged_model_tag(_model_id(model_id), key)

    def log_model_params(self, model_id: str, params: dict[str, str]) -> None:
        """Set params (``str(value)``) on a LoggedModel. Same as MlflowClient."""
        self._store.log_logged_model_params(_model_id(model_id), _dict(params, "params"))

    def search_logged_models(
        self,
        experiment_ids: list[str],
        filter_string: str | None = None,
        datasets: list[dict[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: list[dict[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> PagedList[LoggedModel]:
        """A page of LoggedModels matching MLflow 3's filter. Same as MlflowClient."""
        return self._store.search_logged_models(
            experiment_ids, filter_string, datasets, max_results, order_by, page_token
        )

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] | None = None,
        models: Sequence[LoggedModelInput] | None = None,
    ) -> None:
        """Record dataset and LoggedModel inputs of an active run. Same as MlflowClient.

        A dataset or model logged again keeps its first record, as in MLflow.
        """
        self._store.log_inputs(run_id, datasets, models)

    def log_outputs(self, run_id: str, models: list[LoggedModelOutput]) -> None:
        """Record LoggedModels as outputs of an active run. Same as MlflowClient."""
        self._store.log_outputs(run_id, models)

    def _model_artifacts(self, model_id: str) -> ArtifactRepository:
        return ArtifactRepository(self.get_logged_model(model_id).artifact_location)

    def log_model_artifact(
        self, model_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Upload one file to a LoggedModel's artifacts. Same as MlflowClient."""
        self._model_artifacts(model_id).log_artifact(local_path, artifact_path)

    def log_model_artifacts(
        self, model_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Upload a directory's contents to a LoggedModel's artifacts. Same as MlflowClient."""
        self._model_artifacts(model_id).log_artifacts(local_dir, artifact_path)

    def list_logged_model_artifacts(self, model_id: str, path: str | None = None) -> list[FileInfo]:
        """The entries under ``path`` of a LoggedModel's artifacts. Same as MlflowClient."""
        return self._model_artifacts(model_id).list_artifacts(path)


__all__ = ["LoggedModelClient"]
