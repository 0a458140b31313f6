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
runs and its result or exception is what the caller sees. Differs from MLflow: ``tf.data``
datasets and tensors are not logged as datasets (fsregistry has no ``from_tensorflow``).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fsregistry import fluent
from fsregistry.entities import DatasetInput, InputTag, Metric, Param, RunStatus
from fsregistry.mlruns.metafile import now_ms

_logger = logging.getLogger(__name__)

FLAVOR_NAME = "keras"
AUTOLOGGING_TAG = "mlflow.autologging"
_UNLOGGED = ("self", "x", "y", "callbacks", "validation_data", "verbose")


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


_lock = threading.RLock()
_state = threading.local()
_patched: tuple[Any, Any, bool] | None = None  # (keras.Model, original fit, own attribute)
config: AutologConfig | None = None


def warn(message: str, *args: Any) -> None:
    """A logging failure: a warning unless ``silent``."""
    if config is None or not config.silent:
        _logger.warning(message, *args)


def install(cfg: AutologConfig) -> None:
    """Patch ``keras.Model.fit`` (after undoing an earlier patch) with ``cfg``."""
    global config, _patched
    keras = importlib.import_module("keras")

    if cfg.log_every_epoch and cfg.log_every_n_steps is not None:
        from fsregistry.exceptions import InvalidParameterValue

        raise InvalidParameterValue(
            "`log_every_n_steps` must be None if `log_every_epoch=True`, received "
            f"`log_every_epoch=True` and `log_every_n_steps={cfg.log_every_n_steps}`."
        )
    with _lock:
        uninstall()
        cls = keras.Model
        original = cls.fit
        _patched = (cls, original, "fit" in vars(cls))

        @functools.wraps(original)
        def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
            return autologged_fit(original, self, args, kwargs)

        cls.fit = fit
        config = cfg


def uninstall() -> None:
    """Restore ``keras.Model.fit``."""
    global config, _patched
    with _lock:
        if _patched is not None:
            cls, original, own = _patched
            if own:
                cls.fit = original
            else:
                delattr(cls, "fit")
        _patched = None
        config = None


def _guarded(fn: Callable[..., Any], *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as exc:  # logging failures never break fit; the user is told
        warn("Failed to autolog (%s): %s: %s", fn.__name__, type(exc).__name__, exc)
        return None


def autologged_fit(original: Any, model: Any, args: tuple[Any, ...], kwargs: Any) -> Any:
    """Run ``original`` and log it, unless it runs inside another autologged fit, or
    ``exclusive`` keeps it off a user's run."""
    cfg = config
    if cfg is None or getattr(_state, "active", False):
        return original(model, *args, **kwargs)
    active = fluent.active_run()
    if active is not None and cfg.exclusive:
        return original(model, *args, **kwargs)
    managed = None
    if active is None:
        try:
            managed = fluent.start_run(tags={AUTOLOGGING_TAG: FLAVOR_NAME, **cfg.extra_tags})
        except Exception as exc:  # a store failure must not break fit
            warn("Autologging could not start a run; fit runs unlogged: %s", exc)
            return original(model, *args, **kwargs)
    run_id = (managed or active).info.run_id  # type: ignore[union-attr]
    _state.active = True
    try:
        kwargs = dict(kwargs)
        model_id = _guarded(_log_before, cfg, run_id, original, model, args, kwargs)
        callbacks = list(args[5]) if len(args) >= 6 else list(kwargs.get("callbacks") or [])
        callbacks.append(_callback(cfg, run_id, model_id))
        if len(args) >= 6:
            args = (*args[:5], callbacks, *args[6:])
        else:
            kwargs["callbacks"] = callbacks
        history = original(model, *args, **kwargs)
        if cfg.log_models:
            _guarded(_log_model, cfg, model, model_id)
    except BaseException:
        if managed is not None:
            _guarded(fluent.end_run, RunStatus.FAILED)
        raise
    finally:
        _state.active = False
    if managed is not None:
        _guarded(fluent.end_run)
    return history


def _param_value(value: Any) -> str:
    return str(value)[:6000]


def fit_params(original: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """MLflow's fit params: ``batch_size`` (given, or the data's), the keyword arguments and
    the defaults of the parameters not given (positional arguments are not logged)."""
    params: dict[str, Any] = {}
    unlogged = list(_UNLOGGED)
    batch_size = kwargs.get("batch_size")
    if batch_size is None:
        x = kwargs["x"] if "x" in kwargs else (args[0] if args else None)
        batch_size = getattr(x, "batch_size", None)
    if batch_size is not None:
        params["batch_size"] = batch_size
        unlogged.append("batch_size")
    for name, p in inspect.signature(original).parameters.items():
        if name in unlogged or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if name in kwargs:
            params[name] = kwargs[name]
        elif p.default is not p.empty:
            params[name] = p.default
    params.update({k: v for k, v in kwargs.items() if k not in unlogged})
    return params


def _log_before(
    cfg: AutologConfig, run_id: str, original: Any, model: Any, args: tuple[Any, ...], kwargs: Any
) -> str | None:
    """Log the fit params and datasets; create the LoggedModel (its id)."""
    client = fluent._client()
    params = fit_params(original, args, kwargs)
    client.log_batch(run_id, params=[Param(k, _param_value(v)) for k, v in params.items()])
    model_id = None
    if cfg.log_models:
        from fsregistry.logged_model_api import initialize_logged_model

        model_id = initialize_logged_model("model").model_id
    if cfg.log_datasets:
        x = kwargs["x"] if "x" in kwargs else (args[0] if args else None)
        y = kwargs["y"] if "y" in kwargs else (args[1] if len(args) >= 2 else None)
        _log_dataset(run_id, x, y, "train", model_id)
        if kwargs.get("validation_data") is not None:
            _log_dataset(run_id, kwargs["validation_data"], None, "eval", model_id)
    return model_id


def _log_dataset(run_id: str, x: Any, y: Any, context: str, model_id: str | None) -> None:
    import numpy as np

    from fsregistry.data import from_numpy
    from fsregistry.data.datasets import code_source
    from fsregistry.entities import LoggedModelInput

    if isinstance(x, tuple) and len(x) >= 2:
        x, y = x[0], x[1]
    if not isinstance(x, np.ndarray):
        warn("Unrecognized dataset type %s. Dataset logging skipped.", type(x))
        return
    targets = y if isinstance(y, np.ndarray) else None
    dataset = from_numpy(x, targets=targets, source=code_source())
    inputs = [DatasetInput(dataset._to_mlflow_entity(), [InputTag("mlflow.data.context", context)])]
    models = [LoggedModelInput(model_id)] if model_id else None
    fluent._client().log_inputs(run_id, inputs, models)


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


def _log_model(cfg: AutologConfig, model: Any, model_id: str | None) -> None:
    from fsregistry.keras import log_model

    signature = None
    if cfg.log_model_signatures:
        try:
            signature = model_signature(model)
        except Exception as exc:  # any model: its shapes may be unknown
            warn("Failed to get model signature, reason: %s", exc)
    log_model(
        model,
        name="model",
        save_exported_model=cfg.save_exported_model,
        signature=signature,
        registered_model_name=cfg.registered_model_name,
        save_model_kwargs=cfg.save_model_kwargs,
        model_id=model_id,
    )


def _metrics(logs: Mapping[str, Any], step: int, model_id: str | None, prefix: str = "") -> Any:
    ts = now_ms()
    return [
        Metric(prefix + str(k), float(v), ts, step, None, None, None, model_id)
        for k, v in logs.items()
    ]


def _callback(cfg: AutologConfig, run_id: str, model_id: str | None) -> Any:
    """The Keras callback logging the optimizer params, the summary and the metrics."""
    base: Any = importlib.import_module("keras").callbacks.Callback
    client = fluent._client()

    class FsregCallback(base):  # type: ignore[misc]
        def on_train_begin(self, logs: Any = None) -> None:
            _guarded(self._begin)

        def _begin(self) -> None:
            config = self.model.optimizer.get_config()
            params = [Param(f"optimizer_{k}", _param_value(v)) for k, v in config.items()]
            client.log_batch(run_id, params=params)
            lines: list[str] = []
            self.model.summary(print_fn=lambda line, *a, **k: lines.append(line))
            fluent.log_text("\n".join(lines), "model_summary.txt")

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            if cfg.log_every_epoch and logs:
                _guarded(client.log_batch, run_id, _metrics(logs, epoch, model_id))

        def on_batch_end(self, batch: int, logs: Any = None) -> None:
            if cfg.log_every_n_steps is None or not logs:
                return
            step = int(self.model.optimizer.iterations.numpy())
            if step % cfg.log_every_n_steps == 0:
                _guarded(client.log_batch, run_id, _metrics(logs, step, model_id))

        def on_test_end(self, logs: Any = None) -> None:
            if logs:
                metrics = _metrics(logs, 0, model_id, "validation_")
                _guarded(client.log_batch, run_id, metrics)

    return FsregCallback()
