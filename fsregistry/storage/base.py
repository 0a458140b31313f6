"""The storage contract: the only code in fsregistry that touches bytes.

A :class:`Storage` is one store root on one filesystem. Every path it takes is relative to
that root, POSIX-style (``"0/meta.yaml"``), and checked: no ``..``, no absolute paths, no NUL.
Backends differ in what they can guarantee, so each states its :class:`Capabilities`; an
operation that needs a guarantee a backend cannot give raises
:class:`~fsregistry.exceptions.UnsupportedOperation` instead of silently racing.

What a method may raise, on every backend (the stores above rely on it, so a backend
translates everything else its filesystem or client raises, in one place):

- :class:`FileNotFoundError`: a read of a file that is not there (or of a directory, or of a
  path through a file: no file is there either); ``move_tree`` of a missing source.
- :class:`FileExistsError`: ``create`` of a path that holds a file; ``move_tree`` onto a
  path that exists.
- :class:`ConflictError`: ``write_if_match`` lost to another writer.
- :class:`~fsregistry.exceptions.InvalidParameterValue`: the path cannot exist there: it
  escapes the root, or is longer than the filesystem or object store allows;
  :class:`~fsregistry.exceptions.PathConflict` (a subclass) for a write of a file where a
  directory is, or below a file.
- :class:`~fsregistry.exceptions.StorageError` and its subclasses: the store failed for a
  reason outside the request, named in the message with the path: ``StorageFull`` (disk or
  quota full), ``StoragePermissionDenied`` (read-only filesystem, modes, bucket permissions),
  ``StorageUnavailable`` (too many open files, a lock held too long, a connection refused,
  throttling), ``StoreMissing`` (no such bucket); plain ``StorageError`` for any other I/O
  error. A write that fails so leaves no file, temp file or directory of its own behind.
- :class:`~fsregistry.exceptions.UnsupportedOperation`, :class:`ConcurrentUpdateError`.

Never a raw :class:`OSError` or a client library's exception.
"""

from __future__ import annotations

import contextlib
import errno
import posixpath
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, NoReturn

from fsregistry.exceptions import (
    ConcurrentUpdateError,
    InvalidParameterValue,
    PathConflict,
    StorageError,
    StorageFull,
    StoragePermissionDenied,
    StorageUnavailable,
    UnsupportedOperation,
    shown,
)

if TYPE_CHECKING:
    from fsregistry.storage.changes import ChangeFeed

# Read-modify-write rounds before giving up; each lost round means another writer landed.
UPDATE_ATTEMPTS = 64
# A file modified this shortly before a listing may be rewritten within the same clock tick
# with the same size, leaving its change token as it was (git calls such files "racy"):
# caches built from a listing never keep what they decoded from such a file.
RACY_SECONDS = 2.0


class ConflictError(Exception):
    """A conditional write lost: the file changed (or appeared) since it was read."""


@dataclass(frozen=True)
class Capabilities:
    """What a backend guarantees.

    atomic_create: ``create`` is create-if-absent, atomic against other processes/clients.
    compare_and_swap: ``write_if_match`` is atomic against other processes/clients.
    append: ``append`` adds bytes without rewriting the file (local files only).
    directories: empty directories exist on their own (local files); on object stores a
        "directory" is only a key prefix.
    cheap_stat: asking for one named file's change token costs a system call, not a network
        round trip, so checking a few named files of many directories beats listing every
        file of the tree (local disk); on object stores one listing is cheaper.
    read_only: every write through this storage is refused (as zarr's ``Store.read_only``):
        a view of a store that others write, such as the MLflow plugin's read-only stores.
        Not implied by the flags above: a backend without atomic create or directories (a
        generic fsspec filesystem) still writes.
    """

    atomic_create: bool
    compare_and_swap: bool
    append: bool
    directories: bool
    cheap_stat: bool = False
    read_only: bool = False


@dataclass(frozen=True)
class Versioned:
    """File bytes plus an opaque token naming that exact version (for ``write_if_match``)."""

    data: bytes
    token: str


class FileInfo(NamedTuple):
    """One file found by a recursive listing; ``path`` is relative to the listed prefix.

    ``token`` changes whenever the file's content may have changed (local: size, mtime in ns
    and inode; S3: ETag; GCS: generation); empty when the backend cannot tell. ``mtime`` (local
    disk only, seconds) lets callers spot changes finer than the filesystem's clock.
    A tuple, not a dataclass: listings create one per file, tens of thousands per search.
    """

    path: str
    size: int
    token: str = ""
    mtime: float | None = None


def is_racy(mtime: float | None, listed_at: float) -> bool:
    """Whether a file with this mtime (None: the backend gives none) is too recent, at a
    listing made at ``listed_at``, for a cache to keep what was decoded from it."""
    return mtime is not None and listed_at - mtime < RACY_SECONDS


def content_token(data: bytes) -> str:
    """Version token derived from content, for backends without native versions."""
    import hashlib  # not at module level: CLI start-up time (every command loads this)

    return hashlib.sha256(data).hexdigest()


# What an errno means for the caller: its class and a few plain words (the message also gives
# the errno's own name and text).
_FULL = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is used up"}
_FULL[errno.EFBIG] = "the file is larger than the filesystem allows"
_DENIED = {errno.EROFS: "the filesystem is read-only", errno.EACCES: "permission denied"}
_DENIED[errno.EPERM] = "the operation is not permitted"
_BUSY = {
    errno.EMFILE: "this process has too many open files",
    errno.ENFILE: "the system has too many open files",
    errno.EAGAIN: "the resource is temporarily unavailable",
    errno.EBUSY: "the resource is busy",
    errno.ETIMEDOUT: "the operation timed out",
    errno.ENOLCK: "no lock is available",
    errno.ESTALE: "the network filesystem handle went stale",
}


# A file name's limit on nearly every filesystem (NAME_MAX), in bytes.
NAME_MAX = 255


def _byte_length(name: str) -> int:
    return len(name.encode("utf-8", "surrogateescape"))


def place(path: str, where: str) -> str:
    """``'0/meta.yaml' under file:///store`` for messages (the root itself: its URI)."""
    return f"{shown(path)} under {where}" if path else where


def _cause(error: OSError) -> str:
    """``ENOSPC: No space left on device`` (the errno's name and text, as far as known)."""
    name = errno.errorcode.get(error.errno or 0)
    text = error.strerror or str(error) or type(error).__name__
    return f"{name}: {text}" if name else text


def os_error(
    error: OSError, path: str, where: str, *, writing: bool, conflict: str = ""
) -> Exception:
    """What the contract allows in place of ``error``, met while reading or writing ``path``
    of the store at ``where`` (a root URI, for the message).

    Reads: a directory, or a path through a file, is a missing file (as on an object store).
    Writes: a file where a directory is, or below a file, is a :class:`PathConflict`
    (``conflict`` says which, where the caller found out). A name too long for the
    filesystem is bad input, read or write; everything else is a :class:`StorageError`
    naming the path and the cause. FileNotFoundError and FileExistsError come back as they
    are: whether they are an answer or a failure depends on the operation.
    """
    code = error.errno
    if isinstance(error, FileNotFoundError | FileExistsError):
        return error
    if code in (errno.ENOTDIR, errno.EISDIR):
        if not writing:
            return FileNotFoundError(errno.ENOENT, "No such file", path)
        detail = conflict or (
            "it is a directory" if code == errno.EISDIR else "a directory above it is a file"
        )
        return path_conflict(path, where, detail)
    if code == errno.ENAMETOOLONG:
        name = max(path.replace("\\", "/").split("/"), key=_byte_length)
        if _byte_length(name) > NAME_MAX:
            what = f"the name {shown(name)} is {_byte_length(name)} bytes long"
        else:
            what = f"the path is {_byte_length(path)} bytes long"
        return InvalidParameterValue(
            f"Invalid path {place(path, where)}: {what}, longer than the filesystem allows "
            f"({_cause(error)}; names are limited to {NAME_MAX} bytes there)"
        )
    verb = "write" if writing else "read"
    # Not str.format: a path may hold braces.
    head, tail = f"Could not {verb} {place(path, where)}: ", f" ({_cause(error)})"
    if code in _FULL:
        return StorageFull(head + _FULL[code] + tail)
    if code in _DENIED or isinstance(error, PermissionError):
        return StoragePermissionDenied(head + _DENIED.get(code or 0, "access denied") + tail)
    if code in _BUSY or isinstance(error, ConnectionError | TimeoutError):
        timed_out = "the operation timed out" if isinstance(error, TimeoutError) else ""
        reason = _BUSY.get(code or 0, timed_out or "the store could not be reached")
        return StorageUnavailable(head + reason + tail)
    return StorageError(head + "an I/O error" + tail)


def path_conflict(path: str, where: str, detail: str) -> PathConflict:
    """The error for a file that cannot be written at ``path`` (``detail`` says why: "it is a
    directory", "'a.txt' is a file")."""
    return PathConflict(
        f"Cannot write {shown(path)} under {where}: {detail}; a file cannot be written where "
        "a directory is, nor below another file"
    )


def _parents(path: str) -> list[str]:
    """``a/b/c`` -> ``["a", "a/b"]``."""
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _conflicts_among(
    paths: list[str], stored: set[str], dirs: frozenset[str] = frozenset()
) -> dict[str, str]:
    """Which of ``paths`` (files to write) clash with each other, with the files in
    ``stored``, or with the directories in ``dirs``: a path that is a directory, or one with
    a file above it."""
    files = stored | set(paths)
    prefixes = {parent for p in files for parent in _parents(p)} | dirs
    out: dict[str, str] = {}
    for p in paths:
        if p in prefixes:
            out[p] = "it is a directory"
            continue
        above = next((parent for parent in _parents(p) if parent in files), None)
        if above is not None:
            out[p] = f"{shown(above)} is a file"
    return out


def raise_os_error(
    error: OSError, path: str, where: str, *, writing: bool, conflict: str = ""
) -> NoReturn:
    """Raise what :func:`os_error` makes of ``error`` (``error`` itself, where that is it)."""
    translated = os_error(error, path, where, writing=writing, conflict=conflict)
    if translated is error:
        raise error
    raise translated from error


def check_path(path: str) -> str:
    """Normalise a store-relative path and refuse anything that could escape the root."""
    if "\x00" in path:
        raise InvalidParameterValue(f"Invalid path {shown(path)}: contains a NUL character")
    if path.startswith("/") or "\\" in path:
        raise InvalidParameterValue(f"Invalid path {shown(path)}: must be relative and use '/'")
    if not path.isascii():
        try:
            path.encode("utf-8")
        except UnicodeEncodeError as e:
            raise InvalidParameterValue(
                f"Invalid path {shown(path)}: a lone surrogate at position {e.start}, which no "
                "file or object name can hold"
            ) from e
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise InvalidParameterValue(f"Invalid path {shown(path)}: '..' is not allowed")
    return "/".join(parts)


def join(*parts: str) -> str:
    """Join store-relative path pieces (empty pieces are skipped)."""
    return posixpath.join(*[p for p in parts if p]) if any(parts) else ""


class Storage(ABC):
    """One store root on one filesystem; all paths are relative to the root.

    Missing files raise :class:`FileNotFoundError` from the read methods; the module
    docstring lists everything else a method may raise.
    """

    capabilities: Capabilities
    protocol: str

    # -- identity -------------------------------------------------------------------------
    @property
    @abstractmethod
    def root_uri(self) -> str:
        """URI of the root as MLflow records it (``file:///abs/path``, ``s3://bucket/prefix``)."""

    def uri(self, path: str) -> str:
        """Absolute URI of a path under the root."""
        path = check_path(path)
        return f"{self.root_uri}/{path}" if path else self.root_uri

    # -- reads ----------------------------------------------------------------------------
    @abstractmethod
    def read(self, path: str) -> bytes:
        """Whole file content."""

    @abstractmethod
    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        """Contents of many files fetched concurrently; missing files are left out."""

    @abstractmethod
    def read_versioned(self, path: str) -> Versioned:
        """Content and a version token read together, for a later ``write_if_match``."""

    @abstractmethod
    def exists(self, path: str) -> bool:
        """Whether a file or a non-empty directory/prefix exists at ``path``."""

    @abstractmethod
    def tokens(self, paths: Iterable[str]) -> dict[str, str]:
        """Change tokens of named files, the same ones ``walk(sizes=True)`` reports.

        Missing paths and directories are left out; an empty token means the backend cannot
        tell. Lets a reader check a few files it cares about without listing the whole tree.
        """

    def change_feed(self) -> ChangeFeed | None:
        """A feed of the changes the kernel sees under this root (see
        :mod:`fsregistry.storage.changes`), or None where there is none to be trusted: then
        a reader checks files with :meth:`tokens`."""
        return None

    def dir_token(self, path: str) -> str | None:
        """A token of a directory itself that changes whenever an entry is created, removed or
        renamed in it (local: mtime in ns, link count, inode and size); None where there is
        none to be trusted (object stores, whose "directories" are key prefixes; network
        filesystems, whose clients cache directory attributes) or no such directory."""
        return None

    @abstractmethod
    def list_dir(self, path: str) -> tuple[list[str], list[str]]:
        """Immediate children of a directory as (sub-directory names, file names)."""

    def list_dir_tokens(self, path: str) -> tuple[list[str], dict[str, str]]:
        """Immediate children of a directory as (sub-directory names, ``{file name: change
        token}``): one listing where the backend's listing carries the tokens."""
        dirs, names = self.list_dir(path)
        cut = len(path) + 1
        found = self.tokens(f"{path}/{n}" for n in names)
        return dirs, {p[cut:]: token for p, token in found.items()}

    @abstractmethod
    def walk(
        self, path: str, prune: Callable[[str], bool] | None = None, sizes: bool = True
    ) -> list[FileInfo]:
        """Every file below ``path``, recursively, in as few requests as the backend allows.

        ``prune(dir)`` (``dir`` relative to ``path``) returning True leaves that directory out:
        local disk does not descend into it; object stores list by prefix anyway and filter.
        ``sizes=False`` lets local disk skip a stat per file (sizes 0, no tokens).
        """

    # -- writes ---------------------------------------------------------------------------
    @abstractmethod
    def write(self, path: str, data: bytes) -> None:
        """Atomic replace: readers see the old bytes or the new ones, never a torn file."""

    @abstractmethod
    def _create(self, path: str, data: bytes) -> None:
        """Backend primitive for :meth:`create`; raises FileExistsError if taken."""

    @abstractmethod
    def _write_if_match(self, path: str, data: bytes, token: str | None) -> None:
        """Backend primitive for :meth:`write_if_match`; raises ConflictError."""

    @abstractmethod
    def append(self, path: str, data: bytes) -> None:
        """Append bytes (only where ``capabilities.append``)."""

    @abstractmethod
    def delete(self, path: str) -> None:
        """Delete one file; a missing file is not an error."""

    @abstractmethod
    def delete_tree(self, path: str) -> None:
        """Delete a directory/prefix and everything below it; missing is not an error."""

    @abstractmethod
    def make_dirs(self, path: str) -> None:
        """Create a directory and its parents (no-op where directories do not exist)."""

    @abstractmethod
    def move_tree(self, src: str, dst: str) -> None:
        """Move a directory/prefix; ``dst`` must not exist. Atomic only on local disk."""

    @abstractmethod
    def put_file(self, local_path: str, path: str) -> None:
        """Upload a local file (streamed, any size) to ``path``, replacing it."""

    @abstractmethod
    def get_file(
        self, path: str, local_path: str, callback: Callable[[int], None] | None = None
    ) -> None:
        """Download ``path`` (streamed, any size) to a local file.

        ``callback(n)``, if given, is called with the size of each chunk once it is written,
        so a progress bar can follow a large download; the bytes written are the same.
        An error writing the local file (a full disk, a name too long) names the local path;
        a download that fails leaves no partial local file.
        """

    def file_conflicts(self, paths: Iterable[str]) -> dict[str, str]:
        """Of ``paths`` about to be written as files, those that cannot be, with the reason:
        a directory (or key prefix) is there, a file is above, or two of them clash.

        Local disk refuses such a write by itself, atomically; object stores would take both
        ``a`` and ``a/b`` as keys, which no filesystem (nor MLflow's download) can hold, so
        a writer of object-store paths asks first (not atomic against a concurrent writer of
        the other key). Writers of many files ask first everywhere, so that none is written
        when one cannot be. One path: a ``tokens`` request for the directories above it and
        one listing of the path. Several: ``tokens`` for their common directory and those
        above it, and one walk of that directory.
        """
        paths = [check_path(p) for p in paths]
        if not paths:
            return {}
        if len(paths) == 1:
            (path,) = paths
            stored = set(self.tokens(_parents(path)))
            is_dir = any(self.list_dir(path))
            return _conflicts_among(paths, stored, frozenset({path} if is_dir else ()))
        common = posixpath.commonpath(paths)
        base = common if common not in paths else posixpath.dirname(common)
        above = [*_parents(base), base] if base else []
        stored = set(self.tokens(above))
        stored.update(join(base, info.path) for info in self.walk(base, sizes=False))
        return _conflicts_among(paths, stored)

    def hold_dir(
        self,
        path: str,
        *,
        exclusive: bool = False,
        require: str | None = None,
        what: str = "",
    ) -> AbstractContextManager[bool]:
        """Keep the directory at ``path`` there while the caller works under it.

        Where directories can be moved (``capabilities.directories``: local disk), a caller
        working under ``path`` holds it shared, and one moving or deleting it holds it
        exclusive, so the path keeps naming one directory while anyone works under it
        (:mod:`fsregistry.storage.dir_locks`). Yields False, holding nothing, when the
        directory (or its file ``require``) does not exist: the caller must then treat the
        path as naming nothing for the whole call. Elsewhere nothing moves a key prefix, and
        this holds nothing and yields True. Waiting too long raises ConcurrentUpdateError
        (``what`` names what was waited for)."""
        return contextlib.nullcontext(True)

    # -- guarded operations built on the primitives ------------------------------------------
    def create(self, path: str, data: bytes, *, exclusive: bool = False) -> None:
        """Create ``path`` only if it does not exist; raises FileExistsError if taken.

        Idempotent for a retried request: when the existing file holds exactly ``data`` the
        create counts as done, so callers that claim names must put a unique token in ``data``.
        ``exclusive``: not even then (a caller that may later remove what it created must
        know the file is its own; a retried request that had succeeded reads as taken).
        """
        if not self.capabilities.atomic_create:
            raise UnsupportedOperation(
                f"The {self.protocol!r} backend at {self.root_uri} cannot create files "
                "atomically; fsregistry refuses to allocate names there because concurrent "
                "writers could overwrite each other."
            )
        try:
            self._create(path, data)
        except FileExistsError:
            if exclusive:
                raise
            try:
                if self.read(path) == data:
                    return
            except FileNotFoundError:
                pass  # deleted in between: still not ours, report the collision
            raise

    def write_if_match(self, path: str, data: bytes, token: str | None) -> None:
        """Replace ``path`` only if it is still at version ``token`` (None: must not exist).

        Raises :class:`ConflictError` when another writer got there first.
        """
        if not self.capabilities.compare_and_swap:
            raise UnsupportedOperation(
                f"The {self.protocol!r} backend at {self.root_uri} has no compare-and-swap; "
                "fsregistry refuses read-modify-write updates there because they could lose "
                "concurrent updates."
            )
        self._write_if_match(path, data, token)

    def update(self, path: str, change: Callable[[bytes | None], bytes]) -> bytes:
        """Read-modify-write ``path`` atomically: ``change(old_or_None) -> new`` may run again
        after a conflict, so it must be a pure function of its input. Returns the new bytes."""
        for _ in range(UPDATE_ATTEMPTS):
            try:
                current: Versioned | None = self.read_versioned(path)
            except FileNotFoundError:
                current = None
            new = change(current.data if current else None)
            try:
                self.write_if_match(path, new, current.token if current else None)
            except ConflictError:
                continue
            return new
        raise ConcurrentUpdateError(
            f"Gave up updating {self.uri(path)} after {UPDATE_ATTEMPTS} conflicting writes"
        )
