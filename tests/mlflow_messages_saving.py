"""MLflow's messages for schema types, signatures, params specs, ``model_config``, saving and
model locations (tests/mlflow_messages.py's table, models part; see
tests/mlflow_messages_models.py). Validation only: the triggers use
:data:`~tests.mlflow_messages_base.MODEL_SETUP` and no store.
"""

from __future__ import annotations

from tests.mlflow_messages_base import (
    EXISTS,
    INTERNAL,
    INVALID,
    MISSING,
    Message,
    coded_validations,
)

PYF = "mlflow/pyfunc/__init__.py"
SCH = "mlflow/types/schema.py"
SC = "fsregistry/models/schema.py"
PA = "fsregistry/models/params.py"
SG = "fsregistry/models/signature.py"
CF = "fsregistry/models/model_config.py"
#: How MLflow 2.22.5 differs, per entry.
_MLFLOW2 = {
    "Object: duplicated property names": "MLflow 2.22 writes the names as a set: {'a'}.",
    "log_model: name and artifact_path": "MLflow 2.22's log_model has no name argument.",
    "pyfunc.load_model: no such directory": "MLflow 2.22 lets the OSError of the download out.",
    "get_model_info: directory without MLmodel": (
        "MLflow 2.22 lets the OSError of the download out."
    ),
}
_CODE_NOTE = (
    "deliberate: fsregistry raises InvalidParameterValue for a bad argument, where MLflow "
    "raises a TypeError/ValueError (no code) or an MlflowException left at INTERNAL_ERROR"
)

SAVING: tuple[Message, ...] = coded_validations(
    (
        (
            "Schema: empty",
            r"Creating Schema with empty inputs is not allowed\.",
            INVALID,
            f"{SCH}:Schema.__init__",
            "T.Schema([])",
            ((SC, "Creating Schema with empty inputs"),),
        ),
        (
            "Schema: named and unnamed inputs",
            r"Creating Schema with a combination of named and unnamed inputs is not allowed\. "
            r"Got input names \['a', None\]",
            INTERNAL,
            f"{SCH}:Schema.__init__",
            'T.Schema([T.ColSpec("long", "a"), T.ColSpec("long")])',
            ((SC, "combination of named and unnamed inputs"),),
        ),
        (
            "Schema: ColSpec and TensorSpec",
            r"Creating Schema with a combination of .* is not supported\. Please choose one "
            r"of ColSpec or TensorSpec",
            INTERNAL,
            f"{SCH}:Schema.__init__",
            'T.Schema([T.ColSpec("long", "a"), T.TensorSpec(_F64, (-1,), "b")])',
            ((SC, "Please choose one of ColSpec or TensorSpec"),),
        ),
        (
            "Schema: several unnamed tensors",
            r"Creating Schema with multiple unnamed TensorSpecs is not supported\. Please "
            r"provide names for each TensorSpec\.",
            INTERNAL,
            f"{SCH}:Schema.__init__",
            "T.Schema([T.TensorSpec(_F64, (-1,)), T.TensorSpec(_F64, (-1,))])",
            ((SC, "multiple unnamed TensorSpecs"),),
        ),
        (
            "Schema: unnamed optional input",
            r"Creating Schema with unnamed optional inputs is not supported\. Please name all "
            r"inputs or make all inputs required\.",
            INTERNAL,
            f"{SCH}:Schema.__init__",
            'T.Schema([T.ColSpec("long", required=False)])',
            ((SC, "unnamed optional inputs"),),
        ),
        (
            "ColSpec: unknown type name",
            r"Unsupported type 'int64', expected instance of DataType or one of "
            r"\['boolean', 'integer', 'long', 'float', 'double', 'string', 'binary', "
            r"'datetime'\]",
            INTERNAL,
            f"{SCH}:ColSpec.__init__",
            'T.ColSpec("int64", "a")',
            (("fsregistry/models/datatypes.py", "expected instance of DataType or one of"),),
        ),
        (
            "TensorSpec: dtype not a numpy dtype",
            r"Expected `dtype` to be instance of `<class 'numpy\.dtype'>`, received "
            r"`<class 'str'>`",
            "",
            f"{SCH}:TensorInfo.__init__ (a TypeError)",
            'T.TensorSpec("float64", (-1,))',
            ((SC, "Expected `dtype` to be instance of"),),
        ),
        (
            "TensorSpec: shape not a tuple",
            r"Expected `shape` to be instance of `<class 'tuple'>` or `<class 'list'>`, "
            r"received `<class 'int'>`",
            "",
            f"{SCH}:TensorInfo.__init__ (a TypeError)",
            "T.TensorSpec(_F64, 5)",
            ((SC, "Expected `shape` to be instance of"),),
        ),
        (
            "TensorSpec: sized string dtype",
            r"MLflow does not support size information in flexible numpy data types\. Use "
            r'np\.dtype\("str"\) instead',
            INTERNAL,
            f"{SCH}:TensorInfo.__init__",
            'T.TensorSpec(np.dtype("U10"), (-1,))',
            ((SC, "does not support size information in flexible numpy data types"),),
        ),
        (
            "Array: dtype of another type",
            r"Expected mlflow\.types\.schema\.Datatype, mlflow\.types\.schema\.Array, "
            r"mlflow\.types\.schema\.Object, mlflow\.types\.schema\.Map, "
            r"mlflow\.types\.schema\.AnyType or str for the 'dtype' argument, but got 5",
            INTERNAL,
            f"{SCH}:Array.__init__",
            "TS.Array(5)",
            (("fsregistry/models/datatypes.py", "Expected mlflow.types.schema.Datatype"),),
        ),
        (
            "Map: value_type of another type",
            r"Expected mlflow\.types\.schema\.Datatype, .* or str for the 'value_type' "
            r"argument, but got 5",
            INVALID,
            f"{SCH}:Map.__init__",
            "TS.Map(5)",
            (),
        ),
        (
            "Object: no properties",
            r"Creating Object with empty properties is not allowed\.",
            INVALID,
            f"{SCH}:Object.__init__",
            "TS.Object([])",
            (("fsregistry/models/datatypes.py", "Creating Object with empty properties"),),
        ),
        (
            "Object: duplicated property names",
            r"Found duplicated property names: `a`",
            INVALID,
            f"{SCH}:Object.__init__",
            'TS.Object([TS.Property("a", "long"), TS.Property("a", "long")])',
            (("fsregistry/models/datatypes.py", "Found duplicated property names"),),
        ),
        (
            "Property: name not a string",
            r"Expected name to be a string, got type int",
            INVALID,
            f"{SCH}:Property.__init__",
            'TS.Property(5, "long")',
            (("fsregistry/models/datatypes.py", "Expected name to be a string"),),
        ),
        (
            "ParamSpec: binary",
            r"Binary type is not supported for parameters, ParamSpec 'p'has dtype 'binary'",
            INVALID,
            f"{SCH}:ParamSpec.__init__",
            'T.ParamSpec("p", "binary", b"x")',
            ((PA, "Binary type is not supported for parameters"),),
        ),
        (
            "ParamSpec: dtype of another type",
            r"'dtype' must be DataType, Object or str, got 5",
            "",
            f"{SCH}:ParamSpec.__init__ (a TypeError)",
            'T.ParamSpec("p", 5, 1)',
            ((PA, "'dtype' must be DataType, Object or str"),),
        ),
        (
            "ParamSpec JSON: missing keys",
            r"Missing keys in ParamSpec JSON\. Expected to find keys `name`, `type`\(or "
            r"`dtype`\) and `default`\. Received keys: dict_keys\(\['name'\]\)",
            INVALID,
            f"{SCH}:ParamSpec.from_json_dict",
            'T.ParamSpec.from_json_dict(**{"name": "p"})',
            ((PA, "Missing keys in ParamSpec JSON"),),
        ),
        (
            "ParamSchema: not ParamSpecs",
            r"ParamSchema inputs only accept ",
            INVALID,
            f"{SCH}:ParamSchema.__init__",
            "T.ParamSchema([5])",
            ((PA, "ParamSchema inputs only accept"),),
        ),
        (
            "ParamSchema: duplicated names",
            r"Duplicated parameters found in schema: \['p'\]",
            INVALID,
            f"{SCH}:ParamSchema.__init__",
            'T.ParamSchema([T.ParamSpec("p", "long", 1), T.ParamSpec("p", "long", 1)])',
            ((PA, "Duplicated parameters found in schema"),),
        ),
        (
            "ModelSignature: nothing given",
            r"At least one of inputs, outputs or params must be provided",
            "",
            "mlflow/models/signature.py:ModelSignature.__init__ (a ValueError)",
            "m.models.ModelSignature()",
            ((SG, "At least one of inputs, outputs or params must be provided"),),
        ),
        (
            "ModelSignature: inputs of another type",
            r"inputs must be either None, mlflow\.models\.signature\.Schema, or a "
            r"dataclass,got 'int'",
            "",
            "mlflow/models/signature.py:ModelSignature.__init__ (a TypeError)",
            "m.models.ModelSignature(inputs=5)",
            ((SG, "must be either None, mlflow.models.signature"),),
        ),
        (
            "infer_signature: nothing given",
            r"At least one of inputs, outputs or params must be provided",
            "",
            "mlflow/models/signature.py:ModelSignature.__init__ (a ValueError)",
            "m.models.infer_signature()",
            ((SG, "At least one of inputs, outputs or params must be provided (infer"),),
        ),
        (
            "model_config: of another type",
            r"An invalid ``model_config`` structure was passed\. ``model_config`` must be a "
            r"valid file path or of type ``dict`` with string keys\.",
            INVALID,
            "mlflow/utils/model_utils.py:_validate_and_get_model_config_from_file",
            'm.pyfunc.save_model(TMPD + "/cfg5", python_model=lambda x: x, model_config=5)',
            ((CF, "An invalid ``model_config`` structure was passed"),),
        ),
        (
            "model_config: no such file",
            r"An invalid `model_config` file was passed\. The provided `model_config` file "
            r"'/nonexistent\.yaml'is not a valid file path\.",
            INVALID,
            "mlflow/utils/model_utils.py:_validate_and_get_model_config_from_file",
            'm.pyfunc.save_model(TMPD + "/cfg6", python_model=lambda x: x, '
            'model_config="/nonexistent.yaml")',
            ((CF, "An invalid `model_config` file was passed"),),
        ),
        (
            "model_config: values not JSON",
            r"Values in the provided ``model_config`` are of an unsupported type\. Only "
            r"JSON-serializable data types can be provided as values\.",
            INVALID,
            "mlflow/utils/model_utils.py:_validate_and_get_model_config_from_file",
            'm.pyfunc.save_model(TMPD + "/cfg7", python_model=lambda x: x, '
            'model_config={"a": object()})',
            ((CF, "Values in the provided ``model_config`` are of an unsupported type"),),
        ),
        (
            "save_model: conda_env with pip_requirements",
            r"Only one of `conda_env`, `pip_requirements`, and `extra_pip_requirements` can "
            r"be specified",
            "",
            "mlflow/utils/environment.py:_validate_env_arguments (a ValueError)",
            'm.pyfunc.save_model(TMPD + "/env1", python_model=lambda x: x, conda_env={}, '
            'pip_requirements=["x"])',
            (
                ("fsregistry/models/saving.py", "Only one of `conda_env`"),
                ("fsregistry/models/environment.py", "Only one of `conda_env`"),
            ),
        ),
        (
            "get_model_dependencies: format",
            r"Illegal format argument 'x'\.",
            INVALID,
            f"{PYF}:get_model_dependencies",
            'm.pyfunc.get_model_dependencies(NOPF, format="x")',
            (("fsregistry/models/environment.py", "Illegal format argument"),),
        ),
        (
            "Model.load: no MLmodel",
            r'Could not find an "MLmodel" configuration file at "[^"]*nothing"',
            MISSING,
            "mlflow/models/model.py:Model.load",
            'm.models.Model.load(TMPD + "/nothing")',
            (("fsregistry/models/model.py", "Could not find an"),),
        ),
        (
            "pyfunc.load_model: no such directory",
            r"No such artifact: 'nothing'",
            MISSING,
            "mlflow/store/artifact/local_artifact_repo.py (download of the model directory)",
            'm.pyfunc.load_model(TMPD + "/nothing")',
            (("fsregistry/models/cache.py", "No such artifact: {} (no MLflow model at {})"),),
        ),
        (
            "pyfunc.load_model: directory without MLmodel",
            r'Could not find an "MLmodel" configuration file at "[^"]*MLmodel"',
            MISSING,
            "mlflow/models/model.py:Model.load",
            "m.pyfunc.load_model(TMPD)",
            (("fsregistry/models/cache.py", "configuration file at"),),
        ),
        (
            "get_model_info: directory without MLmodel",
            r"No such artifact: 'MLmodel'",
            MISSING,
            "mlflow/store/artifact/local_artifact_repo.py (download of the MLmodel file)",
            "m.models.get_model_info(TMPD)",
            (
                ("fsregistry/models/cache.py", "No such artifact: {} (in the model at"),
                # The same text for a remote model directory without an MLmodel file.
                ("fsregistry/models/cache.py", "No such artifact: {} (no MLflow model at {}, "),
            ),
        ),
        (
            "log_model: name and artifact_path",
            r"Both `artifact_path` \(deprecated\) and `name` parameters were specified\. "
            r"Please only specify `name`",
            INVALID,
            "mlflow/models/model.py:Model.log",
            'm.pyfunc.log_model(name="a", artifact_path="b", python_model=lambda x: x)',
            (("fsregistry/models/model.py", "Both `artifact_path` (deprecated)"),),
        ),
        (
            "save_model: path exists",
            r"Path '[^']*no-pyfunc' already exists and is not empty",
            EXISTS,
            "mlflow/utils/model_utils.py:_validate_and_prepare_target_save_path",
            "m.pyfunc.save_model(NOPF, python_model=lambda x: x)",
            (("fsregistry/models/saving.py", "already exists and is not empty"),),
        ),
        (
            "save_model: model code file missing",
            r"The provided model path '[^']*nofile\.py' does not exist\. Ensure the file "
            r"path is valid and try again\.",
            INVALID,
            f"{PYF}:_validate_and_get_model_code_path",
            'm.pyfunc.save_model(TMPD + "/code1", python_model=TMPD + "/nofile.py")',
            (("fsregistry/pyfunc/from_code.py", "does not exist. Ensure the file path"),),
        ),
        (
            "save_model: model code path not a file",
            r"The provided model path '[^']*' is not a valid Python file path",
            INVALID,
            f"{PYF}:_validate_and_get_model_code_path",
            'm.pyfunc.save_model(TMPD + "/code2", python_model=TMPD)',
            (("fsregistry/pyfunc/from_code.py", "is not a valid Python file path"),),
        ),
    ),
    _CODE_NOTE,
    lambda kind, _trigger: (_MLFLOW2.get(kind),),
)
