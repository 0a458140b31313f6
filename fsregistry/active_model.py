"""The fluent API's MLflow 3 model state: the active model, the last logged model, and which
LoggedModels a fluent ``log_metric`` / ``log_metrics`` call is linked to.

Kept apart from :mod:`fsregistry.fluent` (which imports it) and
:mod:`fsregistry.logged_model_api` (the public functions, which import both), so the two
do not import each other.

- The active model is per thread, as in MLflow; a thread that never set one starts from the
  environment (``MLFLOW_ACTIVE_MODEL_ID``, else the legacy ``_MLFLOW_ACTIVE_MODEL_ID``).
- The last logged model id is per thread (``mlflow.last_logged_model``).
- A metric logged without ``model_id`` goes to the active model; without one, to the models
  the run logged as outputs at the metric's step (MLflow 3's rule). The outputs of the active
  run are kept on its :class:`~fsregistry.fluent.ActiveRun` object, read once, and extended by
  ``log_model``; another run's are read from the store.
- A metric linked to a model that is neither an input nor an output of the run records the
  model as an input of the run; a metric with a dataset records the dataset as an input.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from fsregistry.client import Client
from fsregistry.entities import Dataset, DatasetInput
from fsregistry.entities.logged_models import LoggedModelOutput

_local = threading.local()


def _env_model_id() -> str | None:
    return os.environ.get("MLFLOW_ACTIVE_MODEL_ID") or os.environ.get("_MLFLOW_ACTIVE_MODEL_ID")


def get_active_model_id() -> str | None:
    """The active model's id in this thread (set_active_model, else the environment)."""
    if hasattr(_local, "model_id"):
        model_id: str | None = _local.model_id
        return model_id
    return _env_model_id()


def set_active_model_id(model_id: str | None) -> None:
    """Make ``model_id`` the active model of this thread (None: none, not even the env's)."""
    _local.model_id = model_id


def clear_active_model_id() -> None:
    """Forget this thread's active model (the environment's counts again, as in MLflow)."""
    if hasattr(_local, "model_id"):
        del _local.model_id


@dataclass(frozen=True)
class SavedActiveModel:
    """This thread's active-model setting, to restore later."""

    model_id: str | None
    was_set: bool


def save_active_model() -> SavedActiveModel:
    """This thread's setting (distinguishing "none set" from "set to None")."""
    return SavedActiveModel(getattr(_local, "model_id", None), hasattr(_local, "model_id"))


def restore_active_model(saved: SavedActiveModel) -> None:
    """Put back a setting taken by :func:`save_active_model`."""
    if saved.was_set:
        set_active_model_id(saved.model_id)
    else:
        clear_active_model_id()


def last_logged_model_id() -> str | None:
    """The id of the model this thread logged or initialised last."""
    return getattr(_local, "last_model_id", None)


def set_last_logged_model_id(model_id: str) -> None:
    """Remember the model this thread logged last."""
    _local.last_model_id = model_id


class RunWithOutputs(Protocol):
    """An active run that caches its model outputs (``fluent.ActiveRun``)."""

    model_outputs: list[LoggedModelOutput] | None


@dataclass(frozen=True)
class MetricLinks:
    """Where a fluent metric call's values go besides the run."""

    model_ids: list[str | None]
    dataset_name: str | None
    dataset_digest: str | None


def record_output(run: RunWithOutputs | None, output: LoggedModelOutput) -> None:
    """Keep an active run's cached outputs in step with a model it just logged."""
    if run is not None and run.model_outputs is not None:
        run.model_outputs.append(output)


def _outputs(client: Client, run_id: str, run: RunWithOutputs | None) -> list[LoggedModelOutput]:
    if run is None:
        return client.store.get_run_outputs(run_id)
    if run.model_outputs is None:
        run.model_outputs = client.store.get_run_outputs(run_id)
    return run.model_outputs


def _dataset_entity(dataset: Any) -> Dataset:
    to_entity = getattr(dataset, "_to_mlflow_entity", None)
    entity = to_entity() if callable(to_entity) else dataset
    if not all(hasattr(entity, f) for f in ("name", "digest", "source_type", "source")):
        from fsregistry.exceptions import InvalidParameterValue

        raise InvalidParameterValue(
            f"Invalid dataset {dataset!r}: expected an mlflow.data Dataset or a Dataset entity"
        )
    return Dataset(
        entity.name,
        entity.digest,
        entity.source_type,
        entity.source,
        getattr(entity, "schema", None),
        getattr(entity, "profile", None),
    )


def metric_links(
    client: Client,
    run_id: str,
    step: int,
    model_id: str | None,
    dataset: Any,
    run: RunWithOutputs | None,
) -> MetricLinks:
    """The models and dataset a fluent metric call is linked to (see the module docstring);
    records the run's model and dataset inputs they need, as MLflow 3 does."""
    model_id = model_id or get_active_model_id()
    entity = _dataset_entity(dataset) if dataset is not None else None
    if model_id is not None:
        model_ids: Sequence[str | None] = [model_id]
        client.get_logged_model(model_id)  # must exist before anything is written
        if model_id not in {o.model_id for o in _outputs(client, run_id, run)}:
            client.store.log_model_inputs(run_id, [model_id])
    else:
        at_step = [o.model_id for o in _outputs(client, run_id, run) if o.step == step]
        model_ids = at_step or [None]
    if entity is not None:
        client.log_inputs(run_id, [DatasetInput(entity)])
    return MetricLinks(
        list(model_ids),
        entity.name if entity is not None else None,
        entity.digest if entity is not None else None,
    )


__all__ = [
    "MetricLinks",
    "clear_active_model_id",
    "get_active_model_id",
    "last_logged_model_id",
    "metric_links",
    "record_output",
    "restore_active_model",
    "save_active_model",
    "set_active_model_id",
    "set_last_logged_model_id",
]
