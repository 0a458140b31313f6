"""Logging one Keras ``fit`` (Keras 3, any backend): the steps ``fsregistry.keras.autolog``
and ``fsregistry.tensorflow.autolog`` share, on the autolog kit (:mod:`fsregistry.flavors.autolog`).

:class:`FitLogger` wraps ``keras.Model.fit`` (``wrap``, for ``Autologger.patch_method``); for
the outermost call the kit's ``session`` gives a run and one :class:`FitCall` carries the
call's arguments and what logging made of them through the steps, each run through the kit's
``guarded`` (a failure is a warning, ``fit`` goes on):

1. ``log_before``: the fit params (:func:`fit_params`), the ``model`` LoggedModel
   (``log_models``), the training/validation datasets (numpy; ``log_datasets``);
2. ``add_callbacks``: the metrics callback (optimizer config as ``<optimizer_prefix><key>``
   params and ``model_summary.txt`` at train begin; epoch logs at ``step=epoch``
   (``log_every_epoch``) or batch logs every ``log_every_n_steps`` optimizer iterations;
   evaluation logs as ``validation_<name>`` at step 0), appended to a copy of the caller's;
3. ``fit`` itself (its exception propagates; the kit marks a run it started FAILED);
4. ``log_model`` (``log_models``; the integration's), then ``log_after``; ``cleanup`` always.

The integration's settings must have ``log_models``, ``log_datasets``, ``log_every_epoch`` and
``log_every_n_steps`` besides the kit's. Subclasses override any step.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fsregistry import fluent
from fsregistry.entities import DatasetInput, InputTag, Metric, Param
from fsregistry.flavors.autolog import Autologger
from fsregistry.mlruns.metafile import now_ms

_UNLOGGED = ("self", "x", "y", "callbacks", "validation_data", "verbose")


def check_log_every(log_every_epoch: bool, log_every_n_steps: int | None) -> None:
    """MLflow's rule: ``log_every_n_steps`` only with ``log_every_epoch=False``."""
    if log_every_epoch and log_every_n_steps is not None:
        from fsregistry.exceptions import InvalidParameterValue

        raise InvalidParameterValue(
            "`log_every_n_steps` must be None if `log_every_epoch=True`, received "
            f"`log_every_epoch=True` and `log_every_n_steps={log_every_n_steps}`."
        )


@dataclass
class FitCall:
    """One autologged ``fit``: its run, settings, arguments and what logging made of them."""

    run_id: str
    cfg: Any
    original: Any
    model: Any
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    model_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # a subclass's per-call state

    @property
    def x(self) -> Any:
        """The training data (``x``)."""
        return self.kwargs["x"] if "x" in self.kwargs else (self.args[0] if self.args else None)

    @property
    def y(self) -> Any:
        """The targets (``y``), if given."""
        if "y" in self.kwargs:
            return self.kwargs["y"]
        return self.args[1] if len(self.args) >= 2 else None

    @property
    def validation_data(self) -> Any:
        """``validation_data``, if given (keyword or 8th positional argument)."""
        if "validation_data" in self.kwargs:
            return self.kwargs["validation_data"]
        return self.args[7] if len(self.args) >= 8 else None

    @property
    def callbacks(self) -> list[Any]:
        """A copy of the callbacks given to ``fit``."""
        given = self.args[5] if len(self.args) >= 6 else self.kwargs.get("callbacks")
        return list(given or [])

    def set_callbacks(self, callbacks: list[Any]) -> None:
        """Make ``callbacks`` the ones ``fit`` is called with."""
        if len(self.args) >= 6:
            self.args = (*self.args[:5], callbacks, *self.args[6:])
        else:
            self.kwargs["callbacks"] = callbacks


class FitLogger:
    """What one autologged ``fit`` logs, step by step (each step guarded by the kit), as
    ``mlflow.keras.autolog`` does; the integrations' subclasses log the model, change names
    and add steps."""

    #: Prefix of the optimizer's config entries logged as params.
    optimizer_prefix = "optimizer_"

    def __init__(self, autologger: Autologger[Any]) -> None:
        self.autologger = autologger

    def warn(self, message: str, *args: Any) -> None:
        """A logging failure: a warning unless ``silent``."""
        self.autologger.warn(message, *args)

    def wrap(self, original: Any) -> Any:
        """The patched ``fit`` around ``original``."""

        @functools.wraps(original)
        def fit(model: Any, *args: Any, **kwargs: Any) -> Any:
            with self.autologger.session() as run:
                if run is None:
                    return original(model, *args, **kwargs)
                call = FitCall(
                    run.run_id, self.autologger.config, original, model, args, dict(kwargs)
                )
                return self.logged_fit(call)

        return fit

    def logged_fit(self, call: FitCall) -> Any:
        """Log around ``call``'s ``fit``; its history."""
        guarded = self.autologger.guarded
        try:
            guarded(self.log_before, call)
            callbacks = call.callbacks
            callbacks.extend(guarded(self.add_callbacks, call, callbacks) or [])
            call.set_callbacks(callbacks)
            history = call.original(call.model, *call.args, **call.kwargs)
            if call.cfg.log_models:
                guarded(self.log_model, call, history)
            guarded(self.log_after, call, history)
        finally:
            self.cleanup(call)
        return history

    # -- steps (overridden by fsregistry.tensorflow.autologging) ----------------------------
    def log_before(self, call: FitCall) -> None:
        """Log the fit params and datasets; create the LoggedModel (``call.model_id``)."""
        params = fit_params(call.original, call.args, call.kwargs)
        fluent._client().log_batch(
            call.run_id, params=[Param(k, param_value(v)) for k, v in params.items()]
        )
        call.model_id = self.initialize_model(call)
        self.log_datasets(call)

    def initialize_model(self, call: FitCall) -> str | None:
        """The id of the LoggedModel ``model`` created before training (``log_models``)."""
        if not call.cfg.log_models:
            return None
        from fsregistry.logged_model_api import initialize_logged_model

        return initialize_logged_model("model").model_id

    def log_datasets(self, call: FitCall) -> None:
        """The training (and validation) data as the run's datasets (``log_datasets``)."""
        if not call.cfg.log_datasets:
            return
        self.log_dataset(call.run_id, call.x, call.y, "train", call.model_id)
        if call.kwargs.get("validation_data") is not None:
            self.log_dataset(
                call.run_id, call.kwargs["validation_data"], None, "eval", call.model_id
            )

    def log_dataset(self, run_id: str, x: Any, y: Any, context: str, model_id: str | None) -> None:
        """One dataset input (numpy arrays; anything else: a warning)."""
        import numpy as np

        from fsregistry.data import from_numpy
        from fsregistry.data.datasets import code_source
        from fsregistry.entities import LoggedModelInput

        if isinstance(x, tuple) and len(x) >= 2:
            x, y = x[0], x[1]
        if not isinstance(x, np.ndarray):
            self.warn("Unrecognized dataset type %s. Dataset logging skipped.", type(x))
            return
        targets = y if isinstance(y, np.ndarray) else None
        dataset = from_numpy(x, targets=targets, source=code_source())
        tags = [InputTag("mlflow.data.context", context)]
        inputs = [DatasetInput(dataset._to_mlflow_entity(), tags)]
        models = [LoggedModelInput(model_id)] if model_id else None
        fluent._client().log_inputs(run_id, inputs, models)

    def add_callbacks(self, call: FitCall, given: list[Any]) -> list[Any]:
        """The callbacks added to ``fit``'s: the metrics callback."""
        return [self.metrics_callback(call, call.model_id)]

    def log_model(self, call: FitCall, history: Any) -> None:
        """Fill the LoggedModel with the trained model (each integration its own way)."""
        raise NotImplementedError

    def log_after(self, call: FitCall, history: Any) -> None:
        """What is logged after training and the model (nothing for Keras)."""

    def cleanup(self, call: FitCall) -> None:
        """Release what the call's logging made (also when ``fit`` raised)."""

    # -- the callback ------------------------------------------------------------------------
    def log_metric_batch(self, call: FitCall, batch: list[Metric]) -> None:
        """Log one batch of the callback's metrics to the run."""
        fluent._client().log_batch(call.run_id, batch)

    def metrics_callback(self, call: FitCall, metric_model_id: str | None) -> Any:
        """The Keras callback logging the optimizer params, the summary and the metrics
        (linked to ``metric_model_id``)."""
        base: Any = importlib.import_module("keras").callbacks.Callback
        cfg, run_id, guarded = call.cfg, call.run_id, self.autologger.guarded
        prefix, log = self.optimizer_prefix, self.log_metric_batch

        class FsregCallback(base):  # type: ignore[misc]
            def on_train_begin(self, logs: Any = None) -> None:
                guarded(self._begin)

            def _begin(self) -> None:
                config = self.model.optimizer.get_config()
                params = [Param(f"{prefix}{k}", param_value(v)) for k, v in config.items()]
                fluent._client().log_batch(run_id, params=params)
                lines: list[str] = []
                self.model.summary(print_fn=lambda line, *a, **k: lines.append(line))
                fluent.log_text("\n".join(lines), "model_summary.txt", run_id=run_id)

            def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
                if cfg.log_every_epoch and logs:
                    guarded(log, call, metrics(logs, epoch, metric_model_id))

            def on_batch_end(self, batch: int, logs: Any = None) -> None:
                if cfg.log_every_n_steps is None or not logs:
                    return
                step = int(self.model.optimizer.iterations.numpy())
                if step % cfg.log_every_n_steps == 0:
                    guarded(log, call, metrics(logs, step, metric_model_id))

            def on_test_end(self, logs: Any = None) -> None:
                if logs:
                    guarded(log, call, metrics(logs, 0, metric_model_id, "validation_"))

        return FsregCallback()


def param_value(value: Any) -> str:
    """A param's value as logged (``str``, at most 6,000 characters)."""
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


def metrics(
    logs: Mapping[str, Any], step: int, model_id: str | None, prefix: str = ""
) -> list[Metric]:
    """Keras logs as metrics of one timestamp at ``step`` (linked to ``model_id``)."""
    ts = now_ms()
    return [
        Metric(prefix + str(k), float(v), ts, step, None, None, None, model_id)
        for k, v in logs.items()
    ]


__all__ = ["FitCall", "FitLogger", "check_log_every", "fit_params", "metrics", "param_value"]
