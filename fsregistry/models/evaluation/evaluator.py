"""What every built-in evaluator shares: the model's predict functions, custom metrics,
custom artifacts, the metric prefix, and logging to the run.

Protocol: an evaluation is computed completely first (:meth:`BuiltInEvaluator.compute`: metric
values, image/CSV/JSON files in a temporary directory) and logged afterwards
(:func:`log_outcome`), so a model or metric that raises leaves the run untouched.

Custom metrics (``extra_metrics``) get their arguments by parameter name, as in MLflow:
``predictions``, ``targets``, ``metrics`` (the :class:`MetricValue` dict so far), a feature
column, an ``evaluator_config`` key, or another metric's value (``col_mapping`` in
``evaluator_config`` renames); a metric that needs another is run after it; a function of two
other parameters gets ``(eval_df, builtin_metrics)`` (the legacy form). A number result becomes
``MetricValue(aggregate_results={name: value})``; per-row scores add an
``eval_results_table`` artifact. ``custom_artifacts`` functions get ``(eval_df, metrics,
artifacts_dir)`` and return ``{name: value}`` (see :mod:`.artifacts` for the kinds).
"""

from __future__ import annotations

import copy
import inspect
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fsregistry.exceptions import InvalidParameterValue, MlflowException
from fsregistry.models.evaluation.artifacts import (
    CsvEvaluationArtifact,
    JsonEvaluationArtifact,
    infer_artifact,
    write_artifact,
)
from fsregistry.models.evaluation.base import (
    EvaluationArtifact,
    EvaluationMetric,
    EvaluationResult,
    MetricValue,
    ModelEvaluator,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from fsregistry.models.evaluation.dataset import EvalData

_logger = logging.getLogger(__name__)

_EVAL_TABLE = "eval_results_table.json"
_LOGGED_ARTIFACTS_TAG = "mlflow.loggedArtifacts"


@dataclass
class Predictor:
    """How to score the model: ``predict``, optional ``predict_proba``, the raw scikit-learn
    estimator (for ``score``) when the model is an sklearn flavor."""

    predict: Callable[[Any], Any] | None
    predict_proba: Callable[[Any], Any] | None = None
    raw_sklearn: Any = None


def predictor_for(model: Any) -> Predictor:
    """The predict functions MLflow's evaluators use for ``model`` (the raw estimator's own
    ``predict``/``predict_proba`` for scikit-learn models, else ``model.predict``)."""
    if model is None:
        return Predictor(None)
    loader = getattr(model, "loader_module", None)
    if loader == "mlflow.sklearn":
        raw = model.get_raw_model()
        return Predictor(raw.predict, getattr(raw, "predict_proba", None), raw)
    return Predictor(model.predict)


@dataclass
class PendingFile:
    """An artifact written locally, to be logged as ``filename`` at the run's root."""

    name: str
    filename: str
    local_path: str
    kind: type[EvaluationArtifact]
    content: Any = None


@dataclass
class Outcome:
    """A computed evaluation, not yet logged."""

    values: dict[str, MetricValue] = field(default_factory=dict)
    files: list[PendingFile] = field(default_factory=list)
    table: pd.DataFrame | None = None
    table_file: str = _EVAL_TABLE
    skipped: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)


def aggregate(values: dict[str, MetricValue]) -> dict[str, Any]:
    """Scalar metrics from metric values (``name`` or ``name/aggregate``), as MLflow names them."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        for agg, number in (value.aggregate_results or {}).items():
            if number is None:
                continue
            out[name if agg == name.split("/")[0] else f"{name}/{agg}"] = number
    return out


def prefixed(values: dict[str, MetricValue], prefix: str) -> dict[str, MetricValue]:
    """``metric_prefix`` applied to names and aggregate names."""
    if not prefix:
        return values
    return {
        f"{prefix}{k}": MetricValue(
            v.scores,
            v.justifications,
            {f"{prefix}{a}": n for a, n in v.aggregate_results.items()}
            if v.aggregate_results
            else None,
        )
        for k, v in values.items()
    }


def _is_number(value: Any) -> bool:
    import numpy as np

    return isinstance(value, int | float | np.number)


def _checked(metric: EvaluationMetric, index: int, result: Any) -> MetricValue | None:
    header = (
        f"Did not log metric '{metric.name}' at index {index} in the `extra_metrics` "
        "parameter because it"
    )
    if result is None:
        _logger.warning("%s returned None.", header)
        return None
    if _is_number(result):
        return MetricValue(aggregate_results={metric.name: result})
    if not isinstance(result, MetricValue):
        _logger.warning("%s did not return a MetricValue.", header)
        return None
    if result.scores is not None and (
        not isinstance(result.scores, list)
        or any(not (_is_number(s) or isinstance(s, str) or s is None) for s in result.scores)
    ):
        _logger.warning("%s must return MetricValue with numeric or string scores.", header)
        return None
    if result.aggregate_results is not None and (
        not isinstance(result.aggregate_results, dict)
        or any(
            not (isinstance(k, str) and (_is_number(v) or v is None))
            for k, v in result.aggregate_results.items()
        )
    ):
        _logger.warning(
            "%s must return MetricValue with aggregate_results with str keys and numeric values.",
            header,
        )
        return None
    return result


class BuiltInEvaluator(ModelEvaluator):
    """Base of the built-in evaluators: subclasses implement :meth:`compute_builtin`."""

    name = "builtin"

    def compute_builtin(self, ctx: Context, outcome: Outcome) -> None:
        """Predict and add the built-in metrics and artifacts to ``outcome``."""
        raise NotImplementedError

    def compute(self, ctx: Context) -> Outcome:
        """The whole evaluation (built-ins, extra metrics, custom artifacts), not logged."""
        outcome = Outcome()
        self.compute_builtin(ctx, outcome)
        if ctx.y_pred is not None:
            run_extra_metrics(ctx, outcome)
            run_custom_artifacts(ctx, outcome)
        prefix = ctx.config.get("metric_prefix") or ""
        outcome.values = prefixed(outcome.values, prefix if isinstance(prefix, str) else "")
        outcome.metrics = aggregate(outcome.values)
        if ctx.y_pred is not None:
            outcome.table = eval_table(ctx, outcome)
            outcome.table_file = f"{prefix if isinstance(prefix, str) else ''}{_EVAL_TABLE}"
        for note in outcome.skipped:
            _logger.warning("fsregistry.evaluate skipped %s", note)
        return outcome

    def evaluate(
        self,
        *,
        model_type: str | None,
        dataset: Any,
        run_id: str,
        evaluator_config: dict[str, Any],
        model: Any = None,
        extra_metrics: list[EvaluationMetric] | None = None,
        custom_artifacts: list[Callable[..., Any]] | None = None,
        predictions: str | None = None,
        **kwargs: Any,
    ) -> EvaluationResult:
        """Compute and log to ``run_id`` (the plugin interface; ``evaluate`` calls
        :meth:`compute` and :func:`log_outcome` itself)."""
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            ctx = Context(
                model=model,
                model_type=model_type,
                data=dataset,
                config=evaluator_config,
                extra_metrics=list(extra_metrics or []),
                custom_artifacts=list(custom_artifacts or []),
                predictions=predictions,
                tmpdir=tmp,
            )
            outcome = self.compute(ctx)
            artifacts = log_outcome(run_id, outcome, dataset)
        return EvaluationResult(outcome.metrics, artifacts, run_id)


@dataclass
class Context:
    """One evaluator's inputs and the predictions it made."""

    model: Any
    model_type: str | None
    data: EvalData
    config: dict[str, Any]
    extra_metrics: list[EvaluationMetric]
    custom_artifacts: list[Callable[..., Any]]
    predictions: str | None
    tmpdir: str
    y_pred: Any = None
    builtin_values: dict[str, MetricValue] = field(default_factory=dict)

    def image_path(self, name: str) -> str:
        prefix = self.config.get("metric_prefix") or ""
        return os.path.join(self.tmpdir, f"{prefix}{name}.png")


def _eval_df(ctx: Context) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame({"prediction": ctx.y_pred})
    if ctx.data.labels is not None:
        frame["target"] = ctx.data.labels
    return frame


def _bind(
    ctx: Context,
    fn: Callable[..., Any],
    eval_df: pd.DataFrame,
    values: dict[str, MetricValue],
    scheduled: list[str],
) -> tuple[bool, list[Any]]:
    params = inspect.signature(fn).parameters
    names = list(params)
    mapping = ctx.config.get("col_mapping", {}) or {}
    if len(names) == 2 and names[0] != "predictions" and names[1] != "targets":
        return True, [eval_df.copy(), copy.deepcopy(aggregate(values))]
    args: list[Any] = []
    missing: list[str] = []
    features = ctx.data.features
    for pname, param in params.items():
        column = mapping.get(pname, pname)
        if column in ("predictions", ctx.predictions, ctx.data.predictions_name):
            args.append(eval_df["prediction"].copy())
        elif column in ("targets", ctx.data.targets_name):
            if "target" in eval_df:
                args.append(eval_df["target"].copy())
            elif param.default is inspect.Parameter.empty:
                missing.append(pname)
            else:
                args.append(param.default)
        elif column == "metrics":
            args.append(copy.deepcopy(values))
        elif not isinstance(column, str):
            args.append(column)
        elif column in features.columns:
            args.append(features[column].copy())
        elif column in ctx.config:
            args.append(ctx.config[column])
        elif (
            found := next((v for k, v in values.items() if k.split("/")[0] == column), None)
        ) is not None:
            args.append(found)
        elif column in scheduled:
            args.append(None)
        elif param.default is not inspect.Parameter.empty:
            args.append(param.default)
        else:
            missing.append(pname)
    return (not missing), (missing if missing else args)


def _unresolved_metrics_message(
    ctx: Context, eval_df: pd.DataFrame, failed: list[tuple[str, list[Any]]]
) -> str:
    """MLflow's message (default_evaluator's ``_raise_exception_for_malformed_metrics``) for
    metrics whose arguments cannot be found. The output columns are the predictions' only:
    fsregistry does not pass a model's other output columns to metrics."""
    parts = []
    for name, params in failed:
        parts.append(f"Metric '{name}' requires the following:")
        special = [p for p in ("targets", "predictions") if p in params]
        parts += [f"- the '{p}' parameter needs to be specified" for p in special]
        if remaining := [p for p in params if p not in special]:
            parts.append(f"- missing columns {remaining} need to be defined or mapped")
    inputs = list(ctx.data.features.columns)
    if "target" in eval_df:
        inputs.append(ctx.data.targets_name or "targets")
    outputs = [ctx.predictions or ctx.data.predictions_name or "predictions"]
    return "\n".join(
        [
            "Error: Metric calculation failed for the following metrics:",
            *parts,
            "",
            "Below are the existing column names for the input/output data:",
            f"Input Columns: {inputs}",
            f"Output Columns: {outputs}",
            "",
            "To resolve this issue, you may need to:",
            "- specify any required parameters",
            "- if you are missing columns, check that there are no circular dependencies among your",
            "metrics, and you may want to map them to an existing column using the following",
            "configuration:",
            "evaluator_config={'col_mapping': {<missing column name>: <existing column name>}}",
        ]
    )


def run_extra_metrics(ctx: Context, outcome: Outcome) -> None:
    """Evaluate ``extra_metrics`` in dependency order (MLflow's ordering and messages)."""
    if not ctx.extra_metrics:
        return
    eval_df = _eval_df(ctx)
    pending = list(enumerate(ctx.extra_metrics))
    ordered: list[tuple[int, EvaluationMetric]] = []
    while pending:
        waiting, failed = [], []
        for index, metric in pending:
            ok, got = _bind(
                ctx, metric.eval_fn, eval_df, outcome.values, [m.name for _, m in ordered]
            )
            if ok:
                ordered.append((index, metric))
            else:
                waiting.append((index, metric))
                failed.append((metric.name, got))
        if len(waiting) == len(pending):
            raise InvalidParameterValue(_unresolved_metrics_message(ctx, eval_df, failed))
        pending = waiting
    errors = []
    for index, metric in ordered:
        _, args = _bind(ctx, metric.eval_fn, eval_df, outcome.values, [])
        try:
            value = _checked(metric, index, metric.eval_fn(*args))
        except Exception as exc:  # a user's metric: reported with its name, all at once
            errors.append(f"Metric '{metric.name}': Error:\n{exc!r}")
            continue
        if value is not None:
            name = f"{metric.name}/{metric.version}" if metric.version else metric.name
            outcome.values[name] = value
    if errors:
        raise MlflowException("\n".join(errors))


def run_custom_artifacts(ctx: Context, outcome: Outcome) -> None:
    """Call each ``custom_artifacts`` function and stage what it returns."""
    import tempfile

    taken = {os.path.basename(f.local_path) for f in outcome.files}
    for index, fn in enumerate(ctx.custom_artifacts):
        fname = getattr(fn, "__name__", repr(fn))
        header = f"Custom artifact function '{fname}' at index {index} in the `custom_artifacts` parameter"
        with tempfile.TemporaryDirectory() as scratch:
            results = fn(_eval_df(ctx), copy.deepcopy(outcome.values), scratch)
            if results is None:
                _logger.warning("%s returned None.", header)
                continue
            if not isinstance(results, dict) or not all(isinstance(k, str) for k in results):
                _logger.warning(
                    "%s did not return artifacts as a dictionary of string artifact "
                    "names with their corresponding objects.",
                    header,
                )
                continue
            for name, raw in results.items():
                inferred = infer_artifact(name, raw, header)
                filename = name + inferred.ext
                if filename in taken:
                    raise InvalidParameterValue(
                        f"{header} produced an artifact '{name}' that cannot be logged because "
                        "there already exists an artifact with the same name."
                    )
                taken.add(filename)
                local = os.path.join(ctx.tmpdir, filename)
                write_artifact(raw, inferred, local, header, name)
                outcome.files.append(PendingFile(name, filename, local, inferred.kind))


def eval_table(ctx: Context, outcome: Outcome) -> pd.DataFrame | None:
    """The per-row table, when a metric has per-row scores (else None, as in MLflow)."""
    if not any(
        v.scores is not None or v.justifications is not None for v in outcome.values.values()
    ):
        return None
    data = ctx.data.features.copy()
    y_pred = ctx.y_pred.array if hasattr(ctx.y_pred, "array") else ctx.y_pred
    if ctx.data.has_targets:
        data[ctx.data.targets_name or "target"] = ctx.data.labels
        data[ctx.data.predictions_name or ctx.predictions or "outputs"] = y_pred
    else:
        data["outputs"] = y_pred
    for name, value in outcome.values.items():
        if value.scores:
            data[f"{name}/score"] = value.scores
        if value.justifications:
            data[f"{name}/justification"] = value.justifications
    return data


def log_outcome(run_id: str, outcome: Outcome, data: EvalData) -> dict[str, EvaluationArtifact]:
    """Log metrics, files and the table to ``run_id``; return the result's artifacts."""
    import tempfile

    from fsregistry.client import Client
    from fsregistry.entities import Metric

    client = Client()
    uri = client.get_run(run_id).info.artifact_uri.rstrip("/")
    stamp = int(time.time() * 1000)
    digest = data.digest
    client.log_batch(
        run_id,
        metrics=[
            Metric(
                key=k,
                value=float(v),
                timestamp=stamp,
                step=0,
                dataset_name=data.name,
                dataset_digest=digest,
                run_id=run_id,
            )
            for k, v in outcome.metrics.items()
        ],
    )
    artifacts: dict[str, EvaluationArtifact] = {}
    for pending in outcome.files:
        client.log_artifact(run_id, pending.local_path)
        artifact = pending.kind(uri=f"{uri}/{pending.filename}", content=pending.content)
        if pending.content is None:
            artifact._load(pending.local_path)
        artifacts[pending.name] = artifact
    if outcome.table is not None:
        with tempfile.TemporaryDirectory() as tmp:
            local = os.path.join(tmp, outcome.table_file)
            outcome.table.to_json(local, orient="split", index=False, date_format="iso")
            client.log_artifact(run_id, local)
            with open(local) as f:
                content = json.load(f)
        tags = client.get_run(run_id).data.tags
        logged = json.loads(tags.get(_LOGGED_ARTIFACTS_TAG, "[]"))
        entry = {"path": outcome.table_file, "type": "table"}
        if entry not in logged:
            logged.append(entry)
            client.set_tag(run_id, _LOGGED_ARTIFACTS_TAG, json.dumps(logged))
        artifacts["eval_results_table"] = JsonEvaluationArtifact(
            uri=f"{uri}/{outcome.table_file}", content=content
        )
    return artifacts


def stage_csv(ctx: Context, outcome: Outcome, frame: pd.DataFrame, name: str) -> None:
    """Stage a DataFrame as ``<name>.csv`` (no metric prefix, as MLflow names it)."""
    local = os.path.join(ctx.tmpdir, f"{name}.csv")
    frame.to_csv(local, index=False)
    outcome.files.append(PendingFile(name, f"{name}.csv", local, CsvEvaluationArtifact))


def as_array(values: Any) -> np.ndarray:
    """A 1-D numpy view of predictions or labels (Series, list, single-column frame)."""
    import numpy as np
    import pandas as pd

    if isinstance(values, pd.DataFrame):
        values = values.iloc[:, 0]
    if isinstance(values, pd.Series):
        return values.to_numpy()
    array = np.asarray(values)
    return array.reshape(-1) if array.ndim == 2 and array.shape[1] == 1 else array
