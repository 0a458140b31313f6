"""``fsregistry.data``: datasets with MLflow 3.17's digests, schemas, profiles and sources,
logged with ``log_input`` on every backend, and read both ways with real MLflow."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import fsregistry
from fsreg_testing.flavors import needs_java
from fsreg_testing.mlflow_env import run_mlflow
from fsregistry import Client
from fsregistry.data import sources
from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist

ROOT = Path(__file__).resolve().parent.parent

# The same script runs under MLflow 3.17.2 (``import mlflow.data as D``) and here
# (``fsregistry.data``): every dataset's to_dict() must be equal.
DATASETS = r"""
import json, numpy as np, pandas as pd, warnings
warnings.simplefilter("ignore")

def build(D):
    rng = np.random.default_rng(0)
    frames = {
        "ints": pd.DataFrame({"a": [1, 2, 3], "b": [4, 5, 6]}),
        "mixed": pd.DataFrame({"x": [1.5, np.nan, 3.0], "s": ["a", "b", "c"], "i": [1, 2, 3],
                               "bo": [True, False, True]}),
        "str_none": pd.DataFrame({"s": ["a", None, "c"], "f": [0.1, 0.2, 0.3]}),
        "dates": pd.DataFrame({"d": pd.date_range("2020-01-01", periods=4), "v": [1, 2, 3, 4]}),
        "big": pd.DataFrame({"u": rng.normal(size=25000), "k": rng.integers(0, 9, size=25000),
                             "t": ["r%d" % i for i in range(25000)]}),
        "big_tail_nan": pd.DataFrame({"t": ["r"] * 10500 + [None] * 10, "n": range(10510)}),
        "objmix": pd.DataFrame({"m": [1, "a", 2.0], "n": [1, 2, 3]}),
        "int_label": pd.DataFrame({1: [1.0, 2.0], "c": [3, 4]}),
        "empty": pd.DataFrame({"a": pd.Series([], dtype="float64")}),
    }
    out = {}
    for k, df in frames.items():
        out["pandas/" + k] = D.from_pandas(df, source="data/%s.csv" % k, name=k).to_dict()
    out["pandas/targets"] = D.from_pandas(
        frames["mixed"], source="s3://b/m.parquet", targets="i", predictions="x").to_dict()
    arrays = {
        "floats": (rng.normal(size=(30, 4)), rng.integers(0, 2, size=30)),
        "big": (rng.normal(size=(5000, 3)), None),
        "dict": ({"b": rng.normal(size=(5, 2)), "a": np.arange(5)}, np.arange(5)),
        "str": (np.array(["a", "b", "c"]), None),
        "object": (np.array([{"a": 1}, None], dtype=object), None),
        "dates": (np.array(["2020-01-01", "2021-02-03"], dtype="datetime64[ns]"), None),
    }
    for k, (f, t) in arrays.items():
        out["numpy/" + k] = D.from_numpy(f, targets=t, source="gs://b/%s" % k, name=k).to_dict()
    for src in ["https://x/y.csv", "http://h/p", "gs://b/k", "s3://b/k", "file:///tmp/x",
                "/abs/p", "rel/p.csv", "abfss://a@b/c", "hdfs://nn/p", "my.table"]:
        s = D.from_pandas(frames["ints"], source=src).source
        out["source/" + src] = [type(s).__name__, s._get_source_type(), s.to_json()]
    return out
"""


def _ours() -> Any:
    scope: dict[str, Any] = {}
    exec(DATASETS, scope)
    return json.loads(json.dumps(scope["build"](fsregistry.data)))


@pytest.mark.mlflow
def test_digests_schemas_profiles_and_sources_equal_mlflow(tmp_path: Path) -> None:
    theirs = run_mlflow(
        "3.17.2",
        DATASETS + "\nimport mlflow.data\nprint(json.dumps(build(mlflow.data)))\n",
        cwd=tmp_path,
    )
    ours = _ours()
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        assert ours[key] == theirs[key], key


def test_code_source_is_the_run_context() -> None:
    ds = fsregistry.data.from_pandas(pd.DataFrame({"a": [1]}))
    assert ds.source._get_source_type() == "code"
    tags = ds.source.to_dict()["tags"]
    assert tags["mlflow.source.type"] == "LOCAL" and "mlflow.user" in tags
    assert ds.name == "dataset"


def test_constructor_errors() -> None:
    df = pd.DataFrame({"a": [1]})
    with pytest.raises(InvalidParameterValue, match="targets column 'y'"):
        fsregistry.data.from_pandas(df, targets="y")
    with pytest.raises(InvalidParameterValue, match="predictions column 'p'"):
        fsregistry.data.from_pandas(df, predictions="p")
    with pytest.raises(ResourceDoesNotExist, match="dbfs:/x"):
        fsregistry.data.from_pandas(df, source="dbfs:/x")
    with pytest.raises(ResourceDoesNotExist, match="runs:/r/x"):
        fsregistry.data.from_numpy(np.arange(3), source="runs:/r/x")
    with pytest.raises(InvalidParameterValue, match="exactly one"):
        sources.SparkDatasetSource()
    with pytest.raises(InvalidParameterValue, match="Unrecognized dataset type"):
        fsregistry.data.get_source("not a dataset")


def test_log_input_records_the_dataset(store_url: str) -> None:
    fsregistry.set_tracking_uri(store_url)
    df = pd.DataFrame({"x": [1.0, 2.0, np.nan], "y": ["a", "b", "c"]})
    ds = fsregistry.data.from_pandas(df, source="s3://bucket/train.csv", name="train", targets="y")
    arrays = fsregistry.data.from_numpy(np.ones((4, 2)), targets=np.arange(4), name="arr")
    with fsregistry.start_run() as run:
        fsregistry.log_input(ds, context="training", tags={"split": "a"})
        fsregistry.log_input(arrays)
    got = Client().get_run(run.info.run_id).inputs.dataset_inputs
    by_name = {d.dataset.name: d for d in got}
    assert set(by_name) == {"train", "arr"}
    train = by_name["train"]
    expected = ds.to_dict()
    assert (
        train.dataset.name,
        train.dataset.digest,
        train.dataset.source_type,
        train.dataset.source,
        train.dataset.schema,
        train.dataset.profile,
    ) == tuple(
        expected[k] for k in ("name", "digest", "source_type", "source", "schema", "profile")
    )
    assert {(t.key, t.value) for t in train.tags} == {
        ("mlflow.data.context", "training"),
        ("split", "a"),
    }
    source = fsregistry.data.get_source(train)
    assert isinstance(source, sources.S3ArtifactDatasetSource)
    assert source.uri == "s3://bucket/train.csv"
    assert fsregistry.data.get_source(by_name["arr"].dataset)._get_source_type() == "code"


def test_log_input_refuses_what_it_cannot_record(tmp_path: Path) -> None:
    fsregistry.set_tracking_uri(str(tmp_path / "mlruns"))
    with fsregistry.start_run() as run:
        with pytest.raises(InvalidParameterValue, match="LoggedModel"):
            fsregistry.log_input(model=object())
        with pytest.raises(InvalidParameterValue, match="dataset"):
            fsregistry.log_input({"name": "x"})
    assert Client().get_run(run.info.run_id).inputs.dataset_inputs == []


WRITE_WITH_MLFLOW = r"""
import json, numpy as np, pandas as pd, mlflow
mlflow.set_tracking_uri("file:./mlruns")
mlflow.set_experiment("by-mlflow")
df = pd.DataFrame({"a": [1, 2, 3], "s": ["x", "y", "z"]})
with mlflow.start_run() as run:
    mlflow.log_input(mlflow.data.from_pandas(df, source="https://h/d.csv", name="web"),
                     context="eval")
    mlflow.log_input(mlflow.data.from_numpy(np.arange(6).reshape(3, 2), source="/data/x.npy"))
print(json.dumps(run.info.run_id))
"""

READ_BACK = r"""
def dump(client, run_id, get_source):
    out = []
    for d in client.get_run(run_id).inputs.dataset_inputs:
        ds = d.dataset
        src = get_source(d)
        out.append([ds.name, ds.digest, ds.source_type, ds.source, ds.schema, ds.profile,
                    sorted([t.key, t.value] for t in d.tags), type(src).__name__, src.to_dict()])
    return sorted(out)
"""


def test_fsregistry_reads_datasets_mlflow_logged(tmp_path: Path) -> None:
    run_id = run_mlflow("3.17.2", WRITE_WITH_MLFLOW, cwd=tmp_path)
    theirs = run_mlflow(
        "3.17.2",
        READ_BACK + "import mlflow, json\nmlflow.set_tracking_uri('file:./mlruns')\n"
        f"print(json.dumps(dump(mlflow.MlflowClient(), {run_id!r}, mlflow.data.get_source)))\n",
        cwd=tmp_path,
    )
    scope: dict[str, Any] = {}
    exec(READ_BACK, scope)
    ours = scope["dump"](
        Client(tracking_uri=str(tmp_path / "mlruns")), run_id, fsregistry.data.get_source
    )
    assert json.loads(json.dumps(ours)) == theirs
    assert len(ours) == 2


@pytest.mark.parametrize("version", ["2.22.5", "3.17.2"])
@pytest.mark.mlflow
def test_mlflow_reads_datasets_fsregistry_logged(tmp_path: Path, version: str) -> None:
    fsregistry.set_tracking_uri(str(tmp_path / "mlruns"))
    fsregistry.set_experiment("by-fsregistry")
    df = pd.DataFrame({"a": [1.5, 2.5], "d": pd.to_datetime(["2020-01-01", "2021-01-01"])})
    with fsregistry.start_run() as run:
        fsregistry.log_input(
            fsregistry.data.from_pandas(df, source="gs://b/p.parquet", name="p", targets="a"),
            context="training",
        )
        fsregistry.log_input(fsregistry.data.from_numpy(np.eye(3), targets=np.arange(3)))
    scope: dict[str, Any] = {}
    exec(READ_BACK, scope)
    ours = scope["dump"](Client(), run.info.run_id, fsregistry.data.get_source)
    theirs = run_mlflow(
        version,
        READ_BACK + "import mlflow, json\nmlflow.set_tracking_uri('file:./mlruns')\n"
        "print(json.dumps(dump(mlflow.MlflowClient(), "
        f"{run.info.run_id!r}, mlflow.data.get_source)))\n",
        cwd=tmp_path,
    )
    assert json.loads(json.dumps(ours)) == theirs
    assert [d[0] for d in theirs] == ["dataset", "p"]


def test_import_loads_no_pandas() -> None:
    code = (
        "import sys, fsregistry, fsregistry.data, fsregistry.data.sources\n"
        "fsregistry.data.from_pandas\n"
        "print(sorted(m for m in ('pandas', 'numpy', 'pyspark') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert out.stdout.strip() == "[]"


# -- Spark (local mode) ---------------------------------------------------------------------
@needs_java
@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
@pytest.mark.mlflow
def test_spark_dataset(spark: Any, tmp_path: Path) -> None:
    import datetime as dt

    df = spark.createDataFrame(
        [(1, 2.5, "a", True, dt.date(2020, 1, 1), [1, 2]), (2, 3.5, "b", False, None, [3])],
        "i long, f double, s string, b boolean, d date, arr array<int>",
    )
    assert df.count() == 2  # warm the executors up before the timed approximate count
    ds = fsregistry.data.from_spark(df, table_name="db.tbl", name="sp", targets="f")
    d = ds.to_dict()
    assert d["source_type"] == "spark" and json.loads(d["source"]) == {"table_name": "db.tbl"}
    # Spark's approximate count answers what it has after 5 s (MLflow's timeout): on a busy
    # machine that can be nothing yet, which MLflow records as "unknown" too.
    assert json.loads(d["profile"]) in ({"approx_count": 2}, {"approx_count": "unknown"})
    assert json.loads(d["schema"]) == {
        "mlflow_colspec": [
            {"type": "long", "name": "i", "required": True},
            {"type": "double", "name": "f", "required": True},
            {"type": "string", "name": "s", "required": True},
            {"type": "boolean", "name": "b", "required": True},
            {"type": "datetime", "name": "d", "required": True},
            {"type": "array", "items": {"type": "integer"}, "name": "arr", "required": True},
        ]
    }
    # MLflow's digest of the same semantic hash.
    theirs = run_mlflow(
        "3.17.2",
        "import json, numpy as np\nfrom mlflow.data.digest_utils import get_normalized_md5_digest\n"
        f"print(json.dumps(get_normalized_md5_digest([np.int64({df.semanticHash()})])))\n",
        cwd=tmp_path,
    )
    assert ds.digest == theirs
    assert fsregistry.data.from_spark(df, sql="SELECT 1").source.to_dict() == {"sql": "SELECT 1"}
    assert fsregistry.data.from_spark(df).source._get_source_type() == "code"
    with pytest.raises(InvalidParameterValue, match="at most one"):
        fsregistry.data.from_spark(df, path="/p", sql="SELECT 1")
    with pytest.raises(InvalidParameterValue, match="does not refer"):
        fsregistry.data.from_spark(df, path=str(tmp_path), version="1")
