"""``mlflow.tensorflow`` for fsregistry: save, log and load Keras models and TF2 ``tf.Module``s.

Two model types, laid out as MLflow 3 lays them out:

- a Keras model (``tf.keras.Model``; with TensorFlow >= 2.16 that is Keras 3) is saved with its
  own ``save`` as ``data/model.keras`` (``data/model.h5`` with
  ``keras_model_kwargs={"save_format": "h5"}``), beside ``data/keras_module.txt``
  (``tensorflow.keras``), ``data/save_format.txt`` and, when given, ``custom_objects`` as
  ``data/custom_objects.cloudpickle`` (Keras' global custom objects, when any are registered,
  as ``data/global_custom_objects.cloudpickle``). MLmodel entry: ``model_type: keras``,
  ``keras_version`` (the TensorFlow version, as MLflow records it), ``save_format``, ``data:
  data``, ``code``; ``python_function`` has ``data: data``.
- any other ``tf.Module`` is saved with ``tf.saved_model.save`` in ``tf2model/``. MLmodel entry:
  ``model_type: tf2-module``, ``saved_model_dir: tf2model``, ``code``; ``python_function`` has
  no ``data``.

``loader_module`` is ``mlflow.tensorflow``: MLflow 3.x loads these models with
``mlflow.tensorflow.load_model`` and ``mlflow.pyfunc.load_model``, and fsregistry loads
theirs. Signatures are tensor-based (as MLflow requires): inferred from a numpy input example
through the model, or given; a column-based signature, or one whose first dimension is not the
variable batch dimension (-1), is an ``InvalidParameterValue`` before anything is written.
MLflow's TF1 ``tf1-estimator`` models are not supported (TensorFlow 1 is gone).

pyfunc, as MLflow's: a Keras model predicts on a DataFrame's values (a DataFrame back, same
index), a numpy array, a list/tuple or a dict of arrays (numpy back); a ``tf.Module`` is called
on a tensor made of a numpy array or list. :func:`autolog` logs ``tf.keras.Model.fit`` as
MLflow's ``mlflow.tensorflow.autolog`` (:mod:`fsregistry.tensorflow.autologging`). Needs
``pip install 'fsregistry[tensorflow]'`` (``tensorflow-cpu``, or ``tensorflow``: the pinned requirement is whichever is installed).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from fsregistry import flavors as kit
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.model import Model, ModelInfo
from fsregistry.models.signature import ModelSignature

FLAVOR_NAME = "tensorflow"
FLAVOR = kit.Flavor(
    name=FLAVOR_NAME,
    package="tensorflow",
    extra="tensorflow",
    version_key="keras_version",
    loader_module="mlflow.tensorflow",
)
MODEL_TYPE_KERAS = "keras"
MODEL_TYPE_TF2_MODULE = "tf2-module"
MODEL_TYPE_TF1_ESTIMATOR = "tf1-estimator"
KERAS_DATA = "data"
TF2MODEL_DIR = "tf2model"
MODEL_FILE = "model"
KERAS_MODULE_FILE = "keras_module.txt"
SAVE_FORMAT_FILE = "save_format.txt"
CUSTOM_OBJECTS_FILE = "custom_objects.cloudpickle"
GLOBAL_CUSTOM_OBJECTS_FILE = "global_custom_objects.cloudpickle"


def get_default_pip_requirements(include_cloudpickle: bool = False) -> list[str]:
    """The installed TensorFlow distribution pinned (``tensorflow-cpu`` where that is the one
    installed; MLflow always writes ``tensorflow``), and cloudpickle if asked."""
    reqs = [FLAVOR.requirement()]
    if include_cloudpickle:
        from fsregistry.models.environment import pinned

        reqs.append(pinned("cloudpickle"))
    return reqs


def get_default_conda_env() -> dict[str, Any]:
    """MLflow's conda environment with :func:`get_default_pip_requirements` (conda-forge)."""
    from fsregistry.models.environment import conda_env

    return conda_env(get_default_pip_requirements())


def _global_custom_objects() -> dict[str, Any]:
    """Keras' registered custom objects (MLflow saves them when there are any)."""
    import importlib

    try:
        saving = importlib.import_module("tensorflow.keras.saving")
    except ImportError:  # a TensorFlow without tf.keras: nothing registered there
        return {}
    return dict(saving.get_custom_objects())


def check_tensor_signature(signature: ModelSignature | None) -> None:
    """MLflow's rule for TF and Keras models: every input a TensorSpec with batch dim -1."""
    from fsregistry.models.schema import TensorSpec

    if signature is None:
        return
    inputs = signature.inputs.inputs if signature.inputs is not None else []
    if not inputs:
        raise InvalidParameterValue(
            "The model signature's input schema must contain at least one field."
        )
    for spec in inputs:
        if not isinstance(spec, TensorSpec):
            raise InvalidParameterValue(
                "All fields in the model signature's input schema must be of type TensorSpec. "
                f"Got {spec!r}"
            )
        if not spec.shape or spec.shape[0] != -1:
            raise InvalidParameterValue(
                "All fields in the model signature's input schema must have a shape in which "
                f"the first dimension is a variable dimension. Got the shape {list(spec.shape)}, "
                "whose first dimension is not -1"
            )


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    conda_env: dict[str, Any] | str | None = None,
    code_paths: Sequence[str] | None = None,
    mlflow_model: Model | None = None,
    custom_objects: dict[str, Any] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    saved_model_kwargs: dict[str, Any] | None = None,
    keras_model_kwargs: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    extra_files: Sequence[str] | None = None,
) -> None:
    """Save a Keras model or a ``tf.Module`` at ``path`` (new or empty).

    Unlike MLflow, an object that is neither (MLflow: ``Unknown model type``), a bad signature
    or a failing ``save`` is an ``InvalidParameterValue`` and leaves nothing at ``path``.
    """
    tf = FLAVOR.require()
    is_keras = isinstance(model, tf.keras.Model)
    if not is_keras and not isinstance(model, tf.Module):
        raise InvalidParameterValue(
            f"Unknown model type: {type(model)}: the model must be a Keras model "
            "(tf.keras.Model) or a tf.Module"
        )
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise InvalidParameterValue(
            f"custom_objects must be a dict, got {type(custom_objects).__name__}"
        )
    mlflow_model = mlflow_model if mlflow_model is not None else Model()
    keras_kwargs = dict(keras_model_kwargs or {})
    module_kwargs = dict(saved_model_kwargs or {})

    def write(model_dir: str) -> kit.SavedData:
        check_tensor_signature(mlflow_model.signature)
        reqs = get_default_pip_requirements(include_cloudpickle=True)
        if not is_keras:
            tf.saved_model.save(model, os.path.join(model_dir, TF2MODEL_DIR), **module_kwargs)
            conf = {"saved_model_dir": TF2MODEL_DIR, "model_type": MODEL_TYPE_TF2_MODULE}
            return kit.SavedData(
                data=None, conf=conf, requirements=reqs, omit=("data", FLAVOR.version_key)
            )
        data_dir = os.path.join(model_dir, KERAS_DATA)
        os.makedirs(data_dir)
        import cloudpickle

        if custom_objects is not None:
            with open(os.path.join(data_dir, CUSTOM_OBJECTS_FILE), "wb") as f:
                cloudpickle.dump(custom_objects, f)
        if global_objects := _global_custom_objects():
            with open(os.path.join(data_dir, GLOBAL_CUSTOM_OBJECTS_FILE), "wb") as f:
                cloudpickle.dump(global_objects, f)
        with open(os.path.join(data_dir, KERAS_MODULE_FILE), "w") as f:
            f.write("tensorflow.keras")
        save_format = keras_kwargs.get("save_format", "tf")
        with open(os.path.join(data_dir, SAVE_FORMAT_FILE), "w") as f:
            f.write(str(save_format))
        suffix = ".h5" if save_format == "h5" else ".keras"
        model.save(os.path.join(data_dir, MODEL_FILE + suffix), **keras_kwargs)
        conf = {"model_type": MODEL_TYPE_KERAS, "save_format": save_format}
        return kit.SavedData(data=KERAS_DATA, conf=conf, requirements=reqs)

    wrapper = _KerasModelWrapper(model) if is_keras else _TF2ModuleWrapper(model)
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
        wrapper.predict,
        _errors(tf),
    )


def _errors(tf: Any) -> tuple[type[BaseException], ...]:
    return (tf.errors.OpError, RuntimeError, KeyError, AttributeError)


def log_model(
    model: Any,
    name: str | None = None,
    custom_objects: dict[str, Any] | None = None,
    conda_env: dict[str, Any] | str | None = None,
    code_paths: Sequence[str] | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    registered_model_name: str | None = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    saved_model_kwargs: dict[str, Any] | None = None,
    keras_model_kwargs: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    extra_files: Sequence[str] | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a Keras model or ``tf.Module`` as an MLflow 3 LoggedModel named ``name`` (``models:/<model_id>``; no run is started).

    Same as :func:`fsregistry.sklearn.log_model` for ``name``, ``artifact_path``, ``run_id``,
    ``tags`` and ``registered_model_name``; ``await_registration_for`` is accepted and ignored.
    """
    return kit.log_model(
        sys.modules[__name__],
        name=name,
        registered_model_name=registered_model_name,
        metadata=metadata,
        model=model,
        custom_objects=custom_objects,
        conda_env=conda_env,
        code_paths=code_paths,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        saved_model_kwargs=saved_model_kwargs,
        keras_model_kwargs=keras_model_kwargs,
        extra_files=extra_files,
        **kwargs,
    )


def _model_type(local: kit.LocalModel) -> str:
    model_type = local.conf.get("model_type")
    if model_type is None:  # written by an MLflow that did not record it
        model_type = MODEL_TYPE_KERAS if "keras" in local.meta.flavors else MODEL_TYPE_TF1_ESTIMATOR
    if model_type not in (MODEL_TYPE_KERAS, MODEL_TYPE_TF2_MODULE):
        raise InvalidParameterValue(
            f"Unknown model_type: {model_type}: the tensorflow model at {local.path} is none "
            f"of the types fsregistry loads ({MODEL_TYPE_KERAS!r}, {MODEL_TYPE_TF2_MODULE!r})"
        )
    return str(model_type)


def _load_custom_objects(data_dir: str, name: str) -> dict[str, Any]:
    path = os.path.join(data_dir, name)
    if not os.path.isfile(path):
        return {}
    import cloudpickle

    with kit.reading(FLAVOR, path), open(path, "rb") as f:
        objects = cloudpickle.load(f)
    if not isinstance(objects, dict):
        raise InvalidParameterValue(f"{path} does not hold a dict of custom objects")
    return objects


def _load(
    local: kit.LocalModel,
    saved_model_kwargs: dict[str, Any] | None = None,
    keras_model_kwargs: dict[str, Any] | None = None,
    **default_kwargs: Any,
) -> Any:
    tf = FLAVOR.require()
    if _model_type(local) == MODEL_TYPE_TF2_MODULE:
        path = local.file(str(local.conf.get("saved_model_dir", TF2MODEL_DIR)))
        with kit.reading(FLAVOR, path, _errors(tf)):
            return tf.saved_model.load(path, **(saved_model_kwargs or {}))
    data_dir = local.file(str(local.conf.get("data", MODEL_FILE)))
    kwargs = {**default_kwargs, **(keras_model_kwargs or {})}
    objects = _load_custom_objects(data_dir, GLOBAL_CUSTOM_OBJECTS_FILE)
    objects.update(_load_custom_objects(data_dir, CUSTOM_OBJECTS_FILE))
    objects.update(kwargs.pop("custom_objects", None) or {})
    path = os.path.join(data_dir, MODEL_FILE) if os.path.isdir(data_dir) else data_dir
    save_format = local.conf.get("save_format", "h5")
    if save_format == "h5":
        path += ".h5"
    elif os.path.exists(path + ".keras"):
        path += ".keras"
    with kit.reading(FLAVOR, path, _errors(tf)):
        return tf.keras.models.load_model(path, custom_objects=objects, **kwargs)


def load_model(
    model_uri: str,
    dst_path: str | None = None,
    saved_model_kwargs: dict[str, Any] | None = None,
    keras_model_kwargs: dict[str, Any] | None = None,
    *,
    verify: bool = True,
    expected_digest: str | None = None,
) -> Any:
    """Load the Keras model or the ``tf.Module`` (a ``tf.saved_model.load`` object) at
    ``model_uri``; files are checked against their recorded hashes first (``verify``)."""
    local = kit.load_local(FLAVOR, model_uri, dst_path, verify, expected_digest)
    return _load(local, saved_model_kwargs, keras_model_kwargs)


class _KerasModelWrapper(kit.ModelWrapper):
    """pyfunc on a Keras model: a DataFrame's values in, a DataFrame out (same index); arrays,
    lists, tuples and dicts of arrays in, numpy out."""

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import pandas as pd

        if isinstance(data, pd.DataFrame):
            return pd.DataFrame(self.model.predict(data.values, verbose=0), index=data.index)
        if not isinstance(data, np.ndarray | list | tuple | dict):
            raise InvalidParameterValue(
                f"Unsupported input data type: {type(data)}. Must be one of: "
                "['ndarray', 'list', 'tuple', 'dict'] (or a pandas DataFrame)"
            )
        return self.model.predict(data, verbose=0)


class _TF2ModuleWrapper(kit.ModelWrapper):
    """pyfunc on a ``tf.Module``: called on a tensor of a numpy array or list."""

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np

        if not isinstance(data, np.ndarray | list):
            raise InvalidParameterValue(
                f"Unsupported input data type: {type(data)}, the input data must be numpy "
                "array or a list."
            )
        tf = FLAVOR.require()
        result = self.model(tf.convert_to_tensor(data))
        return result.numpy() if isinstance(result, tf.Tensor) else result


def _load_pyfunc(path: str) -> kit.ModelWrapper:
    """pyfunc loader for ``loader_module: mlflow.tensorflow`` (``path``: model dir or ``data``)."""
    local = kit.pyfunc_model_dir(FLAVOR, path)
    if _model_type(local) == MODEL_TYPE_TF2_MODULE:
        return _TF2ModuleWrapper(_load(local))
    save_format = local.conf.get("save_format", "h5")
    return _KerasModelWrapper(_load(local, compile=save_format == "tf"))


def autolog(
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    saved_model_kwargs: dict[str, Any] | None = None,
    keras_model_kwargs: dict[str, Any] | None = None,
    extra_tags: dict[str, Any] | None = None,
    log_every_epoch: bool = True,
    log_every_n_steps: int | None = None,
    checkpoint: bool = True,
    checkpoint_monitor: str | None = "val_loss",
    checkpoint_mode: str = "min",
    checkpoint_save_best_only: bool = True,
    checkpoint_save_weights_only: bool = False,
    checkpoint_save_freq: str | int = "epoch",
) -> None:
    """Enable (or disable) autologging of ``tf.keras.Model.fit`` (see
    :mod:`fsregistry.tensorflow.autologging`). Differs: no ``tensorboard_logs`` without the
    ``tensorboard`` package; ``tf.data`` datasets are not logged as datasets; bad checkpoint
    settings raise ``InvalidParameterValue`` here."""
    from fsregistry.tensorflow import autologging

    if disable:
        autologging.uninstall()
        return
    FLAVOR.require()
    autologging.install(
        autologging.AutologConfig(
            log_models=log_models,
            log_datasets=log_datasets,
            exclusive=exclusive,
            silent=silent,
            registered_model_name=registered_model_name,
            log_input_examples=log_input_examples,
            log_model_signatures=log_model_signatures,
            saved_model_kwargs=saved_model_kwargs,
            keras_model_kwargs=keras_model_kwargs,
            extra_tags=kit.checked_extra_tags(extra_tags),
            log_every_epoch=log_every_epoch,
            log_every_n_steps=log_every_n_steps,
            checkpoint=checkpoint,
            checkpoint_monitor=checkpoint_monitor,
            checkpoint_mode=checkpoint_mode,
            checkpoint_save_best_only=checkpoint_save_best_only,
            checkpoint_save_weights_only=checkpoint_save_weights_only,
            checkpoint_save_freq=checkpoint_save_freq,
        )
    )


def load_checkpoint(
    model: Any = None,
    run_id: str | None = None,
    epoch: int | None = None,
    global_step: int | None = None,
) -> Any:
    """Load a Keras checkpoint that :func:`autolog` logged (the newest, or of ``epoch`` /
    ``global_step``; weights-only ones into ``model``), as MLflow's."""
    FLAVOR.require()
    from fsregistry.tensorflow.checkpoints import load_checkpoint as load

    return load(model, run_id, epoch, global_step)


__all__ = [
    "FLAVOR_NAME",
    "autolog",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_checkpoint",
    "load_model",
    "log_model",
    "save_model",
]
