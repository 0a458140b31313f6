"""Runs for the tests of search summaries and the change feed: ended runs to search, and
file times pushed into the past, as on a tree copied in with its times kept."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

from fsregistry import Client
from fsregistry.entities import Metric, Param, RunTag


def age_tree(root: str | os.PathLike[str], seconds: float = 100.0) -> None:
    """Set every file's times ``seconds`` back: past the racy window, so the cached path, not
    the racy guard, is what a test exercises."""
    then = time.time() - seconds
    for dirpath, _, files in os.walk(root):
        for name in files:
            os.utime(os.path.join(dirpath, name), (then, then))


def ended_runs(client: Client, exp_id: str, count: int, metric: str = "m") -> list[str]:
    """``count`` ended runs: run i has metric ``metric`` = i, param p = i and tag t = aaa."""
    run_ids = []
    for i in range(count):
        run_id = client.create_run(exp_id, run_name=f"r{i}").info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric(metric, float(i), 1, 0)],
            params=[Param("p", i)],
            tags=[RunTag("t", "aaa")],
        )
        client.set_terminated(run_id)
        run_ids.append(run_id)
    return run_ids


def spy_reads(client: Client, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run ids the store reads from their files (not from summaries) from now on, in what is
    as good as a new process: only the files and the shards to go on."""
    store = client.store
    store._reader.indexes.clear()
    read_runs: list[str] = []
    original = store._reader.read_runs
    monkeypatch.setattr(
        store._reader,
        "read_runs",
        lambda exp_dir, per_run, *a: read_runs.extend(per_run) or original(exp_dir, per_run, *a),
    )
    return read_runs


# Storage calls that cost one request per path on a bucket, one per call, or a listing.
_PER_PATH = ("read_many", "tokens")
_WRITES = ("write", "_create", "_write_if_match", "append", "delete")
_PER_CALL = ("read", "read_versioned", "exists", *_WRITES)
_LISTINGS = ("list_dir", "list_dir_tokens", "walk", "delete_tree")


@dataclass
class Requests:
    """What :func:`count_requests` counted so far."""

    total: int = 0  # every request, a listing once
    listed: list[str] = field(default_factory=list)  # the paths listed, in order
    written: list[str] = field(default_factory=list)  # the paths written or deleted


def count_requests(client: Client, monkeypatch: pytest.MonkeyPatch) -> Requests:
    """Requests the client's storage makes from now on, counted per storage call as a bucket
    serves them: one per file read, written, deleted or asked for its token, and at least
    one per listing (kept apart: a listing's pages grow with the store). A call a counted
    call makes (``read`` through ``read_versioned``) is not counted again."""
    storage = client.store.storage
    counts = Requests()
    depth = [0]

    def spy(name: str) -> None:
        original = getattr(storage, name)

        def counted(*a: Any, **k: Any) -> Any:
            if depth[0] == 0:
                if name in _PER_PATH:
                    a = (list(a[0]), *a[1:])
                    counts.total += len(a[0])
                else:
                    counts.total += 1
                if name in _LISTINGS:
                    counts.listed.append(str(a[0]))
                if name in _WRITES:
                    counts.written.append(str(a[0]))
            depth[0] += 1
            try:
                return original(*a, **k)
            finally:
                depth[0] -= 1

        monkeypatch.setattr(storage, name, counted)

    for name in (*_PER_PATH, *_PER_CALL, *_LISTINGS):
        spy(name)
    return counts
