"""What the gradient-boosting autologgers (``fsregistry.xgboost`` and ``fsregistry.lightgbm``)
share, on top of the autolog kit (:mod:`fsregistry.flavors.autolog`), as MLflow 3.17's two
integrations do the same things:

- :class:`BoostingConfig`: the settings of ``autolog(...)`` (both libraries' arguments);
- :func:`capture_examples`: patch the library's dataset class (``DMatrix``, ``Dataset``) so
  that each instance keeps the first 5 rows of its data (MLflow's input example; the data
  cannot be read back from a built dataset) as :class:`InputExample`;
- :func:`patch_train` / :func:`patch_fit`: the ``train`` function and the scikit-learn API
  ``fit`` methods. An outermost ``train`` gets its run from :meth:`Autologger.session`; the
  first ``train`` inside an autologged ``fit`` logs to that fit's run (params, metrics,
  datasets, feature importance: as MLflow, the fit itself only adds the model). Neither
  logs inside a scikit-learn-autologged fit (a search's candidate, a Pipeline's step): MLflow's
  training sessions are shared by its sklearn, xgboost and lightgbm integrations;
- :func:`call_params`: a call's arguments, with the defaults of those not given, as params;
- :class:`IterationMetrics`: the per-iteration callback's recorder: ``<data>-<metric>`` (an
  ``@`` in a name becomes ``_at_``) at ``step`` = iteration, linked to the LoggedModel, batched
  and flushed at the latest when training ends; :func:`log_early_stopping`: the
  ``stopped_iteration``/``best_iteration`` metrics and the best iteration's metrics;
- :func:`log_importance`: ``feature_importance_<type>.json`` and, when matplotlib is installed,
  the ``.png`` bar chart (one bar per feature, or per feature and class);
- :func:`log_dataset` and :func:`example_and_signature` (``log_input_examples``,
  ``log_model_signatures``).

Every logging step runs through :meth:`Autologger.guarded`: a failure is a warning and never
breaks training.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

from fsregistry import fluent
from fsregistry.entities import DatasetInput, InputTag, Metric
from fsregistry.flavors.autolog import Autologger, AutologRun
from fsregistry.mlruns.metafile import now_ms

INPUT_EXAMPLE_ROWS = 5
EXAMPLE_ATTR = "_fsreg_input_example"
_FLUSH_METRICS = 1000  # buffered metric values that trigger a write
_FLUSH_SECONDS = 5.0  # or the age of the oldest buffered value


@dataclass
class BoostingConfig:
    """The arguments of the last ``autolog`` call (xgboost's and lightgbm's)."""

    log_input_examples: bool = False
    log_model_signatures: bool = True
    log_models: bool = True
    log_datasets: bool = True
    exclusive: bool = False
    silent: bool = False
    registered_model_name: str | None = None
    extra_tags: dict[str, Any] = field(default_factory=dict)
    importance_types: tuple[str, ...] = ()
    model_format: str = "ubj"


@dataclass(frozen=True)
class InputExample:
    """The first rows of a dataset's data, or why they could not be taken."""

    value: Any = None
    error: str | None = None


def capture_examples(kit: Autologger[BoostingConfig], cls: type) -> None:
    """Patch ``cls.__init__`` (first argument ``data``) to keep :class:`InputExample`."""

    def make(original: Any) -> Any:
        @functools.wraps(original)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            data = args[0] if args else kwargs.get("data")
            if data is not None and kit.enabled:
                try:
                    if isinstance(data, str | os.PathLike):
                        raise ValueError(
                            "cannot gather example input when dataset is loaded from a file."
                        )
                    info = InputExample(deepcopy(data[:INPUT_EXAMPLE_ROWS]))
                except Exception as exc:  # data of any type: slicing may fail in many ways
                    info = InputExample(error=str(exc))
                setattr(self, EXAMPLE_ATTR, info)
            original(self, *args, **kwargs)

        return __init__

    kit.patch_method(cls, "__init__", make)


def input_example_of(dataset: Any) -> Any:
    """The rows :func:`capture_examples` kept for ``dataset``; raises why there are none."""
    info = getattr(dataset, EXAMPLE_ATTR, None)
    if info is None:
        raise ValueError(
            "please ensure that autologging is enabled before constructing the dataset."
        )
    if info.error is not None:
        raise ValueError(info.error)
    return info.value


# -- patch points ----------------------------------------------------------------------------
#: ``impl(cfg, run, original, args, kwargs, log_models)``: one logged training call.
TrainImpl = Callable[[BoostingConfig, AutologRun, Any, tuple[Any, ...], dict[str, Any], bool], Any]


class _FitRuns(threading.local):
    run: AutologRun | None = None


_fit_runs: dict[str, _FitRuns] = {}


def inside_sklearn_fit() -> bool:
    """Whether a scikit-learn-autologged fit is in progress in this thread (or this is a
    worker thread of one): asked of :mod:`fsregistry.sklearn.autologging` if it is loaded."""
    module = sys.modules.get("fsregistry.sklearn.autologging")
    probe = getattr(module, "in_autologged_fit", None)
    return bool(probe is not None and probe())


@contextmanager
def _fitting(kit: Autologger[BoostingConfig], run: AutologRun) -> Iterator[None]:
    slot = _fit_runs.setdefault(kit.flavor, _FitRuns())
    slot.run = run
    try:
        yield
    finally:
        slot.run = None


def _take_fit_run(kit: Autologger[BoostingConfig]) -> AutologRun | None:
    slot = _fit_runs.get(kit.flavor)
    run = slot.run if slot is not None else None
    if run is not None and slot is not None:
        slot.run = None  # only the first train of a fit logs
    return run


def patch_train(
    kit: Autologger[BoostingConfig], owner: Any, name: str, log_models: bool, impl: TrainImpl
) -> None:
    """Patch ``owner.name`` (the library's ``train``); ``log_models=False`` for the one the
    scikit-learn API calls (its ``fit`` logs the estimator instead)."""

    def make(original: Any) -> Any:
        @functools.wraps(original)
        def train(*args: Any, **kwargs: Any) -> Any:
            cfg = kit.config
            fit_run = _take_fit_run(kit)
            if inside_sklearn_fit():
                return original(*args, **kwargs)
            if cfg is not None and fit_run is not None:
                return impl(cfg, fit_run, original, args, dict(kwargs), False)
            with kit.session() as run:
                if cfg is None or run is None:
                    return original(*args, **kwargs)
                return impl(cfg, run, original, args, dict(kwargs), log_models and cfg.log_models)

        return train

    kit.patch_function(owner, name, make)


def patch_fit(
    kit: Autologger[BoostingConfig],
    cls: type,
    log_model: Callable[[BoostingConfig, Any, Any, Any], Any],
) -> None:
    """Patch ``cls.fit``: the run for the ``train`` it calls, then (``log_models``) the
    estimator logged by ``log_model(cfg, estimator, input_example, signature)``."""

    def make(original: Any) -> Any:
        @functools.wraps(original)
        def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
            if inside_sklearn_fit():
                return original(self, *args, **kwargs)
            with kit.session() as run:
                cfg = kit.config
                if cfg is None or run is None:
                    return original(self, *args, **kwargs)
                x: Any = args[0] if args else kwargs.get("X")
                example: InputExample
                try:
                    example = InputExample(deepcopy(x[:INPUT_EXAMPLE_ROWS]))
                except Exception as exc:  # X of any type: slicing may fail in many ways
                    example = InputExample(error=str(exc))
                with _fitting(kit, run):
                    result = original(self, *args, **kwargs)
                if cfg.log_models:

                    def log_fitted_model() -> None:
                        ex, sig = example_and_signature(
                            kit, cfg, lambda: _example(example), lambda e: self.predict(deepcopy(e))
                        )
                        log_model(cfg, self, ex, sig)

                    kit.guarded(log_fitted_model)
                return result

        return fit

    kit.patch_method(cls, "fit", make)


def _example(info: InputExample) -> Any:
    if info.error is not None:
        raise ValueError(info.error)
    return info.value


# -- what one training call logs ---------------------------------------------------------------
def call_params(
    fn: Any, args: Sequence[Any], kwargs: Mapping[str, Any], unlogged: Sequence[str]
) -> dict[str, Any]:
    """The arguments of ``fn(*args, **kwargs)`` by name, the defaults of those not given, but
    ``unlogged`` (MLflow's ``get_mlflow_run_params_for_fn_args``)."""
    import inspect

    spec = [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]
    values = {p.name: v for p, v in zip(spec[: len(args)], args, strict=False)}
    values.update(kwargs)
    values.update({p.name: p.default for p in spec[len(args) :] if p.name not in kwargs})
    return {k: v for k, v in values.items() if k not in unlogged}


def sanitize(values: Mapping[str, float]) -> dict[str, float]:
    """Metric names with ``@`` (``ndcg@3``) as MLflow logs them (``ndcg_at_3``)."""
    return {k.replace("@", "_at_"): v for k, v in values.items()}


class IterationMetrics:
    """The per-iteration metrics of one training call: logged to the run (and the LoggedModel
    ``model_id``), ``results`` kept per iteration for the early-stopping metrics."""

    def __init__(self, kit: Autologger[BoostingConfig], run_id: str, model_id: str | None):
        self._kit, self._run_id, self._model_id = kit, run_id, model_id
        self.results: list[dict[str, float]] = []
        self._pending: list[Metric] = []
        self._since = time.monotonic()

    def record(self, values: Mapping[str, float], step: int) -> None:
        """One iteration's metrics (names already ``<data>-<metric>``)."""
        values = sanitize(values)
        self.results.append(values)
        ts = now_ms()
        if not self._pending:
            self._since = time.monotonic()
        self._pending += [
            Metric(k, float(v), ts, step, None, None, None, self._model_id)
            for k, v in values.items()
        ]
        if len(self._pending) >= _FLUSH_METRICS or time.monotonic() - self._since > _FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        """Write what is buffered (a failure is a warning; those values are dropped)."""
        pending, self._pending = self._pending, []
        if pending:
            self._kit.guarded(fluent._client().log_batch, self._run_id, pending)

    @contextmanager
    def recording(self) -> Iterator[IterationMetrics]:
        """Flush when the block exits, training raised or not."""
        try:
            yield self
        finally:
            self.flush()


def log_early_stopping(
    kit: Autologger[BoostingConfig],
    run_id: str,
    stopped: int,
    best: int,
    best_results: Mapping[str, float],
    step: int,
    dataset: Any,
    model_id: str | None,
) -> None:
    """``stopped_iteration`` and ``best_iteration`` at step 0, the best iteration's metrics at
    ``step``, naming ``dataset`` (or none) and linked to ``model_id``."""
    name, digest = (dataset.name, dataset.digest) if dataset is not None else (None, None)
    ts = now_ms()
    metrics = [
        Metric(k, float(v), ts, s, name, digest, None, model_id)
        for values, s in (
            ({"stopped_iteration": stopped, "best_iteration": best}, 0),
            (best_results, step),
        )
        for k, v in values.items()
    ]
    kit.guarded(fluent._client().log_batch, run_id, metrics)


def log_dataset(
    kit: Autologger[BoostingConfig],
    run_id: str,
    data: Any,
    targets: Any,
    context: str,
    name: str | None = None,
) -> Any:
    """Log ``data`` (a DataFrame, a numpy array or a scipy sparse matrix) as a dataset input
    of the run with context ``context``; the dataset, or None for another type."""
    import numpy as np
    import pandas as pd

    from fsregistry.data import from_numpy, from_pandas
    from fsregistry.data.datasets import code_source

    source = code_source()
    if isinstance(data, pd.DataFrame):
        dataset: Any = from_pandas(data, source=source, name=name)
    elif hasattr(data, "toarray") and type(data).__module__.startswith("scipy.sparse"):
        dataset = from_numpy(data.toarray(), source=source, targets=targets, name=name)
    elif isinstance(data, np.ndarray):
        dataset = from_numpy(data, source=source, targets=targets, name=name)
    else:
        kit.warn("Unrecognized dataset type %s. Dataset logging skipped.", type(data))
        return None
    tags = [InputTag("mlflow.data.context", context)]
    fluent._client().log_inputs(run_id, [DatasetInput(dataset._to_mlflow_entity(), tags)])
    return dataset


def example_and_signature(
    kit: Autologger[BoostingConfig],
    cfg: BoostingConfig,
    get_example: Callable[[], Any],
    predict: Callable[[Any], Any],
) -> tuple[Any, Any]:
    """The input example (``log_input_examples``) and the signature inferred from it and
    ``predict(example)`` (``log_model_signatures``); a failure is a warning and None."""
    from fsregistry.models import infer_signature

    if not (cfg.log_input_examples or cfg.log_model_signatures):
        return None, None
    try:
        example = get_example()
    except Exception as exc:  # see input_example_of: the reason is in the message
        kit.warn("Failed to gather input example: %s", exc)
        return None, None
    signature = None
    if cfg.log_model_signatures:
        try:
            signature = infer_signature(example, predict(example))
        except Exception as exc:  # predict of any model on any data may fail
            kit.warn("Failed to infer model signature: %s", exc)
    return (example if cfg.log_input_examples else None), signature


def log_importance(
    kit: Autologger[BoostingConfig],
    run_id: str,
    importance_type: str,
    importance: Mapping[str, Any],
    indent: int | None = None,
) -> None:
    """``feature_importance_<type>.json`` (``importance``: feature -> value, or per-class
    values) and, with matplotlib installed, ``feature_importance_<type>.png``."""
    client = fluent._client()
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        pass  # the plot needs the optional matplotlib, as MLflow's does
    else:
        kit.guarded(_log_importance_plot, run_id, importance_type, importance)
    text = json.dumps(dict(importance), indent=indent)
    kit.guarded(client.log_text, run_id, text, f"feature_importance_{importance_type}.json")


def _log_importance_plot(run_id: str, importance_type: str, importance: Mapping[str, Any]) -> None:
    """A horizontal bar per feature (per feature and class: a legend names the classes),
    sorted by magnitude, as MLflow draws it."""
    import numpy as np
    from matplotlib.figure import Figure  # no pyplot: the user's backend is left alone

    if not importance:
        raise ValueError("no feature has an importance")
    features = np.array(list(importance))
    values = np.array(list(importance.values()), dtype=float)
    per_class = values.ndim > 1
    order = np.argsort(np.abs(values).sum(axis=1) if per_class else values)
    features, values = features[order], values[order]
    values = values if per_class else values[:, None]
    n_features, n_classes = len(features), values.shape[1]
    height = 4.8 + (0.1 * n_features if n_features > 10 else 0)
    height += 0.1 * n_classes if n_classes > 1 else 0
    fig = Figure(figsize=(6.4, height))
    ax = fig.subplots()
    offsets = np.linspace(-0.5, 0.5, n_classes) / 2 if n_classes > 1 else [0.0]
    for i, row in enumerate(values):
        for c, (offset, value) in enumerate(zip(offsets, row, strict=False)):
            label = f"Class {c}" if per_class and i == 0 else None
            ax.barh(
                i + offset,
                value,
                align="center",
                height=0.5 / max(n_classes - 1, 1),
                color=f"C{c}",
                label=label,
            )
    ax.set_yticks(np.arange(n_features))
    ax.set_yticklabels(features)
    ax.set_xlabel("Importance")
    ax.set_title(f"Feature Importance ({importance_type})")
    if per_class:
        ax.legend()
    fig.tight_layout()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"feature_importance_{importance_type}.png")
        fig.savefig(path)
        fluent._client().log_artifact(run_id, path)


__all__ = [
    "BoostingConfig",
    "InputExample",
    "IterationMetrics",
    "call_params",
    "capture_examples",
    "example_and_signature",
    "input_example_of",
    "log_dataset",
    "log_early_stopping",
    "log_importance",
    "patch_fit",
    "patch_train",
    "sanitize",
]
