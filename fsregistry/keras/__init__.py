"""``mlflow.keras`` (Keras 3) for fsregistry: save, log and load Keras 3 models.

The model is saved with its own ``save`` as ``data/model.keras`` beside
``data/keras_module.txt`` (``keras``), or, with ``save_exported_model=True``, exported for
inference with ``keras.export.ExportArchive`` (a TF SavedModel with a ``serve`` endpoint built
from the tensor signature, which is then required) in ``data/model/``. The MLmodel entry is
MLflow 3's (``data: data``, ``keras_version``, ``keras_backend``, ``save_exported_model``; no
``code``: MLflow's Keras 3 flavor takes no ``code_paths``) beside ``python_function`` with
``loader_module: mlflow.keras`` and no ``data``, so MLflow 3.x loads these models with
``mlflow.keras.load_model`` and ``mlflow.pyfunc.load_model``, and fsregistry loads theirs.

A signature is not inferred from the input example (MLflow's Keras 3 flavor does not either);
a given one must be tensor-based with the batch dimension -1. pyfunc, as MLflow's: a
DataFrame's values in, a DataFrame out (same index); a numpy array, list, tuple or dict in,
numpy out. Needs ``pip install 'fsregistry[keras]'`` (Keras 3 with TensorFlow as its backend).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any

from fsregistry import flavors as kit
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.model import Model, ModelInfo
from fsregistry.models.signature import ModelSignature

FLAVOR_NAME = "keras"
FLAVOR = kit.Flavor(
    name=FLAVOR_NAME,
    package="keras",
    extra="keras",
    version_key="keras_version",
    loader_module="mlflow.keras",
)
DATA_DIR = "data"
MODEL_FILE = "model"
KERAS_MODULE_FILE = "keras_module.txt"


def get_default_pip_requirements() -> list[str]:
    """Keras pinned, plus the installed backend framework pinned (MLflow writes ``keras`` and
    finds the backend by capturing the imports of a load)."""
    keras = FLAVOR.require()
    reqs = [FLAVOR.requirement()]
    backend = keras.backend.backend()
    if backend in ("tensorflow", "torch", "jax"):
        reqs.append(kit.Flavor(backend, backend, "", "").requirement())
    return reqs


def get_default_conda_env() -> dict[str, Any]:
    """MLflow's conda environment with :func:`get_default_pip_requirements` (conda-forge)."""
    from fsregistry.models.environment import conda_env

    return conda_env(get_default_pip_requirements())


def _check_signature(signature: Any, exported: bool) -> None:
    from fsregistry.tensorflow import check_tensor_signature

    if signature is not None and not isinstance(signature, ModelSignature):
        raise InvalidParameterValue(
            f"signature must be a ModelSignature, got {type(signature).__name__}"
        )
    check_tensor_signature(signature)
    if exported and signature is None:
        raise InvalidParameterValue(
            "`signature` cannot be None when `save_exported_model=True` for "
            "`mlflow.keras.save_model()` method."
        )


def _tensorflow(mlflow_message: str) -> Any:
    """tensorflow, or MLflow's ``mlflow_message`` for its absence (mlflow/keras/save.py,
    load.py) with fsregistry's install hint."""
    try:
        return importlib.import_module("tensorflow")
    except ImportError:
        raise InvalidParameterValue(
            f"{mlflow_message} (with fsregistry: pip install 'fsregistry[tensorflow]')"
        ) from None


def _export(keras: Any, model: Any, path: str, signature: ModelSignature) -> None:
    tf = _tensorflow(
        "`tensorflow` must be installed if you want to export a Keras 3 model, please install "
        "`tensorflow` by `pip install tensorflow`, or set `save_exported_model=False`."
    )
    from fsregistry.models.schema import TensorSpec

    specs = []
    for spec in signature.inputs.inputs if signature.inputs is not None else []:
        assert isinstance(spec, TensorSpec)  # check_tensor_signature
        shape = [d if d != -1 else None for d in spec.shape]
        specs.append(tf.TensorSpec(shape=shape, dtype=spec.type.name))
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(name="serve", fn=model.call, input_signature=specs)
    archive.write_out(path, verbose=False)


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    save_exported_model: bool = False,
    conda_env: dict[str, Any] | str | None = None,
    mlflow_model: Model | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    save_model_kwargs: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Save a Keras 3 model at ``path`` (new or empty).

    Unlike MLflow, an object that is not a ``keras.Model`` or a failing save is an
    ``InvalidParameterValue`` and leaves nothing at ``path``.
    """
    _check_signature(signature, save_exported_model)
    keras = FLAVOR.require()
    if not isinstance(model, keras.Model):
        raise InvalidParameterValue(f"model must be a keras.Model, got {kit.class_name(model)}")
    kwargs = dict(save_model_kwargs or {})

    def write(model_dir: str) -> kit.SavedData:
        data_dir = os.path.join(model_dir, DATA_DIR)
        os.makedirs(data_dir)
        with open(os.path.join(data_dir, KERAS_MODULE_FILE), "w") as f:
            f.write("keras")
        if save_exported_model:
            assert signature is not None  # checked above
            _export(keras, model, os.path.join(data_dir, MODEL_FILE), signature)
        else:
            model.save(os.path.join(data_dir, MODEL_FILE + ".keras"), **kwargs)
        conf = {
            "keras_backend": keras.backend.backend(),
            "save_exported_model": bool(save_exported_model),
        }
        return kit.SavedData(
            data=DATA_DIR,
            conf=conf,
            requirements=get_default_pip_requirements(),
            pyfunc_data=False,
            omit=("code",),
        )

    kit.save_model(
        FLAVOR,
        path,
        kit.ModelOptions(
            conda_env=conda_env,
            mlflow_model=mlflow_model,
            signature=signature if signature is not None else False,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            metadata=metadata,
        ),
        write,
        None,
        (RuntimeError, KeyError, AttributeError),
    )


def log_model(
    model: Any,
    name: str | None = None,
    save_exported_model: bool = False,
    conda_env: dict[str, Any] | str | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    registered_model_name: str | None = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    save_model_kwargs: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a Keras 3 model as an MLflow 3 LoggedModel named ``name`` (``models:/<model_id>``; no run is started).

    Same as :func:`fsregistry.sklearn.log_model` for ``name``, ``artifact_path``, ``run_id``,
    ``tags`` and ``registered_model_name``; ``await_registration_for`` is accepted and ignored.
    """
    return kit.log_model(
        sys.modules[__name__],
        name=name,
        registered_model_name=registered_model_name,
        metadata=metadata,
        model=model,
        save_exported_model=save_exported_model,
        conda_env=conda_env,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        save_model_kwargs=save_model_kwargs,
        **kwargs,
    )


def _load(local: kit.LocalModel, custom_objects: Any = None, **kwargs: Any) -> Any:
    keras = FLAVOR.require()
    path = local.file()
    if os.path.isdir(path):
        path = os.path.join(path, MODEL_FILE)
    if local.conf.get("save_exported_model"):
        tf = _tensorflow(
            "`tensorflow` must be installed if you want to load an exported Keras 3 model, "
            "please install `tensorflow` by `pip install tensorflow`."
        )
        with kit.reading(FLAVOR, path, (tf.errors.OpError, RuntimeError)):
            return tf.saved_model.load(path)
    path += ".keras"
    with kit.reading(FLAVOR, path, (RuntimeError,)):
        return keras.saving.load_model(path, custom_objects=custom_objects, **kwargs)


def load_model(
    model_uri: str,
    dst_path: str | None = None,
    custom_objects: dict[str, Any] | None = None,
    load_model_kwargs: dict[str, Any] | None = None,
    *,
    verify: bool = True,
    expected_digest: str | None = None,
) -> Any:
    """Load the Keras 3 model at ``model_uri`` (an exported one: its ``tf.saved_model.load``
    object); files are checked against their recorded hashes first (``verify``)."""
    local = kit.load_local(FLAVOR, model_uri, dst_path, verify, expected_digest)
    return _load(local, custom_objects, **(load_model_kwargs or {}))


class KerasModelWrapper(kit.ModelWrapper):
    """pyfunc on a Keras 3 model (``predict``; ``serve`` for an exported one)."""

    def __init__(self, model: Any, exported: bool) -> None:
        super().__init__(model)
        self.exported = exported

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import numpy as np
        import pandas as pd

        if not isinstance(data, pd.DataFrame | np.ndarray | list | tuple | dict):
            raise InvalidParameterValue(
                "`data` must be one of: ['ndarray', 'list', 'tuple', 'dict'], but received "
                f"type: {type(data)}. A pandas DataFrame is accepted too."
            )
        keras = FLAVOR.require()
        call = self.model.serve if self.exported else self.model.predict
        extra = {} if self.exported else {"verbose": 0}
        if isinstance(data, pd.DataFrame):
            return pd.DataFrame(
                keras.ops.convert_to_numpy(call(data.values, **extra)), index=data.index
            )
        return keras.ops.convert_to_numpy(call(data, **extra))


def _load_pyfunc(path: str) -> KerasModelWrapper:
    """pyfunc loader for ``loader_module: mlflow.keras`` (``path``: the model directory)."""
    local = kit.pyfunc_model_dir(FLAVOR, path)
    return KerasModelWrapper(_load(local), bool(local.conf.get("save_exported_model")))


def autolog(
    log_every_epoch: bool = True,
    log_every_n_steps: int | None = None,
    log_models: bool = True,
    log_model_signatures: bool = True,
    save_exported_model: bool = False,
    log_datasets: bool = True,
    log_input_examples: bool = False,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    save_model_kwargs: dict[str, Any] | None = None,
    extra_tags: dict[str, Any] | None = None,
) -> None:
    """Enable (or disable) autologging of ``keras.Model.fit`` (see
    :mod:`fsregistry.keras.autologging`). Differs: ``tf.data`` datasets are not logged as
    datasets; ``log_input_examples`` has no effect (as in MLflow's Keras 3 autolog)."""
    from fsregistry.keras import autologging

    if disable:
        autologging.uninstall()
        return
    FLAVOR.require()
    autologging.install(
        autologging.AutologConfig(
            log_every_epoch=log_every_epoch,
            log_every_n_steps=log_every_n_steps,
            log_models=log_models,
            log_model_signatures=log_model_signatures,
            save_exported_model=save_exported_model,
            log_datasets=log_datasets,
            exclusive=exclusive,
            silent=silent,
            registered_model_name=registered_model_name,
            save_model_kwargs=save_model_kwargs,
            extra_tags=kit.checked_extra_tags(extra_tags),
        )
    )


__all__ = [
    "FLAVOR_NAME",
    "autolog",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]
