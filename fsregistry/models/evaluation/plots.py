"""The classifier's image artifacts, drawn with matplotlib's object API (no pyplot state, no
backend switch): ``confusion_matrix`` (normalised by true class), ``roc_curve_plot``,
``precision_recall_curve_plot``, ``lift_curve_plot`` and ``calibration_curve_plot``, the names
MLflow's default evaluator gives them. Each function writes one PNG and returns nothing.

matplotlib is optional (``fsregistry[evaluate]``): :func:`available` says whether it imports, and
the evaluator records the artifacts it skipped when it does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

#: Image artifacts the classifier draws when it has probabilities (binary) / always.
BINARY_CURVES = (
    "roc_curve_plot",
    "precision_recall_curve_plot",
    "lift_curve_plot",
    "calibration_curve_plot",
)


def available() -> bool:
    """Whether matplotlib can be imported."""
    try:
        import matplotlib.figure  # noqa: F401
    except ImportError:
        return False
    return True


def _figure() -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(6.0, 4.0), dpi=175, layout="tight")


def _save(fig: Any, path: str) -> None:
    fig.savefig(path, bbox_inches="tight")


def confusion_matrix(matrix: np.ndarray, labels: list[Any], path: str) -> None:
    """The row-normalised confusion matrix."""
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(matrix, cmap="Blues", vmin=0.0, vmax=max(1.0, float(matrix.max())))
    fig.colorbar(image, ax=ax)
    ticks = list(range(len(labels)))
    ax.set_xticks(ticks, [str(v) for v in labels])
    ax.set_yticks(ticks, [str(v) for v in labels])
    size = min(8, max(1, 50 // max(1, len(labels))))
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            ax.text(j, i, f"{matrix[i, j]:.2g}", ha="center", va="center", fontsize=size)
    ax.set_xlabel("Predicted label")
    ax.set_ylabel("True label")
    ax.set_title("Normalized confusion matrix")
    _save(fig, path)


def curves(
    series: list[tuple[str, np.ndarray, np.ndarray]], kind: str, pos_label: Any, path: str
) -> None:
    """ROC (``kind="roc"``) or precision-recall (``"pr"``) curves, one line per series."""
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    for label, x, y in series:
        ax.plot(x, y, drawstyle="steps-post", linewidth=1, label=label)
    dash = {"color": "gray", "alpha": 0.3, "linestyle": "dashed"}
    suffix = f" (Positive label: {pos_label})" if pos_label is not None else ""
    if kind == "roc":
        ax.plot([0, 1], [0, 1], **dash)
        ax.set_xlabel("False Positive Rate" + suffix)
        ax.set_ylabel("True Positive Rate" + suffix)
        ax.set_title("ROC curve")
    else:
        ax.plot([0, 1], [1, 0], **dash)
        ax.set_xlabel("Recall" + suffix)
        ax.set_ylabel("Precision" + suffix)
        ax.set_title("Precision recall curve")
    ax.legend(loc="best", fontsize=6)
    _save(fig, path)


def lift_curve(y_true: np.ndarray, scores: np.ndarray, pos_label: Any, path: str) -> None:
    """Lift of the positive class against the fraction of rows, ranked by score."""
    import numpy as np

    order = np.argsort(-scores, kind="stable")
    hits = (np.asarray(y_true)[order] == pos_label).astype("float64")
    n = len(hits)
    rate = hits.sum() / n if n else 0.0
    fraction = np.arange(1, n + 1) / n
    lift = np.cumsum(hits) / np.arange(1, n + 1) / rate if rate else np.zeros(n)
    step = max(1, n // 1000)  # at most ~1,000 points drawn
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(fraction[::step], lift[::step], label=f"Class {pos_label}")
    ax.axhline(1.0, color="gray", alpha=0.3, linestyle="dashed", label="Baseline")
    ax.set_xlabel("Percentage of sample")
    ax.set_ylabel("Lift")
    ax.set_title("Lift Curve")
    ax.legend(loc="best")
    _save(fig, path)


def calibration_curve(
    series: list[tuple[str, np.ndarray, np.ndarray]], n_bins: int, path: str
) -> None:
    """Reliability diagram: mean predicted probability against the fraction of positives."""
    from sklearn.calibration import calibration_curve as sk_calibration

    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(
        [0, 1], [0, 1], color="gray", alpha=0.3, linestyle="dashed", label="Perfectly calibrated"
    )
    for label, y_bin, prob in series:
        frac, mean = sk_calibration(y_bin, prob, n_bins=n_bins)
        ax.plot(mean, frac, marker="o", linewidth=1, label=label)
    ax.set_xlabel("Mean predicted probability")
    ax.set_ylabel("Fraction of positives")
    ax.set_title("Calibration Curve")
    ax.legend(loc="best", fontsize=6)
    _save(fig, path)
