"""How each registry write feeds the audit trail (:mod:`fsregistry.registry.history`).

Every write of :class:`~fsregistry.registry.store.RegistryStore` hands its change to one
method here, as a thunk: the method reads the value the change replaces (``from``), runs the
change, and only if it returned records the event, so a change that raised records nothing.
The reads before are plain reads: a value that is missing or cannot be read (a model that
does not exist, a key no file can hold) is None, and the change itself then raises what
MLflow raises. A delete of a tag or alias that was not there records nothing (MLflow's
delete succeeds without a change). A version deletion records the aliases it removed; an
archiving transition records the versions it moved to Archived.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fsregistry.entities import ModelVersion
from fsregistry.entities.registry import STAGE_ARCHIVED
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.mlruns import layout
from fsregistry.registry.history import History
from fsregistry.registry.reading import RegistryFiles

T = TypeVar("T")


class Audit:
    """Runs registry writes and records their events (see the module docstring)."""

    def __init__(self, files: RegistryFiles) -> None:
        self.files = files
        self.storage = files.storage
        self.history = History(files.storage)

    # -- values before a change ---------------------------------------------------------------
    def _text(self, path: Callable[[], str]) -> str | None:
        try:
            raw = self.storage.read(path())
        except (FileNotFoundError, InvalidParameterValue):
            return None
        return raw.decode("utf-8", "replace")  # a hand-written file may be anything

    def _meta(self, path: Callable[[], str]) -> dict[str, Any] | None:
        try:
            found = self.files.read_meta(path())
        except InvalidParameterValue:
            return None
        return None if found is None else found.meta

    def _version_meta(self, name: str, version: Any) -> dict[str, Any] | None:
        number = _number(version)
        if number is None:
            return None
        return self._meta(lambda: layout.model_version_meta(name, number))

    def _version_tag(self, name: str, number: int | None, key: str) -> str | None:
        if number is None:
            return None
        return self._text(lambda: layout.model_version_tag(name, number, key))

    def _stages(self, name: str) -> dict[int, str]:
        """Each version's stage, read directly (not through the registry index, whose
        refresh writes a shard: a call that is then refused must have changed no file)."""
        try:
            dirs, _ = self.storage.list_dir(layout.registered_model_dir(name))
        except InvalidParameterValue:
            return {}
        numbers = [n for n in map(layout.parse_version_dir_name, dirs) if n is not None]
        paths = {layout.model_version_meta(name, n): n for n in numbers}
        out = {}
        for path, raw in self.storage.read_many(list(paths)).items():
            meta = self.files.parse(path, raw)
            if meta is not None:
                out[paths[path]] = str(meta.get("current_stage"))
        return out

    # -- registered models --------------------------------------------------------------------
    def create_model(self, do: Callable[[], T]) -> T:
        """A registered model or a prompt (both have a name and a description)."""
        created = do()
        description = getattr(created, "description", None)
        details = {"description": description} if description else {}
        self.history.record(str(getattr(created, "name", "")), "create_model", details=details)
        return created

    def ensure_model(self, name: str, do: Callable[[], bool]) -> None:
        if do():
            self.history.record(name, "create_model")

    def update_model(self, name: str, description: str | None, do: Callable[[], T]) -> T:
        meta = self._meta(lambda: layout.registered_model_meta(name))
        result = do()
        before = None if meta is None else meta.get("description")
        self.history.record(name, "update_model", from_value=before, to_value=description)
        return result

    def delete_model(self, name: str, do: Callable[[], None]) -> None:
        do()
        self.history.record(name, "delete_model")

    def rename_model(self, name: str, new_name: str, do: Callable[[], T]) -> T:
        result = do()
        self.history.record(
            new_name, "rename_model", from_value=name, to_value=new_name, also_under=[name]
        )
        return result

    def set_model_tag(self, name: str, key: str, value: Any, do: Callable[[], None]) -> None:
        before = self._text(lambda: layout.registered_model_tag(name, key))
        do()
        self.history.record(
            name, "set_model_tag", key=key, from_value=before, to_value=_value(value)
        )

    def delete_model_tag(self, name: str, key: str, do: Callable[[], None]) -> None:
        before = self._text(lambda: layout.registered_model_tag(name, key))
        do()
        if before is not None:
            self.history.record(name, "delete_model_tag", key=key, from_value=before)

    # -- model versions -----------------------------------------------------------------------
    def create_version(self, name: str, do: Callable[[], ModelVersion]) -> ModelVersion:
        mv = do()
        details = {"run_id": mv.run_id, "description": mv.description}
        self.history.record(
            mv.name,
            "create_version",
            version=int(mv.version),
            to_value=mv.source,
            details={k: v for k, v in details.items() if v},
        )
        return mv

    def update_version(
        self, name: str, version: Any, description: str | None, do: Callable[[], ModelVersion]
    ) -> ModelVersion:
        meta = self._version_meta(name, version)
        mv = do()
        before = None if meta is None else meta.get("description")
        self.history.record(
            mv.name,
            "update_version",
            version=int(mv.version),
            from_value=before,
            to_value=description,
        )
        return mv

    def delete_version(self, name: str, version: Any, do: Callable[[], None]) -> None:
        meta = self._version_meta(name, version)
        try:
            aliases = self.files.aliases(name)
        except InvalidParameterValue:
            aliases = {}
        do()
        number = _number(version)
        removed = sorted(a for a, v in aliases.items() if v == str(number))
        self.history.record(
            name,
            "delete_version",
            version=number,
            from_value=None if meta is None else meta.get("current_stage"),
            details={"removed_aliases": removed} if removed else {},
        )

    def set_version_tag(
        self, name: str, version: Any, key: str, value: Any, do: Callable[[], None]
    ) -> None:
        number = _number(version)
        before = self._version_tag(name, number, key)
        do()
        self.history.record(
            name,
            "set_version_tag",
            version=number,
            key=key,
            from_value=before,
            to_value=_value(value),
        )

    def delete_version_tag(self, name: str, version: Any, key: str, do: Callable[[], None]) -> None:
        number = _number(version)
        before = self._version_tag(name, number, key)
        do()
        if before is not None:
            self.history.record(
                name, "delete_version_tag", version=number, key=key, from_value=before
            )

    def transition(
        self, name: str, version: Any, archive: bool, do: Callable[[], ModelVersion]
    ) -> ModelVersion:
        meta = self._version_meta(name, version)
        stages = self._stages(name) if archive else {}
        mv = do()
        details: dict[str, Any] = {}
        if archive:
            after = self._stages(mv.name)
            details["archive_existing_versions"] = True
            details["archived"] = sorted(
                n
                for n, stage in after.items()
                if n != int(mv.version)
                and stage == STAGE_ARCHIVED
                and stages.get(n) not in (None, STAGE_ARCHIVED)
            )
        self.history.record(
            mv.name,
            "transition_stage",
            version=int(mv.version),
            from_value=None if meta is None else meta.get("current_stage"),
            to_value=mv.current_stage,
            details=details,
        )
        return mv

    # -- aliases ------------------------------------------------------------------------------
    def set_alias(self, name: str, alias: str, version: Any, do: Callable[[], None]) -> None:
        before = self._text(lambda: layout.registered_model_alias(name, alias))
        do()
        self.history.record(
            name,
            "set_alias",
            key=alias,
            from_value=None if before is None else before.strip(),
            to_value=_number(version),
        )

    def delete_alias(self, name: str, alias: str, do: Callable[[], None]) -> None:
        before = self._text(lambda: layout.registered_model_alias(name, alias))
        do()
        if before is not None:
            self.history.record(name, "delete_alias", key=alias, from_value=before.strip())


def _number(version: Any) -> int | None:
    """A version as the store reads it, None if it is not one (the change then raises)."""
    if isinstance(version, int) and not isinstance(version, bool):
        return version
    if isinstance(version, str) and version.strip().isdecimal():
        return int(version.strip())
    return None


def _value(value: Any) -> str | None:
    return None if value is None else str(value)


__all__ = ["Audit"]
