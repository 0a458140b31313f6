"""Find a model's directory from any model URI and get its files locally, fetching only what
is needed.

* :func:`resolve_location` turns ``models:/name@alias``, ``models:/name/latest``,
  ``models:/name/3``, ``runs:/<run>/<path>``, local paths, ``file://``, ``s3://`` and ``gs://``
  URIs into the artifact URI of the model directory (the registry layer resolves ``models:/``).
* :func:`read_model_file` reads one file (``MLmodel``, ``requirements.txt``...) without
  downloading the rest.
* :func:`local_model_dir` gives a local directory holding the whole model: a local model is
  used in place; a remote one is downloaded once into a cache directory
  (``$FSREG_MODEL_CACHE`` or ``~/.cache/fsregistry/models``) keyed by the model's location,
  its file listing (names, sizes and change tokens: S3 ETags, GCS generations) and the content
  of ``MLmodel`` and the hash manifest, so a
  changed model is downloaded again instead of being served stale. Entries appear atomically
  (download to a temporary directory, then rename), so concurrent loaders never see half a
  model.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist
from fsregistry.models.hashes import HASHES_FILE
from fsregistry.storage import join
from fsregistry.storage.artifact_repo import ArtifactRepository
from fsregistry.storage.base import FileInfo

if TYPE_CHECKING:
    from fsregistry.uris import ResolvedModel

MLMODEL_FILE_NAME = "MLmodel"


def cache_root() -> Path:
    env = os.environ.get("FSREG_MODEL_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "fsregistry" / "models"


class LocalModel(NamedTuple):
    """A model's files on local disk: ``path`` (the directory), the ``location`` they came
    from, and ``registered_digest``, the manifest digest the registry recorded for the
    version a ``models:/<name>/...`` URI named (None for any other URI, or none recorded)."""

    path: str
    location: str
    registered_digest: str | None = None


def resolve_location(model_uri: str) -> str:
    """Artifact URI of the model directory named by ``model_uri`` (any accepted form)."""
    return _resolve(model_uri, with_digest=False).uri


def _resolve(model_uri: str, *, with_digest: bool) -> ResolvedModel:
    if not isinstance(model_uri, str) or not model_uri.strip():
        raise InvalidParameterValue(f"Invalid model URI {model_uri!r}: expected a non-empty string")
    from fsregistry.uris import resolve_model

    return resolve_model(os.fspath(model_uri), with_digest=with_digest)


def _repo(location: str) -> ArtifactRepository:
    return ArtifactRepository(location)


def read_model_file(model_uri: str, rel_path: str, *, location: str | None = None) -> bytes:
    """Bytes of one file of a model, without downloading the others."""
    location = location or resolve_location(model_uri)
    try:
        return _repo(location).read_bytes(rel_path)
    except ResourceDoesNotExist:
        raise ResourceDoesNotExist(
            f"No such artifact: {rel_path!r} (in the model at {model_uri!r}, resolved to "
            f"{location})"
        ) from None


def local_path_or_none(location: str) -> str | None:
    from fsregistry.storage import local_path_of

    try:
        return local_path_of(location)
    except InvalidParameterValue:
        return None


def _listing(repo: ArtifactRepository) -> list[FileInfo]:
    return sorted(repo.storage.walk(""), key=lambda f: f.path)


def _download(repo: ArtifactRepository, files: list[FileInfo], dst: str) -> None:
    for info in files:
        local = os.path.join(dst, *info.path.split("/"))
        os.makedirs(os.path.dirname(local), exist_ok=True)
        repo.storage.get_file(info.path, local)


def local_model_dir(
    model_uri: str, *, dst_path: str | None = None, location: str | None = None
) -> LocalModel:
    """The model's files in a local directory (and where they came from).

    With ``dst_path`` (an existing directory) the model is copied there, as MLflow's
    ``dst_path`` does; otherwise a local model is used in place and a remote one comes from
    the download cache. ``location``, when the caller resolved the URI already, skips the
    resolution (and so knows no registered digest).
    """
    digest = None
    if location is None:
        resolved = _resolve(model_uri, with_digest=True)
        location, digest = resolved.uri, resolved.digest
    local = local_path_or_none(location)
    if local is not None and dst_path is None:
        mlmodel = os.path.join(local, MLMODEL_FILE_NAME)
        if not os.path.isdir(local):
            # MLflow's text when it cannot download the model directory.
            raise ResourceDoesNotExist(
                f"No such artifact: {os.path.basename(os.path.normpath(local))!r} "
                f"(no MLflow model at {model_uri!r})"
            )
        if not os.path.isfile(mlmodel):
            raise ResourceDoesNotExist(
                f'Could not find an "{MLMODEL_FILE_NAME}" configuration file at "{mlmodel}"'
            )
        return LocalModel(local, location, digest)
    repo = _repo(location)
    files = _listing(repo)
    names = {f.path for f in files}
    if MLMODEL_FILE_NAME not in names:
        raise ResourceDoesNotExist(
            f"No such artifact: {MLMODEL_FILE_NAME!r} (no MLflow model at {model_uri!r}, "
            f"resolved to {location})"
        )
    if dst_path is not None:
        target = os.path.abspath(dst_path)
        # MLflow's texts (ArtifactRepository.download_artifacts).
        if not os.path.exists(target):
            raise ResourceDoesNotExist(
                "The destination path for downloaded artifacts does not exist! "
                f"Destination path: {target}"
            )
        if not os.path.isdir(target):
            raise InvalidParameterValue(
                "The destination path for downloaded artifacts must be a directory! "
                f"Destination path: {target}"
            )
        if not _is_logged_model_uri(model_uri):  # MLflow 3 puts models:/<id> in dst itself
            target = os.path.join(target, _last_segment(location))
        os.makedirs(target, exist_ok=True)
        _download(repo, files, target)
        return LocalModel(target, location, digest)
    key = hashlib.sha256()
    key.update(location.rstrip("/").encode("utf-8") + b"\0")
    for f in files:
        key.update(f"{f.path}\0{f.size}\0{f.token}\0".encode())  # token: ETag / generation
    key.update(hashlib.sha256(repo.read_bytes(MLMODEL_FILE_NAME)).digest())
    if HASHES_FILE in names:
        key.update(hashlib.sha256(repo.read_bytes(HASHES_FILE)).digest())
    root = cache_root()
    entry = root / key.hexdigest()[:40]
    if (entry / MLMODEL_FILE_NAME).is_file():
        return LocalModel(str(entry), location, digest)
    root.mkdir(parents=True, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".partial-", dir=root)
    try:
        _download(repo, files, tmp)
        try:
            os.rename(tmp, entry)
        except OSError:
            if not (entry / MLMODEL_FILE_NAME).is_file():
                raise
            # another process finished the same entry first: use theirs
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    return LocalModel(str(entry), location, digest)


def _is_logged_model_uri(model_uri: str) -> bool:
    from fsregistry.mlruns.uris import is_models_uri, parse_models_uri

    return is_models_uri(model_uri) and parse_models_uri(model_uri).model_id is not None


def _last_segment(location: str) -> str:
    segment = location.rstrip("/").rsplit("/", 1)[-1]
    return segment or "model"


def write_model_file(location: str, rel_path: str, data: bytes) -> None:
    _repo(location).write_bytes(join(rel_path), data)
