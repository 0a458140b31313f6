"""``env_manager`` values: MLflow's four (``mlflow/utils/env_manager.py``) and the check every
fsregistry entry point taking one (``models.predict``, ``spark_udf``, serving, ``prepare_env``)
makes: MLflow's refusal of an unknown value first, then fsregistry's of an MLflow value the entry
point does not support (``conda`` everywhere, isolated environments in ``spark_udf``)."""

from __future__ import annotations

from collections.abc import Sequence

from fsregistry.exceptions import InvalidParameterValue

LOCAL = "local"
CONDA = "conda"
VIRTUALENV = "virtualenv"
UV = "uv"
#: MLflow's ``env_manager`` values, in MLflow's order (its message lists them so).
MLFLOW_ENV_MANAGERS = (LOCAL, CONDA, VIRTUALENV, UV)


def check_env_manager(env_manager: object, supported: Sequence[str], hint: str = "") -> None:
    """Refuse an ``env_manager`` outside ``supported``: an unknown one with MLflow's message
    (``mlflow/utils/env_manager.py:validate``), an MLflow one fsregistry does not support here
    (MLflow accepts it) with fsregistry's, ``hint`` added to both."""
    if env_manager in supported:
        return
    detail = f"; fsregistry supports {list(supported)} here{hint}"
    if env_manager not in MLFLOW_ENV_MANAGERS:
        raise InvalidParameterValue(
            f"Invalid value for `env_manager`: {env_manager}. "
            f"Must be one of {list(MLFLOW_ENV_MANAGERS)}{detail}"
        )
    conda = " (conda environments are not built by fsregistry)" if env_manager == CONDA else ""
    raise InvalidParameterValue(f"env_manager={env_manager!r} is not supported{conda}{detail}")
