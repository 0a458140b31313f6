"""MLflow's messages for the deep-learning flavors' errors (tests/mlflow_messages.py's table,
flavors part): pytorch (its checkpoints and wrapper included), tensorflow and keras. The other
flavors are in tests/mlflow_messages_flavors.py, whose docstring says how entries whose MLflow
counterpart needs a framework are checked.
"""

from __future__ import annotations

from tests.mlflow_messages_base import INTERNAL, INVALID, MISSING, Message, _m, validation
from tests.mlflow_messages_flavors import FRAMEWORK_FIRST, INTERNAL_NOTE, PLAIN_NOTE

PTF = "fsregistry/pytorch/__init__.py"
PTL = "fsregistry/pytorch/loading.py"
PTW = "fsregistry/pytorch/wrapper.py"
PTC = "fsregistry/pytorch/checkpoints.py"
TFF = "fsregistry/tensorflow/__init__.py"
TFC = "fsregistry/tensorflow/checkpoints.py"
PT = "mlflow/pytorch/__init__.py"
TF = "mlflow/tensorflow/__init__.py"
CK = "mlflow/utils/checkpoint_utils.py"
#: A fresh run whose latest-checkpoint tag names ``{}`` (MLflow's tag key).
CKRUN = (
    '(lambda r: (c.set_tag(r, "mlflow.latest_checkpoint_artifact", "checkpoints/latest/{}"), '
    "r)[1])(c.create_run(E).info.run_id)"
)
#: A fake signature with no input fields (``Schema([])`` cannot be built).
NOINPUTS = "_NS(inputs=_NS(inputs=[]))"
PT_MOD = 'importlib.import_module(m.__name__ + ".pytorch.{}")'
TF_MOD = 'importlib.import_module(m.__name__ + ".tensorflow.{}")'

_v = validation

DEEP_FLAVORS: tuple[Message, ...] = (
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
