"""What only local disk has: fsregistry's lock and temp files, and empty directories.

:class:`~fsregistry.storage.local.LocalStorage` hides its bookkeeping files from every
listing, so that they never show up as tags or artifacts; finding the ones an interrupted
writer left behind takes a walk that sees them. Their names, and that walk, are the storage
layer's (:mod:`fsregistry.storage.local`), so what is recognised here is what it writes.
Removing them has to be careful about live writers, which is why each removal below re-checks
its condition at the last moment:

- a temp file (``.<name>.fsreg-tmp-<32 hex>``) is removed only if it has not been modified
  for the given age (a live writer's temp file lives for milliseconds);
- a lock file (``.<name>.fsreg-lock``) is removed only when the file it guards is gone, and
  only while holding the lock itself (filelock, which fsregistry locks with, notices a lock
  file that was unlinked under it and retries); a directory's own lock files
  (``.fsreg-dir.fsreg-lock``, ``.fsreg-dir-gate.fsreg-lock``,
  :mod:`fsregistry.storage.dir_locks`) guard no file and live as long as their directory;
- an empty directory is removed with ``rmdir``, which fails if anything appeared in it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time

from fsregistry.storage.dir_locks import is_dir_lock_file
from fsregistry.storage.local import is_internal_name, lock_name, locked_name, walk_tree


def scan(root: str) -> tuple[set[str], set[str], set[str]]:
    """(files, directories, internal files) below ``root``, as store-relative paths."""
    files: set[str] = set()
    dirs: set[str] = set()
    internal: set[str] = set()
    for child, entry, is_dir in walk_tree(root):
        if is_dir:
            dirs.add(child)
        elif is_internal_name(entry.name):
            internal.add(child)
        else:
            files.add(child)
    return files, dirs, internal


def is_lock_file(path: str) -> bool:
    return locked_name(path.rpartition("/")[2]) is not None


def is_dir_lock(path: str) -> bool:
    """Whether ``path`` is a directory's own lock file, which guards no file and goes only
    with its directory."""
    return is_dir_lock_file(path.rpartition("/")[2])


def lock_path(path: str) -> str:
    """``a/meta.yaml`` -> ``a/.meta.yaml.fsreg-lock``: where the lock guarding a file lives."""
    head, _, name = path.rpartition("/")
    return f"{head}/{lock_name(name)}" if head else lock_name(name)


def lock_target(path: str) -> str:
    """``a/.meta.yaml.fsreg-lock`` -> ``a/meta.yaml``: the file a lock file guards."""
    head, _, name = path.rpartition("/")
    target = locked_name(name)
    if target is None:
        raise ValueError(f"{path!r} is not a lock file")
    return f"{head}/{target}" if head else target


def age_seconds(root: str, path: str, now: float | None = None) -> float | None:
    """Seconds since ``path`` was last modified, or None if it is gone."""
    try:
        mtime = os.stat(_abs(root, path), follow_symlinks=False).st_mtime
    except FileNotFoundError:
        return None
    return (time.time() if now is None else now) - mtime


def remove_stale_file(root: str, path: str, min_age_s: float) -> bool:
    """Remove a temp file if it is still there and still untouched for ``min_age_s``."""
    age = age_seconds(root, path)
    if age is None or age < min_age_s:
        return False
    with contextlib.suppress(FileNotFoundError):
        os.unlink(_abs(root, path))
    return True


def remove_orphan_lock(root: str, path: str) -> bool:
    """Remove a lock file whose guarded file is gone, holding the lock while unlinking."""
    from filelock import FileLock, Timeout

    full = _abs(root, path)
    if not os.path.exists(full) or os.path.exists(_abs(root, lock_target(path))):
        return False
    try:
        with FileLock(full, timeout=0):
            if os.path.exists(_abs(root, lock_target(path))):
                return False
            os.unlink(full)
    except Timeout:
        return False  # someone holds it: not orphaned after all
    return True


def remove_empty_tree(root: str, path: str) -> bool:
    """Remove a directory holding only empty directories; False if anything is in it."""
    full = _abs(root, path)
    for dirpath, _dirnames, _files in sorted(os.walk(full), key=lambda w: -len(w[0])):
        try:
            os.rmdir(dirpath)
        except OSError as e:
            if e.errno in (errno.ENOTEMPTY, errno.EEXIST):
                return False
            if e.errno != errno.ENOENT:
                raise
    return not os.path.exists(full)


def _abs(root: str, path: str) -> str:
    return os.path.join(root, *path.split("/"))
