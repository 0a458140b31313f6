"""Custom Python models: :class:`PythonModel`, :class:`PythonModelContext`, and the
``mlflow.pyfunc.model`` loader.

A custom model is saved with cloudpickle as ``python_model.pkl``; files listed in ``artifacts``
are copied into the model's ``artifacts/`` directory and handed back as local paths through
``context.artifacts`` at load time. The MLmodel keys (``python_model``, ``cloudpickle_version``,
``artifacts: {name: {path, uri}}``, ``loader_module: mlflow.pyfunc.model``) are MLflow's, so
MLflow can load such a model too when the model's classes are importable there (a subclass of
``fsregistry.pyfunc.PythonModel`` needs fsregistry installed; cloudpickle stores classes defined
in ``__main__`` or notebooks by value).

**Loading runs code**: unpickling ``python_model.pkl`` executes whatever the pickle says.
Loaders verify the model's file hashes first (see :mod:`fsregistry.models`).
"""

from __future__ import annotations

import inspect
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

from fsregistry.exceptions import FsRegistryException, InvalidParameterValue, ResourceDoesNotExist

_logger = logging.getLogger(__name__)

PYTHON_MODEL_FILE = "python_model.pkl"
ARTIFACTS_DIR = "artifacts"
CONFIG_KEY_ARTIFACTS = "artifacts"
CONFIG_KEY_ARTIFACT_RELATIVE_PATH = "path"
CONFIG_KEY_ARTIFACT_URI = "uri"
CONFIG_KEY_PYTHON_MODEL = "python_model"
CONFIG_KEY_CLOUDPICKLE_VERSION = "cloudpickle_version"
LOADER_MODULE = "mlflow.pyfunc.model"


class PythonModelContext:
    """What a custom model gets at load time: local artifact paths and the model config."""

    def __init__(self, artifacts: dict[str, str], model_config: dict[str, Any] | None) -> None:
        self._artifacts = artifacts
        self._model_config = model_config or {}

    @property
    def artifacts(self) -> dict[str, str]:
        """``{name: absolute local path}`` of the artifacts saved with the model."""
        return self._artifacts

    @property
    def model_config(self) -> dict[str, Any]:
        return self._model_config


class _NoTypeHints:
    """What MLflow's pyfunc wrapper expects from ``PythonModel.predict_type_hints``."""

    input = None
    output = None


class PythonModel:
    """Base class of custom models: override ``predict`` (and ``load_context`` if needed).

    ``predict(self, context, model_input, params=None)``; since MLflow 2.20 the ``context``
    argument may be left out: ``predict(self, model_input, params=None)``.
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Called once after loading, before any ``predict``: read artifacts here."""

    def predict(self, context: Any, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement predict()")

    @property
    def predict_type_hints(self) -> _NoTypeHints:
        # MLflow's loader reads this attribute; fsregistry does not infer schemas from hints.
        return _NoTypeHints()


class _FunctionPythonModel(PythonModel):
    """A plain function ``f(model_input)`` saved as a custom model."""

    def __init__(self, func: Callable[[Any], Any]) -> None:
        self.func = func

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:  # type: ignore[override]
        return self.func(model_input)


def _takes_context(func: Callable[..., Any]) -> bool:
    parameters = inspect.signature(func).parameters
    return (
        "context" in parameters or len([p for p in parameters if p not in ("self", "params")]) == 2
    )


class _PythonModelWrapper:
    """The pyfunc implementation around a custom model: ``predict(model_input, params)``."""

    def __init__(self, python_model: Any, context: PythonModelContext) -> None:
        self.python_model = python_model
        self.context = context

    def predict(self, model_input: Any, params: dict[str, Any] | None = None) -> Any:
        func = self.python_model.predict
        kwargs: dict[str, Any] = {}
        if "params" in inspect.signature(func).parameters:
            kwargs["params"] = params
        elif params:
            _logger.warning("The model's predict() takes no params; ignoring %s", params)
        if _takes_context(func):
            return func(self.context, model_input, **kwargs)
        return func(model_input, **kwargs)


def _stage_artifact(uri: str, staging: str) -> str:
    """Copy or download one artifact into ``staging``; returns its local path."""
    from fsregistry.storage import local_path_of

    if uri.startswith("runs:") or uri.startswith("models:"):
        from fsregistry.artifacts import download_artifacts

        return download_artifacts(artifact_uri=uri, dst_path=staging)
    local = local_path_of(uri)
    if local is not None:
        if not os.path.exists(local):
            raise _missing_artifact(uri, local)
        target = os.path.join(staging, os.path.basename(local.rstrip(os.sep)))
        if os.path.isdir(local):
            shutil.copytree(local, target)
        else:
            shutil.copy2(local, target)
        return target
    from fsregistry.storage.artifact_repo import ArtifactRepository

    parent, _, name = uri.rstrip("/").rpartition("/")
    if not name or "://" not in parent + "/":
        raise InvalidParameterValue(f"Invalid artifact URI {uri!r}")
    try:
        return ArtifactRepository(parent).download_artifacts(name, staging)
    except ResourceDoesNotExist:
        raise _missing_artifact(uri, uri) from None


def _missing_artifact(uri: str, where: str, name: str | None = None) -> ResourceDoesNotExist:
    """MLflow's text for an artifact of ``artifacts=`` that is not there (its download fails)."""
    parent, _, base = where.rstrip("/" + os.sep).replace(os.sep, "/").rpartition("/")
    what = f"artifact {name!r}: " if name is not None else ""
    return ResourceDoesNotExist(
        f"The following failures occurred while downloading one or more artifacts from "
        f"{parent}:\n##### File {base} #####\nNo such artifact: {base!r} ({what}{uri!r} does "
        "not exist)"
    )


def save_artifacts(artifacts: dict[str, str], model_dir: str) -> dict[str, dict[str, str]]:
    """Copy artifacts into ``<model>/artifacts/``; returns the MLmodel ``artifacts`` config."""
    config: dict[str, dict[str, str]] = {}
    root = os.path.join(model_dir, ARTIFACTS_DIR)
    os.makedirs(root, exist_ok=True)
    used: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="fsreg-artifacts-") as tmp:
        for i, (name, uri) in enumerate(artifacts.items()):
            staging = os.path.join(tmp, str(i))
            os.makedirs(staging)
            local = _stage_artifact(os.fspath(uri), staging)
            base = os.path.basename(local.rstrip(os.sep)) or name
            target_name = base
            n = 1
            while target_name in used:
                target_name = f"{n}_{base}"
                n += 1
            used.add(target_name)
            shutil.move(local, os.path.join(root, target_name))
            config[name] = {
                CONFIG_KEY_ARTIFACT_RELATIVE_PATH: f"{ARTIFACTS_DIR}/{target_name}",
                CONFIG_KEY_ARTIFACT_URI: os.fspath(uri),
            }
    return config


def check_artifacts(artifacts: Any) -> dict[str, str]:
    if artifacts is None:
        return {}
    if not isinstance(artifacts, dict) or not all(
        isinstance(k, str) and isinstance(v, str | os.PathLike) for k, v in artifacts.items()
    ):
        raise InvalidParameterValue(
            f"artifacts must be a dict of name -> path or URI, got {artifacts!r}"
        )
    from fsregistry.storage import local_path_of

    for name, uri in artifacts.items():
        text = os.fspath(uri)
        if text.startswith(("runs:", "models:")) or (
            "://" in text and not text.startswith("file:")
        ):
            continue  # checked when downloaded
        local = local_path_of(text)
        if local is not None and not os.path.exists(local):
            raise _missing_artifact(text, local, name)
    return {k: os.fspath(v) for k, v in artifacts.items()}


def _load_pyfunc(
    model_path: str, model_config: dict[str, Any] | None = None
) -> _PythonModelWrapper:
    """Load a custom model directory (called by :func:`fsregistry.pyfunc.load_model`)."""
    import cloudpickle

    from fsregistry.models.model import Model

    meta = Model.load(model_path)
    conf = meta.flavors.get("python_function") or {}
    if "model_code_path" in conf:  # a model from code, whatever its loader_module (as MLflow)
        from fsregistry.pyfunc import from_code

        loaded: _PythonModelWrapper = from_code._load_pyfunc(model_path, model_config)
        return loaded
    rel = conf.get(CONFIG_KEY_PYTHON_MODEL)
    if not rel:
        # MLflow's text (pyfunc/model.py:_load_pyfunc).
        raise FsRegistryException(
            "Python model path was not specified in the model configuration (the MLmodel's "
            "python_function flavor has no python_model entry: not a custom model)"
        )
    if conf.get("python_model_compression"):
        raise InvalidParameterValue(
            f"Compressed python models ({conf['python_model_compression']}) are not supported"
        )
    saved_version = conf.get(CONFIG_KEY_CLOUDPICKLE_VERSION)
    if saved_version and saved_version != cloudpickle.__version__:
        _logger.warning(
            "The model was saved with cloudpickle %s; this is cloudpickle %s and may not read it",
            saved_version,
            cloudpickle.__version__,
        )
    with open(os.path.join(model_path, *str(rel).split("/")), "rb") as f:
        python_model = cloudpickle.load(f)
    artifacts = {
        name: os.path.join(model_path, *str(info[CONFIG_KEY_ARTIFACT_RELATIVE_PATH]).split("/"))
        for name, info in (conf.get(CONFIG_KEY_ARTIFACTS) or {}).items()
    }
    context = PythonModelContext(artifacts, model_config)
    if hasattr(python_model, "load_context"):
        python_model.load_context(context)
    return _PythonModelWrapper(python_model, context)
