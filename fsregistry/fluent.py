"""``mlflow``'s fluent tracking functions: an active experiment and a stack of active runs.

Same names, arguments and behaviour as ``mlflow.start_run`` and friends. The active run
stack is per thread, as in MLflow; the active experiment is per process.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from fsregistry import config
from fsregistry.active_model import metric_links
from fsregistry.client import PARENT_RUN_ID_TAG, Client
from fsregistry.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    Metric,
    ModelVersion,
    Param,
    Run,
    RunStatus,
    RunTag,
    ViewType,
)
from fsregistry.entities.logged_models import LoggedModelOutput
from fsregistry.exceptions import (
    FsRegistryException,
    InvalidParameterValue,
    ResourceDoesNotExist,
    shown,
)
from fsregistry.mlruns.metafile import now_ms
from fsregistry.mlruns.validation import (
    MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH,
    tag_items,
    validate_model_name,
    validate_tag,
)
from fsregistry.run_frames import FrameBuilder
from fsregistry.uris import version_location, version_source

if TYPE_CHECKING:
    import pandas

# Runs per search call while search_runs builds a DataFrame (see fsregistry.run_frames).
FRAME_PAGE = 1000

_active_experiment_id: str | None = None
_local = threading.local()
_last_active_run_id: str | None = None


def _stack() -> list[ActiveRun]:
    if not hasattr(_local, "runs"):
        _local.runs = []
    stack: list[ActiveRun] = _local.runs
    return stack


def _client() -> Client:
    return Client()


class ActiveRun(Run):
    """The run returned by :func:`start_run`; a context manager that ends it."""

    def __init__(self, run: Run) -> None:
        super().__init__(info=run.info, data=run.data, inputs=run.inputs)
        self.model_outputs: list[LoggedModelOutput] | None = None  # read on first need

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        active = _stack()
        if any(r.info.run_id == self.info.run_id for r in active):
            status = RunStatus.FINISHED if exc_type is None else RunStatus.FAILED
            end_run(status if exc_type is not KeyboardInterrupt else RunStatus.KILLED)
        return False


# -- tracking URIs ------------------------------------------------------------------------
set_tracking_uri = config.set_tracking_uri
get_tracking_uri = config.get_tracking_uri
set_registry_uri = config.set_registry_uri
get_registry_uri = config.get_registry_uri


# -- experiments ----------------------------------------------------------------------------
def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Make an experiment active, creating it by name if needed (race-free across processes)."""
    global _active_experiment_id
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidParameterValue(
            "Must specify exactly one of: `experiment_id` or `experiment_name`. Got "
            f"experiment_name={experiment_name!r}, experiment_id={experiment_id!r}"
        )
    client = _client()
    if experiment_id is not None:
        exp = client.get_experiment(str(experiment_id))
    else:
        assert experiment_name is not None
        found = client.get_experiment_by_name(experiment_name)
        if found is None:
            from fsregistry.exceptions import ResourceAlreadyExists

            # Another process may create it a moment before us: then use theirs.
            with contextlib.suppress(ResourceAlreadyExists):
                client.create_experiment(experiment_name)
            found = client.get_experiment_by_name(experiment_name)
            if found is None:
                raise ResourceDoesNotExist(f"Experiment {experiment_name!r} vanished")
        exp = found
    if exp.lifecycle_stage != "active":
        raise InvalidParameterValue(
            f"Cannot set a deleted experiment {exp.name!r} as the active experiment. "
            "You can restore the experiment, or permanently delete the experiment to create "
            "a new one."
        )
    _active_experiment_id = exp.experiment_id
    return exp


def create_experiment(
    name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None
) -> str:
    return _client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    return _client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    return _client().get_experiment_by_name(name)


def search_experiments(
    view_type: int | str = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    """All matching experiments (pages followed), like ``mlflow.search_experiments``
    (``max_results`` 0 or less: an empty list, as MLflow gives)."""
    if max_results is not None:
        _check_max_results(max_results)
    client = _client()
    out: list[Experiment] = []
    if max_results is not None and max_results < 1:
        return out
    token: str | None = None
    while True:
        page_size = 1000 if max_results is None else min(1000, max_results - len(out))
        page = client.search_experiments(view_type, page_size, filter_string, order_by, token)
        out.extend(page)
        token = page.token
        if not token or (max_results is not None and len(out) >= max_results):
            return out


def delete_experiment(experiment_id: str) -> None:
    _client().delete_experiment(experiment_id)


def _resolve_experiment_id() -> str:
    if _active_experiment_id is not None:
        return _active_experiment_id
    name = os.environ.get("MLFLOW_EXPERIMENT_NAME")
    if name:
        return set_experiment(experiment_name=name).experiment_id
    env_id = os.environ.get("MLFLOW_EXPERIMENT_ID")
    if env_id:
        return env_id
    return "0"


# -- runs -----------------------------------------------------------------------------------
def _source_tags() -> dict[str, str]:
    source = sys.argv[0] if sys.argv and sys.argv[0] else "<console>"
    tags = {"mlflow.source.name": source, "mlflow.source.type": "LOCAL"}
    commit = _git_commit(Path(source).resolve().parent if sys.argv and sys.argv[0] else Path.cwd())
    if commit:
        tags["mlflow.source.git.commit"] = commit
    return tags


def _git_commit(start: Path) -> str | None:
    """The checked-out commit, read from .git without running git (which may be absent)."""
    for directory in (start, *start.parents):
        git = directory / ".git"
        if not git.is_dir():
            continue
        try:
            head = (git / "HEAD").read_text().strip()
            if not head.startswith("ref: "):
                return head or None
            ref = head[5:]
            ref_file = git / ref
            if ref_file.is_file():
                return ref_file.read_text().strip() or None
            packed = git / "packed-refs"
            if packed.is_file():
                for line in packed.read_text().splitlines():
                    if line.endswith(" " + ref):
                        return line.split(" ", 1)[0]
        except OSError:
            return None
        return None
    return None


def _user() -> str:
    from fsregistry.tracking.runs import default_user

    return default_user()


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    parent_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
    log_system_metrics: bool | None = None,
) -> ActiveRun:
    """Start a new run, or resume ``run_id``, and make it the active run."""
    global _last_active_run_id
    client = _client()
    active = _stack()
    if active and not nested:
        raise InvalidParameterValue(
            f"Run with UUID {active[-1].info.run_id} is already active. To start a new run, "
            "first end the current run with mlflow.end_run(). To start a nested run, call "
            "start_run with nested=True"
        )
    run_id = run_id or os.environ.get("MLFLOW_RUN_ID") or None
    # Checked before anything is written (resuming a run first marks it RUNNING).
    given_tags = dict(validate_tag(k, v) for k, v in tag_items(tags))
    if run_id:
        existing = client.get_run(run_id)
        if existing.info.lifecycle_stage != "active":
            raise FsRegistryException(  # INTERNAL_ERROR, as MLflow's
                f"Cannot start run with ID {run_id} because it is in the deleted state."
            )
        if experiment_id is not None and str(experiment_id) != existing.info.experiment_id:
            raise InvalidParameterValue(
                f"Run {run_id} belongs to experiment {existing.info.experiment_id}, "
                f"not to experiment_id={experiment_id!r}"
            )
        client.store.update_run_info(run_id, run_status=RunStatus.RUNNING, run_name=run_name)
        if given_tags:
            client.log_batch(run_id, tags=[RunTag(k, v) for k, v in given_tags.items()])
        run = client.get_run(run_id)
    else:
        parent = parent_run_id or (active[-1].info.run_id if active and nested else None)
        if parent_run_id and active and active[-1].info.run_id != parent_run_id:
            raise InvalidParameterValue(
                f"parent_run_id={parent_run_id!r} is not the active run {active[-1].info.run_id!r}"
            )
        all_tags: dict[str, Any] = {"mlflow.user": _user(), **_source_tags()}
        if parent:
            client.get_run(parent)  # the parent must exist
            all_tags[PARENT_RUN_ID_TAG] = parent
        if description is not None:
            all_tags["mlflow.note.content"] = description
        all_tags.update(given_tags)
        exp_id = str(experiment_id) if experiment_id is not None else _resolve_experiment_id()
        run = client.store.create_run(
            exp_id,
            user_id=str(all_tags["mlflow.user"]),
            start_time=None,
            tags=all_tags,
            run_name=run_name,
        )
    active_run = ActiveRun(run)
    active.append(active_run)
    _last_active_run_id = active_run.info.run_id
    return active_run


def active_run() -> ActiveRun | None:
    stack = _stack()
    return stack[-1] if stack else None


def last_active_run() -> Run | None:
    current = active_run()
    if current is not None:
        return _client().get_run(current.info.run_id)
    return _client().get_run(_last_active_run_id) if _last_active_run_id else None


def end_run(status: str = RunStatus.FINISHED) -> None:
    """End the active run (buffered metrics are written first). An invalid status is refused
    with the run still active; as in MLflow, the run stops being active before the store is
    written, so a store error cannot leave it stuck as the active run."""
    global _last_active_run_id
    stack = _stack()
    if not stack:
        return
    final_status = RunStatus.from_any(status)
    run = stack.pop()
    _last_active_run_id = run.info.run_id
    _client().set_terminated(run.info.run_id, final_status, now_ms())


def run_id_or_active(run_id: str | None = None) -> str:
    """``run_id`` if given, else the active run's id, starting a run when none is active
    (what MLflow's fluent logging calls do); used by the flavors' ``log_model``."""
    if run_id:
        return run_id
    current = active_run()
    if current is not None:
        return current.info.run_id
    return start_run().info.run_id  # MLflow starts a run implicitly on first log


def get_run(run_id: str) -> Run:
    return _client().get_run(run_id)


def delete_run(run_id: str) -> None:
    _client().delete_run(run_id)


def log_param(key: str, value: Any, synchronous: bool | None = None) -> Any:
    _client().log_param(run_id_or_active(), key, value)
    return value


def log_params(
    params: Mapping[str, Any], synchronous: bool | None = None, run_id: str | None = None
) -> None:
    _client().log_batch(run_id_or_active(run_id), params=[Param(k, v) for k, v in params.items()])


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    synchronous: bool | None = None,
    timestamp: int | None = None,
    run_id: str | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> None:
    """Log a metric to the run and its LoggedModels (MLflow 3's rule: see active_model)."""
    log_metrics({key: value}, step, synchronous, run_id, timestamp, model_id, dataset)


def log_metrics(
    metrics: Mapping[str, float],
    step: int | None = None,
    synchronous: bool | None = None,
    run_id: str | None = None,
    timestamp: int | None = None,
    model_id: str | None = None,
    dataset: Any = None,
) -> None:
    """Log metrics to the run and its LoggedModels (MLflow 3's rule: see active_model)."""
    ts = timestamp if timestamp is not None else now_ms()
    client = _client()
    run_id = run_id_or_active(run_id)
    current = active_run()
    own = current if current is not None and current.info.run_id == run_id else None
    links = metric_links(client, run_id, step or 0, model_id, dataset, own)
    first, *others = links.model_ids
    ds = (links.dataset_name, links.dataset_digest)
    client.log_batch(
        run_id,
        metrics=[Metric(k, v, ts, step or 0, *ds, run_id, first) for k, v in metrics.items()],
    )
    for other in others:  # the run's lines once, each model's in its own files
        assert other is not None
        batch = [Metric(k, v, ts, step or 0, *ds, run_id, other) for k, v in metrics.items()]
        client.store.log_model_metrics(other, batch)


def set_tag(key: str, value: Any, synchronous: bool | None = None) -> None:
    _client().set_tag(run_id_or_active(), key, value)


def set_tags(tags: Mapping[str, Any], synchronous: bool | None = None) -> None:
    _client().log_batch(run_id_or_active(), tags=[RunTag(k, v) for k, v in tags.items()])


def delete_tag(key: str) -> None:
    _client().delete_tag(run_id_or_active(), key)


def log_input(
    dataset: Any = None,
    context: str | None = None,
    tags: Mapping[str, str] | None = None,
    model: Any = None,
) -> None:
    """Record a dataset (an ``fsregistry.data`` dataset or a ``Dataset`` entity) as an input
    of the active run, started if none. Differs: ``model=`` (a LoggedModel input) is refused."""
    if model is not None:
        raise InvalidParameterValue(
            f"log_input(model={model!r}): LoggedModel inputs are not supported by fsregistry"
        )
    if dataset is None:
        raise InvalidParameterValue("log_input needs a dataset (got dataset=None)")
    entity = dataset._to_mlflow_entity() if hasattr(dataset, "_to_mlflow_entity") else dataset
    if not isinstance(entity, Dataset):
        raise InvalidParameterValue(
            f"log_input expects an fsregistry.data dataset or a Dataset entity, got {dataset!r}"
        )
    input_tags = [InputTag(k, v) for k, v in (tags or {}).items()]
    if context is not None:
        input_tags.append(InputTag("mlflow.data.context", context))
    _client().log_inputs(run_id_or_active(), [DatasetInput(entity, input_tags)])


# -- artifacts --------------------------------------------------------------------------------
def log_artifact(
    local_path: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    _client().log_artifact(run_id_or_active(run_id), local_path, artifact_path)


def log_artifacts(
    local_dir: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    _client().log_artifacts(run_id_or_active(run_id), local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    _client().log_text(run_id_or_active(run_id), text, artifact_file)


def log_dict(dictionary: Any, artifact_file: str, run_id: str | None = None) -> None:
    _client().log_dict(run_id_or_active(run_id), dictionary, artifact_file)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    if artifact_path is not None and not isinstance(artifact_path, str):
        raise InvalidParameterValue(
            f"Invalid artifact path {artifact_path!r}: must be a string or None"
        )
    uri = _client().get_run(run_id_or_active()).info.artifact_uri
    return f"{uri}/{artifact_path.lstrip('/')}" if artifact_path else uri


# -- search -----------------------------------------------------------------------------------
def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: int | str = ViewType.ACTIVE_ONLY,
    max_results: int = 100000,
    order_by: Sequence[str] | None = None,
    output_format: str = "pandas",
    search_all_experiments: bool = False,
    experiment_names: Sequence[str] | None = None,
) -> pandas.DataFrame | list[Run]:
    """Runs as a pandas DataFrame with MLflow's columns (or a list with output_format="list")."""
    client = _client()
    _check_max_results(max_results)
    if output_format not in ("pandas", "list"):
        raise InvalidParameterValue(
            f"Unsupported output format: {output_format}. Supported string values are "
            "'pandas' or 'list'"
        )
    ids: list[str] = [str(e) for e in experiment_ids or []]
    for name in experiment_names or []:
        exp = client.get_experiment_by_name(name)
        if exp is not None:
            ids.append(exp.experiment_id)
    if not ids and not experiment_names:
        if search_all_experiments:
            ids = [e.experiment_id for e in search_experiments(view_type=ViewType.ALL)]
        else:
            ids = [_resolve_experiment_id()]
    runs: list[Run] = []
    frame = FrameBuilder() if output_format == "pandas" else None
    # A frame takes its runs a page at a time (only one page of runs alive at once); page
    # tokens continue from the kept sorted result, so small pages cost no more in all.
    page_size = FRAME_PAGE if frame is not None else 50000
    token: str | None = None
    count = 0
    while count < max_results:
        page = client.search_runs(
            ids,
            filter_string,
            run_view_type,
            min(page_size, max_results - count),
            order_by,
            token,
        )
        count += len(page)
        if frame is not None:
            frame.add(page)
        else:
            runs.extend(page)
        token = page.token
        if not token:
            break
    if frame is not None:
        return frame.frame()
    return runs


def _check_max_results(value: object) -> None:
    """A fluent search's overall limit: an int (0 or less gives no results, as in MLflow; the
    page size each request asks for is checked by the store against MLflow's limit)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameterValue(
            f"Invalid value {shown(value)} for parameter 'max_results': it must be an integer"
        )


# MLflow's default; the file store registers synchronously, so there is nothing to wait for.
DEFAULT_AWAIT_MAX_SLEEP_SECONDS = 300


def register_model(
    model_uri: str,
    name: str,
    await_registration_for: int | None = DEFAULT_AWAIT_MAX_SLEEP_SECONDS,
    *,
    tags: dict[str, Any] | None = None,
) -> ModelVersion:
    """Create a new version of registered model ``name`` (created if missing) from
    ``model_uri`` (``runs:/``, ``models:/``, a path or a bucket URL), in the process's
    registry (:func:`fsregistry.set_registry_uri`, default: the tracking store).

    Safe when several processes register the same new model at once: they all reuse the one
    that got created, and each gets its own version number. Differs from MLflow: nothing to
    await, versions are READY when this returns.
    """
    del await_registration_for  # versions are READY when this returns
    validate_model_name(name)
    for key, value in tag_items(tags):
        validate_tag(key, value, MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH)
    tracking_uri = config.get_tracking_uri()
    registry = config.registry_store(config.registry_uri_for(tracking_uri))
    source, run_id, model_id = version_source(
        model_uri, tracking_uri=tracking_uri, registry=registry
    )
    # Resolved before the model is created: a source that does not resolve (a stage or
    # alias that holds no version) must not leave a new, empty model behind.
    located = version_location(
        source, run_id, model_id, tracking_uri=tracking_uri, registry=registry
    )
    registry.ensure_registered_model(name)
    version = registry.create_model_version(
        name,
        source,
        run_id=run_id,
        tags=tags,
        model_id=model_id,
        locate=lambda _source, _run_id, _model_id: located,
    )
    if model_id is not None:  # MLflow 3: the LoggedModel lists its versions
        link = {"name": version.name, "version": version.version}
        with contextlib.suppress(ResourceDoesNotExist):  # a model of another store
            config.tracking_store(tracking_uri).append_logged_model_tag_list(
                model_id, "mlflow.modelVersions", link
            )
    return version
