"""Rows per second of ``fsregistry.pyfunc.spark_udf`` in Spark local mode, next to plain
``predict`` on the same rows.

    .venv/bin/python bench/spark.py [--rows 1000000] [--master local[2]] [--batch 10000]
                                    [--json FILE]

Trains a LogisticRegression (4 features), logs and registers it in a temporary local store,
starts a SparkSession (``--master``, default ``local[2]``: both cores), and scores ``--rows``
rows generated inside Spark from ``spark.range`` through ``spark_udf(spark,
"models:/bench-spark-clf/1", "double")``, summing the predictions so nothing is collected
row by row. A warm-up pass over a few rows first starts the Python workers and loads the
model (once per worker), so the timed pass is steady-state scoring; the warm-up time is
printed too. The same rows, built with numpy on the driver, are then scored by
``load_model(uri).predict`` in one call and in ``--batch``-row batches (Spark's Arrow batch
size), on one core. Both sums must equal, or the exit status is 1. Needs ``pip install
'fsregistry[spark]'`` and Java 17+; runs in about a minute with the defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from typing import Any

import numpy as np
import pandas as pd

FEATURES = ("f1", "f2", "f3", "f4")
MODEL_NAME = "bench-spark-clf"


def features(ids: np.ndarray) -> pd.DataFrame:
    """The rows for ids (the same formulas as :func:`spark_features`)."""
    return pd.DataFrame(
        {
            "f1": (ids % 1000) / 250.0 - 2.0,
            "f2": (ids % 7) * 1.0,
            "f3": ((ids * 31) % 101) / 50.0 - 1.0,
            "f4": (ids % 2).astype("int64"),
        }
    )


def spark_features(spark: Any, rows: int) -> Any:
    from pyspark.sql.functions import col

    ident = col("id")
    return spark.range(rows).select(
        ((ident % 1000) / 250.0 - 2.0).alias("f1"),
        ((ident % 7) * 1.0).alias("f2"),
        (((ident * 31) % 101) / 50.0 - 1.0).alias("f3"),
        (ident % 2).alias("f4"),
    )


def _passthrough(f1: pd.Series, f4: pd.Series) -> pd.Series:
    return f1 * 0.0 + f4


def log_model(store: str) -> str:
    from sklearn.linear_model import LogisticRegression

    import fsregistry
    from fsregistry import sklearn as fsk

    fsregistry.set_tracking_uri(store)
    fsregistry.set_registry_uri(store)
    train = features(np.arange(2000))
    labels = (train["f1"] + 0.5 * train["f3"] - 0.2 * train["f2"] > 0).astype(int)
    model = LogisticRegression().fit(train, labels)
    with fsregistry.start_run():
        fsk.log_model(
            model, name="model", registered_model_name=MODEL_NAME, input_example=train[:3]
        )
    return f"models:/{MODEL_NAME}/1"


def bench_spark(uri: str, rows: int, master: str, batch: int) -> dict[str, Any]:
    from pyspark.sql import SparkSession
    from pyspark.sql.functions import sum as sum_
    from pyspark.sql.pandas.functions import pandas_udf

    from fsregistry import pyfunc

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    t0 = time.perf_counter()
    spark = (
        SparkSession.builder.master(master)
        .appName("fsregistry-bench-spark")
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch))
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    session_s = time.perf_counter() - t0
    try:
        parallelism = spark.sparkContext.defaultParallelism
        udf = pyfunc.spark_udf(spark, uri, result_type="double")
        t0 = time.perf_counter()
        # As many warm-up tasks as the timed pass has at once: every Python worker starts and
        # loads the model here.
        warm = spark_features(spark, parallelism * 100).repartition(parallelism)
        warm.select(sum_(udf()).alias("s")).collect()
        warmup_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        total = spark_features(spark, rows).select(sum_(udf()).alias("s")).collect()[0]["s"]
        scoring_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        baseline = spark_features(spark, rows).select(sum_("f4").alias("s")).collect()[0]["s"]
        generate_s = time.perf_counter() - t0
        # Spark's own cost of a pandas UDF (Arrow to Python and back), with no model.
        passthrough = pandas_udf(_passthrough, "double")  # type: ignore[call-overload]
        spark_features(spark, rows).select(sum_(passthrough("f1", "f4"))).collect()
        t0 = time.perf_counter()
        spark_features(spark, rows).select(sum_(passthrough("f1", "f4"))).collect()
        passthrough_s = time.perf_counter() - t0
    finally:
        spark.stop()
    return {
        "master": master,
        "parallelism": parallelism,
        "session_start_s": session_s,
        "warmup_s": warmup_s,
        "scoring_s": scoring_s,
        "rows_per_s": rows / scoring_s,
        "generate_only_s": generate_s,
        "passthrough_udf_s": passthrough_s,
        "passthrough_rows_per_s": rows / passthrough_s,
        "generate_check": int(baseline),
        "sum": float(total),
    }


def bench_predict(uri: str, rows: int, batch: int) -> dict[str, Any]:
    from fsregistry import pyfunc

    model = pyfunc.load_model(uri)
    data = features(np.arange(rows))
    t0 = time.perf_counter()
    whole = model.predict(data)
    whole_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    parts = [model.predict(data.iloc[i : i + batch]) for i in range(0, rows, batch)]
    batched_s = time.perf_counter() - t0
    batched = np.concatenate([np.asarray(p) for p in parts])
    return {
        "one_call_s": whole_s,
        "one_call_rows_per_s": rows / whole_s,
        "batched_s": batched_s,
        "batched_rows_per_s": rows / batched_s,
        "sum": float(np.asarray(whole, dtype=float).sum()),
        "batched_sum": float(batched.astype(float).sum()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--batch", type=int, default=10_000, help="Arrow batch size (rows)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args(argv)

    workdir = tempfile.mkdtemp(prefix="fsreg-bench-spark-")
    os.environ["FSREG_MODEL_CACHE"] = os.path.join(workdir, "cache")
    try:
        uri = log_model(os.path.join(workdir, "mlruns"))
        spark = bench_spark(uri, args.rows, args.master, args.batch)
        plain = bench_predict(uri, args.rows, args.batch)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    ok = spark["sum"] == plain["sum"] == plain["batched_sum"]
    rows = f"{args.rows:,}"
    print(
        f"fsregistry spark_udf benchmark: {rows} rows, {platform.processor() or 'cpu'}, "
        f"{os.cpu_count()} cores, Spark {args.master} (parallelism {spark['parallelism']})"
    )
    print(f"  Spark session start           {spark['session_start_s']:8.2f} s")
    print(f"  warm-up (workers + model load) {spark['warmup_s']:7.2f} s")
    print(
        f"  spark_udf scoring             {spark['scoring_s']:8.2f} s  "
        f"{spark['rows_per_s']:>12,.0f} rows/s"
    )
    print(f"  (same rows, no UDF)           {spark['generate_only_s']:8.2f} s")
    print(
        f"  (pandas UDF, no model)        {spark['passthrough_udf_s']:8.2f} s  "
        f"{spark['passthrough_rows_per_s']:>12,.0f} rows/s"
    )
    print(
        f"  predict, one call (1 core)    {plain['one_call_s']:8.2f} s  "
        f"{plain['one_call_rows_per_s']:>12,.0f} rows/s"
    )
    print(
        f"  predict, {args.batch:,}-row batches    {plain['batched_s']:8.2f} s  "
        f"{plain['batched_rows_per_s']:>12,.0f} rows/s"
    )
    print(f"  sums equal: {ok} (spark {spark['sum']:.0f}, predict {plain['sum']:.0f})")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"rows": args.rows, "spark": spark, "predict": plain, "ok": ok}, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
