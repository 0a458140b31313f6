"""MLflow's messages for schema JSON, Schema accessors, type merging, and schema and params
inference (tests/mlflow_messages.py's table, models part; issue 20; input examples, the serving
request body and ``ModelConfig`` are in tests/mlflow_messages_inputs.py). Validation only: the
triggers use :data:`~tests.mlflow_messages_base.MODEL_SETUP` and no store.

Where MLflow's counterpart is private, the trigger names MLflow's function when ``m`` is
mlflow and fsregistry's when it is fsregistry (:data:`_MERGE`, :data:`_INFER`), so the same
data goes through both.
"""

from __future__ import annotations

from tests.mlflow_messages_base import INTERNAL, INVALID, Entry, Message, coded_validations

SCH = "mlflow/types/schema.py"
TU = "mlflow/types/utils.py"
DT = "fsregistry/models/datatypes.py"
INF = "fsregistry/models/inference.py"
SC = "fsregistry/models/schema.py"

#: The name of a type's merge (private in MLflow).
_MERGE = '("_merge" if m.__name__ == "mlflow" else "merge")'
#: Schema inference: MLflow's ``mlflow.types.utils._infer_schema``, fsregistry's
#: ``fsregistry.models.inference.infer_schema`` (``infer_signature`` turns its errors into a
#: warning in both).
_INFER = (
    '(importlib.import_module("mlflow.types.utils")._infer_schema if m.__name__ == "mlflow" '
    'else importlib.import_module("fsregistry.models.inference").infer_schema)'
)

#: Why fsregistry's code differs (also tests/mlflow_messages_inputs.py's).
CODE_NOTE = (
    "deliberate: fsregistry raises InvalidParameterValue for a bad argument or bad data, where "
    "MLflow raises a TypeError (no code) or an MlflowException left at INTERNAL_ERROR"
)
#: Why a trigger names two functions (also tests/mlflow_messages_inputs.py's).
PRIVATE = (
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
}

_ENTRIES: tuple[Entry, ...] = (
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
)

MODELSA: tuple[Message, ...] = coded_validations(
    _ENTRIES,
    CODE_NOTE,
    lambda kind, trigger: (
        PRIVATE if any(x in trigger for x in (_MERGE, _INFER)) else "",
        _NOTES.get(kind, ""),
    ),
)
