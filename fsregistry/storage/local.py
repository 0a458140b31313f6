"""Local disk (and NFS / bucket mounts): POSIX primitives, no fsspec in the hot path.

- atomic replace: temp file in the same directory, then ``os.replace`` (never a temp file in
  /tmp moved across filesystems, which is how MLflow users got empty meta.yaml files);
- create-if-absent: temp file, then ``os.link`` onto the target, which fails if it exists,
  so the file appears complete or not at all;
- compare-and-swap: a ``filelock`` on a hidden sibling ``.<name>#fsreg-lock`` around
  check-content-then-replace. Lock files only ever sit next to ``meta.yaml`` files, where
  MLflow ignores files it does not know;
- append: ``O_APPEND`` to a file that exists; a new file is created whole (temp file and
  link, as create-if-absent), so no empty or torn file appears when the first write fails.

Errors: every method runs its system calls inside :meth:`LocalStorage._errors`, the one
place an ``OSError`` becomes what the storage contract allows (:func:`~.base.os_error`). A
write that fails removes what it made: its temp file, the directories it created for it
(``rmdir``, so never one another writer has put a file in meanwhile), and the bytes of an
append that was cut short (a full disk can take part of a write).

Durability (:mod:`fsregistry.storage.durability`, ``FSREG_FSYNC``): a write the mode syncs
syncs its temp file's data before the file becomes visible (link or replace), then the
directory that holds it and those made for it; a move syncs both parents; a synced append
syncs the file after its bytes are written.

Directory holds (:mod:`fsregistry.storage.dir_locks`): ``flock`` on hidden files inside a
directory, which keep it at its path while callers work under it. Listings and walks run
while other processes move and delete directories: an entry that is gone by the time it is
looked at (a ``stat`` or ``scandir`` that finds nothing) is treated as absent, never raised.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from stat import S_ISDIR, S_ISREG

from fsregistry.exceptions import InvalidState, StorageUnavailable, shown
from fsregistry.storage.base import (
    Capabilities,
    ConflictError,
    FileInfo,
    Storage,
    Versioned,
    check_path,
    content_token,
    os_error,
)
from fsregistry.storage.changes import LOCAL_FILESYSTEMS, ChangeFeed, change_feed
from fsregistry.storage.dir_locks import hold_dir as hold_local_dir
from fsregistry.storage.durability import (
    dirs_to_sync,
    fsync_mode,
    sync_dirs,
    sync_file,
    sync_path,
    syncs_file,
)
from fsregistry.storage.local_files import (
    COPY_CHUNK,
    INTERNAL_NAME,
    OPEN_FOR_APPEND,
    OPEN_FOR_READ,
    addressable,
    append_whole,
    is_internal_name,
    link_new,
    local_file,
    lock_name,
    make_parents,
    missing_is_gone,
    read_file,
    remove_dirs,
    tmp_name,
    unlink_quietly,
    walk_tree,
    write_new,
)

_BULK_THREADS = 4
_THREADED_BATCH = 512
# Filesystems where each open/read waits on the network: there, threads overlap the round
# trips. On a local filesystem reads come from the page cache and threads only contend for
# the GIL (measured: 84,000 small files, 2.9 s in one thread, 4.9 s in four).
_NETWORK_FILESYSTEMS = frozenset(
    {"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "ceph", "glusterfs", "lustre", "afs", "beegfs"}
)
# A FIFO in the tree must not block the open of _fresh_stat.
_OPEN_FOR_STAT = OPEN_FOR_READ | getattr(os, "O_NONBLOCK", 0)
_LOCK_TIMEOUT_S = 60.0


def _plain(path: str) -> bool:
    """Whether ``path`` needs no check_path: no empty, "." or ".." segment, no leading or
    trailing slash or dot, no backslash or NUL (hot loops skip check_path for such paths; the
    others, hidden files included, take the careful way)."""
    return not (
        not path
        or "//" in path
        or "/./" in path
        or "/../" in path
        or "\\" in path
        or "\x00" in path
        or path[0] in "/."
        or path[-1] in "/."
    )


def _filesystem_type(path: str, mounts_file: str = "/proc/self/mounts") -> str | None:
    """The type of the filesystem ``path`` is on, from the longest matching mount point in
    /proc/self/mounts; None where that cannot be read (not Linux)."""
    try:
        with open(mounts_file, encoding="utf-8", errors="replace") as f:
            mounts = [line.split()[1:3] for line in f if len(line.split()) > 2]
    except OSError:
        return None
    real = os.path.realpath(path)
    best, kind = "", ""
    for point, fstype in mounts:
        point = point.replace("\\040", " ")
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, fstype
    return kind


def _is_network(kind: str | None) -> bool:
    """Whether a filesystem of this type (``_filesystem_type``) is a network filesystem (or a
    FUSE mount, such as a bucket mount); True where the type is unknown, as threads cost
    little there compared to serial round trips, and opening a file to stat it costs little
    compared to a stale answer."""
    return kind is None or kind in _NETWORK_FILESYSTEMS or kind.startswith("fuse")


def _fresh_stat(path: str) -> os.stat_result:
    """A file's attributes through an open descriptor, for network filesystems: there stat may
    answer from attributes the client cached (NFS: up to ``acregmax``, a minute by default),
    while open asks the server (close-to-open consistency), so a change another machine made
    before its write returned is seen, as a reader of the file would see it."""
    try:
        fd = os.open(path, _OPEN_FOR_STAT)
    except PermissionError:
        return os.stat(path)  # unreadable: its attributes as cached, the best there is
    try:
        return os.fstat(fd)
    finally:
        os.close(fd)


def _change_token(st: os.stat_result) -> str:
    # The inode makes an atomic replace visible even when size and mtime (one clock tick)
    # come out the same.
    return f"{st.st_size}-{st.st_mtime_ns}-{st.st_ino}"


class LocalStorage(Storage):
    """A directory on a POSIX filesystem."""

    capabilities = Capabilities(
        atomic_create=True, compare_and_swap=True, append=True, directories=True, cheap_stat=True
    )
    protocol = "file"

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = os.path.abspath(os.fspath(root))

    def __repr__(self) -> str:
        return f"LocalStorage({self.root!r})"

    @property
    def root_uri(self) -> str:
        from pathlib import Path  # not at module level: CLI start-up time

        return Path(self.root).as_uri()

    def _network(self) -> bool:
        """Whether the root is on a network filesystem: bulk reads use threads there, and
        change tokens come from :func:`_fresh_stat`."""
        return _is_network(self._filesystem)

    @functools.cached_property
    def _filesystem(self) -> str | None:
        """The type of the root's filesystem, read once (see ``_filesystem_type``)."""
        return _filesystem_type(self.root)

    def change_feed(self) -> ChangeFeed | None:
        return change_feed(self.root) if self._filesystem in LOCAL_FILESYSTEMS else None

    def _abs(self, path: str) -> str:
        if path.isascii() and _plain(path):  # what check_path would hand back unchanged
            return f"{self.root}{os.sep}{path}"
        path = check_path(path)
        return os.path.join(self.root, *path.split("/")) if path else self.root

    @contextlib.contextmanager
    def _errors(self, path: str, *, writing: bool) -> Iterator[None]:
        """Turn an OSError met reading or writing ``path`` into what the storage contract
        allows (see :func:`~.base.os_error`); the one place this backend does it."""
        try:
            yield
        except OSError as e:
            error = self._error(e, path, writing=writing)
            if error is e:
                raise
            raise error from e

    def _error(self, error: OSError, path: str, *, writing: bool) -> Exception:
        conflict = self._conflict(path, error) if writing else ""
        return os_error(error, path, self.root_uri, writing=writing, conflict=conflict)

    def _conflict(self, path: str, error: OSError) -> str:
        """Which file stands where ``path`` needs a directory, or that ``path`` is one,
        for the message of a write that met ENOTDIR or EISDIR."""
        if error.errno == errno.EISDIR:
            return "it is a directory"
        if error.errno != errno.ENOTDIR:
            return ""
        parts = check_path(path).split("/")
        for i in range(1, len(parts) + 1):
            above = "/".join(parts[:i])
            try:
                if not S_ISDIR(os.stat(self._abs(above)).st_mode):
                    return f"{above!r} is a file"
            except OSError:
                break
        return "a directory above it is a file"

    # -- reads ----------------------------------------------------------------------------
    def read(self, path: str) -> bytes:
        with self._errors(path, writing=False):
            return read_file(self._abs(path))

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        paths = list(paths)
        if len(paths) < _THREADED_BATCH or not self._network():
            return self._read_chunk(paths)
        # open/read release the GIL, so a few threads overlap the network round trips; one
        # chunk per thread, because a future per file costs more than the read.
        size = -(-len(paths) // _BULK_THREADS)
        chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
        out: dict[str, bytes] = {}
        # Imported here: concurrent.futures loads logging, and every CLI call loads this module.
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(_BULK_THREADS) as pool:
            for part in pool.map(self._read_chunk, chunks):
                out.update(part)
        return out

    def _read_chunk(self, paths: list[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for p in paths:
            try:
                out[p] = read_file(self._abs(p))
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                continue
            except OSError as e:
                raise self._error(e, p, writing=False) from e
        return out

    def read_versioned(self, path: str) -> Versioned:
        data = self.read(path)
        return Versioned(data, content_token(data))

    def exists(self, path: str) -> bool:
        return os.path.exists(self._abs(path))

    def tokens(self, paths: Iterable[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        root = self.root + os.sep
        plain = _plain
        stat = _fresh_stat if self._network() else os.stat
        is_file = S_ISREG
        for p in paths:
            try:
                st = stat(root + p if plain(p) else self._abs(p))
            except (FileNotFoundError, NotADirectoryError):
                continue
            except OSError as e:
                raise self._error(e, p, writing=False) from e
            if is_file(st.st_mode):
                out[p] = _change_token(st)
        return out

    def dir_token(self, path: str) -> str | None:
        if self._network():
            return None
        try:
            st = os.stat(self._abs(path))
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as e:
            raise self._error(e, path, writing=False) from e
        if not S_ISDIR(st.st_mode):
            return None
        # The link count changes with every sub-directory made or removed, even within one
        # tick of the clock that stamps the mtime.
        return f"{st.st_mtime_ns}-{st.st_nlink}-{st.st_ino}-{st.st_size}"

    def list_dir(self, path: str) -> tuple[list[str], list[str]]:
        dirs: list[str] = []
        files: list[str] = []
        with self._errors(path, writing=False):
            try:
                with os.scandir(self._abs(path)) as it:
                    for entry in it:
                        if not (entry.name.isascii() or addressable(entry.name)):
                            continue  # no path can name it
                        if entry.is_dir():
                            dirs.append(entry.name)
                        elif not is_internal_name(entry.name):
                            files.append(entry.name)
            except (FileNotFoundError, NotADirectoryError):
                return [], []
        return dirs, files

    def walk(
        self, path: str, prune: Callable[[str], bool] | None = None, sizes: bool = True
    ) -> list[FileInfo]:
        out: list[FileInfo] = []
        add = out.append
        internal = INTERNAL_NAME.match
        fresh = self._network()
        # The hottest loop of a search (one pass per file of an experiment): names are bound
        # locally and the internal-name regex runs only on dot files.
        top = self._abs(path)
        with self._errors(path, writing=False):
            for child, entry, is_dir in walk_tree(top, prune):
                if is_dir:
                    continue
                name = entry.name
                if name[0] == "." and internal(name):
                    continue
                if sizes:
                    try:
                        st = _fresh_stat(f"{top}/{child}") if fresh else entry.stat()
                    except (FileNotFoundError, NotADirectoryError):
                        continue  # deleted (or, on a network disk, moved) since listed
                    add(FileInfo(child, st.st_size, _change_token(st), st.st_mtime))
                else:
                    add(FileInfo(child, 0))
        return out

    # -- writes ---------------------------------------------------------------------------
    def _write_tmp(self, target: str, data: bytes, sync: bool) -> tuple[str, list[str]]:
        """``data`` in a new temp file next to ``target`` (see ``write_new``); returns its
        path and the directories made for it."""
        tmp = tmp_name(target)
        return tmp, write_new(tmp, data, sync)

    def write(self, path: str, data: bytes) -> None:
        target = self._abs(path)
        sync = syncs_file(target, fsync_mode())
        with self._errors(path, writing=True):
            tmp, made = self._write_tmp(target, data, sync)
            try:
                os.replace(tmp, target)
            except BaseException:
                unlink_quietly(tmp)
                remove_dirs(made)
                raise
            if sync:
                sync_dirs(dirs_to_sync(target, made))

    def _create(self, path: str, data: bytes, sync: bool | None = None) -> None:
        target = self._abs(path)
        if sync is None:
            sync = syncs_file(target, fsync_mode())
        with self._errors(path, writing=True):
            tmp, made = self._write_tmp(target, data, sync)
            try:
                link_new(tmp, target, data, sync)
            except BaseException:
                unlink_quietly(tmp)
                remove_dirs(made)
                raise
            unlink_quietly(tmp)  # before the directory is synced: no temp file comes back
            if sync:
                sync_dirs(dirs_to_sync(target, made))

    def _write_if_match(self, path: str, data: bytes, token: str | None) -> None:
        # Imported here: filelock costs ~30 ms at import, which read-only commands never need.
        from filelock import FileLock, Timeout

        target = self._abs(path)
        head, tail = os.path.split(target)
        with self._errors(path, writing=True):
            made = make_parents(target)
            lock = FileLock(os.path.join(head, lock_name(tail)), timeout=_LOCK_TIMEOUT_S)
            try:
                with lock:
                    try:
                        current: str | None = content_token(read_file(target))
                    except FileNotFoundError:
                        current = None
                    if current != token:
                        raise ConflictError(path)
                    self.write(path, data)
            except Timeout as e:
                raise StorageUnavailable(
                    f"Could not write {shown(path)} under {self.root_uri}: another process "
                    f"has held its lock {lock.lock_file!r} for over {_LOCK_TIMEOUT_S:.0f} s"
                ) from e
            except OSError:
                # The lock file stays even in a directory made for it: another writer may
                # be waiting on it, and removing it under them would let two in at once
                # (``fsreg gc`` removes lock files whose file never appeared).
                if not os.path.exists(lock.lock_file):
                    remove_dirs(made)  # the lock could not even be made
                raise

    def append(self, path: str, data: bytes) -> None:
        target = self._abs(path)
        sync = fsync_mode() == "all"  # appends (metrics, index lines) only in "all"
        with self._errors(path, writing=True):
            try:
                fd = os.open(target, OPEN_FOR_APPEND)
            except FileNotFoundError:
                try:
                    # A new file appears whole, or not at all.
                    self._create(path, data, sync)
                    return
                except FileExistsError:  # another writer made it meanwhile: append to theirs
                    fd = os.open(target, OPEN_FOR_APPEND)
            try:
                # O_APPEND makes each small write land whole at the end, even with other
                # writers.
                append_whole(fd, data)
                if sync:
                    sync_file(fd)
            finally:
                os.close(fd)

    def check_no_links(self, path: str, *, last: bool = True) -> None:
        """Raise :class:`InvalidState` if ``path`` goes through a symbolic link below the root
        (a directory on the way, and with ``last`` the entry itself). Maintenance calls it
        before deleting: through a link it would delete outside the store, or elsewhere in
        it. One ``lstat`` per path component."""
        parts = path.split("/") if path else []
        current = self.root
        for i, part in enumerate(parts if last else parts[:-1]):
            current = os.path.join(current, part)
            if os.path.islink(current):
                raise InvalidState(
                    f"Not deleting {path!r} in {self.root}: "
                    f"{'/'.join(parts[: i + 1])!r} is a symbolic link, and fsregistry never "
                    "deletes through one"
                )

    def delete(self, path: str) -> None:
        target = self._abs(path)
        with self._errors(path, writing=True):
            try:
                os.unlink(target)
            except FileNotFoundError:
                return
            if syncs_file(target, fsync_mode()):
                sync_dirs([os.path.dirname(target)])

    def delete_tree(self, path: str) -> None:
        target = self._abs(path)
        if os.path.isdir(target):
            import shutil  # not at module level: CLI start-up time

            with self._errors(path, writing=True):
                # Removes links inside the tree, never what they point to.
                shutil.rmtree(target, onerror=missing_is_gone)
                if fsync_mode() != "off":  # a change of the tree: "meta" syncs it too
                    sync_dirs([os.path.dirname(target)])
        else:
            self.delete(path)

    def hold_dir(
        self,
        path: str,
        *,
        exclusive: bool = False,
        require: str | None = None,
        what: str = "",
    ) -> AbstractContextManager[bool]:
        return hold_local_dir(self._abs(path), exclusive, require, what or repr(path))

    def make_dirs(self, path: str) -> None:
        target = self._abs(path)
        with self._errors(path, writing=True):
            if not os.path.isdir(target):
                made = make_parents(os.path.join(target, "_"))
                if made and fsync_mode() == "all":
                    sync_dirs([os.path.dirname(d) for d in reversed(made)])

    def move_tree(self, src: str, dst: str) -> None:
        source, target = self._abs(src), self._abs(dst)
        with self._errors(dst, writing=True):
            if os.path.lexists(target):
                raise FileExistsError(errno.EEXIST, "File exists", dst)
            made = make_parents(target)
            try:
                os.rename(source, target)
            except OSError as e:
                remove_dirs(made)
                if e.errno in (errno.EEXIST, errno.ENOTEMPTY):  # made meanwhile
                    raise FileExistsError(errno.EEXIST, "File exists", dst) from e
                raise
            if fsync_mode() != "off":  # a change of the tree: "meta" syncs it too
                sync_dirs([*dirs_to_sync(target, made), os.path.dirname(source)])

    def put_file(self, local_path: str, path: str) -> None:
        import shutil  # not at module level: CLI start-up time

        target = self._abs(path)
        sync = syncs_file(target, fsync_mode())
        with self._errors(path, writing=True):
            made = make_parents(target)
            tmp = tmp_name(target)
            try:
                shutil.copyfile(local_path, tmp)
                if sync:
                    sync_path(tmp)
                os.replace(tmp, target)
            except BaseException:
                unlink_quietly(tmp)
                remove_dirs(made)
                raise
            if sync:
                sync_dirs(dirs_to_sync(target, made))

    def get_file(
        self, path: str, local_path: str, callback: Callable[[int], None] | None = None
    ) -> None:
        with self._errors(path, writing=False):
            src = open(self._abs(path), "rb")  # noqa: SIM115 (closed below)
        with src, local_file(local_path) as dst:
            while True:
                with self._errors(path, writing=False):
                    chunk = src.read(COPY_CHUNK)
                if not chunk:
                    break
                dst.write(chunk)
                if callback is not None:
                    callback(len(chunk))
