"""Spark DataFrame datasets (``mlflow.data.spark_dataset``), for local or cluster Spark.

The digest is the DataFrame's ``semanticHash()`` (:func:`fsregistry.data.digest.spark_digest`);
the schema is one ColSpec per field, all required as MLflow writes them (numeric, boolean,
string, binary, date/timestamp as ``datetime``, arrays, structs as objects, maps as objects of
the keys seen in the data); the profile is ``{"approx_count": n}`` from Spark's approximate
sum over partitions (5 s, 0.9 confidence), ``"unknown"`` when that is 0.

``from_spark(df, path=|table_name=|sql=)`` records a Spark source (a Delta source when the
path or table is a Delta table and the Delta Lake package is on Spark's class path), else the
code source. Differs from MLflow: Delta versions are not looked up when not given, and a
``table_name`` with a ``version`` is recorded as a Delta table without asking the catalog.
"""

from __future__ import annotations

import json
import logging
from functools import cached_property
from typing import Any

from fsregistry.data import digest as digests
from fsregistry.data.datasets import FrameDataset, code_source
from fsregistry.data.sources import DatasetSource, DeltaDatasetSource, SparkDatasetSource
from fsregistry.exceptions import InvalidParameterValue, MlflowException
from fsregistry.models.schema import (
    Array,
    ColSpec,
    ColType,
    DataType,
    Object,
    Property,
    Schema,
)

_logger = logging.getLogger(__name__)


def spark_type(x: Any, data: Any = None, column: str | None = None) -> ColType:
    """The MLflow type of a Spark SQL type (MLflow's ``_infer_spark_type``)."""
    from pyspark.sql import types as t

    if isinstance(x, t.LongType):
        return DataType.long
    if isinstance(x, t.IntegralType):
        return DataType.integer
    if isinstance(x, t.FloatType):
        return DataType.float
    if isinstance(x, t.DoubleType):
        return DataType.double
    if isinstance(x, t.BooleanType):
        return DataType.boolean
    if isinstance(x, t.StringType):
        return DataType.string
    if isinstance(x, t.BinaryType):
        return DataType.binary
    if isinstance(x, t.DateType | t.TimestampType):
        return DataType.datetime
    if isinstance(x, t.ArrayType):
        return Array(spark_type(x.elementType))
    if isinstance(x, t.StructType):
        return Object(
            [Property(f.name, spark_type(f.dataType), required=not f.nullable) for f in x.fields]
        )
    if isinstance(x, t.MapType) and data is not None and column is not None:
        if isinstance(x.valueType, t.MapType):
            raise InvalidParameterValue(
                "Please construct spark DataFrame with schema using StructType for "
                "dictionary/map fields, MLflow schema inference only supports scalar, array "
                "and struct types."
            )
        from pyspark.sql.functions import col, collect_list

        rows = data.selectExpr(f"map_keys({column}) as keys").agg(
            collect_list(col("keys")).alias("merged")
        )
        keys = {k for keys in rows.head().merged for k in keys}
        return Object([Property(k, spark_type(x.valueType)) for k in keys])
    raise InvalidParameterValue(f"Unsupported Spark Type '{type(x)}' for MLflow schema.")


def infer_spark_schema(df: Any) -> Schema:
    """One required ColSpec per field of ``df`` (MLflow's ``_infer_schema`` on Spark)."""
    return Schema([ColSpec(spark_type(f.dataType, df, f.name), f.name) for f in df.schema.fields])


class SparkDataset(FrameDataset):
    """A Spark DataFrame dataset (``mlflow.data.spark_dataset.SparkDataset``)."""

    _frame_kind = "Spark dataset"

    def _compute_digest(self) -> str:
        return digests.spark_digest(self._df)

    @property
    def profile(self) -> Any:
        from pyspark.rdd import BoundedFloat

        try:
            counts = self._df.rdd.mapPartitions(lambda it: [float(sum(1 for _ in it))])
            total = counts.mapPartitions(lambda it: [float(sum(it))])._to_java_object_rdd()
            jvm = counts.ctx._jvm
            approx = jvm.JavaDoubleRDD.fromRDD(total.rdd()).sumApprox(5000, 0.9).initialValue()
            count = int(
                BoundedFloat(approx.mean(), approx.confidence(), approx.low(), approx.high())
            )
        except Exception as exc:  # Spark reports failures as Py4J/JVM errors of many kinds
            _logger.warning("Failed to compute the Spark dataset profile: %s", exc)
            return None
        return {"approx_count": count if count > 0 else "unknown"}

    @cached_property
    def schema(self) -> Schema | None:
        try:
            return infer_spark_schema(self._df)
        except MlflowException as exc:
            _logger.warning("Failed to infer schema for Spark dataset. Exception: %s", exc)
            return None

    def to_dict(self) -> dict[str, Any]:
        config = super().to_dict()
        schema = self.schema
        config["schema"] = json.dumps({"mlflow_colspec": schema.to_dict()}) if schema else None
        config["profile"] = json.dumps(self.profile)
        return config


def _is_delta_path(path: str) -> bool:
    try:
        from delta.tables import DeltaTable  # type: ignore[import-not-found]
        from pyspark.sql import SparkSession
    except ImportError:
        return False
    try:
        return bool(DeltaTable.isDeltaTable(SparkSession.builder.getOrCreate(), path))
    except Exception:  # no Delta Lake jars on the Spark class path: not a Delta table
        return False


def from_spark(
    df: Any,
    path: str | None = None,
    table_name: str | None = None,
    version: str | None = None,
    sql: str | None = None,
    targets: str | None = None,
    name: str | None = None,
    digest: str | None = None,
    predictions: str | None = None,
) -> SparkDataset:
    """A SparkDataset of ``df``; same as ``mlflow.data.from_spark`` (Delta versions are not
    looked up when not given)."""
    if (path, table_name, sql).count(None) < 2:
        raise InvalidParameterValue(
            "Must specify at most one of `path`, `table_name`, or `sql`. "
            f"Got: path={path!r}, table_name={table_name!r}, sql={sql!r}."
        )
    if sql is not None and version is not None:
        raise InvalidParameterValue(
            "`version` may not be specified when `sql` is specified. `version` may only be"
            f" specified when `table_name` or `path` is specified. Got: version={version!r}."
        )
    source: DatasetSource
    if sql is not None:
        source = SparkDatasetSource(sql=sql)
    elif path is not None:
        if _is_delta_path(path):
            source = DeltaDatasetSource(path=path, delta_table_version=_int(version))
        elif version is None:
            source = SparkDatasetSource(path=path)
        else:
            raise InvalidParameterValue(
                f"Version '{version}' was specified, but the path '{path}' does not refer"
                " to a Delta table."
            )
    elif table_name is not None:
        if version is None:
            source = SparkDatasetSource(table_name=table_name)
        else:
            source = DeltaDatasetSource(
                delta_table_name=table_name, delta_table_version=_int(version)
            )
    else:
        source = code_source()
    return SparkDataset(
        df=df, source=source, targets=targets, name=name, digest=digest, predictions=predictions
    )


def _int(version: Any) -> int | None:
    return None if version is None else int(version)
