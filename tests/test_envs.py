"""Model environments: ``fsregistry.envs.prepare_env``, ``fsreg models prepare-env`` and
``predict(..., env_manager="virtualenv")``, for models in a local store and in the S3 emulator.

Every environment here is built offline, the way an air-gapped site would: ``PIP_NO_INDEX=1``,
``PIP_FIND_LINKS=<wheel directory>`` and no pip.conf. The wheel directory is filled once per
worker with ``pip download`` (from the index) plus a hand-made wheel of a package that exists
nowhere else (``fsreg-envtest-tiny``). All models share one requirement set, hence one
environment, built once per worker by two concurrent ``fsreg models prepare-env`` processes.
"""

# Fixtures come from fsreg_testing.models (imported by name), so pytest's argument names shadow
# them: that is how pytest fixtures are shared without a conftest.
# ruff: noqa: F811

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import fsregistry
from fsreg_testing.models import model_cache, tracking  # noqa: F401 - fixtures
from fsregistry import pyfunc
from fsregistry.envs import EnvironmentBuildError, ModelEnvironment, prepare_env
from fsregistry.envs.builder import LOCKS_DIR, MARKER_FILE
from fsregistry.envs.spec import read_env_spec
from fsregistry.exceptions import FsRegistryException, InvalidParameterValue
from fsregistry.models import SchemaEnforcementError, infer_signature, predict
from fsregistry.models.environment import requirement_name
from fsregistry.models.hashes import write_manifest

FSREG = shutil.which("fsreg", path=os.path.dirname(sys.executable)) or "fsreg"
TINY = "fsreg-envtest-tiny"
EXTRA_REQS = [f"{TINY}==1.0", "six==1.16.0"]  # six: the host has another version
FRAME = pd.DataFrame({"x": [1.0, 2.5, -3.0]})

# Classes defined in "__main__" are pickled by value: the environment has no tests/ directory.
MODEL_SOURCE = '''
import fsregistry.pyfunc as pyfunc_module


class Affine(pyfunc_module.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input["x"] * 2.0 + 1.0


class EnvReport(pyfunc_module.PythonModel):
    """Predicts facts about the interpreter it runs in."""

    def predict(self, context, model_input, params=None):
        import importlib.metadata
        import importlib.util
        import sys

        report = {
            "six": importlib.metadata.version("six"),
            "tiny": importlib.util.find_spec("fsreg_envtest_tiny") is not None,
            "typer": importlib.util.find_spec("typer") is not None,
            "pytest": importlib.util.find_spec("pytest") is not None,
            "prefix": sys.prefix,
            "fsregistry": importlib.util.find_spec("fsregistry").origin,
        }
        return [report for _ in range(len(model_input))]
'''


def model_class(name: str) -> Any:
    namespace: dict[str, Any] = {"__name__": "__main__"}
    exec(MODEL_SOURCE, namespace)
    return namespace[name]


def offline_pip(wheelhouse: Path) -> dict[str, str]:
    """pip settings of an air-gapped site: only this wheel directory, no pip.conf."""
    return {
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse),
        "PIP_CONFIG_FILE": os.devnull,
    }


def fsreg(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [FSREG, *args], capture_output=True, text=True, timeout=900, env=os.environ.copy()
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"fsreg {' '.join(args)} -> {proc.returncode}\n{proc.stderr}")
    return proc


def write_tiny_wheel(directory: Path) -> Path:
    """A pure-Python wheel of ``fsreg-envtest-tiny 1.0``, on no index anywhere."""
    files = {
        "fsreg_envtest_tiny/__init__.py": "FACTOR = 3\n",
        "fsreg_envtest_tiny-1.0.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {TINY}\nVersion: 1.0\n"
        ),
        "fsreg_envtest_tiny-1.0.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: fsregistry-tests\nRoot-Is-Purelib: true\n"
            "Tag: py3-none-any\n"
        ),
    }
    record = []
    for name, text in files.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("fsreg_envtest_tiny-1.0.dist-info/RECORD,,")
    files["fsreg_envtest_tiny-1.0.dist-info/RECORD"] = "\n".join(record) + "\n"
    path = directory / "fsreg_envtest_tiny-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


@dataclass
class Shared:
    root: Path
    wheelhouse: Path
    model_dir: Path
    env: ModelEnvironment
    cli_runs: list[tuple[str, str]]


def _build_shared(base: Path) -> dict[str, Any]:
    """Wheel directory, model, and its environment built by two concurrent CLI processes."""
    model_dir = base / "model"
    pyfunc.save_model(
        model_dir, python_model=model_class("Affine")(), extra_pip_requirements=EXTRA_REQS
    )
    wheelhouse = base / "wheelhouse"
    wheelhouse.mkdir()
    write_tiny_wheel(wheelhouse)
    spec = read_env_spec(str(model_dir))
    from_index = [r for r in spec.requirements if requirement_name(r) != TINY]
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "download", "--quiet", "--only-binary=:all:"),
            *("--dest", str(wheelhouse), *spec.build_dependencies, *from_index),
        ],
        check=True,
        timeout=900,
        capture_output=True,
    )
    root = base / "env-root"
    env = {**os.environ, "FSREG_ENV_ROOT": str(root), **offline_pip(wheelhouse)}
    cmd = [FSREG, "models", "prepare-env", "-m", str(model_dir), "--json"]
    procs = [
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    runs = []
    for proc in procs:
        out, err = proc.communicate(timeout=900)
        if proc.returncode != 0:
            raise AssertionError(f"fsreg models prepare-env failed ({proc.returncode}):\n{err}")
        runs.append((out, err))
    return {
        "root": str(root),
        "wheelhouse": str(wheelhouse),
        "model_dir": str(model_dir),
        "env": json.loads(runs[0][0]),
        "cli_runs": runs,
    }


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Shared:
    """The environment of every model with ``EXTRA_REQS``, built offline once per test
    session: the first xdist worker builds it, the other waits for it (test-side lock)."""
    from filelock import FileLock

    session = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        session = session.parent  # shared by the workers of this session
    base = session / "fsreg-envs"
    base.mkdir(exist_ok=True)
    record = base / "setup.json"
    with FileLock(str(base / "setup.lock")):
        if not record.exists():
            try:
                data = _build_shared(base)
            except (AssertionError, subprocess.SubprocessError, OSError) as exc:
                record.write_text(json.dumps({"error": str(exc)}))
                raise
            record.write_text(json.dumps(data))
    data = json.loads(record.read_text())
    if "error" in data:
        raise AssertionError(f"shared environment setup failed in another worker: {data['error']}")
    info = data["env"]
    return Shared(
        root=Path(data["root"]),
        wheelhouse=Path(data["wheelhouse"]),
        model_dir=Path(data["model_dir"]),
        env=ModelEnvironment(Path(info["path"]), Path(info["python"]), info["env_hash"]),
        cli_runs=[(out, err) for out, err in data["cli_runs"]],
    )


@pytest.fixture
def offline(shared: Shared, monkeypatch: pytest.MonkeyPatch) -> Shared:
    """This test's process (and its subprocesses) use the shared root and offline pip."""
    monkeypatch.setenv("FSREG_ENV_ROOT", str(shared.root))
    for key, value in offline_pip(shared.wheelhouse).items():
        monkeypatch.setenv(key, value)
    return shared


def snapshot(root: Path) -> dict[str, int]:
    """Every path under ``root``, with its mtime for files and links. Bytecode caches aside:
    Python writes those on first import (which also changes their directories' mtimes)."""
    return {
        str(p.relative_to(root)): 0 if stat.S_ISDIR(p.lstat().st_mode) else p.lstat().st_mtime_ns
        for p in root.rglob("*")
        if "__pycache__" not in p.parts
    }


def env_python(env: ModelEnvironment, code: str) -> str:
    return subprocess.run(
        [str(env.python), "-I", "-c", code], capture_output=True, text=True, check=True, timeout=120
    ).stdout.strip()


# ------------------------------------------------------------------------------ prepare-env
def test_concurrent_prepares_build_once(shared: Shared) -> None:
    outputs = [json.loads(out) for out, _ in shared.cli_runs]
    assert outputs[0] == outputs[1]
    errs = [err for _, err in shared.cli_runs]
    assert sum("Creating the model environment" in e for e in errs) == 1
    assert sum("Waiting for another process" in e for e in errs) == 1
    assert sorted(p.name for p in shared.root.iterdir()) == sorted([LOCKS_DIR, shared.env.env_hash])
    assert shared.env.root == shared.root / shared.env.env_hash
    assert (shared.env.root / MARKER_FILE).is_file()
    assert not (shared.env.root / ".fsregistry-build").exists()


def test_prepare_env_twice_is_the_same_env_and_creates_nothing(offline: Shared) -> None:
    before = snapshot(offline.root)
    first = prepare_env(str(offline.model_dir))
    second = prepare_env(str(offline.model_dir))
    assert first == second == offline.env
    assert snapshot(offline.root) == before
    marker = json.loads((first.root / MARKER_FILE).read_text())
    assert marker["python"].split(".")[:2] == [str(v) for v in sys.version_info[:2]]
    assert f"{TINY}==1.0" in marker["requirements"]
    assert not any(requirement_name(r) == "fsregistry" for r in marker["requirements"])


def test_environment_is_isolated_and_has_fsregistry(offline: Shared) -> None:
    env = offline.env
    report = json.loads(
        env_python(
            env,
            "import json, importlib.metadata as md, importlib.util as u, site, sys, fsregistry, "
            "fsreg_envtest_tiny\n"
            "print(json.dumps({'prefix': sys.prefix, 'path': sys.path,"
            " 'user_site': site.ENABLE_USER_SITE, 'fsregistry': fsregistry.__file__,"
            " 'version': md.version('fsregistry'), 'six': md.version('six'),"
            " 'factor': fsreg_envtest_tiny.FACTOR,"
            " 'host_only': [m for m in ('typer', 'pytest', 's3fs', 'moto')"
            " if u.find_spec(m) is not None]}))",
        )
    )
    assert Path(report["prefix"]).resolve() == env.root.resolve()
    assert Path(report["fsregistry"]).resolve().is_relative_to(env.root.resolve())
    assert report["version"] == fsregistry.__version__
    assert report["six"] == "1.16.0" and report["factor"] == 3
    assert report["host_only"] == [] and report["user_site"] is False
    host_site = [p for p in sys.path if "site-packages" in p]
    assert host_site and not set(host_site) & set(report["path"])


# ------------------------------------------------------------------------------ uv
def test_uv_builds_the_environment_offline_from_pip_settings(
    offline: Shared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """env_manager="uv": the same environment built by uv in ``<hash>-uv``, from the same
    offline pip settings (PIP_NO_INDEX / PIP_FIND_LINKS passed to uv as flags). Built in a
    root of its own: other workers snapshot the shared root."""
    from fsregistry.envs.uv import uv_binary

    assert uv_binary()  # uv is a test dependency: this test must not pass without it
    root = tmp_path / "uv-env-root"
    monkeypatch.setenv("FSREG_ENV_ROOT", str(root))
    env = prepare_env(str(offline.model_dir), env_manager="uv")
    assert env.root == root / f"{offline.env.env_hash}-uv"
    assert env.env_hash == offline.env.env_hash
    marker = json.loads((env.root / MARKER_FILE).read_text())
    assert marker["env_manager"] == "uv"
    assert json.loads((offline.env.root / MARKER_FILE).read_text())["env_manager"] != "uv"
    report = json.loads(
        env_python(
            env,
            "import json, sys, importlib.metadata as md, fsregistry, fsreg_envtest_tiny\n"
            "print(json.dumps({'prefix': sys.prefix, 'six': md.version('six'),"
            " 'factor': fsreg_envtest_tiny.FACTOR, 'fsregistry': fsregistry.__file__}))",
        )
    )
    assert Path(report["prefix"]).resolve() == env.root.resolve()
    assert report["six"] == "1.16.0" and report["factor"] == 3
    assert Path(report["fsregistry"]).resolve().is_relative_to(env.root.resolve())
    # reused, not rebuilt; predictions equal the local ones, from the API and the CLI
    before = snapshot(env.root)
    assert prepare_env(str(offline.model_dir), env_manager="uv") == env
    local_out, uv_out = tmp_path / "local.json", tmp_path / "uv.json"
    predict(str(offline.model_dir), input_data=FRAME, output_path=local_out)
    got = predict(str(offline.model_dir), input_data=FRAME, env_manager="uv", output_path=uv_out)
    expected = json.loads(local_out.read_text())
    assert json.loads(uv_out.read_text()) == expected
    assert got == expected["predictions"] and len(got) == 3
    cli = fsreg(
        *("models", "prepare-env", "-m", str(offline.model_dir), "--env-manager", "uv"),
        "--json",
    )
    assert json.loads(cli.stdout)["path"] == str(env.root)
    assert snapshot(env.root) == before


def test_uv_missing_is_a_clear_error_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "env-root"
    monkeypatch.setenv("FSREG_ENV_ROOT", str(root))
    model = str(_local_model(tmp_path / "m"))
    monkeypatch.setitem(sys.modules, "uv", None)  # the uv package is not importable...
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # ...and no uv on PATH
    # MLflow's text (mlflow.models.predict), then fsregistry's hint
    missing = r"^Found 'uv' as env_manager, but the 'uv' command is not found in the PATH\. "
    with pytest.raises(EnvironmentBuildError, match=missing + r".*pip install uv"):
        prepare_env(model, env_manager="uv")
    with pytest.raises(EnvironmentBuildError, match=missing):
        predict(model, input_data=FRAME, env_manager="uv")
    assert not root.exists()


def test_pip_index_settings_become_uv_flags() -> None:
    from fsregistry.envs.uv import index_flags

    env = {
        "PIP_INDEX_URL": "https://idx/simple",
        "PIP_EXTRA_INDEX_URL": "https://a/simple https://b/simple",
        "PIP_FIND_LINKS": "/wheels",
        "PIP_NO_INDEX": "1",
    }
    assert index_flags(env) == [
        *("--index-url", "https://idx/simple"),
        *("--extra-index-url", "https://a/simple", "--extra-index-url", "https://b/simple"),
        *("--find-links", "/wheels", "--no-index"),
    ]
    # uv's own settings win: the pip ones are not passed on top of them
    uv_own = {"UV_DEFAULT_INDEX": "x", "UV_EXTRA_INDEX_URL": "y", "UV_FIND_LINKS": "z"}
    assert index_flags({**env, **uv_own, "UV_NO_INDEX": "1"}) == []
    assert index_flags({"PIP_NO_INDEX": "0"}) == []


# ------------------------------------------------------------------------------ predict
@pytest.mark.parametrize("backend", ["local", "s3"], indirect=True)
def test_predict_in_virtualenv_matches_local(
    tracking: str, offline: Shared, tmp_path: Path
) -> None:
    """End to end from a store: registered model -> prepare-env (CLI) -> predict (API, CLI)."""
    marker = offline.env.root / MARKER_FILE
    before = (sorted(p.name for p in offline.root.iterdir()), marker.stat().st_mtime_ns)
    with fsregistry.start_run():
        pyfunc.log_model(
            name="affine",
            python_model=model_class("Affine")(),
            extra_pip_requirements=EXTRA_REQS,
            registered_model_name="envtest",
        )
    uri = "models:/envtest/1"
    # the same requirements as the shared model: the same environment, reused as it is
    path = fsreg("models", "prepare-env", "-m", uri, "-t", tracking).stdout.strip()
    assert path == str(offline.env.root)
    local_out, venv_out = tmp_path / "local.json", tmp_path / "venv.json"
    predict(uri, input_data=FRAME, output_path=local_out)
    returned = predict(uri, input_data=FRAME, output_path=venv_out, env_manager="virtualenv")
    expected = json.loads(local_out.read_text())
    assert json.loads(venv_out.read_text()) == expected
    assert returned == expected["predictions"] and len(returned) == 3
    json_in = tmp_path / "in.json"
    json_in.write_text(json.dumps({"dataframe_records": FRAME.to_dict(orient="records")}))
    cli = fsreg(
        *("predict", "-m", uri, "-i", str(json_in), "--tracking-uri", tracking),
        *("--env-manager", "virtualenv"),
    )
    assert json.loads(cli.stdout) == expected
    # no environment was built or rebuilt (the strict check, every file unchanged, is in
    # test_prepare_env_twice_...: a subprocess here would refresh the fsregistry code if the
    # tree were edited during the run)
    assert (sorted(p.name for p in offline.root.iterdir()), marker.stat().st_mtime_ns) == before


@pytest.mark.parametrize("backend", ["local"], indirect=True)
def test_prediction_runs_inside_the_model_environment(tracking: str, offline: Shared) -> None:
    with fsregistry.start_run():
        info = pyfunc.log_model(
            name="report",
            python_model=model_class("EnvReport")(),
            extra_pip_requirements=EXTRA_REQS,
        )
    inside = predict(info.model_uri, input_data=FRAME.head(1), env_manager="virtualenv")
    fsregistry_file = Path(inside[0].pop("fsregistry"))
    assert inside == [
        {
            "six": "1.16.0",
            "tiny": True,
            "typer": False,
            "pytest": False,
            "prefix": str(offline.env.root),
        }
    ]
    # the environment's copy, even from a working directory holding a fsregistry checkout
    assert fsregistry_file.is_relative_to(offline.env.root)
    here = predict(info.model_uri, input_data=FRAME.head(1))
    assert here[0]["tiny"] is False and here[0]["pytest"] is True
    assert here[0]["prefix"] == sys.prefix
    assert Path(here[0]["fsregistry"]) == Path(fsregistry.__file__)


@pytest.mark.parametrize("backend", ["local"], indirect=True)
def test_csv_input_and_errors_from_the_environment(
    tracking: str, offline: Shared, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signature = infer_signature(FRAME, FRAME["x"])
    with fsregistry.start_run():
        typed = pyfunc.log_model(
            name="typed",
            python_model=model_class("Affine")(),
            signature=signature,
            extra_pip_requirements=EXTRA_REQS,
        )
        untyped = pyfunc.log_model(
            name="untyped", python_model=model_class("Affine")(), extra_pip_requirements=EXTRA_REQS
        )
    csv_in = tmp_path / "in.csv"
    FRAME.to_csv(csv_in, index=False)
    capsys.readouterr()
    predict(typed.model_uri, input_path=csv_in, content_type="csv")
    expected = json.loads(capsys.readouterr().out)
    predict(typed.model_uri, input_path=csv_in, content_type="csv", env_manager="virtualenv")
    assert json.loads(capsys.readouterr().out) == expected
    csv_text = FRAME.to_csv(index=False)
    assert (
        predict(
            untyped.model_uri, input_data=csv_text, content_type="csv", env_manager="virtualenv"
        )
        == expected["predictions"]
    )

    bad = pd.DataFrame({"y": [1.0]})
    out = tmp_path / "out.json"
    with pytest.raises(SchemaEnforcementError, match="x"):
        predict(typed.model_uri, input_data=bad, output_path=out, env_manager="virtualenv")
    with pytest.raises(FsRegistryException, match=r"(?s)Prediction failed.*KeyError: 'x'"):
        predict(untyped.model_uri, input_data=bad, output_path=out, env_manager="virtualenv")
    assert not out.exists()


# ------------------------------------------------------------------------------ bad input
def _local_model(path: Path, extra: list[str] | None = None) -> Path:
    pyfunc.save_model(path, python_model=model_class("Affine")(), extra_pip_requirements=extra)
    return path


def test_unsupported_env_managers_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "env-root"
    monkeypatch.setenv("FSREG_ENV_ROOT", str(root))
    model = str(_local_model(tmp_path / "m"))
    # An unknown value: MLflow's text (mlflow/utils/env_manager.py:validate).
    for manager in ("uvx", "virtualenvs", ""):
        text = (
            f"^Invalid value for `env_manager`: {manager}\\. "
            r"Must be one of \['local', 'conda', 'virtualenv', 'uv'\]"
        )
        with pytest.raises(InvalidParameterValue, match=text):
            predict(model, input_data=FRAME, env_manager=manager)
        with pytest.raises(InvalidParameterValue, match=text):
            prepare_env(model, env_manager=manager)
    # MLflow's value fsregistry does not build
    with pytest.raises(InvalidParameterValue, match=r"^env_manager='conda' is not supported"):
        predict(model, input_data=FRAME, env_manager="conda")
    with pytest.raises(InvalidParameterValue, match=r"^env_manager='conda' is not supported"):
        prepare_env(model, env_manager="conda")
    with pytest.raises(InvalidParameterValue, match=r"^Neither input_data nor input_path"):
        predict(model, env_manager="virtualenv")
    with pytest.raises(
        InvalidParameterValue,
        match=r"^Both input_data and input_path are provided\. Only one of them should be "
        r"specified\.",
    ):
        predict(model, input_data=FRAME, input_path=str(model), env_manager="virtualenv")
    with pytest.raises(InvalidParameterValue, match="when content type is 'csv'"):
        predict(model, input_data=42, content_type="csv", env_manager="virtualenv")
    for extras in ("uvicorn", ["--index-url http://x"], [3]):
        with pytest.raises(InvalidParameterValue, match="extra"):
            prepare_env(model, extras=extras)  # type: ignore[arg-type]
    body = tmp_path / "in.json"
    body.write_text("{}")
    proc = fsreg("predict", "-m", model, "-i", str(body), "--env-manager", "conda", check=False)
    assert proc.returncode == 2 and "conda" in proc.stderr
    assert not root.exists()


def test_missing_python_version_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "env-root"
    monkeypatch.setenv("FSREG_ENV_ROOT", str(root))
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    broken = bin_dir / "python3.4"  # like a pyenv shim of a version that is not active
    broken.write_text("#!/bin/sh\necho 'pyenv: python3.4: command not found' >&2\nexit 127\n")
    broken.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    model = _local_model(tmp_path / "m")
    env_file = model / "python_env.yaml"
    env_file.write_text(env_file.read_text().replace(host_python(), "3.4.10"))
    write_manifest(str(model))  # a model saved that way, not one edited after saving
    with pytest.raises(EnvironmentBuildError, match=r"needs Python 3\.4") as err:
        prepare_env(str(model))
    assert str(broken) in str(err.value) and "never downloads" in str(err.value)
    with pytest.raises(EnvironmentBuildError, match=r"needs Python 3\.4"):
        predict(str(model), input_data=FRAME, env_manager="virtualenv")
    assert not root.exists()


def host_python() -> str:
    """This interpreter's version, as a model saved here records it."""
    return "{}.{}.{}".format(*sys.version_info[:3])


def test_failed_install_leaves_nothing_behind(
    offline: Shared, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "env-root"
    monkeypatch.setenv("FSREG_ENV_ROOT", str(root))
    model = _local_model(tmp_path / "m", ["fsreg-envtest-missing==9.9"])
    env_hash = read_env_spec(str(model)).env_hash
    stale = root / env_hash  # a build killed half-way: no marker, must not be used
    (stale / "bin").mkdir(parents=True)
    (stale / "bin" / "python").symlink_to(sys.executable)
    with pytest.raises(EnvironmentBuildError, match="fsreg-envtest-missing") as err:
        prepare_env(str(model))
    assert "nothing was kept" in str(err.value) and "No matching distribution" in str(err.value)
    assert [p.name for p in root.iterdir()] == [LOCKS_DIR]
    assert [p.name for p in (root / LOCKS_DIR).iterdir()] == [f"{env_hash}.lock"]
