"""MLflow's messages for the flavors' errors (tests/mlflow_messages.py's table, flavors part):
fsregistry's flavor kit (fsregistry/flavors/) and the sklearn, xgboost, lightgbm, statsmodels,
onnx, spark and h2o flavors; the deep-learning flavors (pytorch, tensorflow, keras) are in
tests/mlflow_messages_deep_flavors.py.

MLflow's test venv holds scikit-learn and skops only, so entries whose MLflow counterpart needs
another framework are ``in_mlflow3=False`` (the note names MLflow's source); their triggers run
in fsregistry without the framework wherever the check comes before its import. Where MLflow
raises a plain ``TypeError``/``ValueError`` (``code`` ''), or MlflowException's default
INTERNAL_ERROR for a caller's mistake, fsregistry raises INVALID_PARAMETER_VALUE (``fs_code``):
the error is the caller's argument or input, and the server answers 400 for it.
"""

from __future__ import annotations

from tests.mlflow_messages_base import INTERNAL, INVALID, MISSING, Message, validation

FK = "fsregistry/flavors/__init__.py"
SKF = "fsregistry/sklearn/__init__.py"
ONF = "fsregistry/onnx/__init__.py"
SK = "mlflow/sklearn/__init__.py"
MU = "mlflow/utils/model_utils.py"

#: A minimal valid ONNX model (no nodes), so that ``save_model`` reaches its option checks.
OX = (
    "importlib.import_module('onnx').helper.make_model("
    "importlib.import_module('onnx').helper.make_graph([], 'g', [], []))"
)
FRAMEWORK_FIRST = "MLflow imports the framework first, which its test venv lacks"
INTERNAL_NOTE = (
    "MLflow raises it with MlflowException's default INTERNAL_ERROR; fsregistry: "
    "INVALID_PARAMETER_VALUE, the caller's argument or input is wrong"
)
PLAIN_NOTE = "MLflow raises a plain {} (no error code); fsregistry: INVALID_PARAMETER_VALUE"


_v = validation


def _onnx_option(kind: str, regex: str, options: str, error: str, fragment: str) -> Message:
    """An ``onnx_session_options`` check, with the fragment of its site's template."""
    return _v(
        f"onnx.save_model: {kind}",
        regex,
        "",
        f"{MU}:_validate_onnx_session_options (called by mlflow/onnx/__init__.py:save_model)",
        f"m.onnx.save_model({OX}, TMPD + '/onnx-options', onnx_session_options={options})",
        (ONF, fragment),
        in_mlflow3=False,
        fs_code=INVALID,
        note=f"{FRAMEWORK_FIRST} (onnx, onnxruntime). " + PLAIN_NOTE.format(error),
    )


_SKOPS_22 = "MLflow 2.22 has no skops format: 'Unrecognized serialization format: skops'. "

FLAVORS: tuple[Message, ...] = (
    # -- the kit and sklearn ----------------------------------------------------------------
    _v(
        "sklearn.load_model: the model has no sklearn flavor",
        r'Model does not have the "sklearn" flavor',
        MISSING,
        f"{MU}:_get_flavor_configuration",
        "m.sklearn.load_model(NOPF)",
        (FK, 'Model does not have the "{}" flavor'),
    ),
    _v(
        "xgboost.load_model: the model has no xgboost flavor",
        r'Model does not have the "xgboost" flavor',
        MISSING,
        f"{MU}:_get_flavor_configuration (mlflow/xgboost/__init__.py:load_model)",
        "m.xgboost.load_model(NOPF)",
        (FK, 'Model does not have the "{}" flavor'),
    ),
    _v(
        "onnx.load_model: the model has no onnx flavor",
        r'Model does not have the "onnx" flavor',
        MISSING,
        f"{MU}:_get_flavor_configuration (mlflow/onnx/__init__.py:load_model)",
        "m.onnx.load_model(NOPF)",
    ),
    _v(
        "h2o.load_model: the model has no h2o flavor",
        r'Model does not have the "h2o" flavor',
        MISSING,
        f"{MU}:_get_flavor_configuration (mlflow/h2o/__init__.py:load_model)",
        "m.h2o.load_model(NOPF)",
    ),
    _v(
        "onnx.save_model: extra_files that is not a list",
        r"Extra files argument should be a list",
        "",
        f"{MU}:_copy_extra_files",
        f"m.onnx.save_model({OX}, TMPD + '/onnx-extra', extra_files='a.txt')",
        (FK, "Extra files argument should be a list"),
        in_mlflow3=False,
        fs_code=INVALID,
        note=f"{FRAMEWORK_FIRST} (onnx). "
        + PLAIN_NOTE.format("TypeError")
        + "; fsregistry also takes a tuple",
    ),
    _v(
        "sklearn.save_model: unknown serialization format",
        r"Unrecognized serialization format: bogus\. Please specify one of the following "
        r"supported formats: \[",
        INVALID,
        f"{SK}:save_model, _load_model_from_local_file",
        'm.sklearn.save_model(None, TMPD + "/sk-format", serialization_format="bogus")',
        (SKF, "Unrecognized serialization format: {}. Please specify one of the following"),
    ),
    _v(
        "sklearn.save_model: skops cannot serialize the model",
        r"The sklearn model could not be serialized in the skops serialization format\. skops "
        r"does not support custom functions or classes that are not defined at the top level\. "
        r"To work around this limitation, you can set the serialization_format 'cloudpickle', "
        r"while exercising caution due to the possible arbitrary code during model "
        r"deserialization using CloudPickle\.",
        INTERNAL,
        f"{SK}:_save_model",
        'm.sklearn.save_model(importlib.import_module("sklearn.preprocessing").FunctionTransformer('
        'kw_args={"g": (i for i in [])}), TMPD + "/sk-skops", serialization_format="skops")',
        (SKF, "The sklearn model could not be serialized in the skops serialization format"),
        fs_code=INVALID,
        note=_SKOPS_22 + INTERNAL_NOTE,
    ),
    _v(
        "sklearn.save_model: the model references untrusted types",
        r"The saved sklearn model references untrusted types\. If you are sure loading these "
        r"types is safe, set the 'skops_trusted_types' parameter when calling 'log_model' or "
        r"'save_model' to the list of trusted types\. ",
        INTERNAL,
        f"{SK}:_save_model",
        'm.sklearn.save_model(importlib.import_module("sklearn.preprocessing").FunctionTransformer('
        'os.path.join), TMPD + "/sk-untrusted", serialization_format="skops")',
        (SKF, "The saved sklearn model references untrusted types"),
        fs_code=INVALID,
        note=_SKOPS_22 + INTERNAL_NOTE,
    ),
    _v(
        "sklearn.save_model: the model cannot be pickled",
        r"Pickling custom sklearn model Custom failed when saving model: ",
        "",
        f"{SK}:_dump_model (_SklearnCustomModelPicklingError)",
        'm.sklearn.save_model(type("Custom", (), {})(), TMPD + "/sk-pickle", '
        'serialization_format="pickle")',
        (SKF, "Pickling custom sklearn model {} failed when saving model"),
        fs_code=INVALID,
        note=PLAIN_NOTE.format("pickle.PicklingError"),
    ),
    _v(
        "sklearn.autolog: negative max_tuning_runs",
        r"`max_tuning_runs` must be non-negative, instead got -1\.",
        INVALID,
        f"{SK}:autolog",
        "m.sklearn.autolog(max_tuning_runs=-1)",
        (SKF, "`max_tuning_runs` must be non-negative, instead got"),
        note="fsregistry also refuses a max_tuning_runs that is no integer (MLflow: TypeError "
        "from the comparison)",
    ),
    _v(
        "sklearn.autolog: extra_tags that is not a dict",
        r"Invalid `extra_tags` type: expecting dictionary, received `int`",
        INVALID,
        "mlflow/utils/autologging_utils/safety.py:_resolve_extra_tags",
        "m.sklearn.autolog(extra_tags=1)",
        (FK, "Invalid `extra_tags` type: expecting dictionary"),
        note="MLflow accepts a falsy non-dict (0, ''); fsregistry refuses every non-dict",
    ),
    _v(
        "statsmodels.autolog: extra_tags that is not a dict",
        r"Invalid `extra_tags` type: expecting dictionary, received `list`",
        INVALID,
        "mlflow/utils/autologging_utils/safety.py:_resolve_extra_tags",
        "m.statsmodels.autolog(extra_tags=[1])",
        in_mlflow3=False,
        note=f"{FRAMEWORK_FIRST} (statsmodels)",
    ),
    _v(
        "xgboost.autolog: extra_tags that is not a dict",
        r"Invalid `extra_tags` type: expecting dictionary, received `list`",
        INVALID,
        "mlflow/utils/autologging_utils/safety.py:_resolve_extra_tags",
        "m.xgboost.autolog(extra_tags=[1])",
        in_mlflow3=False,
        note=f"{FRAMEWORK_FIRST} (xgboost)",
    ),
    _v(
        "lightgbm.autolog: extra_tags that is not a dict",
        r"Invalid `extra_tags` type: expecting dictionary, received `str`",
        INVALID,
        "mlflow/utils/autologging_utils/safety.py:_resolve_extra_tags",
        'm.lightgbm.autolog(extra_tags="ab")',
        in_mlflow3=False,
        note=f"{FRAMEWORK_FIRST} (lightgbm)",
    ),
    _v(
        "statsmodels predict: time-series input without start and end",
        r"prediction dataframes for a TimeSeriesModel must have exactly one row and include "
        r"columns called start and end",
        INTERNAL,
        "mlflow/statsmodels/__init__.py:_StatsmodelsModelWrapper.predict",
        "m.statsmodels._StatsmodelsModelWrapper(importlib.import_module("
        '"statsmodels.tsa.ar_model").AutoReg(np.arange(10.0), 1).fit()).predict(A1)',
        ("fsregistry/statsmodels/__init__.py", "prediction dataframes for a TimeSeriesModel"),
        in_mlflow3=False,
        fs_code=INVALID,
        note=f"{FRAMEWORK_FIRST} (statsmodels). {INTERNAL_NOTE}",
    ),
    # -- onnx ------------------------------------------------------------------------------
    _onnx_option(
        "session options that are not a dict",
        r"Argument onnx_session_options should be a dict, not <class 'int'>",
        "5",
        "TypeError",
        "Argument onnx_session_options should be a dict",
    ),
    _onnx_option(
        "unknown session option",
        r"Key nope in onnx_session_options is not a valid ONNX Runtime session options key",
        "{'nope': 1}",
        "ValueError",
        "in onnx_session_options is not a valid ONNX Runtime session options key",
    ),
    _onnx_option(
        "extra_session_config that is not a dict",
        r"Value for key extra_session_config in onnx_session_options should be a dict, not ",
        "{'extra_session_config': 1}",
        "TypeError",
        "in onnx_session_options should be a dict, not",
    ),
    _onnx_option(
        "unknown execution_mode",
        r"Value for key execution_mode in onnx_session_options should be 'parallel' or "
        r"'sequential', not x",
        "{'execution_mode': 'x'}",
        "ValueError",
        "in onnx_session_options should be 'parallel' or",
    ),
    _onnx_option(
        "unknown graph_optimization_level",
        r"Value for key graph_optimization_level in onnx_session_options should be 0, 1, 2, "
        r"or 99, not 5",
        "{'graph_optimization_level': 5}",
        "ValueError",
        "in onnx_session_options should be 0, 1, 2, or 99",
    ),
    _onnx_option(
        "negative thread count",
        r"Value for key intra_op_num_threads in onnx_session_options should be >= 0, not -1",
        "{'intra_op_num_threads': -1}",
        "ValueError",
        "in onnx_session_options should be >= 0",
    ),
    _v(
        "onnx predict: an array for a model of several inputs",
        r"Unable to map numpy array input to the expected model input\. Numpy arrays can only "
        r"be used as input for MLflow ONNX models that have a single input\. This model "
        r"requires 2 inputs\. Please pass in data as either a dictionary or a DataFrame with "
        r"the following tensors: \['a', 'b'\]\.",
        INTERNAL,
        "mlflow/onnx/__init__.py:_OnnxModelWrapper.predict",
        "m.onnx._OnnxModelWrapper._feeds(_NS(inputs=[('a', 'tensor(float)'), "
        "('b', 'tensor(float)')]), np.zeros(2))",
        (ONF, "Unable to map numpy array input to the expected model input"),
        in_mlflow3=False,
        fs_code=INVALID,
        note=f"{FRAMEWORK_FIRST} (onnxruntime). {INTERNAL_NOTE}",
    ),
    _v(
        "onnx predict: input of an unknown type",
        r"Input should be a dictionary or a numpy array or a pandas\.DataFrame, "
        r"got '<class 'int'>'",
        "",
        "mlflow/onnx/__init__.py:_OnnxModelWrapper.predict",
        "m.onnx._OnnxModelWrapper._feeds(_NS(inputs=[('a', 'tensor(float)')]), 5)",
        (ONF, "Input should be a dictionary or a numpy array or a pandas.DataFrame"),
        in_mlflow3=False,
        fs_code=INVALID,
        note=f"{FRAMEWORK_FIRST} (onnxruntime). " + PLAIN_NOTE.format("TypeError"),
    ),
    # -- spark -----------------------------------------------------------------------------
    _v(
        "spark.save_model: not a savable Spark ML model",
        r"Cannot serialize this model\. MLflow can only save descendants of pyspark\.ml\.Model "
        r"or pyspark\.ml\.Transformer that implement MLWritable and MLReadable\.",
        INVALID,
        "mlflow/spark/__init__.py:_validate_model",
        'm.spark.save_model(5, TMPD + "/spark")',
        ("fsregistry/spark/flavor.py", "Cannot serialize this model."),
        in_mlflow3=False,
        note=f"{FRAMEWORK_FIRST} (pyspark)",
    ),
)
