"""Experiments and runs from the shell: ``fsreg experiments create|rename|delete|restore|csv``,
``fsreg runs delete|restore|tag|untag|diff`` and ``fsreg ls metrics``, through the real
console script."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from fsregistry import Client

FSREG = os.path.join(os.path.dirname(sys.executable), "fsreg")


def fsreg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FSREG, *args], capture_output=True, text=True, timeout=120, env={**os.environ, "TZ": "UTC"}
    )


def ok(*args: str) -> str:
    proc = fsreg(*args)
    assert proc.returncode == 0, (args, proc.stderr)
    return proc.stdout


def test_experiments_and_runs_lifecycle(store_url: str) -> None:
    url = store_url
    created = json.loads(ok("experiments", "create", "exp-a", "-t", url, "--json"))
    exp_id = created["experiment_id"]
    assert created == {"experiment_id": exp_id, "name": "exp-a"}
    client = Client(tracking_uri=url)
    assert client.get_experiment(exp_id).name == "exp-a"
    assert ok("experiments", "rename", "exp-a", "exp-b", "-t", url).strip() == (
        "Renamed experiment 'exp-a' -> 'exp-b'"
    )
    run_id = client.create_run(exp_id, run_name="r").info.run_id

    ok("runs", "tag", run_id, "team", "ml", "-t", url)
    assert client.get_run(run_id).data.tags["team"] == "ml"
    ok("runs", "untag", run_id, "team", "-t", url)
    assert "team" not in client.get_run(run_id).data.tags

    ok("runs", "delete", run_id, "-t", url)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    assert json.loads(ok("ls", "runs", "-t", url, "--json")) == []
    ok("runs", "restore", run_id, "-t", url)
    assert [r["run_id"] for r in json.loads(ok("ls", "runs", "-t", url, "--json"))] == [run_id]

    ok("experiments", "delete", "exp-b", "-t", url)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    ok("experiments", "restore", exp_id, "-t", url)  # by id works too
    assert client.get_experiment(exp_id).lifecycle_stage == "active"

    missing = fsreg("runs", "delete", "0" * 32, "-t", url)
    assert missing.returncode == 1 and "0" * 32 in missing.stderr
    nope = fsreg("experiments", "delete", "nope", "-t", url)
    assert nope.returncode == 1 and "No experiment named 'nope'" in nope.stderr


def test_metrics_diff_and_csv(tmp_path: Path) -> None:
    url = str(tmp_path / "mlruns")
    client = Client(tracking_uri=url)
    exp_id = client.create_experiment("exp")
    a = client.create_run(exp_id, run_name="a").info.run_id
    b = client.create_run(exp_id, run_name="b").info.run_id
    for step, value in enumerate([0.9, 0.5, 0.3]):
        client.log_metric(a, "loss", value, timestamp=1_700_000_000_000 + step, step=step)
    client.log_metric(a, "acc", 0.8, timestamp=1_700_000_000_000, step=5)
    client.log_metric(a, "acc", 0.7, timestamp=1_700_000_000_001, step=2)  # older step
    client.log_metric(b, "loss", 0.3, timestamp=1_700_000_000_000, step=0)
    client.log_param(a, "lr", "0.1")
    client.log_param(b, "lr", "0.2")
    client.log_param(b, "depth", "3")
    client.flush()

    latest = json.loads(ok("ls", "metrics", a, "-t", url, "--json"))
    assert latest == [
        {"key": "acc", "value": 0.8, "step": 5, "timestamp": 1_700_000_000_000},
        {"key": "loss", "value": 0.3, "step": 2, "timestamp": 1_700_000_000_002},
    ]
    history = json.loads(ok("ls", "metrics", a, "loss", "-t", url, "--json"))
    assert [(m["step"], m["value"]) for m in history] == [(0, 0.9), (1, 0.5), (2, 0.3)]
    table = ok("ls", "metrics", a, "loss", "-t", url)
    assert re.search(r"loss\s+0\.5\s+1\s+2023-11-14 22:13:20\+00:00", table)

    diff = json.loads(ok("runs", "diff", a, b, "-t", url, "--json"))
    assert diff["run_ids"] == [a, b]
    assert diff["params"] == {"depth": [None, "3"], "lr": ["0.1", "0.2"]}
    assert diff["metrics"] == {"acc": [0.8, None], "loss": [0.3, 0.3]}
    only = json.loads(ok("runs", "diff", a, b, "-t", url, "--json", "--only-diff"))
    assert "loss" not in only["metrics"] and "lr" in only["params"]
    text = ok("runs", "diff", a, b, "-t", url)
    assert re.search(r"\*\s+params\s+lr\s+0\.1\s+0\.2", text)
    assert re.search(r"\n\s*metrics\s+loss\s+0\.3\s+0\.3", text)  # equal: no mark
    assert f"a ({a[:8]})" in text and "None" not in text

    out = ok("experiments", "csv", "-x", "exp", "-t", url)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sorted(r["run_id"] for r in rows) == sorted([a, b])
    assert {r["run_id"]: r["params.lr"] for r in rows} == {a: "0.1", b: "0.2"}
    target = tmp_path / "runs.csv"
    ok("experiments", "csv", "-x", exp_id, "-o", str(target), "-t", url)
    assert target.read_text() == out
