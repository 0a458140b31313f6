"""``fsreg export`` / ``fsreg import``: a store into MLflow's database or Parquet files, and
MLflow's server or database into a store.

``fsreg export --to sqlite:///mlflow.db`` (any SQLAlchemy URL MLflow's tracking server
accepts) copies experiments, runs with their full metric histories, datasets, LoggedModels and
the registry with their ids; artifacts stay where they are. Re-running it copies only what
is missing, so an interrupted export is finished by running it again (rules in
:mod:`fsregistry.export.sql`). Needs ``pip install 'fsregistry[mlflow]'``.

``fsreg export --format parquet -o DIR`` writes runs, params, metrics (every logged value),
tags and the registry's models, versions and aliases as Parquet files (schema in
:mod:`fsregistry.export.parquet`). Needs pyarrow (``pip install 'fsregistry[parquet]'``).

``fsreg import --from URL -t STORE`` reads an MLflow tracking server (``http(s)://``) or
database URL with MLflow's client and writes the store with the same ids (rules in
:mod:`fsregistry.export.importer`); re-running copies only what is missing.

A progress bar is drawn on stderr when it is a terminal (``--progress`` / ``--no-progress``
decide otherwise). JSON output (stable; keys may be added): database export
``{to, copied: {kind: n}, skipped: {kind: n}}`` (import: ``from`` instead of ``to``) with
kinds ``experiment``, ``run``, ``logged_model``, ``registered_model``; Parquet
``{out, tables: {table: rows}}``.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Annotated, Any

import typer

from fsregistry.cli.common import JsonFlag, RegistryUri, TrackingUri
from fsregistry.cli.output import print_json, print_table
from fsregistry.exceptions import InvalidParameterValue

_FORMATS = ("mlflow-db", "parquet")


class _Bar:
    """Progress of the export's stages, drawn with rich on stderr when wanted."""

    def __init__(self, show: bool) -> None:
        self.show = show
        self._progress: Any = None
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> _Bar:
        if self.show:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._progress = Progress(
                TextColumn("{task.description:<17}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[copied]} copied"),
                console=Console(file=sys.stderr),
                transient=False,
            )
            self._progress.start()
        return self

    def __call__(self, event: Any) -> None:
        if self._progress is None:
            return
        task = self._tasks.get(event.kind)
        if task is None:
            task = self._progress.add_task(event.kind + "s", total=event.total, copied=0)
            self._tasks[event.kind] = task
        done_copied = self._progress.tasks[task].fields["copied"] + (1 if event.copied else 0)
        self._progress.update(task, completed=event.done, copied=done_copied)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()


_KINDS = ("experiment", "run", "logged_model", "registered_model")
Progress_ = Annotated[
    bool | None,
    typer.Option("--progress/--no-progress", help="Progress bar (default: when stderr is a tty)."),
]


def _summary(summary: dict[str, dict[str, int]]) -> None:
    print_table(
        ["kind", "copied", "already there"],
        [[k, str(summary["copied"].get(k, 0)), str(summary["skipped"].get(k, 0))] for k in _KINDS],
    )


def register(app: typer.Typer) -> None:
    """Attach ``export`` and ``import`` to the top-level CLI."""

    @app.command("import")
    def import_(
        source: Annotated[
            str,
            typer.Option(
                "--from",
                metavar="URL",
                help="MLflow tracking server (http://host:5000) or database URL "
                "(sqlite:///mlflow.db) to copy into the store, ids kept; re-run to resume.",
            ),
        ],
        tracking_uri: TrackingUri = None,
        progress: Progress_ = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Copy an MLflow tracking server or database into the store (-t)."""
        from fsregistry import config
        from fsregistry.export import import_from

        store = tracking_uri or config.get_tracking_uri()
        show = sys.stderr.isatty() and not as_json if progress is None else progress
        with _Bar(show) as bar:
            summary = import_from(source, store, progress=bar)
        if as_json:
            print_json({"from": source, **summary})
        else:
            _summary(summary)

    @app.command("export")
    def export(
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
        to: Annotated[
            str | None,
            typer.Option(
                "--to",
                metavar="DB_URL",
                help="Database URL of MLflow's tracking server (sqlite:///mlflow.db, "
                "postgresql://...): copy the store into it, ids kept; re-run to resume.",
            ),
        ] = None,
        fmt: Annotated[
            str | None,
            typer.Option(
                "--format",
                metavar="mlflow-db|parquet",
                help="mlflow-db (with --to; the default) or parquet (with -o).",
            ),
        ] = None,
        out: Annotated[
            str | None,
            typer.Option("--out", "-o", metavar="DIR", help="Directory for the Parquet files."),
        ] = None,
        progress: Progress_ = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Copy the store into MLflow's database (--to URL) or into Parquet files (-o DIR)."""
        from fsregistry import config

        kind = fmt or ("parquet" if out and not to else "mlflow-db")
        if kind not in _FORMATS:
            raise InvalidParameterValue(
                f"Invalid --format {fmt!r}: expected one of {', '.join(_FORMATS)}"
            )
        store = tracking_uri or config.get_tracking_uri()
        if kind == "parquet":
            if not out or to:
                raise InvalidParameterValue("--format parquet needs -o DIR (and no --to)")
            from fsregistry.export import export_parquet

            tables = export_parquet(store, out, registry_uri=registry_uri)
            if as_json:
                print_json({"out": out, "tables": tables})
            else:
                print_table(["table", "rows"], [[k, str(v)] for k, v in tables.items()])
            return
        if not to or out:
            raise InvalidParameterValue("Export to a database needs --to DB_URL (and no -o)")
        from fsregistry.export import export_to_database

        show = sys.stderr.isatty() and not as_json if progress is None else progress
        with _Bar(show) as bar:
            summary = export_to_database(store, to, registry_uri=registry_uri, progress=bar)
        if as_json:
            print_json({"to": to, **summary})
            return
        _summary(summary)
