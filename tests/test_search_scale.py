"""Run search costs that must not grow with the store (issue 24): paging continues from a kept
sorted result, so a next page gathers and sorts nothing and checks only its own runs.

Counts, never times: how many times a search gathers the candidates of an experiment, sorts,
and which runs it lists.
"""

from __future__ import annotations

from typing import Any

import pytest

from fsreg_testing.runs import age_tree, ended_runs
from fsregistry import Client
from fsregistry.search import paging
from fsregistry.tracking import run_search


def _spy(monkeypatch: pytest.MonkeyPatch, client: Client) -> dict[str, list[Any]]:
    """Record every candidate gathering, sort and run listing of the client's store."""
    seen: dict[str, list[Any]] = {"gather": [], "sort": [], "listed": []}
    search = client.store._search
    for name in ("_checked_rows", "_listed_rows", "_trusted_rows"):
        original = getattr(search, name)

        def gather(*a: Any, _original: Any = original, **k: Any) -> Any:
            seen["gather"].append(a[0])
            return _original(*a, **k)

        monkeypatch.setattr(search, name, gather)
    sort = run_search.sort_columns

    def counting(rows: Any, *a: Any, **k: Any) -> Any:
        seen["sort"].append(len(rows))
        return sort(rows, *a, **k)

    monkeypatch.setattr(run_search, "sort_columns", counting)
    reader = client.store._reader
    list_run = reader.list_run

    def listing(exp_dir: str, run_id: str, *a: Any, **k: Any) -> Any:
        seen["listed"].append(run_id)
        return list_run(exp_dir, run_id, *a, **k)

    monkeypatch.setattr(reader, "list_run", listing)
    return seen


def test_next_pages_check_only_their_runs_and_never_sort(
    store_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client(tracking_uri=store_url)
    exp_id = client.create_experiment("paged")
    run_ids = ended_runs(client, exp_id, 7)
    if backend == "local":
        age_tree(store_url)
    seen = _spy(monkeypatch, client)
    got: list[str] = []
    page = client.search_runs([exp_id], order_by=["metrics.m DESC"], max_results=2)
    got += [r.info.run_id for r in page]
    assert len(seen["gather"]) == 1 and seen["sort"] == [7]
    assert page.token is not None and paging.decode_cursor(page.token).cursor is not None
    assert paging.decode_page_token(page.token) == 2  # what MLflow reads of the token
    while page.token:
        for key in seen:
            seen[key].clear()
        page = client.search_runs(
            [exp_id], order_by=["metrics.m DESC"], max_results=2, page_token=page.token
        )
        ids = [r.info.run_id for r in page]
        got += ids
        assert seen["gather"] == [] and seen["sort"] == [], "a next page gathers and sorts nothing"
        assert set(seen["listed"]) <= set(ids), "a next page lists its own runs at most"
    assert got == run_ids[::-1], "every run once, in order"


def test_a_next_page_sees_changes_to_its_runs(
    store_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run deleted, or changed so that it no longer matches, since the first page is left
    out of its page; one changed otherwise is returned as it is now."""
    client = Client(tracking_uri=store_url)
    exp_id = client.create_experiment("paged")
    run_ids = ended_runs(client, exp_id, 6)
    if backend == "local":
        age_tree(store_url)
    first = client.search_runs(
        [exp_id], "tags.t = 'aaa'", order_by=["metrics.m ASC"], max_results=2
    )
    assert [r.info.run_id for r in first] == run_ids[:2]
    client.delete_run(run_ids[2])
    client.set_tag(run_ids[3], "t", "bbb")
    client.set_tag(run_ids[4], "u", "new")
    seen = _spy(monkeypatch, client)
    second = client.search_runs(
        [exp_id],
        "tags.t = 'aaa'",
        order_by=["metrics.m ASC"],
        max_results=2,
        page_token=first.token,
    )
    assert second == [] and second.token is not None
    third = client.search_runs(
        [exp_id],
        "tags.t = 'aaa'",
        order_by=["metrics.m ASC"],
        max_results=2,
        page_token=second.token,
    )
    assert [r.info.run_id for r in third] == run_ids[4:]
    assert third[0].data.tags["u"] == "new"
    assert third.token is None
    assert seen["gather"] == [] and seen["sort"] == []
    fresh = client.search_runs([exp_id], "tags.t = 'aaa'", order_by=["metrics.m ASC"])
    assert [r.info.run_id for r in fresh] == [*run_ids[:2], *run_ids[4:]]


def test_a_token_of_another_query_pages_by_its_offset(tmp_path: Any) -> None:
    """A kept result serves only the query it was made for; another query's search given the
    token takes its offset, as MLflow's stores do."""
    client = Client(tracking_uri=str(tmp_path / "mlruns"))
    exp_id = client.create_experiment("paged")
    run_ids = ended_runs(client, exp_id, 4)
    token = client.search_runs([exp_id], order_by=["metrics.m DESC"], max_results=1).token
    other = client.search_runs(
        [exp_id], order_by=["metrics.m ASC"], max_results=1, page_token=token
    )
    assert [r.info.run_id for r in other] == [run_ids[1]]


def test_a_runs_frame_is_built_page_by_page(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """``search_runs(output_format="pandas")`` asks for a page at a time and gives the frame
    MLflow's shape: a key first seen on a later page is missing (NaN / None) before it."""
    import math

    import fsregistry
    from fsregistry import fluent
    from fsregistry.entities import Metric, Param, RunTag
    from fsregistry.run_frames import runs_to_pandas

    uri = str(tmp_path / "mlruns")
    monkeypatch.setattr(fluent, "FRAME_PAGE", 2)
    fsregistry.set_tracking_uri(uri)
    client = Client(tracking_uri=uri)
    exp_id = client.create_experiment("frame")
    for i in range(5):
        run_id = client.create_run(exp_id).info.run_id
        late = i == 3
        client.log_batch(
            run_id,
            metrics=[Metric("m", float(i), 1, 0)] + ([Metric("late", 1.0, 1, 0)] if late else []),
            params=[Param("p", str(i))] + ([Param("q", "x")] if late else []),
            tags=[RunTag("t", "a")] + ([RunTag("u", "y")] if late else []),
        )
    asked: list[int] = []
    search = Client.search_runs

    def counting(self: Client, *a: Any, **k: Any) -> Any:
        asked.append(a[3] if len(a) > 3 else k["max_results"])
        return search(self, *a, **k)

    monkeypatch.setattr(Client, "search_runs", counting)
    frame = fsregistry.search_runs([exp_id], order_by=["metrics.m ASC"])
    assert asked == [2, 2, 2], "a page at a time"
    listed = fsregistry.search_runs([exp_id], order_by=["metrics.m ASC"], output_format="list")
    expected = runs_to_pandas(listed)
    assert list(frame.columns) == list(expected.columns)
    assert frame.equals(expected)
    assert list(frame["params.p"]) == ["0", "1", "2", "3", "4"]
    assert [v == "x" for v in frame["params.q"]] == [False, False, False, True, False]
    assert frame["params.q"].isna().sum() == 4
    late = list(frame["metrics.late"])
    assert [math.isnan(v) for v in late] == [True, True, True, False, True]


# -- a trusted run index (fsregistry.tracking.trust) ------------------------------------------


def _answer(client: Client, exp_id: str, **kw: Any) -> list[tuple[Any, ...]]:
    runs = client.search_runs([exp_id], **kw)
    return [
        (r.info.run_id, r.info.status, r.info.lifecycle_stage, r.data.metrics, r.data.tags)
        for r in runs
    ]


def _fresh(client: Client, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Forget what the client's store decoded (as a new process would) and record the runs it
    reads from their files from now on."""
    from fsreg_testing.runs import spy_reads

    client.store._search._answers = run_search.Answers()
    return spy_reads(client, monkeypatch)


def test_trust_is_declared_in_the_store(
    store_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fsregistry.tracking import trust

    monkeypatch.delenv(trust.ENV, raising=False)
    client = Client(tracking_uri=store_url)
    client.create_experiment("declared")
    storage = client.store.storage
    assert trust.declared(storage) is (backend != "local"), "on buckets by default"
    trust.declare(storage, backend == "local")
    assert trust.declared(storage) is (backend == "local")
    monkeypatch.setenv(trust.ENV, "0")
    assert trust.declared(storage) is False


QUERIES: list[dict[str, Any]] = [
    {},
    {"filter_string": "metrics.m >= 2"},
    {"filter_string": "tags.t = 'aaa'", "order_by": ["metrics.m DESC"]},
    {"order_by": ["metrics.m ASC"], "run_view_type": "ALL"},
    {"filter_string": "attributes.status = 'FINISHED'", "run_view_type": "ALL"},
]


def test_a_trusted_search_reads_only_what_it_cannot_trust(
    store_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trusted and untrusted searches give the same answers; the trusted one checks against
    their files only the runs that are running, unsummarised or written by fsregistry after
    they ended (marked changed before the write), reads those whose files changed since
    summarised, and decodes the rest from the shards."""
    from fsregistry.entities import Metric
    from fsregistry.tracking import trust

    client = Client(tracking_uri=store_url)
    exp_id = client.create_experiment("trusted")
    run_ids = ended_runs(client, exp_id, 6)
    running = client.create_run(exp_id).info.run_id
    client.log_metric(running, "m", 9.0)
    client.set_tag(run_ids[0], "t", "after the end")  # written after the end: marked
    client.log_batch(run_ids[1], metrics=[Metric("m", 50.0, 5, 1)])
    client.delete_run(run_ids[2])
    client.flush()
    if backend == "local":
        age_tree(store_url)
    monkeypatch.setenv(trust.ENV, "0")
    untrusted = [_answer(client, exp_id, **q) for q in QUERIES]
    monkeypatch.setenv(trust.ENV, "1")
    read = _fresh(client, monkeypatch)
    checked = _spy(monkeypatch, client)["listed"]
    trusted = [_answer(client, exp_id, **q) for q in QUERIES]
    assert trusted == untrusted
    assert set(checked) == {running, *run_ids[:3]}, "only what a trusted index cannot vouch for"
    assert read == [], "checked against the summaries the untrusted searches left, not read"
    changed = client.store.storage.read(f"{exp_id}/{trust.CHANGED_FILE}").split()
    assert sorted(changed) == sorted(r.encode() for r in run_ids[:3])
    client.set_tag(run_ids[4], "t", "later")
    client.set_terminated(running)
    read.clear()
    again = _answer(client, exp_id, filter_string="tags.t = 'later'")
    assert [a[0] for a in again] == [run_ids[4]], "a write after the end is seen"
    assert set(read) <= {run_ids[4], running, *run_ids[:3]}


def test_a_write_by_mlflow_into_a_trusted_store_is_seen(
    mlflow_python: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Real MLflow creates a run in a trusted experiment, logs to a run fsregistry started and
    ends it: a trusted search (a new process's view) reads those runs from their files and
    answers as an untrusted one does, while it decodes the runs fsregistry ended from the
    shards."""
    from fsregistry.tracking import trust

    root = tmp_path / "mlruns"
    client = Client(tracking_uri=str(root))
    exp_id = client.create_experiment("shared")
    ended = ended_runs(client, exp_id, 3)
    started = client.create_run(exp_id).info.run_id
    trust.declare(client.store.storage, True)
    monkeypatch.delenv(trust.ENV, raising=False)
    age_tree(str(root))
    assert len(client.search_runs([exp_id])) == 4  # warm: summaries in memory and shards
    code = f"""
import json, mlflow
from mlflow.tracking import MlflowClient
c = MlflowClient({str(root)!r})
run = c.create_run({exp_id!r})
c.log_metric(run.info.run_id, "m", 100.0)
c.set_terminated(run.info.run_id)
c.log_metric({started!r}, "m", 50.0)
c.set_terminated({started!r}, "FAILED")
print(json.dumps({{"new": run.info.run_id}}))
"""
    new = mlflow_python.run(code, cwd=tmp_path)["new"]
    read = _fresh(client, monkeypatch)
    top = client.search_runs([exp_id], order_by=["metrics.m DESC"], max_results=2)
    assert [r.info.run_id for r in top] == [new, started]
    assert top[1].info.status == "FAILED" and top[1].data.metrics["m"] == 50.0
    assert set(read) == {new, started}, "the runs fsregistry ended came from the shards"
    failed = client.search_runs([exp_id], "attributes.status = 'FAILED'")
    assert [r.info.run_id for r in failed] == [started]
    trusted_answer = _answer(client, exp_id, order_by=["metrics.m DESC"])
    monkeypatch.setenv(trust.ENV, "0")
    _fresh(client, monkeypatch)
    assert _answer(client, exp_id, order_by=["metrics.m DESC"]) == trusted_answer
    assert [a[0] for a in trusted_answer] == [new, started, *ended[::-1]]


# -- memory of the decoded run index ----------------------------------------------------------


def _cloned_shards(tmp_path: Any, count: int) -> tuple[Client, str, dict[str, str]]:
    """An experiment whose run index holds ``count`` runs: one run written through the API
    (20 params, 10 tags, 10 metrics) and its shard line cloned with new run ids, file tokens,
    run names and metric values, as a store of ``count`` such runs leaves its shards."""
    import json
    import re
    import uuid

    from fsregistry.entities import Metric, Param, RunTag
    from fsregistry.tracking import run_index
    from fsregistry.tracking.records import RunFiles, plain_meta

    root = tmp_path / "mlruns"
    client = Client(tracking_uri=str(root))
    exp_id = client.create_experiment("memory")
    run_id = client.create_run(exp_id, run_name="run-0").info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric(f"m{k}", k / 7, 1_700_000_000_000 + k, 19) for k in range(10)],
        params=[Param(f"p{k}", f"v{k % 4}") for k in range(20)],
        tags=[RunTag(f"t{k}", f"tag-{k % 3}") for k in range(10)],
    )
    client.set_terminated(run_id)
    shard = (root / exp_id / run_index.shard_name(run_id)).read_bytes()
    entry = (run_index.decode_shard(shard) or {})[run_id]
    lines: dict[str, list[bytes]] = {}
    for i in range(count):
        new_id = uuid.uuid4().hex
        text = json.dumps(entry, separators=(",", ":")).replace(run_id, new_id)
        clone = json.loads(text)
        tokens = re.sub(r"-(\d+)\|", lambda m, i=i: f"-{int(m[1]) + i}|", clone["tok"])
        run = clone["run"]
        run["meta"]["run_name"] = f"run-{i}"
        metrics = {k: (p[0] + i, *p[1:]) for k, p in run["metrics"].items()}
        files = RunFiles(
            plain_meta(run["meta"]), metrics, run["params"], run["tags"], (), (), strings=None
        )
        lines.setdefault(run_index.shard_name(new_id), []).append(
            run_index.encode_line(new_id, tokens, files)
        )
    for name, shard_lines in lines.items():
        data = b"\n".join([run_index._HEADER, *shard_lines]) + b"\n"
        (root / exp_id / name).write_bytes(data)
    return client, exp_id, {name: f"token-{name}" for name in lines}


def test_the_decoded_run_index_is_compact(tmp_path: Any) -> None:
    """Memory, not time (issue 24: a full search of 100,000 runs in 300 MB): decoding the
    shards of 3,000 runs keeps under 2.6 KB a run (tokens, meta, params, tags, metrics), and
    holds a few shards' bytes at a time, not every shard's at once."""
    import gc
    import tracemalloc

    from fsregistry.tracking import run_index

    count = 3000
    client, exp_id, shards = _cloned_shards(tmp_path, count)
    storage = client.store.storage
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        index = run_index.ExperimentIndex()
        index.load_shards(storage, exp_id, shards)
        gc.collect()
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(index.runs) == count
    assert (kept - base) / count < 2600, f"{(kept - base) / count:.0f} bytes a run"
    assert (peak - base) / count < 4000, f"peak {(peak - base) / count:.0f} bytes a run"
    some = next(iter(index.runs.values())).files
    assert some.params["p1"] == "v1" and some.tags["t2"] == "tag-2"


@pytest.mark.parametrize("trusted", ["0", "1"])
def test_kept_results_share_one_string_per_run_id(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, trusted: str
) -> None:
    """The sorted results a process keeps for paging (one per first page) hold the run ids
    the index holds, not each listing's own copies (~80 bytes a run per kept result)."""
    from fsregistry.tracking import trust

    monkeypatch.setenv(trust.ENV, trusted)
    client = Client(tracking_uri=str(tmp_path / "mlruns"))
    exp_id = client.create_experiment("shared-ids")
    ended_runs(client, exp_id, 3)
    age_tree(tmp_path / "mlruns")
    for _ in range(2):
        assert client.search_runs([exp_id], max_results=1).token is not None
    cursors = client.store._search._cursors
    assert len(cursors) == 2
    index = client.store._reader.indexes[exp_id]
    held = {id(key) for key in index.runs}
    for kept in cursors._held.values():
        assert all(id(run_id) in held for run_id in kept.candidates.run_ids)
