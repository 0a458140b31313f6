"""Reading a ``pytorch`` model's ``data/`` directory, the prediction device, state dict files.

:func:`load_data_dir` is MLflow's ``mlflow.pytorch._load_model`` on a model's ``data``
directory: ``model.pth`` (pickle format; the pickle module named in
``pickle_module_info.txt``, ``mlflow.pytorch.pickle_module`` meaning fsregistry's copy of it) is
read with ``torch.load`` (a TorchScript archive is dispatched to ``torch.jit.load`` by torch)
and put in eval mode; otherwise ``model.pt2`` is read with ``torch.export.load(...).module()``.
``device`` moves a pickled model there; an exported model's weights cannot move, so a device
of another type is an ``InvalidParameterValue`` (as MLflow refuses it). A file torch cannot
read is a ``ModelIntegrityError`` naming it.

:func:`prediction_device` is the pyfunc device rule: the model config's ``device``, else
``MLFLOW_DEFAULT_PREDICTION_DEVICE``, else ``cuda`` when available, else ``cpu``.
"""

from __future__ import annotations

import importlib
import itertools
import logging
import os
import pickle
import shutil
import tempfile
import zipfile
from typing import Any

from fsregistry import flavors as kit
from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist

_logger = logging.getLogger(__name__)

FLAVOR = kit.Flavor(
    name="pytorch",
    package="torch",
    extra="pytorch",
    version_key="pytorch_version",
    loader_module="mlflow.pytorch",
    data_key="model_data",
)
DATA_SUBPATH = "data"
SERIALIZED_FILE = "model.pth"
EXPORTED_FILE = "model.pt2"
PICKLE_MODULE_INFO_FILE = "pickle_module_info.txt"
STATE_DICT_FILE = "state_dict.pth"
DEVICE_ENV = "MLFLOW_DEFAULT_PREDICTION_DEVICE"
#: Errors of torch.save / torch.export on a model they cannot serialize (dynamo's are
#: RuntimeErrors; pickling a local class with the standard pickle is an AttributeError).
SAVE_ERRORS: tuple[type[BaseException], ...] = (
    RuntimeError,
    AttributeError,
    pickle.PicklingError,
)
_STATE_DICT_ERRORS: tuple[type[BaseException], ...] = (OSError, TypeError, ValueError, *SAVE_ERRORS)
#: torch.export.load falls back to a legacy reader that raises zipfile's error on garbage.
_READ_ERRORS: tuple[type[BaseException], ...] = (RuntimeError, zipfile.BadZipFile)


def pickle_module(name: str) -> Any:
    """The pickle module a ``pickle_module_info.txt`` names (MLflow's default mapped to ours)."""
    from fsregistry.pytorch import pickle_module as default

    name = name.strip()
    if name in (default.MLFLOW_NAME, default.__name__):
        return default
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise ResourceDoesNotExist(
            "Failed to import the pickle module that was used to save the PyTorch model. "
            f"Pickle module name: `{name}` ({exc})"
        ) from None


def _check_device(torch: Any, device: Any) -> Any:
    try:
        return torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise InvalidParameterValue(f"Invalid torch device {device!r}: {exc}") from None


def load_data_dir(path: str, device: Any = None, **kwargs: Any) -> Any:
    """The model in a ``data`` directory (or a model file), as MLflow's ``_load_model``."""
    torch = FLAVOR.require()
    target = _check_device(torch, device) if device else None
    exported = False
    if os.path.isdir(path):
        model_path = os.path.join(path, SERIALIZED_FILE)
        if os.path.exists(model_path):
            info = os.path.join(path, PICKLE_MODULE_INFO_FILE)
            with kit.reading(FLAVOR, info), open(info, encoding="utf-8") as f:
                recorded = f.read()
            given = kwargs.get("pickle_module")
            if given is not None and getattr(given, "__name__", None) != recorded.strip():
                _logger.warning(
                    "Attempting to load the PyTorch model with a pickle module, '%s', that does "
                    "not match the pickle module that was used to save the model: '%s'.",
                    getattr(given, "__name__", given),
                    recorded,
                )
            else:
                kwargs["pickle_module"] = pickle_module(recorded)
        else:
            exported = True
            model_path = os.path.join(path, EXPORTED_FILE)
            kwargs = {}
    else:
        model_path = path
    with kit.reading(FLAVOR, model_path, _READ_ERRORS):
        if exported:
            model = torch.export.load(model_path).module()
        else:
            model = torch.load(model_path, **kwargs)
    if not isinstance(model, torch.nn.Module):
        from fsregistry.models.hashes import ModelIntegrityError

        raise ModelIntegrityError(
            f"The pytorch model file {model_path} holds a {kit.class_name(model)}, not a "
            "torch.nn.Module (a state dict? load it with load_state_dict)"
        )
    if not exported:
        model.eval()
    if target is not None:
        _move(torch, model, target, exported)
    return model


def _move(torch: Any, model: Any, target: Any, exported: bool) -> None:
    if exported:
        for tensor in itertools.chain(model.parameters(), model.buffers()):
            if tensor.device.type != target.type:
                raise InvalidParameterValue(
                    "The saved model is exported by `torch.export` API, the original model "
                    f"contains weights / buffers on '{tensor.device.type}' device, it can't be "
                    f"loaded on '{target.type}' device. To address this issue, You should save "
                    "the model in the following way: `mlflow.pytorch.save_model("
                    f"model.to('{target.type}'), path=..., serialization_format='pt2')`"
                )
        return
    try:
        model.to(device=target)
    except (RuntimeError, AssertionError) as exc:  # torch asserts CUDA is compiled in
        raise InvalidParameterValue(
            f"The PyTorch model cannot be moved to device {str(target)!r}: {exc}"
        ) from None


def prediction_device(model_config: dict[str, Any] | None) -> str:
    """The pyfunc device: model config ``device``, ``MLFLOW_DEFAULT_PREDICTION_DEVICE``, cuda
    when available, cpu."""
    device = model_config.get("device") if model_config else None
    if device:
        return str(device)
    if env := os.environ.get(DEVICE_ENV):
        return env
    torch = FLAVOR.require()
    return "cuda" if torch.cuda.is_available() else "cpu"


def save_state_dict(state_dict: Any, path: str, **kwargs: Any) -> None:
    """``torch.save(state_dict, <path>/state_dict.pth)``, whole or not at all."""
    if not isinstance(state_dict, dict):
        raise InvalidParameterValue(
            f"Invalid object type for `state_dict`: {type(state_dict)}. Must be an instance "
            "of `dict`"
        )
    torch = FLAVOR.require()
    if os.path.exists(path) and not os.path.isdir(path):
        raise InvalidParameterValue(f"save_state_dict: {path!r} exists and is not a directory")
    made = not os.path.exists(path)
    try:
        os.makedirs(path, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".state_dict.", suffix=".tmp", dir=path)
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(state_dict, f, **kwargs)
            os.replace(tmp, os.path.join(path, STATE_DICT_FILE))
        except BaseException:
            os.unlink(tmp)
            raise
    except _STATE_DICT_ERRORS as exc:
        if made:
            shutil.rmtree(path, ignore_errors=True)
        raise InvalidParameterValue(
            f"Saving the state dict to {path!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    except BaseException:
        if made:
            shutil.rmtree(path, ignore_errors=True)
        raise
