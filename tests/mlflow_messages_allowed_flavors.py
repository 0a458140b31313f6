"""Raise sites of the flavors (fsregistry/flavors/ and the sklearn, xgboost, lightgbm,
statsmodels, onnx, spark, keras, tensorflow, pytorch and h2o flavors) without an entry in
tests/mlflow_messages_flavors.py, each with its reason.

Two kinds: sites with no MLflow counterpart (MLflow lets a raw TypeError, AttributeError,
ImportError or the framework's own error through, or has no such check), and sites that
already contain MLflow's text (the reason names MLflow's source) but can only be reached with a
framework that neither the test venv nor MLflow's test venv holds (torch, tensorflow, keras,
h2o): no trigger can run them here.
"""

from __future__ import annotations

from tests.mlflow_messages_base import Allowed

FK = "fsregistry/flavors/__init__.py"
SKF = "fsregistry/sklearn/__init__.py"
ONF = "fsregistry/onnx/__init__.py"
PTF = "fsregistry/pytorch/__init__.py"
PTL = "fsregistry/pytorch/loading.py"
TFF = "fsregistry/tensorflow/__init__.py"
H2O = "fsregistry/h2o/__init__.py"
SPF = "fsregistry/spark/flavor.py"

_TYPE = (
    "fsregistry-only argument check before anything is written: MLflow passes the value on "
    "and fails later with a raw TypeError/AttributeError (or the framework's own error)"
)
_NOT_A_MODEL = (
    "fsregistry-only check that the object is the framework's model: MLflow calls the "
    "object's save method and fails with a raw AttributeError"
)
_INTEGRITY = (
    "model-directory integrity (a damaged or hand-edited model): MLflow lets the framework's "
    "or the file system's own error through"
)
_FRAMEWORK_ERROR = (
    "the framework's own error, wrapped with the model and input: MLflow lets it through raw"
)


def _needs(framework: str, source: str) -> str:
    return (
        f"contains MLflow's text ({source}); reachable only with {framework}, which neither "
        "the test venv nor MLflow's test venv holds, so no trigger runs here"
    )


#: pytorch's pt2 save checks: MLflow's text, but torch's types decide them.
_PT2_SAVE = _needs(
    "torch",
    "mlflow/pytorch/__init__.py:save_model, INTERNAL_ERROR (fsregistry: INVALID_PARAMETER_VALUE)",
)

ALLOWED_FLAVORS: tuple[Allowed, ...] = (
    # -- the kit -------------------------------------------------------------------------------
    Allowed(
        FK,
        "flavor needs the {} package, which cannot be imported",
        "fsregistry's missing-framework message with the pip extra to install: MLflow imports "
        "the framework and lets ModuleNotFoundError through",
    ),
    Allowed(
        FK,
        "has an invalid data path {} in its MLmodel",
        "fsregistry-only: a data path that leaves the model directory (absolute, '..') is "
        "refused; MLflow joins it to the model path and reads what it names",
    ),
    Allowed(FK, "metadata must be a dict", _TYPE),
    Allowed(
        FK,
        "extra_files: {} is not a file",
        "MLflow downloads each extra file with _download_artifact_from_uri and fails with the "
        "artifact repository's error for a missing path (mlflow/utils/model_utils.py:"
        "_copy_extra_files)",
    ),
    Allowed(
        FK,
        "Saving the {} model failed",
        "the framework's save error, wrapped so nothing is left at the path: MLflow lets it "
        "through raw",
    ),
    Allowed(FK, "model file {} cannot be read; the model directory is corrupted", _INTEGRITY),
    Allowed(
        FK,
        "model_class {}",
        "fsregistry-only safety check: the MLmodel's model_class must be a class of the "
        "framework's package; MLflow imports whatever it names (raw ImportError/AttributeError)",
    ),
    # -- sklearn, xgboost, lightgbm, statsmodels -----------------------------------------------
    Allowed(
        SKF,
        "The skops serialization format needs the skops package",
        "MLflow imports skops.io and lets ModuleNotFoundError through",
    ),
    Allowed(SKF, "skops_trusted_types must be a list of type names", _TYPE),
    Allowed(
        SKF,
        "Invalid pyfunc_predict_fn",
        "MLflow does not check the name: a model without that method is saved without a "
        "python_function flavor ('Model was missing function: ...' warning)",
    ),
    Allowed(SKF, "metadata must be a dict", _TYPE),
    Allowed(
        SKF,
        "names no model file",
        "a damaged MLmodel: MLflow's _load_pyfunc reads the missing key and fails with KeyError",
    ),
    Allowed("fsregistry/xgboost/__init__.py", "xgb_model must be an xgboost.Booster", _NOT_A_MODEL),
    Allowed(
        "fsregistry/xgboost/__init__.py",
        "Unsupported model_format",
        "MLflow does not check model_format: XGBoost saves by the file's extension and falls "
        "back to its own format for an unknown one",
    ),
    Allowed(
        "fsregistry/lightgbm/__init__.py", "lgb_model must be a lightgbm.Booster", _NOT_A_MODEL
    ),
    Allowed(
        "fsregistry/lightgbm/__init__.py",
        "Unexpected arguments {}",
        "MLflow ignores save_model's extra keyword arguments; fsregistry passes them to a "
        "Booster's save_model and refuses them for a scikit-learn API model",
    ),
    Allowed("fsregistry/statsmodels/__init__.py", "statsmodels_model must be fitted", _NOT_A_MODEL),
    Allowed("fsregistry/statsmodels/__init__.py", "remove_data must be a bool", _TYPE),
    Allowed("fsregistry/statsmodels/__init__.py", "holds a {}, not results", _INTEGRITY),
    # -- onnx ----------------------------------------------------------------------------------
    Allowed(ONF, "onnx_execution_providers", _TYPE),
    Allowed(
        ONF,
        "onnx_model must be an onnx.ModelProto",
        "MLflow passes the object to onnx.checker.check_model, which raises its own error",
    ),
    Allowed(
        ONF,
        "onnx_model is not a valid ONNX model",
        "onnx.checker's ValidationError, wrapped: MLflow lets it through raw",
    ),
    Allowed(
        ONF,
        "The DataFrame has no column for the model inputs",
        "MLflow indexes the DataFrame by each input name and fails with a raw KeyError",
    ),
    Allowed(
        ONF,
        "The input has no tensor for the model inputs",
        "MLflow passes the dict to onnxruntime, which raises its own error for a missing input",
    ),
    Allowed(ONF, "The ONNX model cannot run on this input", _FRAMEWORK_ERROR),
    # -- spark ---------------------------------------------------------------------------------
    Allowed(SPF, "dfs_tmpdir must be a non-empty path", _TYPE),
    Allowed(
        SPF,
        "is a Databricks path, which fsregistry does not support",
        "fsregistry-only: Databricks paths (dbfs:, /Volumes) are outside fsregistry's scope; "
        "MLflow writes there",
    ),
    Allowed(
        SPF,
        "Spark Connect ML models",
        "fsregistry-only: MLflow saves and loads Spark Connect ML models, fsregistry.spark "
        "supports pyspark.ml models only",
    ),
    Allowed(SPF, "The model at {} is a Spark Connect ML model", "as above, on loading"),
    Allowed(SPF, "The spark model directory {} is missing", _INTEGRITY),
    Allowed(
        "fsregistry/spark/runs.py",
        "",
        "fsregistry.spark.read_runs / read_metric_histories (runs as Spark DataFrames): an "
        "fsregistry extension, no MLflow counterpart",
    ),
    # -- pytorch -------------------------------------------------------------------------------
    Allowed(PTF, "export_model must be a bool", _TYPE),
    Allowed(
        PTF,
        "The signature has {} inputs but the input example has {} tensors",
        "MLflow passes the mismatch to torch.export, which raises its own error",
    ),
    Allowed(PTF, "pickle_module must be a module with a Pickler", _TYPE),
    Allowed(
        PTF,
        "Argument 'pytorch_model' should be a torch.nn.Module",
        _needs("torch", "mlflow/pytorch/__init__.py:save_model, a TypeError"),
    ),
    Allowed(
        PTF,
        "The 'pt2' serialization format is not supported for torch.jit.ScriptModule",
        _PT2_SAVE,
    ),
    Allowed(
        PTF,
        "then input_example is required",
        _PT2_SAVE,
    ),
    Allowed(
        PTF,
        "Unsupported signature type for the selected serialization format",
        _PT2_SAVE,
    ),
    Allowed(
        PTF,
        "not a state dict saved with save_state_dict",
        "MLflow's load_state_dict calls torch.load on the missing file: a raw FileNotFoundError",
    ),
    Allowed(
        "fsregistry/pytorch/checkpoints.py",
        "checkpoint_save_freq must be 'epoch' or a positive integer",
        "fsregistry-only check of autolog(checkpoint_save_freq=...): MLflow's callback takes "
        "any value and fails (or never saves) during training",
    ),
    Allowed(
        PTL, "Invalid torch device", "torch.device's own error, wrapped: MLflow lets it through"
    ),
    Allowed(PTL, "not a torch.nn.Module (a state dict?", _INTEGRITY),
    Allowed(
        PTL,
        "The saved model is exported by `torch.export` API",
        _needs(
            "torch",
            "mlflow/pytorch/__init__.py:_load_model, INTERNAL_ERROR (fsregistry: "
            "INVALID_PARAMETER_VALUE)",
        ),
    ),
    Allowed(PTL, "cannot be moved to device", _FRAMEWORK_ERROR),
    Allowed(
        PTL,
        "exists and is not a directory",
        "MLflow's save_state_dict calls os.makedirs: a raw FileExistsError",
    ),
    Allowed(PTL, "Saving the state dict to {} failed", _FRAMEWORK_ERROR),
    Allowed(
        "fsregistry/pytorch/wrapper.py",
        "The PyTorch model cannot run on this input",
        _FRAMEWORK_ERROR,
    ),
    Allowed(
        "fsregistry/pytorch/wrapper.py",
        "Expected PyTorch model to output a single output tensor",
        _needs("torch", "mlflow/pytorch/__init__.py:_PyTorchWrapper.predict, a TypeError"),
    ),
    # -- tensorflow and keras ------------------------------------------------------------------
    Allowed(
        TFF,
        "Unknown model type: {}",
        _needs(
            "tensorflow",
            "mlflow/tensorflow/__init__.py:save_model, INTERNAL_ERROR "
            "(fsregistry: INVALID_PARAMETER_VALUE)",
        ),
    ),
    Allowed(TFF, "custom_objects must be a dict", _TYPE),
    Allowed(
        TFF,
        "Unknown model_type: {}",
        _needs(
            "tensorflow",
            "mlflow/tensorflow/__init__.py:_load_model, INTERNAL_ERROR "
            "(fsregistry: INVALID_PARAMETER_VALUE)",
        ),
    ),
    Allowed(TFF, "does not hold a dict of custom objects", _INTEGRITY),
    Allowed("fsregistry/keras/__init__.py", "signature must be a ModelSignature", _TYPE),
    Allowed(
        "fsregistry/keras/__init__.py",
        "(with fsregistry: pip install 'fsregistry[tensorflow]')",
        _needs(
            "keras without tensorflow",
            "mlflow/keras/save.py:_export_keras_model and "
            "mlflow/keras/load.py:_load_keras_model, passed in as the message",
        ),
    ),
    Allowed("fsregistry/keras/__init__.py", "model must be a keras.Model", _NOT_A_MODEL),
    # -- h2o -----------------------------------------------------------------------------------
    Allowed(H2O, "settings must be a dict with str keys", _TYPE),
    Allowed(H2O, "settings['init'] must be a dict", _TYPE),
    Allowed(H2O, "h2o_model must be a trained H2O model", _NOT_A_MODEL),
    Allowed(H2O, "has no valid model_file", _INTEGRITY),
    Allowed(
        H2O,
        "{}: init must be a dict of h2o.init() arguments",
        "a damaged h2o.yaml: MLflow calls h2o.init(**init) and fails with a raw TypeError",
    ),
    Allowed(H2O, "h2o.init(**{})", _FRAMEWORK_ERROR),
    Allowed(
        H2O,
        "needs a running H2O cluster",
        "fsregistry-only: MLflow's h2o.load_model calls h2o.load_model, which fails with h2o's "
        "own connection error when no cluster runs",
    ),
)
