"""Check model input against a signature, applying only the conversions MLflow applies.

Column-based schemas: the input becomes a pandas DataFrame; required named columns must be
present (extra columns are dropped with a warning), and each column is converted only where no
value can change: ``int -> long``, ``float -> double``, ``(u)int -> double`` up to 32 bits,
0/1 ``long`` values to float, any datetime precision to ``datetime64[ns]``, object columns of
strings/bools kept. Anything else (``double -> long``, ``string -> double``...) is an error
naming the column and both types. Tensor schemas check shape and exact dtype.

``params`` are checked against the :class:`~fsregistry.models.schema.ParamSchema`: unknown
keys are dropped with a warning, missing ones get their defaults. Single values are checked
by :mod:`fsregistry.models.values`; the names it defines stay importable from here.
"""

from __future__ import annotations

import logging
from typing import Any

from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.schema import (
    Array,
    DataType,
    Object,
    ParamSchema,
    Schema,
    TensorSpec,
)
from fsregistry.models.values import (
    SchemaEnforcementError,
    _np,
    _pd,
    enforce_column_dtype,
    enforce_type,
    validate_param_value,
)

_logger = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- tensors
def _clean_dtype(dtype: Any) -> Any:
    np = _np()
    if dtype.char == "U":
        return np.dtype("str")
    if dtype.char == "S":
        return np.dtype("bytes")
    return dtype


def _enforce_tensor_spec(values: Any, spec: TensorSpec) -> Any:
    np = _np()
    actual_shape = values.shape
    actual_type = values.dtype if isinstance(values, np.ndarray) else values.data.dtype
    expected = spec.shape
    if len(expected) == 1 and expected[0] == -1 and spec.type == np.dtype("O"):
        return values
    if (
        len(expected) > 1
        and -1 in expected[1:]
        and len(actual_shape) == 1
        and (actual_type == np.dtype("O"))
    ):
        return values  # ragged array
    if len(expected) != len(actual_shape) or any(
        e not in (-1, a) for e, a in zip(expected, actual_shape, strict=True)
    ):
        raise SchemaEnforcementError(
            f"Shape of input {actual_shape} does not match expected shape {expected}."
            + (f" (input {spec.name!r})" if spec.name else "")
        )
    if _clean_dtype(actual_type) != spec.type:
        raise SchemaEnforcementError(
            f"dtype of input {actual_type} does not match expected dtype {spec.type}"
            + (f" for input {spec.name!r}" if spec.name else "")
        )
    return values


def _column_to_tensor(name: str | None, series: Any, spec: TensorSpec) -> Any:
    np = _np()
    label = f"input {name}" if name else "the unnamed input"
    if spec.shape[0] != -1 or -1 in spec.shape[1:]:
        raise SchemaEnforcementError(
            "For pandas dataframe input, the first dimension of shape must be a variable "
            "dimension and other dimensions must be fixed, but in model signature the shape "
            f"of {label} is {spec.shape}."
        )
    first = series.iloc[0]
    if np.isscalar(first):
        if spec.shape in ((-1,), (-1, 1)):
            try:
                arr = np.array(series, dtype=spec.type).reshape(spec.shape)
            except (ValueError, TypeError) as exc:
                raise SchemaEnforcementError(
                    f"Column {name!r} cannot be converted to {spec.type}: {exc}"
                ) from None
            return _enforce_tensor_spec(arr, spec)
        raise SchemaEnforcementError(
            f"The input pandas dataframe column '{name}' contains scalar values, which requires "
            f"the shape to be (-1,) or (-1, 1), but got tensor spec shape of {spec.shape}."
        )
    if isinstance(first, list | np.ndarray):
        reshape_error = (
            f"The value in the Input DataFrame column '{name}' could not be converted to the "
            f"expected shape of: '{spec.shape}'. "
            + (
                "Ensure that each of the input list elements are of uniform length and that "
                f"the data can be coerced to the tensor type '{spec.type}'"
                if isinstance(first, list)
                else "Ensure that each of the input numpy array elements are of uniform length "
                "and can be reshaped to above expected shape."
            )
        )
        try:
            arr = np.vstack(series.tolist()).reshape(spec.shape)
            if isinstance(first, list):
                arr = arr.astype(spec.type)
        except ValueError:
            raise SchemaEnforcementError(reshape_error) from None
        if len(arr) != len(series):
            raise SchemaEnforcementError(reshape_error)
        return _enforce_tensor_spec(arr, spec)
    raise SchemaEnforcementError(
        "Because the model signature requires tensor spec input, the input pandas dataframe "
        "values should be either scalar value, python list containing scalar values or numpy "
        "array containing scalar values, other types are not supported. "
        f"(column {name!r} holds {type(first).__name__})"
    )


def _enforce_tensor_schema(data: Any, schema: Schema) -> Any:
    np, pd = _np(), _pd()
    specs = [s for s in schema.inputs if isinstance(s, TensorSpec)]
    if schema.has_input_names():
        if isinstance(data, dict):
            out = {}
            for spec in specs:
                value = data.get(str(spec.name))
                if not isinstance(value, np.ndarray):
                    raise SchemaEnforcementError(
                        "This model contains a tensor-based model signature with input names, "
                        "which suggests a dictionary input mapping input name to a numpy array, "
                        f"but a dict with value type {type(value)} was found. "
                        f"(input {spec.name!r})"
                    )
                out[str(spec.name)] = _enforce_tensor_spec(value, spec)
            return out
        if isinstance(data, pd.DataFrame):
            return {str(s.name): _column_to_tensor(s.name, data[s.name], s) for s in specs}
        raise SchemaEnforcementError(
            "This model contains a tensor-based model signature with input names, which "
            "suggests a dictionary input mapping input name to tensor, or a pandas DataFrame "
            "input containing columns mapping input name to flattened list value from tensor, "
            f"but an input of type {type(data)} was found."
        )
    spec = specs[0]
    if isinstance(data, pd.DataFrame):
        if data.empty:
            raise SchemaEnforcementError("Input DataFrame is empty.")
        if len(data.columns) == 1:
            return _column_to_tensor(None, data[data.columns[0]], spec)
        if spec.shape != (-1, len(data.columns)):
            raise SchemaEnforcementError(
                "This model contains a model signature with an unnamed input. Since the input "
                "data is a pandas DataFrame containing multiple columns, the input shape must be "
                "of the structure (-1, number_of_dataframe_columns). Instead, the input DataFrame "
                f"passed had {len(data.columns)} columns and an input shape of {spec.shape} with "
                "all values within the DataFrame of scalar type. Please adjust the passed in "
                "DataFrame to match the expected structure"
            )
        return _enforce_tensor_spec(data.to_numpy(), spec)
    if isinstance(data, np.ndarray) or _is_sparse(data):
        return _enforce_tensor_spec(data, spec)
    raise SchemaEnforcementError(
        "This model contains a tensor-based model signature with no input names, which suggests "
        "a numpy array input or a pandas dataframe input with proper column values, but an "
        f"input of type {type(data)} was found."
    )


def _is_sparse(x: Any) -> bool:
    mod = type(x).__module__
    if not mod.startswith("scipy.sparse"):
        return False
    from scipy.sparse import csc_matrix, csr_matrix

    return isinstance(x, csc_matrix | csr_matrix)


# ----------------------------------------------------------------------------- entry points
def _to_frame(data: Any, schema: Schema) -> Any:
    np, pd = _np(), _pd()
    if isinstance(data, pd.Series):
        return pd.DataFrame(data)
    if np.isscalar(data):
        return pd.DataFrame([data])
    if isinstance(data, dict):
        if any(isinstance(s.type, Array | Object) for s in schema.inputs) or all(
            np.isscalar(v)
            or v is None
            or (isinstance(v, list) and all(isinstance(i, str) for i in v))
            for v in data.values()
        ):
            return pd.DataFrame([data])
        try:
            return pd.DataFrame(
                {
                    k: (v.tolist() if isinstance(v, np.ndarray) and v.ndim > 1 else v)
                    for k, v in data.items()
                }
            )
        except ValueError as exc:
            raise SchemaEnforcementError(
                "This model contains a column-based signature, which suggests a DataFrame input. "
                f"There was an error casting the input data to a DataFrame: {exc}"
            ) from None
    if isinstance(data, list | np.ndarray):
        return pd.DataFrame(data)
    if isinstance(data, pd.DataFrame):
        return data
    raise SchemaEnforcementError(f"Expected input to be DataFrame. Found: {type(data).__name__}")


def enforce_schema(data: Any, schema: Schema) -> Any:
    """Validate ``data`` against ``schema`` and return it with safe conversions applied."""
    np, pd = _np(), _pd()
    if isinstance(data, pd.Series):
        data = pd.DataFrame(data)
    if not schema.is_tensor_spec():
        data = _to_frame(data, schema)
    if schema.has_input_names():
        required = [str(n) for n in schema.required_input_names()]
        optional = {str(n) for n in schema.optional_input_names()}
        if len(required) == 1 and isinstance(data, np.ndarray):
            data = {required[0]: data}
        if isinstance(data, pd.DataFrame):
            actual = [str(c) for c in data.columns]
        elif isinstance(data, dict):
            actual = [str(c) for c in data]
        else:
            actual = []
        missing = [c for c in required if c not in actual]
        extra = [c for c in actual if c not in required and c not in optional]
        if missing:
            msg = f"Model is missing inputs {missing}."
            if extra:
                msg += f" Note that there were extra inputs: {extra}."
            raise SchemaEnforcementError(msg)
        if extra:
            _logger.warning(
                "Found extra inputs %s that are not in the model signature; they are ignored.",
                extra,
            )
    elif not schema.is_tensor_spec() and len(data.columns) < len(schema.inputs):
        # MLflow's text, its double space included.
        raise SchemaEnforcementError(
            "Model inference is missing inputs. The model signature declares "
            f"{len(schema.inputs)} inputs  but the provided value only has "
            f"{len(data.columns)} inputs. Note: the inputs were not named in the signature so "
            "we can only verify their count."
        )
    if schema.is_tensor_spec():
        return _enforce_tensor_schema(data, schema)
    out = {}
    if schema.has_input_names():
        for spec in schema.inputs:
            name = str(spec.name)
            if name not in data.columns:
                continue
            out[name] = _enforce_column(name, data[name], spec.type, spec.required)
    else:
        for col, spec in zip(data.columns[: len(schema.inputs)], schema.inputs, strict=True):
            out[col] = _enforce_column(col, data[col], spec.type, spec.required)
    return pd.DataFrame(out, index=data.index)


def _enforce_column(name: Any, series: Any, t: Any, required: bool) -> Any:
    pd = _pd()
    if isinstance(t, DataType):
        return enforce_column_dtype(name, series, t)
    try:
        return pd.Series(
            [enforce_type(v, t, required) for v in series], index=series.index, name=name
        )
    except SchemaEnforcementError as exc:
        raise SchemaEnforcementError(f"{exc.message} (column {name!r})") from None


def validate_schema(data: Any, expected_schema: Schema) -> None:
    """Raise :class:`SchemaEnforcementError` if ``data`` does not fit ``expected_schema``."""
    enforce_schema(data, expected_schema)


# ----------------------------------------------------------------------------- params
def enforce_params_schema(
    params: dict[str, Any] | None, schema: ParamSchema | None
) -> dict[str, Any] | None:
    """Params checked and completed with defaults; unknown ones dropped with a warning."""
    if schema is None:
        if params:
            _logger.warning(
                "This model's signature has no params schema; ignoring params %s",
                list(params) if isinstance(params, dict) else params,
            )
            return {}
        return params
    params = {} if params is None else params
    if not isinstance(params, dict):
        raise InvalidParameterValue(
            f"Parameters must be a dictionary. Got type '{type(params).__name__}'."
        )
    params = {str(k): v for k, v in params.items()}
    allowed = {p.name for p in schema.params}
    ignored = sorted(set(params) - allowed)
    if ignored:
        _logger.warning(
            "Unrecognized params %s are ignored; the model accepts %s", ignored, sorted(allowed)
        )
    out: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for spec in schema.params:
        if spec.name in params:
            try:
                out[spec.name] = validate_param_value(
                    repr(spec), params[spec.name], spec.dtype, spec.shape
                )
            except InvalidParameterValue as exc:
                errors.append((spec.name, exc.message))
        else:
            out[spec.name] = spec.default
    if errors:
        # MLflow writes the set of (name, message) pairs; a sorted list reads the same.
        pairs = ", ".join(repr(pair) for pair in sorted(errors))
        raise InvalidParameterValue(f"Invalid parameters found: {{{pairs}}}")
    return out


__all__ = [
    "SchemaEnforcementError",
    "enforce_column_dtype",
    "enforce_params_schema",
    "enforce_schema",
    "enforce_type",
    "validate_param_value",
    "validate_schema",
]
