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


def paged(items: list[Any], token: Any) -> Any:
    """MLflow's ``PagedList``."""
    return MlflowPagedList(items, token)


def experiment(e: fe.Experiment) -> Any:
    """An MLflow ``Experiment``."""
    return me.Experiment(
        experiment_id=e.experiment_id,
        name=e.name,
        artifact_location=e.artifact_location,
        lifecycle_stage=e.lifecycle_stage,
        tags=[me.ExperimentTag(k, v) for k, v in e.tags.items()],
        creation_time=e.creation_time,
        last_update_time=e.last_update_time,
    )


def metric(m: fe.Metric) -> Any:
    """An MLflow ``Metric``."""
    return me.Metric(
        key=m.key,
        value=m.value,
        timestamp=m.timestamp,
        step=m.step,
        model_id=m.model_id,
        dataset_name=m.dataset_name,
        dataset_digest=m.dataset_digest,
        run_id=m.run_id,
    )


def run_info(i: fe.RunInfo) -> Any:
    """An MLflow ``RunInfo``."""
    return me.RunInfo(
        run_id=i.run_id,
        experiment_id=i.experiment_id,
        user_id=i.user_id,
        status=i.status,
        start_time=i.start_time,
        end_time=i.end_time,
        lifecycle_stage=i.lifecycle_stage,
        artifact_uri=i.artifact_uri,
        run_name=i.run_name,
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
                me.Dataset(
                    name=d.dataset.name,
                    digest=d.dataset.digest,
                    source_type=d.dataset.source_type,
                    source=d.dataset.source,
                    schema=d.dataset.schema,
                    profile=d.dataset.profile,
                ),
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
    return me.LoggedModel(
        experiment_id=m.experiment_id,
        model_id=m.model_id,
        name=m.name,
        artifact_location=m.artifact_location,
        creation_timestamp=m.creation_timestamp or 0,
        last_updated_timestamp=m.last_updated_timestamp or m.creation_timestamp or 0,
        model_type=m.model_type,
        source_run_id=m.source_run_id,
        status=me.LoggedModelStatus(str(m.status)),
        status_message=m.status_message,
        tags=dict(m.tags),
        params=dict(m.params),
        metrics=[metric(x) for x in m.metrics],
    )


def model_version(v: fr.ModelVersion) -> Any:
    """An MLflow ``ModelVersion`` (the version number as a string, as MLflow's stores give)."""
    return mr.ModelVersion(
        name=v.name,
        version=str(v.version),
        creation_timestamp=v.creation_timestamp,
        last_updated_timestamp=v.last_updated_timestamp,
        description=v.description,
        user_id=v.user_id,
        current_stage=v.current_stage,
        source=v.source,
        run_id=v.run_id,
        status=v.status,
        status_message=v.status_message,
        tags=[mr.ModelVersionTag(k, val) for k, val in v.tags.items()],
        run_link=v.run_link,
        aliases=list(v.aliases),
        model_id=v.model_id,
    )


def registered_model(m: fr.RegisteredModel) -> Any:
    """An MLflow ``RegisteredModel`` with its latest versions, tags and aliases."""
    return mr.RegisteredModel(
        name=m.name,
        creation_timestamp=m.creation_timestamp,
        last_updated_timestamp=m.last_updated_timestamp,
        description=m.description,
        latest_versions=[model_version(v) for v in m.latest_versions],
        tags=[mr.RegisteredModelTag(k, v) for k, v in m.tags.items()],
        aliases=[mr.RegisteredModelAlias(a, str(v)) for a, v in m.aliases.items()],
    )


def to_fsreg_metric(m: Any) -> fe.Metric:
    """An fsregistry ``Metric`` from MLflow's."""
    return fe.Metric(
        key=m.key,
        value=m.value,
        timestamp=m.timestamp,
        step=m.step,
        dataset_name=getattr(m, "dataset_name", None),
        dataset_digest=getattr(m, "dataset_digest", None),
        run_id=getattr(m, "run_id", None),
        model_id=getattr(m, "model_id", None),
    )


def to_fsreg_dataset_input(d: Any) -> fe.DatasetInput:
    """An fsregistry ``DatasetInput`` from MLflow's."""
    ds = d.dataset
    return fe.DatasetInput(
        fe.Dataset(ds.name, ds.digest, ds.source_type, ds.source, ds.schema, ds.profile),
        [fe.InputTag(t.key, t.value) for t in d.tags or ()],
    )


def pairs(items: Any) -> dict[str, str] | None:
    """``{key: value}`` from MLflow's tag/param entities (or a mapping), None for None."""
    if items is None:
        return None
    if isinstance(items, dict):
        return {str(k): v for k, v in items.items()}
    return {t.key: t.value for t in items}
