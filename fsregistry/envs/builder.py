"""Create (once) and find model environments under the environment root.

Layout: ``<root>/<env hash>/`` is a standard ``venv`` plus ``fsregistry-code/`` (the host's
fsregistry, see :mod:`fsregistry.envs.host_package`); ``<root>/<env hash>/.fsregistry-env.json``
(the marker) is written last, so an environment without it is never used; ``<root>/.locks/``
holds one empty lock file per environment. ``env_manager="virtualenv"`` builds with ``python -m
venv`` and pip; ``"uv"`` builds the same environment with uv in ``<root>/<env hash>-uv/`` (see
:mod:`fsregistry.envs.uv`).

Why build in place under a lock rather than in a temporary directory renamed at the end: a
virtualenv is not relocatable (console-script shebangs such as ``bin/pip`` and the
``activate`` scripts hold its absolute path), so it must be created at its final path. Two
processes preparing the same environment serialize on ``.locks/<hash>.lock``: the second one
waits, then finds the marker and uses the finished environment. A directory without a marker
(a build killed half-way) is deleted and rebuilt by the next process holding the lock. A
failed build (venv, pip, the final import check, or an interrupt) deletes the directory
before the error is raised.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from fsregistry.envs.errors import EnvironmentBuildError
from fsregistry.envs.interpreters import Interpreter, find_interpreter
from fsregistry.envs.spec import EnvSpec
from fsregistry.envs.uv import DIR_SUFFIX, UV, index_flags, uv_binary, uv_environment
from fsregistry.models.env_manager import check_env_manager
from fsregistry.models.environment import installed_version, requirement_name

_logger = logging.getLogger("fsregistry.envs")

VIRTUALENV = "virtualenv"
#: The ``env_manager`` values that build an isolated environment.
ISOLATED_MANAGERS = (VIRTUALENV, UV)
MARKER_FILE = ".fsregistry-env.json"
LOCKS_DIR = ".locks"
_TAIL_LINES = 25
# What loading and scoring any model imports (also compiles their bytecode once).
_IMPORT_CHECK = (
    "import fsregistry.pyfunc, fsregistry.pyfunc.predict, fsregistry.envs.predict_runner, "
    "fsregistry.models.input_example, pandas, numpy, cloudpickle, yaml"
)
# Variables that would make the environment's Python or pip look outside the environment.
_LEAKING_ENV = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONUSERBASE",
    "VIRTUAL_ENV",
    "CONDA_PREFIX",
    "__PYVENV_LAUNCHER__",
    "PIP_USER",
    "PIP_TARGET",
    "PIP_PREFIX",
    "PIP_ROOT",
    "PIP_REQUIRE_VIRTUALENV",
)


@dataclass(frozen=True)
class ModelEnvironment:
    """A ready model environment: ``python`` imports the model's requirements, fsregistry
    (the host's code) and the extras it was prepared with.

    Run it as ``python -I ...`` (or from a neutral working directory): ``python -c``/``-m``
    put the current directory first on ``sys.path``, so from a source checkout the host's
    fsregistry would shadow the environment's copy.
    """

    root: Path
    python: Path
    env_hash: str


def env_root() -> Path:
    """``$FSREG_ENV_ROOT``, else ``~/.cache/fsregistry/envs``."""
    env = os.environ.get("FSREG_ENV_ROOT")
    if env:
        return Path(env).expanduser().absolute()
    return Path.home() / ".cache" / "fsregistry" / "envs"


def venv_python(env_dir: Path) -> Path:
    if os.name == "nt":
        return env_dir / "Scripts" / "python.exe"
    return env_dir / "bin" / "python"


def subprocess_env() -> dict[str, str]:
    """The caller's environment minus what would leak the host's packages into a model env.

    ``PIP_*`` settings (index URL, find-links, no-index, certificates) and pip.conf are kept:
    they are how a site points pip at its own index or wheel directory.
    """
    env = {k: v for k, v in os.environ.items() if k not in _LEAKING_ENV}
    env["PYTHONNOUSERSITE"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PIP_NO_INPUT"] = "1"
    return env


def read_marker(env_dir: Path) -> dict[str, object] | None:
    try:
        with open(env_dir / MARKER_FILE, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _ready(env_dir: Path, env_hash: str) -> bool:
    """Complete (marker written last) and usable: ``exists()`` follows the venv's python
    symlink, so an environment whose base interpreter was removed is rebuilt."""
    marker = read_marker(env_dir)
    return (
        marker is not None
        and marker.get("env_hash") == env_hash
        and isinstance(marker.get("site_packages"), str)
        and venv_python(env_dir).exists()
    )


def _site_packages(env_dir: Path) -> Path:
    marker = read_marker(env_dir) or {}
    recorded = marker.get("site_packages")
    if isinstance(recorded, str):
        return Path(recorded)
    out = _run(
        [
            str(venv_python(env_dir)),
            "-I",
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        cwd=None,
        what="Locating site-packages",
        env_dir=env_dir,
    )
    return Path(out.strip())


def _tail(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-_TAIL_LINES:])


def _run(
    cmd: Sequence[str],
    *,
    cwd: str | None,
    what: str,
    env_dir: Path,
    env: dict[str, str] | None = None,
) -> str:
    _logger.info("%s", what)
    try:
        proc = subprocess.run(
            list(cmd),
            cwd=cwd,
            env=env if env is not None else subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
        )
    except OSError as exc:
        raise EnvironmentBuildError(
            f"Could not build the model environment {env_dir}: {what} failed to start: {exc}"
        ) from None
    _logger.debug("%s output:\n%s", cmd[0], proc.stdout)
    if proc.returncode != 0:
        raise EnvironmentBuildError(
            f"Could not build the model environment {env_dir}: {what} failed "
            f"(exit {proc.returncode}); nothing was kept. Last output lines:\n{_tail(proc.stdout)}"
        )
    return proc.stdout


def _pip_install(
    pip: Sequence[str], env_dir: Path, lines: Sequence[str], req_file: Path, cwd: str, what: str
) -> None:
    """``pip install -r`` into the environment, run from the model directory (as MLflow does)
    so relative paths in the model's requirements resolve.

    ``--no-compile``: byte-compiling every installed file (all of pandas, scipy...) is most of
    an install's time; the modules a model load needs are compiled by the import check at the
    end of the build, the rest on first import.
    """
    req_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cmd = [*pip, "install", "--no-compile", "--progress-bar", "off", "-r", str(req_file)]
    _run(cmd, cwd=cwd, what=what, env_dir=env_dir)


def _host_pip_bootstraps(spec: EnvSpec, interpreter: Interpreter) -> bool:
    """Whether this process's pip can install the build dependencies (which include pip)
    straight into a pip-less venv (``pip --python``, pip >= 22.3).

    Seeding a venv with ensurepip installs and byte-compiles a pip that the build
    dependencies then replace; skipping it saves a large part of an environment's build
    time. Only for this interpreter's minor version: this pip is known to run on it.
    """
    if interpreter.version[:2] != sys.version_info[:2]:
        return False
    if not any(requirement_name(r) == "pip" for r in spec.build_dependencies):
        return False
    match = re.match(r"(\d+)\.(\d+)", installed_version("pip") or "")
    return match is not None and (int(match.group(1)), int(match.group(2))) >= (22, 3)


def _uv_install(
    uv: str, python: Path, env_dir: Path, lines: Sequence[str], req_file: Path, cwd: str, what: str
) -> None:
    """``uv pip install -r`` into the environment, run from the model directory."""
    env = uv_environment(subprocess_env())
    req_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cmd = [uv, "pip", "install", "--python", str(python), *index_flags(env), "-r", str(req_file)]
    _run(cmd, cwd=cwd, what=what, env_dir=env_dir, env=env)


def _create_venv(
    spec: EnvSpec, interpreter: Interpreter, env_dir: Path, uv: str | None
) -> Callable[[Sequence[str], Path, str, bool], None]:
    """Make the bare venv in ``env_dir`` (``python -m venv``, or ``uv venv``); returns how to
    install requirement lines into it: ``install(lines, req_file, what, build_dependencies)``."""
    python = venv_python(env_dir)
    if uv is not None:
        _run(
            [uv, "venv", "--no-project", "--python", str(interpreter.path), str(env_dir)],
            cwd=None,
            what=f"Creating a venv with uv and Python {interpreter.version_text}",
            env_dir=env_dir,
            env=uv_environment(subprocess_env()),
        )

        def with_uv(lines: Sequence[str], req_file: Path, what: str, build: bool) -> None:
            _uv_install(uv, python, env_dir, lines, req_file, spec.model_dir, f"{what} with uv")

        return with_uv
    host_pip = _host_pip_bootstraps(spec, interpreter)
    _run(
        [
            str(interpreter.path),
            "-m",
            "venv",
            *(["--without-pip"] if host_pip else []),
            str(env_dir),
        ],
        cwd=None,
        what=f"Creating a venv with Python {interpreter.version_text} ({interpreter.path})",
        env_dir=env_dir,
    )
    env_pip = [str(python), "-m", "pip"]
    host = [sys.executable, "-m", "pip", "--python", str(python)]

    def with_pip(lines: Sequence[str], req_file: Path, what: str, build: bool) -> None:
        pip = host if build and host_pip else env_pip
        _pip_install(pip, env_dir, lines, req_file, spec.model_dir, what)

    return with_pip


def _build(spec: EnvSpec, interpreter: Interpreter, env_dir: Path, uv: str | None) -> Path:
    """Create the environment in ``env_dir`` (with uv when ``uv`` is its executable, else
    ``venv`` and pip); returns its site-packages directory."""
    from fsregistry.envs import host_package

    install = _create_venv(spec, interpreter, env_dir, uv)
    site_packages = _site_packages(env_dir)
    host_package.write_dist_info(site_packages, spec.fsregistry_version)
    host_package.install_code(env_dir, site_packages)
    work = env_dir / ".fsregistry-build"
    work.mkdir()
    if spec.build_dependencies:
        install(
            spec.build_dependencies,
            work / "build-requirements.txt",
            f"Installing build dependencies: {' '.join(spec.build_dependencies)}",
            True,
        )
    lines = list(spec.requirements)
    if spec.constraints:
        cons = work / "constraints.txt"
        cons.write_text("\n".join(spec.constraints) + "\n", encoding="utf-8")
        lines.append(f"-c {cons}")
    install(
        lines,
        work / "requirements.txt",
        f"Installing the model requirements: {' '.join(spec.requirements)}",
        False,
    )
    # -I: not the caller's directory first on sys.path (a checkout would shadow the copy);
    # it also ignores PYTHONDONTWRITEBYTECODE, so these modules get their bytecode now.
    _run(
        [str(venv_python(env_dir)), "-I", "-c", _IMPORT_CHECK],
        cwd=str(env_dir),
        what="Checking that fsregistry loads in the environment",
        env_dir=env_dir,
    )
    return site_packages


def _write_marker(
    spec: EnvSpec, interpreter: Interpreter, env_dir: Path, site_packages: Path, manager: str
) -> None:
    data = {
        "site_packages": str(site_packages),
        "env_hash": spec.env_hash,
        "env_manager": manager,
        "python_requested": spec.python,
        "python": interpreter.version_text,
        "base_interpreter": str(interpreter.path),
        "build_dependencies": list(spec.build_dependencies),
        "requirements": list(spec.requirements),
        "constraints": list(spec.constraints),
        "extras": list(spec.extras),
        "fsregistry_version": spec.fsregistry_version,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    tmp = env_dir / (MARKER_FILE + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, env_dir / MARKER_FILE)


def _remove(env_dir: Path) -> None:
    if env_dir.is_symlink() or env_dir.is_file():
        env_dir.unlink()
    elif env_dir.exists():
        shutil.rmtree(env_dir)


def get_or_create(
    spec: EnvSpec, root: Path | None = None, env_manager: str = VIRTUALENV
) -> ModelEnvironment:
    """The environment for ``spec`` under ``root`` (default :func:`env_root`), built if it
    does not exist yet with ``env_manager`` (``"virtualenv"`` or ``"uv"``), with the running
    fsregistry's code."""
    from filelock import FileLock, Timeout

    from fsregistry.envs import host_package

    check_env_manager(env_manager, ISOLATED_MANAGERS)
    root = root or env_root()
    env_hash = spec.env_hash
    name = env_hash + (DIR_SUFFIX if env_manager == UV else "")
    env_dir = root / name
    result = ModelEnvironment(env_dir, venv_python(env_dir), env_hash)
    ready = _ready(env_dir, env_hash)
    if ready and host_package.code_is_current(env_dir, _site_packages(env_dir)):
        return result
    # Before anything is written: a missing Python or uv leaves no trace.
    interpreter = None if ready else find_interpreter(spec.python)
    uv = uv_binary() if env_manager == UV and not ready else None
    (root / LOCKS_DIR).mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(root / LOCKS_DIR / f"{name}.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        _logger.info("Waiting for another process building the environment %s", env_dir)
        lock.acquire()
    try:
        if _ready(env_dir, env_hash):
            site_packages = _site_packages(env_dir)
            if not host_package.code_is_current(env_dir, site_packages):
                _logger.info("Updating the fsregistry code in %s", env_dir)
                host_package.install_code(env_dir, site_packages)
            return result
        if env_dir.exists() or env_dir.is_symlink():
            _logger.info("Removing the incomplete environment %s", env_dir)
            _remove(env_dir)
        _logger.info("Creating the model environment %s", env_dir)
        interpreter = interpreter or find_interpreter(spec.python)
        try:
            if env_manager == UV:
                uv = uv or uv_binary()
            site_packages = _build(spec, interpreter, env_dir, uv)
            shutil.rmtree(env_dir / ".fsregistry-build")
            _write_marker(spec, interpreter, env_dir, site_packages, env_manager)
        except BaseException:
            _remove(env_dir)
            raise
    finally:
        lock.release()
    _logger.info("Model environment ready: %s", env_dir)
    return result
