"""``fsreg experiments ...``, ``fsreg runs ...`` and ``fsreg ls metrics``: experiments and
runs from the shell, as ``mlflow experiments`` / ``mlflow runs`` and beyond.

- ``experiments create|rename|delete|restore`` change experiments (an experiment is given by
  name or id, deleted ones included); ``experiments csv`` writes every run of one experiment
  as MLflow's ``mlflow experiments csv`` does (the DataFrame of ``search_runs``, so it loads
  pandas; to stdout, or ``-o FILE``).
- ``runs delete|restore`` (``fsreg gc`` then removes deleted runs for good), ``runs tag`` /
  ``runs untag``, and ``runs diff RUN RUN``: params, metrics and tags side by side.
- ``ls metrics RUN [KEY]``: each metric's latest value (MLflow's rule: highest step, then
  timestamp, then value), or every logged value of one metric.

JSON output (stable; keys may be added, never removed or renamed):
- ``experiments create``: ``{experiment_id, name}``
- ``ls metrics``: list of ``{key, value, step, timestamp}``
- ``runs diff``: ``{run_ids: [a, b], params|metrics|tags: {key: [value in a, value in b]}}``
  (null where a run lacks the key)
"""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from fsregistry.cli import completion
from fsregistry.cli.common import JsonFlag, TrackingUri, group, json_number, make_client
from fsregistry.cli.output import human_value, local_time, print_json, print_table
from fsregistry.cli.stores import read_client, use_stores
from fsregistry.cli.tracking_commands import LOG_MODEL_HISTORY, find_experiment, logged_models

ExperimentRef = Annotated[
    str,
    typer.Argument(
        help="Experiment name or id.",
        metavar="EXPERIMENT",
        shell_complete=completion.experiment_names,
    ),
]
RunId = Annotated[str, typer.Argument(help="Run id.", shell_complete=completion.run_ids)]


def register(app: typer.Typer, ls_app: typer.Typer) -> None:
    """Attach ``experiments``, ``runs`` and ``ls metrics`` to the CLI."""
    experiments_app = group("Create, rename, delete, restore and export experiments.")
    runs_app = group("Delete, restore, tag and compare runs.")
    app.add_typer(experiments_app, name="experiments")
    app.add_typer(runs_app, name="runs")
    ls_app.command("metrics")(ls_metrics)

    @experiments_app.command("create")
    def experiments_create(
        name: Annotated[str, typer.Argument(help="Name of the new experiment.")],
        artifact_location: Annotated[
            str | None,
            typer.Option(
                "--artifact-location", "-l", help="Where its runs' artifacts go (default: inside)."
            ),
        ] = None,
        tracking_uri: TrackingUri = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Create an experiment and print its id."""
        experiment_id = make_client(tracking_uri).create_experiment(name, artifact_location)
        if as_json:
            print_json({"experiment_id": experiment_id, "name": name})
        else:
            print(f"Created experiment {name!r} with id {experiment_id}")

    @experiments_app.command("rename")
    def experiments_rename(
        experiment: ExperimentRef,
        new_name: Annotated[str, typer.Argument(help="New name.")],
        tracking_uri: TrackingUri = None,
    ) -> None:
        """Rename an experiment."""
        client = read_client(tracking_uri)
        exp = find_experiment(client, experiment)
        client.rename_experiment(exp.experiment_id, new_name)
        print(f"Renamed experiment {exp.name!r} -> {new_name!r}")

    @experiments_app.command("delete")
    def experiments_delete(
        experiment: ExperimentRef,
        tracking_uri: TrackingUri = None,
    ) -> None:
        """Delete an experiment and its runs (restorable until 'fsreg gc' removes them)."""
        client = read_client(tracking_uri)
        exp = find_experiment(client, experiment)
        client.delete_experiment(exp.experiment_id)
        print(f"Deleted experiment {exp.name!r} ({exp.experiment_id})")

    @experiments_app.command("restore")
    def experiments_restore(
        experiment: ExperimentRef,
        tracking_uri: TrackingUri = None,
    ) -> None:
        """Restore a deleted experiment."""
        client = read_client(tracking_uri)
        exp = find_experiment(client, experiment)
        client.restore_experiment(exp.experiment_id)
        print(f"Restored experiment {exp.name!r} ({exp.experiment_id})")

    @experiments_app.command("csv")
    def experiments_csv(
        experiment: Annotated[
            str,
            typer.Option(
                "--experiment-id",
                "-x",
                help="Experiment id or name.",
                shell_complete=completion.experiment_names,
            ),
        ],
        output: Annotated[
            str | None,
            typer.Option("--filename", "-o", help="Write the CSV here (default: stdout)."),
        ] = None,
        tracking_uri: TrackingUri = None,
    ) -> None:
        """Every run of an experiment as CSV, as 'mlflow experiments csv' writes it."""
        from fsregistry.fluent import search_runs

        exp = find_experiment(read_client(tracking_uri), experiment)
        use_stores(tracking_uri)
        runs: Any = search_runs(experiment_ids=[exp.experiment_id])
        if output:
            runs.to_csv(output, index=False)
            print(f"Experiment with ID {exp.experiment_id} has been exported as a CSV to {output}")
        else:
            sys.stdout.write(runs.to_csv(index=False))

    @runs_app.command("delete")
    def runs_delete(run_id: RunId, tracking_uri: TrackingUri = None) -> None:
        """Delete a run (restorable until 'fsreg gc' removes it)."""
        read_client(tracking_uri).delete_run(run_id)
        print(f"Deleted run {run_id}")

    @runs_app.command("restore")
    def runs_restore(run_id: RunId, tracking_uri: TrackingUri = None) -> None:
        """Restore a deleted run."""
        read_client(tracking_uri).restore_run(run_id)
        print(f"Restored run {run_id}")

    @runs_app.command("tag")
    def runs_tag(
        run_id: RunId,
        key: Annotated[str, typer.Argument(help="Tag key.")],
        value: Annotated[str, typer.Argument(help="Tag value.")],
        tracking_uri: TrackingUri = None,
    ) -> None:
        """Set a tag on a run."""
        read_client(tracking_uri).set_tag(run_id, key, value)
        print(f"Tagged run {run_id}: {key}={value}")

    @runs_app.command("untag")
    def runs_untag(
        run_id: RunId,
        key: Annotated[str, typer.Argument(help="Tag key to delete.")],
        tracking_uri: TrackingUri = None,
    ) -> None:
        """Delete a tag from a run."""
        read_client(tracking_uri).delete_tag(run_id, key)
        print(f"Untagged run {run_id}: {key}")

    @runs_app.command("diff")
    def runs_diff(
        first: Annotated[
            str,
            typer.Argument(help="A run id.", metavar="RUN_A", shell_complete=completion.run_ids),
        ],
        second: Annotated[
            str,
            typer.Argument(
                help="The run id to compare with.",
                metavar="RUN_B",
                shell_complete=completion.run_ids,
            ),
        ],
        only_diff: Annotated[
            bool, typer.Option("--only-diff", help="Only the keys whose values differ.")
        ] = False,
        tracking_uri: TrackingUri = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Params, latest metrics and tags of two runs side by side (* marks differences)."""
        client = read_client(tracking_uri)
        a, b = client.get_run(first), client.get_run(second)
        sections = {
            "params": (a.data.params, b.data.params),
            "metrics": (a.data.metrics, b.data.metrics),
            "tags": (a.data.tags, b.data.tags),
        }
        data: dict[str, Any] = {"run_ids": [first, second]}
        for section, (left, right) in sections.items():
            data[section] = {
                key: [_jsonable(left.get(key)), _jsonable(right.get(key))]
                for key in sorted(set(left) | set(right))
                if not only_diff or left.get(key) != right.get(key)
            }
        if as_json:
            print_json(data)
            return
        rows = [
            [
                "*" if values[0] != values[1] else "",
                section,
                key,
                *(_shown(key, v) for v in values),
            ]
            for section in sections
            for key, values in data[section].items()
        ]
        print_table(["", "Kind", "Key", _run_label(a), _run_label(b)], rows)


def _run_label(run: Any) -> str:
    short = run.info.run_id[:8]
    return f"{run.info.run_name} ({short})" if run.info.run_name else short


def _shown(key: str, value: Any) -> str:
    if key == LOG_MODEL_HISTORY and isinstance(value, str):
        models = logged_models(value)
        if isinstance(models, list):
            return f"{len(models)} logged model(s): " + ", ".join(
                m["artifact_path"] for m in models
            )
    return human_value(value)


def _jsonable(value: Any) -> Any:
    return json_number(value) if isinstance(value, float) else value


def ls_metrics(
    run_id: RunId,
    key: Annotated[
        str | None, typer.Argument(help="A metric: list every value logged for it.")
    ] = None,
    tracking_uri: TrackingUri = None,
    as_json: JsonFlag = False,
) -> None:
    """List a run's metrics (latest values), or one metric's history."""
    client = read_client(tracking_uri)
    if key is None:
        keys = sorted(client.get_run(run_id).data.metrics)
        metrics = [_latest(client.get_metric_history(run_id, k)) for k in keys]
    else:
        metrics = list(client.get_metric_history(run_id, key))
    rows = [
        {"key": m.key, "value": json_number(m.value), "step": m.step, "timestamp": m.timestamp}
        for m in metrics
    ]
    if as_json:
        print_json(rows)
        return
    print_table(
        ["Key", "Value", "Step", "Time"],
        [[r["key"], human_value(r["value"]), r["step"], local_time(r["timestamp"])] for r in rows],
    )


def _latest(history: Any) -> Any:
    # MLflow's latest metric: the highest step, then the latest timestamp, then the largest
    # value; a NaN counts as larger than any number here, so that the order is total.
    def order(m: Any) -> tuple[int, int, bool, float]:
        nan = m.value != m.value
        return (m.step, m.timestamp, nan, 0.0 if nan else m.value)

    return max(history, key=order)
