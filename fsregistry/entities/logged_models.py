"""MLflow 3 LoggedModel entities beside :class:`~fsregistry.entities.tracking.LoggedModel`:
its status, tags, params, and the run input/output records that link runs to models.

``LoggedModelStatus`` is a ``str`` enum as in MLflow, so ``model.status == "READY"`` and
``model.status == LoggedModelStatus.READY`` both hold; ``meta.yaml`` stores its integer
(docs/mlflow-format.md §1.9).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from fsregistry.exceptions import InvalidParameterValue


class LoggedModelStatus(StrEnum):
    """Status of a LoggedModel (MLflow's ``LoggedModelStatus``)."""

    UNSPECIFIED = "UNSPECIFIED"
    PENDING = "PENDING"
    READY = "READY"
    FAILED = "FAILED"

    def to_int(self) -> int:
        """The integer MLflow writes in ``meta.yaml``."""
        return _TO_INT[self]

    @classmethod
    def from_int(cls, status: int) -> LoggedModelStatus:
        """The status MLflow's integer stands for."""
        for member, number in _TO_INT.items():
            if number == status:
                return member
        raise InvalidParameterValue(f"Unknown model status: {status!r}")

    @classmethod
    def from_any(cls, status: object) -> LoggedModelStatus:
        """A status from its member, name or integer (``meta.yaml``), else InvalidParameterValue."""
        if isinstance(status, LoggedModelStatus):
            return status
        if isinstance(status, int) and not isinstance(status, bool):
            return cls.from_int(status)
        if isinstance(status, str) and status.strip().upper() in cls.__members__:
            return cls[status.strip().upper()]
        raise InvalidParameterValue(
            f"{status!r} is not a valid LoggedModelStatus (expected one of "
            f"{', '.join(cls.__members__)})"
        )

    @staticmethod
    def is_finalized(status: object) -> bool:
        """READY and FAILED are final."""
        return status in (LoggedModelStatus.READY, LoggedModelStatus.FAILED)


_TO_INT = {
    LoggedModelStatus.UNSPECIFIED: 0,
    LoggedModelStatus.PENDING: 1,
    LoggedModelStatus.READY: 2,
    LoggedModelStatus.FAILED: 3,
}


@dataclass
class LoggedModelTag:
    key: str
    value: str


@dataclass
class LoggedModelParameter:
    key: str
    value: str


@dataclass
class LoggedModelOutput:
    """A run's output record of a model (``<run>/outputs/<model_id>/meta.yaml``)."""

    model_id: str
    step: int = 0


@dataclass
class LoggedModelInput:
    """A run's input record of a model (``<run>/inputs/<md5>/meta.yaml``)."""

    model_id: str
