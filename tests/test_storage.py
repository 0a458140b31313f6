"""The storage contract, run unchanged against local disk, S3 (moto) and GCS (fake-gcs-server)."""

from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from fsregistry.exceptions import (
    InvalidParameterValue,
    PathConflict,
    StorageFull,
    UnsupportedOperation,
)
from fsregistry.storage import ConflictError, Storage, open_storage
from fsregistry.storage.fsspec_store import FsspecStorage


@pytest.fixture
def storage(store_url: str) -> Storage:
    return open_storage(store_url)


def test_write_read_replace(storage: Storage) -> None:
    storage.write("a/b/c.txt", b"one")
    assert storage.read("a/b/c.txt") == b"one"
    storage.write("a/b/c.txt", b"two")
    assert storage.read("a/b/c.txt") == b"two"
    with pytest.raises(FileNotFoundError):
        storage.read("a/b/missing.txt")


def test_read_many_skips_missing(storage: Storage) -> None:
    paths = [f"d/{i}.txt" for i in range(70)]  # over the local threading threshold
    for i, p in enumerate(paths):
        storage.write(p, str(i).encode())
    got = storage.read_many([*paths, "d/nope.txt", "nowhere/x"])
    assert got == {p: str(i).encode() for i, p in enumerate(paths)}


def test_files_of_any_size_round_trip(storage: Storage) -> None:
    """Whole files come back, however many reads they take (local disk reads a first block
    of 64 KiB, then larger ones), through every way in."""
    sizes = {"empty": 0, "small": 7, "block": 64 * 1024, "over": 64 * 1024 + 1, "big": 3_000_001}
    blobs = {name: os.urandom(n) for name, n in sizes.items()}
    for name, blob in blobs.items():
        storage.write(f"w/{name}", blob)
        storage.create(f"c/{name}", blob)
        if storage.capabilities.append:
            storage.append(f"a/{name}", blob)
            storage.append(f"a/{name}", blob)
    for name, blob in blobs.items():
        assert storage.read(f"w/{name}") == blob, name
        assert storage.read(f"c/{name}") == blob, name
        if storage.capabilities.append:
            assert storage.read(f"a/{name}") == blob + blob, name
    got = storage.read_many(f"w/{name}" for name in blobs)
    assert got == {f"w/{name}": blob for name, blob in blobs.items()}


def test_create_is_exclusive_and_idempotent_for_same_bytes(storage: Storage) -> None:
    storage.create("v/meta.yaml", b"token-1")
    with pytest.raises(FileExistsError):
        storage.create("v/meta.yaml", b"token-2")
    storage.create("v/meta.yaml", b"token-1")  # a retried request that already landed
    assert storage.read("v/meta.yaml") == b"token-1"


def test_compare_and_swap(storage: Storage) -> None:
    storage.write("m.yaml", b"v1")
    first = storage.read_versioned("m.yaml")
    storage.write_if_match("m.yaml", b"v2", first.token)
    with pytest.raises(ConflictError):
        storage.write_if_match("m.yaml", b"v3", first.token)
    assert storage.read("m.yaml") == b"v2"
    with pytest.raises(ConflictError):
        storage.write_if_match("m.yaml", b"v4", None)  # None means "must not exist"
    storage.write_if_match("new.yaml", b"n1", None)
    assert storage.read("new.yaml") == b"n1"


def test_update_loses_nothing_under_threads(storage: Storage) -> None:
    storage.write("counter", b"")

    def bump(i: int) -> None:
        storage.update("counter", lambda old: (old or b"") + f"{i}\n".encode())

    threads = [threading.Thread(target=bump, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = storage.read("counter").decode().split()
    assert sorted(map(int, lines)) == list(range(16))


def _claim_many(url: str, worker: int, n: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    storage = open_storage(url)
    claimed = []
    number = 1
    while len(claimed) < n:
        try:
            storage.create(f"claims/{number}", f"{worker}-{number}".encode())
            claimed.append(number)
        except FileExistsError:
            pass
        number += 1
    out.put((worker, claimed))


def test_create_claims_are_unique_across_processes(storage: Storage, store_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_claim_many, args=(store_url, w, 10, queue)) for w in range(4)]
    for p in procs:
        p.start()
    results = dict(queue.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    everything = [n for claimed in results.values() for n in claimed]
    assert sorted(everything) == list(range(1, 41))
    for worker, claimed in results.items():
        for n in claimed:
            assert storage.read(f"claims/{n}") == f"{worker}-{n}".encode()


def test_walk_list_dir_and_prune(storage: Storage) -> None:
    for p in ("e/r1/meta.yaml", "e/r1/metrics/a/b", "e/r1/artifacts/big.bin", "e/tags/t"):
        storage.write(p, b"x")
    found = sorted(f.path for f in storage.walk("e"))
    assert found == ["r1/artifacts/big.bin", "r1/meta.yaml", "r1/metrics/a/b", "tags/t"]
    pruned = sorted(f.path for f in storage.walk("e", prune=lambda d: d.endswith("artifacts")))
    assert pruned == ["r1/meta.yaml", "r1/metrics/a/b", "tags/t"]
    dirs, files = storage.list_dir("e/r1")
    assert sorted(dirs) == ["artifacts", "metrics"] and files == ["meta.yaml"]
    assert storage.list_dir("does/not/exist") == ([], [])
    assert storage.walk("does/not/exist") == []


def test_tokens_match_the_listing_and_follow_every_write(storage: Storage) -> None:
    for p in ("e/r1/meta.yaml", "e/r1/metrics/a/b", "e/r1/.hidden-name"):
        storage.write(p, b"x")
    listed = {f"e/{f.path}": f.token for f in storage.walk("e")}
    asked = [*listed, "e/r1/missing", "e/r1/metrics/a", "e/nothing/here", "e/r1/meta.yaml/x"]
    tokens = storage.tokens(asked)
    # Missing files, directories and paths below a file are left out; the rest agree.
    assert tokens == listed and all(tokens.values())
    storage.write("e/r1/meta.yaml", b"y")  # same size, rewritten
    assert storage.tokens(["e/r1/meta.yaml"])["e/r1/meta.yaml"] != tokens["e/r1/meta.yaml"]
    storage.delete("e/r1/metrics/a/b")
    assert storage.tokens(["e/r1/metrics/a/b"]) == {}


def test_tokens_refuse_paths_that_escape(storage: Storage) -> None:
    for bad in ("../x", "a/../../x", "/abs", "a\x00b"):
        with pytest.raises(InvalidParameterValue):
            storage.tokens([bad])


def test_delete_and_move_tree(storage: Storage) -> None:
    storage.write("src/a", b"1")
    storage.write("src/sub/b", b"2")
    storage.move_tree("src", ".trash/src")
    assert not storage.exists("src/a")
    assert storage.read(".trash/src/sub/b") == b"2"
    storage.write("taken/x", b"0")
    with pytest.raises(FileExistsError):
        storage.move_tree(".trash/src", "taken")
    storage.delete_tree(".trash")
    assert storage.walk(".trash") == []
    storage.delete("never-existed")  # not an error
    storage.delete_tree("never-existed")


def test_put_and_get_file(storage: Storage, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(3 * 1024 * 1024))
    storage.put_file(str(src), "art/big.bin")
    dst = tmp_path / "back.bin"
    storage.get_file("art/big.bin", str(dst))
    assert dst.read_bytes() == src.read_bytes()


@pytest.mark.parametrize("bad", ["../x", "a/../../x", "/abs", "a\x00b", "a\\b"])
def test_paths_that_escape_are_refused(storage: Storage, bad: str) -> None:
    with pytest.raises(InvalidParameterValue, match="Invalid path"):
        storage.write(bad, b"x")
    with pytest.raises(InvalidParameterValue):
        storage.read(bad)


def test_root_uri_round_trips(storage: Storage, store_url: str) -> None:
    assert open_storage(storage.root_uri).root_uri == storage.root_uri
    assert storage.uri("a/b").startswith(storage.root_uri + "/")


def test_generic_fsspec_backend_refuses_atomic_operations(tmp_path: Path) -> None:
    import fsspec

    generic = FsspecStorage(fsspec.filesystem("file"), str(tmp_path), "file")
    generic.write("a", b"1")
    assert generic.read("a") == b"1"
    with pytest.raises(UnsupportedOperation, match="cannot create files atomically"):
        generic.create("b", b"1")
    with pytest.raises(UnsupportedOperation, match="compare-and-swap"):
        generic.update("a", lambda old: b"2")
    assert not (tmp_path / "b").exists()


def test_memory_backend_is_atomic_in_process() -> None:
    storage = open_storage("memory://fsreg-test-memory/root")
    storage.create("x", b"1")
    with pytest.raises(FileExistsError):
        storage.create("x", b"2")
    storage.update("x", lambda old: (old or b"") + b"+")
    assert storage.read("x") == b"1+"


@pytest.mark.parametrize(
    "url", ["", "   ", "http://server:5000", "sqlite:///mlflow.db", "databricks", "s3://"]
)
def test_bad_store_urls(url: str) -> None:
    with pytest.raises(InvalidParameterValue):
        open_storage(url)


def test_bulk_reads_use_threads_only_on_network_filesystems(tmp_path: Path) -> None:
    from fsregistry.storage.local import _filesystem_type, _is_network

    def _on_network_filesystem(path: str, mounts_file: str) -> bool:
        return _is_network(_filesystem_type(path, mounts_file))

    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/vda / ext4 rw 0 0\n"
        "server:/export /mnt/shared nfs4 rw 0 0\n"
        "/dev/vdb /mnt/shared/local ext4 rw 0 0\n"
        "s3fs /mnt/bucket fuse.s3fs rw 0 0\n"
        "tmpfs /mnt/with\\040space tmpfs rw 0 0\n"
    )
    where = str(mounts)
    assert not _on_network_filesystem("/home/me/mlruns", where)
    assert _on_network_filesystem("/mnt/shared/team/mlruns", where)
    assert _on_network_filesystem("/mnt/shared", where)
    assert not _on_network_filesystem("/mnt/shared/local/mlruns", where)  # longest mount wins
    assert not _on_network_filesystem("/mnt/sharedx/mlruns", where)  # not a path prefix
    assert _on_network_filesystem("/mnt/bucket/mlruns", where)
    assert not _on_network_filesystem("/mnt/with space/mlruns", where)
    assert _on_network_filesystem("/home/me/mlruns", str(tmp_path / "unreadable"))


def test_local_lock_and_temp_files_are_hidden(tmp_path: Path) -> None:
    storage = open_storage(str(tmp_path))
    storage.write("d/meta.yaml", b"a")
    storage.update("d/meta.yaml", lambda old: b"b")
    assert any(p.name.endswith("#fsreg-lock") for p in (tmp_path / "d").iterdir())
    assert [f.path for f in storage.walk("d")] == ["meta.yaml"]
    assert storage.list_dir("d") == ([], ["meta.yaml"])


def test_local_writes_that_fail_leave_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails (a full disk here) leaves neither the file nor its temp file, and
    a file where a directory should be is an error that writes nothing. Both are the
    storage contract's errors (StorageFull, PathConflict), never a raw OSError."""
    from fsregistry.storage import local

    storage = local.LocalStorage(tmp_path)
    storage.write("d/kept", b"old")

    def full(fd: int, data: object) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(local.os, "write", full)
    for write in (storage.write, storage.create, storage.append):
        with pytest.raises(StorageFull, match="No space left"):
            write("d/new", b"x" * 100)
        with pytest.raises(StorageFull, match="No space left"):
            write("e/f/new", b"x" * 100)  # the directories made for it go again
        if write != storage.create:
            with pytest.raises(StorageFull, match="No space left"):
                write("d/kept", b"new")
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["kept"]
    assert storage.read("d/kept") == b"old"
    for write in (storage.write, storage.create, storage.append):
        with pytest.raises(PathConflict, match="'d/kept' is a file"):
            write("d/kept/under", b"x")
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["kept"]


def test_local_create_without_hard_links_is_still_exclusive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the filesystem refuses hard links (some FUSE and SMB mounts), create falls back
    to an exclusive open of the target: one claim wins, and no temp file is left."""
    import errno

    from fsregistry.storage import local

    def refused(src: str, dst: str) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(local.os, "link", refused)
    storage = local.LocalStorage(tmp_path)
    storage.create("v/1/meta.yaml", b"claim-a")
    with pytest.raises(FileExistsError):
        storage.create("v/1/meta.yaml", b"claim-b")
    storage.create("v/1/meta.yaml", b"claim-a")  # a retried claim that already landed
    assert storage.read("v/1/meta.yaml") == b"claim-a"
    assert [p.name for p in (tmp_path / "v" / "1").iterdir()] == ["meta.yaml"]
    # A claim whose bytes cannot be written (a full disk) leaves no partial file either.
    writes = 0
    write = os.write

    def full_on_second(fd: int, data: Any) -> int:
        nonlocal writes
        writes += 1
        if writes == 2:  # the first write is the temp file's, the second the target's
            raise OSError(errno.ENOSPC, "No space left on device")
        return write(fd, data)

    monkeypatch.setattr(local.os, "write", full_on_second)
    with pytest.raises(StorageFull, match="No space left"):
        storage.create("v/2/meta.yaml", b"claim-c")
    assert not (tmp_path / "v" / "2").exists()  # nor the directory made for it


def test_tokens_on_network_filesystems_come_from_an_open_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On NFS, stat may answer from attributes cached for up to a minute; open revalidates
    them (close-to-open), so change tokens there are taken through an open descriptor. The
    tokens are the same either way: only where they come from differs."""
    from fsregistry.storage import local

    plain = local.LocalStorage(tmp_path)
    plain.write("r/meta.yaml", b"a")
    plain.append("r/metrics/m", b"1 0.5 0\n")
    os.mkfifo(tmp_path / "r" / "pipe")  # must not block the open
    expected_walk = plain.walk("r")
    expected_tokens = plain.tokens(["r/meta.yaml", "r/metrics/m", "r/pipe", "r/none"])
    assert set(expected_tokens) == {"r/meta.yaml", "r/metrics/m"}

    opened: list[str] = []
    fresh_stat = local._fresh_stat
    monkeypatch.setattr(local, "_fresh_stat", lambda p: opened.append(p) or fresh_stat(p))
    network = local.LocalStorage(tmp_path)
    network._filesystem = "nfs4"  # as /proc/self/mounts would say
    assert network.walk("r") == expected_walk
    assert network.tokens(["r/meta.yaml", "r/metrics/m", "r/pipe", "r/none"]) == expected_tokens
    walked = ["r/meta.yaml", "r/metrics/m", "r/pipe"]
    asked = ["r/meta.yaml", "r/metrics/m", "r/pipe", "r/none"]  # a FIFO or a missing file: no token
    assert sorted(os.path.relpath(p, tmp_path) for p in opened) == sorted(walked + asked)
    opened.clear()
    local_disk = local.LocalStorage(tmp_path)
    local_disk._filesystem = "ext4"
    assert local_disk.tokens(["r/meta.yaml"]) == {"r/meta.yaml": expected_tokens["r/meta.yaml"]}
    assert opened == []


def test_reading_a_directory_is_reading_a_missing_file(storage: Storage) -> None:
    """A path that is a directory (or goes through a file) holds no file: FileNotFoundError,
    as an object store answers for a key that is only a prefix (never IsADirectoryError)."""
    storage.write("d/inner.txt", b"x")
    for path in ("d", "d/inner.txt/below"):
        with pytest.raises(FileNotFoundError):
            storage.read(path)
        with pytest.raises(FileNotFoundError):
            storage.read_versioned(path)
        assert storage.read_many([path, "d/inner.txt"]) == {"d/inner.txt": b"x"}


def test_local_check_no_links_names_the_link(tmp_path: Path) -> None:
    from fsregistry.exceptions import InvalidState
    from fsregistry.storage.local import LocalStorage

    outside = tmp_path / "outside"
    (outside / "sub").mkdir(parents=True)
    storage = LocalStorage(tmp_path / "store")
    storage.write("a/b.txt", b"x")
    (tmp_path / "store" / "a" / "link").symlink_to(outside, target_is_directory=True)
    storage.check_no_links("a/b.txt")
    storage.check_no_links("a/link", last=False)
    for path in ("a/link", "a/link/sub", "a/link/sub/f"):
        with pytest.raises(InvalidState, match="'a/link' is a symbolic link"):
            storage.check_no_links(path)
