"""The MLflow the benchmark compares against, in its own cached virtualenv.

``mlflow-skinny`` (as in ``fsreg_testing/mlflow_env.py``) plus ``sqlalchemy`` and ``alembic``, which
MLflow's SQLite store needs and ``mlflow-skinny`` lacks, and ``filelock``/``fsspec`` for
fsregistry's exporter (``scale.py --sqlite``). Kept apart from the test venvs
(``$FSREG_MLFLOW_CACHE/bench-mlflow-<version>``): with SQLAlchemy installed, MLflow 3 may pick
a different default store, which the compatibility tests must not see.
"""

from __future__ import annotations

import json
import os
import subprocess
import venv
from pathlib import Path

from fsreg_testing.mlflow_env import cache_root, mlflow_env

MLFLOW_VERSION = "3.17.2"
# filelock and fsspec: fsregistry's exporter (``fsreg export --to sqlite:///...``) runs in this
# venv with the checkout on PYTHONPATH to load a benchmark tree into MLflow's SQLite schema.
REQUIREMENTS = [
    f"mlflow-skinny=={MLFLOW_VERSION}",
    "sqlalchemy>=2,<3",
    "alembic>=1.12,<2",
    "filelock>=3.12",
    "fsspec>=2024.6",
]
_MARKER = ".fsreg-bench-requirements.json"


def venv_dir() -> Path:
    return cache_root() / f"bench-mlflow-{MLFLOW_VERSION}"


def _python(d: Path) -> Path:
    return d / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _ready(d: Path) -> bool:
    try:
        return json.loads((d / _MARKER).read_text()).get("requirements") == REQUIREMENTS
    except (OSError, ValueError):
        return False


def bench_mlflow_python() -> Path:
    """Python of the benchmark's MLflow venv; builds it on first use (about 30 s)."""
    d = venv_dir()
    if _ready(d) and _python(d).exists():
        return _python(d)
    from filelock import FileLock

    d.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(d) + ".lock", timeout=1800):
        if _ready(d) and _python(d).exists():
            return _python(d)
        if not _python(d).exists():
            venv.EnvBuilder(with_pip=True, clear=d.exists()).create(d)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        cmd = [str(_python(d)), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        proc = subprocess.run(
            [*cmd, *REQUIREMENTS], capture_output=True, text=True, env=env, timeout=1800
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"installing {REQUIREMENTS} into {d} failed:\n{proc.stdout[-3000:]}\n"
                f"{proc.stderr[-3000:]}"
            )
        check = subprocess.run(
            [
                str(_python(d)),
                "-c",
                "import mlflow, sqlalchemy, alembic; print(mlflow.__version__)",
            ],
            capture_output=True,
            text=True,
            env=mlflow_env(),
            timeout=300,
        )
        if check.returncode != 0 or check.stdout.strip() != MLFLOW_VERSION:
            raise RuntimeError(f"MLflow venv {d} does not import MLflow: {check.stderr[-3000:]}")
        (d / _MARKER).write_text(json.dumps({"requirements": REQUIREMENTS}))
    return _python(d)


def bench_mlflow_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for MLflow processes: file store allowed, telemetry off (tests' defaults)."""
    return mlflow_env(extra)


if __name__ == "__main__":
    print(bench_mlflow_python())
