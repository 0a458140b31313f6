"""``mlflow.onnx`` for fsregistry: save, log and load ONNX models (``onnx.ModelProto``).

The model is saved with ``onnx.save_model`` as ``model.onnx`` (tensors of 1 KiB or more in an
external ``<uuid>.data`` file beside it when ``save_as_external_data``, MLflow's default). The
MLmodel entry is MLflow's (``onnx_version``, ``data``, ``providers``, ``onnx_session_options``,
``code``) beside ``python_function`` with ``loader_module: mlflow.onnx``, so MLflow 3.x loads
these models with ``mlflow.onnx.load_model`` and ``mlflow.pyfunc.load_model``, and fsregistry
loads theirs. pyfunc runs the model in an ``onnxruntime.InferenceSession`` built with the
recorded execution providers (those this onnxruntime build lacks are dropped with a warning;
CPU if none is left, or if the others fail to start) and session options. Needs
``pip install 'fsregistry[onnx]'`` (onnx and onnxruntime).

pyfunc input, as MLflow maps it: a dict of arrays is the feed (input name -> tensor); a numpy
array feeds a single-input model; a DataFrame's values feed a single-input model, its columns
(named as the inputs) a multi-input one. ``float64`` data is cast to ``float32`` for
``tensor(float)`` inputs. A DataFrame gives a DataFrame of the outputs (each flattened), other
input a dict output name -> array.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from fsregistry import flavors as kit
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.model import Model, ModelInfo
from fsregistry.models.signature import ModelSignature

_logger = logging.getLogger(__name__)

FLAVOR_NAME = "onnx"
ONNX_EXECUTION_PROVIDERS = ["CUDAExecutionProvider", "CPUExecutionProvider"]
MODEL_FILE = "model.onnx"
FLAVOR = kit.Flavor(
    name=FLAVOR_NAME,
    package="onnx",
    extra="onnx",
    version_key="onnx_version",
    loader_module="mlflow.onnx",
)
#: The inference engine pyfunc needs (same extra; no version recorded in the MLmodel).
RUNTIME = kit.Flavor(
    name=FLAVOR_NAME,
    package="onnxruntime",
    extra="onnx",
    version_key="onnxruntime_version",
    loader_module="mlflow.onnx",
)
_CPU = "CPUExecutionProvider"
_EXECUTION_MODES = ("PARALLEL", "SEQUENTIAL")
_OPTIMIZATION_LEVELS = (0, 1, 2, 99)


def get_default_pip_requirements() -> list[str]:
    """onnx and onnxruntime, pinned to the installed distributions (``onnxruntime-gpu`` where
    that provides onnxruntime; MLflow always writes ``onnxruntime``)."""
    return [FLAVOR.requirement(), RUNTIME.requirement()]


def get_default_conda_env() -> dict[str, Any]:
    """MLflow's conda environment with :func:`get_default_pip_requirements` (conda-forge)."""
    from fsregistry.models.environment import conda_env

    return conda_env(get_default_pip_requirements())


def _check_providers(providers: Any) -> list[Any]:
    """The providers as the MLmodel stores them: names, or ``[name, {options}]`` lists."""
    if providers is None:
        return list(ONNX_EXECUTION_PROVIDERS)
    if isinstance(providers, str) or not isinstance(providers, list | tuple):
        raise InvalidParameterValue(
            "onnx_execution_providers must be a list of provider names or (name, options) "
            f"tuples, got {providers!r}"
        )
    out: list[Any] = []
    for entry in providers:
        if isinstance(entry, str):
            out.append(entry)
        elif (
            isinstance(entry, list | tuple)
            and len(entry) == 2
            and isinstance(entry[0], str)
            and isinstance(entry[1], dict)
        ):
            out.append([entry[0], dict(entry[1])])
        else:
            raise InvalidParameterValue(
                "onnx_execution_providers entries must be a provider name or a (name, options) "
                f"tuple, got {entry!r}"
            )
    return out


def _check_session_options(options: Any, ort: Any) -> None:
    """MLflow's ``_validate_onnx_session_options`` rules, as ``InvalidParameterValue``."""
    if options is None:
        return
    if not isinstance(options, dict):
        raise InvalidParameterValue(
            f"Argument onnx_session_options should be a dict, not {type(options)}"
        )
    for key, value in options.items():
        if key == "extra_session_config":
            if not isinstance(value, dict):
                raise InvalidParameterValue(
                    f"Value for key {key} in onnx_session_options should be a dict, "
                    f"not {type(value)}"
                )
        elif not isinstance(key, str) or not hasattr(ort.SessionOptions, key):
            raise InvalidParameterValue(
                f"Key {key} in onnx_session_options is not a valid ONNX Runtime session options key"
            )
        elif key == "execution_mode" and (
            not isinstance(value, str) or value.upper() not in _EXECUTION_MODES
        ):
            raise InvalidParameterValue(
                f"Value for key {key} in onnx_session_options should be 'parallel' or "
                f"'sequential', not {value}"
            )
        elif key == "graph_optimization_level" and value not in _OPTIMIZATION_LEVELS:
            raise InvalidParameterValue(
                f"Value for key {key} in onnx_session_options should be 0, 1, 2, or 99, not {value}"
            )
        elif key in ("intra_op_num_threads", "inter_op_num_threads") and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            raise InvalidParameterValue(
                f"Value for key {key} in onnx_session_options should be >= 0, not {value}"
            )


def _check_model(onnx: Any, onnx_model: Any) -> None:
    if not isinstance(onnx_model, onnx.ModelProto):
        raise InvalidParameterValue(
            f"onnx_model must be an onnx.ModelProto, got {kit.class_name(onnx_model)}"
        )
    if onnx_model.ByteSize() < 2**31 - 1:  # larger protos can only be checked from a file
        try:
            onnx.checker.check_model(onnx_model)
        except onnx.checker.ValidationError as exc:
            raise InvalidParameterValue(f"onnx_model is not a valid ONNX model: {exc}") from None


def save_model(
    onnx_model: Any,
    path: str | os.PathLike[str],
    conda_env: dict[str, Any] | str | None = None,
    code_paths: Sequence[str] | None = None,
    mlflow_model: Model | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    onnx_execution_providers: Sequence[Any] | None = None,
    onnx_session_options: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    save_as_external_data: bool = True,
    extra_files: Sequence[str] | None = None,
    **kwargs: Any,
) -> None:
    """Save an ``onnx.ModelProto`` at ``path`` (new or empty).

    Unlike MLflow, an object that is not a ``ModelProto``, a model the ONNX checker rejects,
    and bad providers or session options are an ``InvalidParameterValue`` before anything is
    written; the caller's model is not modified (MLflow's external-data save empties its
    tensors). ``kwargs`` go to ``onnx.save_model``.
    """
    onnx = FLAVOR.require()
    ort = RUNTIME.require()
    _check_model(onnx, onnx_model)
    providers = _check_providers(onnx_execution_providers)
    _check_session_options(onnx_session_options, ort)

    def write(model_dir: str) -> kit.SavedData:
        proto = onnx_model
        if save_as_external_data:  # onnx moves the tensors out of the proto it is given
            proto = onnx.ModelProto()
            proto.CopyFrom(onnx_model)
        onnx.save_model(
            proto,
            os.path.join(model_dir, MODEL_FILE),
            save_as_external_data=save_as_external_data,
            **kwargs,
        )
        return kit.SavedData(
            data=MODEL_FILE,
            conf={"providers": providers, "onnx_session_options": onnx_session_options},
            requirements=get_default_pip_requirements(),
        )

    def predict(data: Any, params: dict[str, Any] | None = None) -> Any:
        session = ort.InferenceSession(onnx_model.SerializeToString(), providers=[_CPU])
        return _OnnxModelWrapper(session).predict(data, params)

    kit.save_model(
        FLAVOR,
        path,
        kit.ModelOptions(
            conda_env=conda_env,
            code_paths=code_paths,
            mlflow_model=mlflow_model,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            metadata=metadata,
            extra_files=extra_files,
        ),
        write,
        predict,
        (onnx.checker.ValidationError,),
    )


def log_model(
    onnx_model: Any,
    name: str | None = None,
    conda_env: dict[str, Any] | str | None = None,
    code_paths: Sequence[str] | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    onnx_execution_providers: Sequence[Any] | None = None,
    onnx_session_options: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    save_as_external_data: bool = True,
    extra_files: Sequence[str] | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log an ONNX model as an MLflow 3 LoggedModel named ``name`` (``models:/<model_id>``; no run is started).

    Same as :func:`fsregistry.sklearn.log_model` for ``name``, ``artifact_path``, ``run_id``,
    ``tags`` and ``registered_model_name``; ``await_registration_for`` is accepted and ignored.
    """
    return kit.log_model(
        sys.modules[__name__],
        name=name,
        registered_model_name=registered_model_name,
        metadata=metadata,
        onnx_model=onnx_model,
        conda_env=conda_env,
        code_paths=code_paths,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        onnx_execution_providers=onnx_execution_providers,
        onnx_session_options=onnx_session_options,
        save_as_external_data=save_as_external_data,
        extra_files=extra_files,
        **kwargs,
    )


def load_model(
    model_uri: str,
    dst_path: str | None = None,
    *,
    verify: bool = True,
    expected_digest: str | None = None,
) -> Any:
    """Load the ``onnx.ModelProto`` at ``model_uri`` (checked by the ONNX checker, as MLflow
    does; its external data loaded too).

    Files are checked against their recorded hashes first (``verify``); a model saved with
    another onnx major version is loaded with a warning naming both versions.
    """
    local = kit.load_local(FLAVOR, model_uri, dst_path, verify, expected_digest)
    onnx = FLAVOR.require()
    path = local.file()
    with kit.reading(FLAVOR, path, _read_errors(onnx)):
        onnx.checker.check_model(path)
        return onnx.load(path)


def _read_errors(onnx: Any) -> tuple[type[BaseException], ...]:
    import importlib

    decode_error = importlib.import_module("google.protobuf.message").DecodeError
    return (onnx.checker.ValidationError, decode_error)


def _provider_name(entry: Any) -> str | None:
    if isinstance(entry, list | tuple):
        entry = entry[0] if entry else None
    return entry if isinstance(entry, str) else None


def _session_options(ort: Any, options: Any) -> Any:
    """``onnxruntime.SessionOptions`` from the MLmodel's ``onnx_session_options``, as MLflow
    reads them (unknown keys are ignored)."""
    sess = ort.SessionOptions()
    if not isinstance(options, dict):
        return sess
    if threads := options.get("inter_op_num_threads"):
        sess.inter_op_num_threads = threads
    if threads := options.get("intra_op_num_threads"):
        sess.intra_op_num_threads = threads
    mode = options.get("execution_mode")
    if isinstance(mode, str) and mode.upper() in _EXECUTION_MODES:
        sess.execution_mode = getattr(ort.ExecutionMode, f"ORT_{mode.upper()}")
    if level := options.get("graph_optimization_level"):
        sess.graph_optimization_level = ort.GraphOptimizationLevel(level)
    extra = options.get("extra_session_config")
    if isinstance(extra, dict):
        for key, value in extra.items():
            sess.add_session_config_entry(str(key), str(value))
    return sess


def _providers(conf: dict[str, Any], available: Sequence[str]) -> list[Any]:
    """The MLmodel's providers this onnxruntime build has (``[name, options]`` entries as
    tuples); the rest dropped with a warning, CPU when none is left."""
    declared = conf.get("providers", ONNX_EXECUTION_PROVIDERS)
    if isinstance(declared, str):
        declared = [declared]
    elif not declared or not isinstance(declared, list | tuple):
        declared = ONNX_EXECUTION_PROVIDERS
    declared = [tuple(p) if isinstance(p, list) else p for p in declared]
    usable = [p for p in declared if _provider_name(p) in available]
    missing = [p for p in declared if _provider_name(p) not in available]
    if missing:
        _logger.warning(
            "ONNX model declares execution providers %s but %s are unavailable in this "
            "onnxruntime build; serving with %s",
            declared,
            missing,
            usable or [_CPU],
        )
    return usable or [_CPU]


def _session(local: kit.LocalModel) -> Any:
    """An ``InferenceSession`` on the model file with the recorded providers and options."""
    ort = RUNTIME.require()
    path = local.file()
    options = _session_options(ort, local.conf.get("onnx_session_options"))
    providers = _providers(local.conf, ort.get_available_providers())
    with kit.reading(FLAVOR, path, _ort_errors(ort)):
        try:
            session = ort.InferenceSession(path, providers=providers, sess_options=options)
        except _ort_errors(ort) as exc:
            if providers == [_CPU] or not os.path.isfile(path):
                raise
            _logger.warning(
                "ONNX model requested execution providers %s but onnxruntime failed to "
                "initialize them (%r); falling back to CPU",
                providers,
                exc,
            )
            session = ort.InferenceSession(path, providers=[_CPU], sess_options=options)
    active = session.get_providers()
    if dropped := [p for p in providers if _provider_name(p) not in active]:
        _logger.warning(
            "ONNX model requested execution providers %s but onnxruntime activated only %s; "
            "%s failed to initialize and were dropped",
            providers,
            active,
            dropped,
        )
    return session


def _ort_errors(ort: Any) -> tuple[type[BaseException], ...]:
    state = ort.capi.onnxruntime_pybind11_state
    return (
        state.Fail,
        state.InvalidArgument,
        state.InvalidGraph,
        state.InvalidProtobuf,
        state.NoSuchFile,
        state.NotImplemented,
        state.RuntimeException,
        RuntimeError,
    )


class _OnnxModelWrapper(kit.ModelWrapper):
    """pyfunc implementation on an ``onnxruntime.InferenceSession`` (``get_raw_model()``
    returns the session, as in MLflow)."""

    def __init__(self, session: Any) -> None:
        super().__init__(session)
        self.inputs = [(i.name, i.type) for i in session.get_inputs()]
        self.output_names = [o.name for o in session.get_outputs()]

    def _feeds(self, data: Any) -> dict[str, Any]:
        import numpy as np
        import pandas as pd

        names = [name for name, _ in self.inputs]
        if isinstance(data, dict):
            feeds = {k: np.asarray(v) for k, v in data.items()}
        elif isinstance(data, np.ndarray):
            if len(self.inputs) != 1:
                raise InvalidParameterValue(
                    "Unable to map numpy array input to the expected model input. Numpy arrays "
                    "can only be used as input for MLflow ONNX models that have a single "
                    f"input. This model requires {len(self.inputs)} inputs. Please pass in data "
                    f"as either a dictionary or a DataFrame with the following tensors: {names}."
                )
            feeds = {names[0]: data}
        elif isinstance(data, pd.DataFrame):
            if len(self.inputs) > 1:
                absent = [n for n in names if n not in data.columns]
                if absent:
                    raise InvalidParameterValue(
                        f"The DataFrame has no column for the model inputs {absent}: a "
                        f"multi-input ONNX model takes one column per input {names}, got "
                        f"columns {list(data.columns)}"
                    )
                feeds = {n: data[n].to_numpy() for n in names}
            else:
                feeds = {names[0]: data.to_numpy()}
        else:
            raise InvalidParameterValue(
                "Input should be a dictionary or a numpy array or a pandas.DataFrame, "
                f"got '{type(data)}'"
            )
        absent = [n for n in names if n not in feeds]
        if absent:
            raise InvalidParameterValue(
                f"The input has no tensor for the model inputs {absent} (expected {names}, "
                f"got {sorted(feeds)})"
            )
        for name, kind in self.inputs:  # MLflow's float64 -> float32 cast (mlflow#1286)
            if kind == "tensor(float)" and feeds[name].dtype == np.float64:
                feeds[name] = feeds[name].astype(np.float32)
        return feeds

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import pandas as pd

        ort = RUNTIME.require()
        feeds = self._feeds(data)
        try:
            outputs = self.model.run(self.output_names, feeds)
        except _ort_errors(ort) as exc:
            raise InvalidParameterValue(
                f"The ONNX model cannot run on this input: {type(exc).__name__}: {exc}"
            ) from None
        if isinstance(data, pd.DataFrame):
            return pd.DataFrame(
                {
                    n: np.asarray(p).reshape(-1)
                    for n, p in zip(self.output_names, outputs, strict=True)
                }
            )
        return dict(zip(self.output_names, outputs, strict=True))


def _load_pyfunc(path: str) -> _OnnxModelWrapper:
    """pyfunc loader for ``loader_module: mlflow.onnx`` (``path``: model dir or data file)."""
    local = kit.pyfunc_model_dir(FLAVOR, path)
    return _OnnxModelWrapper(_session(local))


__all__ = [
    "FLAVOR_NAME",
    "ONNX_EXECUTION_PROVIDERS",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]
