"""MLflow's messages for schema JSON, type merging, schema and params inference, input examples,
the serving request body and ``ModelConfig`` (tests/mlflow_messages.py's table, models part;
issue 20). Validation only: the triggers use :data:`~tests.mlflow_messages_base.MODEL_SETUP`
and no store.

Where MLflow's counterpart is private, the trigger names MLflow's function when ``m`` is
mlflow and fsregistry's when it is fsregistry (:data:`_MERGE`, :data:`_INFER`, :data:`_CSV`),
so the same data goes through both. Serving triggers save one echo model with an unnamed
``long`` column signature (:data:`_SERVE`) and call ``validate_serving_input`` on it.
"""

from __future__ import annotations

from tests.mlflow_messages_base import INTERNAL, INVALID, MISSING, Message, _m

BAD_REQUEST = "BAD_REQUEST"
SCH = "mlflow/types/schema.py"
TU = "mlflow/types/utils.py"
PJ = "mlflow/utils/proto_json_utils.py"
SS = "mlflow/pyfunc/scoring_server/__init__.py"
MU = "mlflow/models/utils.py"
DT = "fsregistry/models/datatypes.py"
INF = "fsregistry/models/inference.py"
IE = "fsregistry/models/input_example.py"
SC = "fsregistry/models/schema.py"
CF = "fsregistry/models/model_config.py"

#: The name of a type's merge (private in MLflow).
_MERGE = '("_merge" if m.__name__ == "mlflow" else "merge")'
#: Schema inference: MLflow's ``mlflow.types.utils._infer_schema``, fsregistry's
#: ``fsregistry.models.inference.infer_schema`` (``infer_signature`` turns its errors into a
#: warning in both).
_INFER = (
    '(importlib.import_module("mlflow.types.utils")._infer_schema if m.__name__ == "mlflow" '
    'else importlib.import_module("fsregistry.models.inference").infer_schema)'
)
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
_CODE_NOTE = (
    "deliberate: fsregistry raises InvalidParameterValue for a bad argument or bad data, where "
    "MLflow raises a TypeError (no code) or an MlflowException left at INTERNAL_ERROR"
)
_PRIVATE = (
    "MLflow's function is private: the trigger calls it when m is mlflow and fsregistry's "
    "counterpart when m is fsregistry"
)
#: Notes beyond the code note, per entry.
_NOTES = {
    "Map JSON: missing keys": "MLflow's Map JSON message says 'Array JSON' and `items`; "
    "fsregistry keeps MLflow's text and adds that a Map needs `values`.",
    "infer_schema: not a supported value": "fsregistry's list of types leaves out MLflow's "
    "'- pyspark.sql.DataFrame' (fsregistry infers Spark schemas elsewhere), so the regex stops "
    "before it and matches MLflow's 'but got ...' part.",
    "input example: unsupported type": "fsregistry's list leaves out MLflow's '- pydantic model "
    "instance' (not supported), so the regex skips the list's middle.",
    "serving: no input format": "MLflow appends its 2.0 scoring-protocol notice; fsregistry "
    "does not (the regex stops before it).",
    "ModelConfig: nothing given": "MLflow raises a plain FileNotFoundError; fsregistry's "
    "ModelConfigNotFound is a FileNotFoundError too, with RESOURCE_DOES_NOT_EXIST.",
}

_ENTRIES: tuple[tuple[str, str, str, str, str, tuple[tuple[str, str], ...]], ...] = (
    # -- type JSON (mlflow/types/schema.py from_json_dict) ------------------------------------
    (
        "Array JSON: missing keys",
        r"Missing keys in Array JSON\. Expected to find keys `items` and `type`",
        INTERNAL,
        f"{SCH}:Array.from_json_dict",
        'TS.Array.from_json_dict(**{"type": "array"})',
        ((DT, "Missing keys in {} JSON"),),
    ),
    (
        "Map JSON: missing keys",
        r"Missing keys in Array JSON\. Expected to find keys `items` and `type`",
        INTERNAL,
        f"{SCH}:Map.from_json_dict",
        'TS.Map.from_json_dict(**{"type": "map"})',
        (),
    ),
    (
        "Object JSON: missing keys",
        r"Missing keys in Object JSON\. Expected to find keys `properties` and `type`",
        INTERNAL,
        f"{SCH}:Object.from_json_dict",
        'TS.Object.from_json_dict(**{"type": "object"})',
        (),
    ),
    (
        "Array JSON: type mismatch",
        r"Type mismatch, Array expects `array` as the type",
        INTERNAL,
        f"{SCH}:Array.from_json_dict",
        'TS.Array.from_json_dict(**{"type": "map", "items": {"type": "long"}})',
        ((DT, "Type mismatch, {} expects `{}` as the type"),),
    ),
    (
        "Map JSON: type mismatch",
        r"Type mismatch, Map expects `map` as the type",
        INTERNAL,
        f"{SCH}:Map.from_json_dict",
        'TS.Map.from_json_dict(**{"type": "array", "values": {"type": "long"}})',
        (),
    ),
    (
        "Object JSON: type mismatch",
        r"Type mismatch, Object expects `object` as the type",
        INTERNAL,
        f"{SCH}:Object.from_json_dict",
        'TS.Object.from_json_dict(**{"type": "map", "properties": {}})',
        (),
    ),
    (
        "Array JSON: items not an object",
        r"Expected items to be a dictionary of Object JSON",
        INTERNAL,
        f"{SCH}:Array.from_json_dict",
        'TS.Array.from_json_dict(**{"type": "array", "items": "long"})',
        ((DT, "to be a dictionary of Object JSON"),),
    ),
    (
        "Map JSON: values not an object",
        r"Expected values to be a dictionary of Object JSON",
        INTERNAL,
        f"{SCH}:Map.from_json_dict",
        'TS.Map.from_json_dict(**{"type": "map", "values": "long"})',
        (),
    ),
    (
        "Object JSON: properties not objects",
        r"Expected properties to be a dictionary of Property JSON",
        INTERNAL,
        f"{SCH}:Object.from_json_dict",
        'TS.Object.from_json_dict(**{"type": "object", "properties": {"a": "long"}})',
        ((DT, "Expected properties to be a dictionary of Property JSON"),),
    ),
    (
        "Array JSON: items without type",
        r"Missing keys in Array's items JSON\. Expected to find key `type`",
        INTERNAL,
        f"{SCH}:Array.from_json_dict",
        'TS.Array.from_json_dict(**{"type": "array", "items": {}})',
        ((DT, "Missing keys in Array's items JSON"),),
    ),
    (
        "Map JSON: values without type",
        r"Missing keys in Map's items JSON\. Expected to find key `type`",
        INTERNAL,
        f"{SCH}:Map.from_json_dict",
        'TS.Map.from_json_dict(**{"type": "map", "values": {}})',
        ((DT, "Missing keys in Map's items JSON"),),
    ),
    (
        "Property JSON: several names",
        r"Expected Property JSON to contain a single key as name, got 2 keys\.",
        INTERNAL,
        f"{SCH}:Property.from_json_dict",
        'TS.Property.from_json_dict(**{"a": {"type": "long"}, "b": {"type": "long"}})',
        ((DT, "Expected Property JSON to contain a single key as name"),),
    ),
    (
        "Property JSON: no type",
        r"Missing keys in Property `a`\. Expected to find key `type`",
        INTERNAL,
        f"{SCH}:Property.from_json_dict",
        'TS.Property.from_json_dict(**{"a": {"required": True}})',
        ((DT, "Missing keys in Property"),),
    ),
    (
        "Object: properties not Property",
        r"Expected values to be instance of Property",
        INVALID,
        f"{SCH}:Object._check_properties",
        "TS.Object([5])",
        ((DT, "Expected values to be instance of Property"),),
    ),
    (
        "ColSpec JSON: type not a string",
        r"Expected mlflow\.types\.schema\.Datatype, .* or str for the 'type' argument, but got 5",
        "",
        f"{SCH}:ColSpec.__init__ (a TypeError)",
        'T.ColSpec.from_json_dict(**{"type": 5})',
        (),
    ),
    (
        "ColSpec JSON: no type",
        r"Missing keys in ColSpec JSON\. Expected to find key `type`",
        INTERNAL,
        f"{SCH}:ColSpec.from_json_dict",
        'T.ColSpec.from_json_dict(**{"name": "a"})',
        ((SC, "Missing keys in ColSpec JSON"),),
    ),
    (
        "TensorSpec JSON: missing keys",
        r"Missing keys in TensorSpec JSON\. Expected to find keys `tensor-spec` and `type`",
        INTERNAL,
        f"{SCH}:TensorSpec.from_json_dict",
        'T.TensorSpec.from_json_dict(**{"type": "tensor"})',
        ((SC, "Expected to find keys `tensor-spec` and `type`"),),
    ),
    (
        "TensorSpec JSON: type mismatch",
        r"Type mismatch, TensorSpec expects `tensor` as the type",
        INTERNAL,
        f"{SCH}:TensorSpec.from_json_dict",
        'T.TensorSpec.from_json_dict(**{"type": "long", "tensor-spec": {}})',
        ((SC, "Type mismatch, TensorSpec expects `tensor`"),),
    ),
    (
        "TensorSpec JSON: no dtype or shape",
        r"Missing keys in TensorSpec JSON\. Expected to find keys `dtype` and `shape`",
        INTERNAL,
        f"{SCH}:TensorInfo.from_json_dict",
        'T.TensorSpec.from_json_dict(**{"type": "tensor", "tensor-spec": {"dtype": "int64"}})',
        ((SC, "Expected to find keys `dtype` and `shape`"),),
    ),
    # -- Schema accessors (mlflow/types/schema.py Schema) ---------------------------------------
    (
        "Schema.input_dict: no names",
        r"Cannot get input dict for schema without names\.",
        INTERNAL,
        f"{SCH}:Schema.input_dict",
        'T.Schema([T.ColSpec("long")]).input_dict()',
        ((SC, "Cannot get input dict for schema without names"),),
    ),
    (
        "Schema.numpy_types: not scalar types",
        r"Failed to get numpy types as some of the inputs types are not DataType\.",
        INTERNAL,
        f"{SCH}:Schema.numpy_types",
        'T.Schema([T.ColSpec(TS.Array("long"), "a")]).numpy_types()',
        ((SC, "Failed to get numpy types"),),
    ),
    (
        "Schema.pandas_types: not scalar types",
        r"Failed to get pandas types as some of the inputs types are not DataType\.",
        INTERNAL,
        f"{SCH}:Schema.pandas_types",
        'T.Schema([T.ColSpec(TS.Array("long"), "a")]).pandas_types()',
        ((SC, "Failed to get pandas types"),),
    ),
    (
        "Schema.pandas_types: tensors",
        r"TensorSpec only supports numpy types, use numpy_types\(\) instead",
        INTERNAL,
        f"{SCH}:Schema.pandas_types",
        "T.Schema([T.TensorSpec(_F64, (-1,))]).pandas_types()",
        ((SC, "TensorSpec only supports numpy types"),),
    ),
    # -- merging types (mlflow/types/schema.py _merge, private) ---------------------------------
    (
        "merge: array with another type",
        r"Can't merge array with non-array type: Map",
        INTERNAL,
        f"{SCH}:Array._merge",
        f'getattr(TS.Array("long"), {_MERGE})(TS.Map("long"))',
        ((DT, "Can't merge {} with non-{} type"),),
    ),
    (
        "merge: arrays of other scalar types",
        r"Array types are incompatible for Array\(long\) with dtype=DataType\.long and "
        r"Array\(string\) with dtype=DataType\.string",
        INTERNAL,
        f"{SCH}:Array._merge",
        f'getattr(TS.Array("long"), {_MERGE})(TS.Array("string"))',
        ((DT, "{} types are incompatible for {} with {}={}"),),
    ),
    (
        "merge: map with another type",
        r"Can't merge map with non-map type: Array",
        INTERNAL,
        f"{SCH}:Map._merge",
        f'getattr(TS.Map("long"), {_MERGE})(TS.Array("long"))',
        (),
    ),
    (
        "merge: maps of other scalar types",
        r"Map types are incompatible for Map\(str -> .*long\) with value_type=DataType\.long "
        r"and Map\(str -> .*string\) with value_type=DataType\.string",
        INTERNAL,
        f"{SCH}:Map._merge",
        f'getattr(TS.Map("long"), {_MERGE})(TS.Map("string"))',
        (),
    ),
    (
        "merge: object with another type",
        r"Can't merge object with non-object type: Array",
        INTERNAL,
        f"{SCH}:Object._merge",
        f'getattr(TS.Object([TS.Property("a", "long")]), {_MERGE})(TS.Array("long"))',
        ((DT, "Can't merge object with non-object type"),),
    ),
    (
        "merge: property with another type",
        r"Can't merge property with non-property type: Array",
        INTERNAL,
        f"{SCH}:Property._merge",
        f'getattr(TS.Property("a", "long"), {_MERGE})(TS.Array("long"))',
        ((DT, "Can't merge property with non-property type"),),
    ),
    (
        "merge: properties of other names",
        r"Can't merge properties with different names",
        INTERNAL,
        f"{SCH}:Property._merge",
        f'getattr(TS.Property("a", "long"), {_MERGE})(TS.Property("b", "long"))',
        ((DT, "Can't merge properties with different names"),),
    ),
    (
        "merge: properties of other scalar types",
        r"Properties are incompatible for DataType\.long and DataType\.string",
        INTERNAL,
        f"{SCH}:Property._merge",
        f'getattr(TS.Property("a", "long"), {_MERGE})(TS.Property("a", "string"))',
        ((DT, "Properties are incompatible for"),),
    ),
    # -- schema inference (mlflow/types/utils.py _infer_schema, private) ------------------------
    (
        "infer_schema: list of mixed types",
        r"Expected all values in the list to be of the same type\. To specify a model signature "
        r"with a list containing elements of multiple types, define the signature manually "
        r"using the Array\(AnyType\(\)\) type from mlflow\.models\.schema\.",
        INVALID,
        f"{TU}:_infer_array_datatype",
        f'{_INFER}([1, "a"])',
        ((INF, "<_MIXED_TYPES>"),),
    ),
    (
        "infer_schema: list of lists and dicts",
        r"Expected all values in the list to be of the same type\.",
        INVALID,
        f"{TU}:_infer_array_datatype (a failed merge)",
        f'{_INFER}([[[1], {{"a": 1}}]])',
        (),
    ),
    (
        "infer_schema: unsupported numpy dtype",
        r"Unsupported numpy data type 'complex128', kind 'c'",
        INTERNAL,
        f"{TU}:_infer_numpy_dtype",
        f'{_INFER}(pd.DataFrame({{"a": [1j]}}))',
        ((INF, "Unsupported numpy data type"),),
    ),
    (
        "infer_schema: unsupported value",
        r"Data 1j is not one of the supported DataType",
        INVALID,
        f"{TU}:_infer_scalar_datatype",
        f"{_INFER}([1j])",
        ((INF, "is not one of the supported DataType"),),
    ),
    (
        "infer_schema: not a supported value",
        r"Failed to infer schema\. Expected one of the following types:\n- pandas\.DataFrame\n"
        r"- pandas\.Series\n- numpy\.ndarray\n- dictionary of \(name -> numpy\.ndarray\)\n"
        r"(?s:.*)but got '1j'",
        INVALID,
        f"{TU}:_infer_schema",
        f"{_INFER}(1j)",
        ((INF, "Failed to infer schema. Expected one of the following types"),),
    ),
    (
        "infer_schema: dict value an empty array",
        r"Dictionary value must not be an empty numpy array\.",
        INTERNAL,
        f"{TU}:_infer_datatype",
        f'{_INFER}({{"a": {{"b": np.array([])}}}})',
        ((INF, "Dictionary value must not be an empty numpy array"),),
    ),
    (
        "infer_schema: empty numpy array",
        r"Numpy array must include at least one non-empty item\. Invalid input `\[\]`\.",
        INTERNAL,
        f"{TU}:_infer_colspec_type",
        f'{_INFER}({{"a": np.array([]), "b": 1}})',
        ((INF, "Numpy array must include at least one non-empty item"),),
    ),
    (
        "infer_schema: dict keys not strings",
        r"The dictionary keys are not all strings\.",
        INTERNAL,
        f"{TU}:_infer_schema",
        f'{_INFER}({{1: "a"}})',
        ((INF, "The dictionary keys are not all strings"),),
    ),
    (
        "infer_schema: duplicated column names",
        r"Expected pandas\.Series, got '<class 'pandas\.(core\.frame\.)?DataFrame'>'\.",
        "",
        f"{TU}:_infer_pandas_column (a TypeError)",
        f'{_INFER}(pd.DataFrame([[1, 2]], columns=["a", "a"]))',
        ((INF, "Expected pandas.Series, got"),),
    ),
    (
        "infer_schema: object column",
        r"Failed to infer schema for pandas\.Series ",
        INTERNAL,
        f"{TU}:_infer_pandas_column",
        f'{_INFER}(pd.DataFrame({{"a": [[1], {{"b": 1}}]}}))',
        ((INF, "Failed to infer schema for pandas.Series"),),
    ),
    (
        "infer_schema: 0-d array",
        r"The specified variable_dimension 0 is out of bounds with respect to the number of "
        r"dimensions 0 in the input dataset",
        INTERNAL,
        f"{TU}:_get_tensor_shape",
        f"{_INFER}(np.array(5.0))",
        ((INF, "The specified variable_dimension 0 is out of bounds"),),
    ),
    # -- params inference (mlflow/types/utils.py _infer_param_schema) -------------------------
    (
        "infer_signature: params not a dict",
        r"Expected parameters to be dict, got int",
        INVALID,
        f"{TU}:_infer_param_schema",
        "m.models.infer_signature(params=5)",
        ((INF, "Expected parameters to be dict, got"),),
    ),
    (
        "infer_signature: 2-D list param",
        # MLflow lists (name, value, exception) tuples, fsregistry 'name'=value: message.
        r"Failed to infer schema for parameters: .*Expected parameters to be 1D array or "
        r"scalar, got 2D array",
        INVALID,
        f"{TU}:_infer_param_schema, _infer_type_and_shape",
        'm.models.infer_signature(params={"a": [[1]]})',
        (
            (INF, "Failed to infer schema for parameters: "),
            (INF, "Expected parameters to be 1D array or scalar, got {}D array"),
        ),
    ),
    (
        "infer_signature: param of another type",
        r"Failed to infer schema for parameters: .*Expected parameters to be 1D array or "
        r"scalar, got object",
        INVALID,
        f"{TU}:_infer_param_schema, _infer_type_and_shape",
        'm.models.infer_signature(params={"a": object()})',
        ((INF, "Expected parameters to be 1D array or scalar, got {}"),),
    ),
    (
        "infer_signature: empty dict param",
        r"Failed to infer schema for parameters: .*'dtype' must be DataType, Object or str, "
        r"got Any",
        INVALID,
        f"{TU}:_infer_param_schema; {SCH}:ParamSpec.__init__",
        'm.models.infer_signature(params={"a": {}})',
        ((INF, "'dtype' must be DataType, Object or str"),),
    ),
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

_FS_CODE = {
    "ModelConfig: nothing given": MISSING,
    "ModelConfig: no such file": MISSING,
}

MODELSA: tuple[Message, ...] = tuple(
    _m(
        kind,
        regex,
        code,
        source,
        trigger,
        sites,
        storage=False,
        fs_code=_FS_CODE.get(kind) or (INVALID if code in (INTERNAL, "") else ""),
        note=" ".join(
            n
            for n in (
                _CODE_NOTE if code in (INTERNAL, "") and kind not in _FS_CODE else "",
                _PRIVATE if any(x in trigger for x in (_MERGE, _INFER, _CSV)) else "",
                _NOTES.get(kind, ""),
            )
            if n
        ),
    )
    for kind, regex, code, source, trigger, sites in _ENTRIES
)
