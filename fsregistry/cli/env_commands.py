"""``fsreg models`` commands (being written)."""

from __future__ import annotations

import typer


def register(models_app: typer.Typer) -> None:
    """Attach this module's commands to the ``models`` group."""
