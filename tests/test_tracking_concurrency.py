"""Several processes writing one store at once lose nothing: local disk, S3 and GCS.

Workers are spawned processes released together at a shared start time, so their requests
really overlap; each reports what it did, and the store must hold exactly that.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

import pytest

from fsreg_testing.runs import spy_reads
from fsregistry import Client

WORKERS = 6


def _wait_until(start_at: float) -> None:
    time.sleep(max(0.0, start_at - time.time()))


def _set_experiment_worker(url: str, start_at: float, out: Any) -> None:
    import fsregistry

    fsregistry.set_tracking_uri(url)
    _wait_until(start_at)
    out.put(fsregistry.set_experiment("shared-name").experiment_id)


def _create_runs_worker(url: str, exp_id: str, n: int, start_at: float, out: Any) -> None:
    client = Client(tracking_uri=url)
    _wait_until(start_at)
    out.put([client.create_run(exp_id).info.run_id for _ in range(n)])


def _log_worker(url: str, run_id: str, worker: int, start_at: float, out: Any) -> None:
    client = Client(tracking_uri=url)
    _wait_until(start_at)
    for step in range(20):
        # one shared key (different steps per worker) and one key of its own
        client.log_metric(
            run_id, "shared", float(worker), timestamp=1000 + step, step=worker * 100 + step
        )
        client.log_metric(run_id, f"own_{worker}", float(step), timestamp=1000 + step, step=step)
    client.log_param(run_id, f"p{worker}", worker)
    client.set_tag(run_id, f"t{worker}", worker)
    client.flush()
    out.put(worker)


def _end_runs_worker(url: str, exp_id: str, n: int, start_at: float, out: Any) -> None:
    client = Client(tracking_uri=url)
    _wait_until(start_at)
    run_ids = []
    for i in range(n):
        run_id = client.create_run(exp_id).info.run_id
        client.log_param(run_id, "i", i)
        client.set_terminated(run_id)
        run_ids.append(run_id)
    out.put(run_ids)


def _run_all(target: Any, args_for: Any, n: int = WORKERS) -> list[Any]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    start_at = time.time() + 4.0  # spawn start-up (imports) must finish before the release
    procs = [ctx.Process(target=target, args=(*args_for(i), start_at, queue)) for i in range(n)]
    for p in procs:
        p.start()
    try:
        results = [queue.get(timeout=180) for _ in procs]
    finally:
        for p in procs:
            p.join(timeout=60)
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    return results


@pytest.mark.slow
def test_concurrent_set_experiment_makes_one_experiment(store_url: str) -> None:
    ids = _run_all(_set_experiment_worker, lambda i: (store_url,))
    assert len(set(ids)) == 1
    names = [e.name for e in Client(tracking_uri=store_url).search_experiments()]
    assert names.count("shared-name") == 1


@pytest.mark.slow
def test_concurrent_run_creation_loses_nothing(store_url: str) -> None:
    client = Client(tracking_uri=store_url)
    exp_id = client.create_experiment("many-runs")
    made = _run_all(_create_runs_worker, lambda i: (store_url, exp_id, 5))
    expected = sorted(r for batch in made for r in batch)
    found = sorted(r.info.run_id for r in client.search_runs([exp_id], max_results=1000))
    assert found == expected and len(found) == WORKERS * 5


@pytest.mark.slow
def test_concurrent_logging_to_one_run_loses_nothing(store_url: str) -> None:
    client = Client(tracking_uri=store_url)
    exp_id = client.create_experiment("one-run")
    run_id = client.create_run(exp_id).info.run_id
    _run_all(_log_worker, lambda i: (store_url, run_id, i))
    run = client.get_run(run_id)
    shared = client.get_metric_history(run_id, "shared")
    assert sorted(m.step for m in shared) == sorted(
        w * 100 + s for w in range(WORKERS) for s in range(20)
    )
    for w in range(WORKERS):
        assert [m.step for m in client.get_metric_history(run_id, f"own_{w}")] == list(range(20))
        assert run.data.params[f"p{w}"] == str(w)
        assert run.data.tags[f"t{w}"] == str(w)


@pytest.mark.slow
def test_runs_ended_at_once_are_all_summarised(
    store_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writers ending runs at once share shards (90 runs in 256 shards): on a local disk each
    appends its line, and a new process finds every run summarised; on a bucket a writer that
    loses a compare-and-swap race leaves its run to be read from its files. Either way every
    run is found, as written."""
    client = Client(tracking_uri=store_url)
    exp_id = client.create_experiment("ended-at-once")
    made = _run_all(_end_runs_worker, lambda i: (store_url, exp_id, 15))
    expected = {r: i for batch in made for i, r in enumerate(batch)}
    reader = Client(tracking_uri=store_url)
    read_runs = spy_reads(reader, monkeypatch)
    found = {r.info.run_id: r for r in reader.search_runs([exp_id], max_results=1000)}
    assert {r: int(run.data.params["i"]) for r, run in found.items()} == expected
    if backend == "local":
        assert read_runs == [], "every run came from its writer's line"
