"""``mlflow.xgboost.autolog`` for fsregistry: ``xgboost.train`` and the scikit-learn API
``fit`` log a run.

Patching (reversible: ``autolog(disable=True)`` restores every original): ``xgboost.train``,
``xgboost.sklearn.train`` (what the scikit-learn API calls), ``xgboost.DMatrix.__init__``
(keeps the first 5 rows of its data: the input example) and the ``fit`` of every
``xgboost.sklearn.XGBModel`` subclass. What one outermost call logs, as MLflow 3.17 does:

* with no active run, a run is started with the tags ``mlflow.autologging=xgboost`` and
  ``extra_tags`` and ended when the call returns (FAILED if it raises); with
  ``exclusive=True`` a user's active run gets nothing;
* params: the booster ``params`` dict's entries, then ``train``'s other arguments and the
  defaults of those not given (``num_boost_round``, ``early_stopping_rounds``, ``maximize``,
  ``verbose_eval``, ``custom_metric``; not ``dtrain``, ``evals``, ``obj``, ``feval``,
  ``evals_result``, ``xgb_model``, ``callbacks``, ``learning_rates``);
* datasets (``log_datasets``): ``dtrain``'s data (``DMatrix.get_data()``, as a numpy
  dataset) with context ``train``, and each ``evals`` entry (given by keyword) named by its
  eval name with context ``eval``;
* metrics: ``<eval name>-<metric>`` after each iteration at ``step`` = the iteration (``@``
  in a metric name becomes ``_at_``); with ``early_stopping_rounds``: ``stopped_iteration``
  and ``best_iteration`` at step 0 and the best iteration's metrics at step = the number of
  iterations, all three naming the training dataset;
* ``feature_importance_<type>.json`` for each of ``importance_types`` (default
  ``["weight"]``) and, with matplotlib installed, ``feature_importance_<type>.png``;
* the model (``log_models``): a LoggedModel ``model`` created before training (the metrics
  link to it) and filled after it by :func:`fsregistry.xgboost.log_model` (``model_format``,
  ``registered_model_name``), with a signature inferred from the input example
  (``log_model_signatures``) and the example itself (``log_input_examples``).

An ``XGBClassifier``/``XGBRegressor``... ``fit`` logs the same params, metrics, datasets and
importance through the ``train`` it calls, and then the estimator itself as the ``model``
LoggedModel (its input example: the first 5 rows of ``X``).

Any failure while logging is a warning (none with ``silent=True``); training itself always
runs and its result or exception is what the caller sees. Differs from MLflow: the
post-training metrics of the scikit-learn API models (``predict`` then ``sklearn.metrics``)
are not logged; a run's metric lines do not name the dataset (the LoggedModel's do), as in
:mod:`fsregistry.sklearn.autologging`.
"""

from __future__ import annotations

import importlib
from typing import Any

from fsregistry import fluent
from fsregistry.flavors import boosting
from fsregistry.flavors.autolog import Autologger, AutologRun
from fsregistry.flavors.boosting import BoostingConfig

FLAVOR_NAME = "xgboost"
_UNLOGGED = (
    "params",
    "dtrain",
    "evals",
    "obj",
    "feval",
    "evals_result",
    "xgb_model",
    "callbacks",
    "learning_rates",
)

kit: Autologger[BoostingConfig] = Autologger(FLAVOR_NAME)


def install(cfg: BoostingConfig) -> None:
    """Patch xgboost (after undoing earlier patches) with ``cfg``."""
    xgb = importlib.import_module("xgboost")

    def patch() -> None:
        boosting.capture_examples(kit, xgb.DMatrix)
        boosting.patch_train(kit, xgb, "train", True, train_impl)
        boosting.patch_train(kit, xgb.sklearn, "train", False, train_impl)
        for cls in estimators_to_patch():
            boosting.patch_fit(kit, cls, _log_estimator)

    kit.install(cfg, patch)


def uninstall() -> None:
    """Restore every patched xgboost attribute."""
    kit.uninstall()


def estimators_to_patch() -> list[type]:
    """The scikit-learn API classes: every ``XGBModel`` subclass in ``xgboost.sklearn``."""
    xgb = importlib.import_module("xgboost")
    base = xgb.sklearn.XGBModel
    return sorted(
        (
            c
            for c in vars(xgb.sklearn).values()
            if isinstance(c, type) and issubclass(c, base) and c is not base
        ),
        key=lambda c: c.__name__,
    )


def _callback(recorder: boosting.IterationMetrics) -> Any:
    base: Any = importlib.import_module("xgboost").callback.TrainingCallback

    class FsregAutologCallback(base):  # type: ignore[misc]
        def after_iteration(self, model: Any, epoch: int, evals_log: Any) -> bool:
            values = {
                f"{data}-{name}": history[-1]
                for data, metrics in evals_log.items()
                for name, history in metrics.items()
            }
            kit.guarded(recorder.record, values, epoch)
            return False

    return FsregAutologCallback()


def train_impl(
    cfg: BoostingConfig,
    run: AutologRun,
    original: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    log_models: bool,
) -> Any:
    """One logged ``train``: params, datasets, the LoggedModel, then training with the
    metrics callback, the model, early-stopping metrics and feature importance."""
    import inspect

    run_id = run.run_id
    client = fluent._client()
    booster_params = args[0] if args else kwargs.get("params", {})
    fn_params = boosting.call_params(original, args, kwargs, _UNLOGGED)

    def log_params() -> None:
        client.log_batch(run_id, params=kit.params(dict(booster_params or {})))
        client.log_batch(run_id, params=kit.params(fn_params))

    kit.guarded(log_params)
    dtrain = args[1] if len(args) > 1 else kwargs.get("dtrain")
    dataset = None
    if cfg.log_datasets and dtrain is not None:
        dataset = kit.guarded(_log_datasets, run_id, dtrain, kwargs.get("evals"))
    model_id = None
    if log_models:
        model_id = kit.guarded(_new_logged_model)
    names = list(inspect.signature(original).parameters)
    recorder = boosting.IterationMetrics(kit, run_id, model_id)
    at = names.index("callbacks")
    callback = _callback(recorder)
    if len(args) > at:
        args = (*args[:at], [*(args[at] or []), callback], *args[at + 1 :])
    else:
        kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), callback]
    with recorder.recording():
        model = original(*args, **kwargs)
    if log_models:
        kit.guarded(_log_booster, cfg, model, dtrain, model_id)
    early = len(args) > names.index("early_stopping_rounds") or kwargs.get("early_stopping_rounds")
    if early and recorder.results:
        stop = len(recorder.results)
        kit.guarded(
            lambda: boosting.log_early_stopping(
                kit,
                run_id,
                stop - 1,
                model.best_iteration,
                recorder.results[model.best_iteration],
                stop,
                dataset,
                model_id,
            )
        )
    for imp_type in cfg.importance_types:
        kit.guarded(_log_importance, run_id, model, imp_type)
    return model


def _log_datasets(run_id: str, dtrain: Any, evals: Any) -> Any:
    """The training dataset (returned) and each named eval dataset."""
    dataset = boosting.log_dataset(kit, run_id, dtrain.get_data(), None, "train")
    for data, name in evals or ():
        boosting.log_dataset(kit, run_id, data.get_data(), None, "eval", name)
    return dataset


def _new_logged_model() -> str:
    from fsregistry.logged_model_api import initialize_logged_model

    return initialize_logged_model("model").model_id


def _log_booster(cfg: BoostingConfig, model: Any, dtrain: Any, model_id: str | None) -> None:
    xgb = importlib.import_module("xgboost")
    from fsregistry.xgboost import log_model

    example, signature = boosting.example_and_signature(
        kit,
        cfg,
        lambda: boosting.input_example_of(dtrain),
        lambda e: model.predict(xgb.DMatrix(e)),
    )
    log_model(
        model,
        "model",
        signature=signature,
        input_example=example,
        registered_model_name=cfg.registered_model_name,
        model_format=cfg.model_format,
        model_id=model_id,
    )


def _log_estimator(cfg: BoostingConfig, estimator: Any, example: Any, signature: Any) -> None:
    from fsregistry.xgboost import log_model

    log_model(
        estimator,
        "model",
        signature=signature,
        input_example=example,
        registered_model_name=cfg.registered_model_name,
        model_format=cfg.model_format,
    )


def _log_importance(run_id: str, model: Any, imp_type: str) -> None:
    booster = model.get_booster() if hasattr(model, "get_booster") else model
    importance = booster.get_score(importance_type=imp_type)
    boosting.log_importance(kit, run_id, imp_type, importance)
