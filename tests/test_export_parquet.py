"""``fsreg export --format parquet -o DIR``: the tables read back with pandas say what
``search_runs``, ``get_metric_history`` and the registry's searches say about the store."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from fsreg_testing.export import populate
from fsregistry import Client
from fsregistry.export import export_parquet
from fsregistry.export.parquet import SCHEMA


def _v(x: Any) -> Any:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "nan-or-null"
    return x


def test_parquet_tables_match_the_store(store_url: str, tmp_path: Path) -> None:
    populate(store_url)
    out = tmp_path / "pq"
    counts = export_parquet(store_url, out)
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.parquet" for t in SCHEMA)
    tables = {t: pd.read_parquet(out / f"{t}.parquet") for t in SCHEMA}
    assert {t: len(df) for t, df in tables.items()} == counts
    for t, df in tables.items():
        assert list(df.columns) == [c for c, _, _ in SCHEMA[t]]

    c = Client(store_url)
    exps = c.search_experiments(view_type=3)
    runs = c.search_runs([e.experiment_id for e in exps], run_view_type=3)
    assert len(runs) == 5
    assert sorted(tables["experiments"]["experiment_id"]) == sorted(e.experiment_id for e in exps)
    rt = tables["runs"].set_index("run_id")
    for r in runs:
        row = rt.loc[r.info.run_id]
        assert row["experiment_id"] == r.info.experiment_id
        assert row["status"] == r.info.status
        assert row["lifecycle_stage"] == r.info.lifecycle_stage
        assert row["start_time"] == r.info.start_time
        assert row["artifact_uri"] == r.info.artifact_uri
        rid = r.info.run_id
        for table, expected in (("params", r.data.params), ("tags", r.data.tags)):
            df = tables[table]
            got = dict(df[df.run_id == rid][["key", "value"]].itertuples(index=False))
            assert got == expected
        lm = tables["latest_metrics"]
        got = {k: _v(v) for k, v in lm[lm.run_id == rid][["key", "value"]].itertuples(index=False)}
        assert got == {k: _v(v) for k, v in r.data.metrics.items()}
        hist = tables["metrics"]
        for key in r.data.metrics:
            rows = hist[(hist.run_id == rid) & (hist.key == key)]
            got_h = sorted(
                (int(s), int(t), repr(float(v))) for _, _, v, s, t in rows.itertuples(index=False)
            )
            want = sorted(
                (m.step, m.timestamp, repr(float(m.value))) for m in c.get_metric_history(rid, key)
            )
            assert got_h == want

    versions = c.search_model_versions("name='churn'")
    mv = tables["model_versions"]
    assert sorted(mv["version"]) == sorted(int(v.version) for v in versions) == [1, 2]
    for v in versions:
        row = mv[(mv.name == "churn") & (mv.version == int(v.version))].iloc[0]
        assert row["current_stage"] == v.current_stage
        assert row["source"] == v.source
        assert row["run_id"] == v.run_id
    aliases = tables["aliases"]
    assert list(aliases.itertuples(index=False, name=None)) == [("churn", "champion", 2)]
    assert sorted(tables["registered_models"]["name"]) == ["churn", "empty-model"]


def test_parquet_cli_json_and_rerun_replaces(tmp_path: Path) -> None:
    store = str(tmp_path / "mlruns")
    populate(store)
    out = tmp_path / "pq"
    fsreg = shutil.which("fsreg", path=os.path.dirname(sys.executable)) or "fsreg"
    cmd = [fsreg, "export", "-t", store]
    proc = subprocess.run(
        [*cmd, "--format", "parquet", "-o", str(out), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    first = json.loads(proc.stdout)
    assert first["tables"]["runs"] == 5
    assert first["tables"]["metrics"] == 28
    again = subprocess.run(
        [*cmd, "-o", str(out), "--json"], capture_output=True, text=True, check=True
    )
    assert json.loads(again.stdout) == first
    # No temporary file is left beside the tables.
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.parquet" for t in SCHEMA)


def test_parquet_failure_leaves_no_partial_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = str(tmp_path / "mlruns")
    populate(store)
    out = tmp_path / "pq"
    export_parquet(store, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    Client(store).create_experiment("one-more")

    from fsregistry.export import source

    def broken(self: Any, run_id: str) -> Any:
        raise OSError("disk gone")

    monkeypatch.setattr(source.StoreSource, "run", broken)
    from fsregistry.exceptions import StorageError

    with pytest.raises(StorageError, match="disk gone"):
        export_parquet(store, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
