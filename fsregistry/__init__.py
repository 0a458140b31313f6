"""fsregistry: MLflow's tracking and model registry on plain files, no server, no database.

``import fsregistry`` mirrors ``import mlflow`` for what it covers; ``fsregistry.Client``
mirrors ``MlflowClient``. Stores are directories on local disk, S3 or GCS in MLflow's
``mlruns/`` layout. Importing this package loads neither pandas nor the cloud SDKs.
"""

from fsregistry import artifacts
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
    search_experiments,
    search_runs,
    set_experiment,
    set_registry_uri,
    set_tag,
    set_tags,
    set_tracking_uri,
    start_run,
)
from fsregistry.registry.fluent import register_model

__version__ = "0.1.0"

# Flavors and model APIs load on first use (``fsregistry.sklearn``), as with ``mlflow``:
# importing them pulls in pandas/numpy, which ``import fsregistry`` must not.
_LAZY_SUBMODULES = frozenset({"models", "pyfunc", "sklearn", "types"})


def __getattr__(name: str) -> object:
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"fsregistry.{name}")
    raise AttributeError(f"module 'fsregistry' has no attribute {name!r}")


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
