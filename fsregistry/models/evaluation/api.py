"""``evaluate``: MLflow 3's ``mlflow.models.evaluate`` for classic ML models.

Order of work (all-or-nothing for the built-ins): check the arguments, load the model, split
the data, compute every built-in evaluator's metrics and files; only then open the run (the
active one, or a new one that is ended when ``evaluate`` returns), log the dataset as a run
input (``mlflow.data.context`` = the ``metric_prefix``, as MLflow tags it), the metrics and the
artifacts, and run plugin evaluators (which log themselves). A failure before logging leaves no
run and no file behind.

MLflow 3's LoggedModel link: the model is ``model_id=``, else the one a ``models:/<model_id>``
or ``models:/<name>/<version>`` URI or a PyFuncModel carries, else the active model (a
``model_id`` contradicting the model's raises INVALID_PARAMETER_VALUE before any work). With a
model, it is recorded as an input of the run and the metrics are logged to it too, naming the
dataset and the run (not a second time to the run, as MLflow's ``log_metrics(model_id=)``
does).

Differences from MLflow 3.17: GenAI model types and deployment endpoint URIs raise (out of
scope); ``env_manager`` must be ``"local"``; the deprecated MLflow 2 arguments
``custom_metrics``, ``validation_thresholds`` and ``baseline_model`` are accepted with a
``FutureWarning`` (MLflow 3 removed them), with ``baseline_config`` (the baseline's
``model_config``). There fsregistry departs from MLflow 2.22 on purpose: thresholds given without
a baseline are still checked (2.22 silently ignores them), the baseline is evaluated without
being logged (2.22 logs its metrics and plots into the candidate's run, over the candidate's),
and on success the candidate's result is returned (2.22 returns None). A failed threshold
raises :class:`~fsregistry.exceptions.ModelValidationFailedException` listing each failure, after
the candidate's results are logged.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from collections.abc import Callable
from numbers import Number
from typing import Any

from fsregistry.exceptions import InvalidParameterValue, MlflowException
from fsregistry.models.evaluation import registry
from fsregistry.models.evaluation.base import (
    CLASSIFIER,
    GENAI_MODEL_TYPES,
    REGRESSOR,
    EvaluationMetric,
    EvaluationResult,
)
from fsregistry.models.evaluation.dataset import EvalData, dataset_input, to_eval_data
from fsregistry.models.evaluation.evaluator import BuiltInEvaluator, Context, log_outcome
from fsregistry.models.evaluation.validation import (
    MetricThreshold,
    check_thresholds_argument,
    validate_metrics,
)

_logger = logging.getLogger(__name__)


class _FunctionModel:
    """A plain callable used as a model (MLflow wraps it in a PythonModel)."""

    def __init__(self, fn: Callable[[Any], Any]) -> None:
        import uuid

        self._fn = fn
        # MLflow wraps a function in a model with a fresh MLmodel, hence a fresh model_uuid.
        self.model_uuid = uuid.uuid4().hex

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self._fn(data)


def _load_model(model: Any, env_manager: str, model_config: dict[str, Any] | None) -> Any:
    from fsregistry.pyfunc import PyFuncModel, load_model

    if env_manager != "local":
        raise InvalidParameterValue(
            f"env_manager={env_manager!r} is not supported by fsregistry.evaluate: only "
            "'local' (evaluate in this Python environment)"
        )
    if isinstance(model, str):
        if model.startswith(("endpoints:/", "apps:/")):
            raise InvalidParameterValue(
                f"Deployment endpoint models ({model!r}) are out of scope for fsregistry."
            )
        return load_model(model, model_config=model_config)
    if isinstance(model, PyFuncModel):
        if model_config:
            raise InvalidParameterValue(
                "Indicating ``model_config`` when passing a `PyFuncModel`` object as model "
                "argument is not allowed. If you need to change the model configuration for the "
                "evaluation model, use ``mlflow.pyfunc.load_model(model_uri, "
                "model_config=<value>)`` and indicate the desired configuration there."
            )
        return model
    if callable(model):
        return _FunctionModel(model)
    if model is not None:
        raise InvalidParameterValue(
            "The model argument must be a string URI referring to an MLflow model, an MLflow "
            "Deployments endpoint URI, an instance of `mlflow.pyfunc.PyFuncModel`, a function, "
            f"or None. Got: {type(model).__name__}."
        )
    return None


def resolve_evaluators(
    evaluators: str | list[str] | None, config: dict[str, Any] | None, model_type: str | None
) -> list[tuple[str, Any, dict[str, Any]]]:
    """``(name, evaluator, config)`` for each evaluator to run (MLflow's resolution rules)."""
    names = registry.list_evaluators()
    if evaluators is None:
        config = config or {}
        per = config if any(n in config for n in names) else dict.fromkeys(names, config)
        out = [(n, registry.get_evaluator(n), per.get(n, {})) for n in names]
        out = [e for e in out if e[1].can_evaluate(model_type=model_type, evaluator_config=e[2])]
        default = next((e for e in out if e[0] == "default"), None)
        others = [e for e in out if e[0] != "default" and registry.is_builtin(e[0])]
        if default is not None and others:
            out.remove(default)
            out = [
                (n, ev, c or default[2]) if registry.is_builtin(n) else (n, ev, c)
                for n, ev, c in out
            ]
        return out
    if isinstance(evaluators, str):
        if config is not None and not isinstance(config, dict):
            raise InvalidParameterValue(
                "If `evaluators` argument is the name of an evaluator, evaluator_config must be "
                "None or a dict containing config items for the evaluator."
            )
        if evaluators == "default":
            return _builtins_for(model_type, config or {})
        if registry.is_registered(evaluators):
            return [(evaluators, registry.get_evaluator(evaluators), config or {})]
        return []
    if isinstance(evaluators, list):
        if config is not None and not (
            isinstance(config, dict)
            and all(k in evaluators and isinstance(v, dict) for k, v in config.items())
        ):
            raise InvalidParameterValue(
                "If `evaluators` argument is an evaluator name list, evaluator_config must be a "
                "dict containing mapping from evaluator name to individual evaluator config dict."
            )
        out = []
        for name in evaluators:
            conf = (config or {}).get(name, {})
            if name == "default":
                out.extend(_builtins_for(model_type, conf))
            else:
                out.append((name, registry.get_evaluator(name), conf))
        return out
    raise InvalidParameterValue(
        "Invalid `evaluators` and `evaluator_config` arguments. Please refer to the "
        "documentation for correct usage."
    )


def _builtins_for(
    model_type: str | None, conf: dict[str, Any]
) -> list[tuple[str, Any, dict[str, Any]]]:
    out = []
    for name in registry.list_evaluators():
        ev = registry.get_evaluator(name)
        if (
            name != "default"
            and registry.is_builtin(name)
            and ev.can_evaluate(model_type=model_type, evaluator_config=conf)
        ):
            out.append((name, ev, conf))
    return out or [("default", registry.get_evaluator("default"), conf)]


def _check_arguments(
    model_type: str | None,
    data: Any,
    targets: Any,
    extra_metrics: list[EvaluationMetric] | None,
    inference_params: dict[str, Any] | None,
) -> None:
    if model_type in GENAI_MODEL_TYPES:
        raise InvalidParameterValue(
            f"model_type={model_type!r} is a GenAI model type, which is out of scope for "
            "fsregistry.evaluate (classic ML only: 'classifier', 'regressor', or None with "
            "extra_metrics). Use MLflow's mlflow.genai.evaluate for GenAI evaluation."
        )
    if inference_params is not None:
        raise InvalidParameterValue(
            "The inference_params argument can only be specified when the model is an MLflow "
            "Deployments endpoint URI like `endpoints:/my-chat`"
        )
    if data is None:
        raise InvalidParameterValue("The data argument cannot be None.")
    if model_type in (REGRESSOR, CLASSIFIER):
        has_dataset_targets = getattr(data, "targets", None) is not None and hasattr(data, "df")
        if targets is None and not has_dataset_targets:
            raise InvalidParameterValue(
                f"The targets argument must be specified for {model_type} models."
            )
    elif model_type is None and not extra_metrics:
        raise InvalidParameterValue(
            "The extra_metrics argument must be specified model_type is None."
        )
    bad = [x for x in (extra_metrics or []) if not isinstance(x, EvaluationMetric)]
    if bad:
        listed = "\n".join(f"- Metric '{x}' has type '{type(x).__name__}'" for x in bad)
        raise InvalidParameterValue(
            "In the 'extra_metrics' parameter, the following metrics have the wrong type:\n"
            f"{listed}\nPlease ensure that all extra metrics are instances of "
            "mlflow.metrics.EvaluationMetric."
        )


def evaluate(
    model: Any = None,
    data: Any = None,
    *,
    model_type: str | None = None,
    targets: Any = None,
    predictions: str | None = None,
    dataset_path: str | None = None,
    feature_names: list[str] | None = None,
    evaluators: str | list[str] | None = None,
    evaluator_config: dict[str, Any] | None = None,
    extra_metrics: list[EvaluationMetric] | None = None,
    custom_artifacts: list[Callable[..., Any]] | None = None,
    env_manager: str = "local",
    model_config: dict[str, Any] | None = None,
    inference_params: dict[str, Any] | None = None,
    model_id: str | None = None,
    custom_metrics: list[EvaluationMetric] | None = None,
    validation_thresholds: dict[str, MetricThreshold] | None = None,
    baseline_model: Any = None,
    baseline_config: dict[str, Any] | None = None,
) -> EvaluationResult:
    """Evaluate a model on data and log metrics/artifacts to the run. Differs: no GenAI model
    types or endpoints, ``env_manager="local"`` only, MLflow 2's deprecated arguments kept."""
    if (
        custom_metrics is not None
        or validation_thresholds is not None
        or baseline_model is not None
    ):
        warnings.warn(
            "`custom_metrics`, `validation_thresholds` and `baseline_model` are deprecated "
            "(removed in MLflow 3): use `extra_metrics` and "
            "`fsregistry.validate_evaluation_results` instead.",
            FutureWarning,
            stacklevel=2,
        )
        extra_metrics = [*(extra_metrics or []), *(custom_metrics or [])]
        if validation_thresholds is not None:
            check_thresholds_argument(validation_thresholds)
    if isinstance(evaluator_config, dict):
        mapping = evaluator_config.get("col_mapping", {}) or {}
        targets = mapping.get(targets, targets) if isinstance(targets, str) else targets
        predictions = (
            mapping.get(predictions, predictions) if isinstance(predictions, str) else predictions
        )
    _check_arguments(model_type, data, targets, extra_metrics, inference_params)
    loaded = _load_model(model, env_manager, model_config)
    model_id = _linked_model_id(model, model_id)
    resolved = resolve_evaluators(evaluators, evaluator_config, model_type)
    eval_data = to_eval_data(
        data,
        targets=targets,
        predictions=predictions if loaded is None else None,
        feature_names=feature_names,
        path=dataset_path,
    )
    baseline_metrics: dict[str, Any] = {}
    if baseline_model is not None:
        base = _load_model(baseline_model, env_manager, baseline_config)
        baseline_metrics = _compute_only(
            base, model_type, eval_data, resolved, extra_metrics, predictions
        )
    result = _evaluate(
        loaded,
        model_type,
        eval_data,
        resolved,
        extra_metrics,
        custom_artifacts,
        predictions if loaded is not None else None,
        model_id,
    )
    if validation_thresholds:
        validate_metrics(validation_thresholds, result.metrics, baseline_metrics)
    return result


def _linked_model_id(model: Any, specified: str | None) -> str | None:
    """The LoggedModel the results are linked to, as MLflow 3 picks it: ``model_id``, else
    the id a ``models:/<model_id>`` or ``models:/<name>/<version>`` URI or a loaded
    PyFuncModel carries, else the active model; a ``model_id`` contradicting the model's
    raises INVALID_PARAMETER_VALUE."""
    from fsregistry.active_model import get_active_model_id
    from fsregistry.mlruns.uris import is_models_uri, parse_models_uri
    from fsregistry.pyfunc import PyFuncModel

    derived = None
    if isinstance(model, str) and is_models_uri(model):
        parsed = parse_models_uri(model)
        if parsed.model_id is not None:
            derived = parsed.model_id
        elif parsed.name is not None and parsed.version is not None:
            from fsregistry.client import Client

            derived = Client().get_model_version(parsed.name, str(parsed.version)).model_id
    elif isinstance(model, PyFuncModel):
        derived = model.model_id
    if specified is not None and derived is not None and specified != derived:
        raise InvalidParameterValue(
            f"The specified value of the 'model_id' parameter '{specified}' contradicts the "
            f"model_id '{derived}' associated with the model. Please ensure they match or omit "
            "the 'model_id' parameter."
        )
    return specified or derived or get_active_model_id()


def _compute_only(
    model: Any,
    model_type: str | None,
    data: EvalData,
    resolved: list[tuple[str, Any, dict[str, Any]]],
    extra_metrics: list[EvaluationMetric] | None,
    predictions: str | None,
) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _, ev, conf in resolved:
            if isinstance(ev, BuiltInEvaluator):
                ctx = Context(
                    model, model_type, data, conf, list(extra_metrics or []), [], predictions, tmp
                )
                metrics.update(ev.compute(ctx).metrics)
    return metrics


def _computed(name: str, evaluator: BuiltInEvaluator, ctx: Context) -> Any:
    """``evaluator.compute(ctx)``, with scikit-learn's and numpy's argument errors (labels that
    do not match the probabilities, a bad ``average``...) raised as INVALID_PARAMETER_VALUE."""
    try:
        return evaluator.compute(ctx)
    except MlflowException:
        raise
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise InvalidParameterValue(f"The {name!r} evaluator failed: {exc!r}") from exc


def _evaluate(
    model: Any,
    model_type: str | None,
    data: EvalData,
    resolved: list[tuple[str, Any, dict[str, Any]]],
    extra_metrics: list[EvaluationMetric] | None,
    custom_artifacts: list[Callable[..., Any]] | None,
    predictions: str | None,
    model_id: str | None,
) -> EvaluationResult:
    from fsregistry.client import Client
    from fsregistry.fluent import active_run, end_run, start_run

    merged = EvaluationResult({}, {}, None)
    runnable = [
        (n, ev, c)
        for n, ev, c in resolved
        if ev.can_evaluate(model_type=model_type, evaluator_config=c)
    ]
    if not runnable:
        raise InvalidParameterValue(
            "The model could not be evaluated by any of the registered evaluators, please "
            "verify that the model type and other configs are set correctly."
        )
    with tempfile.TemporaryDirectory() as tmp:
        outcomes = []
        for name, ev, conf in runnable:
            if isinstance(ev, BuiltInEvaluator):
                ctx = Context(
                    model,
                    model_type,
                    data,
                    conf,
                    list(extra_metrics or []),
                    list(custom_artifacts or []),
                    predictions,
                    tmp,
                )
                outcomes.append(_computed(name, ev, ctx))
        started = active_run() is None
        run = start_run() if started else active_run()
        assert run is not None
        run_id = run.info.run_id
        status = "FAILED"
        try:
            context = next(
                (
                    c.get("metric_prefix")
                    for n, _, c in resolved
                    if registry.is_builtin(n) and c.get("metric_prefix")
                ),
                None,
            )
            evaluated = dataset_input(data, context)
            Client().log_inputs(run_id, [evaluated])
            _log_datasets_tag(run_id, model, data)
            if model_id is not None:  # MLflow 3: the model is an input of the run too
                Client().store.log_model_inputs(run_id, [model_id])
            for outcome in outcomes:
                for key, value in log_outcome(run_id, outcome, data).items():
                    merged.artifacts[key] = value
                merged.metrics.update(outcome.metrics)
            for _name, ev, conf in runnable:
                if isinstance(ev, BuiltInEvaluator):
                    continue
                got = ev.evaluate(
                    model=model,
                    model_type=model_type,
                    dataset=data,
                    run_id=run_id,
                    evaluator_config=conf,
                    extra_metrics=extra_metrics,
                    custom_artifacts=custom_artifacts,
                    predictions=predictions,
                    model_id=model_id,
                )
                if got is not None:
                    merged.metrics.update(got.metrics)
                    merged.artifacts.update(got.artifacts)
            if model_id is not None:
                _log_model_metrics(run_id, model_id, merged.metrics, evaluated)
            status = "FINISHED"
        finally:
            if started:
                end_run(status)
    merged._run_id = run_id
    return merged


def _log_datasets_tag(run_id: str, model: Any, data: EvalData) -> None:
    """MLflow's ``mlflow.datasets`` run tag: the (dataset, model) pairs evaluated on the run
    (none for static predictions, which have no model)."""
    from fsregistry.client import Client
    from fsregistry.models.evaluation.dataset_tag import TAG, tag_value

    meta = getattr(model, "metadata", None)
    uuid = getattr(meta, "model_uuid", None) or getattr(model, "model_uuid", None)
    if not isinstance(uuid, str):
        return
    client = Client()
    value = tag_value(client.get_run(run_id).data.tags.get(TAG), data, uuid)
    if value is not None:
        client.set_tag(run_id, TAG, value)


def _log_model_metrics(run_id: str, model_id: str, metrics: dict[str, Any], data: Any) -> None:
    """MLflow 3: the evaluation metrics also go to the LoggedModel, naming the dataset and
    the run. Differs: written to the model only (MLflow's ``log_metrics(model_id=)`` appends
    them to the run a second time, duplicating its history)."""
    from fsregistry.client import Client
    from fsregistry.entities import Metric
    from fsregistry.mlruns.metafile import now_ms

    ts = now_ms()
    name, digest = data.dataset.name, data.dataset.digest
    found = [
        Metric(k, float(v), ts, 0, name, digest, run_id, model_id)  # type: ignore[arg-type]
        for k, v in metrics.items()
        if isinstance(v, Number) and not isinstance(v, bool)
    ]
    if found:
        Client().store.log_model_metrics(model_id, found)
