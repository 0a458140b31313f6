"""``fsregistry.pyfunc.spark_udf`` on a real local Spark (Java 17), with models in a local store,
the S3 emulator and the GCS emulator; every UDF result is compared with ``load_model(uri)
.predict`` on the same rows.

The SparkSession is the tests' one per xdist worker (``spark``,
``fsreg_testing/spark_session.py``) and the custom models come from
``fsreg_testing/spark_udf.py`` (``models_module``; both fixtures registered in
tests/conftest.py); endpoints reach executors because spark_udf forwards the driver's. Result
types, their conversions and errors are in tests/test_spark_udf_types.py. ``test_local_cluster`` runs a separate ``local-cluster`` Spark (a
master, a worker and an executor JVM of their own) in a subprocess: the driver-local model is
shipped with ``addArchive`` and the bucket model is read from S3 by the executor.
"""

# Fixtures come from fsreg_testing.models (imported by name), so pytest's argument names shadow
# them: that is how pytest fixtures are shared without a conftest.
# ruff: noqa: F811

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fsregistry
from fsreg_testing.models import local_tracking, model_cache, tracking  # noqa: F401 - fixtures
from fsreg_testing.spark_udf import (
    SPARK_MARKS,
    collect,
    collect_struct,
    log_custom,
    log_sklearn,
    rows,
    score,
    spark_rows,
    with_id,
)
from fsregistry import pyfunc
from fsregistry.models import infer_signature

ROOT = Path(__file__).resolve().parent.parent

pytestmark = SPARK_MARKS


# -- scikit-learn: numbers from every store ----------------------------------------------------


@pytest.mark.parametrize("backend", ["local", "s3", "gcs"], indirect=True)
def test_sklearn_classifier_matches_predict(spark: Any, tracking: str, backend: str) -> None:
    """models:/name@alias from each store (GCS reaches executors only through the endpoint
    spark_udf forwards: the JVM started before the GCS emulator did)."""
    from pyspark.sql.functions import struct

    uri = log_sklearn()
    data = rows()
    expected = pyfunc.load_model(uri).predict(data)
    as_double = pyfunc.spark_udf(spark, uri, result_type="double")
    as_int = pyfunc.spark_udf(spark, uri, result_type="int")
    default = pyfunc.spark_udf(spark, uri)  # the output schema (long) decides
    assert default.metadata.get_input_schema().input_names() == ["f1", "f2"]
    got, types = score(
        spark_rows(spark, with_id(data)),
        no_args=as_double(),  # the signature's columns
        struct=as_double(struct("f2", "f1")),  # fields by name, any order
        names=as_int("f2", "f1"),  # names, any order
        default=default("f1", "f2"),
    )
    assert types == {"no_args": "double", "struct": "double", "names": "int", "default": "bigint"}
    assert got["no_args"] == got["struct"] == [float(v) for v in expected]
    assert got["names"] == got["default"] == [int(v) for v in expected]


@pytest.mark.parametrize("backend", ["local", "s3"], indirect=True)
def test_version_and_runs_uris_and_positional_columns(spark: Any, tracking: str) -> None:
    from pyspark.sql.functions import col

    log_sklearn("clf2")
    data = rows()
    expected = [float(v) for v in pyfunc.load_model("models:/clf2/1").predict(data)]
    renamed = spark_rows(spark, with_id(data)).select(
        "id", col("f1").alias("a"), col("f2").alias("b")
    )
    run_uri = fsregistry.Client().get_model_version("clf2", 1).source
    for uri in ("models:/clf2/1", run_uri):
        udf = pyfunc.spark_udf(spark, uri, result_type="double")
        # Column expressions are matched to the signature (f1, f2) by position, as in MLflow.
        assert collect(renamed.withColumn("out", udf(col("a"), col("b") + 0))) == expected


# -- custom models: arrays, strings, structs ---------------------------------------------------


def test_array_string_and_struct_results(
    spark: Any, local_tracking: str, models_module: Any
) -> None:
    data = rows()
    proba_uri = log_custom(models_module.Proba(), models_module)
    label_uri = log_custom(models_module.Label(), models_module)
    frame_uri = log_custom(models_module.Frame(), models_module)
    proba = pyfunc.load_model(proba_uri).predict(data)
    labels = pyfunc.load_model(label_uri).predict(data)
    frame = pyfunc.load_model(frame_uri).predict(data)
    struct_type = "label string, score double, rank int, flag boolean, pair array<double>"

    def udf(uri: str, result_type: str) -> Any:
        return pyfunc.spark_udf(spark, uri, result_type=result_type)

    df = spark_rows(spark, with_id(data))
    got, types = score(
        df,
        proba=udf(proba_uri, "array<double>")("f1", "f2"),
        proba32=udf(proba_uri, "array<float>")("f1"),
        label=udf(label_uri, "string")("f1"),
        # A primitive result type takes the leftmost column that fits, as in MLflow...
        leftmost=udf(frame_uri, "double")("f1", "f2"),
        # ...and array<string> every column, as strings.
        strings=udf(frame_uri, "array<string>")("f1", "f2"),
    )
    assert types["proba"] == "array<double>"
    assert got["proba"] == proba
    assert np.allclose(np.array(got["proba32"]), np.array(proba, dtype=np.float32))
    assert got["label"] == labels
    frames = collect_struct(
        df.withColumn("frame", udf(frame_uri, struct_type)("f1", "f2")), "frame"
    )
    assert frames["label"].tolist() == frame["label"].tolist()
    assert frames["score"].tolist() == frame["score"].tolist()
    assert frames["rank"].tolist() == frame["rank"].tolist()
    assert frames["flag"].tolist() == frame["flag"].tolist()
    assert [list(v) for v in frames["pair"]] == frame["pair"].tolist()
    assert got["leftmost"] == frame["score"].tolist()
    assert [row[:3] for row in got["strings"]] == [
        [label, str(score), str(rank)]
        for label, score, rank in zip(frame["label"], frame["score"], frame["rank"], strict=True)
    ]


def test_numpy_matrix_results(spark: Any, local_tracking: str, models_module: Any) -> None:
    uri = log_custom(
        models_module.Matrix(),
        models_module,
        signature=infer_signature(rows(3), params={"nested": False}),
    )
    data = rows()
    model = pyfunc.load_model(uri)
    flat = pyfunc.spark_udf(spark, uri, result_type="array<double>")
    nested = pyfunc.spark_udf(
        spark, uri, result_type="array<array<double>>", params={"nested": True}
    )
    got, _ = score(spark_rows(spark, with_id(data)), flat=flat(), nested=nested())
    assert got["flat"] == model.predict(data).tolist()
    assert got["nested"] == model.predict(data, params={"nested": True}).tolist()


def test_output_schema_gives_the_result_type(
    spark: Any, local_tracking: str, models_module: Any
) -> None:
    data = rows(5)
    model = models_module.Frame()
    signature = infer_signature(data, model.predict(None, data))
    uri = log_custom(model, models_module, signature=signature)
    udf = pyfunc.spark_udf(spark, uri)
    out = spark_rows(spark, with_id(data)).withColumn("out", udf())
    assert out.schema["out"].dataType.simpleString() == (
        "struct<label:string,score:double,rank:bigint,flag:boolean,pair:array<double>>"
    )
    got = collect_struct(out)
    assert got["rank"].tolist() == model.predict(None, data)["rank"].tolist()


def test_sql_registration(spark: Any, local_tracking: str) -> None:
    uri = log_sklearn("sqlclf")
    data = rows()
    expected = [float(v) for v in pyfunc.load_model(uri).predict(data)]
    spark.createDataFrame(with_id(data)).createOrReplaceTempView("fsreg_rows")
    spark.udf.register("fsreg_predict", pyfunc.spark_udf(spark, uri, result_type="double"))
    got = spark.sql("SELECT id, fsreg_predict(f1, f2) AS out FROM fsreg_rows")
    assert collect(got) == expected


# -- executors: once per process, environment --------------------------------------------------


def test_model_loads_once_per_python_worker(
    spark: Any, local_tracking: str, models_module: Any, tmp_path: Path
) -> None:
    from pyspark.sql.functions import col

    uri = log_custom(models_module.Pids(), models_module, input_example=rows(2))
    load_log, batch_log = tmp_path / "loads.log", tmp_path / "batches.log"
    udf = pyfunc.spark_udf(
        spark,
        uri,
        extra_env={"FSREG_TEST_LOAD_LOG": str(load_log), "FSREG_TEST_BATCH_LOG": str(batch_log)},
    )
    previous = spark.conf.get("spark.sql.execution.arrow.maxRecordsPerBatch")
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "7")
    try:
        df = spark.range(400, numPartitions=8).select(
            "id", (col("id") % 13 / 13.0).alias("f1"), (col("id") % 2).alias("f2")
        )
        out = df.withColumn("out", udf()).collect()
    finally:
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", previous)
    loads = load_log.read_text().split()
    batches = [line.split() for line in batch_log.read_text().splitlines()]
    assert len(batches) >= 400 // 7  # many batches, in 8 tasks...
    assert all(int(n) <= 7 for _, n in batches)
    assert sum(int(n) for _, n in batches) == 400
    assert len(loads) == len(set(loads))  # ...but one load per worker process
    assert {pid for pid, _ in batches} == set(loads)
    assert {int(r["out"]) for r in out} == {int(p) for p in loads}
    assert os.getpid() not in {int(p) for p in loads}


@pytest.mark.parametrize("backend", ["s3"], indirect=True)
def test_executor_environment(
    spark: Any, tracking: str, models_module: Any, s3_emulator: Any
) -> None:
    signature = infer_signature(rows(2), params={"var": "HOME"})
    uri = log_custom(models_module.Env(), models_module, signature=signature)
    df = spark_rows(spark, with_id(rows(10)))

    def executor_value(var: str, **kwargs: Any) -> set[str]:
        udf = pyfunc.spark_udf(spark, uri, result_type="string", params={"var": var}, **kwargs)
        return set(collect(df.withColumn("out", udf("f1", "f2"))))

    # Inherited from the driver's environment when the JVM started (local mode)...
    assert executor_value("AWS_ACCESS_KEY_ID") == {os.environ["AWS_ACCESS_KEY_ID"]}
    # ...and the endpoint the location was resolved against is forwarded.
    assert executor_value("AWS_ENDPOINT_URL") == {s3_emulator.env["AWS_ENDPOINT_URL"]}
    assert executor_value("FSREG_SPARK_TEST_VAR") == {"<unset>"}
    # spark.executorEnv.* reaches Python workers (the fixture keeps their cache in tmp).
    cache = spark.conf.get("spark.executorEnv.FSREG_MODEL_CACHE")
    assert executor_value("FSREG_MODEL_CACHE") == {cache}
    assert any(Path(cache).iterdir())  # the S3 model was downloaded there, not to ~/.cache
    extra = {"FSREG_SPARK_TEST_VAR": "from-extra-env"}
    assert executor_value("FSREG_SPARK_TEST_VAR", extra_env=extra) == {"from-extra-env"}
    # Set only while the UDF's tasks run: the next UDF's tasks do not see it.
    assert executor_value("FSREG_SPARK_TEST_VAR") == {"<unset>"}


def test_import_does_not_load_pyspark() -> None:
    code = "import sys, fsregistry.pyfunc; print('pyspark' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "False"


# -- a cluster: executors in their own JVM and processes ---------------------------------------

CLUSTER_SCRIPT = r"""
import json, os, sys

import pandas as pd
from pyspark.sql import SparkSession

import fsregistry
from fsregistry import pyfunc

models, executor_cache, data = json.loads(sys.argv[1])
spark = (
    SparkSession.builder.master("local-cluster[1,1,1024]")
    .config("spark.ui.enabled", "false")
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.driver.bindAddress", "127.0.0.1")
    .config("spark.executorEnv.FSREG_MODEL_CACHE", executor_cache)
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
df = spark.createDataFrame(pd.DataFrame(data))
result = {}
for label, store, uri in models:
    fsregistry.set_tracking_uri(store)
    fsregistry.set_registry_uri(store)
    udf = pyfunc.spark_udf(spark, uri, result_type="double")
    if label == "local":
        # Executors can only get this model from the archive the driver shipped.
        os.rename(store, store + ".moved")
    got = df.withColumn("out", udf()).select("id", "out").collect()
    result[label] = [r["out"] for r in sorted(got, key=lambda r: r["id"])]
print("RESULT " + json.dumps(result), flush=True)
spark.stop()
"""


@pytest.mark.parametrize("backend", ["s3"], indirect=True)
def test_local_cluster(tracking: str, tmp_path: Path) -> None:
    """Executors in their own JVM and Python processes (``local-cluster``): a model in a local
    store is shipped to them by the driver; a model in S3 is read from S3 by the executors."""
    s3_uri = log_sklearn("clusterclf")
    local_store = str(tmp_path / "local-store")
    fsregistry.set_tracking_uri(local_store)
    fsregistry.set_registry_uri(local_store)
    fsregistry.fluent._active_experiment_id = None
    local_uri = log_sklearn("clusterclf")
    data = with_id(rows(30))
    expected = [float(v) for v in pyfunc.load_model(local_uri).predict(data)]
    executor_cache = tmp_path / "executor-cache"
    arg = [
        [["s3", tracking, s3_uri], ["local", local_store, local_uri]],
        str(executor_cache),
        data.to_dict(orient="list"),
    ]
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
    proc = subprocess.run(
        [sys.executable, "-c", CLUSTER_SCRIPT, json.dumps(arg)],
        capture_output=True,
        text=True,
        env=env,
        timeout=400,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, proc.stdout[-2000:] + proc.stderr[-6000:]
    result = json.loads(lines[0][len("RESULT ") :])
    assert result == {"s3": expected, "local": expected}
    # The S3 model was downloaded by the executor (spark_udf on the driver downloads nothing).
    assert any(executor_cache.iterdir())
