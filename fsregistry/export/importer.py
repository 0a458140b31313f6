"""``fsreg import --from URL``: MLflow's tracking server or database into an fsregistry store.

The source is read with MLflow's own client (``MlflowClient(url, url)``: an ``http(s)://``
tracking server, or a database URL MLflow's SQLAlchemy stores accept), so MLflow is needed
(``fsregistry[mlflow]``) and imported only here. The store is written in MLflow's file-store
layout (docs/mlflow-format.md) through fsregistry's storage primitives, with the source's ids:
experiment ids, run ids, LoggedModel ids and version numbers are kept, so ``runs:/`` and
``models:/`` URIs keep meaning the same things. Artifacts stay where they are (artifact
locations and URIs are copied as they are; a server's ``mlflow-artifacts:`` URIs need that
server to read them).

What is copied: every experiment (deleted ones into ``.trash/``) with its tags; every run
(deleted too) with params, tags, the full history of each metric, dataset inputs (datasets
with their tags) and model inputs and outputs; every LoggedModel MLflow's search returns, with
params, tags and metrics; every registered model with tags, description, its versions
(source, run id, status, stage, description, tags, download location) and aliases.

All-or-nothing per unit, resumable, idempotent
    Each experiment, run and LoggedModel is committed by its ``meta.yaml``, written last with
    create-if-absent: fsregistry (and MLflow) ignore a run or model directory without it, so
    an import killed mid-unit leaves nothing visible, and the next import writes the unit
    again (its other files are rewritten with the same bytes). A unit whose ``meta.yaml``
    exists is skipped. A registered model's ``meta.yaml`` is its claim on the name and comes
    first; each version is committed by its own ``meta.yaml`` after its tags; aliases and tags
    are written whole. Experiment ``0`` exists in every store: its ``meta.yaml`` is replaced by
    the source's (atomically) and its tags written. An existing unit is not compared with the
    source: import into a new store for a full refresh.

Where MLflow's answers lose information
    A tracking server answers ``""`` for an unset description, run link, status message or
    user of a model version (protobuf has no null): these are written as unset. MLflow's SQL
    store keeps an infinite metric as the largest finite double; it is imported as that
    number. Prompts are left out (MLflow's client hides them from searches).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from fsregistry.client import Client
from fsregistry.entities.tracking import LifecycleStage, RunInfo
from fsregistry.exceptions import FsRegistryException, InvalidParameterValue, StorageUnavailable
from fsregistry.export.common import ExportSummary, Progress, require_mlflow
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import dump_meta
from fsregistry.mlruns.validation import format_metric_value
from fsregistry.storage import Storage
from fsregistry.tracking import records, trust

__all__ = ["import_units"]

_PAGE = 1000
_SOURCE_ERRORS = frozenset({"mlflow", "sqlalchemy", "requests", "urllib3"})
_VIEW_ALL = 3
_MODEL_STATUS = {"UNSPECIFIED": 0, "PENDING": 1, "READY": 2, "FAILED": 3}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _value(v: Any) -> str:
    return getattr(v, "value", None) or str(v).rsplit(".", 1)[-1]


def _pages(call: Callable[[str | None], Any]) -> Iterator[Any]:
    token: str | None = None
    while True:
        page = call(token)
        yield from page
        token = page.token
        if not token:
            break


class _Writer:
    """Writes one store in MLflow's file layout; every call is create-if-absent or whole."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def exists(self, path: str) -> bool:
        return self.storage.exists(path)

    def text(self, path: str, value: str | None) -> None:
        self.storage.write(path, (value or "").encode("utf-8"))

    def create(self, path: str, data: bytes) -> bool:
        """Create ``path``; False if it holds other bytes already (the first write wins)."""
        try:
            self.storage.create(path, data)
        except FileExistsError:
            return False
        return True


def import_units(
    mlflow_client: Any,
    client: Client,
    progress: Callable[[Progress], None] | None = None,
) -> ExportSummary:
    """Copy everything ``mlflow_client`` reads into ``client``'s store (module docstring)."""
    summary = ExportSummary()
    storage = client.store.storage
    w = _Writer(storage)

    def count(kind: str, key: str, copied: bool, done: int, total: int) -> None:
        summary.count(kind, copied)
        if progress is not None:
            progress(Progress(kind, key, copied, done, total))

    experiments = list(
        _pages(
            lambda t: mlflow_client.search_experiments(
                view_type=_VIEW_ALL, max_results=_PAGE, page_token=t
            )
        )
    )
    experiments.sort(key=lambda e: (len(e.experiment_id), e.experiment_id))
    dirs: dict[str, str] = {}
    for i, exp in enumerate(experiments, 1):
        exp_dir = layout.experiment_dir(
            exp.experiment_id, exp.lifecycle_stage == LifecycleStage.DELETED
        )
        dirs[exp.experiment_id] = exp_dir
        count("experiment", exp.experiment_id, _experiment(w, exp, exp_dir), i, len(experiments))

    run_ids: list[tuple[str, str]] = []
    for exp in experiments:
        eid = exp.experiment_id
        runs = _pages(partial(_search_runs, mlflow_client, eid))
        run_ids += [(eid, r.info.run_id) for r in runs]
    visited: set[str] = set()
    try:
        for i, (eid, rid) in enumerate(run_ids, 1):
            exp_dir = dirs[eid]
            visited.add(exp_dir)
            copied = False
            if not w.exists(layout.run_meta(exp_dir, rid)):
                copied = _run(w, mlflow_client, exp_dir, mlflow_client.get_run(rid))
            count("run", rid, copied, i, len(run_ids))
    finally:
        # After their runs are in (fsregistry.tracking.trust), and for every experiment this
        # import went through, copied now or not: a failed import's runs are stamped here,
        # or by the re-run that skips them.
        for exp_dir in sorted(visited):
            trust.bump(storage, exp_dir)

    models = [
        m
        for exp in experiments
        for m in _pages(partial(_search_models, mlflow_client, exp.experiment_id))
    ]
    for i, m in enumerate(models, 1):
        count(
            "logged_model", m.model_id, _logged_model(w, dirs[m.experiment_id], m), i, len(models)
        )

    registered = list(
        _pages(lambda t: mlflow_client.search_registered_models(max_results=_PAGE, page_token=t))
    )
    for i, rm in enumerate(registered, 1):
        count("registered_model", rm.name, _registered(w, mlflow_client, rm), i, len(registered))
    return summary


def _search_runs(mc: Any, experiment_id: str, token: str | None) -> Any:
    return mc.search_runs(
        [experiment_id], run_view_type=_VIEW_ALL, max_results=_PAGE, page_token=token
    )


def _search_models(mc: Any, experiment_id: str, token: str | None) -> Any:
    return mc.search_logged_models(
        experiment_ids=[experiment_id], max_results=100, page_token=token
    )


def _experiment(w: _Writer, exp: Any, exp_dir: str) -> bool:
    meta = records.experiment_meta(
        exp.experiment_id, exp.name, exp.artifact_location, exp.creation_time or 0
    )
    meta.update(lifecycle_stage=exp.lifecycle_stage, last_update_time=exp.last_update_time)
    path = layout.experiment_meta(exp_dir)
    if exp.experiment_id == layout.DEFAULT_EXPERIMENT_ID:
        before = w.storage.read(path) if w.exists(path) else None
        data = dump_meta(meta)
        for k, v in exp.tags.items():
            w.text(layout.experiment_tag(exp_dir, k), v)
        if before != data:
            w.storage.write(path, data)
        return before != data
    if w.exists(path) or w.exists(layout.experiment_meta(layout.experiment_dir(exp.experiment_id))):
        return False
    for k, v in exp.tags.items():
        w.text(layout.experiment_tag(exp_dir, k), v)
    return w.create(path, dump_meta(meta))


def _run(w: _Writer, mc: Any, exp_dir: str, run: Any) -> bool:
    info = run.info
    rid = info.run_id
    for k, v in run.data.params.items():
        w.create(layout.run_param(exp_dir, rid, k), (v or "").encode("utf-8"))
    for k, v in run.data.tags.items():
        w.text(layout.run_tag(exp_dir, rid, k), v)
    for key in run.data.metrics:
        history = sorted(mc.get_metric_history(rid, key), key=lambda m: (m.timestamp, m.step))
        lines = b"".join(records.format_metric_line(m.value, m.timestamp, m.step) for m in history)
        w.storage.write(layout.run_metric(exp_dir, rid, key), lines)
    inputs = run.inputs
    for di in inputs.dataset_inputs if inputs else []:
        ds = di.dataset
        dataset_id = _md5(ds.name + ds.digest)
        dataset = {
            "name": ds.name,
            "digest": ds.digest,
            "source_type": ds.source_type,
            "source": ds.source,
            "schema": ds.schema,
            "profile": ds.profile,
        }
        w.create(layout.dataset_meta(exp_dir, dataset_id), dump_meta(dataset))
        edge: dict[str, Any] = {
            "source_type": "DATASET",
            "source_id": dataset_id,
            "destination_type": "RUN",
            "destination_id": dataset_id,  # MLflow's file store writes the dataset id here
            "tags": {t.key: t.value for t in di.tags},
        }
        w.create(layout.run_input_meta(exp_dir, rid, _md5(dataset_id + rid)), dump_meta(edge))
    for mi in getattr(inputs, "model_inputs", None) or []:
        edge = {
            "source_type": "MODEL",
            "source_id": mi.model_id,
            "destination_type": "RUN",
            "destination_id": rid,
            "tags": {},
        }
        w.create(layout.run_input_meta(exp_dir, rid, _md5(mi.model_id + rid)), dump_meta(edge))
    outputs = getattr(run, "outputs", None)
    for mo in getattr(outputs, "model_outputs", None) or []:
        edge = {
            "source_type": "RUN_OUTPUT",
            "source_id": mo.model_id,
            "destination_type": "MODEL_OUTPUT",
            "destination_id": mo.model_id,
            "step": int(mo.step or 0),
            "tags": {},
        }
        w.create(layout.run_output_meta(exp_dir, rid, mo.model_id), dump_meta(edge))
    if w.storage.capabilities.directories:  # MLflow 3's get_run wants these on disk
        for sub in ("metrics", "params", "artifacts"):
            w.storage.make_dirs(f"{layout.run_dir(exp_dir, rid)}/{sub}")
    fs_info = RunInfo(
        run_id=rid,
        experiment_id=info.experiment_id,
        user_id=info.user_id or "",
        status=info.status,
        start_time=info.start_time or 0,
        end_time=info.end_time,
        lifecycle_stage=info.lifecycle_stage,
        artifact_uri=info.artifact_uri,
        run_name=info.run_name or "",
    )
    deleted_time = None
    if info.lifecycle_stage == LifecycleStage.DELETED:
        deleted_time = info.end_time or info.start_time
    meta = records.run_meta(fs_info, deleted_time)
    return w.create(layout.run_meta(exp_dir, rid), dump_meta(meta))


def _logged_model(w: _Writer, exp_dir: str, m: Any) -> bool:
    base = layout.logged_model_meta(exp_dir, m.model_id).rsplit("/", 1)[0]
    if w.exists(f"{base}/{layout.META}"):
        return False
    for k, v in (m.params or {}).items():
        w.create(f"{base}/params/{k}", (v or "").encode("utf-8"))
    for k, v in (m.tags or {}).items():
        w.text(f"{base}/tags/{k}", v)
    lines: dict[str, list[str]] = {}
    for x in sorted(m.metrics or [], key=lambda x: (x.timestamp, x.step)):
        line = f"{x.timestamp} {format_metric_value(x.value)} {x.step} {x.run_id}"
        if x.dataset_name and x.dataset_digest:
            line += f" {x.dataset_name} {x.dataset_digest}"
        lines.setdefault(x.key, []).append(line + "\n")
    for key, got in lines.items():
        w.storage.write(f"{base}/metrics/{key}", "".join(got).encode("utf-8"))
    meta = {
        "artifact_location": m.artifact_location,
        "creation_timestamp": m.creation_timestamp,
        "experiment_id": m.experiment_id,
        "last_updated_timestamp": m.last_updated_timestamp,
        "model_id": m.model_id,
        "model_type": m.model_type,
        "name": m.name,
        "source_run_id": m.source_run_id,
        "status": _MODEL_STATUS.get(_value(m.status), 0),
        "status_message": m.status_message,
    }
    return w.create(f"{base}/{layout.META}", dump_meta(meta))


def _registered(w: _Writer, mc: Any, rm: Any) -> bool:
    name = rm.name
    meta = {
        "name": name,
        "creation_timestamp": rm.creation_timestamp,
        "last_updated_timestamp": rm.last_updated_timestamp,
        "description": rm.description or None,  # REST answers "" for an unset description
    }
    meta_path = layout.registered_model_meta(name)
    copied = not w.exists(meta_path) and w.create(meta_path, dump_meta(meta))
    for k, v in (rm.tags or {}).items():
        path = layout.registered_model_tag(name, k)
        if not w.exists(path):
            w.text(path, v)
    quoted = name.replace("'", "\\'")
    for v in _pages(
        lambda t: mc.search_model_versions(f"name='{quoted}'", max_results=_PAGE, page_token=t)
    ):
        number = int(v.version)
        path = layout.model_version_meta(name, number)
        if w.exists(path):
            continue
        for k, val in (v.tags or {}).items():
            w.text(layout.model_version_tag(name, number, k), val)
        version_meta = {
            "name": name,
            "version": number,
            "creation_timestamp": v.creation_timestamp,
            "last_updated_timestamp": v.last_updated_timestamp,
            "description": v.description or None,
            "user_id": v.user_id or None,
            "current_stage": v.current_stage,
            "source": v.source,
            "storage_location": mc.get_model_version_download_uri(name, v.version),
            "run_id": v.run_id,
            "run_link": v.run_link or None,
            "status": v.status,
            "status_message": v.status_message or None,
        }
        copied = w.create(path, dump_meta(version_meta)) or copied
    for alias, version in dict(mc.get_registered_model(name).aliases or {}).items():
        path = layout.registered_model_alias(name, alias)
        if not w.exists(path):
            w.text(path, str(version))
            copied = True
    return copied


def import_from(
    source_uri: str,
    store: str,
    *,
    storage_options: dict[str, Any] | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> dict[str, dict[str, int]]:
    """Copy MLflow's server or database at ``source_uri`` into ``store``; counts per kind."""
    require_mlflow()
    if not source_uri.startswith(("http://", "https://")) and "://" not in source_uri:
        raise InvalidParameterValue(
            f"Invalid --from {source_uri!r}: expected an MLflow tracking server "
            "(http(s)://...) or a database URL (sqlite:///..., postgresql://...)"
        )
    from mlflow import MlflowClient

    mlflow_client = MlflowClient(source_uri, source_uri)
    client = Client(store, None, storage_options)
    try:
        return import_units(mlflow_client, client, progress).as_dict()
    except FsRegistryException:
        raise
    except Exception as exc:
        # MLflow's, SQLAlchemy's and requests' errors about the source (server down, bad
        # database) become fsregistry's; anything else is a bug and stays as it is.
        if type(exc).__module__.split(".")[0] not in _SOURCE_ERRORS:
            raise
        code = getattr(exc, "error_code", None)
        if isinstance(code, str):
            raise FsRegistryException(
                f"{source_uri}: {getattr(exc, 'message', exc)}", code
            ) from exc
        raise StorageUnavailable(f"Reading {source_uri} failed: {exc}") from exc
