"""``fsreg`` commands for tracking: list and show experiments, runs and artifacts.

JSON output (stable; new keys may be added, none removed or renamed):
- ``ls experiments``: list of ``{experiment_id, name, lifecycle_stage, artifact_location,
  creation_time, last_update_time, tags}``
- ``ls runs``: list of ``{run_id, run_name, experiment_id, status, start_time, end_time,
  lifecycle_stage, artifact_uri, metrics, params, tags}``
- ``ls artifacts``: list of ``{path, is_dir, file_size}``
- ``show experiment`` / ``show run``: one object of the same shape as the list items
  (``show run`` for people adds each metric's number of values and a sparkline of them)

People get local ISO times, sizes in KB/MB, params/metrics/tags as tables, experiment names
rather than ids; ``show run`` sums up the ``mlflow.log-model.history`` tag as a table of the
models the run logged (``--all-tags`` prints it raw, as ``--json`` always does).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from fsregistry.cli import completion
from fsregistry.cli.common import JsonFlag, TrackingUri, fmt, json_number, read_client
from fsregistry.cli.output import (
    human_size,
    humanize,
    local_time,
    print_json,
    print_kv,
    print_table,
    sparkline,
)
from fsregistry.exceptions import ResourceDoesNotExist
from fsregistry.storage import changes

LOG_MODEL_HISTORY = "mlflow.log-model.history"
# show run draws a sparkline of each metric's history when the run has at most this many
# metrics (one history read each).
MAX_SPARKLINES = 50


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
    return [find_experiment(client, ref).experiment_id for ref in experiment]


def find_experiment(client: Any, ref: str) -> Any:
    """The experiment named ``ref``, else the one whose id is ``ref``; deleted ones too."""
    exp = client.get_experiment_by_name(ref)
    if exp is not None:
        return exp
    try:
        return client.get_experiment(ref)
    except ResourceDoesNotExist:
        raise ResourceDoesNotExist(
            f"No experiment named {ref!r} (nor with that id) in {client.tracking_uri}"
        ) from None


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
    client = read_client(tracking_uri)
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
        ["ID", "Name", "Stage", "Created", "Artifact location"],
        [
            [
                r["experiment_id"],
                r["name"],
                r["lifecycle_stage"],
                local_time(r["creation_time"]),
                r["artifact_location"],
            ]
            for r in rows
        ],
    )


def ls_runs(
    tracking_uri: TrackingUri = None,
    experiment: Annotated[
        list[str] | None,
        typer.Option(
            "--experiment",
            "-e",
            help="Experiment name or id (repeatable; default: all).",
            shell_complete=completion.experiment_names,
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
    client = read_client(tracking_uri)
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
    names = {e.experiment_id: e.name for e in client.search_experiments("ALL", 50000)}
    metric_keys = sorted({k for r in rows for k in r["metrics"]})[:4]
    print_table(
        ["Run ID", "Name", "Experiment", "Status", "Started", *metric_keys],
        [
            [
                r["run_id"],
                r["run_name"] or "-",
                names.get(r["experiment_id"], r["experiment_id"]),
                r["status"],
                local_time(r["start_time"]),
                *[fmt(r["metrics"].get(k)) for k in metric_keys],
            ]
            for r in rows
        ],
    )


def ls_artifacts(
    run_id: Annotated[
        str, typer.Argument(help="Run whose artifacts to list.", shell_complete=completion.run_ids)
    ],
    path: Annotated[
        str | None, typer.Argument(help="Directory inside the run's artifacts.")
    ] = None,
    tracking_uri: TrackingUri = None,
    as_json: JsonFlag = False,
) -> None:
    """List a run's artifacts (one directory level)."""
    files = read_client(tracking_uri).list_artifacts(run_id, path)
    rows = [{"path": f.path, "is_dir": f.is_dir, "file_size": f.file_size} for f in files]
    if as_json:
        print_json(rows)
        return
    print_table(
        ["Path", "Size"],
        [[r["path"] + ("/" if r["is_dir"] else ""), human_size(r["file_size"])] for r in rows],
    )


def show_experiment(
    experiment: Annotated[
        str,
        typer.Argument(help="Experiment name or id.", shell_complete=completion.experiment_names),
    ],
    tracking_uri: TrackingUri = None,
    as_json: JsonFlag = False,
) -> None:
    """Show one experiment with its tags."""
    client = read_client(tracking_uri)
    data = _experiment_dict(find_experiment(client, experiment))
    if as_json:
        print_json(data)
        return
    print_kv(humanize(data))


def show_run(
    run_id: Annotated[str, typer.Argument(help="Run id.", shell_complete=completion.run_ids)],
    tracking_uri: TrackingUri = None,
    all_tags: Annotated[
        bool,
        typer.Option("--all-tags", help=f"Print the {LOG_MODEL_HISTORY} tag raw too."),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Show a run: info, params, latest metrics (with a sparkline of their history), tags,
    logged models."""
    client = read_client(tracking_uri)
    data = _run_dict(client.get_run(run_id))
    if as_json:
        print_json(data)
        return
    human: dict[str, Any] = {}
    for key, value in humanize(data).items():
        human[key] = value
        if key == "experiment_id":
            try:
                human["experiment"] = client.get_experiment(value).name
            except ResourceDoesNotExist:
                human["experiment"] = "-"
    if 0 < len(data["metrics"]) <= MAX_SPARKLINES:
        human["metrics"] = [
            {"key": k, "value": v, **_history(client, run_id, k)}
            for k, v in sorted(data["metrics"].items())
        ]
    tags = dict(data["tags"])
    history = None if all_tags else tags.pop(LOG_MODEL_HISTORY, None)
    human["tags"] = tags
    if history is not None:
        human["logged_models"] = logged_models(history)
    print_kv(human)


def _history(client: Any, run_id: str, key: str) -> dict[str, Any]:
    points = sorted(client.get_metric_history(run_id, key), key=lambda m: (m.step, m.timestamp))
    return {"values": len(points), "history": sparkline([m.value for m in points]) or "-"}


def _utc_text_to_local(text: Any) -> str:
    from datetime import UTC, datetime

    try:
        moment = datetime.fromisoformat(str(text)).replace(tzinfo=UTC)
    except ValueError:
        return str(text) if text else "-"
    return local_time(moment.timestamp() * 1000)


def logged_models(history: str) -> list[dict[str, Any]] | str:
    """The ``mlflow.log-model.history`` tag as rows (artifact path, flavors, time), or the
    raw text when it is not MLflow's JSON list."""
    import json

    try:
        entries = json.loads(history)
    except ValueError:
        return history
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return history
    return [
        {
            "artifact_path": e.get("artifact_path") or e.get("name") or "-",
            "flavors": ", ".join(sorted(e.get("flavors") or {})) or "-",
            "created": _utc_text_to_local(e.get("utc_time_created")),
            "model_id": e.get("model_uuid") or e.get("model_id") or "-",
        }
        for e in entries
    ]


def register(ls_app: typer.Typer, show_app: typer.Typer) -> None:
    """Attach the tracking commands to the CLI's ``ls`` and ``show`` groups."""
    ls_app.command("experiments")(ls_experiments)
    ls_app.command("runs")(ls_runs)
    ls_app.command("artifacts")(ls_artifacts)
    show_app.command("experiment")(show_experiment)
    show_app.command("run")(show_run)
