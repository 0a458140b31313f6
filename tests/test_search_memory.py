"""Memory of a run search as it grows with the runs searched (issue 24: a full search of
100,000 runs in 300 MB). Counted, never timed: how many files' tokens a checked search holds
at once, and (tracemalloc) what each run it returns holds."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest

from fsreg_testing.runs import age_tree
from fsregistry import Client
from fsregistry.entities import Metric, Param, RunTag
from fsregistry.tracking import run_search

RUNS = 1200


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A store with an experiment of ``RUNS`` ended runs."""
    root = tmp_path_factory.mktemp("memory") / "mlruns"
    client = Client(tracking_uri=str(root))
    exp_id = client.create_experiment("memory")
    for i in range(RUNS):  # ended runs of 10 metrics, a param and a tag
        run_id = client.create_run(exp_id, run_name=f"r{i}").info.run_id
        metrics = [Metric(f"m{k}", float(i + k), 1, 0) for k in range(10)]
        client.log_batch(run_id, metrics, [Param("p", str(i))], [RunTag("t", "aaa")])
        client.set_terminated(run_id)
    age_tree(root)
    return str(root), exp_id


def _traced(call: Callable[[], Any]) -> tuple[Any, int]:
    """``call()`` and the memory it left allocated (bytes)."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out = call()
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return out, kept - base


def test_a_checked_search_holds_no_token_per_file_of_every_run(
    store: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A checked search (local disk) compares the files that decide the answer with the
    summaries a chunk of runs at a time: it never holds the path and token of every needed
    file of every run at once (~230 bytes a file, ~70 MB for a filter at 100,000 runs).
    Counted as the files whose tokens the storage is asked for in one call."""
    monkeypatch.setenv("FSREG_TRUST_INDEX", "0")
    monkeypatch.setenv("FSREG_CHANGE_FEED", "0")  # every search checks every run
    monkeypatch.setattr(run_search, "_CHECK_CHUNK", 100, raising=False)
    root, exp_id = store
    client = Client(tracking_uri=root)
    storage = client.store._search.storage
    tokens = storage.tokens
    asked: list[int] = []

    def counted(paths: Any) -> Any:
        paths = list(paths)
        asked.append(len(paths))
        return tokens(paths)

    monkeypatch.setattr(storage, "tokens", counted)
    query = "params.p = 'none' and metrics.m1 > 0 and tags.t = 'aaa'"  # 4 files a run
    for _ in range(2):
        asked.clear()
        assert len(client.search_runs([exp_id], query)) == 0
        assert sum(asked) >= 4 * RUNS  # every run checked
        assert max(asked) <= 4 * 100, f"{max(asked)} tokens held at once"


def test_a_returned_run_holds_no_metric_points_until_asked(
    store: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run a search returns keeps its metrics' values; the points (timestamp, step) of
    ``metric_objs`` are made when first asked, from the run index's compact copy, not held by
    every run of a large answer."""
    monkeypatch.setenv("FSREG_TRUST_INDEX", "1")
    root, exp_id = store
    client = Client(tracking_uri=root)
    assert len(client.search_runs([exp_id], max_results=1)) == 1  # the index is decoded
    runs, kept = _traced(lambda: list(client.search_runs([exp_id], max_results=RUNS)))
    assert len(runs) == RUNS
    # Run 0 by its name: two runs started in one millisecond are ordered by their random ids.
    (first,) = (r.data for r in runs if r.info.run_name == "r0")
    assert first.metrics == {f"m{k}": float(k) for k in range(10)}
    points = sorted((m.key, m.value, m.timestamp, m.step) for m in first.metric_objs)
    assert points == [(f"m{k}", float(k), 1, 0) for k in range(10)]
    assert kept / RUNS < 2200, f"{kept / RUNS:.0f} bytes a run"
