"""A heavy ML framework in its own cached virtualenv (never in the shared test venv).

torch, TensorFlow and h2o are too heavy for the main test environment (hundreds of MB each,
h2o needs Java), so their tests run in a venv of their own. Each is one :class:`FrameworkEnv`
declared in a thin module (``torch_env``, ``tf_env``, ``h2o_env``) with the framework's
requirement lines as a literal there; this module builds, caches and runs them:

- **what is installed** (:meth:`FrameworkEnv.requirements`): with ``test_deps`` on,
  fsregistry's core dependencies, then the ``[test]`` extra of ``pyproject.toml`` without the
  entries starting with one of ``skip_test_deps``, then the framework lines; with it off, the
  framework lines only (h2o: the code under test and its other dependencies come from the
  test venv on ``PYTHONPATH``). fsregistry itself is never installed: the checkout is put on
  ``PYTHONPATH``, so the code under test is always this checkout's.
- **where** (:meth:`FrameworkEnv.venv_dir`): ``<cache root>/<name>-<version>``, the cache
  root of :mod:`fsreg_testing.mlflow_env` (``~/.cache/fsregistry-mlflow`` by default).
- **built once** (:meth:`FrameworkEnv.python`): under the file lock
  ``<venv dir>.lock``; a build ends by importing the framework (``check``, which prints its
  version) and writing the marker ``.fsregistry-requirements.json``
  ``{"requirements": [...], <marker_key>: <check output>}`` last, atomically. A venv is
  ready when its python exists and the marker records exactly :meth:`requirements`; a venv
  without the marker (or with another list) is topped up with ``pip install``, not rebuilt.
- **an ``fsreg`` launcher** in the venv's ``bin`` (``launcher``): the scoring-server tests
  start ``fsreg models serve`` there; it runs the checkout's CLI from ``PYTHONPATH``.
- **running a suite** (:meth:`FrameworkEnv.run_suite`): ``pytest paths`` in the venv with
  the checkout on ``PYTHONPATH``, ``<suite_env>=1`` (the test module runs its cases instead of
  re-invoking itself) and ``run_env``; returns the completed process.

``python -m fsreg_testing.<thin module>`` builds (or checks) a venv and prints its python and
the build time (:func:`main`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
import venv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fsreg_testing.mlflow_env import MlflowEnvError, cache_root

__all__ = ["OTHER_TEST_DEPS", "REPO_ROOT", "FrameworkEnv", "main"]

REPO_ROOT = Path(__file__).resolve().parent.parent
MARKER = ".fsregistry-requirements.json"
_INSTALL_TIMEOUT_S = 2400
_LOCK_TIMEOUT_S = 3600
#: ``[test]`` entries no framework suite uses (other frameworks, linters, stubs, plots): the
#: common part of each ``skip_test_deps``.
OTHER_TEST_DEPS = (
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
#: Inherited variables that would leak the test venv into the framework venv's own processes.
_DROP_ENV = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH")


@dataclass(frozen=True)
class FrameworkEnv:
    """One framework's cached venv: what it holds, how a build is checked, how suites run."""

    #: The venv directory's prefix (``torch`` -> ``torch-<version>``).
    name: str
    version: str
    #: The framework's requirement lines, installed after the test deps (pins included).
    framework: tuple[str, ...]
    #: Python code a finished build runs; it must import the framework and print versions.
    check: str
    #: The marker's key for ``check``'s output.
    marker_key: str
    #: Whether the venv also holds the core dependencies and the ``[test]`` extra.
    test_deps: bool = True
    #: ``[test]`` entries left out (prefixes, lower case): other frameworks, linters, stubs.
    skip_test_deps: tuple[str, ...] = ()
    #: Environment variable set to ``1`` in a suite run.
    suite_env: str = ""
    #: More environment for the suite run and the build check (device, log level).
    run_env: Mapping[str, str] = field(default_factory=dict)
    #: Whether the venv gets an ``fsreg`` launcher.
    launcher: bool = True

    def requirements(self) -> list[str]:
        """pip requirements of the venv (see the module docstring)."""
        if not self.test_deps:
            return list(self.framework)
        project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
        test = [
            r
            for r in project["optional-dependencies"]["test"]
            if not r.lower().startswith(self.skip_test_deps)
        ]
        return [*project["dependencies"], *test, *self.framework]

    def venv_dir(self) -> Path:
        """Where the venv lives."""
        return cache_root() / f"{self.name}-{self.version}"

    def python(self) -> Path:
        """The python of the cached venv; builds it (once, under a lock) if needed."""
        root = self.venv_dir()
        reqs = self.requirements()
        if not _ready(root, reqs):
            from filelock import FileLock, Timeout

            root.parent.mkdir(parents=True, exist_ok=True)
            try:
                with FileLock(str(root) + ".lock", timeout=_LOCK_TIMEOUT_S):
                    if not _ready(root, reqs):
                        self._build(root, reqs)
            except Timeout as exc:
                raise MlflowEnvError(
                    f"timed out waiting for another process to build {root}"
                ) from exc
        if self.launcher:
            _fsreg_launcher(root)
        return _python(root)

    def _build(self, root: Path, reqs: list[str]) -> None:
        python = _python(root)
        if not python.exists():
            venv.EnvBuilder(with_pip=True, clear=root.exists()).create(root)
        cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *reqs]
        _run(cmd, root, "pip install", _INSTALL_TIMEOUT_S, base_env())
        check = _run(
            [str(python), "-c", self.check],
            root,
            f"importing {self.name}",
            600,
            {**base_env(), **self.run_env},
        )
        marker = root / MARKER
        tmp = marker.with_suffix(".tmp")
        tmp.write_text(json.dumps({"requirements": reqs, self.marker_key: check.strip()}))
        os.replace(tmp, marker)

    def run_suite(
        self,
        paths: Sequence[str],
        junit: Path,
        *,
        python: Path | None = None,
        extra_args: Sequence[str] = (),
        timeout: float = 1800,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``pytest paths`` in the venv, or with ``python`` (one that has the framework),
        the checkout first on ``PYTHONPATH``."""
        python = python or self.python()
        env = {**base_env(), "PYTHONPATH": str(REPO_ROOT), **self.run_env}
        if self.suite_env:
            env[self.suite_env] = "1"
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


def base_env() -> dict[str, str]:
    """This process's environment without what would leak the test venv into another."""
    return {k: v for k, v in os.environ.items() if k not in _DROP_ENV}


def _python(root: Path) -> Path:
    return root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _ready(root: Path, reqs: list[str]) -> bool:
    try:
        recorded = json.loads((root / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return (
        _python(root).exists()
        and isinstance(recorded, dict)
        and recorded.get("requirements") == reqs
        and recorded.get("key", "") == ""
    )


def _run(cmd: list[str], root: Path, what: str, timeout: float, env: dict[str, str]) -> str:
    """``cmd``'s stdout; an ``MlflowEnvError`` naming ``what`` and ``root`` if it fails."""
    try:
        proc = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as exc:
        raise MlflowEnvError(f"{what} in {root} timed out: {' '.join(cmd)}") from exc
    if proc.returncode != 0:
        raise MlflowEnvError(
            f"{what} in {root} failed (exit {proc.returncode}): {' '.join(cmd)}\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc.stdout


def _fsreg_launcher(root: Path) -> None:
    """An ``fsreg`` console script in the venv (fsregistry is not installed there; the script
    runs the checkout's CLI from ``PYTHONPATH``), where the scoring-server tests look for it."""
    if os.name == "nt":
        return
    python = _python(root)
    script = python.parent / "fsreg"
    text = f"#!{python}\nimport sys\nfrom fsregistry.cli.app import main\nsys.exit(main())\n"
    if script.is_file() and script.read_text() == text:
        return
    tmp = script.with_name(f".fsreg.{os.getpid()}.tmp")
    tmp.write_text(text)
    tmp.chmod(0o755)
    os.replace(tmp, script)


def main(env: FrameworkEnv) -> int:
    """Build (or check) ``env``'s venv and print its python and how long that took."""
    start = time.monotonic()
    print(env.python(), f"({time.monotonic() - start:.0f} s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit("run python -m fsreg_testing.torch_env (or tf_env, h2o_env)")
