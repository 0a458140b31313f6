"""``fsreg history``: the registry audit trail of a model (an fsregistry extension).

JSON output (stable; keys may be added, never removed or renamed): a list, oldest first, of
``{id, timestamp, user, action, model, version, key, from, to, details}``
(:meth:`fsregistry.entities.ModelEvent.to_dict`). A table on a terminal, with local times.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fsregistry.cli import completion
from fsregistry.cli.common import JsonFlag, RegistryUri, TrackingUri
from fsregistry.cli.output import local_time, print_json, print_table
from fsregistry.cli.stores import registry_store


def register(app: typer.Typer) -> None:
    """Attach ``history`` to the CLI."""

    @app.command("history")
    def history(
        name: Annotated[
            str,
            typer.Argument(help="Registered model name.", shell_complete=completion.model_names),
        ],
        version: Annotated[
            int | None,
            typer.Option("--version", help="Only this version's events.", min=1),
        ] = None,
        alias: Annotated[
            str | None, typer.Option("--alias", help="Only this alias's events.")
        ] = None,
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Who changed a registered model, when, and from what to what (oldest first),
        renames followed back. fsregistry records it; MLflow keeps no history."""
        store = registry_store(tracking_uri, registry_uri)
        events = [e.to_dict() for e in store.get_model_history(name, version, alias)]
        if as_json:
            print_json(events)
            return
        print_table(
            ["When", "User", "Action", "Model", "Version", "Key", "From", "To"],
            [
                [
                    local_time(e["timestamp"]),
                    e["user"],
                    _action(e),
                    e["model"],
                    _shown(e["version"]),
                    _shown(e["key"]),
                    _shown(e["from"]),
                    _shown(e["to"]),
                ]
                for e in events
            ],
        )


def _action(event: dict[str, Any]) -> str:
    details = event["details"]
    if details.get("archived"):
        return f"{event['action']} (archived {', '.join(map(str, details['archived']))})"
    if details.get("removed_aliases"):
        return f"{event['action']} (removed {', '.join(details['removed_aliases'])})"
    return str(event["action"])


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    text = str(value).replace("\n", " ")
    return text if len(text) <= 60 else text[:59] + "…"
