"""``fsregistry.pyfunc.spark_udf`` on a real local Spark (Java 17), with models in a local store,
the S3 emulator and the GCS emulator; every UDF result is compared with ``load_model(uri)
.predict`` on the same rows.

One SparkSession per xdist worker (``local[2]``; JVM start-up is ~15 s). It is started after
the S3 emulator, so executors inherit its credentials the way cluster executors have their own;
endpoints reach them because spark_udf forwards the driver's. Custom models live in a module
written to a temporary directory and saved with ``code_paths``, so executors import it from
the model, as on a cluster. ``test_local_cluster`` runs a separate ``local-cluster`` Spark (a
master, a worker and an executor JVM of their own) in a subprocess: the driver-local model is
shipped with ``addArchive`` and the bucket model is read from S3 by the executor.
"""

# Fixtures come from fsreg_testing.models (imported by name), so pytest's argument names shadow
# them: that is how pytest fixtures are shared without a conftest.
# ruff: noqa: F811

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import fsregistry
from fsreg_testing.models import local_tracking, model_cache, tracking  # noqa: F401 - fixtures
from fsregistry import pyfunc
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models import ColSpec, ModelSignature, Schema, infer_signature

ROOT = Path(__file__).resolve().parent.parent


def _java_available() -> bool:
    home = os.environ.get("JAVA_HOME")
    return shutil.which("java") is not None or bool(home and Path(home, "bin", "java").exists())


pytestmark = [
    pytest.mark.skipif(
        not _java_available(), reason="Spark needs a Java runtime: no java on PATH or JAVA_HOME"
    ),
    # pyspark 4.x on pandas 3 warns about itself.
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

MODELS_MODULE = "fsreg_spark_test_models"
MODELS_SOURCE = '''
"""Custom models for tests/test_spark_udf.py (shipped to executors with code_paths)."""
import os

import numpy as np
import pandas as pd

from fsregistry.pyfunc import PythonModel


def _append(var, text):
    path = os.environ.get(var)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text + "\\n")


class Proba(PythonModel):
    """predict_proba-like: a list [p(0), p(1)] per row."""

    def predict(self, context, model_input, params=None):
        p = 1.0 / (1.0 + np.exp(-model_input["f1"].to_numpy(dtype=float)))
        return [[float(1.0 - v), float(v)] for v in p]


class Matrix(PythonModel):
    """A 2-D numpy result (n x 3) and a 3-D one when asked for (n x 2 x 2)."""

    def predict(self, context, model_input, params=None):
        x = model_input["f1"].to_numpy(dtype=float)
        if (params or {}).get("nested"):
            return np.stack([np.stack([x, x + 1]), np.stack([x + 2, x + 3])]).transpose(2, 0, 1)
        return np.stack([x, 2 * x, 3 * x], axis=1)


class Label(PythonModel):
    def predict(self, context, model_input, params=None):
        return ["high" if v > 0.5 else "low" for v in model_input["f1"]]


class Frame(PythonModel):
    """A DataFrame prediction: label, score, rank, flag and a list column."""

    def predict(self, context, model_input, params=None):
        f1 = model_input["f1"].to_numpy(dtype=float)
        return pd.DataFrame(
            {
                "label": ["high" if v > 0.5 else "low" for v in f1],
                "score": f1 * 2.0,
                "rank": model_input["f2"].to_numpy(dtype="int64") + 1,
                "flag": f1 > 0.5,
                "pair": [[float(v), float(v) + 1.0] for v in f1],
            }
        )


class Pids(PythonModel):
    """Logs the pid to $FSREG_TEST_LOAD_LOG on load, and to $FSREG_TEST_BATCH_LOG per batch."""

    def load_context(self, context):
        _append("FSREG_TEST_LOAD_LOG", str(os.getpid()))

    def predict(self, context, model_input, params=None):
        _append("FSREG_TEST_BATCH_LOG", f"{os.getpid()} {len(model_input)}")
        return model_input["f1"] * 0 + os.getpid()


class Env(PythonModel):
    """The executor's value of the environment variable named by the ``var`` param."""

    def predict(self, context, model_input, params=None):
        name = (params or {}).get("var", "HOME")
        return [os.environ.get(name, "<unset>")] * len(model_input)
'''


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def models_module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The custom models module, importable here and saved into each model's code/."""
    directory = tmp_path_factory.mktemp("spark-models")
    (directory / f"{MODELS_MODULE}.py").write_text(MODELS_SOURCE, encoding="utf-8")
    sys.path.insert(0, str(directory))
    try:
        yield importlib.import_module(MODELS_MODULE)
    finally:
        sys.path.remove(str(directory))
        sys.modules.pop(MODELS_MODULE, None)


@pytest.fixture(scope="session")
def spark(s3_emulator: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A local[2] SparkSession for this xdist worker (Python workers run this venv)."""
    from pyspark.sql import SparkSession

    mp = pytest.MonkeyPatch()
    mp.setenv("PYSPARK_PYTHON", sys.executable)
    mp.setenv("SPARK_LOCAL_IP", "127.0.0.1")
    executor_cache = tmp_path_factory.mktemp("executor-model-cache")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("fsregistry-spark-udf-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.shuffle.partitions", "2")
        # Executors' model downloads stay out of ~/.cache.
        .config("spark.executorEnv.FSREG_MODEL_CACHE", str(executor_cache))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()
        mp.undo()


def rows(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {"f1": rng.uniform(-1.0, 2.0, n).round(6), "f2": rng.integers(0, 2, n).astype("int64")}
    )


def train() -> Any:
    from sklearn.linear_model import LogisticRegression

    data = rows(40)
    return LogisticRegression(C=0.5).fit(data, (data["f1"] > 0.5).astype(int))


def log_sklearn(name: str = "clf") -> str:
    """A scikit-learn classifier (signature f1 double, f2 long) registered as ``name`` v1 with
    alias champion; returns ``models:/<name>@champion``."""
    from fsregistry import sklearn as fsk

    with fsregistry.start_run():
        fsk.log_model(train(), name="model", registered_model_name=name, input_example=rows(3))
    fsregistry.Client().set_registered_model_alias(name, "champion", "1")
    return f"models:/{name}@champion"


def log_custom(model: Any, module: Any, **kwargs: Any) -> str:
    """Log a custom model with the models module in its code/; returns its runs:/ URI."""
    with fsregistry.start_run():
        info = pyfunc.log_model(
            name="model", python_model=model, code_paths=[module.__file__], **kwargs
        )
    return info.model_uri


def spark_rows(spark: Any, data: pd.DataFrame) -> Any:
    """``data`` as a Spark DataFrame (2 partitions: both Python workers score)."""
    return spark.createDataFrame(data)


def collect(df: Any, column: str = "out") -> list[Any]:
    """``column`` of ``df`` in the order of its ``id`` column (sorted here: no shuffle)."""
    got = df.select("id", column).collect()
    return [r[column] for r in sorted(got, key=lambda r: r["id"])]


def score(df: Any, **columns: Any) -> tuple[dict[str, list[Any]], dict[str, str]]:
    """Each UDF column over ``df``, in the order of ``df``'s ``id``, and each one's Spark type.

    One query per column: UDFs chained in one select each get Python workers of their own,
    which costs more start-ups than separate queries that reuse the same workers.
    """
    values, types = {}, {}
    for name, column in columns.items():
        query = df.select("id", column.alias(name))
        types[name] = query.schema[name].dataType.simpleString()
        values[name] = [r[name] for r in sorted(query.collect(), key=lambda r: r["id"])]
    return values, types


def collect_struct(df: Any, column: str = "out") -> pd.DataFrame:
    got = df.select("id", f"{column}.*").toPandas()
    return got.sort_values("id").reset_index(drop=True)


def with_id(data: pd.DataFrame) -> pd.DataFrame:
    return data.assign(id=np.arange(len(data)))


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
