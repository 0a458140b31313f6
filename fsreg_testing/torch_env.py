"""PyTorch in its own cached virtualenv (never in the shared test venv).

torch is too heavy for the main test environment (the CPU wheel alone is about 200 MB, about
1 GB installed with its dependencies), so the ``pytorch`` flavor tests run in a separate venv
holding fsregistry's core dependencies, the test dependencies that suite uses (pytest, the
S3/GCS emulators and SDKs, the scoring server, pyspark for ``spark_udf``) and
``torch==TORCH_VERSION`` (a CPU build: the only one installed from a local file here; another
version would download a multi-GB CUDA build). fsregistry itself is not installed there: the
suite runs with the checkout on ``PYTHONPATH``, so the code under test is the checkout's.

The venv is ``<cache root>/torch-<version>`` (the cache root of ``fsreg_testing.mlflow_env``,
``~/.cache/fsregistry-mlflow`` by default), built once under a file lock, with a marker file
recording its requirement set; a venv without it (or with another set) is topped up.

``torch_python()`` builds (or finds) it; ``run_torch_suite(paths, junit)`` runs pytest on
``paths`` in it; ``python -m fsreg_testing.torch_env`` builds it and prints the build time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
import venv
from pathlib import Path

from fsreg_testing.mlflow_env import MlflowEnvError, cache_root

__all__ = [
    "REPO_ROOT",
    "SUITE_ENV",
    "TORCH_VERSION",
    "requirements",
    "run_torch_suite",
    "torch_python",
]

#: The torch release the flavor is tested with (its CPU wheel is on this machine's disk).
TORCH_VERSION = "2.13.0"
REPO_ROOT = Path(__file__).resolve().parent.parent
#: Set in the suite's environment: the test module runs its tests instead of re-invoking.
SUITE_ENV = "FSREG_TORCH_SUITE"

_MARKER = ".fsregistry-requirements.json"
_INSTALL_TIMEOUT_S = 2400
_LOCK_TIMEOUT_S = 3600
#: Test dependencies the torch suite does not use (other frameworks, linters, stubs, plots).
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
    "scikit-learn",
)
_DROP_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH")


def requirements() -> list[str]:
    """pip requirements of the venv: core + the suite's test deps + torch (pinned)."""
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    test = [
        r
        for r in project["optional-dependencies"]["test"]
        if not r.lower().startswith(_SKIP_TEST_DEPS)
    ]
    return [*project["dependencies"], *test, f"torch=={TORCH_VERSION}"]


def venv_dir() -> Path:
    """Where the venv lives."""
    return cache_root() / f"torch-{TORCH_VERSION}"


def _python(root: Path) -> Path:
    return root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _ready(root: Path, reqs: list[str]) -> bool:
    try:
        recorded = json.loads((root / _MARKER).read_text())
    except (OSError, ValueError):
        return False
    return (
        _python(root).exists()
        and isinstance(recorded, dict)
        and recorded.get("requirements") == reqs
    )


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in _DROP_ENV}


def torch_python() -> Path:
    """The python of the cached torch venv; builds it (once, under a lock) if needed."""
    root = venv_dir()
    reqs = requirements()
    if not _ready(root, reqs):
        from filelock import FileLock

        root.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(root) + ".lock", timeout=_LOCK_TIMEOUT_S):
            if not _ready(root, reqs):
                _build(root, reqs)
    _fsreg_script(root)
    return _python(root)


def _fsreg_script(root: Path) -> None:
    """An ``fsreg`` console script in the venv (fsregistry is not installed there; the script
    runs the checkout's CLI from ``PYTHONPATH``), where the scoring-server tests look for it."""
    if os.name == "nt":
        return
    script = root / "bin" / "fsreg"
    text = f"#!{_python(root)}\nimport sys\nfrom fsregistry.cli.app import main\nsys.exit(main())\n"
    if script.is_file() and script.read_text() == text:
        return
    tmp = script.with_name(f".fsreg.{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.chmod(0o755)
    os.replace(tmp, script)


def _build(root: Path, reqs: list[str]) -> None:
    python = _python(root)
    if not python.exists():
        venv.EnvBuilder(with_pip=True, clear=root.exists()).create(root)
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *reqs]
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            env=_env(),
            timeout=_INSTALL_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise MlflowEnvError(f"pip install into {root} timed out: {' '.join(cmd)}") from exc
    if proc.returncode != 0:
        raise MlflowEnvError(
            f"pip install into {root} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    check = subprocess.run(
        [str(python), "-c", "import torch, pandas, pytest; print(torch.__version__)"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    if check.returncode != 0:
        raise MlflowEnvError(f"torch venv {root}: importing torch fails:\n{check.stderr[-3000:]}")
    marker = root / _MARKER
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps({"requirements": reqs, "torch": check.stdout.strip()}))
    os.replace(tmp, marker)


def run_torch_suite(
    paths: list[str],
    junit: Path,
    *,
    python: Path | None = None,
    extra_args: tuple[str, ...] = (),
    timeout: float = 1800,
) -> subprocess.CompletedProcess[str]:
    """Run ``pytest paths`` in the torch venv, or with ``python`` (one that has torch), the
    checkout first on ``PYTHONPATH``."""
    python = python or torch_python()
    env = {
        **_env(),
        "PYTHONPATH": str(REPO_ROOT),
        "CUDA_VISIBLE_DEVICES": "",
        SUITE_ENV: "1",
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
        *extra_args,
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
    start = time.monotonic()
    print(torch_python(), f"({time.monotonic() - start:.0f} s)", flush=True)
    sys.exit(0)
