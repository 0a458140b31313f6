"""Options and helpers shared by the ``fsreg`` command modules."""

from __future__ import annotations

from typing import Annotated, Any

import typer

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
JsonFlag = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]


def make_client(tracking_uri: str | None, registry_uri: str | None = None) -> Any:
    from fsregistry.client import Client

    return Client(tracking_uri=tracking_uri, registry_uri=registry_uri)


def use_stores(tracking_uri: str | None, registry_uri: str | None = None) -> None:
    """Point the fluent API (``fsregistry.register_model``, ``load_model``, ...) at the stores
    given on the command line; the registry follows the tracking store unless given."""
    from fsregistry import config

    if tracking_uri:
        config.set_tracking_uri(tracking_uri)
    if registry_uri or tracking_uri:
        config.set_registry_uri(registry_uri or tracking_uri or "")


def json_number(value: float) -> float | str:
    # JSON has no NaN/Infinity; strings keep the output parseable by any JSON reader.
    return value if value == value and value not in (float("inf"), float("-inf")) else str(value)


def fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
