"""The builders the ``mlflow.tracking_store`` / ``mlflow.model_registry_store`` entry points name.

MLflow calls ``tracking_store(store_uri=..., artifact_uri=...)`` and
``registry_store(store_uri=..., tracking_uri=...)`` when its server or client meets an
``fsreg+<protocol>://`` URI. Each first checks the running MLflow against the supported minor
versions (``locations.SUPPORTED_MLFLOW``; a clear MlflowException at start-up otherwise), then
builds the store. Importing this module imports nothing from MLflow, so registering the entry
points costs MLflow nothing until such a URI is used.
"""

from __future__ import annotations

from typing import Any

from fsregistry.mlflow_plugin.locations import check_version


def _check_mlflow() -> None:
    import mlflow

    from fsregistry.mlflow_plugin.convert import mlflow_errors

    with mlflow_errors():
        check_version(str(mlflow.__version__))


def tracking_store(store_uri: str, artifact_uri: str | None = None, **_: Any) -> Any:
    """MLflow tracking store over the fsregistry store ``store_uri`` names (``fsreg+...``)."""
    _check_mlflow()
    from fsregistry.mlflow_plugin.tracking import FsregTrackingStore

    return FsregTrackingStore(store_uri, artifact_uri)


def registry_store(store_uri: str, tracking_uri: str | None = None, **_: Any) -> Any:
    """MLflow model registry store over the fsregistry store ``store_uri`` names."""
    _check_mlflow()
    from fsregistry.mlflow_plugin.registry import FsregRegistryStore

    return FsregRegistryStore(store_uri, tracking_uri)
