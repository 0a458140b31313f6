"""Post-training metrics of sklearn autologging: ``sklearn.metrics`` calls and ``score``
calls on the predictions of an autologged model are logged to the model's training run,
as MLflow 3.17 does.

* An autologged fit marks the estimator with its run (``_mlflow_run_id``, MLflow's
  attribute). ``predict``, ``predict_proba``, ``predict_log_proba`` and ``transform`` of a
  marked estimator remember their result's ``id`` with the run and the name of the input:
  the name of the variable that holds it in the outermost caller frame that did not receive
  it as an argument (``unknown_dataset`` if none), ``-2``, ``-3``... appended when other
  objects of the same name were predicted on before.
* A function of ``sklearn.metrics.__all__`` (but ``check_scoring``, ``get_scorer``,
  ``make_scorer``, ``get_scorer_names``, classes and ``plot_*``) called with such a result
  returns a number: it is logged as ``{function}[-{n}]_{dataset}``, ``n`` counting earlier
  calls of the same function in that run. ``estimator.score(X, y)`` logs
  ``{Class}_score[-{n}]_{dataset}``.
* Each metric is also linked to the LoggedModel the fit logged as ``model`` (MLflow 3's
  ``model_id``), none without ``log_models``.
* Each run gets ``metric_info.json``: metric key -> the call, e.g.
  ``accuracy_score(y_true=y_test, y_pred=y_pred)``.
* Nothing is logged inside an autologged fit. With the eval dataset, ``log_datasets`` records
  it as an ``eval`` input. Failures are warnings. Scorers are not patched: MLflow patches the
  ``_score_func`` of the scorers ``sklearn.metrics.get_scorer`` returns, which are fresh
  copies in scikit-learn 1.x, so that changes nothing there either.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
import weakref
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from fsregistry import fluent
from fsregistry.entities import DatasetInput, InputTag
from fsregistry.sklearn import autologging

_PREDICT_METHODS = ("predict", "predict_proba", "transform", "predict_log_proba")
_EXCLUDED_METRICS = ("check_scoring", "get_scorer", "make_scorer", "get_scorer_names")
_state = threading.local()
_lock = threading.Lock()
_results: dict[int, tuple[str, str, str | None]] = {}  # id(prediction) -> name, run, model
_model_ids: dict[int, str] = {}  # id(estimator) -> the LoggedModel its autologged fit logged
_datasets: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
_calls: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """No post-training logging inside (an autologged fit, a metric's own calls)."""
    old = getattr(_state, "paused", False)
    _state.paused = True
    try:
        yield
    finally:
        _state.paused = old


def _active() -> bool:
    return not getattr(_state, "paused", False) and autologging._depth() == 0


def register_model(estimator: Any, run_id: str) -> None:
    try:
        estimator._mlflow_run_id = run_id
    except AttributeError:  # an estimator with __slots__: no post-training metrics
        autologging.warn("Cannot mark %s for post-training metrics", type(estimator).__name__)


def record_model_id(estimator: Any, model_id: str | None) -> None:
    """Remember the LoggedModel ``estimator``'s fit logged (None: forget it): its
    post-training metrics are linked to it, as MLflow 3 does."""
    with _lock:
        _model_ids.pop(id(estimator), None)
        if model_id is None:
            return
        _model_ids[id(estimator)] = model_id
    # An estimator without weak references (__slots__) keeps its entry until its next fit.
    with contextlib.suppress(TypeError):
        weakref.finalize(estimator, _model_ids.pop, id(estimator), None)


def model_id_of(estimator: Any) -> str | None:
    """The LoggedModel recorded for ``estimator``, if any."""
    return _model_ids.get(id(estimator))


def _with_index(name: str, index: int) -> str:
    return name if index == 0 else f"{name}-{index + 1}"


def var_name(value: Any, fallback: str, frame: Any) -> str:
    """The name ``value`` has in the outermost frame, from ``frame`` outwards, that did not
    receive it as an argument (MLflow's rule); ``fallback`` if none."""
    if value is None:
        return fallback
    while frame is not None:
        info = inspect.getargvalues(frame)
        args = [info.locals[a] for a in info.args if a in info.locals]
        if info.varargs:
            args.extend(info.locals.get(info.varargs, ()))
        if info.keywords:
            args.extend(info.locals.get(info.keywords, {}).values())
        if any(value is a for a in args):
            frame = frame.f_back
            continue
        for name, local in frame.f_locals.items():
            if local is value:
                return str(name)
        return fallback
    return fallback


def _dataset_name(run_id: str, data: Any, frame: Any) -> str:
    name = var_name(data, "unknown_dataset", frame)
    seen = _datasets[run_id][name]
    for i, known in enumerate(seen):
        if known == id(data):
            return _with_index(name, i)
    seen.append(id(data))
    return _with_index(name, len(seen) - 1)


def _call_text(self_obj: Any, fn: Any, args: tuple[Any, ...], kwargs: Any, frame: Any) -> str:
    import numpy as np

    def show(arg: Any) -> str:
        if arg is None or np.isscalar(arg):
            if isinstance(arg, str) and len(arg) > 32:
                return repr(arg[:32] + "...")
            return repr(arg)
        return var_name(arg, f"<{type(arg).__name__}>", frame)

    names = list(inspect.signature(fn).parameters)
    if self_obj is not None:
        names.pop(0)
    label = f"{type(self_obj).__name__}.{fn.__name__}" if self_obj is not None else fn.__name__
    parts = [f"{n}={show(a)}" for n, a in zip(names, args, strict=False)]
    parts += [f"{n}={show(a)}" for n, a in kwargs.items()]
    return f"{label}({', '.join(parts)})"


def _loggable(value: Any) -> bool:
    import numpy as np

    return isinstance(value, int | float | np.number) and not isinstance(value, bool)


def _log(
    run_id: str, metric: str, dataset: str, value: Any, command: str, model_id: str | None
) -> None:
    with _lock:
        calls = _calls[run_id][metric]
        key = f"{_with_index(metric, len(calls))}_{dataset}"
        calls.append((key, command))
        info = dict(sorted(c for cs in _calls[run_id].values() for c in cs))
    client = fluent._client()
    client.log_metric(run_id, key, float(value), model_id=model_id)
    client.log_dict(run_id, info, "metric_info.json")


def _predict_wrapper(original: Any) -> Any:
    @functools.wraps(original)
    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        run_id = getattr(self, "_mlflow_run_id", None)
        if not (run_id and _active()):
            return original(self, *args, **kwargs)
        with paused():
            result = original(self, *args, **kwargs)
        try:
            data = args[0] if args else next(iter(kwargs.values()), None)
            name = _dataset_name(run_id, data, inspect.currentframe())
            with _lock:
                _results[id(result)] = (name, run_id, model_id_of(self))
            weakref.finalize(result, _results.pop, id(result), None)
        except TypeError:
            pass  # a result that cannot be weakly referenced (a tuple...): not tracked
        except Exception as exc:  # tracking must not break predict
            autologging.warn("Failed to track a prediction for post-training metrics: %s", exc)
            return result
        cfg = autologging.config
        if cfg is not None and cfg.log_datasets:
            try:
                dataset = autologging.make_dataset(data)
                if dataset is not None:
                    ctx = [InputTag("mlflow.data.context", "eval")]
                    fluent._client().log_inputs(
                        run_id, [DatasetInput(dataset._to_mlflow_entity(), ctx)]
                    )
            except Exception as exc:  # logging must not break predict
                autologging.warn("Failed to log evaluation dataset information: %s", exc)
        return result

    return patched


def _score_wrapper(original: Any) -> Any:
    @functools.wraps(original)
    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        run_id = getattr(self, "_mlflow_run_id", None)
        if not (run_id and _active()):
            return original(self, *args, **kwargs)
        with paused():
            value = original(self, *args, **kwargs)
        if _loggable(value):
            try:
                frame = inspect.currentframe()
                command = _call_text(self, original, args, kwargs, frame)
                data = args[0] if args else next(iter(kwargs.values()), None)
                name = _dataset_name(run_id, data, frame)
                metric = f"{type(self).__name__}_score"
                _log(run_id, metric, name, value, command, model_id_of(self))
            except Exception as exc:  # logging must not break score
                autologging.warn("Failed to log a post-training score: %s", exc)
        return value

    return patched


def _metric_wrapper(original: Any) -> Any:
    @functools.wraps(original)
    def patched(*args: Any, **kwargs: Any) -> Any:
        if not _active():
            return original(*args, **kwargs)
        with paused():
            value = original(*args, **kwargs)
        if _loggable(value):
            try:
                import numpy as np

                found = None
                for arg in [*args, *kwargs.values()]:
                    if arg is not None and not np.isscalar(arg) and id(arg) in _results:
                        found = _results[id(arg)]
                        break
                if found:
                    command = _call_text(None, original, args, kwargs, inspect.currentframe())
                    _log(found[1], original.__name__, found[0], value, command, found[2])
            except Exception as exc:  # logging must not break the metric
                autologging.warn("Failed to log a post-training metric: %s", exc)
        return value

    return patched


def _no_autolog_wrapper(original: Any) -> Any:
    @functools.wraps(original)
    def patched(*args: Any, **kwargs: Any) -> Any:
        autologging._state.depth = autologging._depth() + 1
        try:
            return original(*args, **kwargs)
        finally:
            autologging._state.depth = autologging._depth() - 1

    return patched


def install(classes: list[type]) -> None:
    """Patch predictions, ``score`` and the metric functions."""
    import sklearn.metrics

    for cls in classes:
        for name in _PREDICT_METHODS:
            autologging.patch_method(cls, name, _predict_wrapper)
        autologging.patch_method(cls, "score", _score_wrapper)
    for name in sklearn.metrics.__all__:
        fn = getattr(sklearn.metrics, name)
        if (
            name not in _EXCLUDED_METRICS
            and not inspect.isclass(fn)
            and callable(fn)
            and not name.startswith("plot_")
        ):
            autologging.patch_function(sklearn.metrics, name, _metric_wrapper)


def install_autolog_free_apis() -> None:
    """Fits inside ``cross_validate`` and friends log nothing (MLflow's list)."""
    import sklearn.model_selection

    for name in (
        "cross_validate",
        "cross_val_predict",
        "cross_val_score",
        "learning_curve",
        "permutation_test_score",
        "validation_curve",
    ):
        autologging.patch_function(sklearn.model_selection, name, _no_autolog_wrapper)
