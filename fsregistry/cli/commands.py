"""The ``fsreg`` command tree (typer), loaded only when a command line needs it.

:func:`fsregistry.cli.app.main` runs a plain ``fsreg ls models`` without it (see
:mod:`fsregistry.cli.quick`); everything else, help and usage errors included, goes through
:func:`command`, the click command built from the ``app`` defined here.

Help is click's plain layout (``rich_markup_mode=None``): it wraps to the terminal's width
(``COLUMNS`` when set) instead of cutting option names, and reads the same piped or not.
:func:`command` then gives every argument and option a readable metavar (``MODEL_URI``,
``--tracking-uri URI``) in place of typer's ``{model_uri}`` and ``<str>``.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fsregistry.cli import (
    evaluate_commands,
    export_commands,
    health_commands,
    history_commands,
    manage_commands,
    models_commands,
    plot_commands,
    registry_commands,
    run_commands,
    tracking_commands,
    ui_commands,
)
from fsregistry.cli.common import group
from fsregistry.cli.state import state

# Option metavars by parameter name; options not listed keep click's (TEXT, INTEGER...).
OPTION_METAVARS = {
    "tracking_uri": "URI",
    "registry_uri": "URI",
    "src_registry_uri": "URI",
    "model_uri": "URI",
    "filter": "FILTER",
    "order_by": "ORDER",
    "max": "N",
    "older_than": "DURATION",
    "min_age": "DURATION",
    "experiment_ids": "IDS",
    "run_ids": "IDS",
    "experiment": "EXPERIMENT",
    "version": "VERSION",
    "input_path": "FILE",
    "output_path": "FILE",
    "output_directory": "DIR",
    "host": "HOST",
    "port": "PORT",
    "workers": "N",
    "timeout": "SECONDS",
    "max_request_bytes": "BYTES",
    "env_manager": "local|virtualenv|uv",
    "base_image": "IMAGE",
    "name": "NAME",
    "artifact_location": "URI",
    "output": "FILE",
    "alias": "ALIAS",
    "metric": "NAME",
    "width": "N",
    "height": "N",
}

app = group("Browse and manage MLflow-layout stores on local disk, S3 and GCS. No server.")
ls_app = group("List experiments, runs, artifacts, models, versions, aliases.")
show_app = group("Show everything known about one item.")
app.add_typer(ls_app, name="ls")
app.add_typer(show_app, name="show")
registry_commands.register(ls_app, show_app, app)
manage_commands.register(app)
models_commands.register(app)
health_commands.register(app)
history_commands.register(app)
evaluate_commands.register(app)
export_commands.register(app)
tracking_commands.register(ls_app, show_app)  # after the others: the help lists them so
run_commands.register(app, ls_app)
ui_commands.register(app)
plot_commands.register(app)


def _version(value: bool) -> None:
    if value:
        from fsregistry.package import __version__

        print(f"fsreg (fsregistry) {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    state.debug = debug


def command() -> Any:
    """The click command ``fsreg`` runs: ``app`` with readable metavars."""
    root = typer.main.get_command(app)
    _polish(root)
    return root


def _polish(cmd: Any) -> None:
    # typer vendors its own click: parameters are told apart by their kind, not their class.
    for param in cmd.params:
        if param.param_type_name == "argument":
            _name_argument(param)
        elif param.param_type_name == "option" and not param.is_flag and param.metavar is None:
            param.metavar = OPTION_METAVARS.get(param.name or "")
    for sub in getattr(cmd, "commands", {}).values():
        _polish(sub)


def _name_argument(param: Any) -> None:
    name = param.metavar or (param.name or "").upper()
    param.metavar = name
    shown = name if param.required else f"[{name}]"
    shown += "..." if param.nargs != 1 else ""

    def usage(ctx: Any) -> list[str]:
        return [shown]

    param.get_usage_pieces = usage


def run(**kwargs: Any) -> Any:
    """Run ``fsreg`` as typer's ``app()`` does, with the polished command."""
    return command()(**kwargs)


__all__ = ["app", "command", "run"]
