"""``fsreg`` commands for the model registry: list, show and manage models and versions.

JSON output (stable; keys may be added, never removed or renamed):
- ``ls models``: list of ``{name, description, creation_timestamp, last_updated_timestamp,
  tags, aliases, latest_versions: [{version, current_stage}]}``
- ``ls versions``: list of ``{name, version, current_stage, status, source, run_id,
  aliases, tags, description, creation_timestamp, last_updated_timestamp}``
- ``ls aliases``: list of ``{alias, version}``
- ``show model`` / ``show version``: one object shaped like the list items; ``show version``
  adds ``download_uri`` and ``run`` (the source run's name, status, params and latest
  metrics, or null) for lineage.

Listing and showing only read: a missing store is an error (``No store at ...``), never an
empty listing (see :mod:`fsregistry.cli.stores`). People get local times and tables.
"""

from __future__ import annotations

from typing import Annotated

import typer

from fsregistry.cli import completion
from fsregistry.cli.common import (
    JsonFlag,
    RegistryUri,
    TrackingUri,
    group,
    json_number,
    use_stores,
)
from fsregistry.cli.output import humanize, local_time, print_json, print_kv, print_table
from fsregistry.cli.registry_listing import list_models, model_dict, version_dict
from fsregistry.cli.stores import registry_client, registry_store, tracking_store_if_any
from fsregistry.exceptions import ResourceDoesNotExist

ModelName = Annotated[
    str, typer.Argument(help="Registered model name.", shell_complete=completion.model_names)
]
Version = Annotated[str, typer.Argument(help="Version number.", shell_complete=completion.versions)]


def register(ls_app: typer.Typer, show_app: typer.Typer, app: typer.Typer) -> None:
    """Attach the registry commands to the CLI's ``ls``, ``show`` and top-level groups."""

    @ls_app.command("models")
    def ls_models(
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
        filter: Annotated[
            str | None, typer.Option("--filter", "-f", help="e.g. \"name LIKE 'churn%'\"")
        ] = None,
        order_by: Annotated[
            list[str] | None, typer.Option("--order-by", help="e.g. 'name ASC'")
        ] = None,
        max: Annotated[int, typer.Option("--max", help="At most this many.")] = 100,
        as_json: JsonFlag = False,
    ) -> None:
        """List registered models with their highest version and aliases."""
        list_models(tracking_uri, registry_uri, filter, order_by, max, as_json)

    @ls_app.command("versions")
    def ls_versions(
        name: Annotated[
            str | None,
            typer.Argument(
                help="Model name (default: all models).", shell_complete=completion.model_names
            ),
        ] = None,
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
        filter: Annotated[
            str | None, typer.Option("--filter", "-f", help="e.g. \"tags.validated = 'yes'\"")
        ] = None,
        order_by: Annotated[
            list[str] | None, typer.Option("--order-by", help="e.g. 'version_number DESC'")
        ] = None,
        max: Annotated[int, typer.Option("--max", help="At most this many.")] = 1000,
        as_json: JsonFlag = False,
    ) -> None:
        """List model versions (of one model, or all)."""
        clauses = [f"name = '{_quote(name)}'"] if name else []
        if filter:
            clauses.append(filter)
        store = registry_store(tracking_uri, registry_uri)
        order = order_by or (["version_number DESC"] if name else None)
        versions = store.search_model_versions(" and ".join(clauses) or None, max, order)
        rows = [version_dict(v) for v in versions]
        if as_json:
            print_json(rows)
            return
        print_table(
            ["Name", "Version", "Stage", "Aliases", "Created", "Run", "Source"],
            [
                [
                    r["name"],
                    r["version"],
                    r["current_stage"],
                    ",".join(r["aliases"]) or "-",
                    local_time(r["creation_timestamp"]),
                    r["run_id"] or "-",
                    r["source"] or "-",
                ]
                for r in rows
            ],
        )

    @ls_app.command("aliases")
    def ls_aliases(
        name: ModelName,
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
        as_json: JsonFlag = False,
    ) -> None:
        """List a model's aliases and the versions they point at."""
        model = registry_store(tracking_uri, registry_uri).get_registered_model(name)
        rows = [{"alias": a, "version": str(v)} for a, v in sorted(model.aliases.items())]
        if as_json:
            print_json(rows)
            return
        print_table(["Alias", "Version"], [[r["alias"], r["version"]] for r in rows])

    @show_app.command("model")
    def show_model(
        name: ModelName,
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Show a registered model: description, tags, aliases, latest versions."""
        data = model_dict(registry_store(tracking_uri, registry_uri).get_registered_model(name))
        if as_json:
            print_json(data)
            return
        print_kv(humanize(data))

    @show_app.command("version")
    def show_version(
        name: ModelName,
        version: Version,
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Show a model version with its lineage back to the run that produced it."""
        store = registry_store(tracking_uri, registry_uri)
        mv = store.get_model_version(name, version)
        data = version_dict(mv)
        data["download_uri"] = store.get_model_version_download_uri(name, version)
        data["run"] = None
        tracking = tracking_store_if_any(tracking_uri) if mv.run_id else None
        if tracking is not None:
            try:
                run = tracking.get_run(mv.run_id)
            except ResourceDoesNotExist:
                pass  # the run lives in another tracking store: lineage stops at its id
            else:
                data["run"] = {
                    "run_id": run.info.run_id,
                    "run_name": run.info.run_name,
                    "experiment_id": run.info.experiment_id,
                    "status": run.info.status,
                    "params": run.data.params,
                    "metrics": {k: json_number(v) for k, v in run.data.metrics.items()},
                }
        if as_json:
            print_json(data)
            return
        print_kv(humanize(data))

    # -- manage -------------------------------------------------------------------------------
    @app.command("register")
    def register_cmd(
        model_uri: Annotated[
            str, typer.Argument(help="runs:/<run>/<path>, models:/..., or a path/URL.")
        ],
        name: ModelName,
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Register a model URI as a new version of a model (created if needed)."""
        from fsregistry.fluent import register_model

        use_stores(tracking_uri, registry_uri)
        mv = register_model(model_uri, name)
        data = version_dict(mv)
        if as_json:
            print_json(data)
            return
        print(f"Registered {name} version {mv.version}")

    alias_app = group("Set or delete model aliases.")
    app.add_typer(alias_app, name="alias")

    @alias_app.command("set")
    def alias_set(
        name: ModelName,
        alias: Annotated[
            str, typer.Argument(help="Alias, e.g. champion.", shell_complete=completion.aliases)
        ],
        version: Version,
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
    ) -> None:
        """Point an alias at a version."""
        registry_client(tracking_uri, registry_uri).set_registered_model_alias(name, alias, version)
        print(f"{name}@{alias} -> version {version}")

    @alias_app.command("delete")
    def alias_delete(
        name: ModelName,
        alias: Annotated[
            str, typer.Argument(help="Alias to delete.", shell_complete=completion.aliases)
        ],
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
    ) -> None:
        """Delete an alias."""
        registry_client(tracking_uri, registry_uri).delete_registered_model_alias(name, alias)
        print(f"Deleted {name}@{alias}")


def _quote(value: str) -> str:
    return value.replace("'", "\\'")
