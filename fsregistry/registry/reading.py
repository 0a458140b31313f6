"""Reading the registry: its MLflow-layout files, listed and decoded, through the registry index.

A read lists the files it needs once and takes each file's decoded content from the registry
index (:mod:`fsregistry.registry.model_index`) while the listing reports the same change
token for it, reading only the others: the MLflow-layout files stay the only source of truth,
whoever wrote them. A model is read whole (:meth:`RegistryFiles.scan`: its meta.yaml, tags,
aliases, every version's meta.yaml and tags, deleted versions included) into a
:class:`ModelFiles`; staging directories and copied artifacts are never listed.

Listing registered models on local disk checks a model the index knows with one directory
listing and one stat per version, and reads version tags only for the latest versions shown
(:meth:`RegistryFiles.scan_without_version_tags`).

Which directories are registered models: MLflow lists every directory under ``models/`` as
one, and so does fsregistry, except those the object-store rename markers hide
(:meth:`RegistryFiles.is_visible`; the protocol is in :mod:`fsregistry.registry.rename`).
Models are always named by their directory, whatever a stale meta.yaml says.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import MalformedMetaFile, decode_text, load_meta
from fsregistry.mlruns.validation import validate_model_name
from fsregistry.registry.fields import bookkeeping, is_deleted, version_not_found
from fsregistry.registry.model_index import SHARD_PREFIX, ListedFile, RegistryIndex, shard_name
from fsregistry.storage import Storage, Versioned


class MetaFile(NamedTuple):
    """A meta.yaml as read: its content, and the bytes and token it was read at (what a
    compare-and-swap needs to skip a read)."""

    meta: dict[str, Any]
    current: Versioned


@dataclass
class ModelFiles:
    """One registered model as read from the store (deleted versions included)."""

    name: str
    meta: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # alias -> version text
    versions: dict[int, dict[str, Any]] = field(default_factory=dict)
    # None: not listed (``scan_without_version_tags``); ``version_tags`` reads them
    version_tags: dict[int, dict[str, str]] | None = field(default_factory=dict)

    def live_versions(self) -> dict[int, dict[str, Any]]:
        return {v: m for v, m in self.versions.items() if not is_deleted(m)}


class RegistryFiles:
    """Reads one store's registry files (see the module docstring); every other part of the
    registry store reads through it, so they share one registry index."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.index = RegistryIndex(storage, self.decode)
        self._absent = threading.local()  # see ``pinned``

    # -- single files -------------------------------------------------------------------------
    def parse(self, path: str, raw: bytes) -> dict[str, Any] | None:
        """A meta.yaml's content, or None if it is malformed."""
        try:
            return load_meta(raw, path)  # the message names no URI: it is never shown
        except MalformedMetaFile:
            return None

    def read_meta(self, path: str) -> MetaFile | None:
        """The meta.yaml at ``path``, or None if it is missing or malformed."""
        try:
            current = self.storage.read_versioned(path)
        except FileNotFoundError:
            return None
        meta = self.parse(path, current.data)
        return None if meta is None else MetaFile(meta, current)

    def partner_meta(self, name: str) -> dict[str, Any] | None:
        found = self.read_meta(layout.registered_model_meta(name))
        return None if found is None else found.meta

    def is_visible(
        self, name: str, meta: Mapping[str, Any], partner: Callable[[str], Any] | None = None
    ) -> bool:
        """Whether ``models/<name>`` with this meta.yaml is a registered model (rename markers:
        a tombstone is not; a rename target is once its source acknowledges it)."""
        fs = bookkeeping(meta)
        if fs.get("renamed_to"):
            return False  # a tombstone: renamed away
        source = fs.get("rename_from")
        if source:
            other = (partner or self.partner_meta)(str(source))
            other_fs = bookkeeping(other) if isinstance(other, Mapping) else {}
            return other_fs.get("renamed_to") == name and other_fs.get("rename_id") == fs.get(
                "rename_id"
            )
        return True

    @contextlib.contextmanager
    def pinned(self, name: str, *, exclusive: bool = False) -> Iterator[None]:
        """Keep ``models/<name>`` the same model directory for the whole of a write (shared),
        or keep writers out of it while a rename or delete moves it (exclusive); the
        protocol is in :mod:`fsregistry.registry.rename`. Local disk only: elsewhere it holds
        nothing. When there is no model directory at the name, the name means no model until
        the block ends (:meth:`model_meta` says not found), even if one appears meanwhile:
        nothing would keep that one in place."""
        validate_model_name(name)
        with self.storage.hold_dir(
            layout.registered_model_dir(name),
            exclusive=exclusive,
            require=layout.META,
            what=f"registered model {name!r}",
        ) as present:
            if present:
                yield
                return
            absent = self._absent_here()
            absent[name] = absent.get(name, 0) + 1
            try:
                yield
            finally:
                absent[name] -= 1
                if not absent[name]:
                    del absent[name]

    def _absent_here(self) -> dict[str, int]:
        """The names this thread holds as naming no model (see :meth:`pinned`)."""
        found: dict[str, int] | None = getattr(self._absent, "names", None)
        if found is None:
            found = self._absent.names = {}
        return found

    def model_meta(self, name: str) -> MetaFile:
        """Meta and version token of the visible registered model ``name``, or not found."""
        validate_model_name(name)
        if name in self._absent_here():
            raise ResourceDoesNotExist(f"Registered Model with name={name} not found")
        found = self.read_meta(layout.registered_model_meta(name))
        if found is None or not self.is_visible(name, found.meta):
            raise ResourceDoesNotExist(f"Registered Model with name={name} not found")
        return found

    def live_version_meta(self, name: str, number: int) -> dict[str, Any]:
        """A version's meta.yaml, or not found if it is missing or deleted."""
        found = self.read_meta(layout.model_version_meta(name, number))
        if found is None or is_deleted(found.meta):
            raise version_not_found(name, number)
        return found.meta

    def decode(self, path: str, raw: bytes) -> Any:
        """A listed file's content: a meta.yaml parsed (None if malformed), else its text."""
        rel = path.split("/", 2)[2]  # models/<name>/<rel>; model names hold no "/"
        head, _, rest = rel.partition("/")
        if rel == layout.META or (
            rest == layout.META and layout.parse_version_dir_name(head) is not None
        ):
            return self.parse(path, raw)
        return decode_text(raw)

    # -- whole models -------------------------------------------------------------------------
    def scan(self, name: str | None) -> dict[str, ModelFiles]:
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
            files = self.walk_model(name)
            models = {name}
        contents = self.index.contents(
            files, models, listed_at, complete=name is None, shard_tokens=shard_tokens
        )
        return _assemble(files, contents)

    def walk_model(self, name: str) -> list[ListedFile]:
        base = layout.registered_model_dir(name)
        return [
            ListedFile(name, f.path, f.token, f.mtime)
            for f in self.storage.walk(base, _prune_model_dir)
            if _is_model_file(f.path)
        ]

    def scan_without_version_tags(self, names: list[str] | None = None) -> dict[str, ModelFiles]:
        """All models (or those of ``names``), their version tags left out (``version_tags``
        reads them when needed): what listing registered models needs.

        On local disk, where a stat is a system call, a model whose meta.yaml files the index
        holds at their current tokens is checked with one listing of its directory and one
        stat per version instead of one listing per version directory; a model with any other
        file (or a stale one) is listed and read in full, as ``scan`` does."""
        if names is not None:
            for name in names:
                validate_model_name(name)
        if not self.storage.capabilities.cheap_stat:
            if names is None:
                return self.scan(None)
            return {n: m for name in names for n, m in self.scan(name).items()}
        if names is None:
            dirs, top = self.storage.list_dir(layout.MODELS)
            shards = {n for n in top if n.startswith(SHARD_PREFIX)}
            self.index.load_shards(shards, None)
            if sum(1 for d in dirs if self.index.knows(d)) <= len(dirs) // 2:
                return self.scan(None)  # mostly unknown (a first look): one listing is cheaper
        else:
            dirs = list(names)
            self.index.load_shards({shard_name(n) for n in dirs}, None)
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
            cached = [self.index.lookup(model, f.rel, f.token) for f in files]
            if all(entry is not None for entry in cached):
                for f, entry in zip(files, cached, strict=True):
                    contents[(model, f.rel)] = entry.value if entry is not None else None
                found.extend(files)
                checked.add(model)
            else:
                unknown.append(model)
        if unknown:
            # Something new or changed: those models are listed and read in full.
            listed_at = time.time()
            walked = [f for model in unknown for f in self.walk_model(model)]
            contents.update(self.index.contents(walked, unknown, listed_at))
            found.extend(walked)
        models = _assemble(found, contents)
        for name in checked & models.keys():
            models[name].version_tags = None  # not listed: read for the versions shown
        return models

    def read_versions(
        self, name: str, numbers: Iterable[int]
    ) -> dict[int, tuple[dict[str, Any], dict[str, str]]]:
        """Some live versions of one model, ``{number: (meta, tags)}`` (gone or deleted ones
        left out): where a stat is a system call, a stat of each version's meta.yaml and a
        listing of its tags directory (the only files of a version directory the registry
        reads), else one listing of the model's files; decoded files from the index at their
        listed tokens, the others read in one bulk read (and not recorded: the index records
        whole models)."""
        base = layout.registered_model_dir(name)
        wanted = {layout.version_dir_name(n) for n in numbers}
        if self.storage.capabilities.cheap_stat:
            dirs = sorted(wanted)
            tokens = self.storage.tokens(f"{base}/{d}/{layout.META}" for d in dirs)
            files = []
            for d in dirs:
                token = tokens.get(f"{base}/{d}/{layout.META}")
                if token is not None:
                    files.append(ListedFile(name, f"{d}/{layout.META}", token, None))
                files.extend(
                    ListedFile(name, f"{d}/tags/{f.path}", f.token, f.mtime)
                    for f in self.storage.walk(f"{base}/{d}/tags")
                )
        else:
            files = [f for f in self.walk_model(name) if f.rel.partition("/")[0] in wanted]
        files = [f for f in files if _is_model_file(f.rel)]
        contents: dict[str, Any] = {}
        missing: list[ListedFile] = []
        for f in files:
            entry = self.index.lookup(name, f.rel, f.token)
            if entry is None:
                missing.append(f)
            else:
                contents[f.rel] = entry.value
        if missing:
            raw = self.storage.read_many(f.path for f in missing)
            for f in missing:
                if f.path in raw:
                    contents[f.rel] = self.decode(f.path, raw[f.path])
        metas: dict[int, dict[str, Any]] = {}
        tags: dict[int, dict[str, str]] = {}
        for f in files:
            value = contents.get(f.rel)
            head, _, rest = f.rel.partition("/")
            number = layout.parse_version_dir_name(head)
            if value is None or number is None:
                continue
            if rest == layout.META:
                if isinstance(value, dict) and not is_deleted(value):
                    metas[number] = value
            else:
                tags.setdefault(number, {})[rest.partition("/")[2]] = value
        return {n: (meta, tags.get(n, {})) for n, meta in metas.items()}

    def load(self, name: str, version_tags: bool = True) -> ModelFiles:
        """The visible registered model ``name`` read whole (``version_tags=False``: its
        version tags may be left unread, as :meth:`scan_without_version_tags` does), or not
        found."""
        validate_model_name(name)
        scanned = self.scan(name) if version_tags else self.scan_without_version_tags([name])
        model = scanned.get(name)
        if model is None or not self.is_visible(name, model.meta):
            raise ResourceDoesNotExist(f"Registered Model with name={name} not found")
        return model

    def visible_models(
        self, names: Iterable[str] | None = None, version_tags: bool = True
    ) -> list[ModelFiles]:
        """The registered models readers see: all, or those of ``names`` (invalid names are
        simply not models); ``version_tags=False`` may leave version tags unread."""
        if names is None:
            models = self.scan(None) if version_tags else self.scan_without_version_tags()
        else:
            models = {}
            for name in names:
                with contextlib.suppress(InvalidParameterValue):
                    models.update(self.scan(validate_model_name(name)))

        def partner(other: str) -> Any:
            entry = models.get(other)
            return entry.meta if entry is not None else self.partner_meta(other)

        return [m for n, m in sorted(models.items()) if self.is_visible(n, m.meta, partner)]

    # -- tags and aliases ---------------------------------------------------------------------
    def version_tags(self, name: str, number: int) -> dict[str, str]:
        """One version's tags: one listing, and reads of the tags the index does not hold."""
        tags_dir = layout.model_version_tags(name, number)
        rel_dir = f"{layout.version_dir_name(number)}/tags"
        known: dict[str, str] = {}
        listed: list[str] = []
        for f in self.storage.walk(tags_dir):
            listed.append(f.path)
            entry = self.index.lookup(name, f"{rel_dir}/{f.path}", f.token)
            if entry is not None and isinstance(entry.value, str):
                known[f.path] = entry.value
        missing = [key for key in listed if key not in known]
        contents = self.storage.read_many(f"{tags_dir}/{key}" for key in missing)
        for key in missing:
            raw = contents.get(f"{tags_dir}/{key}")
            if raw is not None:
                known[key] = decode_text(raw)
        return {key: known[key] for key in listed if key in known}

    def aliases(self, name: str) -> dict[str, str]:
        """A model's aliases, ``{alias: version text}``."""
        base = layout.registered_model_aliases(name)
        paths = [f"{base}/{f.path}" for f in self.storage.walk(base)]
        return {
            p[len(base) + 1 :]: decode_text(raw).strip()
            for p, raw in self.storage.read_many(paths).items()
        }


# -- which files a model's listing holds ------------------------------------------------------
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


def _prune_models_root(rel: str) -> bool:
    _, _, rest = rel.partition("/")
    return bool(rest) and _prune_model_dir(rest)


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
) -> dict[str, ModelFiles]:
    """Models from their listed files' decoded contents (a model needs its meta.yaml)."""
    files = list(files)
    out: dict[str, ModelFiles] = {}
    for f in files:
        if f.rel == layout.META:
            meta = contents.get((f.model, f.rel))
            if isinstance(meta, dict):
                out[f.model] = ModelFiles(f.model, meta)
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


__all__ = ["MetaFile", "ModelFiles", "RegistryFiles"]
