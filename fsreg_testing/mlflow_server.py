"""MLflow's real server over an fsregistry store, started with ``fsreg ui`` (tests only).

``start_ui(store, port, log)`` runs ``fsreg ui -t <store> --port <port> --writable`` with the
python of the cached venv that has full MLflow and this checkout installed
(``mlflow_env.mlflow_plugin_python``), and waits (bounded) until the server answers
``/health``. ``rest(port, method, path, body)`` is one JSON call to its REST API.
``stop_ui`` sends the ``fsreg`` process SIGINT (a Ctrl-C) and reports how it ended.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fsreg_testing.mlflow_env import mlflow_env, mlflow_plugin_python

READY_WITHIN_S = 180.0


@dataclass
class UiServer:
    """A running ``fsreg ui`` process."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]


def start_ui(
    store: str,
    port: int,
    log: Path,
    *,
    writable: bool = True,
    workers: int | None = None,
    env: dict[str, str] | None = None,
) -> UiServer:
    """Start ``fsreg ui`` on ``store`` and wait for MLflow's ``/health``."""
    python = mlflow_plugin_python()
    fsreg = python.parent / "fsreg"
    cmd = [str(fsreg), "ui", "-t", store, "--port", str(port)]
    if writable:
        cmd.append("--writable")
    if workers is not None:
        cmd += ["--workers", str(workers)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd, stdout=out, stderr=subprocess.STDOUT, env=mlflow_env(env), cwd=log.parent
        )
    server = UiServer(proc, port, log)
    deadline = time.monotonic() + READY_WITHIN_S
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"fsreg ui exited with {proc.returncode}:\n{server.log_text()}")
        try:
            with urllib.request.urlopen(f"{server.url}/health", timeout=5) as resp:
                if resp.status == 200:
                    return server
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            stop_ui(server)
            raise AssertionError(f"fsreg ui not ready in {READY_WITHIN_S}s:\n{server.log_text()}")
        time.sleep(0.5)


def stop_ui(server: UiServer, timeout: float = 30) -> int:
    """Ctrl-C the ``fsreg ui`` process; its exit code (SIGKILL after ``timeout``: -9)."""
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGINT)
        try:
            return server.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            return server.proc.wait()
    return server.proc.returncode


def port_open(port: int) -> bool:
    """Whether something accepts connections on 127.0.0.1:``port``."""
    import socket

    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Answer:
    """One REST answer: HTTP status and the decoded JSON (or text) body."""

    status: int
    body: Any


def rest(port: int, method: str, path: str, body: Any = None, timeout: float = 60) -> Answer:
    """One call to the server's REST API, JSON in and out."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=data,
        method=method,
        headers={"Content-Type": "application/json"} if data is not None else {},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    try:
        return Answer(status, json.loads(raw or b"{}"))
    except ValueError:
        return Answer(status, raw.decode(errors="replace"))


def snippet_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for an MLflow client snippet next to the server."""
    env = dict(extra or {})
    env.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "60")
    env.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    return {**mlflow_env(), **env, "PATH": os.environ.get("PATH", "")}


# -- headless Chromium ---------------------------------------------------------------------
#: Flags known to work on these machines (no network probes, no sandbox as root).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def chromium() -> str | None:
    """Path of a Chromium binary, or None."""
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser")


def artifacts_dir(name: str) -> Path:
    """``$FSREG_TEST_ARTIFACTS/<name>`` (default ``<repo>/.test-artifacts/<name>``), made."""
    root = os.environ.get("FSREG_TEST_ARTIFACTS") or str(
        Path(__file__).resolve().parents[1] / ".test-artifacts"
    )
    path = Path(root) / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def render_page(
    url: str, png: Path, profile: Path, budget_ms: int = 15000, size: str = "1400,900"
) -> str:
    """Screenshot ``url`` into ``png`` and return its rendered DOM (two headless runs)."""
    binary = chromium()
    assert binary is not None
    base = [
        binary,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={size}",
        f"--virtual-time-budget={budget_ms}",
    ]
    subprocess.run(
        [*base, f"--screenshot={png}", url], capture_output=True, timeout=120, check=True
    )
    dom = subprocess.run([*base, "--dump-dom", url], capture_output=True, timeout=120, check=True)
    return dom.stdout.decode(errors="replace")
