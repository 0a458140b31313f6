"""``fsreg gc``: permanently remove deleted runs and experiments, as ``mlflow gc`` does for
MLflow's file store.

What goes (MLflow's rules):

- runs whose ``meta.yaml`` says ``lifecycle_stage: deleted``, with their artifacts; with
  ``older_than``, only those whose ``deleted_time`` is at least that old;
- deleted experiments (MLflow moves them to ``.trash/<id>``), with every run, logged model,
  dataset and tag in them; with ``older_than``, only those whose ``last_update_time`` (the
  deletion time, for MLflow and fsregistry alike) is older than that.

Given ids, only those go, and every id must name something deleted (and old enough): one
that does not fails the whole call before anything is removed (MLflow checks the same things,
but one item at a time while deleting; unlike MLflow, ``run_ids`` alone do not also sweep all
deleted experiments, nor ``experiment_ids`` alone all deleted runs).

Safety beyond MLflow's:

- nothing that backs a live registered model version is removed (a version whose
  ``source``/``storage_location`` lies in the run or experiment); a sweep keeps such items
  and says why, given ids fail;
- an experiment that holds an active run (restored by id after the experiment was deleted)
  is kept the same way, and so is one caught mid delete or restore (in both ``<id>/`` and
  ``.trash/<id>/``, or its ``lifecycle_stage`` disagreeing with where it lies), with its runs;
- artifacts stored apart from the run (``artifact_uri`` elsewhere in the store or in another
  store) are removed only where the location is specific to the run
  (``.../<run_id>/artifacts``) and is not another store's run directory (a copied tree's
  URIs still name the original); otherwise they are kept and listed;
- a location outside the store is removed only when asked (``outside_artifacts``,
  ``fsreg gc --delete-outside-artifacts``): anyone who can write one ``meta.yaml`` of a shared
  store could otherwise point an administrator's gc at any directory; the plan (and
  ``--dry-run``) lists each such location as kept, with the option that removes it;
- on local disk nothing is deleted through a symbolic link: a run or experiment directory
  that is a link, or holds one to a directory, is left alone and reported.

Interrupted, gc leaves a deleted run or experiment with fewer files, never something that
looks active: every directory is emptied first and its ``meta.yaml`` (which says "deleted")
goes last, so running gc again finishes the job.

Collaborators: :mod:`~fsregistry.maintenance.gc_reading` (what gc reads),
:mod:`~fsregistry.maintenance.gc_plan` (the plan and result), this module (planning: what
goes and what is kept, and why) and :mod:`~fsregistry.maintenance.gc_removal` (removing).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from datetime import timedelta

from fsregistry.exceptions import InvalidParameterValue, InvalidState, ResourceDoesNotExist
from fsregistry.maintenance.gc_plan import GcExperiment, GcPlan, GcResult, GcRun, Kept
from fsregistry.maintenance.gc_reading import (
    GcExp,
    GcRunDir,
    live_version_locations,
    read_experiments,
    read_runs,
)
from fsregistry.maintenance.gc_removal import execute_gc
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import now_ms
from fsregistry.mlruns.validation import validate_experiment_id, validate_run_id
from fsregistry.storage import Storage, is_store_url, open_storage
from fsregistry.storage import local_path_of as _local_path_of

# MLflow's ``--older-than`` grammar: #d#h#m#s, each part optional, decimals allowed.
_DURATION = re.compile(
    r"^(?:(?P<days>[\d.]+)d)?(?:(?P<hours>[\d.]+)h)?(?:(?P<minutes>[\d.]+)m)?"
    r"(?:(?P<seconds>[\d.]+)s)?$"
)


def parse_duration(text: str, option: str = "--older-than") -> int:
    """``"1d2h3m4s"`` (MLflow's format; ``1.5d`` too) -> milliseconds."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    parts = {k: v for k, v in match.groupdict().items() if v} if match else {}
    try:
        if not parts:
            raise ValueError(text)
        return int(timedelta(**{k: float(v) for k, v in parts.items()}).total_seconds() * 1000)
    except (ValueError, OverflowError):
        raise InvalidParameterValue(
            f"Could not parse any time information from '{text}'. Examples of valid strings: "
            f"'8h', '2d8h5m20s', '2m4s' ({option}: days, hours, minutes, seconds; decimals "
            "allowed)"
        ) from None


def plan_gc(
    storage: Storage,
    older_than_ms: int | None = None,
    run_ids: Sequence[str] | None = None,
    experiment_ids: Sequence[str] | None = None,
    registries: Sequence[Storage] | None = None,
    now: int | None = None,
    outside_artifacts: bool = False,
    older_than: str | None = None,
) -> GcPlan:
    """Decide what to remove; raises (having removed nothing) if a given id cannot go.

    ``older_than``: the ``--older-than`` text ``older_than_ms`` came from, for the messages
    (MLflow's name the user's value).

    ``registries``: registry stores whose live versions protect their files (default: the
    registry inside ``storage`` itself). ``outside_artifacts``: also remove artifact
    locations outside the store (MLflow's gc always does).
    """
    run_ids = [validate_run_id(r) for r in run_ids or []]
    experiment_ids = [validate_experiment_id(e) for e in experiment_ids or []]
    sweep = not run_ids and not experiment_ids
    now = now_ms() if now is None else now
    experiments = read_experiments(storage)
    runs = read_runs(storage, experiments.values())
    protected = live_version_locations([storage] if registries is None else registries)
    planner = _Planner(
        storage, older_than_ms, now, protected, explicit=not sweep, outside=outside_artifacts
    )
    plan = GcPlan()
    age = older_than if older_than is not None else f"{older_than_ms} ms"

    chosen_exps: list[GcExp] = []
    if sweep:
        chosen_exps = [e for e in experiments.values() if e.deleted and planner.old_enough_exp(e)]
    for exp_id in dict.fromkeys(experiment_ids):
        found = [e for e in experiments.values() if e.exp_id == exp_id]
        if not found:
            raise ResourceDoesNotExist(f"Could not find experiment with ID {exp_id}")
        exp = next((e for e in found if e.path.startswith(layout.TRASH)), found[0])
        if not exp.deleted:
            raise InvalidParameterValue(
                f"Experiments {[exp_id]} are not in the deleted lifecycle stage. Only "
                "experiments in the deleted lifecycle stage can be hard-deleted."
            )
        if not planner.old_enough_exp(exp):
            raise InvalidParameterValue(
                f"Experiments {[exp_id]} are not older than the required age. Only experiments "
                f"older than {age} can be deleted. (last_update_time "
                f"{exp.meta.get('last_update_time')})"
            )
        chosen_exps.append(exp)
    chosen_exp_dirs: set[str] = set()
    for exp in sorted(chosen_exps, key=lambda e: e.path):
        planned = planner.experiment(exp, [r for r in runs if r.exp is exp])
        if planned is not None:
            plan.experiments.append(planned)
            chosen_exp_dirs.add(exp.path)

    chosen_runs: list[GcRunDir] = []
    if sweep:
        chosen_runs = [r for r in runs if r.deleted and planner.old_enough_run(r)]
    for run_id in dict.fromkeys(run_ids):
        run = next((r for r in runs if r.run_id == run_id), None)
        if run is None:
            raise ResourceDoesNotExist(f"Run '{run_id}' not found")
        if not run.deleted:
            raise InvalidParameterValue(
                f"Run {run_id} is not in `deleted` lifecycle stage. Only runs in `deleted` "
                "lifecycle stage can be deleted."
            )
        if not planner.old_enough_run(run):
            raise InvalidParameterValue(
                f"Run {run_id} is not older than the required age. Only runs older than "
                f"{age} can be deleted. (deleted_time {run.meta.get('deleted_time')})"
            )
        chosen_runs.append(run)
    for run in sorted(chosen_runs, key=lambda r: r.path):
        if run.exp.path in chosen_exp_dirs:
            continue  # goes with its experiment
        planned_run = planner.run(run)
        if planned_run is not None:
            plan.runs.append(planned_run)
    plan.kept = planner.kept
    return plan


class _Planner:
    def __init__(
        self,
        storage: Storage,
        older_than_ms: int | None,
        now: int,
        protected: list[tuple[str, str]],
        explicit: bool,
        outside: bool,
    ) -> None:
        self.storage = storage
        self.outside = outside
        self.older_than_ms = older_than_ms
        self.now = now
        self.protected = protected
        self.explicit = explicit
        self.kept: list[Kept] = []

    def old_enough_run(self, run: GcRunDir) -> bool:
        if self.older_than_ms is None:
            return True
        deleted_time = run.meta.get("deleted_time")
        return isinstance(deleted_time, int) and self.now - deleted_time >= self.older_than_ms

    def old_enough_exp(self, exp: GcExp) -> bool:
        if self.older_than_ms is None:
            return True
        stamp = exp.meta.get("last_update_time")
        return isinstance(stamp, int) and stamp < self.now - self.older_than_ms

    def _refuse(self, kind: str, item_id: str, reason: str) -> None:
        """An item that cannot go: an error when asked for by id, else kept and listed."""
        if self.explicit:
            raise InvalidState(f"Cannot remove {kind} {item_id}: {reason}")
        self.kept.append(Kept(kind, item_id, reason))

    def _owner_uris(self, exp_id: str, sub: str = "") -> list[str]:
        """URIs of an item in both of its possible places (recorded URIs name the active one)."""
        dirs = (layout.experiment_dir(exp_id, deleted) for deleted in (False, True))
        return [self.storage.uri(f"{d}/{sub}" if sub else d) for d in dirs]

    def _backing(self, prefixes: Iterable[str], run_ids: Iterable[str]) -> str | None:
        """The live model version whose files lie under one of ``prefixes``, if any."""
        heads = [p.rstrip("/") for p in prefixes if p]
        ids = set(run_ids)
        for label, location in self.protected:
            if any(location == h or location.startswith(h + "/") for h in heads):
                return label
            if location.startswith("runs:/") and location[6:].split("/", 1)[0] in ids:
                return label
        return None

    def run(self, run: GcRunDir) -> GcRun | None:
        unsettled = run.exp.unsettled()
        if unsettled is not None:
            self._refuse("run", run.run_id, unsettled)
            return None
        owned = self._owner_uris(run.exp.exp_id, run.run_id)
        artifact_uri = str(run.meta.get("artifact_uri") or "")
        backing = self._backing([*owned, artifact_uri], [run.run_id])
        if backing is not None:
            self._refuse("run", run.run_id, f"its files back {backing}")
            return None
        return self._gc_run(run, owned)

    def _gc_run(self, run: GcRunDir, owned: list[str]) -> GcRun:
        artifact_uri = str(run.meta.get("artifact_uri") or "")
        separate = self._separate_location(
            artifact_uri, owned, f"/{run.run_id}/artifacts", "run", run.run_id
        )
        deleted_time = run.meta.get("deleted_time")
        return GcRun(
            run_id=run.run_id,
            experiment_id=run.exp.exp_id,
            run_name=run.meta.get("run_name"),
            path=run.path,
            deleted_time=deleted_time if isinstance(deleted_time, int) else None,
            artifact_uri=artifact_uri,
            separate_artifacts=separate,
        )

    def experiment(self, exp: GcExp, runs: list[GcRunDir]) -> GcExperiment | None:
        unsettled = exp.unsettled()
        if unsettled is not None:
            self._refuse("experiment", exp.exp_id, unsettled)
            return None
        active = [r.run_id for r in runs if not r.deleted]
        if active:
            self._refuse("experiment", exp.exp_id, f"it holds active run(s) {', '.join(active)}")
            return None
        owned = self._owner_uris(exp.exp_id)
        location = str(exp.meta.get("artifact_location") or "")
        run_locations = [str(r.meta.get("artifact_uri") or "") for r in runs]
        backing = self._backing([*owned, location, *run_locations], [r.run_id for r in runs])
        if backing is not None:
            self._refuse("experiment", exp.exp_id, f"its files back {backing}")
            return None
        gc_runs = tuple(
            self._gc_run(r, [*owned, *self._owner_uris(exp.exp_id, r.run_id)])
            for r in sorted(runs, key=lambda r: r.run_id)
        )
        stamp = exp.meta.get("last_update_time")
        return GcExperiment(
            experiment_id=exp.exp_id,
            name=exp.meta.get("name"),
            path=exp.path,
            last_update_time=stamp if isinstance(stamp, int) else None,
            runs=gc_runs,
            separate_artifacts=self._separate_location(
                location, owned, f"/{exp.exp_id}", "experiment", exp.exp_id
            ),
        )

    def _separate_location(
        self, uri: str, owned: Sequence[str], suffix: str, what: str, item_id: str
    ) -> str | None:
        """The location of an item's artifacts when it is outside the directories that go
        anyway and safe to remove with them; None otherwise (kept and listed if it exists)."""
        uri = uri.rstrip("/")
        if not uri or any(uri == o or uri.startswith(o + "/") for o in owned):
            return None
        if not is_store_url(uri) or uri.split(":", 1)[0] in ("runs", "models"):
            self.kept.append(Kept("artifacts", uri, f"not a store location ({what} {item_id})"))
            return None
        local = _local_path_of(uri)
        if local is not None and not os.path.exists(local):
            return None  # nothing there (a copied tree names where it was written)
        root = self.storage.root_uri
        if not uri.endswith(suffix) or root == uri or root.startswith(uri + "/"):
            self.kept.append(
                Kept("artifacts", uri, f"not specific to {what} {item_id}, so not removed")
            )
            return None
        owner_dir = uri[: -len("/artifacts")] if what == "run" else uri
        if open_storage(owner_dir).exists(layout.META):
            self.kept.append(
                Kept(
                    "artifacts",
                    uri,
                    f"belongs to another store's {what} directory (a copied tree?), not removed",
                )
            )
            return None
        if not self.outside and not self._in_store(uri):
            self.kept.append(
                Kept(
                    "artifacts",
                    uri,
                    f"outside the store ({what} {item_id}); removed only with "
                    "--delete-outside-artifacts",
                )
            )
            return None
        return uri

    def _in_store(self, uri: str) -> bool:
        root = self.storage.root_uri.rstrip("/")
        location = open_storage(uri).root_uri.rstrip("/")
        return location == root or location.startswith(root + "/")


__all__ = [
    "GcExperiment",
    "GcPlan",
    "GcResult",
    "GcRun",
    "Kept",
    "execute_gc",
    "parse_duration",
    "plan_gc",
]
