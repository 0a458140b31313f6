"""The plots sklearn autologging draws for classifiers, as MLflow 3.17 does, when matplotlib
is installed (otherwise a warning and no plots).

``training_confusion_matrix.png`` (``ConfusionMatrixDisplay.from_estimator``, normalized over
true labels, ``Blues``, 6x4 inches, font size ``min(8, 50 / n_classes)``), and for two
classes ``training_roc_curve.png`` and ``training_precision_recall_curve.png``; each titled as
MLflow titles it and saved at 175 dpi with ``figure.autolayout``. A plot that fails is left
out with a warning; the files go to the run's artifact root.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fsregistry import fluent

PREFIX = "training_"


def log_classifier_plots(
    run_id: str, estimator: Any, x: Any, y: Any, weight: Any, warn: Callable[..., None]
) -> None:
    """Draw and log the plots of a fitted classifier (see the module docstring)."""
    try:
        import matplotlib
        import matplotlib.pyplot as plt
    except ImportError as exc:
        warn("Failed to import matplotlib (error: %r). Skipping artifact logging.", exc)
        return
    from sklearn import metrics

    labels = getattr(estimator, "classes_", None)
    if labels is None:
        labels = set(y)

    def confusion_matrix(**kwargs: Any) -> Any:
        with matplotlib.rc_context(
            {"font.size": min(8.0, 50.0 / len(labels)), "axes.labelsize": 8.0, "figure.dpi": 175}
        ):
            _, ax = plt.subplots(1, 1, figsize=(6.0, 4.0))
            return metrics.ConfusionMatrixDisplay.from_estimator(**kwargs, ax=ax)

    common = {"estimator": estimator, "X": x, "y": y, "sample_weight": weight}
    plots: list[tuple[str, Any, dict[str, Any], str]] = [
        (
            "confusion_matrix",
            confusion_matrix,
            {**common, "normalize": "true", "cmap": "Blues"},
            "Normalized confusion matrix",
        )
    ]
    if len(set(y)) == 2:
        plots += [
            ("roc_curve", metrics.RocCurveDisplay.from_estimator, common, "ROC curve"),
            (
                "precision_recall_curve",
                metrics.PrecisionRecallDisplay.from_estimator,
                common,
                "Precision recall curve",
            ),
        ]
    style: Any = {"savefig.dpi": 175, "figure.autolayout": True, "font.size": 8}
    with tempfile.TemporaryDirectory(prefix="fsreg-autolog-plots-") as tmp:
        for name, draw, kwargs, title in plots:
            try:
                with matplotlib.rc_context(style):
                    display = draw(**kwargs)
                    display.ax_.set_title(title)
                    display.figure_.savefig(Path(tmp) / f"{PREFIX}{name}.png", format="png")
                    plt.close(display.figure_)
            except Exception as exc:  # a plot of any estimator may fail in many ways
                warn(
                    "%s failed. The artifact %s will not be recorded. Artifact error: %s",
                    getattr(draw, "__qualname__", name),
                    PREFIX + name,
                    exc,
                )
        fluent._client().log_artifacts(run_id, tmp)
