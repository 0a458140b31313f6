"""Renaming a registered model, on local disk and on object stores.

MLflow lists every directory under ``models/`` as a registered model, so the new name cannot
be prepared in place on local disk without MLflow seeing it. What a reader sees:

* **Local disk**: the commit is one ``rename(2)`` of ``models/<old>`` to ``models/<new>``:
  readers see the old model, then the new one, never both, never neither; tags, aliases and
  versions move with the directory. Afterwards the ``name`` fields are rewritten (versions
  first, the model's meta.yaml last); until that finishes MLflow shows the old name inside
  the new directory, while fsregistry always names models by their directory. An interrupted
  rename is finished by the next write to the model (the model's meta.yaml still carries the
  old name, which is how it is detected: :class:`~fsregistry.registry.edits.Edits` calls
  :meth:`Renames.finish_local_rename`).

  **Writers and the move.** Every write resolves ``models/<name>/...`` by path at each of
  its steps (read the model, create the version, write its tags, compare-and-swap the
  model's meta.yaml), so a directory moved between two steps split a call: the version was
  created, then the bump found no model and the call raised RESOURCE_DOES_NOT_EXIST (or a
  raw ``FileNotFoundError`` from a path that had just moved) with the version left in the
  renamed model; a version delete raised after marking the version deleted; a write
  recreated ``models/<old>`` as a directory without meta.yaml. Checking afterwards and
  rolling back cannot repair that: the version is visible, and usable by others, in
  between. So the model directory itself is held for the whole call
  (:meth:`RegistryFiles.pinned` over :mod:`fsregistry.storage.dir_locks`: ``flock`` on
  ``models/<name>/.fsreg-dir#fsreg-lock``, a file that moves with the directory). A write
  takes the directory that is at ``models/<name>`` when it starts, *shared*, and checks
  after locking that the name still leads to the file it locked (else it starts again); a
  rename takes the old directory *exclusive* for the existence checks, the ``rename(2)``
  and the rewrite of the ``name`` fields (and ``delete_registered_model`` its directory for
  the delete). No directory held shared is moved or deleted, so a write either completes
  in the one directory its name meant throughout, or (no model at the name when it
  started) finds no model and changes nothing, even if one is renamed onto the name
  meanwhile. A rename waits for the writes inside to finish, and writes arriving meanwhile
  wait for the rename, each in arrival order (a gate file), up to a minute, then
  ConcurrentUpdateError with nothing changed. The new name needs no lock: ``rename(2)``
  onto it fails if a model was created there meanwhile (RESOURCE_ALREADY_EXISTS), and a
  model's creation is one atomic create. Readers take no lock: they see the model under
  one name or the other, and local listings skip an entry that vanished mid-walk.
* **Object stores** have no rename, and MLflow cannot read them, so visibility is decided by
  fsregistry's markers (:meth:`fsregistry.registry.reading.RegistryFiles.is_visible`):
  (1) ``models/<new>/meta.yaml`` is created with ``rename_from`` and a rename id — invisible
  while the old model does not acknowledge it; (2) every file is copied; (3) the commit is
  one compare-and-swap of the old meta.yaml into a tombstone (``renamed_to`` + the same
  rename id) against the version read before copying, so any change made meanwhile (every
  change bumps the old meta.yaml) forces a re-copy, for which the new meta.yaml first takes
  the old one as read again (its bookkeeping, such as the stage sequence, must be the
  committed one); from that instant the new model is
  visible and the old one is not; (4) the new meta.yaml drops its marker and the old files
  are deleted, and the tombstone is marked ``rename_done``. A tombstone stays invisible until
  a later ``create_registered_model`` of that name replaces it
  (:mod:`fsregistry.registry.claims`). Interrupted before (3): only the old model is visible
  (retrying the rename resumes); after (3): only the new one, and its next write drops the
  marker.

On both, versions' ``source`` and ``storage_location`` inside the old model directory are
pointed at the new one. Holding the directory is the facade's part
(:class:`~fsregistry.registry.store.RegistryStore`); on object stores it holds nothing and
costs no request. There a write ends with a compare-and-swap of the old meta.yaml, which
the rename's commit turns into a tombstone, so a write that lands during the copy makes the
rename copy again. A write whose bump finds the tombstone may have had its change (a new
version, a tag, a deletion mark) copied all the same, if it landed before the copy listed
the model: the commit's tombstone carries a receipt of what was copied (``copied``), and
the write succeeds if its change is in it, else undoes its file and fails
(:mod:`fsregistry.registry.receipts`, which argues why a receipt rather than a fence).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from fsregistry.entities import RegisteredModel
from fsregistry.exceptions import (
    ConcurrentUpdateError,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import dump_meta, load_meta, now_ms
from fsregistry.mlruns.validation import validate_model_name, validate_new_model_name
from fsregistry.registry.claims import Claims
from fsregistry.registry.copies import copy_file
from fsregistry.registry.edits import Edits
from fsregistry.registry.fields import bookkeeping, lineage, nonce, with_bookkeeping
from fsregistry.registry.queries import Queries
from fsregistry.registry.reading import RegistryFiles
from fsregistry.registry.receipts import fingerprint, is_key_file, version_fingerprint
from fsregistry.storage import ConflictError

# Re-copy rounds of an object-store rename while the model keeps changing underneath it.
_RENAME_ATTEMPTS = 5
# What a rename target's meta.yaml keeps of its own when it takes the source's again.
_TARGET_OWN = ("nonce", "rename_from", "rename_id", "rename_started", "superseded")


class Renames:
    """Renames registered models (see the module docstring)."""

    def __init__(
        self, files: RegistryFiles, edits: Edits, claims: Claims, queries: Queries
    ) -> None:
        self.files = files
        self.storage = files.storage
        self.edits = edits
        self.claims = claims
        self.queries = queries

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        validate_model_name(name)
        validate_new_model_name(new_name)
        self.files.model_meta(name)
        if name == new_name:
            raise ResourceAlreadyExists(f"Registered Model (name={new_name}) already exists.")
        if self.storage.capabilities.directories:
            self._rename_directory(name, new_name)
        else:
            self._rename_by_copy(name, new_name)
        return self.queries.get_registered_model(new_name)

    # -- local disk ---------------------------------------------------------------------------
    def _rename_directory(self, name: str, new_name: str) -> None:
        """Local disk: one atomic directory rename, then fix the ``name`` fields."""
        new_path = layout.registered_model_meta(new_name)
        existing = self.files.read_meta(new_path)
        if existing is not None:
            if self.files.is_visible(new_name, existing.meta):
                raise ResourceAlreadyExists(f"Registered Model (name={new_name}) already exists.")
            self.storage.delete_tree(layout.registered_model_dir(new_name))
        elif self.storage.exists(layout.registered_model_dir(new_name)):
            self.edits.drop_if_orphaned(new_name)
        try:
            self.storage.move_tree(
                layout.registered_model_dir(name), layout.registered_model_dir(new_name)
            )
        except FileNotFoundError as e:
            raise ResourceDoesNotExist(f"Registered Model with name={name} not found") from e
        except FileExistsError as e:
            raise ResourceAlreadyExists(
                f"Registered Model (name={new_name}) already exists."
            ) from e
        self.finish_local_rename(new_name)

    def finish_local_rename(self, name: str) -> None:
        """Rewrite ``name`` in every meta.yaml of ``models/<name>`` (model meta.yaml last)."""
        base = layout.registered_model_dir(name)
        old_prefix: str | None = None
        found = self.files.read_meta(layout.registered_model_meta(name))
        if found is not None and found.meta.get("name") not in (None, name):
            old_prefix = self.storage.uri(layout.registered_model_dir(str(found.meta["name"])))
        new_prefix = self.storage.uri(base)
        now = now_ms()
        dirs, _ = self.storage.list_dir(base)
        for d in dirs:
            number = layout.parse_version_dir_name(d)
            if number is None:
                continue
            path = layout.model_version_meta(name, number)

            def fix(old: bytes | None, path: str = path) -> bytes:
                if old is None:
                    raise FileNotFoundError(path)
                meta = load_meta(old, path)
                if meta.get("name") != name:
                    meta["name"] = name
                    meta["last_updated_timestamp"] = now
                    if old_prefix is not None:
                        _move_locations(meta, old_prefix, new_prefix)
                return dump_meta(meta)

            with contextlib.suppress(FileNotFoundError):
                self.storage.update(path, fix)

        def fix_model(old: bytes | None) -> bytes:
            if old is None:
                raise ResourceDoesNotExist(f"Registered Model with name={name} not found")
            meta = load_meta(old, base)
            meta["name"] = name
            meta["last_updated_timestamp"] = max(now, int(meta.get("last_updated_timestamp") or 0))
            return dump_meta(meta)

        self.storage.update(layout.registered_model_meta(name), fix_model)

    # -- object stores ------------------------------------------------------------------------
    def _rename_by_copy(self, name: str, new_name: str) -> None:
        """Object stores: copy under a marker, commit with one compare-and-swap."""
        old_meta_path = layout.registered_model_meta(name)
        rename_id = nonce()
        started = now_ms()
        meta, current = self.files.model_meta(name)
        target = with_bookkeeping(
            {**meta, "name": new_name, "last_updated_timestamp": started},
            nonce=nonce(),
            origin=lineage(meta),
            rename_from=name,
            rename_id=rename_id,
            rename_started=started,
            renamed_to=None,
            superseded=None,
        )
        self.claims.claim_model_name(new_name, dump_meta(target), rename_source=name)
        old_prefix = self.storage.uri(layout.registered_model_dir(name))
        new_prefix = self.storage.uri(layout.registered_model_dir(new_name))
        committed = False
        try:
            for _ in range(_RENAME_ATTEMPTS):
                self.edits.delete_contents(new_name)
                copied = self._copy_model_files(name, new_name, old_prefix, new_prefix)
                tombstone = with_bookkeeping(
                    meta,
                    renamed_to=new_name,
                    rename_id=rename_id,
                    rename_started=started,
                    copied=copied,
                )
                try:
                    self.storage.write_if_match(old_meta_path, dump_meta(tombstone), current.token)
                    committed = True
                    break
                except ConflictError:
                    meta, current = self.files.model_meta(name)  # changed meanwhile: copy again
                    self._refresh_target(name, new_name, meta)
            else:
                raise ConcurrentUpdateError(
                    f"Registered model {name!r} kept changing during the rename; nothing renamed"
                )
        finally:
            if not committed and not self._is_tombstone_of(name, rename_id):
                self.storage.delete_tree(layout.registered_model_dir(new_name))
        self.edits.touch(new_name)  # drops the target's rename markers: it is committed
        self.edits.delete_contents(name)

        def done(meta: dict[str, Any]) -> dict[str, Any]:
            return with_bookkeeping(meta, rename_done=True) if _ours(meta, rename_id) else meta

        # Marks the tombstone as finished, so the old name can be reused at once.
        with contextlib.suppress(ResourceDoesNotExist):
            self.storage.update(old_meta_path, lambda old: _raw_change(old, done, name))

    def _refresh_target(self, name: str, new_name: str, meta: dict[str, Any]) -> None:
        """Before copying again: the target's meta.yaml takes the model's meta.yaml as read
        now (description, timestamps, and fsregistry's bookkeeping: the version hint, the
        stage sequence and owners), keeping its own incarnation, markers and receipts. The
        commit is made against this read, so the renamed model starts from the old one as
        committed (before, it kept the first read's: a stage sequence behind a stamp the
        copy carried made the next transition silently not apply)."""
        path = layout.registered_model_meta(new_name)

        def refresh(old: bytes | None) -> bytes:
            if old is None:
                raise ConcurrentUpdateError(
                    f"The rename target {new_name!r} vanished during the rename; nothing renamed"
                )
            own = bookkeeping(load_meta(old, path))
            return dump_meta(
                with_bookkeeping(
                    {**meta, "name": new_name, "last_updated_timestamp": now_ms()},
                    **{key: own.get(key) for key in _TARGET_OWN},
                    origin=lineage(meta),
                    renamed_to=None,
                    copied=None,
                )
            )

        self.storage.update(path, refresh)

    def _is_tombstone_of(self, name: str, rename_id: str) -> bool:
        """Whether our commit landed after all (an error after the request was sent)."""
        found = self.files.read_meta(layout.registered_model_meta(name))
        return found is not None and _ours(found.meta, rename_id)

    def _copy_model_files(
        self, name: str, new_name: str, old_prefix: str, new_prefix: str
    ) -> dict[str, str]:
        """Copy every file but meta.yaml; return the receipt of the key files copied
        (:mod:`fsregistry.registry.receipts`)."""
        src = layout.registered_model_dir(name)
        dst = layout.registered_model_dir(new_name)
        now = now_ms()
        copied: dict[str, str] = {}
        for info in self.storage.walk(src):
            if info.path == layout.META:
                continue
            head, _, rest = info.path.partition("/")
            try:
                if layout.parse_version_dir_name(head) is not None and rest == layout.META:
                    data = self.storage.read(f"{src}/{info.path}")
                    meta = load_meta(data, info.path)
                    copied[info.path] = version_fingerprint(meta, data)
                    meta["name"] = new_name
                    meta["last_updated_timestamp"] = now
                    _move_locations(meta, old_prefix, new_prefix)
                    self.storage.write(f"{dst}/{info.path}", dump_meta(meta))
                elif is_key_file(info.path):  # small: read, so the receipt can say what
                    data = self.storage.read(f"{src}/{info.path}")
                    self.storage.write(f"{dst}/{info.path}", data)
                    copied[info.path] = fingerprint(data)
                else:
                    copy_file(
                        self.storage,
                        f"{src}/{info.path}",
                        self.storage,
                        f"{dst}/{info.path}",
                        info.size,
                    )
            except FileNotFoundError:
                # Deleted since the listing (an alias or tag removed): whoever deleted it
                # bumps the model's meta.yaml, so the commit fails and the copy starts over.
                continue
        return copied


def _ours(meta: Mapping[str, Any], rename_id: str) -> bool:
    """Whether ``meta`` is the tombstone this rename (``rename_id``) wrote."""
    fs = bookkeeping(meta)
    return bool(fs.get("renamed_to")) and fs.get("rename_id") == rename_id


def _raw_change(
    old: bytes | None, change: Callable[[dict[str, Any]], dict[str, Any]], name: str
) -> bytes:
    if old is None:
        raise ResourceDoesNotExist(f"Registered Model with name={name} not found")
    return dump_meta(change(load_meta(old, name)))


def _move_locations(meta: dict[str, Any], old_prefix: str, new_prefix: str) -> None:
    """Point ``source``/``storage_location`` inside the old model directory at the new one."""
    for key in ("source", "storage_location"):
        value = meta.get(key)
        if isinstance(value, str) and (value == old_prefix or value.startswith(old_prefix + "/")):
            meta[key] = new_prefix + value[len(old_prefix) :]


__all__ = ["Renames"]
