"""A run's change tokens: what a run index summary records of each file it was decoded from
(``run_index``), and how a search compares them with a listing's.

A token is what the storage's listing says of a file's version (local: size, mtime in ns and
inode; S3: ETag; GCS: generation). A run's tokens travel as one string (:func:`tokens_of`)
and are kept in memory compact (:func:`compact_tokens`: a 64-bit hash of each, salted per
process, never written anywhere).
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Iterable
from typing import TypeAlias

from fsregistry.storage import FileInfo
from fsregistry.storage import is_racy as storage_is_racy
from fsregistry.tracking.run_files import layout

_HASH = struct.Struct("q")

Tokens: TypeAlias = tuple[dict[str, int], bytes]
"""A run's change tokens as this process keeps them (:func:`compact_tokens`): the position
of each run-relative path (a dict shared by runs with the same files) and a 64-bit hash of
each file's token at its position. A plain tuple of untracked values: the collector never
walks it."""


UNKNOWN: Tokens = ({}, b"unknown")
"""The tokens of a summary whose tokens were not decoded (a trusted search decodes only those
of the runs it may check, see :meth:`ExperimentIndex.load_shards`). Equal to no run's tokens
(those hold 8 bytes a recorded path: here 7 bytes and no path), and :func:`same_token` says
no file of it is unchanged: a check never takes such a summary, it reads the run's files."""


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


def compact_tokens(tokens: str) -> Tokens:
    """``tokens`` (from :func:`tokens_of`) as this process keeps them: ~8 bytes a file
    instead of ~45. Two runs' compact tokens are equal when their texts are, and, but for a
    64-bit hash collision of a changed token (one in 2**64), only then. The hashes are
    Python's string hashes, salted per process: never written anywhere."""
    parts = token_parts(tokens)
    return layout(tuple(parts[0::2])), array("q", map(hash, parts[1::2])).tobytes()


def token_parts(tokens: str) -> list[str]:
    """``"|p1>t1|p2>t2|"`` (:func:`tokens_of`) as ``[p1, t1, p2, t2]``: neither a path nor
    a token holds ``|`` or ``>``."""
    return tokens[1:-1].replace(">", "|").split("|") if len(tokens) > 1 else []


def recorded_hash(tokens: Tokens, path: str) -> int | None:
    """The hash of the token compact ``tokens`` record for one run-relative path (None: the
    path is not recorded); compare it with ``hash(token)``."""
    i = tokens[0].get(path)
    return None if i is None else int(_HASH.unpack_from(tokens[1], 8 * i)[0])


def same_token(tokens: Tokens, path: str, current: str | None) -> bool:
    """Whether a file's ``current`` token (None: no such file) is the one ``tokens``
    record for it."""
    if tokens is UNKNOWN:
        return False
    recorded = recorded_hash(tokens, path)
    if current is None or recorded is None:
        return current is None and recorded is None
    return recorded == hash(current)


def recorded_dirs(tokens: Tokens) -> set[str]:
    """The run-relative directories of the paths compact ``tokens`` record."""
    return run_dirs(tokens[0])


def is_racy(files: Iterable[FileInfo], listed_at: float) -> bool:
    """Whether a file changed so shortly before the listing that a further same-size write in
    the same clock tick could go unseen: such a run is read, but not summarised by a reader.

    Only the summary's builder needs this check: whether a later reader's listing is close to
    a write does not matter, since a token-preserving change can only follow the listing the
    summary was built from.
    """
    return any(storage_is_racy(f.mtime, listed_at) for f in files)


def run_dirs(paths: Iterable[str]) -> set[str]:
    """Every directory the run-relative ``paths`` lie in, below the run directory itself
    (``metrics/train/loss`` -> ``metrics``, ``metrics/train``)."""
    dirs: set[str] = set()
    for path in paths:
        head = path.rpartition("/")[0]
        while head and head not in dirs:
            dirs.add(head)
            head = head.rpartition("/")[0]
    return dirs


def recorded_paths(tokens: str) -> list[str]:
    """The run-relative paths ``tokens`` (from :func:`tokens_of`) records."""
    return [entry.partition(">")[0] for entry in tokens.split("|") if entry]
