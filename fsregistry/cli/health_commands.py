"""``fsreg doctor`` and ``fsreg gc``: keep a store healthy.

``doctor`` scans the tracking store (and the registry store when it is elsewhere) and reports
what is broken: unreadable or empty ``meta.yaml`` files, directories without metadata,
aliases to missing or deleted versions, leftovers of interrupted writes, stale caches (the
list of kinds is in :mod:`fsregistry.maintenance.doctor`). ``--fix`` applies only the repairs
that cannot lose data. Exit code 0 when nothing is left to report, 1 when problems remain.

``gc`` permanently removes deleted runs and experiments, like ``mlflow gc`` (same options:
``--older-than 1d2h3m4s``, ``--run-ids``, ``--experiment-ids``; ``--backend-store-uri`` is
accepted for ``--tracking-uri``, and not listed in the help); ``--dry-run`` lists what would go. Rules in
:mod:`fsregistry.maintenance.gc`. Exit code 1 when a given id cannot be removed (nothing is
removed then) or when removing an item failed.

JSON output (stable; keys may be added, never removed or renamed):

- ``doctor``: ``{ok, fixed, remaining, too_young, stores: [uri], findings: [{store, kind,
  path, message, severity, fixable, fixed, fix_error}]}``. ``too_young``: leftovers not
  reported because they are younger than ``--min-age`` (``--min-age 0`` shows them). ``ok``: nothing remains; ``path`` is
  relative to ``store``; ``severity`` is ``"error"`` (something readers cannot read as
  intended) or ``"warning"`` (leftovers, stale caches); ``fixed`` is true only after
  ``--fix`` repaired it; ``fix_error`` says why a fix was not applied, else null.
- ``gc``: ``{store, dry_run, older_than, runs: [{run_id, experiment_id, run_name, path,
  deleted_time, artifact_uri, separate_artifacts}], experiments: [{experiment_id, name, path,
  last_update_time, run_ids, separate_artifacts}], kept: [{kind, id, reason}],
  errors: [{kind, id, reason}]}``. ``runs`` lists every run removed (or, with ``--dry-run``,
  to be removed), those of removed experiments included; ``separate_artifacts`` is the
  artifact location outside the item's directory that goes with it, or null; ``kept`` lists
  what a sweep left alone and why (``kind``: run, experiment or artifacts); times are ms.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fsregistry.cli.common import JsonFlag, RegistryUri, TrackingUri
from fsregistry.cli.output import print_json, print_table
from fsregistry.cli.progress import spinner

if TYPE_CHECKING:
    from fsregistry.maintenance.doctor import Finding
    from fsregistry.maintenance.gc import GcPlan, GcResult, Kept
    from fsregistry.storage import Storage


def _stores(tracking_uri: str | None, registry_uri: str | None) -> list[Storage]:
    """The tracking store (which must exist), then the registry store if it is somewhere
    else and exists."""
    from fsregistry import config
    from fsregistry.exceptions import ResourceDoesNotExist
    from fsregistry.storage import open_storage

    tracking = tracking_uri or config.get_tracking_uri()
    registry = config.registry_uri_for(tracking, registry_uri)
    out: list[Storage] = []
    for url in (tracking, registry):
        storage = open_storage(url)
        if any(s.root_uri == storage.root_uri for s in out):
            continue
        dirs, files = storage.list_dir("")
        if not dirs and not files:
            if out:
                continue  # no registry there yet: nothing to check, nothing to protect
            raise ResourceDoesNotExist(f"No store at {url}: no directory, or an empty one")
        out.append(storage)
    return out


def _time(ms: int | None) -> str:
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


def _fix_state(f: Finding) -> str:
    if f.fixed:
        return "fixed"
    if f.fix_error:
        return f"not fixed: {f.fix_error}"
    return "fixable" if f.fixable else "-"


def register(app: typer.Typer) -> None:
    """Attach ``doctor`` and ``gc`` to the top-level CLI."""

    @app.command("doctor")
    def doctor(
        tracking_uri: TrackingUri = None,
        registry_uri: RegistryUri = None,
        fix: Annotated[
            bool, typer.Option("--fix", help="Apply the repairs that cannot lose data.")
        ] = False,
        min_age: Annotated[
            str,
            typer.Option(
                "--min-age",
                help="Leave alone leftovers younger than this (#d#h#m#s, or 0 for none): a "
                "writer may still be at work.",
            ),
        ] = "1h",
        as_json: JsonFlag = False,
    ) -> None:
        """Check a store for damage and leftovers; --fix repairs what is safe to repair."""
        from fsregistry.maintenance import diagnose, parse_duration, repair

        min_age_s = 0.0 if min_age.strip() == "0" else parse_duration(min_age, "--min-age") / 1000
        stores = _stores(tracking_uri, registry_uri)
        report: list[tuple[Storage, Finding]] = []
        too_young = 0
        for storage in stores:
            with spinner(f"Checking {storage.root_uri}") as say:
                findings = diagnose(storage, min_age_s)
                if min_age_s > 0:
                    too_young += _count_too_young(storage, findings)
                if fix:
                    say(f"Repairing {storage.root_uri}")
                    findings = repair(storage, findings, min_age_s)
            report.extend((storage, f) for f in findings)
        remaining = [f for _, f in report if not f.fixed]
        fixed = len(report) - len(remaining)
        if as_json:
            print_json(
                {
                    "ok": not remaining,
                    "fixed": fixed,
                    "remaining": len(remaining),
                    "stores": [s.root_uri for s in stores],
                    "findings": [{"store": s.root_uri, **f.to_dict()} for s, f in report],
                    "too_young": too_young,
                }
            )
        else:
            _print_doctor(stores, report, fixed, remaining, fix)
            if too_young:
                print(
                    f"{too_young} leftover(s) younger than {min_age.strip()} not reported "
                    "(a writer may still be at work); see them with --min-age 0"
                )
        if remaining:
            raise typer.Exit(1)

    @app.command("gc")
    def gc(
        tracking_uri: TrackingUri = None,
        backend_store_uri: Annotated[
            str | None,
            typer.Option("--backend-store-uri", hidden=True, help="mlflow gc's --tracking-uri."),
        ] = None,
        registry_uri: RegistryUri = None,
        older_than: Annotated[
            str | None,
            typer.Option(
                "--older-than",
                help="Only what was deleted at least this long ago: #d#h#m#s, e.g. 30d, 1d2h.",
            ),
        ] = None,
        experiment_ids: Annotated[
            list[str] | None,
            typer.Option(
                "--experiment-ids",
                help="Only these deleted experiments (comma-separated or repeated).",
            ),
        ] = None,
        run_ids: Annotated[
            list[str] | None,
            typer.Option(
                "--run-ids", help="Only these deleted runs (comma-separated or repeated)."
            ),
        ] = None,
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="List what would be removed; remove nothing.")
        ] = False,
        outside_artifacts: Annotated[
            bool,
            typer.Option(
                "--delete-outside-artifacts",
                help="Also remove artifact locations outside the store (MLflow's gc always "
                "does; kept and listed otherwise).",
            ),
        ] = False,
        as_json: JsonFlag = False,
    ) -> None:
        """Permanently remove deleted runs and experiments, with their artifacts."""
        from fsregistry.maintenance import execute_gc, parse_duration, plan_gc

        older_ms = parse_duration(older_than) if older_than is not None else None
        stores = _stores(tracking_uri or backend_store_uri, registry_uri)
        storage = stores[0]
        with spinner(f"Finding what to delete in {storage.root_uri}") as say:
            plan = plan_gc(
                storage,
                older_than_ms=older_ms,
                run_ids=_split_ids(run_ids),
                experiment_ids=_split_ids(experiment_ids),
                registries=stores,
                outside_artifacts=outside_artifacts,
                older_than=older_than,
            )
            say(f"Deleting from {storage.root_uri}")
            result = None if dry_run else execute_gc(storage, plan)
        if as_json:
            runs = plan.all_runs() if result is None else result.runs
            experiments = plan.experiments if result is None else result.experiments
            print_json(
                {
                    "store": storage.root_uri,
                    "dry_run": dry_run,
                    "older_than": older_than,
                    "runs": [r.to_dict() for r in runs],
                    "experiments": [e.to_dict() for e in experiments],
                    "kept": [k.to_dict() for k in plan.kept],
                    "errors": [] if result is None else [e.to_dict() for e in result.errors],
                }
            )
        else:
            _print_gc(storage.root_uri, plan, result)
        if result is not None and result.errors:
            raise typer.Exit(1)


def _count_too_young(storage: Storage, findings: list[Finding]) -> int:
    """How many findings a scan without an age limit adds: leftovers left out as too young.
    One more scan of the store; doctor is not on anyone's hot path."""
    from fsregistry.maintenance import diagnose

    seen = {(f.kind, f.path) for f in findings}
    return sum(1 for f in diagnose(storage, 0.0) if (f.kind, f.path) not in seen)


def _split_ids(values: list[str] | None) -> list[str]:
    return [v.strip() for value in values or [] for v in value.split(",") if v.strip()]


def _print_doctor(
    stores: list[Storage],
    report: list[tuple[Storage, Finding]],
    fixed: int,
    remaining: list[Finding],
    fix: bool,
) -> None:
    where = ", ".join(s.root_uri for s in stores)
    if not report:
        print(f"No problems found in {where}")
        return
    several = len(stores) > 1
    print_table(
        ["Severity", "Kind", "Path", "Problem", "Fix"],
        [
            [
                f.severity,
                f.kind,
                s.uri(f.path) if several else f.path,
                f.message,
                _fix_state(f),
            ]
            for s, f in report
        ],
    )
    fixable = sum(1 for f in remaining if f.fixable and not f.fix_error)
    summary = f"{len(report)} problem(s) in {where}"
    if fix:
        summary += f": {fixed} fixed, {len(remaining)} remaining"
    elif fixable:
        summary += f"; {fixable} can be repaired with: fsreg doctor --fix"
    print(summary)


def _print_gc(store: str, plan: GcPlan, result: GcResult | None) -> None:
    experiments = plan.experiments if result is None else result.experiments
    runs = plan.all_runs() if result is None else result.runs
    rows: list[list[Any]] = [
        ["experiment", e.experiment_id, e.name or "", _time(e.last_update_time), e.path]
        for e in experiments
    ]
    rows += [["run", r.run_id, r.run_name or "", _time(r.deleted_time), r.path] for r in runs]
    if rows:
        print_table(["Kind", "ID", "Name", "Deleted (UTC)", "Path"], rows)
    verb = "Would permanently delete" if result is None else "Permanently deleted"
    if not rows:
        print(f"Nothing to delete in {store}")
    else:
        print(f"{verb} {len(experiments)} experiment(s) and {len(runs)} run(s) from {store}")
    _print_kept("kept", plan.kept)
    if result is not None:
        _print_kept("error", result.errors)


def _print_kept(label: str, items: list[Kept]) -> None:
    import sys

    for item in items:
        stream = sys.stderr if label == "error" else sys.stdout
        print(f"{label}: {item.kind} {item.id}: {item.reason}", file=stream)
