"""The training metrics sklearn autologging records, named and computed as MLflow 3.17 does.

Classifiers (``sklearn.base.is_classifier``), from ``predict(X)``:
``training_precision_score``, ``training_recall_score``, ``training_f1_score``
(``average="weighted"``, or ``"binary"`` when ``pos_label`` is given) and
``training_accuracy_score`` (normalized); with ``predict_proba``, ``training_log_loss`` and
``training_roc_auc`` (the positive column for two classes; ``average="weighted"``,
``multi_class="ovo"``). Regressors: ``training_mean_squared_error``,
``training_mean_absolute_error``, ``training_r2_score`` (``multioutput="uniform_average"``)
and ``training_root_mean_squared_error`` (the square root of the first). Any estimator with
``score``: ``training_score`` (with ``sample_weight`` when ``score`` takes it). All take the
fit's ``sample_weight``. A metric whose computation fails is left out with a warning.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

PREFIX = "training_"
Warn = Callable[..., None]


def _compute(out: dict[str, Any], name: str, fn: Any, kwargs: dict[str, Any], warn: Warn) -> None:
    try:
        out[name] = fn(**kwargs)
    except Exception as exc:  # sklearn raises many kinds (ValueError, TypeError...)
        warn(
            "%s failed. The metric %s will not be recorded. Metric error: %s",
            fn.__qualname__,
            name,
            exc,
        )


def classifier_metrics(
    estimator: Any, x: Any, y: Any, weight: Any, pos_label: Any, warn: Warn
) -> dict[str, Any]:
    from sklearn import metrics as m

    average = "weighted" if pos_label is None else "binary"
    y_pred = estimator.predict(x)
    out: dict[str, Any] = {}
    common = {"y_true": y, "y_pred": y_pred, "sample_weight": weight}
    for name, fn in (
        ("precision_score", m.precision_score),
        ("recall_score", m.recall_score),
        ("f1_score", m.f1_score),
    ):
        _compute(
            out, PREFIX + name, fn, {**common, "pos_label": pos_label, "average": average}, warn
        )
    _compute(out, PREFIX + "accuracy_score", m.accuracy_score, {**common, "normalize": True}, warn)
    if hasattr(estimator, "predict_proba"):
        proba = estimator.predict_proba(x)
        loss_args = {"y_true": y, "y_pred": proba, "sample_weight": weight}
        _compute(out, PREFIX + "log_loss", m.log_loss, loss_args, warn)
        if len(proba[0]) == 2:
            proba = proba[:, 1]
        auc_args = {
            "y_true": y,
            "y_score": proba,
            "average": "weighted",
            "sample_weight": weight,
            "multi_class": "ovo",
        }
        _compute(out, PREFIX + "roc_auc", m.roc_auc_score, auc_args, warn)
    return out


def regressor_metrics(estimator: Any, x: Any, y: Any, weight: Any, warn: Warn) -> dict[str, Any]:
    import numpy as np
    from sklearn import metrics as m

    y_pred = estimator.predict(x)
    out: dict[str, Any] = {}
    args = {"y_true": y, "y_pred": y_pred, "sample_weight": weight}
    args["multioutput"] = "uniform_average"
    for name, fn in (
        ("mean_squared_error", m.mean_squared_error),
        ("mean_absolute_error", m.mean_absolute_error),
        ("r2_score", m.r2_score),
    ):
        _compute(out, PREFIX + name, fn, args, warn)
    out[PREFIX + "root_mean_squared_error"] = np.sqrt(out[PREFIX + "mean_squared_error"])
    return out


def training_metrics(
    estimator: Any, x: Any, y: Any, weight: Any, pos_label: Any, warn: Warn
) -> dict[str, Any]:
    """Every training metric of a fitted estimator (see the module docstring)."""
    import sklearn.base

    out: dict[str, Any] = {}
    if y is not None:
        try:
            if sklearn.base.is_classifier(estimator):
                out = classifier_metrics(estimator, x, y, weight, pos_label, warn)
            elif sklearn.base.is_regressor(estimator):
                out = regressor_metrics(estimator, x, y, weight, warn)
        except Exception as exc:  # predict of any estimator may fail
            warn(
                "Failed to autolog metrics for %s. Logging error: %s", type(estimator).__name__, exc
            )
            out = {}
    if hasattr(estimator, "score") and y is not None:
        try:
            takes_weight = "sample_weight" in inspect.signature(estimator.score).parameters
            args = (x, y, weight) if takes_weight else (x, y)
            out[PREFIX + "score"] = estimator.score(*args)
        except Exception as exc:  # score of any estimator may fail
            warn(
                "%s failed. The 'training_score' metric will not be recorded. Scoring error: %s",
                estimator.score.__qualname__,
                exc,
            )
    return out
