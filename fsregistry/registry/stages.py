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
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from fsregistry.entities import ModelVersion
from fsregistry.entities.registry import ACTIVE_STAGES, STAGE_ARCHIVED, canonical_stage
from fsregistry.exceptions import FsRegistryException, ResourceDoesNotExist
from fsregistry.mlruns.metafile import now_ms
from fsregistry.registry.edits import Edits, MetaChange
from fsregistry.registry.fields import bookkeeping, version_number, with_bookkeeping
from fsregistry.registry.queries import Queries
from fsregistry.registry.reading import RegistryFiles


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


class Stages:
    """Moves versions between stages (see the module docstring)."""

    def __init__(self, files: RegistryFiles, edits: Edits, queries: Queries) -> None:
        self.files = files
        self.edits = edits
        self.queries = queries

    def transition_model_version_stage(
        self, name: str, version: Any, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        stage = canonical_stage(stage)
        number = version_number(version)
        if archive_existing_versions and stage not in ACTIVE_STAGES:
            raise FsRegistryException(  # INTERNAL_ERROR, as MLflow's
                f"Model version transition cannot archive existing model versions because "
                f"'{stage}' is not an Active stage. Valid stages are {list(ACTIVE_STAGES)}"
            )
        meta, known = self.files.model_meta(name)
        self.files.live_version_meta(name, number)
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

        self.edits.touch(name, take_seq, known)
        now = now_ms()

        def set_stage(target: str, only_if: Callable[[dict[str, Any]], bool]) -> MetaChange:
            def change(m: dict[str, Any]) -> dict[str, Any]:
                if not only_if(m):
                    return m
                m["current_stage"] = target
                m["last_updated_timestamp"] = now
                return with_bookkeeping(m, stage_seq=s)

            return change

        self.edits.update_version(name, number, set_stage(stage, lambda m: stamp(m) < s))
        if archive_existing_versions:
            model = self.files.scan(name).get(name)
            for other, other_meta in (model.versions if model else {}).items():
                if other == number or other_meta.get("current_stage") != stage:
                    continue

                def older_in_stage(m: dict[str, Any]) -> bool:
                    return m.get("current_stage") == stage and stamp(m) < s

                with contextlib.suppress(ResourceDoesNotExist):
                    self.edits.update_version(
                        name, other, set_stage(STAGE_ARCHIVED, older_in_stage)
                    )
            owner = stage_owner(self.files.model_meta(name).meta, stage)
            if owner is not None and owner.seq != s and owner.version != number:
                # A later archiving transition owns the stage and may have missed ours.

                def still_ours(m: dict[str, Any]) -> bool:
                    return m.get("current_stage") == stage and stamp(m) == s

                self.edits.update_version(name, number, set_stage(STAGE_ARCHIVED, still_ours))
        return self.queries.get_model_version(name, number)


__all__ = ["StageOwner", "Stages", "stage_owner", "stamp"]
