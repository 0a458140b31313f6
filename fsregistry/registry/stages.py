"""Stage transitions, and ``archive_existing_versions`` with concurrent transitions.

MLflow's stages (``None``, ``Staging``, ``Production``, ``Archived``) are a field of each
version's meta.yaml; a transition with ``archive_existing_versions`` moves every other
version of the stage to ``Archived``. With many writers and no server this is kept correct
by a sequence number and an owner per stage, in fsregistry's bookkeeping
(:mod:`fsregistry.registry.fields`):

1. Each transition takes a sequence number from the model's meta.yaml (``stage_seq``, raised
   by compare-and-swap along with the change counter). When the model has none yet (a new
   model, or MLflow rewrote the file) it starts above every stamp a version may still carry.
   A transition with archiving also records itself in the same swap as the stage's owner,
   ``stage_owner: {<stage>: [<seq>, <version>]}``.
2. It stamps every version meta.yaml it writes with its number (``stage_seq`` there too),
   and a write only lands on a version whose stamp is older: a slower, older transition
   never undoes a newer one.
3. With archiving, it archives every other version it finds in the stage (those still
   stamped older), then re-reads the owner: if a later archiving transition took the stage
   over, it may have missed ours, so ours archives its own version (if that version is still
   in the stage with our stamp).

Whatever the interleaving, exactly the latest archiving transition's version stays in the
stage.

4. **A rename racing the transition** (object stores; on local disk the rename waits for the
   call, :mod:`fsregistry.registry.rename`). Every other registry write writes its file and
   then bumps the model, but a transition bumps first (step 1) and writes versions after,
   so a rename committing in between could copy the model before a version write, which
   then landed in the old model and was deleted with it: the call succeeded (or raised)
   with its change lost, or, with archiving, with part of it carried. So after its version
   writes a transition **bumps the model again** (the confirming swap, which also reads
   the stage owner for step 3): a rename that copied before then copies again, and one
   that committed meanwhile makes the swap fail. Then, as for the other writes
   (:mod:`fsregistry.registry.receipts`), the transition looks its version writes up in
   the rename's receipt (or, renamed back meanwhile, in the model now at the name), by
   the transition's identity (``edit``), stamped on every version it writes along with
   its sequence number and kept by every copy (its bytes are not: each rename rewrites a
   version's name), so any receipt the name keeps will do, not only the first rename's
   (:func:`~fsregistry.registry.receipts.find_edit_receipt`): if *any* was carried, it
   took effect before the rename, so it is **completed** there (steps 2 and 3 run again
   on the renamed model, which the stamps make idempotent: a version a newer transition
   stamped meanwhile is left alone) and the call succeeds, returning the version under
   the new name (renamed on meanwhile, even away and back, it follows the receipt of the
   rename away from the model it tried, else the newest holding its identity, up to
   :data:`_FOLLOW` renames); if none was, the call raises
   RESOURCE_DOES_NOT_EXIST, and what it wrote is in the tombstoned model only, deleted
   with it. A renamed model whose sequence is behind a stamp the copy carried is raised
   to it by the confirming swap. Costs nothing: the version's swap is made against the
   version as read before step 1, and the reply is built from the version written and
   not read back, which saves the two requests the confirming swap spends (a plain
   transition makes one request fewer than before).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from fsregistry.entities import ModelVersion
from fsregistry.entities.registry import ACTIVE_STAGES, STAGE_ARCHIVED, canonical_stage
from fsregistry.exceptions import FsRegistryException, ResourceDoesNotExist
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import dump_meta, now_ms
from fsregistry.registry.edits import Edits, MetaChange
from fsregistry.registry.fields import (
    bookkeeping,
    edit_id,
    incarnation,
    is_deleted,
    version_not_found,
    version_number,
    with_bookkeeping,
)
from fsregistry.registry.queries import Queries, version_entity
from fsregistry.registry.reading import RegistryFiles
from fsregistry.registry.receipts import (
    Copied,
    Receipt,
    find_edit_receipt,
    find_receipt,
    fingerprint,
    relative,
    version_holds,
)
from fsregistry.storage import ConflictError, Versioned


class StageOwner(NamedTuple):
    """The latest archiving transition of a stage, stored as ``[seq, version]``. Either field
    is what the file holds (normally ints; a hand-edited file may hold anything)."""

    seq: object
    version: object


def stage_owner(meta: Mapping[str, Any], stage: str) -> StageOwner | None:
    """The owner a registered model's meta.yaml records for ``stage``, if well-formed."""
    owner = bookkeeping(meta).get("stage_owner", {}).get(stage)
    if isinstance(owner, list) and len(owner) == 2:
        return StageOwner(*owner)
    return None


def stamp(meta: Mapping[str, Any]) -> int:
    """The sequence number of the transition that last wrote this version (0: none)."""
    value = bookkeeping(meta).get("stage_seq")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def transition_arguments(version: Any, stage: str, archive: bool) -> tuple[str, int]:
    """A transition's stage (canonical) and version number, or MLflow's error for them."""
    stage = canonical_stage(stage)
    number = version_number(version)
    if archive and stage not in ACTIVE_STAGES:
        raise FsRegistryException(  # INTERNAL_ERROR, as MLflow's
            f"Model version transition cannot archive existing model versions because "
            f"'{stage}' is not an Active stage. Valid stages are {list(ACTIVE_STAGES)}"
        )
    return stage, number


class Stages:
    """Moves versions between stages (see the module docstring)."""

    def __init__(self, files: RegistryFiles, edits: Edits, queries: Queries) -> None:
        self.files = files
        self.storage = files.storage
        self.edits = edits
        self.queries = queries

    def transition_model_version_stage(
        self, name: str, version: Any, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        stage, number = transition_arguments(version, stage, archive_existing_versions)
        meta, known = self.files.model_meta(name)
        read = self.files.read_meta(layout.model_version_meta(name, number))
        if read is None or is_deleted(read.meta):
            raise version_not_found(name, number)
        floor = 0
        if not isinstance(bookkeeping(meta).get("stage_seq"), int):
            # No sequence yet (new model, or MLflow rewrote the file): start above every
            # stamp a version may still carry.
            floor = max((stamp(m) for m in self.files.load(name).versions.values()), default=0)
        s = 0  # this transition's sequence number, taken by the swap below

        def take_seq(m: dict[str, Any]) -> dict[str, Any]:
            nonlocal s
            current = bookkeeping(m).get("stage_seq")
            s = max(current if isinstance(current, int) else 0, floor) + 1
            changes: dict[str, Any] = {"stage_seq": s}
            if archive_existing_versions:
                owners = dict(bookkeeping(m).get("stage_owner") or {})
                owners[stage] = [s, number]
                changes["stage_owner"] = owners
            return with_bookkeeping(m, **changes)

        self.edits.touch(name, take_seq, known, same_model=True)
        plan = _Plan(number, stage, s, archive_existing_versions, now_ms(), edit_id())
        written: dict[int, bytes] = {}
        try:
            mine = self._apply(name, plan, written, read.current, incarnation(meta))
        except ResourceDoesNotExist:
            # Renamed away meanwhile (object stores)? Then it counts only if carried.
            dest = self._carried_to(name, known, written, plan.edit)
            if dest is None:
                raise
            name, mine = self._complete(dest, plan)
        tags = self.files.version_tags(name, number)
        return version_entity(name, number, mine, tags, self.files.aliases(name))

    def _apply(
        self,
        name: str,
        plan: _Plan,
        written: dict[int, bytes],
        current: Versioned | None,
        expected: object,
    ) -> dict[str, Any]:
        """Steps 2 and 3 on ``models/<name>`` (``current``: the version's meta.yaml as read,
        saving a read), recording every version meta.yaml written in ``written``, then the
        confirming bump of the model (only the model ``expected`` names, if not None)."""
        s, stage, number = plan.seq, plan.stage, plan.number
        mine = self._write_version(
            name, number, plan.set_stage(stage, lambda m: stamp(m) < s), current
        )
        written[number] = dump_meta(mine)
        if plan.archive:
            model = self.files.scan(name).get(name)
            for other, other_meta in (model.versions if model else {}).items():
                if other == number or other_meta.get("current_stage") != stage:
                    continue

                def older_in_stage(m: dict[str, Any]) -> bool:
                    return m.get("current_stage") == stage and stamp(m) < s

                with contextlib.suppress(ResourceDoesNotExist):
                    out = self.edits.update_version(
                        name, other, plan.set_stage(STAGE_ARCHIVED, older_in_stage)
                    )
                    written[other] = dump_meta(out)
        owner = self._confirm(name, plan, expected)
        if owner is not None and owner.seq != s and owner.version != number:
            # A later archiving transition owns the stage and may have missed ours.

            def still_ours(m: dict[str, Any]) -> bool:
                return m.get("current_stage") == stage and stamp(m) == s

            mine = self.edits.update_version(
                name, number, plan.set_stage(STAGE_ARCHIVED, still_ours)
            )
            written[number] = dump_meta(mine)
            self._confirm(name, plan, expected)
        return mine

    def _complete(self, name: str, plan: _Plan) -> tuple[str, dict[str, Any]]:
        """Run steps 2 and 3 again on the model a rename carried the transition to, following
        it if it is renamed on meanwhile: the receipt of the rename away from the model it
        tried (by incarnation; the model at the name may be another one by then, renamed
        away and back), else the newest receipt at the name holding the transition's
        edit (the other was not kept)."""
        for _ in range(_FOLLOW):
            path = layout.registered_model_meta(name)
            found = self.files.read_meta(path)
            if found is None:
                break
            if self.files.is_visible(name, found.meta):
                with contextlib.suppress(ResourceDoesNotExist):
                    return name, self._apply(name, plan, {}, None, incarnation(found.meta))
                now = self.files.read_meta(path)
                if now is None or (
                    self.files.is_visible(name, now.meta)
                    and incarnation(now.meta) == incarnation(found.meta)
                ):
                    break  # not renamed away: the version is gone
            receipt: Receipt | None = find_receipt(
                self.files, name, found.current, lambda copied: True
            )
            if receipt is None:
                receipt = find_edit_receipt(self.files, name, [plan.number], plan.edit)
            if receipt is None:
                break
            name = receipt.renamed_to
        raise ResourceDoesNotExist(f"Registered Model with name={name} not found")

    def _write_version(
        self, name: str, number: int, change: MetaChange, current: Versioned | None
    ) -> dict[str, Any]:
        """Compare-and-swap a version's meta.yaml, against ``current`` first if given."""
        if current is not None:
            path = layout.model_version_meta(name, number)
            meta = self.files.parse(path, current.data)
            if meta is not None and not is_deleted(meta):
                new = change(dict(meta))
                with contextlib.suppress(ConflictError):
                    self.storage.write_if_match(path, dump_meta(new), current.token)
                    return new
        return self.edits.update_version(name, number, change)

    def _confirm(self, name: str, plan: _Plan, expected: object) -> StageOwner | None:
        """Bump the model after the versions' writes, so that a rename that copied it
        before them copies again; return the stage's owner it holds then. Raises
        ResourceDoesNotExist if the model was renamed away (or is not ``expected``)."""
        seen: list[StageOwner | None] = [None]

        def confirm(m: dict[str, Any]) -> dict[str, Any]:
            now_at_name = incarnation(m)
            if expected is not None and now_at_name is not None and now_at_name != expected:
                raise ResourceDoesNotExist(f"Registered Model with name={name} not found")
            seen[0] = stage_owner(m, plan.stage)
            current = bookkeeping(m).get("stage_seq")
            if isinstance(current, int) and current < plan.seq:  # a copy's stale sequence
                m = with_bookkeeping(m, stage_seq=plan.seq)
            return m

        self.edits.touch(name, confirm)
        return seen[0]

    def _carried_to(
        self, name: str, known: Versioned, written: Mapping[int, bytes], edit: str
    ) -> str | None:
        """Where the transition's version writes went, if any went anywhere visible: the
        model a rename carried them to (the receipt of the rename away from the model read
        holds one of them as written or stamped with ``edit``; else, that receipt not kept,
        the newest receipt at the name holding one stamped with ``edit``: every later copy
        kept the stamp, not the bytes), or the model now at ``name`` (renamed back
        meanwhile) if it holds one stamped with ``edit``."""
        if not written:
            return None
        wanted = {
            relative(name, layout.model_version_meta(name, n)): fingerprint(data)
            for n, data in written.items()
        }

        def holds(copied: Copied) -> bool:
            return any(version_holds(copied.get(rel), fp, edit) for rel, fp in wanted.items())

        receipt = find_receipt(self.files, name, known, holds)
        if receipt is None:
            receipt = find_edit_receipt(self.files, name, written, edit)
        if receipt is not None:
            return receipt.renamed_to
        found = self.files.read_meta(layout.registered_model_meta(name))
        if found is None or not self.files.is_visible(name, found.meta):
            return None
        for n in written:
            version = self.files.read_meta(layout.model_version_meta(name, n))
            if version is not None and bookkeeping(version.meta).get("edit") == edit:
                return name
        return None


#: How many renames on a transition being completed follows before giving up.
_FOLLOW = 20


class _Plan(NamedTuple):
    """One transition: its version, target stage, sequence number, archiving, time, and
    its identity (:func:`~fsregistry.registry.fields.edit_id`), stamped with the sequence
    number on every version it writes."""

    number: int
    stage: str
    seq: int
    archive: bool
    now: int
    edit: str

    def set_stage(self, target: str, only_if: Callable[[dict[str, Any]], bool]) -> MetaChange:
        """Move a version to ``target`` stamped with this transition, if ``only_if``."""

        def change(m: dict[str, Any]) -> dict[str, Any]:
            if not only_if(m):
                return m
            m["current_stage"] = target
            m["last_updated_timestamp"] = self.now
            return with_bookkeeping(m, stage_seq=self.seq, edit=self.edit)

        return change


__all__ = ["StageOwner", "Stages", "stage_owner", "stamp", "transition_arguments"]
