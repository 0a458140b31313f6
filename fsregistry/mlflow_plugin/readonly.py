"""The storage a read-only plugin store reads through: every write refused, nothing written.

A store that MLflow's server serves read-only (a bucket without ``--writable``, see
``locations``) must write nothing, not even what fsregistry's readers write as a matter of
course. :class:`ReadOnlyStorage` wraps the store's storage:

- every write (``write``, ``create``, ``update``, ``append``, deletes, moves, uploads) raises
  the plugin's PERMISSION_DENIED refusal before touching anything;
- its capabilities say it is read-only and can neither create atomically, compare-and-swap
  nor append, so the tracking store does not create the Default experiment on open, the run
  and registry indexes do not write their shards (readers then read the runs' files, as a
  store without those guarantees does) and trusted searches list every time (``trust``);
- **the Default experiment, virtually**: MLflow's file store creates experiment ``0``
  ("Default") when it opens a root that does not exist, and fsregistry's ``Client`` does the
  same on a store without experiments, so every other reader of an empty store sees it. A
  read-only store cannot create it: while the store holds no experiment (nothing at the root
  but a registry's ``models/``, the condition fsregistry's own creation uses), this storage
  shows a ``0/meta.yaml`` that only exists in its answers (``read``, ``read_many``,
  ``tokens``, ``list_dir``, ``walk``, ``exists``), so MLflow's UI shows the Default
  experiment and its empty run list exactly as it would once the store is opened for writing.
  Once anyone writes an experiment to the store, the real files are all there is.

Reads and artifact downloads go to the wrapped storage unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import NoReturn

from fsregistry.mlruns import layout
from fsregistry.mlruns.artifact_uris import append_uri_path
from fsregistry.mlruns.metafile import dump_meta, now_ms
from fsregistry.storage import Capabilities, FileInfo, Storage, Versioned
from fsregistry.storage.base import content_token
from fsregistry.storage.changes import ChangeFeed
from fsregistry.tracking import records

_DEFAULT_META = layout.experiment_meta(layout.DEFAULT_EXPERIMENT_ID)
_DEFAULT_DIR = layout.DEFAULT_EXPERIMENT_ID


class ReadOnlyStorage(Storage):
    """``inner`` with every write refused by ``refuse(operation)`` and, while the store holds
    no experiment, a virtual Default experiment whose artifacts go under ``artifact_root``."""

    def __init__(
        self,
        inner: Storage,
        refuse: Callable[[str], Exception],
        artifact_root: str | None = None,
    ) -> None:
        self.inner = inner
        self.protocol = inner.protocol
        self._refuse = refuse
        caps = inner.capabilities
        self.capabilities = Capabilities(
            atomic_create=False,
            compare_and_swap=False,
            append=False,
            directories=caps.directories,
            cheap_stat=caps.cheap_stat,
            read_only=True,
        )
        meta = records.experiment_meta(
            layout.DEFAULT_EXPERIMENT_ID,
            layout.DEFAULT_EXPERIMENT_NAME,
            append_uri_path(artifact_root or inner.root_uri, layout.DEFAULT_EXPERIMENT_ID),
            now_ms(),
        )
        self._default = dump_meta(meta)
        self._default_token = "virtual-" + content_token(self._default)

    # -- the virtual Default experiment ------------------------------------------------------
    def shows_default(self) -> bool:
        """Whether the store holds no experiment, so the virtual Default experiment shows."""
        dirs, _ = self.inner.list_dir("")
        return not [d for d in dirs if d not in (layout.MODELS, layout.HISTORY)]

    def _info(self, path: str) -> FileInfo:
        return FileInfo(path, len(self._default), self._default_token)

    # -- identity and reads ------------------------------------------------------------------
    @property
    def root_uri(self) -> str:
        return self.inner.root_uri

    def read(self, path: str) -> bytes:
        try:
            return self.inner.read(path)
        except FileNotFoundError:
            if path == _DEFAULT_META and self.shows_default():
                return self._default
            raise

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes]:
        paths = list(paths)
        found = self.inner.read_many(paths)
        if _DEFAULT_META in paths and _DEFAULT_META not in found and self.shows_default():
            found[_DEFAULT_META] = self._default
        return found

    def read_versioned(self, path: str) -> Versioned:
        try:
            return self.inner.read_versioned(path)
        except FileNotFoundError:
            if path == _DEFAULT_META and self.shows_default():
                return Versioned(self._default, self._default_token)
            raise

    def exists(self, path: str) -> bool:
        if self.inner.exists(path):
            return True
        return path in (_DEFAULT_DIR, _DEFAULT_META) and self.shows_default()

    def tokens(self, paths: Iterable[str]) -> dict[str, str]:
        paths = list(paths)
        found = self.inner.tokens(paths)
        if _DEFAULT_META in paths and _DEFAULT_META not in found and self.shows_default():
            found[_DEFAULT_META] = self._default_token
        return found

    def change_feed(self) -> ChangeFeed | None:
        return self.inner.change_feed()

    def list_dir(self, path: str) -> tuple[list[str], list[str]]:
        dirs, files = self.inner.list_dir(path)
        if path == "" and _DEFAULT_DIR not in dirs and self.shows_default():
            dirs = [*dirs, _DEFAULT_DIR]
        elif path == _DEFAULT_DIR and layout.META not in files and self.shows_default():
            files = [*files, layout.META]
        return dirs, files

    def list_dir_tokens(self, path: str) -> tuple[list[str], dict[str, str]]:
        dirs, files = self.inner.list_dir_tokens(path)
        if path == "" and _DEFAULT_DIR not in dirs and self.shows_default():
            dirs = [*dirs, _DEFAULT_DIR]
        elif path == _DEFAULT_DIR and layout.META not in files and self.shows_default():
            files = {**files, layout.META: self._default_token}
        return dirs, files

    def walk(
        self, path: str, prune: Callable[[str], bool] | None = None, sizes: bool = True
    ) -> list[FileInfo]:
        found = self.inner.walk(path, prune, sizes)
        if path == "":
            if prune is not None and prune(_DEFAULT_DIR):
                return found
            rel = _DEFAULT_META
        elif path == _DEFAULT_DIR:
            rel = layout.META
        else:
            return found
        if not any(f.path == rel for f in found) and self.shows_default():
            found = [*found, self._info(rel)]
        return found

    def get_file(
        self, path: str, local_path: str, callback: Callable[[int], None] | None = None
    ) -> None:
        self.inner.get_file(path, local_path, callback)

    def hold_dir(
        self,
        path: str,
        *,
        exclusive: bool = False,
        require: str | None = None,
        what: str = "",
    ) -> AbstractContextManager[bool]:
        return self.inner.hold_dir(path, exclusive=exclusive, require=require, what=what)

    # -- writes: all refused ----------------------------------------------------------------
    def _refused(self, operation: str) -> NoReturn:
        raise self._refuse(operation)

    def write(self, path: str, data: bytes) -> None:
        self._refused("write")

    def _create(self, path: str, data: bytes) -> None:
        self._refused("create")

    def _write_if_match(self, path: str, data: bytes, token: str | None) -> None:
        self._refused("update")

    def create(self, path: str, data: bytes, *, exclusive: bool = False) -> None:
        self._refused("create")

    def write_if_match(self, path: str, data: bytes, token: str | None) -> None:
        self._refused("update")

    def update(self, path: str, change: Callable[[bytes | None], bytes]) -> bytes:
        self._refused("update")

    def append(self, path: str, data: bytes) -> None:
        self._refused("append")

    def delete(self, path: str) -> None:
        self._refused("delete")

    def delete_tree(self, path: str) -> None:
        self._refused("delete")

    def make_dirs(self, path: str) -> None:
        self._refused("make_dirs")

    def move_tree(self, src: str, dst: str) -> None:
        self._refused("move")

    def put_file(self, local_path: str, path: str) -> None:
        self._refused("upload")
