"""Experiments and runs in MLflow's file layout, on any :class:`Storage`.

The files are the source of truth and the layout is MLflow's (spec §1), so MLflow reads what
this writes and the other way round. What differs is how it writes and reads:

- experiment ids come from the name (an 18-digit number, as MLflow's look) and are claimed
  with an atomic create, so two processes creating one name end up with one experiment;
- run ``meta.yaml`` updates are compare-and-swap, params are create-if-absent;
- reads list a directory once and fetch every file it needs in one concurrent bulk read.
"""

from __future__ import annotations

import contextlib
import functools
import getpass
import hashlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

from fsregistry.entities import (
    Experiment,
    LifecycleStage,
    Metric,
    PagedList,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from fsregistry.entities import Param as ParamEntity
from fsregistry.exceptions import (
    InvalidParameterValue,
    InvalidState,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import MalformedMetaFile, decode_text, dump_meta, load_meta, now_ms
from fsregistry.mlruns.validation import (
    MAX_EXPERIMENT_TAG_VAL_LENGTH,
    MAX_METRICS_PER_BATCH,
    MAX_PARAMS_TAGS_PER_BATCH,
    tag_items,
    validate_experiment_id,
    validate_experiment_name,
    validate_key,
    validate_metric,
    validate_param,
    validate_run_id,
    validate_tag,
)
from fsregistry.search import (
    check_max_results,
    effective_order,
    matches,
    paginate,
    parse_filter,
    parse_order_by,
    sort_rows,
)
from fsregistry.storage import FileInfo, Storage
from fsregistry.storage.changes import ChangeFeed, Stamp
from fsregistry.tracking import records, run_index
from fsregistry.tracking.metric_buffer import MetricBuffer
from fsregistry.tracking.run_index import recorded_token
from fsregistry.tracking.run_names import random_run_name
from fsregistry.tracking.search_rows import Answers, Candidates, SearchRow, files_needed

RUN_NAME_TAG = records.RUN_NAME_TAG
_ID_DIGITS = 18
_log = logging.getLogger(__name__)
_RUN_LEVEL_PRUNE = frozenset({"artifacts"})
_RUN_DATA_DIRS = frozenset({"metrics", "params", "tags", "inputs"})
# What makes the change feed vouch for a whole run: the stamp taken before its listing, the
# directories watched then, and the directories the listing went through.
Vouch = tuple[Stamp, set[str], set[str]]


def _name_experiment_id(name: str, attempt: int) -> str:
    """Deterministic experiment id for a name, so concurrent creators pick the same one."""
    digest = hashlib.sha256(f"{name}\x00{attempt}".encode()).digest()
    number = int.from_bytes(digest[:8], "big") % (9 * 10 ** (_ID_DIGITS - 1))
    return str(10 ** (_ID_DIGITS - 1) + number)


def _prune_run_dir(rel: str) -> bool:
    # Only the data directories hold what a run is made of (artifacts/, MLflow 3's outputs/
    # and anything else are not listed).
    return "/" not in rel and rel not in _RUN_DATA_DIRS


def _prune_experiment_dir(rel: str) -> bool:
    # Inside an experiment: skip LoggedModels/traces (not run data) and run artifact trees.
    parts = rel.split("/")
    if len(parts) == 1:
        return parts[0] in ("models", "traces")
    return len(parts) == 2 and parts[1] in _RUN_LEVEL_PRUNE


class TrackingStore:
    """MLflow's tracking store operations on one store root.

    ``artifact_root``: where new experiments put artifacts (default: the store root itself,
    as MLflow does); may be any store URL, e.g. metadata on disk and artifacts in a bucket.
    """

    def __init__(self, storage: Storage, artifact_root: str | None = None) -> None:
        self.storage = storage
        self.artifact_root = (artifact_root or storage.root_uri).rstrip("/")
        self._run_dirs: dict[str, str] = {}  # run_id -> experiment dir; runs move only on delete
        self._run_dirs_lock = threading.Lock()
        self._relocations: dict[str, str] = {}  # recorded file:// experiment URI -> actual
        self._indexes: dict[str, run_index.ExperimentIndex] = {}  # exp dir -> run summaries
        self._answers = Answers()
        # Object stores cannot append: metric lines are buffered and flushed in batches, and
        # the "run is active" check is trusted for one flush interval instead of costing a
        # GET per log_metric call (local disk checks every call; it is a cheap read there).
        self._metrics = None if storage.capabilities.append else MetricBuffer(storage)
        self._active_checked: dict[str, float] = {}

    # ======================================================================================
    # experiments
    # ======================================================================================
    def _experiment_dirs(self, view_type: int = ViewType.ALL) -> list[str]:
        stages = ViewType.stages(view_type)
        out: list[str] = []
        dirs, _ = self.storage.list_dir("")
        if LifecycleStage.ACTIVE in stages or LifecycleStage.DELETED in stages:
            # An active tree may hold deleted experiments MLflow never moved (hand edits), so
            # lifecycle is decided by meta.yaml, not by location.
            out.extend(d for d in dirs if d not in layout.RESERVED_ROOT_FOLDERS)
        if layout.TRASH in dirs:
            trash, _ = self.storage.list_dir(layout.TRASH)
            out.extend(layout.experiment_dir(d, deleted=True) for d in trash)
        return out

    def _read_experiments(
        self, exp_dirs: Sequence[str], with_tags: bool = True
    ) -> list[Experiment]:
        metas = self.storage.read_many(layout.experiment_meta(d) for d in exp_dirs)
        experiments: list[Experiment] = []
        for exp_dir in exp_dirs:
            raw = metas.get(layout.experiment_meta(exp_dir))
            if raw is None:
                continue  # not an experiment (or a half-deleted one): MLflow skips these too
            try:
                meta = load_meta(raw, self.storage.uri(layout.experiment_meta(exp_dir)))
                exp_id = str(meta["experiment_id"])
            except (MalformedMetaFile, KeyError):
                continue
            if exp_id != exp_dir.rsplit("/", 1)[-1]:
                continue  # MLflow ignores an experiment whose id and directory disagree
            exp = records.experiment_from_meta(meta, {})
            exp.artifact_location = self._relocate(exp.artifact_location, exp_id)
            experiments.append(exp)
        if with_tags:
            self._attach_experiment_tags(experiments)
        return experiments

    def _attach_experiment_tags(self, experiments: list[Experiment]) -> None:
        paths: dict[str, tuple[Experiment, str]] = {}
        for exp in experiments:
            tags_dir = layout.experiment_tags(self._exp_dir_of(exp))
            for info in self.storage.walk(tags_dir):
                paths[f"{tags_dir}/{info.path}"] = (exp, info.path)
        for path, raw in self.storage.read_many(paths).items():
            exp, key = paths[path]
            exp.tags[key] = decode_text(raw)

    @staticmethod
    def _exp_dir_of(exp: Experiment) -> str:
        return layout.experiment_dir(
            exp.experiment_id, deleted=exp.lifecycle_stage == LifecycleStage.DELETED
        )

    def _find_experiment_dir(self, experiment_id: str) -> tuple[str, dict[str, Any]]:
        experiment_id = validate_experiment_id(experiment_id)
        for deleted in (False, True):
            exp_dir = layout.experiment_dir(experiment_id, deleted)
            try:
                raw = self.storage.read(layout.experiment_meta(exp_dir))
            except FileNotFoundError:
                continue
            return exp_dir, load_meta(raw, self.storage.uri(layout.experiment_meta(exp_dir)))
        if experiment_id == layout.DEFAULT_EXPERIMENT_ID and self._ensure_default_experiment():
            return self._find_experiment_dir(experiment_id)
        raise ResourceDoesNotExist(f"Could not find experiment with ID {experiment_id}")

    def _ensure_default_experiment(self) -> bool:
        """Create experiment 0 'Default' if it is missing, as MLflow does for a new store."""
        if self.storage.exists(layout.experiment_meta(layout.experiment_dir("0", True))):
            return False
        meta = records.experiment_meta(
            layout.DEFAULT_EXPERIMENT_ID,
            layout.DEFAULT_EXPERIMENT_NAME,
            f"{self.artifact_root}/{layout.DEFAULT_EXPERIMENT_ID}",
            now_ms(),
        )
        with contextlib.suppress(FileExistsError):  # another process made it first: same result
            self.storage.create(layout.experiment_meta("0"), dump_meta(meta))
        self.storage.make_dirs(layout.TRASH)
        return True

    def get_experiment(self, experiment_id: str) -> Experiment:
        exp_dir, _ = self._find_experiment_dir(experiment_id)
        found = self._read_experiments([exp_dir])
        if not found:
            raise ResourceDoesNotExist(f"Could not find experiment with ID {experiment_id}")
        return found[0]

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        for exp in self._read_experiments(self._experiment_dirs(), with_tags=False):
            if exp.name == name:
                self._attach_experiment_tags([exp])
                return exp
        if name == layout.DEFAULT_EXPERIMENT_NAME and self._ensure_default_experiment():
            return self.get_experiment(layout.DEFAULT_EXPERIMENT_ID)
        return None

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, Any] | Iterable[Any] | None = None,
    ) -> str:
        validate_experiment_name(name)
        given_tags = tag_items(tags)
        for key, value in given_tags:
            validate_tag(key, value, MAX_EXPERIMENT_TAG_VAL_LENGTH)
        if artifact_location is not None:
            _check_artifact_location(artifact_location)
        existing = self.get_experiment_by_name(name)
        if existing is not None:
            raise _experiment_exists(name, existing)
        self._ensure_default_experiment_once()
        for attempt in range(1000):
            exp_id = _name_experiment_id(name, attempt)
            if self.storage.exists(layout.experiment_meta(layout.experiment_dir(exp_id, True))):
                continue
            location = (artifact_location or f"{self.artifact_root}/{exp_id}").rstrip("/")
            meta = records.experiment_meta(exp_id, name, location, now_ms())
            try:
                self.storage.create(layout.experiment_meta(exp_id), dump_meta(meta))
            except FileExistsError:
                holder = load_meta(self.storage.read(layout.experiment_meta(exp_id)), exp_id)
                if holder.get("name") == name:
                    raise _experiment_exists(name, None) from None
                continue  # id held by a renamed experiment: try the next one for this name
            for key, value in given_tags:
                self.storage.write(layout.experiment_tag(exp_id, key), str(value).encode())
            return exp_id
        raise InvalidState(f"Could not allocate an experiment id for {name!r}")

    def _ensure_default_experiment_once(self) -> None:
        if not self.storage.exists(layout.experiment_meta("0")):
            self._ensure_default_experiment()

    def search_experiments(
        self,
        view_type: int | str = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[Experiment]:
        view = ViewType.from_any(view_type)
        check_max_results(max_results, "experiments")
        comparisons = parse_filter(filter_string, "experiments")
        clauses = effective_order(parse_order_by(order_by, "experiments"), "experiments")
        exp_dirs = self._experiment_dirs(view)
        if not exp_dirs and self._ensure_default_experiment():
            exp_dirs = self._experiment_dirs(view)
        stages = ViewType.stages(view)
        experiments = [e for e in self._read_experiments(exp_dirs) if e.lifecycle_stage in stages]
        experiments = [e for e in experiments if matches(comparisons, _experiment_lookup(e))]
        experiments = sort_rows(experiments, clauses, _experiment_lookup)
        page, token = paginate(experiments, max_results, page_token)
        return PagedList(page, token)

    def _update_experiment_meta(self, exp_dir: str, **changes: Any) -> None:
        path = layout.experiment_meta(exp_dir)

        def change(old: bytes | None) -> bytes:
            if old is None:
                raise ResourceDoesNotExist(f"Experiment meta {self.storage.uri(path)} vanished")
            meta = load_meta(old, path)
            meta.update(changes)
            meta["last_update_time"] = now_ms()
            return dump_meta(meta)

        self.storage.update(path, change)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        validate_experiment_name(new_name)
        exp_dir, meta = self._find_experiment_dir(experiment_id)
        if meta.get("lifecycle_stage") == LifecycleStage.DELETED:
            raise InvalidState(f"Cannot rename a non-active experiment {experiment_id}")
        existing = self.get_experiment_by_name(new_name)
        if existing is not None and existing.experiment_id != str(experiment_id):
            raise _experiment_exists(new_name, existing)
        self._update_experiment_meta(exp_dir, name=new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        experiment_id = validate_experiment_id(experiment_id)
        if experiment_id == layout.DEFAULT_EXPERIMENT_ID:
            raise InvalidParameterValue("Cannot delete the Default experiment '0'")
        exp_dir, _meta = self._find_experiment_dir(experiment_id)
        if exp_dir != layout.experiment_dir(experiment_id):
            raise InvalidState(f"Experiment {experiment_id} is already deleted")
        now = now_ms()
        for run_id in self._run_ids_in(exp_dir):
            self._update_run_meta(
                exp_dir,
                run_id,
                only_if_stage=LifecycleStage.ACTIVE,
                lifecycle_stage=LifecycleStage.DELETED,
                deleted_time=now,
            )
        self._update_experiment_meta(exp_dir, lifecycle_stage=LifecycleStage.DELETED)
        self.storage.move_tree(exp_dir, layout.experiment_dir(experiment_id, deleted=True))
        self._forget_runs_of(exp_dir)
        self._relocations.clear()

    def restore_experiment(self, experiment_id: str) -> None:
        experiment_id = validate_experiment_id(experiment_id)
        exp_dir, _ = self._find_experiment_dir(experiment_id)
        active_dir = layout.experiment_dir(experiment_id)
        if exp_dir == active_dir:
            raise InvalidState(f"Experiment {experiment_id} is not deleted")
        self.storage.move_tree(exp_dir, active_dir)
        self._forget_runs_of(exp_dir)
        self._relocations.clear()
        self._update_experiment_meta(active_dir, lifecycle_stage=LifecycleStage.ACTIVE)
        for run_id in self._run_ids_in(active_dir):
            self._update_run_meta(
                active_dir,
                run_id,
                only_if_stage=LifecycleStage.DELETED,
                lifecycle_stage=LifecycleStage.ACTIVE,
                deleted_time=None,
            )

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        key, text = validate_tag(key, value, MAX_EXPERIMENT_TAG_VAL_LENGTH)
        exp_dir, meta = self._find_experiment_dir(experiment_id)
        if meta.get("lifecycle_stage") == LifecycleStage.DELETED:
            raise InvalidState(f"Cannot set a tag on deleted experiment {experiment_id}")
        self.storage.write(layout.experiment_tag(exp_dir, key), text.encode("utf-8"))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        validate_key(key, "tag key")
        exp_dir, _ = self._find_experiment_dir(experiment_id)
        path = layout.experiment_tag(exp_dir, key)
        if not self.storage.exists(path):
            raise ResourceDoesNotExist(f"No tag {key!r} on experiment {experiment_id}")
        self.storage.delete(path)

    # ======================================================================================
    # runs: locating
    # ======================================================================================
    def _run_ids_in(self, exp_dir: str) -> list[str]:
        dirs, _ = self.storage.list_dir(exp_dir)
        return [d for d in dirs if d not in layout.RESERVED_EXPERIMENT_FOLDERS]

    def _forget_runs_of(self, exp_dir: str) -> None:
        with self._run_dirs_lock:
            for run_id in [r for r, d in self._run_dirs.items() if d == exp_dir]:
                del self._run_dirs[run_id]

    def _locate_run(self, run_id: str) -> tuple[str, bytes]:
        """Experiment directory and meta.yaml bytes of a run, wherever it is."""
        validate_run_id(run_id)
        with self._run_dirs_lock:
            cached = self._run_dirs.get(run_id)
        if cached is not None:
            try:
                return cached, self.storage.read(layout.run_meta(cached, run_id))
            except FileNotFoundError:
                self._forget_runs_of(cached)
        candidates = [layout.run_meta(d, run_id) for d in self._experiment_dirs()]
        for path, raw in self.storage.read_many(candidates).items():
            exp_dir = path[: -len(f"/{run_id}/{layout.META}")]
            with self._run_dirs_lock:
                self._run_dirs[run_id] = exp_dir
            return exp_dir, raw
        raise ResourceDoesNotExist(f"Run with id={run_id} not found")

    def _run_files(self, exp_dir: str, run_id: str, meta_raw: bytes) -> records.RunFiles:
        run_dir = layout.run_dir(exp_dir, run_id)
        listing = self.storage.walk(run_dir, prune=_prune_run_dir, sizes=False)
        wanted = [f.path for f in listing if f.path.partition("/")[0] in _RUN_DATA_DIRS]
        contents = self.storage.read_many(f"{run_dir}/{p}" for p in wanted)
        by_rel = {p: contents[f"{run_dir}/{p}"] for p in wanted if f"{run_dir}/{p}" in contents}
        return records.parse_run_files(meta_raw, self.storage.uri(run_dir), by_rel)

    def _datasets(self, exp_dir: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        paths = {layout.dataset_meta(exp_dir, i): i for i in set(ids)}
        out: dict[str, dict[str, Any]] = {}
        for path, raw in self.storage.read_many(paths).items():
            out[paths[path]] = load_meta(raw, path)
        return out

    def _build_run(
        self,
        exp_dir: str,
        run_id: str,
        files: records.RunFiles,
        datasets: Mapping[str, dict[str, Any]],
    ) -> Run:
        exp_id = str(files.meta.get("experiment_id"))
        artifact_uri = self._relocate(str(files.meta.get("artifact_uri") or ""), exp_id, run_id)
        return records.build_run(files, artifact_uri, datasets)

    def get_run(self, run_id: str) -> Run:
        self._flush_run_metrics(run_id)
        exp_dir, meta_raw = self._locate_run(run_id)
        files = self._run_files(exp_dir, run_id, meta_raw)
        dataset_ids = [str(i.get("source_id")) for i in files.inputs]
        return self._build_run(exp_dir, run_id, files, self._datasets(exp_dir, dataset_ids))

    def _relocate(self, uri: str, exp_id: str, run_id: str | None = None) -> str:
        """Follow a copied tree: MLflow records absolute ``file://`` URIs of where the tree was
        written. When that location no longer exists but the URI has the default layout
        (``<root>/<exp>[/<run>/artifacts]``), the same place under this store is meant.
        Decided once per experiment location (search relocates thousands of runs)."""
        if not uri.startswith("file:"):
            return uri
        suffix = "" if run_id is None else f"/{run_id}/artifacts"
        if suffix and not uri.endswith(suffix):
            return uri
        recorded = uri[: len(uri) - len(suffix)] if suffix else uri
        if recorded not in self._relocations:
            self._relocations[recorded] = self._relocated_experiment(recorded, exp_id)
        return self._relocations[recorded] + suffix

    def _relocated_experiment(self, recorded: str, exp_id: str) -> str:
        local = unquote(urlparse(recorded).path)
        if os.path.exists(local) or PurePosixPath(local).name != exp_id:
            return recorded
        exp_dir = layout.experiment_dir(exp_id)
        if not self.storage.exists(layout.experiment_meta(exp_dir)):
            exp_dir = layout.experiment_dir(exp_id, deleted=True)
        return self.storage.uri(exp_dir)

    # ======================================================================================
    # runs: writing
    # ======================================================================================
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
                f"Both run_name={run_name!r} and tag {RUN_NAME_TAG}="
                f"{tag_dict[RUN_NAME_TAG]!r} were given and they differ"
            )
        run_name = run_name or tag_dict.get(RUN_NAME_TAG) or random_run_name()
        validate_tag(RUN_NAME_TAG, run_name)
        exp_dir, meta = self._find_experiment_dir(experiment_id)
        if meta.get("lifecycle_stage") != LifecycleStage.ACTIVE or exp_dir != experiment_id:
            raise InvalidState(
                f"Could not create run under non-active experiment with ID {experiment_id}"
            )
        exp = records.experiment_from_meta(meta, {})
        artifact_location = self._relocate(exp.artifact_location, experiment_id)
        run_id = uuid.uuid4().hex
        info = RunInfo(
            run_id=run_id,
            experiment_id=experiment_id,
            user_id=user_id if user_id is not None else _default_user(),
            status=RunStatus.RUNNING,
            start_time=start_time if start_time is not None else now_ms(),
            end_time=None,
            lifecycle_stage=LifecycleStage.ACTIVE,
            artifact_uri=f"{artifact_location}/{run_id}/artifacts",
            run_name=run_name,
        )
        self.storage.create(layout.run_meta(exp_dir, run_id), dump_meta(records.run_meta(info)))
        for sub in ("metrics", "params", "artifacts"):
            # MLflow 3 refuses to find a run whose metrics/params/artifacts dirs are missing.
            self.storage.make_dirs(f"{layout.run_dir(exp_dir, run_id)}/{sub}")
        tag_dict[RUN_NAME_TAG] = run_name
        for key, value in tag_dict.items():
            self.storage.write(layout.run_tag(exp_dir, run_id, key), value.encode("utf-8"))
        with self._run_dirs_lock:
            self._run_dirs[run_id] = exp_dir
        return self.get_run(run_id)

    def _active_run_dir(self, run_id: str, cacheable: bool = False) -> str:
        if cacheable and self._metrics is not None:
            checked = self._active_checked.get(run_id)
            with self._run_dirs_lock:
                cached_dir = self._run_dirs.get(run_id)
            fresh = checked is not None and time.monotonic() - checked < self._metrics.interval
            if fresh and cached_dir is not None:
                return cached_dir
        exp_dir, meta_raw = self._locate_run(run_id)
        meta = load_meta(meta_raw, self.storage.uri(layout.run_meta(exp_dir, run_id)))
        stage = meta.get("lifecycle_stage") or LifecycleStage.ACTIVE
        if stage != LifecycleStage.ACTIVE:
            self._active_checked.pop(run_id, None)
            raise InvalidParameterValue(
                f"The run {run_id} must be in the 'active' state. Current state is {stage}."
            )
        self._active_checked[run_id] = time.monotonic()
        return exp_dir

    def _update_run_meta(
        self, exp_dir: str, run_id: str, only_if_stage: str | None = None, **changes: Any
    ) -> dict[str, Any]:
        path = layout.run_meta(exp_dir, run_id)
        result: dict[str, Any] = {}

        def change(old: bytes | None) -> bytes:
            if old is None:
                raise ResourceDoesNotExist(f"Run with id={run_id} not found")
            meta = load_meta(old, path)
            if only_if_stage is None or (meta.get("lifecycle_stage") or "active") == only_if_stage:
                for key, value in changes.items():
                    if value is None and key == "deleted_time":
                        meta.pop(key, None)
                    else:
                        meta[key] = value
            meta.setdefault("run_uuid", meta.get("run_id"))
            result.clear()
            result.update(meta)
            return dump_meta(meta)

        self.storage.update(path, change)
        return result

    def update_run_info(
        self,
        run_id: str,
        run_status: str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        exp_dir = self._active_run_dir(run_id)
        changes: dict[str, Any] = {}
        if run_status is not None:
            changes["status"] = RunStatus.to_int(RunStatus.from_any(run_status))
        if end_time is not None:
            changes["end_time"] = int(end_time)
        if run_name is not None:
            validate_tag(RUN_NAME_TAG, run_name)
            changes["run_name"] = run_name
            self.storage.write(layout.run_tag(exp_dir, run_id, RUN_NAME_TAG), run_name.encode())
        if run_status is not None and RunStatus.is_terminated(RunStatus.from_any(run_status)):
            self._flush_run_metrics(run_id)
        meta = self._update_run_meta(exp_dir, run_id, **changes)
        if "status" in changes and RunStatus.is_terminated(RunStatus.from_any(run_status)):
            self._summarise_run(exp_dir, run_id)
        return records.run_info_from_meta(
            meta, self._relocate(str(meta.get("artifact_uri")), str(meta["experiment_id"]), run_id)
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
        self._active_checked.pop(run_id, None)
        exp_dir, _ = self._locate_run(run_id)
        self._update_run_meta(
            exp_dir, run_id, lifecycle_stage=LifecycleStage.DELETED, deleted_time=now_ms()
        )

    def restore_run(self, run_id: str) -> None:
        exp_dir, _ = self._locate_run(run_id)
        self._update_run_meta(
            exp_dir, run_id, lifecycle_stage=LifecycleStage.ACTIVE, deleted_time=None
        )

    # -- params, tags, metrics ------------------------------------------------------------
    def log_param(self, run_id: str, key: str, value: Any) -> None:
        self.log_batch(run_id, params=[ParamEntity(key, value)])

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self.log_batch(run_id, tags=[RunTag(key, value)])

    def log_metric(self, run_id: str, metric: Metric) -> None:
        self.log_batch(run_id, metrics=[metric])

    def delete_tag(self, run_id: str, key: str) -> None:
        validate_key(key, "tag key")
        exp_dir = self._active_run_dir(run_id)
        path = layout.run_tag(exp_dir, run_id, key)
        if not self.storage.exists(path):
            raise ResourceDoesNotExist(f"No tag with name: {key} in run with id {run_id}")
        self.storage.delete(path)

    def log_batch(
        self,
        run_id: str,
        metrics: Sequence[Metric] = (),
        params: Sequence[ParamEntity] = (),
        tags: Sequence[RunTag] = (),
    ) -> None:
        """Validate everything first, check params against what is logged, then write.

        Bad input or a conflicting param raises before any file is written.
        """
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
        exp_dir = self._active_run_dir(run_id, cacheable=not params and not tags)
        self._check_param_conflicts(exp_dir, run_id, checked_params)

        for key, text in checked_params.items():
            try:
                self.storage.create(layout.run_param(exp_dir, run_id, key), text.encode("utf-8"))
            except FileExistsError:
                self._check_param_conflicts(exp_dir, run_id, {key: text})
            except (NotADirectoryError, IsADirectoryError) as e:
                raise _key_collision("param", key) from e
        for key, text in checked_tags:
            try:
                self.storage.write(layout.run_tag(exp_dir, run_id, key), text.encode("utf-8"))
            except (NotADirectoryError, IsADirectoryError) as e:
                raise _key_collision("tag", key) from e
            if key == RUN_NAME_TAG:
                self._update_run_meta(exp_dir, run_id, run_name=text)
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
                except (NotADirectoryError, IsADirectoryError) as e:
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
        with self._run_dirs_lock:
            exp_dir = self._run_dirs.get(run_id)
        self._metrics.flush(f"{layout.run_dir(exp_dir, run_id)}/" if exp_dir else "")

    def flush(self) -> None:
        """Write every buffered metric line of this store (object stores only buffer)."""
        self._flush_run_metrics()

    def get_metric_history(self, run_id: str, metric_key: str) -> list[Metric]:
        validate_key(metric_key, "metric key")
        self._flush_run_metrics(run_id)
        exp_dir, _ = self._locate_run(run_id)
        path = layout.run_metric(exp_dir, run_id, metric_key)
        try:
            raw = self.storage.read(path)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return []
        return records.parse_metric_lines(raw, metric_key, self.storage.uri(path))

    # -- inputs -----------------------------------------------------------------------------
    def log_inputs(self, run_id: str, datasets: Sequence[Any]) -> None:
        """Record dataset inputs (``DatasetInput``) the way MLflow's file store does."""
        exp_dir = self._active_run_dir(run_id)
        for dataset_input in datasets:
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
            self.storage.write(
                layout.run_input_meta(exp_dir, run_id, input_id), dump_meta(input_meta)
            )

    # ======================================================================================
    # search
    # ======================================================================================
    def _index(self, exp_dir: str) -> run_index.ExperimentIndex:
        return self._indexes.setdefault(exp_dir, run_index.ExperimentIndex())

    def _listed_rows(self, exp_dir: str, into: Candidates) -> None:
        """Every run of one experiment from one recursive listing: summaries for the runs
        whose files all kept their tokens, one bulk read for the rest (see ``run_index``).
        The way on object stores, where a listing returns a thousand tokens per request."""
        listed_at = time.time()
        listing = self.storage.walk(exp_dir, prune=_prune_experiment_dir, sizes=True)
        # Paths stay relative to the experiment ("<run>/params/p"): a listing holds tens of
        # thousands of files, and rewriting each one's path costs more than the search.
        per_run: dict[str, list[FileInfo]] = {}
        shards: dict[str, str] = {}
        reserved = layout.RESERVED_EXPERIMENT_FOLDERS
        for info in listing:
            head, sep, rest = info.path.partition("/")
            if not sep:
                if head.startswith(run_index.SHARD_PREFIX):
                    shards[head] = info.token
            elif head not in reserved and (
                rest == layout.META or rest.partition("/")[0] in _RUN_DATA_DIRS
            ):
                bucket = per_run.get(head)
                if bucket is None:
                    per_run[head] = [info]
                else:
                    bucket.append(info)
        index = self._index(exp_dir)
        tokens = {r: run_index.tokens_of(infos, strip=len(r) + 1) for r, infos in per_run.items()}
        found: dict[str, records.RunFiles] = {}
        for run_id, toks in tokens.items():
            cached = index.lookup(run_id, toks)
            if cached is not None:
                found[run_id] = cached
        if len(found) < len(per_run) and shards:
            index.load_shards(self.storage, exp_dir, shards)
            for run_id, toks in tokens.items():
                cached = None if run_id in found else index.lookup(run_id, toks)
                if cached is not None:
                    found[run_id] = cached
        stale = {r: per_run[r] for r in per_run if r not in found}
        found.update(self._read_and_summarise(exp_dir, stale, listed_at, set(per_run)))
        for r in per_run:
            if r in found:
                into.add(exp_dir, r, found[r], None)

    def _checked_rows(self, exp_dir: str, needed: Sequence[str], into: Candidates) -> None:
        """Every run of one experiment, checking only the files a search needs (``needed``,
        run-relative) against the summaries: the way on local disk, where one stat is a
        system call and listing every file of an experiment costs a stat per file.

        Runs whose needed files kept their tokens come from their summary, marked unchecked
        (their other files are checked when they are returned, see ``_complete``); the rest
        are listed and read. Where the storage has a change feed, a run it vouches for needs
        no check at all, and every run checked here is watched before its check so that the
        next search can skip it."""
        dirs, names = self.storage.list_dir(exp_dir)
        run_ids = [d for d in dirs if d not in layout.RESERVED_EXPERIMENT_FOLDERS]
        index = self._index(exp_dir)
        shards = [f"{exp_dir}/{n}" for n in names if n.startswith(run_index.SHARD_PREFIX)]
        if shards:
            cut = len(exp_dir) + 1
            shard_tokens = self.storage.tokens(shards)
            index.load_shards(self.storage, exp_dir, {p[cut:]: t for p, t in shard_tokens.items()})
        summaries = index.runs
        needed = tuple(needed)
        feed = self.storage.change_feed()
        vouched: dict[str, str | None] = {}  # run -> tokens left to check (None: none)
        partly: dict[str, run_index.Verified] = {}  # vouched for other files than these
        stamps: dict[str, Stamp] = {}
        if feed is not None:
            feed.poll()
            for run_id, held in index.vouched(feed, run_ids).items():
                if held[1] is None:
                    vouched[run_id] = None
                elif held[1] == needed or all(rel in held[1] for rel in needed):
                    vouched[run_id] = held[0]
                else:
                    partly[run_id] = held
        known = [r for r in run_ids if r in summaries and r not in vouched]
        if feed is not None:
            subdirs = sorted(run_index.run_dirs(needed))
            cut = len(exp_dir) + 1
            # A quarter of the budget is left to whole runs, which a watch saves more for.
            watched = feed.watch({f"{exp_dir}/{r}": subdirs for r in known}, leave=0.25)
            stamps = {top[cut:]: stamp for top, stamp in watched.items()}
        current = self.storage.tokens(f"{exp_dir}/{r}/{rel}" for r in known for rel in needed)
        stale: list[str] = []
        for run_id in run_ids:
            entry = summaries.get(run_id)
            if entry is None:
                stale.append(run_id)
                continue
            if run_id in vouched:
                into.add(exp_dir, run_id, entry.files, vouched[run_id])
                continue
            prefix = f"{exp_dir}/{run_id}/"
            recorded = entry.tokens
            for rel in needed:
                if current.get(prefix + rel) != recorded_token(recorded, rel):
                    stale.append(run_id)
                    break
            else:
                into.add(exp_dir, run_id, entry.files, recorded)
                stamp = stamps.get(run_id)
                if stamp is not None:
                    index.verified[run_id] = _widened(partly.get(run_id), recorded, needed, stamp)
        if stale:
            stale_stamps = self._watch_runs(
                feed, exp_dir, {r: summaries[r].tokens if r in summaries else None for r in stale}
            )
            listed_at = time.time()
            seen: dict[str, set[str]] = {r: set() for r in stale}
            listed = {r: self._list_run(exp_dir, r, seen=seen[r]) for r in stale}
            vouches = {r: (*stale_stamps[r], seen[r]) for r in stale_stamps}
            found = self._read_and_summarise(exp_dir, listed, listed_at, set(run_ids), vouches)
            for r in stale:
                if r in found:
                    into.add(exp_dir, r, found[r], None)

    def _watch_runs(
        self, feed: ChangeFeed | None, exp_dir: str, runs: Mapping[str, str | None]
    ) -> dict[str, tuple[Stamp, set[str]]]:
        """Watch runs (``{run id: tokens of its summary, or None}``) before they are listed
        in full: their data directories, and every directory their summary names where it
        may name nested ones (``train/loss``). With the directories watched, a listing that
        goes through no other directory verifies the whole run (``_vouch_for``)."""
        if feed is None or not runs:
            return {}
        plain = sorted(_RUN_DATA_DIRS)
        dirs: dict[str, list[str]] = {}
        for run_id, tokens in runs.items():
            # Only the directories the summary names: one made since shows up as a creation in
            # the run directory, or in the listing (which then vouches for nothing). Each path
            # of a run without nested directories has one "/" at most (tokens hold none), so
            # only a run with as many "/" as entries may have nested ones.
            if tokens is None:
                dirs[run_id] = plain
            elif tokens.count("/") < tokens.count("|") - 1:
                dirs[run_id] = [d for d in plain if f"|{d}/" in tokens]
            else:
                dirs[run_id] = sorted(run_index.run_dirs(run_index.recorded_paths(tokens)))
        watched = feed.watch({f"{exp_dir}/{r}": d for r, d in dirs.items()})
        cut = len(exp_dir) + 1
        return {top[cut:]: (stamp, set(dirs[top[cut:]])) for top, stamp in watched.items()}

    @staticmethod
    def _vouch_for(
        index: run_index.ExperimentIndex, run_id: str, tokens: str, vouch: Vouch | None
    ) -> None:
        """Record that the feed vouches for the whole run as listed (``vouch``: the stamp and
        directories from ``_watch_runs``, and the directories the listing went through), if
        every directory the listing went through was watched before it."""
        if vouch is not None and vouch[2] <= vouch[1]:
            index.verified[run_id] = (tokens, None, vouch[0])

    def _complete(self, rows: Sequence[SearchRow]) -> list[Run]:
        """The runs behind a page of search rows: rows not yet checked file by file are
        listed, and read again where any file changed since their summary."""
        files_of: dict[int, records.RunFiles] = {}
        recheck: dict[str, dict[str, list[FileInfo]]] = {}  # exp dir -> run -> listing
        feed = self.storage.change_feed()
        watched: dict[str, dict[str, tuple[Stamp, set[str]]]] = {}
        vouches: dict[str, dict[str, Vouch]] = {}
        if feed is not None:  # (no poll: nothing here asks whether a stamp still holds)
            unchecked: dict[str, dict[str, str]] = {}  # exp dir -> run -> summary tokens
            for row in rows:
                if row.unchecked is not None:
                    unchecked.setdefault(row.exp_dir, {})[row.run_id] = row.unchecked
            for exp_dir, tokens in unchecked.items():
                watched[exp_dir] = self._watch_runs(feed, exp_dir, tokens)
        listed_at = time.time()
        for i, row in enumerate(rows):
            if row.unchecked is None:
                files_of[i] = row.files
                continue
            seen: set[str] = set()
            listing = self._list_run(row.exp_dir, row.run_id, relative=True, seen=seen)
            held = watched.get(row.exp_dir, {}).get(row.run_id)
            vouch = None if held is None else (*held, seen)
            if run_index.tokens_of(listing) == row.unchecked:
                files_of[i] = row.files
                self._vouch_for(self._index(row.exp_dir), row.run_id, row.unchecked, vouch)
            else:
                recheck.setdefault(row.exp_dir, {})[row.run_id] = self._from_experiment(
                    row.run_id, listing
                )
                if vouch is not None:
                    vouches.setdefault(row.exp_dir, {})[row.run_id] = vouch
        fresh = {
            (exp_dir, run_id): files
            for exp_dir, listed in recheck.items()
            for run_id, files in self._read_and_summarise(
                exp_dir, listed, listed_at, None, vouches.get(exp_dir)
            ).items()
        }
        for i, row in enumerate(rows):
            if i not in files_of and (row.exp_dir, row.run_id) in fresh:
                files_of[i] = fresh[row.exp_dir, row.run_id]
        by_exp: dict[str, list[str]] = {}
        for i, row in enumerate(rows):
            if i in files_of:
                by_exp.setdefault(row.exp_dir, []).extend(
                    str(r.get("source_id")) for r in files_of[i].inputs
                )
        datasets = {e: self._datasets(e, ids) if ids else {} for e, ids in by_exp.items()}
        runs = []
        for i, row in enumerate(rows):
            if i in files_of:  # a run deleted since the page was chosen is left out
                runs.append(
                    self._build_run(row.exp_dir, row.run_id, files_of[i], datasets[row.exp_dir])
                )
        with self._run_dirs_lock:
            for i, row in enumerate(rows):
                if i in files_of:
                    self._run_dirs[row.run_id] = row.exp_dir
        return runs

    def _list_run(
        self, exp_dir: str, run_id: str, relative: bool = False, seen: set[str] | None = None
    ) -> list[FileInfo]:
        """One run's data files with their tokens, paths relative to the experiment (or, with
        ``relative``, to the run). ``seen`` collects the directories the listing went
        through, run-relative."""
        prune = _prune_run_dir
        if seen is not None:

            def prune(rel: str, add: Any = seen.add) -> bool:
                if _prune_run_dir(rel):
                    return True
                add(rel)
                return False

        listing = self.storage.walk(f"{exp_dir}/{run_id}", prune=prune, sizes=True)
        data = _RUN_DATA_DIRS
        own = [i for i in listing if i.path == layout.META or i.path.partition("/")[0] in data]
        return own if relative else self._from_experiment(run_id, own)

    @staticmethod
    def _from_experiment(run_id: str, listing: Iterable[FileInfo]) -> list[FileInfo]:
        return [FileInfo(f"{run_id}/{i.path}", i.size, i.token, i.mtime) for i in listing]

    def _read_and_summarise(
        self,
        exp_dir: str,
        per_run: Mapping[str, list[FileInfo]],
        listed_at: float | None,
        live: set[str] | None = None,
        vouches: Mapping[str, Vouch] | None = None,
    ) -> dict[str, records.RunFiles]:
        """Read runs from their files and record them in the experiment's index, unless a
        file changed too shortly before ``listed_at`` (``run_index.is_racy``; None: no such
        guard, for the writer that ends a run). ``live``: every run of the experiment, when
        known, so shards drop runs that are gone. ``vouches``: for runs watched before they
        were listed, what the change feed is to vouch for (``_vouch_for``)."""
        if not per_run:
            return {}
        found = self._read_runs(exp_dir, per_run)
        index = self._index(exp_dir)
        summarised = []
        for run_id, infos in per_run.items():
            files = found.get(run_id)
            tokens = run_index.tokens_of(infos, strip=len(run_id) + 1)
            if files is None or tokens is None:
                continue
            if listed_at is not None and run_index.is_racy(infos, listed_at):
                continue
            index.runs[run_id] = run_index.Summary(tokens, files)
            if vouches:
                self._vouch_for(index, run_id, tokens, vouches.get(run_id))
            summarised.append(run_id)
        if not summarised:
            return found
        if listed_at is None and self.storage.capabilities.append:
            for run_id in summarised:  # the writer that ends a run: see run_index.append
                index.append(self.storage, exp_dir, run_id)
        else:
            index.persist(self.storage, exp_dir, summarised, live)
        return found

    def _read_runs(
        self, exp_dir: str, per_run: Mapping[str, list[FileInfo]]
    ) -> dict[str, records.RunFiles]:
        """Decode runs from their files (one bulk read); runs that are not valid are left out.
        ``per_run`` holds each run's files with paths relative to ``exp_dir``."""
        contents = self.storage.read_many(
            f"{exp_dir}/{i.path}" for infos in per_run.values() for i in infos
        )
        out: dict[str, records.RunFiles] = {}
        for run_id, infos in per_run.items():
            meta_raw = contents.get(f"{exp_dir}/{run_id}/{layout.META}")
            if meta_raw is None:
                continue  # a run directory without meta.yaml is not a run
            strip = len(run_id) + 1
            files = {
                i.path[strip:]: contents[f"{exp_dir}/{i.path}"]
                for i in infos
                if i.path[strip:] != layout.META and f"{exp_dir}/{i.path}" in contents
            }
            try:
                run_files = records.parse_run_files(meta_raw, f"{exp_dir}/{run_id}", files)
            except (MalformedMetaFile, UnicodeDecodeError) as e:
                # One damaged run must not break every search; `fsreg doctor` names it.
                _log.warning("Skipping run %s: %s", self.storage.uri(f"{exp_dir}/{run_id}"), e)
                continue
            if str(run_files.meta.get("run_id") or run_files.meta.get("run_uuid")) != run_id:
                continue
            out[run_id] = run_files
        return out

    def _summarise_run(self, exp_dir: str, run_id: str) -> None:
        """Record a run that just ended in its experiment's index (see ``run_index``), so the
        next reader in any process finds it summarised instead of reading its files. Skips the
        racy guard: see the module docstring of ``run_index`` for why this writer may."""
        capabilities = self.storage.capabilities
        if not (capabilities.append or capabilities.compare_and_swap):
            return  # shards cannot be updated safely here; readers read the files
        self._read_and_summarise(exp_dir, {run_id: self._list_run(exp_dir, run_id)}, None)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: int | str = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[Run]:
        if isinstance(experiment_ids, str | int):
            raise InvalidParameterValue(
                f"experiment_ids must be a list, got {experiment_ids!r}; "
                f"did you mean [{experiment_ids!r}]?"
            )
        view = ViewType.from_any(run_view_type)
        check_max_results(max_results, "runs")
        comparisons = parse_filter(filter_string, "runs")
        clauses = effective_order(parse_order_by(order_by, "runs"), "runs")
        self.flush()
        stages = ViewType.stages(view)
        needed = (
            files_needed(comparisons, clauses) if self.storage.capabilities.cheap_stat else None
        )
        found = Candidates()
        exp_dirs = []
        for exp_id in dict.fromkeys(validate_experiment_id(e) for e in experiment_ids):
            try:
                exp_dir, _ = self._find_experiment_dir(exp_id)
            except ResourceDoesNotExist:
                continue  # MLflow returns no runs for an unknown experiment id
            exp_dirs.append(exp_dir)
            if needed is None:
                self._listed_rows(exp_dir, found)
            else:
                self._checked_rows(exp_dir, needed, found)

        def lookup_of(i: int) -> Any:  # made per use: see Candidates
            return functools.partial(self._candidate_value, found, i)

        query = (tuple(exp_dirs), stages, tuple(comparisons), tuple(clauses))
        order = self._answers.get(query, found)
        if order is None:
            kept = [
                i
                for i in range(len(found))
                if lookup_of(i)("attribute", "lifecycle_stage") in stages
                and matches(comparisons, lookup_of(i))
            ]
            order = sort_rows(kept, clauses, lookup_of)
            self._answers.put(query, found, order)
        page, token = paginate(order, max_results, page_token)
        return PagedList(self._complete([found.row(i) for i in page]), token)

    def _candidate_value(self, found: Candidates, i: int, entity: str, key: str) -> Any:
        """Search lookup over one candidate run's files (the built run where they do not
        tell, see ``records.files_value``)."""
        files = found.files[i]
        value = records.files_value(found.run_ids[i], files, entity, key)
        if value is not records.NEEDS_RUN:
            return value
        built = found.built.get(i)
        if built is None:
            exp_dir, run_id = found.exp_dirs[i], found.run_ids[i]
            ids = [str(r.get("source_id")) for r in files.inputs]
            datasets = self._datasets(exp_dir, ids) if ids else {}
            built = found.built[i] = run_lookup(self._build_run(exp_dir, run_id, files, datasets))
        return built(entity, key)


# ==========================================================================================
# helpers
# ==========================================================================================
_RUN_ATTRIBUTES = (
    "run_id",
    "run_name",
    "status",
    "user_id",
    "artifact_uri",
    "start_time",
    "end_time",
    "lifecycle_stage",
    "experiment_id",
)


def _widened(
    held: run_index.Verified | None, tokens: str, files: tuple[str, ...], stamp: Stamp
) -> run_index.Verified:
    """What the feed vouches for once ``files`` of a run are verified under ``stamp``, where
    it still vouched for other files of the same summary (``held``): all of them, under one
    stamp of both stamps' watches from the older one's serial (so searches that need
    different files do not take turns replacing each other's record)."""
    if held is None or held[2][0] != stamp[0]:
        return (tokens, files, stamp)
    old = held[2]
    merged: Stamp = (stamp[0], min(old[1], stamp[1]), tuple(sorted({*old[2], *stamp[2]})))
    return (tokens, tuple(sorted({*(held[1] or ()), *files})), merged)


def run_lookup(run: Run) -> Any:
    """Search lookup ``(entity, key) -> value`` over one run."""

    def lookup(entity: str, key: str) -> Any:
        if entity == "metric":
            return run.data.metrics.get(key)
        if entity == "param":
            return run.data.params.get(key)
        if entity == "tag":
            return run.data.tags.get(key)
        if entity == "dataset":
            return [
                {
                    "name": d.dataset.name,
                    "digest": d.dataset.digest,
                    "context": records.dataset_context(d),
                }
                for d in run.inputs.dataset_inputs
            ]
        if key in _RUN_ATTRIBUTES:
            return getattr(run.info, key)
        return None

    return lookup


def _experiment_lookup(exp: Experiment) -> Any:
    def lookup(entity: str, key: str) -> Any:
        if entity == "tag":
            return exp.tags.get(key)
        return getattr(exp, key, None)

    return lookup


def _check_duplicate_params(params: Sequence[ParamEntity]) -> None:
    seen: dict[str, str] = {}
    for p in params:
        text = "" if p.value is None else str(p.value)
        if p.key in seen and seen[p.key] != text:
            raise InvalidParameterValue(
                f"Duplicate parameter key {p.key!r} in one batch with different values "
                f"{seen[p.key]!r} and {text!r}"
            )
        seen[p.key] = text


def _key_collision(kind: str, key: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Invalid {kind} key {key!r}: it collides with an existing key that is a prefix of it "
        "or that it is a prefix of (keys are stored as file paths, so 'a' and 'a/b' cannot "
        "both exist)"
    )


def _experiment_exists(name: str, existing: Experiment | None) -> ResourceAlreadyExists:
    state = ""
    if existing is not None and existing.lifecycle_stage == LifecycleStage.DELETED:
        state = " in deleted state"
    return ResourceAlreadyExists(f"Experiment '{name}' already exists{state}.")


def _check_artifact_location(location: str) -> None:
    if not isinstance(location, str) or not location.strip():
        raise InvalidParameterValue(f"Invalid artifact location {location!r}")
    if location.startswith("runs:") or location.startswith("models:"):
        raise InvalidParameterValue(
            f"Invalid artifact location {location!r}: cannot be a runs:/ or models:/ URI"
        )


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


__all__ = ["TrackingStore", "run_lookup"]
