"""``fsreg export --to DB_URL``: the store, copied into MLflow's database, reads the same in
real MLflow 3.17.2 (its own venv, ``MlflowClient("sqlite:///...")``) as in fsregistry.

The export runs inside MLflow's venv (fsregistry from this checkout on ``PYTHONPATH``, its core
dependencies and s3fs/gcsfs as venv extras), against a store on local disk, S3 (moto) and
GCS (fake-gcs-server). Then: MLflow's answers about the database equal fsregistry's about the
store (experiments, runs with metric histories, datasets, model inputs/outputs, LoggedModels,
registry with stages and aliases); a second export copies nothing and changes no row; an
export interrupted by a failure inside a unit, then by a hard kill between units, and resumed
gives the same database as an uninterrupted one.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from fsreg_testing.export import (
    ANSWERS_SNIPPET,
    EXPORT_SNIPPET,
    answers,
    in_mlflow,
    populate,
    table_rows,
)
from fsregistry import Client

pytestmark = pytest.mark.mlflow

EXPORT = EXPORT_SNIPPET


def column(db: Path, query: str) -> set[Any]:
    con = sqlite3.connect(db)
    try:
        return {row[0] for row in con.execute(query)}
    finally:
        con.close()


def test_export_reads_the_same_in_mlflow(store_url: str, tmp_path: Path) -> None:
    populate(store_url)
    db = tmp_path / "mlflow.db"
    url = f"sqlite:///{db}"
    first = in_mlflow(EXPORT, tmp_path, STORE=store_url, FSREG_EXPORT_DB=url)
    assert first["copied"] == {
        "experiment": 4,
        "run": 5,
        "logged_model": 1,
        "registered_model": 2,
    }
    mlflow_says = in_mlflow(ANSWERS_SNIPPET, tmp_path, FSREG_EXPORT_DB=url)
    store_says = json.loads(json.dumps(answers(Client(store_url))))
    assert mlflow_says["experiments"] == store_says["experiments"]
    assert mlflow_says["runs"] == store_says["runs"]
    assert mlflow_says == store_says

    rows = table_rows(db)
    # Every logged value, not only the latest: 3 runs x (5 loss + 2 acc + 2 odd) + val_acc.
    assert len(rows["metrics"]) == 3 * (5 + 2 + 2) + 1
    again = in_mlflow(EXPORT, tmp_path, STORE=store_url, FSREG_EXPORT_DB=url)
    assert again["copied"] == {}
    assert sum(again["skipped"].values()) == 12
    assert table_rows(db) == rows


INTERRUPTED = """
import json, os
from fsregistry.export import export_to_database
from fsregistry.export import sql

store, db = os.environ["STORE"], os.environ["FSREG_EXPORT_DB"]
step = os.environ["STEP"]
if step == "fail-in-unit":
    # A failure inside the batch of runs, writing the dataset inputs, after the run rows,
    # params, tags and metrics of its transaction were written.
    real = sql._insert
    def failing(conn, table, rows):
        if table.name == "inputs" and any(r["source_type"] == "DATASET" for r in rows):
            raise OSError("injected failure")
        return real(conn, table, rows)
    sql._insert = failing
    try:
        export_to_database(store, db)
    except OSError as e:
        print(json.dumps({"failed": str(e)}))
elif step == "kill-between-units":
    seen = []
    def progress(event):
        seen.append(event.kind)
        if event.kind == "logged_model":
            os._exit(17)  # right after the LoggedModel's commit: no cleanup, no atexit
    export_to_database(store, db, progress=progress)
else:
    print(json.dumps(export_to_database(store, db)))
"""


def test_interrupted_export_resumes_to_the_same_database(tmp_path: Path) -> None:
    store = str(tmp_path / "mlruns")
    ids = populate(store)
    resumed, whole = tmp_path / "resumed.db", tmp_path / "whole.db"
    env = {"STORE": store, "FSREG_EXPORT_DB": f"sqlite:///{resumed}"}

    out = in_mlflow(INTERRUPTED, tmp_path, STEP="fail-in-unit", **env)
    assert out == {"failed": "injected failure"}
    # The failing run (the first with a dataset in export order) left no row at all, nor did
    # anything after it; what was copied before it is whole.
    present = column(resumed, "SELECT run_uuid FROM runs")
    assert not present & {ids["runs"][1], ids["runs"][2]}
    for table in ("metrics", "latest_metrics", "params", "tags"):
        assert column(resumed, f"SELECT DISTINCT run_uuid FROM {table}") <= present
    runs_in = "SELECT destination_id FROM inputs WHERE destination_type = 'RUN'"
    assert column(resumed, runs_in) <= present
    assert column(resumed, "SELECT source_id FROM inputs WHERE source_type LIKE 'RUN_%'") <= present
    assert not column(resumed, "SELECT name FROM registered_models")

    with pytest.raises(Exception, match="exit 17"):
        in_mlflow(INTERRUPTED, tmp_path, STEP="kill-between-units", **env)
    assert column(resumed, "SELECT run_uuid FROM runs") == set(ids["runs"])
    assert column(resumed, "SELECT model_id FROM logged_models") == {ids["model_id"]}
    assert not column(resumed, "SELECT name FROM registered_models")

    done = in_mlflow(INTERRUPTED, tmp_path, STEP="resume", **env)
    assert done["copied"] == {"registered_model": 2}
    assert done["skipped"] == {"experiment": 4, "run": 5, "logged_model": 1}

    in_mlflow(
        INTERRUPTED, tmp_path, STEP="resume", STORE=store, FSREG_EXPORT_DB=f"sqlite:///{whole}"
    )
    assert table_rows(resumed) == table_rows(whole)


def test_export_without_mlflow_names_the_extra(tmp_path: Path) -> None:
    """In a Python without MLflow (this test venv), one clear error and no database."""
    import importlib.util

    if importlib.util.find_spec("mlflow") is not None:  # pragma: no cover - guard
        pytest.fail("the test venv must not have MLflow installed")
    from fsregistry.exceptions import InvalidParameterValue
    from fsregistry.export import export_to_database

    store = str(tmp_path / "mlruns")
    Client(store)
    with pytest.raises(InvalidParameterValue, match=r"pip install 'fsregistry\[mlflow\]'"):
        export_to_database(store, f"sqlite:///{tmp_path / 'x.db'}")
    assert not os.path.exists(tmp_path / "x.db")


CLI = """
import json, os, subprocess, sys
args = ["export", "-t", os.environ["STORE"], "--to", os.environ["FSREG_EXPORT_DB"]]
code = "import sys; from fsregistry.cli.app import main; sys.argv[0] = 'fsreg'; main()"
runs = []
for extra in (["--json"], ["--progress"]):
    p = subprocess.run([sys.executable, "-c", code, *args, *extra], capture_output=True, text=True)
    runs.append({"rc": p.returncode, "out": p.stdout, "err": p.stderr})
print(json.dumps(runs))
"""


def test_cli_export_json_then_progress(tmp_path: Path) -> None:
    store = str(tmp_path / "mlruns")
    populate(store)
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    first, second = in_mlflow(CLI, tmp_path, STORE=store, FSREG_EXPORT_DB=db)
    assert first["rc"] == 0, first["err"]
    assert json.loads(first["out"]) == {
        "to": db,
        "copied": {"experiment": 4, "run": 5, "logged_model": 1, "registered_model": 2},
        "skipped": {},
    }
    assert second["rc"] == 0, second["err"]
    # --progress draws the bar on stderr even though it is not a terminal; stdout is the table.
    assert "runs" in second["err"] and "5/5" in second["err"]
    assert "registered_model" in second["out"] and "already there" in second["out"]


def test_cli_export_without_mlflow_is_one_line(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    store = str(tmp_path / "mlruns")
    Client(store)
    fsreg = shutil.which("fsreg", path=os.path.dirname(sys.executable)) or "fsreg"
    proc = subprocess.run(
        [fsreg, "export", "-t", store, "--to", f"sqlite:///{tmp_path / 'x.db'}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1
    assert "pip install 'fsregistry[mlflow]'" in proc.stderr
    assert not (tmp_path / "x.db").exists()
