"""TensorFlow in its own cached virtualenv (never in the shared test venv).

TensorFlow is too heavy for the main test environment (about 600 MB installed, and a few
seconds to import), so the ``tensorflow`` / ``keras`` flavor tests run in a separate venv:
fsregistry's core dependencies, the test dependencies the flavor suite needs (pytest, the
S3/GCS emulators and SDKs) and ``tensorflow-cpu`` (which brings Keras 3). fsregistry itself is
not installed there: the suite runs with the worktree on ``PYTHONPATH``, so the code under test
is always the checkout's.

The venv lives in ``<cache root>/tensorflow-<version>`` (the cache root of
``fsreg_testing.mlflow_env``, ``~/.cache/fsregistry-mlflow`` by default) and is built once,
under a file lock, with a marker recording its requirement set (as the MLflow venvs are).

``run_tf_suite(paths, junit)`` runs pytest on ``paths`` inside that venv and returns the
completed process; ``python -m fsreg_testing.tf_env`` builds (or checks) the venv. The venv
gets an ``fsreg`` launcher (for the scoring-server tests).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

from fsreg_testing.mlflow_env import MlflowEnvError, cache_root

__all__ = ["REPO_ROOT", "TF_VERSION", "requirements", "run_tf_suite", "tf_python"]

#: The tensorflow-cpu release the flavor is tested with (Keras 3.x comes with it).
TF_VERSION = "2.21.0"
REPO_ROOT = Path(__file__).resolve().parent.parent

_MARKER = ".fsregistry-requirements.json"
_INSTALL_TIMEOUT_S = 2400
_LOCK_TIMEOUT_S = 3600
#: Test dependencies the TensorFlow suite does not use (other frameworks, linters, stubs).
_SKIP_TEST_DEPS = (
    "xgboost",
    "lightgbm",
    "statsmodels",
    "onnx",
    "ruff",
    "mypy",
    "types-",
    "pandas-stubs",
    "plotly",
    "matplotlib",
    "pillow",
    "hypothesis",
    "skops",
)
_DROP_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH")


def requirements() -> list[str]:
    """pip requirements of the venv: core + the suite's test deps + tensorflow-cpu."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    test = [
        r
        for r in project["optional-dependencies"]["test"]
        if not r.lower().startswith(_SKIP_TEST_DEPS)
    ]
    return [*project["dependencies"], *test, f"tensorflow-cpu=={TF_VERSION}"]


def _python(venv_dir: Path) -> Path:
    return venv_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _ready(venv_dir: Path, reqs: list[str]) -> bool:
    try:
        recorded = json.loads((venv_dir / _MARKER).read_text())
    except (OSError, ValueError):
        return False
    return _python(venv_dir).exists() and recorded.get("requirements") == reqs


def tf_python() -> Path:
    """The python of the cached TensorFlow venv; builds it (once, under a lock) if needed."""
    venv_dir = cache_root() / f"tensorflow-{TF_VERSION}"
    reqs = requirements()
    if _ready(venv_dir, reqs):
        return _launcher(venv_dir)
    from filelock import FileLock

    venv_dir.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(venv_dir) + ".lock", timeout=_LOCK_TIMEOUT_S):
        if not _ready(venv_dir, reqs):
            _build(venv_dir, reqs)
    return _launcher(venv_dir)


def _launcher(venv_dir: Path) -> Path:
    """Give the venv an ``fsreg`` command (fsregistry is on PYTHONPATH, not installed), so the
    scoring-server tests start ``fsreg models serve`` with TensorFlow; returns the python."""
    python = _python(venv_dir)
    script = python.parent / "fsreg"
    text = f"#!{python}\nimport sys\nfrom fsregistry.cli.app import main\nsys.exit(main())\n"
    if os.name != "nt" and (not script.exists() or script.read_text() != text):
        tmp = script.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(text)
        tmp.chmod(0o755)
        os.replace(tmp, script)
    return python


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _DROP_ENV}


def _build(venv_dir: Path, reqs: list[str]) -> None:
    python = _python(venv_dir)
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=venv_dir.exists()).create(venv_dir)
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *reqs]
    proc = subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=_INSTALL_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
    )
    if proc.returncode != 0:
        raise MlflowEnvError(
            f"pip install into {venv_dir} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    check = subprocess.run(
        [
            str(python),
            "-c",
            "import tensorflow as tf, keras; print(tf.__version__, keras.__version__)",
        ],
        capture_output=True,
        text=True,
        env={**_env(), "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    if check.returncode != 0:
        raise MlflowEnvError(f"TensorFlow venv {venv_dir}: import fails:\n{check.stderr[-3000:]}")
    marker = venv_dir / _MARKER
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps({"requirements": reqs, "versions": check.stdout.strip()}))
    os.replace(tmp, marker)


def run_tf_suite(
    paths: list[str], junit: Path, *, timeout: float = 1800
) -> subprocess.CompletedProcess[str]:
    """Run ``pytest paths`` in the TensorFlow venv (worktree first on ``PYTHONPATH``)."""
    python = tf_python()
    env = {
        **_env(),
        "PYTHONPATH": str(REPO_ROOT),
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "CUDA_VISIBLE_DEVICES": "-1",
        "FSREG_TF_SUITE": "1",
    }
    cmd = [
        str(python),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-rA",
        f"--junitxml={junit}",
        *paths,
    ]
    return subprocess.run(
        cmd,
        cwd=str(REPO_ROOT),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


if __name__ == "__main__":
    print(tf_python(), flush=True)
    sys.exit(0)
