"""``mlflow.lightgbm.autolog`` for fsregistry: ``lightgbm.train`` and the scikit-learn API
``fit`` log a run.

Patching (reversible: ``autolog(disable=True)`` restores every original): ``lightgbm.train``,
``lightgbm.sklearn.train`` (what the scikit-learn API calls), ``lightgbm.Dataset.__init__``
(keeps the first 5 rows of its data: the input example) and the ``fit`` of every
scikit-learn API class of ``lightgbm.sklearn`` (``LGBMClassifier``, ``LGBMRegressor``,
``LGBMRanker``...). What one outermost call logs, as MLflow 3.17 does:

* with no active run, a run is started with the tags ``mlflow.autologging=lightgbm`` and
  ``extra_tags`` and ended when the call returns (FAILED if it raises); with
  ``exclusive=True`` a user's active run gets nothing;
* params: the ``params`` dict's entries, then ``train``'s other arguments and the defaults of
  those not given (``num_boost_round``, ``keep_training_booster``; not ``train_set``,
  ``valid_sets``, ``valid_names``, ``fobj``, ``feval``, ``init_model``, ``learning_rates``,
  ``callbacks``);
* datasets (``log_datasets``): ``train_set``'s data and label with context ``train``, and
  each of ``valid_sets`` (given by keyword) with context ``eval``, named by ``valid_names``
  when given;
* metrics: ``<valid name>-<metric>`` after each iteration at ``step`` = the iteration;
  when training stopped early (``best_iteration > 0``): ``stopped_iteration`` (the number of
  iterations) and ``best_iteration`` at step 0 and the best iteration's metrics at step = the
  number of iterations;
* ``feature_importance_split.json`` and ``feature_importance_gain.json`` (indented) and,
  with matplotlib installed, their ``.png`` bar charts;
* the model (``log_models``): a LoggedModel ``model`` created before training (the metrics
  link to it) and filled after it by :func:`fsregistry.lightgbm.log_model`
  (``registered_model_name``), with a signature inferred from the input example
  (``log_model_signatures``) and the example itself (``log_input_examples``).

An ``LGBMClassifier``/``LGBMRegressor``... ``fit`` logs the same params, metrics, datasets
and importance through the ``train`` it calls, and then the estimator itself as the
``model`` LoggedModel (its input example: the first 5 rows of ``X``).

Any failure while logging is a warning (none with ``silent=True``); training itself always
runs and its result or exception is what the caller sees. Differs from MLflow: scikit-learn
API models are saved with fsregistry's default ``cloudpickle`` (MLflow 3: ``skops``; see
:mod:`fsregistry.lightgbm`); no post-training metrics; a run's metric lines do not name a
dataset.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from fsregistry import fluent
from fsregistry.flavors import boosting
from fsregistry.flavors.autolog import Autologger, AutologRun
from fsregistry.flavors.boosting import BoostingConfig

FLAVOR_NAME = "lightgbm"
IMPORTANCE_TYPES = ("split", "gain")
_UNLOGGED = (
    "params",
    "train_set",
    "valid_sets",
    "valid_names",
    "fobj",
    "feval",
    "init_model",
    "learning_rates",
    "callbacks",
)

kit: Autologger[BoostingConfig] = Autologger(FLAVOR_NAME)


def install(cfg: BoostingConfig) -> None:
    """Patch lightgbm (after undoing earlier patches) with ``cfg``."""
    lgb = importlib.import_module("lightgbm")

    def patch() -> None:
        boosting.capture_examples(kit, lgb.Dataset)
        boosting.patch_train(kit, lgb, "train", True, train_impl)
        boosting.patch_train(kit, lgb.sklearn, "train", False, train_impl)
        for cls in estimators_to_patch():
            boosting.patch_fit(kit, cls, _log_estimator)

    kit.install(cfg, patch)


def uninstall() -> None:
    """Restore every patched lightgbm attribute."""
    kit.uninstall()


def estimators_to_patch() -> list[type]:
    """The scikit-learn API classes of ``lightgbm.sklearn`` (subclasses of its model base)."""
    lgb = importlib.import_module("lightgbm")
    base = lgb.sklearn._LGBMModelBase
    return sorted(
        (
            c
            for c in vars(lgb.sklearn).values()
            if isinstance(c, type)
            and c.__module__.split(".")[0] == "lightgbm"
            and issubclass(c, base)
            and c is not base
        ),
        key=lambda c: c.__name__,
    )


def _callback(recorder: boosting.IterationMetrics) -> Any:
    def fsreg_autolog_callback(env: Any) -> None:
        values = {f"{data}-{name}": value for data, name, value, *_ in env.evaluation_result_list}
        kit.guarded(recorder.record, values, env.iteration)

    return fsreg_autolog_callback


def train_impl(
    cfg: BoostingConfig,
    run: AutologRun,
    original: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    log_models: bool,
) -> Any:
    """One logged ``train``: params, datasets, the LoggedModel, then training with the
    metrics callback, early-stopping metrics, feature importance and the model."""
    run_id = run.run_id
    client = fluent._client()
    booster_params = args[0] if args else kwargs.get("params", {})
    fn_params = boosting.call_params(original, args, kwargs, _UNLOGGED)

    def log_params() -> None:
        client.log_batch(run_id, params=kit.params(dict(booster_params or {})))
        client.log_batch(run_id, params=kit.params(fn_params))

    kit.guarded(log_params)
    train_set = args[1] if len(args) > 1 else kwargs.get("train_set")
    if cfg.log_datasets and train_set is not None:
        kit.guarded(
            _log_datasets, run_id, train_set, kwargs.get("valid_sets"), kwargs.get("valid_names")
        )
    model_id = kit.guarded(_new_logged_model) if log_models else None
    recorder = boosting.IterationMetrics(kit, run_id, model_id)
    at = list(inspect.signature(original).parameters).index("callbacks")
    callback = _callback(recorder)
    if len(args) > at:
        args = (*args[:at], [*(args[at] or []), callback], *args[at + 1 :])
    else:
        kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), callback]
    with recorder.recording():
        model = original(*args, **kwargs)
    if model.best_iteration > 0 and len(recorder.results) >= model.best_iteration:
        stop = len(recorder.results)
        kit.guarded(
            lambda: boosting.log_early_stopping(
                kit,
                run_id,
                stop,
                model.best_iteration,
                recorder.results[model.best_iteration - 1],
                stop,
                None,
                model_id,
            )
        )
    for imp_type in IMPORTANCE_TYPES:
        kit.guarded(_log_importance, run_id, model, imp_type)
    if log_models:
        kit.guarded(_log_booster, cfg, model, train_set, model_id)
    return model


def _log_datasets(run_id: str, train_set: Any, valid_sets: Any, valid_names: Any) -> None:
    boosting.log_dataset(kit, run_id, train_set.data, train_set.label, "train")
    names = list(valid_names) if valid_names is not None else [None] * len(valid_sets or ())
    for valid, name in zip(valid_sets or (), names, strict=False):
        boosting.log_dataset(kit, run_id, valid.data, valid.label, "eval", name)


def _new_logged_model() -> str:
    from fsregistry.logged_model_api import initialize_logged_model

    return initialize_logged_model("model").model_id


def _log_booster(cfg: BoostingConfig, model: Any, train_set: Any, model_id: str | None) -> None:
    from fsregistry.lightgbm import log_model

    example, signature = boosting.example_and_signature(
        kit, cfg, lambda: boosting.input_example_of(train_set), model.predict
    )
    log_model(
        model,
        "model",
        signature=signature,
        input_example=example,
        registered_model_name=cfg.registered_model_name,
        model_id=model_id,
    )


def _log_estimator(cfg: BoostingConfig, estimator: Any, example: Any, signature: Any) -> None:
    from fsregistry.lightgbm import log_model

    log_model(
        estimator,
        "model",
        signature=signature,
        input_example=example,
        registered_model_name=cfg.registered_model_name,
    )


def _log_importance(run_id: str, model: Any, imp_type: str) -> None:
    features = model.feature_name()
    values = model.feature_importance(importance_type=imp_type).tolist()
    boosting.log_importance(kit, run_id, imp_type, dict(zip(features, values, strict=False)), 2)
