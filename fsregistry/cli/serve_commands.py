"""``fsreg models serve``, ``generate-dockerfile`` and ``build-docker``.

Options follow ``mlflow models serve`` / ``generate-dockerfile`` / ``build-docker``
(``-m``, ``-h``, ``-p``, ``-w``, ``-d``, ``-n``), except that ``-t`` is ``--tracking-uri``
as in every ``fsreg`` command: the request timeout is ``-T/--timeout`` (MLflow: ``-t``).
uvicorn and pandas are imported inside the commands: ``fsreg --help`` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from fsregistry.cli.common import RegistryUri, use_stores
from fsregistry.cli.stores import check_stores_for_uri
from fsregistry.serving.settings import (
    DEFAULT_MAX_REQUEST_BYTES,
    DEFAULT_TIMEOUT_SECONDS,
    MAX_REQUEST_BYTES_ENV,
    TIMEOUT_ENV,
    WORKERS_ENV,
)

ModelUri = Annotated[
    str,
    typer.Option(
        "--model-uri",
        "-m",
        help="models:/name@alias, models:/name/3, runs:/<run>/<path>, a path, s3:// or gs://.",
    ),
]
StoreUri = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri",
        "-t",
        help="Store for models:/ and runs:/ URIs (default: $FSREG_TRACKING_URI or ./mlruns).",
    ),
]
BaseImage = Annotated[
    str | None,
    typer.Option(
        "--base-image",
        help="FROM image (default: python:<the model's Python X.Y>-slim).",
    ),
]


def register(models_app: typer.Typer) -> None:
    """Attach this module's commands to the ``models`` group."""

    @models_app.command("serve")
    def serve(
        model_uri: ModelUri,
        host: Annotated[
            str,
            typer.Option("--host", "-h", help="Address to listen on; 0.0.0.0 for every interface."),
        ] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", "-p", help="Port to listen on.")] = 5000,
        workers: Annotated[
            int,
            typer.Option(
                "--workers",
                "-w",
                envvar=WORKERS_ENV,
                help="Server processes (each loads the model).",
            ),
        ] = 1,
        timeout: Annotated[
            float,
            typer.Option(
                "--timeout",
                "-T",
                envvar=TIMEOUT_ENV,
                help="Seconds a request may take to arrive (else 408) and to be predicted "
                "(else 504).",
            ),
        ] = DEFAULT_TIMEOUT_SECONDS,
        max_request_bytes: Annotated[
            int,
            typer.Option(
                "--max-request-bytes",
                envvar=MAX_REQUEST_BYTES_ENV,
                help="Larger request bodies get a 413 (default 100 MiB).",
            ),
        ] = DEFAULT_MAX_REQUEST_BYTES,
        env_manager: Annotated[
            str,
            typer.Option(
                "--env-manager",
                help="local: this Python environment; virtualenv (or uv, built with uv): one "
                "built from the model's requirements.txt (cached).",
            ),
        ] = "local",
        access_log: Annotated[
            bool, typer.Option("--access-log", help="Log every request (slower).")
        ] = False,
        tracking_uri: StoreUri = None,
        registry_uri: RegistryUri = None,
    ) -> None:
        """Serve a model over HTTP with MLflow's scoring protocol.

        POST /invocations (JSON or CSV), GET /ping, /health, /version; runs until interrupted.
        Listens on 127.0.0.1 unless --host says otherwise.
        """
        from fsregistry.serving.server import ServerOptions, run

        use_stores(tracking_uri, registry_uri)
        check_stores_for_uri(model_uri, tracking_uri, registry_uri)
        options = ServerOptions(
            host=host,
            port=port,
            workers=workers,
            timeout_seconds=timeout,
            max_request_bytes=max_request_bytes,
            access_log=access_log,
        )
        run(model_uri, options, env_manager=env_manager)

    @models_app.command("generate-dockerfile")
    def generate_dockerfile(
        model_uri: ModelUri,
        output_directory: Annotated[
            str,
            typer.Option(
                "--output-directory",
                "-d",
                help="New (or empty) directory to write the build context to.",
            ),
        ] = "mlflow-dockerfile",
        base_image: BaseImage = None,
        tracking_uri: StoreUri = None,
        registry_uri: RegistryUri = None,
    ) -> None:
        """Write a Docker build context whose image serves the model on port 8080.

        The context holds a Dockerfile, the model and a wheel of this fsregistry.
        """
        from fsregistry.serving.docker_context import generate_build_context

        use_stores(tracking_uri, registry_uri)
        check_stores_for_uri(model_uri, tracking_uri, registry_uri)
        context = generate_build_context(model_uri, output_directory, base_image=base_image)
        print(f"Wrote a Docker build context to {context.directory}")
        print(f"Build it with: docker build -t IMAGE {context.directory}")

    @models_app.command("build-docker")
    def build_docker(
        model_uri: ModelUri,
        name: Annotated[
            str, typer.Option("--name", "-n", help="Image name (tag) to build.")
        ] = "mlflow-pyfunc-servable",
        base_image: BaseImage = None,
        tracking_uri: StoreUri = None,
        registry_uri: RegistryUri = None,
    ) -> None:
        """Build a Docker image serving the model on port 8080.

        Needs the docker client and a reachable Docker engine. Run the image with:
        docker run -p 5001:8080 IMAGE
        """
        from fsregistry.serving.docker_context import build_image

        use_stores(tracking_uri, registry_uri)
        check_stores_for_uri(model_uri, tracking_uri, registry_uri)
        build_image(model_uri, name, base_image=base_image)
        print(f"Built image {name}; run it with: docker run -p 5001:8080 {name}")
