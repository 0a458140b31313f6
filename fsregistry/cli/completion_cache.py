"""A small on-disk cache of shell-completion candidates, so pressing Tab twice reads the store
once.

Where: ``$FSREG_COMPLETION_CACHE`` if set, else ``$XDG_CACHE_HOME/fsregistry/completion``
(``~/.cache/fsregistry/completion``): one JSON file per store and question (model names,
one model's versions or aliases, experiment names, run ids), named by a hash of the store's
root URI and the question, written atomically (the storage layer's replace), so concurrent
completions never read a torn file; the last writer wins, which for a cache is fine.

When an entry is used: it is younger than ``$FSREG_COMPLETION_TTL`` seconds (default 30;
``0`` turns the cache off) **and**, on local disk, the directories its answer was listed
from still have the modification times they had (a model, version, alias, experiment or run
created or deleted changes them, so those show up at once; an experiment renamed in place
shows up after the TTL). On S3 and GCS a listing costs a round trip, so the TTL alone
decides. The store's in-process change feed cannot help here: each completion is a new
process. A cache that cannot be read or written is ignored (completion then reads the
store, as without a cache); it never holds anything but names already visible to the user.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fsregistry.exceptions import FsRegistryException

DEFAULT_TTL_S = 30.0


def cache_dir() -> Path:
    """Where the completion cache lives (see the module docstring)."""
    env = os.environ.get("FSREG_COMPLETION_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fsregistry" / "completion"


def ttl_s() -> float:
    """Seconds an entry stays usable (``FSREG_COMPLETION_TTL``; 0: no cache)."""
    try:
        return max(0.0, float(os.environ.get("FSREG_COMPLETION_TTL", DEFAULT_TTL_S)))
    except ValueError:
        return DEFAULT_TTL_S


def _stamps(local_root: str | None, dirs: Sequence[str]) -> dict[str, int]:
    """Modification times (ns) of the store-relative ``dirs`` on local disk (-1: missing)."""
    if local_root is None:
        return {}
    out = {}
    for d in dirs:
        try:
            out[d] = os.stat(os.path.join(local_root, d) if d else local_root).st_mtime_ns
        except OSError:
            out[d] = -1
    return out


def cached(
    store_uri: str,
    question: str,
    local_root: str | None,
    watched: Callable[[list[str]], list[str]],
    read: Callable[[], list[str]],
) -> list[str]:
    """The answer to ``question`` about the store at ``store_uri``: from the cache when it is
    still good, else ``read()`` (then cached). ``watched(answer)`` names the store-relative
    directories whose modification times vouch for the answer on local disk
    (``local_root``: the store's directory; None on object stores)."""
    ttl = ttl_s()
    if ttl <= 0:
        return read()
    key = hashlib.sha256(f"{store_uri}\0{question}".encode()).hexdigest()[:32]
    path = cache_dir() / f"{key}.json"
    now = time.time()
    entry = _load(path)
    if (
        entry is not None
        and entry.get("store") == store_uri
        and entry.get("question") == question
        and isinstance(entry.get("at"), int | float)
        and 0 <= now - entry["at"] < ttl
        and isinstance(entry.get("stamps"), dict)
        and _stamps(local_root, list(entry["stamps"])) == entry["stamps"]
        and isinstance(entry.get("answer"), list)
    ):
        return [str(a) for a in entry["answer"]]
    # Stamps are taken before the read: a change during it leaves them stale, never fresh.
    stamps_before = _stamps(local_root, watched([]))
    answer = read()
    stamps = {**stamps_before, **_stamps(local_root, watched(answer))}
    _save(
        path,
        {
            "store": store_uri,
            "question": question,
            "at": now,
            "stamps": stamps,
            "answer": answer,
        },
    )
    return answer


def _load(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _save(path: Path, entry: dict[str, Any]) -> None:
    from fsregistry.storage.local import LocalStorage

    try:
        LocalStorage(str(path.parent)).write(path.name, json.dumps(entry).encode("utf-8"))
    except (FsRegistryException, OSError):
        return  # an unwritable cache only costs the next completion a read of the store


__all__ = ["cache_dir", "cached", "ttl_s"]
