"""The registry audit trail: one append-only event per registry change (an fsregistry extension).

Layout (outside everything MLflow reads)::

    .fsreg-history.trash/<model name>/<ns:019d>-<nonce>.json

MLflow lists every root directory as an experiment except ``models`` and those whose name
ends with ``.trash`` (2.22 and 3.x), and the registry reads ``models/`` only, so MLflow
never sees these files and reads the tree as before. fsregistry reserves the name as it
reserves ``.trash`` and ``models`` (``doctor`` and ``gc`` never take it for an experiment).

**Writing.** Each change is one new small JSON file, created with the storage layer's
create-if-absent (:meth:`~fsregistry.storage.Storage.create`), so there is nothing to
contend on: concurrent writers never lose or overwrite each other's events. The name starts
with the wall-clock time in nanoseconds (strictly increasing within a process) and ends
with a random nonce, so a listing sorted by name gives the order. The file holds
:meth:`~fsregistry.entities.history.ModelEvent.to_dict`.

**Order against the change, and crashes.** The store makes the change first and records
the event only once the change has succeeded (:class:`~fsregistry.registry.store.RegistryStore`
calls :meth:`History.record` as the last step of each write). So an event is never recorded
for a change that did not happen. A crash (or a storage failure) between the two leaves a
change without its event: the change stands (the call does not fail for it: a failed
record only warns, with :class:`HistoryNotRecorded`), and ``fsreg doctor`` reports, as a
warning, a model changed after its last event (``history-gap``): made by such a crash, by
MLflow or by an older fsregistry. It cannot invent the missing event, and does not try.

**The values before.** ``from`` is read just before the change; with concurrent writers
to the same tag or alias, it is the value one of them saw (each writer's ``to`` is exact).
A delete of a tag or alias that did not exist (MLflow: not an error) records nothing.

**Renames and deletions.** A rename records the same event (same file name) under the old
and the new name. Reading the history of a name follows renames back: the events recorded
under a name that was renamed into it come along, up to the rename. Deleting a model
records ``delete_model`` and keeps its events, so the history of a name is the history of
every model that had it. Nothing removes events (``gc`` neither). On S3/GCS a write that a
concurrent rename carried along (:mod:`fsregistry.registry.receipts`) is recorded under the
name its caller gave, after that name's rename event, so the new name's history does not show
it (a transition, which returns the version under its new name, is recorded there).

**Not recorded**: changes made by MLflow or by hand (``fsreg doctor`` reports the model as
changed after its last event), and doctor's own repairs.
"""

from __future__ import annotations

import getpass
import json
import os
import threading
import time
import warnings
from collections.abc import Iterable, Mapping
from typing import Any

from fsregistry.entities.history import MODEL_ACTIONS, ModelEvent
from fsregistry.exceptions import FsRegistryException, ResourceDoesNotExist
from fsregistry.mlruns import layout
from fsregistry.mlruns.validation import validate_model_name
from fsregistry.storage import Storage

#: Version of the event file's layout.
EVENT_FORMAT = 1
EVENT_SUFFIX = ".json"
#: How many renames reading a history follows back.
_FOLLOW = 50

_clock_lock = threading.Lock()
_last_ns = 0


class HistoryNotRecorded(UserWarning):
    """A registry change succeeded but its audit-trail event could not be written."""


def current_user() -> str:
    """Who makes a change: the login name, as MLflow records a run's user (``unknown``
    if the system cannot tell)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _next_id() -> str:
    """A new event's file stem: strictly increasing time within the process, then a nonce."""
    global _last_ns
    with _clock_lock:
        _last_ns = max(time.time_ns(), _last_ns + 1)
        ns = _last_ns
    return f"{ns:019d}-{os.urandom(6).hex()}"


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def event_from_dict(data: Mapping[str, Any]) -> ModelEvent | None:
    """The event an event file holds, or None if it is not one (doctor reports those)."""
    try:
        version = data.get("version")
        details = data.get("details") or {}
        event = ModelEvent(
            id=str(data["id"]),
            timestamp=int(data["timestamp"]),
            user=str(data["user"]),
            action=str(data["action"]),
            model=str(data["model"]),
            version=None if version is None else int(version),
            key=_text(data.get("key")),
            from_value=_text(data.get("from")),
            to_value=_text(data.get("to")),
            details=dict(details),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return event if event.action in MODEL_ACTIONS else None


def parse_event(raw: bytes) -> ModelEvent | None:
    """Decode one event file (None: not an event)."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return event_from_dict(data) if isinstance(data, dict) else None


class History:
    """Writes and reads the audit trail of one store (see the module docstring)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    # -- writing ----------------------------------------------------------------------------
    def record(
        self,
        model: str,
        action: str,
        *,
        version: int | None = None,
        key: str | None = None,
        from_value: Any = None,
        to_value: Any = None,
        details: Mapping[str, Any] | None = None,
        also_under: Iterable[str] = (),
    ) -> ModelEvent | None:
        """Record one event under ``model`` (and the same one under ``also_under``: a
        rename's old name). Called after the change succeeded; never raises for a storage
        failure (the change stands): warns :class:`HistoryNotRecorded` and returns None."""
        event = ModelEvent(
            id=_next_id(),
            timestamp=time.time_ns() // 1_000_000,
            user=current_user(),
            action=action,
            model=model,
            version=version,
            key=key,
            from_value=_text(from_value),
            to_value=_text(to_value),
            details=dict(details or {}),
        )
        record = {"format": EVENT_FORMAT, **event.to_dict()}
        data = json.dumps(record, sort_keys=True, default=str).encode("utf-8")
        for name in (model, *also_under):
            path = f"{layout.model_history_dir(name)}/{event.id}{EVENT_SUFFIX}"
            try:
                self.storage.create(path, data)
            except FileExistsError:  # a nonce of 48 random bits taken: cannot happen
                warnings.warn(f"History event {path} already exists", HistoryNotRecorded, 3)
                return None
            except FsRegistryException as e:
                warnings.warn(
                    f"The registry change to {name!r} ({action}) succeeded, but its history "
                    f"event could not be written: {e}",
                    HistoryNotRecorded,
                    3,
                )
                return None
        return event

    # -- reading ----------------------------------------------------------------------------
    def events_under(self, name: str) -> list[ModelEvent]:
        """The events recorded under the name ``name``, oldest first."""
        base = layout.model_history_dir(name)
        _, files = self.storage.list_dir(base)
        paths = [f"{base}/{f}" for f in sorted(files) if f.endswith(EVENT_SUFFIX)]
        out = []
        for _path, raw in sorted(self.storage.read_many(paths).items()):
            event = parse_event(raw)
            if event is not None:
                out.append(event)
        return out

    def model_history(
        self, name: str, version: int | None = None, alias: str | None = None
    ) -> list[ModelEvent]:
        """The events of every model that had the name ``name``, oldest first, with those of
        the models renamed into it up to their rename; only those of ``version`` / ``alias``
        if given (an alias also matches the version deletions that removed it)."""
        validate_model_name(name)
        seen: dict[str, ModelEvent] = {}
        self._collect(name, None, seen, 0)
        if not seen and not self.storage.exists(layout.registered_model_meta(name)):
            raise ResourceDoesNotExist(
                f"Registered Model with name={name} not found (and no history under that name)"
            )
        events = [seen[k] for k in sorted(seen)]
        if version is not None:
            events = [e for e in events if e.version == version]
        if alias is not None:
            events = [e for e in events if _about_alias(e, alias)]
        return events

    def _collect(
        self, name: str, before: str | None, seen: dict[str, ModelEvent], depth: int
    ) -> None:
        for event in self.events_under(name):
            if before is not None and event.id >= before:
                break
            seen.setdefault(event.id, event)
            if (
                event.action == "rename_model"
                and event.to_value == name
                and event.from_value
                and depth < _FOLLOW
            ):
                self._collect(event.from_value, event.id, seen, depth + 1)


def _about_alias(event: ModelEvent, alias: str) -> bool:
    if event.action in ("set_alias", "delete_alias"):
        return event.key == alias
    removed = event.details.get("removed_aliases")
    return event.action == "delete_version" and isinstance(removed, list) and alias in removed


__all__ = [
    "EVENT_FORMAT",
    "History",
    "HistoryNotRecorded",
    "current_user",
    "event_from_dict",
    "parse_event",
]
