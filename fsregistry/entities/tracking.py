"""Tracking entities: experiments, runs, metrics, params, tags, datasets, artifacts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from fsregistry.exceptions import InvalidParameterValue


class LifecycleStage:
    ACTIVE: ClassVar[str] = "active"
    DELETED: ClassVar[str] = "deleted"


class ViewType:
    """Which lifecycle stages a search covers (MLflow's ``ViewType``)."""

    ACTIVE_ONLY: ClassVar[int] = 1
    DELETED_ONLY: ClassVar[int] = 2
    ALL: ClassVar[int] = 3

    _NAMES: ClassVar[dict[str, int]] = {"ACTIVE_ONLY": 1, "DELETED_ONLY": 2, "ALL": 3}

    @classmethod
    def from_any(cls, view_type: int | str | None) -> int:
        if view_type is None:
            return cls.ACTIVE_ONLY
        if isinstance(view_type, str):
            key = view_type.strip().upper()
            if key in cls._NAMES:
                return cls._NAMES[key]
        elif view_type in (1, 2, 3):
            return int(view_type)
        raise InvalidParameterValue(
            f"Invalid view type {view_type!r}: expected ACTIVE_ONLY, DELETED_ONLY or ALL"
        )

    @classmethod
    def stages(cls, view_type: int) -> frozenset[str]:
        if view_type == cls.ACTIVE_ONLY:
            return frozenset({LifecycleStage.ACTIVE})
        if view_type == cls.DELETED_ONLY:
            return frozenset({LifecycleStage.DELETED})
        return frozenset({LifecycleStage.ACTIVE, LifecycleStage.DELETED})


class RunStatus:
    """Run status names and the integers MLflow writes in ``meta.yaml``."""

    RUNNING: ClassVar[str] = "RUNNING"
    SCHEDULED: ClassVar[str] = "SCHEDULED"
    FINISHED: ClassVar[str] = "FINISHED"
    FAILED: ClassVar[str] = "FAILED"
    KILLED: ClassVar[str] = "KILLED"

    _TO_INT: ClassVar[dict[str, int]] = {
        "RUNNING": 1,
        "SCHEDULED": 2,
        "FINISHED": 3,
        "FAILED": 4,
        "KILLED": 5,
    }
    _FROM_INT: ClassVar[dict[int, str]] = {v: k for k, v in _TO_INT.items()}

    @classmethod
    def to_int(cls, status: str) -> int:
        try:
            return cls._TO_INT[status]
        except KeyError:
            raise InvalidParameterValue(
                f"Invalid run status {status!r}: expected one of {', '.join(cls._TO_INT)}"
            ) from None

    @classmethod
    def from_any(cls, status: object) -> str:
        """Accept the int MLflow writes, or a name (older trees and hand edits)."""
        if status is None:
            return cls.RUNNING
        if isinstance(status, int) and status in cls._FROM_INT:
            return cls._FROM_INT[status]
        if isinstance(status, str):
            name = status.strip().upper()
            if name in cls._TO_INT:
                return name
            if name.isdigit() and int(name) in cls._FROM_INT:
                return cls._FROM_INT[int(name)]
        raise InvalidParameterValue(f"Invalid run status {status!r}")

    @classmethod
    def is_terminated(cls, status: str) -> bool:
        return status in (cls.FINISHED, cls.FAILED, cls.KILLED)

    @classmethod
    def all_status(cls) -> list[str]:
        return list(cls._TO_INT)


@dataclass
class ExperimentTag:
    key: str
    value: str


@dataclass
class Experiment:
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = LifecycleStage.ACTIVE
    tags: dict[str, str] = field(default_factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None


@dataclass
class Metric:
    key: str
    value: float
    timestamp: int
    step: int
    dataset_name: str | None = None
    dataset_digest: str | None = None
    run_id: str | None = None
    model_id: str | None = None


@dataclass
class Param:
    key: str
    value: str


@dataclass
class RunTag:
    key: str
    value: str


@dataclass
class RunInfo:
    run_id: str
    experiment_id: str
    user_id: str
    status: str
    start_time: int
    end_time: int | None
    lifecycle_stage: str
    artifact_uri: str
    run_name: str = ""

    @property
    def run_uuid(self) -> str:
        """Deprecated MLflow alias of ``run_id``."""
        return self.run_id


@dataclass
class RunData:
    """Latest metric values, params and tags of a run, as dicts keyed by name."""

    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    metric_objs: list[Metric] = field(default_factory=list)


@dataclass
class InputTag:
    key: str
    value: str


@dataclass
class Dataset:
    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass
class DatasetInput:
    dataset: Dataset
    tags: list[InputTag] = field(default_factory=list)


@dataclass
class RunInputs:
    dataset_inputs: list[DatasetInput] = field(default_factory=list)


@dataclass
class Run:
    info: RunInfo
    data: RunData
    inputs: RunInputs = field(default_factory=RunInputs)


@dataclass
class FileInfo:
    """One entry of an artifact listing; ``path`` is relative to the artifact root."""

    path: str
    is_dir: bool
    file_size: int | None = None


@dataclass
class LoggedModel:
    """An MLflow 3 LoggedModel (``<experiment>/models/<model_id>/``), read-only here."""

    model_id: str
    experiment_id: str
    name: str
    artifact_location: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    model_type: str | None = None
    source_run_id: str | None = None
    status: str = "READY"
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    metrics: list[Metric] = field(default_factory=list)
