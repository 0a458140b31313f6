"""``fsreg gc``: permanently remove deleted runs and experiments, as ``mlflow gc`` does for
MLflow's file store.

What goes (MLflow's rules):

- runs whose ``meta.yaml`` says ``lifecycle_stage: deleted``, with their artifacts; with
  ``older_than``, only those whose ``deleted_time`` is at least that old;
- deleted experiments (MLflow moves them to ``.trash/<id>``), with every run, logged model,
  dataset and tag in them; with ``older_than``, only those whose ``last_update_time`` (the
  deletion time, for MLflow and fsregistry alike) is older than that.

Given ids, only those go, and every id must name something deleted (and old enough): one
that does not fails the whole call before anything is removed (MLflow checks the same things,
but one item at a time while deleting; unlike MLflow, ``run_ids`` alone do not also sweep all
deleted experiments, nor ``experiment_ids`` alone all deleted runs).

Safety beyond MLflow's:

- nothing that backs a live registered model version is removed (a version whose
  ``source``/``storage_location`` lies in the run or experiment); a sweep keeps such items
  and says why, given ids fail;
- an experiment that holds an active run (restored by id after the experiment was deleted)
  is kept the same way, and so is one caught mid delete or restore (in both ``<id>/`` and
  ``.trash/<id>/``, or its ``lifecycle_stage`` disagreeing with where it lies), with its runs;
- artifacts stored apart from the run (``artifact_uri`` elsewhere in the store or in another
  store) are removed only where the location is specific to the run
  (``.../<run_id>/artifacts``) and is not another store's run directory (a copied tree's
  URIs still name the original); otherwise they are kept and listed;
- a location outside the store is removed only when asked (``outside_artifacts``,
  ``fsreg gc --delete-outside-artifacts``): anyone who can write one ``meta.yaml`` of a shared
  store could otherwise point an administrator's gc at any directory; the plan (and
  ``--dry-run``) lists each such location as kept, with the option that removes it;
- on local disk nothing is deleted through a symbolic link: a run or experiment directory
  that is a link, or holds one to a directory, is left alone and reported.

Interrupted, gc leaves a deleted run or experiment with fewer files, never something that
looks active: every directory is emptied first and its ``meta.yaml`` (which says "deleted")
goes last, so running gc again finishes the job.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fsregistry.entities.registry import STAGE_DELETED_INTERNAL
from fsregistry.exceptions import (
    FsRegistryException,
    InvalidParameterValue,
    InvalidState,
    ResourceDoesNotExist,
)
from fsregistry.maintenance import local_disk
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import MalformedMetaFile, load_meta, now_ms
from fsregistry.mlruns.validation import validate_experiment_id, validate_run_id
from fsregistry.storage import Storage, is_store_url, open_storage
from fsregistry.storage import local_path_of as _local_path_of
from fsregistry.storage.local import LocalStorage
from fsregistry.tracking.logged_models import relocate_file_uri
from fsregistry.tracking.run_index import shard_name

DELETED = "deleted"

# MLflow's ``--older-than`` grammar: #d#h#m#s, each part optional, decimals allowed.
_DURATION = re.compile(
    r"^(?:(?P<days>[\d.]+)d)?(?:(?P<hours>[\d.]+)h)?(?:(?P<minutes>[\d.]+)m)?"
    r"(?:(?P<seconds>[\d.]+)s)?$"
)


def parse_duration(text: str, option: str = "--older-than") -> int:
    """``"1d2h3m4s"`` (MLflow's format; ``1.5d`` too) -> milliseconds."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    parts = {k: v for k, v in match.groupdict().items() if v} if match else {}
    try:
        if not parts:
            raise ValueError(text)
        return int(timedelta(**{k: float(v) for k, v in parts.items()}).total_seconds() * 1000)
    except (ValueError, OverflowError):
        raise InvalidParameterValue(
            f"Invalid {option} {text!r}: expected a duration like 30d, 12h, 1d2h3m4s "
            "(days, hours, minutes, seconds; decimals allowed)"
        ) from None


@dataclass(frozen=True)
class GcRun:
    run_id: str
    experiment_id: str
    run_name: str | None
    path: str  # store-relative run directory
    deleted_time: int | None
    artifact_uri: str
    separate_artifacts: str | None = None  # removed too: artifacts stored apart from the run

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "experiment_id": self.experiment_id,
            "run_name": self.run_name,
            "path": self.path,
            "deleted_time": self.deleted_time,
            "artifact_uri": self.artifact_uri,
            "separate_artifacts": self.separate_artifacts,
        }


@dataclass(frozen=True)
class GcExperiment:
    experiment_id: str
    name: str | None
    path: str
    last_update_time: int | None
    runs: tuple[GcRun, ...]
    separate_artifacts: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment_id": self.experiment_id,
            "name": self.name,
            "path": self.path,
            "last_update_time": self.last_update_time,
            "run_ids": [r.run_id for r in self.runs],
            "separate_artifacts": self.separate_artifacts,
        }


@dataclass(frozen=True)
class Kept:
    """Something gc leaves alone (``kind``: run, experiment or artifacts) and why."""

    kind: str
    id: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "reason": self.reason}


@dataclass
class GcPlan:
    """What :func:`execute_gc` will remove: runs outside the experiments that go, and
    experiments (with all their runs)."""

    runs: list[GcRun] = field(default_factory=list)
    experiments: list[GcExperiment] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)

    def all_runs(self) -> list[GcRun]:
        return self.runs + [r for e in self.experiments for r in e.runs]


@dataclass
class GcResult:
    runs: list[GcRun] = field(default_factory=list)
    experiments: list[GcExperiment] = field(default_factory=list)
    errors: list[Kept] = field(default_factory=list)


# ==========================================================================================
# reading the store
# ==========================================================================================
@dataclass
class _Exp:
    exp_id: str
    path: str
    meta: dict[str, Any]
    duplicated: bool = False

    @property
    def deleted(self) -> bool:
        return self.meta.get("lifecycle_stage") == DELETED

    def unsettled(self) -> str | None:
        """Why the experiment is caught mid delete or restore, if it is: then neither it nor
        its runs are removed (a restore may have been what the user asked for)."""
        if self.duplicated:
            return (
                f"experiment {self.exp_id} exists both in {self.exp_id}/ and in "
                f".trash/{self.exp_id}/ (an interrupted delete or restore; see fsreg doctor)"
            )
        if self.deleted != self.path.startswith(f"{layout.TRASH}/"):
            return (
                f"experiment {self.exp_id} is {'deleted' if self.deleted else 'active'} but "
                f"lies {'outside' if self.deleted else 'inside'} .trash/ (an interrupted "
                "delete or restore; see fsreg doctor)"
            )
        return None


@dataclass
class _Run:
    run_id: str
    exp: _Exp
    meta: dict[str, Any]

    @property
    def path(self) -> str:
        return layout.run_dir(self.exp.path, self.run_id)

    @property
    def deleted(self) -> bool:
        return self.meta.get("lifecycle_stage") == DELETED


def _parse(raw: bytes | None, where: str) -> dict[str, Any] | None:
    if raw is None:
        return None
    try:
        return load_meta(raw, where)
    except MalformedMetaFile:
        return None  # doctor reports it; gc only removes what it can read


def _read_experiments(storage: Storage) -> dict[str, _Exp]:
    """Experiments by directory (active and in .trash) whose meta.yaml reads."""
    dirs, _ = storage.list_dir("")
    exp_dirs = [d for d in dirs if d not in layout.RESERVED_ROOT_FOLDERS]
    trash, _ = storage.list_dir(layout.TRASH)
    exp_dirs += [layout.experiment_dir(d, deleted=True) for d in trash]
    metas = storage.read_many(layout.experiment_meta(d) for d in exp_dirs)
    out: dict[str, _Exp] = {}
    for exp_dir in exp_dirs:
        path = layout.experiment_meta(exp_dir)
        meta = _parse(metas.get(path), path)
        exp_id = exp_dir.rsplit("/", 1)[-1]
        if meta is not None and str(meta.get("experiment_id")) == exp_id:
            out[exp_dir] = _Exp(exp_id, exp_dir, meta)
    for exp in out.values():
        other = layout.experiment_dir(exp.exp_id, deleted=not exp.path.startswith(layout.TRASH))
        exp.duplicated = other in out
    return out


def _read_runs(storage: Storage, experiments: Iterable[_Exp]) -> list[_Run]:
    wanted: dict[str, tuple[_Exp, str]] = {}
    for exp in experiments:
        dirs, _ = storage.list_dir(exp.path)
        for run_id in dirs:
            if run_id not in layout.RESERVED_EXPERIMENT_FOLDERS:
                wanted[layout.run_meta(exp.path, run_id)] = (exp, run_id)
    metas = storage.read_many(wanted)
    runs: list[_Run] = []
    for path, (exp, run_id) in wanted.items():
        meta = _parse(metas.get(path), path)
        if meta is not None and str(meta.get("run_id") or meta.get("run_uuid")) == run_id:
            runs.append(_Run(run_id, exp, meta))
    return runs


def _live_version_locations(registries: Sequence[Storage]) -> list[tuple[str, str]]:
    """``(label, location)`` of every live model version in the given registry stores."""

    def prune(rel: str) -> bool:
        parts = rel.split("/")
        return len(parts) > 2 or (
            len(parts) == 2 and layout.parse_version_dir_name(parts[1]) is None
        )

    out: list[tuple[str, str]] = []
    for registry in registries:
        paths = [
            f"{layout.MODELS}/{f.path}"
            for f in registry.walk(layout.MODELS, prune=prune, sizes=False)
            if f.path.count("/") == 2 and f.path.endswith(f"/{layout.META}")
        ]
        for path, raw in registry.read_many(paths).items():
            meta = _parse(raw, path)
            if meta is None or meta.get("current_stage") == STAGE_DELETED_INTERNAL:
                continue
            _, name, version_dir = path.split("/")[:3]
            label = f"registered model {name!r} {version_dir.replace('-', ' ')}"
            for key in ("storage_location", "source"):
                value = meta.get(key)
                if isinstance(value, str) and value:
                    out.append((label, value.rstrip("/")))
                    out.append((label, relocate_file_uri(value, registry).rstrip("/")))
    return out


# ==========================================================================================
# planning
# ==========================================================================================
def plan_gc(
    storage: Storage,
    older_than_ms: int | None = None,
    run_ids: Sequence[str] | None = None,
    experiment_ids: Sequence[str] | None = None,
    registries: Sequence[Storage] | None = None,
    now: int | None = None,
    outside_artifacts: bool = False,
) -> GcPlan:
    """Decide what to remove; raises (having removed nothing) if a given id cannot go.

    ``registries``: registry stores whose live versions protect their files (default: the
    registry inside ``storage`` itself). ``outside_artifacts``: also remove artifact
    locations outside the store (MLflow's gc always does).
    """
    run_ids = [validate_run_id(r) for r in run_ids or []]
    experiment_ids = [validate_experiment_id(e) for e in experiment_ids or []]
    sweep = not run_ids and not experiment_ids
    now = now_ms() if now is None else now
    experiments = _read_experiments(storage)
    runs = _read_runs(storage, experiments.values())
    protected = _live_version_locations([storage] if registries is None else registries)
    planner = _Planner(
        storage, older_than_ms, now, protected, explicit=not sweep, outside=outside_artifacts
    )
    plan = GcPlan()

    chosen_exps: list[_Exp] = []
    if sweep:
        chosen_exps = [e for e in experiments.values() if e.deleted and planner.old_enough_exp(e)]
    for exp_id in dict.fromkeys(experiment_ids):
        found = [e for e in experiments.values() if e.exp_id == exp_id]
        if not found:
            raise ResourceDoesNotExist(f"Could not find experiment with ID {exp_id}")
        exp = next((e for e in found if e.path.startswith(layout.TRASH)), found[0])
        if not exp.deleted:
            raise InvalidParameterValue(
                f"Experiment {exp_id} is not in the deleted lifecycle stage; only deleted "
                "experiments can be removed for good"
            )
        if not planner.old_enough_exp(exp):
            raise InvalidParameterValue(
                f"Experiment {exp_id} was not deleted long enough ago for --older-than "
                f"(last_update_time {exp.meta.get('last_update_time')})"
            )
        chosen_exps.append(exp)
    chosen_exp_dirs: set[str] = set()
    for exp in sorted(chosen_exps, key=lambda e: e.path):
        planned = planner.experiment(exp, [r for r in runs if r.exp is exp])
        if planned is not None:
            plan.experiments.append(planned)
            chosen_exp_dirs.add(exp.path)

    chosen_runs: list[_Run] = []
    if sweep:
        chosen_runs = [r for r in runs if r.deleted and planner.old_enough_run(r)]
    for run_id in dict.fromkeys(run_ids):
        run = next((r for r in runs if r.run_id == run_id), None)
        if run is None:
            raise ResourceDoesNotExist(f"Run with id={run_id} not found")
        if not run.deleted:
            raise InvalidParameterValue(
                f"Run {run_id} is not in the deleted lifecycle stage; only deleted runs can be "
                "removed for good"
            )
        if not planner.old_enough_run(run):
            raise InvalidParameterValue(
                f"Run {run_id} was not deleted long enough ago for --older-than "
                f"(deleted_time {run.meta.get('deleted_time')})"
            )
        chosen_runs.append(run)
    for run in sorted(chosen_runs, key=lambda r: r.path):
        if run.exp.path in chosen_exp_dirs:
            continue  # goes with its experiment
        planned_run = planner.run(run)
        if planned_run is not None:
            plan.runs.append(planned_run)
    plan.kept = planner.kept
    return plan


class _Planner:
    def __init__(
        self,
        storage: Storage,
        older_than_ms: int | None,
        now: int,
        protected: list[tuple[str, str]],
        explicit: bool,
        outside: bool,
    ) -> None:
        self.storage = storage
        self.outside = outside
        self.older_than_ms = older_than_ms
        self.now = now
        self.protected = protected
        self.explicit = explicit
        self.kept: list[Kept] = []

    def old_enough_run(self, run: _Run) -> bool:
        if self.older_than_ms is None:
            return True
        deleted_time = run.meta.get("deleted_time")
        return isinstance(deleted_time, int) and self.now - deleted_time >= self.older_than_ms

    def old_enough_exp(self, exp: _Exp) -> bool:
        if self.older_than_ms is None:
            return True
        stamp = exp.meta.get("last_update_time")
        return isinstance(stamp, int) and stamp < self.now - self.older_than_ms

    def _refuse(self, kind: str, item_id: str, reason: str) -> None:
        """An item that cannot go: an error when asked for by id, else kept and listed."""
        if self.explicit:
            raise InvalidState(f"Cannot remove {kind} {item_id}: {reason}")
        self.kept.append(Kept(kind, item_id, reason))

    def _owner_uris(self, exp_id: str, sub: str = "") -> list[str]:
        """URIs of an item in both of its possible places (recorded URIs name the active one)."""
        dirs = (layout.experiment_dir(exp_id, deleted) for deleted in (False, True))
        return [self.storage.uri(f"{d}/{sub}" if sub else d) for d in dirs]

    def _backing(self, prefixes: Iterable[str], run_ids: Iterable[str]) -> str | None:
        """The live model version whose files lie under one of ``prefixes``, if any."""
        heads = [p.rstrip("/") for p in prefixes if p]
        ids = set(run_ids)
        for label, location in self.protected:
            if any(location == h or location.startswith(h + "/") for h in heads):
                return label
            if location.startswith("runs:/") and location[6:].split("/", 1)[0] in ids:
                return label
        return None

    def run(self, run: _Run) -> GcRun | None:
        unsettled = run.exp.unsettled()
        if unsettled is not None:
            self._refuse("run", run.run_id, unsettled)
            return None
        owned = self._owner_uris(run.exp.exp_id, run.run_id)
        artifact_uri = str(run.meta.get("artifact_uri") or "")
        backing = self._backing([*owned, artifact_uri], [run.run_id])
        if backing is not None:
            self._refuse("run", run.run_id, f"its files back {backing}")
            return None
        return self._gc_run(run, owned)

    def _gc_run(self, run: _Run, owned: list[str]) -> GcRun:
        artifact_uri = str(run.meta.get("artifact_uri") or "")
        separate = self._separate_location(
            artifact_uri, owned, f"/{run.run_id}/artifacts", "run", run.run_id
        )
        deleted_time = run.meta.get("deleted_time")
        return GcRun(
            run_id=run.run_id,
            experiment_id=run.exp.exp_id,
            run_name=run.meta.get("run_name"),
            path=run.path,
            deleted_time=deleted_time if isinstance(deleted_time, int) else None,
            artifact_uri=artifact_uri,
            separate_artifacts=separate,
        )

    def experiment(self, exp: _Exp, runs: list[_Run]) -> GcExperiment | None:
        unsettled = exp.unsettled()
        if unsettled is not None:
            self._refuse("experiment", exp.exp_id, unsettled)
            return None
        active = [r.run_id for r in runs if not r.deleted]
        if active:
            self._refuse("experiment", exp.exp_id, f"it holds active run(s) {', '.join(active)}")
            return None
        owned = self._owner_uris(exp.exp_id)
        location = str(exp.meta.get("artifact_location") or "")
        run_locations = [str(r.meta.get("artifact_uri") or "") for r in runs]
        backing = self._backing([*owned, location, *run_locations], [r.run_id for r in runs])
        if backing is not None:
            self._refuse("experiment", exp.exp_id, f"its files back {backing}")
            return None
        gc_runs = tuple(
            self._gc_run(r, [*owned, *self._owner_uris(exp.exp_id, r.run_id)])
            for r in sorted(runs, key=lambda r: r.run_id)
        )
        stamp = exp.meta.get("last_update_time")
        return GcExperiment(
            experiment_id=exp.exp_id,
            name=exp.meta.get("name"),
            path=exp.path,
            last_update_time=stamp if isinstance(stamp, int) else None,
            runs=gc_runs,
            separate_artifacts=self._separate_location(
                location, owned, f"/{exp.exp_id}", "experiment", exp.exp_id
            ),
        )

    def _separate_location(
        self, uri: str, owned: Sequence[str], suffix: str, what: str, item_id: str
    ) -> str | None:
        """The location of an item's artifacts when it is outside the directories that go
        anyway and safe to remove with them; None otherwise (kept and listed if it exists)."""
        uri = uri.rstrip("/")
        if not uri or any(uri == o or uri.startswith(o + "/") for o in owned):
            return None
        if not is_store_url(uri) or uri.split(":", 1)[0] in ("runs", "models"):
            self.kept.append(Kept("artifacts", uri, f"not a store location ({what} {item_id})"))
            return None
        local = _local_path_of(uri)
        if local is not None and not os.path.exists(local):
            return None  # nothing there (a copied tree names where it was written)
        root = self.storage.root_uri
        if not uri.endswith(suffix) or root == uri or root.startswith(uri + "/"):
            self.kept.append(
                Kept("artifacts", uri, f"not specific to {what} {item_id}, so not removed")
            )
            return None
        owner_dir = uri[: -len("/artifacts")] if what == "run" else uri
        if open_storage(owner_dir).exists(layout.META):
            self.kept.append(
                Kept(
                    "artifacts",
                    uri,
                    f"belongs to another store's {what} directory (a copied tree?), not removed",
                )
            )
            return None
        if not self.outside and not self._in_store(uri):
            self.kept.append(
                Kept(
                    "artifacts",
                    uri,
                    f"outside the store ({what} {item_id}); removed only with "
                    "--delete-outside-artifacts",
                )
            )
            return None
        return uri

    def _in_store(self, uri: str) -> bool:
        root = self.storage.root_uri.rstrip("/")
        location = open_storage(uri).root_uri.rstrip("/")
        return location == root or location.startswith(root + "/")


# ==========================================================================================
# removing
# ==========================================================================================
def execute_gc(storage: Storage, plan: GcPlan) -> GcResult:
    """Remove what ``plan`` lists. Each item is checked again (still deleted) just before it
    goes; one that fails is reported in ``errors`` and the others still go."""
    result = GcResult()
    for run in plan.runs:
        try:
            _remove_run(storage, run)
            result.runs.append(run)
        except (FsRegistryException, OSError) as e:
            result.errors.append(Kept("run", run.run_id, f"{type(e).__name__}: {e}"))
    for exp in plan.experiments:
        try:
            _check_still_deleted(storage, layout.experiment_meta(exp.path), "Experiment", exp)
            _refuse_links(storage, exp.path)
            for run in exp.runs:
                _remove_run(storage, run)
                result.runs.append(run)
            if exp.separate_artifacts:
                open_storage(exp.separate_artifacts).delete_tree("")
            _remove_dir_meta_last(storage, exp.path)
            result.experiments.append(exp)
        except (FsRegistryException, OSError) as e:
            result.errors.append(Kept("experiment", exp.experiment_id, f"{type(e).__name__}: {e}"))
    return result


def _check_still_deleted(storage: Storage, meta_path: str, what: str, item: Any) -> bool:
    """False if the item is gone already; raises if it is no longer deleted."""
    try:
        raw = storage.read(meta_path)
    except FileNotFoundError:
        return False
    meta = load_meta(raw, storage.uri(meta_path))
    if meta.get("lifecycle_stage") != DELETED:
        item_id = getattr(item, "run_id", None) or getattr(item, "experiment_id", "")
        raise InvalidState(f"{what} {item_id} was restored meanwhile; left alone")
    return True


def _remove_run(storage: Storage, run: GcRun) -> None:
    still_there = _check_still_deleted(storage, f"{run.path}/{layout.META}", "Run", run)
    _refuse_links(storage, run.path)
    if still_there and run.separate_artifacts:
        open_storage(run.separate_artifacts).delete_tree("")
    _remove_dir_meta_last(storage, run.path)
    # The run's summary shard is a cache: dropping it beats leaving a stale entry behind.
    shard = f"{run.path.rpartition('/')[0]}/{shard_name(run.run_id)}"
    storage.delete(shard)
    if isinstance(storage, LocalStorage):
        local_disk.remove_orphan_lock(storage.root, local_disk.lock_path(shard))


def _refuse_links(storage: Storage, directory: str) -> tuple[list[str], list[str]]:
    """``storage.list_dir(directory)``, after checking (local disk) that neither the directory,
    nor a directory on its way or in it, is a symbolic link; raises before anything goes."""
    dirs, files = storage.list_dir(directory)
    if isinstance(storage, LocalStorage):
        for path in (directory, *(f"{directory}/{d}" for d in dirs)):
            storage.check_no_links(path)
    return dirs, files


def _remove_dir_meta_last(storage: Storage, directory: str) -> None:
    """Everything under ``directory``, its meta.yaml last: interrupted, the item still reads
    as deleted rather than as a directory of stray files. On local disk nothing goes if the
    directory, or a directory in it, is a symbolic link: gc never deletes through a link."""
    dirs, files = _refuse_links(storage, directory)
    for d in dirs:
        storage.delete_tree(f"{directory}/{d}")
    for f in files:
        if f != layout.META:
            storage.delete(f"{directory}/{f}")
    storage.delete(f"{directory}/{layout.META}")
    storage.delete_tree(directory)  # local disk: the directory itself and any lock file


__all__ = [
    "GcExperiment",
    "GcPlan",
    "GcResult",
    "GcRun",
    "Kept",
    "execute_gc",
    "parse_duration",
    "plan_gc",
]
