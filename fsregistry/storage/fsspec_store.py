"""Any fsspec filesystem as a :class:`Storage`; the base of the S3 and GCS backends.

A generic fsspec filesystem gives plain reads, writes and listings but no atomic create or
compare-and-swap, so those capabilities are off and the guarded operations refuse to run.
``memory://`` lives inside one process, where a process-wide lock makes them atomic.
"""

from __future__ import annotations

import asyncio
import threading
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from fsregistry.exceptions import UnsupportedOperation
from fsregistry.storage.base import (
    Capabilities,
    ConflictError,
    FileInfo,
    Storage,
    Versioned,
    check_path,
    content_token,
)

T = TypeVar("T")

# Concurrent requests in a bulk read: enough to hide per-request latency on a bucket,
# few enough not to trip request-rate limits or exhaust connection pools.
BULK_CONCURRENCY = 32


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

    # -- async plumbing -------------------------------------------------------------------
    def _run(self, coro: Awaitable[T]) -> T:
        from fsspec.asyn import sync

        result: T = sync(self.fs.loop, lambda: coro)
        return result

    # -- reads ----------------------------------------------------------------------------
    def read(self, path: str) -> bytes:
        data: bytes = self.fs.cat_file(self._full(path))
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
        return bool(self.fs.exists(self._full(path)))

    def tokens(self, paths: Iterable[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for p in paths:
            try:
                info = self.fs.info(self._full(p))
            except FileNotFoundError:
                continue
            if info.get("type") != "directory":
                out[p] = _change_token(info)
        return out

    def list_dir(self, path: str) -> tuple[list[str], list[str]]:
        full = self._full(path)
        try:
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

    def walk(
        self, path: str, prune: Callable[[str], bool] | None = None, sizes: bool = True
    ) -> list[FileInfo]:
        full = self._full(path)
        prefix = full + "/"
        found = self.fs.find(full, detail=True)
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
        self.fs.pipe_file(self._full(path), data)

    def _create(self, path: str, data: bytes) -> None:
        raise UnsupportedOperation(f"atomic create is not available on {self.root_uri}")

    def _write_if_match(self, path: str, data: bytes, token: str | None) -> None:
        raise UnsupportedOperation(f"compare-and-swap is not available on {self.root_uri}")

    def append(self, path: str, data: bytes) -> None:
        raise UnsupportedOperation(
            f"{self.root_uri} cannot append to files; metric writes are buffered instead"
        )

    def delete(self, path: str) -> None:
        try:
            self.fs.rm_file(self._full(path))
        except FileNotFoundError:
            return

    def delete_tree(self, path: str) -> None:
        full = self._full(path)
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
        self.fs.put_file(local_path, self._full(path))

    def get_file(
        self, path: str, local_path: str, callback: Callable[[int], None] | None = None
    ) -> None:
        if callback is None:
            self.fs.get_file(self._full(path), local_path)
        else:
            self.fs.get_file(self._full(path), local_path, callback=_byte_callback(callback))


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

    def read(self, path: str) -> bytes:
        return self._run(self._get(path))[0]

    def read_versioned(self, path: str) -> Versioned:
        data, token = self._run(self._get(path))
        return Versioned(data, token)

    def _fetch_many(
        self, paths: Iterable[str], fetch: Callable[[str], Awaitable[T | None]]
    ) -> dict[str, T]:
        """``fetch(path)`` for many paths at once (at most BULK_CONCURRENCY in flight); paths
        it finds missing (FileNotFoundError) or answers None for are left out."""
        sem = asyncio.Semaphore(BULK_CONCURRENCY)

        async def one(p: str) -> tuple[str, T | None]:
            async with sem:
                try:
                    return p, await fetch(p)
                except FileNotFoundError:
                    return p, None

        async def all_() -> list[tuple[str, T | None]]:
            return await asyncio.gather(*(one(p) for p in dict.fromkeys(paths)))

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
        self._run(self._put(path, data, None))

    def _create(self, path: str, data: bytes) -> None:
        try:
            self._run(self._put(path, data, ABSENT))
        except ConflictError as e:
            raise FileExistsError(path) from e

    def _write_if_match(self, path: str, data: bytes, token: str | None) -> None:
        self._run(self._put(path, data, ABSENT if token is None else token))
