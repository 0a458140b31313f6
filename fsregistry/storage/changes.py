"""A change feed for directories on a local disk (Linux inotify).

A search checks each run it uses against the run's summary with one ``stat`` per file: tens
of thousands of system calls, the same ones in every search of a process. With a feed, a
process trusts a run it verified until the kernel reports a change in one of the run's
directories, and a repeated search with nothing changed makes no ``stat`` at all.

Why this never serves a stale answer after another process's write has returned: the kernel
queues an inotify event inside the writing system call itself (write, rename, unlink, utime,
mkdir), so once any writer's call returns the event is in our queue, and a reader drains the
queue (:meth:`ChangeFeed.poll`) before trusting anything. A *stamp* is taken before the files
are verified, so a change either happened before the verification (which sees it) or after
the stamp (whose event voids the stamp at the next poll).

Where the kernel does not see every write, there is no feed: network filesystems (another
machine's writes make no event here), FUSE and overlay mounts, every platform but Linux, and
whatever lies behind a symbolic link inside the store (it may lead to such a filesystem).
The kernel cuts the queue when it overflows: then every stamp is void. Moving or deleting any
directory above a watched one (the experiment, the store root, their parents) voids every
stamp too, since the watched directories would no longer be the ones at the store's paths.

Watches are a per-user kernel budget (``fs.inotify.max_user_watches``) that editors and build
tools share: the feed uses at most a quarter of it (``FSREG_CHANGE_FEED=<n>`` sets another
number of watches, ``0`` turns the feed off), and runs beyond that are checked with ``stat``
as before.
"""

from __future__ import annotations

import errno
import itertools
import logging
import os
import struct
import sys
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from fsregistry.exceptions import InvalidParameterValue

_log = logging.getLogger(__name__)

Stamp = tuple[int, int, tuple[int, ...]]
"""What :meth:`ChangeFeed.watch` returns: the inotify instance, its serial number then, and the
watches (an instance's serials and watches mean nothing to another, as after a fork)."""

# <sys/inotify.h>
_IN_MODIFY = 0x2
_IN_ATTRIB = 0x4
_IN_CLOSE_WRITE = 0x8
_IN_MOVED_FROM = 0x40
_IN_MOVED_TO = 0x80
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_IN_DELETE_SELF = 0x400
_IN_MOVE_SELF = 0x800
_IN_UNMOUNT = 0x2000
_IN_Q_OVERFLOW = 0x4000
_IN_IGNORED = 0x8000
_IN_ONLYDIR = 0x01000000
_IN_DONT_FOLLOW = 0x02000000
_IN_MASK_ADD = 0x20000000
# Everything that can change a file's content, its change token or the set of files; never
# opens or reads, which every search makes.
_CONTENT = (
    _IN_MODIFY
    | _IN_ATTRIB
    | _IN_CLOSE_WRITE
    | _IN_MOVED_FROM
    | _IN_MOVED_TO
    | _IN_CREATE
    | _IN_DELETE
    | _IN_DELETE_SELF
    | _IN_MOVE_SELF
)
# For the directories above a watched one, only their own move or deletion matters.
_SELF = _IN_DELETE_SELF | _IN_MOVE_SELF
_VOIDS_ALL = _IN_Q_OVERFLOW | _IN_UNMOUNT
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of name
_READ_SIZE = 64 * 1024
# Filesystems whose every write goes through this kernel (so makes an event here).
LOCAL_FILESYSTEMS = frozenset(
    {"ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "f2fs", "zfs", "bcachefs", "jfs"}
)
MISSING = -1  # what _Inotify.add returns for a directory that is not there
REFUSED = -2  # ... and for one it may not watch (budget, permission, not a directory)
_WATCHES_FILE = "/proc/sys/fs/inotify/max_user_watches"
_DEFAULT_MAX_WATCHES = 8192  # the kernel's default before 5.11


class _Inotify:
    """The process's one inotify instance (the kernel allows a user 128 of them), shared by
    every store: a serial number counts the polls that found events, and each watch records
    the serial of its last event."""

    def __init__(self, fd: int, libc: Any, budget: int) -> None:
        import ctypes

        self.fd = fd
        self.number = next(_numbers)
        self._libc = libc
        self._add_watch = libc.inotify_add_watch
        self._add_watch.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_uint32]
        self._add_watch.restype = ctypes.c_int
        self.default_budget = self.budget = budget
        self.lock = threading.Lock()
        self.serial = 1
        self.floor = 1  # stamps older than this are void (overflow, a moved ancestor)
        self.changed: dict[int, int] = {}  # watch -> serial of its last event
        self.watches: set[int] = set()
        self.kernel_full = False  # the kernel refused a watch: the budget is what we hold
        self.said_spent = False  # the log line saying the budget is spent was written
        # Where watches were added (hashes, to keep it small): once the budget is spent, only
        # these are asked for again (they may hold a watch still; any other path would be a
        # new one, and a collision only costs the two system calls).
        self.paths: set[int] = set()
        self.anchors: set[int] = set()  # watches of directories above the watched ones
        self.anchored: set[bytes] = set()  # their paths, since the last void-all

    def add(self, path: bytes, mask: int, limit: int | None = None) -> int:
        """A watch on the directory ``path`` (its existing watch, if any), or ``MISSING``, or
        ``REFUSED`` (the budget, or ``limit`` watches, spent; no permission to read it...)."""
        cap = self.budget if limit is None else min(self.budget, limit)
        full = len(self.watches) >= cap
        if full and hash(path) not in self.paths:
            return REFUSED  # most likely a new watch: spare the two system calls
        wd: int = self._add_watch(self.fd, path, mask | _IN_ONLYDIR | _IN_MASK_ADD)
        if wd < 0:
            err = _errno()
            if err == errno.ENOENT:
                return MISSING
            # ENOTDIR: not a directory, or a symbolic link (never watched through): REFUSED.
            if err == errno.ENOSPC:  # the user's whole budget is spent, by others too
                self.budget = len(self.watches)
                self.kernel_full = True
            return REFUSED
        if wd not in self.watches:
            if full:  # over our budget: give it back
                self._libc.inotify_rm_watch(self.fd, wd)
                return REFUSED
            self.watches.add(wd)
            self.paths.add(hash(path))
        return wd

    def spent(self) -> None:
        """Say once per process that the budget is spent: searches stay correct, but runs
        beyond it cost a ``stat`` per file they need in every search."""
        if self.said_spent:
            return
        self.said_spent = True
        why = "the kernel refused more" if self.kernel_full else "its budget"
        _log.warning(
            "The change feed holds %d inotify watches (%s: a quarter of "
            "fs.inotify.max_user_watches, or FSREG_CHANGE_FEED); runs beyond them are "
            "checked with stat in every search. Raise fs.inotify.max_user_watches (or "
            "FSREG_CHANGE_FEED) for repeated searches of larger stores to stay cheap.",
            len(self.watches),
            why,
        )

    def poll(self) -> None:
        events: list[tuple[int, int]] = []
        while True:
            try:
                data = os.read(self.fd, _READ_SIZE)
            except BlockingIOError:
                break
            offset, end = 0, len(data)
            while offset < end:
                wd, mask, _, length = _EVENT.unpack_from(data, offset)
                offset += _EVENT.size + length
                events.append((wd, mask))
            if end < _READ_SIZE - 4096:
                break  # the queue is drained: save the read that would say so
        if not events:
            return
        self.serial += 1
        serial = self.serial
        changed, anchors = self.changed, self.anchors
        for wd, mask in events:
            if mask & _VOIDS_ALL or (wd in anchors and mask & (_SELF | _IN_IGNORED)):
                self.floor = serial
                self.anchored.clear()
            changed[wd] = serial
            if mask & _IN_IGNORED:
                self.watches.discard(wd)
                self.anchors.discard(wd)

    def anchor(self, path: bytes, root: bytes) -> bool:
        """Watch ``path`` and every directory above it for their own move or deletion; the
        ones below ``root`` only if they are directories, not symbolic links (see
        :meth:`ChangeFeed.watch`)."""
        while path not in self.anchored:
            inside = len(path) > len(root) and path.startswith(root)
            wd = self.add(path, _SELF | _IN_DONT_FOLLOW if inside else _SELF)
            if wd < 0:
                return False
            self.anchors.add(wd)
            self.anchored.add(path)
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
        return True


class ChangeFeed:
    """Changes under one store root, as the process's inotify instance reports them.

    Use: :meth:`poll` once before trusting anything; :meth:`watch` runs' directories
    *before* verifying their files, keeping the stamp with what was verified; later,
    :meth:`unchanged` says whether that verification still holds.
    """

    def __init__(self, root: str, inotify: _Inotify) -> None:
        self._root = _encode(root.rstrip("/")) + b"/"
        self._inotify = inotify

    def poll(self) -> None:
        """Take in every change the kernel has reported so far."""
        with self._inotify.lock:
            self._inotify.poll()

    def watch(self, dirs: Mapping[str, Sequence[str]], leave: float = 0.0) -> dict[str, Stamp]:
        """Watch each directory ``top`` of ``dirs`` (store-relative) and those of its
        subdirectories ``dirs[top]`` that exist (one whose absence was verified shows up
        later as a creation in its parent). The stamps of the tops watched so; one left out
        is missing, or the budget is spent: verify it with ``stat`` instead. ``leave``: the
        share of the budget to leave to other calls (those that save more per watch).

        A symbolic link inside the root (an experiment or run linked from elsewhere, maybe
        from a network filesystem whose changes make no event here) is never watched
        through: a top under one, or a subdirectory that is one, gets no stamp."""
        ino = self._inotify
        root = self._root
        out: dict[str, Stamp] = {}
        with ino.lock:
            serial, number = ino.serial, ino.number
            limit = int(ino.budget * (1.0 - leave))
            parents: set[bytes] = set()
            for top, subdirs in dirs.items():
                full = root + _encode(top)
                parent = full.rpartition(b"/")[0]
                if parent not in parents:
                    if not ino.anchor(parent, root):
                        continue
                    parents.add(parent)
                wd = ino.add(full, _CONTENT | _IN_DONT_FOLLOW, limit)
                if wd == MISSING:
                    continue
                wds = [wd]
                for name in subdirs:
                    if wd == REFUSED:
                        break
                    wd = ino.add(full + b"/" + _encode(name), _CONTENT | _IN_DONT_FOLLOW, limit)
                    if wd >= 0:
                        wds.append(wd)
                if wd == REFUSED:
                    if len(ino.watches) >= min(limit, ino.budget):
                        break  # the budget is spent: the rest are checked with stat
                    continue
                out[top] = (number, serial, tuple(wds))
            if len(out) < len(dirs) and len(ino.watches) >= min(limit, ino.budget):
                ino.spent()
        return out

    def unchanged(self, stamp: Stamp) -> bool:
        """Whether no change was reported in the stamp's directories since it was taken (as
        of the last :meth:`poll`)."""
        number, serial, wds = stamp
        ino = self._inotify
        if number != ino.number or serial < ino.floor:
            return False
        if serial == ino.serial:
            return True  # no poll has found an event since the stamp was taken
        get = ino.changed.get
        return all(get(wd, 0) <= serial for wd in wds)


_numbers = itertools.count(1)


def _encode(path: str) -> bytes:
    return path.encode("utf-8", "surrogateescape")  # os.fsencode on Linux, without its checks


_state_lock = threading.Lock()
_instance: _Inotify | None = None
_unavailable = False  # no inotify instance to be had
_turned_off = False  # see turn_off


def _errno() -> int:
    import ctypes

    return ctypes.get_errno()


def _setting() -> int | None:
    """``FSREG_CHANGE_FEED``: unset or empty for the default budget (None), ``0`` for no
    feed, or the number of watches the process may hold."""
    raw = os.environ.get("FSREG_CHANGE_FEED", "").strip()
    if not raw:
        return None
    if not raw.isdecimal():
        raise InvalidParameterValue(
            f"Invalid FSREG_CHANGE_FEED={raw!r}: expected 0 (no change feed) or a number of "
            "inotify watches (unset: a quarter of fs.inotify.max_user_watches)"
        )
    return int(raw)


def _default_budget() -> int:
    try:
        with open(_WATCHES_FILE, encoding="ascii") as f:
            limit = int(f.read().strip())
    except (OSError, ValueError):
        limit = _DEFAULT_MAX_WATCHES
    return max(limit // 4, 0)


def change_feed(root: str) -> ChangeFeed | None:
    """The feed for a store root on a local filesystem, or None: not Linux, turned off with
    ``FSREG_CHANGE_FEED=0``, or no inotify instance to be had (the caller checks that the
    root is on one of :data:`LOCAL_FILESYSTEMS`)."""
    global _instance, _unavailable
    budget = _setting()
    if _turned_off or sys.platform != "linux" or budget == 0:
        return None
    with _state_lock:
        if _instance is None and not _unavailable:
            import ctypes  # here: ~3 ms, which a program that never searches does not need

            libc = ctypes.CDLL(None, use_errno=True)
            fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
            if fd < 0:
                _unavailable = True  # out of instances (EMFILE): stat, as everywhere else
                return None
            _instance = _Inotify(fd, libc, _default_budget())
        inotify = _instance
    if inotify is None:
        return None
    if not inotify.kernel_full:
        inotify.budget = inotify.default_budget if budget is None else budget
    return ChangeFeed(root, inotify)


def turn_off() -> None:
    """No feed for the rest of this process: for a program that searches once (the ``fsreg``
    command), where watching would cost more than the one search it could save."""
    global _turned_off
    _turned_off = True


def _forget_in_child() -> None:
    # A forked child shares the parent's queue: draining it would take the parent's events.
    global _instance, _unavailable
    if _instance is not None:
        os.close(_instance.fd)
    _instance, _unavailable = None, False


os.register_at_fork(after_in_child=_forget_in_child)
