"""The ``fsreg`` command tree (typer), loaded only when a command line needs it.

:func:`fsregistry.cli.app.main` runs a plain ``fsreg ls models`` without it (see
:mod:`fsregistry.cli.quick`); everything else, help and usage errors included, goes through
the ``app`` built here.
"""

from __future__ import annotations

from typing import Annotated

import typer

from fsregistry.cli import (
    evaluate_commands,
    health_commands,
    manage_commands,
    models_commands,
    registry_commands,
    tracking_commands,
)
from fsregistry.cli.state import state

app = typer.Typer(
    name="fsreg",
    help="Browse and manage MLflow-layout stores on local disk, S3 and GCS. No server.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
ls_app = typer.Typer(
    help="List experiments, runs, artifacts, models, versions, aliases.", no_args_is_help=True
)
show_app = typer.Typer(help="Show everything known about one item.", no_args_is_help=True)
app.add_typer(ls_app, name="ls")
app.add_typer(show_app, name="show")
registry_commands.register(ls_app, show_app, app)
manage_commands.register(app)
models_commands.register(app)
health_commands.register(app)
evaluate_commands.register(app)
tracking_commands.register(ls_app, show_app)  # after the others: the help lists them so


@app.callback()
def _main(
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks on errors.")] = False,
) -> None:
    state.debug = debug


__all__ = ["app"]
