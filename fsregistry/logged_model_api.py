"""``mlflow``'s MLflow 3 LoggedModel functions: ``initialize_logged_model``,
``create_external_model``, ``finalize_logged_model``, ``get_logged_model``,
``last_logged_model``, ``search_logged_models``, ``set_logged_model_tags``,
``delete_logged_model_tag``, ``log_model_params``, ``log_outputs``, and the active model
(``set_active_model``, ``get_active_model_id``, ``clear_active_model``).

Same names, arguments and results as MLflow 3's fluent functions; the state they share with
``fsregistry.fluent`` lives in :mod:`fsregistry.active_model`.
"""

from __future__ import annotations

import datetime as dt
import logging
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from fsregistry import fluent
from fsregistry.active_model import (
    SavedActiveModel,
    clear_active_model_id,
    get_active_model_id,
    last_logged_model_id,
    record_output,
    restore_active_model,
    save_active_model,
    set_active_model_id,
    set_last_logged_model_id,
)
from fsregistry.client import Client
from fsregistry.entities import LoggedModel
from fsregistry.entities.logged_models import LoggedModelOutput, LoggedModelStatus
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.storage.artifact_repo import ArtifactRepository

if TYPE_CHECKING:
    import pandas

_logger = logging.getLogger(__name__)

#: Tag MLflow puts on a LoggedModel whose files live outside MLflow.
MODEL_IS_EXTERNAL_TAG = "mlflow.model.isExternal"


def _context_tags(tags: dict[str, Any] | None) -> dict[str, str]:
    """MLflow's context tags (user, source) under the given ones."""
    resolved: dict[str, Any] = {"mlflow.user": fluent._user(), **fluent._source_tags()}
    resolved.update(tags or {})
    return {str(k): str(v) for k, v in resolved.items()}


def create_logged_model(
    name: str | None = None,
    source_run_id: str | None = None,
    tags: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    model_type: str | None = None,
    experiment_id: str | None = None,
) -> LoggedModel:
    """A new PENDING LoggedModel in the active run's experiment (else the active experiment),
    linked to the active run; with MLflow's context tags. Internal in MLflow
    (``_create_logged_model``); used by ``log_model``."""
    current = fluent.active_run()
    if source_run_id is None and current is not None:
        source_run_id = current.info.run_id
    if experiment_id is None and current is not None:
        experiment_id = current.info.experiment_id
    elif experiment_id is None:
        experiment_id = fluent._resolve_experiment_id()
    return Client().create_logged_model(
        experiment_id, name, source_run_id, _context_tags(tags), params, model_type
    )


def initialize_logged_model(
    name: str | None = None,
    source_run_id: str | None = None,
    tags: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    model_type: str | None = None,
    experiment_id: str | None = None,
) -> LoggedModel:
    """Create a PENDING LoggedModel and make it the last logged model. Same as MLflow."""
    model = create_logged_model(name, source_run_id, tags, params, model_type, experiment_id)
    set_last_logged_model_id(model.model_id)
    return model


def create_external_model(
    name: str | None = None,
    source_run_id: str | None = None,
    tags: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    model_type: str | None = None,
    experiment_id: str | None = None,
) -> LoggedModel:
    """A READY LoggedModel whose files live elsewhere (tag ``mlflow.model.isExternal``), with
    an MLmodel that records it, so it can be registered. Differs: the MLmodel has no
    placeholder signature (MLflow adds one for Databricks' registry)."""
    import yaml

    model = create_logged_model(
        name,
        source_run_id,
        {**(tags or {}), MODEL_IS_EXTERNAL_TAG: "true"},
        params,
        model_type,
        experiment_id,
    )
    mlmodel: dict[str, Any] = {
        "artifact_path": model.artifact_location,
        "flavors": {},
        "metadata": {MODEL_IS_EXTERNAL_TAG: True},
        "model_id": model.model_id,
        "model_uuid": model.model_id,
        "utc_time_created": str(dt.datetime.now(dt.UTC).replace(tzinfo=None)),
    }
    if model.source_run_id:
        mlmodel["run_id"] = model.source_run_id
    repo = ArtifactRepository(model.artifact_location)
    repo.write_bytes("MLmodel", yaml.safe_dump(mlmodel, default_flow_style=False).encode())
    model = Client().finalize_logged_model(model.model_id, LoggedModelStatus.READY)
    set_last_logged_model_id(model.model_id)
    return model


def finalize_logged_model(
    model_id: str, status: Literal["READY", "FAILED"] | LoggedModelStatus
) -> LoggedModel:
    """Set a LoggedModel's final status. Same as MLflow."""
    return Client().finalize_logged_model(model_id, status)


def get_logged_model(model_id: str) -> LoggedModel:
    """A LoggedModel by id. Same as MLflow."""
    return Client().get_logged_model(model_id)


def last_logged_model() -> LoggedModel | None:
    """The model this thread logged or initialised last, or None. Same as MLflow."""
    model_id = last_logged_model_id()
    return get_logged_model(model_id) if model_id else None


def search_logged_models(
    experiment_ids: list[str] | None = None,
    filter_string: str | None = None,
    datasets: list[dict[str, str]] | None = None,
    max_results: int | None = None,
    order_by: list[dict[str, Any]] | None = None,
    output_format: Literal["pandas", "list"] = "pandas",
) -> list[LoggedModel] | pandas.DataFrame:
    """Every matching LoggedModel (all pages, at most ``max_results``), as a DataFrame or a
    list; the active experiment when ``experiment_ids`` is None. Same as MLflow."""
    if output_format not in ("pandas", "list"):
        raise InvalidParameterValue(
            f"Unsupported output format: {output_format!r}. Supported string values are "
            "'pandas' or 'list'"
        )
    experiment_ids = experiment_ids or [fluent._resolve_experiment_id()]
    client = Client()
    models: list[LoggedModel] = []
    token = None
    while True:
        page = client.search_logged_models(
            experiment_ids, filter_string, datasets, max_results, order_by, token
        )
        models.extend(page)
        if (max_results is not None and len(models) >= max_results) or not page.token:
            break
        token = page.token
    if max_results is not None:
        models = models[:max_results]
    if output_format == "list":
        return models
    import pandas as pd

    rows = []
    for model in models:
        row = dict(sorted(model.to_dictionary().items()))
        row["status"] = LoggedModelStatus.from_int(row["status"])
        rows.append(row)
    return pd.DataFrame(rows)


def set_logged_model_tags(model_id: str, tags: dict[str, Any]) -> None:
    """Set tags on a LoggedModel. Same as MLflow."""
    Client().set_logged_model_tags(model_id, tags)


def delete_logged_model_tag(model_id: str, key: str) -> None:
    """Delete a LoggedModel tag. Same as MLflow."""
    Client().delete_logged_model_tag(model_id, key)


def log_model_params(params: dict[str, str], model_id: str | None = None) -> None:
    """Set params on a LoggedModel (default: the active model). Same as MLflow."""
    model_id = model_id or get_active_model_id()
    if model_id is None:
        raise InvalidParameterValue(
            "`model_id` must be a non-empty string, but got None (no model_id given and no "
            "active model is set)"
        )
    Client().log_model_params(model_id, params)


def log_outputs(models: list[LoggedModelOutput] | None = None) -> None:
    """Record LoggedModels as outputs of the active run (started if none). Same as MLflow."""
    run_id = fluent.run_id_or_active()
    Client().log_outputs(run_id, list(models or ()))
    for output in models or ():
        record_output(fluent.active_run(), output)


class ActiveModel(LoggedModel):
    """The model :func:`set_active_model` made active; ``with`` restores the previous one."""

    def __init__(self, model: LoggedModel, previous: SavedActiveModel) -> None:
        super().__init__(**{f: getattr(model, f) for f in model.__dataclass_fields__})
        self._previous = previous
        set_active_model_id(model.model_id)

    def __enter__(self) -> ActiveModel:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        restore_active_model(self._previous)


def set_active_model(*, name: str | None = None, model_id: str | None = None) -> ActiveModel:
    """Make a LoggedModel active (by id, or the newest of that name in the active experiment,
    created as an external model if none). Same as MLflow."""
    if name is None and model_id is None:
        raise InvalidParameterValue("Either name or model_id must be provided")
    if model_id is not None:
        model = get_logged_model(model_id)
        if name is not None and model.name != name:
            raise InvalidParameterValue(
                f"LoggedModel with model_id {model_id!r} has name {model.name!r}, which does"
                f" not match the provided name {name!r}."
            )
    else:
        assert name is not None
        found = search_logged_models(
            filter_string=f"name='{name}'", max_results=2, output_format="list"
        )
        assert isinstance(found, list)
        if len(found) > 1:
            _logger.warning(
                "Multiple LoggedModels found with name %r, setting the latest one as active model.",
                name,
            )
        model = found[0] if found else create_external_model(name=name)
    return ActiveModel(model, save_active_model())


def clear_active_model() -> None:
    """Forget this thread's active model. Same as MLflow."""
    clear_active_model_id()


__all__ = [
    "ActiveModel",
    "clear_active_model",
    "create_external_model",
    "delete_logged_model_tag",
    "finalize_logged_model",
    "get_active_model_id",
    "get_logged_model",
    "initialize_logged_model",
    "last_logged_model",
    "log_model_params",
    "log_outputs",
    "search_logged_models",
    "set_active_model",
    "set_logged_model_tags",
]
