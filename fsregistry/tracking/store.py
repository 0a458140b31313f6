"""Experiments and runs in MLflow's file layout, on any :class:`Storage`.

The files are the source of truth and the layout is MLflow's (docs/mlflow-format.md §1), so
MLflow reads what this writes and the other way round. What differs is how it writes and reads:

- experiment ids come from the name (an 18-digit number, as MLflow's look) and are claimed
  with an atomic create, so two processes creating one name end up with one experiment;
- run ``meta.yaml`` updates are compare-and-swap, params are create-if-absent;
- reads list a directory once and fetch every file it needs in one concurrent bulk read.

:class:`TrackingStore` is the facade with the operations ``fsregistry.Client`` calls; each
is done by one collaborator, whose module docstring is its protocol:

- ``experiments``: experiments and the Default experiment;
- ``runs``: runs and what is logged to them;
- ``run_search``: which runs a search looks at and how much of each it reads, with
  ``run_reader`` (reading runs, recording summaries) and ``vouches`` (what the change feed
  lets a repeated search trust);
- ``locations``: where experiments and runs are, shared by all of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fsregistry.entities import (
    Experiment,
    LoggedModel,
    Metric,
    PagedList,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from fsregistry.entities import Param as ParamEntity
from fsregistry.entities.logged_models import LoggedModelOutput, LoggedModelStatus
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.mlruns.artifact_uris import absolute_location
from fsregistry.storage import Storage
from fsregistry.tracking.experiments import Experiments
from fsregistry.tracking.locations import Locations
from fsregistry.tracking.logged_models import (
    LoggedModels,
    checked_model_ids,
    checked_outputs,
    search_logged_models,
)
from fsregistry.tracking.run_reader import RunReader
from fsregistry.tracking.run_search import RunSearch, run_lookup
from fsregistry.tracking.runs import RunRecord, Runs


class TrackingStore:
    """MLflow's tracking store operations on one store root.

    ``artifact_root``: where new experiments put artifacts (default: the store root itself,
    as MLflow does); may be any store URL, e.g. metadata on disk and artifacts in a bucket. A
    relative local path is made absolute against the working directory, as MLflow does.

    Making one reads and writes nothing; the Default experiment is created by
    :meth:`initialise` (``Client`` calls it), else by the first experiment or run operation.
    """

    def __init__(self, storage: Storage, artifact_root: str | None = None) -> None:
        self.storage = storage
        root = absolute_location(artifact_root) if artifact_root else storage.root_uri
        locations = Locations(storage, root)
        self._experiments = Experiments(locations)
        self._reader = RunReader(locations)
        self._runs = Runs(locations, self._experiments, self._reader)
        self._search = RunSearch(locations, self._experiments, self._reader, self._runs)
        self._models = LoggedModels(locations, self._experiments)

    @property
    def artifact_root(self) -> str:
        """Where new experiments put artifacts; may be set (the experiments read it)."""
        return self._experiments.artifact_root

    @artifact_root.setter
    def artifact_root(self, value: str) -> None:
        self._experiments.artifact_root = absolute_location(value)

    def initialise(self) -> None:
        """Create the Default experiment (id ``0``) if the store holds no experiment yet, as
        MLflow does when it opens a new store; done once per store object."""
        self._experiments.initialise()

    # -- experiments ------------------------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, Any] | Iterable[Any] | None = None,
    ) -> str:
        return self._experiments.create_experiment(name, artifact_location, tags)

    def get_experiment(self, experiment_id: str) -> Experiment:
        return self._experiments.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        return self._experiments.get_experiment_by_name(name)

    def search_experiments(
        self,
        view_type: int | str = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[Experiment]:
        return self._experiments.search_experiments(
            view_type, max_results, filter_string, order_by, page_token
        )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._experiments.rename_experiment(experiment_id, new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        self._experiments.delete_experiment(experiment_id)

    def restore_experiment(self, experiment_id: str) -> None:
        self._experiments.restore_experiment(experiment_id)

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        self._experiments.set_experiment_tag(experiment_id, key, value)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._experiments.delete_experiment_tag(experiment_id, key)

    # -- runs -------------------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        user_id: str | None = None,
        start_time: int | None = None,
        tags: Mapping[str, Any] | Iterable[Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        return self._runs.create_run(experiment_id, user_id, start_time, tags, run_name)

    def get_run(self, run_id: str) -> Run:
        return self._runs.get_run(run_id)

    def get_run_with_history(self, run_id: str) -> RunRecord:
        """``get_run`` and every value of each of the run's metrics, its files read once
        (fsregistry only: MLflow's stores read a metric's history per key)."""
        return self._runs.get_run_with_history(run_id)

    def update_run_info(
        self,
        run_id: str,
        run_status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        return self._runs.update_run_info(run_id, run_status, end_time, run_name)

    def set_terminated(
        self, run_id: str, status: str = RunStatus.FINISHED, end_time: int | None = None
    ) -> RunInfo:
        return self._runs.set_terminated(run_id, status, end_time)

    def delete_run(self, run_id: str) -> None:
        self._runs.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self._runs.restore_run(run_id)

    def log_param(self, run_id: str, key: str, value: Any) -> None:
        self._runs.log_batch(run_id, params=[ParamEntity(key, value)])

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self._runs.log_batch(run_id, tags=[RunTag(key, value)])

    def log_metric(self, run_id: str, metric: Metric) -> None:
        self.log_batch(run_id, metrics=[metric])

    def delete_tag(self, run_id: str, key: str) -> None:
        self._runs.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[ParamEntity] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Validate everything first, check params against what is logged, then write.

        Bad input or a conflicting param raises before any file is written. A metric with a
        ``model_id`` is also appended to that LoggedModel's metric file (MLflow 3); the models
        are found before anything is written.
        """
        linked = [m for m in metrics or () if getattr(m, "model_id", None) is not None]
        dirs = self._models.model_dirs([str(m.model_id) for m in linked]) if linked else {}
        self._runs.log_batch(run_id, metrics, params, tags)
        if linked:
            self._models.log_metrics(dirs, run_id, linked)

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[Metric]:
        """Logged values of one metric in file order, a page at a time as in MLflow 3's file
        store (``max_results`` None: everything from ``page_token`` on)."""
        return self._runs.get_metric_history(run_id, metric_key, max_results, page_token)

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[Any] | None = None,
        models: Sequence[Any] | None = None,
    ) -> None:
        """Record dataset inputs (``DatasetInput``) and model inputs (``LoggedModelInput``)
        the way MLflow's file store does; every item is checked before the first is written."""
        model_ids = checked_model_ids(_model_input_ids(models))  # before any dataset is written
        self._runs.log_inputs(run_id, datasets)
        if model_ids:
            self.log_model_inputs(run_id, model_ids)

    def record_logged_model(self, run_id: str, entry: Mapping[str, Any]) -> None:
        """Append ``entry`` (``Model.get_tags_dict()``) to the run's
        ``mlflow.log-model.history`` tag, a JSON list, as MLflow's file store does."""
        self._runs.record_logged_model(run_id, entry)

    def flush(self) -> None:
        """Write every buffered metric line of this store (object stores only buffer)."""
        self._runs.flush()

    # -- logged models (MLflow 3) ------------------------------------------------------------
    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, Any] | Sequence[Any] | None = None,
        params: Mapping[str, Any] | Sequence[Any] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """A new PENDING LoggedModel (``<exp>/models/m-<hex>/``), meta.yaml written last."""
        return self._models.create(experiment_id, name, source_run_id, tags, params, model_type)

    def get_logged_model(self, model_id: str) -> LoggedModel:
        return self._models.get(model_id)

    def finalize_logged_model(
        self, model_id: str, status: LoggedModelStatus | str | int
    ) -> LoggedModel:
        return self._models.finalize(model_id, status)

    def delete_logged_model(self, model_id: str) -> None:
        self._models.delete(model_id)

    def discard_logged_model(self, model_id: str, run_id: str | None = None) -> None:
        """Remove a LoggedModel this process created and failed to log (log_model's undo)."""
        self._models.discard(model_id, run_id)

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, Any] | Sequence[Any]) -> None:
        self._models.set_tags(model_id, tags)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        self._models.delete_tag(model_id, key)

    def log_logged_model_params(
        self, model_id: str, params: Mapping[str, Any] | Sequence[Any]
    ) -> None:
        self._models.log_params(model_id, params)

    def append_logged_model_tag_list(self, model_id: str, key: str, entry: Any) -> None:
        """Append ``entry`` to the JSON-list tag ``key`` of a LoggedModel."""
        self._models.append_tag_list(model_id, key, entry)

    def log_model_metrics(self, model_id: str, metrics: Sequence[Metric]) -> None:
        """Append metrics to a LoggedModel only (``Metric.run_id`` is recorded as given)."""
        dirs = self._models.model_dirs([model_id])
        by_run: dict[str | None, list[Metric]] = {}
        for m in metrics:
            m.model_id = model_id
            by_run.setdefault(m.run_id, []).append(m)
        for run_id, group in by_run.items():
            self._models.log_metrics(dirs, run_id, group)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Record models as outputs of an active run (``<run>/outputs/<model_id>/``)."""
        outputs = checked_outputs(models)  # all of them before the run is touched
        exp_dir = self._runs._active_run_dir(run_id)
        self._models.log_outputs(exp_dir, run_id, outputs)

    def log_model_inputs(self, run_id: str, model_ids: Sequence[str]) -> None:
        """Record models as inputs of an active run (MLflow's ``log_inputs(models=)``)."""
        ids = checked_model_ids(model_ids)
        exp_dir = self._runs._active_run_dir(run_id)
        self._models.log_model_inputs(exp_dir, run_id, ids)

    def get_run_outputs(self, run_id: str) -> list[LoggedModelOutput]:
        """The model outputs recorded for a run."""
        exp_dir, _ = self._locations_of_run(run_id)
        return self._models.run_outputs(exp_dir, run_id)

    def _locations_of_run(self, run_id: str) -> tuple[str, bytes]:
        return self._runs._locations.locate_run(run_id)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int | None = None,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[LoggedModel]:
        return search_logged_models(
            self.storage,
            self._experiments,
            experiment_ids,
            filter_string,
            datasets,
            max_results,
            order_by,
            page_token,
        )

    # -- search -----------------------------------------------------------------------------
    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: int | str = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[Run]:
        return self._search.search_runs(
            experiment_ids, filter_string, run_view_type, max_results, order_by, page_token
        )


__all__ = ["TrackingStore", "run_lookup"]


def _model_input_ids(models: Sequence[Any] | None) -> list[str]:
    """The model ids of ``log_inputs(models=)`` (``LoggedModelInput`` or alike), else
    INVALID_PARAMETER_VALUE naming the bad item."""
    if models is None:
        return []
    if isinstance(models, str | bytes | Mapping) or not isinstance(models, Iterable):
        raise InvalidParameterValue(
            f"Invalid models {models!r}: expected a list of LoggedModelInput objects"
        )
    ids = []
    for item in models:
        model_id = getattr(item, "model_id", None)
        if not isinstance(model_id, str) or not model_id:
            raise InvalidParameterValue(
                f"Invalid item {item!r} in models: expected a LoggedModelInput with a model_id"
            )
        ids.append(model_id)
    return ids
