"""Saving a model directory and logging it to a run: the steps every flavor shares.

:class:`ModelDirWriter` creates the target directory and removes it again if saving fails, so
a failed ``save_model`` leaves nothing behind. :func:`finish_model_dir` writes MLmodel, the
environment files and the hash manifest. :func:`log_model_dir` logs the MLflow 3 way
(docs/mlflow-format.md §1.10): it creates a LoggedModel (PENDING) in the run's experiment,
links the run to it (``<run>/outputs/<model_id>/``, no ``mlflow.log-model.history`` tag, as
MLflow 3), saves into a temporary directory, uploads under the LoggedModel's artifact location
(MLmodel last), tags the model with its manifest digest (``fsreg.model_digest``), finalizes it
READY and registers it when asked. If any step fails, what it wrote is removed again (the
files, the LoggedModel and the run's output record), so a failed ``log_model`` leaves nothing:
MLflow 3 would leave a FAILED LoggedModel behind.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from types import ModuleType, TracebackType
from typing import TYPE_CHECKING, Any

from fsregistry.exceptions import (
    InvalidParameterValue,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from fsregistry.mlruns.validation import validate_model_name
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
        # MLflow's text (a TypeError there: utils/model_utils.py:_validate_code_paths).
        raise InvalidParameterValue(
            f"Argument code_paths should be a list, not {type(code_paths)} (a list of file or "
            f"directory paths; got {code_paths!r})"
        )
    missing = [os.fspath(p) for p in code_paths if not os.path.exists(p)]
    if missing:
        # MLflow's text when copying a code path fails (_validate_and_copy_code_paths).
        raise InvalidParameterValue(
            f"Failed to copy the specified code path '{missing[0]}' into the model artifacts. "
            "It appears that your code path includes file(s) that cannot be copied. Please "
            "specify a code path that does not include such files and try again. (These code "
            f"paths do not exist: {missing})"
        )
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
            "Only one of `conda_env`, `pip_requirements`, and `extra_pip_requirements` can be "
            "specified"
        )
    for reqs in (pip_requirements, extra_pip_requirements):
        if reqs is not None:
            env.parse_requirements(reqs)
    env.validate_conda_env(conda_env)


# ----------------------------------------------------------------------------- logging
def log_model_dir(
    model_cls: type[Model],
    name: str | None,
    flavor: ModuleType,
    *,
    registered_model_name: str | None,
    metadata: dict[str, Any] | None,
    run_id: str | None,
    tags: dict[str, Any] | None,
    params: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a model the MLflow 3 way: a LoggedModel in the run's experiment (the active
    experiment without a run; no run is started), its files under the LoggedModel's artifact
    location (MLmodel last), the run's output record, the run's metrics of ``step`` copied to
    the model, and the registration when asked (see the module docstring)."""
    from fsregistry.active_model import record_output, set_last_logged_model_id
    from fsregistry.client import Client
    from fsregistry.entities.logged_models import LoggedModelOutput, LoggedModelStatus
    from fsregistry.fluent import active_run
    from fsregistry.logged_model_api import create_logged_model
    from fsregistry.storage.artifact_repo import ArtifactRepository

    if registered_model_name is not None:
        # The registry's check, before anything is written (MLflow's texts).
        validate_model_name(registered_model_name)
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidParameterValue(f"metadata must be a dict, got {type(metadata).__name__}")
    for what, value in (("tags", tags), ("params", params)):
        if value is not None and not isinstance(value, dict):
            raise InvalidParameterValue(f"{what} must be a dict, got {type(value).__name__}")
    if isinstance(step, bool) or not isinstance(step, int):
        raise InvalidParameterValue(f"step must be an int, got {step!r}")
    client = Client()
    current = active_run()
    run_id = run_id or (current.info.run_id if current is not None else None)
    run = client.get_run(run_id) if run_id else None
    given = model_id is not None
    model = (
        client.get_logged_model(model_id)
        if model_id is not None
        else create_logged_model(
            name,
            source_run_id=run_id,
            tags={str(k): str(v) for k, v in (tags or {}).items()},
            params={
                **{str(k): str(v) for k, v in (params or {}).items()},
                **(run.data.params if run is not None else {}),
            },
            model_type=model_type,
            experiment_id=run.info.experiment_id if run is not None else None,
        )
    )
    model_id = model.model_id
    set_last_logged_model_id(model_id)
    repo = ArtifactRepository(model.artifact_location)
    try:
        if run_id is not None:
            output = LoggedModelOutput(model_id, step)
            client.log_outputs(run_id, [output])
            if current is not None and current.info.run_id == run_id:
                record_output(current, output)
            _copy_step_metrics(client, run_id, model_id, step)
        with tempfile.TemporaryDirectory(prefix="fsreg-log-") as tmp:
            local = os.path.join(tmp, "model")
            mlflow_model = model_cls(
                artifact_path=model.artifact_location,
                run_id=run_id,
                metadata=metadata,
                model_uuid=model_id,
                model_id=model_id,
            )
            flavor.save_model(path=local, mlflow_model=mlflow_model, **kwargs)
            with open(os.path.join(local, HASHES_FILE), "rb") as f:
                digest = manifest_digest(f.read())
            for rel in local_files(local):
                if rel != MLMODEL_FILE_NAME:
                    repo.storage.put_file(os.path.join(local, *rel.split("/")), rel)
            repo.storage.put_file(os.path.join(local, MLMODEL_FILE_NAME), MLMODEL_FILE_NAME)
        client.set_logged_model_tags(model_id, {MODEL_DIGEST_TAG: digest})
        model = client.finalize_logged_model(model_id, LoggedModelStatus.READY)
    except BaseException:
        if given:  # the caller's model: marked FAILED, as MLflow does
            client.finalize_logged_model(model_id, LoggedModelStatus.FAILED)
        else:
            _discard(client, model_id, run_id, repo)
        raise
    info = mlflow_model.get_model_info()
    info.files_digest = digest
    info.attach(model)
    if registered_model_name is not None:
        from fsregistry.fluent import register_model

        version_tags = dict(tags or {})
        version_tags.setdefault(MODEL_DIGEST_TAG, digest)
        mv = register_model(info.model_uri, registered_model_name, tags=version_tags)
        info.registered_model_version = mv.version
    return info


#: Tag on a LoggedModel (and a registered version) holding its manifest digest.
MODEL_DIGEST_TAG = "fsreg.model_digest"


def _copy_step_metrics(client: Any, run_id: str, model_id: str, step: int) -> None:
    """MLflow 3: the run's metric values at ``step`` become the model's (written to the model
    only: MLflow's file store also appends them to the run again, duplicating its history)."""
    from fsregistry.entities import Metric

    keys = client.get_run(run_id).data.metrics
    found: list[Metric] = []
    for key in keys:
        for m in client.get_metric_history(run_id, key):
            if m.step == step:
                found.append(
                    Metric(
                        m.key,
                        m.value,
                        m.timestamp,
                        m.step,
                        m.dataset_name,
                        m.dataset_digest,
                        run_id,
                        model_id,
                    )
                )
    if found:
        client.store.log_model_metrics(model_id, found)


def _discard(client: Any, model_id: str, run_id: str | None, repo: Any) -> None:
    """Undo a failed log_model: the model's files, its record and the run's output link."""
    try:
        repo.storage.delete_tree("")
    finally:
        client.store.discard_logged_model(model_id, run_id)


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
