"""Any fsspec filesystem as a :class:`Storage`; the base of the S3 and GCS backends.

A generic fsspec filesystem gives plain reads, writes and listings but no atomic create or
compare-and-swap, so those capabilities are off and the guarded operations refuse to run.
``memory://`` lives inside one process, where a process-wide lock makes them atomic.

Errors: every method runs its filesystem calls inside :meth:`FsspecStorage._errors`, the one
place what the filesystem or its client raises becomes what the storage contract allows;
:meth:`FsspecStorage._error` translates ``OSError`` (as local disk does), and the S3 and GCS
backends add their clients' own exceptions. On an object store a key longer than 1,024
bytes is refused before any request (S3 and GCS refuse it, the emulators take it), and a
write to a bucket that does not exist is :class:`~fsregistry.exceptions.StoreMissing`.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import threading
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any, TypeVar

from fsregistry.exceptions import (
    FsRegistryException,
    InvalidParameterValue,
    StoreMissing,
    UnsupportedOperation,
    shown,
)
from fsregistry.storage.base import (
    Capabilities,
    ConflictError,
    FileInfo,
    Storage,
    Versioned,
    check_path,
    content_token,
    os_error,
    raise_os_error,
)

T = TypeVar("T")

# Concurrent requests in a bulk read: enough to hide per-request latency on a bucket,
# few enough not to trip request-rate limits or exhaust connection pools.
BULK_CONCURRENCY = 32
# S3 and GCS both limit an object's name to 1,024 bytes of UTF-8.
MAX_KEY_BYTES = 1024
# Errors writing a download's local file, as opposed to reading the store (see get_file).
_LOCAL_ERRNOS = frozenset(
    {
        errno.ENOSPC,
        errno.EDQUOT,
        errno.EFBIG,
        errno.EROFS,
        errno.EACCES,
        errno.ENAMETOOLONG,
        errno.EISDIR,
        errno.ENOTDIR,
    }
)


def _change_token(info: dict[str, Any]) -> str:
    """S3 ETag or GCS generation from a listing entry: both change on every write."""
    for key in ("generation", "ETag", "etag"):
        if info.get(key):
            return str(info[key])
    return ""


def _byte_callback(report: Callable[[int], None]) -> Any:
    """An fsspec transfer callback forwarding each chunk's size to ``report``."""
    from fsspec.callbacks import Callback

    class ByteCallback(Callback):  # type: ignore[misc]
        def relative_update(self, inc: int = 1) -> None:
            super().relative_update(inc)
            report(inc)

    return ByteCallback()


def _pruned(rel: str, prune: Callable[[str], bool]) -> bool:
    parts = rel.split("/")[:-1]
    return any(prune("/".join(parts[: i + 1])) for i in range(len(parts)))


class FsspecStorage(Storage):
    """A root on an fsspec filesystem (``fs``) at ``root`` (a path in ``fs``'s own terms)."""

    capabilities = Capabilities(
        atomic_create=False, compare_and_swap=False, append=False, directories=False
    )

    def __init__(self, fs: Any, root: str, protocol: str) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        self.protocol = protocol
        self.requests = 0  # requests issued by this instance's bulk helpers (benchmarks)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.root_uri!r})"

    @property
    def root_uri(self) -> str:
        return f"{self.protocol}://{self.root}"

    def _full(self, path: str) -> str:
        path = check_path(path)
        return f"{self.root}/{path}" if path else self.root

    @contextlib.contextmanager
    def _errors(self, path: str, *, writing: bool) -> Iterator[None]:
        """Let the contract's own exceptions through and translate the rest (``_error``);
        the one place this backend does it."""
        try:
            yield
        except (FsRegistryException, ConflictError, FileExistsError):
            raise
        except FileNotFoundError as e:
            if not writing:
                raise
            error = self._error(e, path, writing=True)
            if error is None or error is e:
                raise
            raise error from e
        except Exception as e:
            error = self._error(e, path, writing=writing)
            if error is None or error is e:
                raise  # not a storage failure this backend knows (a bug): as it is
            raise error from e

    def _error(self, error: Exception, path: str, *, writing: bool) -> Exception | None:
        """The contract's exception for ``error``, met reading or writing ``path``; None for
        an exception that is not the filesystem's. Backends extend it for their clients."""
        if isinstance(error, OSError):
            return os_error(error, path, self.root_uri, writing=writing)
        return None

    # -- async plumbing -------------------------------------------------------------------
    def _run(self, coro: Awaitable[T]) -> T:
        from fsspec.asyn import sync

        result: T = sync(self.fs.loop, lambda: coro)
        return result

    # -- reads ----------------------------------------------------------------------------
    def read(self, path: str) -> bytes:
        full = self._full(path)
        with self._errors(path, writing=False):
            data: bytes = self.fs.cat_file(full)
        return data

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for p in paths:
            try:
                out[p] = self.read(p)
            except FileNotFoundError:
                continue
        return out

    def read_versioned(self, path: str) -> Versioned:
        data = self.read(path)
        return Versioned(data, content_token(data))

    def exists(self, path: str) -> bool:
        full = self._full(path)
        with self._errors(path, writing=False):
            return bool(self.fs.exists(full))

    def tokens(self, paths: Iterable[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for p in paths:
            full = self._full(p)
            try:
                with self._errors(p, writing=False):
                    info = self.fs.info(full)
            except FileNotFoundError:
                continue
            if info.get("type") != "directory":
                out[p] = _change_token(info)
        return out

    def list_dir(self, path: str) -> tuple[list[str], list[str]]:
        full = self._full(path)
        try:
            with self._errors(path, writing=False):
                entries = self.fs.ls(full, detail=True)
        except FileNotFoundError:
            return [], []
        dirs: list[str] = []
        files: list[str] = []
        for e in entries:
            name = e["name"].rstrip("/").rsplit("/", 1)[-1]
            if e["name"].rstrip("/") == full:
                continue  # some backends list a file as its own child
            (dirs if e["type"] == "directory" else files).append(name)
        return dirs, files

    def list_dir_tokens(self, path: str) -> tuple[list[str], dict[str, str]]:
        full = self._full(path)
        try:
            with self._errors(path, writing=False):
                entries = self.fs.ls(full, detail=True)
        except FileNotFoundError:
            return [], {}
        dirs: list[str] = []
        files: dict[str, str] = {}
        for e in entries:
            name = e["name"].rstrip("/").rsplit("/", 1)[-1]
            if e["name"].rstrip("/") == full:
                continue  # some backends list a file as its own child
            if e["type"] == "directory":
                dirs.append(name)
            else:
                files[name] = _change_token(e)
        return dirs, files

    def walk(
        self, path: str, prune: Callable[[str], bool] | None = None, sizes: bool = True
    ) -> list[FileInfo]:
        full = self._full(path)
        prefix = full + "/"
        try:
            with self._errors(path, writing=False):
                found = self.fs.find(full, detail=True)
        except FileNotFoundError:
            return []  # no bucket: nothing in it
        out = []
        for name, info in found.items():
            name = self.fs._strip_protocol(name)
            if not name.startswith(prefix) or info.get("type") == "directory":
                continue
            rel = name[len(prefix) :]
            if prune is not None and _pruned(rel, prune):
                continue
            out.append(FileInfo(rel, int(info.get("size") or 0), _change_token(info)))
        return out

    # -- writes ---------------------------------------------------------------------------
    def write(self, path: str, data: bytes) -> None:
        full = self._full(path)
        with self._errors(path, writing=True):
            self.fs.pipe_file(full, data)

    def _create(self, path: str, data: bytes) -> None:
        raise UnsupportedOperation(f"atomic create is not available on {self.root_uri}")

    def _write_if_match(self, path: str, data: bytes, token: str | None) -> None:
        raise UnsupportedOperation(f"compare-and-swap is not available on {self.root_uri}")

    def append(self, path: str, data: bytes) -> None:
        raise UnsupportedOperation(
            f"{self.root_uri} cannot append to files; metric writes are buffered instead"
        )

    def delete(self, path: str) -> None:
        full = self._full(path)
        with self._errors(path, writing=True):
            try:
                self.fs.rm_file(full)
            except FileNotFoundError:
                return  # missing is not an error (nor is a missing bucket: nothing to delete)

    def delete_tree(self, path: str) -> None:
        full = self._full(path)
        with self._errors(path, writing=True):
            try:
                self.fs.rm(full, recursive=True)
            except FileNotFoundError:
                return

    def make_dirs(self, path: str) -> None:
        """Object stores have no empty directories; the first file makes the prefix exist."""

    def move_tree(self, src: str, dst: str) -> None:
        if self.exists(dst):
            raise FileExistsError(dst)
        # Copy every file, then delete the source: readers may see both for a moment,
        # never neither.
        for info in self.walk(src):
            self.write(f"{dst}/{info.path}", self.read(f"{src}/{info.path}"))
        self.delete_tree(src)

    def put_file(self, local_path: str, path: str) -> None:
        full = self._full(path)
        with self._errors(path, writing=True):
            self.fs.put_file(local_path, full)

    def get_file(
        self, path: str, local_path: str, callback: Callable[[int], None] | None = None
    ) -> None:
        full = self._full(path)
        options = {} if callback is None else {"callback": _byte_callback(callback)}
        try:
            with self._errors(path, writing=False):
                try:
                    self.fs.get_file(full, local_path, **options)
                except OSError as e:
                    if _is_local(e, local_path):
                        raise_os_error(e, local_path, "the local filesystem", writing=True)
                    raise
        except BaseException:
            if os.path.isfile(local_path):
                os.unlink(local_path)  # what the client wrote of it before failing
            raise


def _is_local(error: OSError, local_path: str) -> bool:
    """Whether an error from a download is the local file's (a full disk, a name too long),
    not the store's: object stores do not answer with these errnos."""
    if error.filename == local_path:
        return True
    return error.errno in _LOCAL_ERRNOS and not isinstance(error, ConnectionError)


class MemoryStorage(FsspecStorage):
    """``memory://``: one process's RAM, so a process-wide lock makes writes atomic."""

    capabilities = Capabilities(
        atomic_create=True, compare_and_swap=True, append=False, directories=False
    )
    _lock = threading.RLock()

    def write(self, path: str, data: bytes) -> None:
        with self._lock:
            super().write(path, data)

    def _create(self, path: str, data: bytes) -> None:
        with self._lock:
            if self.fs.isfile(self._full(path)):
                raise FileExistsError(path)
            super().write(path, data)

    def _write_if_match(self, path: str, data: bytes, token: str | None) -> None:
        with self._lock:
            try:
                current: str | None = content_token(self.read(path))
            except FileNotFoundError:
                current = None
            if current != token:
                raise ConflictError(path)
            super().write(path, data)


# Precondition of an object write: none, "the key must not exist", or "still at this version".
ABSENT = "\x00absent"


class ObjectStorage(FsspecStorage):
    """An object store with conditional writes; backends supply one GET and one PUT.

    ``_get`` returns the body and its version (ETag, generation) from a single response, so
    a compare-and-swap never pairs one version's token with another version's bytes.
    """

    capabilities = Capabilities(
        atomic_create=True, compare_and_swap=True, append=False, directories=False
    )

    @abstractmethod
    async def _get(self, path: str) -> tuple[bytes, str]:
        """Body and version token; FileNotFoundError if missing."""

    @abstractmethod
    async def _put(self, path: str, data: bytes, precondition: str | None) -> None:
        """Write; ``precondition`` is None, ABSENT or a version token. ConflictError if unmet."""

    def _full(self, path: str) -> str:
        full = super()._full(path)
        key = full.partition("/")[2]
        if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
            raise InvalidParameterValue(
                f"Invalid path {shown(path)} under {self.root_uri}: the object name would be "
                f"{len(key.encode('utf-8', 'surrogatepass'))} bytes long, over the "
                f"{MAX_KEY_BYTES} bytes S3 and GCS allow"
            )
        return full

    def _error(self, error: Exception, path: str, *, writing: bool) -> Exception | None:
        if writing and isinstance(error, FileNotFoundError):
            # A write meets "not found" only when the bucket itself is missing.
            bucket = self.root.partition("/")[0]
            return StoreMissing(
                f"Could not write {shown(path)} under {self.root_uri}: the bucket {bucket!r} "
                "does not exist (fsregistry never creates buckets)"
            )
        return super()._error(error, path, writing=writing)

    def read(self, path: str) -> bytes:
        return self.read_versioned(path).data

    def read_versioned(self, path: str) -> Versioned:
        self._full(path)  # a path too long is refused before any request
        with self._errors(path, writing=False):
            data, token = self._run(self._get(path))
        return Versioned(data, token)

    def _fetch_many(
        self, paths: Iterable[str], fetch: Callable[[str], Awaitable[T | None]]
    ) -> dict[str, T]:
        """``fetch(path)`` for many paths at once (at most BULK_CONCURRENCY in flight); paths
        it finds missing (FileNotFoundError) or answers None for are left out."""
        sem = asyncio.Semaphore(BULK_CONCURRENCY)
        unique = list(dict.fromkeys(paths))
        for p in unique:
            self._full(p)  # a path too long is refused before any request

        async def one(p: str) -> tuple[str, T | None]:
            async with sem:
                try:
                    with self._errors(p, writing=False):
                        return p, await fetch(p)
                except FileNotFoundError:
                    return p, None

        async def all_() -> list[tuple[str, T | None]]:
            return await asyncio.gather(*(one(p) for p in unique))

        return {p: v for p, v in self._run(all_()) if v is not None}

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        async def body(p: str) -> bytes:
            return (await self._get(p))[0]

        return self._fetch_many(paths, body)

    def tokens(self, paths: Iterable[str]) -> dict[str, str]:
        async def token(p: str) -> str | None:
            info = await self.fs._info(self._full(p))
            return None if info.get("type") == "directory" else _change_token(info)

        return self._fetch_many(paths, token)

    def write(self, path: str, data: bytes) -> None:
        self._put_now(path, data, None)

    def _create(self, path: str, data: bytes) -> None:
        try:
            self._put_now(path, data, ABSENT)
        except ConflictError as e:
            raise FileExistsError(path) from e

    def _write_if_match(self, path: str, data: bytes, token: str | None) -> None:
        self._put_now(path, data, ABSENT if token is None else token)

    def _put_now(self, path: str, data: bytes, precondition: str | None) -> None:
        self._full(path)  # a path too long is refused before any request
        with self._errors(path, writing=True):
            self._run(self._put(path, data, precondition))
