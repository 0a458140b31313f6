"""``mlflow.pytorch`` for fsregistry: save, log and load PyTorch models (``torch.nn.Module``).

Two serialization formats, as MLflow 3 writes them under the model's ``data/`` directory:

- ``"pt2"`` (the default, as in MLflow 3 outside Databricks): the model is traced with
  ``torch.export.export`` on the input example and saved with ``torch.export.save`` as
  ``data/model.pt2`` (a graph and tensors; loading runs no pickled code). It needs an input
  example (a numpy array or tensor, or a tuple/list of them) and a tensor-based signature; axes
  of size ``-1`` in the signature are exported as dynamic (``torch.export.Dim.AUTO``).
- ``"pickle"``: ``torch.save(model, data/model.pth, pickle_module=...)`` (TorchScript modules:
  ``torch.jit.save``) plus ``data/pickle_module_info.txt`` naming the pickle module (default
  ``mlflow.pytorch.pickle_module``: cloudpickle's pickler, see :mod:`.pickle_module`).
  **Loading it runs code from the store**; the files are hash-checked first.

The MLmodel entry is MLflow's (``model_data: data``, ``pytorch_version``, ``code``,
``extra_files``) beside ``python_function`` (``loader_module: mlflow.pytorch``, ``data:
data``, ``pickle_module_name``, ``config: {device: null}``; no ``python_function`` for a pt2
model whose example has several inputs or is a tensor, as in MLflow), so MLflow 3.x loads
these models with ``mlflow.pytorch.load_model`` and ``mlflow.pyfunc.load_model``, and
fsregistry loads theirs. Needs ``pip install 'fsregistry[pytorch]'``.

pyfunc (:mod:`.wrapper`): a DataFrame is fed as one ``float32`` tensor and gives a DataFrame
(same index); a numpy array is fed as is and gives an array; the model must return one tensor.
The device is the ``device`` of the model config (``pyfunc.load_model(...,
model_config={"device": "cuda"})``), else ``MLFLOW_DEFAULT_PREDICTION_DEVICE``, else ``cuda``
when available, else ``cpu``.

State dicts: :func:`save_state_dict` / :func:`log_state_dict` write ``state_dict.pth`` (a plain
``torch.save``), :func:`load_state_dict` reads it back (``torch.load``'s safe
``weights_only=True`` default applies).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

from fsregistry import flavors as kit
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.model import Model, ModelInfo
from fsregistry.models.signature import ModelSignature
from fsregistry.pytorch import loading
from fsregistry.pytorch.loading import (
    DATA_SUBPATH,
    EXPORTED_FILE,
    PICKLE_MODULE_INFO_FILE,
    SERIALIZED_FILE,
    STATE_DICT_FILE,
)
from fsregistry.pytorch.wrapper import TorchModelWrapper

_logger = logging.getLogger(__name__)

FLAVOR_NAME = "pytorch"
SERIALIZATION_FORMAT_PICKLE = "pickle"
SERIALIZATION_FORMAT_PT2 = "pt2"
FLAVOR = loading.FLAVOR


def get_default_pip_requirements() -> list[str]:
    """torch and cloudpickle (the default pickle module's), pinned; a local version label
    (``+cpu``) is dropped, as MLflow does."""
    from fsregistry.models.environment import pinned

    return [FLAVOR.requirement(), pinned("cloudpickle")]


def get_default_conda_env() -> dict[str, Any]:
    """MLflow's conda environment with :func:`get_default_pip_requirements` (conda-forge)."""
    from fsregistry.models.environment import conda_env

    return conda_env(get_default_pip_requirements())


def _serialization_format(serialization_format: Any, export_model: Any) -> str:
    """MLflow 3's choice: ``pt2`` unless ``"pickle"`` is asked for; ``export_model`` is the
    deprecated spelling of ``pt2``."""
    if not isinstance(export_model, bool):
        raise InvalidParameterValue(f"export_model must be a bool, got {export_model!r}")
    if export_model:
        if serialization_format == SERIALIZATION_FORMAT_PICKLE:
            raise InvalidParameterValue(
                "Cannot set both `export_model=True` and `serialization_format='pickle'`. "
                "Please use only the `serialization_format` argument."
            )
        warnings.warn(
            "`export_model` argument is deprecated. "
            "Please set `serialization_format` argument instead.",
            FutureWarning,
            stacklevel=3,
        )
        return SERIALIZATION_FORMAT_PT2
    if serialization_format is None:
        return SERIALIZATION_FORMAT_PT2
    if serialization_format not in (SERIALIZATION_FORMAT_PICKLE, SERIALIZATION_FORMAT_PT2):
        raise InvalidParameterValue(
            "The `serialization_format` param value must be one of 'pickle' or 'pt2'. Got "
            f"{serialization_format!r}."
        )
    return str(serialization_format)


def _example_tensors(torch: Any, input_example: Any) -> list[Any] | None:
    """The pt2 export inputs: the example as a list of tensors (None if it is not arrays or
    tensors)."""
    import numpy as np

    items = input_example
    if isinstance(items, np.ndarray | torch.Tensor):
        items = (items,)
    if (
        not isinstance(items, list | tuple)
        or not items
        or not all(isinstance(v, np.ndarray | torch.Tensor) for v in items)
    ):
        return None
    return [torch.from_numpy(v) if isinstance(v, np.ndarray) else v for v in items]


def _savable_example(torch: Any, input_example: Any) -> Any:
    """The input example the MLmodel records: tensors and lists of arrays/tensors are not
    recorded (MLflow cannot save them either)."""
    import numpy as np

    if isinstance(input_example, torch.Tensor):
        return None
    if isinstance(input_example, list | tuple) and any(
        isinstance(v, np.ndarray | torch.Tensor) for v in input_example
    ):
        return None
    return input_example


def _dynamic_shapes(torch: Any, signature: Any, tensors: list[Any]) -> list[Any]:
    """``torch.export`` dynamic shapes: ``Dim.AUTO`` on each ``-1`` axis of the signature."""
    specs = signature.inputs.inputs
    if len(specs) != len(tensors):
        raise InvalidParameterValue(
            f"The signature has {len(specs)} inputs but the input example has {len(tensors)} "
            "tensors; they must match for serialization_format='pt2'"
        )
    auto = torch.export.Dim.AUTO
    return [{i: auto for i, size in enumerate(spec.shape) if size == -1} or None for spec in specs]


def _pickle_module_name(pickle_module: Any) -> str:
    from fsregistry.pytorch import pickle_module as default

    if pickle_module is None or pickle_module is default:
        return default.MLFLOW_NAME
    name = getattr(pickle_module, "__name__", None)
    if not isinstance(name, str) or not hasattr(pickle_module, "Pickler"):
        raise InvalidParameterValue(
            f"pickle_module must be a module with a Pickler (e.g. pickle), got {pickle_module!r}"
        )
    return name


def save_model(
    pytorch_model: Any,
    path: str | os.PathLike[str],
    conda_env: dict[str, Any] | str | None = None,
    mlflow_model: Model | None = None,
    code_paths: Sequence[str] | None = None,
    pickle_module: Any = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    extra_files: Sequence[str] | None = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    metadata: dict[str, Any] | None = None,
    export_model: bool = False,
    serialization_format: str | None = None,
    **kwargs: Any,
) -> None:
    """Save a ``torch.nn.Module`` at ``path`` (new or empty), ``pt2`` by default as in MLflow 3.

    Unlike MLflow, an object that is not an ``nn.Module`` (MLflow: ``TypeError``), a bad
    ``serialization_format`` or pickle module, and a pt2 save without an array/tensor input
    example or a tensor signature are ``InvalidParameterValue`` and nothing is written.
    ``kwargs`` go to ``torch.save`` (pickle format).
    """
    from fsregistry.pytorch import pickle_module as default_pickle

    fmt = _serialization_format(serialization_format, export_model)
    torch = FLAVOR.require()
    if not isinstance(pytorch_model, torch.nn.Module):
        raise InvalidParameterValue(
            "Argument 'pytorch_model' should be a torch.nn.Module, got "
            f"{kit.class_name(pytorch_model)}"
        )
    pickle_name = _pickle_module_name(pickle_module)
    pickler = pickle_module if pickle_module is not None else default_pickle
    tensors = None
    if fmt == SERIALIZATION_FORMAT_PT2:
        if isinstance(pytorch_model, torch.jit.ScriptModule):
            raise InvalidParameterValue(
                "The 'pt2' serialization format is not supported for torch.jit.ScriptModule "
                "models, please set `serialization_format` to 'pickle'."
            )
        tensors = _example_tensors(torch, input_example)
        if tensors is None:
            raise InvalidParameterValue(
                "If `serialization_format` is set to 'pt2', then input_example is required. "
                "It must be a numpy array or torch tensor, or a tuple/list of numpy arrays "
                "or torch tensors. This is because 'pt2' is a traced-graph format: "
                "PyTorch traces the model graph by virtually executing model.forward with "
                f"the provided example input. Got {type(input_example).__name__}."
            )
    model_meta = mlflow_model if mlflow_model is not None else Model()
    with_pyfunc = True  # MLflow: no pyfunc for a pt2 model of several inputs or a tensor
    if tensors is not None:
        items = input_example if isinstance(input_example, list | tuple) else (input_example,)
        with_pyfunc = len(items) == 1 and not isinstance(items[0], torch.Tensor)

    def write(model_dir: str) -> kit.SavedData:
        data_dir = os.path.join(model_dir, DATA_SUBPATH)
        os.makedirs(data_dir)
        if tensors is not None:
            sig = model_meta.signature
            if sig is None or sig.inputs is None or not sig.inputs.is_tensor_spec():
                raise InvalidParameterValue(
                    "Unsupported signature type for the selected serialization format. "
                    "If the `serialization_format` argument is set to 'pt2', the input "
                    "signature must be specified using `TensorSpec`. Please update the model "
                    "signature or set `serialization_format` to 'pickle'."
                )
            program = torch.export.export(
                pytorch_model,
                tuple(tensors),
                dynamic_shapes=_dynamic_shapes(torch, sig, tensors),
            )
            torch.export.save(program, os.path.join(data_dir, EXPORTED_FILE))
        else:
            with open(os.path.join(data_dir, PICKLE_MODULE_INFO_FILE), "w") as f:
                f.write(pickle_name)
            target = os.path.join(data_dir, SERIALIZED_FILE)
            if isinstance(pytorch_model, torch.jit.ScriptModule):
                torch.jit.save(pytorch_model, target)
            else:
                torch.save(pytorch_model, target, pickle_module=pickler, **kwargs)
        pyfunc_conf = (
            {"pickle_module_name": pickle_name, "model_config": {"device": None}}
            if with_pyfunc
            else None
        )
        return kit.SavedData(
            data=DATA_SUBPATH, pyfunc=pyfunc_conf, requirements=get_default_pip_requirements()
        )

    def predict(data: Any, params: dict[str, Any] | None = None) -> Any:
        return TorchModelWrapper(pytorch_model, device="cpu").predict(data, params)

    kit.save_model(
        FLAVOR,
        path,
        kit.ModelOptions(
            conda_env=conda_env,
            code_paths=code_paths,
            mlflow_model=model_meta,
            signature=signature,
            input_example=_savable_example(torch, input_example),
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            metadata=metadata,
            extra_files=extra_files,
        ),
        write,
        predict,
        loading.SAVE_ERRORS,
    )


def log_model(
    pytorch_model: Any,
    name: str | None = None,
    conda_env: dict[str, Any] | str | None = None,
    code_paths: Sequence[str] | None = None,
    pickle_module: Any = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    extra_files: Sequence[str] | None = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    metadata: dict[str, Any] | None = None,
    export_model: bool = False,
    serialization_format: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a PyTorch model as an MLflow 3 LoggedModel named ``name`` (``models:/<model_id>``; no run is started).

    Same as :func:`fsregistry.sklearn.log_model` for ``name``, ``artifact_path``, ``run_id``,
    ``params``, ``tags``, ``model_id`` and ``registered_model_name``;
    ``await_registration_for`` is accepted and ignored.
    """
    return kit.log_model(
        sys.modules[__name__],
        name=name,
        registered_model_name=registered_model_name,
        metadata=metadata,
        pytorch_model=pytorch_model,
        conda_env=conda_env,
        code_paths=code_paths,
        pickle_module=pickle_module,
        signature=signature,
        input_example=input_example,
        extra_files=extra_files,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        export_model=export_model,
        serialization_format=serialization_format,
        **kwargs,
    )


def load_model(
    model_uri: str,
    dst_path: str | None = None,
    *,
    verify: bool = True,
    expected_digest: str | None = None,
    **kwargs: Any,
) -> Any:
    """Load the ``nn.Module`` at ``model_uri`` (in eval mode; a pt2 model as the exported
    program's module). ``device=`` moves it there; other ``kwargs`` (``map_location``...) go
    to ``torch.load`` (pickle format).

    Files are checked against their recorded hashes first (``verify``); unlike MLflow, no
    ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION`` is needed, and an unreadable model file is a
    ``ModelIntegrityError``, a missing torch an ``InvalidParameterValue`` naming the extra.
    """
    local = kit.load_local(FLAVOR, model_uri, dst_path, verify, expected_digest)
    return loading.load_data_dir(local.file(local.conf.get("model_data")), **kwargs)


def _load_pyfunc(
    path: str, model_config: dict[str, Any] | None = None, weights_only: bool = False
) -> TorchModelWrapper:
    """pyfunc loader for ``loader_module: mlflow.pytorch`` (``path``: the ``data`` dir)."""
    kit.pyfunc_model_dir(FLAVOR, path)
    device = loading.prediction_device(model_config)
    model = loading.load_data_dir(path, device=device, weights_only=weights_only)
    return TorchModelWrapper(model, device=device)


def save_state_dict(state_dict: Any, path: str | os.PathLike[str], **kwargs: Any) -> None:
    """Save a state dict as ``<path>/state_dict.pth`` (``torch.save``; ``kwargs`` go to it).

    Unlike MLflow, a non-dict is an ``InvalidParameterValue`` (MLflow: ``TypeError``), and the
    file is written whole or not at all (a directory this call made is removed on failure).
    """
    loading.save_state_dict(state_dict, os.fspath(path), **kwargs)


def log_state_dict(state_dict: Any, artifact_path: str | None, **kwargs: Any) -> None:
    """Log a state dict as ``<artifact_path>/state_dict.pth`` in the active run's artifacts
    (one is started if none is active, as ``log_artifacts`` does)."""
    import tempfile

    from fsregistry.fluent import log_artifacts

    with tempfile.TemporaryDirectory(prefix="fsreg-state-dict-") as tmp:
        loading.save_state_dict(state_dict, tmp, **kwargs)
        log_artifacts(tmp, artifact_path)


def load_state_dict(state_dict_uri: str, **kwargs: Any) -> Any:
    """Load the state dict saved at ``state_dict_uri`` (a directory holding
    ``state_dict.pth``); ``kwargs`` go to ``torch.load``.

    Unlike MLflow, no ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION`` is needed: ``torch.load``'s
    ``weights_only=True`` default loads tensors and containers only.
    """
    import tempfile

    from fsregistry.artifacts import download_artifacts

    torch = FLAVOR.require()
    with tempfile.TemporaryDirectory(prefix="fsreg-state-dict-") as tmp:
        local = download_artifacts(artifact_uri=state_dict_uri, dst_path=tmp)
        target = os.path.join(local, STATE_DICT_FILE)
        if not os.path.isfile(target):
            from fsregistry.exceptions import ResourceDoesNotExist

            raise ResourceDoesNotExist(
                f"No {STATE_DICT_FILE} under {state_dict_uri!r}: not a state dict saved with "
                "save_state_dict / log_state_dict"
            )
        with kit.reading(FLAVOR, target, (RuntimeError,)):
            return torch.load(target, **kwargs)


def autolog(
    log_every_n_epoch: int = 1,
    log_every_n_step: int | None = None,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    extra_tags: dict[str, Any] | None = None,
    checkpoint: bool = True,
    checkpoint_monitor: str | None = "val_loss",
    checkpoint_mode: str = "min",
    checkpoint_save_best_only: bool = True,
    checkpoint_save_weights_only: bool = False,
    checkpoint_save_freq: str | int = "epoch",
    log_model_signatures: bool = True,
) -> None:
    """Enable (or disable) autologging of PyTorch Lightning's ``Trainer.fit`` (see
    :mod:`fsregistry.pytorch.autologging`). Differs: TensorBoard ``SummaryWriter`` calls
    outside Lightning are not logged; ``log_datasets`` has no effect (as in MLflow)."""
    from fsregistry.pytorch import autologging

    if disable:
        autologging.uninstall()
        return
    FLAVOR.require()
    autologging.install(
        autologging.AutologConfig(
            log_every_n_epoch=log_every_n_epoch,
            log_every_n_step=log_every_n_step,
            log_models=log_models,
            log_model_signatures=log_model_signatures,
            exclusive=exclusive,
            silent=silent,
            registered_model_name=registered_model_name,
            extra_tags=kit.checked_extra_tags(extra_tags),
            checkpoint=checkpoint,
            checkpoint_monitor=checkpoint_monitor,
            checkpoint_mode=checkpoint_mode,
            checkpoint_save_best_only=checkpoint_save_best_only,
            checkpoint_save_weights_only=checkpoint_save_weights_only,
            checkpoint_save_freq=checkpoint_save_freq,
        )
    )


def load_checkpoint(
    model_class: Any,
    run_id: str | None = None,
    epoch: int | None = None,
    global_step: int | None = None,
    kwargs: dict[str, Any] | None = None,
) -> Any:
    """A LightningModule restored (``model_class.load_from_checkpoint``) from a checkpoint
    autologging logged to ``run_id`` (else the active run): the latest, or that of ``epoch`` /
    ``global_step``. Same as MLflow."""
    from fsregistry.pytorch.autologging import load_checkpoint_file

    tmp, local = load_checkpoint_file(run_id, epoch, global_step)
    with tmp:
        return model_class.load_from_checkpoint(local, **(kwargs or {}))


def __getattr__(name: str) -> Any:
    """``MlflowModelCheckpointCallback``: a ``pytorch_lightning`` callback (``lightning.pytorch``
    when only that is installed), built on first use, as MLflow defines it only with Lightning."""
    if name == "MlflowModelCheckpointCallback":
        from fsregistry.pytorch.autologging import checkpoint_callback_class

        found = importlib.util.find_spec("pytorch_lightning") is not None
        if not found and importlib.util.find_spec("lightning") is None:
            raise AttributeError(
                "fsregistry.pytorch.MlflowModelCheckpointCallback needs PyTorch Lightning: "
                "pip install 'fsregistry[pytorch]' lightning"
            )
        return checkpoint_callback_class("pytorch_lightning" if found else "lightning.pytorch")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FLAVOR_NAME",
    "SERIALIZATION_FORMAT_PICKLE",
    "SERIALIZATION_FORMAT_PT2",
    "autolog",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_checkpoint",
    "load_model",
    "load_state_dict",
    "log_model",
    "log_state_dict",
    "save_model",
    "save_state_dict",
]
