"""``fsreg models prepare-env``: build (once) the isolated environment of a model.

JSON output (``--json``): ``{path, python, env_hash}``.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Annotated

import typer

from fsregistry.cli.common import JsonFlag, RegistryUri, TrackingUri, use_stores
from fsregistry.cli.progress import logs_on_spinner, spinner, wanted
from fsregistry.cli.stores import check_stores_for_uri


def log_progress_to_stderr() -> None:
    # Building an environment takes a while: say what is happening, on stderr so stdout stays
    # the environment path (or JSON) for scripts.
    logger = logging.getLogger("fsregistry.envs")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def register(models_app: typer.Typer) -> None:
    """Attach this module's commands to the ``models`` group."""

    @models_app.command("prepare-env")
    def prepare_env(
        model_uri: Annotated[
            str,
            typer.Option("--model-uri", "-m", help="Model URI, e.g. models:/churn@champion."),
        ],
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
        as_json: JsonFlag = False,
        env_manager: Annotated[
            str,
            typer.Option(
                "--env-manager",
                metavar="virtualenv|uv",
                help="virtualenv (python -m venv and pip) or uv (built with uv, in its own "
                "directory).",
            ),
        ] = "virtualenv",
    ) -> None:
        """Create the model's isolated virtualenv from its python_env.yaml / requirements.txt
        (reused when it exists, in $FSREG_ENV_ROOT, default ~/.cache/fsregistry/envs) and print
        its path. pip follows its usual settings: offline sites set PIP_INDEX_URL (their index)
        or PIP_NO_INDEX=1 and PIP_FIND_LINKS=/wheel/dir, or the same keys in pip.conf (uv
        is given the PIP_* variables as flags; it reads its own uv.toml, not pip.conf)."""
        from fsregistry.envs import prepare_env as build

        use_stores(tracking_uri, registry_uri)
        check_stores_for_uri(model_uri, tracking_uri, registry_uri)
        if env_manager not in ("virtualenv", "uv"):
            raise typer.BadParameter(
                f"{env_manager!r}: expected virtualenv or uv", param_hint="--env-manager"
            )
        with spinner(f"Preparing the environment of {model_uri}") as say:
            if wanted():  # the steps show as the spinner's text
                with logs_on_spinner("fsregistry.envs", say, f"{model_uri}: "):
                    env = build(model_uri, env_manager=env_manager)
            else:
                log_progress_to_stderr()
                env = build(model_uri, env_manager=env_manager)
        if as_json:
            print(
                json.dumps(
                    {"path": str(env.root), "python": str(env.python), "env_hash": env.env_hash}
                )
            )
        else:
            print(env.root)
