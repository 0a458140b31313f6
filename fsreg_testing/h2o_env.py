"""H2O for the tests: its own cached virtualenv, one H2O server per test module, and fsregistry
code run in that venv.

h2o is a 265 MB wheel (it bundles the H2O server jar) and needs Java, so it is not in the test
venv: :func:`h2o_python` builds (once, under a file lock: the :class:`FrameworkEnv` ``H2O``)
``$FSREG_MLFLOW_CACHE/h2o-<version>`` with only ``h2o`` installed. :func:`run_h2o` runs a
snippet with that python and ``PYTHONPATH`` = the repository plus the test venv's
site-packages, so the snippet imports this checkout's fsregistry (and pandas, pyspark...) from
the test venv and h2o from its own; it prints one JSON document, its last JSON stdout line,
which is returned. :func:`h2o_command` is the same environment for a long-running process (the scoring
server).

:class:`H2OServer` is the H2O backend (``java -Xmx1g -jar h2o.jar``) on 127.0.0.1 and a free
port, one node, its logs and ice root in a temporary directory, in its own process group;
``stop()`` asks it to shut down (``POST /3/Shutdown``), then terminates the group. The
``h2o_server`` fixture of a test module starts one for the module.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any

from fsreg_testing.framework_env import FrameworkEnv, main
from fsreg_testing.mlflow_env import MlflowEnvError, _tail

__all__ = [
    "H2O",
    "H2O_VERSION",
    "H2OServer",
    "h2o_command",
    "h2o_env",
    "h2o_jar",
    "h2o_python",
    "run_h2o",
]

#: The h2o release the tests use (the newest on the index).
H2O_VERSION = "3.46.0.12"
REPO = Path(__file__).resolve().parent.parent
_DROP_ENV = ("PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTHONSAFEPATH")

#: h2o alone: fsregistry and its other dependencies come from the test venv on PYTHONPATH.
H2O = FrameworkEnv(
    name="h2o",
    version=H2O_VERSION,
    framework=(f"h2o=={H2O_VERSION}",),
    check="import h2o; print(h2o.__version__)",
    marker_key="h2o",
    test_deps=False,
    launcher=False,
)


def h2o_python(version: str = H2O_VERSION) -> Path:
    """Python of the cached ``h2o-<version>`` venv; builds it the first time."""
    env = (
        H2O
        if version == H2O_VERSION
        else replace(H2O, version=version, framework=(f"h2o=={version}",))
    )
    return env.python()


def h2o_jar(version: str = H2O_VERSION) -> Path:
    """The H2O server jar the h2o package bundles."""
    out = subprocess.run(
        [str(h2o_python(version)), "-c", "import h2o, os; print(os.path.dirname(h2o.__file__))"],
        capture_output=True,
        text=True,
        check=True,
        env=h2o_env(),
    )
    return Path(out.stdout.strip()) / "backend" / "bin" / "h2o.jar"


def h2o_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of a process in the h2o venv: this checkout and the test venv importable."""
    env = {k: v for k, v in os.environ.items() if k not in _DROP_ENV}
    paths = [str(REPO), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    # Spark's Python workers (spark_udf in the h2o venv) run this venv's python too
    env.update(PYTHONIOENCODING="utf-8", PYTHONUNBUFFERED="1", PYSPARK_PYTHON=str(h2o_python()))
    env["DO_NOT_TRACK"] = "1"  # h2o's client telemetry
    env.update(extra or {})
    return env


def h2o_command(*args: str) -> list[str]:
    """``python <args>`` in the h2o venv (run it with ``env=h2o_env()``)."""
    return [str(h2o_python()), *args]


def run_h2o(
    code: str,
    *,
    cwd: str | os.PathLike[str],
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> Any:
    """Run ``code`` in the h2o venv; return its last stdout line as JSON."""
    python = h2o_python()
    with tempfile.TemporaryDirectory(prefix="fsreg-h2o-code-") as tmp:
        script = Path(tmp) / "snippet.py"
        script.write_text(code, encoding="utf-8")
        proc = subprocess.run(
            [str(python), str(script)],
            cwd=os.fspath(cwd),
            env=h2o_env(env),
            capture_output=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    stdout = proc.stdout.decode("utf-8", errors="replace")
    if proc.returncode != 0:
        raise MlflowEnvError(
            f"h2o snippet failed (exit {proc.returncode}).\n--- stdout ---\n{_tail(stdout, 20)}\n"
            f"--- stderr ---\n{_tail(proc.stderr)}"
        )
    # the last JSON line (h2o prints "H2O session ... closed." at exit, after it)
    for line in reversed([line for line in stdout.splitlines() if line.strip()]):
        try:
            return json.loads(line)
        except ValueError:
            continue
    raise MlflowEnvError(f"h2o snippet printed no JSON:\n{_tail(stdout)}\n{_tail(proc.stderr)}")


def _free_port_pair() -> int:
    """A port ``p`` with ``p`` and ``p + 1`` free (H2O listens on both)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port >= 65535:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
        return port
    raise RuntimeError("no two consecutive free ports")


class H2OServer:
    """One H2O node on 127.0.0.1 (``-Xmx<memory>``), started and stopped by the tests."""

    def __init__(self, workdir: Path, memory: str = "1g", ready_within: float = 180) -> None:
        self.port = _free_port_pair()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "h2o-server.log"
        command = [
            "java",
            f"-Xmx{memory}",
            "-jar",
            str(h2o_jar()),
            "-ip",
            "127.0.0.1",
            "-port",
            str(self.port),
            "-name",
            f"fsreg-test-{os.getpid()}-{self.port}",
            "-nthreads",
            "1",
            "-log_dir",
            str(workdir / "logs"),
            "-ice_root",
            str(workdir / "ice"),
            "-disable_flow",
        ]
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + ready_within
        while not self._healthy():
            if self.proc.poll() is not None:
                raise RuntimeError(f"H2O exited with {self.proc.returncode}:\n{self.log_text()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"H2O did not come up:\n{self.log_text()}")
            time.sleep(0.5)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-5000:]

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/3/Cloud", timeout=5) as resp:
                return bool(json.load(resp).get("cloud_healthy"))
        except (OSError, ValueError, urllib.error.URLError):
            return False

    @property
    def init(self) -> dict[str, Any]:
        """``h2o.init()`` arguments that connect to this server (never start another)."""
        return {"url": self.url}

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        try:
            req = urllib.request.Request(f"{self.url}/3/Shutdown", data=b"", method="POST")
            urllib.request.urlopen(req, timeout=10).close()
            self.proc.wait(timeout=30)
        except (OSError, urllib.error.URLError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)


if __name__ == "__main__":  # python -m fsreg_testing.h2o_env: build (or check) the venv
    sys.exit(main(H2O))
