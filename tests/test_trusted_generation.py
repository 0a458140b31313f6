"""A repeated trusted search costs what changed, not the store (issue 24): with the
experiment's generation (``fsregistry.tracking.trust``) unchanged it lists nothing and reads
no run file; a change made by another process (a run created, ended, deleted, restored, or
written after its end) is seen by the next search, and on local disk so is a run directory
made or removed by plain file operations, as MLflow makes them.

Requests are counted per storage call (``fsreg_testing.runs.count_requests``), never timed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fsreg_testing.runs import age_tree, count_requests, ended_runs
from fsregistry import Client
from fsregistry.tracking import trust

QUERY: dict[str, Any] = {"order_by": ["metrics.m DESC"], "run_view_type": "ALL"}


def _trusted(store_url: str, monkeypatch: pytest.MonkeyPatch) -> Client:
    monkeypatch.setenv(trust.ENV, "1")
    return Client(tracking_uri=store_url)


def _answer(client: Client, exp_id: str) -> dict[str, tuple[Any, ...]]:
    return {
        r.info.run_id: (r.info.status, r.info.lifecycle_stage, r.data.metrics, r.data.tags)
        for r in client.search_runs([exp_id], **QUERY)
    }


def _spy_reads(client: Client, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Run ids the client's store reads from their files from now on."""
    reader = client.store._reader
    read: list[str] = []
    original = reader.read_runs

    def reading(exp_dir: str, per_run: Any, *a: Any) -> Any:
        read.extend(per_run)
        return original(exp_dir, per_run, *a)

    monkeypatch.setattr(reader, "read_runs", reading)
    return read


def test_a_repeated_trusted_search_with_nothing_changed_lists_and_reads_nothing(
    store_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _trusted(store_url, monkeypatch)
    exp_id = client.create_experiment("stamped")
    ended_runs(client, exp_id, 5)
    if backend == "local":
        age_tree(store_url)
    first = _answer(client, exp_id)
    read = _spy_reads(client, monkeypatch)
    requests = count_requests(client, monkeypatch)
    assert _answer(client, exp_id) == first
    assert requests.listed == [], "the experiment is not listed again"
    assert read == [], "no run file is read"
    assert requests.total <= 5, requests
    assert requests.written == []


def test_a_repeated_trusted_search_checks_only_the_running_runs(
    store_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run running at the last look is listed again (its end, or a metric, is seen without
    a stamp), and read again only when its files changed."""
    client = _trusted(store_url, monkeypatch)
    exp_id = client.create_experiment("stamped")
    ended_runs(client, exp_id, 4)
    running = client.create_run(exp_id).info.run_id
    client.log_metric(running, "m", 9.0)
    client.flush()
    if backend == "local":
        age_tree(store_url)
    _answer(client, exp_id)  # summarises the running run: on local disk its shard write
    first = _answer(client, exp_id)  # is an entry made in the directory, listed again here
    read = _spy_reads(client, monkeypatch)
    requests = count_requests(client, monkeypatch)
    assert _answer(client, exp_id) == first
    assert read == [] and requests.written == []
    assert requests.listed == [f"{exp_id}/{running}"], "the running run, not the experiment"
    client.log_metric(running, "m", 10.0)
    client.flush()
    assert _answer(client, exp_id)[running][2] == {"m": 10.0}
    assert read == [running]


_CHANGE = """
import json, sys
from fsregistry import Client
from fsregistry.entities import Metric
uri, exp_id, kind, run_id = sys.argv[1:]
client = Client(tracking_uri=uri)
if kind == "create":
    run_id = client.create_run(exp_id).info.run_id
    client.log_batch(run_id, metrics=[Metric("m", 100.0, 1, 0)])
    client.set_terminated(run_id)
elif kind == "end":
    client.set_terminated(run_id, "FAILED")
elif kind == "delete":
    client.delete_run(run_id)
elif kind == "restore":
    client.restore_run(run_id)
elif kind == "tag_after_end":
    client.set_tag(run_id, "t", "later")
client.flush()
print(json.dumps({"run_id": run_id}))
"""


def _in_another_process(store_url: str, exp_id: str, kind: str, run_id: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", _CHANGE, store_url, exp_id, kind, run_id],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout.strip().splitlines()[-1])["run_id"])


@pytest.mark.parametrize("kind", ["create", "end", "delete", "restore", "tag_after_end"])
def test_a_repeated_trusted_search_sees_another_process_change(
    store_url: str, backend: str, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    client = _trusted(store_url, monkeypatch)
    exp_id = client.create_experiment("stamped")
    run_ids = ended_runs(client, exp_id, 3)
    client.delete_run(run_ids[2])
    running = client.create_run(exp_id).info.run_id
    if backend == "local":
        age_tree(store_url)
    before = _answer(client, exp_id)
    _answer(client, exp_id)  # the repeated search, from the listing it keeps
    target = {"end": running, "delete": run_ids[0], "restore": run_ids[2]}.get(kind, run_ids[1])
    changed = _in_another_process(store_url, exp_id, kind, target)
    after = _answer(client, exp_id)
    if kind == "create":
        assert set(after) == {*before, changed} and after[changed][2] == {"m": 100.0}
    elif kind == "end":
        assert after[running][0] == "FAILED"
    elif kind == "delete":
        assert after[run_ids[0]][1] == "deleted"
    elif kind == "restore":
        assert after[run_ids[2]][1] == "active"
    else:
        assert after[run_ids[1]][3]["t"] == "later"
    unchanged = {r: a for r, a in after.items() if r not in (changed, running)}
    assert unchanged == {r: a for r, a in before.items() if r not in (changed, running)}
    requests = count_requests(client, monkeypatch)
    assert _answer(client, exp_id) == after
    assert exp_id not in requests.listed, "seen, the change costs no listing any more"


def _copy_run(exp_dir: Path, source: str, new: str) -> None:
    """A run directory made with plain file writes, as MLflow's file store makes them."""
    shutil.copytree(exp_dir / source, exp_dir / new)
    meta = exp_dir / new / "meta.yaml"
    meta.write_text(meta.read_text().replace(source, new))


def test_a_run_directory_made_or_removed_by_plain_file_writes_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "mlruns"
    client = _trusted(str(root), monkeypatch)
    exp_id = client.create_experiment("stamped")
    run_ids = ended_runs(client, exp_id, 3)
    age_tree(root)
    before = _answer(client, exp_id)
    _answer(client, exp_id)
    new = "f" * 32
    _copy_run(root / exp_id, run_ids[1], new)
    made = _answer(client, exp_id)
    assert set(made) == {*before, new} and made[new] == before[run_ids[1]]
    shutil.rmtree(root / exp_id / run_ids[0])
    removed = _answer(client, exp_id)
    assert set(removed) == {run_ids[1], run_ids[2], new}
    requests = count_requests(client, monkeypatch)
    assert _answer(client, exp_id) == removed
    assert exp_id not in requests.listed, "seen, the change costs no listing any more"


def test_a_run_stamps_its_experiment_once_created_and_not_when_ended(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writes a run costs stay constant: one stamp write when it is created, none when
    it ends (a reader reads a run that was running at its last look from its files)."""
    client = _trusted(store_url, monkeypatch)
    exp_id = client.create_experiment("stamped")
    stamp = trust.stamp_path(exp_id)
    requests = count_requests(client, monkeypatch)
    run_id = client.create_run(exp_id).info.run_id
    assert requests.written.count(stamp) == 1
    assert requests.written[-1] == stamp, "stamped after the run's files"
    requests.written.clear()
    client.log_metric(run_id, "m", 1.0)
    client.set_terminated(run_id)
    assert stamp not in requests.written
    client.set_tag(run_id, "t", "after the end")
    written = [p for p in requests.written if p.endswith((trust.CHANGED_FILE, trust.STAMP_FILE))]
    assert written == [f"{exp_id}/{trust.CHANGED_FILE}", stamp], "marked, then stamped"


def test_a_directory_token_changes_with_its_entries(
    store_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Local disk: made or removed sub-directories and files change it, a file written in a
    sub-directory does not; object stores have none (their stamp is all there is)."""
    storage = Client(tracking_uri=store_url).store.storage
    storage.write("d/sub/f", b"1")
    first = storage.dir_token("d")
    if backend != "local":
        assert first is None
        return
    assert first is not None and storage.dir_token("d") == first
    storage.write("d/sub/f", b"2")
    assert storage.dir_token("d") == first, "a change below an entry is not one of its entries"
    storage.make_dirs("d/other")
    second = storage.dir_token("d")
    assert second != first
    os.rmdir(Path(store_url) / "d" / "other")
    assert storage.dir_token("d") != second
    assert storage.dir_token("d/sub/f") is None and storage.dir_token("missing") is None


def test_deleting_or_restoring_the_experiment_is_seen_by_trusted_searches(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleting or restoring an experiment rewrites every run's lifecycle stage: a deleted
    experiment is searched checked, and a restore forgets the summaries a search of the
    deleted experiment recorded ('deleted'), so neither the searching process nor a fresh
    one answers the old stage; afterwards an unchanged repeated search lists nothing."""
    client = _trusted(store_url, monkeypatch)
    exp_id = client.create_experiment("deleted-whole")
    ended_runs(client, exp_id, 3)

    def stages(c: Client) -> set[str]:
        return {stage for _status, stage, *_ in _answer(c, exp_id).values()}

    assert stages(client) == {"active"}
    client.delete_experiment(exp_id)
    assert stages(client) == {"deleted"}
    assert stages(Client(tracking_uri=store_url)) == {"deleted"}
    client.restore_experiment(exp_id)
    assert stages(client) == {"active"}
    fresh = Client(tracking_uri=store_url)
    assert stages(fresh) == {"active"}
    requests = count_requests(fresh, monkeypatch)
    assert stages(fresh) == {"active"}
    assert requests.listed == [], "unchanged again: nothing listed"


def test_a_search_never_makes_the_stamp_of_an_experiment_it_does_not_find(
    store_url: str, store_fs: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader writes no stamp: one made while another process deletes the experiment
    would bring its directory back without meta.yaml (MLflow then cannot read or restore
    it). Without a stamp, searches list (the next create_run makes it)."""
    client = _trusted(store_url, monkeypatch)
    exp_id = client.create_experiment("no-stamp")
    assert trust.generation(client.store.storage, exp_id) is None
    assert trust.generation(client.store.storage, "123456789") is None
    fs, root = store_fs
    assert not fs.exists(f"{root}/123456789/{trust.STAMP_FILE}")
    assert not fs.exists(f"{root}/{exp_id}/{trust.STAMP_FILE}")
    ended_runs(client, exp_id, 1)
    assert trust.generation(client.store.storage, exp_id) is not None


def test_a_backend_fsregistry_cannot_create_runs_on_has_no_generation(
    tmp_path: Path,
) -> None:
    """A generic fsspec filesystem can neither create atomically nor hold empty directories, so
    fsregistry cannot create runs there: they come from MLflow or from fsregistry through a
    mount, neither of which stamps it. A stamp found there (gc, a restore) must not stand for
    the run set: a run added without one is seen by the next search in the same process."""
    import fsspec

    from fsregistry.storage.fsspec_store import FsspecStorage

    client = Client(str(tmp_path))
    exp = client.create_experiment("generic")
    client.create_run(exp)
    generic = FsspecStorage(fsspec.filesystem("file"), str(tmp_path), "file")
    caps = generic.capabilities
    assert not caps.atomic_create and not caps.directories and not caps.read_only
    trust.bump(generic, exp)
    assert (tmp_path / exp / trust.STAMP_FILE).exists()
    assert trust.generation(generic, exp) is None


def test_a_read_only_storage_has_no_generation(tmp_path: Path) -> None:
    """A storage that says it is read-only lists at every search, whatever else it can do
    (local disk has directories and directory tokens); the MLflow plugin's view says so."""
    from fsregistry.exceptions import FsRegistryException
    from fsregistry.mlflow_plugin.readonly import ReadOnlyStorage
    from fsregistry.storage import LocalStorage

    writable = LocalStorage(tmp_path)
    writable.make_dirs("1")
    trust.bump(writable, "1")
    assert trust.generation(writable, "1") is not None
    frozen = LocalStorage(tmp_path)
    frozen.capabilities = dataclasses.replace(frozen.capabilities, read_only=True)
    assert trust.generation(frozen, "1") is None
    view = ReadOnlyStorage(writable, lambda op: FsRegistryException(f"refused {op}"))
    assert view.capabilities.read_only
    assert trust.generation(view, "1") is None
