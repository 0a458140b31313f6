"""How ``fsreg gc`` removes what its plan lists (:mod:`fsregistry.maintenance.gc`).

* Each item is checked again just before it goes: still deleted (restored meanwhile: left
  alone and reported), or gone already (nothing to do).
* Every directory is emptied first and its ``meta.yaml`` (which says "deleted") goes last,
  so an interrupted gc leaves a deleted item with fewer files, never something that looks
  active, and running gc again finishes the job.
* On local disk nothing is deleted through a symbolic link: a run or experiment directory
  that is a link, or holds one to a directory, is refused before anything of it goes.
* One item that fails is reported in the result's ``errors``; the others still go.
"""

from __future__ import annotations

from typing import Any

from fsregistry.exceptions import FsRegistryException, InvalidState
from fsregistry.maintenance import local_disk
from fsregistry.maintenance.gc_plan import DELETED, GcPlan, GcResult, GcRun, Kept
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import load_meta
from fsregistry.storage import Storage, open_storage
from fsregistry.storage.local import LocalStorage
from fsregistry.tracking import trust
from fsregistry.tracking.run_index import shard_name


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
    exp_dir = run.path.rpartition("/")[0]
    shard = f"{exp_dir}/{shard_name(run.run_id)}"
    storage.delete(shard)
    trust.bump(storage, exp_dir)  # after the run is gone: searches holding a listing relist
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


__all__ = ["execute_gc"]
