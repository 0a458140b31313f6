"""``fsreg import --from URL``: MLflow's database, and a real ``mlflow server`` on it, copied
into a fresh store read the same in fsregistry as the store the database was exported from.

MLflow 3.17.2 runs in its own venv (with fsregistry from this checkout on ``PYTHONPATH``).
The database is made by ``fsreg export`` from a populated store, so the three answers (source
store, database through MLflow, imported store) must agree; MLflow's SQL store keeps an
infinity as the largest double, which :func:`fsreg_testing.export.answers` reads as infinity.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fsreg_testing.export import EXPORT_SNIPPET, EXTRAS, VERSION, answers, in_mlflow, populate
from fsreg_testing.mlflow_env import mlflow_env, mlflow_python
from fsregistry import Client

pytestmark = pytest.mark.mlflow

IMPORT = """
import json, os
from fsregistry.export import import_from
print(json.dumps(import_from(os.environ["SOURCE"], os.environ["STORE"])))
"""

ALL = {"experiment": 4, "run": 5, "logged_model": 1, "registered_model": 2}


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, dict[str, Any]]:
    """(store, database URL, fsregistry's answers about the store)."""
    root = tmp_path_factory.mktemp("exported")
    store = str(root / "mlruns")
    populate(store)
    url = f"sqlite:///{root / 'mlflow.db'}"
    in_mlflow(EXPORT_SNIPPET, root, STORE=store, FSREG_EXPORT_DB=url)
    return store, url, json.loads(json.dumps(answers(Client(store))))


def test_import_from_database(
    exported: tuple[str, str, dict[str, Any]], store_url: str, tmp_path: Path
) -> None:
    _, url, expected = exported
    first = in_mlflow(IMPORT, tmp_path, SOURCE=url, STORE=store_url)
    assert first == {"copied": ALL, "skipped": {}}
    assert json.loads(json.dumps(answers(Client(store_url)))) == expected
    again = in_mlflow(IMPORT, tmp_path, SOURCE=url, STORE=store_url)
    assert again == {"copied": {}, "skipped": ALL}


INTERRUPTED = """
import json, os
from fsregistry.export import import_from, importer

real = importer._Writer.create
def failing(self, path, data):
    if path.endswith(os.environ["FAIL_AT"]):
        raise OSError("injected failure")
    return real(self, path, data)
if os.environ.get("FAIL_AT"):
    importer._Writer.create = failing
try:
    print(json.dumps(import_from(os.environ["SOURCE"], os.environ["STORE"])))
except OSError as e:
    print(json.dumps({"failed": str(e)}))
"""


def test_interrupted_import_leaves_no_half_run_and_resumes(
    exported: tuple[str, str, dict[str, Any]], tmp_path: Path
) -> None:
    _, url, expected = exported
    store = str(tmp_path / "mlruns")
    run = next(r for r in expected["runs"] if r["datasets"])
    rid = run["run_id"]
    out = in_mlflow(INTERRUPTED, tmp_path, SOURCE=url, STORE=store, FAIL_AT=f"/{rid}/meta.yaml")
    assert out == {"failed": "injected failure"}
    client = Client(store)
    # The run's params, tags, metrics and inputs were written, but not its meta.yaml: it is
    # not there for fsregistry (nor MLflow), and nothing after it was imported.
    assert (Path(store) / run["experiment_id"] / rid / "params").is_dir()
    from fsregistry.exceptions import MlflowException

    with pytest.raises(MlflowException):
        client.get_run(rid)
    seen = client.search_runs([run["experiment_id"]], run_view_type=3)
    assert rid not in {r.info.run_id for r in seen}
    assert not client.search_registered_models()

    done = in_mlflow(INTERRUPTED, tmp_path, SOURCE=url, STORE=store)
    assert done["copied"]["run"] >= 1 and done["copied"]["registered_model"] == 2
    assert json.loads(json.dumps(answers(Client(store)))) == expected


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def mlflow_server(
    exported: tuple[str, str, dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A real ``mlflow server`` on the exported database; its base URL."""
    _, url, _ = exported
    cwd = tmp_path_factory.mktemp("server")
    python = mlflow_python(VERSION, EXTRAS)
    port = _free_port()
    server = subprocess.Popen(
        [
            str(python),
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            url,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        cwd=cwd,
        env=mlflow_env(),
        stdout=subprocess.DEVNULL,
        stderr=(cwd / "server.log").open("w"),
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    "mlflow server did not start:\n" + (cwd / "server.log").read_text()[-3000:]
                )
            time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=30)


def test_import_from_a_real_mlflow_server(
    exported: tuple[str, str, dict[str, Any]], mlflow_server: str, store_url: str, tmp_path: Path
) -> None:
    """Into local disk, S3 and GCS: everything copied, read back as the source store, and a
    second import skips it all."""
    _, _, expected = exported
    first = in_mlflow(IMPORT, tmp_path, SOURCE=mlflow_server, STORE=store_url)
    assert first == {"copied": ALL, "skipped": {}}
    assert json.loads(json.dumps(answers(Client(store_url)))) == expected
    again = in_mlflow(IMPORT, tmp_path, SOURCE=mlflow_server, STORE=store_url)
    assert again == {"copied": {}, "skipped": ALL}


CLI = """
import json, os, subprocess, sys
code = "import sys; from fsregistry.cli.app import main; sys.argv[0] = 'fsreg'; main()"
args = ["import", "--from", os.environ["SOURCE"], "-t", os.environ["STORE"], "--json"]
p = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
print(json.dumps({"rc": p.returncode, "out": p.stdout, "err": p.stderr}))
"""


def test_cli_import_json(exported: tuple[str, str, dict[str, Any]], tmp_path: Path) -> None:
    _, url, expected = exported
    store = str(tmp_path / "mlruns")
    got = in_mlflow(CLI, tmp_path, SOURCE=url, STORE=store)
    assert got["rc"] == 0, got["err"]
    assert json.loads(got["out"]) == {"from": url, "copied": ALL, "skipped": {}}
    assert json.loads(json.dumps(answers(Client(store)))) == expected
