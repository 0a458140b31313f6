"""Start the scoring server: resolve and fetch the model once, then run uvicorn.

Stack: uvicorn with httptools (HTTP parsing in C; connections limited by
:mod:`fsregistry.serving.connection`) and uvloop (libuv event loop) running the bare ASGI app
of :mod:`fsregistry.serving.app`. A framework layer (Starlette/FastAPI) adds
routing and request objects this four-route app does not need, and costs time per request.

The model URI (``models:/name@alias``, ``models:/name/3``, ``runs:/...``, a path, ``s3://``,
``gs://``) is resolved and the model downloaded (into the model cache) once, in the process
that starts the server; the model is loaded there too, so a bad URI or a broken model is a
clear error before any port is bound. With ``workers > 1`` uvicorn starts that many processes,
each loading the model once from the local directory (``$FSREG_SERVING_MODEL_DIR``).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fsregistry.exceptions import InvalidParameterValue, InvalidState
from fsregistry.models.env_manager import check_env_manager
from fsregistry.serving.settings import (
    DEFAULT_MAX_REQUEST_BYTES,
    DEFAULT_TIMEOUT_SECONDS,
    MAX_REQUEST_BYTES_ENV,
    MODEL_DIR_ENV,
    TIMEOUT_ENV,
)

#: What ``pip install 'fsregistry[serve]'`` adds; kept equal to the ``serve`` extra in
#: pyproject.toml (a test checks). Used where the extra cannot be named: model environments
#: and Docker images get fsregistry copied from the host, not from an index.
SERVE_REQUIREMENTS = (
    "uvicorn>=0.30",
    "httptools>=0.6",
    "uvloop>=0.19; sys_platform != 'win32'",
)
SERVE_EXTRA_HINT = "pip install 'fsregistry[serve]'"
ENV_MANAGERS = ("local", "virtualenv", "uv")


@dataclass(frozen=True)
class ServerOptions:
    """How to run the server (the ``fsreg models serve`` options)."""

    host: str = "127.0.0.1"
    port: int = 5000
    workers: int = 1
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    access_log: bool = False

    def check(self) -> None:
        if not 0 <= self.port <= 65535:
            raise InvalidParameterValue(f"Invalid port {self.port}: expected 0-65535")
        if self.workers < 1:
            raise InvalidParameterValue(f"Invalid number of workers {self.workers}: must be >= 1")
        if self.timeout_seconds <= 0:
            raise InvalidParameterValue(f"Invalid timeout {self.timeout_seconds}: must be > 0")
        if self.max_request_bytes <= 0:
            raise InvalidParameterValue(
                f"Invalid request size limit {self.max_request_bytes}: must be > 0"
            )
        if not self.host:
            raise InvalidParameterValue("The host to listen on must not be empty")

    def argv(self) -> list[str]:
        """These options as ``python -m fsregistry.serving`` arguments."""
        args = ["--host", self.host, "--port", str(self.port), "--workers", str(self.workers)]
        args += ["--timeout", f"{self.timeout_seconds:g}"]
        args += ["--max-request-bytes", str(self.max_request_bytes)]
        return args + (["--access-log"] if self.access_log else [])


def import_uvicorn() -> Any:
    try:
        import uvicorn
    except ImportError:
        raise InvalidState(
            f"Serving models needs uvicorn, which is not installed: {SERVE_EXTRA_HINT}"
        ) from None
    return uvicorn


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _http_protocol() -> Any:
    """httptools with the request-head limits of :mod:`fsregistry.serving.connection`, else
    uvicorn's h11 (pure Python; it refuses heads over 16 KiB by itself, but has no time
    limit on them)."""
    if not _has("httptools"):
        return "h11"
    from fsregistry.serving.connection import LimitedHttpToolsProtocol

    return LimitedHttpToolsProtocol


def serve(model_uri: str, options: ServerOptions | None = None) -> None:
    """Serve the model at ``model_uri`` until interrupted (blocks; Ctrl-C or SIGTERM stops)."""
    from fsregistry.pyfunc import fetch_verified_model, load_model
    from fsregistry.serving.app import ScoringApp

    options = options or ServerOptions()
    options.check()
    uvicorn = import_uvicorn()
    local_dir = fetch_verified_model(model_uri)
    model = load_model(local_dir, verify=False)  # just verified
    # Worker processes (and anything they start) find the model and limits here.
    os.environ[MODEL_DIR_ENV] = local_dir
    os.environ[MAX_REQUEST_BYTES_ENV] = str(options.max_request_bytes)
    os.environ[TIMEOUT_ENV] = f"{options.timeout_seconds:g}"
    print(
        f"fsreg: serving {model_uri} from {local_dir} on http://{options.host}:{options.port} "
        f"with {options.workers} worker(s)",
        file=sys.stderr,
        flush=True,
    )
    common: dict[str, Any] = {
        "host": options.host,
        "port": options.port,
        "http": _http_protocol(),
        "loop": "uvloop" if _has("uvloop") else "asyncio",
        "lifespan": "on",
        "access_log": options.access_log,
        "log_level": "info",
        "server_header": False,
    }
    if options.workers == 1:
        app = ScoringApp(
            model,
            max_request_bytes=options.max_request_bytes,
            timeout_seconds=options.timeout_seconds,
        )
        uvicorn.run(app, **common)
        return
    del model  # each worker process loads its own
    uvicorn.run(
        "fsregistry.serving.app:create_app", factory=True, workers=options.workers, **common
    )


def serve_in_virtualenv(
    model_uri: str, options: ServerOptions | None = None, env_manager: str = "virtualenv"
) -> None:
    """Build (or reuse) the model's virtualenv and replace this process by the server running
    in it (``<env python> -m fsregistry.serving``). The model is fetched here first, so the
    environment needs no access to the store."""
    from fsregistry.pyfunc import fetch_verified_model

    options = options or ServerOptions()
    options.check()
    from fsregistry.envs import prepare_env

    local_dir = fetch_verified_model(model_uri)
    env = prepare_env(local_dir, extras=SERVE_REQUIREMENTS, env_manager=env_manager)
    python = str(env.python)
    # -I: the current directory (a source checkout, say) must not shadow the environment's
    # own copy of fsregistry.
    argv = [python, "-I", "-m", "fsregistry.serving", "--model-uri", local_dir]
    argv += options.argv()
    print(f"fsreg: serving in environment {env.root}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os.execv(python, argv)


def run(model_uri: str, options: ServerOptions, env_manager: str = "local") -> None:
    """``fsreg models serve``: serve in this environment or in the model's virtualenv."""
    check_env_manager(env_manager, ENV_MANAGERS)
    if env_manager in ("virtualenv", "uv"):
        serve_in_virtualenv(model_uri, options, env_manager)
    else:
        serve(model_uri, options)


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m fsregistry.serving``: the server without the CLI (used inside model
    environments, where only the model's requirements, fsregistry and the serve extra are)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m fsregistry.serving")
    parser.add_argument("--model-uri", "-m", required=True)
    parser.add_argument("--host", default=ServerOptions.host)
    parser.add_argument("--port", type=int, default=ServerOptions.port)
    parser.add_argument("--workers", type=int, default=ServerOptions.workers)
    parser.add_argument("--timeout", type=float, default=ServerOptions.timeout_seconds)
    parser.add_argument("--max-request-bytes", type=int, default=ServerOptions.max_request_bytes)
    parser.add_argument("--access-log", action="store_true")
    parser.add_argument("--env-manager", default="local", choices=ENV_MANAGERS)
    ns = parser.parse_args(argv)
    options = ServerOptions(
        host=ns.host,
        port=ns.port,
        workers=ns.workers,
        timeout_seconds=ns.timeout,
        max_request_bytes=ns.max_request_bytes,
        access_log=ns.access_log,
    )
    from fsregistry.exceptions import FsRegistryException

    try:
        run(ns.model_uri, options, env_manager=ns.env_manager)
    except FsRegistryException as exc:
        print(f"error: {exc.message} [{exc.error_code}]", file=sys.stderr)
        sys.exit(1)
