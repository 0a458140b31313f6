"""fsregistry: MLflow's tracking and model registry on plain files, no server, no database.

``import fsregistry`` mirrors ``import mlflow`` for what it covers; ``fsregistry.Client``
mirrors ``MlflowClient``. Stores are directories on local disk, S3 or GCS in MLflow's
``mlruns/`` layout. Importing this package loads neither pandas nor the cloud SDKs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fsregistry import artifacts
    from fsregistry import models as models
    from fsregistry import pyfunc as pyfunc
    from fsregistry import sklearn as sklearn
    from fsregistry import types as types
    from fsregistry.client import Client, MlflowClient
    from fsregistry.entities import ViewType
    from fsregistry.exceptions import FsRegistryException, MlflowException
    from fsregistry.fluent import (
        ActiveRun,
        active_run,
        create_experiment,
        delete_experiment,
        delete_run,
        delete_tag,
        end_run,
        get_artifact_uri,
        get_experiment,
        get_experiment_by_name,
        get_registry_uri,
        get_run,
        get_tracking_uri,
        last_active_run,
        log_artifact,
        log_artifacts,
        log_dict,
        log_input,
        log_metric,
        log_metrics,
        log_param,
        log_params,
        log_text,
        register_model,
        search_experiments,
        search_runs,
        set_experiment,
        set_registry_uri,
        set_tag,
        set_tags,
        set_tracking_uri,
        start_run,
    )

from fsregistry.package import __version__

# Everything loads on first use, as ``mlflow`` does for its flavors: ``fsreg --help`` and
# ``fsreg ls models`` import only what they touch, and the flavors and model APIs
# (``fsregistry.sklearn``, ``fsregistry.pyfunc``) pull in pandas/numpy only when used.
_SUBMODULES = frozenset({"artifacts", "models", "pyfunc", "sklearn", "types"})
_EXPORTS: dict[str, str] = {
    "Client": "fsregistry.client",
    "MlflowClient": "fsregistry.client",
    "ViewType": "fsregistry.entities",
    "FsRegistryException": "fsregistry.exceptions",
    "MlflowException": "fsregistry.exceptions",
    "register_model": "fsregistry.fluent",
    "ActiveRun": "fsregistry.fluent",
    "active_run": "fsregistry.fluent",
    "create_experiment": "fsregistry.fluent",
    "delete_experiment": "fsregistry.fluent",
    "delete_run": "fsregistry.fluent",
    "delete_tag": "fsregistry.fluent",
    "end_run": "fsregistry.fluent",
    "get_artifact_uri": "fsregistry.fluent",
    "get_experiment": "fsregistry.fluent",
    "get_experiment_by_name": "fsregistry.fluent",
    "get_registry_uri": "fsregistry.fluent",
    "get_run": "fsregistry.fluent",
    "get_tracking_uri": "fsregistry.fluent",
    "last_active_run": "fsregistry.fluent",
    "log_artifact": "fsregistry.fluent",
    "log_artifacts": "fsregistry.fluent",
    "log_dict": "fsregistry.fluent",
    "log_input": "fsregistry.fluent",
    "log_metric": "fsregistry.fluent",
    "log_metrics": "fsregistry.fluent",
    "log_param": "fsregistry.fluent",
    "log_params": "fsregistry.fluent",
    "log_text": "fsregistry.fluent",
    "search_experiments": "fsregistry.fluent",
    "search_runs": "fsregistry.fluent",
    "set_experiment": "fsregistry.fluent",
    "set_registry_uri": "fsregistry.fluent",
    "set_tag": "fsregistry.fluent",
    "set_tags": "fsregistry.fluent",
    "set_tracking_uri": "fsregistry.fluent",
    "start_run": "fsregistry.fluent",
}


def __getattr__(name: str) -> object:
    if name in _SUBMODULES:
        return importlib.import_module(f"fsregistry.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'fsregistry' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS, *_SUBMODULES})


__all__ = [
    "ActiveRun",
    "Client",
    "FsRegistryException",
    "MlflowClient",
    "MlflowException",
    "ViewType",
    "__version__",
    "active_run",
    "artifacts",
    "create_experiment",
    "delete_experiment",
    "delete_run",
    "delete_tag",
    "end_run",
    "get_artifact_uri",
    "get_experiment",
    "get_experiment_by_name",
    "get_registry_uri",
    "get_run",
    "get_tracking_uri",
    "last_active_run",
    "log_artifact",
    "log_artifacts",
    "log_dict",
    "log_input",
    "log_metric",
    "log_metrics",
    "log_param",
    "log_params",
    "log_text",
    "register_model",
    "search_experiments",
    "search_runs",
    "set_experiment",
    "set_registry_uri",
    "set_tag",
    "set_tags",
    "set_tracking_uri",
    "start_run",
]
