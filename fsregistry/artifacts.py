"""``mlflow.artifacts``: download, list and read artifacts by URI or run id.

Accepted URIs: ``runs:/<run_id>/<path>`` (run artifacts, or the MLflow 3 LoggedModel the run
logged under that name), ``models:/...`` (registered versions by number, alias, stage or
``latest``, and LoggedModels by id; see :mod:`fsregistry.uris`), and store URLs
(local paths, ``file://``, ``s3://``, ``gs://``).
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

from fsregistry import config, uris
from fsregistry.entities import FileInfo
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.storage.artifact_repo import ArtifactRepository, DownloadProgress


def parse_runs_uri(uri: str) -> tuple[str, str]:
    """``runs:/<run_id>/<path>`` -> (run_id, path)."""
    return uris.parse_runs_uri(uri)


def _resolve(
    artifact_uri: str | None,
    run_id: str | None,
    artifact_path: str | None,
    tracking_uri: str | None,
) -> tuple[ArtifactRepository, str]:
    if (artifact_uri is None) == (run_id is None):
        raise InvalidParameterValue(
            "Give exactly one of artifact_uri and run_id, got "
            f"artifact_uri={artifact_uri!r}, run_id={run_id!r}"
        )
    if artifact_uri is not None and artifact_path is not None:
        raise InvalidParameterValue("artifact_path goes with run_id, not with artifact_uri")
    if run_id is not None:
        run = config.tracking_store(tracking_uri).get_run(run_id)
        return ArtifactRepository(run.info.artifact_uri), artifact_path or ""
    assert artifact_uri is not None
    if uris.is_runs_uri(artifact_uri) or uris.is_models_uri(artifact_uri):
        base, path = uris.resolve_model_uri_parts(artifact_uri, tracking_uri=tracking_uri)
        return ArtifactRepository(base), path
    return ArtifactRepository(artifact_uri), ""


def download_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    dst_path: str | None = None,
    tracking_uri: str | None = None,
    progress: DownloadProgress | None = None,
) -> str:
    """Download a file or directory; returns the local path (in a temp dir if no dst_path).

    A missing ``dst_path`` is created with its parents, as MLflow does. Differs: what was
    created is removed again if the download fails; ``progress`` (fsregistry only) follows
    the bytes, e.g. for a progress bar.
    """
    repo, path = _resolve(artifact_uri, run_id, artifact_path, tracking_uri)
    created = _make_destination(dst_path)
    try:
        return repo.download_artifacts(path or None, dst_path, progress=progress)
    except BaseException:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise


def _make_destination(dst_path: str | None) -> str | None:
    """Create a missing ``dst_path`` and its parents; the topmost directory created, if any."""
    if dst_path is None or os.path.lexists(dst_path):
        return None
    top = os.path.abspath(dst_path)
    while not os.path.lexists(os.path.dirname(top)):
        top = os.path.dirname(top)
    try:
        os.makedirs(dst_path)
    except OSError as e:
        shutil.rmtree(top, ignore_errors=True)
        raise InvalidParameterValue(
            f"Destination {dst_path!r} for downloaded artifacts cannot be created: {e}"
        ) from e
    return top


def list_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    tracking_uri: str | None = None,
) -> list[FileInfo]:
    repo, path = _resolve(artifact_uri, run_id, artifact_path, tracking_uri)
    return repo.list_artifacts(path or None)


def load_text(artifact_uri: str) -> str:
    repo, path = _split_file_uri(artifact_uri)
    return repo.read_bytes(path).decode("utf-8")


def load_dict(artifact_uri: str) -> Any:
    repo, path = _split_file_uri(artifact_uri)
    raw = repo.read_bytes(path)
    if path.endswith((".yaml", ".yml")):
        import yaml

        return yaml.safe_load(raw)
    return json.loads(raw)


def load_image(artifact_uri: str) -> Any:
    """An image artifact as a loaded ``PIL.Image.Image``. Same as MLflow (an unreadable
    image: INVALID_PARAMETER_VALUE, MLflow: BAD_REQUEST)."""
    import io

    from PIL import Image, UnidentifiedImageError

    repo, path = _split_file_uri(artifact_uri)
    try:
        image = Image.open(io.BytesIO(repo.read_bytes(path)))
        image.load()
    except (UnidentifiedImageError, OSError, ValueError) as e:
        raise InvalidParameterValue(
            f"Unable to form a PIL Image object from file content of {artifact_uri!r}: {e}"
        ) from e
    return image


def _split_file_uri(uri: str) -> tuple[ArtifactRepository, str]:
    if uris.is_runs_uri(uri) or uris.is_models_uri(uri):
        base, path = uris.resolve_model_uri_parts(uri)
        if not path:
            raise InvalidParameterValue(f"{uri!r} names a directory, not an artifact file")
        return ArtifactRepository(base), path
    parent, _, name = uri.rstrip("/").rpartition("/")
    if not name:
        raise InvalidParameterValue(f"Invalid artifact file URI {uri!r}")
    return ArtifactRepository(parent), name


def __getattr__(name: str) -> Any:
    """An MLflow name fsregistry lacks raises an AttributeError that says so."""
    from fsregistry.mlflow_api import module_getattr

    return module_getattr(__name__)(name)
