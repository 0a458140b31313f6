"""The scoring server for tests: ``fsreg models serve`` in a subprocess on a free loopback
port, plain HTTP requests to it (``http.client``), and its memory as the kernel counts it.

Used by ``tests/test_serving.py`` (the protocol) and ``tests/test_serving_abuse.py`` (limits,
load). Servers listen on 127.0.0.1 only and run in their own process group, stopped with it.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsregistry
from fsregistry.fluent import _stack

FSREG = shutil.which("fsreg", path=os.path.dirname(sys.executable)) or "fsreg"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def http_request(
    port: int,
    method: str,
    path: str,
    body: bytes | Iterable[bytes] | None = None,
    headers: dict[str, str] | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> Response:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        if own:
            conn.close()


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    def request(self, method: str, path: str, **kwargs: Any) -> Response:
        return http_request(self.port, method, path, **kwargs)

    def post(self, body: Any, content_type: str = "application/json", **kwargs: Any) -> Response:
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        headers = {"Content-Type": content_type, **kwargs.pop("headers", {})}
        return self.request("POST", "/invocations", body=data, headers=headers, **kwargs)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def start_server(
    command: list[str],
    log: Path,
    port: int,
    env: dict[str, str] | None = None,
    ready_within: float = 120,
) -> Server:
    """Start ``command`` (a server listening on 127.0.0.1:``port``), wait for ``/ping``."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env if env is not None else os.environ.copy(),
            start_new_session=True,  # its own process group: workers are stopped with it
        )
    server = Server(proc, port, log)
    deadline = time.monotonic() + ready_within
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}:\n{server.log_text()}")
        try:
            if server.request("GET", "/ping").status == 200:
                return server
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop_server(server)
            raise AssertionError(f"server did not answer /ping:\n{server.log_text()}")
        time.sleep(0.1)


def stop_server(server: Server) -> None:
    if server.proc.poll() is None:
        os.killpg(server.proc.pid, signal.SIGTERM)
        try:
            server.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.proc.pid, signal.SIGKILL)
            server.proc.wait(timeout=20)


def serve(
    model_uri: str,
    tmp: Path,
    *args: str,
    tracking_uri: str | None = None,
    env: dict[str, str] | None = None,
    ready_within: float = 120,
) -> Iterator[Server]:
    """``fsreg models serve`` on a free loopback port with a private model cache."""
    port = free_port()
    command = [FSREG, "models", "serve", "-m", model_uri, "--port", str(port), *args]
    if tracking_uri is not None:
        command += ["--tracking-uri", tracking_uri]
    env = {**os.environ, "FSREG_MODEL_CACHE": str(tmp / "model-cache"), **(env or {})}
    server = start_server(command, tmp / "server.log", port, env, ready_within)
    try:
        yield server
    finally:
        stop_server(server)


class fluent_store:
    """The fluent API pointed at ``url`` for a ``with`` block (module fixtures cannot use the
    function-scoped ``tracking`` fixture)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> str:
        fsregistry.set_tracking_uri(self.url)
        fsregistry.set_registry_uri(self.url)
        fsregistry.fluent._active_experiment_id = None
        _stack().clear()
        return self.url

    def __exit__(self, *exc: object) -> None:
        while _stack():
            fsregistry.end_run()
        fsregistry.fluent._active_experiment_id = None


@dataclass(frozen=True)
class Memory:
    """A process's resident memory in KiB: now (``VmRSS``) and its peak so far (``VmHWM``)."""

    rss_kib: int
    peak_kib: int


def memory(pid: int) -> Memory:
    """``pid``'s memory from ``/proc/<pid>/status`` (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text()

    def field(name: str) -> int:
        match = re.search(rf"^{name}:\s+(\d+) kB", status, re.MULTILINE)
        assert match is not None, status
        return int(match.group(1))

    return Memory(field("VmRSS"), field("VmHWM"))
