"""``mlflow.pytorch.autolog`` (PyTorch Lightning) for fsregistry, on the autolog kit.

Patching (reversible: ``autolog(disable=True)`` restores it): ``Trainer.fit`` of
``lightning.pytorch`` and of ``pytorch_lightning``, whichever are installed. What one
outermost ``fit`` logs, as MLflow 3.17's ``mlflow.pytorch.autolog`` does:

* the run: a managed run tagged ``mlflow.autologging=pytorch`` (+ ``extra_tags``) when none
  is active (FAILED if ``fit`` raises), else the user's run (nothing with ``exclusive=True``);
* before training (``log_models``): a LoggedModel ``model`` every metric is linked to;
* early stopping: for each ``EarlyStopping`` callback of the trainer, the params ``monitor``,
  ``mode``, ``patience``, ``min_delta``, ``stopped_epoch``; after training, when it stopped
  early, the metrics ``stopped_epoch``, ``restored_epoch`` (stopped - max(1, patience)),
  ``best_score``, ``wait_count``;
* at the start of training: the tag ``Mode=training``; the params ``epochs``
  (``trainer.max_epochs``), ``optimizer_name`` (the first optimizer's class) and each entry of
  its ``defaults`` (``lr``, ``betas``...);
* ``trainer.callback_metrics`` at the end of each training epoch (not during the sanity
  check), every ``log_every_n_epoch`` epochs, at ``step=epoch``; with ``log_every_n_step``,
  the step metrics every n training steps at ``step=global_step`` (a metric logged per step is
  then left out of the epoch metrics, and a forked ``<name>``/``<name>_step`` pair's plain
  name out of the step ones);
* checkpoints (``checkpoint=True``, the default): after each epoch (or every
  ``checkpoint_save_freq`` steps) the trainer's checkpoint (``trainer.save_checkpoint``
  contents, weights only with ``checkpoint_save_weights_only``) as ``checkpoints/...``
  (:mod:`.checkpoints`: the best so far by ``checkpoint_monitor``/``checkpoint_mode``, or
  every one; not when the trainer has a ``MlflowModelCheckpointCallback`` already);
* after training: ``model_summary.txt`` (Lightning's ``ModelSummary(max_depth=-1)``), then
  (``log_models``) the model by :func:`fsregistry.pytorch.log_model` (``pickle`` format, into
  the LoggedModel, ``registered_model_name``) with a signature from the first training
  batch's ``forward`` input and output when both are single tensors
  (``log_model_signatures``), and, with early stopping, the best checkpoint of the trainer's
  checkpoint callback as ``restored_model_checkpoint/``.

Any failure while logging is a warning (none with ``silent``); ``fit`` itself always runs and
its result or exception is what the caller sees. Differs from MLflow: an ``EarlyStopping``
of ``lightning.pytorch`` is recognised too (MLflow only sees ``pytorch_lightning``'s); the
callbacks autologging added are taken off the trainer after ``fit`` (MLflow leaves them, so a
later ``fit`` of the same trainer logs into the earlier run); a ``fit`` that raises marks its
LoggedModel FAILED (MLflow leaves it PENDING); TensorBoard ``SummaryWriter`` calls outside
Lightning are not logged; ``log_datasets`` has no effect (as in MLflow).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

from fsregistry import fluent
from fsregistry.entities import Metric, Param
from fsregistry.flavors.autolog import Autologger
from fsregistry.mlruns.metafile import now_ms
from fsregistry.pytorch.checkpoints import CheckpointPolicy

FLAVOR_NAME = "pytorch"
#: The Lightning packages whose ``Trainer.fit`` is patched, when installed.
PACKAGES = ("lightning.pytorch", "pytorch_lightning")
_EARLY_STOP_PARAMS = ("monitor", "mode", "patience", "min_delta", "stopped_epoch")


@dataclass(frozen=True)
class AutologConfig:
    """The arguments of the last ``autolog`` call."""

    log_every_n_epoch: int = 1
    log_every_n_step: int | None = None
    log_models: bool = True
    log_model_signatures: bool = True
    exclusive: bool = False
    silent: bool = False
    registered_model_name: str | None = None
    extra_tags: dict[str, Any] = field(default_factory=dict)
    checkpoint: bool = True
    checkpoint_monitor: str | None = "val_loss"
    checkpoint_mode: str = "min"
    checkpoint_save_best_only: bool = True
    checkpoint_save_weights_only: bool = False
    checkpoint_save_freq: str | int = "epoch"

    def policy(self) -> CheckpointPolicy:
        """A fresh checkpoint policy (its best value starts unset) for one ``fit``."""
        return CheckpointPolicy(
            monitor=self.checkpoint_monitor,
            mode=self.checkpoint_mode,
            save_best_only=self.checkpoint_save_best_only,
            save_weights_only=self.checkpoint_save_weights_only,
            save_freq=self.checkpoint_save_freq,
        )


AUTOLOGGER: Autologger[AutologConfig] = Autologger(FLAVOR_NAME)


def installed_packages() -> list[Any]:
    """The installed Lightning packages (imported)."""
    found = []
    for name in PACKAGES:
        top = name.split(".")[0]
        if importlib.util.find_spec(top) is not None:
            found.append(importlib.import_module(name))
    return found


def install(cfg: AutologConfig) -> None:
    """Patch ``Trainer.fit`` of every installed Lightning package with ``cfg``."""
    cfg.policy()  # bad checkpoint arguments fail here, before anything is patched

    def patch() -> None:
        for pkg in installed_packages():
            AUTOLOGGER.patch_method(pkg.Trainer, "fit", functools.partial(_patched_fit, pkg=pkg))

    AUTOLOGGER.install(cfg, patch)


def uninstall() -> None:
    """Restore every patched ``Trainer.fit``."""
    AUTOLOGGER.uninstall()


def _patched_fit(original: Any, *, pkg: Any) -> Any:
    @functools.wraps(original)
    def fit(trainer: Any, *args: Any, **kwargs: Any) -> Any:
        with AUTOLOGGER.session() as run:
            if run is None:
                return original(trainer, *args, **kwargs)
            cfg = AUTOLOGGER.config
            assert cfg is not None
            return _Fit(cfg, pkg, trainer, run.run_id).run(original, args, kwargs)

    return fit


def _metric(key: str, value: Any, step: int, model_id: str | None) -> Metric:
    return Metric(key, float(value), now_ms(), step, None, None, None, model_id)


def _is_early_stopping(callback: Any) -> bool:
    return any(isinstance(callback, p.callbacks.EarlyStopping) for p in installed_packages())


class _Fit:
    """One autologged ``fit``: the callbacks it adds and what it logs before and after."""

    def __init__(self, cfg: AutologConfig, pkg: Any, trainer: Any, run_id: str) -> None:
        self.cfg = cfg
        self.pkg = pkg
        self.trainer = trainer
        self.run_id = run_id
        self.client = fluent._client()
        self.model_id: str | None = None
        self.example: tuple[Any, Any] | None = None  # first forward's (input, output)
        self.forward_patch: tuple[Any, Any] | None = None  # (module, its forward) while patched

    def run(self, original: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        trainer = self.trainer
        if self.cfg.log_models:
            self.model_id = AUTOLOGGER.guarded(self._initialize_model)
        early = [cb for cb in trainer.callbacks if _is_early_stopping(cb)]
        for cb in early:
            AUTOLOGGER.guarded(self._log_early_stop_params, cb)
        added = [_metrics_callback(self)]
        mine = tuple(checkpoint_callback_class(p.__name__) for p in installed_packages())
        if self.cfg.checkpoint and not any(isinstance(cb, mine) for cb in trainer.callbacks):
            added.append(_checkpoint_callback(self))  # unless the user gave one, as in MLflow
        trainer.callbacks.extend(added)
        try:
            result = original(trainer, *args, **kwargs)
        except BaseException:
            if self.model_id is not None:
                AUTOLOGGER.guarded(self._fail_model)
            raise
        finally:
            trainer.callbacks[:] = [cb for cb in trainer.callbacks if cb not in added]
            self.unpatch_forward()
        for cb in early:
            AUTOLOGGER.guarded(self._log_early_stop_metrics, cb)
        AUTOLOGGER.guarded(self._log_summary)
        if self.cfg.log_models:
            AUTOLOGGER.guarded(self._log_model, bool(early))
        return result

    def unpatch_forward(self) -> None:
        """Take the first-forward capture off the module (its own ``forward`` shows again)."""
        if self.forward_patch is None:
            return
        module, original = self.forward_patch
        self.forward_patch = None
        if getattr(original, "__self__", None) is module and "forward" in vars(module):
            delattr(module, "forward")
        else:
            module.forward = original

    # -- before and after -------------------------------------------------------------------
    def _initialize_model(self) -> str:
        from fsregistry.logged_model_api import initialize_logged_model

        return initialize_logged_model("model").model_id

    def _fail_model(self) -> None:
        from fsregistry.logged_model_api import finalize_logged_model

        assert self.model_id is not None
        finalize_logged_model(self.model_id, "FAILED")

    def _log_early_stop_params(self, cb: Any) -> None:
        params = {p: getattr(cb, p) for p in _EARLY_STOP_PARAMS if hasattr(cb, p)}
        self.log_params(params)

    def _log_early_stop_metrics(self, cb: Any) -> None:
        if cb.stopped_epoch == 0:
            return
        metrics = {
            "stopped_epoch": cb.stopped_epoch,
            "restored_epoch": cb.stopped_epoch - max(1, cb.patience),
        }
        if hasattr(cb, "best_score"):
            metrics["best_score"] = float(cb.best_score)
        if hasattr(cb, "wait_count"):
            metrics["wait_count"] = cb.wait_count
        self.log_metrics(metrics, 0)

    def _log_summary(self) -> None:
        summary = self.pkg.utilities.model_summary.ModelSummary(self.trainer.model, max_depth=-1)
        fluent.log_text(str(summary), "model_summary.txt")

    def _log_model(self, early_stopping: bool) -> None:
        from fsregistry.pytorch import log_model

        log_model(
            self.trainer.model,
            name="model",
            registered_model_name=self.cfg.registered_model_name,
            model_id=self.model_id,
            signature=self._signature(),
            serialization_format="pickle",
        )
        best = getattr(self.trainer.checkpoint_callback, "best_model_path", None)
        if early_stopping and best:
            fluent.log_artifact(best, "restored_model_checkpoint")

    def _signature(self) -> Any:
        if self.example is None:
            return None
        from fsregistry.models.signature import infer_signature

        inputs, outputs = self.example
        try:
            return infer_signature(inputs.cpu().numpy(), outputs.detach().cpu().numpy())
        except Exception as exc:  # an unusual tensor: the model is logged without one
            AUTOLOGGER.warn("Inferring model signature failed, skip logging signature: %r", exc)
            return None

    # -- logging ---------------------------------------------------------------------------
    def log_params(self, params: dict[str, Any]) -> None:
        self.client.log_batch(self.run_id, params=[Param(k, str(v)) for k, v in params.items()])

    def log_metrics(self, metrics: dict[str, Any], step: int) -> None:
        items = [_metric(k, v, step, self.model_id) for k, v in metrics.items()]
        if items:
            self.client.log_batch(self.run_id, metrics=items)


def _metrics_callback(fit: _Fit) -> Any:
    """The Lightning callback logging the optimizer params and the metrics of ``fit``."""
    cfg = fit.cfg
    step_metrics: set[str] = set()
    epoch_metrics: set[str] = set()
    steps_per_batch = [1]

    class MlflowCallback(fit.pkg.Callback):  # type: ignore[misc, name-defined]
        def on_train_start(self, trainer: Any, pl_module: Any) -> None:
            AUTOLOGGER.guarded(self._start, trainer)

        def _start(self, trainer: Any) -> None:
            fit.client.set_tag(fit.run_id, "Mode", "training")
            params: dict[str, Any] = {"epochs": trainer.max_epochs}
            if trainer.optimizers:
                steps_per_batch[0] = len(trainer.optimizers)
                optimizer = trainer.optimizers[0]
                inner = getattr(optimizer, "_optimizer", optimizer)
                params["optimizer_name"] = type(inner).__name__
                params.update(getattr(optimizer, "defaults", {}) or {})
            fit.log_params(params)
            if cfg.log_models and cfg.log_model_signatures:
                self._capture_first_forward(trainer.strategy.lightning_module)

        def _capture_first_forward(self, module: Any) -> None:
            torch = importlib.import_module("torch")
            original = module.forward

            def forward(*inputs: Any, **kwargs: Any) -> Any:
                result = original(*inputs, **kwargs)
                if fit.forward_patch is not None:
                    fit.unpatch_forward()
                    if (
                        len(inputs) == 1
                        and isinstance(inputs[0], torch.Tensor)
                        and isinstance(result, torch.Tensor)
                    ):
                        fit.example = (inputs[0].detach(), result.detach())
                return result

            fit.forward_patch = (module, original)
            module.forward = forward

        def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            items = {k: v for k, v in trainer.callback_metrics.items() if k not in step_metrics}
            epoch_metrics.update(items)
            epoch = pl_module.current_epoch
            if (epoch + 1) % cfg.log_every_n_epoch == 0 and not trainer.sanity_checking:
                AUTOLOGGER.guarded(fit.log_metrics, items, epoch)

        def on_train_batch_end(self, trainer: Any, pl_module: Any, *args: Any) -> None:
            if not cfg.log_every_n_step:
                return
            metrics = trainer.callback_metrics
            items = {
                k: v
                for k, v in metrics.items()
                if k not in epoch_metrics and f"{k}_step" not in metrics
            }
            step_metrics.update(items)
            step = trainer.global_step
            due = ((step // steps_per_batch[0]) + 1) % cfg.log_every_n_step == 0
            if due and not trainer.sanity_checking:
                AUTOLOGGER.guarded(fit.log_metrics, items, step)

    return MlflowCallback()


@functools.cache
def checkpoint_callback_class(package: str) -> type:
    """``MlflowModelCheckpointCallback`` as a callback of the Lightning ``package``: logs
    checkpoints by a :class:`.checkpoints.CheckpointPolicy` to the active run."""
    base: Any = importlib.import_module(package).Callback

    class MlflowModelCheckpointCallback(base):  # type: ignore[misc]
        """Log model checkpoints to MLflow (MLflow's arguments and defaults)."""

        def __init__(
            self,
            monitor: str | None = "val_loss",
            mode: str = "min",
            save_best_only: bool = True,
            save_weights_only: bool = False,
            save_freq: str | int = "epoch",
        ) -> None:
            super().__init__()
            self.policy = CheckpointPolicy(
                monitor, mode, save_best_only, save_weights_only, save_freq
            )

        def _save(self, trainer: Any) -> None:
            def write(path: str) -> None:
                weights_only = self.policy.save_weights_only
                checkpoint = trainer._checkpoint_connector.dump_checkpoint(weights_only)
                trainer.strategy.save_checkpoint(checkpoint, path)

            metrics = {k: float(v) for k, v in trainer.callback_metrics.items()}
            self.policy.save_if_needed(trainer.current_epoch, trainer.global_step, metrics, write)

        def on_train_batch_end(self, trainer: Any, *args: Any) -> None:
            freq = self.policy.save_freq
            step = trainer.global_step
            if isinstance(freq, int) and step > 0 and step % freq == 0:
                AUTOLOGGER.guarded(self._save, trainer)

        def on_train_epoch_end(self, trainer: Any, pl_module: Any) -> None:
            if self.policy.save_freq == "epoch":
                AUTOLOGGER.guarded(self._save, trainer)

    MlflowModelCheckpointCallback.__module__ = "fsregistry.pytorch"
    return MlflowModelCheckpointCallback


def _checkpoint_callback(fit: _Fit) -> Any:
    """The checkpoint callback of the trainer's package by the autolog ``checkpoint_*``."""
    cfg = fit.cfg
    cls = checkpoint_callback_class(fit.pkg.__name__)
    return cls(
        cfg.checkpoint_monitor,
        cfg.checkpoint_mode,
        cfg.checkpoint_save_best_only,
        cfg.checkpoint_save_weights_only,
        cfg.checkpoint_save_freq,
    )


def load_checkpoint_file(run_id: str | None, epoch: int | None, global_step: int | None) -> Any:
    """Download a run's checkpoint (see :func:`.checkpoints.checkpoint_artifact_path`) into a
    temporary directory; returns (the directory object, the local file)."""
    from fsregistry.exceptions import MlflowException
    from fsregistry.pytorch.checkpoints import checkpoint_artifact_path

    client = fluent._client()
    if run_id is None:
        active = fluent.active_run()
        if active is None:
            raise MlflowException(
                "There is no active run, please provide the 'run_id' argument for "
                "'load_checkpoint' invocation."
            )
        run_id = active.info.run_id
    path = checkpoint_artifact_path(client.get_run(run_id).data.tags, epoch, global_step)
    tmp = tempfile.TemporaryDirectory(prefix="fsreg-checkpoint-")
    try:
        local = client.download_artifacts(run_id, path, dst_path=tmp.name)
    except BaseException:
        tmp.cleanup()
        raise
    return tmp, os.fspath(local)
