"""The change feed (inotify) lets a process skip file checks it already made, and never
lets it miss a change another process made: each test verifies, changes files behind the
feed's back the way another program would, and checks the next answer."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from fsreg_testing.runs import age_tree, ended_runs
from fsregistry import Client
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.storage import changes
from fsregistry.storage.local import LocalStorage

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="inotify is Linux's")


def _feed(root: Path) -> changes.ChangeFeed:
    feed = LocalStorage(root).change_feed()
    assert feed is not None, "expected a feed on this machine's temp directory"
    return feed


# -- the feed itself ----------------------------------------------------------------------
def test_a_stamp_holds_until_a_change_in_its_directories(tmp_path: Path) -> None:
    (tmp_path / "run" / "metrics").mkdir(parents=True)
    (tmp_path / "other").mkdir()
    (tmp_path / "run" / "metrics" / "m").write_text("1 0.5 0\n")
    feed = _feed(tmp_path)
    stamp = feed.watch({"run": ["metrics", "params"]})["run"]
    feed.poll()
    assert feed.unchanged(stamp)
    (tmp_path / "other" / "x").write_text("elsewhere")
    with open(tmp_path / "run" / "metrics" / "m", "rb") as f:
        f.read()  # reading is no change
    feed.poll()
    assert feed.unchanged(stamp)
    with open(tmp_path / "run" / "metrics" / "m", "a") as f:
        f.write("2 0.7 1\n")
    assert feed.unchanged(stamp), "a change counts from the poll that takes it in"
    feed.poll()
    assert not feed.unchanged(stamp)


@pytest.mark.parametrize(
    "change",
    ["create-missing-subdir", "touch", "rename-into", "delete-file", "replace-subdir"],
)
def test_every_kind_of_change_voids_the_stamp(tmp_path: Path, change: str) -> None:
    run = tmp_path / "run"
    (run / "metrics").mkdir(parents=True)
    (run / "metrics" / "m").write_text("1 0.5 0\n")
    (run / "meta.yaml").write_text("status: 3\n")
    feed = _feed(tmp_path)
    stamp = feed.watch({"run": ["metrics", "params"]})["run"]
    if change == "create-missing-subdir":
        (run / "params").mkdir()
    elif change == "touch":
        os.utime(run / "meta.yaml", (1.0, 1.0))
    elif change == "rename-into":
        (tmp_path / "tmp").write_text("x")
        os.replace(tmp_path / "tmp", run / "metrics" / "m")
    elif change == "delete-file":
        (run / "metrics" / "m").unlink()
    else:
        os.rename(run / "metrics", tmp_path / "old-metrics")
        (run / "metrics").mkdir()
    feed.poll()
    assert not feed.unchanged(stamp)


def test_moving_a_directory_above_voids_every_stamp(tmp_path: Path) -> None:
    """A store copied into place of another: the watched directories are no longer the ones
    at the store's paths, and nothing inside them changed."""
    (tmp_path / "store" / "exp" / "run").mkdir(parents=True)
    feed = _feed(tmp_path / "store")
    stamp = feed.watch({"exp/run": []})["exp/run"]
    shutil.copytree(tmp_path / "store", tmp_path / "copy")
    os.rename(tmp_path / "store", tmp_path / "gone")
    os.rename(tmp_path / "copy", tmp_path / "store")
    feed.poll()
    assert not feed.unchanged(stamp)
    # After that, watching again works and holds.
    again = feed.watch({"exp/run": []})["exp/run"]
    feed.poll()
    assert feed.unchanged(again)


def test_a_queue_overflow_voids_every_stamp(tmp_path: Path) -> None:
    limit = int(Path("/proc/sys/fs/inotify/max_queued_events").read_text())
    if limit > 70_000:
        pytest.skip(f"max_queued_events is {limit}: too many files to make an overflow")
    (tmp_path / "busy").mkdir()
    (tmp_path / "quiet").mkdir()
    feed = _feed(tmp_path)
    stamps = feed.watch({"busy": [], "quiet": []})
    for i in range(limit + 10):  # distinct names: the kernel merges only identical events
        os.close(os.open(tmp_path / "busy" / f"f{i}", os.O_CREAT | os.O_WRONLY))
    feed.poll()
    assert not feed.unchanged(stamps["quiet"]), "events were lost: nothing can be vouched for"


def test_missing_directories_and_a_spent_budget_give_no_stamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    feed = _feed(tmp_path)
    assert feed.watch({"nothing-here": []}) == {}
    held = feed.watch({"c": []})["c"]
    inotify = feed._inotify
    monkeypatch.setattr(inotify, "budget", len(inotify.watches))  # every watch spent
    calls: list[bytes] = []
    add_watch = inotify._add_watch
    monkeypatch.setattr(
        inotify,
        "_add_watch",
        lambda fd, path, mask: calls.append(path) or add_watch(fd, path, mask),
    )
    assert feed.watch({"a": [], "b": []}) == {}
    assert calls == [], "a spent budget refuses new watches without asking the kernel"
    again = feed.watch({"c": []})["c"]  # a directory already watched can still be stamped
    assert again[2] == held[2]


def test_a_forked_child_gets_its_own_feed(tmp_path: Path) -> None:
    (tmp_path / "run").mkdir()
    feed = _feed(tmp_path)
    stamp = feed.watch({"run": []})["run"]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's stamps mean nothing to its own instance
        try:
            child = _feed(tmp_path)
            child.poll()
            os.write(write, json.dumps(child.unchanged(stamp)).encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as f:
        assert json.loads(f.read()) is False
    (tmp_path / "run" / "new").write_text("x")
    feed.poll()  # the child did not take the parent's events
    assert not feed.unchanged(stamp)


def test_turned_off_and_on_network_filesystems_there_is_no_feed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert LocalStorage(tmp_path).change_feed() is not None
    monkeypatch.setenv("FSREG_CHANGE_FEED", "0")
    assert LocalStorage(tmp_path).change_feed() is None
    monkeypatch.setenv("FSREG_CHANGE_FEED", "lots")
    with pytest.raises(InvalidParameterValue, match="FSREG_CHANGE_FEED='lots'"):
        LocalStorage(tmp_path).change_feed()
    monkeypatch.setenv("FSREG_CHANGE_FEED", "12345")
    feed = LocalStorage(tmp_path).change_feed()
    assert feed is not None and feed._inotify.budget == 12345
    monkeypatch.delenv("FSREG_CHANGE_FEED")
    monkeypatch.setattr("fsregistry.storage.local._filesystem_type", lambda path: "nfs4")
    assert LocalStorage(tmp_path).change_feed() is None


# -- searches -----------------------------------------------------------------------------
def _spy_checks(client: Client, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run files the store checks (stat or listing) from now on."""
    storage = client.store.storage
    checked: list[str] = []
    tokens, walk = storage.tokens, storage.walk

    def spy_tokens(paths: Any) -> dict[str, str]:
        paths = list(paths)
        checked.extend(p for p in paths if ".fsreg-index" not in p)
        return tokens(paths)

    def spy_walk(path: str, *a: Any, **k: Any) -> Any:
        checked.append(path)
        return walk(path, *a, **k)

    monkeypatch.setattr(storage, "tokens", spy_tokens)
    monkeypatch.setattr(storage, "walk", spy_walk)
    return checked


@pytest.fixture
def warm(tmp_path: Path) -> tuple[Client, str, list[str], Path]:
    client = Client(tracking_uri=str(tmp_path / "mlruns"))
    exp_id = client.create_experiment("fed")
    run_ids = ended_runs(client, exp_id, 4)
    age_tree(tmp_path / "mlruns")
    assert len(client.search_runs([exp_id])) == 4
    return client, exp_id, run_ids, tmp_path / "mlruns" / exp_id


def test_a_repeated_search_checks_no_file(
    warm: tuple[Client, str, list[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, exp_id, run_ids, _ = warm
    checked = _spy_checks(client, monkeypatch)
    assert {r.info.run_id for r in client.search_runs([exp_id])} == set(run_ids)
    top = client.search_runs([exp_id], order_by=["metrics.m DESC"], max_results=2)
    assert [r.info.run_id for r in top] == [run_ids[3], run_ids[2]]
    assert checked == [], "the feed vouched for every run: no stat, no listing"


def test_a_search_needing_other_files_checks_only_those(
    warm: tuple[Client, str, list[str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The feed vouches for the files a search checked; another search checks its own."""
    client, exp_id, run_ids, exp_dir = warm
    fresh = Client(tracking_uri=client.tracking_uri)
    fresh.store._reader.indexes.clear()  # a new process: summaries from the shards, none vouched for
    assert len(fresh.search_runs([exp_id], "params.p = '1'")) == 1
    checked = _spy_checks(fresh, monkeypatch)
    assert len(fresh.search_runs([exp_id], "params.p = '2'")) == 1
    assert [p.rsplit("/", 1)[-1] for p in checked] == [run_ids[2]]  # only the run returned
    checked.clear()
    top = fresh.search_runs([exp_id], order_by=["metrics.m DESC"], max_results=1)
    assert [r.info.run_id for r in top] == [run_ids[3]]
    assert checked and all("/metrics/m" in p or p.endswith("meta.yaml") for p in checked[:-1])
    checked.clear()
    with open(exp_dir / run_ids[1] / "metrics" / "m", "a") as f:
        f.write("5 99.0 3\n")
    top = fresh.search_runs([exp_id], order_by=["metrics.m DESC"], max_results=1)
    assert [r.info.run_id for r in top] == [run_ids[1]]


def test_nested_metric_directories_are_watched(tmp_path: Path) -> None:
    """``train/loss`` lives in metrics/train/: a change there, or a file appearing in a
    nested directory that was empty when the run was listed, is seen."""
    client = Client(tracking_uri=str(tmp_path / "mlruns"))
    exp_id = client.create_experiment("nested")
    run_ids = ended_runs(client, exp_id, 2, metric="train/loss")
    run = tmp_path / "mlruns" / exp_id / run_ids[0]
    (run / "metrics" / "val").mkdir()  # empty, as between MLflow's mkdir and its write
    age_tree(tmp_path / "mlruns")
    for _ in range(2):
        assert len(client.search_runs([exp_id])) == 2
    (run / "metrics" / "val" / "loss").write_text("5 0.25 3\n")
    got = {r.info.run_id: r for r in client.search_runs([exp_id])}[run_ids[0]]
    assert got.data.metrics == {"train/loss": 0.0, "val/loss": 0.25}
    with open(run / "metrics" / "train" / "loss", "a") as f:
        f.write("5 9.0 3\n")
    got = {r.info.run_id: r for r in client.search_runs([exp_id])}[run_ids[0]]
    assert got.data.metrics == {"train/loss": 9.0, "val/loss": 0.25}


def test_runs_beyond_the_budget_are_checked_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Runs beyond the watch budget are checked with stat, and a log line says once that the
    budget is spent (issue 24: degrade gracefully, and say so)."""
    from fsregistry.storage import changes

    caplog.set_level("WARNING", logger=changes.__name__)
    feed = changes.change_feed(str(tmp_path))
    if feed is not None:
        monkeypatch.setattr(feed._inotify, "said_spent", False, raising=False)  # a new process
    monkeypatch.setenv("FSREG_CHANGE_FEED", "1")  # one watch: less than any run needs
    client = Client(tracking_uri=str(tmp_path / "mlruns"))
    exp_id = client.create_experiment("unwatched")
    run_ids = ended_runs(client, exp_id, 3)
    age_tree(tmp_path / "mlruns")
    for _ in range(2):
        assert len(client.search_runs([exp_id])) == 3
    assert client.store._reader.indexes[exp_id].verified == {}
    checked = _spy_checks(client, monkeypatch)
    assert len(client.search_runs([exp_id])) == 3
    assert checked, "without watches, runs are checked file by file"
    said = [r for r in caplog.records if "max_user_watches" in r.getMessage()]
    assert len(said) == 1 and said[0].levelname == "WARNING", "said once, that it is spent"
    (tmp_path / "mlruns" / exp_id / run_ids[2] / "tags" / "t").write_text("ccc")
    runs = {r.info.run_id: r for r in client.search_runs([exp_id])}
    assert runs[run_ids[2]].data.tags["t"] == "ccc"


def test_runs_and_experiments_linked_from_elsewhere_are_not_watched_through(
    tmp_path: Path,
) -> None:
    """A symbolic link may lead to a network filesystem, whose changes make no event here:
    what is behind one is checked with stat in every search."""
    client = Client(tracking_uri=str(tmp_path / "mlruns"))
    linked_exp = client.create_experiment("linked")
    plain_exp = client.create_experiment("plain")
    in_linked = ended_runs(client, linked_exp, 2)
    in_plain = ended_runs(client, plain_exp, 3)
    store = tmp_path / "mlruns"
    os.rename(store / linked_exp, tmp_path / "elsewhere-exp")
    os.symlink(tmp_path / "elsewhere-exp", store / linked_exp)
    os.rename(store / plain_exp / in_plain[0], tmp_path / "elsewhere-run")
    os.symlink(tmp_path / "elsewhere-run", store / plain_exp / in_plain[0])
    age_tree(tmp_path / "elsewhere-exp")
    age_tree(tmp_path / "elsewhere-run")
    age_tree(store)
    for _ in range(2):
        assert len(client.search_runs([linked_exp, plain_exp])) == 5
    assert client.store._reader.indexes[linked_exp].verified == {}
    assert set(client.store._reader.indexes[plain_exp].verified) == set(in_plain[1:])
    (tmp_path / "elsewhere-exp" / in_linked[1] / "tags" / "t").write_text("bbb")
    (tmp_path / "elsewhere-run" / "tags" / "t").write_text("ccc")
    got = {r.info.run_id: r.data.tags["t"] for r in client.search_runs([linked_exp, plain_exp])}
    assert got[in_linked[1]] == "bbb" and got[in_plain[0]] == "ccc"
