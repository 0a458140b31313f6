"""``mlflow.spark`` for fsregistry: the Spark MLlib flavor (:mod:`fsregistry.spark.flavor`).

Lazy: importing this package imports neither pyspark nor the flavor module; each name loads
on first use (``fsregistry.spark.save_model``...). pyfunc finds the flavor's ``_load_pyfunc``
here for ``loader_module: mlflow.spark``. ``read_runs`` / ``read_metric_histories``
(:mod:`fsregistry.spark.runs`) read a store's runs into Spark DataFrames, in parallel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fsregistry.namespace import lazy_namespace

if TYPE_CHECKING:
    from fsregistry.spark.flavor import FLAVOR_NAME as FLAVOR_NAME
    from fsregistry.spark.flavor import SPARK_MODEL_PATH_SUB as SPARK_MODEL_PATH_SUB
    from fsregistry.spark.flavor import _load_pyfunc as _load_pyfunc
    from fsregistry.spark.flavor import get_default_conda_env as get_default_conda_env
    from fsregistry.spark.flavor import (
        get_default_pip_requirements as get_default_pip_requirements,
    )
    from fsregistry.spark.flavor import load_model as load_model
    from fsregistry.spark.flavor import log_model as log_model
    from fsregistry.spark.flavor import save_model as save_model
    from fsregistry.spark.flavor import spark_session as spark_session
    from fsregistry.spark.runs import read_metric_histories as read_metric_histories
    from fsregistry.spark.runs import read_runs as read_runs

__getattr__, __dir__, _names = lazy_namespace(__name__, __file__)
__all__ = [n for n in _names if not n.startswith("_")]
