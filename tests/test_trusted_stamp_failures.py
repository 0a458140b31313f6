"""A call that changes an experiment's run set and cannot stamp it (``fsregistry.tracking.trust``)
is all-or-nothing too: ``create_run`` whose run-set stamp, or one of whose tags, cannot be
written raises the storage's ``MlflowException`` (``PERMISSION_DENIED`` here) and leaves no
run behind. It used to leave the run on disk while raising: a new process's search found a
run the call said it had not made, and a process holding an older listing of the
experiment (a trusted search, on a bucket) did not, until the next stamp.

The failure is a real ``PermissionError`` (EACCES) raised where the backend writes the file,
inside the backend's own error translation, so what reaches the caller is what a refused
write gives on that backend (local disk, moto S3, fake-gcs-server).
"""

from __future__ import annotations

import errno
from typing import Any

import pytest

from fsreg_testing.fuzz import diff, snapshot
from fsregistry import Client
from fsregistry.exceptions import StoragePermissionDenied
from fsregistry.storage import Storage
from fsregistry.tracking import trust
from fsregistry.tracking.runs import RUN_NAME_TAG

ALL = {"run_view_type": "ALL"}


def refuse_writes_of(storage: Storage, name: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on every write of a file called ``name`` fails as a write the store refuses
    (EACCES), raised inside the backend's error translation; returns the paths refused."""
    refused: list[str] = []
    for method in ("write", "_create", "_write_if_match", "append"):
        real = getattr(storage, method)

        def refusing(path: str, *args: Any, _real: Any = real) -> Any:
            if path.rsplit("/", 1)[-1] != name:
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
