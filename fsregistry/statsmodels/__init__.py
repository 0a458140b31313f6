"""``mlflow.statsmodels`` for fsregistry: save, log and load fitted statsmodels results.

The results object is saved with its own ``save`` (a pickle) as ``model.statsmodels``;
``remove_data=True`` drops the arrays of length ``nobs`` first (statsmodels'
``remove_data``). The MLmodel entry is MLflow's (``statsmodels_version``, ``data``, ``code``)
beside ``python_function`` with ``loader_module: mlflow.statsmodels``. pyfunc's ``predict``
calls ``results.predict(data)``; for time-series models the input is one row with ``start``
and ``end`` columns (as in MLflow). Needs ``pip install 'fsregistry[statsmodels]'``.

**Loading runs code from the store** (it is a pickle); the model's files are checked against
the hashes recorded when it was saved first (``verify=True``). MLflow 3 refuses to load such
models unless ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION=true``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

from fsregistry import flavors as kit
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.model import Model, ModelInfo
from fsregistry.models.signature import ModelSignature

FLAVOR_NAME = "statsmodels"
STATSMODELS_DATA_SUBPATH = "model.statsmodels"
FLAVOR = kit.Flavor(
    name=FLAVOR_NAME,
    package="statsmodels",
    extra="statsmodels",
    version_key="statsmodels_version",
    loader_module="mlflow.statsmodels",
)


def get_default_pip_requirements() -> list[str]:
    """Pinned statsmodels."""
    return [FLAVOR.requirement()]


def get_default_conda_env() -> dict[str, Any]:
    """MLflow's conda environment with :func:`get_default_pip_requirements` (conda-forge)."""
    from fsregistry.models.environment import conda_env

    return conda_env(get_default_pip_requirements())


def _is_results(obj: Any) -> bool:
    from statsmodels.base.model import Results
    from statsmodels.base.wrapper import ResultsWrapper

    return isinstance(obj, Results | ResultsWrapper)


def save_model(
    statsmodels_model: Any,
    path: str | os.PathLike[str],
    conda_env: dict[str, Any] | str | None = None,
    code_paths: Sequence[str] | None = None,
    mlflow_model: Model | None = None,
    remove_data: bool = False,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    metadata: dict[str, Any] | None = None,
    extra_files: Sequence[str] | None = None,
) -> None:
    """Save fitted statsmodels results at ``path`` (new or empty).

    Unlike MLflow, an object that is not fitted results (an unfitted model, say) is an
    ``InvalidParameterValue`` before anything is written.
    """
    FLAVOR.require()
    if not _is_results(statsmodels_model):
        raise InvalidParameterValue(
            "statsmodels_model must be fitted statsmodels results (what a model's fit() "
            f"returns), got {type(statsmodels_model).__module__}."
            f"{type(statsmodels_model).__name__}"
        )
    if not isinstance(remove_data, bool):
        raise InvalidParameterValue(f"remove_data must be a bool, got {remove_data!r}")

    def write(model_dir: str) -> kit.SavedData:
        statsmodels_model.save(os.path.join(model_dir, STATSMODELS_DATA_SUBPATH), remove_data)
        return kit.SavedData(data=STATSMODELS_DATA_SUBPATH, scan=[STATSMODELS_DATA_SUBPATH])

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
        _StatsmodelsModelWrapper(statsmodels_model).predict,
    )


def log_model(
    statsmodels_model: Any,
    name: str | None = None,
    conda_env: dict[str, Any] | str | None = None,
    code_paths: Sequence[str] | None = None,
    registered_model_name: str | None = None,
    remove_data: bool = False,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    metadata: dict[str, Any] | None = None,
    extra_files: Sequence[str] | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log fitted statsmodels results as an MLflow 3 LoggedModel named ``name`` (``models:/<model_id>``; no run is started).

    Same as :func:`fsregistry.sklearn.log_model` for ``name``, ``artifact_path``, ``run_id``,
    ``tags`` and ``registered_model_name``; ``await_registration_for`` is accepted and ignored.
    """
    return kit.log_model(
        sys.modules[__name__],
        name=name,
        registered_model_name=registered_model_name,
        metadata=metadata,
        statsmodels_model=statsmodels_model,
        conda_env=conda_env,
        code_paths=code_paths,
        remove_data=remove_data,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        extra_files=extra_files,
        **kwargs,
    )


def _load(local: kit.LocalModel) -> Any:
    import statsmodels.iolib.api as smio

    path = local.file(local.conf.get("data", STATSMODELS_DATA_SUBPATH))
    with kit.reading(FLAVOR, path):
        model = smio.load_pickle(path)
    if not _is_results(model):
        raise InvalidParameterValue(
            f"The statsmodels model file {path} holds a {type(model).__name__}, not results"
        )
    return model


def load_model(
    model_uri: str,
    dst_path: str | None = None,
    *,
    verify: bool = True,
    expected_digest: str | None = None,
) -> Any:
    """Load the fitted statsmodels results at ``model_uri``.

    Files are checked against their recorded hashes first (``verify``); another statsmodels
    major version warns. MLflow 3 needs ``MLFLOW_ALLOW_PICKLE_DESERIALIZATION``; this does not.
    """
    return _load(kit.load_local(FLAVOR, model_uri, dst_path, verify, expected_digest))


class _StatsmodelsModelWrapper(kit.ModelWrapper):
    """pyfunc implementation: ``results.predict(data)``; a time-series model predicts from
    ``start`` to ``end`` given as the one row of the input (as in MLflow)."""

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        from statsmodels.tsa.base.tsa_model import TimeSeriesModel

        if isinstance(self.model.model, TimeSeriesModel):
            columns = getattr(data, "columns", ())
            if getattr(data, "shape", (0,))[0] != 1 or not {"start", "end"} <= set(columns):
                raise InvalidParameterValue(
                    "prediction dataframes for a TimeSeriesModel must have exactly one row "
                    "and include columns called start and end"
                )
            row = data.iloc[0]
            return self.model.predict(start=row["start"], end=row["end"])
        return self.model.predict(data)


def autolog(
    log_models: bool = True,
    log_datasets: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    registered_model_name: str | None = None,
    extra_tags: dict[str, Any] | None = None,
) -> None:
    """Enable (or, with ``disable=True``, undo) statsmodels autologging; see
    :mod:`fsregistry.statsmodels.autologging`. Differs: ``disable_for_unsupported_versions``
    has no effect; ``log_datasets`` has none in MLflow either."""
    from fsregistry.statsmodels import autologging

    extra_tags = kit.checked_extra_tags(extra_tags)
    if disable:
        autologging.uninstall()
        return
    FLAVOR.require()
    tags = {k: v for k, v in extra_tags.items() if k != autologging.AUTOLOGGING_TAG}
    autologging.install(
        autologging.AutologConfig(
            log_models=log_models,
            log_datasets=log_datasets,
            exclusive=exclusive,
            silent=silent,
            registered_model_name=registered_model_name,
            extra_tags=tags,
        )
    )


def _load_pyfunc(path: str) -> _StatsmodelsModelWrapper:
    """pyfunc loader for ``loader_module: mlflow.statsmodels`` (``path``: model dir or data)."""
    return _StatsmodelsModelWrapper(_load(kit.pyfunc_model_dir(FLAVOR, path)))


__all__ = [
    "FLAVOR_NAME",
    "STATSMODELS_DATA_SUBPATH",
    "autolog",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
]
