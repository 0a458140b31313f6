"""Tests of the test infrastructure itself: emulators, store roots, real MLflow, fixture trees."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

import fsspec
import pytest
from emulators import Emulator, start_gcs_server
from fixture_trees import copy_fixture_tree, fixture_dir, load_expected
from mlflow_env import MLFLOW_IDS, MLFLOW_VERSIONS, MlflowEnvError, MlflowPython, run_mlflow

EMULATORS = ("s3_emulator", "gcs_emulator")


def _env_only_fs(protocol: str) -> Any:
    """A filesystem configured only by the environment (no endpoint, no credentials)."""
    return fsspec.filesystem(protocol, skip_instance_cache=True, use_listings_cache=False)


@pytest.fixture(params=EMULATORS, ids=["s3", "gcs"])
def emulator(request: pytest.FixtureRequest) -> Emulator:
    emu: Emulator = request.getfixturevalue(request.param)
    return emu


@pytest.fixture
def bucket(emulator: Emulator) -> str:
    name = f"infra-{uuid.uuid4().hex[:16]}"
    emulator.make_bucket(name)
    return name


def test_emulator_url_and_env(emulator: Emulator) -> None:
    assert emulator.url.startswith("http://127.0.0.1:")
    assert emulator.port > 0
    assert emulator.is_running()
    for key, value in emulator.env.items():
        assert os.environ.get(key) == value, f"{key} not exported by the fixture"
    if emulator.kind == "s3":
        assert os.environ["AWS_ENDPOINT_URL"] == emulator.url
        assert "AWS_PROFILE" not in os.environ
        assert not [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL_")]
    else:
        assert os.environ["STORAGE_EMULATOR_HOST"] == emulator.url
        assert os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] == "false"


def test_write_read_with_env_only_client(emulator: Emulator, bucket: str) -> None:
    fs = _env_only_fs(emulator.protocol)
    path = f"{bucket}/dir/hello.txt"
    fs.pipe_file(path, "héllo ✓\n".encode())
    assert fs.cat_file(path) == "héllo ✓\n".encode()
    assert fs.find(bucket) == [path]
    # The explicitly configured client sees the same object.
    assert emulator.filesystem().cat_file(path) == "héllo ✓\n".encode()


def test_conditional_create_is_exclusive(emulator: Emulator, bucket: str) -> None:
    fs = _env_only_fs(emulator.protocol)
    path = f"{bucket}/models/m/version-1/meta.yaml"
    fs.pipe_file(path, b"first", mode="create")
    with pytest.raises(FileExistsError):
        fs.pipe_file(path, b"second", mode="create")
    assert fs.cat_file(path) == b"first"


def test_s3_if_match_compare_and_swap(s3_emulator: Emulator) -> None:
    name = f"infra-{uuid.uuid4().hex[:16]}"
    s3_emulator.make_bucket(name)
    fs = s3_emulator.filesystem()
    path = f"{name}/meta.yaml"
    fs.pipe_file(path, b"v1")
    etag = fs.info(path)["ETag"]
    fs.pipe_file(path, b"v2", IfMatch=etag)
    with pytest.raises(OSError):
        fs.pipe_file(path, b"v3", IfMatch=etag)  # stale ETag
    assert fs.cat_file(path) == b"v2"


def _race(emulator: Emulator, path: str, body: bytes, writers: int) -> tuple[list[int], list[str]]:
    """``writers`` threads create ``path`` at once; returns (winners, unexpected errors)."""
    wins: list[int] = []
    losses: list[int] = []
    errors: list[str] = []
    barrier = threading.Barrier(writers)

    def claim(i: int) -> None:
        fs = emulator.filesystem()
        barrier.wait()
        try:
            fs.pipe_file(path, body[:-1] + bytes([i]), mode="create")
            wins.append(i)
        except FileExistsError:
            losses.append(i)
        except OSError as exc:  # e.g. S3 409 ConditionalRequestConflict: also a loss
            errors.append(repr(exc))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(wins) + len(losses) + len(errors) == writers, "a writer thread hung"
    return wins, errors


@pytest.mark.parametrize("emulator", EMULATORS, ids=["s3", "gcs"], indirect=True)
def test_concurrent_conditional_creates_have_one_winner(emulator: Emulator, bucket: str) -> None:
    """Large bodies make moto's unlocked check-then-write race; the server lock prevents it."""
    body = os.urandom(1024 * 1024)
    for round_ in range(3):
        path = f"{bucket}/race-{round_}"
        wins, errors = _race(emulator, path, body, writers=4)
        assert len(wins) == 1, f"round {round_}: winners {wins}, other errors {errors}"
        stored = emulator.filesystem().cat_file(path)
        assert stored[-1] == wins[0]


def test_moto_write_lock_wraps_the_real_methods() -> None:
    """The server process's lock must wrap moto's actual write entry points."""
    code = (
        "import emulators\n"
        "from moto.s3.responses import S3Response\n"
        "before = {n: getattr(S3Response, n) for n in ('put_object', '_key_response_post')}\n"
        "emulators._install_s3_write_lock()\n"
        "for n, fn in before.items():\n"
        "    assert getattr(S3Response, n).__wrapped__ is fn, n\n"
        "print('ok')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "ok"


def test_subprocess_inherits_emulator_env(emulator: Emulator, bucket: str) -> None:
    path = f"{bucket}/from-parent.txt"
    _env_only_fs(emulator.protocol).pipe_file(path, b"parent")
    code = (
        "import sys, fsspec\n"
        "fs = fsspec.filesystem(sys.argv[1], skip_instance_cache=True)\n"
        "sys.stdout.write(fs.cat_file(sys.argv[2]).decode())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, emulator.protocol, path],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == "parent"


def test_emulator_stop_frees_port() -> None:
    emu = start_gcs_server()
    port = emu.port
    emu.stop()
    emu.stop()  # idempotent
    assert emu.process.poll() is not None
    assert not emu.is_running()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        assert s.connect_ex(("127.0.0.1", port)) != 0


_SEEN_STORE_URLS: set[str] = set()


@pytest.mark.parametrize("attempt", [1, 2])
def test_store_url_is_fresh_and_empty(
    store_url: str, backend: str, store_fs: tuple[Any, str], attempt: int
) -> None:
    assert store_url not in _SEEN_STORE_URLS
    _SEEN_STORE_URLS.add(store_url)
    assert store_url.endswith("mlruns")
    expected_scheme = {"local": "", "s3": "s3://", "gcs": "gs://"}[backend]
    if backend == "local":
        assert "://" not in store_url
        assert not Path(store_url).exists()
        assert Path(store_url).parent.is_dir()
    else:
        assert store_url.startswith(expected_scheme)
    fs, root = store_fs
    assert not fs.exists(root) or fs.find(root) == []
    # Write something so that a non-fresh root would be noticed by the next attempt.
    fs.makedirs(root, exist_ok=True)  # needed on local disk only
    fs.pipe_file(f"{root}/probe.txt", b"x")
    assert fs.cat_file(f"{root}/probe.txt") == b"x"


@pytest.mark.parametrize("version", MLFLOW_VERSIONS, ids=MLFLOW_IDS.get)
def test_copy_fixture_tree_restores_empty_dirs(version: str, tmp_path: Path) -> None:
    expected = load_expected(version)
    assert expected["mlflow_version"] == version
    assert Path(expected["generated_at_root"]).is_absolute()
    assert expected["generated_at_root"] != str(fixture_dir(version) / "mlruns")
    root = copy_fixture_tree(version, tmp_path / "mlruns")
    assert root == tmp_path / "mlruns"
    for run_id, run in expected["runs"].items():
        run_dir = root / run["info"]["experiment_id"] / run_id
        if not run_dir.exists():  # runs of deleted experiments live in .trash
            run_dir = root / ".trash" / run["info"]["experiment_id"] / run_id
        for sub in ("metrics", "params", "artifacts"):
            assert (run_dir / sub).is_dir(), f"{run_dir / sub} missing"
    with pytest.raises(FileExistsError):
        copy_fixture_tree(version, root)


@pytest.mark.mlflow
@pytest.mark.parametrize("version", MLFLOW_VERSIONS, ids=MLFLOW_IDS.get)
def test_run_mlflow_returns_version(version: str, tmp_path: Path) -> None:
    out = run_mlflow(
        version,
        "import json, os, mlflow\n"
        "print('noise before the result')\n"
        "print(json.dumps({'version': mlflow.__version__,"
        " 'allow': os.environ['MLFLOW_ALLOW_FILE_STORE'], 'x': os.environ['FSREG_X']}))\n",
        cwd=tmp_path,
        env={"FSREG_X": "y"},
    )
    assert out == {"version": version, "allow": "true", "x": "y"}


@pytest.mark.mlflow
def test_run_mlflow_reports_failures(tmp_path: Path) -> None:
    with pytest.raises(MlflowEnvError, match="boom"):
        run_mlflow(MLFLOW_VERSIONS[0], "raise SystemExit('boom')", cwd=tmp_path)
    with pytest.raises(MlflowEnvError, match="not JSON"):
        run_mlflow(MLFLOW_VERSIONS[0], "print('not json')", cwd=tmp_path)


def test_mlflow_python_fixture_reads_fixture_tree(
    mlflow_python: MlflowPython, tmp_path: Path
) -> None:
    """Real MLflow reads a relocated copy of its own fixture tree (needs the empty dirs)."""
    root = copy_fixture_tree(mlflow_python.version, tmp_path / "mlruns")
    expected = load_expected(mlflow_python.version)
    code = f"""
import json
import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType

client = MlflowClient(tracking_uri={root.as_uri()!r})
exps = client.search_experiments(view_type=ViewType.ALL)
runs = {{}}
for e in exps:
    for r in client.search_runs([e.experiment_id], run_view_type=ViewType.ALL):
        run = client.get_run(r.info.run_id)
        runs[run.info.run_id] = dict(run.data.params)
print(json.dumps({{"version": mlflow.__version__,
                  "experiments": sorted(e.name for e in exps),
                  "runs": runs}}))
"""
    out = mlflow_python.run(code, cwd=tmp_path)
    assert out["version"] == mlflow_python.version
    assert out["experiments"] == sorted(e["name"] for e in expected["experiments"])
    assert out["runs"] == {rid: r["params"] for rid, r in expected["runs"].items()}
    assert os.fspath(mlflow_python) == str(mlflow_python.python)


def test_expected_json_is_strict_json() -> None:
    for version in MLFLOW_VERSIONS:
        text = (fixture_dir(version) / "expected.json").read_text(encoding="utf-8")
        json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
