"""MLflow's model registry in MLflow's file layout (spec §2), safe for concurrent writers.

Layout (exactly MLflow's, so MLflow 2.22 and 3.x read what this writes)::

    models/<name>/meta.yaml          name, timestamps, description
    models/<name>/tags/<key>         one file per tag
    models/<name>/aliases/<alias>    one file per alias, holding the version number
    models/<name>/version-<N>/meta.yaml, tags/<key>

fsregistry's own bookkeeping lives under one extra ``fsregistry:`` key in those meta.yaml
files; MLflow builds its entities from known keys only, so it ignores it (and drops it when it
rewrites a file itself, which everything here tolerates).

How writes stay correct with many writers and no server
-------------------------------------------------------
* **Version numbers** are claimed by an atomic create-if-absent of ``version-N/meta.yaml``
  holding the complete metadata and a per-call nonce (the storage layer treats identical bytes
  as a retried request of the same caller). A claim that finds the file taken tries N+1, so
  contention is never an error. Numbering starts from a hint, ``fsregistry.last_version`` in
  the registered model's meta.yaml, which every registration raises by compare-and-swap; when
  the hint is missing (MLflow rewrote the file) the version directories are listed once.
  Every number up to the hint is taken, so probing upward from it leaves no gaps; soft-deleted
  versions keep their meta.yaml, so numbers are never reused while the model exists.
  A registration costs three requests on S3/GCS (read the model's meta.yaml, create the
  version, compare-and-swap the model's meta.yaml) whatever the number of versions.
* **Registered model creation** is an atomic create of ``models/<name>/meta.yaml``; the loser
  gets RESOURCE_ALREADY_EXISTS, as with MLflow.
* **meta.yaml updates** (descriptions, stages, timestamps) are compare-and-swap; tags and
  aliases are one file per key, written whole. Every change also bumps the registered model's
  ``last_updated_timestamp`` by compare-and-swap, which doubles as a change counter for rename.
* **archive_existing_versions**: each stage transition takes a sequence number from the
  model's meta.yaml (compare-and-swap) and stamps every version meta.yaml it writes with it; a
  write only lands on a version whose stamp is older. A transition with archiving also records
  itself as the stage's owner, archives every other version it finds in the stage, then
  re-reads the owner: if a later archiving transition took the stage over, it archives its own
  version. Whatever the interleaving, exactly the latest archiving transition's version stays.

Reading
-------
A read lists the files it needs once and takes each file's decoded content from the registry
index (:mod:`fsregistry.registry.model_index`) while the listing reports the same change
token for it, reading only the others: the MLflow-layout files stay the only source of truth,
whoever wrote them. A filter on ``name = 'x'`` (or ``name IN (...)``) lists only those models.
Listing registered models on local disk checks a model the index knows with one directory
listing and one stat per version, and reads version tags only for the latest versions shown.

Rename
------
MLflow lists every directory under ``models/`` as a registered model, so the new name cannot
be prepared in place on local disk without MLflow seeing it. What a reader sees:

* **Local disk**: the commit is one ``rename(2)`` of ``models/<old>`` to ``models/<new>``:
  readers see the old model, then the new one, never both, never neither; tags, aliases and
  versions move with the directory. Afterwards the ``name`` fields are rewritten (versions
  first, the model's meta.yaml last); until that finishes MLflow shows the old name inside
  the new directory, while fsregistry always names models by their directory. An interrupted
  rename is finished by the next write to the model (the model's meta.yaml still carries the
  old name, which is how it is detected).
* **Object stores** have no rename, and MLflow cannot read them, so visibility is decided by
  fsregistry's markers: (1) ``models/<new>/meta.yaml`` is created with ``rename_from`` and a
  rename id — invisible while the old model does not acknowledge it; (2) every file is copied;
  (3) the commit is one compare-and-swap of the old meta.yaml into a tombstone
  (``renamed_to`` + the same rename id) against the version read before copying, so any
  change made meanwhile forces a re-copy; from that instant the new model is visible and the
  old one is not; (4) the new meta.yaml drops its marker and the old files are deleted. A
  tombstone stays invisible until a later ``create_registered_model`` of that name replaces
  it. Interrupted before (3): only the old model is visible (retrying the rename resumes);
  after (3): only the new one.
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from fsregistry.entities import ModelVersion, PagedList, RegisteredModel
from fsregistry.entities.registry import (
    ACTIVE_STAGES,
    ALL_STAGES,
    STAGE_ARCHIVED,
    STAGE_DELETED_INTERNAL,
    STAGE_NONE,
    ModelVersionStatus,
    canonical_stage,
)
from fsregistry.exceptions import (
    ConcurrentUpdateError,
    InvalidParameterValue,
    InvalidState,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import MalformedMetaFile, decode_text, dump_meta, load_meta, now_ms
from fsregistry.mlruns.validation import (
    MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH,
    tag_items,
    validate_alias,
    validate_key,
    validate_model_name,
    validate_run_id,
    validate_tag,
    validate_value_length,
)
from fsregistry.registry.model_index import SHARD_PREFIX, ListedFile, RegistryIndex
from fsregistry.search import (
    ATTRIBUTE,
    PROMPT_TAG_KEY,
    TAG,
    Comparison,
    OrderClause,
    check_max_results,
    effective_order,
    matches,
    paginate,
    parse_filter,
    parse_order_by,
    sort_rows,
)
from fsregistry.storage import ConflictError, Storage, Versioned

if TYPE_CHECKING:
    from fsregistry.mlruns.uris import ModelUri


class VersionLocation(NamedTuple):
    """Where a new version's files are (``storage_location``) and the run it came from."""

    storage_location: str
    run_id: str | None


#: ``(source, run_id, model_id) -> VersionLocation``, supplied by the caller of
#: :meth:`RegistryStore.create_model_version` (the store never resolves model URIs itself).
SourceLocator = Callable[[str, "str | None", "str | None"], VersionLocation]

# Our bookkeeping key in meta.yaml files (MLflow ignores unknown keys).
FSREG_KEY = "fsregistry"
# A rename marker left by a crashed renamer blocks its name for this long before a creator
# may clear it; a live renamer finishes well within it.
STALE_RENAME_MS = 5 * 60 * 1000
# Copy artifacts through memory up to this size, through a temp file above it.
_IN_MEMORY_COPY_BYTES = 16 * 1024 * 1024
# Re-copy rounds of an object-store rename while the model keeps changing underneath it.
_RENAME_ATTEMPTS = 5
# Safety net for a backend that reports every create as taken.
_MAX_CLAIM_PROBES = 100_000
# Prompts are registered models with this tag; MLflow's searches leave them out.
_NOT_A_PROMPT = Comparison(TAG, PROMPT_TAG_KEY, "!=", "true", missing_matches=True)


# ==========================================================================================
# small helpers
# ==========================================================================================
def version_number(version: Any) -> int:
    """A version given as int or digit string (MLflow accepts both) -> int >= 1."""
    if isinstance(version, bool):
        raise InvalidParameterValue(f"Invalid model version {version!r}: must be an integer")
    if isinstance(version, int):
        number = version
    elif isinstance(version, str) and version.strip().isdigit():
        number = int(version.strip())
    else:
        raise InvalidParameterValue(f"Invalid model version {version!r}: must be an integer")
    if number < 1:
        raise InvalidParameterValue(f"Invalid model version {version!r}: must be >= 1")
    return number


def _registry_tags(tags: Mapping[str, Any] | Iterable[Any] | None) -> list[tuple[str, str]]:
    return [validate_tag(k, v, MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH) for k, v in tag_items(tags)]


def _optional_text(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidParameterValue(f"Invalid {what} {value!r}: must be a string")
    return validate_value_length(value, MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH, what)


def _lookup_alias(alias: Any) -> str:
    """An alias to look up or delete: MLflow's characters (reserved names are simply absent)."""
    if alias == "" or not isinstance(alias, str):
        raise InvalidParameterValue(f"Invalid alias {alias!r}: must be a non-empty string")
    try:
        return validate_alias(alias)
    except InvalidParameterValue:
        if alias.lower() == "latest" or (alias[:1] in "vV" and alias[1:].isdigit()):
            return alias  # reserved for writing, a valid (always missing) name to look up
        raise


def _fs(meta: Mapping[str, Any]) -> dict[str, Any]:
    value = meta.get(FSREG_KEY)
    return dict(value) if isinstance(value, dict) else {}


def _stamp(meta: Mapping[str, Any]) -> int:
    value = _fs(meta).get("stage_seq")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _is_deleted(meta: Mapping[str, Any]) -> bool:
    return meta.get("current_stage") == STAGE_DELETED_INTERNAL


def _with_fs(meta: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """``meta`` with ``fsregistry`` keys set (None removes one)."""
    fs = _fs(meta)
    for key, value in changes.items():
        if value is None:
            fs.pop(key, None)
        else:
            fs[key] = value
    out = dict(meta)
    if fs:
        out[FSREG_KEY] = fs
    else:
        out.pop(FSREG_KEY, None)
    return out


def _nonce() -> str:
    return os.urandom(16).hex()  # not uuid4: importing uuid costs fsreg's start more


@dataclass
class _ModelFiles:
    """One registered model as read from the store (deleted versions included)."""

    name: str
    meta: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> version text
    versions: dict[int, dict[str, Any]] = field(default_factory=dict)
    # None: not listed (``_scan_without_version_tags``); ``_version_tags`` reads them
    version_tags: dict[int, dict[str, str]] | None = field(default_factory=dict)

    def live_versions(self) -> dict[int, dict[str, Any]]:
        return {v: m for v, m in self.versions.items() if not _is_deleted(m)}


def _prune_model_dir(rel: str) -> bool:
    """Inside ``models/<name>``: descend into tags/, aliases/ and version-N/tags/ only."""
    head, _, rest = rel.partition("/")
    if head in ("tags", "aliases"):
        return False
    if layout.parse_version_dir_name(head) is None:
        return True  # staging directories, copied artifacts' parents, anything unknown
    if not rest:
        return False
    return rest.split("/", 1)[0] != "tags"


def _is_model_file(rel: str) -> bool:
    """Inside ``models/<name>``: a file the registry reads (meta.yaml files, tags, aliases)."""
    if rel == layout.META:
        return True
    head, _, rest = rel.partition("/")
    if head in ("tags", "aliases"):
        return True
    if layout.parse_version_dir_name(head) is None:
        return False
    return rest == layout.META or rest.startswith("tags/")


def _assemble(
    files: Iterable[ListedFile], contents: Mapping[tuple[str, str], Any]
) -> dict[str, _ModelFiles]:
    """Models from their listed files' decoded contents (a model needs its meta.yaml)."""
    files = list(files)
    out: dict[str, _ModelFiles] = {}
    for f in files:
        if f.rel == layout.META:
            meta = contents.get((f.model, f.rel))
            if isinstance(meta, dict):
                out[f.model] = _ModelFiles(f.model, meta)
    for f in files:
        entry = out.get(f.model)
        value = contents.get((f.model, f.rel))
        if entry is None or value is None or f.rel == layout.META:
            continue
        head, _, rest = f.rel.partition("/")
        if head == "tags":
            entry.tags[rest] = value
        elif head == "aliases":
            entry.aliases[rest] = value.strip()
        else:
            number = layout.parse_version_dir_name(head)
            assert number is not None
            if rest == layout.META:
                if isinstance(value, dict):
                    entry.versions[number] = value
            elif entry.version_tags is not None:
                entry.version_tags.setdefault(number, {})[rest.partition("/")[2]] = value
    return out


def _prune_models_root(rel: str) -> bool:
    _, _, rest = rel.partition("/")
    return bool(rest) and _prune_model_dir(rest)


# ==========================================================================================
# the store
# ==========================================================================================
class RegistryStore:
    """MLflow's model registry store operations on one store root (see module docstring)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._index = RegistryIndex(storage, self._decode)

    def __repr__(self) -> str:
        return f"RegistryStore({self.storage.root_uri!r})"

    # ======================================================================================
    # reading
    # ======================================================================================
    def _parse(self, path: str, raw: bytes) -> dict[str, Any] | None:
        try:
            return load_meta(raw, path)  # the message names no URI: it is never shown
        except MalformedMetaFile:
            return None

    def _read_meta(self, path: str) -> tuple[dict[str, Any], Versioned] | None:
        try:
            current = self.storage.read_versioned(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        meta = self._parse(path, current.data)
        return None if meta is None else (meta, current)

    def _partner_meta(self, name: str) -> dict[str, Any] | None:
        found = self._read_meta(layout.registered_model_meta(name))
        return None if found is None else found[0]

    def _is_visible(
        self, name: str, meta: Mapping[str, Any], partner: Callable[[str], Any] | None = None
    ) -> bool:
        """Whether ``models/<name>`` with this meta.yaml is a registered model (rename markers)."""
        fs = _fs(meta)
        if fs.get("renamed_to"):
            return False  # a tombstone: renamed away
        source = fs.get("rename_from")
        if source:
            other = (partner or self._partner_meta)(str(source))
            other_fs = _fs(other) if isinstance(other, Mapping) else {}
            return other_fs.get("renamed_to") == name and other_fs.get("rename_id") == fs.get(
                "rename_id"
            )
        return True

    def _model_meta(self, name: str) -> tuple[dict[str, Any], Versioned]:
        """Meta and version token of the visible registered model ``name``, or not found."""
        validate_model_name(name)
        found = self._read_meta(layout.registered_model_meta(name))
        if found is None or not self._is_visible(name, found[0]):
            raise ResourceDoesNotExist(f"Registered Model with name={name} not found")
        return found

    def _decode(self, path: str, raw: bytes) -> Any:
        """A listed file's content: a meta.yaml parsed (None if malformed), else its text."""
        rel = path.split("/", 2)[2]  # models/<name>/<rel>; model names hold no "/"
        head, _, rest = rel.partition("/")
        if rel == layout.META or (
            rest == layout.META and layout.parse_version_dir_name(head) is not None
        ):
            return self._parse(path, raw)
        return decode_text(raw)

    def _scan(self, name: str | None) -> dict[str, _ModelFiles]:
        """Every file of one model (or of all models): one listing, then the contents of the
        files the index does not hold at their listed token (one bulk read)."""
        listed_at = time.time()  # before listing: a file changed during it counts as racy
        shard_tokens: dict[str, str] | None = None
        if name is None:
            files: list[ListedFile] = []
            shard_tokens = {}
            for f in self.storage.walk(layout.MODELS, _prune_models_root):
                model, _, rel = f.path.partition("/")
                if not rel:
                    if model.startswith(SHARD_PREFIX):
                        shard_tokens[model] = f.token
                elif _is_model_file(rel):
                    files.append(ListedFile(model, rel, f.token, f.mtime))
            models: set[str] = {f.model for f in files}
        else:
            files = self._walk_model(name)
            models = {name}
        contents = self._index.contents(
            files, models, listed_at, complete=name is None, shard_tokens=shard_tokens
        )
        return _assemble(files, contents)

    def _walk_model(self, name: str) -> list[ListedFile]:
        base = layout.registered_model_dir(name)
        return [
            ListedFile(name, f.path, f.token, f.mtime)
            for f in self.storage.walk(base, _prune_model_dir)
            if _is_model_file(f.path)
        ]

    def _scan_without_version_tags(self) -> dict[str, _ModelFiles]:
        """All models, their version tags left out (``_version_tags`` reads them when needed):
        what listing registered models needs.

        On local disk, where a stat is a system call, a model whose meta.yaml files the index
        holds at their current tokens is checked with one listing of its directory and one
        stat per version instead of one listing per version directory; a model with any other
        file (or a stale one) is listed and read in full, as ``_scan`` does."""
        if not self.storage.capabilities.cheap_stat:
            return self._scan(None)
        dirs, names = self.storage.list_dir(layout.MODELS)
        shards = {n for n in names if n.startswith(SHARD_PREFIX)}
        self._index.load_shards(shards, None)
        if sum(1 for d in dirs if self._index.knows(d)) <= len(dirs) // 2:
            return self._scan(None)  # mostly unknown (a first look): one listing is cheaper
        listed: dict[str, list[ListedFile]] = {}
        metas: list[str] = []
        for model in dirs:
            base = layout.registered_model_dir(model)
            subdirs, model_files = self.storage.list_dir(base)
            files = listed[model] = []
            if layout.META in model_files:
                metas.append(f"{base}/{layout.META}")
            if "tags" in model_files or "aliases" in model_files:
                files.append(ListedFile(model, "tags", "", None))  # odd: never known, so read
            for sub in subdirs:
                if sub in ("tags", "aliases"):
                    files.extend(
                        ListedFile(model, f"{sub}/{f.path}", f.token, f.mtime)
                        for f in self.storage.walk(f"{base}/{sub}")
                    )
                elif layout.parse_version_dir_name(sub) is not None:
                    metas.append(f"{base}/{sub}/{layout.META}")
        cut = len(layout.MODELS) + 1
        for path, token in self.storage.tokens(metas).items():
            model, _, rel = path[cut:].partition("/")
            listed[model].append(ListedFile(model, rel, token, None))
        contents: dict[tuple[str, str], Any] = {}
        found: list[ListedFile] = []
        checked: set[str] = set()
        unknown: list[str] = []
        for model, files in listed.items():
            cached = [self._index.lookup(model, f.rel, f.token) for f in files]
            if all(entry is not None for entry in cached):
                for f, entry in zip(files, cached, strict=True):
                    contents[(model, f.rel)] = entry[1] if entry is not None else None
                found.extend(files)
                checked.add(model)
            else:
                unknown.append(model)
        if unknown:
            # Something new or changed: those models are listed and read in full.
            listed_at = time.time()
            walked = [f for model in unknown for f in self._walk_model(model)]
            contents.update(self._index.contents(walked, unknown, listed_at))
            found.extend(walked)
        models = _assemble(found, contents)
        for name in checked & models.keys():
            models[name].version_tags = None  # not listed: read for the versions shown
        return models

    def _load(self, name: str) -> _ModelFiles:
        validate_model_name(name)
        model = self._scan(name).get(name)
        if model is None or not self._is_visible(name, model.meta):
            raise ResourceDoesNotExist(f"Registered Model with name={name} not found")
        return model

    def _visible_models(
        self, names: Iterable[str] | None = None, version_tags: bool = True
    ) -> list[_ModelFiles]:
        """The registered models readers see: all, or those of ``names`` (invalid names are
        simply not models); ``version_tags=False`` may leave version tags unread."""
        if names is None:
            models = self._scan(None) if version_tags else self._scan_without_version_tags()
        else:
            models = {}
            for name in names:
                with contextlib.suppress(InvalidParameterValue):
                    models.update(self._scan(validate_model_name(name)))

        def partner(other: str) -> Any:
            entry = models.get(other)
            return entry.meta if entry is not None else self._partner_meta(other)

        return [m for n, m in sorted(models.items()) if self._is_visible(n, m.meta, partner)]

    # -- entities ---------------------------------------------------------------------------
    @staticmethod
    def _version_entity(
        name: str,
        number: int,
        meta: Mapping[str, Any],
        tags: Mapping[str, str] | None,
        aliases: Mapping[str, str],
    ) -> ModelVersion:
        text = str(number)
        return ModelVersion(
            name=name,  # the directory names the model, whatever a stale meta.yaml says
            version=text,
            creation_timestamp=int(meta.get("creation_timestamp") or 0),
            last_updated_timestamp=meta.get("last_updated_timestamp"),
            description=meta.get("description"),
            user_id=meta.get("user_id"),
            current_stage=str(meta.get("current_stage") or STAGE_NONE),
            source=meta.get("source"),
            run_id=meta.get("run_id"),
            status=str(meta.get("status") or ModelVersionStatus.READY),
            status_message=meta.get("status_message"),
            tags=dict(tags or {}),
            run_link=meta.get("run_link"),
            aliases=sorted(a for a, v in aliases.items() if v == text),
            model_id=meta.get("model_id"),
        )

    def _tags_of(self, model: _ModelFiles, number: int) -> dict[str, str] | None:
        if model.version_tags is None:
            return self._version_tags(model.name, number)
        return model.version_tags.get(number)

    def _versions_of(self, model: _ModelFiles) -> list[ModelVersion]:
        return [
            self._version_entity(model.name, n, meta, self._tags_of(model, n), model.aliases)
            for n, meta in sorted(model.live_versions().items())
        ]

    @staticmethod
    def _latest_per_stage(
        versions: Sequence[ModelVersion], stages: Iterable[str]
    ) -> list[ModelVersion]:
        wanted = set(stages)
        best: dict[str, ModelVersion] = {}
        for mv in versions:
            if mv.current_stage in wanted:
                held = best.get(mv.current_stage)
                if held is None or int(held.version) < int(mv.version):
                    best[mv.current_stage] = mv
        return sorted(best.values(), key=lambda mv: int(mv.version))

    def _model_entity(self, model: _ModelFiles) -> RegisteredModel:
        # Only the latest version of each stage becomes an entity: a model may have thousands.
        latest: dict[str, int] = {}
        live: set[str] = set()
        for number, version_meta in model.versions.items():
            if _is_deleted(version_meta):
                continue
            live.add(str(number))
            stage = str(version_meta.get("current_stage") or STAGE_NONE)
            if stage in ALL_STAGES and latest.get(stage, 0) < number:
                latest[stage] = number
        meta = model.meta
        return RegisteredModel(
            name=model.name,
            creation_timestamp=meta.get("creation_timestamp"),
            last_updated_timestamp=meta.get("last_updated_timestamp"),
            description=meta.get("description"),
            latest_versions=[
                self._version_entity(
                    model.name,
                    n,
                    model.versions[n],
                    self._tags_of(model, n),
                    model.aliases,
                )
                for n in sorted(latest.values())
            ],
            tags=dict(model.tags),
            # An alias whose version is gone (deleted concurrently with setting it) is not shown.
            aliases={a: v for a, v in sorted(model.aliases.items()) if v in live},
        )

    # ======================================================================================
    # writing helpers
    # ======================================================================================
    def _touch(
        self,
        name: str,
        change: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
        known: Versioned | None = None,
    ) -> dict[str, Any]:
        """Compare-and-swap the model's meta.yaml: bump ``last_updated_timestamp``, apply
        ``change``. ``known`` (the bytes and token already read) saves a read when nobody
        wrote in between. Raises ResourceDoesNotExist if the model is gone."""
        path = layout.registered_model_meta(name)
        result: dict[str, Any] = {}

        def apply(old: bytes | None) -> bytes:
            meta = None if old is None else self._parse(path, old)
            if meta is None or not self._is_visible(name, meta):
                raise ResourceDoesNotExist(f"Registered Model with name={name} not found")
            meta = dict(meta)
            meta["last_updated_timestamp"] = max(
                now_ms(), int(meta.get("last_updated_timestamp") or 0)
            )
            if _fs(meta).get("rename_from"):
                # The rename that made this model visible committed but did not finish.
                meta = _with_fs(meta, rename_from=None, rename_id=None, rename_started=None)
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
            self._finish_local_rename(name)
        return meta

    def _update_version(
        self, name: str, number: int, change: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> dict[str, Any]:
        """Compare-and-swap one version's meta.yaml; ``change`` sees a live version only."""
        path = layout.model_version_meta(name, number)
        result: dict[str, Any] = {}

        def apply(old: bytes | None) -> bytes:
            meta = None if old is None else self._parse(path, old)
            if meta is None or _is_deleted(meta):
                raise _version_not_found(name, number)
            meta = change(dict(meta))
            result.clear()
            result.update(meta)
            return dump_meta(meta)

        self.storage.update(path, apply)
        return result

    def _live_version_meta(self, name: str, number: int) -> dict[str, Any]:
        found = self._read_meta(layout.model_version_meta(name, number))
        if found is None or _is_deleted(found[0]):
            raise _version_not_found(name, number)
        return found[0]

    def _drop_if_orphaned(self, name: str) -> None:
        """Remove ``models/<name>`` if a write recreated it after the model was deleted or
        renamed (MLflow treats every directory under models/ as a model and fails on one
        without meta.yaml)."""
        if self.storage.exists(layout.registered_model_meta(name)):
            return
        if not self.storage.walk(layout.registered_model_dir(name)):
            self.storage.delete_tree(layout.registered_model_dir(name))

    def _write_key_file(self, name: str, path: str, data: bytes, known: Versioned) -> None:
        """Write one tag/alias file, then bump the model; undo the file if the model vanished."""
        try:
            self.storage.write(path, data)
        except (NotADirectoryError, IsADirectoryError) as e:
            raise InvalidParameterValue(
                f"Invalid key {path.rsplit('/', 1)[-1]!r}: it collides with an existing key "
                "that is a prefix of it or that it is a prefix of"
            ) from e
        try:
            self._touch(name, known=known)
        except ResourceDoesNotExist:
            self.storage.delete(path)
            self._drop_if_orphaned(name)
            raise

    # ======================================================================================
    # registered models
    # ======================================================================================
    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, Any] | Iterable[Any] | None = None,
        description: str | None = None,
    ) -> RegisteredModel:
        validate_model_name(name)
        items = _registry_tags(tags)
        description = _optional_text(description, "description")
        now = now_ms()
        meta = {
            "name": name,
            "creation_timestamp": now,
            "last_updated_timestamp": now,
            "description": description,
            # A nonce: two creators at the same millisecond must not both "succeed".
            FSREG_KEY: {"nonce": _nonce()},
        }
        self._claim_model_name(name, dump_meta(meta), rename_source=None)
        for key, value in items:
            self.storage.write(layout.registered_model_tag(name, key), value.encode("utf-8"))
        return RegisteredModel(
            name=name,
            creation_timestamp=now,
            last_updated_timestamp=now,
            description=description,
            tags=dict(items),
        )

    def ensure_registered_model(self, name: str) -> None:
        """Create ``name`` unless it exists (``register_model`` and copies add a version to
        an existing model; concurrent callers all end up using the one that was created)."""
        try:
            self.create_registered_model(name)
        except ResourceAlreadyExists as exists:
            try:
                self._model_meta(name)
            except ResourceDoesNotExist:
                raise exists from None  # a rename leftover holds the name, not a model

    def _claim_model_name(self, name: str, data: bytes, rename_source: str | None) -> None:
        """Create ``models/<name>/meta.yaml``; replace it only if it is a dead marker
        (a tombstone, or a rename target whose rename never committed)."""
        path = layout.registered_model_meta(name)
        for _ in range(8):
            try:
                self.storage.create(path, data)
                return
            except FileExistsError:
                pass
            found = self._read_meta(path)
            if found is None:
                continue  # deleted in between: try the create again
            meta, current = found
            fs = _fs(meta)
            if self._is_visible(name, meta):
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
            self._delete_contents(name)
            try:
                self.storage.write_if_match(path, data, current.token)
                return
            except ConflictError:
                continue
        raise ConcurrentUpdateError(f"Could not claim registered model name {name!r}")

    def _delete_contents(self, name: str) -> None:
        """Delete everything of ``models/<name>`` except its meta.yaml."""
        base = layout.registered_model_dir(name)
        dirs, files = self.storage.list_dir(base)
        for d in dirs:
            self.storage.delete_tree(f"{base}/{d}")
        for f in files:
            if f != layout.META:
                self.storage.delete(f"{base}/{f}")

    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._model_entity(self._load(name))

    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        description = _optional_text(description, "description")
        _, known = self._model_meta(name)

        def change(meta: dict[str, Any]) -> dict[str, Any]:
            meta["description"] = description
            return meta

        self._touch(name, change, known)
        return self.get_registered_model(name)

    def delete_registered_model(self, name: str) -> None:
        self._model_meta(name)
        self.storage.delete_tree(layout.registered_model_dir(name))

    def set_registered_model_tag(self, name: str, key: str, value: Any) -> None:
        key, text = validate_tag(key, value, MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH)
        _, known = self._model_meta(name)
        self._write_key_file(
            name, layout.registered_model_tag(name, key), text.encode("utf-8"), known
        )

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        validate_key(key, "tag key")
        _, known = self._model_meta(name)
        path = layout.registered_model_tag(name, key)
        if self.storage.exists(path):  # MLflow: deleting a missing tag is not an error
            self.storage.delete(path)
            self._touch(name, known=known)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[RegisteredModel]:
        check_max_results(max_results, "registered_models")
        comparisons = [*parse_filter(filter_string, "registered_models"), _NOT_A_PROMPT]
        clauses = _distinct(
            effective_order(parse_order_by(order_by, "registered_models"), "registered_models")
        )
        visible = self._visible_models(_pinned_names(comparisons), version_tags=False)
        models = [self._model_entity(m) for m in visible]
        hits = [m for m in models if matches(comparisons, _model_lookup(m))]
        page, token = paginate(sort_rows(hits, clauses, _model_lookup), max_results, page_token)
        return PagedList(page, token)

    # -- rename -------------------------------------------------------------------------------
    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        validate_model_name(name)
        validate_model_name(new_name)
        self._model_meta(name)
        if name == new_name:
            raise ResourceAlreadyExists(f"Registered Model (name={new_name}) already exists.")
        if self.storage.capabilities.directories:
            self._rename_directory(name, new_name)
        else:
            self._rename_by_copy(name, new_name)
        return self.get_registered_model(new_name)

    def _rename_directory(self, name: str, new_name: str) -> None:
        """Local disk: one atomic directory rename, then fix the ``name`` fields."""
        new_path = layout.registered_model_meta(new_name)
        existing = self._read_meta(new_path)
        if existing is not None:
            if self._is_visible(new_name, existing[0]):
                raise ResourceAlreadyExists(f"Registered Model (name={new_name}) already exists.")
            self.storage.delete_tree(layout.registered_model_dir(new_name))
        elif self.storage.exists(layout.registered_model_dir(new_name)):
            self._drop_if_orphaned(new_name)
        try:
            self.storage.move_tree(
                layout.registered_model_dir(name), layout.registered_model_dir(new_name)
            )
        except (FileExistsError, OSError) as e:
            if isinstance(e, FileNotFoundError):
                raise ResourceDoesNotExist(f"Registered Model with name={name} not found") from e
            raise ResourceAlreadyExists(
                f"Registered Model (name={new_name}) already exists."
            ) from e
        self._finish_local_rename(new_name)

    def _finish_local_rename(self, name: str) -> None:
        """Rewrite ``name`` in every meta.yaml of ``models/<name>`` (model meta.yaml last)."""
        base = layout.registered_model_dir(name)
        old_prefix: str | None = None
        found = self._read_meta(layout.registered_model_meta(name))
        if found is not None and found[0].get("name") not in (None, name):
            old_prefix = self.storage.uri(layout.registered_model_dir(str(found[0]["name"])))
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

    def _rename_by_copy(self, name: str, new_name: str) -> None:
        """Object stores: copy under a marker, commit with one compare-and-swap."""
        old_meta_path = layout.registered_model_meta(name)
        rename_id = _nonce()
        started = now_ms()
        meta, current = self._model_meta(name)
        target = _with_fs(
            {**meta, "name": new_name, "last_updated_timestamp": started},
            nonce=_nonce(),
            rename_from=name,
            rename_id=rename_id,
            rename_started=started,
            renamed_to=None,
        )
        self._claim_model_name(new_name, dump_meta(target), rename_source=name)
        old_prefix = self.storage.uri(layout.registered_model_dir(name))
        new_prefix = self.storage.uri(layout.registered_model_dir(new_name))
        committed = False
        try:
            for _ in range(_RENAME_ATTEMPTS):
                self._delete_contents(new_name)
                self._copy_model_files(name, new_name, old_prefix, new_prefix)
                tombstone = _with_fs(
                    meta, renamed_to=new_name, rename_id=rename_id, rename_started=started
                )
                try:
                    self.storage.write_if_match(old_meta_path, dump_meta(tombstone), current.token)
                    committed = True
                    break
                except ConflictError:
                    meta, current = self._model_meta(name)  # changed meanwhile: copy again
            else:
                raise ConcurrentUpdateError(
                    f"Registered model {name!r} kept changing during the rename; nothing renamed"
                )
        finally:
            if not committed and not self._is_tombstone_of(name, rename_id):
                self.storage.delete_tree(layout.registered_model_dir(new_name))
        self._touch(new_name)  # drops the target's rename markers: it is committed
        self._delete_contents(name)

        def done(meta: dict[str, Any]) -> dict[str, Any]:
            return _with_fs(meta, rename_done=True) if self._ours(meta, rename_id) else meta

        # Marks the tombstone as finished, so the old name can be reused at once.
        with contextlib.suppress(ResourceDoesNotExist):
            self.storage.update(old_meta_path, lambda old: _raw_change(old, done, name))

    @staticmethod
    def _ours(meta: Mapping[str, Any], rename_id: str) -> bool:
        fs = _fs(meta)
        return bool(fs.get("renamed_to")) and fs.get("rename_id") == rename_id

    def _is_tombstone_of(self, name: str, rename_id: str) -> bool:
        """Whether our commit landed after all (an error after the request was sent)."""
        found = self._read_meta(layout.registered_model_meta(name))
        return found is not None and self._ours(found[0], rename_id)

    def _copy_model_files(self, name: str, new_name: str, old_prefix: str, new_prefix: str) -> None:
        src = layout.registered_model_dir(name)
        dst = layout.registered_model_dir(new_name)
        now = now_ms()
        for info in self.storage.walk(src):
            if info.path == layout.META:
                continue
            head, _, rest = info.path.partition("/")
            if layout.parse_version_dir_name(head) is not None and rest == layout.META:
                meta = load_meta(self.storage.read(f"{src}/{info.path}"), info.path)
                meta["name"] = new_name
                meta["last_updated_timestamp"] = now
                _move_locations(meta, old_prefix, new_prefix)
                self.storage.write(f"{dst}/{info.path}", dump_meta(meta))
            else:
                copy_file(
                    self.storage,
                    f"{src}/{info.path}",
                    self.storage,
                    f"{dst}/{info.path}",
                    info.size,
                )

    # ======================================================================================
    # model versions
    # ======================================================================================
    def _start_version(self, name: str, meta: Mapping[str, Any]) -> int:
        """First number to try: one past the hint, or past the highest directory listed."""
        hint = _fs(meta).get("last_version")
        if isinstance(hint, int) and not isinstance(hint, bool) and hint >= 0:
            return hint + 1
        dirs, _ = self.storage.list_dir(layout.registered_model_dir(name))
        numbers = [n for n in map(layout.parse_version_dir_name, dirs) if n is not None]
        return max(numbers, default=0) + 1

    def _claim_version(
        self,
        name: str,
        build: Callable[[int], dict[str, Any]],
        meta: Mapping[str, Any],
    ) -> tuple[int, dict[str, Any]]:
        """Claim the next free version number with ``build(number)``'s meta.yaml."""
        nonce = _nonce()
        number = self._start_version(name, meta)
        for _ in range(_MAX_CLAIM_PROBES):
            version_meta = _with_fs(build(number), nonce=nonce)
            path = layout.model_version_meta(name, number)
            data = dump_meta(version_meta)
            try:
                self.storage.create(path, data)
            except FileExistsError:
                number += 1  # taken (by anyone, deleted or not): the next one
                continue
            # A search right after (in this process) need not read it back.
            self._index.remember_written(path, data, functools.partial(self._parse, path, data))
            return number, version_meta
        raise InvalidState(f"Could not claim a version number for model {name!r}")

    def register_version(
        self,
        name: str,
        build: Callable[[int], dict[str, Any]],
        tags: Sequence[tuple[str, str]] = (),
        current: tuple[dict[str, Any], Versioned] | None = None,
    ) -> ModelVersion:
        """Claim a version of ``name`` whose meta.yaml is ``build(number)``, write its tags and
        bump the model. The caller has validated everything; ``current`` is the model's
        meta.yaml if the caller just read it (one request less)."""
        meta, known = current or self._model_meta(name)
        number, version_meta = self._claim_version(name, build, meta)
        for key, value in tags:
            self.storage.write(layout.model_version_tag(name, number, key), value.encode("utf-8"))

        def raise_hint(m: dict[str, Any]) -> dict[str, Any]:
            hint = _fs(m).get("last_version")
            hint = hint if isinstance(hint, int) and not isinstance(hint, bool) else 0
            return _with_fs(m, last_version=max(hint, number))

        try:
            self._touch(name, raise_hint, known)
        except ResourceDoesNotExist:
            # The model was deleted (or renamed away) while we claimed: do not leave the
            # version behind as a directory without a model.
            self.storage.delete_tree(layout.model_version_dir(name, number))
            self._drop_if_orphaned(name)
            raise
        return self._version_entity(name, number, version_meta, dict(tags), {})

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
        """MLflow's ``create_model_version``. ``locate`` is given by the layer above
        (:func:`fsregistry.uris.version_location`): it turns ``source`` into the version's
        storage location and lineage run, after the model is known to exist. Without it the
        source must already be a location, not a ``models:/`` URI."""
        validate_model_name(name)
        if not isinstance(source, str) or not source.strip():
            raise InvalidParameterValue(f"Invalid model version source {source!r}")
        if run_id is not None:
            validate_run_id(run_id)
        items = _registry_tags(tags)
        description = _optional_text(description, "description")
        run_link = _optional_text(run_link, "run_link")
        model_id = _optional_text(model_id, "model_id")
        current = self._model_meta(name)  # a missing model fails before resolving anything
        if locate is not None:
            storage_location, run_id = locate(source, run_id, model_id)
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

    def get_model_version(self, name: str, version: Any) -> ModelVersion:
        number = version_number(version)
        self._model_meta(name)
        meta = self._live_version_meta(name, number)
        tags = self._version_tags(name, number)
        return self._version_entity(name, number, meta, tags, self._aliases(name))

    def _version_tags(self, name: str, number: int) -> dict[str, str]:
        """One version's tags: one listing, and reads of the tags the index does not hold."""
        tags_dir = layout.model_version_tags(name, number)
        rel_dir = f"{layout.version_dir_name(number)}/tags"
        known: dict[str, str] = {}
        listed: list[str] = []
        for f in self.storage.walk(tags_dir):
            listed.append(f.path)
            entry = self._index.lookup(name, f"{rel_dir}/{f.path}", f.token)
            if entry is not None and isinstance(entry[1], str):
                known[f.path] = entry[1]
        missing = [key for key in listed if key not in known]
        contents = self.storage.read_many(f"{tags_dir}/{key}" for key in missing)
        for key in missing:
            raw = contents.get(f"{tags_dir}/{key}")
            if raw is not None:
                known[key] = decode_text(raw)
        return {key: known[key] for key in listed if key in known}

    def _aliases(self, name: str) -> dict[str, str]:
        base = layout.registered_model_aliases(name)
        paths = [f"{base}/{f.path}" for f in self.storage.walk(base)]
        return {
            p[len(base) + 1 :]: decode_text(raw).strip()
            for p, raw in self.storage.read_many(paths).items()
        }

    def update_model_version(
        self, name: str, version: Any, description: str | None
    ) -> ModelVersion:
        number = version_number(version)
        description = _optional_text(description, "description")
        _, known = self._model_meta(name)

        def change(meta: dict[str, Any]) -> dict[str, Any]:
            meta["description"] = description
            meta["last_updated_timestamp"] = now_ms()
            return meta

        self._update_version(name, number, change)
        self._touch(name, known=known)
        return self.get_model_version(name, number)

    def delete_model_version(self, name: str, version: Any) -> None:
        """Soft delete (``Deleted_Internal``): the number stays taken; aliases to it go."""
        number = version_number(version)
        _, known = self._model_meta(name)

        def change(meta: dict[str, Any]) -> dict[str, Any]:
            meta["current_stage"] = STAGE_DELETED_INTERNAL
            meta["last_updated_timestamp"] = now_ms()
            return meta

        self._update_version(name, number, change)
        self._remove_aliases_to(name, number)
        self._touch(name, known=known)

    def _remove_aliases_to(self, name: str, number: int) -> None:
        for alias, target in self._aliases(name).items():
            if target == str(number):
                self.storage.delete(layout.registered_model_alias(name, alias))

    def get_model_version_download_uri(self, name: str, version: Any) -> str:
        number = version_number(version)
        self._model_meta(name)
        meta = self._live_version_meta(name, number)
        location = meta.get("storage_location") or meta.get("source")
        if not location:
            raise InvalidState(f"Model version {name}/{version} records no location")
        from fsregistry.tracking.logged_models import relocate_file_uri

        return relocate_file_uri(str(location), self.storage)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        wanted = [canonical_stage(s) for s in stages] if stages else list(ALL_STAGES)
        model = self._load(name)
        return self._latest_per_stage(self._versions_of(model), wanted)

    def latest_version_number(self, name: str) -> int:
        """The highest non-deleted version (``models:/<name>/latest``): reads from the top."""
        self._model_meta(name)
        dirs, _ = self.storage.list_dir(layout.registered_model_dir(name))
        numbers = sorted(
            (n for n in map(layout.parse_version_dir_name, dirs) if n is not None), reverse=True
        )
        batch = 4
        for i in range(0, len(numbers), batch):
            chunk = numbers[i : i + batch]
            metas = self.storage.read_many(layout.model_version_meta(name, n) for n in chunk)
            for n in chunk:
                raw = metas.get(layout.model_version_meta(name, n))
                meta = None if raw is None else self._parse(layout.model_version_meta(name, n), raw)
                if meta is not None and not _is_deleted(meta):
                    return n
        raise ResourceDoesNotExist(f"No versions of model with name '{name}' found")

    def version_for_uri(self, parsed: ModelUri) -> int:
        """The version number a parsed ``models:/<name>...`` URI points at."""
        name = parsed.name
        if name is None:
            raise InvalidParameterValue(f"{parsed.uri!r} names a logged model, not a version")
        validate_model_name(name)
        if parsed.version is not None:
            return parsed.version
        if parsed.alias is not None:
            return int(self.get_model_version_by_alias(name, parsed.alias).version)
        if parsed.latest:
            return self.latest_version_number(name)
        assert parsed.stage is not None
        stage = canonical_stage(parsed.stage)
        latest = self.get_latest_versions(name, [stage])
        if not latest:
            raise ResourceDoesNotExist(
                f"No versions of model with name '{name}' and stage '{stage}' found"
            )
        return int(latest[-1].version)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[ModelVersion]:
        check_max_results(max_results, "model_versions")
        comparisons = [*parse_filter(filter_string, "model_versions"), _NOT_A_PROMPT]
        clauses = _distinct(
            effective_order(parse_order_by(order_by, "model_versions"), "model_versions")
        )
        models = self._visible_models(_pinned_names(comparisons))
        versions = [mv for m in models for mv in self._versions_of(m)]
        hits = [mv for mv in versions if matches(comparisons, _version_lookup(mv))]
        page, token = paginate(sort_rows(hits, clauses, _version_lookup), max_results, page_token)
        return PagedList(page, token)

    def set_model_version_tag(self, name: str, version: Any, key: str, value: Any) -> None:
        number = version_number(version)
        key, text = validate_tag(key, value, MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH)
        _, known = self._model_meta(name)
        self._live_version_meta(name, number)
        self._write_key_file(
            name, layout.model_version_tag(name, number, key), text.encode("utf-8"), known
        )

    def delete_model_version_tag(self, name: str, version: Any, key: str) -> None:
        number = version_number(version)
        validate_key(key, "tag key")
        _, known = self._model_meta(name)
        self._live_version_meta(name, number)
        path = layout.model_version_tag(name, number, key)
        if self.storage.exists(path):
            self.storage.delete(path)
            self._touch(name, known=known)

    # -- aliases -----------------------------------------------------------------------------
    def set_registered_model_alias(self, name: str, alias: str, version: Any) -> None:
        validate_alias(alias)
        number = version_number(version)
        _, known = self._model_meta(name)
        self._live_version_meta(name, number)
        path = layout.registered_model_alias(name, alias)
        self._write_key_file(name, path, str(number).encode("ascii"), known)
        try:
            self._live_version_meta(name, number)
        except ResourceDoesNotExist:
            # The version was deleted while we pointed the alias at it: undo ours.
            with contextlib.suppress(FileNotFoundError):
                if decode_text(self.storage.read(path)).strip() == str(number):
                    self.storage.delete(path)
            raise

    def delete_registered_model_alias(self, name: str, alias: str) -> None:
        alias = _lookup_alias(alias)
        _, known = self._model_meta(name)
        path = layout.registered_model_alias(name, alias)
        if self.storage.exists(path):
            self.storage.delete(path)
            self._touch(name, known=known)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        alias = _lookup_alias(alias)
        if alias.lower() == "latest":
            return self.get_model_version(name, self.latest_version_number(name))
        self._model_meta(name)
        try:
            raw = self.storage.read(layout.registered_model_alias(name, alias))
        except (FileNotFoundError, NotADirectoryError):
            raise InvalidParameterValue(
                f"Registered model alias {alias} not found (model {name!r})."
            ) from None
        target = decode_text(raw).strip()
        try:
            return self.get_model_version(name, target)
        except (ResourceDoesNotExist, InvalidParameterValue) as e:
            raise InvalidParameterValue(
                f"Registered model alias {alias} of model {name!r} points at version "
                f"{target!r}, which does not exist."
            ) from e

    # -- stages ------------------------------------------------------------------------------
    def transition_model_version_stage(
        self, name: str, version: Any, stage: str, archive_existing_versions: bool = False
    ) -> ModelVersion:
        stage = canonical_stage(stage)
        number = version_number(version)
        if archive_existing_versions and stage not in ACTIVE_STAGES:
            raise InvalidParameterValue(
                f"Model version transition cannot archive existing model versions because "
                f"'{stage}' is not an active stage. Valid stages are {list(ACTIVE_STAGES)}"
            )
        meta, known = self._model_meta(name)
        self._live_version_meta(name, number)
        floor = 0
        if not isinstance(_fs(meta).get("stage_seq"), int):
            # No sequence yet (new model, or MLflow rewrote the file): start above every
            # stamp a version may still carry.
            floor = max((_stamp(m) for m in self._load(name).versions.values()), default=0)
        seq: list[int] = []

        def take_seq(m: dict[str, Any]) -> dict[str, Any]:
            current = _fs(m).get("stage_seq")
            s = max(current if isinstance(current, int) else 0, floor) + 1
            seq[:] = [s]
            changes: dict[str, Any] = {"stage_seq": s}
            if archive_existing_versions:
                owners = dict(_fs(m).get("stage_owner") or {})
                owners[stage] = [s, number]
                changes["stage_owner"] = owners
            return _with_fs(m, **changes)

        self._touch(name, take_seq, known)
        s = seq[0]
        now = now_ms()

        def set_stage(
            target: str, only_if: Callable[[dict[str, Any]], bool]
        ) -> Callable[[dict[str, Any]], dict[str, Any]]:
            def change(m: dict[str, Any]) -> dict[str, Any]:
                if not only_if(m):
                    return m
                m["current_stage"] = target
                m["last_updated_timestamp"] = now
                return _with_fs(m, stage_seq=s)

            return change

        self._update_version(name, number, set_stage(stage, lambda m: _stamp(m) < s))
        if archive_existing_versions:
            model = self._scan(name).get(name)
            for other, other_meta in (model.versions if model else {}).items():
                if other == number or other_meta.get("current_stage") != stage:
                    continue

                def older_in_stage(m: dict[str, Any]) -> bool:
                    return m.get("current_stage") == stage and _stamp(m) < s

                with contextlib.suppress(ResourceDoesNotExist):
                    self._update_version(name, other, set_stage(STAGE_ARCHIVED, older_in_stage))
            owner = _fs(self._model_meta(name)[0]).get("stage_owner", {}).get(stage)
            if isinstance(owner, list) and len(owner) == 2 and owner[0] != s and owner[1] != number:
                # A later archiving transition owns the stage and may have missed ours.

                def still_ours(m: dict[str, Any]) -> bool:
                    return m.get("current_stage") == stage and _stamp(m) == s

                self._update_version(name, number, set_stage(STAGE_ARCHIVED, still_ours))
        return self.get_model_version(name, number)

    # -- copies between stores ----------------------------------------------------------------
    def import_model_version(
        self,
        name: str,
        src: ModelVersion,
        artifact_uri: str,
        provenance: Mapping[str, str],
    ) -> ModelVersion:
        """Register a copy of ``src`` (from another store) whose files, found at
        ``artifact_uri``, are copied into ``models/<name>/version-N/artifacts``.

        The version is PENDING_REGISTRATION while its files are copied, then READY (or
        FAILED_REGISTRATION with the error as status_message).
        """
        from fsregistry.storage.artifact_repo import ArtifactRepository

        validate_model_name(name)
        items = _registry_tags({**src.tags, **provenance})
        source_repo = ArtifactRepository(artifact_uri)
        files = source_repo.storage.walk("")
        if not files:
            raise ResourceDoesNotExist(f"No model files found at {artifact_uri!r}")
        now = now_ms()

        def build(number: int) -> dict[str, Any]:
            location = self.storage.uri(layout.model_version_artifacts(name, number))
            meta: dict[str, Any] = {
                "name": name,
                "version": number,
                "creation_timestamp": now,
                "last_updated_timestamp": now,
                "description": src.description,
                "user_id": None,
                "current_stage": STAGE_NONE,
                "source": location,
                "storage_location": location,
                "run_id": src.run_id,
                "run_link": src.run_link,
                "status": ModelVersionStatus.PENDING_REGISTRATION,
                "status_message": None,
            }
            if src.model_id is not None:
                meta["model_id"] = src.model_id
            return meta

        mv = self.register_version(name, build, items)
        number = int(mv.version)
        dst = layout.model_version_artifacts(name, number)
        status, message = ModelVersionStatus.READY, None
        try:
            for info in files:
                if info.path == "registered_model_meta":
                    continue  # MLflow 2's download side effect names the source model
                copy_file(
                    source_repo.storage, info.path, self.storage, f"{dst}/{info.path}", info.size
                )
        except BaseException as e:
            status, message = ModelVersionStatus.FAILED_REGISTRATION, f"Copy failed: {e}"
            raise
        finally:

            def done(m: dict[str, Any]) -> dict[str, Any]:
                m["status"] = status
                m["status_message"] = message
                return m

            self._update_version(name, number, done)
        return self.get_model_version(name, number)


# ==========================================================================================
# module helpers
# ==========================================================================================
def _raw_change(
    old: bytes | None, change: Callable[[dict[str, Any]], dict[str, Any]], name: str
) -> bytes:
    if old is None:
        raise ResourceDoesNotExist(f"Registered Model with name={name} not found")
    return dump_meta(change(load_meta(old, name)))


def _version_not_found(name: str, number: int) -> ResourceDoesNotExist:
    return ResourceDoesNotExist(f"Model Version (name={name}, version={number}) not found")


def _move_locations(meta: dict[str, Any], old_prefix: str, new_prefix: str) -> None:
    """Point ``source``/``storage_location`` inside the old model directory at the new one."""
    for key in ("source", "storage_location"):
        value = meta.get(key)
        if isinstance(value, str) and (value == old_prefix or value.startswith(old_prefix + "/")):
            meta[key] = new_prefix + value[len(old_prefix) :]


def copy_file(src: Storage, src_path: str, dst: Storage, dst_path: str, size: int) -> None:
    """Copy one file between storages (through a temp file when it is large)."""
    if size <= _IN_MEMORY_COPY_BYTES:
        dst.write(dst_path, src.read(src_path))
        return
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix="fsreg-copy-")
    os.close(fd)
    try:
        src.get_file(src_path, tmp)
        dst.put_file(tmp, dst_path)
    finally:
        os.unlink(tmp)


def _distinct(clauses: Sequence[OrderClause]) -> list[OrderClause]:
    """``clauses`` without repeats of a key already sorted on (the tie-breakers repeat the
    default order): rows equal on a key are equal on it again, whatever the direction."""
    seen: set[tuple[str, str]] = set()
    out = []
    for clause in clauses:
        if (clause.entity, clause.key) not in seen:
            seen.add((clause.entity, clause.key))
            out.append(clause)
    return out


def _pinned_names(comparisons: Iterable[Comparison]) -> set[str] | None:
    """The only model names a filter can match (``name = 'x'``, ``name IN (...)``), or None
    when it does not pin them; a search then reads those models alone."""
    names: set[str] | None = None
    for c in comparisons:
        if c.entity != ATTRIBUTE or c.key != "name":
            continue
        if c.op == "=" and isinstance(c.value, str):
            allowed = {c.value}
        elif c.op == "IN" and isinstance(c.value, tuple):
            allowed = set(c.value)
        else:
            continue
        names = allowed if names is None else names & allowed
    return names


def _model_lookup(model: RegisteredModel) -> Callable[[str, str], Any]:
    def lookup(entity: str, key: str) -> Any:
        if entity == TAG:
            return model.tags.get(key)
        return getattr(model, key, None) if key in _MODEL_ATTRS else None

    return lookup


_MODEL_ATTRS = frozenset({"name", "creation_timestamp", "last_updated_timestamp"})


def _version_lookup(mv: ModelVersion) -> Callable[[str, str], Any]:
    def lookup(entity: str, key: str) -> Any:
        if entity == TAG:
            return mv.tags.get(key)
        if key == "version_number":
            return int(mv.version)
        if key == "source_path":
            return mv.source
        if key in ("name", "run_id", "creation_timestamp", "last_updated_timestamp"):
            return getattr(mv, key)
        return None

    return lookup


__all__ = ["FSREG_KEY", "RegistryStore", "copy_file", "version_number"]
