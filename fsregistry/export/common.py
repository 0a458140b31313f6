"""What the export and import share: their counts, their progress events, and the one
check that MLflow and SQLAlchemy are there (imported only when a database is involved)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fsregistry.exceptions import InvalidParameterValue

__all__ = ["INSTALL_HINT", "ExportSummary", "Progress", "require_mlflow"]

INSTALL_HINT = "pip install 'fsregistry[mlflow]'"


@dataclass
class ExportSummary:
    """How many units of each kind were copied and how many were already there."""

    copied: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def count(self, kind: str, copied: bool) -> None:
        """Count one unit of ``kind`` as copied or skipped."""
        target = self.copied if copied else self.skipped
        target[kind] = target.get(kind, 0) + 1

    def as_dict(self) -> dict[str, dict[str, int]]:
        """``{"copied": {...}, "skipped": {...}}``."""
        return {"copied": dict(self.copied), "skipped": dict(self.skipped)}


@dataclass(frozen=True)
class Progress:
    """One unit done: its kind (``experiment``, ``run``, ``logged_model``,
    ``registered_model``), its key, whether it was copied, and how many units of the
    current stage are done of how many."""

    kind: str
    key: str
    copied: bool
    done: int
    total: int


def require_mlflow() -> Any:
    """Import MLflow's SQLAlchemy stores; a missing MLflow or SQLAlchemy is one clear error."""
    try:
        import sqlalchemy  # noqa: F401
        from mlflow.store.model_registry import sqlalchemy_store as registry_sql
        from mlflow.store.tracking import sqlalchemy_store as tracking_sql
    except ImportError as exc:
        raise InvalidParameterValue(
            f"Copying to or from a database needs MLflow and SQLAlchemy ({exc.name} is "
            f"missing): {INSTALL_HINT}"
        ) from exc
    return tracking_sql, registry_sql
