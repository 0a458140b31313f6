"""The default evaluator's built-in metrics, computed on numpy arrays.

Names and values are MLflow's default evaluator's (scikit-learn's definitions):

- classifier, binary: ``true_negatives false_positives false_negatives true_positives``
  (unweighted counts), ``example_count accuracy_score recall_score precision_score f1_score``
  (``average="binary"`` at ``pos_label``), ``log_loss`` when probabilities exist, and
  ``roc_auc`` / ``precision_recall_auc`` (average precision) of the positive class's column;
- classifier, multiclass: the same scores with ``average`` (default ``weighted``) over the
  classes present in labels and predictions, ``log_loss``, and ``roc_auc`` (one-vs-rest) for
  ``macro`` / ``weighted``;
- regressor: ``example_count mean_absolute_error mean_squared_error root_mean_squared_error
  sum_on_target mean_on_target r2_score max_error mean_absolute_percentage_error``.

Counts and precision/recall/F1 come from one pass of ``np.bincount`` over integer class codes
(MLflow calls scikit-learn once per score, each re-deriving the label set); ranking metrics and
log loss are scikit-learn's. Memory is a few arrays of the row count, never a Python object per
row. ``sum_on_target`` is a numpy (pairwise) sum where MLflow uses Python's ``sum``: they agree
to about 1e-12 relative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fsregistry.exceptions import InvalidParameterValue

if TYPE_CHECKING:
    import numpy as np

#: scikit-learn's ValueError (``_check_set_wise_labels``), which MLflow's classifier evaluator
#: lets through when the labels are multiclass and the average is 'binary'.
MULTICLASS_BUT_BINARY = (
    "Target is multiclass but average='binary'. Please choose another average setting, one of "
    "[None, 'micro', 'macro', 'weighted']."
)


def _sklearn() -> Any:
    try:
        from sklearn import metrics
    except ImportError:
        raise InvalidParameterValue(
            "Evaluating classifiers and regressors needs scikit-learn: pip install "
            "'fsregistry[evaluate]'"
        ) from None
    return metrics


def codes(values: np.ndarray, categories: np.ndarray) -> np.ndarray:
    """Index of each value in ``categories`` (-1 when absent), by hashing, not per-row Python."""
    import pandas as pd

    found: np.ndarray = pd.Index(categories).get_indexer(values).astype("int64")
    return found


@dataclass
class ClassCounts:
    """Weighted per-class sums: true positives, predicted count, true count."""

    tp: np.ndarray
    pred: np.ndarray
    true: np.ndarray


def class_counts(
    y_true: np.ndarray, y_pred: np.ndarray, classes: np.ndarray, weights: np.ndarray | None
) -> ClassCounts:
    """Per-class weighted true positives and predicted / true totals."""
    import numpy as np

    k = len(classes)
    t = codes(y_true, classes)
    p = codes(y_pred, classes)
    w = None if weights is None else np.asarray(weights, dtype="float64")

    def count(index: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
        keep = index >= 0 if mask is None else (index >= 0) & mask
        ww = None if w is None else w[keep]
        return np.bincount(index[keep], weights=ww, minlength=k).astype("float64")

    return ClassCounts(tp=count(t, t == p), pred=count(p), true=count(t))


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    import numpy as np

    out = np.zeros_like(num, dtype="float64")
    np.divide(num, den, out=out, where=den != 0)
    return out


def prf(counts: ClassCounts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall, F1 (0 where undefined, scikit-learn's zero_division)."""
    precision = _divide(counts.tp, counts.pred)
    recall = _divide(counts.tp, counts.true)
    f1 = _divide(2 * counts.tp, counts.pred + counts.true)
    return precision, recall, f1


def _accuracy(y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray | None) -> float:
    import numpy as np

    return float(np.average(y_true == y_pred, weights=weights))


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Unweighted confusion matrix over ``labels`` (rows: truth, columns: prediction)."""
    import numpy as np

    k = len(labels)
    t = codes(y_true, labels)
    p = codes(y_pred, labels)
    keep = (t >= 0) & (p >= 0)
    return np.bincount(t[keep] * k + p[keep], minlength=k * k).reshape(k, k)


def binary_metrics(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    labels: np.ndarray,
    pos_label: Any,
    weights: np.ndarray | None,
) -> dict[str, Any]:
    """Counts and scores at ``pos_label`` (``labels`` = [negative, positive])."""
    import numpy as np

    cm = confusion_counts(y_true, y_pred, labels)
    present = np.unique(np.concatenate([np.unique(y_true), np.unique(y_pred)]))
    if len(present) > 2:
        raise InvalidParameterValue(
            f"{MULTICLASS_BUT_BINARY} Labels found: {present.tolist()}; pass "
            "evaluator_config={'average': ...} or the full 'label_list'."
        )
    if len(present) == 2 and pos_label not in present:
        raise InvalidParameterValue(
            f"pos_label={pos_label!r} is not a valid label. It should be one of {present.tolist()}"
        )
    counts = class_counts(
        y_true,
        y_pred,
        np.array([pos_label], dtype=object)
        if isinstance(pos_label, str)
        else np.array([pos_label]),
        weights,
    )
    precision, recall, f1 = prf(counts)
    return {
        "true_negatives": int(cm[0, 0]),
        "false_positives": int(cm[0, 1]),
        "false_negatives": int(cm[1, 0]),
        "true_positives": int(cm[1, 1]),
        "example_count": len(y_true),
        "accuracy_score": _accuracy(y_true, y_pred, weights),
        "recall_score": float(recall[0]),
        "precision_score": float(precision[0]),
        "f1_score": float(f1[0]),
    }


def multiclass_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, average: str, weights: np.ndarray | None
) -> dict[str, Any]:
    """Scores averaged over the classes present in labels and predictions."""
    import numpy as np

    present = np.unique(np.concatenate([np.unique(y_true), np.unique(y_pred)]))
    counts = class_counts(y_true, y_pred, present, weights)
    precision, recall, f1 = prf(counts)
    if average == "weighted":
        total = counts.true.sum()
        scores = [
            0.0 if total == 0 else float(np.average(m, weights=counts.true))
            for m in (precision, recall, f1)
        ]
    elif average == "macro":
        scores = [float(m.mean()) for m in (precision, recall, f1)]
    elif average == "micro":
        tp, pred, true = counts.tp.sum(), counts.pred.sum(), counts.true.sum()
        scores = [
            float(tp / pred) if pred else 0.0,
            float(tp / true) if true else 0.0,
            float(2 * tp / (pred + true)) if pred + true else 0.0,
        ]
    elif average == "binary":
        raise InvalidParameterValue(f"{MULTICLASS_BUT_BINARY} Labels found: {present.tolist()}.")
    elif average in (None, "samples"):
        raise InvalidParameterValue(
            f"average={average!r} (per-class or per-sample scores) is not supported for a "
            "multiclass classifier: use 'micro', 'macro' or 'weighted'"
        )
    else:
        raise InvalidParameterValue(
            "The 'average' parameter of recall_score must be a str among {'binary', 'macro', "
            f"'micro', 'samples', 'weighted'}} or None. Got {average!r} instead."
        )
    return {
        "example_count": len(y_true),
        "accuracy_score": _accuracy(y_true, y_pred, weights),
        "recall_score": scores[1],
        "precision_score": scores[0],
        "f1_score": scores[2],
    }


def log_loss(
    y_true: np.ndarray, y_proba: np.ndarray, labels: np.ndarray, weights: np.ndarray | None
) -> float:
    """scikit-learn's log loss over ``labels``."""
    return float(_sklearn().log_loss(y_true, y_proba, labels=labels, sample_weight=weights))


def binary_auc(
    y_true: np.ndarray, scores: np.ndarray, pos_label: Any, weights: np.ndarray | None
) -> dict[str, float]:
    """ROC AUC and average precision of the positive class's scores."""
    import numpy as np

    sk = _sklearn()
    positive = np.asarray(y_true) == pos_label
    return {
        "roc_auc": float(sk.roc_auc_score(positive, scores, sample_weight=weights)),
        "precision_recall_auc": float(
            sk.average_precision_score(positive, scores, pos_label=True, sample_weight=weights)
        ),
    }


def multiclass_roc_auc(
    y_true: np.ndarray, y_proba: np.ndarray, average: str, weights: np.ndarray | None
) -> float:
    """One-vs-rest ROC AUC (``macro`` or ``weighted``)."""
    return float(
        _sklearn().roc_auc_score(
            y_true=y_true,
            y_score=y_proba,
            sample_weight=weights,
            average=average,
            multi_class="ovr",
        )
    )


def regressor_metrics(
    y: np.ndarray, y_pred: np.ndarray, weights: np.ndarray | None
) -> dict[str, Any]:
    """MLflow's regressor metrics (scikit-learn's definitions)."""
    import numpy as np

    sk = _sklearn()
    y = np.asarray(y)
    y_pred = np.asarray(y_pred)
    total = float((y * np.asarray(weights)).sum()) if weights is not None else float(np.sum(y))
    mse = float(sk.mean_squared_error(y, y_pred, sample_weight=weights))
    return {
        "example_count": len(y),
        "mean_absolute_error": float(sk.mean_absolute_error(y, y_pred, sample_weight=weights)),
        "mean_squared_error": mse,
        "root_mean_squared_error": float(np.sqrt(np.average((y - y_pred) ** 2, weights=weights))),
        "sum_on_target": total,
        "mean_on_target": total / len(y),
        "r2_score": float(sk.r2_score(y, y_pred, sample_weight=weights)),
        "max_error": float(sk.max_error(y, y_pred)),
        "mean_absolute_percentage_error": float(
            sk.mean_absolute_percentage_error(y, y_pred, sample_weight=weights)
        ),
    }


def per_class_rows(
    y_true: np.ndarray, y_pred: np.ndarray, labels: np.ndarray, weights: np.ndarray | None
) -> list[dict[str, Any]]:
    """One row per class of one-vs-rest binary metrics (MLflow's ``per_class_metrics``)."""
    import numpy as np

    rows = []
    for label in labels:
        t = (np.asarray(y_true) == label).astype("int64")
        p = (np.asarray(y_pred) == label).astype("int64")
        row: dict[str, Any] = {"positive_class": label}
        row.update(binary_metrics(t, p, np.array([0, 1]), 1, weights))
        rows.append(row)
    return rows
