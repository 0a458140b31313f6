"""``mlflow.keras.autolog`` (Keras 3) for fsregistry: ``keras.Model.fit`` logs a run.

Patching (reversible: ``autolog(disable=True)`` restores it): ``keras.Model.fit`` (every
backend; with TensorFlow 2.16+ ``tf.keras.Model`` is the same class). What one outermost
``fit`` logs, as MLflow 3.17's ``mlflow.keras.autolog`` does:

* with no active run, a run is started with the tags ``mlflow.autologging=keras`` and
  ``extra_tags`` and ended when ``fit`` returns (FAILED if it raises); with ``exclusive=True``
  a user's active run gets nothing;
* params: ``batch_size`` (given, or the ``batch_size`` of a dataset object), then ``fit``'s
  keyword arguments and the defaults of those not given (``epochs``, ``validation_split``,
  ``shuffle``, ``initial_epoch``...; not ``x``, ``y``, ``callbacks``, ``validation_data``,
  ``verbose``; positional arguments are not logged, as in MLflow), and at the start of
  training ``optimizer_<key>`` for each entry of the optimizer's ``get_config()``;
* ``model_summary.txt`` (``model.summary()``);
* metrics: Keras' epoch logs (``loss``, ``val_loss``, compiled metrics) at ``step=epoch``
  (``log_every_epoch``) or the batch logs every ``log_every_n_steps`` optimizer iterations
  (``step`` = the iteration), and the evaluation logs as ``validation_<name>`` (step 0), each
  linked to the ``model`` LoggedModel;
* the training dataset (context ``train``; ``eval`` for ``validation_data``) when ``x`` is a
  numpy array (or a tuple of arrays), linked to the LoggedModel;
* the model (``log_models``): a LoggedModel ``model`` created before training and filled after
  it by :func:`fsregistry.keras.log_model` (``save_exported_model``, ``save_model_kwargs``,
  ``registered_model_name``) with a tensor signature from the model's input and output shapes
  (``log_model_signatures``).

Any failure while logging is a warning (none with ``silent=True``); ``fit`` itself always
runs and its result or exception is what the caller sees. Patching, the run and the guarded
steps are the autolog kit's (:mod:`fsregistry.flavors.autolog`); what a fit logs is
:class:`fsregistry.tensorflow.fit_logging.FitLogger`, shared with
``fsregistry.tensorflow.autolog``; this module adds the settings and the model logging. Differs from MLflow: ``tf.data``
datasets and tensors are not logged as datasets (fsregistry has no ``from_tensorflow``).
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from typing import Any

from fsregistry.flavors.autolog import Autologger
from fsregistry.tensorflow.fit_logging import FitCall, FitLogger, check_log_every

_logger = logging.getLogger(__name__)

FLAVOR_NAME = "keras"


@dataclass
class AutologConfig:
    """The arguments of the last ``autolog`` call."""

    log_every_epoch: bool = True
    log_every_n_steps: int | None = None
    log_models: bool = True
    log_model_signatures: bool = True
    save_exported_model: bool = False
    log_datasets: bool = True
    exclusive: bool = False
    silent: bool = False
    registered_model_name: str | None = None
    save_model_kwargs: dict[str, Any] | None = None
    extra_tags: dict[str, Any] = field(default_factory=dict)


AUTOLOGGER: Autologger[AutologConfig] = Autologger(FLAVOR_NAME, _logger)


def __getattr__(name: str) -> Any:
    if name == "config":  # the settings of the last autolog call (None: disabled)
        return AUTOLOGGER.config
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def install(cfg: AutologConfig) -> None:
    """Patch ``keras.Model.fit`` (after undoing an earlier patch) with ``cfg``."""
    keras = importlib.import_module("keras")
    check_log_every(cfg.log_every_epoch, cfg.log_every_n_steps)
    fit_logger = KerasFitLogger(AUTOLOGGER)
    AUTOLOGGER.install(cfg, lambda: AUTOLOGGER.patch_method(keras.Model, "fit", fit_logger.wrap))


def uninstall() -> None:
    """Restore ``keras.Model.fit``."""
    AUTOLOGGER.uninstall()


class KerasFitLogger(FitLogger):
    """``mlflow.keras.autolog``'s fit logging: the shared steps and the Keras 3 model."""

    def log_model(self, call: FitCall, history: Any) -> None:
        """Fill the LoggedModel with the trained model (``fsregistry.keras.log_model``)."""
        from fsregistry.keras import log_model

        cfg, model = call.cfg, call.model
        signature = None
        if cfg.log_model_signatures:
            try:
                signature = model_signature(model)
            except Exception as exc:  # any model: its shapes may be unknown
                self.warn("Failed to get model signature, reason: %s", exc)
        log_model(
            model,
            name="model",
            save_exported_model=cfg.save_exported_model,
            signature=signature,
            registered_model_name=cfg.registered_model_name,
            save_model_kwargs=cfg.save_model_kwargs,
            model_id=call.model_id,
        )


def model_signature(model: Any) -> Any:
    """MLflow's Keras 3 autolog signature: tensor specs of the model's inputs and outputs
    (``None`` dimensions as -1; the output dtype is the model's compute dtype)."""
    import numpy as np

    from fsregistry.models.schema import Schema, TensorSpec
    from fsregistry.models.signature import ModelSignature

    def specs(shapes: Any, dtype: Any) -> Schema:
        shapes = shapes if isinstance(shapes, list) else [shapes]
        return Schema(
            [TensorSpec(np.dtype(dtype), [-1 if d is None else d for d in s]) for s in shapes]
        )

    return ModelSignature(
        inputs=specs(model.input_shape, model.input_dtype),
        outputs=specs(model.output_shape, model.compute_dtype),
    )


__all__ = ["AUTOLOGGER", "AutologConfig", "KerasFitLogger", "install", "uninstall"]
