"""Models from code: ``pyfunc.save_model/log_model(python_model="model.py")`` and the
``mlflow.pyfunc.loaders.code_model`` loader.

Saving copies the Python file into the model directory under its own name (``<model>/model.py``)
and records MLflow's pyfunc keys: ``loader_module: mlflow.pyfunc.loaders.code_model``,
``model_code_path`` (the file's absolute path at save time, as MLflow writes it; loaders use its
base name only), ``config`` (the ``model_config``, a dict or a YAML file read into one),
``code`` (``code_paths`` copied to ``code/``), ``cloudpickle_version``, ``streamable``, plus
``artifacts`` when given. Nothing is pickled. Like MLflow, saving runs the file once (with the
``model_config`` in force) to check that it calls ``set_model`` and to infer the signature from
``input_example``; any failure raises before anything is written. The hash manifest covers the
file, so loaders refuse a changed file before running it.

Running a file (:func:`run_model_file`): under a fresh module name ``code_model_<hex>``, as
MLflow does, registered in ``sys.modules`` only once the file has run and set its model (a
failed run leaves nothing behind), inside a :func:`~fsregistry.models.model_config.code_model_scope`
that receives the model and provides the ``ModelConfig``. Inside that file (and the functions it
defines) ``import mlflow`` and ``from mlflow.X import Y`` resolve to fsregistry and its
``fsregistry.X``, whether or not MLflow is installed: a file written for MLflow 3
(``import mlflow``; ``mlflow.models.set_model(...)``) loads here unchanged and its model reaches
fsregistry; nothing is added to ``sys.modules`` under ``mlflow``, and modules the file imports
see the real import system. Files written for fsregistry (``import fsregistry as mlflow``) work
the same, but only fsregistry loads those.

**Loading runs the file's code.** Verify the model (the default) and load only models you trust.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import importlib.util
import logging
import os
import re
import shutil
import sys
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from fsregistry.exceptions import FsRegistryException, InvalidParameterValue
from fsregistry.models.dependencies_schemas import add_to_metadata
from fsregistry.models.model import Model
from fsregistry.models.model_config import (
    MODEL_NOT_SET_ERROR,
    code_model_scope,
    model_config_from_argument,
)
from fsregistry.models.signature import ModelSignature

_logger = logging.getLogger(__name__)

LOADER_MODULE = "mlflow.pyfunc.loaders.code_model"
MODEL_CODE_PATH = "model_code_path"
MODEL_CONFIG = "config"
_ALIASED = "mlflow"


def check_model_code_path(python_model: str | os.PathLike[str]) -> str:
    """The absolute path of a model file, which must be an existing ``.py`` file."""
    path = os.path.abspath(os.fspath(python_model))
    if not os.path.exists(path):
        hint = "" if os.path.splitext(path)[1] else f" Perhaps you meant '{path}.py'?"
        raise InvalidParameterValue(
            f"The provided model path '{path}' does not exist. "
            f"Ensure the file path is valid and try again.{hint}"
        )
    if not os.path.isfile(path) or not path.endswith(".py"):
        raise InvalidParameterValue(
            f"The provided model path '{path}' is not a valid Python file path (a .py file "
            "containing the code that defines the model and calls set_model()). Ensure the "
            "file path is valid and try again."
        )
    return path


def _aliasing_import(real: Callable[..., Any]) -> Callable[..., Any]:
    """``__import__`` for a model file: ``mlflow`` and ``mlflow.*`` resolve to fsregistry."""

    def import_(
        name: str,
        globals: dict[str, Any] | None = None,
        locals: dict[str, Any] | None = None,
        fromlist: Sequence[str] | None = (),
        level: int = 0,
    ) -> Any:
        if level != 0 or (name != _ALIASED and not name.startswith(_ALIASED + ".")):
            return real(name, globals, locals, fromlist, level)
        target = "fsregistry" + name[len(_ALIASED) :]
        try:
            module = importlib.import_module(target)
        except ModuleNotFoundError:
            raise ModuleNotFoundError(
                f"No module named {name!r}: in a model file fsregistry runs, `mlflow` is "
                f"fsregistry, which has no {target!r}",
                name=name,
            ) from None
        return module if fromlist else importlib.import_module("fsregistry")

    return import_


def _model_file_builtins() -> dict[str, Any]:
    names = dict(vars(builtins))
    names["__import__"] = _aliasing_import(builtins.__import__)
    return names


def run_model_file(code_path: str, model_config: dict[str, Any] | None) -> Any:
    """Run a model file in a fresh module and return the model it passed to ``set_model``."""
    module_name = f"code_model_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(module_name, code_path)
    if spec is None or spec.loader is None:
        raise InvalidParameterValue(f"Cannot load {code_path!r} as a Python file")
    module = importlib.util.module_from_spec(spec)
    module.__dict__["__builtins__"] = _model_file_builtins()
    # Registered while it runs (dataclasses and typing look classes' modules up there).
    sys.modules[module_name] = module
    done = False
    with code_model_scope(model_config) as slot:
        try:
            spec.loader.exec_module(module)
            done = True
        except ImportError as exc:
            raise FsRegistryException(
                f"Failed to import code model from {code_path}. Error: {exc!s}"
            ) from exc
        except Exception as exc:  # the user's code failed: say where, keep the cause chained
            raise FsRegistryException(
                f"Failed to run user code from {code_path}. Error: {exc!s}. "
                "Review the stack trace for more information."
            ) from exc
        finally:
            if not (done and slot.model_set):
                sys.modules.pop(module_name, None)
    if not slot.model_set:
        raise FsRegistryException(f"{MODEL_NOT_SET_ERROR} {code_path} never called set_model().")
    return slot.model


def as_python_model(model: Any) -> Any:
    """A model set by a file as an object with ``predict`` (a plain function is wrapped)."""
    from fsregistry.pyfunc.model import _FunctionPythonModel

    if callable(getattr(model, "predict", None)):
        return model
    return _FunctionPythonModel(model)


def _imported_modules(path: str) -> set[str]:
    """Top-level modules a Python file imports (absolute imports only)."""
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), filename=path)
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def inferred_requirements(model_dir: str, code_file: str, code_dir: str | None) -> list[str]:
    """Pinned distributions of the modules the model file and its ``code/`` files import."""
    from fsregistry.models.environment import distributions_for_modules, pinned

    files = [os.path.join(model_dir, code_file)]
    local: set[str] = set()
    if code_dir:
        for root, _dirs, names in os.walk(os.path.join(model_dir, code_dir)):
            files += [os.path.join(root, n) for n in names if n.endswith(".py")]
            local |= {os.path.splitext(n)[0] for n in names} | set(_dirs)
    modules = set().union(*(_imported_modules(f) for f in files)) - local - {_ALIASED}
    return [pinned(d) for d in distributions_for_modules(modules)]


def save_model(
    path: str | os.PathLike[str],
    python_model: str | os.PathLike[str],
    *,
    code_paths: Sequence[str] | None,
    artifacts: dict[str, str] | None,
    conda_env: dict[str, Any] | str | None,
    mlflow_model: Model | None,
    signature: ModelSignature | None,
    input_example: Any,
    pip_requirements: Sequence[str] | str | None,
    extra_pip_requirements: Sequence[str] | str | None,
    metadata: dict[str, Any] | None,
    model_config: dict[str, Any] | str | os.PathLike[str] | None,
) -> None:
    """Save a model from code (the ``python_model`` path branch of ``pyfunc.save_model``)."""
    import cloudpickle

    from fsregistry.models import saving
    from fsregistry.pyfunc import add_to_model
    from fsregistry.pyfunc import model as custom

    code_file = check_model_code_path(python_model)
    config = model_config_from_argument(model_config)
    artifacts = custom.check_artifacts(artifacts)
    codes = saving.check_code_paths(code_paths)
    saving.check_env_arguments(conda_env, pip_requirements, extra_pip_requirements)
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidParameterValue(f"metadata must be a dict, got {type(metadata).__name__}")
    # Run the file before writing anything: it must set a model (MLflow checks this too).
    loaded = as_python_model(run_model_file(code_file, config))
    mlflow_model = mlflow_model if mlflow_model is not None else Model()
    if metadata is not None:
        mlflow_model.metadata = metadata
    # What the file declared with set_retriever_schema while it ran (MLflow does the same).
    mlflow_model.metadata = add_to_metadata(mlflow_model.metadata)
    with saving.ModelDirWriter(path) as model_dir:
        code_name = os.path.basename(code_file)
        shutil.copy2(code_file, os.path.join(model_dir, code_name))
        code_dir = saving.copy_code_paths(codes, model_dir)
        saved = custom.save_artifacts(artifacts, model_dir) if artifacts else {}
        context = custom.PythonModelContext(
            {k: os.path.join(model_dir, *v["path"].split("/")) for k, v in saved.items()}, config
        )
        wrapper = custom._PythonModelWrapper(loaded, context)

        def predict(data: Any, params: dict[str, Any] | None) -> Any:
            if hasattr(loaded, "load_context"):
                loaded.load_context(context)
            return wrapper.predict(data, params)

        saving.save_example_and_signature(
            model_dir, mlflow_model, input_example, signature, predict
        )
        flavor_conf: dict[str, Any] = {
            custom.CONFIG_KEY_CLOUDPICKLE_VERSION: cloudpickle.__version__,
            "streamable": False,
            MODEL_CODE_PATH: code_file,
        }
        if saved:
            flavor_conf[custom.CONFIG_KEY_ARTIFACTS] = saved
        add_to_model(
            mlflow_model,
            loader_module=LOADER_MODULE,
            code=code_dir,
            conda_env="conda.yaml",
            python_env="python_env.yaml",
            model_config=config,
            **flavor_conf,
        )
        saving.finish_model_dir(
            model_dir,
            mlflow_model,
            scan_files=[],
            default_requirements=inferred_requirements(model_dir, code_name, code_dir),
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            conda_env=conda_env,
        )


def code_file_of(model_path: str, conf: dict[str, Any]) -> str:
    """The model file of a saved model from code: ``model_code_path``'s base name (a missing
    file fails when it is run, with MLflow's "Failed to run user code from ..." text)."""
    name = re.split(r"[\\/]", str(conf[MODEL_CODE_PATH]))[-1]
    return os.path.join(model_path, name)


def _load_pyfunc(model_path: str, model_config: dict[str, Any] | None = None) -> Any:
    """Load a model from code: run its file and wrap the model it sets (MLflow's loader
    ``mlflow.pyfunc.loaders.code_model``; chat models and agents are not supported)."""
    from fsregistry.pyfunc import model as custom

    meta = Model.load(model_path)
    conf = meta.flavors.get("python_function") or {}
    if MODEL_CODE_PATH not in conf:
        raise InvalidParameterValue(
            f"The MLmodel at {model_path!r} has no {MODEL_CODE_PATH}: not a model from code"
        )
    python_model = as_python_model(run_model_file(code_file_of(model_path, conf), model_config))
    artifacts = {
        name: os.path.join(
            model_path, *str(info[custom.CONFIG_KEY_ARTIFACT_RELATIVE_PATH]).split("/")
        )
        for name, info in (conf.get(custom.CONFIG_KEY_ARTIFACTS) or {}).items()
    }
    context = custom.PythonModelContext(artifacts, model_config)
    if hasattr(python_model, "load_context"):
        python_model.load_context(context)
    return custom._PythonModelWrapper(python_model, context)
