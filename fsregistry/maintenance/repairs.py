"""Repairing what ``fsreg doctor`` found (:mod:`fsregistry.maintenance.diagnosis`), for
``fsreg doctor --fix``.

Only fixable findings are touched, and only by the fix of their kind. Time passes between the
scan and the fix, and other writers may be at work, so every fix re-checks its condition first
and does nothing when it no longer holds: a temp file must still be old, a lock file's file
still gone (checked while holding the lock), an empty directory still empty (``rmdir``), an
alias must still hold the bytes the scan saw (``Finding.expect``), a run must still have its
``meta.yaml``, a directory left by an interrupted create must still hold only old temp and
lock files, a rename's copies are removed only while the model they came from or went to is
still the one readers see. A fix that no longer applies is reported as "changed since the
scan"; one that fails reports its error. Nothing that could be user data is deleted: only
fsregistry's own leftovers, caches (run summary shards), dangling aliases and the copies an
interrupted rename left.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace

from fsregistry.exceptions import FsRegistryException
from fsregistry.maintenance import local_disk
from fsregistry.maintenance.diagnosis import DEFAULT_MIN_AGE_S, Finding, RenameMarkers
from fsregistry.mlruns import layout
from fsregistry.registry.claims import STALE_RENAME_MS
from fsregistry.registry.store import RegistryStore
from fsregistry.storage import Storage
from fsregistry.storage.local import LocalStorage


def repair(
    storage: Storage, findings: Iterable[Finding], min_age_s: float = DEFAULT_MIN_AGE_S
) -> list[Finding]:
    """Apply the fixes of the fixable findings; returns them with ``fixed`` (or
    ``fix_error``) set. Each fix re-checks its finding first and leaves alone what changed."""
    out: list[Finding] = []
    for finding in findings:
        if not finding.fixable:
            out.append(finding)
            continue
        try:
            done = _FIXES[finding.kind](storage, finding, min_age_s)
        except (FsRegistryException, OSError) as e:
            out.append(replace(finding, fix_error=f"{type(e).__name__}: {e}"))
            continue
        error = None if done else "changed since the scan (or in use); left alone"
        out.append(replace(finding, fixed=done, fix_error=error))
    return out


def _local(storage: Storage) -> LocalStorage:
    if not isinstance(storage, LocalStorage):
        raise FsRegistryException(f"{storage.root_uri} is not on local disk")
    return storage


def _local_root(storage: Storage) -> str:
    return _local(storage).root


def _fix_temp_file(storage: Storage, finding: Finding, min_age_s: float) -> bool:
    return local_disk.remove_stale_file(_local_root(storage), finding.path, min_age_s)


def _fix_orphan_lock(storage: Storage, finding: Finding, min_age_s: float) -> bool:
    return local_disk.remove_orphan_lock(_local_root(storage), finding.path)


def _fix_legacy_file(storage: Storage, finding: Finding, min_age_s: float) -> bool:
    return local_disk.remove_legacy_file(_local_root(storage), finding.path, min_age_s)


def _fix_empty_directory(storage: Storage, finding: Finding, min_age_s: float) -> bool:
    return local_disk.remove_empty_tree(_local_root(storage), finding.path)


def _fix_interrupted_create(storage: Storage, finding: Finding, min_age_s: float) -> bool:
    local = _local(storage)
    local.check_no_links(finding.path)  # never delete through a symbolic link
    return local_disk.remove_interrupted_create(local.root, finding.path, min_age_s)


def _fix_delete_cache(storage: Storage, finding: Finding, min_age_s: float) -> bool:
    storage.delete(finding.path)
    return True


def _fix_dangling_alias(storage: Storage, finding: Finding, min_age_s: float) -> bool:
    try:
        current = storage.read(finding.path)
    except FileNotFoundError:
        return True  # already gone
    if current.hex() != finding.expect:
        return False  # re-pointed since the scan: maybe at a good version now
    storage.delete(finding.path)
    return True


def _fix_missing_run_dirs(storage: Storage, finding: Finding, min_age_s: float) -> bool:
    if not storage.exists(f"{finding.path}/{layout.META}"):
        return False
    for sub in finding.expect.split(","):
        storage.make_dirs(f"{finding.path}/{sub}")
    return True


def _fix_unfinished_rename(storage: Storage, finding: Finding, min_age_s: float) -> bool:
    name = finding.path.split("/")[1]
    store = RegistryStore(storage)
    # Any change to the model finishes an interrupted local rename; this one keeps it as is.
    store.update_registered_model(name, store.get_registered_model(name).description)
    return True


def _fix_interrupted_rename(storage: Storage, finding: Finding, min_age_s: float) -> bool:
    name = finding.path.split("/", 1)[1]
    models, _ = storage.list_dir(layout.MODELS)  # visibility depends on other models' markers
    rescan = RenameMarkers(
        storage.read_many(layout.registered_model_meta(m) for m in models), time.time()
    )
    fs = rescan.bookkeeping(name)
    if fs is None:
        return False
    if finding.expect == "target":
        source = str(fs.get("rename_from") or "")
        if fs.get("renamed_to") or not source or rescan.rename_age_s(fs) * 1000 < STALE_RENAME_MS:
            return False
        if rescan.visible(name) or not rescan.visible(source):
            return False
        storage.delete_tree(finding.path)
        return True
    target = str(fs.get("renamed_to") or "")
    if not target or not rescan.visible(target):
        return False
    for info in storage.walk(finding.path):
        if info.path != layout.META:
            storage.delete(f"{finding.path}/{info.path}")
    return True


#: Each fixable kind's fix: (storage, finding, min_age_s) -> whether it was applied.
_FIXES: dict[str, Callable[[Storage, Finding, float], bool]] = {
    "temp_file": _fix_temp_file,
    "orphan_lock": _fix_orphan_lock,
    "legacy_lock_file": _fix_legacy_file,
    "legacy_temp_file": _fix_legacy_file,
    "empty_directory": _fix_empty_directory,
    "interrupted_create": _fix_interrupted_create,
    "corrupt_index": _fix_delete_cache,
    "stale_index": _fix_delete_cache,
    "dangling_alias": _fix_dangling_alias,
    "missing_run_dirs": _fix_missing_run_dirs,
    "unfinished_rename": _fix_unfinished_rename,
    "interrupted_rename": _fix_interrupted_rename,
}

__all__ = ["repair"]
