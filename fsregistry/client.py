"""``fsregistry.Client``: ``MlflowClient``'s methods, argument names and return types."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from fsregistry import config
from fsregistry.client_logged_models import LoggedModelClient
from fsregistry.client_registry import RegistryClient
from fsregistry.entities import (
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
from fsregistry.exceptions import (
    InvalidParameterValue,
)
from fsregistry.media import MediaMethods
from fsregistry.mlflow_api import NotProvidedMethods
from fsregistry.mlruns.metafile import now_ms
from fsregistry.mlruns.validation import (
    tag_items,
)
from fsregistry.storage.artifact_repo import ArtifactRepository
from fsregistry.tracking.store import TrackingStore

PARENT_RUN_ID_TAG = "mlflow.parentRunId"


class Client(RegistryClient, LoggedModelClient, MediaMethods, NotProvidedMethods):
    """Low-level access to one tracking store (and registry), like ``MlflowClient``.

    ``tracking_uri``/``registry_uri`` default to the process settings
    (:func:`fsregistry.set_tracking_uri`, ``FSREG_TRACKING_URI``, ``./mlruns``).
    ``storage_options`` (fsregistry only) go to the storage of both stores (artifact locations
    are opened without them); MLflow 3's ``workspace_store_uri`` is not accepted.

    As in MLflow, making a client gives a store with no experiment yet its Default experiment
    (id ``0``) at once. Differs: an existing empty directory counts as new (MLflow initialises
    only a missing root; on an object store the two are the same).

    Each method's docstring says where it differs from ``MlflowClient``. Throughout: writes
    are synchronous; ``ModelVersion.version`` is an int (as MLflow's file and SQL stores
    return it). Prompts (registered models tagged ``mlflow.prompt.is_prompt``) are hidden
    from searches, their names checked and model APIs refuse them as in MLflow 3
    (:mod:`fsregistry.registry.prompts`); MLflow's deprecation warnings for stages are not
    mirrored. Damaged stores give
    MLflow's errors (a run or experiment directory without ``meta.yaml``:
    ``MissingConfigException``; a run naming another experiment: "metadata is in invalid
    state").
    """

    def __init__(
        self,
        tracking_uri: str | os.PathLike[str] | None = None,
        registry_uri: str | os.PathLike[str] | None = None,
        storage_options: dict[str, Any] | None = None,
    ) -> None:
        self._tracking_uri = os.fspath(tracking_uri) if tracking_uri else config.get_tracking_uri()
        self._registry_uri = config.registry_uri_for(self._tracking_uri, registry_uri)
        self._storage_options = storage_options
        self._store = config.tracking_store(self._tracking_uri, storage_options)
        self._store.initialise()

    @property
    def tracking_uri(self) -> str:
        """The tracking store's URI: as given, else the process setting. Same as MlflowClient."""
        return self._tracking_uri

    @property
    def registry_uri(self) -> str:
        """The registry's URI (MLflow's rule). fsregistry only: MlflowClient keeps it private."""
        return self._registry_uri

    @property
    def store(self) -> TrackingStore:
        """The TrackingStore in use. fsregistry only: MlflowClient keeps its store private."""
        return self._store

    # -- experiments --------------------------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> str:
        """Create an experiment and return its id. Differs: the id is derived from the name.

        So two processes creating one name at once end up with one experiment (MLflow draws a
        random id). A relative ``artifact_location`` is made absolute (cwd), as in MLflow.
        """
        return self._store.create_experiment(name, artifact_location, tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        """An experiment by id. Same as MlflowClient."""
        return self._store.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """An experiment by name (deleted ones too), or None. Same as MlflowClient."""
        return self._store.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: int | str = ViewType.ACTIVE_ONLY,
        max_results: int | None = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[Experiment]:
        """A page of experiments. Same as MlflowClient, but ``max_results=None`` means 1000."""
        return self._store.search_experiments(
            view_type,
            1000 if max_results is None else max_results,
            filter_string,
            order_by,
            page_token,
        )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Rename an experiment. Differs in two error cases (see below).

        Renaming to its current name does nothing (MLflow: RESOURCE_ALREADY_EXISTS); a deleted
        experiment raises INVALID_STATE (MLflow: a plain Exception).
        """
        self._store.rename_experiment(experiment_id, new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        """Delete an experiment and its runs (moved to .trash). Same as MlflowClient.

        Deleting it again raises RESOURCE_DOES_NOT_EXIST and experiment 0 INTERNAL_ERROR, with
        MLflow's messages.
        """
        self._store.delete_experiment(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        """Restore a deleted experiment and its runs. Same as MlflowClient (an active one
        raises RESOURCE_DOES_NOT_EXIST "Could not find deleted experiment with ID ...")."""
        self._store.restore_experiment(experiment_id)

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        """Set an experiment tag. Same as MlflowClient (a deleted experiment raises
        INVALID_PARAMETER_VALUE "... must be in the 'active' lifecycle_stage to set tags")."""
        self._store.set_experiment_tag(experiment_id, key, value)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Delete an experiment tag. Differs: allowed on a deleted experiment (MLflow refuses)."""
        self._store.delete_experiment_tag(experiment_id, key)

    # -- runs ---------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: Mapping[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """Start a run. Differs: with no ``mlflow.user`` tag, user_id is the OS login name.

        MlflowClient records ``"unknown"`` there (``fsregistry.start_run`` sets the tag).
        """
        user = next((v for k, v in tag_items(tags) if k == "mlflow.user"), None)
        return self._store.create_run(
            experiment_id, user_id=user, start_time=start_time, tags=tags, run_name=run_name
        )

    def get_run(self, run_id: str) -> Run:
        """A run with its data and dataset inputs. Same as MlflowClient."""
        return self._store.get_run(run_id)

    def get_parent_run(self, run_id: str) -> Run | None:
        """The run named by the ``mlflow.parentRunId`` tag, or None. Same as MlflowClient."""
        parent = self._store.get_run(run_id).data.tags.get(PARENT_RUN_ID_TAG)
        return self._store.get_run(parent) if parent else None

    def update_run(self, run_id: str, status: str | None = None, name: str | None = None) -> None:
        """Change a run's status and/or name. Differs: a terminal status also sets end_time.

        MLflow keeps the recorded end_time. With neither argument MLflow returns without reading the
        run; this still raises for a missing or deleted run.
        """
        end_time = (
            now_ms() if status and RunStatus.is_terminated(RunStatus.from_any(status)) else None
        )
        self._store.update_run_info(run_id, run_status=status, end_time=end_time, run_name=name)

    def set_terminated(
        self, run_id: str, status: str | None = None, end_time: int | None = None
    ) -> RunInfo:
        """End a run (FINISHED by default). Differs: returns the updated RunInfo (MLflow: None)."""
        return self._store.set_terminated(run_id, status or RunStatus.FINISHED, end_time)

    def delete_run(self, run_id: str) -> None:
        """Mark a run deleted (its files stay). Same as MlflowClient."""
        self._store.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        """Mark a deleted run active again. Same as MlflowClient."""
        self._store.restore_run(run_id)

    def log_param(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> Any:
        """Log a param (as ``str(value)``); returns ``value``. Differs: always synchronous."""
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
        dataset_name: str | None = None,
        dataset_digest: str | None = None,
        model_id: str | None = None,
    ) -> None:
        """Log a metric (with ``model_id``: to that LoggedModel too). Differs: synchronous.

        ``synchronous`` is ignored. ``value`` must be a number (MLflow also converts 0-d arrays and
        tensors). On S3/GCS the line is buffered briefly: see :meth:`flush`. The dataset is
        recorded on the LoggedModel's metric line only.
        """
        ts = timestamp if timestamp is not None else now_ms()
        metric = Metric(key, value, ts, step or 0, dataset_name, dataset_digest, run_id, model_id)
        self._store.log_metric(run_id, metric)

    def set_tag(self, run_id: str, key: str, value: Any, synchronous: bool | None = None) -> None:
        """Set a run tag (stored as ``str(value)``). Differs: always synchronous, returns None."""
        self._store.set_tag(run_id, key, value)

    def delete_tag(self, run_id: str, key: str) -> None:
        """Delete a run tag. Same as MlflowClient."""
        self._store.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        synchronous: bool | None = None,
    ) -> None:
        """Log metrics, params and tags in one call. Differs: never split; always synchronous.

        More than 10,000 metrics or 1,000 params and tags raise INVALID_PARAMETER_VALUE (MLflow
        splits the batch into requests); an empty batch still checks the run; metrics get no
        model_id from the active model; ``synchronous`` is ignored.
        """
        self._store.log_batch(run_id, metrics=metrics, params=params, tags=tags)

    def get_metric_history(
        self,
        run_id: str,
        key: str,
        max_results: int | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[Metric]:
        """Every logged value of one metric, in file order. Same as MlflowClient.

        fsregistry only: ``max_results``/``page_token`` page it as MLflow 3's file store does.
        """
        return self._store.get_metric_history(run_id, key, max_results, page_token)

    def record_logged_model(self, run_id: str, mlflow_model: Any) -> None:
        """Append a Model's ``get_tags_dict()`` to the run tag ``mlflow.log-model.history``,
        as MlflowClient's ``_record_logged_model`` (also this name here). Differs: a tag that
        is not a JSON list raises INVALID_STATE, unchanged (MLflow: JSONDecodeError).
        """
        tags_dict = getattr(mlflow_model, "get_tags_dict", None)
        if not callable(tags_dict):
            raise TypeError(
                "Argument 'mlflow_model' should be of type mlflow.models.Model but was "
                f"{type(mlflow_model)}"
            )
        self._store.record_logged_model(run_id, tags_dict())

    _record_logged_model = record_logged_model

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str = "",
        run_view_type: int | str = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[Run]:
        """A page of runs matching a filter. Differs: ``experiment_ids`` must be a list.

        A single id raises INVALID_PARAMETER_VALUE (MLflow wraps it in a list). Unknown ids give
        no runs, as with MLflow, and ``max_results=0`` an empty page (negative: refused).
        """
        return self._store.search_runs(
            experiment_ids, filter_string, run_view_type, max_results, order_by, page_token
        )

    def flush(self) -> None:
        """Write metric lines still buffered for an object store (done at end_run anyway).

        fsregistry only: MlflowClient has no ``flush``; its file store writes each line at once.
        """
        self._store.flush()

    # -- artifacts ----------------------------------------------------------------------------
    def _artifacts(self, run_id: str) -> ArtifactRepository:
        return ArtifactRepository(self._store.get_run(run_id).info.artifact_uri)

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Upload one local file to a run's artifacts. Differs: a directory raises.

        INVALID_PARAMETER_VALUE; MLflow 3 uploads a directory as ``<artifact_path>/<dir name>``.
        """
        self._artifacts(run_id).log_artifact(local_path, artifact_path)

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Upload a local directory's contents to a run's artifacts. Same as MlflowClient."""
        self._artifacts(run_id).log_artifacts(local_dir, artifact_path)

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Write ``text`` to a run artifact. Differs: a non-str is INVALID_PARAMETER_VALUE."""
        if not isinstance(text, str):
            raise InvalidParameterValue(f"log_text expects a str, got {type(text).__name__}")
        self._artifacts(run_id).log_text(text, artifact_file)

    def log_dict(self, run_id: str, dictionary: Any, artifact_file: str) -> None:
        """Write a dict as JSON (YAML for .yaml/.yml). Differs: non-JSON values are refused.

        They raise INVALID_PARAMETER_VALUE (MLflow writes ``str(value)`` for them); YAML is
        written with ``safe_dump`` and keeps non-ASCII characters (MLflow escapes them).
        """
        self._artifacts(run_id).log_dict(dictionary, artifact_file)

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """The entries directly under ``path`` of a run's artifacts. Differs: run files only.

        MLflow 3 also lists the LoggedModel the run logged under the first component of ``path``.
        """
        return self._artifacts(run_id).list_artifacts(path)

    def download_artifacts(self, run_id: str, path: str, dst_path: str | None = None) -> str:
        """Copy a run's artifact file or directory to a local path. Differs: see below.

        ``dst_path`` must exist (MLflow 3 creates it), and only the run's own artifacts are read
        (MLflow 3 also fetches the LoggedModel the run logged under ``path``).
        """
        return self._artifacts(run_id).download_artifacts(path, dst_path)


# MLflow spells it MlflowClient; the alias keeps ported code unchanged.
MlflowClient = Client
