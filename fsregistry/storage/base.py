"""The storage contract: the only code in fsregistry that touches bytes.

A :class:`Storage` is one store root on one filesystem. Every path it takes is relative to
that root, POSIX-style (``"0/meta.yaml"``), and checked: no ``..``, no absolute paths, no NUL.
Backends differ in what they can guarantee, so each states its :class:`Capabilities`; an
operation that needs a guarantee a backend cannot give raises
:class:`~fsregistry.exceptions.UnsupportedOperation` instead of silently racing.
"""

from __future__ import annotations

import posixpath
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from fsregistry.exceptions import (
    ConcurrentUpdateError,
    InvalidParameterValue,
    UnsupportedOperation,
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
    """

    atomic_create: bool
    compare_and_swap: bool
    append: bool
    directories: bool
    cheap_stat: bool = False


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


def check_path(path: str) -> str:
    """Normalise a store-relative path and refuse anything that could escape the root."""
    if "\x00" in path:
        raise InvalidParameterValue(f"Invalid path {path!r}: contains a NUL character")
    if path.startswith("/") or "\\" in path:
        raise InvalidParameterValue(f"Invalid path {path!r}: must be relative and use '/'")
    if not path.isascii():
        try:
            path.encode("utf-8")
        except UnicodeEncodeError as e:
            raise InvalidParameterValue(
                f"Invalid path {path!r}: a lone surrogate at position {e.start}, which no "
                "file or object name can hold"
            ) from e
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise InvalidParameterValue(f"Invalid path {path!r}: '..' is not allowed")
    return "/".join(parts)


def join(*parts: str) -> str:
    """Join store-relative path pieces (empty pieces are skipped)."""
    return posixpath.join(*[p for p in parts if p]) if any(parts) else ""


class Storage(ABC):
    """One store root on one filesystem; all paths are relative to the root.

    Missing files raise :class:`FileNotFoundError` from the read methods.
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

    @abstractmethod
    def list_dir(self, path: str) -> tuple[list[str], list[str]]:
        """Immediate children of a directory as (sub-directory names, file names)."""

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
        """

    # -- guarded operations built on the primitives ------------------------------------------
    def create(self, path: str, data: bytes) -> None:
        """Create ``path`` only if it does not exist; raises FileExistsError if taken.

        Idempotent for a retried request: when the existing file holds exactly ``data`` the
        create counts as done, so callers that claim names must put a unique token in ``data``.
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
