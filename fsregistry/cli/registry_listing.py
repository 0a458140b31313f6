"""What the registry commands print, and the body of ``fsreg ls models``.

No typer here: :mod:`fsregistry.cli.quick` runs ``ls models`` without loading it, through the
very function the typer command calls, so both print the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fsregistry.cli.output import print_json, print_table
from fsregistry.cli.stores import registry_store

# ``ls models`` gives each alias its own column (like ``gto show`` its stages) up to this
# many distinct aliases; beyond, one "Aliases" column lists them as alias=version.
MAX_ALIAS_COLUMNS = 4


def model_dict(m: Any) -> dict[str, Any]:
    return {
        "name": m.name,
        "description": m.description,
        "creation_timestamp": m.creation_timestamp,
        "last_updated_timestamp": m.last_updated_timestamp,
        "tags": m.tags,
        "aliases": m.aliases,
        "latest_versions": [
            {"version": str(v.version), "current_stage": v.current_stage} for v in m.latest_versions
        ],
    }


def version_dict(v: Any) -> dict[str, Any]:
    return {
        "name": v.name,
        "version": str(v.version),
        "current_stage": v.current_stage,
        "status": v.status,
        "source": v.source,
        "run_id": v.run_id,
        "aliases": list(v.aliases),
        "tags": v.tags,
        "description": v.description,
        "creation_timestamp": v.creation_timestamp,
        "last_updated_timestamp": v.last_updated_timestamp,
    }


def list_models(
    tracking_uri: str | None,
    registry_uri: str | None,
    filter: str | None,
    order_by: Sequence[str] | None,
    max: int,
    as_json: bool,
) -> None:
    """``fsreg ls models``: registered models with their highest version and aliases."""
    models = registry_store(tracking_uri, registry_uri).search_registered_models(
        filter, max, order_by
    )
    rows = [model_dict(m) for m in models]
    if as_json:
        print_json(rows)
        return
    aliases = sorted({a for r in rows for a in r["aliases"]})
    alias_columns = aliases if len(aliases) <= MAX_ALIAS_COLUMNS else []
    headers = ["Name", "Latest", *(f"@{a}" for a in alias_columns)]
    if not alias_columns and aliases:
        headers.append("Aliases")
    print_table(
        [*headers, "Description"],
        [
            [
                r["name"],
                highest_version(r),
                *(r["aliases"].get(a, "-") for a in alias_columns),
                *(
                    [",".join(f"{a}={v}" for a, v in sorted(r["aliases"].items())) or "-"]
                    if not alias_columns and aliases
                    else []
                ),
                r["description"] or "",
            ]
            for r in rows
        ],
    )


def highest_version(model: dict[str, Any]) -> str:
    """The highest version of a listed model: every version is the latest of its stage or
    below it, so it is the highest of ``latest_versions``; "-" for a model without one."""
    versions = [int(v["version"]) for v in model["latest_versions"]]
    return str(max(versions)) if versions else "-"
