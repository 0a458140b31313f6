"""``mlflow.metrics`` for classic ML: :class:`MetricValue`, :func:`make_metric`, and the
ready-made regression and classification metrics to pass as ``evaluate(extra_metrics=...)``.

Each factory returns an :class:`EvaluationMetric` with MLflow's name and direction, whose value
is scikit-learn's function of ``predictions`` and ``targets`` (``sample_weight``, ``pos_label``
and ``average`` are read from ``evaluator_config`` when given there, as MLflow binds them).
The GenAI/text metrics of ``mlflow.metrics`` (toxicity, rouge, LLM judges...) are out of scope.
Floor 6, beside :mod:`fsregistry.models.evaluation`; scikit-learn loads when a metric runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fsregistry.models.evaluation.base import EvaluationMetric, MetricValue, make_metric


def _scorer(
    sk_name: str, name: str, *, weighted: bool = True, classification: bool = False
) -> Callable[..., MetricValue | None]:
    def score(
        predictions: Any,
        targets: Any = None,
        metrics: Any = None,
        sample_weight: Any = None,
        pos_label: Any = 1,
        average: str = "binary",
    ) -> MetricValue | None:
        if targets is None or len(targets) == 0:
            return None
        from sklearn import metrics as sk

        fn = getattr(sk, sk_name)
        kwargs: dict[str, Any] = {"sample_weight": sample_weight} if weighted else {}
        if classification:
            kwargs.update(pos_label=pos_label, average=average)
        return MetricValue(aggregate_results={name: float(fn(targets, predictions, **kwargs))})

    if not classification:
        # Only the parameters MLflow's regression metrics take (a classification config key
        # such as ``average`` must not be bound to them).
        def regression(
            predictions: Any, targets: Any = None, metrics: Any = None, sample_weight: Any = None
        ) -> MetricValue | None:
            return score(predictions, targets, metrics, sample_weight)

        def unweighted(
            predictions: Any, targets: Any = None, metrics: Any = None
        ) -> MetricValue | None:
            return score(predictions, targets, metrics)

        return regression if weighted else unweighted
    return score


def mae() -> EvaluationMetric:
    """``mean_absolute_error``. Same as MLflow's."""
    return make_metric(
        eval_fn=_scorer("mean_absolute_error", "mean_absolute_error"),
        greater_is_better=False,
        name="mean_absolute_error",
    )


def mse() -> EvaluationMetric:
    """``mean_squared_error``. Same as MLflow's."""
    return make_metric(
        eval_fn=_scorer("mean_squared_error", "mean_squared_error"),
        greater_is_better=False,
        name="mean_squared_error",
    )


def rmse() -> EvaluationMetric:
    """``root_mean_squared_error``. Same as MLflow's."""
    return make_metric(
        eval_fn=_scorer("root_mean_squared_error", "root_mean_squared_error"),
        greater_is_better=False,
        name="root_mean_squared_error",
    )


def r2_score() -> EvaluationMetric:
    """``r2_score``. Same as MLflow's."""
    return make_metric(
        eval_fn=_scorer("r2_score", "r2_score"), greater_is_better=True, name="r2_score"
    )


def max_error() -> EvaluationMetric:
    """``max_error`` (unweighted). Same as MLflow's."""
    return make_metric(
        eval_fn=_scorer("max_error", "max_error", weighted=False),
        greater_is_better=False,
        name="max_error",
    )


def mape() -> EvaluationMetric:
    """``mean_absolute_percentage_error``. Same as MLflow's."""
    name = "mean_absolute_percentage_error"
    return make_metric(eval_fn=_scorer(name, name), greater_is_better=False, name=name)


def recall_score() -> EvaluationMetric:
    """``recall_score`` (``pos_label=1``, ``average="binary"`` unless configured). Same as
    MLflow's."""
    return make_metric(
        eval_fn=_scorer("recall_score", "recall_score", classification=True),
        greater_is_better=True,
        name="recall_score",
    )


def precision_score() -> EvaluationMetric:
    """``precision_score`` (``pos_label=1``, ``average="binary"`` unless configured). Same as
    MLflow's."""
    return make_metric(
        eval_fn=_scorer("precision_score", "precision_score", classification=True),
        greater_is_better=True,
        name="precision_score",
    )


def f1_score() -> EvaluationMetric:
    """``f1_score`` (``pos_label=1``, ``average="binary"`` unless configured). Same as
    MLflow's."""
    return make_metric(
        eval_fn=_scorer("f1_score", "f1_score", classification=True),
        greater_is_better=True,
        name="f1_score",
    )


__all__ = [
    "EvaluationMetric",
    "MetricValue",
    "f1_score",
    "mae",
    "make_metric",
    "mape",
    "max_error",
    "mse",
    "precision_score",
    "r2_score",
    "recall_score",
    "rmse",
]
