"""``fsreg`` commands for tracking: list and show experiments, runs and artifacts.

JSON output (stable; new keys may be added, none removed or renamed):
- ``ls experiments``: list of ``{experiment_id, name, lifecycle_stage, artifact_location,
  creation_time, last_update_time, tags}``
- ``ls runs``: list of ``{run_id, run_name, experiment_id, status, start_time, end_time,
  lifecycle_stage, artifact_uri, metrics, params, tags}``
- ``ls artifacts``: list of ``{path, is_dir, file_size}``
- ``show experiment`` / ``show run``: one object of the same shape as the list items
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fsregistry.cli.common import JsonFlag, TrackingUri, fmt, json_number, make_client
from fsregistry.cli.output import print_json, print_kv, print_table
from fsregistry.storage import changes


def _experiment_dict(e: Any) -> dict[str, Any]:
    return {
        "experiment_id": e.experiment_id,
        "name": e.name,
        "lifecycle_stage": e.lifecycle_stage,
        "artifact_location": e.artifact_location,
        "creation_time": e.creation_time,
        "last_update_time": e.last_update_time,
        "tags": e.tags,
    }


def _run_dict(r: Any) -> dict[str, Any]:
    i = r.info
    return {
        "run_id": i.run_id,
        "run_name": i.run_name,
        "experiment_id": i.experiment_id,
        "status": i.status,
        "start_time": i.start_time,
        "end_time": i.end_time,
        "lifecycle_stage": i.lifecycle_stage,
        "artifact_uri": i.artifact_uri,
        "metrics": {k: json_number(v) for k, v in r.data.metrics.items()},
        "params": r.data.params,
        "tags": r.data.tags,
    }


def _resolve_experiment_ids(client: Any, experiment: list[str] | None) -> list[str]:
    if not experiment:
        return [e.experiment_id for e in client.search_experiments(max_results=50000)]
    ids = []
    for ref in experiment:
        exp = client.get_experiment_by_name(ref)
        ids.append(exp.experiment_id if exp is not None else ref)
    return ids


def ls_experiments(
    tracking_uri: TrackingUri = None,
    filter: Annotated[
        str | None, typer.Option("--filter", "-f", help="e.g. \"tags.team = 'ml'\"")
    ] = None,
    order_by: Annotated[
        list[str] | None, typer.Option("--order-by", help="e.g. 'name ASC'")
    ] = None,
    max: Annotated[int, typer.Option("--max", help="At most this many.")] = 1000,
    all: Annotated[bool, typer.Option("--all", help="Include deleted experiments.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List experiments."""
    client = make_client(tracking_uri)
    exps = client.search_experiments(
        view_type="ALL" if all else "ACTIVE_ONLY",
        max_results=max,
        filter_string=filter,
        order_by=order_by,
    )
    rows = [_experiment_dict(e) for e in exps]
    if as_json:
        print_json(rows)
        return
    print_table(
        ["ID", "Name", "Stage", "Artifact location"],
        [
            [r["experiment_id"], r["name"], r["lifecycle_stage"], r["artifact_location"]]
            for r in rows
        ],
    )


def ls_runs(
    tracking_uri: TrackingUri = None,
    experiment: Annotated[
        list[str] | None,
        typer.Option(
            "--experiment", "-e", help="Experiment name or id (repeatable; default: all)."
        ),
    ] = None,
    filter: Annotated[
        str | None, typer.Option("--filter", "-f", help="e.g. \"params.lr = '0.1'\"")
    ] = None,
    order_by: Annotated[
        list[str] | None, typer.Option("--order-by", help="e.g. 'metrics.loss ASC'")
    ] = None,
    max: Annotated[int, typer.Option("--max", help="At most this many.")] = 100,
    all: Annotated[bool, typer.Option("--all", help="Include deleted runs.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """List runs with their latest metrics."""
    changes.turn_off()  # one search per command: watching would cost more than it saves
    client = make_client(tracking_uri)
    runs = client.search_runs(
        _resolve_experiment_ids(client, experiment),
        filter or "",
        "ALL" if all else "ACTIVE_ONLY",
        max,
        order_by,
    )
    rows = [_run_dict(r) for r in runs]
    if as_json:
        print_json(rows)
        return
    metric_keys = sorted({k for r in rows for k in r["metrics"]})[:4]
    print_table(
        ["Run ID", "Name", "Exp", "Status", *metric_keys],
        [
            [
                r["run_id"],
                r["run_name"],
                r["experiment_id"],
                r["status"],
                *[fmt(r["metrics"].get(k)) for k in metric_keys],
            ]
            for r in rows
        ],
    )


def ls_artifacts(
    run_id: Annotated[str, typer.Argument(help="Run whose artifacts to list.")],
    path: Annotated[
        str | None, typer.Argument(help="Directory inside the run's artifacts.")
    ] = None,
    tracking_uri: TrackingUri = None,
    as_json: JsonFlag = False,
) -> None:
    """List a run's artifacts (one directory level)."""
    files = make_client(tracking_uri).list_artifacts(run_id, path)
    rows = [{"path": f.path, "is_dir": f.is_dir, "file_size": f.file_size} for f in files]
    if as_json:
        print_json(rows)
        return
    print_table(
        ["Path", "Size"],
        [[r["path"] + ("/" if r["is_dir"] else ""), fmt(r["file_size"])] for r in rows],
    )


def show_experiment(
    experiment: Annotated[str, typer.Argument(help="Experiment name or id.")],
    tracking_uri: TrackingUri = None,
    as_json: JsonFlag = False,
) -> None:
    """Show one experiment with its tags."""
    client = make_client(tracking_uri)
    exp = client.get_experiment_by_name(experiment) or client.get_experiment(experiment)
    data = _experiment_dict(exp)
    if as_json:
        print_json(data)
        return
    print_kv(data)


def show_run(
    run_id: Annotated[str, typer.Argument(help="Run id.")],
    tracking_uri: TrackingUri = None,
    as_json: JsonFlag = False,
) -> None:
    """Show a run: info, params, latest metrics, tags."""
    data = _run_dict(make_client(tracking_uri).get_run(run_id))
    if as_json:
        print_json(data)
        return
    print_kv(data)


def register(ls_app: typer.Typer, show_app: typer.Typer) -> None:
    """Attach the tracking commands to the CLI's ``ls`` and ``show`` groups."""
    ls_app.command("experiments")(ls_experiments)
    ls_app.command("runs")(ls_runs)
    ls_app.command("artifacts")(ls_artifacts)
    show_app.command("experiment")(show_experiment)
    show_app.command("run")(show_run)
