"""``fsreg models``: serve a model over HTTP, package it for Docker, prepare its environment."""

from __future__ import annotations

import typer

from fsregistry.cli import env_commands, serve_commands
from fsregistry.cli.common import group


def register(app: typer.Typer) -> None:
    """Attach the ``models`` group to the top-level CLI."""
    models_app = group("Serve, package and prepare environments for models.")
    app.add_typer(models_app, name="models")
    serve_commands.register(models_app)
    env_commands.register(models_app)
