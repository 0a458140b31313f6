"""Checking one value against a declared type, converting only where MLflow converts: a cell
against a column type (:func:`enforce_type`, :func:`enforce_column_dtype` for a whole column)
and a param value against a param's type and shape (:func:`validate_param_value`).

The types are :mod:`fsregistry.models.datatypes`; whole inputs against a signature's schema
are :mod:`fsregistry.models.enforcement`, which builds on this module (as does
:class:`~fsregistry.models.params.ParamSpec`, checking its default).
"""

from __future__ import annotations

import copy
import decimal
import logging
from typing import Any

from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.datatypes import AnyType, Array, ColType, DataType, Map, Object

_logger = logging.getLogger("fsregistry.models.enforcement")


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
                f"Incompatible input types for column {name}. Can not safely convert "
                f"{values.dtype} to {target}. ({exc})"
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
        f"Incompatible input types for column {name}. "
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
            f"Expected data to be scalar, got {type(data).__name__} (expected type {t.name}: "
            f"{data!r})"
        )
    try:
        return enforce_column_dtype("", pd.Series([data]), t).iloc[0]
    except SchemaEnforcementError:
        raise SchemaEnforcementError(
            f"Failed to enforce schema of data `{data}` with dtype `{t.name}`"
        ) from None


def _enforce_array(data: Any, arr: Array, required: bool) -> Any:
    np, pd = _np(), _pd()
    if (not required or isinstance(arr.dtype, AnyType)) and (
        data is None or (isinstance(data, list | np.ndarray) and len(data) == 0)
    ):
        return data
    if not isinstance(data, list | np.ndarray):
        raise SchemaEnforcementError(
            f"Expected data to be list or numpy array, got {type(data).__name__}"
        )
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
            f"Failed to enforce schema of '{data}' with type '{obj}'. "
            f"Expected data to be dictionary, got {type(data).__name__}"
        )
    props = {p.name: p for p in obj.properties}
    missing = sorted(k for k, p in props.items() if p.required and k not in data)
    if missing:
        raise SchemaEnforcementError(f"Missing required properties: {_as_set(missing)}")
    unknown = sorted((k for k in data if k not in props), key=str)
    if unknown:
        raise SchemaEnforcementError(
            f"Invalid properties not defined in the schema found: {_as_set(unknown)}"
        )
    out = dict(data)
    for k, v in data.items():
        try:
            out[k] = enforce_type(v, props[k].dtype, props[k].required)
        except SchemaEnforcementError as exc:
            raise SchemaEnforcementError(
                f"Failed to enforce schema for key `{k}`. Expected type "
                f"{_type_name(props[k].dtype)}, received type {type(v).__name__}. ({exc.message})"
            ) from None
    return out


def _as_set(items: list[Any]) -> str:
    """``items`` written as MLflow writes a set (``{'a', 'b'}``), in a stable order."""
    return "{" + ", ".join(repr(i) for i in items) + "}"


def _type_name(t: Any) -> str:
    """A type as MLflow's ``Property.to_dict()`` names it (``long``, ``array``, ``object``)."""
    return t.name if isinstance(t, DataType) else type(t).__name__.lower()


def _enforce_map(data: Any, m: Map, required: bool) -> Any:
    if (not required or isinstance(m.value_type, AnyType)) and (data is None or data == {}):
        return data
    if not isinstance(data, dict):
        raise SchemaEnforcementError(f"Expected data to be a dict, got {type(data).__name__}")
    if not all(isinstance(k, str) for k in data):
        raise SchemaEnforcementError(
            f"Expected all keys in the map type data are string type. (got {data!r})"
        )
    return {k: enforce_type(v, m.value_type, required) for k, v in data.items()}


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
        except (ValueError, TypeError):
            raise InvalidParameterValue(
                f"Failed to convert value `{value}` from type `{type(value)}` to "
                "`DataType.datetime`"
            ) from None
        if isinstance(out, int):
            raise InvalidParameterValue(
                "Failed to convert value to `DataType.datetime`. It must be convertible to "
                f"datetime.date/datetime, got `{value}`"
            )
        return out
    if not np.isscalar(value):
        raise InvalidParameterValue(
            f"Value must be a scalar for type `DataType.{dtype.name}`, got `{value}`"
        )
    if DataType.check_type(dtype, value) or any(
        DataType.check_type(t, value) for t in _PARAM_CONVERSIONS.get(dtype, ())
    ):
        try:
            return dtype.to_python()(value)
        except ValueError:
            raise InvalidParameterValue(
                f"Failed to convert value `{value}` from type `{type(value)}` to "
                f"`DataType.{dtype.name}`"
            ) from None
    raise InvalidParameterValue(
        f"Can not safely convert `{type(value)}` to `DataType.{dtype.name}` for value `{value}`"
    )


def validate_param_value(
    spec: str, value: Any, dtype: DataType | Object, shape: tuple[int, ...] | None
) -> Any:
    """Check a param value (or default) against its declared type and shape."""
    np = _np()
    if shape == (-1,):
        if not isinstance(value, list | np.ndarray) or np.array(value, dtype=object).ndim != 1:
            ndim = np.array(value, dtype=object).ndim
            raise InvalidParameterValue(
                f"Value must be a 1D array with shape (-1,) for param {spec}, "
                f"received {type(value).__name__} with ndim {ndim} ({value!r})"
            )
    elif shape is not None:
        raise InvalidParameterValue(
            "Shape must be None for scalar or dictionary value, or (-1,) for 1D array value "
            f"for ParamSpec {spec}), received {shape}"
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
        raise InvalidParameterValue(
            f"Failed to validate type and shape for {spec}, error: {exc.message}"
        ) from None
