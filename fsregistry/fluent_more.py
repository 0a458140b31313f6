"""The rest of ``mlflow``'s top-level tracking functions: figures, images, tables, streams,
parent runs, experiment tags, restoring, registry searches, async-logging flushes.

Each is the ``mlflow.<name>`` function of MLflow 3: same arguments, same defaults; it acts
on the active run (starting one if none is active, as MLflow does for logging calls) or the
active experiment (:func:`fsregistry.set_experiment`, ``MLFLOW_EXPERIMENT_NAME``/``_ID``,
else ``0``), through ``fsregistry.Client`` (:mod:`fsregistry.media` for the media calls).
Floor 4, beside :mod:`fsregistry.fluent`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from fsregistry import config
from fsregistry.entities import Dataset, DatasetInput, InputTag, ModelVersion, PagedList, Run
from fsregistry.entities.logged_models import LoggedModelInput
from fsregistry.entities.registry import RegisteredModel
from fsregistry.exceptions import InvalidParameterValue, MlflowException
from fsregistry.fluent import _client, _resolve_experiment_id, run_id_or_active
from fsregistry.media import Image as Image
from fsregistry.search.paging import MAX_RESULTS_LIMIT

if TYPE_CHECKING:
    import pandas

T = TypeVar("T")


# -- media ------------------------------------------------------------------------------------
def log_figure(
    figure: Any, artifact_file: str, *, save_kwargs: dict[str, Any] | None = None
) -> None:
    """Log a matplotlib or plotly figure to the active run. Same as MLflow."""
    _client().log_figure(run_id_or_active(), figure, artifact_file, save_kwargs=save_kwargs)


def log_image(
    image: Any,
    artifact_file: str | None = None,
    key: str | None = None,
    step: int | None = None,
    timestamp: int | None = None,
    synchronous: bool | None = False,
) -> None:
    """Log an image (file or step-wise) to the active run. Differs: always synchronous."""
    _client().log_image(run_id_or_active(), image, artifact_file, key, step, timestamp)


def log_table(
    data: dict[str, Any] | pandas.DataFrame, artifact_file: str, run_id: str | None = None
) -> None:
    """Log (or append to) a table artifact of the active run. Same as MLflow."""
    _client().log_table(run_id_or_active(run_id), data, artifact_file)


def load_table(
    artifact_file: str,
    run_ids: list[str] | None = None,
    extra_columns: list[str] | None = None,
) -> pandas.DataFrame:
    """A table logged by the active experiment's runs, concatenated. Same as MLflow."""
    return _client().load_table(_resolve_experiment_id(), artifact_file, run_ids, extra_columns)


def log_stream(stream: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Log a binary file-like object's content as an artifact. Same as MLflow."""
    _client().log_stream(run_id_or_active(run_id), stream, artifact_file)


# -- inputs ----------------------------------------------------------------------------------
def log_inputs(
    datasets: Sequence[Any | None] | None = None,
    contexts: Sequence[str | None] | None = None,
    tags_list: Sequence[Mapping[str, str] | None] | None = None,
    models: Sequence[LoggedModelInput | None] | None = None,
) -> None:
    """Log datasets (with their contexts and tags) as inputs of the active run, started if
    none. Differs: arguments are checked before a run is started, and ``None`` entries are
    skipped (MLflow's file store fails on them); ``models`` is refused, as MLflow refuses
    it outside Databricks."""
    datasets, contexts, tags_list = (
        list(datasets or ()),
        list(contexts or ()),
        list(tags_list or ()),
    )
    if not len(datasets) == len(contexts) == len(tags_list):
        raise MlflowException(
            "`mlflow.log_inputs` requires `datasets`, `contexts`, `tags_list` to be non-empty "
            f"list and have the same length (got {len(datasets)}, {len(contexts)} and "
            f"{len(tags_list)})"
        )
    if models:
        raise MlflowException(
            "'models' argument is only supported by Databricks managed MLflow. "
            "(use Client().log_inputs(run_id, models=...) to record LoggedModel inputs)"
        )
    inputs = []
    for dataset, context, tags in zip(datasets, contexts, tags_list, strict=True):
        if dataset is None:
            if context or tags:
                raise InvalidParameterValue(
                    "`dataset` must be specified if `context` or `tags` is specified. "
                    f"(got context={context!r}, tags={tags!r})"
                )
            continue
        inputs.append(dataset_input(dataset, context, tags))
    _client().log_inputs(run_id_or_active(), inputs)


def dataset_input(
    dataset: Any, context: str | None, tags: Mapping[str, str] | None
) -> DatasetInput:
    """A ``DatasetInput`` of an ``fsregistry.data`` dataset (or a ``Dataset`` entity), its
    ``tags`` then its context (``mlflow.data.context``), as MLflow builds it."""
    entity = dataset._to_mlflow_entity() if hasattr(dataset, "_to_mlflow_entity") else dataset
    if not isinstance(entity, Dataset):
        raise InvalidParameterValue(
            f"log_inputs expects fsregistry.data datasets or Dataset entities, got {dataset!r}"
        )
    input_tags = [InputTag(str(k), str(v)) for k, v in (tags or {}).items()]
    if context:
        input_tags.append(InputTag("mlflow.data.context", context))
    return DatasetInput(entity, input_tags)


# -- runs and experiments ---------------------------------------------------------------------
def get_parent_run(run_id: str) -> Run | None:
    """The parent of run ``run_id`` (``mlflow.parentRunId``), or None. Same as MLflow."""
    return _client().get_parent_run(run_id)


def restore_run(run_id: str) -> None:
    """Restore a deleted run. Same as MLflow."""
    _client().restore_run(run_id)


def restore_experiment(experiment_id: str) -> None:
    """Restore a deleted experiment. Differs: an active one is INVALID_STATE.

    MLflow raises RESOURCE_DOES_NOT_EXIST for an experiment that is not deleted.
    """
    _client().restore_experiment(experiment_id)


def set_experiment_tag(key: str, value: Any) -> None:
    """Tag the active experiment. Same as MLflow."""
    _client().set_experiment_tag(_resolve_experiment_id(), key, value)


def set_experiment_tags(tags: Mapping[str, Any]) -> None:
    """Tag the active experiment with each of ``tags``, one by one. Same as MLflow."""
    for key, value in tags.items():
        set_experiment_tag(key, value)


def delete_experiment_tag(key: str) -> None:
    """Delete a tag of the active experiment. Same as MLflow."""
    _client().delete_experiment_tag(_resolve_experiment_id(), key)


# -- registry -----------------------------------------------------------------------------------
def _all_pages(
    search: Callable[[int, str | None], PagedList[T]], limit: int, max_results: int | None
) -> list[T]:
    out: list[T] = []
    token: str | None = None
    while max_results is None or len(out) < max_results:
        wanted = limit if max_results is None else min(limit, max_results - len(out))
        page = search(wanted, token)
        out.extend(page)
        token = page.token
        if not token:
            break
    return out


def search_registered_models(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[RegisteredModel]:
    """All matching registered models (pages followed), up to ``max_results``. Same as
    MLflow."""
    client = _client()
    return _all_pages(
        lambda n, token: client.search_registered_models(filter_string, n, order_by, token),
        MAX_RESULTS_LIMIT["registered_models"] or 1000,
        max_results,
    )


def search_model_versions(
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: list[str] | None = None,
) -> list[ModelVersion]:
    """All matching model versions (pages followed), up to ``max_results``. Same as MLflow."""
    client = _client()
    return _all_pages(
        lambda n, token: client.search_model_versions(filter_string, n, order_by, token),
        10_000,
        max_results,
    )


def set_model_version_tag(
    name: str, version: str | None = None, key: str | None = None, value: Any = None
) -> None:
    """Tag a model version. Same as MLflow."""
    _client().set_model_version_tag(name=name, version=version, key=key, value=value)


# -- settings and flushes -----------------------------------------------------------------------
def is_tracking_uri_set() -> bool:
    """Whether a tracking URI was set (``set_tracking_uri`` or the environment). Same as
    MLflow (``FSREG_TRACKING_URI`` counts too)."""
    return config.is_tracking_uri_set()


def flush_async_logging() -> None:
    """Write buffered metric lines (object stores). Same as MLflow: returns when written."""
    _client().flush()


def flush_artifact_async_logging() -> None:
    """Nothing to wait for: artifacts are written synchronously. Differs: starts no run."""
