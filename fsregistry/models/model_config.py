"""Models from code, the model file's side: :func:`set_model` and :class:`ModelConfig`.

A model file (``python_model="model.py"`` in ``fsregistry.pyfunc.save_model/log_model``)
defines a model and ends with ``set_model(model)``; a loader runs the file inside
:func:`code_model_scope`, which opens a slot that ``set_model`` fills and that holds the
``model_config`` the model was logged with, then reads the slot back. The slot is a context
variable, so two threads loading two model files never see each other's model, and a slot is
fresh for every run of a file: a file that never calls ``set_model`` gets an error even if an
earlier file did (MLflow keeps one module global across loads).

:class:`ModelConfig` follows MLflow's three states: while no loader runs the file (the author
runs it directly), ``development_config`` is the configuration; while a loader runs it, the
configuration is the one the model was logged with (or given at load time), and a model logged
with no ``model_config`` cannot build a ``ModelConfig`` even with a ``development_config``.
As in MLflow, a ``ModelConfig`` reads the loader's configuration when it is constructed, so the
file builds it at module level, not inside ``predict``.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist

#: MLflow's message for a ``set_model`` argument that is not a model.
SET_MODEL_ERROR = (
    "Model should either be an instance of PyFuncModel, Langchain type, or LlamaIndex index."
)
#: MLflow's message for a model file that ran without calling ``set_model``.
MODEL_NOT_SET_ERROR = (
    "If the model is logged as code, ensure the model is set using "
    "mlflow.models.set_model() within the code file code file."
)


class ModelConfigNotFound(ResourceDoesNotExist, FileNotFoundError):
    """No model configuration: MLflow raises ``FileNotFoundError``, so this is one too."""


@dataclass
class CodeModelSlot:
    """What one run of a model file produces (the model) and reads (its configuration).

    ``config`` is ``""`` when the model was logged without ``model_config`` (MLflow's marker
    for "a loader runs this file, and there is no configuration").
    """

    config: dict[str, Any] | str
    model: Any = None
    model_set: bool = field(default=False)


_slot: contextvars.ContextVar[CodeModelSlot | None] = contextvars.ContextVar(
    "fsregistry_code_model_slot", default=None
)
# The model set by a file run outside any loader (the author running it directly).
_unscoped_model: list[Any] = [None]


@contextmanager
def code_model_scope(config: dict[str, Any] | str | None) -> Iterator[CodeModelSlot]:
    """Open a fresh slot for one run of a model file, with ``config`` for its ModelConfig."""
    slot = CodeModelSlot(config=config if config is not None else "")
    token = _slot.set(slot)
    try:
        yield slot
    finally:
        _slot.reset(token)


def set_model(model: Any) -> None:
    """Set the model a model file defines (a ``PythonModel``, i.e. any object with a
    ``predict`` method, or a callable).

    Unlike MLflow, LangChain and LlamaIndex objects are not accepted (fsregistry has no such
    flavors), and the model goes to the loader running this file rather than a module global.
    """
    if isinstance(model, str) or not (callable(model) or callable(getattr(model, "predict", None))):
        raise InvalidParameterValue(f"{SET_MODEL_ERROR} Got {type(model).__name__}: {model!r}")
    slot = _slot.get()
    if slot is None:
        _unscoped_model[0] = model
        return
    slot.model = model
    slot.model_set = True


class ModelConfig:
    """The configuration a model file reads: ``development_config`` (a dict or a YAML file path)
    when run directly, the logged ``model_config`` when a loader runs it.

    Differs from MLflow only in its errors, which are fsregistry exceptions: a missing
    configuration raises :class:`ModelConfigNotFound` (also a ``FileNotFoundError``, as MLflow
    raises), a bad YAML file ``InvalidParameterValue``.
    """

    def __init__(
        self, *, development_config: str | os.PathLike[str] | dict[str, Any] | None = None
    ):
        slot = _slot.get()
        config: Any = slot.config if slot is not None else development_config
        if isinstance(config, os.PathLike):
            config = os.fspath(config)
        if not config:
            raise ModelConfigNotFound(
                "Config file is not provided which is needed to load the model. "
                "Please provide a valid path."
            )
        if not isinstance(config, dict | str):
            raise InvalidParameterValue(
                f"development_config must be a dict or a YAML file path, got {config!r}"
            )
        if isinstance(config, str) and not os.path.isfile(config):
            raise ModelConfigNotFound(f"Config file '{config}' not found.")
        self.config: dict[str, Any] | str = config

    def _read_config(self) -> Any:
        if isinstance(self.config, dict):
            return self.config
        return read_yaml_config(self.config, invalid="Error parsing YAML file")

    def to_dict(self) -> Any:
        """The whole configuration as a dictionary."""
        return self._read_config()

    def get(self, key: str) -> Any:
        """The value of a top-level key; ``KeyError`` naming the key if absent (as MLflow)."""
        data = self._read_config()
        if data and key in data:
            return data[key]
        raise KeyError(f"Key '{key}' not found in configuration: {data}.")


def read_yaml_config(path: str, invalid: str) -> Any:
    """The parsed YAML file at ``path``; invalid YAML raises InvalidParameterValue with
    ``invalid`` (MLflow's text for the caller) and the parser's error, as MLflow does, and an
    unreadable file InvalidParameterValue (where MLflow lets the OSError out)."""
    import yaml

    try:
        with open(path, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except yaml.YAMLError as exc:
        raise InvalidParameterValue(f"{invalid}: {exc}") from None
    except OSError as exc:
        raise InvalidParameterValue(
            f"The configuration file {path!r} could not be read: {exc.strerror or exc}"
        ) from None


def model_config_from_argument(model_config: Any) -> dict[str, Any] | None:
    """A ``model_config=`` argument (dict, YAML path or None) as a dict, checked as MLflow does:
    string keys and JSON-serializable values."""
    import json

    if model_config is None:
        return None
    if isinstance(model_config, str | os.PathLike):
        path = os.path.abspath(os.fspath(model_config))
        if not os.path.isfile(path):
            raise InvalidParameterValue(
                # MLflow's text, its missing space included.
                "An invalid `model_config` file was passed. The provided `model_config` "
                f"file '{path}'is not a valid file path."
            )
        model_config = read_yaml_config(
            path, f"The provided `model_config` file '{path}' is not a valid YAML file"
        )
        if model_config is None:
            return {}
    if not isinstance(model_config, dict) or not all(isinstance(k, str) for k in model_config):
        raise InvalidParameterValue(
            "An invalid ``model_config`` structure was passed. ``model_config`` must be a "
            f"valid file path or of type ``dict`` with string keys. (got {model_config!r})"
        )
    try:
        json.dumps(model_config)
    except (TypeError, ValueError, OverflowError):
        raise InvalidParameterValue(
            "Values in the provided ``model_config`` are of an unsupported type. Only "
            f"JSON-serializable data types can be provided as values. (got {model_config!r})"
        ) from None
    return model_config


def overridden_model_config(
    saved: dict[str, Any] | None, overrides: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The configuration a model loads with, as MLflow computes it: the saved ``config`` with
    the keys it already has replaced by ``MLFLOW_PYFUNC_INFERENCE_CONFIG`` (JSON) and then by
    ``overrides``; other keys are ignored with a warning, as are all overrides of a model saved
    without a configuration."""
    import json
    import logging

    logger = logging.getLogger("fsregistry.pyfunc")
    merged: dict[str, Any] = {}
    env = os.environ.get("MLFLOW_PYFUNC_INFERENCE_CONFIG")
    if env:
        try:
            merged.update(dict(json.loads(env)))
        except (ValueError, TypeError) as exc:
            raise InvalidParameterValue(
                f"MLFLOW_PYFUNC_INFERENCE_CONFIG must be a JSON object, got {env!r}: {exc}"
            ) from None
    merged.update(overrides or {})
    if not merged:
        return saved
    if not saved:
        logger.warning(
            "Argument(s) %s were ignored since the model's ``pyfunc`` flavor doesn't accept "
            "model configuration. Use ``model_config`` when logging the model to allow it.",
            ", ".join(merged),
        )
        return None
    ignored = [k for k in merged if k not in saved]
    if ignored:
        logger.warning(
            "Argument(s) %s were ignored since they are not valid keys in the corresponding "
            "section of the ``pyfunc`` flavor. Use ``model_config`` when logging the model to "
            "include the keys you plan to indicate. Current allowed configuration includes %s",
            ", ".join(ignored),
            ", ".join(saved),
        )
    return {**saved, **{k: v for k, v in merged.items() if k in saved}}
