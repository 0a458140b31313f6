"""``fsregistry.models.FlavorBackend`` / the pyfunc backend and ``models.build_docker`` (the
Python function; issue 21 §3): predict from a file and from stdin, serve a registered model in a
subprocess over HTTP on 127.0.0.1, prepare_env, Docker contexts with and without Java, and the
refusals (each before anything is written)."""

# ruff: noqa: F811

from __future__ import annotations

import io
import json
import shutil
import subprocess
import time
from pathlib import Path

import pandas as pd
import pytest

import fsregistry
from fsreg_testing.models import local_tracking  # noqa: F401 - fixture
from fsreg_testing.serving import free_port, http_request
from fsregistry import pyfunc
from fsregistry.exceptions import InvalidParameterValue, InvalidState
from fsregistry.models import FlavorBackend, Model, build_docker
from fsregistry.serving.flavor_backend import PyFuncBackend, get_flavor_backend

FRAME = pd.DataFrame({"x": [1.0, 2.0, 3.0]})


# A lambda: cloudpickle stores it by value, so a server process need not import this module.
_double = lambda df: df["x"] * 2  # noqa: E731


@pytest.fixture
def model_dir(tmp_path: Path) -> str:
    path = tmp_path / "model"
    pyfunc.save_model(path, python_model=_double, input_example=FRAME)
    return str(path)


def test_backend_of_a_pyfunc_model(model_dir: str, tmp_path: Path) -> None:
    backend = get_flavor_backend(model_dir, env_manager="local")
    assert isinstance(backend, PyFuncBackend) and isinstance(backend, FlavorBackend)
    assert backend._config == Model.load(model_dir).flavors["python_function"]
    assert backend.can_build_image() and backend.can_score_model()
    # a model without the python_function flavor has no backend
    bare = tmp_path / "bare"
    bare.mkdir()
    Model(flavors={"my_flavor": {"x": 1}}).save(bare / "MLmodel")
    with pytest.raises(InvalidParameterValue, match="No suitable flavor backend"):
        get_flavor_backend(str(bare))
    with pytest.raises(InvalidParameterValue, match="conda environments are not built"):
        PyFuncBackend({}, env_manager="conda")
    with pytest.raises(InvalidParameterValue, match="workers"):
        PyFuncBackend({}, env_manager="local", workers=0)


def test_predict_from_a_file_and_from_stdin(
    model_dir: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = get_flavor_backend(model_dir, env_manager="local")
    body = json.dumps({"dataframe_split": FRAME.to_dict(orient="split")})
    (tmp_path / "in.json").write_text(body)
    backend.predict(model_dir, str(tmp_path / "in.json"), str(tmp_path / "a.json"), "json")
    monkeypatch.setattr("sys.stdin", io.StringIO("x\n1.0\n2.0\n3.0\n"))
    backend.predict(model_dir, None, str(tmp_path / "b.json"), "csv")
    # a named Series comes back as records, as MLflow's scoring output has it
    expected = {"predictions": [{"x": 2.0}, {"x": 4.0}, {"x": 6.0}]}
    assert json.loads((tmp_path / "a.json").read_text()) == expected
    assert json.loads((tmp_path / "b.json").read_text()) == expected
    with pytest.raises(InvalidParameterValue, match=r"^Unknown content type 'parquet'\. "):
        backend.predict(model_dir, str(tmp_path / "in.json"), None, "parquet")


def test_serve_a_registered_model_in_a_subprocess(local_tracking: str) -> None:
    """The server process resolves ``models:/`` in the caller's store (URIs passed on)."""
    with fsregistry.start_run():
        pyfunc.log_model(name="m", python_model=_double, registered_model_name="doubler")
    backend = get_flavor_backend("models:/doubler/1", env_manager="local")
    port = free_port()
    proc = backend.serve(
        "models:/doubler/1",
        port,
        "127.0.0.1",
        30,
        synchronous=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    assert isinstance(proc, subprocess.Popen)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if http_request(port, "GET", "/ping").status == 200:
                    break
            except OSError:
                pass  # not listening yet
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise AssertionError(f"server did not start (exit {proc.poll()}): {err}")
            time.sleep(0.2)
        body = json.dumps({"dataframe_records": [{"x": 5.0}]}).encode()
        resp = http_request(
            port, "POST", "/invocations", body, {"Content-Type": "application/json"}
        )
        assert resp.status == 200 and resp.json() == {"predictions": [{"x": 10.0}]}
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def test_serve_synchronously_reports_a_failed_server(model_dir: str) -> None:
    backend = get_flavor_backend(model_dir, env_manager="local")
    with pytest.raises(InvalidState, match="exited with code"):
        backend.serve(
            model_dir + "-missing",
            free_port(),
            "127.0.0.1",
            30,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def test_prepare_env_local_does_nothing(model_dir: str, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FSREG_ENV_ROOT", str(tmp_path / "envs"))
    get_flavor_backend(model_dir, env_manager="local").prepare_env(model_dir)
    assert not (tmp_path / "envs").exists()


def test_dockerfile_with_java_and_refusals(model_dir: str, tmp_path: Path) -> None:
    backend = get_flavor_backend(model_dir)
    backend.generate_dockerfile(model_dir, str(tmp_path / "plain"))
    assert "default-jre-headless" not in (tmp_path / "plain" / "Dockerfile").read_text()
    backend.generate_dockerfile(model_dir, str(tmp_path / "java"), install_java=True)
    assert "default-jre-headless" in (tmp_path / "java" / "Dockerfile").read_text()
    # a Spark model gets Java without being asked, as in MLflow
    spark_like = tmp_path / "spark-model"
    pyfunc.save_model(
        spark_like,
        python_model=_double,
        mlflow_model=Model().add_flavor("spark", pyspark_version="4.0.0", model_data="sparkml"),
    )
    backend.generate_dockerfile(str(spark_like), str(tmp_path / "spark"))
    assert "default-jre-headless" in (tmp_path / "spark" / "Dockerfile").read_text()
    for kwargs, match in (
        ({"install_mlflow": True}, "install_mlflow"),
        ({"mlflow_home": "/src/mlflow"}, "mlflow_home"),
    ):
        with pytest.raises(InvalidParameterValue, match=match):
            backend.generate_dockerfile(model_dir, str(tmp_path / "refused"), **kwargs)  # type: ignore[arg-type]
        with pytest.raises(InvalidParameterValue, match=match):
            build_docker(model_dir, name="img", **kwargs)  # type: ignore[arg-type]
    assert not (tmp_path / "refused").exists()


def test_build_docker_needs_a_model_and_an_engine(model_dir: str) -> None:
    with pytest.raises(InvalidParameterValue, match="needs model_uri"):
        build_docker()
    with pytest.raises(InvalidParameterValue, match="conda"):
        build_docker(model_dir, env_manager="conda")
    if shutil.which("docker") is None:
        match = "docker client is not installed"
    else:
        reachable = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True,
            timeout=60,
        )
        if reachable.returncode == 0:
            pytest.skip("a Docker engine is reachable here: building an image is not tested")
        match = "Cannot reach the Docker engine"
    with pytest.raises(InvalidState, match=match):
        build_docker(model_dir, name="fsreg-test-image")
