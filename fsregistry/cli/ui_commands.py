"""``fsreg ui``: MLflow's server and UI on any store, buckets included.

Maps the tracking and registry stores to the plugin's ``fsreg+<protocol>://`` URIs
(:mod:`fsregistry.mlflow_plugin.locations`) and runs ``python -m mlflow server`` from this
Python environment (nothing is installed at run time; without MLflow, one line names
``pip install 'fsregistry[mlflow]'``). New experiments made through the UI put their
artifacts where fsregistry puts them (the store, or ``FSREG_ARTIFACT_ROOT``), which is also
where MLflow's artifact proxy (``mlflow-artifacts:/``) writes. A store in a bucket is read-only
unless ``--writable`` (the plugin refuses writes with PERMISSION_DENIED); a local store is
writable. Ctrl-C stops the server and waits for it (then kills it after 10 s).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from typing import Annotated, NamedTuple

import typer

from fsregistry.cli.common import RegistryUri, TrackingUri, use_stores
from fsregistry.exceptions import UnsupportedOperation

_STOP_WAIT_S = 10.0


def register(app: typer.Typer) -> None:
    """Attach ``ui`` to the top-level app."""

    @app.command("ui")
    def ui(
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
        host: Annotated[
            str, typer.Option("--host", help="Address to listen on; 0.0.0.0 for every interface.")
        ] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 5000,
        writable: Annotated[
            bool,
            typer.Option(
                "--writable", help="Allow writes through the UI/server to a store in a bucket."
            ),
        ] = False,
        workers: Annotated[
            int | None,
            typer.Option("--workers", help="Server processes (default: MLflow's)."),
        ] = None,
    ) -> None:
        """Open MLflow's UI on the store (MLflow's server through fsregistry's store plugin).

        Needs MLflow in this environment: pip install 'fsregistry[mlflow]'. Stores in a
        bucket are read-only unless --writable. Runs until Ctrl-C.
        """
        from fsregistry import config
        from fsregistry.mlflow_plugin.locations import WRITABLE_ENV, is_bucket

        use_stores(tracking_uri, registry_uri)
        tracking = config.get_tracking_uri()
        registry = config.get_registry_uri()
        cmd = server_command(tracking, registry, host, port, workers)
        env = dict(os.environ)
        if writable:
            env[WRITABLE_ENV] = "1"
        else:
            env.pop(WRITABLE_ENV, None)
        mode = "read-only" if is_bucket(tracking) and not writable else "writable"
        shown_host = f"[{host}]" if ":" in host else host
        print(f"MLflow UI on {tracking} ({mode}): http://{shown_host}:{port}  (Ctrl-C stops it)")
        sys.stdout.flush()
        ended = run_server(cmd, env)
        if not ended.interrupted and ended.code != 0:
            raise typer.Exit(ended.code if ended.code > 0 else 1)


def server_command(
    tracking: str, registry: str, host: str, port: int, workers: int | None = None
) -> list[str]:
    """``python -m mlflow server ...`` for the stores (checks MLflow is there and supported)."""
    from fsregistry.mlflow_plugin.locations import check_version, plugin_uri

    version = _mlflow_version()
    check_version(version)
    backend = plugin_uri(tracking)
    artifact_root = os.environ.get("FSREG_ARTIFACT_ROOT") or _plain(tracking)
    cmd = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        backend,
        "--registry-store-uri",
        plugin_uri(registry),
        "--default-artifact-root",
        artifact_root,
        "--artifacts-destination",
        artifact_root,
        "--host",
        host,
        "--port",
        str(port),
    ]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    return cmd


def _plain(uri: str) -> str:
    """A store URI as MLflow takes an artifact root (a ``file:`` URI becomes its path)."""
    from fsregistry.mlflow_plugin.locations import plugin_uri

    return plugin_uri(uri).removeprefix("fsreg+").removeprefix("file://")


def _mlflow_version() -> str:
    from importlib import metadata

    for dist in ("mlflow", "mlflow-skinny"):
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
        if dist == "mlflow":
            return version
        raise UnsupportedOperation(
            f"fsreg ui needs MLflow's server and UI, which mlflow-skinny {version} lacks: "
            f"pip install 'fsregistry[mlflow]'",
            error_code="NOT_IMPLEMENTED",
        )
    raise UnsupportedOperation(
        "fsreg ui needs MLflow, which is not installed in this environment: "
        "pip install 'fsregistry[mlflow]'",
        error_code="NOT_IMPLEMENTED",
    )


class ServerExit(NamedTuple):
    """How the server ended: its exit code, and whether Ctrl-C/SIGTERM stopped it."""

    code: int
    interrupted: bool


def run_server(cmd: list[str], env: dict[str, str]) -> ServerExit:
    """Run the server until it exits or Ctrl-C; on Ctrl-C stop it and wait for it.

    A parent that ignores SIGINT (a job started with SIGINT ignored, some test runners'
    workers) passes that on to its children, and Python keeps an inherited ignored SIGINT:
    then neither fsreg nor MLflow would stop on Ctrl-C. So SIGINT is handled here, before the
    server starts (an exec resets a handled signal to its default, so MLflow gets it too)."""
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    previous = signal.signal(signal.SIGTERM, _interrupt)  # a SIGTERM stops the server too
    try:
        proc = subprocess.Popen(cmd, env=env, start_new_session=True)
        try:
            return ServerExit(proc.wait(), False)
        except KeyboardInterrupt:
            return ServerExit(_stop(proc), True)
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop(proc: subprocess.Popen[bytes]) -> int:
    # The server runs in its own session, so the terminal's Ctrl-C reaches only fsreg; MLflow's
    # server process forwards one SIGINT to its uvicorn child (a signal to the whole group
    # would reach uvicorn twice, and a second one forces it down mid-shutdown). SIGKILL to
    # the group only if it has not stopped in time.
    try:
        proc.send_signal(signal.SIGINT)
        return proc.wait(timeout=_STOP_WAIT_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        return proc.wait()
