"""``fsregistry.pyfunc.spark_udf``'s result types: the values of each Spark type from model
predictions (no JVM), result types inferred from a signature or parsed from DDL, and the errors
a bad argument or a misfitting prediction gives, on the driver and on the executors. The
scoring itself is tests/test_spark_udf.py; the session and models come from
``fsreg_testing/spark_udf.py``.
"""

# Fixtures come from fsreg_testing.models (imported by name), so pytest's argument names shadow
# them: that is how pytest fixtures are shared without a conftest.
# ruff: noqa: F811

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import fsregistry
from fsreg_testing.models import local_tracking, model_cache  # noqa: F401 - fixtures
from fsreg_testing.spark_udf import SPARK_MARKS, log_custom, log_sklearn, rows, spark_rows, with_id
from fsregistry import pyfunc
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models import ColSpec, ModelSignature, Schema, infer_signature

pytestmark = SPARK_MARKS


# -- errors ------------------------------------------------------------------------------------


def test_bad_arguments_are_clear_errors(
    spark: Any, local_tracking: str, models_module: Any
) -> None:
    from pyspark.sql.functions import col

    uri = log_sklearn("errclf")
    for bad in ("map<string,double>", "binary", "struct<a:map<string,int>>", "not a type"):
        with pytest.raises(InvalidParameterValue, match="Invalid 'spark_udf' result type: "):
            pyfunc.spark_udf(spark, uri, result_type=bad)
    with pytest.raises(InvalidParameterValue, match=r"Invalid 'spark_udf' result type: 42\."):
        pyfunc.spark_udf(spark, uri, result_type=42)
    for manager in ("virtualenv", "conda", "uv"):
        with pytest.raises(InvalidParameterValue, match=f"env_manager='{manager}'"):
            pyfunc.spark_udf(spark, uri, env_manager=manager)
    with pytest.raises(InvalidParameterValue, match=r"Invalid value for `env_manager`: docker\."):
        pyfunc.spark_udf(spark, uri, env_manager="docker")
    with pytest.raises(InvalidParameterValue, match="prebuilt_env_uri"):
        pyfunc.spark_udf(spark, uri, prebuilt_env_uri="/tmp/env.tar")
    with pytest.raises(InvalidParameterValue, match="extra_env"):
        pyfunc.spark_udf(spark, uri, extra_env={"A": 1})  # type: ignore[dict-item]
    with pytest.raises(InvalidParameterValue, match="model_config"):
        pyfunc.spark_udf(spark, uri, model_config=["a"])  # type: ignore[arg-type]
    with pytest.raises(fsregistry.exceptions.ResourceDoesNotExist, match="MLmodel"):
        pyfunc.spark_udf(spark, local_tracking + "/nowhere")

    # Too few or no columns: MLflow's texts (spark_udf), then fsregistry's detail.
    missing = (
        r"^Model input is missing required columns\. Expected {} required input columns {}, "
        r"but the model received only {} unnamed input columns \(Since the columns were passed "
        r"unnamed they are expected to be in the order specified by the schema\)\. "
    )
    udf = pyfunc.spark_udf(spark, uri, result_type="double")
    with pytest.raises(
        InvalidParameterValue,
        match=missing.format(2, r"\['f1', 'f2'\]", 1) + r"spark_udf: .*needs the columns \['f2'\]",
    ):
        udf("f1")
    three = infer_signature(rows(2).assign(f3=1.0))
    udf3 = pyfunc.spark_udf(
        spark, log_custom(models_module.Label(), models_module, signature=three)
    )
    with pytest.raises(
        InvalidParameterValue,
        match=missing.format(3, r"\['f1', 'f2', 'f3'\]", 2) + r"spark_udf: .*inputs \['f3'\]",
    ):
        udf3(col("f1"), col("f2"))
    optional = ModelSignature(
        inputs=Schema([ColSpec("double", "f1"), ColSpec("long", "f2", required=False)])
    )
    unnamed = ModelSignature(inputs=Schema([ColSpec("double"), ColSpec("long")]))
    for signature, text in [
        (
            optional,
            r"^Cannot apply UDF without column names specified when model signature contains "
            r"optional columns\. ",
        ),
        (
            unnamed,
            r"^Cannot apply udf because no column names specified\. The udf expects 2 columns "
            r"with types: .*\. Input column names could not be inferred from the model "
            r"signature \(column names not found\)\. ",
        ),
        (
            None,
            r"^Attempting to apply udf on zero columns because no column names were specified "
            r"as arguments or inferred from the model signature\. ",
        ),
    ]:
        logged = log_custom(models_module.Label(), models_module, signature=signature)
        with pytest.raises(InvalidParameterValue, match=text):
            pyfunc.spark_udf(spark, logged, result_type="string")()
    with pytest.raises(InvalidParameterValue, match="got 3 columns"):
        udf(col("f1"), col("f2"), col("f2"))
    with pytest.raises(InvalidParameterValue, match="column names or Columns"):
        udf(3)


def test_errors_on_executors_name_the_problem(
    spark: Any, local_tracking: str, models_module: Any
) -> None:
    from pyspark.sql.functions import struct

    uri = log_sklearn("execclf")
    df = spark_rows(spark, with_id(rows(10)))
    udf = pyfunc.spark_udf(spark, uri, result_type="double")
    with pytest.raises(Exception, match=r"missing inputs \['f2'\]"):
        df.withColumn("out", udf(struct("f1"))).collect()
    with pytest.raises(Exception, match=r"UNRESOLVED_COLUMN|cannot be resolved"):
        df.drop("f2").withColumn("out", udf()).collect()
    label_uri = log_custom(models_module.Label(), models_module)
    as_double = pyfunc.spark_udf(spark, label_uri, result_type="double")
    with pytest.raises(
        Exception,
        match=r"The model did not produce any values compatible with the requested type "
        r"'DoubleType\(\)'\. .* spark_udf: no column of the model's predictions .* fits",
    ):
        df.withColumn("out", as_double("f1")).collect()
    as_struct = pyfunc.spark_udf(spark, label_uri, result_type="label string, score double")
    with pytest.raises(Exception, match="have no column 'label'"):
        df.withColumn("out", as_struct("f1")).collect()


# -- conversions and type inference (no JVM) ---------------------------------------------------


def test_to_spark_values_conversions() -> None:
    from pyspark.sql import types as T

    from fsregistry.pyfunc.spark import to_spark_values

    # Leftmost fitting column; ints fit "int" only when in range.
    frame = pd.DataFrame({"s": ["a", "b"], "big": [1, 2**40], "small": [3, 4]})
    assert to_spark_values(frame, T.IntegerType(), 2).tolist() == [3, 4]
    assert to_spark_values(frame, T.LongType(), 2).tolist() == [1, 2**40]
    assert to_spark_values(frame, T.StringType(), 2).tolist() == ["a", "b"]
    # Python lists with gaps: numbers stay numbers, nulls stay null.
    assert to_spark_values([1, None], T.LongType(), 2).tolist() == [1, pd.NA]
    out = to_spark_values([1.5, None], T.DoubleType(), 2)
    assert out[0] == 1.5 and np.isnan(out[1])
    assert to_spark_values([True, None], T.BooleanType(), 2).tolist() == [True, pd.NA]
    assert to_spark_values([0.5, None], T.StringType(), 2).tolist() == ["0.5", None]
    # Arrays: each row's list, or the fitting columns of a 2-D result, nested one level.
    assert to_spark_values([[1, 2], None, []], T.ArrayType(T.DoubleType()), 3).tolist() == [
        [1.0, 2.0],
        None,
        [],
    ]
    matrix = np.array([[1, 2], [3, 4]])
    assert to_spark_values(matrix, T.ArrayType(T.LongType()), 2).tolist() == [[1, 2], [3, 4]]
    nested = T.ArrayType(T.ArrayType(T.IntegerType()))
    assert (
        to_spark_values(np.ones((2, 2, 3), dtype=int), nested, 2).tolist()
        == [[[1, 1, 1], [1, 1, 1]]] * 2
    )
    # Structs take prediction columns by field name; dict predictions are columns.
    struct = T.StructType([T.StructField("b", T.DoubleType()), T.StructField("a", T.StringType())])
    got = to_spark_values({"a": [1, 2], "b": [3, 4]}, struct, 2)
    assert got.to_dict(orient="list") == {"b": [3.0, 4.0], "a": ["1", "2"]}

    with pytest.raises(InvalidParameterValue, match="returned 3 predictions for a batch of 2"):
        to_spark_values([1, 2, 3], T.DoubleType(), 2)
    with pytest.raises(InvalidParameterValue, match=r"\{'s': str\} fits .*'int'"):
        to_spark_values(pd.DataFrame({"s": ["x", "y"]}), T.IntegerType(), 2)
    with pytest.raises(InvalidParameterValue, match="row 1, is 'x', not a list"):
        to_spark_values(pd.Series([[1.0], "x"]), T.ArrayType(T.DoubleType()), 2)
    with pytest.raises(InvalidParameterValue, match=r"row 0, is \['x'\], whose values"):
        to_spark_values([["x"], [1.0]], T.ArrayType(T.DoubleType()), 2)
    with pytest.raises(InvalidParameterValue, match="no column 'b'"):
        to_spark_values({"a": [1]}, struct, 1)
    with pytest.raises(InvalidParameterValue, match=r"prediction column 'a' .* does not fit"):
        to_spark_values(
            {"a": ["x"], "b": [1.0]}, T.StructType([T.StructField("a", T.DoubleType())]), 1
        )
    with pytest.raises(InvalidParameterValue, match="predictions of type object"):
        to_spark_values(object(), T.DoubleType(), 1)


def test_result_type_inference_and_parsing(spark: Any) -> None:
    from pyspark.sql import types as T

    from fsregistry.models import ColSpec, Schema, TensorSpec
    from fsregistry.models.schema import Array
    from fsregistry.pyfunc.spark import infer_result_type, parse_result_type

    assert infer_result_type(None) == T.DoubleType()
    assert infer_result_type(Schema([ColSpec("long")])) == T.LongType()
    assert infer_result_type(Schema([ColSpec(Array("float"))])) == T.ArrayType(T.FloatType())
    assert infer_result_type(Schema([ColSpec("string", "a"), ColSpec("double", "b")])) == (
        T.StructType([T.StructField("a", T.StringType()), T.StructField("b", T.DoubleType())])
    )
    tensor = Schema([TensorSpec(np.dtype("float64"), (-1, 3))])
    assert infer_result_type(tensor) == T.ArrayType(T.DoubleType())
    assert infer_result_type(Schema([TensorSpec(np.dtype("int32"), (-1,))])) == T.IntegerType()
    with pytest.raises(InvalidParameterValue, match="pass result_type"):
        infer_result_type(Schema([ColSpec("binary")]))
    assert parse_result_type("bool") == T.BooleanType()
    assert parse_result_type("a int, b array<array<double>>") == T.StructType(
        [
            T.StructField("a", T.IntegerType()),
            T.StructField("b", T.ArrayType(T.ArrayType(T.DoubleType()))),
        ]
    )
    assert parse_result_type(T.StringType()) == T.StringType()
