"""Decoded registry files, so a registry search need not read and parse every file.

Never the source of truth: the MLflow-layout files under ``models/`` are. Every decoded file
(a ``meta.yaml`` parsed, a tag or alias file as text) is kept with the change token the
listing reported for it (local: size, mtime in ns and inode; S3: ETag; GCS: generation), and
is used only while a fresh listing reports that same token for that same path. Any write, by
fsregistry, MLflow, an older fsregistry or a text editor, changes the token, so the file is
read again; a file that disappeared is not listed, so it is not used.

Where decoded files live:

- in memory, per store object (one per store URI and process, ``config.registry_store``);
- in hidden shard files ``models/.fsreg-registry-index-<x>`` (16 at most, models spread by a
  hash of their name), on local disk and object stores alike, so a fresh process (``fsreg ls
  models``) reads a few JSON files instead of one YAML file per version. MLflow lists only
  the directories of ``models/`` as registered models, so it never sees them, and model
  names cannot start with a dot, so no model can collide with them. A shard that is
  unreadable (or of another format) is ignored and rebuilt by the next write.

Which shards a search reads: on local disk, those of the models listed (their tokens come
with the listing or cost a stat each; a shard is read again only when its token changed).
On an object store, where each costs a GET, only those of models with a listed file this
process does not hold at its token: a fresh process's search costs the listing (one LIST
per 1,000 keys), at most 16 shard GETs and one GET per file changed since the shards were
written; a repeated search in a process where nothing changed lists and reads nothing else.
A shard wanted without a listing of it (a search of one model by name) is read with one GET,
which gives its bytes and token together.
A shard holds a header line, then one line per model (its name as JSON, a tab, its JSON),
decoded only when that model is looked up: a search of a few models (``name LIKE
'team-a-%'``) decodes those, not every model sharing their shards, and rewriting a shard
copies the lines of the models it does not change.

Who writes shards: a reader that had to read files anyway (a tree written by MLflow, by
hand, by an older fsregistry, or changed since the shards were written) records what it
decoded, one conditional update per shard touched (``Storage.update``: a compare-and-swap,
S3 ``If-Match`` / GCS ``ifGenerationMatch``, so concurrent readers merge rather than lose
each other's records). On an object store a shard this search read is replaced with a
single conditional PUT at the version read, and one its listing showed absent is created
with a single if-absent PUT (a lost race falls back to read-modify-write), so recording
costs one request per shard. When a search on an object store writes none:

- it read no file the shard lacks: entries of files replaced or deleted since, and models
  deleted, cost bytes, not requests, and stay until the shard is next written; a search
  that read nothing (nothing changed) therefore writes nothing, in this process or the next;
- once the store refused a write for good (read-only credentials, no bucket, no
  compare-and-swap), for the rest of the process: each later search would pay a refused
  request; a store opened read-only never tries. Its searches still read the shards.

Recording even a single changed file is worth it: the write is paid once, and every later
fresh process saves the file's GET (deferring it until more files change would make every
cold search pay that GET meanwhile). Writers add nothing to their own requests. A process that
creates a version remembers the meta.yaml it wrote (local disk only, where the change token
costs one stat; on an object store its token would cost a HEAD and the check a GET), so its
own searches right after need not read it back; elsewhere the next reader records it.

Guards that keep a cached answer from hiding a change:
- a backend whose listing gives no change token never uses the cache;
- a file modified less than ``fsregistry.storage.RACY_SECONDS`` before the listing is read,
  but never cached: a second same-size in-place write within the filesystem's clock tick
  would keep the token unchanged (the run index's rule, git's "racy" files). Local disk
  only: object stores give no mtime with their tokens, and whatever a write's timing an
  ETag (a digest of the bytes) changes with the bytes, a generation with every write;
- the version meta.yaml a writer remembers is read back and compared with what it wrote right
  after taking its token, so a replacement by another process in between is never attributed
  to our bytes. What it could miss is a same-size in-place rewrite by another program within
  one clock tick of the creation (fsregistry itself always replaces files, which changes the
  inode), the same residual the run index accepts for ``end_run``.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, NamedTuple

from fsregistry.exceptions import (
    ConcurrentUpdateError,
    InvalidParameterValue,
    StorageError,
    StoragePermissionDenied,
    StoreMissing,
    UnsupportedOperation,
)
from fsregistry.mlruns import layout
from fsregistry.storage import ConflictError, Storage, Versioned
from fsregistry.storage import is_racy as _is_racy_mtime

SHARD_PREFIX = ".fsreg-registry-index-"
SHARDS = 16
_FORMAT = 3  # a header line, then a line per model
_HEADER = b'{"format":%d}' % _FORMAT


class Entry(NamedTuple):
    """One decoded file: its content and the change token it was decoded at."""

    token: str
    value: Any


def _debug(message: str, *args: Any) -> None:
    # A failure here only costs speed: logged for whoever asks, never raised. logging loads
    # only then (~10 ms that ``fsreg ls models`` does not need).
    import logging

    logging.getLogger(__name__).debug(message, *args)


def shard_name(model: str) -> str:
    """The shard file (in ``models/``) holding ``model``'s decoded files."""
    return f"{SHARD_PREFIX}{zlib.crc32(model.encode('utf-8')) % SHARDS:x}"


def shard_path(shard: str) -> str:
    return f"{layout.MODELS}/{shard}"


class ListedFile(NamedTuple):
    """One file of a model as a listing reported it; ``rel`` is relative to ``models/<model>``."""

    model: str
    rel: str
    token: str
    mtime: float | None

    @property
    def path(self) -> str:
        return f"{layout.MODELS}/{self.model}/{self.rel}"


def is_racy(file: ListedFile, listed_at: float) -> bool:
    return _is_racy_mtime(file.mtime, listed_at)


def is_plain(value: Any) -> bool:
    """Whether ``value`` survives a JSON round trip unchanged (PyYAML can also give dates,
    bytes, sets and non-string keys, which are then kept in memory only)."""
    if type(value) is dict and _EXACT_KEYS.issuperset(map(type, value)):
        # The usual meta.yaml: str keys, scalar values (checked without a Python-level loop)
        # and maybe a block of them.
        values = value.values()
        return _EXACT_SCALARS.issuperset(map(type, values)) or all(map(is_plain, values))
    if value is None or isinstance(value, _SCALARS):
        return True
    if isinstance(value, list):
        return all(is_plain(v) for v in value)
    if isinstance(value, dict):
        # A loop, not a generator per dict: a first reader checks every meta.yaml it parsed.
        for k, v in value.items():
            if not isinstance(k, str):
                return False
            if v is not None and not isinstance(v, _SCALARS) and not is_plain(v):
                return False
        return True
    return False


_SCALARS = (str, bool, int, float)
_EXACT_SCALARS = frozenset({str, bool, int, float, type(None)})
_EXACT_KEYS = frozenset({str})


class RegistryIndex:
    """One store's decoded registry files (see the module docstring)."""

    def __init__(self, storage: Storage, decode: Callable[[str, bytes], Any]) -> None:
        self.storage = storage
        self._decode = decode  # (store-relative path, bytes) -> decoded content
        caps = storage.capabilities
        self._cheap_stat = caps.cheap_stat
        # Shards are read wherever the store is; written where a compare-and-swap keeps
        # concurrent readers from losing each other's records.
        self._writes_shards = caps.compare_and_swap and not caps.read_only
        self._memory: dict[str, dict[str, Entry]] = {}  # model -> rel -> entry
        # What the shards hold, as last read: a model's line stays undecoded until looked up.
        self._stored: dict[str, StoredModel | bytes] = {}
        self._shard_tokens: dict[str, str] = {}  # shard -> token of the version read
        self._damaged: set[str] = set()  # shards found unreadable: rewritten by the next write
        self._lock = threading.Lock()

    # -- reading ------------------------------------------------------------------------------
    def contents(
        self,
        files: Sequence[ListedFile],
        models: Collection[str],
        listed_at: float,
        *,
        complete: bool = False,
        shard_tokens: Mapping[str, str] | None = None,
    ) -> dict[tuple[str, str], Any]:
        """Decoded content of each listed file, ``{(model, rel): content}``; files gone since
        the listing are left out.

        ``files`` must be everything listed for ``models`` (one listing taken at
        ``listed_at``); ``complete``: ``models`` are all the models there are.
        ``shard_tokens``: the shard files' tokens when the listing covered them.
        """
        loaded: dict[str, Versioned | None] = {}  # shards as read now (None: absent)
        if self._cheap_stat:
            # Local disk: the shards' tokens came with the listing or cost a stat each.
            shards = {shard_name(m) for m in models}
            if complete and shard_tokens is not None:
                shards.update(shard_tokens)  # shards of deleted models are cleaned up too
            self.load_shards(shards, shard_tokens)
        found: dict[tuple[str, str], Any] = {}
        kept: dict[str, dict[str, Entry]] = {m: {} for m in models}
        missing = self._look_up(files, found, kept)
        if missing and not self._cheap_stat:
            # Object stores: a shard costs a GET, so only those of models this process lacks
            # files of are read (none when nothing changed since this process last looked).
            wanted = {shard_name(f.model) for f in missing}
            loaded.update(self.load_shards(wanted, shard_tokens))
            if shard_tokens is not None:  # the listing says these do not exist
                loaded.update((s, None) for s in wanted if s not in shard_tokens)
            missing = self._look_up(missing, found, kept)
        if missing:
            contents = self.storage.read_many(f.path for f in missing)
            for f in missing:
                raw = contents.get(f.path)
                if raw is None:
                    continue  # gone since the listing
                value = found[(f.model, f.rel)] = self._decode(f.path, raw)
                if f.token and not is_racy(f, listed_at):
                    kept.setdefault(f.model, {})[f.rel] = Entry(f.token, value)
        with self._lock:
            if complete:
                self._memory = kept
            else:
                self._memory.update(kept)
        if self._writes_shards:
            racy = {(f.model, f.rel) for f in files if is_racy(f, listed_at)}
            read = {f.model for f in missing if f.rel in kept.get(f.model, {})}
            fresh = {
                m: {r: e for r, e in entries.items() if (m, r) not in racy}
                for m, entries in kept.items()
            }
            self._persist(fresh, read, complete, loaded)
        return found

    def _look_up(
        self,
        files: Sequence[ListedFile],
        found: dict[tuple[str, str], Any],
        kept: dict[str, dict[str, Entry]],
    ) -> list[ListedFile]:
        """Put into ``found`` and ``kept`` the files held at their listed token; the others."""
        missing: list[ListedFile] = []
        for f in files:
            entry = self.lookup(f.model, f.rel, f.token)
            if entry is None:
                missing.append(f)
            else:
                found[(f.model, f.rel)] = entry.value
                kept.setdefault(f.model, {})[f.rel] = entry
        return missing

    def lookup(self, model: str, rel: str, token: str) -> Entry | None:
        """What this process or the shards hold for a file at this token (shards as last
        loaded), or None."""
        if not token:
            return None
        entry = self._memory.get(model, {}).get(rel)
        if entry is not None and entry.token == token:
            return entry
        stored = self._stored_model(model)
        entry = None if stored is None else stored.entry(rel, token)
        if entry is not None:
            self._memory.setdefault(model, {})[rel] = entry  # decoded once per process
        return entry

    def knows(self, model: str) -> bool:
        """Whether this process or the shards hold anything of ``model``."""
        return bool(self._memory.get(model)) or model in self._stored

    def _stored_model(self, model: str) -> StoredModel | None:
        """What the shards hold for ``model``, decoded on first use (a malformed line holds
        nothing)."""
        held = self._stored.get(model)
        if held is None or isinstance(held, StoredModel):
            return held
        decoded = _decode_model(held)
        with self._lock:
            if self._stored.get(model) is held:
                if decoded is None:
                    del self._stored[model]
                else:
                    self._stored[model] = decoded
        return decoded

    def remember_written(self, path: str, data: bytes, decoded: Callable[[], Any]) -> None:
        """Remember a file this process just wrote with ``data`` (``decoded()`` gives its
        content), where its token costs a stat; a file someone else replaced meanwhile is not
        remembered (its bytes differ: ours carry a nonce)."""
        if not self.storage.capabilities.cheap_stat:
            return
        model, _, rel = path[len(layout.MODELS) + 1 :].partition("/")
        token = self.storage.tokens([path]).get(path)
        if not token:
            return
        try:
            if self.storage.read(path) != data:
                return
        except FileNotFoundError:
            return
        entry = Entry(token, decoded())
        with self._lock:
            # In place, not copied: registering must not cost more as versions accumulate.
            self._memory.setdefault(model, {})[rel] = entry

    # -- keeping ------------------------------------------------------------------------------
    def load_shards(
        self, shards: Collection[str], known: Mapping[str, str] | None
    ) -> dict[str, Versioned]:
        """Read the shards that changed since this process last read them; return what was
        read, ``{shard: (bytes, token)}``, so that a write can replace just that version.

        ``known``: the shard files' tokens, when a listing gave them; else they are asked for
        (local disk: a stat each), or, on object stores, the shards are read at once (one GET
        each gives their bytes and token: a HEAD first would cost as much).
        """
        if not shards:
            return {}
        contents: dict[str, bytes] = {}
        if known is None and not self._cheap_stat:
            read: dict[str, str] = {}
            for shard in sorted(shards):
                try:
                    got = self.storage.read_versioned(shard_path(shard))
                except FileNotFoundError:
                    continue
                contents[shard_path(shard)] = got.data
                read[shard] = got.token
            known = read
            changed = [s for s in shards if s in read or s in self._shard_tokens]
        else:
            if known is None:
                tokens = self.storage.tokens(shard_path(s) for s in sorted(shards))
                known = {p.rpartition("/")[2]: t for p, t in tokens.items()}
            changed = [
                s for s in shards if not known.get(s) or self._shard_tokens.get(s) != known[s]
            ]
            changed = [s for s in changed if known.get(s) or s in self._shard_tokens]
            present = [shard_path(s) for s in changed if known.get(s)]
            contents = self.storage.read_many(present) if present else {}
        if not changed:
            return {}
        with self._lock:
            by_shard: dict[str, list[str]] = {}
            for model in self._stored:
                by_shard.setdefault(shard_name(model), []).append(model)
            for shard in changed:
                raw = contents.get(shard_path(shard))
                doc = _decode_shard(raw, shard)
                if doc is None:
                    self._damaged.add(shard)
                    doc = {}
                else:
                    self._damaged.discard(shard)
                for model in by_shard.get(shard, []):
                    if model not in doc:
                        del self._stored[model]
                self._stored.update(doc)
                if raw is not None:
                    self._shard_tokens[shard] = known[shard]
                else:
                    self._shard_tokens.pop(shard, None)
        return {
            s: Versioned(contents[shard_path(s)], known[s])
            for s in changed
            if shard_path(s) in contents
        }

    def _persist(
        self,
        fresh: Mapping[str, dict[str, Entry]],
        read: Collection[str],
        complete: bool,
        loaded: Mapping[str, Versioned | None],
    ) -> None:
        """Write into the shards the models whose files had to be read (``read``: the next
        process need not read them again) or whose shard entry went stale; best effort: a
        failure costs speed, never an answer.

        A model served entirely from memory is left alone even where its shard lacks some of
        it (files still racy when last read, versions this process created): rewriting a
        large model's shard on every search would cost more than it saves; the next reader
        that has to read them records them.

        On object stores a shard is written only when it was found unreadable or records a
        file it lacked (see the module docstring); one this search read, or whose absence
        its listing showed, with a single conditional PUT, any other by an update (a GET and
        a PUT)."""
        dirty: dict[str, dict[str, dict[str, Entry] | None]] = {}
        gain: dict[str, int] = {}  # shard -> files it will hold that it did not hold
        for model, entries in fresh.items():
            stored = self._stored_model(model)
            held = stored.tokens() if stored is not None else {}
            stale = any(_token_at(entries, rel) != token for rel, token in held.items())
            if not stale and model not in read:
                continue
            # What a shard holds came from JSON: only new entries need the (slow) check.
            plain = {
                rel: e
                for rel, e in entries.items()
                if held.get(rel) == e.token or is_plain(e.value)
            }
            if held != _tokens(plain):
                shard = shard_name(model)
                dirty.setdefault(shard, {})[model] = plain or None
                new = sum(1 for rel, e in plain.items() if held.get(rel) != e.token)
                gain[shard] = gain.get(shard, 0) + new
        if complete:
            with self._lock:
                known = list(self._stored)
            for model in known:
                if model not in fresh:
                    dirty.setdefault(shard_name(model), {})[model] = None
        for shard, changes in sorted(dirty.items()):
            if not (self._cheap_stat or shard in self._damaged or gain.get(shard)):
                continue  # stale or gone entries only: they cost bytes, not requests
            path = shard_path(shard)

            def merge(
                old: bytes | None,
                changes: dict[str, dict[str, Entry] | None] = changes,
                shard: str = shard,
            ) -> bytes:
                doc = _decode_shard(old, shard) or {}  # lines of models left alone are copied
                for model, entries in changes.items():
                    if entries is None:
                        doc.pop(model, None)
                    else:
                        doc[model] = _encode_model(entries)
                if complete:
                    doc = {m: e for m, e in doc.items() if m in fresh}
                return _encode_shard(doc)

            try:
                self._write_shard(path, merge, shard in loaded, loaded.get(shard))
            except _REFUSED as e:
                _debug("Not writing registry index %s any more: %s", self.storage.uri(path), e)
                self._writes_shards = False  # each later search would pay for a refusal
                return
            except _FAILED as e:
                _debug("Could not update registry index %s: %s", self.storage.uri(path), e)
                continue
            with self._lock:
                self._shard_tokens.pop(shard, None)  # read back next time: others may write too
                self._damaged.discard(shard)
                for model, written in changes.items():  # what the shard now holds of them
                    if written is None:
                        self._stored.pop(model, None)
                    else:
                        self._stored[model] = _encode_model(written)  # decoded when used

    def _write_shard(
        self,
        path: str,
        merge: Callable[[bytes | None], bytes],
        known: bool,
        read: Versioned | None,
    ) -> None:
        """Replace the shard at ``path`` with ``merge(old)``. ``known``: this search read it
        (``read``) or its listing showed none: one conditional PUT (at that version, or
        if-absent) while that still holds, else a read-modify-write."""
        if known:
            try:
                if read is None:
                    self.storage.write_if_match(path, merge(None), None)
                else:
                    self.storage.write_if_match(path, merge(read.data), read.token)
                return
            except ConflictError:
                pass  # written by another reader since: merge into the newer version
        self.storage.update(path, merge)


# A shard write refused for good (read-only credentials, no bucket, no compare-and-swap), or
# failed this once (throttled, lost to other writers, a directory at the shard's path).
_REFUSED = (StoragePermissionDenied, StoreMissing, UnsupportedOperation)
_FAILED = (StorageError, ConcurrentUpdateError, InvalidParameterValue)


class StoredModel(NamedTuple):
    """One model's decoded files as a shard holds them: the dict contents keep their keys
    once per model (``keys``), so a shard is smaller and faster to decode; a row is
    ``[token, index into keys or -1, values of the dict or the content itself]``. Rows are
    checked when used: a damaged one is just not used."""

    keys: list[Any]
    rows: dict[str, Any]

    def entry(self, rel: str, token: str) -> Entry | None:
        row = self.rows.get(rel)
        if type(row) is not list or len(row) != 3 or row[0] != token or not token:
            return None
        index, value = row[1], row[2]
        if index == -1:
            return Entry(token, value)
        keys = self.keys[index] if type(index) is int and 0 <= index < len(self.keys) else None
        if type(keys) is not list or type(value) is not list or len(keys) != len(value):
            return None
        return Entry(token, dict(zip(keys, value, strict=False)))  # lengths checked above

    def tokens(self) -> dict[str, str]:
        return {
            rel: row[0]
            for rel, row in self.rows.items()
            if isinstance(row, list) and len(row) == 3 and isinstance(row[0], str) and row[0]
        }


def _encode_model(entries: Mapping[str, Entry]) -> bytes:
    keys: dict[tuple[str, ...], int] = {}
    rows: dict[str, Any] = {}
    for rel, (token, value) in sorted(entries.items()):
        if isinstance(value, dict):
            index = keys.setdefault(tuple(value), len(keys))
            rows[rel] = [token, index, list(value.values())]
        else:
            rows[rel] = [token, -1, value]
    return _json({"keys": [list(k) for k in keys], "rows": rows})


def _json(value: Any) -> bytes:
    # JSON escapes control characters inside strings, so it never holds a tab or a newline.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _encode_shard(models: Mapping[str, bytes]) -> bytes:
    """A shard: its header line, then a line per model: its name (JSON), a tab, its JSON."""
    lines = [_HEADER, *(_json(m) + b"\t" + models[m] for m in sorted(models))]
    return b"\n".join(lines) + b"\n"


def _tokens(entries: Mapping[str, Entry]) -> dict[str, str]:
    return {rel: e.token for rel, e in entries.items()}


def _token_at(entries: Mapping[str, Entry], rel: str) -> str:
    """The token ``entries`` hold for ``rel``, or "" when they hold none."""
    entry = entries.get(rel)
    return "" if entry is None else entry.token


def _decode_shard(raw: bytes | None, shard: str) -> dict[str, bytes] | None:
    """A shard's models, each as its undecoded JSON ({} when there is no shard); None for an
    unreadable or foreign shard, which holds nothing and is rebuilt by the next reader that
    has to read. A line that does not name a model of this shard is left out (a malformed
    model, when it is decoded)."""
    if raw is None:
        return {}
    lines = raw.split(b"\n")
    if lines[0] != _HEADER:
        _debug("Ignoring unreadable registry index %s; it will be rebuilt", shard)
        return None
    out: dict[str, bytes] = {}
    for line in lines[1:]:
        name, tab, body = line.partition(b"\t")
        if not tab:
            continue
        try:
            model = json.loads(name)
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(model, str) and shard_name(model) == shard:
            out[model] = body
    return out


def _decode_model(body: bytes) -> StoredModel | None:
    """One model's line of a shard, decoded; None if malformed."""
    try:
        stored = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(stored, dict):
        return None
    keys, rows = stored.get("keys"), stored.get("rows")
    return StoredModel(keys, rows) if isinstance(keys, list) and isinstance(rows, dict) else None


__all__ = [
    "SHARDS",
    "SHARD_PREFIX",
    "Entry",
    "ListedFile",
    "RegistryIndex",
    "is_plain",
    "is_racy",
    "shard_name",
    "shard_path",
]
