"""``fsreg models generate-dockerfile`` / ``build-docker``.

There is no Docker engine here, so the context is checked file by file, the fsregistry wheel
in it is installed into a directory, and the Dockerfile's ``CMD`` is run against the
context's ``model/`` (``/opt/ml/model`` mapped there, a loopback port instead of
``0.0.0.0:8080``): the server must start from the context alone and answer. ``build-docker``
runs a fake ``docker`` executable that records what it was asked to do.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from test_serving import EXPECTED, store_for

import fsregistry
from fsreg_testing.models import FRAME, frame, trained_model
from fsreg_testing.serving import FSREG, fluent_store, free_port, start_server, stop_server
from fsregistry import sklearn as fsk
from fsregistry.exceptions import FsRegistryException, InvalidParameterValue
from fsregistry.models.cache import resolve_location
from fsregistry.serving.docker_context import SERVER_COMMAND, generate_build_context
from fsregistry.serving.server import SERVE_REQUIREMENTS
from fsregistry.storage import open_storage

PY = f"{sys.version_info[0]}.{sys.version_info[1]}"
PIP_INSTALL = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index"]


def fsreg(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FSREG, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env if env is not None else os.environ.copy(),
    )


def log_registered_model(store: str) -> str:
    with fluent_store(store), fsregistry.start_run():
        info = fsk.log_model(
            trained_model(), name="model", input_example=frame()[:2], registered_model_name="clf"
        )
    return f"models:/clf/{info.registered_model_version}"


def source_files(store: str, model_uri: str) -> dict[str, bytes]:
    with fluent_store(store):
        storage = open_storage(resolve_location(model_uri))
        return {f.path: storage.read(f.path) for f in storage.walk("")}


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(autouse=True)
def model_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "model-cache"
    monkeypatch.setenv("FSREG_MODEL_CACHE", str(cache))
    return cache


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_generated_context_serves_the_model(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    store = store_for(backend, request, tmp_path)
    uri = log_registered_model(store)
    ctx = tmp_path / "ctx"
    proc = fsreg(
        "models", "generate-dockerfile", "-m", uri, "-d", str(ctx), "--tracking-uri", store
    )
    assert proc.returncode == 0, proc.stderr
    assert str(ctx) in proc.stdout

    # -- contents
    source = source_files(store, uri)
    assert tree(ctx / "model") == source  # byte for byte
    wheels = sorted((ctx / "fsregistry").glob("*.whl"))
    assert [w.name for w in wheels] == [f"fsregistry-{fsregistry.__version__}-py3-none-any.whl"]
    assert sorted(p.name for p in ctx.iterdir()) == ["Dockerfile", "fsregistry", "model"]
    model_reqs = source["requirements.txt"].decode().split("\n")
    assert (ctx / "fsregistry" / "requirements.txt").read_text().splitlines() == model_reqs
    assert any(r.startswith("scikit-learn==") for r in model_reqs)

    dockerfile = (ctx / "Dockerfile").read_text()
    lines = dockerfile.splitlines()
    assert f"FROM python:{PY}-slim" in lines
    assert "COPY fsregistry/ /opt/fsregistry/" in lines
    assert "COPY model/ /opt/ml/model/" in lines
    run = [json.loads(line[4:]) for line in lines if line.startswith("RUN [")]
    install = run[0]
    assert install[:4] == ["python", "-m", "pip", "install"]
    assert install[4:6] == ["-r", "/opt/fsregistry/requirements.txt"]
    assert f"/opt/fsregistry/{wheels[0].name}" in install
    assert set(SERVE_REQUIREMENTS) <= set(install)
    assert "USER fsreg" in lines and "EXPOSE 8080" in lines
    cmd = json.loads(next(line[4:] for line in lines if line.startswith("CMD ")))
    assert cmd == SERVER_COMMAND
    assert cmd[:5] == ["fsreg", "models", "serve", "-m", "/opt/ml/model"]
    assert cmd[cmd.index("--host") + 1] == "0.0.0.0" and cmd[cmd.index("--port") + 1] == "8080"

    # -- the wheel installs, with its console script and dependencies declared
    with zipfile.ZipFile(wheels[0]) as zf:
        meta = zf.read(f"fsregistry-{fsregistry.__version__}.dist-info/METADATA").decode()
    assert "Requires-Dist: pandas" in meta and "Requires-Dist: fsspec" in meta
    site = tmp_path / "site"
    subprocess.run(
        [*PIP_INSTALL, "--target", str(site), str(wheels[0])],
        check=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": str(site), "FSREG_MODEL_CACHE": str(tmp_path / "c2")}
    env.pop("FSREG_TRACKING_URI", None)
    where = subprocess.run(
        [sys.executable, "-c", "import fsregistry; print(fsregistry.__file__)"],
        cwd=ctx / "model",
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(site)

    # -- the image's command, run here: the server starts from the context's model directory
    port = free_port()
    command = [str(site / "bin" / cmd[0]), *cmd[1:]]
    command[command.index("/opt/ml/model")] = str(ctx / "model")
    command[command.index("--host") + 1] = "127.0.0.1"
    command[command.index("--port") + 1] = str(port)
    env["PATH"] = f"{site / 'bin'}{os.pathsep}{env['PATH']}"
    server = start_server(command, tmp_path / "server.log", port, env)
    try:
        assert server.request("GET", "/ping").status == 200
        r = server.post(
            {
                "dataframe_split": {
                    "columns": ["f1", "f2"],
                    "data": list(map(list, zip(FRAME["f1"], FRAME["f2"], strict=True))),
                }
            }
        )
        assert (r.status, r.json()) == (200, {"predictions": EXPECTED})
        assert f"from {ctx / 'model'} on http://127.0.0.1:{port}" in server.log_text()
    finally:
        stop_server(server)


def test_requirements_constraints_and_python_version(tmp_path: Path) -> None:
    constraints = tmp_path / "constraints.in"
    constraints.write_text("numpy<3\n")
    model_dir = tmp_path / "model"
    fsk.save_model(
        trained_model(),
        str(model_dir),
        pip_requirements=["scikit-learn>=1.3", "fsregistry==0.0.1", f"-c {constraints}"],
    )
    ctx = generate_build_context(str(model_dir), tmp_path / "ctx")
    assert tree(ctx.directory / "model") == tree(model_dir)
    assert ctx.requirements == ("scikit-learn>=1.3",)  # the wheel provides fsregistry
    assert (ctx.directory / "fsregistry" / "constraints.txt").read_text() == "numpy<3\n"
    install = next(
        json.loads(line[4:])
        for line in (ctx.directory / "Dockerfile").read_text().splitlines()
        if line.startswith('RUN ["python"')
    )
    assert install[4:8] == [
        "-r",
        "/opt/fsregistry/requirements.txt",
        "-c",
        "/opt/fsregistry/constraints.txt",
    ]

    # the base image follows the model's Python; too old for fsregistry needs --base-image
    env_file = model_dir / "python_env.yaml"
    env_file.write_text(env_file.read_text().replace(f"python: {PY}", "python: 3.12"))
    assert re.search(r"^python: 3\.12", env_file.read_text(), re.M)
    assert generate_build_context(str(model_dir), tmp_path / "ctx312").base_image == (
        "python:3.12-slim"
    )
    env_file.write_text(re.sub(r"(?m)^python: .*$", "python: 3.8.10", env_file.read_text()))
    with pytest.raises(InvalidParameterValue, match=r"Python 3\.8\.10.*--base-image"):
        generate_build_context(str(model_dir), tmp_path / "ctx38")
    assert not (tmp_path / "ctx38").exists()
    ctx = generate_build_context(str(model_dir), tmp_path / "ctx38", base_image="python:3.11-slim")
    assert "FROM python:3.11-slim" in (ctx.directory / "Dockerfile").read_text()


def test_output_directory_must_be_new_or_empty(tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    fsk.save_model(trained_model(), str(model_dir))
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "keep.txt").write_text("mine")
    with pytest.raises(InvalidParameterValue, match="not an empty directory"):
        generate_build_context(str(model_dir), busy)
    assert [p.name for p in busy.iterdir()] == ["keep.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (generate_build_context(str(model_dir), empty).directory / "Dockerfile").is_file()
    with pytest.raises(FsRegistryException, match=r"No such artifact: 'nothing' \(no MLflow model"):
        generate_build_context(str(tmp_path / "nothing"), tmp_path / "out")
    assert not (tmp_path / "out").exists()
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert leftovers == []


FAKE_DOCKER = """#!{python}
import json, os, sys
from pathlib import Path
mode = os.environ.get("FAKE_DOCKER_MODE", "ok")
args = sys.argv[1:]
with open(os.environ["FAKE_DOCKER_LOG"], "a") as log:
    entry = {{"args": args}}
    if args[:1] == ["build"]:
        ctx = Path(args[-1])
        entry["context"] = sorted(p.relative_to(ctx).as_posix() for p in ctx.rglob("*"))
    log.write(json.dumps(entry) + "\\n")
if args[:1] == ["version"]:
    if mode == "no-engine":
        print("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
              "Is the docker daemon running?", file=sys.stderr)
        sys.exit(1)
    print("27.3.1")
    sys.exit(0)
if args[:1] == ["build"]:
    print("fake build output")
    sys.exit(3 if mode == "build-fails" else 0)
sys.exit(64)
"""


def test_build_docker_with_a_fake_docker(tmp_path: Path) -> None:
    store = str(tmp_path / "mlruns")
    uri = log_registered_model(store)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER.format(python=sys.executable))
    docker.chmod(docker.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "docker.log"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    env["FAKE_DOCKER_LOG"] = str(log)
    env["TMPDIR"] = str(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir()

    proc = fsreg(
        "models", "build-docker", "-m", uri, "-n", "clf:1", "--tracking-uri", store, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert "fake build output" in proc.stdout and "Built image clf:1" in proc.stdout
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls[0]["args"][0] == "version"
    build = calls[1]
    assert build["args"][:3] == ["build", "-t", "clf:1"]
    assert {"Dockerfile", "model/MLmodel", "model/model.pkl", "fsregistry/requirements.txt"} <= set(
        build["context"]
    )
    assert f"fsregistry/fsregistry-{fsregistry.__version__}-py3-none-any.whl" in build["context"]
    assert list((tmp_path / "tmp").iterdir()) == []  # the temporary context is gone

    for mode, message in [
        ("no-engine", "error: Cannot reach the Docker engine: Cannot connect to the Docker daemon"),
        ("build-fails", "error: Docker build failed. docker build -t clf:1 exited with code 3"),
    ]:
        proc = fsreg(
            "models",
            "build-docker",
            "-m",
            uri,
            "-n",
            "clf:1",
            "--tracking-uri",
            store,
            env={**env, "FAKE_DOCKER_MODE": mode},
        )
        assert proc.returncode == 1, (mode, proc.stderr)
        assert proc.stderr.strip().splitlines()[-1].startswith(message), proc.stderr
        assert "Traceback" not in proc.stderr
    assert list((tmp_path / "tmp").iterdir()) == []


def test_build_docker_without_docker_is_one_clear_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}
    proc = fsreg("models", "build-docker", "-m", str(tmp_path / "m"), "-n", "x", env=env)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: The docker client is not installed")


def test_the_wheel_is_reproducible(tmp_path: Path) -> None:
    from fsregistry.serving.wheel import build_wheel

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = build_wheel(tmp_path / "a"), build_wheel(tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()  # same code, same bytes: Docker caches
    with zipfile.ZipFile(first) as zf:
        names = zf.namelist()
        entry_points = zf.read(f"fsregistry-{fsregistry.__version__}.dist-info/entry_points.txt")
    assert "fsregistry/serving/app.py" in names and "fsregistry/py.typed" in names
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    assert b"fsreg = fsregistry.cli.app:main" in entry_points
