"""``mlflow.statsmodels.autolog`` for fsregistry: a statsmodels model's ``fit`` logs a run.

Patching (reversible: ``autolog(disable=True)`` restores every original): ``fit`` of each
subclass of ``statsmodels.base.model.Model`` (``statsmodels.api`` is imported first, so its
models are there) whose ``fit`` differs from the one of the next class in its MRO, as MLflow
does; the others inherit a patched ``fit``. Built on the autolog kit
(:mod:`fsregistry.flavors.autolog`).

What one outermost ``fit`` logs (fits it makes inside, e.g. ``Logit.fit`` calling
``LikelihoodModel.fit``, log nothing), as MLflow 3.17's ``mlflow.statsmodels.autolog`` does:

* with no active run, a run is started with the tags ``mlflow.autologging=statsmodels`` and
  ``extra_tags`` and ended when ``fit`` returns (FAILED if it raises); with ``exclusive=True``
  a user's active run gets nothing;
* params, before training: ``fit``'s arguments as MLflow's ``log_fn_args_as_params`` names
  them, i.e. positional arguments by their parameter names, the keyword arguments given, and
  the default of every parameter not given, values as ``str`` (a ``**kwargs`` parameter not
  given logs ``kwargs=<class 'inspect._empty'>``, as in MLflow);
* after training, when ``log_models``: the results as an MLflow 3 LoggedModel ``model`` of
  the run through :func:`fsregistry.statsmodels.log_model` (the run's params become its
  params; registered as ``registered_model_name`` when given);
* when ``fit`` returned a ``ResultsWrapper``: the numeric ones of ``aic``, ``bic``,
  ``centered_tss``, ``condition_number``, ``df_model``, ``df_resid``, ``ess``, ``f_pvalue``,
  ``fvalue``, ``llf``, ``mse_model``, ``mse_resid``, ``mse_total``, ``rsquared``,
  ``rsquared_adj``, ``scale``, ``ssr`` and ``uncentered_tss`` the results have (one warning
  naming those that raised) as metrics at step 0, linked to the LoggedModel, and
  ``model_summary.txt`` (``summary().as_text()``).

MLflow 3.17 logs no per-coefficient arrays (``pvalues``, ``bse``, ``tvalues``; MLflow 1.x
did) and no datasets: ``log_datasets`` is accepted and has no effect in either.

Any failure while logging is a warning (none with ``silent=True``); ``fit`` itself always
runs and its result or exception is what the caller sees. Differs from MLflow: no warning
that a model over 100 MB is slow to log (use ``log_models=False`` and ``remove_data=True``
as MLflow's warning advises); ``disable_for_unsupported_versions`` has no effect.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fsregistry import fluent
from fsregistry.entities import Param
from fsregistry.flavors.autolog import AUTOLOGGING_TAG, Autologger

FLAVOR_NAME = "statsmodels"

#: MLflow's allowlist: the results attributes logged as metrics when they are numbers.
METRICS = (
    "aic",
    "bic",
    "centered_tss",
    "condition_number",
    "df_model",
    "df_resid",
    "ess",
    "f_pvalue",
    "fvalue",
    "llf",
    "mse_model",
    "mse_resid",
    "mse_total",
    "rsquared",
    "rsquared_adj",
    "scale",
    "ssr",
    "uncentered_tss",
)


@dataclass(frozen=True)
class AutologConfig:
    """The arguments of the last ``autolog`` call."""

    log_models: bool = True
    log_datasets: bool = True
    exclusive: bool = False
    silent: bool = False
    registered_model_name: str | None = None
    extra_tags: Mapping[str, Any] = field(default_factory=dict)


kit: Autologger[AutologConfig] = Autologger(FLAVOR_NAME)


def install(cfg: AutologConfig) -> None:
    """Patch the ``fit`` of every statsmodels model class that defines its own (after undoing
    an earlier patch) with ``cfg``."""
    sm_model = importlib.import_module("statsmodels.base.model")
    importlib.import_module("statsmodels.api")  # loads the model classes to patch
    classes = [c for c in _subclasses(sm_model.Model) if _overrides(c, "fit")]

    def patch() -> None:
        for cls in classes:
            kit.patch_method(cls, "fit", _patched_fit)

    kit.install(cfg, patch)


def uninstall() -> None:
    """Restore every patched ``fit``."""
    kit.uninstall()


def _subclasses(root: type) -> list[type]:
    """``root`` and every class below it, each once, parents first."""
    seen: dict[type, None] = {}
    todo = [root]
    while todo:
        cls = todo.pop(0)
        if cls not in seen:
            seen[cls] = None
            todo.extend(cls.__subclasses__())
    return list(seen)


def _overrides(cls: type, name: str) -> bool:
    """MLflow's test: ``cls.name`` is not the attribute of the next class of its MRO (false
    when either lacks it: ``Model`` itself, whose next class is ``object``, is left alone)."""
    mro = inspect.getmro(cls)
    if len(mro) < 2 or not hasattr(cls, name) or not hasattr(mro[1], name):
        return False
    return getattr(cls, name) is not getattr(mro[1], name)


def _patched_fit(original: Any) -> Any:
    @functools.wraps(original)
    def fit(self: Any, *args: Any, **kwargs: Any) -> Any:
        with kit.session() as run:
            if run is None:
                return original(self, *args, **kwargs)
            kit.guarded(_log_params, run.run_id, fit_params(original, args, kwargs))
            results = original(self, *args, **kwargs)
            kit.guarded(_log_results, run.run_id, results)
            return results

    return fit


def fit_params(original: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """MLflow's ``log_fn_args_as_params``: positional arguments by parameter name (``self``
    left out), the keyword arguments, and the default of each parameter not given (a
    ``*args``/``**kwargs`` parameter's default is ``inspect.Parameter.empty``)."""
    params = [p for p in inspect.signature(original).parameters.values() if p.name != "self"]
    out: dict[str, Any] = {p.name: v for p, v in zip(params, args, strict=False)}
    out.update(kwargs)
    out.update({p.name: p.default for p in params[len(args) :] if p.name not in kwargs})
    return out


def _log_params(run_id: str, params: Mapping[str, Any]) -> None:
    fluent._client().log_batch(run_id, params=[Param(k, str(v)) for k, v in params.items()])


def results_metrics(results: Any) -> dict[str, Any]:
    """The numeric ones of :data:`METRICS` that ``results`` has; one warning names those
    whose computation raised."""
    metrics: dict[str, Any] = {}
    failed: list[str] = []
    for name in METRICS:
        try:
            value = getattr(results, name, None)
        except Exception:  # a statistic this model cannot compute: named in one warning
            failed.append(name)
            continue
        if isinstance(value, numbers.Number) and not isinstance(value, bool):
            metrics[name] = value
    if failed:
        kit.warn("Failed to autolog metrics: %s.", ", ".join(sorted(failed)))
    return metrics


def _log_results(run_id: str, results: Any) -> None:
    """The model (``log_models``), then the metrics and the summary of a ``ResultsWrapper``."""
    from statsmodels.base.wrapper import ResultsWrapper

    cfg = kit.config
    model_id = None
    if cfg is not None and cfg.log_models:
        model_id = kit.guarded(_log_model, results, cfg.registered_model_name)
    if isinstance(results, ResultsWrapper):
        metrics = {k: float(v) for k, v in results_metrics(results).items()}
        kit.guarded(fluent.log_metrics, metrics, run_id=run_id, model_id=model_id)
        kit.guarded(_log_summary, run_id, results)


def _log_model(results: Any, registered_model_name: str | None) -> str | None:
    from fsregistry.statsmodels import log_model

    return log_model(results, name="model", registered_model_name=registered_model_name).model_id


def _log_summary(run_id: str, results: Any) -> None:
    fluent.log_text(results.summary().as_text(), "model_summary.txt", run_id=run_id)


__all__ = [
    "AUTOLOGGING_TAG",
    "FLAVOR_NAME",
    "METRICS",
    "AutologConfig",
    "fit_params",
    "install",
    "kit",
    "results_metrics",
    "uninstall",
]
