"""A full disk and a read-only store, for real: a 1 MiB tmpfs mounted for the test (the
tests run as root; without the right to mount they are skipped, saying why), filled to the
last page, then remounted read-only. Every write API fails with a clear error
(``RESOURCE_EXHAUSTED``, ``PERMISSION_DENIED``) naming the path and the cause, leaves no
file, temp file, torn line or directory behind (the walk sees hidden files), and every read
keeps working. A read-only bucket is not tested: the S3 and GCS emulators have no
permissions to take away; their permission errors are mapped the same way
(``fsregistry/storage/s3.py``, ``gcs.py``)."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

import fsregistry
from fsregistry import Client
from fsregistry.entities import Metric, Param, RunTag
from fsregistry.exceptions import StorageFull, StoragePermissionDenied
from fsregistry.fluent import _stack

# A metric line of the edge file below ends 6 bytes short of a page: the next line needs a
# page of its own, which a full disk does not have, after its first 6 bytes have fit.
PAGE = 4096
EDGE_SIZE = PAGE - 6


def mount_tmpfs(point: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip() or done.returncode}")


def unmount(point: Path) -> None:
    if subprocess.run(["umount", str(point)], check=False).returncode != 0:
        subprocess.run(["umount", "-l", str(point)], check=True)


def remount_read_only(point: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)


def fill(point: Path) -> None:
    """Write a file outside the store until the disk has no page left."""
    fd = os.open(point / "filler", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    block = b"\0" * 65536
    try:
        while True:
            try:
                if os.write(fd, block) == 0:
                    break
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                if len(block) == 1:
                    break
                block = block[: len(block) // 2]
    finally:
        os.close(fd)
    assert os.statvfs(point).f_bavail == 0


def tree(root: Path) -> dict[str, bytes | None]:
    """Every directory (None) and file with its bytes below ``root``, hidden ones included."""
    out: dict[str, bytes | None] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root)] = None
        for f in filenames:
            full = os.path.join(dirpath, f)
            out[os.path.relpath(full, root)] = Path(full).read_bytes()
    return out


class Store(NamedTuple):
    disk: Path  # the mount point
    root: Path  # the store inside it
    client: Client
    exp_id: str
    run_id: str
    upload: Path  # a local directory of files to log, outside the tiny disk


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A store on a tiny tmpfs with an experiment, a run (params, metrics, tags, artifacts)
    and a registered model with a version, an alias and a tag; the fluent API points at it
    with the run active."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mount_tmpfs(disk)
    try:
        root = disk / "mlruns"
        client = Client(tracking_uri=str(root))
        exp_id = client.create_experiment("e")
        run_id = client.create_run(exp_id).info.run_id
        client.log_param(run_id, "p", "1")
        client.log_metric(run_id, "m", 0.5)
        client.set_tag(run_id, "t", "1")
        client.log_text(run_id, "text", "a.txt")
        client.log_text(run_id, "inner", "d/inner.txt")
        client.create_registered_model("m", tags={"t": "1"})
        client.create_model_version("m", f"runs:/{run_id}/d", run_id=run_id)
        client.set_registered_model_alias("m", "champion", 1)
        edge = root / exp_id / run_id / "metrics" / "edge"
        lines = b"".join(b"1700000000000 1.0 %d\n" % i for i in range(180))
        digits = b"2" * (EDGE_SIZE - len(lines) - len(b"1700000000000  7\n"))
        edge.write_bytes(lines + b"1700000000000 " + digits + b" 7\n")
        assert edge.stat().st_size == EDGE_SIZE
        upload = tmp_path / "upload"
        (upload / "sub").mkdir(parents=True)
        (upload / "one.txt").write_text("one")
        (upload / "sub" / "two.txt").write_text("two")
        fsregistry.set_tracking_uri(str(root))
        fsregistry.fluent._active_experiment_id = None
        _stack().clear()
        fsregistry.start_run(run_id=run_id)
        yield Store(disk, root, client, exp_id, run_id, upload)
    finally:
        _stack().clear()
        unmount(disk)


def write_calls(s: Store) -> dict[str, Callable[[], object]]:
    """Every write API, each making a new file (a full disk has no page for one)."""
    c, run = s.client, s.run_id
    return {
        "create_experiment": lambda: c.create_experiment("new"),
        "set_experiment_tag": lambda: c.set_experiment_tag(s.exp_id, "new", "v"),
        "create_run": lambda: c.create_run(s.exp_id),
        "log_param": lambda: c.log_param(run, "new", "v"),
        "log_metric": lambda: c.log_metric(run, "new", 1.0),
        "log_metric onto a page's end": lambda: c.log_metric(run, "edge", 3.0),
        "log_batch": lambda: c.log_batch(
            run, [Metric("bm", 1.0, 1, 0)], [Param("bp", "v")], [RunTag("bt", "v")]
        ),
        "set_tag": lambda: c.set_tag(run, "new", "v"),
        "set_tag over a tag": lambda: c.set_tag(run, "t", "2"),
        "set_terminated": lambda: c.set_terminated(run),
        "log_text": lambda: c.log_text(run, "x", "new/{braces}.txt"),
        "log_dict": lambda: c.log_dict(run, {"a": 1}, "new.json"),
        "log_artifact": lambda: c.log_artifact(run, str(s.upload / "one.txt"), "new"),
        "log_artifacts": lambda: c.log_artifacts(run, str(s.upload), "new"),
        "create_registered_model": lambda: c.create_registered_model("m2"),
        "create_model_version": lambda: c.create_model_version("m", "/tmp/source"),
        "set_registered_model_alias": lambda: c.set_registered_model_alias("m", "new", 1),
        "set_registered_model_tag": lambda: c.set_registered_model_tag("m", "new", "v"),
        "set_model_version_tag": lambda: c.set_model_version_tag("m", 1, "new", "v"),
        "update_registered_model": lambda: c.update_registered_model("m", "description"),
        "transition_model_version_stage": lambda: c.transition_model_version_stage(
            "m", 1, "Production"
        ),
        "fluent.start_run": lambda: fsregistry.start_run(nested=True),
        "fluent.log_param": lambda: fsregistry.log_param("fluent", "v"),
        "fluent.log_metrics": lambda: fsregistry.log_metrics({"f1": 1.0, "f2": 2.0}),
        "fluent.set_tag": lambda: fsregistry.set_tag("fluent", "v"),
        "fluent.log_text": lambda: fsregistry.log_text("x", "fluent.txt"),
        "fluent.register_model": lambda: fsregistry.register_model(f"runs:/{run}/d", "m3"),
    }


def check_reads(s: Store) -> None:
    """What the store held before the failed writes, read through every read API."""
    c, run = s.client, s.run_id
    got = c.get_run(run)
    assert got.data.params == {"p": "1"}
    assert got.data.tags["t"] == "1"
    assert got.data.metrics["m"] == 0.5
    assert [m.value for m in c.get_metric_history(run, "m")] == [0.5]
    assert len(c.get_metric_history(run, "edge")) == 181
    assert [r.info.run_id for r in c.search_runs([s.exp_id])] == [run]
    assert sorted(e.name for e in c.search_experiments()) == ["Default", "e"]
    assert [f.path for f in c.list_artifacts(run)] == ["a.txt", "d"]
    assert fsregistry.artifacts.load_text(f"runs:/{run}/a.txt") == "text"
    model = c.get_registered_model("m")
    assert (model.tags, model.aliases) == ({"t": "1"}, {"champion": "1"})
    assert c.get_model_version_by_alias("m", "champion").version == 1
    assert [m.name for m in c.search_registered_models()] == ["m"]


def assert_each_write_fails_cleanly(
    s: Store, kind: type, code: str, cause: str, calls: dict[str, Callable[[], object]]
) -> None:
    before = tree(s.root)
    failures = []
    for name, call in calls.items():
        try:
            call()
        except kind as e:
            message = str(e)
            if e.error_code != code or cause not in message or str(s.root) not in message:
                failures.append(f"{name}: {e.error_code} {message}")
        except BaseException as e:
            failures.append(f"{name}: {type(e).__module__}.{type(e).__name__}: {e}")
        else:
            failures.append(f"{name}: did not fail")
        after = tree(s.root)
        if after != before:
            changed = sorted(set(after) ^ set(before)) or sorted(
                p for p in after if after[p] != before[p]
            )
            failures.append(f"{name}: left {changed}")
            before = after
    assert not failures, "\n".join(failures)


def test_a_full_disk_fails_every_write_cleanly_and_reads_keep_working(store: Store) -> None:
    """Before: raw OSError (ENOSPC) from every write; empty directories left by
    create_experiment and create_run; an empty metric file by log_metric; a torn line at the
    end of a metric file whose last page was nearly full."""
    fill(store.disk)
    calls = write_calls(store)
    assert_each_write_fails_cleanly(
        store, StorageFull, "RESOURCE_EXHAUSTED", "No space left on device", calls
    )
    check_reads(store)
    # A download to the full disk names the local file and leaves no part of it.
    dst = store.disk / "download"
    dst.mkdir()
    with pytest.raises(StorageFull) as error:
        store.client.download_artifacts(store.run_id, "d", str(dst))
    assert error.value.error_code == "RESOURCE_EXHAUSTED"
    assert str(dst / "d" / "inner.txt") in str(error.value)
    assert [p.name for p in dst.rglob("*") if p.is_file()] == []


def test_a_read_only_store_fails_every_write_cleanly_and_reads_keep_working(
    store: Store,
) -> None:
    """Before: raw OSError (EROFS) from every write, deletes and renames included."""
    remount_read_only(store.disk)
    c, run = store.client, store.run_id
    calls = write_calls(store)
    calls.update(
        {
            "delete_tag": lambda: c.delete_tag(run, "t"),
            "delete_run": lambda: c.delete_run(run),
            "delete_experiment": lambda: c.delete_experiment(store.exp_id),
            "rename_experiment": lambda: c.rename_experiment(store.exp_id, "renamed"),
            "rename_registered_model": lambda: c.rename_registered_model("m", "renamed"),
            "delete_registered_model_alias": lambda: c.delete_registered_model_alias(
                "m", "champion"
            ),
            "delete_model_version": lambda: c.delete_model_version("m", 1),
            "delete_registered_model": lambda: c.delete_registered_model("m"),
        }
    )
    assert_each_write_fails_cleanly(
        store, StoragePermissionDenied, "PERMISSION_DENIED", "Read-only file system", calls
    )
    check_reads(store)
