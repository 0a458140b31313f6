"""``mlflow.sklearn.autolog`` for fsregistry: patch scikit-learn so ``fit`` logs a run.

Patching (reversible: :func:`autolog` with ``disable=True`` restores every original): the
``fit``, ``fit_transform`` and ``fit_predict`` of every estimator ``sklearn.utils.
all_estimators()`` lists, plus ``GridSearchCV``, ``RandomizedSearchCV`` and ``Pipeline``,
minus ``sklearn.preprocessing``/``impute``/``feature_extraction``/``feature_selection`` and
``ColumnTransformer`` (MLflow's list). Methods behind ``available_if`` descriptors are patched
through the descriptor's ``fn``.

What one outermost ``fit`` logs (fits inside it, e.g. a Pipeline's steps or a search's
candidates, log nothing), as MLflow 3.17 does:

* with no active run, a run is started with the tags ``mlflow.autologging=sklearn`` and
  ``extra_tags`` and ended when ``fit`` returns (FAILED if it raises); with ``exclusive=True``
  a user's active run gets nothing;
* params: ``get_params(deep=True)`` (``deep=False`` for parameter searches), values as
  ``str``, keys over 250 and values over 6,000 characters truncated; ``best_<param>`` for
  searches; tags ``estimator_name`` and ``estimator_class``;
* the training dataset (``log_datasets``, context ``train``, code source);
* metrics, step 0, one timestamp: classifiers ``training_precision_score``,
  ``training_recall_score``, ``training_f1_score`` (``average="weighted"``, or ``"binary"``
  with ``pos_label``), ``training_accuracy_score``, with ``predict_proba``
  ``training_log_loss`` and ``training_roc_auc`` (OvO, weighted); regressors
  ``training_mean_squared_error``, ``training_root_mean_squared_error``,
  ``training_mean_absolute_error``, ``training_r2_score``; both ``training_score`` from
  ``score``; searches ``best_cv_score``; each names the training dataset (built even without
  ``log_datasets``) and is linked to the ``model`` LoggedModel (MLflow 3's ``model_id``);
* the model (``log_models``), logged before the metrics, as an MLflow 3 LoggedModel named
  ``model`` of the run (a run output) through :func:`fsregistry.sklearn.log_model`, with
  the estimator's params (those logged on the run, plus ``best_<param>`` for searches) as
  LoggedModel params, a signature inferred from the first 5 rows (``log_model_signatures``)
  and those rows as input example (``log_input_examples``), registered as
  ``registered_model_name`` (the version records the ``model_id``); searches also log
  ``best_estimator`` with ``best_estimator_.get_params(deep=True)`` as params (log_model
  adds the run's params to both, as MLflow 3's does; ``best_<param>`` are logged on the run
  after both models);
* searches: one child run per candidate (the ``max_tuning_runs`` best by ``rank_test_score``;
  ``None`` for all) with the search's base params updated by the candidate's, its numeric
  ``cv_results_`` columns but ``param*``/``split*`` as metrics (linked to ``best_estimator``
  when the candidate's params are among its params), the dataset, and ``cv_results.csv`` on
  the parent.

Any failure while logging is a warning (none with ``silent=True``); ``fit`` itself always
runs and its result or exception is what the caller sees. Each run also gets
``estimator.html`` and classifiers the plots of :mod:`fsregistry.sklearn.plots`. Differs
from MLflow: a run's metric lines do not name the training dataset (the LoggedModel's do):
MLflow 3 appends its name and digest to each run line too, which MLflow 2.22's file store
refuses as malformed, so fsregistry writes MLflow 2's three fields and both read the run.
"""

from __future__ import annotations

import functools
import logging
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, field
from numbers import Number
from typing import Any

from fsregistry import fluent
from fsregistry.client import PARENT_RUN_ID_TAG
from fsregistry.entities import DatasetInput, InputTag, Metric, Param, RunStatus, RunTag
from fsregistry.mlruns.metafile import now_ms
from fsregistry.mlruns.validation import MAX_ENTITY_KEY_LENGTH, MAX_PARAM_VAL_LENGTH

_logger = logging.getLogger(__name__)

FLAVOR_NAME = "sklearn"
AUTOLOGGING_TAG = "mlflow.autologging"
INPUT_EXAMPLE_ROWS = 5
_FIT_METHODS = ("fit", "fit_transform", "fit_predict")
_EXCLUDED_MODULES = (
    "sklearn.preprocessing",
    "sklearn.impute",
    "sklearn.feature_extraction",
    "sklearn.feature_selection",
)
_EXCLUDED_CLASSES = ("sklearn.compose._column_transformer.ColumnTransformer",)


@dataclass
class AutologConfig:
    """The arguments of the last ``autolog`` call."""

    log_input_examples: bool = False
    log_model_signatures: bool = True
    log_models: bool = True
    log_datasets: bool = True
    exclusive: bool = False
    silent: bool = False
    max_tuning_runs: int | None = 5
    log_post_training_metrics: bool = True
    serialization_format: str = "cloudpickle"
    registered_model_name: str | None = None
    pos_label: Any = None
    extra_tags: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Patch:
    owner: Any
    name: str
    original: Any
    own: bool  # the attribute was in owner.__dict__ (else inherited: delete to restore)


_ORIGINAL = "__fsreg_autolog_original__"  # on each wrapper: the function it wraps
_state = threading.local()
_lock = threading.RLock()
_patches: list[_Patch] = []
_sessions = 0  # outermost autologged fits in progress, all threads
config: AutologConfig | None = None


def _depth() -> int:
    return int(getattr(_state, "depth", 0))


def in_autologged_fit() -> bool:
    """Whether this thread runs inside an autologged fit, or in a worker thread of one: other
    integrations (``fsregistry.flavors.boosting``) then log nothing, as MLflow's shared
    training sessions decide."""
    return config is not None and (_depth() > 0 or (_sessions > 0 and fluent.active_run() is None))


def warn(message: str, *args: Any) -> None:
    """A logging failure: a warning unless ``silent``."""
    if config is None or not config.silent:
        _logger.warning(message, *args)


# -- patching --------------------------------------------------------------------------------
def estimators_to_patch() -> list[type]:
    """The estimator classes MLflow's sklearn autolog patches."""
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.utils import all_estimators

    classes = {cls for _, cls in all_estimators()} | {GridSearchCV, RandomizedSearchCV, Pipeline}
    return sorted(
        (
            c
            for c in classes
            if not c.__module__.startswith(_EXCLUDED_MODULES)
            and f"{c.__module__}.{c.__name__}" not in _EXCLUDED_CLASSES
        ),
        key=lambda c: f"{c.__module__}.{c.__name__}",
    )


def _find_attr(cls: type, name: str) -> Any:
    for klass in cls.__mro__:
        if name in vars(klass):
            return vars(klass)[name]
    return None


def patch_method(cls: type, name: str, make: Callable[[Any], Any]) -> None:
    """Replace ``cls.name`` by ``make(original)`` (a plain function), or the ``fn`` of the
    ``available_if`` descriptor that holds it; recorded for :func:`unpatch_all`."""
    raw = _find_attr(cls, name)
    if raw is None:
        return
    if callable(raw) and not isinstance(raw, type):
        own = name in vars(cls)
        _patches.append(_Patch(cls, name, raw, own))
        # A subclass inheriting an already patched method wraps the original, not the wrapper.
        original = getattr(raw, _ORIGINAL, raw)
        wrapper = make(original)
        setattr(wrapper, _ORIGINAL, original)
        setattr(cls, name, wrapper)
    elif hasattr(raw, "fn") and (hasattr(raw, "check") or hasattr(raw, "delegate_names")):
        if any(p.owner is raw for p in _patches):
            return  # one descriptor shared by subclasses: patch it once
        _patches.append(_Patch(raw, "fn", raw.fn, True))
        raw.fn = make(raw.fn)


def patch_function(owner: Any, name: str, make: Callable[[Any], Any]) -> None:
    """Replace a module-level function or an object's attribute (restored by unpatch_all)."""
    original = getattr(owner, name)
    _patches.append(_Patch(owner, name, original, True))
    setattr(owner, name, make(original))


def unpatch_all() -> None:
    """Restore every patched attribute, newest first."""
    while _patches:
        p = _patches.pop()
        if p.own:
            setattr(p.owner, p.name, p.original)
        else:
            delattr(p.owner, p.name)


def _fit_wrapper(original: Any) -> Any:
    @functools.wraps(original)
    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        return autologged_fit(original, self, args, kwargs)

    return patched


def install(cfg: AutologConfig) -> None:
    """Patch scikit-learn (after undoing any earlier patches) with ``cfg``."""
    global config
    from fsregistry.sklearn import post_training

    with _lock:
        unpatch_all()
        config = cfg
        for cls in estimators_to_patch():
            for name in _FIT_METHODS:
                patch_method(cls, name, _fit_wrapper)
        post_training.install_autolog_free_apis()
        if cfg.log_post_training_metrics:
            post_training.install(estimators_to_patch())


def uninstall() -> None:
    """Undo every patch (``autolog(disable=True)``)."""
    global config
    with _lock:
        unpatch_all()
        config = None


# -- one autologged fit ----------------------------------------------------------------------
@contextmanager
def _session() -> Iterator[None]:
    global _sessions
    _state.depth = _depth() + 1
    with _lock:
        _sessions += 1
    try:
        yield
    finally:
        _state.depth = _depth() - 1
        with _lock:
            _sessions -= 1


def autologged_fit(original: Any, estimator: Any, args: tuple[Any, ...], kwargs: Any) -> Any:
    """Run ``original`` and log it, unless it runs inside another autologged fit (or in a
    worker thread of one), or ``exclusive`` keeps it off a user's run."""
    cfg = config
    if cfg is None or _depth() > 0:
        return original(estimator, *args, **kwargs)
    active = fluent.active_run()
    if active is None and _sessions > 0:
        return original(estimator, *args, **kwargs)  # a worker thread of another fit
    if active is not None and cfg.exclusive:
        return original(estimator, *args, **kwargs)
    from fsregistry.sklearn import post_training

    managed = None
    if active is None:
        try:
            managed = fluent.start_run(tags={AUTOLOGGING_TAG: FLAVOR_NAME, **cfg.extra_tags})
        except Exception as exc:  # a store failure must not break fit
            warn("Autologging could not start a run; fit runs unlogged: %s", exc)
            return original(estimator, *args, **kwargs)
    run_id = (managed or active).info.run_id  # type: ignore[union-attr]
    try:
        with _session():
            x, y, weight = _fit_data(original, args, kwargs)
            _guarded(_log_before, cfg, run_id, estimator, x, y)
            with post_training.paused():
                result = original(estimator, *args, **kwargs)
            _guarded(_log_after, cfg, run_id, estimator, x, y, weight)
        if cfg.log_post_training_metrics:
            post_training.register_model(estimator, run_id)
    except BaseException:
        if managed is not None:
            _guarded(fluent.end_run, RunStatus.FAILED)
        raise
    if managed is not None:
        _guarded(fluent.end_run)
    return result


def _guarded(fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    except Exception as exc:  # logging failures never break fit; the user is told
        warn("Failed to autolog (%s): %s: %s", fn.__name__, type(exc).__name__, exc)


def _fit_data(original: Any, args: tuple[Any, ...], kwargs: Any) -> tuple[Any, Any, Any]:
    """X, y and sample_weight of a fit call, by the fit method's parameter names."""
    import inspect

    names = [
        n
        for n, p in inspect.signature(original).parameters.items()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ][1:]
    bound = dict(zip(names, args, strict=False))
    x_name = names[0] if names else "X"
    y_name = names[1] if len(names) > 1 else "y"
    x = bound.get(x_name, kwargs.get(x_name))
    y = bound.get(y_name, kwargs.get(y_name))
    weight = bound.get("sample_weight", kwargs.get("sample_weight"))
    return deepcopy(x), deepcopy(y), weight


def is_search(estimator: Any) -> bool:
    from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

    return isinstance(estimator, GridSearchCV | RandomizedSearchCV)


def params_of(values: dict[str, Any]) -> list[Param]:
    """Params as MLflow's autologging client logs them: ``str`` values, long keys and
    values truncated."""
    out = []
    for key, value in values.items():
        k, v = str(key), str(value)
        if len(k) > MAX_ENTITY_KEY_LENGTH:
            warn("Truncated the key of param %s to %d characters", k, MAX_ENTITY_KEY_LENGTH)
            k = k[:MAX_ENTITY_KEY_LENGTH]
        if len(v) > MAX_PARAM_VAL_LENGTH:
            warn("Truncated the value of param %s to %d characters", k, MAX_PARAM_VAL_LENGTH)
            v = v[:MAX_PARAM_VAL_LENGTH]
        out.append(Param(k, v))
    return out


def estimator_tags(estimator: Any) -> dict[str, str]:
    cls = type(estimator)
    return {"estimator_name": cls.__name__, "estimator_class": f"{cls.__module__}.{cls.__name__}"}


def make_dataset(x: Any, y: Any = None) -> Any:
    """The dataset MLflow's autolog records for ``x`` (and ``y``), or None for other types."""
    import numpy as np
    import pandas as pd

    from fsregistry.data import from_numpy, from_pandas
    from fsregistry.data.datasets import code_source

    if isinstance(x, pd.DataFrame):
        return from_pandas(x, source=code_source())
    if hasattr(x, "toarray") and type(x).__module__.startswith("scipy.sparse"):
        x = x.toarray()
        if y is not None and hasattr(y, "toarray"):
            y = y.toarray()
    if isinstance(x, np.ndarray):
        return from_numpy(x, targets=y, source=code_source())
    warn("Unrecognized dataset type %s. Dataset logging skipped.", type(x))
    return None


def _log_before(cfg: AutologConfig, run_id: str, estimator: Any, x: Any, y: Any) -> None:
    client = fluent._client()
    params = estimator.get_params(deep=not is_search(estimator))
    client.log_batch(
        run_id,
        params=params_of(params),
        tags=[RunTag(k, v) for k, v in estimator_tags(estimator).items()],
    )
    if cfg.log_datasets:
        dataset = make_dataset(x, y)
        if dataset is not None:
            tags = [InputTag("mlflow.data.context", "train")]
            client.log_inputs(run_id, [DatasetInput(dataset._to_mlflow_entity(), tags)])


def _log_after(
    cfg: AutologConfig, run_id: str, estimator: Any, x: Any, y: Any, weight: Any
) -> None:
    from fsregistry.sklearn import post_training, training_metrics

    client = fluent._client()
    example, signature, model_id = None, None, None
    post_training.record_model_id(estimator, None)
    if cfg.log_models:
        example, signature = _example_and_signature(cfg, estimator, x)
        params = estimator.get_params(deep=not is_search(estimator))
        if hasattr(estimator, "best_params_"):
            params |= {f"best_{k}": v for k, v in estimator.best_params_.items()}
        model_id = _log_model(
            cfg, estimator, "model", example, signature, cfg.registered_model_name, params
        )
        post_training.record_model_id(estimator, model_id)
    dataset = _metrics_dataset(x, y)
    metrics = training_metrics.training_metrics(estimator, x, y, weight, cfg.pos_label, warn)
    if y is None and not metrics:
        warn(
            "Training metrics will not be recorded because training labels were not specified."
            " To automatically record training metrics, provide training labels as inputs to"
            " the model training function."
        )
    ts = now_ms()
    # Queued until every model is logged, as MLflow's autologging client does: a model logged
    # in a run takes the run's step-0 metrics, so "best_estimator" must not take these.
    pending = _metrics(metrics, ts, dataset, model_id)
    if is_search(estimator) and hasattr(estimator, "best_score_"):
        pending += _metrics({"best_cv_score": estimator.best_score_}, ts, dataset, model_id)
    best = _BestModel(None, None)
    if is_search(estimator) and hasattr(estimator, "best_estimator_") and cfg.log_models:
        best.params = estimator.best_estimator_.get_params(deep=True)
        try:
            best.model_id = _log_model(
                cfg,
                estimator.best_estimator_,
                "best_estimator",
                example,
                signature,
                None,
                best.params,
            )
        except Exception as exc:  # the run's metrics are still logged below
            warn("Failed to autolog the best estimator: %s: %s", type(exc).__name__, exc)
    client.log_batch(run_id, metrics=pending)
    import sklearn.base

    if sklearn.base.is_classifier(estimator) and y is not None:
        from fsregistry.sklearn import plots

        _guarded(plots.log_classifier_plots, run_id, estimator, x, y, weight, warn)
    _guarded(_log_estimator_html, run_id, estimator)
    if not is_search(estimator):
        return
    if hasattr(estimator, "best_params_"):
        best_params = {f"best_{k}": v for k, v in estimator.best_params_.items()}
        client.log_batch(run_id, params=params_of(best_params))
    if hasattr(estimator, "cv_results_"):
        _guarded(_child_runs, cfg, run_id, estimator, x, y, dataset, best)
        _guarded(_cv_results_artifact, run_id, estimator)


@dataclass
class _BestModel:
    """The LoggedModel of a search's ``best_estimator_`` and the params it was logged with."""

    model_id: str | None
    params: dict[str, Any] | None

    def takes(self, candidate: dict[str, Any]) -> str | None:
        """The model id if ``candidate``'s params are the best estimator's (MLflow's rule)."""
        if not self.model_id or not self.params:
            return None
        return self.model_id if candidate.items() <= self.params.items() else None


def _metrics_dataset(x: Any, y: Any) -> Any:
    """The training dataset metric lines name (MLflow builds it even without log_datasets)."""
    try:
        return make_dataset(x, y)
    except Exception as exc:  # any X: building the dataset may fail in many ways
        _logger.debug("Failed to create dataset for logging: %s", exc)
        return None


def _metrics(
    values: Mapping[Any, Any], ts: int, dataset: Any, model_id: str | None
) -> list[Metric]:
    """Metric entities at step 0 naming ``dataset`` and linked to ``model_id`` (MLflow 3)."""
    name, digest = (dataset.name, dataset.digest) if dataset is not None else (None, None)
    return [
        Metric(str(k), float(v), ts, 0, name, digest, None, model_id) for k, v in values.items()
    ]


def _log_estimator_html(run_id: str, estimator: Any) -> None:
    """``estimator.html``: sklearn's HTML view of the estimator in a UTF-8 page."""
    from sklearn.utils import estimator_html_repr

    page = (
        '\n<!DOCTYPE html>\n<html lang="en">\n  <head>\n    <meta charset="UTF-8"/>\n'
        f"  </head>\n  <body>\n    {estimator_html_repr(estimator)}\n  </body>\n</html>\n    "
    )
    fluent._client().log_text(run_id, page, "estimator.html")


def _example_and_signature(cfg: AutologConfig, estimator: Any, x: Any) -> tuple[Any, Any]:
    from fsregistry.models import infer_signature

    if not (cfg.log_input_examples or cfg.log_model_signatures):
        return None, None
    try:
        example = deepcopy(x[:INPUT_EXAMPLE_ROWS])
    except Exception as exc:  # X of any type: slicing may fail in many ways
        warn("Failed to gather input example: %s", exc)
        return None, None
    signature = None
    if cfg.log_model_signatures:
        try:
            if hasattr(estimator, "predict"):
                output = estimator.predict(deepcopy(example))
            else:
                output = estimator.transform(deepcopy(example))
            signature = infer_signature(example, output)
        except Exception as exc:  # predict/transform of any estimator may fail
            warn("Failed to infer model signature: %s", exc)
    return (example if cfg.log_input_examples else None), signature


def _log_model(
    cfg: AutologConfig,
    model: Any,
    name: str,
    example: Any,
    signature: Any,
    registered: Any,
    params: dict[str, Any],
) -> str | None:
    """Log ``model`` as a LoggedModel of the active run (``params`` on it); its id."""
    from fsregistry.sklearn import log_model

    info = log_model(
        model,
        name=name,
        signature=signature,
        input_example=example,
        serialization_format=cfg.serialization_format,
        registered_model_name=registered,
        params=params,
    )
    return info.model_id


def _child_runs(
    cfg: AutologConfig,
    run_id: str,
    search: Any,
    x: Any,
    y: Any,
    metric_dataset: Any,
    best: _BestModel,
) -> None:
    import pandas as pd

    client = fluent._client()
    parent = client.get_run(run_id)
    start, end = parent.info.start_time, now_ms()
    seed = search.estimator
    base = seed.get_params(deep=not is_search(seed))
    results = pd.DataFrame.from_dict(search.cv_results_)
    if cfg.max_tuning_runs is not None:
        rank = "rank_test_score"
        if rank not in results.columns:
            rank = next(c for c in results.columns if "rank_test_" in c)
            warnings.warn(
                f"Top {cfg.max_tuning_runs} child runs will be created based on ordering in "
                f"{rank} column.  You can choose not to limit the number of child runs created"
                " by setting `max_tuning_runs=None`.",
                stacklevel=2,
            )
        results = results.nsmallest(cfg.max_tuning_runs, rank)
    dataset = make_dataset(x, y) if cfg.log_datasets else None
    tags = {
        "mlflow.user": fluent._user(),
        **fluent._source_tags(),
        AUTOLOGGING_TAG: FLAVOR_NAME,
        PARENT_RUN_ID_TAG: run_id,
        **estimator_tags(seed),
    }
    for _, row in results.iterrows():
        child = client.store.create_run(
            parent.info.experiment_id,
            user_id=tags["mlflow.user"],
            start_time=start,
            tags=tags,
            run_name=None,
        )
        child_id = child.info.run_id
        values = dict(base)
        candidate = row.get("params", {})
        values.update(candidate)
        metrics = {
            k: v
            for k, v in row.items()
            if not str(k).startswith(("param", "split")) and isinstance(v, Number)
        }
        ts = now_ms()
        client.log_batch(
            child_id,
            params=params_of(values),
            metrics=_metrics(metrics, ts, metric_dataset, best.takes(candidate)),
        )
        if dataset is not None:
            ctx = [InputTag("mlflow.data.context", "train")]
            client.log_inputs(child_id, [DatasetInput(dataset._to_mlflow_entity(), ctx)])
        client.set_terminated(child_id, RunStatus.FINISHED, end)


def _cv_results_artifact(run_id: str, search: Any) -> None:
    import tempfile
    from pathlib import Path

    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cv_results.csv"
        pd.DataFrame.from_dict(search.cv_results_).to_csv(path, index=False)
        fluent._client().log_artifact(run_id, str(path))
