"""Runs: create, read, update, delete and restore them, and log their params, metrics, tags
and dataset inputs.

A run is ``<experiment>/<run id>/``: ``meta.yaml``, ``params/<key>``, ``tags/<key>``,
``metrics/<key>`` (one ``<timestamp> <value> <step>`` line per logged value) and
``inputs/<id>/meta.yaml`` pointing at the experiment's ``datasets/<id>/meta.yaml``, as
MLflow's file store writes them (keys with ``/`` are nested paths). How each write is made:

- ``meta.yaml`` is created once and changed only by compare-and-swap
  (``Locations.update_run_meta``), so concurrent updates never lose one another;
- a param is created if absent and never changed: logging the same value again is allowed,
  another value is refused (checked before anything of the batch is written, and again by
  the failed create of a param that appeared meanwhile);
- a batch is validated whole before any file is written; keys that would be both a file and
  a directory (``a`` and ``a/b``) are refused;
- metric lines are appended; on an object store, which cannot append, they are buffered
  (``metric_buffer``) and a run's "is it active" check is trusted for one flush interval
  instead of costing a read per ``log_metric``;
- only an active run takes writes; ending a run (a terminal status) flushes its metrics and
  summarises it in its experiment's index (``RunReader.summarise_run``); a write to a run that
  already ended, and every delete or restore, first marks the run changed for trusted indexes
  (``trust``); a new run bumps its experiment's run-set stamp once it exists (``trust``),
  and is removed again if that stamp (or one of its tags) cannot be written;
- a dataset input is written once per run and dataset: logging the same dataset again keeps
  the first input's tags, as MLflow does;
- ``record_logged_model`` appends to the ``mlflow.log-model.history`` tag, one JSON list:
  on object stores by compare-and-swap of the tag file; on local disk, where a
  compare-and-swap lock file would sit among the run's tags (and MLflow would read it as a
  tag), by a read and replace under a lock of this process, as MLflow does it.

A run whose ``meta.yaml`` names another run or experiment than its directory raises
"metadata is in invalid state" whenever it is read or written (``Locations.check_run_meta``).
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fsregistry.entities import (
    DatasetInput,
    LifecycleStage,
    Metric,
    PagedList,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
)
from fsregistry.entities import Param as ParamEntity
from fsregistry.exceptions import (
    FsRegistryException,
    InvalidParameterValue,
    InvalidState,
    PathConflict,
    ResourceDoesNotExist,
    shown,
)
from fsregistry.mlruns import layout
from fsregistry.mlruns.artifact_uris import append_uri_path
from fsregistry.mlruns.metafile import decode_text, dump_meta, load_meta, now_ms
from fsregistry.mlruns.validation import (
    MAX_METRICS_PER_BATCH,
    MAX_PARAMS_TAGS_PER_BATCH,
    tag_items,
    validate_dataset_input,
    validate_experiment_id,
    validate_key,
    validate_metric,
    validate_param,
    validate_tag,
    validate_timestamp,
)
from fsregistry.search import decode_page_token, paginate
from fsregistry.tracking import records, trust
from fsregistry.tracking.experiments import Experiments
from fsregistry.tracking.locations import Locations
from fsregistry.tracking.metric_buffer import MetricBuffer
from fsregistry.tracking.run_names import random_run_name
from fsregistry.tracking.run_reader import RunReader

RUN_NAME_TAG = records.RUN_NAME_TAG
LOG_MODEL_HISTORY_TAG = "mlflow.log-model.history"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunRecord:
    """A run and the full history of each of its metrics (key -> values in logged order)."""

    run: Run
    history: dict[str, list[Metric]]


class Runs:
    """The runs of one store."""

    def __init__(self, locations: Locations, experiments: Experiments, reader: RunReader) -> None:
        self._locations = locations
        self._experiments = experiments
        self._reader = reader
        self.storage = storage = locations.storage
        # Object stores cannot append: metric lines are buffered and flushed in batches, and
        # the "run is active" check is trusted for one flush interval instead of costing a
        # GET per log_metric call (local disk checks every call; it is a cheap read there).
        self._metrics = None if storage.capabilities.append else MetricBuffer(storage)
        self._active_checked: dict[str, float] = {}
        self._ended: set[str] = set()  # runs whose status was terminal when last checked
        self._history_lock = threading.Lock()

    # -- reading ----------------------------------------------------------------------------
    def get_run(self, run_id: str) -> Run:
        return self._read_run(run_id, with_history=False).run

    def get_run_with_history(self, run_id: str) -> RunRecord:
        """A run as ``get_run`` gives it with every value of each of its metrics in file
        order, from one listing and one read of its files (fsregistry only: MLflow reads a
        metric's history per key)."""
        return self._read_run(run_id, with_history=True)

    def _read_run(self, run_id: str, with_history: bool) -> RunRecord:
        self._flush_run_metrics(run_id)
        exp_dir, meta_raw = self._locations.locate_run(run_id)
        reader = self._reader
        contents = reader.run_contents(exp_dir, run_id)
        where = reader.run_uri(exp_dir, run_id)
        files = records.parse_run_files(meta_raw, where, contents)
        self._locations.check_run_meta(exp_dir, run_id, files.meta)
        dataset_ids = [str(i.get("source_id")) for i in files.inputs]
        run = reader.build_run(exp_dir, run_id, files, reader.datasets(exp_dir, dataset_ids))
        history: dict[str, list[Metric]] = {}
        for key in sorted(run.data.metrics) if with_history else ():
            raw = contents.get(f"metrics/{key}")
            uri = f"{where}/metrics/{key}"
            history[key] = [] if raw is None else records.parse_metric_lines(raw, key, uri)
        return RunRecord(run, history)

    def get_metric_history(
        self,
        run_id: str,
        metric_key: str,
        max_results: int | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[Metric]:
        """The logged values of one metric in file order, paged as MLflow 3's file store
        pages them (``max_results`` None: every value from ``page_token`` on; 0: an empty
        page)."""
        validate_key(metric_key, "metric key")
        if max_results is not None and (
            isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < 0
        ):
            raise InvalidParameterValue(
                f"Invalid value {max_results!r} for parameter 'max_results' supplied. "
                "It must be a non-negative integer"
            )
        start = decode_page_token(page_token)
        self._flush_run_metrics(run_id)
        exp_dir, meta_raw = self._locations.locate_run(run_id)
        meta_path = self.storage.uri(layout.run_meta(exp_dir, run_id))
        self._locations.check_run_meta(exp_dir, run_id, load_meta(meta_raw, meta_path))
        path = layout.run_metric(exp_dir, run_id, metric_key)
        try:
            raw = self.storage.read(path)
        except FileNotFoundError:
            return PagedList([], None)
        history = records.parse_metric_lines(raw, metric_key, self.storage.uri(path))
        if max_results is None:
            return PagedList(history[start:], None)
        page, token = paginate(history, max_results, page_token, allow_zero=True)
        return PagedList(page, token)

    # -- the run's life ---------------------------------------------------------------------
    def create_run(
        self,
        experiment_id: str,
        user_id: str | None = None,
        start_time: int | None = None,
        tags: Mapping[str, Any] | Iterable[Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        experiment_id = validate_experiment_id(experiment_id)
        tag_dict = dict(validate_tag(k, v) for k, v in tag_items(tags))
        if run_name is not None and not isinstance(run_name, str):
            raise InvalidParameterValue(f"Invalid run name {run_name!r}: must be a string")
        if run_name and RUN_NAME_TAG in tag_dict and tag_dict[RUN_NAME_TAG] != run_name:
            raise InvalidParameterValue(
                "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with "
                f"different values (run_name='{run_name}', "
                f"mlflow.runName='{tag_dict[RUN_NAME_TAG]}')."
            )
        run_name = run_name or tag_dict.get(RUN_NAME_TAG) or random_run_name()
        validate_tag(RUN_NAME_TAG, run_name)
        if start_time is not None:
            start_time = validate_timestamp(start_time, "start_time")
        if user_id is not None:
            user_id = validate_tag("mlflow.user", user_id)[1]
        exp_dir, meta = self._experiments.find_experiment_dir(experiment_id)
        if meta.get("lifecycle_stage") != LifecycleStage.ACTIVE or exp_dir != experiment_id:
            raise InvalidState(
                f"Could not create run under non-active experiment with ID {experiment_id}."
            )
        exp = records.experiment_from_meta(meta, {})
        artifact_location = self._locations.relocate(exp.artifact_location, experiment_id)
        run_id = uuid.uuid4().hex
        info = RunInfo(
            run_id=run_id,
            experiment_id=experiment_id,
            user_id=user_id if user_id is not None else default_user(),
            status=RunStatus.RUNNING,
            start_time=start_time if start_time is not None else now_ms(),
            end_time=None,
            lifecycle_stage=LifecycleStage.ACTIVE,
            artifact_uri=append_uri_path(artifact_location, run_id, "artifacts"),
            run_name=run_name,
        )
        self.storage.create(layout.run_meta(exp_dir, run_id), dump_meta(records.run_meta(info)))
        tag_dict[RUN_NAME_TAG] = run_name
        try:
            for sub in ("metrics", "params", "artifacts"):
                # MLflow 3 refuses to find a run whose metrics/params/artifacts dirs are missing.
                self.storage.make_dirs(f"{layout.run_dir(exp_dir, run_id)}/{sub}")
            for key, value in tag_dict.items():
                self.storage.write(layout.run_tag(exp_dir, run_id, key), value.encode("utf-8"))
            trust.bump(self.storage, exp_dir)  # after the run exists: see trust
            self._locations.remember({run_id: exp_dir})
            return self.get_run(run_id)
        except BaseException as error:
            self._remove_new_run(exp_dir, run_id, error)
            raise

    def _remove_new_run(self, exp_dir: str, run_id: str, error: BaseException) -> None:
        """Remove the run ``create_run`` made, after a later step of it failed with ``error``
        (a tag or the run-set stamp not written): the call raises having changed nothing.
        The directory is this call's: named by a fresh random id, whose meta.yaml the call
        created. A run left unstamped would be missed by a trusted search holding an older
        listing (``trust``); removed, it is missed by none, since a listed run still running
        is checked at every search. If the removal fails too, the run stays, ``error`` says
        where, and the next stamp of the experiment makes every search see it."""
        run_dir = layout.run_dir(exp_dir, run_id)
        try:
            self.storage.delete_tree(run_dir)
        except (FsRegistryException, OSError) as failed:
            where = self.storage.uri(run_dir)
            _log.warning("Could not remove the half-created run %s: %s", where, failed)
            error.add_note(f"The run {where} it created could not be removed: {failed}")

    def _active_run_dir(self, run_id: str, cacheable: bool = False, mark: bool = True) -> str:
        """The experiment directory of an active run, else InvalidParameterValue. ``mark``:
        mark the run changed if it has ended, as every write to it needs first; a caller
        that still checks something against the store (and may refuse) passes False and
        calls :meth:`_mark_if_ended` after its checks, before its first write."""
        if cacheable and self._metrics is not None:
            checked = self._active_checked.get(run_id)
            locations = self._locations
            with locations.run_dirs_lock:
                cached_dir = locations.run_dirs.get(run_id)
            fresh = checked is not None and time.monotonic() - checked < self._metrics.interval
            if fresh and cached_dir is not None:
                if mark:
                    self._mark_if_ended(cached_dir, run_id)
                return cached_dir
        exp_dir, meta_raw = self._locations.locate_run(run_id)
        meta = load_meta(meta_raw, self.storage.uri(layout.run_meta(exp_dir, run_id)))
        self._locations.check_run_meta(exp_dir, run_id, meta)
        stage = meta.get("lifecycle_stage") or LifecycleStage.ACTIVE
        if stage != LifecycleStage.ACTIVE:
            self._active_checked.pop(run_id, None)
            raise InvalidParameterValue(
                f"The run {run_id} must be in 'active' lifecycle_stage. Current state is {stage}."
            )
        self._active_checked[run_id] = time.monotonic()
        if trust.is_terminal(meta.get("status")):
            self._ended.add(run_id)
        else:
            self._ended.discard(run_id)
        if mark:
            self._mark_if_ended(exp_dir, run_id)
        return exp_dir

    def _mark_if_ended(self, exp_dir: str, run_id: str) -> None:
        """Before a write to a run that ended (as last checked): a trusted index no longer
        vouches for its summary (``trust``). Only once the call will write: a call refused
        after marking would have changed the store."""
        if run_id in self._ended:
            self._reader.changed.mark(exp_dir, run_id)

    def update_run_info(
        self,
        run_id: str,
        run_status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        changes: dict[str, Any] = {}
        if run_status is not None:
            changes["status"] = RunStatus.to_int(RunStatus.from_any(run_status))
        if end_time is not None:
            changes["end_time"] = validate_timestamp(end_time, "end_time")
        if run_name is not None:
            if not isinstance(run_name, str):
                raise InvalidParameterValue(f"Invalid run name {run_name!r}: must be a string")
            validate_tag(RUN_NAME_TAG, run_name)
            changes["run_name"] = run_name
        exp_dir = self._active_run_dir(run_id)  # checked all first: it marks an ended run
        if run_name is not None:
            self.storage.write(layout.run_tag(exp_dir, run_id, RUN_NAME_TAG), run_name.encode())
        if run_status is not None and RunStatus.is_terminated(RunStatus.from_any(run_status)):
            self._flush_run_metrics(run_id)
        meta = self._locations.update_run_meta(exp_dir, run_id, **changes)
        if "status" in changes:  # what the cached "is it active" check knows of its end
            if trust.is_terminal(changes["status"]):
                self._ended.add(run_id)
            else:
                self._ended.discard(run_id)
        if "status" in changes and RunStatus.is_terminated(RunStatus.from_any(run_status)):
            self._reader.summarise_run(exp_dir, run_id)
        return records.run_info_from_meta(
            meta,
            self._locations.relocate(
                str(meta.get("artifact_uri")), str(meta["experiment_id"]), run_id
            ),
        )

    def set_terminated(
        self, run_id: str, status: str = RunStatus.FINISHED, end_time: int | None = None
    ) -> RunInfo:
        return self.update_run_info(
            run_id,
            run_status=status,
            end_time=end_time if end_time is not None else now_ms(),
        )

    def delete_run(self, run_id: str) -> None:
        exp_dir, _ = self._locations.locate_run(run_id)
        self._active_checked.pop(run_id, None)
        self._reader.changed.mark(exp_dir, run_id)
        self._locations.update_run_meta(
            exp_dir, run_id, lifecycle_stage=LifecycleStage.DELETED, deleted_time=now_ms()
        )

    def restore_run(self, run_id: str) -> None:
        exp_dir, _ = self._locations.locate_run(run_id)
        self._reader.changed.mark(exp_dir, run_id)
        self._locations.update_run_meta(
            exp_dir, run_id, lifecycle_stage=LifecycleStage.ACTIVE, deleted_time=None
        )

    # -- params, tags, metrics --------------------------------------------------------------
    def delete_tag(self, run_id: str, key: str) -> None:
        validate_key(key, "tag key")
        exp_dir = self._active_run_dir(run_id, mark=False)
        path = layout.run_tag(exp_dir, run_id, key)
        if not self.storage.exists(path):
            raise ResourceDoesNotExist(f"No tag with name: {key} in run with id {run_id}")
        self._mark_if_ended(exp_dir, run_id)
        self.storage.delete(path)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[ParamEntity] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Validate everything first, check params against what is logged, then write.

        Bad input or a conflicting param raises before any file is written. ``None`` stands
        for an empty list.
        """
        metrics = _batch_items(metrics, Metric, "metrics")
        params = _batch_items(params, ParamEntity, "params")
        tags = _batch_items(tags, RunTag, "tags")
        if (
            len(params) + len(tags) > MAX_PARAMS_TAGS_PER_BATCH * 10
            or len(metrics) > MAX_METRICS_PER_BATCH * 10
        ):
            raise InvalidParameterValue(
                f"Batch too large: {len(metrics)} metrics, {len(params)} params, {len(tags)} tags"
            )
        checked_params = dict(validate_param(p.key, p.value) for p in params)
        if len(checked_params) != len(params):
            _check_duplicate_params(params)
        checked_tags = [validate_tag(t.key, t.value) for t in tags]
        checked_metrics = [validate_metric(m.key, m.value, m.timestamp, m.step) for m in metrics]
        exp_dir = self._active_run_dir(run_id, cacheable=not params and not tags, mark=False)
        self._check_param_conflicts(exp_dir, run_id, checked_params)
        self._mark_if_ended(exp_dir, run_id)

        for key, text in checked_params.items():
            try:
                self.storage.create(layout.run_param(exp_dir, run_id, key), text.encode("utf-8"))
            except FileExistsError:
                self._check_param_conflicts(exp_dir, run_id, {key: text})
            except PathConflict as e:
                raise _key_collision("param", key) from e
        for key, text in checked_tags:
            try:
                self.storage.write(layout.run_tag(exp_dir, run_id, key), text.encode("utf-8"))
            except PathConflict as e:
                raise _key_collision("tag", key) from e
            if key == RUN_NAME_TAG:
                self._locations.update_run_meta(exp_dir, run_id, run_name=text)
        lines: dict[str, bytearray] = {}
        for key, value, timestamp, step in checked_metrics:
            path = layout.run_metric(exp_dir, run_id, key)
            lines.setdefault(path, bytearray()).extend(
                records.format_metric_line(value, timestamp, step)
            )
        for path, data in lines.items():
            if self._metrics is None:
                try:
                    self.storage.append(path, bytes(data))
                except PathConflict as e:
                    raise _key_collision("metric", path.rsplit("/metrics/", 1)[1]) from e
            else:
                self._metrics.add(path, bytes(data))
        if self._metrics is not None and len(metrics) > 1:
            # A batch is one call: write it now rather than leave it to the timer.
            self._flush_run_metrics(run_id)

    def _check_param_conflicts(self, exp_dir: str, run_id: str, params: Mapping[str, str]) -> None:
        if len(params) > 2:
            # One listing instead of a read per param: on a bucket, 1 request instead of 20
            # (most params of a batch are new). A param created after the listing is still
            # caught: its create fails and that one is checked then.
            listed = self.storage.walk(layout.run_params_dir(exp_dir, run_id), sizes=False)
            existing = {info.path for info in listed}
            params = {k: v for k, v in params.items() if k in existing}
        paths = {layout.run_param(exp_dir, run_id, k): k for k in params}
        for path, raw in self.storage.read_many(paths).items():
            key = paths[path]
            old = decode_text(raw)
            if old != params[key]:
                raise InvalidParameterValue(
                    f"Changing param values is not allowed. Param with key='{key}' was already "
                    f"logged with value='{old}' for run ID='{run_id}'. "
                    f"Attempted logging new value '{params[key]}'."
                )

    def _flush_run_metrics(self, run_id: str | None = None) -> None:
        if self._metrics is None or not self._metrics.has_pending():
            return
        if run_id is None:
            self._metrics.flush()
            return
        exp_dir = self._locations.cached_run_dir(run_id)
        self._metrics.flush(f"{layout.run_dir(exp_dir, run_id)}/" if exp_dir else "")

    def flush(self) -> None:
        """Write every buffered metric line of this store (object stores only buffer)."""
        self._flush_run_metrics()

    # -- inputs -----------------------------------------------------------------------------
    def log_inputs(self, run_id: str, datasets: Sequence[Any] | None = None) -> None:
        """Record dataset inputs (``DatasetInput``) the way MLflow's file store does; all
        are checked before the first is written. The run must be active, even with no
        datasets (MLflow 3)."""
        datasets = _batch_items(datasets, DatasetInput, "datasets", ("dataset", "tags"))
        for dataset_input in datasets:
            validate_dataset_input(dataset_input)
        exp_dir = self._active_run_dir(run_id)
        for dataset_input in datasets or ():
            ds = dataset_input.dataset
            dataset_id = hashlib.md5(f"{ds.name}{ds.digest}".encode()).hexdigest()
            ds_meta = {
                "digest": ds.digest,
                "name": ds.name,
                "profile": ds.profile,
                "schema": ds.schema,
                "source": ds.source,
                "source_type": ds.source_type,
            }
            with contextlib.suppress(FileExistsError):  # shared per experiment, written once
                self.storage.create(layout.dataset_meta(exp_dir, dataset_id), dump_meta(ds_meta))
            input_id = hashlib.md5(f"{dataset_id}{run_id}".encode()).hexdigest()
            input_meta = {
                "destination_id": dataset_id,  # MLflow's writer quirk: the dataset id here too
                "destination_type": "RUN",
                "source_id": dataset_id,
                "source_type": "DATASET",
                "tags": {t.key: t.value for t in dataset_input.tags},
            }
            with contextlib.suppress(FileExistsError):  # logged before: the first one stays
                self.storage.create(
                    layout.run_input_meta(exp_dir, run_id, input_id), dump_meta(input_meta)
                )

    # -- logged models ----------------------------------------------------------------------
    def record_logged_model(self, run_id: str, entry: Mapping[str, Any]) -> None:
        """Append ``entry`` to the run's ``mlflow.log-model.history`` tag (a JSON list); the
        run must be active. A tag that is not a JSON list raises InvalidState, unchanged."""
        exp_dir = self._active_run_dir(run_id, mark=False)
        path = layout.run_tag(exp_dir, run_id, LOG_MODEL_HISTORY_TAG)
        where = self.storage.uri(path)

        def change(old: bytes | None) -> bytes:
            history: Any = [] if old is None else _json_or_none(old)
            if not isinstance(history, list):
                raise InvalidState(
                    f"Cannot record a logged model on run {run_id}: its tag "
                    f"{LOG_MODEL_HISTORY_TAG} at {where} is not a JSON list"
                )
            return json.dumps([*history, dict(entry)]).encode("utf-8")

        if not self.storage.capabilities.append:
            if run_id in self._ended:  # refused before it is marked: checked once ahead
                change(self._read_or_none(path))
            self._mark_if_ended(exp_dir, run_id)
            self.storage.update(path, change)  # object stores: compare-and-swap, no side file
            return
        with self._history_lock:
            new = change(self._read_or_none(path))
            self._mark_if_ended(exp_dir, run_id)
            self.storage.write(path, new)

    def _read_or_none(self, path: str) -> bytes | None:
        try:
            return self.storage.read(path)
        except FileNotFoundError:
            return None


def _json_or_none(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:  # includes JSONDecodeError and UnicodeDecodeError
        return None


def _batch_items(
    items: Any, kind: type, what: str, fields: tuple[str, ...] = ("key", "value")
) -> list[Any]:
    """One of log_batch's lists: ``kind`` objects, or any with the same fields (MLflow's own
    entities); None is an empty list. Anything else is refused, naming what it was."""
    if items is None:
        return []
    if isinstance(items, str | bytes | Mapping) or not isinstance(items, Iterable):
        raise InvalidParameterValue(
            f"Invalid {what} {shown(items)}: expected a list of {kind.__name__} objects"
        )
    if kind is Metric:
        fields = ("key", "value", "timestamp", "step")
    out = list(items)
    for item in out:
        if not all(hasattr(item, f) for f in fields):
            raise InvalidParameterValue(
                f"Invalid item {shown(item)} in {what}: expected a {kind.__name__}"
            )
    return out


def _check_duplicate_params(params: Sequence[ParamEntity]) -> None:
    seen: dict[str, str] = {}
    for p in params:
        text = "" if p.value is None else str(p.value)
        if p.key in seen and seen[p.key] != text:
            raise InvalidParameterValue(
                f"Duplicate parameter keys have been submitted: [{p.key!r}]. Please ensure the "
                "request contains only one param value per param key. (key "
                f"{p.key!r} has the values {seen[p.key]!r} and {text!r})"
            )
        seen[p.key] = text


def _key_collision(kind: str, key: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Invalid {kind} key {key!r}: it collides with an existing key that is a prefix of it "
        "or that it is a prefix of (keys are stored as file paths, so 'a' and 'a/b' cannot "
        "both exist)"
    )


def default_user() -> str:
    """The user a run is recorded for when none is given (``unknown`` if the system cannot
    tell)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


__all__ = ["LOG_MODEL_HISTORY_TAG", "RUN_NAME_TAG", "RunRecord", "Runs", "default_user"]
