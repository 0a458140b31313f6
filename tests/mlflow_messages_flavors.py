"""MLflow's messages for the flavors' errors (tests/mlflow_messages.py's table, flavors part):
fsregistry's flavor kit (fsregistry/flavors/) and the sklearn, xgboost, lightgbm, statsmodels,
onnx, spark, keras, tensorflow, pytorch and h2o flavors.

MLflow's test venv holds scikit-learn and skops only, so entries whose MLflow counterpart needs
another framework are ``in_mlflow3=False`` (the note names MLflow's source); their triggers run
in fsregistry without the framework wherever the check comes before its import. Where MLflow
raises a plain ``TypeError``/``ValueError`` (``code`` ''), or MlflowException's default
INTERNAL_ERROR for a caller's mistake, fsregistry raises INVALID_PARAMETER_VALUE (``fs_code``):
the error is the caller's argument or input, and the server answers 400 for it.
"""

from __future__ import annotations

from tests.mlflow_messages_base import INTERNAL, INVALID, MISSING, Message, _m, validation

FK = "fsregistry/flavors/__init__.py"
SKF = "fsregistry/sklearn/__init__.py"
ONF = "fsregistry/onnx/__init__.py"
PTF = "fsregistry/pytorch/__init__.py"
PTL = "fsregistry/pytorch/loading.py"
PTW = "fsregistry/pytorch/wrapper.py"
PTC = "fsregistry/pytorch/checkpoints.py"
TFF = "fsregistry/tensorflow/__init__.py"
TFC = "fsregistry/tensorflow/checkpoints.py"
SK = "mlflow/sklearn/__init__.py"
MU = "mlflow/utils/model_utils.py"
PT = "mlflow/pytorch/__init__.py"
TF = "mlflow/tensorflow/__init__.py"
CK = "mlflow/utils/checkpoint_utils.py"

#: A minimal valid ONNX model (no nodes), so that ``save_model`` reaches its option checks.
OX = (
    "importlib.import_module('onnx').helper.make_model("
    "importlib.import_module('onnx').helper.make_graph([], 'g', [], []))"
)
#: A fresh run whose latest-checkpoint tag names ``{}`` (MLflow's tag key).
CKRUN = (
    '(lambda r: (c.set_tag(r, "mlflow.latest_checkpoint_artifact", "checkpoints/latest/{}"), '
    "r)[1])(c.create_run(E).info.run_id)"
)
#: A fake signature with no input fields (``Schema([])`` cannot be built).
NOINPUTS = "_NS(inputs=_NS(inputs=[]))"
PT_MOD = 'importlib.import_module(m.__name__ + ".pytorch.{}")'
TF_MOD = 'importlib.import_module(m.__name__ + ".tensorflow.{}")'
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
    # -- pytorch ---------------------------------------------------------------------------
    _v(
        "pytorch.save_model: export_model with the pickle format",
        r"Cannot set both `export_model=True` and `serialization_format='pickle'`\. Please use "
        r"only the `serialization_format` argument\.",
        INVALID,
        f"{PT}:save_model",
        'm.pytorch.save_model(None, TMPD + "/pt-both", export_model=True, '
        'serialization_format="pickle")',
        (PTF, "Cannot set both `export_model=True`"),
        in_mlflow3=False,
        note=f"{FRAMEWORK_FIRST} (torch)",
    ),
    _v(
        "pytorch.save_model: unknown serialization format",
        r"The `serialization_format` param value must be one of 'pickle' or 'pt2'\.",
        INVALID,
        f"{PT}:save_model",
        'm.pytorch.save_model(None, TMPD + "/pt-format", serialization_format="bogus")',
        (PTF, "The `serialization_format` param value must be one of"),
        in_mlflow3=False,
        note=f"{FRAMEWORK_FIRST} (torch)",
    ),
    _v(
        "pytorch.save_state_dict: not a dict",
        r"Invalid object type for `state_dict`: <class 'int'>\. Must be an instance of `dict`",
        "",
        f"{PT}:save_state_dict",
        'm.pytorch.save_state_dict(5, TMPD + "/pt-state")',
        (PTL, "Invalid object type for `state_dict`"),
        in_mlflow3=False,
        fs_code=INVALID,
        note=f"{FRAMEWORK_FIRST} (torch). " + PLAIN_NOTE.format("TypeError"),
    ),
    _v(
        "pytorch load: the model's pickle module cannot be imported",
        r"Failed to import the pickle module that was used to save the PyTorch model\. Pickle "
        r"module name: `no_such_pickle_module`",
        MISSING,
        f"{PT}:_load_model",
        PT_MOD.format("loading") + '.pickle_module("no_such_pickle_module")',
        (PTL, "Failed to import the pickle module"),
        in_mlflow3=False,
        note=f"{FRAMEWORK_FIRST} (torch); the trigger calls fsregistry's lookup directly",
    ),
    _v(
        "pytorch predict: device as an inference parameter",
        r"device' can no longer be specified as an inference parameter\. It must be specified "
        r"at load time\. Please specify the device at load time, for example: "
        r"`mlflow\.pyfunc\.load_model\(model_uri, model_config=\{'device': 'cuda'\}\)`\.",
        "",
        f"{PT}:_PyTorchWrapper.predict",
        PT_MOD.format("wrapper")
        + '.TorchModelWrapper(None, "cpu").predict(np.zeros(2), params={"device": "cpu"})',
        (PTW, "device' can no longer be specified as an inference parameter"),
        in_mlflow3=False,
        fs_code=INVALID,
        note=f"{FRAMEWORK_FIRST} (torch). " + PLAIN_NOTE.format("ValueError"),
    ),
    _v(
        "pytorch predict: a list or dict input",
        r"The PyTorch flavor does not support List or Dict input types\. Please use a "
        r"pandas\.DataFrame or a numpy\.ndarray",
        "",
        f"{PT}:_PyTorchWrapper.predict",
        PT_MOD.format("wrapper") + '.TorchModelWrapper(None, "cpu").predict([1])',
        (PTW, "The PyTorch flavor does not support List or Dict input types"),
        in_mlflow3=False,
        fs_code=INVALID,
        note=f"{FRAMEWORK_FIRST} (torch). " + PLAIN_NOTE.format("TypeError"),
    ),
    _v(
        "pytorch predict: input of an unknown type",
        r"Input data should be pandas\.DataFrame or numpy\.ndarray",
        "",
        f"{PT}:_PyTorchWrapper.predict",
        PT_MOD.format("wrapper") + '.TorchModelWrapper(None, "cpu").predict(5)',
        (PTW, "Input data should be pandas.DataFrame or numpy.ndarray"),
        in_mlflow3=False,
        fs_code=INVALID,
        note=f"{FRAMEWORK_FIRST} (torch). " + PLAIN_NOTE.format("TypeError"),
    ),
    _v(
        "pytorch.load_checkpoint: no run id and no active run",
        r"There is no active run, please provide the 'run_id' argument for 'load_checkpoint' "
        r"invocation\.",
        INTERNAL,
        f"{CK}:download_checkpoint_artifact",
        "m.pytorch.load_checkpoint(None)",
        ("fsregistry/pytorch/autologging.py", "There is no active run"),
    ),
    _m(
        "pytorch.load_checkpoint: the run has no checkpoint",
        r"There is no logged checkpoint artifact in the current run\.",
        INTERNAL,
        f"{CK}:download_checkpoint_artifact",
        "m.pytorch.load_checkpoint(None, R)",
        ((PTC, "There is no logged checkpoint artifact"),),
    ),
    _m(
        "pytorch.load_checkpoint: both epoch and global_step",
        r"Only one of 'epoch' and 'global_step' can be set for 'load_checkpoint'\.",
        INTERNAL,
        f"{CK}:download_checkpoint_artifact",
        "m.pytorch.load_checkpoint(None, " + CKRUN.format("x.pth") + ", epoch=1, global_step=1)",
        ((PTC, "Only one of 'epoch' and 'global_step'"),),
    ),
    _v(
        "pytorch.autolog: save_best_only checkpoints without monitor",
        r"If checkpoint 'save_best_only' config is set to True, you need to set 'monitor' "
        r"config as well\.",
        INTERNAL,
        f"{CK}:MlflowModelCheckpointCallbackBase.__init__",
        PT_MOD.format("checkpoints") + ".CheckpointPolicy(monitor=None)",
        (PTC, "you need to set 'monitor' config as well"),
        in_mlflow3=False,
        fs_code=INVALID,
        note=f"{FRAMEWORK_FIRST} (torch, lightning). {INTERNAL_NOTE}",
    ),
    _v(
        "pytorch.autolog: save_best_only checkpoints with an unknown mode",
        r"If checkpoint 'save_best_only' config is set to True, you need to set 'mode' config "
        r"and available modes includes 'min' and 'max', but you set 'mode' to 'x'\.",
        INTERNAL,
        f"{CK}:MlflowModelCheckpointCallbackBase.__init__",
        PT_MOD.format("checkpoints") + '.CheckpointPolicy(mode="x")',
        (PTC, "you need to set 'mode' config"),
        in_mlflow3=False,
        fs_code=INVALID,
        note=f"{FRAMEWORK_FIRST} (torch, lightning). {INTERNAL_NOTE}",
    ),
    # -- tensorflow and keras ----------------------------------------------------------------
    _v(
        "keras.save_model: exported model without a signature",
        r"`signature` cannot be None when `save_exported_model=True` for "
        r"`mlflow\.keras\.save_model\(\)` method\.",
        "",
        "mlflow/keras/save.py:_export_keras_model",
        'm.keras.save_model(None, TMPD + "/keras-export", save_exported_model=True)',
        ("fsregistry/keras/__init__.py", "`signature` cannot be None"),
        in_mlflow3=False,
        fs_code=INVALID,
        note=f"{FRAMEWORK_FIRST} (keras). " + PLAIN_NOTE.format("ValueError"),
    ),
    _v(
        "tensorflow signature: no input field",
        r"The model signature's input schema must contain at least one field\.",
        INVALID,
        f"{TF}:save_model",
        f"m.tensorflow.check_tensor_signature({NOINPUTS})",
        (TFF, "must contain at least one field"),
        in_mlflow3=False,
        note=f"{FRAMEWORK_FIRST} (tensorflow); fsregistry's Schema refuses empty inputs, so "
        "the trigger checks a stand-in signature; keras.save_model shares the check",
    ),
    _v(
        "keras.save_model: a column-based signature",
        r"All fields in the model signature's input schema must be of type TensorSpec\.",
        INVALID,
        f"{TF}:save_model, mlflow/keras/save.py:save_model",
        'm.keras.save_model(None, TMPD + "/keras-cols", signature=m.models.ModelSignature('
        'inputs=T.Schema([T.ColSpec("long", "a")])))',
        (TFF, "must be of type TensorSpec"),
        in_mlflow3=False,
        note=f"{FRAMEWORK_FIRST} (keras)",
    ),
    _v(
        "keras.save_model: a tensor signature with a fixed batch dimension",
        r"All fields in the model signature's input schema must have a shape in which the "
        r"first dimension is a variable dimension\.",
        INVALID,
        f"{TF}:save_model, mlflow/keras/save.py:save_model",
        'm.keras.save_model(None, TMPD + "/keras-fixed", signature=m.models.ModelSignature('
        "inputs=T.Schema([T.TensorSpec(_F64, (2, 3))])))",
        (TFF, "the first dimension is a variable dimension"),
        in_mlflow3=False,
        note=f"{FRAMEWORK_FIRST} (keras)",
    ),
    _v(
        "keras predict: input of an unknown type",
        r"`data` must be one of: \['ndarray', 'list', 'tuple', 'dict'\], but received type: "
        r"<class 'int'>\.",
        INVALID,
        "mlflow/keras/load.py:KerasModelWrapper.predict",
        "m.keras.KerasModelWrapper(None, False).predict(5)",
        ("fsregistry/keras/__init__.py", "`data` must be one of:"),
        in_mlflow3=False,
        note=f"{FRAMEWORK_FIRST} (keras)",
    ),
    _v(
        "tensorflow predict: Keras model input of an unknown type",
        r"Unsupported input data type: <class 'int'>\. Must be one of: "
        r"\['ndarray', 'list', 'tuple', 'dict'\]",
        INVALID,
        f"{TF}:_KerasModelWrapper.predict",
        "m.tensorflow._KerasModelWrapper(None).predict(5)",
        (TFF, "Unsupported input data type: {}. Must be one of"),
        in_mlflow3=False,
        note=f"{FRAMEWORK_FIRST} (tensorflow)",
    ),
    _v(
        "tensorflow predict: tf.Module input of an unknown type",
        r"Unsupported input data type: <class 'int'>, the input data must be numpy array or a "
        r"list\.",
        INTERNAL,
        f"{TF}:_TF2ModuleWrapper.predict",
        "m.tensorflow._TF2ModuleWrapper(None).predict(5)",
        (TFF, "the input data must be numpy array or a list"),
        in_mlflow3=False,
        fs_code=INVALID,
        note=f"{FRAMEWORK_FIRST} (tensorflow). {INTERNAL_NOTE}",
    ),
    _v(
        "tensorflow.autolog: log_every_n_steps with log_every_epoch",
        r"`log_every_n_steps` must be None if `log_every_epoch=True`, received "
        r"`log_every_epoch=True` and `log_every_n_steps=5`\.",
        "",
        "mlflow/tensorflow/callback.py:MlflowCallback.__init__",
        TF_MOD.format("fit_logging") + ".check_log_every(True, 5)",
        ("fsregistry/tensorflow/fit_logging.py", "`log_every_n_steps` must be None"),
        in_mlflow3=False,
        fs_code=INVALID,
        note=f"{FRAMEWORK_FIRST} (tensorflow). " + PLAIN_NOTE.format("ValueError"),
    ),
    _v(
        "tensorflow.autolog: save_best_only checkpoints without monitor",
        r"If checkpoint 'save_best_only' config is set to True, you need to set 'monitor' "
        r"config as well\.",
        INTERNAL,
        f"{CK}:MlflowModelCheckpointCallbackBase.__init__",
        TF_MOD.format("autologging")
        + "._check("
        + TF_MOD.format("autologging")
        + ".AutologConfig(checkpoint_monitor=None))",
        ("fsregistry/tensorflow/autologging.py", "you need to set 'monitor' config as well"),
        in_mlflow3=False,
        fs_code=INVALID,
        note=f"{FRAMEWORK_FIRST} (tensorflow). {INTERNAL_NOTE}",
    ),
    _v(
        "tensorflow.autolog: save_best_only checkpoints with an unknown mode",
        r"If checkpoint 'save_best_only' config is set to True, you need to set 'mode' config "
        r"and available modes includes 'min' and 'max', but you set 'mode' to 'x'\.",
        INTERNAL,
        f"{CK}:MlflowModelCheckpointCallbackBase.__init__",
        TF_MOD.format("autologging")
        + "._check("
        + TF_MOD.format("autologging")
        + '.AutologConfig(checkpoint_mode="x"))',
        ("fsregistry/tensorflow/autologging.py", "you need to set 'mode' config"),
        in_mlflow3=False,
        fs_code=INVALID,
        note=f"{FRAMEWORK_FIRST} (tensorflow). {INTERNAL_NOTE}",
    ),
    _v(
        "tensorflow.load_checkpoint: no run id and no active run",
        r"There is no active run, please provide the 'run_id' argument for 'load_checkpoint' "
        r"invocation\.",
        INTERNAL,
        f"{CK}:download_checkpoint_artifact (mlflow/tensorflow/__init__.py:load_checkpoint)",
        TF_MOD.format("checkpoints") + ".load_checkpoint()",
        (TFC, "There is no active run"),
        in_mlflow3=False,
        note=f"{FRAMEWORK_FIRST} (tensorflow)",
    ),
    _m(
        "tensorflow.load_checkpoint: the run has no checkpoint",
        r"There is no logged checkpoint artifact in the current run\.",
        INTERNAL,
        f"{CK}:download_checkpoint_artifact (mlflow/tensorflow/__init__.py:load_checkpoint)",
        TF_MOD.format("checkpoints") + ".load_checkpoint(run_id=R)",
        ((TFC, "There is no logged checkpoint artifact"),),
        in_mlflow3=False,
        note=f"{FRAMEWORK_FIRST} (tensorflow)",
    ),
    _m(
        "tensorflow.load_checkpoint: both epoch and global_step",
        r"Only one of 'epoch' and 'global_step' can be set for 'load_checkpoint'\.",
        INTERNAL,
        f"{CK}:download_checkpoint_artifact (mlflow/tensorflow/__init__.py:load_checkpoint)",
        TF_MOD.format("checkpoints")
        + ".load_checkpoint(run_id="
        + CKRUN.format("x.h5")
        + ", epoch=1, global_step=1)",
        ((TFC, "Only one of 'epoch' and 'global_step'"),),
        in_mlflow3=False,
        note=f"{FRAMEWORK_FIRST} (tensorflow)",
    ),
    _m(
        "tensorflow.load_checkpoint: weights-only checkpoint without a model",
        r"The latest checkpoint is weights-only, 'model' argument must be provided",
        INTERNAL,
        f"{TF}:load_checkpoint",
        TF_MOD.format("checkpoints")
        + ".load_checkpoint(run_id="
        + CKRUN.format("x.weights.h5")
        + ")",
        ((TFC, "The latest checkpoint is weights-only"),),
        in_mlflow3=False,
        note=f"{FRAMEWORK_FIRST} (tensorflow)",
    ),
)
