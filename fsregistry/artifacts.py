"""``mlflow.artifacts``: download, list and read artifacts by URI or run id.

Accepted URIs: ``runs:/<run_id>/<path>``, store URLs (local paths, ``file://``, ``s3://``,
``gs://``). Registry URIs (``models:/...``) are resolved by the registry layer.
"""

from __future__ import annotations

import json
from typing import Any

from fsregistry import config
from fsregistry.entities import FileInfo
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.tracking.artifact_repo import ArtifactRepository


def parse_runs_uri(uri: str) -> tuple[str, str]:
    """``runs:/<run_id>/<path>`` -> (run_id, path)."""
    if not uri.startswith("runs:/"):
        raise InvalidParameterValue(f"Not a runs:/ URI: {uri!r}")
    rest = uri[len("runs:/") :].lstrip("/")
    run_id, _, path = rest.partition("/")
    if not run_id:
        raise InvalidParameterValue(f"Invalid runs:/ URI {uri!r}: no run id")
    return run_id, path.strip("/")


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
    if artifact_uri is not None and artifact_uri.startswith("runs:/"):
        run_id, artifact_path = parse_runs_uri(artifact_uri)
        artifact_uri = None
    if run_id is not None:
        run = config.tracking_store(tracking_uri).get_run(run_id)
        return ArtifactRepository(run.info.artifact_uri), artifact_path or ""
    assert artifact_uri is not None
    if artifact_uri.startswith("models:/"):
        raise InvalidParameterValue(
            f"{artifact_uri!r}: models:/ URIs need the model registry, not available yet"
        )
    return ArtifactRepository(artifact_uri), ""


def download_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    dst_path: str | None = None,
    tracking_uri: str | None = None,
) -> str:
    """Download a file or directory; returns the local path (in a temp dir if no dst_path)."""
    repo, path = _resolve(artifact_uri, run_id, artifact_path, tracking_uri)
    return repo.download_artifacts(path or None, dst_path)


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


def _split_file_uri(uri: str) -> tuple[ArtifactRepository, str]:
    if uri.startswith("runs:/"):
        run_id, path = parse_runs_uri(uri)
        return ArtifactRepository(config.tracking_store().get_run(run_id).info.artifact_uri), path
    parent, _, name = uri.rstrip("/").rpartition("/")
    if not name:
        raise InvalidParameterValue(f"Invalid artifact file URI {uri!r}")
    return ArtifactRepository(parent), name
