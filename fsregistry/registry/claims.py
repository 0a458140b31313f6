"""Claims: creating registered models and numbering their versions, with many writers and no
server.

* **Registered model creation** is an atomic create of ``models/<name>/meta.yaml``; the loser
  gets RESOURCE_ALREADY_EXISTS, as with MLflow. The file carries a per-call nonce, so two
  creators at the same millisecond write different bytes and cannot both "succeed" (the
  storage layer treats identical bytes as a retried request of the same caller). A name held
  by an invisible leftover of an object-store rename (:mod:`fsregistry.registry.rename`) is
  reclaimed by compare-and-swap when the marker is dead: a tombstone of a finished rename at
  once, the retry of the same rename at once, any other marker after
  :data:`STALE_RENAME_MS`; until then creating the name fails with RESOURCE_ALREADY_EXISTS
  saying a rename is in progress.
* **Version numbers** are claimed by an atomic create-if-absent of ``version-N/meta.yaml``
  holding the complete metadata and a per-call nonce. A claim that finds the file taken
  tries N+1, so contention is never an error. Numbering starts from a hint,
  ``fsregistry.last_version`` in the registered model's meta.yaml, which every registration
  raises by compare-and-swap; when the hint is missing (MLflow rewrote the file) the version
  directories are listed once. Every number up to the hint is taken, so probing upward from
  it leaves no gaps; soft-deleted versions keep their meta.yaml, so numbers are never reused
  while the model exists. A registration costs three requests on S3/GCS (read the model's
  meta.yaml, create the version, compare-and-swap the model's meta.yaml; plus one per tag)
  whatever the number of versions.
* **A number is taken only by its meta.yaml.** The claim is the first thing written under
  ``version-N/``, and the tags come after it, so a registration that dies before its claim
  leaves no version N: nothing at all on S3/GCS (the claim is one request), and on local
  disk at most ``version-N/`` holding the hidden temp file the meta.yaml was being written
  to (killed between writing it and linking it into place). Such an *unclaimed* directory
  does not stop the next registration from taking N, so numbers never skip: from the hint,
  the create of ``version-N/meta.yaml`` succeeds next to the dead temp file; when the
  directories are listed instead, the start is one past the highest one that holds
  anything readers see, so an unclaimed one is taken again. ``fsreg doctor --fix`` removes
  such a directory (``interrupted_create``), which MLflow's file store would fail on. A
  ``version-N/`` without meta.yaml that holds other files was not left by a claim
  (fsregistry never writes there first); the listing starts above it, so its files never
  join a new version, and ``doctor`` reports it (``missing_meta``) and leaves it. (From the
  hint the claim does not look into ``version-N/`` before creating its meta.yaml, which
  would cost a request per registration; only a hand-made directory could be there.)
* **A registration that dies after its claim** leaves version N, complete in its meta.yaml,
  READY, without the tags not yet written and with the model's hint not yet raised; the
  next registration probes N, finds it taken and takes N+1. It is not removed: by then other
  writers may have numbered their versions above it, so removing it would make the gap this
  protocol avoids.
* **A model renamed or deleted during a registration.** On local disk it cannot be, by
  fsregistry: the registration holds the model directory that is at ``models/<name>`` when
  it starts, shared, from reading the model's meta.yaml to the last compare-and-swap
  (:meth:`RegistryFiles.pinned`), and renames and deletes hold it exclusive, so the version
  is claimed in the directory the name meant when the call started and still means when it
  returns; with no model there when it starts, it fails having created nothing. The
  protocol is in :mod:`fsregistry.registry.rename`. (Before, a rename between the claim and
  the bump left the version in the renamed model while the call raised.) On object stores,
  and on local disk when another program (MLflow) deletes the model, the bump (the
  compare-and-swap of the model's meta.yaml) is the check: it must find the model visible
  and the same one the call read at its start
  (:func:`~fsregistry.registry.fields.incarnation`; an object-store name can be renamed
  away and back meanwhile, the model then at it being another one, which the rename back
  made without our version). If it does not, the call succeeds if its version is in a
  visible model all the same: in the model now at the name (read twice around the version,
  the same visible model both times: renamed away with it and back), or in one a rename
  carried it to (a receipt of the renames away from the name holds it by the claim's nonce,
  :func:`~fsregistry.registry.receipts.find_version_receipt`, however many renames ago),
  followed from rename to rename to where it is now; the tags the copies missed are written
  there, and the returned version names the model as it is called when the call returns
  (MLflow's entities carry their model's current name). Otherwise it fails with
  RESOURCE_DOES_NOT_EXIST and removes the version it created if it is still its own (a
  version that a rename brought to the number since stays), and the model directory if the
  version recreated it. None of this costs a request when the bump succeeds: on S3/GCS a
  registration stays three requests.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from fsregistry.entities import ModelVersion, RegisteredModel
from fsregistry.entities.registry import STAGE_NONE, ModelVersionStatus
from fsregistry.exceptions import (
    ConcurrentUpdateError,
    InvalidParameterValue,
    InvalidState,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import dump_meta, load_meta, now_ms
from fsregistry.mlruns.model_digest import MODEL_DIGEST_TAG
from fsregistry.mlruns.validation import (
    validate_model_name,
    validate_new_model_name,
    validate_run_id,
    validate_utf8,
)
from fsregistry.registry.edits import Edits
from fsregistry.registry.fields import (
    FSREG_KEY,
    bookkeeping,
    incarnation,
    nonce,
    optional_text,
    registry_tags,
    with_bookkeeping,
)
from fsregistry.registry.queries import version_entity
from fsregistry.registry.reading import MetaFile, RegistryFiles
from fsregistry.registry.receipts import find_version_receipt, superseded_entries
from fsregistry.storage import ConflictError


class VersionLocation(NamedTuple):
    """Where a new version's files are (``storage_location``), the run it came from, and the
    digest of the model's hash manifest there (None: none found), which the version records
    as its tag ``fsreg.model_digest`` unless the caller gave that tag."""

    storage_location: str
    run_id: str | None
    digest: str | None = None


#: ``(source, run_id, model_id) -> VersionLocation``, supplied by the caller of
#: ``create_model_version`` (the store never resolves model URIs itself).
SourceLocator = Callable[[str, "str | None", "str | None"], VersionLocation]

#: A rename marker left by a crashed renamer blocks its name for this long before a creator
#: may clear it; a live renamer finishes well within it.
STALE_RENAME_MS = 5 * 60 * 1000
#: How many renames a registration whose version was carried away follows to find it.
_FOLLOW = 20
# Safety net for a backend that reports every create as taken.
_MAX_CLAIM_PROBES = 100_000


class ClaimedVersion(NamedTuple):
    """A version number this caller created, and the meta.yaml it created it with."""

    number: int
    meta: dict[str, Any]


class Claims:
    """Creates registered models and versions (see the module docstring)."""

    def __init__(self, files: RegistryFiles, edits: Edits) -> None:
        self.files = files
        self.storage = files.storage
        self.edits = edits

    # -- registered models --------------------------------------------------------------------
    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, Any] | Iterable[Any] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        validate_new_model_name(name)
        items = registry_tags(tags)
        description = optional_text(description, "description")
        now = now_ms()
        meta = {
            "name": name,
            "creation_timestamp": now,
            "last_updated_timestamp": now,
            "description": description,
            # A nonce: two creators at the same millisecond must not both "succeed".
            FSREG_KEY: {"nonce": nonce()},
        }
        self.claim_model_name(name, dump_meta(meta), rename_source=None)
        for key, value in items:
            self.storage.write(layout.registered_model_tag(name, key), value.encode("utf-8"))
        return RegisteredModel(
            name=name,
            creation_timestamp=now,
            last_updated_timestamp=now,
            description=description,
            tags=dict(items),
        )

    def ensure_registered_model(self, name: str) -> bool:
        """Create ``name`` unless it exists (``register_model`` and copies add a version to
        an existing model; concurrent callers all end up using the one that was created).
        A name no new model may take is fine for a model that exists (MLflow wrote it).
        True if this call created it."""
        try:
            validate_new_model_name(name)
        except InvalidParameterValue as bad:
            try:
                self.files.model_meta(name)
                return False
            except ResourceDoesNotExist:
                raise bad from None
        try:
            self.create_registered_model(name)
        except ResourceAlreadyExists as exists:
            try:
                self.files.model_meta(name)
            except ResourceDoesNotExist:
                raise exists from None  # a rename leftover holds the name, not a model
            return False
        return True

    def claim_model_name(self, name: str, data: bytes, rename_source: str | None) -> None:
        """Create ``models/<name>/meta.yaml``; replace it only if it is a dead marker
        (a tombstone, or a rename target whose rename never committed)."""
        path = layout.registered_model_meta(name)
        for _ in range(8):
            try:
                self.storage.create(path, data)
                return
            except FileExistsError:
                pass
            found = self.files.read_meta(path)
            if found is None:
                continue  # deleted in between: try the create again
            meta, current = found
            fs = bookkeeping(meta)
            if self.files.is_visible(name, meta):
                raise ResourceAlreadyExists(f"Registered Model (name={name}) already exists.")
            # An invisible leftover of a rename. Reclaim it when it is ours to retry, or
            # when it is so old that its renamer is surely gone.
            own_retry = rename_source is not None and fs.get("rename_from") == rename_source
            age = now_ms() - int(fs.get("rename_started") or 0)
            if not own_retry and not fs.get("rename_done") and age < STALE_RENAME_MS:
                raise ResourceAlreadyExists(
                    f"Registered Model (name={name}) cannot be created yet: a rename "
                    f"{'from' if fs.get('rename_from') else 'to'} "
                    f"{fs.get('rename_from') or fs.get('renamed_to')!r} is in progress or was "
                    "interrupted; retry later"
                )
            self.edits.delete_contents(name)
            kept = superseded_entries(meta)
            if kept:  # for writers a rename away carried (the receipts module)
                data = dump_meta(with_bookkeeping(load_meta(data, path), superseded=kept))
            try:
                self.storage.write_if_match(path, data, current.token)
                return
            except ConflictError:
                continue
        raise ConcurrentUpdateError(f"Could not claim registered model name {name!r}")

    # -- version numbers ----------------------------------------------------------------------
    def _start_version(self, name: str, meta: Mapping[str, Any]) -> int:
        """First number to try: one past the hint, or past the highest version directory
        listed that holds anything (an unclaimed one, left by an interrupted claim, is
        taken again; see the module docstring)."""
        hint = bookkeeping(meta).get("last_version")
        if isinstance(hint, int) and not isinstance(hint, bool) and hint >= 0:
            return hint + 1
        dirs, _ = self.storage.list_dir(layout.registered_model_dir(name))
        numbers = sorted(
            (n for n in map(layout.parse_version_dir_name, dirs) if n is not None), reverse=True
        )
        for number in numbers:  # the meta.yaml first: one stat or request, the usual answer
            if self.storage.exists(layout.model_version_meta(name, number)) or self.storage.walk(
                layout.model_version_dir(name, number)
            ):
                return number + 1
        return 1

    def _claim_version(
        self,
        name: str,
        build: Callable[[int], dict[str, Any]],
        meta: Mapping[str, Any],
    ) -> ClaimedVersion:
        """Claim the next free version number with ``build(number)``'s meta.yaml."""
        claim_nonce = nonce()
        number = self._start_version(name, meta)
        for _ in range(_MAX_CLAIM_PROBES):
            version_meta = with_bookkeeping(build(number), nonce=claim_nonce)
            path = layout.model_version_meta(name, number)
            data = dump_meta(version_meta)
            try:
                self.storage.create(path, data)
            except FileExistsError:
                number += 1  # taken (by anyone, deleted or not): the next one
                continue
            # A search right after (in this process) need not read it back.
            self.files.index.remember_written(
                path, data, functools.partial(self.files.parse, path, data)
            )
            return ClaimedVersion(number, version_meta)
        raise InvalidState(f"Could not claim a version number for model {name!r}")

    def register_version(
        self,
        name: str,
        build: Callable[[int], dict[str, Any]],
        tags: Sequence[tuple[str, str]] = (),
        current: MetaFile | None = None,
    ) -> ModelVersion:
        """Claim a version of ``name`` whose meta.yaml is ``build(number)``, write its tags and
        bump the model. The caller has validated everything; ``current`` is the model's
        meta.yaml if the caller just read it (one request less)."""
        meta, known = current or self.files.model_meta(name)
        claimed = self._claim_version(name, build, meta)
        number, version_meta = claimed
        for key, value in tags:
            self.storage.write(layout.model_version_tag(name, number, key), value.encode("utf-8"))

        def raise_hint(m: dict[str, Any]) -> dict[str, Any]:
            hint = bookkeeping(m).get("last_version")
            hint = hint if isinstance(hint, int) and not isinstance(hint, bool) else 0
            return with_bookkeeping(m, last_version=max(hint, number))

        try:
            self.edits.touch(name, raise_hint, known, same_model=True)
        except ResourceDoesNotExist:
            where = self._where_now(name, claimed, tags)
            if where is None:
                self._undo_claim(name, claimed, [key for key, _ in tags])
                raise
            name, version_meta = where, {**version_meta, "name": where}
        return version_entity(name, number, version_meta, dict(tags), {})

    def _where_now(
        self, name: str, claimed: ClaimedVersion, tags: Sequence[tuple[str, str]]
    ) -> str | None:
        """After the bump found the model renamed away or replaced (object stores): the name
        of the model that holds our version now, with every tag of the call (written there
        if the copy missed them), or None if no rename carried it (the call fails)."""
        if self._landed(name, claimed):
            where = name
        else:
            receipt = find_version_receipt(self.files, name, claimed.number, _claim_nonce(claimed))
            if receipt is None:
                return None
            where = self._follow(receipt.renamed_to, claimed)
        for _ in range(_FOLLOW):
            if self._complete_tags(where, claimed.number, tags):
                break
            where = self._follow(where, claimed)  # renamed on meanwhile: after it
        return where

    def _follow(self, name: str, claimed: ClaimedVersion) -> str:
        """Where our version is now, starting from ``name``, a model a rename carried it
        to: following the renames away from each name (their receipts hold the version by
        our nonce), up to :data:`_FOLLOW` of them; else the last name known."""
        for _ in range(_FOLLOW):
            if self._landed(name, claimed):
                return name
            receipt = find_version_receipt(self.files, name, claimed.number, _claim_nonce(claimed))
            if receipt is None:
                break
            name = receipt.renamed_to
        return name

    def _complete_tags(self, name: str, number: int, tags: Sequence[tuple[str, str]]) -> bool:
        """Write into ``models/<name>`` (holding our carried version) the call's tags the
        copy did not take (the copy listed the model between the version and its tags), and
        bump it, as the call would have in the old model. False: renamed away meanwhile, and
        what was written here is removed again."""
        if not tags:
            return True
        present = self.files.version_tags(name, number)
        missing = [(key, value) for key, value in tags if present.get(key) != value]
        if not missing:
            return True
        paths = [layout.model_version_tag(name, number, key) for key, _ in missing]
        for path, (_, value) in zip(paths, missing, strict=True):
            self.storage.write(path, value.encode("utf-8"))
        try:
            self.edits.touch(name)
        except ResourceDoesNotExist:
            for path in paths:
                self.storage.delete(path)
            self.edits.drop_if_orphaned(name)
            return False
        return True

    def _landed(self, name: str, claimed: ClaimedVersion) -> bool:
        """After the bump found the model gone or replaced (object stores): whether our
        version is in the model now at ``name`` all the same (renamed away with it and back).
        Read between two reads of the model's meta.yaml that show the same visible model, it
        was in that model at that moment."""
        path = layout.registered_model_meta(name)
        before = self.files.read_meta(path)
        if before is None or not self.files.is_visible(name, before.meta):
            return False
        found = self.files.read_meta(layout.model_version_meta(name, claimed.number))
        if found is None or bookkeeping(found.meta).get("nonce") != _claim_nonce(claimed):
            return False
        after = self.files.read_meta(path)
        return (
            after is not None
            and self.files.is_visible(name, after.meta)
            and incarnation(after.meta) == incarnation(before.meta)
        )

    def _undo_claim(self, name: str, claimed: ClaimedVersion, tag_keys: list[str]) -> None:
        """Remove what we wrote after the model was deleted, renamed away or replaced
        meanwhile, so no version directory is left without a model: our version if it is
        still ours, else only our tag files. The number may since hold someone else's
        version (the model now at the name took it after a rename deleted ours), which
        stays."""
        number = claimed.number
        found = self.files.read_meta(layout.model_version_meta(name, number))
        if found is not None and bookkeeping(found.meta).get("nonce") == _claim_nonce(claimed):
            self.storage.delete_tree(layout.model_version_dir(name, number))
        elif found is None:
            for key in tag_keys:
                self.storage.delete(layout.model_version_tag(name, number, key))
        self.edits.drop_if_orphaned(name)

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | Iterable[Any] | None = None,
        run_link: str | None = None,
        description: str | None = None,
        model_id: str | None = None,
        *,
        locate: SourceLocator | None = None,
    ) -> ModelVersion:
        """MLflow's ``create_model_version``; ``locate`` as for
        :meth:`fsregistry.registry.store.RegistryStore.create_model_version`."""
        validate_model_name(name)
        if not isinstance(source, str) or not source.strip():
            raise InvalidParameterValue(f"Invalid model version source {source!r}")
        validate_utf8(source, "model version source")
        if run_id is not None:
            validate_run_id(run_id)
        items = registry_tags(tags)
        description = optional_text(description, "description")
        run_link = optional_text(run_link, "run_link")
        model_id = optional_text(model_id, "model_id")
        current = self.files.model_meta(name)  # a missing model fails before resolving anything
        if locate is not None:
            located = locate(source, run_id, model_id)
            storage_location, run_id = located.storage_location, located.run_id
            if located.digest is not None and all(k != MODEL_DIGEST_TAG for k, _ in items):
                items.append((MODEL_DIGEST_TAG, located.digest))
        elif source.startswith("models:"):
            raise InvalidParameterValue(
                f"Unable to fetch model from model URI source {source!r}: no resolver given"
            )
        else:
            storage_location = source
        now = now_ms()

        def build(number: int) -> dict[str, Any]:
            meta: dict[str, Any] = {
                "name": name,
                "version": number,
                "creation_timestamp": now,
                "last_updated_timestamp": now,
                "description": description,
                "user_id": None,
                "current_stage": STAGE_NONE,
                "source": source,
                "storage_location": storage_location,
                "run_id": run_id,
                "run_link": run_link,
                "status": ModelVersionStatus.READY,
                "status_message": None,
            }
            if model_id is not None:
                # Only when known: MLflow 3 looks up every model_id key it reads.
                meta["model_id"] = model_id
            return meta

        return self.register_version(name, build, items, current)


def _claim_nonce(claimed: ClaimedVersion) -> object:
    return bookkeeping(claimed.meta).get("nonce")


__all__ = [
    "STALE_RENAME_MS",
    "ClaimedVersion",
    "Claims",
    "SourceLocator",
    "VersionLocation",
]
