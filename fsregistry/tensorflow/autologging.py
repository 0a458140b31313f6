"""``mlflow.tensorflow.autolog`` (TensorFlow 2 with Keras 3) for fsregistry: ``fit`` logs a run.

Patching (reversible: ``autolog(disable=True)`` restores it): ``tf.keras.Model.fit``, which with
TensorFlow 2.16+ is ``keras.Model.fit``, the method :func:`fsregistry.keras.autolog` patches
too; the integration enabled last is the one that logs (as MLflow's patches). What one
outermost ``fit`` logs, as MLflow 3.17's ``mlflow.tensorflow.autolog`` does (the steps Keras'
integration has are shared with it, :mod:`fsregistry.tensorflow.fit_logging`):

* with no active run, a run is started with the tags ``mlflow.autologging=tensorflow`` and
  ``extra_tags`` and ended when ``fit`` returns (FAILED if it raises); with ``exclusive=True``
  a user's active run gets nothing;
* params: ``batch_size`` of the data when ``x`` is a batched ``tf.data.Dataset`` (or has a
  ``batch_size``), then ``fit``'s arguments by name, positional ones included, and the defaults
  of those not given (not ``x``, ``y``, ``callbacks``, ``validation_data``, ``verbose``); the
  ``monitor``, ``min_delta``, ``patience``, ``baseline`` and ``restore_best_weights`` of a
  given ``EarlyStopping`` callback; at the start of training ``opt_<key>`` for each entry of
  the optimizer's ``get_config()``;
* ``model_summary.txt``; ``tensorboard_logs/`` (the event files of a TensorBoard callback: the
  user's, or one fsregistry adds writing to a temporary directory, removed afterwards);
* metrics: Keras' epoch logs at ``step=epoch`` (``log_every_epoch``) or the batch logs every
  ``log_every_n_steps`` optimizer iterations, the evaluation logs as ``validation_<name>``
  (step 0), linked to a LoggedModel by MLflow 3's fluent rule (a model output at that step);
  with early stopping that stopped training, ``stopped_epoch`` and, when it restored the best
  weights, ``restored_epoch`` and the restored epoch's metrics at ``stopped_epoch + 1``
  (these linked to the ``model`` LoggedModel);
* checkpoints (``checkpoint``): after each epoch (``checkpoint_save_freq="epoch"``) or every
  that many batches, when the monitored metric improved (``checkpoint_save_best_only``), the
  model (``model.save``; ``save_weights`` with ``checkpoint_save_weights_only``) as
  ``checkpoints/latest_checkpoint.h5`` with ``latest_checkpoint_metrics.json`` (the logs plus
  ``epoch`` and ``global_step``), or ``checkpoints/epoch_<n>/checkpoint.h5`` /
  ``global_step_<n>/`` for every save; the run's ``mlflow.latest_checkpoint_artifact`` tag
  names the newest;
* the training dataset (context ``train``; ``eval`` for ``validation_data``) for numpy arrays,
  linked to the LoggedModel;
* the model (``log_models``): a LoggedModel ``model`` created before training and filled after
  it by :func:`fsregistry.tensorflow.log_model` (``keras_model_kwargs``, ``saved_model_kwargs``,
  ``registered_model_name``) with a signature inferred from the first 5 rows of ``x`` (numpy,
  tensor, dict of them, or the first batch of a ``tf.data.Dataset``) and the model's
  prediction on them (``log_model_signatures``), and those rows as input example
  (``log_input_examples``).

Any failure while logging is a warning (none with ``silent=True``); ``fit`` itself always
runs and its result or exception is what the caller sees. Differs from MLflow: without the
``tensorboard`` package (``tensorflow-cpu`` 2.21 does not install it) there are no
``tensorboard_logs`` (MLflow's ``fit`` then fails in TensorFlow's summary writer); ``tf.data``
datasets and tensors are not logged as datasets (fsregistry has no ``from_tensorflow``); bad
checkpoint settings are refused by ``autolog`` itself, not at the first ``fit``.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any

from fsregistry import fluent
from fsregistry.entities import Metric, Param
from fsregistry.flavors.autolog import Autologger
from fsregistry.tensorflow.fit_logging import (
    _UNLOGGED,
    FitCall,
    FitLogger,
    check_log_every,
    param_value,
)

_logger = logging.getLogger(__name__)

FLAVOR_NAME = "tensorflow"
INPUT_EXAMPLE_ROWS = 5


@dataclass
class AutologConfig:
    """The arguments of the last ``autolog`` call."""

    log_models: bool = True
    log_datasets: bool = True
    exclusive: bool = False
    silent: bool = False
    registered_model_name: str | None = None
    log_input_examples: bool = False
    log_model_signatures: bool = True
    saved_model_kwargs: dict[str, Any] | None = None
    keras_model_kwargs: dict[str, Any] | None = None
    extra_tags: dict[str, Any] = field(default_factory=dict)
    log_every_epoch: bool = True
    log_every_n_steps: int | None = None
    checkpoint: bool = True
    checkpoint_monitor: str | None = "val_loss"
    checkpoint_mode: str = "min"
    checkpoint_save_best_only: bool = True
    checkpoint_save_weights_only: bool = False
    checkpoint_save_freq: str | int = "epoch"


AUTOLOGGER: Autologger[AutologConfig] = Autologger(FLAVOR_NAME, _logger)


def _check(cfg: AutologConfig) -> None:
    from fsregistry.exceptions import InvalidParameterValue

    check_log_every(cfg.log_every_epoch, cfg.log_every_n_steps)
    if not cfg.checkpoint or not cfg.checkpoint_save_best_only:
        return
    if cfg.checkpoint_monitor is None:
        raise InvalidParameterValue(
            "If checkpoint 'save_best_only' config is set to True, you need to set "
            "'monitor' config as well."
        )
    if cfg.checkpoint_mode not in ("min", "max"):
        raise InvalidParameterValue(
            "If checkpoint 'save_best_only' config is set to True, you need to set "
            "'mode' config and available modes includes 'min' and 'max', but you set "
            f"'mode' to '{cfg.checkpoint_mode}'."
        )


def install(cfg: AutologConfig) -> None:
    """Patch ``tf.keras.Model.fit`` (after undoing an earlier patch) with ``cfg``."""
    tf = importlib.import_module("tensorflow")
    _check(cfg)
    fit_logger = TensorFlowFitLogger(AUTOLOGGER)
    AUTOLOGGER.install(cfg, lambda: AUTOLOGGER.patch_method(tf.keras.Model, "fit", fit_logger.wrap))


def uninstall() -> None:
    """Restore ``tf.keras.Model.fit``."""
    AUTOLOGGER.uninstall()


class TensorFlowFitLogger(FitLogger):
    """Keras' fit logging with ``mlflow.tensorflow.autolog``'s names and extras."""

    optimizer_prefix = "opt_"

    def log_before(self, call: FitCall) -> None:
        """The batch size, fit and early-stopping params; the LoggedModel; the datasets."""
        keras = importlib.import_module("keras")
        client = fluent._client()
        params = tf_fit_params(call.original, call.args, call.kwargs, self.batch_size(call))
        client.log_batch(call.run_id, params=[Param(k, param_value(v)) for k, v in params.items()])
        stop = next(
            (c for c in call.callbacks if isinstance(c, keras.callbacks.EarlyStopping)), None
        )
        call.extra["early_stopping"] = stop
        if stop is not None:
            values = {
                "monitor": stop.monitor,
                "min_delta": stop.min_delta,
                "patience": stop.patience,
                "baseline": stop.baseline,
                "restore_best_weights": stop.restore_best_weights,
            }
            client.log_batch(
                call.run_id, params=[Param(k, param_value(v)) for k, v in values.items()]
            )
        call.model_id = self.initialize_model(call)
        self.log_datasets(call)

    def batch_size(self, call: FitCall) -> Any:
        """The batch size of ``x`` when it is a batched dataset (``None`` otherwise)."""
        x = call.x
        tf = importlib.import_module("tensorflow")
        if isinstance(x, tf.data.Dataset) and hasattr(x, "_batch_size"):
            return x._batch_size.numpy()
        return None

    def add_callbacks(self, call: FitCall, given: list[Any]) -> list[Any]:
        """TensorBoard (unless given; needs ``tensorboard``), the metrics callback and the
        checkpoint callback."""
        keras = importlib.import_module("keras")
        added: list[Any] = []
        board = next((c for c in given if isinstance(c, keras.callbacks.TensorBoard)), None)
        if board is not None:
            call.extra["tensorboard_dir"] = (board.log_dir, False)
        elif importlib.util.find_spec("tensorboard") is not None:
            log_dir = tempfile.mkdtemp(prefix="fsreg-tensorboard-")
            call.extra["tensorboard_dir"] = (log_dir, True)
            added.append(keras.callbacks.TensorBoard(log_dir))
        else:
            self.warn("tensorboard is not installed: no tensorboard_logs are logged")
        added.append(self.metrics_callback(call, None))  # linked by the fluent rule
        if call.cfg.checkpoint:
            added.append(checkpoint_callback(self, call))
        return added

    def log_metric_batch(self, call: FitCall, batch: list[Metric]) -> None:
        """The callback's metrics by MLflow 3's fluent rule (as ``mlflow.log_metrics``)."""
        values = {m.key: m.value for m in batch}
        fluent.log_metrics(values, step=batch[0].step, run_id=call.run_id)

    def log_model(self, call: FitCall, history: Any) -> None:
        """Fill the LoggedModel with :func:`fsregistry.tensorflow.log_model`."""
        from fsregistry.tensorflow import log_model

        cfg = call.cfg
        example, signature = self.example_and_signature(call)
        log_model(
            call.model,
            "model",
            input_example=example,
            signature=signature,
            registered_model_name=cfg.registered_model_name,
            saved_model_kwargs=cfg.saved_model_kwargs,
            keras_model_kwargs=cfg.keras_model_kwargs,
            model_id=call.model_id,
        )

    def example_and_signature(self, call: FitCall) -> tuple[Any, Any]:
        """The input example and inferred signature, each as asked (MLflow's rules)."""
        from fsregistry.models import infer_signature

        cfg = call.cfg
        if not (cfg.log_input_examples or cfg.log_model_signatures):
            return None, None
        example = None
        try:
            example = input_example(call.x)
        except Exception as exc:  # data of any type
            self.warn("Failed to gather input example: %s", exc)
        signature = None
        if cfg.log_model_signatures and example is not None:
            try:
                stop_training = call.model.stop_training
                output = call.model.predict(example, verbose=0)
                call.model.stop_training = stop_training
                signature = infer_signature(example, output)
            except Exception as exc:  # predict of any model may fail
                self.warn("Failed to infer model signature: %s", exc)
        return (example if cfg.log_input_examples else None), signature

    def log_after(self, call: FitCall, history: Any) -> None:
        """Early-stopping metrics, then the TensorBoard logs."""
        self.autologger.guarded(self.log_early_stopping, call, history)
        board = call.extra.get("tensorboard_dir")
        if board is not None and os.path.isdir(board[0]):
            fluent._client().log_artifacts(call.run_id, board[0], "tensorboard_logs")

    def log_early_stopping(self, call: FitCall, history: Any) -> None:
        """``stopped_epoch``, and ``restored_epoch`` with that epoch's metrics."""
        stop = call.extra.get("early_stopping")
        if stop is None or not stop.model.stop_training:
            return
        run_id, model_id = call.run_id, call.model_id
        fluent.log_metrics({"stopped_epoch": stop.stopped_epoch}, run_id=run_id, model_id=model_id)
        if not stop.restore_best_weights or stop.best_weights is None:
            return
        monitored = history.history.get(stop.monitor)
        if not monitored:
            return
        restored = history.epoch[0] + monitored.index(stop.best)
        fluent.log_metrics({"restored_epoch": restored}, run_id=run_id, model_id=model_id)
        index = history.epoch.index(restored)
        values = {k: v[index] for k, v in history.history.items()}
        if values:
            fluent.log_metrics(values, stop.stopped_epoch + 1, run_id=run_id, model_id=model_id)

    def cleanup(self, call: FitCall) -> None:
        """Remove the temporary TensorBoard directory."""
        board = call.extra.get("tensorboard_dir")
        if board is not None and board[1]:
            shutil.rmtree(board[0], ignore_errors=True)


def tf_fit_params(
    original: Any, args: tuple[Any, ...], kwargs: dict[str, Any], batch_size: Any
) -> dict[str, Any]:
    """MLflow's ``log_fn_args_as_params`` for ``fit``: the data's batch size, then positional
    arguments by name, keyword arguments and the defaults of those not given."""
    unlogged = [*_UNLOGGED, *(["batch_size"] if batch_size is not None else [])]
    params: dict[str, Any] = {} if batch_size is None else {"batch_size": batch_size}
    relevant = [p for p in inspect.signature(original).parameters.values() if p.name != "self"]
    given = {p.name: v for p, v in zip(relevant[: len(args)], args, strict=False)}
    given.update(kwargs)
    given.update({p.name: p.default for p in relevant[len(args) :] if p.name not in kwargs})
    params.update({k: v for k, v in given.items() if k not in unlogged})
    return params


def input_example(x: Any) -> Any:
    """The first rows of ``x`` as numpy (a dict of them for a dict), or ``None``."""
    import numpy as np

    tf = importlib.import_module("tensorflow")

    def rows(v: Any) -> Any:
        if isinstance(v, tf.Tensor):
            return v.numpy()[:INPUT_EXAMPLE_ROWS]
        return v[:INPUT_EXAMPLE_ROWS] if isinstance(v, np.ndarray) else None

    if isinstance(x, tf.data.Dataset):
        first = next(iter(x.take(INPUT_EXAMPLE_ROWS)), None)
        if not isinstance(first, tuple):
            return None
        x = first[0]
    if isinstance(x, dict):
        return {k: rows(v) for k, v in x.items()}
    return rows(x)


def checkpoint_callback(fit_logger: TensorFlowFitLogger, call: FitCall) -> Any:
    """The Keras callback saving checkpoints as MLflow's ``MlflowModelCheckpointCallback``."""
    from fsregistry.tensorflow.checkpoints import make_checkpoint_callback

    return make_checkpoint_callback(fit_logger.autologger, call.run_id, call.cfg)


__all__ = ["AUTOLOGGER", "AutologConfig", "TensorFlowFitLogger"]
