"""Options and helpers shared by the ``fsreg`` command modules."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fsregistry.cli.stores import make_client, read_client, use_stores

TrackingUri = Annotated[
    str | None,
    typer.Option(
        "--tracking-uri", "-t", help="Store path or URL (default: $FSREG_TRACKING_URI or ./mlruns)."
    ),
]
RegistryUri = Annotated[
    str | None,
    typer.Option("--registry-uri", help="Registry store (default: the tracking store)."),
]
JsonFlag = Annotated[
    bool, typer.Option("--json", help="Machine-readable JSON output (errors too, on stderr).")
]


def group(help: str) -> typer.Typer:
    """A command group with fsreg's settings: click's plain help (wrapped to the terminal,
    no boxes), shown when no sub-command is given."""
    return typer.Typer(
        help=help, no_args_is_help=True, rich_markup_mode=None, pretty_exceptions_enable=False
    )


def json_number(value: float) -> float | str:
    # JSON has no NaN/Infinity; strings keep the output parseable by any JSON reader.
    return value if value == value and value not in (float("inf"), float("-inf")) else str(value)


def fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


__all__ = [
    "JsonFlag",
    "RegistryUri",
    "TrackingUri",
    "fmt",
    "group",
    "json_number",
    "make_client",
    "read_client",
    "use_stores",
]
