"""``mlflow.xgboost`` for fsregistry: save, log and load XGBoost models.

Boosters (``xgboost.Booster``) and scikit-learn API models (``XGBClassifier``,
``XGBRegressor``...) are saved with their own ``save_model`` as ``model.<model_format>``
(``ubj``, the default, ``json`` or ``xgb``): no pickle, so loading runs no code from the store.
The MLmodel entry is MLflow's (``xgb_version``, ``data``, ``model_class``, ``model_format``,
``code``) beside ``python_function`` with ``loader_module: mlflow.xgboost``, so MLflow 2.22
and 3.x load these models with ``mlflow.xgboost.load_model`` and ``mlflow.pyfunc.load_model``,
and fsregistry loads theirs. Needs ``pip install 'fsregistry[xgboost]'`` (``xgboost-cpu``, or
``xgboost``); the pinned requirement is whichever of the two is installed.
"""

from __future__ import annotations

import inspect
import logging
import os
import sys
from collections.abc import Sequence
from typing import Any

from fsregistry import flavors as kit
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.model import Model, ModelInfo
from fsregistry.models.signature import ModelSignature

_logger = logging.getLogger(__name__)

FLAVOR_NAME = "xgboost"
MODEL_FORMATS = ("ubj", "json", "xgb")
FLAVOR = kit.Flavor(
    name=FLAVOR_NAME,
    package="xgboost",
    extra="xgboost",
    version_key="xgb_version",
    loader_module="mlflow.xgboost",
)


def get_default_pip_requirements() -> list[str]:
    """The installed xgboost distribution, pinned (``xgboost-cpu`` where that is installed;
    MLflow always writes ``xgboost``)."""
    return [FLAVOR.requirement()]


def get_default_conda_env() -> dict[str, Any]:
    """MLflow's conda environment with :func:`get_default_pip_requirements` (conda-forge)."""
    from fsregistry.models.environment import conda_env

    return conda_env(get_default_pip_requirements())


def _errors(xgb: Any) -> tuple[type[BaseException], ...]:
    return (xgb.core.XGBoostError,)


def save_model(
    xgb_model: Any,
    path: str | os.PathLike[str],
    conda_env: dict[str, Any] | str | None = None,
    code_paths: Sequence[str] | None = None,
    mlflow_model: Model | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    model_format: str = "ubj",
    metadata: dict[str, Any] | None = None,
    extra_files: Sequence[str] | None = None,
    **kwargs: Any,
) -> None:
    """Save an XGBoost Booster or scikit-learn API model at ``path`` (new or empty).

    Unlike MLflow, an object that is not an XGBoost model or an unknown ``model_format`` is an
    ``InvalidParameterValue`` before anything is written. ``kwargs`` go to the model's
    ``save_model``.
    """
    xgb = FLAVOR.require()
    if not isinstance(xgb_model, xgb.Booster | xgb.XGBModel):
        raise InvalidParameterValue(
            f"xgb_model must be an xgboost.Booster or an XGBoost scikit-learn API model, got "
            f"{type(xgb_model).__module__}.{type(xgb_model).__name__}"
        )
    if model_format not in MODEL_FORMATS:
        raise InvalidParameterValue(
            f"Unsupported model_format {model_format!r}: expected one of {list(MODEL_FORMATS)}"
        )
    data = f"model.{model_format}"

    def write(model_dir: str) -> kit.SavedData:
        xgb_model.save_model(os.path.join(model_dir, data), **kwargs)
        return kit.SavedData(
            data=data,
            conf={"model_class": kit.class_name(xgb_model), "model_format": model_format},
            requirements=get_default_pip_requirements(),
        )

    kit.save_model(
        FLAVOR,
        path,
        kit.ModelOptions(
            conda_env=conda_env,
            code_paths=code_paths,
            mlflow_model=mlflow_model,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            metadata=metadata,
            extra_files=extra_files,
        ),
        write,
        _XGBModelWrapper(xgb_model).predict,
        _errors(xgb),
    )


def log_model(
    xgb_model: Any,
    name: str | None = None,
    conda_env: dict[str, Any] | str | None = None,
    code_paths: Sequence[str] | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    model_format: str = "ubj",
    metadata: dict[str, Any] | None = None,
    extra_files: Sequence[str] | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log an XGBoost model as an MLflow 3 LoggedModel named ``name`` (``models:/<model_id>``; no run is started).

    Same as :func:`fsregistry.sklearn.log_model` for ``name``, ``artifact_path``, ``run_id``,
    ``tags`` and ``registered_model_name``; ``await_registration_for`` is accepted and ignored.
    """
    return kit.log_model(
        sys.modules[__name__],
        name=name,
        registered_model_name=registered_model_name,
        metadata=metadata,
        xgb_model=xgb_model,
        conda_env=conda_env,
        code_paths=code_paths,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        model_format=model_format,
        extra_files=extra_files,
        **kwargs,
    )


def _load(local: kit.LocalModel) -> Any:
    xgb = FLAVOR.require()
    path = local.file()
    cls = kit.class_from_name(str(local.conf.get("model_class", "xgboost.core.Booster")), "xgboost")
    with kit.reading(FLAVOR, path, _errors(xgb)):
        model = cls()
        model.load_model(path)
    return model


def load_model(
    model_uri: str,
    dst_path: str | None = None,
    *,
    verify: bool = True,
    expected_digest: str | None = None,
) -> Any:
    """Load the XGBoost model (Booster or scikit-learn API class) at ``model_uri``.

    Files are checked against their recorded hashes first (``verify``); a model saved with
    another xgboost major version is loaded with a warning naming both versions.
    """
    return _load(kit.load_local(FLAVOR, model_uri, dst_path, verify, expected_digest))


class _XGBModelWrapper(kit.ModelWrapper):
    """pyfunc implementation: Boosters predict on a ``DMatrix`` of the input; params that the
    model's ``predict`` does not take are dropped with a warning (as MLflow does)."""

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import xgboost as xgb

        fn = self.model.predict
        kwargs = _accepted(fn, dict(params or {}))
        if isinstance(self.model, xgb.Booster):
            return fn(xgb.DMatrix(data), validate_features=True, **kwargs)
        return fn(data, validate_features=True, **kwargs)


def _accepted(fn: Any, params: dict[str, Any]) -> dict[str, Any]:
    allowed = inspect.signature(fn).parameters
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in allowed.values()):
        return params
    dropped = sorted(set(params) - set(allowed))
    if dropped:
        _logger.warning(
            "Params %s are not accepted by the xgboost model, ignoring them during predict.",
            dropped,
        )
    return {k: v for k, v in params.items() if k in allowed}


def _load_pyfunc(path: str) -> _XGBModelWrapper:
    """pyfunc loader for ``loader_module: mlflow.xgboost`` (``path``: model dir or data file)."""
    return _XGBModelWrapper(_load(kit.pyfunc_model_dir(FLAVOR, path)))


def autolog(
    importance_types: list[str] | None = None,
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    model_format: str = "ubj",
    extra_tags: dict[str, Any] | None = None,
) -> None:
    """Enable (or disable) autologging of ``xgboost.train`` and the scikit-learn API ``fit``
    (see :mod:`fsregistry.xgboost.autologging`). Differs: no post-training metrics;
    ``disable_for_unsupported_versions`` has no effect."""
    from fsregistry.flavors.boosting import BoostingConfig
    from fsregistry.xgboost import autologging

    if disable:
        autologging.uninstall()
        return
    FLAVOR.require()
    if model_format not in MODEL_FORMATS:
        raise InvalidParameterValue(
            f"Unsupported model_format {model_format!r}: expected one of {list(MODEL_FORMATS)}"
        )
    autologging.install(
        BoostingConfig(
            log_input_examples=log_input_examples,
            log_model_signatures=log_model_signatures,
            log_models=log_models,
            log_datasets=log_datasets,
            exclusive=exclusive,
            silent=silent,
            registered_model_name=registered_model_name,
            extra_tags=kit.checked_extra_tags(extra_tags),
            importance_types=tuple(["weight"] if importance_types is None else importance_types),
            model_format=model_format,
        )
    )


__all__ = [
    "FLAVOR_NAME",
    "autolog",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]
