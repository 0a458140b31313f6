"""MLflow's schema-enforcement and params messages (tests/mlflow_messages.py's table, models
part): what ``PyFuncModel.predict`` raises when the input or the params do not fit the model's
signature, and pyfunc's save/load errors; schema types, signatures and saving are in
tests/mlflow_messages_saving.py.

Triggers use the pyfunc models of :data:`~tests.mlflow_messages_base.MODEL_SETUP`. MLflow's
``predict`` wraps every input error as ``Failed to enforce schema of data '<data>' with schema
'<schema>'. Error: <MLflow's text>`` (INVALID_PARAMETER_VALUE); fsregistry does the same, its
``<data>`` cut to 300 characters, and adds its detail (the column, the input) after MLflow's
text. Sources are in ``mlflow/models/utils.py`` unless named.
"""

from __future__ import annotations

from tests.mlflow_messages_base import INTERNAL, INVALID, MISSING, Message, _m
from tests.mlflow_messages_saving import SAVING

U = "mlflow/models/utils.py"
PYF = "mlflow/pyfunc/__init__.py"
SCH = "mlflow/types/schema.py"
EN = "fsregistry/models/enforcement.py"
VA = "fsregistry/models/values.py"
PY = "fsregistry/pyfunc/__init__.py"
#: MLflow's wrapper of every input error in ``predict`` (the data is printed over lines).
W = r"Failed to enforce schema of data '[\s\S]*' with schema '[\s\S]*'\. Error: "


def _enf(kind: str, regex: str, source: str, trigger: str, *sites: tuple[str, str]) -> Message:
    """A schema-enforcement error, raised through ``predict`` (validation, no store)."""
    return _m(kind, W + regex, INVALID, source, trigger, sites, storage=False)


MODELS: tuple[Message, ...] = (
    _enf(
        "predict: model is missing inputs",
        r"Model is missing inputs \['b'\]",
        f"{U}:_enforce_schema, {PYF}:_validate_prediction_input",
        'COLS.predict(pd.DataFrame({"a": [1]}))',
        ("fsregistry/pyfunc/__init__.py", "Failed to enforce schema of data"),
        (EN, "<msg>"),
    ),
    _enf(
        "predict: missing inputs, with extra inputs",
        r"Model is missing inputs \['b'\]\. Note that there were extra inputs: \['c'\]",
        f"{U}:_enforce_schema",
        'COLS.predict(pd.DataFrame({"a": [1], "c": [2]}))',
    ),
    _enf(
        "predict: unsafe column type conversion",
        r"Incompatible input types for column a\. Can not safely convert float64 to int64\.",
        f"{U}:_enforce_mlflow_datatype",
        'COLS.predict(pd.DataFrame({"a": [1.5], "b": ["x"]}))',
        (VA, "Incompatible input types for column {}. Can not safely convert {} to {}.{}"),
        (VA, "Incompatible input types for column {}. Can not safely convert {} to {}. ({})"),
    ),
    _enf(
        "predict: a dict that is no DataFrame",
        r"This model contains a column-based signature, which suggests a DataFrame input\. "
        r"There was an error casting the input data to a DataFrame: ",
        f"{U}:_enforce_schema",
        'COLS.predict({"a": np.array([1, 2]), "b": np.array(["x"])})',
        (EN, "This model contains a column-based signature"),
    ),
    _enf(
        "predict: not DataFrame-like",
        r"Expected input to be DataFrame\. Found: object",
        f"{U}:_enforce_schema",
        "COLS.predict(object())",
        (EN, "Expected input to be DataFrame"),
    ),
    _enf(
        "predict: too few unnamed columns",
        r"Model inference is missing inputs\. The model signature declares 2 inputs  but the "
        r"provided value only has 1 inputs\. Note: the inputs were not named in the signature "
        r"so we can only verify their count\.",
        f"{U}:_enforce_schema",
        'UCOLS.predict(pd.DataFrame({"a": [1]}))',
        (EN, "Model inference is missing inputs"),
    ),
    _enf(
        "predict: tensor shape",
        r"Shape of input \(2, 4\) does not match expected shape \(-1, 3\)\.",
        f"{U}:_enforce_tensor_spec",
        "TEN.predict(np.zeros((2, 4)))",
        (EN, "Shape of input"),
    ),
    _enf(
        "predict: tensor dtype",
        r"dtype of input int32 does not match expected dtype float64",
        f"{U}:_enforce_tensor_spec",
        'TEN.predict(np.zeros((2, 3), dtype="int32"))',
        (EN, "dtype of input"),
    ),
    _enf(
        "predict: unnamed tensor input of another type",
        r"This model contains a tensor-based model signature with no input names, which "
        r"suggests a numpy array input or a pandas dataframe input with proper column values, "
        r"but an input of type <class 'list'> was found\.",
        f"{U}:_enforce_tensor_schema",
        "TEN.predict([1, 2])",
        (EN, "tensor-based model signature with no input names"),
    ),
    _enf(
        "predict: empty DataFrame for a tensor",
        r"Input DataFrame is empty\.",
        f"{U}:_enforce_tensor_schema",
        "TEN.predict(pd.DataFrame())",
        (EN, "Input DataFrame is empty."),
    ),
    _enf(
        "predict: DataFrame columns vs unnamed tensor shape",
        r"This model contains a model signature with an unnamed input\. Since the input data is "
        r"a pandas DataFrame containing multiple columns, the input shape must be of the "
        r"structure \(-1, number_of_dataframe_columns\)\. Instead, the input DataFrame passed "
        r"had 2 columns and an input shape of \(-1, 3\)",
        f"{U}:_enforce_tensor_schema",
        'TEN.predict(pd.DataFrame({"a": [1.0], "b": [2.0]}))',
        (EN, "This model contains a model signature with an unnamed input"),
    ),
    _enf(
        "predict: list column cannot be reshaped",
        r"The value in the Input DataFrame column 'None' could not be converted to the expected "
        r"shape of: '\(-1, 3\)'\. Ensure that each of the input list elements are of uniform "
        r"length and that the data can be coerced to the tensor type 'float64'",
        f"{U}:_reshape_and_cast_pandas_column_values",
        'TEN.predict(pd.DataFrame({"a": [[1.0, 2.0]]}))',
        (EN, "<reshape_error>"),
    ),
    _enf(
        "predict: array column cannot be reshaped",
        r"The value in the Input DataFrame column 'x' could not be converted to the expected "
        r"shape of: '\(-1, 3\)'\. Ensure that each of the input numpy array elements are of "
        r"uniform length and can be reshaped to above expected shape\.",
        f"{U}:_reshape_and_cast_pandas_column_values",
        'STEN.predict(pd.DataFrame({"x": [np.zeros(2)]}))',
    ),
    _enf(
        "predict: scalar column for a multi-dimensional tensor",
        r"The input pandas dataframe column 'x' contains scalar values, which requires the "
        r"shape to be \(-1,\) or \(-1, 1\), but got tensor spec shape of \(-1, 3\)\.",
        f"{U}:_reshape_and_cast_pandas_column_values",
        'STEN.predict(pd.DataFrame({"x": [1.0]}))',
        (EN, "contains scalar values"),
    ),
    _enf(
        "predict: tensor column of other values",
        r"Because the model signature requires tensor spec input, the input pandas dataframe "
        r"values should be either scalar value, python list containing scalar values or numpy "
        r"array containing scalar values, other types are not supported\.",
        f"{U}:_reshape_and_cast_pandas_column_values",
        'TEN.predict(pd.DataFrame({"a": [{"k": 1}]}))',
        (EN, "Because the model signature requires tensor spec input"),
    ),
    _enf(
        "predict: named tensor dict value not an array",
        r"This model contains a tensor-based model signature with input names, which suggests "
        r"a dictionary input mapping input name to a numpy array, but a dict with value type "
        r"<class 'list'> was found\.",
        f"{U}:_enforce_tensor_schema",
        'NTEN.predict({"x": [1.0], "y": np.zeros((1, 2))})',
        (EN, "mapping input name to a numpy array"),
        # MLflow's sibling text in the same function, for an input neither dict nor DataFrame
        # (reached only when every named input is optional, as in MLflow).
        (EN, "mapping input name to tensor"),
    ),
    _enf(
        "predict: fixed first tensor dimension for a DataFrame",
        r"For pandas dataframe input, the first dimension of shape must be a variable dimension "
        r"and other dimensions must be fixed, but in model signature the shape of input x is "
        r"\(2, 3\)\.",
        f"{U}:_reshape_and_cast_pandas_column_values",
        'FTEN.predict(pd.DataFrame({"x": [1.0]}))',
        (EN, "For pandas dataframe input, the first dimension"),
    ),
    _enf(
        "predict: array column of unsafe values",
        r"Incompatible input types for column \. Can not safely convert object to int64\.",
        f"{U}:_enforce_array",
        'ARR.predict(pd.DataFrame({"a": [[1, "x"]]}))',
        (EN, "{} (column {})"),
    ),
    _enf(
        "predict: array column of scalars",
        r"Expected data to be list or numpy array, got int",
        f"{U}:_enforce_array",
        'ARR.predict(pd.DataFrame({"a": [5]}))',
        (VA, "Expected data to be list or numpy array"),
    ),
    _enf(
        "predict: object column of scalars",
        r"Failed to enforce schema of '5' with type '\{k: long \(required\)\}'\. Expected data "
        r"to be dictionary, got int",
        f"{U}:_enforce_object",
        'OBJ.predict(pd.DataFrame({"a": [5]}))',
        (VA, "Expected data to be dictionary"),
    ),
    _enf(
        "predict: object with unknown properties",
        r"Invalid properties not defined in the schema found: \{'z'\}",
        f"{U}:_enforce_object",
        'OBJ.predict(pd.DataFrame({"a": [{"k": 1, "z": 2}]}))',
        (VA, "Invalid properties not defined in the schema found"),
    ),
    _enf(
        "predict: object missing required properties",
        r"Missing required properties: \{'k'\}",
        f"{U}:_enforce_object",
        'OBJ.predict(pd.DataFrame({"a": [{}]}))',
        (VA, "Missing required properties"),
    ),
    _enf(
        "predict: object property of another type",
        r"Failed to enforce schema for key `k`\. Expected type long, received type str",
        f"{U}:_enforce_object",
        'OBJ.predict(pd.DataFrame({"a": [{"k": "x"}]}))',
        (VA, "Failed to enforce schema for key"),
        # The inner errors this wraps (MLflow's _enforce_datatype texts).
        (VA, "Expected data to be scalar"),
        (VA, "Failed to enforce schema of data `{}` with dtype `{}`"),
    ),
    _enf(
        "predict: map column of scalars",
        r"Expected data to be a dict, got int",
        f"{U}:_enforce_map",
        'MAP.predict(pd.DataFrame({"a": [5]}))',
        (VA, "Expected data to be a dict"),
    ),
    _enf(
        "predict: map column with keys that are not strings",
        r"Expected all keys in the map type data are string type\.",
        f"{U}:_enforce_map",
        'MAP.predict(pd.DataFrame({"a": [{1: 2}]}))',
        (VA, "Expected all keys in the map type data are string type"),
    ),
    _m(
        "predict: params not a dict",
        r"Parameters must be a dictionary\. Got type 'list'\.",
        INVALID,
        f"{U}:_enforce_params_schema",
        "PAR.predict(A1, params=[1])",
        ((EN, "Parameters must be a dictionary"),),
        storage=False,
    ),
    _m(
        "predict: param of an unsafe type",
        r"Invalid parameters found: \{\('n', \"Failed to validate type and shape for 'n': "
        r"long \(default: 1\), error: Can not safely convert `<class 'str'>` to "
        r"`DataType\.long` for value `x`\"\)\}",
        INVALID,
        f"{U}:_enforce_params_schema, {SCH}:ParamSpec.validate_type_and_shape, "
        f"{U}:_enforce_param_datatype",
        'PAR.predict(A1, params={"n": "x"})',
        (
            (EN, "Invalid parameters found"),
            (VA, "Failed to validate type and shape for"),
            (VA, "Can not safely convert `{}` to `DataType.{}` for value `{}`"),
        ),
        storage=False,
    ),
    _m(
        "predict: param not a scalar",
        r"Invalid parameters found: .*Value must be a scalar for type `DataType\.long`, "
        r"got `\[1\]`",
        INVALID,
        f"{U}:_enforce_param_datatype",
        'PAR.predict(A1, params={"n": [1]})',
        ((VA, "Value must be a scalar for type"),),
        storage=False,
    ),
    _m(
        "predict: param not a 1-D array",
        r"Invalid parameters found: .*Value must be a 1D array with shape \(-1,\) for param "
        r"'xs': long \(default: \[1\]\) \(shape: \(-1,\)\), received int with ndim 0",
        INVALID,
        f"{SCH}:ParamSpec.validate_type_and_shape",
        'PAR.predict(A1, params={"xs": 5})',
        ((VA, "Value must be a 1D array with shape (-1,)"),),
        storage=False,
    ),
    _m(
        "predict: datetime param not a date",
        r"Invalid parameters found: .*Failed to convert value `nope` from type "
        r"`<class 'str'>` to `DataType\.datetime`",
        INVALID,
        f"{U}:_enforce_param_datatype",
        'PAR.predict(A1, params={"when": "nope"})',
        (
            (VA, "Failed to convert value `{}` from type `{}` to `DataType.datetime`"),
            # The same text where a widening conversion fails (MLflow's second site).
            (VA, "Failed to convert value `{}` from type `{}` to `DataType.{}`"),
        ),
        storage=False,
    ),
    _m(
        "predict: datetime param of a number",
        r"Invalid parameters found: .*Failed to convert value to `DataType\.datetime`\. It "
        r"must be convertible to datetime\.date/datetime, got `1970-01-01T00:00:00\.000000005`",
        INVALID,
        f"{U}:_enforce_param_datatype",
        'PAR.predict(A1, params={"when": np.datetime64(5, "ns")})',
        ((VA, "Failed to convert value to `DataType.datetime`"),),
        storage=False,
    ),
    _m(
        "ParamSpec: shape neither None nor (-1,)",
        r"Shape must be None for scalar or dictionary value, or \(-1,\) for 1D array value for "
        r"ParamSpec 'p': long \(default: 1\) \(shape: \(2,\)\)\), received \(2,\)",
        INVALID,
        f"{SCH}:ParamSpec.validate_type_and_shape",
        'T.ParamSpec("p", "long", 1, (2,))',
        ((VA, "Shape must be None for scalar or dictionary value"),),
        storage=False,
    ),
    # -- pyfunc save_model / load_model / PyFuncModel ---------------------------------------------
    _m(
        "pyfunc.save_model: arguments of both ways to save",
        r"The following sets of parameters cannot be specified together: "
        r"dict_keys\(\['loader_module', 'data_path'\]\)  and "
        r"dict_keys\(\['artifacts', 'python_model'\]\)\. All parameters in one set must be "
        r"`None`\. Instead, found the following values: ",
        INVALID,
        f"{PYF}:save_model",
        'm.pyfunc.save_model(TMPD + "/both", loader_module="mod", artifacts={})',
        ((PY, "The following sets of parameters cannot be specified together"),),
        storage=False,
    ),
    _m(
        "pyfunc.save_model: neither loader_module nor python_model",
        r"Either `loader_module` or `python_model` must be specified\. A `loader_module` should "
        r"be a python module\. A `python_model` should be a subclass of PythonModel",
        INVALID,
        f"{PYF}:save_model",
        'm.pyfunc.save_model(TMPD + "/neither")',
        ((PY, "Either `loader_module` or `python_model` must be specified"),),
        storage=False,
    ),
    _m(
        "pyfunc.save_model: python_model of another type",
        r"`python_model` must be a PythonModel instance, callable object, or path to a script "
        r"that uses set_model\(\) to set a PythonModel instance or callable object\.",
        INVALID,
        f"{PYF}:_validate_function_python_model",
        'm.pyfunc.save_model(TMPD + "/five", python_model=5)',
        ((PY, "`python_model` must be a PythonModel instance, callable object"),),
        storage=False,
    ),
    _m(
        "pyfunc.load_model: no python_function flavor",
        r'Model does not have the "python_function" flavor',
        MISSING,
        f"{PYF}:load_model",
        "m.pyfunc.load_model(NOPF)",
        ((PY, 'Model does not have the "{}" flavor'),),
        storage=False,
    ),
    _m(
        "PyFuncModel: implementation without predict",
        r"Model implementation is missing required predict method\.",
        INTERNAL,
        f"{PYF}:PyFuncModel.__init__",
        "m.pyfunc.PyFuncModel(m.models.Model(), object())",
        ((PY, "Model implementation is missing required"),),
        storage=False,
    ),
    _m(
        "PyFuncModel.unwrap_python_model: not a custom model",
        r"Unable to retrieve base model object from pyfunc\.",
        INTERNAL,
        f"{PYF}:PyFuncModel.unwrap_python_model",
        "COLS.unwrap_python_model()",
        ((PY, "Unable to retrieve base model object from pyfunc"),),
        storage=False,
    ),
    *SAVING,
)
