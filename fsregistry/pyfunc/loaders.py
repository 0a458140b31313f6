"""The flavor loader map: which module loads a model whose ``python_function`` flavor names a
given ``loader_module``.

Protocol: :func:`loader` takes the MLmodel's ``loader_module`` and returns that module's
``_load_pyfunc(path[, model_config])``, chosen in this order:

1. :data:`LOADERS`: MLflow's loader modules (``mlflow.sklearn``, ``mlflow.pyfunc.model``,
   ``mlflow.pyfunc.loaders.code_model``, ``mlflow.xgboost``...) and fsregistry's own names map
   to fsregistry's implementation of that flavor;
2. a third-party flavor registered under the entry point group ``fsregistry.flavors``, named
   after the flavor (``mlflow.<name>`` or ``<name>``) or after its loader module;
3. any other module outside ``mlflow.`` is imported as given (a custom loader module, as in
   MLflow's ``importlib.import_module(loader_module)``).

An ``mlflow.<name>`` module with no fsregistry implementation and no registered entry point
raises :class:`~fsregistry.exceptions.InvalidParameterValue` naming the supported ones
(MLflow itself would import its own module). Nothing is imported before the choice is made.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from fsregistry.exceptions import InvalidParameterValue

#: MLflow's loader modules (and fsregistry's own names) and fsregistry's implementation of each.
LOADERS = {
    "mlflow.sklearn": "fsregistry.sklearn",
    "mlflow.pyfunc.model": "fsregistry.pyfunc.model",
    "mlflow.pyfunc.loaders.code_model": "fsregistry.pyfunc.from_code",
    "fsregistry.sklearn": "fsregistry.sklearn",
    "fsregistry.pyfunc.model": "fsregistry.pyfunc.model",
    "mlflow.xgboost": "fsregistry.xgboost",
    "mlflow.lightgbm": "fsregistry.lightgbm",
    "mlflow.statsmodels": "fsregistry.statsmodels",
    "mlflow.onnx": "fsregistry.onnx",
    "mlflow.pytorch": "fsregistry.pytorch",
    "mlflow.spark": "fsregistry.spark",
    "mlflow.h2o": "fsregistry.h2o",
    "mlflow.tensorflow": "fsregistry.tensorflow",
    "mlflow.keras": "fsregistry.keras",
}


def entry_point_loader(loader_module: str) -> str | None:
    """The module a third-party flavor registered (entry point group ``fsregistry.flavors``,
    named after the flavor) for ``mlflow.<flavor>`` or that flavor's own loader module."""
    from importlib.metadata import entry_points

    name = loader_module.removeprefix("mlflow.")
    for ep in entry_points(group="fsregistry.flavors"):
        if ep.name in (name, loader_module):
            return str(ep.value).split(":", 1)[0]
    return None


def loader(loader_module: str) -> Callable[..., Any]:
    """The ``_load_pyfunc`` of the module that loads ``loader_module``'s models."""
    target = LOADERS.get(loader_module) or entry_point_loader(loader_module)
    if target is None and loader_module.startswith("mlflow."):
        supported = sorted(k for k in LOADERS if k.startswith("mlflow."))
        raise InvalidParameterValue(
            f"Unsupported model flavor: loader_module {loader_module!r}. fsregistry loads "
            f"{supported} models; load this one with MLflow"
        )
    module = importlib.import_module(target or loader_module)
    load: Callable[..., Any] = module._load_pyfunc
    return load
