"""Consolidated run summaries, so ``search_runs`` need not read every file of every run.

Never the source of truth: the MLflow-layout files are. A summary records the change token
of each file it was decoded from (local: size, mtime in ns and inode; S3: ETag; GCS:
generation), so any write to a run, by fsregistry, MLflow, an older fsregistry or a text
editor, shows as a token that differs from the file's current one, and the run is read again
from its files. A search compares all of a run's tokens with one listing (object stores), or,
on local disk where a stat is a system call rather than a request, only the tokens of the
files that decide whether and where the run is in the answer (``meta.yaml`` and the keys the
filter and order name), then all tokens of the runs it returns. Summaries live in memory (per store object) and in hidden shard files
``<experiment>/.fsreg-index-XX`` (256 per experiment at most), which MLflow ignores because
they are files, not run directories. A shard that is unreadable is simply rebuilt.

A shard is a header line ``{"format":7}`` then one line per run, ``<run id as a JSON
string><TAB><keys><TAB><row>``: ``keys`` a JSON array of the run-relative paths whose change
tokens are recorded, then the run's meta, param, tag and metric keys (``run_files.row_of``),
then the number 7; ``row`` one flat JSON array: the tokens in one string (``t1|t2|...``, in the
order of the paths: no token holds ``|``, see :func:`tokens_of`), then the run's values in
that order, its metrics' numbers packed in one string (``run_files.packed_metrics``). JSON
never holds a raw newline or tab. Runs of a tree mostly have the same keys, so a reader
decodes each distinct ``keys`` text once and the rows of a whole shard in one parse of plain
values, with no mapping per run (format 5, a JSON object per run, spent most of a cold search
decoding them), and two strings rather than ~40 tokens and three numbers per metric (format
6, which a cold search of 2,000 runs spent a third of its time decoding). A run summarised
again may have earlier lines too, and its last line counts.

Format 6 shards and lines (the keys without the closing 7, each token a string of the row, the
metrics' numbers one by one) are still read; a line is read by its own keys, so a format-6
fsregistry appending to a format-7 shard, or the reverse, never has a line read as the other
(format 6 takes keys of four groups only). Anything else is rebuilt. Lines rather than one document: the writer that ends a run appends its line on
a local disk and replaces it (compare-and-swap) on a bucket, without decoding the others' (a
shard holds ~80 runs at 20,000 runs), and a damaged line costs only its run. A shard of
another format (not 6 or 7) gives no summaries: its runs are read from their files and
summarised again in this one.

Who writes them: the process that ends a run (``set_terminated``) summarises it, so a reader
in a fresh process finds finished runs summarised and reads 256 shards at most instead of
every file (on a bucket: a few hundred requests instead of ~40 per run). Readers summarise
what they had to read anyway (runs written by MLflow, by hand, still running, or changed
after they ended), so a tree written by other tools becomes fast after one search.

Two guards keep a summary from hiding a change:
- a backend whose listing gives no change token never uses summaries;
- a reader never summarises a run with a file modified less than
  ``fsregistry.storage.RACY_SECONDS`` before its listing (``is_racy``): a second in-place
  write of the same size within the filesystem's clock tick would keep the token unchanged (git calls this "racy" and handles it the same way). The writer
  that ends a run summarises right after its own writes, which is safe against fsregistry
  writers because they never rewrite a file in place with the same size (they replace files
  atomically, which changes the inode, or append, which changes the size); the one change it
  could miss is a same-size in-place rewrite by another program within one clock tick (a few
  ms) of ``end_run``.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import logging
import re
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from fsregistry.exceptions import FsRegistryException
from fsregistry.storage import Storage
from fsregistry.storage.changes import ChangeFeed, Stamp
from fsregistry.tracking.records import RunFiles
from fsregistry.tracking.run_files import RowShape, files_from_row, layout, row_of, row_shape
from fsregistry.tracking.run_tokens import UNKNOWN as UNKNOWN
from fsregistry.tracking.run_tokens import Tokens as Tokens
from fsregistry.tracking.run_tokens import compact_tokens as compact_tokens
from fsregistry.tracking.run_tokens import is_racy as is_racy
from fsregistry.tracking.run_tokens import recorded_dirs as recorded_dirs
from fsregistry.tracking.run_tokens import recorded_hash as recorded_hash
from fsregistry.tracking.run_tokens import recorded_paths as recorded_paths
from fsregistry.tracking.run_tokens import recorded_token as recorded_token
from fsregistry.tracking.run_tokens import run_dirs as run_dirs
from fsregistry.tracking.run_tokens import same_token as same_token
from fsregistry.tracking.run_tokens import token_parts
from fsregistry.tracking.run_tokens import tokens_of as tokens_of

_log = logging.getLogger(__name__)

SHARD_PREFIX = ".fsreg-index-"
_FORMAT = 7
_READ_FORMATS = (6, 7)  # a format-6 shard's lines are read too (see the module docstring)
# Their header lines as written (compared, not decoded: a cold search decodes one mapping).
_READ_HEADERS = tuple(b'{"format":%d}\n' % f for f in _READ_FORMATS)
_HEADER = json.dumps({"format": _FORMAT}, separators=(",", ":")).encode("ascii")
_HEX2 = re.compile(r"^[0-9a-f]{2}")
# A shard with more stale lines than this (and than live ones) is compacted by its reader.
_STALE_LINES = 32
# Shards read and decoded at a time: the bytes of all 256 at 100,000 runs would take ~350 MB.
_SHARDS_AT_ONCE = 8


def shard_name(run_id: str) -> str:
    head = run_id[:2].lower()
    if not _HEX2.match(head):
        head = hashlib.sha1(run_id.encode()).hexdigest()[:2]
    return f"{SHARD_PREFIX}{head}"


def encode_run(files: RunFiles) -> dict[str, Any]:
    return {
        "meta": files.meta,
        "params": files.params,
        "tags": files.tags,
        "inputs": files.inputs,
        "outputs": files.outputs,
        "metrics": files.metrics,
    }


class Summary(NamedTuple):
    """One run as decoded from its files, and the change token of each file it came from."""

    tokens: Tokens  # see compact_tokens
    files: RunFiles


class Verified(NamedTuple):
    """What a change feed vouches for about one run (``fsregistry.tracking.vouches``), until
    it reports a change in the run's directories."""

    tokens: Tokens  # of the summary that was verified
    files: tuple[str, ...] | None  # the run-relative files verified; None: all of them
    stamp: Stamp  # taken before verifying


class Listed(NamedTuple):
    """What a trusted search last listed of one experiment (``run_search``), and the
    generation it read before listing (``trust.generation``; None: it could not tell, and
    the next search lists again)."""

    generation: str | None
    run_ids: list[str]
    changed: frozenset[str]  # the runs marked changed (``trust``) at that listing


@dataclass
class ExperimentIndex:
    """This process's view of one experiment's summaries."""

    runs: dict[str, Summary] = field(default_factory=dict)
    shard_tokens: dict[str, str] = field(default_factory=dict)  # shard -> token decoded
    # Strings shared by the summaries (``run_files.share``): values repeat across runs.
    strings: dict[str, str] = field(default_factory=dict)
    # What a change feed vouches for (``storage.change_feed``), per run.
    verified: dict[str, Verified] = field(default_factory=dict)
    # The last trusted listing, reused while the experiment's generation holds.
    listed: Listed | None = None

    def vouched(self, feed: ChangeFeed, run_ids: Iterable[str]) -> dict[str, Verified]:
        """What the feed still vouches for about the current summary of each of these runs
        (runs it vouches for nothing about are left out). One pass over tens of thousands of
        runs in every search: most are vouched for, so the common path comes first."""
        out: dict[str, Verified] = {}
        verified, runs, unchanged = self.verified, self.runs, feed.unchanged
        for run_id in run_ids:
            entry = verified.get(run_id)
            if entry is None:
                continue
            summary = runs.get(run_id)
            # The same string object when vouched for this summary: compared by identity.
            if summary is not None and entry.tokens == summary.tokens and unchanged(entry.stamp):
                out[run_id] = entry
        return out

    def lookup(self, run_id: str, tokens: Tokens | None) -> RunFiles | None:
        """The run's summary if it was built from exactly these files at these versions."""
        entry = self.runs.get(run_id)
        if tokens is None or entry is None or entry.tokens != tokens:
            return None
        return entry.files

    def record(self, run_id: str, tokens: str, files: RunFiles) -> bytes:
        """Keep a run's summary (``tokens`` from :func:`tokens_of`); its shard line, for
        :meth:`persist` or :meth:`append`."""
        self._share_strings()
        self.runs[self.strings.setdefault(run_id, run_id)] = Summary(compact_tokens(tokens), files)
        return encode_line(run_id, tokens, files)

    def _share_strings(self) -> None:
        """Start the shared strings afresh when they outgrow the runs (runs summarised again
        and again leave strings no run holds): only sharing is lost."""
        if len(self.strings) > 64 * len(self.runs) + 100_000:
            self.strings = {}

    def load_shards(
        self,
        storage: Storage,
        exp_dir: str,
        shards: Mapping[str, str],
        tokens_for: Callable[[str, RunFiles], bool] | None = None,
    ) -> None:
        """Decode the shard files (``{name: change token}``) that changed since this process
        last read them, a few at a time (their bytes are freed as they are decoded).

        ``tokens_for(run_id, files)``: whether a run's change tokens are needed (None: every
        run's). A run new to this process whose tokens are not needed gets :data:`UNKNOWN`
        ones, which no check takes: a trusted search (``trust``), which never checks an
        ended run, so skips hashing ~40 tokens for each of them."""
        changed = [n for n, token in shards.items() if self.shard_tokens.get(n) != token]
        compact: list[str] = []
        for at in range(0, len(changed), _SHARDS_AT_ONCE):
            names = changed[at : at + _SHARDS_AT_ONCE]
            contents = storage.read_many(f"{exp_dir}/{n}" for n in names)
            with _collector_paused():
                for name in names:
                    raw = contents.pop(f"{exp_dir}/{name}", None)
                    loaded = raw is not None and self._load_shard(
                        storage, exp_dir, name, raw, tokens_for
                    )
                    if loaded:
                        compact.append(name)  # mostly lines of runs summarised again since
                    if raw is not None:
                        self.shard_tokens[name] = shards[name]
        for name in compact:
            self._compact(storage, exp_dir, name)

    def _load_shard(
        self,
        storage: Storage,
        exp_dir: str,
        name: str,
        raw: bytes,
        tokens_for: Callable[[str, RunFiles], bool] | None,
    ) -> bool:
        """Take in one shard's summaries (``tokens_for``: see :meth:`load_shards`); whether it
        is worth compacting."""
        lines = shard_lines(raw)
        if lines is None:
            where = storage.uri(f"{exp_dir}/{name}")
            _log.warning("Ignoring unreadable run index %s; it will be rebuilt", where)
            return False
        latest = {line.run_id: line for line in lines}  # a run's last line counts
        stale = (
            # A shard of a format read here (a format-6 one is rewritten as this format);
            # never a newer version's, whose lines compacting would drop.
            raw.startswith(_READ_HEADERS)
            and raw.count(b"\n") - 1 - len(latest) > max(_STALE_LINES, len(latest))
        )
        del raw
        self._share_strings()
        runs, strings = self.runs, self.strings
        for run_id, line in latest.items():
            try:
                known = runs.get(run_id)
                if known is None and tokens_for is not None:
                    files = line.files(strings)
                    tokens = line.tokens() if tokens_for(run_id, files) else UNKNOWN
                else:
                    tokens = line.tokens()
                    if known is not None and known.tokens == tokens:
                        continue
                    files = line.files(strings)
                runs[strings.setdefault(run_id, run_id)] = Summary(tokens, files)
            except (TypeError, ValueError):
                continue  # a damaged entry is just not used
        return stale

    def persist(
        self, storage: Storage, exp_dir: str, lines: Mapping[str, bytes], live: set[str] | None
    ) -> None:
        """Write these runs' shard lines (``{run id: line}`` from :meth:`record`) into their
        shards (compare-and-swap, best effort).

        With ``live`` (the runs a full listing found), entries of runs that no longer exist
        are dropped on the way. A failure only costs speed (the next search reads those runs
        again), so it is logged, not raised. A storage that cannot compare-and-swap (a
        read-only one) is left as it is.
        """
        if not storage.capabilities.compare_and_swap:
            return
        by_shard: dict[str, dict[bytes, bytes]] = {}
        for run_id, line in lines.items():
            by_shard.setdefault(shard_name(run_id), {})[_line_key(run_id)] = line
        for name, fresh in by_shard.items():
            path = f"{exp_dir}/{name}"

            def merge(old: bytes | None, fresh: dict[bytes, bytes] = fresh) -> bytes:
                return _merge_shard(old, fresh, live)

            try:
                storage.update(path, merge)
            except (FsRegistryException, OSError) as e:
                _log.warning("Could not update run index %s: %s", storage.uri(path), e)

    def append(self, storage: Storage, exp_dir: str, run_id: str, line: bytes) -> None:
        """Add one run's shard line (from :meth:`record`) at the end of its shard, where the
        storage can append: what the writer that ends a run does, in the same time however
        full the shard (a rewrite copies the shard's other runs: ~80 of them at 20,000 runs).

        Readers take a run's last line, and compact a shard that gathered many stale lines
        (``load_shards``). Appends never interleave on a local disk; where they could (two
        machines on NFS), a damaged line is left out like any other. Best effort, as
        ``persist``: a failure only costs speed."""
        path = f"{exp_dir}/{shard_name(run_id)}"
        line += b"\n"
        try:
            if not storage.exists(path):
                try:
                    storage.create(path, _HEADER + b"\n" + line)
                    return
                except FileExistsError:
                    pass  # another writer made it meanwhile: append to theirs
            storage.append(path, line)
        except (FsRegistryException, OSError) as e:
            _log.warning("Could not update run index %s: %s", storage.uri(path), e)

    def _compact(self, storage: Storage, exp_dir: str, name: str) -> None:
        """Rewrite a shard with one line per run (best effort, as ``persist``)."""
        if not storage.capabilities.compare_and_swap:
            return
        path = f"{exp_dir}/{name}"
        try:
            storage.update(path, lambda old: _merge_shard(old, {}, None))
        except (FsRegistryException, OSError) as e:
            _log.warning("Could not compact run index %s: %s", storage.uri(path), e)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while shards are decoded. Decoding makes
    millions of containers and no reference cycle, and each full collection it sets off walks
    every object decoded so far: at 20,000 runs, five of them, a sixth of the decode. A
    collector that is off when decoding starts (the program's choice, or another thread
    decoding) is left off."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class LineShape(NamedTuple):
    """The decoded ``keys`` of a shard line: the positions of the paths whose tokens are
    recorded, the shape of the run's row (``run_files.row_shape``), and whether the line is
    of format 6 (a row :func:`_format6_row` turns into the current form)."""

    tokens_at: dict[str, int]
    run: RowShape
    format6: bool


# Decoded line keys by their text (a tree's runs mostly share a few), None when damaged.
_SHAPES: dict[bytes, LineShape | None] = {}
_MAX_SHAPES = 4096


def _line_shape(keys: bytes) -> LineShape | None:
    if keys in _SHAPES:
        return _SHAPES[keys]
    if len(_SHAPES) >= _MAX_SHAPES:
        _SHAPES.clear()
    shape = None
    try:
        paths, *rest = json.loads(keys)
        if type(paths) is not list or any(type(p) is not str for p in paths):
            raise TypeError("damaged token paths")
        format6 = not rest or type(rest[-1]) is not int
        if not format6 and rest.pop() != _FORMAT:
            raise ValueError("keys of another format")
        shape = LineShape(layout(tuple(paths)), row_shape(rest), format6)
    except (ValueError, TypeError, UnicodeDecodeError):
        pass  # not a line any writer makes: its run is read from its files
    _SHAPES[keys] = shape
    return shape


class ShardLine(NamedTuple):
    """One run's line of a shard, parsed but not yet made into a summary."""

    run_id: str
    shape: LineShape
    row: list[Any]

    def tokens(self) -> Tokens:
        """The line's change tokens, as :func:`compact_tokens` gives them. Raises TypeError
        or ValueError on a row no writer makes."""
        at = self.shape.tokens_at
        return at, array("q", map(hash, self._token_list())).tobytes()

    def files(self, strings: dict[str, str] | None = None) -> RunFiles:
        """The run (``strings``: see ``run_files.share``). Raises TypeError or ValueError
        on a row no writer makes."""
        return files_from_row(self.shape.run, self.row, 1, strings)

    def tokens_text(self) -> str:
        """The line's change tokens as :func:`tokens_of` gives them."""
        tokens = self._token_list()
        return "|" + "".join(f"{p}>{t}|" for p, t in zip(self.shape.tokens_at, tokens, strict=True))

    def _token_list(self) -> list[str]:
        text, count = self.row[0], len(self.shape.tokens_at)
        if type(text) is not str:
            raise TypeError("damaged tokens")
        tokens = text.split("|") if count else []
        if len(tokens) != count:
            raise ValueError("damaged tokens: wrong count")
        return tokens


def shard_lines(raw: bytes) -> list[ShardLine] | None:
    """A shard's lines in order, damaged ones left out; None when the bytes are no shard at
    all. A shard of another format gives no lines (its runs are summarised again as they are
    read)."""
    head, _, body = raw.partition(b"\n")
    version = _shard_format(head)
    if version is None:
        return None
    if version not in _READ_FORMATS:
        return []
    keys_of: list[bytes] = []
    parts: list[bytes] = []  # run id, row, run id, row...
    for line in _whole_lines(body).split(b"\n"):
        run_key, _, rest = line.partition(b"\t")
        keys, tab, row = rest.partition(b"\t")
        if tab:
            keys_of.append(keys)
            parts += (run_key, row)
    try:
        # All run ids and rows as one JSON array: one parse of plain values for the shard.
        flat = json.loads(b"[" + b",".join(parts) + b"]")
        if len(flat) != len(parts):
            raise ValueError("lines run into each other")
    except (ValueError, UnicodeDecodeError):
        flat = []  # a damaged line: each line on its own, the damaged one left out
        for part in parts:
            try:
                flat.append(json.loads(part))
            except (ValueError, UnicodeDecodeError):
                flat.append(None)
    out = []
    for i, keys in enumerate(keys_of):
        run_id, values = flat[2 * i], flat[2 * i + 1]
        shape = _line_shape(keys)
        if type(run_id) is not str or type(values) is not list or shape is None:
            continue
        if shape.format6:
            values = _format6_row(shape, values)
        if values is not None and len(values) == 1 + shape.run.width:
            out.append(ShardLine(run_id, shape, values))
    return out


def _format6_row(shape: LineShape, row: list[Any]) -> list[Any] | None:
    """A format-6 row (each token, then the values, each metric number apart) in the current
    form (:class:`ShardLine`); None when it does not fit its keys."""
    tokens = len(shape.tokens_at)
    run = shape.run
    values = run.width - 4  # meta, params, tags
    numbers = 3 * len(run.metrics_at)
    if len(row) != tokens + values + numbers + 3:
        return None
    if any(type(t) is not str or "|" in t for t in row[:tokens]):
        return None
    at = tokens + values
    return ["|".join(row[:tokens]), *row[tokens:at], row[at : at + numbers], *row[at + numbers :]]


def decode_shard(raw: bytes) -> dict[str, dict[str, Any]] | None:
    """A shard's summaries as plain data, for tools and checks (``{run id: {"tok":
    tokens_of text, "run": encode_run data}}``, a run's last line); None when the bytes are
    no shard at all. A shard of another format gives none, and a damaged line is left out."""
    lines = shard_lines(raw)
    if lines is None:
        return None
    out = {}
    for line in lines:
        try:
            run = json.loads(json.dumps(encode_run(line.files()), default=str))
        except (TypeError, ValueError):
            continue
        out[line.run_id] = {"tok": line.tokens_text(), "run": run}
    return out


def _shard_format(head: bytes) -> int | None:
    """The format a shard's first line names (0 if none); None when that line is no JSON
    object, so the bytes are no shard."""
    try:
        header = json.loads(head)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(header, dict):
        return None
    version = header.get("format")
    return version if type(version) is int else 0


def _line_key(run_id: str) -> bytes:
    return json.dumps(run_id).encode("utf-8")


def encode_line(run_id: str, tokens: str, files: RunFiles) -> bytes:
    """A run's shard line (without its newline): ``tokens`` from :func:`tokens_of`."""
    parts = token_parts(tokens)
    keys, row = row_of(files)
    head = json.dumps([parts[0::2], *keys, _FORMAT], separators=(",", ":"))
    body = json.dumps(["|".join(parts[1::2]), *row], separators=(",", ":"), default=str)
    return b"\t".join((_line_key(run_id), head.encode("ascii"), body.encode("ascii")))


def _merge_shard(old: bytes | None, fresh: Mapping[bytes, bytes], live: set[str] | None) -> bytes:
    """``old`` with the lines of ``fresh`` (by key) in place of its own, and without the lines
    of runs not in ``live`` (when given); the other lines are copied, not decoded."""
    kept: dict[bytes, bytes] = {}
    head, _, body = (old or b"").partition(b"\n")
    if _shard_format(head) in _READ_FORMATS:  # anything else is rebuilt from these lines on
        for line in _whole_lines(body).split(b"\n"):
            key, tab, _ = line.partition(b"\t")
            if not tab or key in fresh:
                continue
            if live is not None and _decoded_key(key) not in live:
                continue
            kept[key] = line  # a run's later line (appended) replaces its earlier one
    return b"\n".join([_HEADER, *kept.values(), *fresh.values()]) + b"\n"


def _whole_lines(body: bytes) -> bytes:
    """``body`` without a last line still being appended (every line a writer finishes ends
    with a newline)."""
    if body.endswith(b"\n") or not body:
        return body
    return body[: body.rfind(b"\n") + 1]


def _decoded_key(key: bytes) -> str | None:
    try:
        run_id = json.loads(key)
    except (ValueError, UnicodeDecodeError):
        return None
    return run_id if isinstance(run_id, str) else None
