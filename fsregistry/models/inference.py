"""Infer a :class:`~fsregistry.models.schema.Schema` from example data, as MLflow does.

* pandas DataFrame / Series -> one ColSpec per column (object columns are inspected value by
  value: lists become ``Array``, dicts ``Object``; missing values make a column optional);
* numpy array -> one unnamed TensorSpec with the first axis variable (``-1``);
* dict of numpy arrays -> named TensorSpecs; other dicts -> one ColSpec per key;
* list of dicts -> one ColSpec per key (optional when some rows lack it or hold None);
* list of scalars -> one unnamed column; a scalar -> one unnamed column;
* scipy sparse csr/csc -> TensorSpec of the data dtype.

Parameters (``infer_param_schema``) are scalars, 1-D lists or dicts.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import defaultdict
from typing import Any

from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.schema import (
    AnyType,
    Array,
    ColSpec,
    ColType,
    DataType,
    Map,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
)

#: MLflow's text (mlflow/types/utils.py, MULTIPLE_TYPES_ERROR_MSG).
_MIXED_TYPES = (
    "Expected all values in the list to be of the same type. To specify a model signature "
    "with a list containing elements of multiple types, define the signature manually "
    "using the Array(AnyType()) type from mlflow.models.schema."
)


def _clean_dtype(dtype: Any) -> Any:
    import numpy as np

    if dtype.char == "U":
        return np.dtype("str")
    if dtype.char == "S":
        return np.dtype("bytes")
    return dtype


def _tensor_shape(data: Any) -> tuple[int, ...]:
    shape = list(data.shape)
    if not shape:
        raise InvalidParameterValue(
            "The specified variable_dimension 0 is out of bounds with respect to the number of "
            f"dimensions 0 in the input dataset (a 0-d array: {data!r})"
        )
    shape[0] = -1
    return tuple(shape)


def _is_none_or_nan(x: Any) -> bool:
    from fsregistry.models.values import _is_none_or_nan as impl

    return impl(x)


def numpy_dtype_to_datatype(dtype: Any) -> DataType:
    """The MLflow type of a numpy/pandas dtype (object dtypes need the values: not here)."""
    kind, size = dtype.kind, getattr(dtype, "itemsize", 0)
    if kind == "b":
        return DataType.boolean
    if kind in ("i", "u"):
        if size < 4 or (kind == "i" and size == 4):
            return DataType.integer
        if size < 8 or (kind == "i" and size == 8):
            return DataType.long
    elif kind == "f":
        if size <= 4:
            return DataType.float
        if size <= 8:
            return DataType.double
    elif kind == "U":
        return DataType.string
    elif kind == "S":
        return DataType.binary
    elif kind == "M":
        return DataType.datetime
    raise InvalidParameterValue(f"Unsupported numpy data type '{dtype}', kind '{kind}'")


def _scalar_type(value: Any) -> DataType:
    import numpy as np

    mapping: dict[type, DataType] = {
        bool: DataType.boolean,
        np.bool_: DataType.boolean,
        int: DataType.long,
        np.int64: DataType.long,
        np.int32: DataType.integer,
        float: DataType.double,
        np.float64: DataType.double,
        np.float32: DataType.float,
        str: DataType.string,
        np.str_: DataType.string,
        bytes: DataType.binary,
        np.bytes_: DataType.binary,
        bytearray: DataType.binary,
    }
    found = mapping.get(type(value))
    if found is not None:
        return found
    if isinstance(value, dt.date | np.datetime64):
        return DataType.datetime
    raise InvalidParameterValue(
        f"Data {value} is not one of the supported DataType (type {type(value).__name__})"
    )


def infer_datatype(data: Any) -> ColType | None:
    """Type of one value: dict -> Object, list/array -> Array, None/empty -> Any."""
    import numpy as np

    if _is_none_or_nan(data) or (isinstance(data, list | dict) and not data):
        return AnyType()
    if isinstance(data, dict):
        props = []
        for k, v in data.items():
            t = infer_datatype(v)
            if t is None:
                raise InvalidParameterValue(
                    f"Dictionary value must not be an empty numpy array. (key {k!r})"
                )
            props.append(Property(str(k), t, required=not isinstance(t, AnyType)))
        return Object(props)
    if isinstance(data, list | np.ndarray):
        return _infer_array(data)
    return _scalar_type(data)


def _infer_array(data: Any) -> Array | None:
    result: Array | None = None
    for item in data:
        t = infer_datatype(item)
        if t is None:
            continue
        if result is None:
            result = Array(t)
        elif isinstance(result.dtype, Array | Object | Map | AnyType):
            try:
                result = Array(result.dtype.merge(t))
            except InvalidParameterValue:
                raise InvalidParameterValue(_MIXED_TYPES) from None
        elif not isinstance(t, AnyType) and t != result.dtype:
            raise InvalidParameterValue(_MIXED_TYPES)
    return result


def _colspec_type(data: Any) -> ColType:
    t = infer_datatype(data)
    if t is None:
        raise InvalidParameterValue(
            f"Numpy array must include at least one non-empty item. Invalid input `{data}`."
        )
    return t


def _required(col: Any) -> bool:
    import pandas as pd

    if isinstance(col, list | pd.Series):
        return not any(_is_none_or_nan(x) for x in col)
    return not _is_none_or_nan(col)


def _pandas_column_type(col: Any) -> ColType:
    import pandas as pd

    if not isinstance(col, pd.Series):
        # A DataFrame with duplicated column names gives a frame for a name.
        raise InvalidParameterValue(
            f"Expected pandas.Series, got '{type(col)}'. (shape {col.shape})"
        )
    if col.dtype.kind == "O":
        col = col.infer_objects()
    if col.dtype.kind == "O":
        try:
            t = _colspec_type(col.to_list())
            assert isinstance(t, Array)
            return t.dtype
        except (InvalidParameterValue, AssertionError) as exc:
            if pd.api.types.is_string_dtype(col):
                return DataType.string
            raise InvalidParameterValue(
                f"Failed to infer schema for pandas.Series {col.name!r}. Error: {exc}"
            ) from None
    return numpy_dtype_to_datatype(col.dtype)


def infer_schema(data: Any) -> Schema:
    """The Schema MLflow's ``_infer_schema`` gives for ``data`` (see the module docstring)."""
    import numpy as np
    import pandas as pd

    if isinstance(data, list) and not data:
        return Schema([ColSpec(DataType.string)])
    if isinstance(data, list) and all(isinstance(v, dict) for v in data):
        columns: dict[Any, list[Any]] = defaultdict(list)
        for row in data:
            for k, v in row.items():
                columns[k].append(v)
        specs = []
        for name, values in columns.items():
            t = _colspec_type(values)
            assert isinstance(t, Array)
            required = all(row.get(name) is not None for row in data)
            specs.append(ColSpec(t.dtype, str(name), required))
        return Schema(specs)
    if isinstance(data, dict):
        if data and all(isinstance(v, np.ndarray) for v in data.values()):
            return Schema(
                [
                    TensorSpec(_clean_dtype(v.dtype), _tensor_shape(v), str(k))
                    for k, v in data.items()
                ]
            )
        if any(not isinstance(k, str) for k in data):
            raise InvalidParameterValue(
                f"The dictionary keys are not all strings. (got {list(data)!r})"
            )
        return Schema([ColSpec(_colspec_type(v), k, _required(v)) for k, v in data.items()])
    if isinstance(data, pd.Series):
        name = data.name
        return Schema(
            [
                ColSpec(
                    _pandas_column_type(data), None if name is None else str(name), _required(data)
                )
            ]
        )
    if isinstance(data, pd.DataFrame):
        return Schema(
            [
                ColSpec(_pandas_column_type(data[c]), str(c), _required(data[c]))
                for c in data.columns
            ]
        )
    if isinstance(data, np.ndarray):
        return Schema([TensorSpec(_clean_dtype(data.dtype), _tensor_shape(data))])
    if type(data).__module__.startswith("scipy.sparse"):
        return Schema([TensorSpec(_clean_dtype(data.data.dtype), _tensor_shape(data))])
    if isinstance(data, list):
        t = _colspec_type(data)
        return Schema([ColSpec(t.dtype if isinstance(t, Array) else t)])
    try:
        return Schema([ColSpec(_colspec_type(data))])
    except InvalidParameterValue as exc:
        raise InvalidParameterValue(
            "Failed to infer schema. Expected one of the following types:\n"
            "- pandas.DataFrame\n"
            "- pandas.Series\n"
            "- numpy.ndarray\n"
            "- dictionary of (name -> numpy.ndarray)\n"
            "- scipy.sparse.csr_matrix\n"
            "- scipy.sparse.csc_matrix\n"
            "- DataType\n"
            "- List[DataType]\n"
            "- Dict[str, Union[DataType, List, Dict]]\n"
            "- List[Dict[str, Union[DataType, List, Dict]]]\n"
            f"but got '{data}' ({type(data).__name__}).\n"
            f"Error: {exc.message}"
        ) from None


def _param_type_and_shape(value: Any) -> tuple[DataType | Object, tuple[int, ...] | None]:
    import numpy as np

    if isinstance(value, list | np.ndarray):
        depth = _array_depth(value)
        if depth != 1:
            raise InvalidParameterValue(
                f"Expected parameters to be 1D array or scalar, got {depth}D array"
            )
        if (
            value is not None
            and len(value)
            and all(isinstance(v, dt.date | np.datetime64) for v in value)
        ):
            return DataType.datetime, (-1,)
        return numpy_dtype_to_datatype(np.array(list(value)).dtype), (-1,)
    if isinstance(value, dt.date | np.datetime64):
        return DataType.datetime, None
    if np.isscalar(value):
        return numpy_dtype_to_datatype(np.array(value).dtype), None
    if isinstance(value, dict):
        t = infer_datatype(value)
        if not isinstance(t, Object):
            raise InvalidParameterValue(f"'dtype' must be DataType, Object or str, got {t!r}")
        return t, None
    raise InvalidParameterValue(
        f"Expected parameters to be 1D array or scalar, got {type(value).__name__}"
    )


def _array_depth(value: Any) -> int:
    """How deep lists (or numpy arrays) nest in ``value``; an empty list is 1-D."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return int(value.ndim)
    if isinstance(value, list):
        return 1 + max((_array_depth(v) for v in value), default=0)
    return 0


def infer_param_schema(params: dict[str, Any]) -> ParamSchema:
    """ParamSchema whose defaults are the given values."""
    if not isinstance(params, dict):
        raise InvalidParameterValue(f"Expected parameters to be dict, got {type(params).__name__}")
    specs = []
    errors = []
    for name, value in params.items():
        try:
            dtype, shape = _param_type_and_shape(value)
            specs.append(ParamSpec(name, dtype, copy.deepcopy(value), shape))
        except InvalidParameterValue as exc:
            errors.append(f"{name!r}={value!r}: {exc.message}")
    if errors:
        raise InvalidParameterValue("Failed to infer schema for parameters: " + "; ".join(errors))
    return ParamSchema(specs)
