"""``fsreg export --to postgresql://...`` against a real PostgreSQL (the distribution's server,
started in a temporary directory; skipped with the reason if it is not installed).

fsregistry's experiment ids are 18-digit numbers and MLflow's PostgreSQL schema keeps
``experiment_id`` in 32-bit columns: the export is refused naming every such column, having
written none of the store's rows; once those columns are widened to BIGINT, the export goes
through and MLflow (``MlflowClient("postgresql://...")``) answers as fsregistry does.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from fsreg_testing.export import ANSWERS_SNIPPET, EXTRAS, answers, in_mlflow, populate
from fsregistry import Client

pytestmark = pytest.mark.mlflow

PG_EXTRAS = (*EXTRAS, "psycopg2-binary")
PG_BIN = "/usr/lib/postgresql/15/bin"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _psql(port: int, sql: str) -> str:
    out = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-At", "-c", sql],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout.strip()


@pytest.fixture
def postgres() -> Iterator[int]:
    """A PostgreSQL server on 127.0.0.1 (trust auth, user postgres); yields its port."""
    if not os.path.exists(f"{PG_BIN}/initdb") or shutil.which("psql") is None:
        pytest.skip("PostgreSQL server binaries are not installed")
    run_as: list[str] = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = tempfile.mkdtemp(prefix="fsreg-pg-")
    os.chmod(root, 0o755)
    data = os.path.join(root, "data")
    if run_as:
        shutil.chown(root, "postgres", "postgres")
    port = _free_port()
    subprocess.run(
        [*run_as, f"{PG_BIN}/initdb", "-D", data, "-A", "trust", "-U", "postgres"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    subprocess.run(
        [
            *run_as,
            f"{PG_BIN}/pg_ctl",
            "-D",
            data,
            "-l",
            f"{root}/log",
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port} -h 127.0.0.1 -k {root}",
            "start",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    try:
        yield port
    finally:
        subprocess.run(
            [*run_as, f"{PG_BIN}/pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=120,
        )
        shutil.rmtree(root, ignore_errors=True)


EXPORT = """
import json, os
from fsregistry.export import export_to_database
from fsregistry.exceptions import MlflowException
try:
    print(json.dumps(export_to_database(os.environ["STORE"], os.environ["FSREG_EXPORT_DB"])))
except MlflowException as e:
    print(json.dumps({"code": e.error_code, "message": e.message}))
"""


def test_export_to_postgres(postgres: int, tmp_path: Path) -> None:
    store = str(tmp_path / "mlruns")
    populate(store)
    url = f"postgresql+psycopg2://postgres@127.0.0.1:{postgres}/postgres"
    env = {"STORE": store, "FSREG_EXPORT_DB": url}

    # The plain postgresql:// URL names a driver (psycopg 3) this venv does not have: one
    # clear error naming the package, not a traceback.
    no_driver = in_mlflow(
        EXPORT,
        tmp_path,
        extras=PG_EXTRAS,
        STORE=store,
        FSREG_EXPORT_DB=url.replace("+psycopg2", ""),
    )
    assert no_driver["code"] == "INVALID_PARAMETER_VALUE", no_driver
    assert "needs its driver, the Python package 'psycopg'" in no_driver["message"]

    refused = in_mlflow(EXPORT, tmp_path, extras=PG_EXTRAS, **env)
    assert refused["code"] == "INVALID_PARAMETER_VALUE", refused
    assert "does not fit the 32-bit experiment_id column" in refused["message"]
    columns = refused["message"].rsplit("BIGINT first: ", 1)[1].split(", ")
    assert "experiments.experiment_id" in columns and "runs.experiment_id" in columns
    # MLflow made its schema (and its Default experiment); none of the store's rows is there.
    assert _psql(postgres, "SELECT count(*) FROM runs") == "0"
    assert _psql(postgres, "SELECT count(*) FROM experiments WHERE experiment_id <> 0") == "0"

    _psql(
        postgres,
        "; ".join(
            f"ALTER TABLE {c.split('.')[0]} ALTER COLUMN experiment_id TYPE BIGINT" for c in columns
        ),
    )
    done = in_mlflow(EXPORT, tmp_path, extras=PG_EXTRAS, **env)
    assert done["copied"] == {
        "experiment": 4,
        "run": 5,
        "logged_model": 1,
        "registered_model": 2,
    }
    mlflow_says = in_mlflow(ANSWERS_SNIPPET, tmp_path, extras=PG_EXTRAS, FSREG_EXPORT_DB=url)
    assert mlflow_says == json.loads(json.dumps(answers(Client(store))))
    again = in_mlflow(EXPORT, tmp_path, extras=PG_EXTRAS, **env)
    assert again["copied"] == {}
