"""Input examples (``input_example.json``, ``serving_input_example.json``) and the serving
JSON format, compatible with MLflow in both directions.

An example may be a pandas DataFrame, a numpy array, a dict of numpy arrays, a dict or list of
JSON-like values, a scalar, a scipy csr/csc matrix, or a ``(data, params)`` tuple.
``input_example.json`` holds the data (DataFrames in ``split`` orient without the index;
``{"inputs": ..., "params": ...}`` when params are given); ``serving_input_example.json`` holds
the request body a scoring server accepts (``{"dataframe_split": ...}`` or
``{"inputs": ...}``, plus ``"params"``). Their metadata goes to MLmodel's
``saved_input_example_info``.

Serving JSON accepted by :func:`parse_serving_input`: ``dataframe_split``,
``dataframe_records``, ``instances``, ``inputs``, each with optional ``params``.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import os
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from fsregistry.exceptions import BAD_REQUEST, InvalidParameterValue
from fsregistry.models.schema import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Map,
    Object,
    Schema,
    TensorSpec,
)

if TYPE_CHECKING:
    from fsregistry.models.model import Model

EXAMPLE_FILENAME = "input_example.json"
SERVING_INPUT_FILENAME = "serving_input_example.json"
DF_SPLIT = "dataframe_split"
DF_RECORDS = "dataframe_records"
INSTANCES = "instances"
INPUTS = "inputs"
PARAMS = "params"
SUPPORTED_FORMATS = (DF_SPLIT, DF_RECORDS, INSTANCES, INPUTS)
#: MLflow's text (mlflow/pyfunc/scoring_server/__init__.py), which shows its set of formats.
REQUIRED_INPUT_FORMAT = (
    "The input must be a JSON dictionary with exactly one of the input fields "
    "{" + ", ".join(repr(f) for f in SUPPORTED_FORMATS) + "}"
)


class InvalidInputError(InvalidParameterValue):
    """A serving request body (JSON or CSV) could not be turned into model input."""

    default_code = BAD_REQUEST


class NumpyEncoder(json.JSONEncoder):
    """JSON for numpy/pandas values: arrays to lists, bytes to base64, dates to ISO strings."""

    def default(self, o: Any) -> Any:
        import numpy as np
        import pandas as pd

        if isinstance(o, np.ndarray):
            if o.dtype.kind == "S":
                return [base64.encodebytes(x).decode("ascii") for x in o.ravel().tolist()]
            return o.tolist()
        if isinstance(o, np.generic):
            if isinstance(o, np.datetime64):
                return str(np.datetime_as_string(o))
            return o.item()
        if isinstance(o, bytes | bytearray):
            return base64.encodebytes(bytes(o)).decode("ascii")
        if isinstance(o, pd.Timestamp | dt.date | dt.datetime | dt.time):
            return o.isoformat()
        return super().default(o)


def _contains_params(example: Any) -> bool:
    return isinstance(example, tuple) and len(example) == 2 and isinstance(example[1], dict)


def _nan_to_none(x: Any) -> Any:
    import numpy as np

    if np.issubdtype(x.dtype, np.number):
        return np.where(np.isnan(x), None, x)
    return x


def _frame_to_split(df: Any) -> dict[str, Any]:
    result: dict[str, Any] = df.astype(object).where(df.notnull(), None).to_dict(orient="split")
    del result["index"]
    if list(df.columns) == list(range(len(df.columns))):
        del result["columns"]
    return result


def _contains_ndarray(data: Any) -> bool:
    import numpy as np

    if isinstance(data, np.ndarray):
        return True
    if isinstance(data, list):
        return any(_contains_ndarray(x) for x in data)
    if isinstance(data, dict):
        return any(_contains_ndarray(x) for x in data.values())
    return False


def _is_sparse(x: Any) -> bool:
    return type(x).__module__.startswith("scipy.sparse") and type(x).__name__ in (
        "csr_matrix",
        "csc_matrix",
    )


class InputExample:
    """An input example in MLflow's stored form: ``info`` for MLmodel plus the JSON texts."""

    def __init__(self, input_example: Any) -> None:
        import numpy as np
        import pandas as pd

        self.info: dict[str, Any] = {"artifact_path": EXAMPLE_FILENAME}
        if _contains_params(input_example):
            data, params = input_example
            from fsregistry.models.inference import infer_param_schema

            infer_param_schema(params)  # reject params that a ParamSchema cannot describe
            self.info[PARAMS] = "true"
        else:
            data, params = input_example, None
        self.data = copy.deepcopy(data)
        self.params: dict[str, Any] | None = copy.deepcopy(params)
        model_input = copy.deepcopy(data)
        serving: Any
        if isinstance(model_input, dict):
            if any(isinstance(v, np.ndarray) for v in model_input.values()):
                if not all(isinstance(v, np.ndarray) for v in model_input.values()):
                    raise InvalidParameterValue(
                        "Mixed types in dictionary are not supported as input examples. "
                        "Found numpy arrays and other types. "
                        f"({ {k: type(v).__name__ for k, v in model_input.items()} })"
                    )
                self.info["type"] = "ndarray"
                model_input = {k: _nan_to_none(v).tolist() for k, v in model_input.items()}
            else:
                self.info["type"] = "json_object"
            serving = {INPUTS: model_input}
        elif isinstance(model_input, np.ndarray):
            self.info["type"] = "ndarray"
            model_input = _nan_to_none(model_input).tolist()
            serving = {INPUTS: model_input}
        elif isinstance(model_input, list):
            if _contains_ndarray(model_input):
                raise InvalidParameterValue(
                    "Multidimensional arrays (aka tensors) are not supported. "
                    "Numpy arrays in list are not supported as input examples."
                )
            self.info["type"] = "json_object"
            serving = {INPUTS: model_input}
        elif _is_sparse(model_input):
            self.info["type"] = (
                "sparse_matrix_csc"
                if type(model_input).__name__ == "csc_matrix"
                else "sparse_matrix_csr"
            )
            serving = {INPUTS: model_input.toarray()}
            model_input = {
                "data": _nan_to_none(model_input.data).tolist(),
                "indices": model_input.indices.tolist(),
                "indptr": model_input.indptr.tolist(),
                "shape": list(model_input.shape),
            }
        elif isinstance(model_input, pd.DataFrame):
            model_input = _frame_to_split(model_input)
            serving = {DF_SPLIT: model_input}
            self.info["type"] = "dataframe"
            self.info["pandas_orient"] = "split" if "columns" in model_input else "values"
        elif np.isscalar(model_input) or isinstance(model_input, dt.datetime):
            self.info["type"] = "json_object"
            serving = {INPUTS: model_input}
        else:
            raise InvalidParameterValue(
                "Expected one of the following types:\n"
                "- pandas.DataFrame\n"
                "- numpy.ndarray\n"
                "- dictionary of (name -> numpy.ndarray)\n"
                "- scipy.sparse.csr_matrix\n"
                "- scipy.sparse.csc_matrix\n"
                "- dict\n"
                "- list\n"
                "- scalars\n"
                "- datetime.datetime\n"
                f"but got '{type(model_input)}' (optionally as a (data, params) tuple)"
            )
        if self.params is not None:
            model_input = {INPUTS: model_input, PARAMS: self.params}
            serving = {**serving, PARAMS: self.params}
        try:
            self.json_input_example = json.dumps(model_input, cls=NumpyEncoder)
            self.json_serving_input = json.dumps(serving, cls=NumpyEncoder, indent=2)
        except TypeError as exc:
            raise InvalidParameterValue(f"Input example is not JSON-serializable: {exc}") from None
        self.info["serving_input_path"] = SERVING_INPUT_FILENAME

    def save(self, model_dir: str) -> None:
        with open(os.path.join(model_dir, EXAMPLE_FILENAME), "w", encoding="utf-8") as f:
            f.write(self.json_input_example)
        with open(os.path.join(model_dir, SERVING_INPUT_FILENAME), "w", encoding="utf-8") as f:
            f.write(self.json_serving_input)


def convert_input_example_to_serving_input(input_example: Any) -> str | None:
    """The scoring-server request body (JSON text) for an input example; None for None."""
    if input_example is None:
        return None
    return InputExample(input_example).json_serving_input


def read_text(model_uri_or_path: str, rel: str) -> str:
    path = os.path.join(model_uri_or_path, *rel.split("/"))
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            return f.read()
    from fsregistry.models.cache import read_model_file

    return read_model_file(model_uri_or_path, rel).decode("utf-8")


def load_serving_example(model_uri_or_path: str) -> str:
    """Text of the model's ``serving_input_example.json``."""
    return read_text(model_uri_or_path, SERVING_INPUT_FILENAME)


def _example_json(model: Model, path: str) -> Any:
    info = model.saved_input_example_info or {}
    kind = info.get("type")
    if kind not in (
        "dataframe",
        "ndarray",
        "sparse_matrix_csc",
        "sparse_matrix_csr",
        "json_object",
    ):
        raise InvalidParameterValue(
            f"This version of mlflow can not load example of type {kind} (fsregistry reads "
            "dataframe, ndarray, sparse_matrix_csc, sparse_matrix_csr and json_object)"
        )
    return json.loads(read_text(path, info.get("artifact_path", EXAMPLE_FILENAME)))


def read_input_example(model: Model, path: str) -> Any:
    """The input example of ``model`` (directory or URI ``path``) as model input."""
    info = model.saved_input_example_info or {}
    data = _example_json(model, path)
    if info.get(PARAMS):
        data = data[INPUTS]
    schema = model.get_input_schema()
    kind = info["type"]
    if kind == "json_object":
        return data
    if kind == "ndarray":
        return cast_inputs(data, schema)
    if kind in ("sparse_matrix_csc", "sparse_matrix_csr"):
        from scipy.sparse import csc_matrix, csr_matrix

        cls = csc_matrix if kind == "sparse_matrix_csc" else csr_matrix
        return cls((data["data"], data["indices"], data["indptr"]), shape=tuple(data["shape"]))
    return dataframe_from_json(data, "split", schema)


def read_input_example_params(model: Model, path: str) -> dict[str, Any] | None:
    info = model.saved_input_example_info or {}
    if not info.get(PARAMS):
        return None
    params = _example_json(model, path).get(PARAMS)
    return params if isinstance(params, dict) else None


# ----------------------------------------------------------------------------- parsing
def _cast_frame(pdf: Any, schema: Schema) -> Any:
    import numpy as np
    import pandas as pd

    from fsregistry.models.enforcement import enforce_type

    if schema.has_input_names():
        pairs = list(zip(schema.input_names(), schema.inputs, strict=True))
    elif schema.is_tensor_spec() and len(schema.inputs) == 1:
        pairs = [(c, schema.inputs[0]) for c in pdf.columns]
    else:
        n = min(len(schema.inputs), len(pdf.columns))
        pairs = list(zip(pdf.columns[:n], schema.inputs[:n], strict=True))
    for col, spec in pairs:
        if col not in pdf.columns:
            continue
        t = spec.type
        try:
            if isinstance(spec, TensorSpec):
                if len(pdf) and isinstance(pdf[col].iloc[0], list):
                    continue
                pdf[col] = pdf[col].astype(t)
            elif t is DataType.binary:
                pdf[col] = pdf[col].map(lambda x: base64.decodebytes(bytes(x, "utf8")))
            elif isinstance(t, Array | Object | Map):
                pdf[col] = pdf[col].map(lambda x, t=t, r=spec.required: enforce_type(x, t, r))
            elif isinstance(t, AnyType):
                continue
            elif t is DataType.datetime:
                parsed = pd.to_datetime(pdf[col])
                if getattr(parsed.dt, "unit", "ns") != "ns":
                    parsed = parsed.dt.as_unit("ns")
                pdf[col] = parsed
            elif isinstance(t, DataType):
                target = t.to_pandas()
                if (target is object or (isinstance(target, np.dtype) and target.kind == "U")) and (
                    isinstance(pdf[col].dtype, pd.StringDtype)
                ):
                    continue
                pdf[col] = pdf[col].astype(target)
        except (ValueError, TypeError, InvalidParameterValue) as exc:
            target = t.to_pandas() if isinstance(t, DataType) else t
            raise InvalidInputError(
                "Invalid input. Data is not compatible with model signature. Failed to convert "
                f"column {col} to type '{target}'. Error: '{exc!r}'"
            ) from None
    return pdf


def dataframe_from_json(decoded: Any, pandas_orient: str, schema: Schema | None = None) -> Any:
    """A DataFrame from ``split`` or ``records`` JSON, cast to the schema's column types."""
    import pandas as pd

    if pandas_orient == "records":
        if not isinstance(decoded, list):
            got = "dictionary" if isinstance(decoded, dict) else f"type {type(decoded)}"
            raise InvalidInputError(
                f"Invalid input. Dataframe records format must be a list of records. Got {got}."
            )
        try:
            pdf = pd.DataFrame(data=decoded)
        except (ValueError, TypeError) as exc:
            raise InvalidInputError(
                "Invalid input. Provided dataframe_records field is not a valid dataframe "
                f"representation in 'records' format. Error: '{exc}'"
            ) from None
    elif pandas_orient == "split":
        if not isinstance(decoded, dict):
            got = "list" if isinstance(decoded, list) else f"type {type(decoded)}"
            raise InvalidInputError(
                f"Invalid input. Dataframe split format must be a dictionary. Got {got}."
            )
        keys = set(decoded)
        if "data" not in keys or keys - {"columns", "data", "index"}:
            raise InvalidInputError(
                "Invalid input. Dataframe split format must have 'data' field and optionally "
                f"'columns' and 'index' fields. Got {keys}.'"
            )
        try:
            pdf = pd.DataFrame(
                index=decoded.get("index"), columns=decoded.get("columns"), data=decoded["data"]
            )
        except (ValueError, TypeError) as exc:
            raise InvalidInputError(
                "Invalid input. Provided dataframe_split field is not a valid dataframe "
                f"representation in 'split' format. Error: '{exc}'"
            ) from None
    else:
        raise InvalidParameterValue(f"Unsupported pandas orient {pandas_orient!r}")
    return _cast_frame(pdf, schema) if schema is not None else pdf


def _convert_value(data: Any, spec: ColSpec | TensorSpec | None) -> Any:
    import numpy as np

    from fsregistry.models.enforcement import enforce_type

    try:
        if spec is None:
            return np.array(data)
        if isinstance(spec, TensorSpec):
            return np.array(data, dtype=spec.type)
        t = spec.type
        if isinstance(t, DataType):
            if isinstance(data, list | np.ndarray):
                return np.array(data, t.to_numpy())
            return np.array([data], t.to_numpy())[0]
        if isinstance(t, Array):
            return np.array(enforce_type(data, t, spec.required))
        if isinstance(t, Object | Map):
            return enforce_type(data, t, spec.required)
        return data
    except (ValueError, TypeError, InvalidParameterValue) as exc:
        # MLflow's text is "Invalid input. " and the conversion's error.
        raise InvalidInputError(
            f"Invalid input. {exc.message if isinstance(exc, InvalidParameterValue) else exc} "
            f"(converting {data!r} to {spec!r})"
        ) from None


def cast_inputs(data: Any, schema: Schema | None = None) -> Any:
    """``inputs`` JSON data as model input: numpy arrays typed per the schema."""
    import numpy as np

    data = copy.deepcopy(data)
    types = schema.input_dict() if schema is not None and schema.has_input_names() else {}
    if schema is not None:
        if (
            len(types) == 1
            and isinstance(data, list)
            and not any(isinstance(x, dict) for x in data)
        ):
            data = {next(iter(types)): data}
        elif not schema.has_input_names() and not (isinstance(data, list) or np.isscalar(data)):
            raise InvalidInputError(
                "Invalid input. Failed to parse input data. This model contains an un-named  "
                "model signature which expects a single n-dimensional array or a single value "
                f"as input, however, an input of type {type(data)} was found."
            )
    if isinstance(data, dict):
        return {k: _convert_value(v, types.get(k)) for k, v in data.items()}
    if isinstance(data, list) and data and all(isinstance(x, dict) for x in data):
        return [{k: _convert_value(v, types.get(k)) for k, v in row.items()} for row in data]
    spec = schema.inputs[0] if schema is not None else None
    return _convert_value(data, spec)


def _parse_instances(instances: Any, schema: Schema | None) -> Any:
    import numpy as np

    if isinstance(instances, list) and instances and isinstance(instances[0], dict):
        types = schema.input_dict() if schema is not None and schema.has_input_names() else {}
        columns: dict[str, list[Any]] = defaultdict(list)
        for row in instances:
            for k, v in row.items():
                columns[k].append(_convert_value(v, types.get(k)))
        data: Any = {k: np.array(v) for k, v in columns.items()}
    else:
        data = cast_inputs(instances, schema)
    if isinstance(data, dict):
        lengths = {k: len(v) for k, v in data.items() if isinstance(v, list | np.ndarray)}
        if len(set(lengths.values())) > 1:
            raise InvalidInputError(
                "Invalid input. The length of values for each input/column name are not the "
                f"same ({lengths})"
            )
    return data


def parse_serving_input(
    payload: str | bytes | dict[str, Any], schema: Schema | None = None
) -> tuple[Any, dict[str, Any] | None]:
    """``(model input, params)`` from a serving request body (JSON text or parsed dict)."""
    if isinstance(payload, dict):
        body = payload
    else:
        try:
            body = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise InvalidInputError(
                "Invalid input. Ensure that input is a valid JSON formatted string. "
                f"Error: '{exc!r}'"
            ) from None
    if not isinstance(body, dict):
        got = "a list" if isinstance(body, list) else f"unexpected input type '{type(body)}"
        raise InvalidInputError(f"Invalid input. {REQUIRED_INPUT_FORMAT}. Received {got}.")
    formats = [k for k in body if k in SUPPORTED_FORMATS]
    if len(formats) != 1:
        raise InvalidInputError(
            f"{REQUIRED_INPUT_FORMAT}. Received dictionary with input fields: {formats} "
            f"(and optionally 'params'; all keys: {sorted(body)})"
        )
    params = body.get(PARAMS)
    if params is not None and not isinstance(params, dict):
        raise InvalidInputError(f"'params' must be a JSON object, got {params!r}")
    fmt = formats[0]
    if fmt == DF_SPLIT:
        return dataframe_from_json(body[fmt], "split", schema), params
    if fmt == DF_RECORDS:
        return dataframe_from_json(body[fmt], "records", schema), params
    if fmt == INSTANCES:
        return _parse_instances(body[fmt], schema), params
    return cast_inputs(body[fmt], schema), params


def parse_csv_input(source: Any, schema: Schema | None = None) -> Any:
    """A DataFrame from CSV text/file, with dtypes from a column signature when available."""
    import pandas as pd

    try:
        if (
            schema is None
            or schema.is_tensor_spec()
            or not all(isinstance(t, DataType) for t in schema.input_types())
        ):
            return pd.read_csv(source)
        dtypes = dict(zip(schema.input_names(), schema.pandas_types(), strict=True))
        return pd.read_csv(source, dtype={k: v for k, v in dtypes.items() if v is not object})
    except (ValueError, TypeError, pd.errors.ParserError) as exc:
        raise InvalidInputError(
            "Failed to parse input as a Pandas DataFrame. Ensure that the input is a valid "
            "CSV-formatted Pandas DataFrame produced using the `pandas.DataFrame.to_csv()` "
            f"method. Error: '{exc}'"
        ) from None
