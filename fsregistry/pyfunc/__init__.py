"""``mlflow.pyfunc`` for fsregistry: load any supported model as a generic Python function,
and save/log custom Python models.

:func:`load_model` returns a :class:`PyFuncModel` whose ``predict(data, params=None)``
enforces the model's input signature (missing columns and unsafe type changes are errors;
safe conversions such as ``int32 -> int64`` are applied, as MLflow does) and its params schema.
Flavors: scikit-learn (``loader_module: mlflow.sklearn``), custom models
(``mlflow.pyfunc.model``), xgboost, lightgbm, statsmodels, onnx, pytorch, spark and h2o,
whether written by fsregistry or by MLflow 2.x/3.x; ``mlflow.<name>`` of a third-party flavor
registered under the entry point
group ``fsregistry.flavors``; other ``loader_module`` values are imported as given (a custom
loader module, as in MLflow).

**Loading a pickled model runs code from the store**; the model's files are checked against
the hashes recorded when it was saved before anything is unpickled (``verify=True``), see
:mod:`fsregistry.models`.
"""

from __future__ import annotations

import inspect
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import yaml

from fsregistry.exceptions import FsRegistryException, InvalidParameterValue, ResourceDoesNotExist
from fsregistry.models.dependencies_schemas import add_to_metadata, clear_dependencies_schemas
from fsregistry.models.environment import PYTHON_VERSION, get_model_dependencies
from fsregistry.models.model import Model, ModelInfo
from fsregistry.models.model_config import model_config_from_argument, overridden_model_config
from fsregistry.models.signature import ModelSignature
from fsregistry.pyfunc.loaders import loader
from fsregistry.pyfunc.model import PythonModel, PythonModelContext

_logger = logging.getLogger(__name__)

FLAVOR_NAME = "python_function"
MAIN = "loader_module"
CODE = "code"
DATA = "data"
ENV = "env"
PY_VERSION = "python_version"
MODEL_CONFIG = "config"  # MLflow's MLmodel key (fsregistry < 0.x wrote "model_config")


def add_to_model(
    model: Model,
    loader_module: str,
    data: str | None = None,
    code: str | None = None,
    conda_env: str | None = None,
    python_env: str | None = None,
    model_config: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Model:
    """Add the ``python_function`` flavor to ``model`` (paths relative to the model dir)."""
    params: dict[str, Any] = dict(kwargs)
    params[MAIN] = loader_module
    params[PY_VERSION] = PYTHON_VERSION
    if code:
        params[CODE] = code
    if data:
        params[DATA] = data
    if conda_env or python_env:
        params[ENV] = {}
        if conda_env:
            params[ENV]["conda"] = conda_env
        if python_env:
            params[ENV]["virtualenv"] = python_env
    if model_config:
        params[MODEL_CONFIG] = model_config
    return model.add_flavor(FLAVOR_NAME, **params)


class PyFuncModel:
    """A loaded model with a generic ``predict``; returned by :func:`load_model`."""

    def __init__(self, model_meta: Model, model_impl: Any, predict_fn: str = "predict") -> None:
        if not hasattr(model_impl, predict_fn):
            raise FsRegistryException(
                f"Model implementation is missing required {predict_fn} method."
            )
        self._model_meta = model_meta
        self._model_impl = model_impl
        self._predict_fn: Callable[..., Any] = getattr(model_impl, predict_fn)
        self.input_example: Any = None

    @property
    def metadata(self) -> Model:
        """The model's MLmodel."""
        return self._model_meta

    @property
    def model_id(self) -> str | None:
        return self._model_meta.model_id

    @property
    def loader_module(self) -> str | None:
        conf = self._model_meta.flavors.get(FLAVOR_NAME)
        return None if conf is None else conf.get(MAIN)

    @property
    def model_config(self) -> dict[str, Any]:
        return dict(saved_model_config(self._model_meta.flavors.get(FLAVOR_NAME) or {}) or {})

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        """Predict after checking ``data`` and ``params`` against the model signature."""
        from fsregistry.models.enforcement import (
            SchemaEnforcementError,
            enforce_params_schema,
            enforce_schema,
        )

        input_schema = self._model_meta.get_input_schema()
        if input_schema is not None:
            try:
                data = enforce_schema(data, input_schema)
            except SchemaEnforcementError as exc:
                raise SchemaEnforcementError(
                    f"Failed to enforce schema of data '{_brief(data)}' with schema "
                    f"'{input_schema!r}'. Error: {exc.message}"
                ) from None
        params = enforce_params_schema(params, self._model_meta.get_params_schema())
        try:
            accepts = inspect.signature(self._predict_fn).parameters.get("params")
        except (TypeError, ValueError):  # builtins without an inspectable signature
            accepts = None
        if accepts is not None and accepts.kind != inspect.Parameter.VAR_KEYWORD:
            return self._predict_fn(data, params=params)
        if params:
            _logger.warning("The model's predict() takes no params; ignoring %s", params)
        return self._predict_fn(data)

    def unwrap_python_model(self) -> Any:
        """The user's :class:`PythonModel` object inside a custom model."""
        python_model = getattr(self._model_impl, "python_model", None)
        if python_model is None:
            raise FsRegistryException(
                "Unable to retrieve base model object from pyfunc. unwrap_python_model() is "
                f"only available for custom Python models (this one's loader is "
                f"{self.loader_module!r})"
            )
        return python_model

    def get_raw_model(self) -> Any:
        """The underlying model object (e.g. the scikit-learn estimator)."""
        if hasattr(self._model_impl, "get_raw_model"):
            return self._model_impl.get_raw_model()
        raise NotImplementedError("This model implementation has no get_raw_model()")

    def __repr__(self) -> str:
        info: dict[str, Any] = {}
        if self._model_meta.run_id is not None:
            info["run_id"] = self._model_meta.run_id
        if self._model_meta.artifact_path is not None:
            info["artifact_path"] = self._model_meta.artifact_path
        info["flavor"] = self.loader_module
        return yaml.safe_dump({"fsregistry.pyfunc.loaded_model": info}, default_flow_style=False)


def _brief(data: Any, limit: int = 300) -> str:
    """``str(data)`` as MLflow puts it in schema errors, cut to ``limit`` characters (MLflow
    prints all of it)."""
    try:
        text = str(data)
    except Exception as exc:  # a str() that raises must not hide the schema error
        text = f"<{type(data).__name__}: str() failed: {exc}>"
    return text if len(text) <= limit else text[:limit] + "..."


def _both_argument_sets(
    loader_module: Any, data_path: Any, artifacts: Any, python_model: Any
) -> InvalidParameterValue:
    """MLflow's error for ``save_model`` given arguments of both ways to save a model."""
    first = {"loader_module": loader_module, "data_path": data_path}
    second = {"artifacts": artifacts, "python_model": python_model}
    return InvalidParameterValue(
        "The following sets of parameters cannot be specified together: "
        f"{first.keys()}  and {second.keys()}. All parameters in one set must be `None`. "
        f"Instead, found the following values: {first} and {second}"
    )


def saved_model_config(conf: dict[str, Any]) -> dict[str, Any] | None:
    """The ``model_config`` a pyfunc flavor was saved with (MLflow's ``config`` key, or the
    ``model_config`` key earlier fsregistry versions wrote)."""
    saved = conf.get(MODEL_CONFIG, conf.get("model_config"))
    return dict(saved) if isinstance(saved, dict) else None


def _warn_python_version(model_version: str | None) -> None:
    if model_version is None:
        return
    if model_version.split(".")[:2] != PYTHON_VERSION.split(".")[:2]:
        _logger.warning(
            "The model was saved with Python %s; this is Python %s, which may not load it",
            model_version,
            PYTHON_VERSION,
        )


def add_code_to_path(local_path: str, conf: dict[str, Any], code_key: str = CODE) -> None:
    """Prepend the model's ``code/`` directory to sys.path (as MLflow does)."""
    code = conf.get(code_key)
    if code:
        path = os.path.join(local_path, str(code))
        if path not in sys.path:
            sys.path.insert(0, path)


def fetch_verified_model(
    model_uri: str,
    dst_path: str | None = None,
    verify: bool = True,
    expected_digest: str | None = None,
) -> str:
    """The model's files in a local directory, checked (unless ``verify`` is False) against
    their manifest, ``expected_digest`` and, for ``models:/<name>/...``, the digest the
    registry recorded at registration: what every loader, server and environment runs on."""
    from fsregistry.models.cache import local_model_dir
    from fsregistry.models.hashes import verify_local_model

    local = local_model_dir(model_uri, dst_path=dst_path)
    if verify or expected_digest is not None:
        verify_local_model(
            local.path,
            expected_digest=expected_digest,
            registered_digest=local.registered_digest if verify else None,
            where=model_uri,
        )
    return local.path


def prepare_local_model(
    model_uri: str,
    dst_path: str | None,
    verify: bool,
    expected_digest: str | None,
) -> tuple[str, Model]:
    """Get the model files locally, verify their hashes, read MLmodel: the common load start."""
    local = fetch_verified_model(model_uri, dst_path, verify, expected_digest)
    return local, Model.load(local)


def load_model(
    model_uri: str,
    suppress_warnings: bool = False,
    dst_path: str | None = None,
    model_config: dict[str, Any] | str | os.PathLike[str] | None = None,
    *,
    verify: bool = True,
    expected_digest: str | None = None,
) -> PyFuncModel:
    """Load a model as a :class:`PyFuncModel` from any model URI.

    ``verify`` checks the files against the hashes recorded at save time before any code runs
    (models without a manifest, i.e. written by MLflow, are loaded unchecked);
    ``expected_digest`` (``ModelInfo.files_digest``) also pins the manifest itself.
    ``model_config`` (a dict or YAML file) replaces values of the saved configuration's keys,
    as in MLflow; other keys are ignored with a warning.
    """
    local, meta = prepare_local_model(model_uri, dst_path, verify, expected_digest)
    conf = meta.flavors.get(FLAVOR_NAME)
    if conf is None:
        raise ResourceDoesNotExist(
            f'Model does not have the "{FLAVOR_NAME}" flavor '
            f"(model {model_uri!r}, flavors: {sorted(meta.flavors)})"
        )
    if not isinstance(conf.get(MAIN), str):
        raise InvalidParameterValue(f"Model at {model_uri!r} has no loader_module")
    if not suppress_warnings:
        _warn_python_version(conf.get(PY_VERSION))
    add_code_to_path(local, conf)
    data_path = os.path.join(local, str(conf[DATA])) if DATA in conf else local
    config = overridden_model_config(
        saved_model_config(conf), model_config_from_argument(model_config)
    )
    load = loader(conf[MAIN])
    try:
        if "model_config" in inspect.signature(load).parameters:
            impl = load(data_path, model_config=config or None)
        else:
            impl = load(data_path)
    finally:
        # Schemas a model file declared while loading belong to no model being saved.
        clear_dependencies_schemas()
    model = PyFuncModel(meta, impl, predict_fn=conf.get("predict_fn", "predict"))
    if meta.saved_input_example_info is not None:
        try:
            model.input_example = meta.load_input_example(local)
        except (InvalidParameterValue, ResourceDoesNotExist, OSError, ValueError) as exc:
            _logger.debug("Could not load the input example of %s: %s", model_uri, exc)
    return model


def load_pyfunc(model_uri: str, suppress_warnings: bool = False) -> PyFuncModel:
    """Deprecated MLflow alias of :func:`load_model`."""
    import warnings

    warnings.warn("load_pyfunc is deprecated; use load_model", FutureWarning, stacklevel=2)
    return load_model(model_uri, suppress_warnings=suppress_warnings)


def save_model(
    path: str | os.PathLike[str],
    loader_module: str | None = None,
    data_path: str | None = None,
    code_paths: Sequence[str] | None = None,
    conda_env: dict[str, Any] | str | None = None,
    mlflow_model: Model | None = None,
    python_model: PythonModel | Callable[[Any], Any] | str | os.PathLike[str] | None = None,
    artifacts: dict[str, str] | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    metadata: dict[str, Any] | None = None,
    model_config: dict[str, Any] | str | os.PathLike[str] | None = None,
    code_path: Sequence[str] | None = None,
) -> None:
    """Save a custom model (``python_model``) or a model with its own ``loader_module``.

    ``python_model`` is a :class:`PythonModel` (or a function of the input) pickled with
    cloudpickle; ``artifacts`` (name -> local path or URI) are copied into the model and given
    back as local paths in ``context.artifacts``; ``code_paths`` are copied to ``code/`` and
    put on ``sys.path`` when loading. With ``loader_module``, ``data_path`` is copied into the
    model and ``<loader_module>._load_pyfunc(<data>)`` is called at load time.
    ``python_model`` may also be the path of a ``.py`` file that calls
    ``fsregistry.models.set_model`` (models from code, :mod:`fsregistry.pyfunc.from_code`);
    ``model_config`` is a dict or a YAML file path.
    """
    import pickle
    import shutil

    import cloudpickle

    from fsregistry.models import saving
    from fsregistry.models.environment import pinned
    from fsregistry.pyfunc import model as custom

    if isinstance(python_model, str | os.PathLike):
        from fsregistry.pyfunc import from_code

        if loader_module is not None or data_path is not None:
            raise _both_argument_sets(loader_module, data_path, artifacts, python_model)
        return from_code.save_model(
            path,
            python_model,
            code_paths=saving.legacy_code_path(code_path, code_paths),
            artifacts=artifacts,
            conda_env=conda_env,
            mlflow_model=mlflow_model,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            metadata=metadata,
            model_config=model_config,
        )
    model_config = model_config_from_argument(model_config)
    if (loader_module is not None or data_path is not None) and (
        python_model is not None or artifacts is not None
    ):
        raise _both_argument_sets(loader_module, data_path, artifacts, python_model)
    if python_model is None and loader_module is None:
        raise InvalidParameterValue(
            "Either `loader_module` or `python_model` must be specified. A `loader_module` "
            "should be a python module. A `python_model` should be a subclass of PythonModel"
        )
    if python_model is not None:
        if not isinstance(python_model, PythonModel) and not callable(python_model):
            raise InvalidParameterValue(
                "`python_model` must be a PythonModel instance, callable object, or path to a "
                "script that uses set_model() to set a PythonModel instance or callable object. "
                f"Got {type(python_model).__name__}"
            )
        if not isinstance(python_model, PythonModel) and not hasattr(python_model, "predict"):
            python_model = custom._FunctionPythonModel(python_model)
    if data_path is not None and not os.path.exists(data_path):
        raise InvalidParameterValue(f"data_path {data_path!r} does not exist")
    artifacts = custom.check_artifacts(artifacts)
    codes = saving.check_code_paths(saving.legacy_code_path(code_path, code_paths))
    saving.check_env_arguments(conda_env, pip_requirements, extra_pip_requirements)
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidParameterValue(f"metadata must be a dict, got {type(metadata).__name__}")
    mlflow_model = mlflow_model if mlflow_model is not None else Model()
    if metadata is not None:
        mlflow_model.metadata = metadata
    if python_model is not None:
        mlflow_model.metadata = add_to_metadata(mlflow_model.metadata)
    with saving.ModelDirWriter(path) as model_dir:
        code_dir = saving.copy_code_paths(codes, model_dir)
        scan: list[str] = []
        defaults: list[str] = []
        flavor_conf: dict[str, Any] = {}
        if python_model is not None:
            saved = custom.save_artifacts(artifacts, model_dir) if artifacts else {}
            try:
                with open(os.path.join(model_dir, custom.PYTHON_MODEL_FILE), "wb") as f:
                    cloudpickle.dump(python_model, f)
            except (TypeError, AttributeError, ValueError, pickle.PicklingError) as exc:
                raise InvalidParameterValue(
                    f"Could not pickle the python_model with cloudpickle: {exc}"
                ) from exc
            context = PythonModelContext(
                {k: os.path.join(model_dir, *v["path"].split("/")) for k, v in saved.items()},
                model_config,
            )
            wrapper = custom._PythonModelWrapper(python_model, context)

            def predict(data: Any, params: dict[str, Any] | None) -> Any:
                if hasattr(wrapper.python_model, "load_context"):
                    wrapper.python_model.load_context(context)
                return wrapper.predict(data, params)

            flavor_conf[custom.CONFIG_KEY_CLOUDPICKLE_VERSION] = cloudpickle.__version__
            flavor_conf[custom.CONFIG_KEY_PYTHON_MODEL] = custom.PYTHON_MODEL_FILE
            if saved:
                flavor_conf[custom.CONFIG_KEY_ARTIFACTS] = saved
            flavor_conf["streamable"] = False
            scan.append(custom.PYTHON_MODEL_FILE)
            defaults.append(pinned("cloudpickle"))
            saving.save_example_and_signature(
                model_dir, mlflow_model, input_example, signature, predict
            )
            add_to_model(
                mlflow_model,
                loader_module=custom.LOADER_MODULE,
                code=code_dir,
                conda_env="conda.yaml",
                python_env="python_env.yaml",
                model_config=model_config,
                **flavor_conf,
            )
        else:
            data_rel = None
            if data_path is not None:
                data_rel = os.path.basename(os.path.abspath(data_path))
                target = os.path.join(model_dir, data_rel)
                if os.path.isdir(data_path):
                    shutil.copytree(data_path, target)
                else:
                    shutil.copy2(data_path, target)
            saving.save_example_and_signature(
                model_dir, mlflow_model, input_example, signature, None
            )
            add_to_model(
                mlflow_model,
                loader_module=str(loader_module),
                data=data_rel,
                code=code_dir,
                conda_env="conda.yaml",
                python_env="python_env.yaml",
                model_config=model_config,
            )
        saving.finish_model_dir(
            model_dir,
            mlflow_model,
            scan_files=scan,
            default_requirements=defaults,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            conda_env=conda_env,
        )


def log_model(
    name: str | None = None,
    loader_module: str | None = None,
    data_path: str | None = None,
    code_paths: Sequence[str] | None = None,
    conda_env: dict[str, Any] | str | None = None,
    python_model: PythonModel | Callable[[Any], Any] | str | os.PathLike[str] | None = None,
    artifacts: dict[str, str] | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    metadata: dict[str, Any] | None = None,
    model_config: dict[str, Any] | str | os.PathLike[str] | None = None,
    artifact_path: str | None = None,
    run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    code_path: Sequence[str] | None = None,
    params: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
) -> ModelInfo:
    """Log a custom model (see :func:`save_model`) as an MLflow 3 LoggedModel.

    As MLflow 3 (see ``Model.log``): ``ModelInfo.model_uri`` is ``models:/<model_id>``, no run
    is started; with ``registered_model_name`` the model is also registered
    (``ModelInfo.registered_model_version``); ``params``/``tags`` go on the LoggedModel
    (``tags`` also on that version).
    """
    return Model.log(
        name=name,
        artifact_path=artifact_path,
        flavor=sys.modules[__name__],
        registered_model_name=registered_model_name,
        metadata=metadata,
        run_id=run_id,
        tags=tags,
        params=params,
        model_type=model_type,
        step=step,
        model_id=model_id,
        loader_module=loader_module,
        data_path=data_path,
        code_paths=code_paths,
        code_path=code_path,
        conda_env=conda_env,
        python_model=python_model,
        artifacts=artifacts,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        model_config=model_config,
    )


def spark_udf(
    spark: Any,
    model_uri: str,
    result_type: Any = None,
    env_manager: str | None = None,
    params: dict[str, Any] | None = None,
    extra_env: dict[str, str] | None = None,
    prebuilt_env_uri: str | None = None,
    model_config: dict[str, Any] | str | None = None,
) -> Any:
    """A Spark pandas UDF that scores the model on DataFrame columns (``mlflow.pyfunc.spark_udf``).

    Needs ``pip install 'fsregistry[spark]'`` (pyspark, pyarrow). The driver resolves
    ``model_uri`` (``models:/name@alias``, ``models:/name/3``, ``runs:/...``, a path,
    ``s3://``/``gs://``) once and reads only the model's MLmodel; each executor Python worker
    loads the model from its store location once and reuses it for every batch, pinned to the
    hash manifest the driver saw.

    Calling the UDF: ``udf()`` passes the columns named in the model's input signature;
    ``udf("a", "b")`` passes those columns under their names; ``udf(struct(...))`` passes the
    struct's fields under their names; Column expressions are matched to the signature's inputs
    by position (ordinals ``"0"``, ``"1"``... without a signature), as in MLflow.

    ``result_type`` is a pyspark DataType or DDL string: ``int``, ``long``, ``float``,
    ``double``, ``boolean``, ``string`` (the leftmost prediction column that fits),
    ``array<...>`` of those (all fitting columns of each row, or each row's list), one more
    level of ``array``, or a struct of those (prediction columns by field name). Without it,
    the type comes from the model's output schema, else ``double``.

    ``env_manager`` must be ``"local"`` (the default): executors score in their own Python
    environment. ``extra_env`` sets environment variables on executors while they load and
    score (e.g. storage credentials); the driver's ``AWS_ENDPOINT_URL``,
    ``AWS_ENDPOINT_URL_S3`` and ``STORAGE_EMULATOR_HOST`` are forwarded automatically.
    ``params`` are checked against the model's params schema and passed to every ``predict``;
    ``model_config`` overrides the model's config when executors load it.
    """
    from fsregistry.pyfunc.spark import spark_udf as build

    return build(
        spark,
        model_uri,
        result_type=result_type,
        env_manager=env_manager,
        params=params,
        extra_env=extra_env,
        prebuilt_env_uri=prebuilt_env_uri,
        model_config=model_config,
    )


__all__ = [
    "FLAVOR_NAME",
    "PyFuncModel",
    "PythonModel",
    "PythonModelContext",
    "add_to_model",
    "get_model_dependencies",
    "load_model",
    "load_pyfunc",
    "log_model",
    "save_model",
    "spark_udf",
]


def __getattr__(name: str) -> Any:
    """An MLflow name fsregistry lacks raises an AttributeError that says so."""
    from fsregistry.mlflow_api import module_getattr

    return module_getattr(__name__)(name)
