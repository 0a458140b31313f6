"""The benchmark harness (``bench/run.py``) in smoke mode, so it cannot rot.

Tiny sizes, every workload and tool (fsregistry, MLflow file store, MLflow SQLite store), on
local disk and on both bucket emulators behind the counting proxy (including the preloaded,
summarised search experiment). Asserts only that it completes and that every answer matched
the data written: no timing asserts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.mlflow, pytest.mark.slow]


class Smoke(NamedTuple):
    """What a benchmark script in smoke mode wrote to ``--json``, and what it printed."""

    data: Any
    stdout: str


def _run_bench(script: str, tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Smoke:
    """Run ``bench/<script> --smoke`` with ``args``, its JSON results and work files in
    ``tmp_path``; it must succeed."""
    results = tmp_path / "results.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / script),
            "--smoke",
            *args,
            "--json",
            str(results),
            "--workdir",
            str(tmp_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-4000:]}\nstderr:\n{proc.stderr[-8000:]}"
    return Smoke(json.loads(results.read_text()), proc.stdout)


def test_bench_smoke(tmp_path: Path) -> None:
    report = tmp_path / "RESULTS.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STORAGE_EMULATOR"))}
    data = _run_bench("run.py", tmp_path, "--out", str(report), env=env).data
    checks = data["checks"]
    failed = [c for c in checks if c["counts"] and not c["ok"]]
    assert not failed, failed
    tools = {c["tool"] for c in checks if c["ok"]}
    assert {"fsreg", "mlflow-file", "mlflow-sqlite"} <= tools
    backends = set(data["runs"])
    assert {"local", "s3", "gcs"} <= backends
    # Every workload ran for fsregistry (registry lines when the registry exists).
    local = data["runs"]["local"]["fsreg"]
    assert any(label.startswith("A @") for label in local)
    assert any(label.startswith("B ") for label in local)
    # The durability lines: each FSREG_FSYNC mode wrote runs and versions, checked.
    for mode in ("off", "meta", "all"):
        for workload in ("A", "C"):
            assert any(label.startswith(f"fsync {mode}: {workload} @") for label in local), mode
        assert any(c["what"].startswith(f"fsync {mode}: ") and c["ok"] for c in checks), mode
    for kind in ("s3", "gcs"):
        runs = data["runs"][kind]["fsreg"]
        # Request counts came through the proxy for the bucket.
        write = next(r for label, r in runs.items() if label.startswith("A @"))
        assert write["ops"]["log_batch"]["requests"]["total"] > 0
        # The preloaded experiment was checked against the API and summarised, then searched.
        index = next(r for label, r in runs.items() if label.startswith("index @"))
        assert index["ok"] and index["shards"] > 0, index
        searched = {c["what"].split(" @ ")[0] for c in checks if c["backend"] == kind}
        assert {"filter", "filter_again", "top10", "all_paged", "get_run"} <= searched
        # The preloaded experiment carries the run-set stamp its runs' create_run calls leave,
        # so a repeated trusted search lists nothing (without it, it lists the runs again).
        search = next(r for label, r in runs.items() if label.startswith("B "))
        assert search["ops"]["filter_again"]["requests"].get("list", 0) == 0, search["ops"]
    text = report.read_text()
    assert "Verification" in text
    assert "### Durability (`FSREG_FSYNC`)" in text


def test_registry_scale_smoke(tmp_path: Path) -> None:
    """``bench/registry_scale.py --smoke``: both tools populate the registry, every operation
    runs, and every answer matches the data written."""
    data, stdout = _run_bench("registry_scale.py", tmp_path)
    assert data["sizes"] == {"models": 5, "versions": 2, "big": 20}
    for tool in ("fsreg", "mlflow-sqlite"):
        rows = data["results"][tool]["rows"]
        assert len(rows) == 11 and all(r["ok"] for r in rows.values()), (tool, rows)
        assert all(r["cold"] > 0 and r["repeated"] > 0 for r in rows.values()), (tool, rows)
    assert "Every answer verified: yes" in stdout


def test_scale_sqlite_smoke(tmp_path: Path) -> None:
    """``bench/scale.py --smoke --sqlite``: each tree is exported into MLflow's SQLite schema,
    every search runs there too, and every answer (MLflow's included) matches the data."""
    data, stdout = _run_bench("scale.py", tmp_path, "--sqlite")
    assert sorted(data) == ["200", "40"]
    for size in data.values():
        sqlite = [r for r in size["rows"] if r["mode"] == "sqlite"]
        assert sorted(r["kind"] for r in sqlite) == ["all_paged", "filter", "top10", "top1000"]
        assert all(r["ok"] and r["cold"] > 0 and r["repeated"] > 0 for r in sqlite), sqlite
        assert size["export_s"] > 0
    assert "SQLite÷checked" in stdout and "Every answer verified: yes" in stdout
