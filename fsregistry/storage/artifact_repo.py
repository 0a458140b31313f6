"""Artifacts under one artifact URI (a run's ``artifact_uri`` or a model's location).

Any store URL works, so artifacts can live apart from the tracking metadata.

A file is never written where a directory is, nor below another file
(:class:`~fsregistry.exceptions.PathConflict`): local disk refuses it by itself, and on object
stores, which would take both ``a`` and ``a/b`` as keys, the paths are checked first
(:meth:`~fsregistry.storage.base.Storage.file_conflicts`), as they always are before
``log_artifacts`` writes many files, so that none is written when one cannot be. If an
upload of ``log_artifacts`` fails midway (a full disk), the files it had added are deleted
again. Downloads name the local path when the local side fails, and leave no partial file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from fsregistry.exceptions import (
    FsRegistryException,
    InvalidParameterValue,
    ResourceDoesNotExist,
    shown,
)
from fsregistry.storage import Storage, check_path, join, open_storage
from fsregistry.storage.base import path_conflict, raise_os_error
from fsregistry.storage.local_files import LOCK_SUFFIX, TEMP_INFIX, is_internal_name


@dataclass
class FileInfo:
    """MLflow's ``FileInfo`` entity (re-exported by :mod:`fsregistry.entities`): one entry of an
    artifact listing; ``path`` is relative to the artifact root."""

    path: str
    is_dir: bool
    file_size: int | None = None

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        """``(name, value)`` pairs by name, as MLflow's entities iterate (``dict(info)``)."""
        yield from (("file_size", self.file_size), ("is_dir", self.is_dir), ("path", self.path))


class DownloadProgress(Protocol):
    """Follows a download: the total size (None if unknown) first, then each chunk's size."""

    def start(self, total_bytes: int | None) -> None: ...

    def advance(self, nbytes: int) -> None: ...


def _artifact_path(path: str | None) -> str:
    if path is None:
        return ""
    if not isinstance(path, str):
        raise InvalidParameterValue(f"Invalid artifact path {shown(path)}: must be a string")
    if path.startswith("/") or "\\" in path:
        raise InvalidParameterValue(f"Invalid artifact path {shown(path)}: must be relative")
    checked = check_path(path)
    control = next((ch for ch in checked if ord(ch) < 32 or ord(ch) == 127), None)
    if control is not None:
        # S3 and GCS answer such keys differently (S3 lists them only URL-encoded; an
        # emulator refuses the PutObject): a file that cannot be written everywhere is not.
        raise InvalidParameterValue(
            f"Invalid artifact path {shown(path)}: contains the control character {control!r}"
        )
    return checked


def _serialise(value: Any, as_yaml: bool) -> str:
    """``value`` as JSON or YAML text; TypeError or ValueError when it cannot be."""
    if not as_yaml:
        return json.dumps(value, indent=2)
    import yaml

    try:
        text: str = yaml.safe_dump(value, default_flow_style=False, allow_unicode=True)
    except yaml.YAMLError as e:  # a value safe_dump has no representation for
        raise TypeError(str(e)) from e
    return text


def _refuse_internal_names(paths: list[str]) -> None:
    """Refuse artifact files named like fsregistry's own lock or temp files
    (``.<name>#fsreg-lock``, ``.<name>#fsreg-tmp-<32 hex>``), or below a directory so named:
    on local disk listings would hide them, so they could never be read back, and ``fsreg
    doctor`` could not tell them from an interrupted upload's leftovers. Checked on every
    backend, so a tree copied to local disk never holds one."""
    bad = [p for p in paths if any(is_internal_name(part) for part in p.split("/"))]
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise InvalidParameterValue(
            f"Invalid artifact file name {shown(bad[0])}{more}: names of the form "
            f"'.<name>{LOCK_SUFFIX}' and '.<name>{TEMP_INFIX}<32 hex digits>' are reserved "
            "for fsregistry's own lock and temp files"
        )


def _local_dirs(path: str) -> None:
    """``os.makedirs(path, exist_ok=True)`` for a download, its errors naming ``path``."""
    try:
        os.makedirs(path, exist_ok=True)
    except FileExistsError as e:  # a file where a directory is needed
        raise path_conflict(path, "the local filesystem", "a file is in the way") from e
    except OSError as e:
        raise_os_error(e, path, "the local filesystem", writing=True)


class ArtifactRepository:
    """Read and write artifacts below ``artifact_uri``."""

    def __init__(self, artifact_uri: str) -> None:
        self.artifact_uri = artifact_uri.rstrip("/")
        self.storage: Storage = open_storage(self.artifact_uri)

    def log_artifact(
        self, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        local = os.fspath(local_path)
        if not os.path.isfile(local):
            raise InvalidParameterValue(f"Artifact {shown(local)} is not a file")
        dest = join(_artifact_path(artifact_path), os.path.basename(local))
        _refuse_internal_names([dest])
        self._check_one(dest)
        self.storage.put_file(local, dest)

    def log_artifacts(
        self, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        local = os.fspath(local_dir)
        if not os.path.isdir(local):
            raise InvalidParameterValue(f"Artifact directory {shown(local)} is not a directory")
        base = _artifact_path(artifact_path)
        uploads: dict[str, str] = {}  # store path -> local file
        for dirpath, _, filenames in os.walk(local):
            rel_dir = os.path.relpath(dirpath, local)
            rel_dir = "" if rel_dir == "." else rel_dir.replace(os.sep, "/")
            for name in filenames:
                uploads[join(base, rel_dir, name)] = os.path.join(dirpath, name)
        if not uploads:
            self.storage.make_dirs(base)
            return
        _refuse_internal_names(list(uploads))
        self._check_all(list(uploads))
        before = {join(base, info.path) for info in self.storage.walk(base, sizes=False)}
        done: list[str] = []
        try:
            for dest, source in uploads.items():
                self.storage.put_file(source, dest)
                done.append(dest)
        except FsRegistryException:
            for dest in done:  # take back the files this call added (not those it replaced)
                if dest not in before:
                    self.storage.delete(dest)
            raise

    def _check_one(self, path: str) -> None:
        """Refuse a file write onto a directory or below a file where the storage would not
        (object stores); local disk refuses it by itself, atomically."""
        if not self.storage.capabilities.directories:
            self._check_all([path])

    def _check_all(self, paths: list[str]) -> None:
        conflicts = self.storage.file_conflicts(paths)
        if conflicts:
            path, why = next(iter(conflicts.items()))
            more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
            raise path_conflict(path, self.artifact_uri, why + more)

    def write_bytes(self, artifact_file: str, data: bytes) -> None:
        path = _artifact_path(artifact_file)
        if not path:
            raise InvalidParameterValue(f"Invalid artifact file {shown(artifact_file)}")
        _refuse_internal_names([path])
        self._check_one(path)
        self.storage.write(path, data)

    def log_text(self, text: str, artifact_file: str) -> None:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise InvalidParameterValue(
                f"Invalid text for artifact {artifact_file!r}: the character {text[e.start]!r} "
                f"at position {e.start} is a lone surrogate, which UTF-8 cannot store"
            ) from e
        self.write_bytes(artifact_file, data)

    def log_dict(self, dictionary: Any, artifact_file: str) -> None:
        """JSON, or YAML when the file name ends in .yaml/.yml (as MLflow decides). A value
        neither can write (a complex number, a cycle, an int too long for ``str``) raises
        InvalidParameterValue before anything is written."""
        as_yaml = _artifact_path(artifact_file).endswith((".yaml", ".yml"))
        try:
            text = _serialise(dictionary, as_yaml)
        except (TypeError, ValueError) as e:  # ValueError: cycles, ints over 4300 digits
            raise InvalidParameterValue(
                f"Cannot write {artifact_file!r}: the {type(dictionary).__name__} holds a value "
                f"it cannot store: {e}"
            ) from e
        self.log_text(text, artifact_file)

    def list_artifacts(self, path: str | None = None) -> list[FileInfo]:
        """Immediate children of ``path``, with paths relative to the artifact root."""
        base = _artifact_path(path)
        sizes: dict[str, int | None] = {}
        for info in self.storage.walk(base):
            head, sep, _ = info.path.partition("/")
            if sep:
                sizes.setdefault(head + "/", None)
            else:
                sizes[head] = info.size
        dirs, _ = self.storage.list_dir(base)
        for d in dirs:
            sizes.setdefault(d + "/", None)  # empty directories exist on local disk
        out = []
        for name, size in sizes.items():
            is_dir = name.endswith("/")
            out.append(FileInfo(join(base, name.rstrip("/")), is_dir, None if is_dir else size))
        return sorted(out, key=lambda f: f.path)

    def read_bytes(self, artifact_file: str) -> bytes:
        path = _artifact_path(artifact_file)
        try:
            return self.storage.read(path)
        except FileNotFoundError:
            raise ResourceDoesNotExist(
                f"Artifact {shown(artifact_file)} not found under {self.artifact_uri}"
            ) from None

    def download_artifacts(
        self,
        artifact_path: str | None = None,
        dst_path: str | None = None,
        progress: DownloadProgress | None = None,
    ) -> str:
        """Copy a file or directory to ``dst_path`` (a new temp dir if None); returns its path.

        ``progress`` is told the total size before the first byte moves, then each chunk.
        """
        src = _artifact_path(artifact_path)
        dst_root = os.path.abspath(dst_path) if dst_path else tempfile.mkdtemp(prefix="fsreg-")
        if dst_path and not os.path.isdir(dst_root):
            raise InvalidParameterValue(
                f"Destination {shown(dst_path)} is not an existing directory"
            )
        advance = progress.advance if progress is not None else None
        files = self.storage.walk(src)
        if files:  # a directory
            if progress is not None:
                progress.start(sum(f.size for f in files))
            target = os.path.join(dst_root, *src.split("/")) if src else dst_root
            for info in files:
                local = os.path.join(target, *info.path.split("/"))
                _local_dirs(os.path.dirname(local))
                self.storage.get_file(join(src, info.path), local, callback=advance)
            _local_dirs(target)
            return target
        if src and self.storage.exists(src):
            local = os.path.join(dst_root, *src.split("/"))
            _local_dirs(os.path.dirname(local))
            if progress is not None:
                progress.start(self._file_size(src))
            self.storage.get_file(src, local, callback=advance)
            return local
        if not src or self.storage.list_dir(src)[0]:
            target = os.path.join(dst_root, *src.split("/")) if src else dst_root
            _local_dirs(target)
            return target
        raise ResourceDoesNotExist(
            f"Artifact {shown(artifact_path)} not found under {self.artifact_uri}"
        )

    def _file_size(self, path: str) -> int | None:
        """Size of one file from a listing of its directory (sub-directories pruned)."""
        parent, _, name = path.rpartition("/")
        for info in self.storage.walk(parent, prune=lambda _dir: True):
            if info.path == name:
                return info.size
        return None
