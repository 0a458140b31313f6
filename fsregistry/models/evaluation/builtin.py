"""The built-in evaluators, named as MLflow registers them: ``default`` (extra metrics only, for
``model_type=None``), ``classifier``, ``regressor`` and ``shap``.

- ``classifier``: labels are ``label_list`` or every value seen in targets and predictions,
  sorted; with two labels the positive one (``pos_label``, default the greater) goes last and
  binary metrics are computed, otherwise ``average`` (default ``weighted``) multiclass ones.
  Probabilities come from the raw scikit-learn estimator's ``predict_proba`` (other models
  give none, so no log loss, AUCs or curves, as in MLflow). Artifacts: ``confusion_matrix``;
  binary with probabilities: ``roc_curve_plot``, ``precision_recall_curve_plot``,
  ``lift_curve_plot``, ``calibration_curve_plot``; multiclass: ``per_class_metrics`` (CSV),
  ``calibration_curve_plot`` and, up to ``max_classes_for_multiclass_roc_pr`` (10) classes,
  the ROC and PR plots.
- ``regressor``: the regression metrics of :mod:`.metrics`, no artifacts.
- both add sklearn's ``score`` for scikit-learn models (a failing ``score`` is a warning).
- ``shap`` runs for both when ``log_model_explainability`` is true (the default) but draws
  nothing: SHAP explainability is not implemented; the skip is logged with the reason.

Without matplotlib the images are skipped and listed in the warning; metrics are unchanged.
"""

from __future__ import annotations

import logging
from typing import Any

from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.evaluation import metrics as m
from fsregistry.models.evaluation import plots
from fsregistry.models.evaluation.artifacts import ImageEvaluationArtifact
from fsregistry.models.evaluation.base import CLASSIFIER, REGRESSOR, MetricValue
from fsregistry.models.evaluation.evaluator import (
    BuiltInEvaluator,
    Context,
    Outcome,
    PendingFile,
    as_array,
    predictor_for,
    stage_csv,
)

_logger = logging.getLogger(__name__)

_INSTALL = "matplotlib is not installed (pip install 'fsregistry[evaluate]')"


def _values(numbers: dict[str, Any]) -> dict[str, MetricValue]:
    return {k: MetricValue(aggregate_results={k: v}) for k, v in numbers.items()}


def _sklearn_score(ctx: Context, raw: Any, weights: Any, outcome: Outcome) -> None:
    if raw is None or not hasattr(raw, "score"):
        return
    try:
        score = raw.score(ctx.data.features, ctx.data.labels, sample_weight=weights)
    except Exception as exc:  # MLflow logs a warning and goes on without ``score``
        _logger.warning("Computing sklearn model score failed: %r", exc)
        return
    outcome.values.update(_values({"score": float(score)}))


def _predictions(ctx: Context, predict: Any) -> Any:
    if ctx.model is None:
        if ctx.data.predictions is None:
            raise InvalidParameterValue(
                "Either a model or set of predictions must be specified in order to use the "
                "default evaluator. Either specify the `model` parameter, the `predictions` "
                "parameter, an MLflow dataset containing the `predictions` column name (via the "
                "`data` parameter), or a different evaluator (via the `evaluators` parameter)."
            )
        return ctx.data.predictions
    raw = predict(ctx.data.features)
    return output_column(raw, ctx.predictions)


def output_column(raw: Any, name: str | None) -> Any:
    """The prediction column of a model's output (MLflow's rules for multi-output models)."""
    import pandas as pd

    original = raw
    if isinstance(raw, dict):
        raw = pd.DataFrame(raw)
    if isinstance(raw, list) and raw and all(isinstance(r, dict) for r in raw):
        raw = pd.DataFrame(raw)
    if isinstance(raw, pd.DataFrame):
        if name is not None and name in raw.columns:
            return raw[name]
        if len(raw.columns) == 1:
            return raw.iloc[:, 0]
        if name is None:
            raise InvalidParameterValue(
                "Output column name is not specified for the multi-output model. Please set the "
                "correct output column name using the `predictions` parameter."
            )
        # MLflow names the output's kind and prints it (a frame's columns).
        shown = (
            f"dict {original}"
            if isinstance(original, dict)
            else f"dataframe {raw.columns}"
            if original is raw
            else f"list: {original}"
        )
        raise InvalidParameterValue(
            f"Output column name '{name}' is not found in the model predictions {shown}. "
            "Please set the correct output column name using the `predictions` parameter."
        )
    return raw


def _image(ctx: Context, outcome: Outcome, name: str, draw: Any) -> None:
    path = ctx.image_path(name)
    try:
        draw(path)
    except (ValueError, TypeError, IndexError) as exc:  # MLflow: warn, keep the evaluation
        _logger.warning("Failed to log image artifact %r: %r", name, exc)
        return
    import os

    outcome.files.append(PendingFile(name, os.path.basename(path), path, ImageEvaluationArtifact))


class DefaultEvaluator(BuiltInEvaluator):
    """``model_type=None``: predictions plus ``extra_metrics``. Same as MLflow's (no GenAI)."""

    name = "default"

    @classmethod
    def can_evaluate(
        cls, *, model_type: str | None, evaluator_config: dict[str, Any], **kwargs: Any
    ) -> bool:
        return model_type is None or model_type in (CLASSIFIER, REGRESSOR)

    def compute_builtin(self, ctx: Context, outcome: Outcome) -> None:
        ctx.y_pred = as_array(_predictions(ctx, predictor_for(ctx.model).predict))


class RegressorEvaluator(BuiltInEvaluator):
    """Regression metrics. Same as MLflow's ``regressor`` evaluator."""

    name = "regressor"

    @classmethod
    def can_evaluate(
        cls, *, model_type: str | None, evaluator_config: dict[str, Any], **kwargs: Any
    ) -> bool:
        return model_type == REGRESSOR

    def compute_builtin(self, ctx: Context, outcome: Outcome) -> None:
        import numpy as np

        weights = ctx.config.get("sample_weights")
        pred = predictor_for(ctx.model)
        ctx.y_pred = as_array(_predictions(ctx, pred.predict))
        _sklearn_score(ctx, pred.raw_sklearn, weights, outcome)
        y = np.asarray(ctx.data.labels)
        outcome.values.update(_values(m.regressor_metrics(y, ctx.y_pred, weights)))


class ClassifierEvaluator(BuiltInEvaluator):
    """Binary and multiclass metrics and plots. Same as MLflow's ``classifier`` evaluator."""

    name = "classifier"

    @classmethod
    def can_evaluate(
        cls, *, model_type: str | None, evaluator_config: dict[str, Any], **kwargs: Any
    ) -> bool:
        return model_type == CLASSIFIER

    def compute_builtin(self, ctx: Context, outcome: Outcome) -> None:
        import numpy as np

        cfg = ctx.config
        y_true = np.asarray(ctx.data.labels)
        label_list, pos_label = cfg.get("label_list"), cfg.get("pos_label")
        weights = cfg.get("sample_weights")
        if pos_label and label_list and pos_label not in label_list:
            raise InvalidParameterValue(
                f"'pos_label' {pos_label} must exist in 'label_list' {label_list}."
            )
        pred = predictor_for(ctx.model)
        y_pred = as_array(_predictions(ctx, pred.predict))
        ctx.y_pred = y_pred
        probs = None
        if ctx.model is not None and pred.predict_proba is not None:
            probs = np.asarray(pred.predict_proba(ctx.data.features))
        labels = (
            np.unique(np.concatenate([np.unique(y_true), np.unique(y_pred)]))
            if label_list is None
            else np.array(label_list)
        )
        if len(labels) < 2:
            raise InvalidParameterValue(
                "Evaluation dataset for classification must contain at least two unique labels, "
                f"but only {len(labels)} unique labels were found. Please provide a "
                "'label_list' parameter in 'evaluator_config' with all possible classes, e.g., "
                "evaluator_config={'label_list': [0, 1]}."
            )
        labels.sort()
        _sklearn_score(ctx, pred.raw_sklearn, weights, outcome)
        if len(labels) == 2:
            self._binary(ctx, outcome, y_true, y_pred, probs, labels, pos_label, weights)
        else:
            self._multiclass(ctx, outcome, y_true, y_pred, probs, labels, weights)
        matrix = m.confusion_counts(y_true, y_pred, self.labels).astype("float64")
        if weights is not None:
            matrix = self._weighted_matrix(y_true, y_pred, weights)
        with np.errstate(invalid="ignore", divide="ignore"):
            normalized = np.nan_to_num(matrix / matrix.sum(axis=1, keepdims=True))
        if plots.available():
            _image(
                ctx,
                outcome,
                "confusion_matrix",
                lambda p: plots.confusion_matrix(normalized, list(self.labels), p),
            )
        else:
            outcome.skipped.append(f"the confusion_matrix image: {_INSTALL}")

    def _weighted_matrix(self, y_true: Any, y_pred: Any, weights: Any) -> Any:
        import numpy as np

        k = len(self.labels)
        t, p = m.codes(y_true, self.labels), m.codes(y_pred, self.labels)
        keep = (t >= 0) & (p >= 0)
        w = np.asarray(weights, dtype="float64")[keep]
        return np.bincount(t[keep] * k + p[keep], weights=w, minlength=k * k).reshape(k, k)

    def _binary(
        self,
        ctx: Context,
        outcome: Outcome,
        y_true: Any,
        y_pred: Any,
        probs: Any,
        labels: Any,
        pos_label: Any,
        weights: Any,
    ) -> None:
        import numpy as np

        pos_index = 1
        if pos_label is not None and pos_label in labels:
            pos_index = int(np.where(labels == pos_label)[0][0])
        if pos_label is None:
            pos_label = labels[-1]
        else:
            labels = np.append(np.delete(labels, np.where(labels == pos_label)), pos_label)
        self.labels = labels
        numbers = m.binary_metrics(y_true, y_pred, labels, pos_label, weights)
        if probs is not None:
            numbers["log_loss"] = m.log_loss(y_true, probs, labels, weights)
            numbers.update(m.binary_auc(y_true, probs[:, pos_index], pos_label, weights))
        outcome.values.update(_values(numbers))
        if probs is None:
            return
        if not plots.available():
            outcome.skipped.append(f"the {', '.join(plots.BINARY_CURVES)} images: {_INSTALL}")
            return
        from sklearn import metrics as sk

        scores = probs[:, pos_index]
        roc_auc, ap = numbers["roc_auc"], numbers["precision_recall_auc"]

        def roc(path: str) -> None:
            fpr, tpr, _ = sk.roc_curve(y_true, scores, pos_label=pos_label, sample_weight=weights)
            plots.curves([(f"AUC={roc_auc:.3f}", fpr, tpr)], "roc", pos_label, path)

        def pr(path: str) -> None:
            prec, rec, _ = sk.precision_recall_curve(
                y_true, scores, pos_label=pos_label, sample_weight=weights
            )
            plots.curves([(f"AP={ap:.3f}", rec, prec)], "pr", pos_label, path)

        positive = (y_true == pos_label).astype("int64")
        bins = int(ctx.config.get("calibration_n_bins", 10))
        _image(ctx, outcome, "roc_curve_plot", roc)
        _image(ctx, outcome, "precision_recall_curve_plot", pr)
        _image(
            ctx,
            outcome,
            "lift_curve_plot",
            lambda p: plots.lift_curve(y_true, scores, pos_label, p),
        )
        _image(
            ctx,
            outcome,
            "calibration_curve_plot",
            lambda p: plots.calibration_curve([(str(pos_label), positive, scores)], bins, p),
        )

    def _multiclass(
        self,
        ctx: Context,
        outcome: Outcome,
        y_true: Any,
        y_pred: Any,
        probs: Any,
        labels: Any,
        weights: Any,
    ) -> None:
        import pandas as pd

        self.labels = labels
        average = ctx.config.get("average", "weighted")
        numbers = m.multiclass_metrics(y_true, y_pred, average, weights)
        if probs is not None:
            numbers["log_loss"] = m.log_loss(y_true, probs, labels, weights)
            if average in ("macro", "weighted"):
                numbers["roc_auc"] = m.multiclass_roc_auc(y_true, probs, average, weights)
        outcome.values.update(_values(numbers))
        table = pd.DataFrame(m.per_class_rows(y_true, y_pred, labels, weights))
        limit = ctx.config.get("max_classes_for_multiclass_roc_pr", 10)
        curves = probs is not None and len(labels) <= limit
        if probs is not None and not curves:
            _logger.warning(
                "The classifier num_classes > %s, skip logging ROC curve and "
                "Precision-Recall curve.",
                limit,
            )
        draw = plots.available()
        if curves:
            self._per_class_curves(ctx, outcome, y_true, probs, labels, weights, table, draw)
        stage_csv(ctx, outcome, table, "per_class_metrics")
        if probs is not None:
            if draw:
                bins = int(ctx.config.get("calibration_n_bins", 10))
                series = [
                    (f"label={c}", (y_true == c).astype("int64"), probs[:, i])
                    for i, c in enumerate(labels)
                ]
                _image(
                    ctx,
                    outcome,
                    "calibration_curve_plot",
                    lambda p: plots.calibration_curve(series, bins, p),
                )
            else:
                outcome.skipped.append(f"the calibration_curve_plot image: {_INSTALL}")

    def _per_class_curves(
        self,
        ctx: Context,
        outcome: Outcome,
        y_true: Any,
        probs: Any,
        labels: Any,
        weights: Any,
        table: Any,
        draw: bool,
    ) -> None:
        from sklearn import metrics as sk

        rocs, prs, roc_auc, ap = [], [], [], []
        for i, c in enumerate(labels):
            y_bin = (y_true == c).astype("int64")
            roc_auc.append(float(sk.roc_auc_score(y_bin == 1, probs[:, i], sample_weight=weights)))
            ap.append(
                float(
                    sk.average_precision_score(
                        y_bin, probs[:, i], pos_label=1, sample_weight=weights
                    )
                )
            )
            if draw:
                fpr, tpr, _ = sk.roc_curve(y_bin, probs[:, i], sample_weight=weights)
                prec, rec, _ = sk.precision_recall_curve(y_bin, probs[:, i], sample_weight=weights)
                rocs.append((f"label={c},AUC={roc_auc[-1]:.3f}", fpr, tpr))
                prs.append((f"label={c},AP={ap[-1]:.3f}", rec, prec))
        table["roc_auc"] = roc_auc
        table["precision_recall_auc"] = ap
        if draw:
            _image(ctx, outcome, "roc_curve_plot", lambda p: plots.curves(rocs, "roc", None, p))
            _image(
                ctx,
                outcome,
                "precision_recall_curve_plot",
                lambda p: plots.curves(prs, "pr", None, p),
            )
        else:
            outcome.skipped.append(
                f"the roc_curve_plot, precision_recall_curve_plot images: {_INSTALL}"
            )
