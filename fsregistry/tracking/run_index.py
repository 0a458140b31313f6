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

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from fsregistry.exceptions import FsRegistryException
from fsregistry.storage import FileInfo, Storage
from fsregistry.storage import is_racy as storage_is_racy
from fsregistry.tracking.records import LatestMetric, RunFiles, plain_meta

_log = logging.getLogger(__name__)

SHARD_PREFIX = ".fsreg-index-"
_FORMAT = 3
_HEX2 = re.compile(r"^[0-9a-f]{2}")


def shard_name(run_id: str) -> str:
    head = run_id[:2].lower()
    if not _HEX2.match(head):
        head = hashlib.sha1(run_id.encode()).hexdigest()[:2]
    return f"{SHARD_PREFIX}{head}"


def tokens_of(files: Iterable[FileInfo], strip: int = 0) -> str | None:
    """The change tokens of a run's files as one string, ``"|<path>><token>|..."`` with
    run-relative paths, sorted. None when the backend gives no change tokens, or when a path
    or token holds ``|`` or ``>`` (never in MLflow keys; such a run is never summarised).

    One string rather than a mapping, with separators JSON need not escape: a fresh process
    decodes thousands of runs' tokens (~40 each) from the shards, several times faster so.
    ``strip`` characters are cut from the front of each path (the ``<run_id>/`` of an
    experiment-wide listing), so a run listed on its own and within its experiment compare
    equal.
    """
    lines = []
    for info in files:
        token = info.token
        path = info.path[strip:]
        if not token or "|" in path or ">" in path or "|" in token or ">" in token:
            return None
        lines.append(f"{path}>{token}|")
    lines.sort()
    return "|" + "".join(lines)


def recorded_token(tokens: str, path: str) -> str | None:
    """The token ``tokens`` (from :func:`tokens_of`) records for one run-relative path."""
    start = tokens.find(f"|{path}>")
    if start < 0:
        return None
    start += len(path) + 2
    return tokens[start : tokens.index("|", start)]


def is_racy(files: Iterable[FileInfo], listed_at: float) -> bool:
    """Whether a file changed so shortly before the listing that a further same-size write in
    the same clock tick could go unseen: such a run is read, but not summarised by a reader.

    Only the summary's builder needs this check: whether a later reader's listing is close to
    a write does not matter, since a token-preserving change can only follow the listing the
    summary was built from.
    """
    return any(storage_is_racy(f.mtime, listed_at) for f in files)


def encode_run(files: RunFiles) -> dict[str, Any]:
    return {
        "meta": files.meta,
        "params": files.params,
        "tags": files.tags,
        "inputs": files.inputs,
        "metrics": files.metrics,
    }


def decode_run(data: Mapping[str, Any]) -> RunFiles:
    """A run from its shard entry (fresh from ``json.loads``, so its dicts are taken as they
    are). Raises TypeError or ValueError on an entry no writer makes."""
    metrics: dict[str, LatestMetric] = {}
    for key, (value, timestamp, step, dataset_name, dataset_digest) in data["metrics"].items():
        if (
            type(timestamp) is not int
            or type(step) is not int
            or not (dataset_name is None or type(dataset_name) is str)
            or not (dataset_digest is None or type(dataset_digest) is str)
        ):
            raise TypeError(f"damaged metric entry {key!r}")
        metrics[key] = (float(value), timestamp, step, dataset_name, dataset_digest)
    params, tags = data["params"], data["tags"]
    if type(params) is not dict or type(tags) is not dict:
        raise TypeError("damaged params or tags")
    return RunFiles(
        meta=plain_meta(data["meta"]),
        metrics=metrics,
        params=params,
        tags=tags,
        inputs=tuple(data["inputs"]),
    )


class Summary(NamedTuple):
    """One run as decoded from its files, and the change token of each file it came from."""

    tokens: str  # see tokens_of
    files: RunFiles


@dataclass
class ExperimentIndex:
    """This process's view of one experiment's summaries."""

    runs: dict[str, Summary] = field(default_factory=dict)
    shard_tokens: dict[str, str] = field(default_factory=dict)  # shard -> token decoded

    def lookup(self, run_id: str, tokens: str | None) -> RunFiles | None:
        """The run's summary if it was built from exactly these files at these versions."""
        entry = self.runs.get(run_id)
        if tokens is None or entry is None or entry.tokens != tokens:
            return None
        return entry.files

    def load_shards(self, storage: Storage, exp_dir: str, shards: Mapping[str, str]) -> None:
        """Decode the shard files (``{name: change token}``) that changed since this process
        last read them."""
        changed = [n for n, token in shards.items() if self.shard_tokens.get(n) != token]
        if not changed:
            return
        contents = storage.read_many(f"{exp_dir}/{n}" for n in changed)
        for name in changed:
            raw = contents.get(f"{exp_dir}/{name}")
            if raw is None:
                continue
            entries = _decode_shard(raw, f"{exp_dir}/{name}")
            for run_id, entry in entries.items():
                tokens = entry["tok"]
                known = self.runs.get(run_id)
                if known is not None and known.tokens == tokens:
                    continue
                if not isinstance(tokens, str) or not tokens.startswith("|"):
                    continue  # a damaged entry is just not used
                try:
                    self.runs[run_id] = Summary(tokens, decode_run(entry["run"]))
                except (KeyError, TypeError, ValueError, IndexError, AttributeError):
                    continue
            self.shard_tokens[name] = shards[name]

    def persist(
        self, storage: Storage, exp_dir: str, run_ids: Iterable[str], live: set[str] | None
    ) -> None:
        """Write these runs' summaries into their shards (compare-and-swap, best effort).

        With ``live`` (the runs a full listing found), entries of runs that no longer exist
        are dropped on the way. A failure only costs speed (the next search reads those runs
        again), so it is logged, not raised.
        """
        by_shard: dict[str, list[str]] = {}
        for run_id in run_ids:
            by_shard.setdefault(shard_name(run_id), []).append(run_id)
        for name, ids in by_shard.items():
            path = f"{exp_dir}/{name}"
            fresh = {
                r: {"tok": self.runs[r].tokens, "run": encode_run(self.runs[r].files)} for r in ids
            }

            def merge(old: bytes | None, fresh: dict[str, Any] = fresh, where: str = path) -> bytes:
                entries = _decode_shard(old, where) if old else {}
                if live is not None:
                    entries = {r: e for r, e in entries.items() if r in live}
                entries.update(fresh)
                doc = {"format": _FORMAT, "runs": entries}
                return json.dumps(doc, separators=(",", ":"), default=str).encode("utf-8")

            try:
                storage.update(path, merge)
            except (FsRegistryException, OSError) as e:
                _log.warning("Could not update run index %s: %s", storage.uri(path), e)


def _decode_shard(raw: bytes, where: str) -> dict[str, Any]:
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        _log.warning("Ignoring unreadable run index %s; it will be rebuilt", where)
        return {}
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
        return {}
    runs = doc.get("runs")
    if not isinstance(runs, dict):
        return {}
    return {r: e for r, e in runs.items() if isinstance(e, dict) and "tok" in e and "run" in e}
