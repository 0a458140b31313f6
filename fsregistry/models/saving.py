"""Saving a model directory and logging it to a run: the steps every flavor shares.

:class:`ModelDirWriter` creates the target directory and removes it again if saving fails, so
a failed ``save_model`` leaves nothing behind. :func:`finish_model_dir` writes MLmodel, the
environment files and the hash manifest. :func:`log_model_dir` saves into a temporary
directory, uploads it under ``<run artifact_uri>/<name>/`` (MLmodel last), records the run
tags and registers the model when asked.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any

from fsregistry.exceptions import (
    InvalidParameterValue,
    InvalidState,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from fsregistry.models.cache import MLMODEL_FILE_NAME
from fsregistry.models.hashes import (
    HASHES_FILE,
    IGNORED_FILES,
    local_files,
    manifest_bytes,
    manifest_digest,
    parse_manifest,
    write_manifest,
)

if TYPE_CHECKING:
    from fsregistry.models.input_example import InputExample
    from fsregistry.models.model import Model, ModelInfo
    from fsregistry.models.signature import ModelSignature

_logger = logging.getLogger(__name__)


class ModelDirWriter:
    """Context manager owning a new model directory: refuses a non-empty one, cleans up on error."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.path.abspath(os.fspath(path))
        if os.path.isfile(self.path):
            raise ResourceAlreadyExists(f"Path {self.path!r} already exists and is a file")
        if os.path.isdir(self.path) and any(os.scandir(self.path)):
            raise ResourceAlreadyExists(f"Path {self.path!r} already exists and is not empty")
        self._created = False

    def __enter__(self) -> str:
        self._created = not os.path.exists(self.path)
        os.makedirs(self.path, exist_ok=True)
        return self.path

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            return
        if self._created:
            shutil.rmtree(self.path, ignore_errors=True)
        elif os.path.isdir(self.path):
            for entry in os.scandir(self.path):
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)


def legacy_code_path(
    code_path: Sequence[str] | None, code_paths: Sequence[str] | None
) -> Sequence[str] | None:
    """``code_paths``, or MLflow 2's deprecated spelling ``code_path`` with MLflow 2.22's
    warning (MLflow 3 refuses ``code_path``; fsregistry keeps 2.x code running)."""
    if code_path is None:
        return code_paths
    if code_paths is not None:
        raise InvalidParameterValue(
            "Both `code_path` and `code_paths` have been specified, which is not permitted."
        )
    import warnings

    warnings.warn(
        "The `code_path` argument is replaced by `code_paths` and is deprecated as of MLflow "
        "version 2.12.0 (MLflow 3 no longer accepts it).",
        stacklevel=3,
    )
    return code_path


def check_code_paths(code_paths: Sequence[str] | None) -> list[str]:
    if code_paths is None:
        return []
    if not isinstance(code_paths, list | tuple) or not all(
        isinstance(p, str | os.PathLike) for p in code_paths
    ):
        raise InvalidParameterValue(f"code_paths must be a list of paths, got {code_paths!r}")
    missing = [os.fspath(p) for p in code_paths if not os.path.exists(p)]
    if missing:
        raise InvalidParameterValue(f"code_paths do not exist: {missing}")
    return [os.fspath(p) for p in code_paths]


def copy_code_paths(code_paths: Sequence[str], model_dir: str, subdir: str = "code") -> str | None:
    """Copy files/directories into ``<model>/code/`` (prepended to sys.path at load time)."""
    if not code_paths:
        return None
    dst_root = os.path.join(model_dir, subdir)
    os.makedirs(dst_root, exist_ok=True)
    for src in code_paths:
        target = os.path.join(dst_root, os.path.basename(os.path.abspath(src)))
        if os.path.isdir(src):
            shutil.copytree(src, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, target)
    return subdir


def dir_size(path: str) -> int:
    return sum(os.path.getsize(os.path.join(path, *f.split("/"))) for f in local_files(path))


def save_example_and_signature(
    model_dir: str,
    mlflow_model: Model,
    input_example: Any,
    signature: ModelSignature | bool | None,
    predict: Callable[[Any, dict[str, Any] | None], Any] | None,
) -> None:
    """Save the input example; infer the signature from it by predicting when none is given.

    ``signature=False`` stores no signature even with an example (as in MLflow).
    """
    from fsregistry.models.input_example import InputExample
    from fsregistry.models.signature import ModelSignature

    if (
        signature is not None
        and signature is not False
        and not isinstance(signature, ModelSignature)
    ):
        raise InvalidParameterValue(
            f"signature must be a ModelSignature (or False), got {type(signature).__name__}"
        )
    example = InputExample(input_example) if input_example is not None else None
    if example is not None:
        example.save(model_dir)
        mlflow_model.saved_input_example_info = example.info
    if signature is None and example is not None and predict is not None:
        signature = infer_signature_from_example(example, predict)
    if isinstance(signature, ModelSignature):
        mlflow_model.signature = signature


def infer_signature_from_example(
    example: InputExample, predict: Callable[[Any, dict[str, Any] | None], Any]
) -> ModelSignature | None:
    """Signature from the example input and the model's prediction on it (None on failure)."""
    import numpy as np
    import pandas as pd

    from fsregistry.models.enforcement import enforce_params_schema, enforce_schema
    from fsregistry.models.inference import infer_param_schema, infer_schema
    from fsregistry.models.schema import AnyType, ColSpec, Schema
    from fsregistry.models.signature import ModelSignature

    try:
        data = copy.deepcopy(example.data)
        input_schema = infer_schema(data)
        params_schema = infer_param_schema(example.params) if example.params else None
        data = enforce_schema(data, input_schema)
        params = enforce_params_schema(example.params, params_schema)
        prediction = predict(data, params)
        if (
            not input_schema.is_tensor_spec()
            and isinstance(prediction, np.ndarray)
            and (prediction.ndim == 1)
        ):
            prediction = pd.Series(prediction)
        try:
            output_schema = infer_schema(prediction)
        except InvalidParameterValue as exc:
            _logger.warning("Could not infer the output schema (%s); using AnyType", exc.message)
            output_schema = Schema([ColSpec(AnyType())])
        return ModelSignature(input_schema, output_schema, params_schema)
    except Exception as exc:  # any failure of the model on its example: no signature
        _logger.warning(
            "Failed to infer the model signature from the input example: %r. The model is "
            "saved without a signature; pass signature= to set one.",
            exc,
        )
        return None


def finish_model_dir(
    model_dir: str,
    mlflow_model: Model,
    *,
    scan_files: Sequence[str],
    default_requirements: Sequence[str],
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    conda_env: dict[str, Any] | str | None = None,
) -> str:
    """Write MLmodel, environment files and the hash manifest; returns the manifest digest."""
    import yaml

    from fsregistry.models import environment as env
    from fsregistry.package import __version__

    mlflow_model.extra.setdefault("fsregistry_version", __version__)
    mlflow_model.model_size_bytes = dir_size(model_dir)
    mlflow_model.save(os.path.join(model_dir, MLMODEL_FILE_NAME))
    constraints: list[str] = []
    if conda_env is not None:
        conda = conda_env
        if isinstance(conda, str):
            with open(conda, encoding="utf-8") as f:
                conda = yaml.safe_load(f)
        requirements = env.pip_deps_of_conda(conda)
    else:
        defaults = (
            env.infer_pip_requirements(model_dir, scan_files, default_requirements)
            if pip_requirements is None
            else []
        )
        requirements, constraints = env.process_requirements(
            defaults, pip_requirements, extra_pip_requirements
        )
        conda = None
    env.write_env_files(model_dir, requirements, constraints, conda)
    return write_manifest(model_dir)


def check_env_arguments(conda_env: Any, pip_requirements: Any, extra_pip_requirements: Any) -> None:
    """Reject bad environment arguments before anything is written."""
    from fsregistry.models import environment as env

    given = [a for a in (conda_env, pip_requirements, extra_pip_requirements) if a is not None]
    if len(given) > 1:
        raise InvalidParameterValue(
            "Only one of conda_env, pip_requirements and extra_pip_requirements can be given"
        )
    for reqs in (pip_requirements, extra_pip_requirements):
        if reqs is not None:
            env.parse_requirements(reqs)
    env.validate_conda_env(conda_env)


# ----------------------------------------------------------------------------- logging
def log_model_dir(
    model_cls: type[Model],
    name: str,
    flavor: ModuleType,
    *,
    registered_model_name: str | None,
    metadata: dict[str, Any] | None,
    run_id: str | None,
    tags: dict[str, Any] | None,
    **kwargs: Any,
) -> ModelInfo:
    from fsregistry.client import Client
    from fsregistry.fluent import run_id_or_active
    from fsregistry.models.model import LOG_MODEL_HISTORY_TAG, MODEL_DIGEST_TAG_PREFIX
    from fsregistry.storage.artifact_repo import ArtifactRepository

    if registered_model_name is not None and (
        not isinstance(registered_model_name, str) or not registered_model_name.strip()
    ):
        raise InvalidParameterValue(
            f"Invalid registered_model_name {registered_model_name!r}: expected a non-empty string"
        )
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidParameterValue(f"metadata must be a dict, got {type(metadata).__name__}")
    if tags is not None and (registered_model_name is None or not isinstance(tags, dict)):
        raise InvalidParameterValue(
            f"tags={tags!r}: fsregistry creates no MLflow 3 LoggedModel, so tags are set on the "
            "registered model version and need a dict and registered_model_name"
        )
    client = Client()
    run_id = run_id_or_active(run_id)
    run = client.get_run(run_id)
    _check_history_tag(run_id, run.data.tags.get(LOG_MODEL_HISTORY_TAG))
    model_location = f"{run.info.artifact_uri.rstrip('/')}/{name}"
    repo = ArtifactRepository(model_location)
    if repo.storage.exists(MLMODEL_FILE_NAME):
        raise ResourceAlreadyExists(
            f"Run {run_id} already has a model at {name!r} ({model_location}); "
            "log this one under another name"
        )
    with tempfile.TemporaryDirectory(prefix="fsreg-log-") as tmp:
        local = os.path.join(tmp, "model")
        mlflow_model = model_cls(artifact_path=name, run_id=run_id, metadata=metadata)
        flavor.save_model(path=local, mlflow_model=mlflow_model, **kwargs)
        with open(os.path.join(local, HASHES_FILE), "rb") as f:
            digest = manifest_digest(f.read())
        files = local_files(local)
        for rel in files:
            if rel != MLMODEL_FILE_NAME:
                repo.storage.put_file(os.path.join(local, *rel.split("/")), rel)
        repo.storage.put_file(os.path.join(local, MLMODEL_FILE_NAME), MLMODEL_FILE_NAME)
    client.record_logged_model(run_id, mlflow_model)
    client.set_tag(run_id, MODEL_DIGEST_TAG_PREFIX + name, digest)
    info = mlflow_model.get_model_info()
    info.files_digest = digest
    if registered_model_name is not None:
        from fsregistry.fluent import register_model

        version_tags = dict(tags or {})
        version_tags.setdefault("fsreg.model_digest", digest)
        mv = register_model(info.model_uri, registered_model_name, tags=version_tags)
        info.registered_model_version = mv.version
    return info


def _check_history_tag(run_id: str, raw: str | None) -> None:
    """Refuse, before any file is written, a run whose ``mlflow.log-model.history`` tag the
    new model could not be appended to (``Client.record_logged_model`` would raise later)."""
    try:
        history = [] if raw is None else json.loads(raw)
    except ValueError:
        history = None
    if not isinstance(history, list):
        raise InvalidState(
            f"Cannot log a model to run {run_id}: its tag mlflow.log-model.history is not "
            "a JSON list"
        )


def rewrite_model_files(location: str, files: Mapping[str, bytes]) -> None:
    """Replace files of a stored model and update its hash manifest (if it has one)."""
    from fsregistry.storage.artifact_repo import ArtifactRepository

    repo = ArtifactRepository(location)
    try:
        raw = repo.read_bytes(HASHES_FILE)
    except ResourceDoesNotExist:
        raw = None
    for rel, data in files.items():
        if rel in IGNORED_FILES:
            raise InvalidParameterValue(f"{rel!r} cannot be rewritten")
        repo.write_bytes(rel, data)
    if raw is not None:
        hashes = parse_manifest(raw, location)
        for rel, data in files.items():
            hashes[rel] = hashlib.sha256(data).hexdigest()
        repo.write_bytes(HASHES_FILE, manifest_bytes(hashes))
