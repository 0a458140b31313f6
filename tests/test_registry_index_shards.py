"""A fresh process's registry search reads the index shards, not every file (local disk, S3,
GCS; issue 24).

A fresh store object (empty memory, as in a new process) answers from at most 16 shard reads
and reads again only the files that changed since the shards were written; a shard that
cannot be decoded is ignored and rewritten. Storage calls are counted per path, as a bucket
serves them (one GET per file read, a GET and a conditional PUT per shard update).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from fsreg_testing.registry import answers, shard_files
from fsregistry import Client
from fsregistry.exceptions import StoragePermissionDenied, StorageUnavailable
from fsregistry.registry import model_index
from fsregistry.registry.store import RegistryStore
from fsregistry.storage import LocalStorage, Storage, open_storage

FsRoot = tuple[Any, str]
SHARD_DIR = f"models/{model_index.SHARD_PREFIX}"
AGED = time.time() - 1000


@dataclass
class Calls:
    """Paths a storage read, asked the change token of (a stat; a HEAD on a bucket) and
    wrote, and the directories it listed."""

    read: list[str] = field(default_factory=list)
    stats: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    listed: list[str] = field(default_factory=list)

    def files_read(self) -> list[str]:
        return sorted(p for p in self.read if not p.startswith(SHARD_DIR))

    def shards_read(self) -> list[str]:
        return [p for p in self.read if p.startswith(SHARD_DIR)]

    def clear(self) -> None:
        self.read.clear()
        self.stats.clear()
        self.written.clear()
        self.listed.clear()


def spy(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> Calls:
    """Record what ``storage`` reads, stats, writes and lists (a call made by a recorded call,
    ``read`` through ``read_versioned``, is not recorded again)."""
    calls = Calls()
    depth = [0]
    kinds = {
        "read_many": calls.read,
        "tokens": calls.stats,
        "read": calls.read,
        "read_versioned": calls.read,
        "write": calls.written,
        "_write_if_match": calls.written,
        "_create": calls.written,
        "walk": calls.listed,
        "list_dir": calls.listed,
        "list_dir_tokens": calls.listed,
    }
    for name, sink in kinds.items():
        original = getattr(storage, name)

        def counted(
            *a: Any, _original: Any = original, _sink: list[str] = sink, _name: str = name, **k: Any
        ) -> Any:
            if _name in ("read_many", "tokens"):
                a = (list(a[0]), *a[1:])
            if depth[0] == 0:
                _sink.extend(a[0] if _name in ("read_many", "tokens") else [a[0]])
            depth[0] += 1
            try:
                return _original(*a, **k)
            finally:
                depth[0] -= 1

        monkeypatch.setattr(storage, name, counted)
    return calls


def shards(url: str) -> list[str]:
    return [f"models/{name}" for name in shard_files(url)]


def reference(url: str) -> Any:
    """The answers of a reader that reads every file (no shards before, none left after)."""
    storage = open_storage(url)
    for path in shards(url):
        storage.delete(path)
    found = answers(RegistryStore(storage))
    for path in shards(url):
        storage.delete(path)
    return found


def age(url: str) -> None:
    """Local disk: every file's times set to one moment well past the racy window (the same
    one each time, so a file aged before keeps its change token)."""
    storage = open_storage(url)
    if isinstance(storage, LocalStorage):
        for d, _, names in os.walk(storage.root):
            for n in names:
                os.utime(os.path.join(d, n), (AGED, AGED))


def lone_model_name(others: list[str]) -> str:
    """A model name whose shard holds no model of ``others``."""
    taken = {model_index.shard_name(m) for m in others}
    return next(
        n for n in (f"solo{i}" for i in range(100)) if model_index.shard_name(n) not in taken
    )


def build(url: str) -> Client:
    client = Client(tracking_uri=url)
    for name in ("m", "n", "p"):
        client.create_registered_model(name, tags={"team": name}, description=f"model {name}")
        for i in range(1, 4):
            client.create_model_version(name, f"/src/{name}/{i}", tags={"i": str(i)})
    client.set_registered_model_alias("m", "champion", 2)
    client.transition_model_version_stage("n", 3, "Staging")
    client.create_registered_model(lone_model_name(["m", "n", "p"]))  # one file: its meta.yaml
    return client


def fresh(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[RegistryStore, Calls]]:
    """Fresh store objects on ``url`` (a new process each, in effect) with their calls."""
    storage = open_storage(url)
    calls = spy(storage, monkeypatch)
    while True:
        calls.clear()
        yield RegistryStore(storage), calls


def _first_search_writes_shards(url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    build(url)
    age(url)
    expected = reference(url)
    assert not shards(url)
    assert answers(RegistryStore(open_storage(url))) == expected  # reads every file, records
    assert shards(url), "the first search recorded what it read"
    return expected


def test_a_fresh_process_answers_from_the_shards_alone(
    store_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _first_search_writes_shards(store_url, monkeypatch)
    stores = fresh(store_url, monkeypatch)
    for _ in range(2):  # and again in the next process: nothing changed, nothing written
        store, calls = next(stores)
        assert answers(store) == expected
        assert calls.files_read() == [], "no meta.yaml, tag or alias file read"
        if backend != "local":
            assert calls.stats == [] and len(calls.listed) == 3, "a listing a search"
        assert 0 < len(calls.shards_read()) <= model_index.SHARDS
        assert calls.written == []
        calls.clear()
        assert answers(store) == expected  # the same process again: memory only
        assert calls.read == [] and calls.written == []


def test_a_changed_version_alone_is_read_again_and_recorded_once(
    store_url: str, backend: str, store_fs: FsRoot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A version's meta.yaml rewritten with new content (by hand, then by another writer):
    the next fresh process reads that file alone, answers with it, and records it with one
    conditional update of its shard (on a bucket one PUT, at the version it read); repeated
    searches, in that process or the next, read no file and write nothing."""
    _first_search_writes_shards(store_url, monkeypatch)
    fs, root = store_fs
    shard = model_index.shard_path(model_index.shard_name("m"))
    stores = fresh(store_url, monkeypatch)
    for number, change in (
        (2, "raw edit"),  # a raw rewrite of the object
        (3, "by another writer"),  # another process's update_model_version
    ):
        path = f"models/m/version-{number}/meta.yaml"
        before = tokens(store_url)
        if number == 2:
            new = fs.cat_file(f"{root}/{path}").replace(b"description: null", b"description: x")
            fs.pipe_file(
                f"{root}/{path}", new.replace(b"description: x", f"description: {change}".encode())
            )
        else:
            RegistryStore(open_storage(store_url)).update_model_version("m", number, change)
        age(store_url)
        changed = sorted(p for p, t in tokens(store_url).items() if before.get(p) != t)
        assert path in changed
        want = reference_after(store_url)
        store, calls = next(stores)
        got = answers(store)
        assert got == want
        assert ("m", number, "None", change) in [v[:4] for v in got[1]]
        assert calls.files_read() == changed, "exactly the changed files"
        assert len(calls.shards_read()) <= model_index.SHARDS
        assert calls.written == [shard], (number, calls)
        if backend != "local":
            assert calls.shards_read().count(shard) == 1, "replaced at the version read"
        calls.clear()
        assert answers(store) == got
        assert calls.read == [] and calls.written == [], "held in memory: no request"
        store, calls = next(stores)
        assert answers(store) == got
        assert calls.files_read() == [] and calls.written == [], "the next process"


def tokens(url: str) -> dict[str, str]:
    """Every registry file's change token (the shards left out)."""
    found = open_storage(url).walk("models")
    return {f"models/{f.path}": f.token for f in found if not f.path.startswith(".")}


def reference_after(url: str) -> Any:
    """The answers of a reader of every file, the shards kept (restored after)."""
    storage = open_storage(url)
    kept = {p: storage.read(p) for p in shards(url)}
    try:
        return reference(url)
    finally:
        for path, data in kept.items():
            storage.write(path, data)


def test_a_damaged_shard_is_ignored_and_rewritten(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = _first_search_writes_shards(store_url, monkeypatch)
    storage = open_storage(store_url)
    damaged = shards(store_url)
    for path in damaged:
        storage.write(path, b'{"format": 2, "models": {"m": [not json')
    age(store_url)
    stores = fresh(store_url, monkeypatch)
    store, calls = next(stores)
    assert answers(store) == expected
    assert calls.files_read(), "the shards held nothing: the files were read"
    # Every damaged shard is rewritten, even one recording a single file (the lone model's).
    assert sorted(calls.written) == damaged
    for path in damaged:
        head, *lines = storage.read(path).splitlines()
        assert json.loads(head) == {"format": model_index._FORMAT} and lines
    store, calls = next(stores)
    assert answers(store) == expected
    assert calls.files_read() == [] and calls.written == []


def refuse_shard_writes(
    storage: Storage, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> list[str]:
    """Delete the shards, and make every conditional write of ``storage`` raise ``error``;
    the paths it was asked to write."""
    for path in shards(storage.root_uri):
        storage.delete(path)
    attempted: list[str] = []

    def refuse(path: str, *a: Any) -> bytes:
        attempted.append(path)
        raise error

    monkeypatch.setattr(storage, "update", refuse)
    monkeypatch.setattr(storage, "write_if_match", refuse)
    return attempted


def test_a_failed_shard_write_costs_speed_not_the_answer(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every shard update is refused (throttling): the search still answers, writes nothing,
    and the next process reads the files again."""
    expected = _first_search_writes_shards(store_url, monkeypatch)
    storage = open_storage(store_url)
    attempted = refuse_shard_writes(storage, monkeypatch, StorageUnavailable("throttled"))
    calls = spy(storage, monkeypatch)
    for _ in range(2):
        calls.clear()
        assert answers(RegistryStore(storage)) == expected
        assert attempted and calls.written == [] and not shards(store_url)
        assert calls.files_read(), "nothing recorded: the files are read again"


def test_a_refused_shard_write_is_not_tried_again(
    store_url: str, store_fs: FsRoot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store refuses writes for good (read-only credentials): a search tries one shard
    write, and no later search of that store object pays for another refusal."""
    expected = _first_search_writes_shards(store_url, monkeypatch)
    storage = open_storage(store_url)
    refused = StoragePermissionDenied("read-only credentials")
    attempted = refuse_shard_writes(storage, monkeypatch, refused)
    store = RegistryStore(storage)
    assert answers(store) == expected
    assert len(attempted) == 1
    fs, root = store_fs
    fs.pipe_file(f"{root}/models/m/version-1/tags/new", b"tag")  # a file to read and record
    age(store_url)
    assert {"i": "1", "new": "tag"} in [v[4] for v in answers(store)[1] if v[:2] == ("m", 1)]
    assert len(attempted) == 1
