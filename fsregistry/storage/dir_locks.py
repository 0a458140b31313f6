"""Holding a local directory at its name: reader-writer locks that live inside the directory,
so that a caller working under ``<dir>/...`` by path keeps reaching the same directory.

Why: on local disk a directory can be moved (``rename(2)``) or deleted while another process
writes files under it by path. Every step of that writer resolves the path again, so a step
made after the move lands nowhere (a raw ``FileNotFoundError``), recreates the old path (a
directory without the files it should have), or changes the moved directory under its new
name: one call's effects end up split. Object stores have no such move, so there
:meth:`fsregistry.storage.base.Storage.hold_dir` holds nothing.

The protocol (:func:`hold_dir`):

* **Modes.** A caller working under a directory holds it *shared*; a caller moving or
  deleting it holds it *exclusive*. A directory held shared is not moved or deleted by
  anyone following this protocol, so while it is held its path names it.
* **The lock is in the directory**: ``flock(2)`` on ``<dir>/.fsreg-dir#fsreg-lock``, which
  moves with the directory and goes with it when it is deleted (no file is left behind
  under an old name). Taking it: open the file by path, lock it, then check that the path
  still names the locked file (same device and inode). If not, the directory was moved or
  replaced in between: let go and start again. So a caller holds the directory that is at
  the path at the moment the check passes, and keeps it there until it lets go.
* **Absent**: when the directory (or the file ``require`` in it, e.g. ``meta.yaml``) does not
  exist, nothing is created and nothing held; :func:`hold_dir` reports it (False) and the
  caller treats the path as naming nothing for the whole call, even if something appears
  there meanwhile (that is when the call took effect). A lock file is created only in a
  directory that has ``require``, the first time it is held.
* **Fairness.** ``flock`` grants a shared lock while other shared locks are held, even to a
  newcomer when an exclusive request waits, so a stream of overlapping writers could starve
  a rename, and a rename let go and taken again at once could starve the writers. Each
  directory therefore also has a gate, ``<dir>/.fsreg-dir-gate#fsreg-lock``, a place in
  line every caller takes exclusive and holds only until it has the lock itself: a mover
  holding the gate keeps newcomers out while those inside finish; a caller holding the gate
  while a mover works gets in as soon as the mover is done, before the next mover reaches
  the gate. (The gate orders; only the lock and its check exclude.)
* **Waiting** polls (``LOCK_NB``) for up to :data:`LOCK_TIMEOUT_S`, then raises
  :class:`~fsregistry.exceptions.ConcurrentUpdateError`, having changed nothing. A process
  that dies releases its locks (the kernel drops them with its descriptors).
* **Descriptors, not processes**: ``flock`` locks belong to an open file description, so two
  threads of one process exclude each other as two processes do. A thread asking again for
  a directory it holds goes on at once (asking exclusive while it holds it only shared is a
  programming error: it would wait for itself).
* Without ``fcntl`` (Windows) both modes are the same exclusive ``filelock``, with no gate.

Both files are hidden from listings like every ``#fsreg-lock`` file; MLflow reads only the
files and directories it knows in a registered model's directory.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from fsregistry.exceptions import ConcurrentUpdateError
from fsregistry.storage.local_files import lock_name

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

#: The lock and the gate, inside the directory they hold.
LOCK_FILE = lock_name("fsreg-dir")  # .fsreg-dir#fsreg-lock
GATE_FILE = lock_name("fsreg-dir-gate")
#: How long a caller waits for a directory before giving up.
LOCK_TIMEOUT_S = 60.0
_FIRST_WAIT_S = 0.0005
_MAX_WAIT_S = 0.002
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
# Read-only descriptors: flock needs no write access, and closing one is no inotify write.
_OPEN = os.O_RDONLY | _CLOEXEC
_OPEN_OR_CREATE = _OPEN | os.O_CREAT
_GONE = (FileNotFoundError, NotADirectoryError)

_held = threading.local()  # (device, inode) of a lock file -> [count, exclusive]


def _forget_holdings() -> None:
    """A forked child holds nothing itself: its descriptors' locks are its parent's."""
    global _held
    _held = threading.local()


if hasattr(os, "register_at_fork"):  # not on Windows
    os.register_at_fork(after_in_child=_forget_holdings)


def is_dir_lock_file(name: str) -> bool:
    """Whether a file name is one of the directory-lock files (kept as long as the directory)."""
    return name in (LOCK_FILE, GATE_FILE)


def _holdings() -> dict[tuple[int, int], list[Any]]:
    found: dict[tuple[int, int], list[Any]] | None = getattr(_held, "files", None)
    if found is None:
        found = _held.files = {}
    return found


@contextlib.contextmanager
def hold_dir(directory: str, exclusive: bool, require: str | None, what: str) -> Iterator[bool]:
    """Hold the local ``directory`` in one mode; yields False (holding nothing) if it, or
    its file ``require``, does not exist. ``what`` names it in the error raised after
    :data:`LOCK_TIMEOUT_S`."""
    lock_path = os.path.join(directory, LOCK_FILE)
    deadline = time.monotonic() + LOCK_TIMEOUT_S
    handle = _acquire(directory, lock_path, exclusive, require, deadline, what)
    if handle is None:
        yield False
        return
    held = _holdings()
    key = handle[1]
    mine = held.get(key)
    if mine is not None:
        _release(handle[0])  # already ours in this thread: the first hold is the one
        if exclusive and not mine[1]:
            raise RuntimeError(f"{directory} is held shared by this thread; not upgrading")
        mine[0] += 1
        try:
            yield True
        finally:
            mine[0] -= 1
        return
    held[key] = [1, exclusive]
    try:
        yield True
    finally:
        del held[key]
        _release(handle[0])


def _open_lock(path: str, directory: str, require: str | None) -> int | None:
    """A descriptor of the lock file, created if the directory is there (with ``require``);
    None if it is not."""
    try:
        return os.open(path, _OPEN)
    except _GONE:
        pass
    if require is not None and not os.path.exists(os.path.join(directory, require)):
        return None
    try:
        return os.open(path, _OPEN_OR_CREATE, 0o666)
    except _GONE:
        return None


def _acquire(
    directory: str,
    lock_path: str,
    exclusive: bool,
    require: str | None,
    deadline: float,
    what: str,
) -> tuple[Any, tuple[int, int]] | None:
    """The held lock (what to release, and its file's identity), or None if absent."""
    while True:
        fd = _open_lock(lock_path, directory, require)
        if fd is None:
            return None
        try:
            st = os.fstat(fd)
            key = (st.st_dev, st.st_ino)
            if key in _holdings():
                return fd, key  # re-entered: hold_dir lets it go at once
            if fcntl is None:
                os.close(fd)
                return _acquire_filelock(lock_path, deadline, what), key
            with _through_gate(directory, deadline, what):
                _flock(fd, exclusive, deadline, what)
            try:
                now = os.stat(lock_path)
                same = (now.st_dev, now.st_ino) == key
            except _GONE:
                same = False
        except BaseException:
            os.close(fd)
            raise
        if same:
            return fd, key
        os.close(fd)  # moved or replaced while we waited: take what is there now


@contextlib.contextmanager
def _through_gate(directory: str, deadline: float, what: str) -> Iterator[None]:
    """Hold the directory's gate (if it still has one to make) while taking the lock."""
    try:
        gate = os.open(os.path.join(directory, GATE_FILE), _OPEN_OR_CREATE, 0o666)
    except _GONE:
        yield  # moved away just now: the check after locking starts over
        return
    try:
        _flock(gate, True, deadline, what)
        yield
    finally:
        os.close(gate)


def _flock(fd: int, exclusive: bool, deadline: float, what: str) -> None:
    assert fcntl is not None
    mode = (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB
    wait = _FIRST_WAIT_S
    while True:
        try:
            fcntl.flock(fd, mode)
            return
        except BlockingIOError:
            if time.monotonic() > deadline:
                raise ConcurrentUpdateError(_gave_up(what)) from None
            time.sleep(wait)
            wait = min(wait * 2, _MAX_WAIT_S)


def _acquire_filelock(path: str, deadline: float, what: str) -> Any:
    from filelock import FileLock, Timeout

    lock = FileLock(path, timeout=max(0.0, deadline - time.monotonic()))
    try:
        lock.acquire()
    except Timeout:
        raise ConcurrentUpdateError(_gave_up(what)) from None
    return lock


def _gave_up(what: str) -> str:
    return (
        f"Gave up waiting {LOCK_TIMEOUT_S:.0f} s for {what}: other callers kept it busy "
        "(a long write, or a rename or delete); nothing was changed"
    )


def _release(handle: Any) -> None:
    if isinstance(handle, int):
        os.close(handle)
    else:
        handle.release()


__all__ = ["GATE_FILE", "LOCK_FILE", "LOCK_TIMEOUT_S", "hold_dir", "is_dir_lock_file"]
