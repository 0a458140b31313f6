"""``fsreg doctor``'s checks of the model registry (:mod:`fsregistry.maintenance.diagnosis`):
registered models, their versions and aliases, checked against their place (names, version
numbers, status), and the object-store rename markers: a registered model is seen or not as
readers see it (:class:`RenameMarkers`, which the rename repairs re-read too), an invisible
copy left by a rename that never committed, or files left behind a tombstone, is reported
once no rename can be at work (:data:`~fsregistry.registry.claims.STALE_RENAME_MS` and the
scan's ``min_age_s``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fsregistry.entities.registry import STAGE_DELETED_INTERNAL, ModelVersionStatus
from fsregistry.maintenance.diagnosis_base import WARNING, ScanBase
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import MalformedMetaFile, load_meta
from fsregistry.registry.claims import STALE_RENAME_MS
from fsregistry.registry.fields import FSREG_KEY
from fsregistry.storage import Storage


class RenameMarkers:
    """Which registered models readers see, from the registry store's rename bookkeeping in
    the models' ``meta.yaml`` files (``contents``: path -> bytes; see
    :mod:`fsregistry.registry.rename`)."""

    def __init__(self, contents: Mapping[str, bytes], now: float) -> None:
        self.contents = contents
        self.now = now

    def bookkeeping(self, name: str) -> dict[str, Any] | None:
        """The ``fsregistry`` bookkeeping of a model's meta.yaml (None: no readable meta)."""
        raw = self.contents.get(layout.registered_model_meta(name))
        if raw is None:
            return None
        try:
            meta = load_meta(raw, name)
        except MalformedMetaFile:
            return None
        value = meta.get(FSREG_KEY)
        return dict(value) if isinstance(value, dict) else {}

    def visible(self, name: str) -> bool:
        """Whether ``models/<name>`` is a registered model to readers (the registry store's
        rename markers; see :mod:`fsregistry.registry.rename`)."""
        fs = self.bookkeeping(name)
        if fs is None or fs.get("renamed_to"):
            return False
        source = fs.get("rename_from")
        if not source:
            return True
        other = self.bookkeeping(str(source)) or {}
        return other.get("renamed_to") == name and other.get("rename_id") == fs.get("rename_id")

    def rename_age_s(self, fs: Mapping[str, Any]) -> float:
        started = fs.get("rename_started")
        return self.now - started / 1000 if isinstance(started, int) else float("inf")


class RegistryChecks(ScanBase):
    """The registry's checks of a scan (see the module docstring)."""

    def __init__(self, storage: Storage, min_age_s: float, now: float) -> None:
        super().__init__(storage, min_age_s, now)
        self.markers = RenameMarkers(self.contents, now)

    def _check_model(self, model_dir: str) -> None:
        name = model_dir.split("/", 1)[1]
        meta_path = layout.registered_model_meta(name)
        if meta_path not in self.listing.files:
            self._missing_meta(model_dir, "registered model")
            return
        meta = self._load(meta_path, "registered model")
        if meta is None:
            return
        fs = self.markers.bookkeeping(name) or {}
        if fs.get("renamed_to"):
            self._check_tombstone(name, model_dir, fs)
            return
        if not self.markers.visible(name):
            self._check_rename_target(name, model_dir, fs)
            return
        if meta.get("name") != name:
            if self.local_root is not None:
                self._add(
                    "unfinished_rename",
                    meta_path,
                    f"Model directory {name!r} still names itself {meta.get('name')!r} (an "
                    "interrupted rename); MLflow shows the old name",
                    fixable=True,
                    severity=WARNING,
                )
            else:
                self._add(
                    "invalid_meta",
                    meta_path,
                    f"name {meta.get('name')!r} differs from its directory {name!r}",
                )
        versions: dict[int, dict[str, Any] | None] = {}
        for version_dir in sorted(self._children(model_dir)):
            number = layout.parse_version_dir_name(version_dir.rsplit("/", 1)[-1])
            if number is not None:
                versions[number] = self._check_version(name, number, version_dir)
        aliases_dir = layout.registered_model_aliases(name)
        for alias in sorted(self.files_in.get(aliases_dir, [])):
            self._check_alias(f"{aliases_dir}/{alias}", versions)

    def _check_version(self, name: str, number: int, version_dir: str) -> dict[str, Any] | None:
        meta_path = layout.model_version_meta(name, number)
        if meta_path not in self.listing.files:
            self._missing_meta(version_dir, "model version")
            return None
        meta = self._load(meta_path, "model version")
        if meta is None:
            return None
        version = meta.get("version")
        if version != number or isinstance(version, bool):
            self._add(
                "invalid_meta",
                meta_path,
                f"version {version!r} is not the integer {number} of its directory",
            )
        stamp = meta.get("last_updated_timestamp") or meta.get("creation_timestamp") or 0
        if (
            meta.get("status") == ModelVersionStatus.PENDING_REGISTRATION
            and isinstance(stamp, int)
            and self.now - stamp / 1000 >= self.min_age_s
        ):
            self._add(
                "pending_version",
                meta_path,
                f"Version {number} of {name!r} is still PENDING_REGISTRATION (an interrupted "
                "copy of its files); delete it and copy it again",
            )
        return meta

    def _check_alias(self, path: str, versions: Mapping[int, dict[str, Any] | None]) -> None:
        raw = self.contents.get(path)
        if raw is None:
            return
        alias = path.rsplit("/", 1)[-1]
        text = raw.decode("utf-8", errors="replace").strip()
        if not text.isdecimal():
            problem = f"holds {text!r}, not a version number"
        elif int(text) not in versions:
            problem = f"points at version {text}, which does not exist"
        else:
            meta = versions[int(text)]
            if meta is None or meta.get("current_stage") != STAGE_DELETED_INTERNAL:
                return  # fine, or the version's own meta.yaml is the problem (reported)
            problem = f"points at version {text}, which is deleted"
        self._add(
            "dangling_alias",
            path,
            f"Alias {alias!r} {problem}",
            fixable=True,
            severity=WARNING,
            expect=raw.hex(),
        )

    def _check_rename_target(self, name: str, model_dir: str, fs: Mapping[str, Any]) -> None:
        """An invisible ``models/<name>`` made by a rename that never committed."""
        source = str(fs.get("rename_from") or "")
        age_s = self.markers.rename_age_s(fs)
        if age_s * 1000 < STALE_RENAME_MS or age_s < self.min_age_s:
            return  # a rename may be at work
        intact = bool(source) and self.markers.visible(source)
        self._add(
            "interrupted_rename",
            model_dir,
            f"Invisible copy left by an interrupted rename from {source!r}"
            + ("" if intact else f"; {source!r} is gone, so this is the only copy of its files"),
            fixable=intact,
            severity=WARNING,
            expect="target",
        )

    def _check_tombstone(self, name: str, model_dir: str, fs: Mapping[str, Any]) -> None:
        """``models/<name>`` renamed away: only its meta.yaml should be left."""
        leftovers = [
            p
            for p in self.listing.files
            if p.startswith(f"{model_dir}/") and p != layout.registered_model_meta(name)
        ]
        if not leftovers or self.markers.rename_age_s(fs) < self.min_age_s:
            return
        target = str(fs.get("renamed_to"))
        intact = self.markers.visible(target)
        self._add(
            "interrupted_rename",
            model_dir,
            f"{len(leftovers)} file(s) left behind by the rename to {target!r}"
            + ("" if intact else f"; {target!r} is gone, so they are the only copy"),
            fixable=intact,
            severity=WARNING,
            expect="tombstone",
        )


__all__ = ["RegistryChecks", "RenameMarkers"]
