"""One event of the registry audit trail (an fsregistry extension: MLflow keeps none).

The events are written by :mod:`fsregistry.registry.history` and read by
``Client.get_model_history`` and ``fsreg history``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The actions an event records (``action`` field), one per registry write.
MODEL_ACTIONS = (
    "create_model",
    "update_model",  # description
    "rename_model",
    "delete_model",
    "set_model_tag",
    "delete_model_tag",
    "create_version",
    "update_version",  # description
    "transition_stage",
    "delete_version",
    "set_version_tag",
    "delete_version_tag",
    "set_alias",
    "delete_alias",
)


@dataclass(frozen=True)
class ModelEvent:
    """A registry change: who made it, when, to what, and the value before and after.

    ``id`` orders the events (it starts with the time in nanoseconds); ``model`` is the name
    the model had then; ``key`` is the tag key or the alias; ``from_value`` / ``to_value``
    are the value before (read just before the change) and after, as text, None where
    there is none (a new tag, a deleted alias); ``details`` holds the rest (a version's
    source and run, the versions an archiving transition archived, the aliases a version
    deletion removed)."""

    id: str
    timestamp: int
    user: str
    action: str
    model: str
    version: int | None = None
    key: str | None = None
    from_value: str | None = None
    to_value: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON-ready data (the layout of the event files, ``from``/``to``)."""
        return {
            "id": self.id,
            "timestamp": self.timestamp,
            "user": self.user,
            "action": self.action,
            "model": self.model,
            "version": self.version,
            "key": self.key,
            "from": self.from_value,
            "to": self.to_value,
            "details": dict(self.details),
        }


__all__ = ["MODEL_ACTIONS", "ModelEvent"]
