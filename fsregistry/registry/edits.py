"""Changes to existing registered models and versions: meta.yaml compare-and-swap, and one file
per tag or alias.

* **meta.yaml updates** (descriptions, stages, timestamps, fsregistry's bookkeeping) are
  compare-and-swap (:meth:`Edits.touch` for a registered model, :meth:`Edits.update_version`
  for a version); the change is applied again to what a conflicting writer left, so
  concurrent changes to different fields all land. Only a file that keeps changing through
  every retry (four rounds of the storage layer's attempts for a registered model) fails,
  with ConcurrentUpdateError.
* **Tags and aliases** are one file per key, written whole; deleting a missing one is not
  an error (MLflow's behaviour).
* Every change also bumps the registered model's ``last_updated_timestamp`` by
  compare-and-swap, which doubles as a change counter for an object-store rename
  (:mod:`fsregistry.registry.rename`): a rename that copied the model before the bump
  copies it again. The bump is handed the model's meta.yaml as read before the change when
  the caller has it, which saves a read when nobody wrote in between.
* **A model deleted or renamed away meanwhile** (on object stores; on local disk only by
  another program, since fsregistry's renames and deletes wait for the writes holding the
  model directory, :mod:`fsregistry.registry.rename`): a tag or alias file written just then is
  removed again if it is still the write's own (its bytes, and no other model at the name:
  :meth:`Edits._undo_key_file`), and so is the model directory the write recreated (MLflow treats every
  directory under ``models/`` as a model and fails on one without meta.yaml).
* **An unfinished local rename** (the model's meta.yaml still carries another name) is
  finished by the next bump; how is the rename module's business, handed in as
  ``finish_rename`` because it sits above this one.
* **Deleting a version** is a soft delete (``Deleted_Internal``): its number stays taken
  (:mod:`fsregistry.registry.claims`), and the aliases pointing at it are removed. An alias
  set while its version is being deleted is removed by its setter if the version is gone
  afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from fsregistry.entities import ModelVersion, RegisteredModel
from fsregistry.entities.registry import STAGE_DELETED_INTERNAL
from fsregistry.exceptions import (
    ConcurrentUpdateError,
    InvalidParameterValue,
    PathConflict,
    ResourceDoesNotExist,
)
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import decode_text, dump_meta, now_ms
from fsregistry.mlruns.validation import (
    MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH,
    validate_alias,
    validate_key,
    validate_tag,
)
from fsregistry.registry.fields import (
    bookkeeping,
    edit_id,
    incarnation,
    is_deleted,
    lookup_alias,
    optional_text,
    version_not_found,
    version_number,
    with_bookkeeping,
)
from fsregistry.registry.queries import Queries
from fsregistry.registry.reading import RegistryFiles
from fsregistry.registry.receipts import (
    find_edit_receipt,
    find_lineage,
    find_receipt,
    find_version_receipt,
    fingerprint,
    fresh,
    relative,
    version_deleted,
    version_holds,
)
from fsregistry.storage import ConflictError, Versioned

#: How many renames a carried version edit follows to return the version where it is.
_FOLLOW = 20
#: A change to a meta.yaml's content, applied inside a compare-and-swap (may run again).
MetaChange = Callable[[dict[str, Any]], dict[str, Any]]


class Edits:
    """Writes to registered models that exist (see the module docstring)."""

    def __init__(
        self, files: RegistryFiles, queries: Queries, finish_rename: Callable[[str], None]
    ) -> None:
        self.files = files
        self.storage = files.storage
        self.queries = queries
        self._finish_rename = finish_rename

    # -- compare-and-swap ---------------------------------------------------------------------
    def touch(
        self,
        name: str,
        change: MetaChange | None = None,
        known: Versioned | None = None,
        same_model: bool = False,
    ) -> dict[str, Any]:
        """Compare-and-swap the model's meta.yaml: bump ``last_updated_timestamp``, apply
        ``change``. ``known`` (the bytes and token already read) saves a read when nobody
        wrote in between. Raises ResourceDoesNotExist if the model is gone, and, with
        ``same_model``, if the model now at the name is another one than ``known`` was
        (:func:`~fsregistry.registry.fields.incarnation`)."""
        path = layout.registered_model_meta(name)
        result: dict[str, Any] = {}
        expected = None
        if same_model and known is not None:
            first = self.files.parse(path, known.data)
            expected = None if first is None else incarnation(first)

        def apply(old: bytes | None) -> bytes:
            meta = None if old is None else self.files.parse(path, old)
            if meta is None or not self.files.is_visible(name, meta):
                raise ResourceDoesNotExist(f"Registered Model with name={name} not found")
            now_at_name = incarnation(meta)
            if expected is not None and now_at_name is not None and now_at_name != expected:
                # Renamed away and another model renamed or created at the name since.
                raise ResourceDoesNotExist(f"Registered Model with name={name} not found")
            meta = dict(meta)
            meta["last_updated_timestamp"] = max(
                now_ms(), int(meta.get("last_updated_timestamp") or 0)
            )
            if bookkeeping(meta).get("rename_from"):
                # The rename that made this model visible committed but did not finish.
                meta = with_bookkeeping(meta, rename_from=None, rename_id=None, rename_started=None)
            kept = bookkeeping(meta).get("superseded")
            if isinstance(kept, list) and len(fresh(kept)) < len(kept):
                meta = with_bookkeeping(meta, superseded=fresh(kept) or None)  # none waits
            if change is not None:
                meta = change(meta)
            result.clear()
            result.update(meta)
            return dump_meta(meta)

        if known is not None:
            data = apply(known.data)
            try:
                self.storage.write_if_match(path, data, known.token)
            except ConflictError:
                pass
            else:
                return self._after_touch(name, result)
        for _ in range(4):
            try:
                self.storage.update(path, apply)
                return self._after_touch(name, result)
            except ConcurrentUpdateError:
                continue  # heavy contention on one model: keep going, it is not an error
        raise ConcurrentUpdateError(f"Could not update {self.storage.uri(path)}: too contended")

    def _after_touch(self, name: str, meta: dict[str, Any]) -> dict[str, Any]:
        if meta.get("name") != name:
            self._finish_rename(name)
        return meta

    def update_version(self, name: str, number: int, change: MetaChange) -> dict[str, Any]:
        """Compare-and-swap one version's meta.yaml; ``change`` sees a live version only."""
        path = layout.model_version_meta(name, number)
        result: dict[str, Any] = {}

        def apply(old: bytes | None) -> bytes:
            meta = None if old is None else self.files.parse(path, old)
            if meta is None or is_deleted(meta):
                raise version_not_found(name, number)
            meta = change(dict(meta))
            result.clear()
            result.update(meta)
            return dump_meta(meta)

        self.storage.update(path, apply)
        return result

    # -- files of a model ---------------------------------------------------------------------
    def drop_if_orphaned(self, name: str) -> None:
        """Remove ``models/<name>`` if a write recreated it after the model was deleted or
        renamed (MLflow treats every directory under models/ as a model and fails on one
        without meta.yaml)."""
        if self.storage.exists(layout.registered_model_meta(name)):
            return
        if not self.storage.walk(layout.registered_model_dir(name)):
            self.storage.delete_tree(layout.registered_model_dir(name))

    def delete_contents(self, name: str) -> None:
        """Delete everything of ``models/<name>`` except its meta.yaml."""
        base = layout.registered_model_dir(name)
        dirs, files = self.storage.list_dir(base)
        for d in dirs:
            self.storage.delete_tree(f"{base}/{d}")
        for f in files:
            if f != layout.META:
                self.storage.delete(f"{base}/{f}")

    def _write_key_file(
        self, name: str, key: str, path: str, data: bytes, known: Versioned
    ) -> bool:
        """Write one tag/alias file, then bump the model; undo the file if the model vanished,
        unless a rename carried it (then True: it is in the renamed model)."""
        try:
            self.storage.write(path, data)
        except PathConflict as e:
            raise InvalidParameterValue(
                f"Invalid key {key!r}: it collides with an existing key that is a prefix of it "
                "or that it is a prefix of (keys are stored as file paths, so 'a' and 'a/b' "
                "cannot both exist)"
            ) from e
        try:
            self.touch(name, known=known, same_model=True)
        except ResourceDoesNotExist:
            rel, digest = relative(name, path), fingerprint(data)
            if find_receipt(self.files, name, known, lambda c: c.get(rel) == digest):
                return True
            if self._holds(name, path, data):
                return False
            where = self._renamed_holding(name, rel, data, known)
            if (where is None or not self._visible(name)) and self._undo_key_file(
                name, path, data, known
            ):
                return False  # its bytes are in the model now at the name: a write to it
            if where is None:
                raise
            return True
        return False

    def _undo_key_file(self, name: str, path: str, data: bytes, known: Versioned) -> bool:
        """Remove the write's own file at ``path`` (not carried, or a stray in a tombstoned
        model), but not another caller's: the file must still hold the write's bytes, and
        the name no visible model or the one the write read. If another model now holds
        the name and has the write's bytes at ``path`` (set there by another caller too, or
        the write's file taken for that model's), the write counts as a write to that model
        (bumped, as :meth:`_holds`): True. The window left: a model created at the name and
        the key set to the write's bytes between the checks here and the delete."""
        try:
            now = self.storage.read(path)
        except FileNotFoundError:
            now = None
        if now == data:
            found = self.files.read_meta(layout.registered_model_meta(name))
            first = self.files.parse(layout.registered_model_meta(name), known.data)
            was = None if first is None else incarnation(first)
            other = (
                found is not None
                and self.files.is_visible(name, found.meta)
                and incarnation(found.meta) not in (None, was)
            )
            if other:
                return self._holds(name, path, data)
            self.storage.delete(path)
        self.drop_if_orphaned(name)
        return False

    def _visible(self, name: str) -> bool:
        found = self.files.read_meta(layout.registered_model_meta(name))
        return found is not None and self.files.is_visible(name, found.meta)

    def _renamed_holding(
        self, name: str, rel: str, data: bytes | None, known: Versioned
    ) -> str | None:
        """The receipt of the model ``known`` was read from not kept (renamed away from
        ``name`` more than MAX_KEPT times, or long ago): the name of that model now if
        it holds ``rel`` as the write left it (``data``; None: absent), else None. Its
        state then is the write's, so the write succeeds: carried, or, if its file was
        not, a write of what the model holds anyway (linearized at that read)."""
        where = find_lineage(self.files, name, known)
        if where is None or where == name:  # at ``name``: _holds has looked
            return None
        path = f"{layout.registered_model_dir(where)}/{rel}"
        return where if self._holds(where, path, data) else None

    def _holds(self, name: str, path: str, data: bytes | None) -> bool:
        """After the bump found another model at ``name`` (object stores: renamed away and
        another renamed or created there): whether that model has ``path`` as the write
        left it (``data``; None: absent) all the same, its file written after that model
        took the name; then it is bumped like any write to it, and the write succeeded."""
        found = self.files.read_meta(layout.registered_model_meta(name))
        if found is None or not self.files.is_visible(name, found.meta):
            return False
        try:
            now = self.storage.read(path)
        except FileNotFoundError:
            now = None
        if now != data:
            return False
        try:
            self.touch(name, known=found.current, same_model=True)
        except ResourceDoesNotExist:
            return False
        return True

    def _delete_key_file(self, name: str, path: str, known: Versioned) -> None:
        """Delete one tag/alias file (missing: nothing to do), then bump the model; if the
        model was renamed away meanwhile, the call succeeds only if the rename did not copy
        the file (:mod:`fsregistry.registry.receipts`)."""
        if not self.storage.exists(path):  # MLflow: deleting a missing one is not an error
            # ... if the model is still the one read: renamed away meanwhile, it is missing
            # because it moved (and the model at the name now, if any, is another one).
            meta, _ = self.files.model_meta(name)
            first = self.files.parse(layout.registered_model_meta(name), known.data)
            was = None if first is None else incarnation(first)
            if was is not None and incarnation(meta) not in (None, was):
                raise ResourceDoesNotExist(f"Registered Model with name={name} not found")
            return
        self.storage.delete(path)
        try:
            self.touch(name, known=known, same_model=True)
        except ResourceDoesNotExist:
            rel = relative(name, path)
            carried = find_receipt(self.files, name, known, lambda c: rel not in c)
            if (
                carried is None
                and not self._holds(name, path, None)
                and self._renamed_holding(name, rel, None, known) is None
            ):
                raise

    # -- registered models --------------------------------------------------------------------
    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        description = optional_text(description, "description")
        _, known = self.files.model_meta(name)

        def change(meta: dict[str, Any]) -> dict[str, Any]:
            meta["description"] = description
            return meta

        self.touch(name, change, known)
        return self.queries.get_registered_model(name)

    def delete_registered_model(self, name: str) -> None:
        self.files.model_meta(name)
        self.storage.delete_tree(layout.registered_model_dir(name))

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        key, text = validate_tag(key, value, MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH)
        _, known = self.files.model_meta(name)
        self._write_key_file(
            name, key, layout.registered_model_tag(name, key), text.encode("utf-8"), known
        )

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        validate_key(key, "tag key")
        _, known = self.files.model_meta(name)
        self._delete_key_file(name, layout.registered_model_tag(name, key), known)

    # -- model versions -----------------------------------------------------------------------
    def update_model_version(
        self, name: str, version: Any, description: str | None
    ) -> ModelVersion:
        number = version_number(version)
        description = optional_text(description, "description")
        _, known = self.files.model_meta(name)
        edit = edit_id()  # found in any receipt that took the version as we left it

        def change(meta: dict[str, Any]) -> dict[str, Any]:
            meta["description"] = description
            meta["last_updated_timestamp"] = now_ms()
            return with_bookkeeping(meta, edit=edit)

        written = dump_meta(self.update_version(name, number, change))
        try:
            self.touch(name, known=known, same_model=True)
        except ResourceDoesNotExist:
            rel, digest = (
                relative(name, layout.model_version_meta(name, number)),
                fingerprint(written),
            )
            receipt = find_receipt(
                self.files, name, known, lambda c: version_holds(c.get(rel), digest, edit)
            ) or find_edit_receipt(self.files, name, [number], edit)
            if receipt is None:
                raise
            for _ in range(_FOLLOW):  # renamed on meanwhile: where the version is now
                with contextlib.suppress(ResourceDoesNotExist):
                    return self.queries.get_model_version(receipt.renamed_to, number)
                receipt = find_edit_receipt(self.files, receipt.renamed_to, [number], edit)
                if receipt is None:
                    break
            raise
        return self.queries.get_model_version(name, number)

    def delete_model_version(self, name: str, version: Any) -> None:
        """Soft delete (``Deleted_Internal``): the number stays taken; aliases to it go."""
        number = version_number(version)
        _, known = self.files.model_meta(name)

        def change(meta: dict[str, Any]) -> dict[str, Any]:
            meta["current_stage"] = STAGE_DELETED_INTERNAL
            meta["last_updated_timestamp"] = now_ms()
            return meta

        deleted = self.update_version(name, number, change)
        self._remove_aliases_to(name, number)
        try:
            self.touch(name, known=known, same_model=True)
        except ResourceDoesNotExist:
            # The version is told by its claim's nonce, so any receipt the name keeps that
            # took it deleted will do (receipts module: find_version_receipt).
            claim = bookkeeping(deleted).get("nonce")
            receipt = (
                find_version_receipt(self.files, name, number, claim, deleted=True)
                if claim is not None
                else None
            )
            if receipt is None:
                rel = relative(name, layout.model_version_meta(name, number))
                receipt = find_receipt(
                    self.files, name, known, lambda c: version_deleted(c.get(rel))
                )
            if receipt is None:
                raise
            # Carried deleted; aliases to it the copy still took go too, as they would have.
            with contextlib.suppress(ResourceDoesNotExist):
                self._remove_aliases_to(receipt.renamed_to, number)
                self.touch(receipt.renamed_to)

    def _remove_aliases_to(self, name: str, number: int) -> None:
        for alias, target in self.files.aliases(name).items():
            if target == str(number):
                self.storage.delete(layout.registered_model_alias(name, alias))

    def set_model_version_tag(self, name: str, version: Any, key: str, value: Any) -> None:
        number = version_number(version)
        key, text = validate_tag(key, value, MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH)
        _, known = self.files.model_meta(name)
        self.files.live_version_meta(name, number)
        self._write_key_file(
            name, key, layout.model_version_tag(name, number, key), text.encode("utf-8"), known
        )

    def delete_model_version_tag(self, name: str, version: Any, key: str) -> None:
        number = version_number(version)
        validate_key(key, "tag key")
        _, known = self.files.model_meta(name)
        self.files.live_version_meta(name, number)
        self._delete_key_file(name, layout.model_version_tag(name, number, key), known)

    # -- aliases ------------------------------------------------------------------------------
    def set_registered_model_alias(self, name: str, alias: str, version: Any) -> None:
        validate_alias(alias)
        number = version_number(version)
        _, known = self.files.model_meta(name)
        self.files.live_version_meta(name, number)
        path = layout.registered_model_alias(name, alias)
        if self._write_key_file(name, alias, path, str(number).encode("ascii"), known):
            return  # carried by a rename, and the version was live when the copy took it
        try:
            self.files.live_version_meta(name, number)
        except ResourceDoesNotExist:
            # The version was deleted while we pointed the alias at it: undo ours.
            with contextlib.suppress(FileNotFoundError):
                if decode_text(self.storage.read(path)).strip() == str(number):
                    self.storage.delete(path)
            raise

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        alias = lookup_alias(alias)
        _, known = self.files.model_meta(name)
        self._delete_key_file(name, layout.registered_model_alias(name, alias), known)


__all__ = ["Edits", "MetaChange"]
