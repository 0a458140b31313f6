"""MLflow's messages for input examples, the serving request body and models from code
(``set_model``, ``ModelConfig``): tests/mlflow_messages.py's table, models part (issue 20; the
schema part is tests/mlflow_messages_modelsa.py). Validation only: the triggers use
:data:`~tests.mlflow_messages_base.MODEL_SETUP` and no store.

Serving triggers save one echo model with an unnamed ``long`` column signature
(:data:`_SERVE_MODEL`) and call ``validate_serving_input`` on it. CSV bodies go through
``parse_csv_input``, private in MLflow: the trigger names MLflow's when ``m`` is mlflow and
fsregistry's when it is fsregistry (:data:`_CSV`).
"""

from __future__ import annotations

from tests.mlflow_messages_base import (
    INTERNAL,
    INVALID,
    MISSING,
    Entry,
    Message,
    coded_validations,
)
from tests.mlflow_messages_modelsa import CODE_NOTE, PRIVATE

BAD_REQUEST = "BAD_REQUEST"
SS = "mlflow/pyfunc/scoring_server/__init__.py"
PJ = "mlflow/utils/proto_json_utils.py"
MU = "mlflow/models/utils.py"
IE = "fsregistry/models/input_example.py"
CF = "fsregistry/models/model_config.py"

#: CSV request bodies: ``parse_csv_input`` of MLflow's scoring server and of fsregistry.
_CSV = (
    'importlib.import_module(m.__name__ + (".pyfunc.scoring_server" if m.__name__ == "mlflow" '
    'else ".models.input_example")).parse_csv_input'
)
_SERVE_MODEL = (
    '(os.path.isdir(TMPD + "/vs") or m.pyfunc.save_model(TMPD + "/vs", python_model=lambda x: x, '
    'signature=m.models.ModelSignature(T.Schema([T.ColSpec("long")])), pip_requirements=[]))'
)


def _serve(body: str) -> str:
    """A trigger: ``validate_serving_input`` of ``body`` (Python source) on the echo model."""
    return f'({_SERVE_MODEL}, m.models.validate_serving_input(TMPD + "/vs", {body}))'


_BAD_YAML = 'open(TMPD + "/bad.yaml", "w").write("a: [")'
#: Notes beyond the code note, per entry.
_NOTES = {
    "input example: unsupported type": "fsregistry's list leaves out MLflow's '- pydantic model "
    "instance' (not supported), so the regex skips the list's middle.",
    "serving: no input format": "MLflow appends its 2.0 scoring-protocol notice; fsregistry "
    "does not (the regex stops before it).",
    "ModelConfig: nothing given": "MLflow raises a plain FileNotFoundError; fsregistry's "
    "ModelConfigNotFound is a FileNotFoundError too, with RESOURCE_DOES_NOT_EXIST.",
}
_FS_CODE = {
    "ModelConfig: nothing given": MISSING,
    "ModelConfig: no such file": MISSING,
}

_ENTRIES: tuple[Entry, ...] = (
    # -- input examples (mlflow/models/utils.py _Example, _read_example) ----------------------
    (
        "input example: mixed dict",
        r"Mixed types in dictionary are not supported as input examples\. Found numpy arrays "
        r"and other types\.",
        INVALID,
        f"{MU}:_Example.__init__",
        'm.models.convert_input_example_to_serving_input({"a": np.array([1]), "b": 1})',
        ((IE, "Mixed types in dictionary are not supported"),),
    ),
    (
        "input example: arrays in a list",
        r"Multidimensional arrays \(aka tensors\) are not supported\. Numpy arrays in list are "
        r"not supported as input examples\.",
        INTERNAL,
        f"{MU}:_Example.__init__ (TensorsNotSupportedException)",
        "m.models.convert_input_example_to_serving_input([np.array([1])])",
        ((IE, "Numpy arrays in list are not supported"),),
    ),
    (
        "input example: unsupported type",
        r"Expected one of the following types:\n- pandas\.DataFrame\n- numpy\.ndarray\n"
        r"(?s:.*)but got '<class 'object'>'",
        INVALID,
        f"{MU}:_Example.__init__",
        "m.models.convert_input_example_to_serving_input(object())",
        ((IE, "Expected one of the following types"),),
    ),
    (
        "load_input_example: unknown type",
        r"This version of mlflow can not load example of type weird",
        INTERNAL,
        f"{MU}:_read_example",
        '(os.makedirs(TMPD + "/ex1", exist_ok=True), open(TMPD + "/ex1/MLmodel", "w").write('
        '"flavors: {}\\nsaved_input_example_info:\\n  artifact_path: input_example.json\\n'
        '  type: weird\\n"), m.models.Model.load(TMPD + "/ex1").load_input_example(TMPD + "/ex1"))',
        ((IE, "This version of mlflow can not load example of type"),),
    ),
    # -- the serving request body (scoring_server, proto_json_utils) --------------------------
    (
        "serving: not JSON",
        r"Invalid input\. Ensure that input is a valid JSON formatted string\. Error: ",
        BAD_REQUEST,
        f"{SS}:_decode_json_input",
        _serve('"{"'),
        ((IE, "Ensure that input is a valid JSON formatted string"),),
    ),
    (
        "serving: a list",
        r"Invalid input\. The input must be a JSON dictionary with exactly one of the input "
        r"fields \{.*\}\. Received a list\.",
        BAD_REQUEST,
        f"{SS}:_decode_json_input",
        _serve('"[1]"'),
        ((IE, "Invalid input. {}. Received {}."),),
    ),
    (
        "serving: a scalar",
        r"Invalid input\. The input must be a JSON dictionary with exactly one of the input "
        r"fields \{.*\}\. Received unexpected input type '<class 'int'>\.",
        BAD_REQUEST,
        f"{SS}:_decode_json_input",
        _serve('"5"'),
        (),
    ),
    (
        "serving: no input format",
        r"The input must be a JSON dictionary with exactly one of the input fields \{.*\}\. "
        r"Received dictionary with input fields: \[\]",
        BAD_REQUEST,
        f"{SS}:infer_and_parse_data",
        _serve('{"foo": 1}'),
        ((IE, "{}. Received dictionary with input fields"),),
    ),
    (
        "serving: split not a dict",
        r"Invalid input\. Dataframe split format must be a dictionary\. Got list\.",
        BAD_REQUEST,
        f"{PJ}:dataframe_from_parsed_json",
        _serve('{"dataframe_split": [1]}'),
        ((IE, "Dataframe split format must be a dictionary"),),
    ),
    (
        "serving: split keys",
        r"Invalid input\. Dataframe split format must have 'data' field and optionally "
        r"'columns' and 'index' fields\. Got \{'x'\}\.'",
        BAD_REQUEST,
        f"{PJ}:dataframe_from_parsed_json",
        _serve('{"dataframe_split": {"x": 1}}'),
        ((IE, "Dataframe split format must have 'data' field"),),
    ),
    (
        "serving: split not a frame",
        r"Invalid input\. Provided dataframe_split field is not a valid dataframe "
        r"representation in 'split' format\. Error: '",
        BAD_REQUEST,
        f"{PJ}:dataframe_from_parsed_json",
        _serve('{"dataframe_split": {"data": [[1, 2]], "columns": ["a"]}}'),
        ((IE, "Provided dataframe_split field is not a valid"),),
    ),
    (
        "serving: records not a list",
        r"Invalid input\. Dataframe records format must be a list of records\. Got dictionary\.",
        BAD_REQUEST,
        f"{PJ}:dataframe_from_parsed_json",
        _serve('{"dataframe_records": {"a": 1}}'),
        ((IE, "Dataframe records format must be a list of records"),),
    ),
    (
        "serving: records not a frame",
        r"Invalid input\. Provided dataframe_records field is not a valid dataframe "
        r"representation in 'records' format\. Error: '",
        BAD_REQUEST,
        f"{PJ}:dataframe_from_parsed_json",
        _serve('{"dataframe_records": [{"a": 1}, 5]}'),
        ((IE, "Provided dataframe_records field is not a valid"),),
    ),
    (
        "serving: column not convertible",
        r"Invalid input\. Data is not compatible with model signature\. Failed to convert "
        r"column 0 to type 'int64'\. Error: 'ValueError\(",
        BAD_REQUEST,
        f"{PJ}:cast_df_types_according_to_schema (MlflowFailedTypeConversion)",
        _serve('{"dataframe_split": {"data": [["x"]]}}'),
        ((IE, "Data is not compatible with model signature"),),
    ),
    (
        "serving: inputs not convertible",
        r"Invalid input\. invalid literal for int\(\) with base 10: 'x'",
        BAD_REQUEST,
        f"{PJ}:convert_data_type",
        _serve('{"inputs": ["x"]}'),
        ((IE, "Invalid input. {} (converting {} to {})"),),
    ),
    (
        "serving: dict for an unnamed signature",
        r"Invalid input\. Failed to parse input data\. This model contains an un-named  model "
        r"signature which expects a single n-dimensional array or a single value as input, "
        r"however, an input of type <class 'dict'> was found\.",
        BAD_REQUEST,
        f"{PJ}:_cast_schema_type",
        _serve('{"inputs": {"a": 1}}'),
        ((IE, "This model contains an un-named  model signature"),),
    ),
    (
        "serving: instances of other lengths",
        r"Invalid input\. The length of values for each input/column name are not the same",
        BAD_REQUEST,
        f"{PJ}:parse_instances_data",
        _serve('{"instances": [{"a": 1, "b": 2}, {"a": 3}]}'),
        ((IE, "The length of values for each input/column name are not the same"),),
    ),
    (
        "serving: CSV not a frame",
        r"Failed to parse input as a Pandas DataFrame\. Ensure that the input is a valid "
        r"CSV-formatted Pandas DataFrame produced using the `pandas\.DataFrame\.to_csv\(\)` "
        r"method\. Error: '",
        BAD_REQUEST,
        f"{SS}:parse_csv_input",
        f'{_CSV}(importlib.import_module("io").StringIO("a,b\\n1,2\\n1,2,3,4\\n"))',
        ((IE, "Failed to parse input as a Pandas DataFrame"),),
    ),
    (
        "set_signature: not a ModelSignature",
        r"The signature argument must be a ModelSignature object",
        "",
        "mlflow/models/signature.py:set_signature (an AssertionError)",
        'm.models.set_signature(TMPD + "/nothing", 5)',
        (("fsregistry/models/signature.py", "The signature argument must be a ModelSignature"),),
    ),
    # -- models from code (mlflow/models/model.py set_model, model_config.py) -----------------
    (
        "set_model: a string",
        r"Model should either be an instance of PyFuncModel, Langchain type, or LlamaIndex "
        r"index\.",
        INTERNAL,
        "mlflow/models/model.py:set_model",
        'm.models.set_model("model.py")',
        ((CF, "{} Got {}: {}"),),
    ),
    (
        "ModelConfig: nothing given",
        r"Config file is not provided which is needed to load the model\. Please provide a "
        r"valid path\.",
        "",
        "mlflow/models/model_config.py:ModelConfig.__init__ (a FileNotFoundError)",
        "m.models.ModelConfig()",
        ((CF, "Config file is not provided"),),
    ),
    (
        "ModelConfig: no such file",
        r"Config file '/nonexistent\.yaml' not found\.",
        "",
        "mlflow/models/model_config.py:ModelConfig.__init__ (a FileNotFoundError)",
        'm.models.ModelConfig(development_config="/nonexistent.yaml")',
        ((CF, "Config file '{}' not found."),),
    ),
    (
        "ModelConfig: invalid YAML",
        r"Error parsing YAML file: ",
        INVALID,
        "mlflow/models/model_config.py:ModelConfig._read_config",
        f'({_BAD_YAML}, m.models.ModelConfig(development_config=TMPD + "/bad.yaml").to_dict())',
        ((CF, "{}: {}"),),
    ),
    (
        "model_config: invalid YAML",
        r"The provided `model_config` file '[^']*bad\.yaml' is not a valid YAML file: ",
        INVALID,
        "mlflow/utils/model_utils.py:_validate_and_get_model_config_from_file",
        f'({_BAD_YAML}, m.pyfunc.save_model(TMPD + "/cfg8", python_model=lambda x: x, '
        'model_config=TMPD + "/bad.yaml"))',
        (),
    ),
)

INPUTS: tuple[Message, ...] = coded_validations(
    _ENTRIES,
    CODE_NOTE,
    lambda kind, trigger: (PRIVATE if _CSV in trigger else "", _NOTES.get(kind, "")),
    _FS_CODE,
)
