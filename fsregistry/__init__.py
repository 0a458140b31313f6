"""fsregistry: MLflow's tracking and model registry on plain files, no server, no database.

``import fsregistry`` mirrors ``import mlflow`` for what it covers; ``fsregistry.Client``
mirrors ``MlflowClient``. Stores are directories on local disk, S3 or GCS in MLflow's
``mlruns/`` layout. Importing this package loads neither pandas nor the cloud SDKs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fsregistry.namespace import lazy_namespace
from fsregistry.package import __version__ as __version__

# Everything loads on first use, as ``mlflow`` does for its flavors: ``fsreg --help`` and
# ``fsreg ls models`` import only what they touch, and the flavors and model APIs
# (``fsregistry.sklearn``, ``fsregistry.pyfunc``) pull in pandas/numpy only when used.
# The block below is the one list of exported names (see fsregistry.namespace).
if TYPE_CHECKING:
    from fsregistry import (
        artifacts as artifacts,
    )
    from fsregistry import (
        data as data,
    )
    from fsregistry import (
        entities as entities,
    )
    from fsregistry import (
        h2o as h2o,
    )
    from fsregistry import (
        keras as keras,
    )
    from fsregistry import (
        lightgbm as lightgbm,
    )
    from fsregistry import (
        metrics as metrics,
    )
    from fsregistry import (
        models as models,
    )
    from fsregistry import (
        onnx as onnx,
    )
    from fsregistry import (
        pyfunc as pyfunc,
    )
    from fsregistry import (
        pytorch as pytorch,
    )
    from fsregistry import (
        sklearn as sklearn,
    )
    from fsregistry import (
        spark as spark,
    )
    from fsregistry import (
        statsmodels as statsmodels,
    )
    from fsregistry import (
        tensorflow as tensorflow,
    )
    from fsregistry import (
        types as types,
    )
    from fsregistry import (
        xgboost as xgboost,
    )
    from fsregistry.autologging import autolog as autolog
    from fsregistry.client import Client as Client
    from fsregistry.client import MlflowClient as MlflowClient
    from fsregistry.entities import ViewType as ViewType
    from fsregistry.exceptions import (
        FsRegistryException as FsRegistryException,
    )
    from fsregistry.exceptions import (
        MlflowException as MlflowException,
    )
    from fsregistry.fluent import (
        ActiveRun as ActiveRun,
    )
    from fsregistry.fluent import (
        active_run as active_run,
    )
    from fsregistry.fluent import (
        create_experiment as create_experiment,
    )
    from fsregistry.fluent import (
        delete_experiment as delete_experiment,
    )
    from fsregistry.fluent import (
        delete_run as delete_run,
    )
    from fsregistry.fluent import (
        delete_tag as delete_tag,
    )
    from fsregistry.fluent import (
        end_run as end_run,
    )
    from fsregistry.fluent import (
        get_artifact_uri as get_artifact_uri,
    )
    from fsregistry.fluent import (
        get_experiment as get_experiment,
    )
    from fsregistry.fluent import (
        get_experiment_by_name as get_experiment_by_name,
    )
    from fsregistry.fluent import (
        get_registry_uri as get_registry_uri,
    )
    from fsregistry.fluent import (
        get_run as get_run,
    )
    from fsregistry.fluent import (
        get_tracking_uri as get_tracking_uri,
    )
    from fsregistry.fluent import (
        last_active_run as last_active_run,
    )
    from fsregistry.fluent import (
        log_artifact as log_artifact,
    )
    from fsregistry.fluent import (
        log_artifacts as log_artifacts,
    )
    from fsregistry.fluent import (
        log_dict as log_dict,
    )
    from fsregistry.fluent import (
        log_input as log_input,
    )
    from fsregistry.fluent import (
        log_metric as log_metric,
    )
    from fsregistry.fluent import (
        log_metrics as log_metrics,
    )
    from fsregistry.fluent import (
        log_param as log_param,
    )
    from fsregistry.fluent import (
        log_params as log_params,
    )
    from fsregistry.fluent import (
        log_text as log_text,
    )
    from fsregistry.fluent import (
        register_model as register_model,
    )
    from fsregistry.fluent import (
        search_experiments as search_experiments,
    )
    from fsregistry.fluent import (
        search_runs as search_runs,
    )
    from fsregistry.fluent import (
        set_experiment as set_experiment,
    )
    from fsregistry.fluent import (
        set_registry_uri as set_registry_uri,
    )
    from fsregistry.fluent import (
        set_tag as set_tag,
    )
    from fsregistry.fluent import (
        set_tags as set_tags,
    )
    from fsregistry.fluent import (
        set_tracking_uri as set_tracking_uri,
    )
    from fsregistry.fluent import (
        start_run as start_run,
    )
    from fsregistry.fluent_more import (
        Image as Image,
    )
    from fsregistry.fluent_more import (
        delete_experiment_tag as delete_experiment_tag,
    )
    from fsregistry.fluent_more import (
        flush_artifact_async_logging as flush_artifact_async_logging,
    )
    from fsregistry.fluent_more import (
        flush_async_logging as flush_async_logging,
    )
    from fsregistry.fluent_more import (
        get_parent_run as get_parent_run,
    )
    from fsregistry.fluent_more import (
        is_tracking_uri_set as is_tracking_uri_set,
    )
    from fsregistry.fluent_more import (
        load_table as load_table,
    )
    from fsregistry.fluent_more import (
        log_figure as log_figure,
    )
    from fsregistry.fluent_more import (
        log_image as log_image,
    )
    from fsregistry.fluent_more import (
        log_inputs as log_inputs,
    )
    from fsregistry.fluent_more import (
        log_stream as log_stream,
    )
    from fsregistry.fluent_more import (
        log_table as log_table,
    )
    from fsregistry.fluent_more import (
        restore_experiment as restore_experiment,
    )
    from fsregistry.fluent_more import (
        restore_run as restore_run,
    )
    from fsregistry.fluent_more import (
        search_model_versions as search_model_versions,
    )
    from fsregistry.fluent_more import (
        search_registered_models as search_registered_models,
    )
    from fsregistry.fluent_more import (
        set_experiment_tag as set_experiment_tag,
    )
    from fsregistry.fluent_more import (
        set_experiment_tags as set_experiment_tags,
    )
    from fsregistry.fluent_more import (
        set_model_version_tag as set_model_version_tag,
    )
    from fsregistry.logged_model_api import (
        ActiveModel as ActiveModel,
    )
    from fsregistry.logged_model_api import (
        clear_active_model as clear_active_model,
    )
    from fsregistry.logged_model_api import (
        create_external_model as create_external_model,
    )
    from fsregistry.logged_model_api import (
        delete_logged_model_tag as delete_logged_model_tag,
    )
    from fsregistry.logged_model_api import (
        finalize_logged_model as finalize_logged_model,
    )
    from fsregistry.logged_model_api import (
        get_active_model_id as get_active_model_id,
    )
    from fsregistry.logged_model_api import (
        get_logged_model as get_logged_model,
    )
    from fsregistry.logged_model_api import (
        initialize_logged_model as initialize_logged_model,
    )
    from fsregistry.logged_model_api import (
        last_logged_model as last_logged_model,
    )
    from fsregistry.logged_model_api import (
        log_model_params as log_model_params,
    )
    from fsregistry.logged_model_api import (
        log_outputs as log_outputs,
    )
    from fsregistry.logged_model_api import (
        search_logged_models as search_logged_models,
    )
    from fsregistry.logged_model_api import (
        set_active_model as set_active_model,
    )
    from fsregistry.logged_model_api import (
        set_logged_model_tags as set_logged_model_tags,
    )
    from fsregistry.models.evaluation import evaluate as evaluate
    from fsregistry.models.evaluation import (
        validate_evaluation_results as validate_evaluation_results,
    )

__getattr__, __dir__, _names = lazy_namespace(__name__, __file__)
__all__ = [*_names, "__version__"]
