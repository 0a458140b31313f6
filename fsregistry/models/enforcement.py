"""Check model input against a signature, applying only the conversions MLflow applies.

Column-based schemas: the input becomes a pandas DataFrame; required named columns must be
present (extra columns are dropped with a warning), and each column is converted only where no
value can change: ``int -> long``, ``float -> double``, ``(u)int -> double`` up to 32 bits,
0/1 ``long`` values to float, any datetime precision to ``datetime64[ns]``, object columns of
strings/bools kept. Anything else (``double -> long``, ``string -> double``...) is an error
naming the column and both types. Tensor schemas check shape and exact dtype.

``params`` are checked against the :class:`~fsregistry.models.schema.ParamSchema`: unknown
keys are dropped with a warning, missing ones get their defaults.
"""

from __future__ import annotations

import copy
import decimal
import logging
from typing import Any

from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.schema import (
    AnyType,
    Array,
    ColType,
    DataType,
    Map,
    Object,
    ParamSchema,
    Schema,
    TensorSpec,
)

_logger = logging.getLogger(__name__)


class SchemaEnforcementError(InvalidParameterValue):
    """Input data does not match the model signature (nothing was predicted)."""


def _np() -> Any:
    import numpy as np

    return np


def _pd() -> Any:
    import pandas as pd

    return pd


def _is_none_or_nan(x: Any) -> bool:
    import math

    if isinstance(x, float):
        return math.isnan(x)
    if x is None:
        return True
    pd = _pd()
    return x is pd.NA or x is pd.NaT


# ----------------------------------------------------------------------------- columns
def enforce_column_dtype(name: Any, values: Any, t: DataType) -> Any:
    """Return ``values`` (a pandas Series) as type ``t``, converting only safely."""
    np, pd = _np(), _pd()
    if values.dtype == object and t not in (DataType.binary, DataType.string):
        values = values.infer_objects()
    if t is DataType.string and (
        values.dtype == object or isinstance(values.dtype, pd.StringDtype)
    ):
        return values
    if t is DataType.binary and isinstance(values.dtype, pd.StringDtype):
        return values
    target = t.to_numpy()
    if values.dtype == t.to_pandas() or values.dtype == target:
        return values
    if t is DataType.binary and values.dtype.kind == "S":
        return values
    if t is DataType.datetime and values.dtype.kind == "M":
        try:
            return values.astype(np.dtype("datetime64[ns]"))
        except TypeError as exc:
            raise SchemaEnforcementError(
                f"Column {name!r}: datetime values must be timezone-naive ({exc})"
            ) from None
    if t is DataType.datetime and values.dtype == object:
        try:
            return values.astype(np.dtype("datetime64[ns]"), errors="raise")
        except (ValueError, TypeError) as exc:
            raise SchemaEnforcementError(
                f"Incompatible input types for column {name!r}: cannot convert "
                f"{values.dtype} to datetime ({exc})"
            ) from None
    if t is DataType.boolean and values.dtype == object:
        return values  # converting would turn None into False
    if (
        t is DataType.double
        and values.dtype == object
        and all(isinstance(v, decimal.Decimal) for v in values if not _is_none_or_nan(v))
    ):
        return pd.to_numeric(values, errors="raise")
    kind, size = values.dtype.kind, getattr(values.dtype, "itemsize", 0)
    if kind == target.kind:
        upcast = size <= target.itemsize
    elif kind == "u" and target.kind == "i":
        upcast = size < target.itemsize
    elif kind in ("i", "u") and target == np.float64:
        upcast = size <= 6
    else:
        upcast = False
    if upcast:
        return values.astype(target, errors="raise")
    if (
        values.dtype == np.int64
        and target in (np.float32, np.float64)
        and all(_is_none_or_nan(x) or x in (0, 1) for x in values)
    ):
        return values.astype(target, errors="raise")
    hint = ""
    if (
        values.dtype == np.float64
        and target.kind in ("i", "u")
        and values.hasnans
        and all(_is_none_or_nan(x) or int(x) == x for x in values)
    ):
        hint = (
            " Hint: the column probably holds integers with missing values, which pandas stores "
            "as floats; declare the column as double in the signature if values can be missing."
        )
    raise SchemaEnforcementError(
        f"Incompatible input types for column {name!r}. "
        f"Can not safely convert {values.dtype} to {target}.{hint}"
    )


def enforce_type(data: Any, t: ColType, required: bool = True) -> Any:
    """Check one value (a cell) against a column type; returns it, possibly converted."""
    if isinstance(t, AnyType):
        return data
    if isinstance(t, DataType):
        return _enforce_scalar(data, t, required)
    if isinstance(t, Array):
        return _enforce_array(data, t, required)
    if isinstance(t, Object):
        return _enforce_object(data, t, required)
    if isinstance(t, Map):
        return _enforce_map(data, t, required)
    raise SchemaEnforcementError(f"Invalid data type {t!r}")


def _enforce_scalar(data: Any, t: DataType, required: bool) -> Any:
    np, pd = _np(), _pd()
    if not required and _is_none_or_nan(data):
        return None
    if not np.isscalar(data):
        raise SchemaEnforcementError(
            f"Expected a scalar of type {t.name}, got {type(data).__name__} {data!r}"
        )
    try:
        return enforce_column_dtype("", pd.Series([data]), t).iloc[0]
    except SchemaEnforcementError:
        raise SchemaEnforcementError(
            f"Failed to enforce schema of data {data!r} with dtype {t.name}"
        ) from None


def _enforce_array(data: Any, arr: Array, required: bool) -> Any:
    np, pd = _np(), _pd()
    if (not required or isinstance(arr.dtype, AnyType)) and (
        data is None or (isinstance(data, list | np.ndarray) and len(data) == 0)
    ):
        return data
    if not isinstance(data, list | np.ndarray):
        raise SchemaEnforcementError(f"Expected a list or numpy array, got {type(data).__name__}")
    if isinstance(arr.dtype, DataType):
        if len(data) == 0:
            return data
        enforced = enforce_column_dtype("", pd.Series(list(data)), arr.dtype).to_numpy(
            dtype=arr.dtype.to_numpy()
        )
        return enforced.tolist() if isinstance(data, list) else enforced
    out = [enforce_type(x, arr.dtype, required) for x in data]
    return np.array(out) if isinstance(data, np.ndarray) else out


def _enforce_object(data: Any, obj: Object, required: bool) -> Any:
    if not required and (data is None or data == {}):
        return data
    if not isinstance(data, dict):
        raise SchemaEnforcementError(
            f"Expected a dict for object type {obj!r}, got {type(data).__name__} {data!r}"
        )
    props = {p.name: p for p in obj.properties}
    missing = sorted(k for k, p in props.items() if p.required and k not in data)
    if missing:
        raise SchemaEnforcementError(f"Missing required properties: {missing}")
    unknown = sorted(str(k) for k in data if k not in props)
    if unknown:
        raise SchemaEnforcementError(f"Properties not defined in the schema: {unknown}")
    out = dict(data)
    for k, v in data.items():
        try:
            out[k] = enforce_type(v, props[k].dtype, props[k].required)
        except SchemaEnforcementError as exc:
            raise SchemaEnforcementError(f"Property {k!r}: {exc}") from None
    return out


def _enforce_map(data: Any, m: Map, required: bool) -> Any:
    if (not required or isinstance(m.value_type, AnyType)) and (data is None or data == {}):
        return data
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise SchemaEnforcementError(f"Expected a dict with string keys, got {data!r}")
    return {k: enforce_type(v, m.value_type, required) for k, v in data.items()}


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
            f"Shape of input {actual_shape} does not match expected shape {expected}"
            + (f" for input {spec.name!r}" if spec.name else "")
        )
    if _clean_dtype(actual_type) != spec.type:
        raise SchemaEnforcementError(
            f"dtype of input {actual_type} does not match expected dtype {spec.type}"
            + (f" for input {spec.name!r}" if spec.name else "")
        )
    return values


def _column_to_tensor(name: str | None, series: Any, spec: TensorSpec) -> Any:
    np = _np()
    label = f"input {name!r}" if name else "the unnamed input"
    if spec.shape[0] != -1 or -1 in spec.shape[1:]:
        raise SchemaEnforcementError(
            f"For DataFrame input the first dimension must be variable and the others fixed; "
            f"the signature shape of {label} is {spec.shape}"
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
            f"Column {name!r} holds scalars, which needs shape (-1,) or (-1, 1), "
            f"but the signature says {spec.shape}"
        )
    if isinstance(first, list | np.ndarray):
        try:
            arr = np.vstack(series.tolist()).reshape(spec.shape)
            if isinstance(first, list):
                arr = arr.astype(spec.type)
        except ValueError:
            raise SchemaEnforcementError(
                f"The values of column {name!r} cannot be reshaped to {spec.shape}"
            ) from None
        if len(arr) != len(series):
            raise SchemaEnforcementError(
                f"The values of column {name!r} cannot be reshaped to {spec.shape}"
            )
        return _enforce_tensor_spec(arr, spec)
    raise SchemaEnforcementError(
        f"Column {name!r}: tensor inputs given as a DataFrame must hold scalars, lists or "
        f"numpy arrays, got {type(first).__name__}"
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
                        f"Input {spec.name!r} must be a numpy array, got {type(value).__name__}"
                    )
                out[str(spec.name)] = _enforce_tensor_spec(value, spec)
            return out
        if isinstance(data, pd.DataFrame):
            return {str(s.name): _column_to_tensor(s.name, data[s.name], s) for s in specs}
        raise SchemaEnforcementError(
            "This model has a named tensor signature: pass a dict of numpy arrays or a "
            f"DataFrame, not {type(data).__name__}"
        )
    spec = specs[0]
    if isinstance(data, pd.DataFrame):
        if data.empty:
            raise SchemaEnforcementError("Input DataFrame is empty")
        if len(data.columns) == 1:
            return _column_to_tensor(None, data[data.columns[0]], spec)
        if spec.shape != (-1, len(data.columns)):
            raise SchemaEnforcementError(
                f"A DataFrame with {len(data.columns)} columns needs the signature shape "
                f"(-1, {len(data.columns)}), but it is {spec.shape}"
            )
        return _enforce_tensor_spec(data.to_numpy(), spec)
    if isinstance(data, np.ndarray) or _is_sparse(data):
        return _enforce_tensor_spec(data, spec)
    raise SchemaEnforcementError(
        "This model has an unnamed tensor signature: pass a numpy array or a DataFrame, "
        f"not {type(data).__name__}"
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
                f"This model has a column-based signature; the dict input cannot be made into a "
                f"DataFrame: {exc}"
            ) from None
    if isinstance(data, list | np.ndarray):
        return pd.DataFrame(data)
    if isinstance(data, pd.DataFrame):
        return data
    raise SchemaEnforcementError(
        f"This model has a column-based signature and expects a DataFrame-like input, "
        f"got {type(data).__name__}"
    )


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
        raise SchemaEnforcementError(
            f"The model signature declares {len(schema.inputs)} unnamed inputs but the data "
            f"has only {len(data.columns)} columns"
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
        raise SchemaEnforcementError(f"Column {name!r}: {exc}") from None


def validate_schema(data: Any, expected_schema: Schema) -> None:
    """Raise :class:`SchemaEnforcementError` if ``data`` does not fit ``expected_schema``."""
    enforce_schema(data, expected_schema)


# ----------------------------------------------------------------------------- params
_PARAM_CONVERSIONS = {
    DataType.long: (DataType.integer,),
    DataType.float: (DataType.integer, DataType.long),
    DataType.double: (DataType.integer, DataType.long, DataType.float),
}


def enforce_param_datatype(value: Any, dtype: DataType) -> Any:
    """A param value as a Python value of ``dtype`` (ints widen to floats; strings parse as dates)."""
    np = _np()
    if value is None:
        return None
    if dtype is DataType.datetime:
        try:
            out = np.datetime64(value).item()
        except (ValueError, TypeError) as exc:
            raise InvalidParameterValue(
                f"Cannot convert {value!r} ({type(value).__name__}) to datetime: {exc}"
            ) from None
        if isinstance(out, int):
            raise InvalidParameterValue(f"Cannot convert {value!r} to a date or datetime")
        return out
    if not np.isscalar(value):
        raise InvalidParameterValue(f"Value must be a scalar for type {dtype.name}, got {value!r}")
    if DataType.check_type(dtype, value) or any(
        DataType.check_type(t, value) for t in _PARAM_CONVERSIONS.get(dtype, ())
    ):
        try:
            return dtype.to_python()(value)
        except ValueError as exc:
            raise InvalidParameterValue(
                f"Cannot convert {value!r} to {dtype.name}: {exc}"
            ) from None
    raise InvalidParameterValue(
        f"Can not safely convert {type(value).__name__} to {dtype.name} for value {value!r}"
    )


def validate_param_value(
    spec: str, value: Any, dtype: DataType | Object, shape: tuple[int, ...] | None
) -> Any:
    """Check a param value (or default) against its declared type and shape."""
    np = _np()
    if shape == (-1,):
        if not isinstance(value, list | np.ndarray) or np.array(value, dtype=object).ndim != 1:
            raise InvalidParameterValue(
                f"Param {spec}: value must be a 1-D list for shape (-1,), got {value!r}"
            )
    elif shape is not None:
        raise InvalidParameterValue(
            f"Param {spec}: shape must be None (scalar) or (-1,) (1-D list), got {shape}"
        )
    try:
        if isinstance(dtype, Object):
            if shape is not None:
                raise InvalidParameterValue("object params cannot have a shape")
            _enforce_object(copy.deepcopy(value), dtype, required=True)
            return value
        if shape is None:
            return enforce_param_datatype(value, dtype)
        return [enforce_param_datatype(v, dtype) for v in value]
    except InvalidParameterValue as exc:
        raise InvalidParameterValue(f"Invalid value for param {spec}: {exc}") from None


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
        raise InvalidParameterValue(f"params must be a dict, got {type(params).__name__}")
    params = {str(k): v for k, v in params.items()}
    allowed = {p.name for p in schema.params}
    ignored = sorted(set(params) - allowed)
    if ignored:
        _logger.warning(
            "Unrecognized params %s are ignored; the model accepts %s", ignored, sorted(allowed)
        )
    out: dict[str, Any] = {}
    errors = []
    for spec in schema.params:
        if spec.name in params:
            try:
                out[spec.name] = validate_param_value(
                    repr(spec), params[spec.name], spec.dtype, spec.shape
                )
            except InvalidParameterValue as exc:
                errors.append(f"{spec.name!r}: {exc.message}")
        else:
            out[spec.name] = spec.default
    if errors:
        raise InvalidParameterValue("Invalid parameters: " + "; ".join(errors))
    return out
