"""Real MLflow in separate, cached virtualenvs (never in the test venv).

Each supported MLflow version gets its own venv with ``mlflow-skinny==<version>``, pandas,
scikit-learn and cloudpickle (plus skops for 3.x, whose sklearn flavour saves with skops by
default). Venvs live in ``$FSREG_MLFLOW_CACHE/mlflow-<version>`` (default cache root:
``~/.cache/fsregistry-mlflow``) and are built once, under a file lock, so parallel
pytest-xdist workers do not both build them. A marker file records the requirement set a venv
was completed with; an existing venv without it (or with another set) is topped up with
``pip install``.

``run_mlflow(version, code, cwd=...)`` runs a snippet in such a venv with
``MLFLOW_ALLOW_FILE_STORE=true``; the snippet prints one JSON document as its last stdout line,
which is parsed and returned.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import venv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "MLFLOW_IDS",
    "MLFLOW_VERSIONS",
    "MlflowEnvError",
    "MlflowPython",
    "cache_root",
    "mlflow_plugin_python",
    "mlflow_python",
    "mlflow_python_env",
    "plugin_requirements",
    "requirements",
    "run_mlflow",
    "venv_name",
]

#: MLflow versions the project is tested against (3.18.0 does not install cleanly from the
#: index; 3.17.2 is the newest 3.x that does).
MLFLOW_VERSIONS: tuple[str, ...] = ("2.22.5", "3.17.2")
#: pytest ids of the versions.
MLFLOW_IDS: dict[str, str] = {v: f"mlflow{v.split('.')[0]}" for v in MLFLOW_VERSIONS}

_MARKER = ".fsregistry-requirements.json"
_INSTALL_TIMEOUT_S = 1800
_LOCK_TIMEOUT_S = 3600

#: Environment for every MLflow subprocess: file store allowed, no telemetry, no network
#: probes, UTF-8 output.
_BASE_ENV = {
    "MLFLOW_ALLOW_FILE_STORE": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_TRACKING_INSECURE_TLS": "false",
    "PYTHONIOENCODING": "utf-8",
    "PYTHONUNBUFFERED": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
}
#: Inherited variables that would leak the test venv into the MLflow venv.
_DROP_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH")


class MlflowEnvError(RuntimeError):
    """Building an MLflow venv or running code in it failed."""


def cache_root() -> Path:
    """Directory holding the ``mlflow-<version>`` venvs."""
    env = os.environ.get("FSREG_MLFLOW_CACHE")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".cache" / "fsregistry-mlflow"


def requirements(version: str, extras: Sequence[str] = ()) -> list[str]:
    """pip requirement strings of the venv for MLflow ``version`` plus ``extras``."""
    reqs = [f"mlflow-skinny=={version}", "pandas", "scikit-learn", "cloudpickle"]
    if int(version.split(".")[0]) >= 3:
        reqs.append("skops")
    return reqs + sorted(set(extras))


def venv_name(version: str, extras: Sequence[str] = ()) -> str:
    """Directory name of the venv: ``mlflow-<version>``, plus ``+<extra>`` per extra package.

    A venv with extras (e.g. ``("matplotlib", "xgboost")`` for flavor or evaluate tests) is a
    separate cached venv, so adding a package never rebuilds the base one other tests share.
    """
    name = f"mlflow-{version}"
    for extra in sorted(set(extras)):
        name += "+" + re.sub(r"[^A-Za-z0-9._-]", "_", extra)
    return name


def _venv_python(venv_dir: Path) -> Path:
    if os.name == "nt":
        return venv_dir / "Scripts" / "python.exe"
    return venv_dir / "bin" / "python"


def _tail(text: str | bytes | None, n: int = 60) -> str:
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-n:])


def _is_ready(venv_dir: Path, reqs: list[str], key: str = "") -> bool:
    marker = venv_dir / _MARKER
    if not marker.is_file() or not _venv_python(venv_dir).exists():
        return False
    try:
        recorded = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return (
        isinstance(recorded, dict)
        and recorded.get("requirements") == reqs
        and recorded.get("key", "") == key
    )


def mlflow_python(version: str, extras: Sequence[str] = ()) -> Path:
    """Path of a python in the cached venv for MLflow ``version`` (+ ``extras``); builds it."""
    if version not in MLFLOW_VERSIONS:
        raise ValueError(f"unsupported MLflow version {version!r}; known: {MLFLOW_VERSIONS}")
    return _ensure_venv(venv_name(version, extras), requirements(version, extras))


def plugin_requirements(version: str, repo: str | os.PathLike[str]) -> list[str]:
    """pip arguments of the venv with full MLflow ``version`` (server and UI) and ``repo``.

    ``repo`` (an fsregistry checkout) is installed editable with its S3/GCS extras, so its
    ``mlflow.tracking_store`` / ``mlflow.model_registry_store`` entry points exist there;
    boto3 and google-cloud-storage let MLflow's own artifact repositories read buckets.
    """
    return [
        f"mlflow=={version}",
        *_pins_from_here(_PLUGIN_PINNED),
        "google-cloud-storage",
        "scikit-learn",
        "cloudpickle",
        "-e",
        f"{Path(repo).resolve()}[s3,gcs]",
    ]


#: Packages whose versions the plugin venv takes from the running (test) environment: s3fs,
#: gcsfs and aiobotocore pin fsspec and botocore exactly, and the index's newest releases of
#: each do not resolve together; the test venv holds a set that does.
_PLUGIN_PINNED = ("fsspec", "s3fs", "gcsfs", "aiobotocore", "botocore", "boto3")


def _pins_from_here(names: Sequence[str]) -> list[str]:
    from importlib import metadata

    pins = []
    for name in names:
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pins.append(name)
    return pins


def mlflow_plugin_python(
    version: str = "3.17.2", repo: str | os.PathLike[str] | None = None
) -> Path:
    """Python of a cached venv with full MLflow ``version`` and fsregistry ``repo`` editable.

    The cache key holds the checkout's path (one venv per checkout, since the editable
    install points at it) and its pyproject.toml's hash (the entry points are written at
    install time, so a changed pyproject reinstalls).
    """
    if version not in MLFLOW_VERSIONS:
        raise ValueError(f"unsupported MLflow version {version!r}; known: {MLFLOW_VERSIONS}")
    repo_path = Path(repo if repo is not None else Path(__file__).resolve().parents[1]).resolve()
    path_hash = hashlib.sha256(str(repo_path).encode()).hexdigest()[:10]
    pyproject = (repo_path / "pyproject.toml").read_bytes()
    key = hashlib.sha256(pyproject).hexdigest()
    return _ensure_venv(
        f"mlflow-{version}+server+fsreg-{path_hash}", plugin_requirements(version, repo_path), key
    )


def _ensure_venv(name: str, reqs: list[str], key: str = "") -> Path:
    root = cache_root()
    venv_dir = root / name
    if _is_ready(venv_dir, reqs, key):
        return _venv_python(venv_dir)

    from filelock import FileLock, Timeout

    root.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(root / f"{name}.lock"))
    try:
        lock.acquire(timeout=_LOCK_TIMEOUT_S)
    except Timeout as exc:
        raise MlflowEnvError(
            f"timed out after {_LOCK_TIMEOUT_S}s waiting for another process to build "
            f"{venv_dir} (lock {lock.lock_file})"
        ) from exc
    try:
        if _is_ready(venv_dir, reqs, key):  # built by another process meanwhile
            return _venv_python(venv_dir)
        _build(venv_dir, reqs, key)
    finally:
        lock.release()
    return _venv_python(venv_dir)


def _build(venv_dir: Path, reqs: list[str], key: str = "") -> None:
    python = _venv_python(venv_dir)
    if not python.exists():
        try:
            venv.EnvBuilder(with_pip=True, clear=venv_dir.exists()).create(venv_dir)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise MlflowEnvError(f"creating virtualenv {venv_dir} failed: {exc}") from exc
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *reqs]
    env = {k: v for k, v in os.environ.items() if k not in _DROP_ENV}
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            env=env,
            timeout=_INSTALL_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise MlflowEnvError(
            f"pip install into {venv_dir} timed out after {_INSTALL_TIMEOUT_S}s: {cmd}\n"
            f"{_tail(exc.stdout)}\n{_tail(exc.stderr)}"
        ) from exc
    if proc.returncode != 0:
        raise MlflowEnvError(
            f"pip install into {venv_dir} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"--- pip stdout (tail) ---\n{_tail(proc.stdout)}\n"
            f"--- pip stderr (tail) ---\n{_tail(proc.stderr)}"
        )
    check = subprocess.run(
        [
            str(python),
            "-c",
            "import mlflow, sklearn, pandas, cloudpickle; print(mlflow.__version__)",
        ],
        capture_output=True,
        text=True,
        env={**env, **_BASE_ENV},
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    if check.returncode != 0:
        raise MlflowEnvError(
            f"MLflow venv {venv_dir} was installed but importing mlflow fails:\n"
            f"{_tail(check.stderr)}"
        )
    marker = venv_dir / _MARKER
    tmp = marker.with_suffix(".tmp")
    record = {"requirements": reqs, "mlflow": check.stdout.strip()}
    if key:
        record["key"] = key
    tmp.write_text(json.dumps(record))
    os.replace(tmp, marker)


def mlflow_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment ``run_mlflow`` gives the MLflow process."""
    env = {k: v for k, v in os.environ.items() if k not in _DROP_ENV}
    env.update(_BASE_ENV)
    if extra:
        env.update(extra)
    return env


def run_mlflow(
    version: str,
    code: str,
    *,
    cwd: str | os.PathLike[str],
    env: dict[str, str] | None = None,
    timeout: float = 600,
    extras: Sequence[str] = (),
    python: Path | None = None,
) -> Any:
    """Run ``code`` with MLflow ``version``'s python in ``cwd``; return its last stdout line as JSON.

    ``env`` is added to the inherited environment (after ``MLFLOW_ALLOW_FILE_STORE=true`` and
    the other defaults, so it can override them). ``extras`` selects the venv that also has
    those packages (see ``venv_name``), ``python`` another venv's python (e.g.
    ``mlflow_plugin_python()``). ``cwd`` matters to MLflow 3: its default
    tracking URI is ``./mlruns`` only if that directory already holds experiments.
    """
    python = python or mlflow_python(version, extras)
    with tempfile.TemporaryDirectory(prefix="fsreg-mlflow-code-") as tmp:
        script = Path(tmp) / "snippet.py"
        script.write_text(code, encoding="utf-8")
        try:
            proc = subprocess.run(
                [str(python), str(script)],
                cwd=os.fspath(cwd),
                env=mlflow_env(env),
                capture_output=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired as exc:
            raise MlflowEnvError(
                f"MLflow {version} snippet timed out after {timeout}s (cwd={cwd}).\n"
                f"--- stdout (tail) ---\n{_tail(exc.stdout)}\n"
                f"--- stderr (tail) ---\n{_tail(exc.stderr)}"
            ) from exc
    stdout = proc.stdout.decode("utf-8", errors="replace")
    if proc.returncode != 0:
        raise MlflowEnvError(
            f"MLflow {version} snippet failed (exit {proc.returncode}, cwd={cwd}).\n"
            f"--- stdout (tail) ---\n{_tail(stdout, 20)}\n"
            f"--- stderr (tail) ---\n{_tail(proc.stderr)}"
        )
    lines = [line for line in stdout.splitlines() if line.strip()]
    if not lines:
        raise MlflowEnvError(
            f"MLflow {version} snippet printed nothing; it must print one JSON document as "
            f"its last stdout line.\n--- stderr (tail) ---\n{_tail(proc.stderr)}"
        )
    try:
        return json.loads(lines[-1])
    except ValueError as exc:
        raise MlflowEnvError(
            f"MLflow {version} snippet's last stdout line is not JSON: {lines[-1][:500]!r}\n"
            f"--- stdout (tail) ---\n{_tail(stdout, 20)}"
        ) from exc


@dataclass(frozen=True)
class MlflowPython:
    """A real MLflow version and the python of its venv (``os.PathLike`` to that python)."""

    version: str
    python: Path

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def __fspath__(self) -> str:
        return str(self.python)

    def run(
        self,
        code: str,
        *,
        cwd: str | os.PathLike[str],
        env: dict[str, str] | None = None,
        timeout: float = 600,
    ) -> Any:
        """``run_mlflow(self.version, code, ...)``."""
        return run_mlflow(self.version, code, cwd=cwd, env=env, timeout=timeout)


def mlflow_python_env(version: str) -> MlflowPython:
    """``MlflowPython`` for ``version``, building its venv if needed."""
    return MlflowPython(version, mlflow_python(version))


if __name__ == "__main__":
    # python fsreg_testing/mlflow_env.py [VERSION ...]: build (or check) the venvs.
    for v in sys.argv[1:] or MLFLOW_VERSIONS:
        print(v, mlflow_python(v), flush=True)
