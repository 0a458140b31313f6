"""What ``fsreg gc`` decided (:mod:`fsregistry.maintenance.gc`): the plan that planning hands
to removal (:mod:`fsregistry.maintenance.gc_removal`), and what removal did. Each entity
turns into the JSON ``fsreg gc --json`` prints (``to_dict``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: A deleted run's or experiment's ``lifecycle_stage``.
DELETED = "deleted"


@dataclass(frozen=True)
class GcRun:
    run_id: str
    experiment_id: str
    run_name: str | None
    path: str  # store-relative run directory
    deleted_time: int | None
    artifact_uri: str
    separate_artifacts: str | None = None  # removed too: artifacts stored apart from the run

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "experiment_id": self.experiment_id,
            "run_name": self.run_name,
            "path": self.path,
            "deleted_time": self.deleted_time,
            "artifact_uri": self.artifact_uri,
            "separate_artifacts": self.separate_artifacts,
        }


@dataclass(frozen=True)
class GcExperiment:
    experiment_id: str
    name: str | None
    path: str
    last_update_time: int | None
    runs: tuple[GcRun, ...]
    separate_artifacts: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "experiment_id": self.experiment_id,
            "name": self.name,
            "path": self.path,
            "last_update_time": self.last_update_time,
            "run_ids": [r.run_id for r in self.runs],
            "separate_artifacts": self.separate_artifacts,
        }


@dataclass(frozen=True)
class Kept:
    """Something gc leaves alone (``kind``: run, experiment or artifacts) and why."""

    kind: str
    id: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "reason": self.reason}


@dataclass
class GcPlan:
    """What :func:`execute_gc` will remove: runs outside the experiments that go, and
    experiments (with all their runs)."""

    runs: list[GcRun] = field(default_factory=list)
    experiments: list[GcExperiment] = field(default_factory=list)
    kept: list[Kept] = field(default_factory=list)

    def all_runs(self) -> list[GcRun]:
        return self.runs + [r for e in self.experiments for r in e.runs]


@dataclass
class GcResult:
    runs: list[GcRun] = field(default_factory=list)
    experiments: list[GcExperiment] = field(default_factory=list)
    errors: list[Kept] = field(default_factory=list)


__all__ = ["DELETED", "GcExperiment", "GcPlan", "GcResult", "GcRun", "Kept"]
