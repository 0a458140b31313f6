"""fsregistry entities -> MLflow entities, and fsregistry errors -> MLflow errors.

fsregistry's entities carry MLflow's field names (``fsregistry/entities``), so each converter
is a field-for-field copy into the MLflow class, which the server turns into protobuf.
:func:`mlflow_errors` is the one place an fsregistry error becomes an
``mlflow.exceptions.MlflowException`` with the same error code (so the server answers
RESOURCE_DOES_NOT_EXIST as HTTP 404, not 500); storage failures keep their code
(PERMISSION_DENIED, TEMPORARILY_UNAVAILABLE...). An ``OSError`` escaping fsregistry would be a
bug there: it becomes INTERNAL_ERROR with the path, not a traceback page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import mlflow.entities as me
from mlflow.entities import model_registry as mr
from mlflow.exceptions import MlflowException as MlflowError
from mlflow.protos import databricks_pb2
from mlflow.store.entities.paged_list import PagedList as MlflowPagedList

from fsregistry import entities as fe
from fsregistry.entities import registry as fr
from fsregistry.exceptions import FsRegistryException

F = TypeVar("F", bound=Callable[..., Any])


def error_code(code: str) -> int:
    """MLflow's numeric ``ErrorCode`` for fsregistry's code name (INTERNAL_ERROR if unknown)."""
    try:
        return int(databricks_pb2.ErrorCode.Value(code))
    except ValueError:
        return int(databricks_pb2.INTERNAL_ERROR)


@contextmanager
def mlflow_errors() -> Iterator[None]:
    """Re-raise fsregistry's errors as MLflow's, with the same code and message."""
    try:
        yield
    except FsRegistryException as exc:
        raise MlflowError(exc.message, error_code=error_code(exc.error_code)) from exc
    except OSError as exc:
        raise MlflowError(
            f"Store I/O failed: {exc}", error_code=databricks_pb2.INTERNAL_ERROR
        ) from exc


def translated(func: F) -> F:
    """Decorator: run ``func`` under :func:`mlflow_errors`."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with mlflow_errors():
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def page(found: fe.PagedList[Any], each: Callable[[Any], Any]) -> Any:
    """MLflow's ``PagedList`` of fsregistry's page, each item converted by ``each``."""
    return MlflowPagedList([each(x) for x in found], found.token)


def pages(each: Callable[[Any], Any]) -> Callable[[fe.PagedList[Any]], Any]:
    """:func:`page` with ``each`` given: a converter of pages."""
    return functools.partial(page, each=each)


def copied(cls: Callable[..., Any], src: Any, fields: str, optional: str = "", **more: Any) -> Any:
    """``cls`` made from the attributes ``fields`` of ``src`` (and ``optional`` ones, None
    where ``src`` lacks them) under the same names, plus ``more``: the field-for-field copy
    every converter here is, fsregistry's entities carrying MLflow's field names."""
    values = {f: getattr(src, f) for f in fields.split()}
    values.update({f: getattr(src, f, None) for f in optional.split()})
    return cls(**values, **more)


_DATASET = "name digest source_type source schema profile"


def experiment(e: fe.Experiment) -> Any:
    """An MLflow ``Experiment``."""
    return copied(
        me.Experiment,
        e,
        "experiment_id name artifact_location lifecycle_stage creation_time last_update_time",
        tags=[me.ExperimentTag(k, v) for k, v in e.tags.items()],
    )


def metric(m: fe.Metric) -> Any:
    """An MLflow ``Metric``."""
    return copied(
        me.Metric, m, "key value timestamp step model_id dataset_name dataset_digest run_id"
    )


def run_info(i: fe.RunInfo) -> Any:
    """An MLflow ``RunInfo``."""
    return copied(
        me.RunInfo,
        i,
        "run_id experiment_id user_id status start_time end_time lifecycle_stage artifact_uri "
        "run_name",
    )


def run(r: fe.Run) -> Any:
    """An MLflow ``Run`` with its inputs (datasets, models) and outputs (models)."""
    data = me.RunData(
        metrics=[metric(m) for m in r.data.metric_objs],
        params=[me.Param(k, v) for k, v in r.data.params.items()],
        tags=[me.RunTag(k, v) for k, v in r.data.tags.items()],
    )
    inputs = me.RunInputs(
        dataset_inputs=[
            me.DatasetInput(
                copied(me.Dataset, d.dataset, _DATASET),
                [me.InputTag(t.key, t.value) for t in d.tags],
            )
            for d in r.inputs.dataset_inputs
        ],
        model_inputs=[me.LoggedModelInput(m.model_id) for m in r.inputs.model_inputs],
    )
    outputs = me.RunOutputs(
        [me.LoggedModelOutput(o.model_id, o.step) for o in r.outputs.model_outputs]
    )
    return me.Run(run_info(r.info), data, inputs, outputs)


def logged_model(m: fe.LoggedModel) -> Any:
    """An MLflow ``LoggedModel``."""
    return copied(
        me.LoggedModel,
        m,
        "experiment_id model_id name artifact_location model_type source_run_id status_message",
        creation_timestamp=m.creation_timestamp or 0,
        last_updated_timestamp=m.last_updated_timestamp or m.creation_timestamp or 0,
        status=me.LoggedModelStatus(str(m.status)),
        tags=dict(m.tags),
        params=dict(m.params),
        metrics=[metric(x) for x in m.metrics],
    )


def model_version(v: fr.ModelVersion) -> Any:
    """An MLflow ``ModelVersion`` (the version number as a string, as MLflow's stores give)."""
    return copied(
        mr.ModelVersion,
        v,
        "name creation_timestamp last_updated_timestamp description user_id current_stage "
        "source run_id status status_message run_link model_id",
        version=str(v.version),
        tags=[mr.ModelVersionTag(k, val) for k, val in v.tags.items()],
        aliases=list(v.aliases),
    )


def model_versions(versions: list[fr.ModelVersion]) -> list[Any]:
    """A list of MLflow ``ModelVersion`` entities."""
    return [model_version(v) for v in versions]


def registered_model(m: fr.RegisteredModel) -> Any:
    """An MLflow ``RegisteredModel`` with its latest versions, tags and aliases."""
    return copied(
        mr.RegisteredModel,
        m,
        "name creation_timestamp last_updated_timestamp description",
        latest_versions=model_versions(m.latest_versions),
        tags=[mr.RegisteredModelTag(k, v) for k, v in m.tags.items()],
        aliases=[mr.RegisteredModelAlias(a, str(v)) for a, v in m.aliases.items()],
    )


def to_fsreg_metric(m: Any) -> fe.Metric:
    """An fsregistry ``Metric`` from MLflow's."""
    made: fe.Metric = copied(
        fe.Metric, m, "key value timestamp step", "model_id dataset_name dataset_digest run_id"
    )
    return made


def to_fsreg_dataset_input(d: Any) -> fe.DatasetInput:
    """An fsregistry ``DatasetInput`` from MLflow's."""
    return fe.DatasetInput(
        copied(fe.Dataset, d.dataset, _DATASET),
        [fe.InputTag(t.key, t.value) for t in d.tags or ()],
    )


def pairs(items: Any) -> dict[str, str] | None:
    """``{key: value}`` from MLflow's tag/param entities (or a mapping), None for None."""
    if items is None:
        return None
    if isinstance(items, dict):
        return {str(k): v for k, v in items.items()}
    return {t.key: t.value for t in items}
