"""Tracking entities: experiments, runs, metrics, params, tags, datasets, artifacts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeAlias

from fsregistry.entities.logged_models import LoggedModelInput, LoggedModelOutput
from fsregistry.entities.pairs import KeyValuePairs
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.storage.artifact_repo import FileInfo as FileInfo


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
            f"Could not get valid view type corresponding to string {view_type}. "
            "Valid view types are ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL']"
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
                f"Could not get run status corresponding to string {status}. Valid run "
                f"status strings: {list(cls._TO_INT)}"
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
            if name.isdecimal() and int(name) in cls._FROM_INT:
                return cls._FROM_INT[int(name)]
        raise InvalidParameterValue(
            f"Could not get run status corresponding to string {status}. Valid run "
            f"status strings: {list(cls._TO_INT)}"
        )

    @classmethod
    def is_terminated(cls, status: str) -> bool:
        return status in (cls.FINISHED, cls.FAILED, cls.KILLED)

    @classmethod
    def all_status(cls) -> list[str]:
        return list(cls._TO_INT)


@dataclass
class ExperimentTag(KeyValuePairs):
    key: str
    value: str


@dataclass
class Experiment(KeyValuePairs):
    experiment_id: str
    name: str
    artifact_location: str
    lifecycle_stage: str = LifecycleStage.ACTIVE
    tags: dict[str, str] = field(default_factory=dict)
    creation_time: int | None = None
    last_update_time: int | None = None


@dataclass
class Metric(KeyValuePairs):
    key: str
    value: float
    timestamp: int
    step: int
    dataset_name: str | None = None
    dataset_digest: str | None = None
    run_id: str | None = None
    model_id: str | None = None


@dataclass
class Param(KeyValuePairs):
    key: str
    value: str


@dataclass
class RunTag(KeyValuePairs):
    key: str
    value: str


@dataclass
class RunInfo(KeyValuePairs):
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


LatestMetric: TypeAlias = tuple[float, int, int, str | None, str | None]
"""A run's current value of one metric: ``(value, timestamp, step, dataset_name,
dataset_digest)``. A tuple of plain values rather than a :class:`Metric`, since the garbage
collector stops tracking such tuples, and run summaries keep ten per run for tens of thousands
of runs (each tracked object costs time in every full collection)."""


class RunData(KeyValuePairs):
    """Latest metric values, params and tags of a run, as dicts keyed by name, and
    ``metric_objs``: each latest value as a :class:`Metric` (with its step and timestamp).

    Made like a dataclass of those four fields (equality, repr), except that a run read from
    the store makes its ``metric_objs`` on first use (:meth:`from_latest`): a search returns
    thousands of runs, each metric object is one more object to allocate and for the garbage
    collector to track, and few callers look at them.
    """

    __slots__ = ("_latest", "_metric_objs", "metrics", "params", "tags")
    _PAIR_NAMES = ("metrics", "params", "tags")

    def __init__(
        self,
        metrics: dict[str, float] | None = None,
        params: dict[str, str] | None = None,
        tags: dict[str, str] | None = None,
        metric_objs: list[Metric] | None = None,
    ) -> None:
        self.metrics = {} if metrics is None else metrics
        self.params = {} if params is None else params
        self.tags = {} if tags is None else tags
        self._metric_objs: list[Metric] | None = [] if metric_objs is None else metric_objs
        self._latest: Callable[[], Mapping[str, LatestMetric]] | None = None

    @classmethod
    def from_latest(
        cls,
        values: dict[str, float],
        latest: Callable[[], Mapping[str, LatestMetric]],
        params: dict[str, str],
        tags: dict[str, str],
    ) -> RunData:
        """Run data whose metrics are ``values``; ``latest`` gives each one's point (for
        ``metric_objs``) when first asked: a search returning tens of thousands of runs then
        holds no point tuples (~1.7 KB a run) that few callers look at."""
        data = cls(values, params, tags)
        data._metric_objs, data._latest = None, latest
        return data

    @property
    def metric_objs(self) -> list[Metric]:
        if self._metric_objs is None:
            latest = {} if self._latest is None else self._latest()
            self._metric_objs = [Metric(key, *point) for key, point in latest.items()]
        return self._metric_objs

    @metric_objs.setter
    def metric_objs(self, value: list[Metric]) -> None:
        self._metric_objs = value

    def _fields(self) -> tuple[Any, ...]:
        return (self.metrics, self.params, self.tags, self.metric_objs)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RunData) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass with eq

    def __repr__(self) -> str:
        metrics, params, tags, metric_objs = self._fields()
        return (
            f"RunData(metrics={metrics!r}, params={params!r}, tags={tags!r}, "
            f"metric_objs={metric_objs!r})"
        )

    def __getstate__(self) -> tuple[Any, ...]:
        return self._fields()

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.metrics, self.params, self.tags, self._metric_objs = state
        self._latest = None


@dataclass
class InputTag(KeyValuePairs):
    key: str
    value: str


@dataclass
class Dataset(KeyValuePairs):
    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None


@dataclass
class DatasetInput(KeyValuePairs):
    dataset: Dataset
    tags: list[InputTag] = field(default_factory=list)


@dataclass
class RunInputs(KeyValuePairs):
    """A run's inputs: datasets and (MLflow 3) LoggedModels."""

    dataset_inputs: list[DatasetInput] = field(default_factory=list)
    model_inputs: list[LoggedModelInput] = field(default_factory=list)


@dataclass
class RunOutputs(KeyValuePairs):
    """A run's outputs (MLflow 3): the LoggedModels it produced, with their steps."""

    model_outputs: list[LoggedModelOutput] = field(default_factory=list)


@dataclass
class Run(KeyValuePairs):
    info: RunInfo
    data: RunData
    inputs: RunInputs = field(default_factory=RunInputs)
    outputs: RunOutputs = field(default_factory=RunOutputs)


@dataclass
class LoggedModel(KeyValuePairs):
    """An MLflow 3 LoggedModel (``<experiment>/models/<model_id>/``); ``status`` is a
    :class:`~fsregistry.entities.logged_models.LoggedModelStatus` (a ``str``)."""

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

    @property
    def model_uri(self) -> str:
        """``models:/<model_id>``, as MLflow's ``LoggedModel.model_uri``."""
        return f"models:/{self.model_id}"

    def to_dictionary(self) -> dict[str, Any]:
        """MLflow's ``LoggedModel.to_dictionary``: the fields, ``status`` as its integer."""
        from fsregistry.entities.logged_models import LoggedModelStatus

        out = {f: getattr(self, f) for f in self.__dataclass_fields__}
        out["status"] = LoggedModelStatus.from_any(self.status).to_int()
        return out
