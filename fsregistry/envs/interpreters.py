"""Find a Python interpreter of the version a model asks for. Nothing is ever downloaded.

A model environment needs the same MAJOR.MINOR as the model was saved with (wheels and
pickles are tied to it); the patch version may differ (same ABI, same wheels; fsregistry
cannot install an exact patch release the way MLflow's pyenv does, and air-gapped sites could
not download one anyway). Searched, in order:

1. the interpreter running fsregistry, when its MAJOR.MINOR matches;
2. every ``pythonX.Y`` on ``PATH`` (each one is run once to check it works: pyenv shims for
   versions that are not active exit with an error and are skipped);
3. pyenv installations already present: ``$PYENV_ROOT/versions/X.Y.*`` (default
   ``~/.pyenv``).

Among working candidates the exact patch version wins, else the newest patch.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from fsregistry.envs.errors import EnvironmentBuildError
from fsregistry.envs.spec import parse_python_version

_logger = logging.getLogger(__name__)
_PROBE = "import sys; print('%d.%d.%d' % sys.version_info[:3])"
_PROBE_TIMEOUT_S = 30


@dataclass(frozen=True)
class Interpreter:
    path: Path
    version: tuple[int, int, int]

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))


def _on_path(name: str) -> list[Path]:
    found: list[Path] = []
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not directory:
            continue
        candidate = Path(directory) / name
        if candidate.is_file() and os.access(candidate, os.X_OK) and candidate not in found:
            found.append(candidate)
    return found


def _in_pyenv(major: int, minor: int) -> list[Path]:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv") / "versions"
    if not root.is_dir():
        return []
    found = []
    for version_dir in sorted(root.glob(f"{major}.{minor}*")):
        name = version_dir.name
        if name != f"{major}.{minor}" and not name.startswith(f"{major}.{minor}."):
            continue
        exe = version_dir / "bin" / f"python{major}.{minor}"
        if exe.is_file():
            found.append(exe)
    return found


def _probe(path: Path) -> tuple[int, int, int] | None:
    try:
        proc = subprocess.run(
            [str(path), "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=_PROBE_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        _logger.debug("Skipping %s: %s", path, exc)
        return None
    if proc.returncode != 0:
        _logger.debug("Skipping %s: exit %s %s", path, proc.returncode, proc.stderr.strip())
        return None
    try:
        major, minor, patch = (int(p) for p in proc.stdout.strip().split("."))
    except ValueError:
        return None
    return major, minor, patch


def find_interpreter(version: str) -> Interpreter:
    """A working interpreter for Python ``version`` (``"3.11.7"`` or ``"3.11"``), or an
    :class:`EnvironmentBuildError` saying which version is needed and how to provide it."""
    major, minor, patch = parse_python_version(version)
    if sys.version_info[:2] == (major, minor):
        return Interpreter(Path(sys.executable), tuple(sys.version_info[:3]))  # type: ignore[arg-type]
    name = f"python{major}.{minor}"
    candidates = _on_path(name) + _in_pyenv(major, minor)
    working: list[Interpreter] = []
    for path in candidates:
        found = _probe(path)
        if found is not None and found[:2] == (major, minor):
            working.append(Interpreter(path, found))
    if not working:
        looked = ", ".join(str(p) for p in candidates) or "none found"
        raise EnvironmentBuildError(
            f"The model needs Python {major}.{minor} (its environment says {version}), but no "
            f"working {name} was found (this process runs {sys.version.split()[0]}; candidates "
            f"on PATH and in pyenv: {looked}). Install Python {major}.{minor} and put {name} on "
            "PATH (or install it with pyenv); fsregistry never downloads Python."
        )
    exact = [i for i in working if patch is not None and i.version[2] == patch]
    chosen = exact[0] if exact else max(working, key=lambda i: i.version)
    if patch is not None and chosen.version[2] != patch:
        _logger.info(
            "The model asks for Python %s; using %s (%s): same minor version",
            version,
            chosen.version_text,
            chosen.path,
        )
    return chosen
