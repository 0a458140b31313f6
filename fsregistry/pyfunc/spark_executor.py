"""What ``fsregistry.pyfunc.spark_udf`` runs in Spark's executor Python workers: load the model
the driver resolved, turn each Arrow batch (as pandas) into the model's input, predict, and turn
the predictions into values of the UDF's result type.

The driver (:mod:`fsregistry.pyfunc.spark`) hands executors a :class:`ModelSource` and the
function :func:`make_predict_batches` builds; cloudpickle ships that function by value and
everything it calls from this module by reference, so executors import this module (fsregistry
is installed there) and nothing of the driver's: no registry, no URI resolution, no shipping.

The protocol on an executor:

* **Loading**: the model is loaded the first time a process scores a batch of a
  :class:`ModelSource` and kept for the life of the process (Spark reuses Python workers), keyed
  by location (or shipped archive name), fingerprint and model config; a forked child loads its
  own copy. Loading pins ``expected_digest`` to the manifest the driver saw, so every executor
  scores exactly the driver's model, checked before anything is unpickled. A model shipped as an
  archive is found with ``SparkFiles.get``.
* **Environment**: the source's variables (forwarded endpoints, ``extra_env``) are set while a
  task runs and put back afterwards.
* **Input**: a single struct argument is the model input as is; column arguments are named by
  the signature's inputs in order (ordinals ``"0"``, ``"1"``... without a signature). An empty
  batch yields an empty result without calling the model.
* **Output** (:func:`to_spark_values`): predictions (DataFrame, Series, numpy array, list,
  dict) become a frame of columns, which must have one row per input row. A primitive result type
  takes the leftmost column whose values fit it (numbers fit float/double; integers fit int/long
  when in range; booleans fit boolean; anything fits string; nulls stay null). An array type
  takes each row's list (nested one level at most) or, for a 2-D result, the row's fitting
  columns. A struct type takes the prediction column of each field's name.

This module imports pyspark and pyarrow (``pip install 'fsregistry[spark]'``).
"""

from __future__ import annotations

import contextlib
import json
import logging
import numbers
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Tuple, Union  # noqa: UP035  (pyspark reads typing.Tuple/Union hints)

import numpy as np
import pandas as pd

from fsregistry.exceptions import InvalidParameterValue

SPARK_EXTRA_HINT = "pip install 'fsregistry[spark]'"

try:
    import pyarrow  # noqa: F401  (pandas UDFs exchange batches as Arrow)
    from pyspark.sql import types as T
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        f"fsregistry.pyfunc.spark_udf needs PySpark and PyArrow ({exc}): {SPARK_EXTRA_HINT}"
    ) from exc

# The driver's logger: executor messages keep the name they had before the split.
_logger = logging.getLogger("fsregistry.pyfunc.spark")

#: The Spark primitive types predictions are converted to, with the numpy dtype of each.
PRIMITIVES: dict[type[T.DataType], str] = {
    T.IntegerType: "int32",
    T.LongType: "int64",
    T.FloatType: "float32",
    T.DoubleType: "float64",
    T.BooleanType: "bool",
    T.StringType: "str",
}


# -- converting predictions (executors) --------------------------------------------------------


def _is_list_like(value: Any) -> bool:
    return isinstance(value, (list, tuple, np.ndarray, pd.Series))


def _is_null(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, (float, np.floating)) and bool(np.isnan(value))


def _pylist(series: pd.Series) -> list[Any]:
    """Values as Python objects, nulls (None, NaN, pd.NA) as None."""
    return [None if _is_null(v) else v for v in series.tolist()]


def _predictions_frame(predictions: Any) -> pd.DataFrame:
    """Predictions as a DataFrame: the columns of a 2-D result, or one column of cells."""
    if isinstance(predictions, pd.DataFrame):
        return predictions.reset_index(drop=True)
    if isinstance(predictions, pd.Series):
        return predictions.reset_index(drop=True).to_frame()
    if isinstance(predictions, Mapping):
        return pd.DataFrame({k: list(v) for k, v in predictions.items()})
    if isinstance(predictions, np.ndarray):
        if predictions.ndim == 1:
            return pd.DataFrame({0: predictions})
        if predictions.ndim == 2:
            return pd.DataFrame(predictions)
        return pd.DataFrame({0: pd.Series(list(predictions), dtype=object)})
    if isinstance(predictions, (list, tuple)):
        # Kept as objects: typed later, so [1, None] stays integers with a null.
        return pd.DataFrame({0: pd.Series(list(predictions), dtype=object)})
    raise InvalidParameterValue(
        f"spark_udf cannot convert predictions of type {type(predictions).__name__} "
        "(expected a DataFrame, Series, numpy array, list or dict)"
    )


def _describe(frame: pd.DataFrame) -> str:
    return "{" + ", ".join(f"{c!r}: {frame[c].dtype}" for c in frame.columns) + "}"


def _typed(series: pd.Series) -> pd.Series:
    """An object column of Python scalars (a PythonModel's lists) with the dtype pandas would
    give it, so numbers with gaps (None) are numbers, not objects."""
    if series.dtype != object:
        return series
    present = [v for v in series if not _is_null(v)]
    if not present or any(_is_list_like(v) for v in present):
        return series
    if all(isinstance(v, (bool, np.bool_)) for v in present):
        return series.astype("boolean")
    if any(isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real) for v in present):
        return series
    if all(isinstance(v, numbers.Integral) for v in present):
        return pd.Series([None if _is_null(v) else int(v) for v in series], dtype="Int64")
    return pd.Series([np.nan if _is_null(v) else float(v) for v in series], dtype="float64")


def _as_primitive(series: pd.Series, t: T.DataType) -> pd.Series | None:
    """``series`` as values of the Spark primitive type ``t``, or None when they do not fit:
    numbers fit float/double, integers fit int/long when in range, booleans fit boolean, and
    anything fits string (nulls stay null)."""
    kind = type(t)
    if kind is T.StringType:
        return pd.Series([None if _is_null(v) else str(v) for v in series], dtype=object)
    series = _typed(series)
    dtype = series.dtype
    has_nulls = bool(series.isna().any())
    if kind is T.BooleanType:
        if not pd.api.types.is_bool_dtype(dtype):
            return None
        return series.astype("boolean" if has_nulls else bool)
    if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
        return None
    if kind in (T.FloatType, T.DoubleType):
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        return pd.Series(values.astype(np.dtype(PRIMITIVES[kind])))
    if not pd.api.types.is_integer_dtype(dtype):
        return None
    bounds = np.iinfo(PRIMITIVES[kind])
    present = series.dropna()
    if len(present) and (int(present.min()) < bounds.min or int(present.max()) > bounds.max):
        return None  # e.g. values beyond int32 for "int"
    if has_nulls:
        return series.astype("Int32" if kind is T.IntegerType else "Int64")
    return series.astype(np.dtype(PRIMITIVES[kind]))


def _no_compatible_values(t: T.DataType) -> str:
    """MLflow's message when no prediction column fits the (element) type ``t``."""
    return (
        f"The model did not produce any values compatible with the requested type '{t}'. "
        "Consider requesting udf with StringType or Arraytype(StringType)."
    )


def _leftmost(frame: pd.DataFrame, t: T.DataType) -> pd.Series:
    for column in frame.columns:
        converted = _as_primitive(frame[column], t)
        if converted is not None:
            return converted.reset_index(drop=True)
    raise InvalidParameterValue(
        f"{_no_compatible_values(t)} spark_udf: no column of the model's predictions "
        f"{_describe(frame)} fits the result type {t.simpleString()!r}; declare a result_type "
        "that matches the predictions"
    )


def _cell_array(cell: Any, t: T.ArrayType, row: int, where: str) -> list[Any] | None:
    """One prediction cell (a list or array) as a list of ``t``'s elements; null stays null."""
    if _is_null(cell):
        return None
    if not _is_list_like(cell):
        raise InvalidParameterValue(
            f"spark_udf: {where}, row {row}, is {cell!r}, not a list, so it cannot be a "
            f"{t.simpleString()!r}"
        )
    values = list(cell)
    inner = t.elementType
    if isinstance(inner, T.ArrayType):
        return [_cell_array(v, inner, row, where) for v in values]
    if not values:
        return []
    converted = _as_primitive(pd.Series(values, dtype=object), inner)
    if converted is None:
        raise InvalidParameterValue(
            f"spark_udf: {where}, row {row}, is {cell!r}, whose values do not fit "
            f"{inner.simpleString()!r}"
        )
    return _pylist(converted)


def _array_column(frame: pd.DataFrame, t: T.ArrayType, where: str) -> pd.Series:
    first = frame.iloc[:, 0] if len(frame.columns) else pd.Series([], dtype=object)
    if any(_is_list_like(v) for v in first) or isinstance(t.elementType, T.ArrayType):
        if len(frame.columns) != 1:
            raise InvalidParameterValue(
                f"spark_udf: {where} {_describe(frame)} should be one column of lists for "
                f"the result type {t.simpleString()!r}"
            )
        return pd.Series([_cell_array(v, t, i, where) for i, v in enumerate(first)], dtype=object)
    # A 2-D result (predict_proba, several output columns): each row's fitting columns.
    kept = [_as_primitive(frame[name], t.elementType) for name in frame.columns]
    columns = [c for c in kept if c is not None]
    if not columns:
        raise InvalidParameterValue(
            f"{_no_compatible_values(t.elementType)} spark_udf: no column of {where} "
            f"{_describe(frame)} fits the result type {t.simpleString()!r}"
        )
    if all(c.dtype != object and not c.isna().any() for c in columns):
        rows = np.column_stack([c.to_numpy() for c in columns]).tolist()  # fast: no nulls
    else:
        rows = [list(row) for row in zip(*(_pylist(c) for c in columns), strict=True)]
    return pd.Series(rows, dtype=object)


def _field_column(frame: pd.DataFrame, name: str, t: T.DataType) -> pd.Series:
    by_name = {str(c): c for c in frame.columns}
    if name not in by_name:
        raise InvalidParameterValue(
            f"spark_udf: the model's predictions {_describe(frame)} have no column {name!r} "
            "for the struct field of that name"
        )
    where = f"prediction column {name!r}"
    single = frame[[by_name[name]]]
    if isinstance(t, T.ArrayType):
        return _array_column(single, t, where)
    converted = _as_primitive(single.iloc[:, 0], t)
    if converted is None:
        raise InvalidParameterValue(
            f"spark_udf: {where} ({single.iloc[:, 0].dtype}) does not fit the struct field "
            f"type {t.simpleString()!r}"
        )
    return converted.reset_index(drop=True)


def to_spark_values(
    predictions: Any, result_type: T.DataType, rows: int
) -> pd.Series | pd.DataFrame:
    """One batch's predictions as what a pandas UDF returning ``result_type`` yields."""
    frame = _predictions_frame(predictions)
    if len(frame) != rows:
        raise InvalidParameterValue(
            f"spark_udf: the model returned {len(frame)} predictions for a batch of {rows} rows"
        )
    if isinstance(result_type, T.StructType):
        return pd.DataFrame(
            {f.name: _field_column(frame, f.name, f.dataType) for f in result_type.fields}
        )
    if isinstance(result_type, T.ArrayType):
        return _array_column(frame, result_type, "the model's predictions")
    return _leftmost(frame, result_type)


def _empty_result(result_type: T.DataType) -> pd.Series | pd.DataFrame:
    if isinstance(result_type, T.StructType):
        return pd.DataFrame({f.name: pd.Series([], dtype=object) for f in result_type.fields})
    return pd.Series([], dtype=object)


def input_frame(args: Sequence[pd.Series | pd.DataFrame], names: Sequence[str]) -> pd.DataFrame:
    """The model input for one batch: a struct argument as is, or the column arguments named
    by the signature's inputs in order (ordinals ``"0"``, ``"1"``... without a signature)."""
    if len(args) == 1 and isinstance(args[0], pd.DataFrame):
        return args[0]
    if any(isinstance(a, pd.DataFrame) for a in args):
        raise InvalidParameterValue(
            f"spark_udf: a struct argument must be the only argument, got {len(args)} arguments"
        )
    if names and len(args) > len(names):
        raise InvalidParameterValue(
            f"spark_udf: got {len(args)} columns but the model's signature has "
            f"{len(names)} inputs {list(names)}"
        )
    labels = list(names[: len(args)]) if names else [str(i) for i in range(len(args))]
    return pd.DataFrame(
        {label: a.reset_index(drop=True) for label, a in zip(labels, args, strict=True)}
    )


# -- the model on executors --------------------------------------------------------------------


@dataclass(frozen=True)
class ModelSource:
    """Everything an executor needs to load the model: no registry, no driver state."""

    location: str  # absolute local path or bucket URI of the model directory
    fingerprint: str  # manifest digest, else sha256 of MLmodel: this exact model
    digest: str | None  # manifest digest to pin when loading (None: model without manifest)
    archive: str | None = None  # SparkFiles name of the shipped zip (local model, cluster)
    model_config: str | None = None  # JSON
    env: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def key(self) -> tuple[str, str, str | None]:
        return (self.archive or self.location, self.fingerprint, self.model_config)


_loaded: dict[tuple[str, str, str | None], Any] = {}
_loaded_pid = os.getpid()
_loaded_lock = threading.Lock()


def executor_model(source: ModelSource) -> Any:
    """The loaded PyFuncModel for ``source``: loaded on first use in this process, then kept."""
    global _loaded_pid
    with _loaded_lock:
        if _loaded_pid != os.getpid():  # a forked child must load its own copy
            _loaded.clear()
            _loaded_pid = os.getpid()
        model = _loaded.get(source.key)
        if model is None:
            model = _load(source)
            _loaded[source.key] = model
        return model


def _load(source: ModelSource) -> Any:
    from fsregistry.pyfunc import load_model

    path = source.location
    if source.archive is not None:
        from pyspark import SparkFiles

        path = SparkFiles.get(source.archive)
    config = json.loads(source.model_config) if source.model_config else None
    _logger.info("spark_udf: loading %s in process %d", path, os.getpid())
    return load_model(path, model_config=config, expected_digest=source.digest)


@contextlib.contextmanager
def _environment(env: Sequence[tuple[str, str]]) -> Iterator[None]:
    """Set ``env`` while a task runs, then put back what the worker process had."""
    saved = {k: os.environ.get(k) for k, _ in env}
    os.environ.update(dict(env))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def make_predict_batches(
    source: ModelSource,
    result_type: T.DataType,
    input_names: Sequence[str],
    params: dict[str, Any] | None,
) -> Any:
    """The pandas UDF body (iterator of batches): load once, then predict batch by batch.

    The returned function is defined here, so cloudpickle ships it by value with what it
    closes over, and refers to this module's functions by reference."""

    def predict_batches(
        batches: Iterator[tuple[pd.Series | pd.DataFrame, ...]],
    ) -> Iterator[pd.Series | pd.DataFrame]:
        with _environment(source.env):
            model = executor_model(source)
            for batch in batches:
                args = batch if isinstance(batch, tuple) else (batch,)
                rows = len(args[0])
                if rows == 0:
                    yield _empty_result(result_type)
                    continue
                frame = input_frame(args, input_names)
                yield to_spark_values(model.predict(frame, params=params), result_type, rows)

    # pyspark reads the UDF kind from these hints, and only in typing's spelling.
    returns = pd.DataFrame if isinstance(result_type, T.StructType) else pd.Series
    predict_batches.__annotations__ = {
        "batches": Iterator[Tuple[Union[pd.Series, pd.DataFrame], ...]],  # noqa: UP006, UP007
        "return": Iterator[returns],  # type: ignore[valid-type]
    }
    return predict_batches
