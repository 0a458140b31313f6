"""The rest of ``mlflow``'s top-level tracking functions: figures, images, tables, streams,
parent runs, experiment tags, restoring, registry searches, async-logging flushes.

Each is the ``mlflow.<name>`` function of MLflow 3: same arguments, same defaults; it acts
on the active run (starting one if none is active, as MLflow does for logging calls) or the
active experiment (:func:`fsregistry.set_experiment`, ``MLFLOW_EXPERIMENT_NAME``/``_ID``,
else ``0``), through ``fsregistry.Client`` (:mod:`fsregistry.media` for the media calls).
Floor 4, beside :mod:`fsregistry.fluent`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from fsregistry import config
from fsregistry.entities import ModelVersion, PagedList, Run
from fsregistry.entities.registry import RegisteredModel
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
