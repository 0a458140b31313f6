"""Model checkpoints logged during training, in MLflow 3.17's layout (``mlflow.utils.
checkpoint_utils``), and finding them again for ``load_checkpoint``.

A checkpoint is due at the end of an epoch (``save_freq="epoch"``) or every ``save_freq``
global steps. With ``save_best_only`` it is written only when the monitored metric improved
(``mode`` ``min`` or ``max``; a missing metric skips it with a warning) and replaces the
previous one:

- best only: ``checkpoints/latest_checkpoint[.weights]<suffix>`` and
  ``checkpoints/latest_checkpoint_metrics.json``;
- every one: ``checkpoints/epoch_<epoch>/checkpoint[.weights]<suffix>`` (or
  ``global_step_<step>/``) and ``checkpoint_metrics.json`` beside it.

The metrics file holds the trainer's metrics plus ``epoch`` and ``global_step``; the run tag
``mlflow.latest_checkpoint_artifact`` names the newest checkpoint file (it is set first, then
the metrics file, then the checkpoint, as MLflow does). :func:`checkpoint_artifact_path` is
the path ``load_checkpoint`` downloads: the tagged one, or the same file name under
``epoch_<n>`` / ``global_step_<n>``.
"""

from __future__ import annotations

import logging
import os
import posixpath
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fsregistry.exceptions import InvalidParameterValue, MlflowException

_logger = logging.getLogger(__name__)

LATEST_CHECKPOINT_ARTIFACT_TAG_KEY = "mlflow.latest_checkpoint_artifact"
CHECKPOINT_DIR = "checkpoints"


@dataclass
class CheckpointPolicy:
    """When and where checkpoints are logged (MLflow's ``checkpoint_*`` autolog arguments)."""

    monitor: str | None = "val_loss"
    mode: str = "min"
    save_best_only: bool = True
    save_weights_only: bool = False
    save_freq: str | int = "epoch"
    suffix: str = ".pth"
    last_value: float | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.save_best_only and self.monitor is None:
            raise InvalidParameterValue(
                "If checkpoint 'save_best_only' config is set to True, you need to set "
                "'monitor' config as well."
            )
        if self.save_best_only and self.mode not in ("min", "max"):
            raise InvalidParameterValue(
                "If checkpoint 'save_best_only' config is set to True, you need to set "
                "'mode' config and available modes includes 'min' and 'max', but you set "
                f"'mode' to '{self.mode}'."
            )
        if self.save_freq != "epoch" and not (
            isinstance(self.save_freq, int) and self.save_freq > 0
        ):
            raise InvalidParameterValue(
                f"checkpoint_save_freq must be 'epoch' or a positive integer, got "
                f"{self.save_freq!r}"
            )

    def _improved(self, value: float) -> bool:
        if self.last_value is None:
            return True
        return value < self.last_value if self.mode == "min" else value > self.last_value

    def paths(self, epoch: int, global_step: int) -> tuple[str, str]:
        """(checkpoint file, metrics file) artifact paths of a checkpoint taken now."""
        weights = ".weights" if self.save_weights_only else ""
        if self.save_best_only:
            return (
                f"{CHECKPOINT_DIR}/latest_checkpoint{weights}{self.suffix}",
                f"{CHECKPOINT_DIR}/latest_checkpoint_metrics.json",
            )
        sub = f"epoch_{epoch}" if self.save_freq == "epoch" else f"global_step_{global_step}"
        return (
            f"{CHECKPOINT_DIR}/{sub}/checkpoint{weights}{self.suffix}",
            f"{CHECKPOINT_DIR}/{sub}/checkpoint_metrics.json",
        )

    def save_if_needed(
        self,
        epoch: int,
        global_step: int,
        metrics: Mapping[str, float],
        save: Callable[[str], None],
    ) -> None:
        """Log a checkpoint (``save(local_file)`` writes it) if the policy says one is due."""
        from fsregistry import fluent

        if self.save_best_only:
            assert self.monitor is not None
            if self.monitor not in metrics:
                _logger.warning(
                    "Checkpoint logging is skipped, because checkpoint 'save_best_only' config "
                    "is True, it requires to compare the monitored metric value, but the "
                    "provided monitored metric value %r is not available.",
                    self.monitor,
                )
                return
            value = float(metrics[self.monitor])
            if not self._improved(value):
                return
            self.last_value = value
        model_path, metrics_path = self.paths(epoch, global_step)
        fluent.set_tag(LATEST_CHECKPOINT_ARTIFACT_TAG_KEY, model_path)
        fluent.log_dict({**metrics, "epoch": epoch, "global_step": global_step}, metrics_path)
        with tempfile.TemporaryDirectory(prefix="fsreg-checkpoint-") as tmp:
            local = os.path.join(tmp, posixpath.basename(model_path))
            save(local)
            fluent.log_artifact(local, posixpath.dirname(model_path))


def checkpoint_artifact_path(
    tags: Mapping[str, str], epoch: int | None, global_step: int | None
) -> str:
    """The checkpoint file of a run (its tags) to load: the latest, or that of ``epoch`` /
    ``global_step``."""
    latest = tags.get(LATEST_CHECKPOINT_ARTIFACT_TAG_KEY)
    if latest is None:
        raise MlflowException("There is no logged checkpoint artifact in the current run.")
    if epoch is not None and global_step is not None:
        raise MlflowException(
            "Only one of 'epoch' and 'global_step' can be set for 'load_checkpoint'."
        )
    name = posixpath.basename(latest)
    if global_step is not None:
        return f"{CHECKPOINT_DIR}/global_step_{global_step}/{name}"
    if epoch is not None:
        return f"{CHECKPOINT_DIR}/epoch_{epoch}/{name}"
    return latest
