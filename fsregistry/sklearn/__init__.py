"""``mlflow.sklearn`` for fsregistry: save, log and load scikit-learn models.

Models are written in MLflow's sklearn flavor (``pickled_model``, ``sklearn_version``,
``serialization_format``, ``code``, ``skops_trusted_types``) plus the ``python_function``
flavor with ``loader_module: mlflow.sklearn``, so MLflow 2.22 and 3.x load them with
``mlflow.sklearn.load_model`` and ``mlflow.pyfunc.load_model``.

Serialization formats: ``cloudpickle`` (default: every MLflow version reads it), ``pickle``,
and ``skops`` (MLflow 3's default; needs ``pip install skops``; MLflow 2.x cannot read it).
All three are read, whichever MLflow or fsregistry wrote them.

**Security**: reading ``pickle``/``cloudpickle`` runs code from the store. ``skops`` rebuilds
only allow-listed types (plus the model's ``skops_trusted_types``) and is the safer choice;
with any format the model's files are checked against the hashes recorded when it was saved
before they are read (``verify=True``), see :mod:`fsregistry.models`.
"""

from __future__ import annotations

import logging
import os
import pickle
import sys
from collections.abc import Sequence
from typing import Any

from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.model import Model, ModelInfo
from fsregistry.models.signature import ModelSignature

_logger = logging.getLogger(__name__)

FLAVOR_NAME = "sklearn"
SERIALIZATION_FORMAT_PICKLE = "pickle"
SERIALIZATION_FORMAT_CLOUDPICKLE = "cloudpickle"
SERIALIZATION_FORMAT_SKOPS = "skops"
SUPPORTED_SERIALIZATION_FORMATS = (
    SERIALIZATION_FORMAT_PICKLE,
    SERIALIZATION_FORMAT_CLOUDPICKLE,
    SERIALIZATION_FORMAT_SKOPS,
)
DEFAULT_SERIALIZATION_FORMAT = SERIALIZATION_FORMAT_CLOUDPICKLE
_PICKLE_FILE = "model.pkl"
_SKOPS_FILE = "model.skops"


def get_default_pip_requirements(
    include_cloudpickle: bool = False, include_skops: bool = False
) -> list[str]:
    """Pinned scikit-learn (and cloudpickle / skops when that format is used)."""
    from fsregistry.models.environment import pinned

    reqs = [pinned("scikit-learn")]
    if include_cloudpickle:
        reqs.append(pinned("cloudpickle"))
    if include_skops:
        reqs.append(pinned("skops"))
    return reqs


def get_default_conda_env(
    include_cloudpickle: bool = False, include_skops: bool = False
) -> dict[str, Any]:
    from fsregistry.models.environment import conda_env

    return conda_env(get_default_pip_requirements(include_cloudpickle, include_skops))


def _unrecognized_format(fmt: Any) -> InvalidParameterValue:
    """MLflow's error for a ``serialization_format`` not in
    :data:`SUPPORTED_SERIALIZATION_FORMATS` (MLflow 3's list holds the same three)."""
    return InvalidParameterValue(
        f"Unrecognized serialization format: {fmt}. Please specify one of the following "
        f"supported formats: {list(SUPPORTED_SERIALIZATION_FORMATS)}."
    )


def _import_skops() -> Any:
    try:
        import skops.io
    except ImportError:
        raise InvalidParameterValue(
            "The skops serialization format needs the skops package: pip install skops "
            "(or fsregistry[skops])"
        ) from None
    return skops.io


def _check_trusted_types(value: Any) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
        raise InvalidParameterValue(
            f"skops_trusted_types must be a list of type names, got {value!r}"
        )
    return list(value)


def _dump(sk_model: Any, path: str, fmt: str, trusted: list[str] | None) -> None:
    if fmt == SERIALIZATION_FORMAT_SKOPS:
        sio = _import_skops()
        try:
            sio.dump(sk_model, path)
        except (TypeError, ValueError, AttributeError, pickle.PicklingError) as exc:
            raise InvalidParameterValue(
                "The sklearn model could not be serialized in the skops serialization format. "
                "skops does not support custom functions or classes that are not defined at the "
                "top level. To work around this limitation, you can set the serialization_format "
                "'cloudpickle', while exercising caution due to the possible arbitrary "
                f"code during model deserialization using CloudPickle. ({exc})"
            ) from exc
        untrusted = sorted(set(sio.get_untrusted_types(file=path)) - set(trusted or []))
        if untrusted:
            raise InvalidParameterValue(
                "The saved sklearn model references untrusted types. "
                "If you are sure loading these types is safe, "
                "set the 'skops_trusted_types' parameter when calling 'log_model' or 'save_model' "
                f"to the list of trusted types. Untrusted types: {untrusted}"
            )
        return
    import cloudpickle

    lib: Any = pickle if fmt == SERIALIZATION_FORMAT_PICKLE else cloudpickle
    try:
        with open(path, "wb") as f:
            lib.dump(sk_model, f, protocol=pickle.DEFAULT_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        raise InvalidParameterValue(
            f"Pickling custom sklearn model {type(sk_model).__name__} failed when saving model: "
            f"{exc} (serialization_format={fmt!r})"
        ) from exc


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    conda_env: dict[str, Any] | str | None = None,
    code_paths: Sequence[str] | None = None,
    mlflow_model: Model | None = None,
    serialization_format: str = DEFAULT_SERIALIZATION_FORMAT,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict[str, Any] | None = None,
    skops_trusted_types: Sequence[str] | None = None,
    code_path: Sequence[str] | None = None,
) -> None:
    """Save a scikit-learn model as an MLflow model directory at ``path`` (new or empty).

    Without ``signature``, one is inferred from ``input_example`` by predicting on it.
    ``pyfunc_predict_fn`` names the method pyfunc's ``predict`` calls (``predict``,
    ``predict_proba``, ``predict_log_proba``, ``predict_joint_log_proba``, ``score``).
    """
    from fsregistry import pyfunc
    from fsregistry.models import saving

    if serialization_format not in SUPPORTED_SERIALIZATION_FORMATS:
        raise _unrecognized_format(serialization_format)
    if serialization_format == SERIALIZATION_FORMAT_SKOPS:
        _import_skops()
    allowed_fns = (
        "predict",
        "predict_proba",
        "predict_log_proba",
        "predict_joint_log_proba",
        "score",
    )
    if pyfunc_predict_fn not in allowed_fns:
        raise InvalidParameterValue(
            f"Invalid pyfunc_predict_fn {pyfunc_predict_fn!r}: expected one of {list(allowed_fns)}"
        )
    trusted = _check_trusted_types(skops_trusted_types)
    codes = saving.check_code_paths(saving.legacy_code_path(code_path, code_paths))
    saving.check_env_arguments(conda_env, pip_requirements, extra_pip_requirements)
    if metadata is not None and not isinstance(metadata, dict):
        raise InvalidParameterValue(f"metadata must be a dict, got {type(metadata).__name__}")
    import sklearn

    if serialization_format != SERIALIZATION_FORMAT_SKOPS:
        _logger.info(
            "Saving the scikit-learn model with %s: loading it runs code from the store. "
            "serialization_format='skops' is the safer format.",
            serialization_format,
        )
    mlflow_model = mlflow_model if mlflow_model is not None else Model()
    if metadata is not None:
        mlflow_model.metadata = metadata
    with saving.ModelDirWriter(path) as model_dir:
        code_dir = saving.copy_code_paths(codes, model_dir)
        wrapper = _SklearnModelWrapper(sk_model)
        fn = getattr(sk_model, pyfunc_predict_fn, None)
        saving.save_example_and_signature(
            model_dir,
            mlflow_model,
            input_example,
            signature,
            (lambda data, params: fn(data)) if fn is not None else None,
        )
        data_file = (
            _SKOPS_FILE if serialization_format == SERIALIZATION_FORMAT_SKOPS else _PICKLE_FILE
        )
        _dump(
            wrapper.sklearn_model, os.path.join(model_dir, data_file), serialization_format, trusted
        )
        if fn is not None:
            pyfunc.add_to_model(
                mlflow_model,
                loader_module="mlflow.sklearn",
                model_path=data_file,
                conda_env="conda.yaml",
                python_env="python_env.yaml",
                code=code_dir,
                predict_fn=pyfunc_predict_fn,
            )
        else:
            _logger.warning(
                "The model has no %s method: no python_function flavor is written",
                pyfunc_predict_fn,
            )
        mlflow_model.add_flavor(
            FLAVOR_NAME,
            pickled_model=data_file,
            sklearn_version=sklearn.__version__,
            serialization_format=serialization_format,
            code=code_dir,
            skops_trusted_types=trusted,
        )
        saving.finish_model_dir(
            model_dir,
            mlflow_model,
            scan_files=[data_file],
            default_requirements=get_default_pip_requirements(
                serialization_format == SERIALIZATION_FORMAT_CLOUDPICKLE,
                serialization_format == SERIALIZATION_FORMAT_SKOPS,
            ),
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            conda_env=conda_env,
        )


def log_model(
    sk_model: Any,
    name: str | None = None,
    conda_env: dict[str, Any] | str | None = None,
    code_paths: Sequence[str] | None = None,
    serialization_format: str = DEFAULT_SERIALIZATION_FORMAT,
    registered_model_name: str | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    pyfunc_predict_fn: str = "predict",
    metadata: dict[str, Any] | None = None,
    skops_trusted_types: Sequence[str] | None = None,
    artifact_path: str | None = None,
    run_id: str | None = None,
    tags: dict[str, Any] | None = None,
    code_path: Sequence[str] | None = None,
    params: dict[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
) -> ModelInfo:
    """Log a scikit-learn model as an MLflow 3 LoggedModel named ``name``.

    As MLflow 3 (see ``Model.log``): ``ModelInfo.model_uri`` is ``models:/<model_id>``, no run
    is started, ``artifact_path`` is the deprecated spelling of ``name``; ``params``/``tags``
    go on the LoggedModel (``tags`` also on the version ``registered_model_name`` makes).
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
        sk_model=sk_model,
        conda_env=conda_env,
        code_paths=code_paths,
        code_path=code_path,
        serialization_format=serialization_format,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        pyfunc_predict_fn=pyfunc_predict_fn,
        skops_trusted_types=skops_trusted_types,
    )


def _load_from_file(path: str, fmt: str, trusted: list[str] | None) -> Any:
    if fmt not in SUPPORTED_SERIALIZATION_FORMATS:
        raise _unrecognized_format(fmt)
    if fmt == SERIALIZATION_FORMAT_SKOPS:
        sio = _import_skops()
        return sio.load(path, trusted=trusted)
    with open(path, "rb") as f:
        if fmt == SERIALIZATION_FORMAT_PICKLE:
            return pickle.load(f)
        import cloudpickle

        return cloudpickle.load(f)


def load_model(
    model_uri: str,
    dst_path: str | None = None,
    *,
    verify: bool = True,
    expected_digest: str | None = None,
    skops_trusted_types: Sequence[str] | None = None,
) -> Any:
    """Load the scikit-learn estimator of the model at ``model_uri`` (any model URI).

    Reads pickle, cloudpickle and skops models written by fsregistry or MLflow 2.x/3.x. Files
    are checked against their recorded hashes first (``verify``); ``skops_trusted_types``
    replaces the trusted-type list the model itself declares.
    """
    from fsregistry.pyfunc import add_code_to_path, prepare_local_model

    local, meta = prepare_local_model(model_uri, dst_path, verify, expected_digest)
    conf = meta.flavors.get(FLAVOR_NAME)
    if conf is None:
        from fsregistry.flavors import missing_flavor

        raise missing_flavor(FLAVOR_NAME, meta, model_uri)
    add_code_to_path(local, conf)
    trusted = _check_trusted_types(
        skops_trusted_types if skops_trusted_types is not None else conf.get("skops_trusted_types")
    )
    return _load_from_file(
        os.path.join(local, *str(conf["pickled_model"]).split("/")),
        conf.get("serialization_format", SERIALIZATION_FORMAT_PICKLE),
        trusted,
    )


class _SklearnModelWrapper:
    """pyfunc implementation: ``predict(data, params)`` on the estimator."""

    def __init__(self, sklearn_model: Any) -> None:
        self.sklearn_model = sklearn_model
        for fn in ("predict_proba", "predict_log_proba", "predict_joint_log_proba", "score"):
            method = getattr(sklearn_model, fn, None)
            if method is not None:
                setattr(self, fn, method)

    def get_raw_model(self) -> Any:
        return self.sklearn_model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.sklearn_model.predict(data)


def _load_pyfunc(path: str) -> _SklearnModelWrapper:
    """pyfunc loader for ``loader_module: mlflow.sklearn`` (``path``: model dir or model file)."""
    model_dir = os.path.dirname(path) if os.path.isfile(path) else path
    meta = Model.load(model_dir)
    conf = meta.flavors.get(FLAVOR_NAME) or {}
    fmt = conf.get("serialization_format", SERIALIZATION_FORMAT_PICKLE)
    trusted = _check_trusted_types(conf.get("skops_trusted_types"))
    if not os.path.isfile(path):
        pyfunc_conf = meta.flavors.get("python_function") or {}
        rel = pyfunc_conf.get("model_path") or conf.get("pickled_model")
        if not rel:
            raise InvalidParameterValue(f"The sklearn model at {model_dir} names no model file")
        path = os.path.join(model_dir, *str(rel).split("/"))
    return _SklearnModelWrapper(_load_from_file(path, fmt, trusted))


__all__ = [
    "FLAVOR_NAME",
    "SERIALIZATION_FORMAT_CLOUDPICKLE",
    "SERIALIZATION_FORMAT_PICKLE",
    "SERIALIZATION_FORMAT_SKOPS",
    "SUPPORTED_SERIALIZATION_FORMATS",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    max_tuning_runs: int | None = 5,
    log_post_training_metrics: bool = True,
    serialization_format: str = SERIALIZATION_FORMAT_CLOUDPICKLE,
    registered_model_name: str | None = None,
    pos_label: Any = None,
    extra_tags: dict[str, Any] | None = None,
) -> None:
    """Enable (or, with ``disable=True``, undo) scikit-learn autologging; see
    :mod:`fsregistry.sklearn.autologging`. Differs: ``disable_for_unsupported_versions`` has
    no effect (every scikit-learn fsregistry supports is supported)."""
    from fsregistry.flavors import checked_extra_tags
    from fsregistry.sklearn import autologging

    if serialization_format not in SUPPORTED_SERIALIZATION_FORMATS:
        raise _unrecognized_format(serialization_format)
    extra_tags = checked_extra_tags(extra_tags)
    if max_tuning_runs is not None and (
        not isinstance(max_tuning_runs, int)
        or isinstance(max_tuning_runs, bool)
        or max_tuning_runs < 0
    ):
        raise InvalidParameterValue(
            f"`max_tuning_runs` must be non-negative, instead got {max_tuning_runs!r}. "
            "It must be an integer or None."
        )
    if disable:
        autologging.uninstall()
        return
    tags = {k: v for k, v in extra_tags.items() if k != autologging.AUTOLOGGING_TAG}
    autologging.install(
        autologging.AutologConfig(
            log_input_examples=log_input_examples,
            log_model_signatures=log_model_signatures,
            log_models=log_models,
            log_datasets=log_datasets,
            exclusive=exclusive,
            silent=silent,
            max_tuning_runs=max_tuning_runs,
            log_post_training_metrics=log_post_training_metrics,
            serialization_format=serialization_format,
            registered_model_name=registered_model_name,
            pos_label=pos_label,
            extra_tags=tags,
        )
    )


def __getattr__(name: str) -> Any:
    """An MLflow name fsregistry lacks raises an AttributeError that says so."""
    from fsregistry.mlflow_api import module_getattr

    return module_getattr(__name__)(name)
