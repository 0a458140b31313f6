"""Checkpoints of ``fsregistry.tensorflow.autolog`` (``checkpoint=True``), laid out as MLflow 3.17's
``MlflowModelCheckpointCallback``: the run's ``checkpoints/`` artifacts.

A Keras callback counts optimizer steps (``on_train_batch_end``, which Keras may call every
``steps_per_execution`` steps) and epochs, and saves at the end of each epoch
(``save_freq="epoch"``) or once at least ``save_freq`` steps passed since the last save:

* ``save_best_only``: only when the ``monitor``\\ ed metric is better than at the last save
  (``mode`` ``min`` or ``max``; absent from the logs: a warning and no save), always as
  ``checkpoints/latest_checkpoint.h5`` (``latest_checkpoint.weights.h5`` with
  ``save_weights_only``) beside ``latest_checkpoint_metrics.json``;
* otherwise each save in ``checkpoints/epoch_<epoch>/`` or ``global_step_<step>/`` as
  ``checkpoint.h5`` (``checkpoint.weights.h5``) and ``checkpoint_metrics.json``.

The metrics file holds the logs (floats) plus ``epoch`` and ``global_step``; the run's tag
``mlflow.latest_checkpoint_artifact`` names the newest model file. A failing save is a warning
(the kit's guarded step); training goes on. :func:`load_checkpoint` loads one back.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from typing import Any

from fsregistry import fluent
from fsregistry.exceptions import FsRegistryException
from fsregistry.flavors.autolog import Autologger

LATEST_CHECKPOINT_TAG = "mlflow.latest_checkpoint_artifact"
CHECKPOINT_DIR = "checkpoints"
SUFFIX = ".h5"


def checkpoint_paths(
    save_best_only: bool, weights_only: bool, save_freq: Any, epoch: int, step: int
) -> tuple[str, str, str]:
    """(artifact directory, model file name, metrics file name) of one save."""
    model_file = "checkpoint" + (".weights" if weights_only else "") + SUFFIX
    if save_best_only:
        return CHECKPOINT_DIR, "latest_" + model_file, "latest_checkpoint_metrics.json"
    sub = f"epoch_{epoch}" if save_freq == "epoch" else f"global_step_{step}"
    return f"{CHECKPOINT_DIR}/{sub}", model_file, "checkpoint_metrics.json"


def make_checkpoint_callback(autologger: Autologger[Any], run_id: str, cfg: Any) -> Any:
    """The callback for one autologged ``fit`` (``cfg``: the tensorflow autolog settings)."""
    base: Any = importlib.import_module("keras").callbacks.Callback
    guarded = autologger.guarded

    class FsregCheckpoint(base):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.current_epoch = 0
            self.last_batch = 0
            self.global_step = 0
            self.step_saved = 0
            self.best: float | None = None

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.current_epoch = epoch

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            added = batch + 1 if batch <= self.last_batch else batch - self.last_batch
            self.last_batch = batch
            self.global_step += added
            freq = cfg.checkpoint_save_freq
            if isinstance(freq, int) and self.global_step - self.step_saved >= freq:
                guarded(self.save_if_needed, logs or {})
                self.step_saved = self.global_step

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            if cfg.checkpoint_save_freq == "epoch":
                guarded(self.save_if_needed, logs or {})

        def save_if_needed(self, logs: dict[str, Any]) -> None:
            values = {k: float(v) for k, v in logs.items()}
            if cfg.checkpoint_save_best_only:
                if cfg.checkpoint_monitor not in values:
                    autologger.warn(
                        "Checkpoint logging is skipped, because checkpoint 'save_best_only' "
                        "config is True, it requires to compare the monitored metric value, "
                        "but the provided monitored metric value is not available."
                    )
                    return
                value = values[cfg.checkpoint_monitor]
                if self.best is not None and not (
                    value < self.best if cfg.checkpoint_mode == "min" else value > self.best
                ):
                    return
                self.best = value
            directory, model_file, metrics_file = checkpoint_paths(
                cfg.checkpoint_save_best_only,
                cfg.checkpoint_save_weights_only,
                cfg.checkpoint_save_freq,
                self.current_epoch,
                self.global_step,
            )
            client = fluent._client()
            client.set_tag(run_id, LATEST_CHECKPOINT_TAG, f"{directory}/{model_file}")
            client.log_dict(
                run_id,
                {**values, "epoch": self.current_epoch, "global_step": self.global_step},
                f"{directory}/{metrics_file}",
            )
            with tempfile.TemporaryDirectory(prefix="fsreg-checkpoint-") as tmp:
                path = os.path.join(tmp, model_file)
                if cfg.checkpoint_save_weights_only:
                    self.model.save_weights(path, overwrite=True)
                else:
                    self.model.save(path, overwrite=True)
                client.log_artifact(run_id, path, directory)

    return FsregCheckpoint()


def load_checkpoint(
    model: Any = None,
    run_id: str | None = None,
    epoch: int | None = None,
    global_step: int | None = None,
) -> Any:
    """The Keras model of a checkpoint of run ``run_id`` (default: the active run): the
    newest, or that of ``epoch`` / ``global_step``; weights-only ones are loaded into
    ``model``. Errors are MLflow's (INTERNAL_ERROR). Differs: a model whose compile settings
    Keras 3 cannot restore from HDF5 (``loss="mse"``) loads uncompiled (MLflow raises
    Keras' ``ValueError``)."""
    client = fluent._client()
    if run_id is None:
        active = fluent.active_run()
        if active is None:
            raise FsRegistryException(
                "There is no active run, please provide the 'run_id' argument for "
                "'load_checkpoint' invocation."
            )
        run_id = active.info.run_id
    latest = client.get_run(run_id).data.tags.get(LATEST_CHECKPOINT_TAG)
    if latest is None:
        raise FsRegistryException("There is no logged checkpoint artifact in the current run.")
    filename = latest.rsplit("/", 1)[-1]
    if epoch is not None and global_step is not None:
        raise FsRegistryException(
            "Only one of 'epoch' and 'global_step' can be set for 'load_checkpoint'."
        )
    if global_step is not None:
        path = f"{CHECKPOINT_DIR}/global_step_{global_step}/{filename}"
    elif epoch is not None:
        path = f"{CHECKPOINT_DIR}/epoch_{epoch}/{filename}"
    else:
        path = latest
    weights_only = filename.endswith(".weights" + SUFFIX)
    if weights_only and model is None:
        raise FsRegistryException(
            "The latest checkpoint is weights-only, 'model' argument must be provided"
        )
    keras = importlib.import_module("keras")
    with tempfile.TemporaryDirectory(prefix="fsreg-checkpoint-") as tmp:
        local = client.download_artifacts(run_id, path, dst_path=tmp)
        if weights_only:
            model.load_weights(local)
            return model
        try:
            return keras.models.load_model(local)
        except ValueError:  # Keras 3 cannot restore some compile configs from HDF5 ("mse")
            return keras.models.load_model(local, compile=False)


__all__ = [
    "LATEST_CHECKPOINT_TAG",
    "checkpoint_paths",
    "load_checkpoint",
    "make_checkpoint_callback",
]
