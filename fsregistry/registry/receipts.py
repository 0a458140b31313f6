"""Copy receipts: how a registry write whose model an object-store rename carried away learns
whether the rename carried its change.

On S3 and GCS a write is two steps: it writes its file (a version's meta.yaml, a tag or alias
file, a deletion) and then bumps the model's meta.yaml by compare-and-swap; a rename
(:mod:`fsregistry.registry.rename`) copies the files and commits by turning the old meta.yaml
into a tombstone by compare-and-swap. Nothing orders a write's file against the rename's copy:
a write paused between its two steps for the whole rename (its file landed before the copy
listed the model, its bump after the commit) has its change carried into the renamed model,
yet its bump finds the tombstone. Before receipts such a call raised RESOURCE_DOES_NOT_EXIST
although its change survived, and a retrying caller got a duplicate.

**Why a receipt, not a fence.** A fence (the rename marks the model "renaming" first, and
writers refuse on seeing it) stops writers that *start* after it, but not one already between
its two steps: its file is in the model, indistinguishable from committed state (a tag file
is only its value; nothing in the model's meta.yaml says which files are committed, and
saying it would cost every write a request, while a registration must stay three requests).
Whatever the rename then does with that file, the paused writer wakes up after the commit
and must learn which it was. So the rename says so: the tombstone, written by the commit's
compare-and-swap, carries ``copied``, a fingerprint of every key file it copied (tags,
aliases, version tags: a digest of the bytes; a version's meta.yaml: its claim nonce, whether
it is deleted, a digest, and the identity of the last edit that stamped it, ``edit``). It is
exactly what the committed copy holds, so:

* a write whose final compare-and-swap found the model renamed away (a tombstone of *the*
  model it read, :func:`~fsregistry.registry.fields.incarnation`) looks its change up in the
  receipt. Carried: the call **succeeds**. Its change was in the model under the old name
  before the commit (readers saw it there), so the call took effect before the rename, which
  linearizes it. A call that returns a version (``create_model_version``,
  ``update_model_version``, stage transitions) returns it as it is when the call returns,
  under the name its model has then, as MLflow's entities always carry the model's current
  name (its SQL store renames a model's versions in the rename's transaction): a caller
  can go on with ``mv.name``. Not carried: the write undoes its file (if any is left) and
  raises RESOURCE_DOES_NOT_EXIST, and the renamed model holds nothing of it;
* a registration identifies its version by its claim's nonce, drawn for the call, which no
  other model's copy can hold: it looks for it in *every* receipt the name keeps
  (:func:`find_version_receipt`), not only from the model it read on, because every later
  rename of that model copied the version too. So a registration paused across more renames
  away from its name than :data:`MAX_KEPT` (which lose the receipt of the model it read)
  still finds its version, and it follows the receipts (renamed on meanwhile) to the name
  the version is under when the call returns. (Before, such a call raised
  RESOURCE_DOES_NOT_EXIST with its version alive in the renamed model: the rename stress
  test's "ambiguous" registration on GCS, about one run in three, always a worker's first,
  slow call.) A version deletion finds its version's deletion the same way (a copy that
  took the version, by its claim's nonce, deleted);
* a stage transition or ``update_model_version`` identifies its version write by the
  ``edit`` it stamps there (:func:`~fsregistry.registry.fields.edit_id`, drawn for the
  call), which every later copy keeps, whereas its bytes are only in the first rename's
  receipt (each rename rewrites a version's ``name`` and timestamp). So it first looks in
  the receipt of the rename away from the model it read (by digest or edit), and, that
  receipt not kept (more than :data:`MAX_KEPT` renames away, or older than
  :data:`KEEP_MS`), in the newest receipt the name keeps that holds its edit
  (:func:`find_edit_receipt`), then follows the receipts to where the model is now
  (before, such a transition raised RESOURCE_DOES_NOT_EXIST with its change carried: the
  rename stress test's "known" transition on GCS, about one run in five). Such a write is
  still not found if a later edit of the same version replaced its stamp in every receipt
  kept: its change is then overwritten anyway, but the call raises;
* a registration whose version was carried but some of whose tags were not (the copy listed
  the model between its version and its tags) writes the missing tags into the renamed model
  and bumps it, as it would have in the old one (a version is visible before its tags in the
  ordinary path too);
* a deletion (tag, alias) is carried when the receipt lacks the file; a version deletion
  when the receipt shows the version deleted (its aliases to it that the copy still took are
  then removed from the renamed model).

A model created or renamed onto a tombstone's name (``a`` -> ``a2`` -> ``a``) replaces the
tombstone; it keeps the tombstone's receipt, and those the tombstone kept, as ``superseded``
(oldest first; the last :data:`MAX_KEPT`, for :data:`KEEP_MS`), and its own tombstone
carries them on. A paused writer therefore finds the chain of renames away from its name
since the model it read (matched by :func:`~fsregistry.registry.fields.incarnation`): its
file landed in one of the models that held the name meanwhile, each visible there at the
time, and the change counts as carried if any of their receipts holds it. Failing that, a
tag or alias write whose file is, as it left it, in the visible model now at the name
succeeds after bumping that model (its file landed there). Failing that too (the receipt of
the model it read is no longer kept: more than :data:`MAX_KEPT` renames away from the name,
or older than :data:`KEEP_MS`), a tag or alias write follows its model's **lineage**
(:func:`~fsregistry.registry.fields.lineage`: the incarnation of the model as created,
``origin``, which every rename hands to its target and every receipt records) through the
newest receipts of its renames (:func:`find_lineage`) to the visible model it is now, and
succeeds if that model holds the key as the write left it (set: its value; delete: absent),
checked by a bump of that model as above; its own file, if left in the tombstoned model, is
removed. Carried or not, the model then holds exactly the write's state, so the call is
linearized there (a set of the value the key already has, a delete of an absent key, both
no-ops, or its own carried change). Every write's bump checks it
bumps the model it read, and a tag or alias delete that finds nothing to delete checks the
model is still the one it read (else RESOURCE_DOES_NOT_EXIST: the file moved with the model).

A tag or alias write that is not carried undoes its file only if the file still holds its
bytes and the name holds no visible model or the one it read (never another caller's key set
meanwhile on a model created or renamed onto the name); if another model holds the name and
has its bytes, the write counts as a write to that model, as above. Left open there: a model
created at the name, and the key set to the write's very bytes, between that check and the
delete (neither store is asked for a conditional delete).

Left open, each raising RESOURCE_DOES_NOT_EXIST although the change was carried: a write
whose model was deleted (not renamed) meanwhile; a tag or alias write whose receipt is no
longer kept and whose key another writer changed again after the copy took it (a tag or
alias file is only its value, so it cannot be told apart from another writer's without that
receipt; an identity in the file would change what MLflow reads, and one elsewhere would
cost every write a request); likewise a transition or description update whose version a
later edit restamped in every receipt kept; and a writer whose model's lineage left no
receipt at the name (renamed away, then the name taken by another model, more than
:data:`KEEP_MS` ago or more than :data:`MAX_KEPT` renames away from the name since).

Stage transitions, which bump the model before their version writes, bump it again after
them and complete a partly carried transition in the renamed model
(:mod:`fsregistry.registry.stages`, step 4). Costs: the rename reads each key file instead
of a server-side copy, and the tombstone (and, for a while, the model renamed onto the
name) holds the size of the model's file list. No request is spent unless a bump fails: a
registration stays three requests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import now_ms
from fsregistry.registry.fields import bookkeeping, incarnation, lineage
from fsregistry.registry.reading import RegistryFiles
from fsregistry.storage import Versioned

#: How long a model renamed onto a name keeps the receipts of the renames that left the name.
KEEP_MS = 5 * 60 * 1000
#: ... and how many of them, newest first: each is as large as the model's file list, and the
#: meta.yaml carrying them is read by every call on the model.
MAX_KEPT = 4

#: What the copy held, by path relative to the model directory (see the module docstring).
Copied = Mapping[str, str]


class Receipt(NamedTuple):
    """The rename that carried a model away: where to, and what it copied."""

    renamed_to: str
    copied: Copied


def fingerprint(data: bytes) -> str:
    """A short digest of one file's bytes."""
    return hashlib.sha256(data).hexdigest()[:16]


def version_fingerprint(meta: Mapping[str, Any], data: bytes) -> str:
    """A version meta.yaml's receipt entry: claim nonce, deleted or live, digest, and the
    identity of the last edit that stamped it (``edit``; empty if none)."""
    fs = bookkeeping(meta)
    deleted = meta.get("current_stage") == "Deleted_Internal"
    edit = fs.get("edit") if isinstance(fs.get("edit"), str) else ""
    return f"{fs.get('nonce')}:{'d' if deleted else 'l'}:{fingerprint(data)}:{edit}"


def version_carried(entry: str | None, claim_nonce: object) -> bool:
    """Whether the copy took the version created with ``claim_nonce``."""
    return entry is not None and entry.split(":")[0] == str(claim_nonce)


def version_deleted(entry: str | None) -> bool:
    """Whether the copy took the version as deleted."""
    return entry is not None and entry.split(":")[1:2] == ["d"]


def version_holds(entry: object, digest: str | None, edit: str) -> bool:
    """Whether the copy took a version's meta.yaml with the bytes of digest ``digest``
    (as written, before any rename rewrote them) or stamped by the edit ``edit``."""
    fields = str(entry).split(":") if entry is not None else []
    if digest is not None and fields[2:3] == [digest]:
        return True
    return bool(edit) and fields[3:4] == [edit]


def is_key_file(rel: str) -> bool:
    """Files whose copies get a receipt entry: tags, aliases, versions and their tags."""
    head, _, rest = rel.partition("/")
    if head in ("tags", "aliases"):
        return True
    return layout.parse_version_dir_name(head) is not None and (
        rest == layout.META or rest.startswith("tags/")
    )


def _chain(meta: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The receipts of the renames away from a name, oldest first, that ``meta`` (the
    name's meta.yaml now) knows of: those it kept, then its own if it is a tombstone."""
    fs = bookkeeping(meta)
    kept = fs.get("superseded")
    chain = [e for e in kept if isinstance(e, Mapping)] if isinstance(kept, list) else []
    if fs.get("renamed_to") and isinstance(fs.get("copied"), Mapping):
        chain.append(
            {
                "incarnation": incarnation(meta),
                "origin": lineage(meta),
                "renamed_to": fs["renamed_to"],
                "copied": dict(fs["copied"]),
                "at": now_ms(),
            }
        )
    return [dict(e) for e in chain]


def superseded_entries(tombstone: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What a model claiming a tombstone's name keeps of the receipts of the renames away
    from the name (the last :data:`MAX_KEPT`, younger than :data:`KEEP_MS`)."""
    return fresh(_chain(tombstone))[-MAX_KEPT:]


def fresh(chain: list[Any]) -> list[dict[str, Any]]:
    """The entries of a ``superseded`` list younger than :data:`KEEP_MS`."""
    limit = now_ms() - KEEP_MS
    return [dict(e) for e in chain if isinstance(e, Mapping) and int(e.get("at") or 0) >= limit]


def find_receipt(
    files: RegistryFiles, name: str, known: Versioned, test: Callable[[Copied], bool]
) -> Receipt | None:
    """The receipt of the rename that carried the model ``known`` was read from away from
    ``name``, if it passes ``test`` (the caller's change is in it); else None."""
    path = layout.registered_model_meta(name)
    first = files.parse(path, known.data)
    expected = None if first is None else incarnation(first)
    if expected is None:
        return None
    found = files.read_meta(path)
    if found is None:
        return None
    chain = _chain(found.meta)
    starts = [i for i, e in enumerate(chain) if e.get("incarnation") == expected]
    if not starts:
        return None
    # The rename away from the model read, and those away from the models the name held
    # after it: the write's file may have landed in any of them, each visible at the name.
    for entry in chain[starts[0] :]:
        copied = entry.get("copied")
        if isinstance(copied, Mapping) and test(copied):
            return Receipt(str(entry["renamed_to"]), copied)
    return None


def find_version_receipt(
    files: RegistryFiles, name: str, number: int, claim_nonce: object, deleted: bool = False
) -> Receipt | None:
    """The newest receipt of a rename away from ``name`` (of those its meta.yaml knows of)
    whose copy took version ``number`` created with ``claim_nonce``, else None. The nonce is
    the registration's own, so no other model's copy can hold it, and, unlike
    :func:`find_receipt`, the receipt of the model the registration read need not be kept:
    every later rename of the model copied the version too. With ``deleted``: only a copy
    that took the version deleted (a version deletion's receipt)."""
    found = files.read_meta(layout.registered_model_meta(name))
    if found is None:
        return None
    vrel = relative(name, layout.model_version_meta(name, number))
    for entry in reversed(_chain(found.meta)):
        copied = entry.get("copied")
        if not isinstance(copied, Mapping) or not version_carried(copied.get(vrel), claim_nonce):
            continue
        if not deleted or version_deleted(copied.get(vrel)):
            return Receipt(str(entry["renamed_to"]), copied)
    return None


def find_edit_receipt(
    files: RegistryFiles, name: str, numbers: Iterable[int], edit: str
) -> Receipt | None:
    """The newest receipt of a rename away from ``name`` (of those its meta.yaml knows of)
    whose copy took one of versions ``numbers`` stamped by the edit ``edit``, else None.
    The edit's identity is drawn for the call and kept by every copy (unlike its bytes: a
    rename rewrites the version's ``name``), so, as for :func:`find_version_receipt`, any
    kept receipt will do, not only that of the model the edit read."""
    found = files.read_meta(layout.registered_model_meta(name))
    if found is None or not edit:
        return None
    rels = [relative(name, layout.model_version_meta(name, n)) for n in numbers]
    for entry in reversed(_chain(found.meta)):
        copied = entry.get("copied")
        if isinstance(copied, Mapping) and any(
            version_holds(copied.get(r), None, edit) for r in rels
        ):
            return Receipt(str(entry["renamed_to"]), copied)
    return None


def find_lineage(files: RegistryFiles, name: str, known: Versioned) -> str | None:
    """The name of the visible model that the model ``known`` was read from (at ``name``)
    is now, renamed on (:func:`~fsregistry.registry.fields.lineage`), found by following
    the newest receipt of its renames away from each name; None if it is not found (the
    receipts are not kept, or it was deleted)."""
    path = layout.registered_model_meta(name)
    first = files.parse(path, known.data)
    origin = None if first is None else lineage(first)
    if origin is None:
        return None
    for _ in range(_FOLLOW):
        found = files.read_meta(layout.registered_model_meta(name))
        if found is None:
            return None
        if files.is_visible(name, found.meta) and lineage(found.meta) == origin:
            return name
        ours = [e for e in _chain(found.meta) if e.get("origin") == origin]
        if not ours:
            return None
        name = str(ours[-1]["renamed_to"])
    return None


#: How many renames :func:`find_lineage` follows.
_FOLLOW = 20


def relative(name: str, path: str) -> str:
    """``path`` (a file of ``models/<name>``) relative to the model directory."""
    return path[len(layout.registered_model_dir(name)) + 1 :]


__all__ = [
    "KEEP_MS",
    "MAX_KEPT",
    "Copied",
    "Receipt",
    "find_edit_receipt",
    "find_lineage",
    "find_receipt",
    "find_version_receipt",
    "fingerprint",
    "fresh",
    "is_key_file",
    "relative",
    "superseded_entries",
    "version_carried",
    "version_deleted",
    "version_fingerprint",
    "version_holds",
]
