"""``fsregistry.spark.read_runs`` / ``read_metric_histories`` (issue 24, "Beyond one
machine"): a store's runs as Spark DataFrames, read by the executors of a local-mode Spark
session from the store's URL and storage options, compared with ``search_runs``' own answers
on local disk, S3 and GCS."""

from __future__ import annotations

import math
import subprocess
import sys
from typing import Any

import pytest

import fsregistry
from fsreg_testing.flavors import needs_java
from fsregistry.entities import Metric, ViewType

pytest.importorskip("pyspark", reason="fsregistry[spark] is part of the test extra")

pytestmark = [
    needs_java,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]


def _options(backend: str, request: pytest.FixtureRequest) -> dict[str, Any] | None:
    """The storage options the executors get (explicit, as a cluster would need them)."""
    if backend == "local":
        return None
    emu = request.getfixturevalue(f"{backend}_emulator")
    if backend == "s3":
        return {"endpoint_url": emu.url, "key": "testing", "secret": "testing"}
    return {"endpoint_url": emu.url, "token": "anon"}


def _populate(url: str) -> tuple[str, str]:
    client = fsregistry.Client(tracking_uri=url)
    a = client.create_experiment("spark-a")
    b = client.create_experiment("spark-b")
    for i in range(7):
        exp = a if i % 2 else b
        run = client.create_run(exp, run_name=f"r{i}", start_time=1_000 + i)
        rid = run.info.run_id
        client.log_batch(
            rid,
            metrics=[Metric("loss", 1.0 / (i + s + 1), 2_000 + s, s) for s in range(3)]
            + ([Metric("acc", float(i), 5, 0)] if i % 3 == 0 else []),
            params=[fsregistry.entities.Param("depth", str(i % 4))],
            tags=[fsregistry.entities.RunTag("team", "x" if i < 4 else "y")],
        )
        if i == 5:
            client.log_metric(rid, "nan", math.nan, 9, 0)
        if i == 6:
            client.delete_run(rid)
        else:
            client.set_terminated(rid, end_time=3_000 + i)
    return a, b


def _comparable(frame: Any) -> list[dict[str, Any]]:
    """Rows as plain dicts: times as epoch ms, NaN as None, in the frame's order."""
    import pandas as pd

    out = []
    for row in frame.to_dict("records"):
        clean = {}
        for key, value in row.items():
            if isinstance(value, pd.Timestamp):
                value = None if pd.isna(value) else round(value.timestamp() * 1000)
            elif (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
                value = None
            clean[key] = value
        out.append(clean)
    return out


@pytest.mark.parametrize(
    ("filter_string", "view"),
    [(None, ViewType.ACTIVE_ONLY), ("metrics.loss < 0.3 and tags.team = 'y'", ViewType.ALL)],
)
def test_read_runs_matches_search_runs(
    store_url: str,
    backend: str,
    request: pytest.FixtureRequest,
    spark: Any,
    filter_string: str | None,
    view: int,
) -> None:
    a, b = _populate(store_url)
    fsregistry.set_tracking_uri(store_url)
    expected = fsregistry.search_runs(
        [a, b, "404"], filter_string, run_view_type=view, output_format="pandas"
    )
    got = fsregistry.spark.read_runs(
        spark,
        store_url,
        [a, b, "404"],
        filter_string,
        view,
        storage_options=_options(backend, request),
        num_partitions=3,
    )
    from fsregistry.spark import runs as spark_runs

    source = spark_runs.Source(store_url, _options(backend, request), filter_string, view)
    tasks = spark_runs._tasks(spark, source, [a, b, "404"], 3)
    assert len(tasks) >= 3  # the runs are dealt out to several executor tasks
    assert sorted(r for t in tasks for r in t.run_ids) == sorted(
        r.info.run_id for r in fsregistry.search_runs([a, b], run_view_type=3, output_format="list")
    )
    frame = got.toPandas()
    assert list(frame.columns) == list(expected.columns)
    assert len(expected) == (6 if filter_string is None else 3)  # the deleted run too
    assert _comparable(frame) == _comparable(expected)


def test_read_metric_histories_matches_get_metric_history(
    store_url: str,
    backend: str,
    request: pytest.FixtureRequest,
    spark: Any,
) -> None:
    from fsregistry.export.parquet import SCHEMA

    a, b = _populate(store_url)
    client = fsregistry.Client(tracking_uri=store_url)
    runs = client.search_runs([a, b], "params.depth != '0'")
    expected = sorted(
        (r.info.run_id, key, m.value, m.step, m.timestamp)
        for r in runs
        for key in r.data.metrics
        for m in client.get_metric_history(r.info.run_id, key)
    )
    got = fsregistry.spark.read_metric_histories(
        spark,
        store_url,
        [a, b],
        "params.depth != '0'",
        storage_options=_options(backend, request),
        num_partitions=2,
    )
    assert got.columns == [name for name, _, _ in SCHEMA["metrics"]]
    rows = sorted(tuple(r) for r in got.collect())

    def same(x: tuple[Any, ...], y: tuple[Any, ...]) -> bool:
        return (
            x[:2] == y[:2]
            and x[3:] == y[3:]
            and (x[2] == y[2] or (math.isnan(x[2]) and math.isnan(y[2])))
        )

    assert len(rows) == len(expected) > 10
    assert all(same(x, y) for x, y in zip(rows, expected, strict=True))
    only = fsregistry.spark.read_metric_histories(
        spark, store_url, [a], metric_keys=["acc"], storage_options=_options(backend, request)
    )
    assert {r["key"] for r in only.collect()} == {"acc"}


def test_import_fsregistry_spark_imports_no_pyspark() -> None:
    code = "import sys, fsregistry.spark as s; s.read_runs; print('pyspark' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
