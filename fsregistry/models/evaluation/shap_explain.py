"""The ``shap`` evaluator: SHAP explainability plots for classifiers and regressors.

MLflow 3's default evaluation runs a separate ``shap`` evaluator next to the classifier or
regressor one when ``log_model_explainability`` is true (the default). It draws three images,
``shap_beeswarm_plot``, ``shap_summary_plot`` and ``shap_feature_importance_plot`` (PNG, with
``metric_prefix`` in front), from the SHAP values of a sample of the features. The same here:

- sample ``explainability_nsamples`` rows (default 2,000) with ``shap.sample(...,
  random_state=0)``, missing values filled with each column's mean (continuous columns) or mode;
- the explainer: ``explainability_algorithm`` (``exact``, ``permutation``, ``partition`` or
  ``kernel``; anything else is an INVALID_PARAMETER_VALUE error naming the supported ones) over
  the model's predict function; by default ``shap.Explainer`` picks one, given the raw model
  (scikit-learn, XGBoost, LightGBM) for a regressor or binary classifier that is not a
  scikit-learn ``Pipeline``, else the predict function. ``kernel`` uses a 2,000-row background
  sampled with ``random_state=3`` and ``explainability_kernel_link`` (``identity``/``logit``);
- skipped, with the reason recorded in the evaluation's notes and a warning, when: shap or
  matplotlib is not installed, there is no model (static predictions), labels are not numeric
  or boolean, a feature is not numeric (except for ``kernel``), or SHAP fails on the data
  (re-raised with ``ignore_exceptions=False``, as in MLflow);
- ``log_explainer=True`` is not supported (fsregistry has no ``shap`` model flavor): a warning.

Differs from MLflow: the kernel explainer is shap's own ``KernelExplainer`` (MLflow patches it),
so kernel SHAP values may differ slightly; the images' names and presence are the same.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.evaluation.base import CLASSIFIER, REGRESSOR
from fsregistry.models.evaluation.evaluator import (
    BuiltInEvaluator,
    Context,
    Outcome,
    PendingFile,
    predictor_for,
)

_logger = logging.getLogger(__name__)

SUPPORTED_ALGORITHMS = ("exact", "permutation", "partition", "kernel")
DEFAULT_SAMPLE_ROWS = 2000
PLOTS = ("shap_beeswarm_plot", "shap_summary_plot", "shap_feature_importance_plot")
#: Raw-model loaders whose native model shap's tree/linear explainers understand.
_RAW_LOADERS = ("mlflow.sklearn", "mlflow.xgboost", "mlflow.lightgbm")


def _skip(outcome: Outcome, reason: str) -> None:
    _logger.warning("Skipping model explainability: %s", reason)
    outcome.skipped.append(f"model explainability ({', '.join(PLOTS)}): {reason}")


def _raw_model(model: Any) -> Any:
    if getattr(model, "loader_module", None) in _RAW_LOADERS:
        try:
            return model.get_raw_model()
        except (AttributeError, TypeError):
            return None
    return None


def _fill_values(df: Any) -> dict[str, Any]:
    """Mean of each continuous column (floats once pandas' ``convert_dtypes`` has turned
    whole-number floats into integers, as MLflow decides), mode of the others."""
    out: dict[str, Any] = {}
    for col in df.columns:
        series = df[col]
        if series.convert_dtypes().dtype.name.lower().startswith("float"):
            out[col] = series.mean()
        else:
            modes = series.mode()
            if len(modes):
                out[col] = modes.iloc[0]
    return out


def _as_frame(x: Any, predict: Any, names: list[str]) -> Any:
    """shap calls the predict function with arrays: give the model its named columns."""
    import pandas as pd

    frame = x if isinstance(x, pd.DataFrame) else pd.DataFrame(x, columns=names)
    return predict(frame)


def _explainer(ctx: Context, shap: Any, predict: Any, sampled: Any, frame: Any) -> Any:
    algorithm = ctx.config.get("explainability_algorithm")
    names = ctx.data.feature_names
    fn = functools.partial(_as_frame, predict=predict, names=names)
    if algorithm == "kernel":
        link = ctx.config.get("explainability_kernel_link", "identity")
        if link not in ("identity", "logit"):
            raise ValueError(
                "explainability_kernel_link config can only be set to 'identity' or 'logit', "
                f"but got '{link}'."
            )
        nsamples = ctx.config.get("explainability_nsamples", DEFAULT_SAMPLE_ROWS)
        background = shap.sample(frame, nsamples, random_state=3).fillna(_fill_values(frame))
        return shap.KernelExplainer(fn, background, link=link)
    if algorithm:
        return shap.Explainer(fn, sampled, feature_names=names, algorithm=algorithm)
    raw = _raw_model(ctx.model)
    labels = ctx.config.get("label_list")
    if labels is None:
        import numpy as np

        y_pred = predict(frame.copy())
        labels = np.unique(np.concatenate([np.asarray(ctx.data.labels), np.asarray(y_pred)]))
    from sklearn.pipeline import Pipeline

    if raw is not None and len(labels) <= 2 and not isinstance(raw, Pipeline):
        return shap.Explainer(raw, sampled, feature_names=names)
    return shap.Explainer(fn, sampled, feature_names=names)


def _draw(ctx: Context, outcome: Outcome, name: str, plot: Any) -> None:
    """One pyplot-drawing shap plot saved as ``name``.png (failures warn, as in MLflow)."""
    import os

    from matplotlib import pyplot

    from fsregistry.models.evaluation.artifacts import ImageEvaluationArtifact

    path = ctx.image_path(name)
    before = set(pyplot.get_fignums())
    pyplot.figure()
    try:
        plot()
        for ax in pyplot.gcf().axes[1:]:  # the colour bar: thin, full height
            ax.set_aspect("auto")
            ax.set_box_aspect(50)
        pyplot.gcf().savefig(path, bbox_inches="tight")
    except (ValueError, TypeError, IndexError) as exc:
        _logger.warning("Failed to log image artifact %r: %r", name, exc)
        return
    finally:  # close what this plot opened, never the caller's own figures
        for number in set(pyplot.get_fignums()) - before:
            pyplot.close(number)
    outcome.files.append(PendingFile(name, os.path.basename(path), path, ImageEvaluationArtifact))


class ShapEvaluator(BuiltInEvaluator):
    """MLflow's ``shap`` evaluator (see the module doc)."""

    name = "shap"

    @classmethod
    def can_evaluate(
        cls, *, model_type: str | None, evaluator_config: dict[str, Any], **kwargs: Any
    ) -> bool:
        return model_type in (CLASSIFIER, REGRESSOR) and bool(
            evaluator_config.get("log_model_explainability", True)
        )

    def compute_builtin(self, ctx: Context, outcome: Outcome) -> None:
        import numpy as np

        algorithm = ctx.config.get("explainability_algorithm")
        if algorithm is not None and algorithm not in SUPPORTED_ALGORITHMS:
            raise InvalidParameterValue(
                f"Specified explainer algorithm {algorithm} is unsupported. Currently only "
                f"support {','.join(SUPPORTED_ALGORITHMS)} algorithms."
            )
        predict = predictor_for(ctx.model).predict
        if predict is None:
            _skip(outcome, "there is no model to explain (static predictions)")
            return
        labels = ctx.data.labels
        if labels is None or not (
            np.issubdtype(labels.dtype, np.number) or labels.dtype == np.bool_
        ):
            _skip(outcome, "it requires all label values to be numeric or boolean")
            return
        frame = ctx.data.features
        if algorithm != "kernel" and not all(np.issubdtype(t, np.number) for t in frame.dtypes):
            _skip(
                outcome,
                f"the shap explainer {algorithm} requires all feature values to be numeric, "
                "and each feature column must only contain scalar values",
            )
            return
        from fsregistry.models.evaluation import plots

        try:
            import shap
        except ImportError:
            shap = None
        if shap is None or not plots.available():
            _skip(
                outcome,
                "shap or matplotlib is not installed (pip install 'fsregistry[evaluate]')",
            )
            return
        nsamples = ctx.config.get("explainability_nsamples", DEFAULT_SAMPLE_ROWS)
        sampled = shap.sample(frame, nsamples, random_state=0).fillna(_fill_values(frame))
        try:
            explainer = _explainer(ctx, shap, predict, sampled, frame)
            values = explainer(sampled)
        except Exception as exc:  # shap fails on some data/models: MLflow warns and goes on
            if not ctx.config.get("ignore_exceptions", True):
                raise
            _skip(outcome, f"Shap evaluation failed. Reason: {exc!r}")
            return
        if ctx.config.get("log_explainer", False):
            _logger.warning(
                "log_explainer=True is not supported: fsregistry has no shap model flavor; "
                "the explainer was not logged"
            )
        _draw(ctx, outcome, PLOTS[0], lambda: shap.plots.beeswarm(values, show=False))
        _draw(ctx, outcome, PLOTS[1], lambda: shap.summary_plot(values, show=False))
        _draw(ctx, outcome, PLOTS[2], lambda: shap.plots.bar(values, show=False))
