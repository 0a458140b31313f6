"""Run summaries speed up search but never hide a change made by anyone else.

Each test warms this process's summaries and the shard files, then changes run files the way
MLflow (or a person) would, bypassing fsregistry, and searches again from the warm process.
On local disk the files are first aged past the "racy" window, so the cached path, not the
racy guard, is what gets tested; there (on Linux) the warm search also leaves every run
vouched for by the change feed (``storage.changes``), so the same tests prove that the feed
reports each change.
"""

from __future__ import annotations

import gc
import json
import os
import sys
import time
import types
from pathlib import Path
from typing import Any

import pytest

from fsreg_testing.runs import age_tree, ended_runs, spy_reads
from fsregistry import Client
from fsregistry.tracking import run_index
from fsregistry.tracking.search_rows import Cursors


@pytest.fixture(autouse=True)
def _untrusted(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests change runs the way other programs do, which only an untrusted index sees:
    the default on local disk, not on buckets (``fsregistry.tracking.trust``)."""
    monkeypatch.setenv("FSREG_TRUST_INDEX", "0")


@pytest.fixture
def warm(
    store_url: str, backend: str, store_fs: tuple[Any, str]
) -> tuple[Client, str, list[str], Any, str]:
    client = Client(tracking_uri=store_url)
    exp_id = client.create_experiment("indexed")
    run_ids = ended_runs(client, exp_id, 4)
    fs, root = store_fs
    if backend == "local":
        age_tree(root)
    first = client.search_runs([exp_id])
    assert len(first) == 4
    shards = [
        p
        for p in fs.find(f"{root}/{exp_id}")
        if os.path.basename(p).startswith(run_index.SHARD_PREFIX)
    ]
    assert shards, "the first search should persist summaries"
    index = client.store._reader.indexes[exp_id]
    assert set(index.runs) == set(run_ids)  # all summarised (nothing racy after aging)
    if backend == "local" and sys.platform == "linux":
        assert set(index.verified) == set(run_ids)  # what follows goes through the feed
    return client, exp_id, run_ids, fs, root


def _write_like_mlflow(fs: Any, path: str, data: bytes, backend: str, age: bool) -> None:
    fs.pipe_file(path, data)
    if backend == "local" and age:
        then = time.time() - 50  # old, but not the mtime the summary saw
        os.utime(path, (then, then))


CHANGES = {
    # MLflow appends a metric line in place
    "metric-append": ("metrics/m", lambda old: old + b"5 9.0 3\n"),
    # MLflow overwrites a tag in place; same length, so only the mtime/ETag tells
    "tag-same-length": ("tags/t", lambda old: b"bbb"),
    # MLflow rewrites meta.yaml in place (e.g. a status change)
    "meta-rewrite": ("meta.yaml", lambda old: old.replace(b"status: 3", b"status: 4")),
}


@pytest.mark.parametrize("age", [False, True], ids=["just-written", "aged"])
@pytest.mark.parametrize("change", sorted(CHANGES))
def test_external_changes_are_seen(
    warm: tuple[Client, str, list[str], Any, str], backend: str, age: bool, change: str
) -> None:
    client, exp_id, run_ids, fs, root = warm
    rel, edit = CHANGES[change]
    path = f"{root}/{exp_id}/{run_ids[0]}/{rel}"
    _write_like_mlflow(fs, path, edit(fs.cat_file(path)), backend, age)
    run = {r.info.run_id: r for r in client.search_runs([exp_id])}[run_ids[0]]
    if change == "metric-append":
        assert run.data.metrics["m"] == 9.0
        assert [r.info.run_id for r in client.search_runs([exp_id], "metrics.m > 5")] == [
            run_ids[0]
        ]
    elif change == "tag-same-length":
        assert run.data.tags["t"] == "bbb"
        assert [r.info.run_id for r in client.search_runs([exp_id], "tags.t = 'bbb'")] == [
            run_ids[0]
        ]
    else:
        assert run.info.status == "FAILED"


def test_new_param_file_is_seen(
    warm: tuple[Client, str, list[str], Any, str], backend: str
) -> None:
    client, exp_id, run_ids, fs, root = warm
    _write_like_mlflow(fs, f"{root}/{exp_id}/{run_ids[0]}/params/new", b"v", backend, True)
    run = {r.info.run_id: r for r in client.search_runs([exp_id])}[run_ids[0]]
    assert run.data.params["new"] == "v"


def test_removed_run_disappears_and_new_run_appears(
    warm: tuple[Client, str, list[str], Any, str],
) -> None:
    client, exp_id, run_ids, fs, root = warm
    fs.rm(f"{root}/{exp_id}/{run_ids[1]}", recursive=True)
    new_id = Client(tracking_uri=client.tracking_uri).create_run(exp_id).info.run_id
    got = {r.info.run_id for r in client.search_runs([exp_id])}
    assert got == (set(run_ids) - {run_ids[1]}) | {new_id}


def test_damaged_shards_are_ignored(warm: tuple[Client, str, list[str], Any, str]) -> None:
    client, exp_id, run_ids, fs, root = warm
    for path in fs.find(f"{root}/{exp_id}"):
        if os.path.basename(path).startswith(run_index.SHARD_PREFIX):
            fs.pipe_file(path, b"{not json")
    fresh = Client(tracking_uri=client.tracking_uri)
    fresh.store._reader.indexes.clear()  # a new process: only the damaged shards to go on
    got = {r.info.run_id: r.data.params["p"] for r in fresh.search_runs([exp_id])}
    assert got == {rid: str(i) for i, rid in enumerate(run_ids)}


def test_a_new_process_uses_the_shards(
    warm: tuple[Client, str, list[str], Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, exp_id, _, _, _ = warm
    store = client.store
    store._reader.indexes.clear()
    read_runs = []
    original = store._reader.read_runs
    monkeypatch.setattr(
        store._reader,
        "read_runs",
        lambda exp_dir, per_run, *a: read_runs.extend(per_run) or original(exp_dir, per_run, *a),
    )
    assert len(store.search_runs([exp_id])) == 4
    assert read_runs == []  # everything came from the shard files


def test_the_writer_summarises_a_run_when_it_ends(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = Client(tracking_uri=store_url)
    exp_id = writer.create_experiment("ended")
    ended = ended_runs(writer, exp_id, 3)
    running = writer.create_run(exp_id).info.run_id  # not ended: nobody summarised it
    reader = Client(tracking_uri=store_url)
    read_runs = spy_reads(reader, monkeypatch)
    runs = {r.info.run_id: r for r in reader.search_runs([exp_id])}
    assert set(runs) == {*ended, running}
    assert read_runs == [running]  # the ended runs came from the writer's summaries
    for i, run_id in enumerate(ended):
        assert runs[run_id].data.params == {"p": str(i)}
        assert runs[run_id].data.metrics == {"m": float(i)}
        assert runs[run_id].info.status == "FINISHED"


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_change_after_end_run_is_seen_by_a_new_process(
    store_url: str, store_fs: tuple[Any, str], backend: str, change: str
) -> None:
    writer = Client(tracking_uri=store_url)
    exp_id = writer.create_experiment("changed")
    run_ids = ended_runs(writer, exp_id, 2)
    fs, root = store_fs
    rel, edit = CHANGES[change]
    path = f"{root}/{exp_id}/{run_ids[0]}/{rel}"
    # Right after end_run, without aging: the writer's summary is as fresh as it gets.
    _write_like_mlflow(fs, path, edit(fs.cat_file(path)), backend, age=False)
    reader = Client(tracking_uri=store_url)
    reader.store._reader.indexes.clear()
    run = {r.info.run_id: r for r in reader.search_runs([exp_id])}[run_ids[0]]
    if change == "metric-append":
        assert run.data.metrics["m"] == 9.0
    elif change == "tag-same-length":
        assert run.data.tags["t"] == "bbb"
    else:
        assert run.info.status == "FAILED"


def test_racy_files_are_never_summarised(tmp_path: Path) -> None:
    client = Client(tracking_uri=str(tmp_path / "mlruns"))
    exp_id = client.create_experiment("fresh")
    run_id = client.create_run(exp_id).info.run_id
    client.search_runs([exp_id])
    assert run_id not in client.store._reader.indexes[exp_id].runs  # written < 2 s ago


# -- searches that check only the files they need (local disk), and return the rest fresh ----
def _edit(fs: Any, path: str, data: bytes, backend: str) -> None:
    _write_like_mlflow(fs, path, data, backend, age=True)


def test_order_by_a_metric_appended_in_place_reorders(
    warm: tuple[Client, str, list[str], Any, str], backend: str
) -> None:
    client, exp_id, run_ids, fs, root = warm
    top = client.search_runs([exp_id], order_by=["metrics.m DESC"], max_results=1)
    assert [r.info.run_id for r in top] == [run_ids[3]]
    path = f"{root}/{exp_id}/{run_ids[0]}/metrics/m"
    _edit(fs, path, fs.cat_file(path) + b"5 99.0 7\n", backend)
    for reader in (client, Client(tracking_uri=client.tracking_uri)):
        top = reader.search_runs([exp_id], order_by=["metrics.m DESC"], max_results=1)
        assert [r.info.run_id for r in top] == [run_ids[0]]
        assert top[0].data.metrics["m"] == 99.0


def test_files_the_filter_does_not_name_are_fresh_in_returned_runs(
    warm: tuple[Client, str, list[str], Any, str], backend: str
) -> None:
    client, exp_id, run_ids, fs, root = warm
    run_dir = f"{root}/{exp_id}/{run_ids[2]}"
    _edit(fs, f"{run_dir}/tags/t", b"zzz", backend)  # same length, in place
    _edit(fs, f"{run_dir}/tags/added", b"by hand", backend)
    fs.rm(f"{run_dir}/params/p")
    for reader in (client, Client(tracking_uri=client.tracking_uri)):
        (run,) = reader.search_runs([exp_id], "metrics.m = 2")
        assert run.info.run_id == run_ids[2]
        assert run.data.tags["t"] == "zzz" and run.data.tags["added"] == "by hand"
        assert "p" not in run.data.params


def test_files_the_filter_names_decide_membership(
    warm: tuple[Client, str, list[str], Any, str], backend: str
) -> None:
    client, exp_id, run_ids, fs, root = warm
    exp_dir = f"{root}/{exp_id}"
    fs.rm(f"{exp_dir}/{run_ids[1]}/metrics/m")  # m gone: no longer matches m >= 0
    _edit(fs, f"{exp_dir}/{run_ids[2]}/params/q", b"new", backend)  # a param it never had
    for reader in (client, Client(tracking_uri=client.tracking_uri)):
        got = {r.info.run_id for r in reader.search_runs([exp_id], "metrics.m >= 0")}
        assert got == set(run_ids) - {run_ids[1]}
        got = [r.info.run_id for r in reader.search_runs([exp_id], "params.q = 'new'")]
        assert got == [run_ids[2]]


def test_run_name_from_the_tag_when_meta_has_none(
    warm: tuple[Client, str, list[str], Any, str], backend: str
) -> None:
    """Older trees keep the name only in the mlflow.runName tag; a hand edit of that tag must
    show in a run_name filter (the tag decides the attribute there)."""
    client, exp_id, run_ids, fs, root = warm
    run_dir = f"{root}/{exp_id}/{run_ids[0]}"
    meta = fs.cat_file(f"{run_dir}/meta.yaml")
    _edit(fs, f"{run_dir}/meta.yaml", meta.replace(b"run_name: r0", b"run_name: ''"), backend)
    assert [r.info.run_id for r in client.search_runs([exp_id], "run_name = 'r0'")] == [run_ids[0]]
    _edit(fs, f"{run_dir}/tags/mlflow.runName", b"renamed", backend)
    for reader in (client, Client(tracking_uri=client.tracking_uri)):
        (run,) = reader.search_runs([exp_id], "attributes.run_name = 'renamed'")
        assert run.info.run_id == run_ids[0] and run.info.run_name == "renamed"
        assert reader.search_runs([exp_id], "run_name = 'r0'") == []


def test_lifecycle_change_in_meta_is_seen(
    warm: tuple[Client, str, list[str], Any, str], backend: str
) -> None:
    client, exp_id, run_ids, fs, root = warm
    path = f"{root}/{exp_id}/{run_ids[3]}/meta.yaml"
    _edit(
        fs,
        path,
        fs.cat_file(path).replace(b"lifecycle_stage: active", b"lifecycle_stage: deleted"),
        backend,
    )
    for reader in (client, Client(tracking_uri=client.tracking_uri)):
        active = {r.info.run_id for r in reader.search_runs([exp_id], "metrics.m >= 0")}
        assert active == set(run_ids[:3])
        deleted = reader.search_runs([exp_id], "metrics.m >= 0", run_view_type="DELETED_ONLY")
        assert [r.info.run_id for r in deleted] == [run_ids[3]]


def test_keys_that_name_no_file_match_nothing(
    warm: tuple[Client, str, list[str], Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, exp_id, run_ids, _, _ = warm
    nested = Client(tracking_uri=client.tracking_uri)
    nested.log_metric(run_ids[0], "a/b", 1.0)
    assert [r.info.run_id for r in client.search_runs([exp_id], "metrics.`a/b` > 0")] == [
        run_ids[0]
    ]
    # "a" is a directory, "a//b" and "a/" are not canonical paths: no run has such a metric.
    for key in ("a", "a//b", "a/"):
        assert client.search_runs([exp_id], f"metrics.`{key}` > 0") == []
    read_runs = spy_reads(client, monkeypatch)
    client.search_runs([exp_id])  # loads the summaries into the fresh index
    read_runs.clear()
    for key in ("a", "a//b", "a/"):
        assert client.search_runs([exp_id], f"metrics.`{key}` > 0") == []
    assert read_runs == []  # no run looked changed: nothing was read again


def test_a_repeated_search_lists_only_the_runs_it_returns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On local disk without a change feed, a search checks the named files of every run but
    lists (and checks every file of) only the runs on its page."""
    monkeypatch.setenv("FSREG_CHANGE_FEED", "0")
    client = Client(tracking_uri=str(tmp_path / "mlruns"))
    exp_id = client.create_experiment("page")
    run_ids = ended_runs(client, exp_id, 6)
    age_tree(str(tmp_path / "mlruns"))
    client.search_runs([exp_id])
    store = client.store
    walked: list[str] = []
    original = store.storage.walk
    monkeypatch.setattr(
        store.storage,
        "walk",
        lambda path, *a, **k: walked.append(path.rsplit("/", 1)[-1]) or original(path, *a, **k),
    )
    top = store.search_runs([exp_id], order_by=["metrics.m DESC"], max_results=2)
    assert [r.info.run_id for r in top] == [run_ids[5], run_ids[4]]
    assert sorted(walked) == sorted(run_ids[4:])
    walked.clear()
    fresh = Client(tracking_uri=client.tracking_uri).store
    monkeypatch.setattr(fresh.storage, "walk", store.storage.walk)
    assert [r.info.run_id for r in fresh.search_runs([exp_id], "params.p = '1'")] == [run_ids[1]]
    assert walked == [run_ids[1]]


def _count_sorts(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many rows each search sorts from now on (none: it reused a kept order)."""
    from fsregistry.tracking import run_search

    sorted_rows: list[int] = []
    original = run_search.sort_columns

    def counting(rows: Any, *a: Any, **k: Any) -> Any:
        sorted_rows.append(len(rows))
        return original(rows, *a, **k)

    monkeypatch.setattr(run_search, "sort_columns", counting)
    return sorted_rows


def test_pages_reuse_the_order_until_a_run_changes(
    warm: tuple[Client, str, list[str], Any, str],
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Paging sorts once: a next page comes from the kept order (every run once), with the
    current files of its runs; a change between pages (here a metric appended in place by
    another program) shows in the runs returned, and a new search (or a process without the
    kept order, paging by the token's offset) sorts again."""
    client, exp_id, run_ids, fs, root = warm
    sorts = _count_sorts(monkeypatch)

    def page(reader: Client, token: str | None = None) -> tuple[list[str], str | None]:
        got = reader.search_runs(
            [exp_id], order_by=["metrics.m DESC"], max_results=2, page_token=token
        )
        return [r.info.run_id for r in got], got.token

    first, token = page(client)
    assert first == [run_ids[3], run_ids[2]] and token is not None
    assert page(client, token)[0] == [run_ids[1], run_ids[0]]
    assert page(client)[0] == first
    assert sorts == [4], "the same runs, unchanged: sorted once for every page"
    path = f"{root}/{exp_id}/{run_ids[0]}/metrics/m"
    _edit(fs, path, fs.cat_file(path) + b"5 99.0 7\n", backend)
    second = client.search_runs(
        [exp_id], order_by=["metrics.m DESC"], max_results=2, page_token=token
    )
    assert [r.info.run_id for r in second] == [run_ids[1], run_ids[0]]  # the kept order
    assert second[1].data.metrics["m"] == 99.0, "with the run's current files"
    assert second.token is None
    assert sorts == [4], "a next page never sorts"
    client.store._search._cursors = Cursors()  # as in a process that did not keep it
    assert page(client, token)[0] == [run_ids[2], run_ids[1]]
    assert sorts == [4, 4], "without the kept order, the token's offset in a fresh search"
    assert page(client)[0] == [run_ids[0], run_ids[3]]  # m: r0 = 99 now leads
    assert sorts == [4, 4], "the changed runs' order, kept by the search before"
    other = client.search_runs([exp_id], "metrics.m >= 1", order_by=["metrics.m ASC"])
    assert [r.info.run_id for r in other] == [run_ids[1], run_ids[2], run_ids[3], run_ids[0]]
    assert sorts[-1] == 4, "another query is sorted on its own"


def test_an_order_that_needs_built_runs_is_not_kept(
    warm: tuple[Client, str, list[str], Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The artifact URI comes from the store's location, not the run's files alone: a search
    ordered on it sorts every time."""
    client, exp_id, _, _, _ = warm
    sorts = _count_sorts(monkeypatch)
    for _ in range(2):
        got = client.search_runs([exp_id], order_by=["attributes.artifact_uri ASC"])
        assert len(got) == 4
    assert sorts == [4, 4]


def test_searches_leave_no_garbage_cycles_and_summaries_stay_untracked(tmp_path: Path) -> None:
    """A search over tens of thousands of runs must not set off full garbage collections:
    it makes no reference cycles (which only a full collection frees), and the summaries it
    keeps are made of values the collector stops tracking, so a collection, when it comes,
    does not walk every cached run. Counts objects, not time."""
    client = Client(tracking_uri=str(tmp_path / "mlruns"))
    exp_id = client.create_experiment("gc")
    ended_runs(client, exp_id, 5)
    age_tree(str(tmp_path / "mlruns"))
    searches: list[dict[str, Any]] = [
        {},
        {"filter_string": "metrics.m > 1 and params.p != 'x'", "order_by": ["tags.t"]},
        {"filter_string": "attributes.artifact_uri LIKE '%artifacts'"},  # builds runs
        {"order_by": ["metrics.m DESC"], "max_results": 2},
    ]
    for kwargs in searches:
        client.search_runs([exp_id], **kwargs)  # warm: summaries and built-run paths loaded
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds unreachable stays in gc.garbage
    try:
        for kwargs in searches:
            assert client.search_runs([exp_id], **kwargs)
        gc.collect()
        # Only fsregistry's objects count: other threads of the test process (pytest-xdist's)
        # may make cycles of their own meanwhile.
        ours = [o for o in gc.garbage if _defined_in_fsregistry(o)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert ours == []
    summaries = client.store._reader.indexes[exp_id].runs.values()
    assert len(summaries) == 5
    for summary in summaries:
        files = summary.files
        assert not gc.is_tracked(summary.tokens[0])  # (the tuple holds it: tracked)
        for part in (files._meta, files._params, files._tags, files._values, files.inputs):
            assert not gc.is_tracked(part), part


def test_the_collector_is_paused_only_while_shards_are_decoded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Decoding shards pauses the cyclic collector (each full collection would walk every run
    decoded so far), and leaves it as it found it: on, or off when something else turned it
    off."""
    client = Client(tracking_uri=str(tmp_path / "mlruns"))
    exp_id = client.create_experiment("paused")
    ended_runs(client, exp_id, 3)
    age_tree(str(tmp_path / "mlruns"))
    seen: list[bool] = []
    decode = run_index.shard_lines

    def spy(raw: bytes) -> Any:
        seen.append(gc.isenabled())
        return decode(raw)

    monkeypatch.setattr(run_index, "shard_lines", spy)
    assert gc.isenabled()
    for collector_on in (True, False):
        fresh = Client(tracking_uri=client.tracking_uri)
        fresh.store._reader.indexes.clear()  # a new process: the summaries come from the shards
        if not collector_on:
            gc.disable()
        try:
            assert len(fresh.search_runs([exp_id])) == 3
            assert gc.isenabled() is collector_on
        finally:
            gc.enable()
    assert seen and not any(seen), "the collector ran while shards were decoded"


def _defined_in_fsregistry(obj: Any) -> bool:
    module = obj.__module__ if isinstance(obj, types.FunctionType) else type(obj).__module__
    return str(module).startswith("fsregistry")


def test_shards_are_lines_and_a_writer_rewrites_only_its_run(
    store_url: str, store_fs: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fs, root = store_fs
    client = Client(tracking_uri=store_url)
    exp_id = client.create_experiment("lines")
    run_ids = ended_runs(client, exp_id, 3)
    index = client.store._reader.indexes[exp_id]
    one = run_index.shard_name(run_ids[0])
    shard = f"{root}/{exp_id}/{one}"
    monkeypatch.setattr(run_index, "shard_name", lambda run_id: one)  # all in one shard
    reader = client.store._reader
    listed = {r: reader.list_run(exp_id, r) for r in run_ids}
    decoded = reader.read_runs(exp_id, listed)
    line = {
        r: run_index.encode_line(r, run_index.tokens_of(listed[r], len(r) + 1) or "", decoded[r])
        for r in run_ids
    }
    index.persist(client.store.storage, exp_id, line, None)
    lines = fs.cat_file(shard).split(b"\n")
    assert lines[0] == b'{"format":7}' and lines[-1] == b""
    assert [json.loads(line.partition(b"\t")[0]) for line in lines[1:-1]] == run_ids
    others = [line for line in lines[1:-1] if json.loads(line.partition(b"\t")[0]) != run_ids[1]]
    # Valid JSON no encoder of ours writes: survives only if the lines are copied, not re-encoded.
    others = [line.replace(b"\t[", b"\t[ ", 2) for line in others]
    fs.pipe_file(shard, b"\n".join([lines[0], *others, b""]))
    index.persist(client.store.storage, exp_id, {run_ids[1]: line[run_ids[1]]}, set(run_ids))
    after = fs.cat_file(shard).split(b"\n")
    assert after[1:3] == others  # the other runs' lines are copied byte for byte
    decoded = run_index.decode_shard(fs.cat_file(shard))
    assert decoded is not None and set(decoded) == set(run_ids)
    index.persist(client.store.storage, exp_id, {run_ids[1]: line[run_ids[1]]}, {run_ids[1]})
    decoded = run_index.decode_shard(fs.cat_file(shard))
    assert decoded is not None and set(decoded) == {run_ids[1]}


def test_a_run_ended_again_is_summarised_again_and_its_last_line_counts(
    store_url: str,
    store_fs: tuple[Any, str],
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The writer that ends a run appends its line on a local disk (the shard's other lines
    are not rewritten) and replaces it on a bucket; either way a new process reads the run's
    latest summary, not the earlier one, from the shard."""
    fs, root = store_fs
    writer = Client(tracking_uri=store_url)
    exp_id = writer.create_experiment("again")
    (run_id,) = ended_runs(writer, exp_id, 1)
    shard = f"{root}/{exp_id}/{run_index.shard_name(run_id)}"
    before = fs.cat_file(shard)
    writer.set_tag(run_id, "t", "changed after the end")
    writer.set_terminated(run_id, "FAILED")
    after = fs.cat_file(shard)
    if backend == "local":
        assert after.startswith(before) and after.count(b"\n") == before.count(b"\n") + 1
    else:
        assert after.count(b"\n") == before.count(b"\n")  # replaced in place
    reader = Client(tracking_uri=store_url)
    read_runs = spy_reads(reader, monkeypatch)
    (run,) = reader.search_runs([exp_id], run_view_type="ALL")
    assert read_runs == [], "the latest summary came from the shard"
    assert run.data.tags["t"] == "changed after the end" and run.info.status == "FAILED"


def test_a_line_still_being_appended_is_left_out(tmp_path: Path) -> None:
    client = Client(tracking_uri=str(tmp_path / "mlruns"))
    exp_id = client.create_experiment("partial")
    (run_id,) = ended_runs(client, exp_id, 1)
    shard = tmp_path / "mlruns" / exp_id / run_index.shard_name(run_id)
    whole = shard.read_bytes()
    other = json.dumps("f" * 32).encode()
    shard.write_bytes(whole + other + b'\t[["meta.yaml"],[],[],[],[]]\t["1-2-3",')
    decoded = run_index.decode_shard(shard.read_bytes())
    assert decoded is not None and set(decoded) == {run_id}
    merged = run_index._merge_shard(shard.read_bytes(), {}, None)
    assert merged == whole  # the unfinished line is not copied into a rewrite


def test_a_shard_of_mostly_stale_lines_is_compacted_by_its_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client(tracking_uri=str(tmp_path / "mlruns"))
    exp_id = client.create_experiment("compact")
    run_ids = ended_runs(client, exp_id, 2)
    one = run_index.shard_name(run_ids[0])
    monkeypatch.setattr(run_index, "shard_name", lambda run_id: one)  # both in one shard
    index = client.store._reader.indexes[exp_id]
    storage = client.store.storage
    shard = tmp_path / "mlruns" / exp_id / one
    shard.unlink()
    reader = client.store._reader
    listed = {r: reader.list_run(exp_id, r) for r in run_ids}
    decoded = reader.read_runs(exp_id, listed)
    for _ in range(20):  # each run ended over and over: 40 lines for 2 runs
        for run_id in run_ids:
            tokens = run_index.tokens_of(listed[run_id], len(run_id) + 1) or ""
            index.append(storage, exp_id, run_id, index.record(run_id, tokens, decoded[run_id]))
    assert shard.read_bytes().count(b"\n") == 41
    fresh = run_index.ExperimentIndex()
    fresh.load_shards(storage, exp_id, {one: "unseen"})
    assert set(fresh.runs) == set(run_ids)
    lines = shard.read_bytes().split(b"\n")
    assert len(lines) == 4 and lines[-1] == b""  # header, one line per run
    assert {json.loads(line.partition(b"\t")[0]) for line in lines[1:3]} == set(run_ids)
    # A format-6 shard (a store upgraded from an older fsregistry) is compacted too, into
    # this format: it used to keep every stale line for good.
    for _ in range(20):
        for run_id in run_ids:
            tokens = run_index.tokens_of(listed[run_id], len(run_id) + 1) or ""
            index.append(storage, exp_id, run_id, index.record(run_id, tokens, decoded[run_id]))
    body = shard.read_bytes().partition(b"\n")[2]
    shard.write_bytes(b'{"format":6}\n' + body)
    assert body.count(b"\n") == 42
    run_index.ExperimentIndex().load_shards(storage, exp_id, {one: "unseen2"})
    lines = shard.read_bytes().split(b"\n")
    assert len(lines) == 4 and json.loads(lines[0]) == {"format": run_index._FORMAT}
    # A shard another version of fsregistry writes (another format) is never rewritten.
    other_version = b'{"format":99}\n' + b"".join(b'"r%d"\t{}\n' % i for i in range(40))
    shard.write_bytes(other_version)
    run_index.ExperimentIndex().load_shards(storage, exp_id, {one: "unseen"})
    assert shard.read_bytes() == other_version


def test_old_format_and_damaged_lines_are_read_from_the_files(
    store_url: str, store_fs: tuple[Any, str], backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs, root = store_fs
    client = Client(tracking_uri=store_url)
    exp_id = client.create_experiment("formats")
    run_ids = ended_runs(client, exp_id, 6)
    if backend == "local":
        age_tree(root)
    client.search_runs([exp_id])  # summarised again at the aged tokens
    shards = sorted(
        p
        for p in fs.find(f"{root}/{exp_id}")
        if os.path.basename(p).startswith(run_index.SHARD_PREFIX)
    )
    assert len(shards) > 1
    old_format, damaged = shards[0], shards[-1]
    # An older fsregistry's shard: one JSON document, format 3.
    entries = run_index.decode_shard(fs.cat_file(old_format))
    assert entries
    fs.pipe_file(old_format, json.dumps({"format": 3, "runs": entries}).encode())
    assert run_index.decode_shard(fs.cat_file(old_format)) == {}
    # A damaged line: that run only is read from its files.
    raw = fs.cat_file(damaged).split(b"\n")
    broken_run = json.loads(raw[1].partition(b"\t")[0])
    fs.pipe_file(damaged, b"\n".join([raw[0], raw[1][:-5], *raw[2:]]))
    decoded = run_index.decode_shard(fs.cat_file(damaged))
    assert decoded is not None and broken_run not in decoded
    assert run_index.decode_shard(b"{not json") is None
    read_runs = spy_reads(client, monkeypatch)
    got = {r.info.run_id: r.data.params["p"] for r in client.search_runs([exp_id])}
    assert got == {rid: str(i) for i, rid in enumerate(run_ids)}
    assert set(read_runs) == set(entries) | {broken_run}
    # Those runs were summarised again, in the current format.
    rewritten = run_index.decode_shard(fs.cat_file(old_format))
    assert rewritten is not None and set(rewritten) == set(entries)
