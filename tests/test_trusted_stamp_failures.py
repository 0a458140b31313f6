"""The calls that stamp an experiment's run set or mark a run changed
(``fsregistry.tracking.trust``) are all-or-nothing too:

- ``create_run`` whose run-set stamp, or one of whose tags, cannot be written raises the
  storage's ``MlflowException`` (``PERMISSION_DENIED`` here) and leaves no run behind. It
  used to leave the run on disk while raising: a new process's search found a run the call
  said it had not made, and a process holding an older listing of the experiment (a
  trusted search, on a bucket) did not, until the next stamp.
- ``restore_experiment`` that cannot stamp the experiment (or write a meta.yaml) puts it
  back in the trash as it was; it used to raise with the experiment restored, or moved out
  of the trash still marked deleted.
- A write to an ended run that is refused (a param with another value, a missing tag, a
  bad status, a logged-model history tag that is not a list) marks nothing: it used to mark the run changed and stamp the experiment
  before it looked at what it was asked.

The failure is a real ``PermissionError`` (EACCES) raised where the backend writes the file,
inside the backend's own error translation, so what reaches the caller is what a refused
write gives on that backend (local disk, moto S3, fake-gcs-server).
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import Any

import pytest

from fsreg_testing.fuzz import diff, snapshot
from fsregistry import Client
from fsregistry.exceptions import FsRegistryException, StoragePermissionDenied
from fsregistry.storage import Storage
from fsregistry.tracking import trust
from fsregistry.tracking.runs import LOG_MODEL_HISTORY_TAG, RUN_NAME_TAG

ALL = {"run_view_type": "ALL"}


def refuse_writes_of(storage: Storage, name: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on every write of a file called ``name`` fails as a write the store refuses
    (EACCES), raised inside the backend's error translation; returns the paths refused. The
    copies ``move_tree`` makes on object stores (a move there is a copy of each file) are
    let through: the writes refused are the call's own."""
    refused: list[str] = []
    moving: list[str] = []
    real_move = storage.move_tree

    def move_tree(src: str, dst: str) -> None:
        moving.append(src)
        try:
            real_move(src, dst)
        finally:
            moving.pop()

    monkeypatch.setattr(storage, "move_tree", move_tree)
    for method in ("write", "_create", "_write_if_match", "append"):
        real = getattr(storage, method)

        def refusing(path: str, *args: Any, _real: Any = real) -> Any:
            if moving or path.rsplit("/", 1)[-1] != name:
                return _real(path, *args)
            refused.append(path)
            with storage._errors(path, writing=True):  # type: ignore[attr-defined]
                raise PermissionError(errno.EACCES, "Permission denied", path)

        monkeypatch.setattr(storage, method, refusing)
    return refused


def _run_ids(client: Client, exp_id: str) -> set[str]:
    return {r.info.run_id for r in client.search_runs([exp_id], **ALL)}


@pytest.mark.parametrize("refused_file", [trust.STAMP_FILE, RUN_NAME_TAG])
def test_a_create_run_that_cannot_stamp_or_tag_its_run_leaves_no_run(
    store_url: str, store_fs: tuple[Any, str], monkeypatch: pytest.MonkeyPatch, refused_file: str
) -> None:
    monkeypatch.setenv(trust.ENV, "1")
    client = Client(tracking_uri=store_url)
    exp_id = client.create_experiment("e")
    kept = client.create_run(exp_id).info.run_id
    client.set_terminated(kept)
    assert _run_ids(client, exp_id) == {kept}  # this process now holds a trusted listing
    before = snapshot(store_fs)

    refused = refuse_writes_of(client.store.storage, refused_file, monkeypatch)
    with pytest.raises(StoragePermissionDenied) as error:
        client.create_run(exp_id, run_name="half")
    assert error.value.error_code == "PERMISSION_DENIED"
    assert len(refused) == 1 and refused_file in str(error.value), (refused, error.value)
    assert "EACCES" in str(error.value)

    assert diff(before, snapshot(store_fs)) == []
    assert _run_ids(client, exp_id) == {kept}
    assert _run_ids(Client(tracking_uri=store_url), exp_id) == {kept}
    monkeypatch.delenv(trust.ENV)
    assert _run_ids(Client(tracking_uri=store_url), exp_id) == {kept}


def _files(store_fs: tuple[Any, str]) -> dict[str, bytes]:
    """Every file under the store root with its bytes, but the run-index shards: a cache
    that a restore deletes and the next search rebuilds."""
    fs, root = store_fs
    return {
        path: fs.cat_file(path)
        for path in sorted(fs.find(root))
        if not path.rsplit("/", 1)[-1].startswith(".fsreg-index-")
    }


def _runs(client: Client, exp_id: str) -> dict[str, tuple[Any, ...]]:
    return {
        r.info.run_id: (r.info.status, r.info.lifecycle_stage, r.data.tags.get(RUN_NAME_TAG))
        for r in client.search_runs([exp_id], **ALL)
    }


@pytest.mark.parametrize("refused_file", [trust.STAMP_FILE, "meta.yaml"])
def test_a_restore_experiment_that_cannot_stamp_puts_the_experiment_back(
    store_url: str, store_fs: tuple[Any, str], monkeypatch: pytest.MonkeyPatch, refused_file: str
) -> None:
    """The restore moves the experiment out of the trash, marks it and its runs active and
    deletes its index shards, then stamps it. Refused its stamp (or its first meta.yaml
    write), it used to raise with the experiment restored, or left active with a deleted
    meta.yaml; now it raises with everything back in the trash as it was."""
    monkeypatch.setenv(trust.ENV, "1")
    client = Client(tracking_uri=store_url)
    exp_id = client.create_experiment("e")
    ended = client.create_run(exp_id, run_name="ended").info.run_id
    client.set_terminated(ended)
    client.create_run(exp_id, run_name="running")
    gone = client.create_run(exp_id, run_name="gone").info.run_id
    client.delete_run(gone)
    client.flush()
    client.delete_experiment(exp_id)
    answer = _runs(client, exp_id)  # a trusted listing of the trashed experiment
    assert {stage for _status, stage, _name in answer.values()} == {"deleted"}
    before = _files(store_fs)
    experiment = client.get_experiment(exp_id)

    refused = refuse_writes_of(client.store.storage, refused_file, monkeypatch)
    with pytest.raises(StoragePermissionDenied) as error:
        client.restore_experiment(exp_id)
    assert error.value.error_code == "PERMISSION_DENIED"
    assert len(refused) == 1 and refused_file in str(error.value), (refused, error.value)

    assert _files(store_fs) == before
    assert client.get_experiment(exp_id) == experiment
    assert _runs(client, exp_id) == answer
    assert _runs(Client(tracking_uri=store_url), exp_id) == answer
    monkeypatch.delenv(trust.ENV)
    assert _runs(Client(tracking_uri=store_url), exp_id) == answer


REFUSED_ON_AN_ENDED_RUN: dict[str, Callable[[Client, str], object]] = {
    "log_param with another value": lambda c, r: c.log_param(r, "p", "2"),
    "delete_tag of a missing tag": lambda c, r: c.delete_tag(r, "missing"),
    "set_terminated with a bad status": lambda c, r: c.set_terminated(r, "BOGUS"),
    "set_terminated with a bad end_time": lambda c, r: c.set_terminated(r, end_time="x"),  # type: ignore[arg-type]
    "update_run with a bad name": lambda c, r: c.update_run(r, name="a\x00b"),
    "record_logged_model onto a history that is not a list": lambda c, r: (
        c.store.record_logged_model(r, {"model_id": "m"})
    ),
}


@pytest.mark.parametrize("call", REFUSED_ON_AN_ENDED_RUN, ids=list(REFUSED_ON_AN_ENDED_RUN))
def test_a_refused_write_to_an_ended_run_marks_nothing(
    store_url: str, store_fs: tuple[Any, str], call: str
) -> None:
    client = Client(tracking_uri=store_url)
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    client.log_param(run_id, "p", "1")
    client.set_tag(run_id, LOG_MODEL_HISTORY_TAG, "{}")
    client.set_terminated(run_id)
    client = Client(tracking_uri=store_url)  # a process that has not marked the run yet
    before = snapshot(store_fs)
    with pytest.raises(FsRegistryException) as error:
        REFUSED_ON_AN_ENDED_RUN[call](client, run_id)
    codes = ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST", "INVALID_STATE")
    assert error.value.error_code in codes, error.value
    assert diff(before, snapshot(store_fs)) == []


def test_a_failed_restore_leaves_restored_an_experiment_another_writer_made_a_run_in(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between the move out of the trash and the stamp, the experiment is active and another
    writer may make a run in it: undoing the restore then would take that run (which its
    writer was given) to the trash. The restore is left done, and the error says so."""
    monkeypatch.setenv(trust.ENV, "1")
    client = Client(tracking_uri=store_url)
    exp_id = client.create_experiment("e")
    client.set_terminated(client.create_run(exp_id).info.run_id)
    client.delete_experiment(exp_id)
    storage = client.store.storage
    real_write = storage.write
    made: list[str] = []

    def write(path: str, data: bytes) -> None:
        other = Client(tracking_uri=store_url)
        # The restore's own stamp (not a copy its move makes on a bucket), once it is active.
        if (
            path.endswith(trust.STAMP_FILE)
            and not made
            and other.get_experiment(exp_id).lifecycle_stage == "active"
        ):
            made.append("pending")
            made[0] = other.create_run(exp_id).info.run_id
            with storage._errors(path, writing=True):  # type: ignore[attr-defined]
                raise PermissionError(errno.EACCES, "Permission denied", path)
        real_write(path, data)

    monkeypatch.setattr(storage, "write", write)
    with pytest.raises(StoragePermissionDenied) as error:
        client.restore_experiment(exp_id)
    assert any("left restored" in note for note in error.value.__notes__)
    monkeypatch.setattr(storage, "write", real_write)
    fresh = Client(tracking_uri=store_url)
    assert fresh.get_experiment(exp_id).lifecycle_stage == "active"
    assert made[0] in {r.info.run_id for r in fresh.search_runs([exp_id])}
