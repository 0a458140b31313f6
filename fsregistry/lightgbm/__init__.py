"""``mlflow.lightgbm`` for fsregistry: save, log and load LightGBM models.

Boosters (``lightgbm.Booster``) are saved with their own ``save_model`` as ``model.lgb`` (a
text format: loading runs no code). scikit-learn API models (``LGBMClassifier``,
``LGBMRegressor``, ``LGBMRanker``) are serialized as scikit-learn models are
(:mod:`fsregistry.sklearn`): ``cloudpickle`` by default, ``pickle``, or ``skops`` (MLflow 3's
default, the safer format; MLflow 2.x reads only cloudpickle here, which is why it is not the
default). The MLmodel entry is MLflow 3's (``lgb_version``, ``data``, ``model_class``,
``code``, ``serialization_format``, ``skops_trusted_types``) beside ``python_function`` with
``loader_module: mlflow.lightgbm``. Needs ``pip install 'fsregistry[lightgbm]'``.
"""

from __future__ import annotations

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

FLAVOR_NAME = "lightgbm"
BOOSTER_CLASS = "lightgbm.basic.Booster"
#: Types MLflow 3 trusts in skops files of LightGBM scikit-learn API models.
SKOPS_TRUSTED_TYPES = (
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
)
FLAVOR = kit.Flavor(
    name=FLAVOR_NAME,
    package="lightgbm",
    extra="lightgbm",
    version_key="lgb_version",
    loader_module="mlflow.lightgbm",
)


def get_default_pip_requirements(
    include_cloudpickle: bool = False, include_skops: bool = False
) -> list[str]:
    """Pinned lightgbm (and cloudpickle / skops when a scikit-learn API model uses them)."""
    from fsregistry.models.environment import pinned

    reqs = [FLAVOR.requirement()]
    if include_cloudpickle:
        reqs.append(pinned("cloudpickle"))
    if include_skops:
        reqs.append(pinned("skops"))
    return reqs


def get_default_conda_env(
    include_cloudpickle: bool = False, include_skops: bool = False
) -> dict[str, Any]:
    """MLflow's conda environment with :func:`get_default_pip_requirements` (conda-forge)."""
    from fsregistry.models.environment import conda_env

    return conda_env(get_default_pip_requirements(include_cloudpickle, include_skops))


def save_model(
    lgb_model: Any,
    path: str | os.PathLike[str],
    conda_env: dict[str, Any] | str | None = None,
    code_paths: Sequence[str] | None = None,
    mlflow_model: Model | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    metadata: dict[str, Any] | None = None,
    serialization_format: str | None = None,
    skops_trusted_types: Sequence[str] | None = None,
    extra_files: Sequence[str] | None = None,
    **kwargs: Any,
) -> None:
    """Save a LightGBM Booster or scikit-learn API model at ``path`` (new or empty).

    ``serialization_format`` (scikit-learn API models only) defaults to ``cloudpickle``, not
    MLflow 3's ``skops``, so that MLflow 2.x loads the model too. ``kwargs`` go to
    ``Booster.save_model`` (MLflow ignores them). An object that is not a LightGBM model is an
    ``InvalidParameterValue`` before anything is written.
    """
    from fsregistry import sklearn as fsk

    lgb = FLAVOR.require()
    if not isinstance(lgb_model, lgb.Booster | lgb.LGBMModel):
        raise InvalidParameterValue(
            f"lgb_model must be a lightgbm.Booster or a LightGBM scikit-learn API model, got "
            f"{type(lgb_model).__module__}.{type(lgb_model).__name__}"
        )
    fmt = serialization_format or fsk.SERIALIZATION_FORMAT_CLOUDPICKLE
    if fmt not in fsk.SUPPORTED_SERIALIZATION_FORMATS:
        raise fsk._unrecognized_format(fmt)
    trusted = fsk._check_trusted_types(skops_trusted_types)
    if fmt == fsk.SERIALIZATION_FORMAT_SKOPS:
        trusted = sorted(set(SKOPS_TRUSTED_TYPES) | set(trusted or []))
    booster = isinstance(lgb_model, lgb.Booster)
    if kwargs and not booster:
        raise InvalidParameterValue(
            f"Unexpected arguments {sorted(kwargs)}: only a Booster's save_model takes any"
        )
    if booster:
        data = "model.lgb"
    else:
        data = "model.skops" if fmt == fsk.SERIALIZATION_FORMAT_SKOPS else "model.pkl"

    def write(model_dir: str) -> kit.SavedData:
        target = os.path.join(model_dir, data)
        if booster:
            lgb_model.save_model(target, **kwargs)
        else:
            fsk._dump(lgb_model, target, fmt, trusted)
        return kit.SavedData(
            data=data,
            conf={
                "model_class": kit.class_name(lgb_model),
                "serialization_format": fmt,
                "skops_trusted_types": trusted,
            },
            scan=[] if booster else [data],
            requirements=get_default_pip_requirements(
                not booster and fmt == fsk.SERIALIZATION_FORMAT_CLOUDPICKLE,
                not booster and fmt == fsk.SERIALIZATION_FORMAT_SKOPS,
            ),
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
        _LGBModelWrapper(lgb_model).predict,
        (lgb.basic.LightGBMError,),
    )


def log_model(
    lgb_model: Any,
    name: str | None = None,
    conda_env: dict[str, Any] | str | None = None,
    code_paths: Sequence[str] | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    metadata: dict[str, Any] | None = None,
    extra_files: Sequence[str] | None = None,
    serialization_format: str | None = None,
    skops_trusted_types: Sequence[str] | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a LightGBM model as an MLflow 3 LoggedModel named ``name`` (``models:/<model_id>``; no run is started).

    Same as :func:`fsregistry.sklearn.log_model` for ``name``, ``artifact_path``, ``run_id``,
    ``tags`` and ``registered_model_name``; ``await_registration_for`` is accepted and ignored.
    """
    return kit.log_model(
        sys.modules[__name__],
        name=name,
        registered_model_name=registered_model_name,
        metadata=metadata,
        lgb_model=lgb_model,
        conda_env=conda_env,
        code_paths=code_paths,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        extra_files=extra_files,
        serialization_format=serialization_format,
        skops_trusted_types=skops_trusted_types,
        **kwargs,
    )


def _load(local: kit.LocalModel, skops_trusted_types: Sequence[str] | None = None) -> Any:
    from fsregistry import sklearn as fsk

    lgb = FLAVOR.require()
    path = local.file()
    model_class = str(local.conf.get("model_class", BOOSTER_CLASS))
    errors = (lgb.basic.LightGBMError,)
    if model_class == BOOSTER_CLASS:
        with kit.reading(FLAVOR, path, errors):
            if not os.path.isfile(path):
                raise FileNotFoundError(f"no file {path}")
            return lgb.Booster(model_file=path)
    trusted = fsk._check_trusted_types(
        skops_trusted_types
        if skops_trusted_types is not None
        else local.conf.get("skops_trusted_types")
    )
    fmt = local.conf.get("serialization_format", fsk.SERIALIZATION_FORMAT_CLOUDPICKLE)
    with kit.reading(FLAVOR, path, errors):
        return fsk._load_from_file(path, fmt, trusted)


def load_model(
    model_uri: str,
    dst_path: str | None = None,
    *,
    verify: bool = True,
    expected_digest: str | None = None,
    skops_trusted_types: Sequence[str] | None = None,
) -> Any:
    """Load the LightGBM model (Booster or scikit-learn API model) at ``model_uri``.

    Files are checked against their recorded hashes first (``verify``); ``skops_trusted_types``
    replaces the list the model declares; another lightgbm major version warns.
    """
    local = kit.load_local(FLAVOR, model_uri, dst_path, verify, expected_digest)
    return _load(local, skops_trusted_types)


class _LGBModelWrapper(kit.ModelWrapper):
    """pyfunc implementation: the model's ``predict`` on the input (params are ignored, as in
    MLflow)."""

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.model.predict(data)


def _load_pyfunc(path: str) -> _LGBModelWrapper:
    """pyfunc loader for ``loader_module: mlflow.lightgbm`` (``path``: model dir or data file)."""
    return _LGBModelWrapper(_load(kit.pyfunc_model_dir(FLAVOR, path)))


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    extra_tags: dict[str, Any] | None = None,
) -> None:
    """Enable (or disable) autologging of ``lightgbm.train`` and the scikit-learn API ``fit``
    (see :mod:`fsregistry.lightgbm.autologging`). Differs: scikit-learn API models are saved
    with ``cloudpickle``, not ``skops``; no post-training metrics;
    ``disable_for_unsupported_versions`` has no effect."""
    from fsregistry.flavors.boosting import BoostingConfig
    from fsregistry.lightgbm import autologging

    if disable:
        autologging.uninstall()
        return
    FLAVOR.require()
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
