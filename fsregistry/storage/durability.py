"""When a local write reaches the disk: the ``FSREG_FSYNC`` setting and the syncs it asks for.

A write that returned is in the page cache: every process sees it, and it survives the
writer being killed. Power loss or a kernel crash can still lose what the kernel had not yet
written out (ext4 writes back after 5-30 s), and can leave a file that was linked into place
before its data reached the disk *empty* (delayed allocation: the name is journaled, the
data is not), which is how MLflow users get empty ``meta.yaml`` files. Three modes:

* ``off``: no fsync. Atomic against crashes of processes, not of the machine.
* ``meta`` (the default): every write of a ``meta.yaml`` file (create-if-absent, replace,
  compare-and-swap, delete) and every change of the directory tree (a directory moved, a
  tree deleted) is on disk when the call returns: a temp file's data is synced before it is
  linked or renamed into place (so a ``meta.yaml`` is never found empty after power loss),
  then the directory that holds it, and each directory made for it, are synced (so the
  name survives). ``meta.yaml`` files are what make an experiment, run, registered model or
  model version exist and what their state is, so created experiments and runs, claimed
  version numbers, lifecycle and stage changes, renames and deletions survive power loss.
  Params, tags, aliases, metrics and artifacts written in the seconds before power loss may
  be missing, or (whole files) empty, as with MLflow's file store.
* ``all``: every write: whole files as above, every append synced (``fdatasync``) before
  it returns, directories made and entries deleted synced in their parent.

Measured cost (``bench/``, "durability" lines): see the README. Lock files (compare-and-swap
locks, directory holds) and temp files are never synced: they protect nothing after a
restart. On Windows directories cannot be opened to sync them (NTFS journals its
directories itself); files are synced with ``fsync`` where ``fdatasync`` is missing. A
filesystem that cannot sync a directory (EINVAL: some FUSE and network filesystems) gives
what it gives; any other error of a sync is the write's error.

The mode is the process setting (:func:`set_fsync_mode`, which ``fsregistry.config`` sets),
else the environment variable ``FSREG_FSYNC``, read at each write; S3 and GCS ignore it
(an acknowledged PUT is durable).
"""

from __future__ import annotations

import errno
import os
from typing import Literal

from fsregistry.exceptions import InvalidParameterValue

FsyncMode = Literal["off", "meta", "all"]
MODES: tuple[FsyncMode, ...] = ("off", "meta", "all")
DEFAULT_MODE: FsyncMode = "meta"
ENV_VAR = "FSREG_FSYNC"
#: The file whose every write is synced in ``meta`` mode.
META_FILE = "meta.yaml"

_mode: FsyncMode | None = None
_OPEN_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_CANNOT_SYNC = {errno.EINVAL, getattr(errno, "ENOTSUP", errno.EINVAL), errno.EOPNOTSUPP}


def check_mode(value: object, source: str = "fsync mode") -> FsyncMode:
    """``value`` as a mode (case and surrounding spaces ignored), else InvalidParameterValue."""
    mode = value.strip().lower() if isinstance(value, str) else value
    if mode not in MODES:
        raise InvalidParameterValue(
            f"Invalid {source} {value!r}: expected one of {', '.join(MODES)}"
        )
    return mode


def set_fsync_mode(mode: str | None) -> None:
    """Set the process's mode; None goes back to ``FSREG_FSYNC`` (default ``meta``)."""
    global _mode
    _mode = None if mode is None else check_mode(mode)


def fsync_setting() -> FsyncMode | None:
    """The process setting alone (None: unset, ``FSREG_FSYNC`` applies)."""
    return _mode


def fsync_mode() -> FsyncMode:
    """The mode local writes use now: the process setting, else ``FSREG_FSYNC``, else meta."""
    if _mode is not None:
        return _mode
    value = os.environ.get(ENV_VAR, "")
    return check_mode(value, ENV_VAR) if value.strip() else DEFAULT_MODE


def syncs_file(path: str, mode: FsyncMode) -> bool:
    """Whether a whole-file write (or delete) of ``path`` is synced in ``mode``."""
    if mode == "all":
        return True
    return mode == "meta" and os.path.basename(path) == META_FILE


def sync_file(fd: int) -> None:
    """Put a file's data (and its size) on disk."""
    if hasattr(os, "fdatasync"):
        os.fdatasync(fd)
    else:  # macOS, Windows
        os.fsync(fd)


def sync_path(path: str) -> None:
    """Put the data of the file at ``path`` on disk (a file written by another API)."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        sync_file(fd)
    finally:
        os.close(fd)


def sync_dirs(directories: list[str]) -> None:
    """Put these directories' entries on disk, in this order (innermost first, so a crash in
    between never leaves an entry reachable whose contents are not synced yet)."""
    if os.name == "nt":
        return  # directories cannot be opened; NTFS journals them
    done: set[str] = set()
    for directory in directories:
        if directory in done:
            continue
        done.add(directory)
        fd = os.open(directory, _OPEN_DIR)
        try:
            os.fsync(fd)
        except OSError as e:
            if e.errno not in _CANNOT_SYNC:
                raise
        finally:
            os.close(fd)


def dirs_to_sync(target: str, made: list[str]) -> list[str]:
    """The directories to sync after ``target`` appeared: its own, then the parent of each
    directory made for it (``made`` is outermost first), innermost first."""
    return [os.path.dirname(target), *(os.path.dirname(d) for d in reversed(made))]


__all__ = [
    "DEFAULT_MODE",
    "ENV_VAR",
    "MODES",
    "FsyncMode",
    "check_mode",
    "dirs_to_sync",
    "fsync_mode",
    "fsync_setting",
    "set_fsync_mode",
    "sync_dirs",
    "sync_file",
    "sync_path",
    "syncs_file",
]
