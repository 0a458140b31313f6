"""``FSREG_FSYNC``: which files and directories a local write syncs, and in what order.

Power loss cannot be simulated in a test, so these tests watch the system calls: ``os.fsync``
and ``os.fdatasync`` are wrapped to record which file or directory each descriptor is (from
``/proc/self/fd``), and ``os.link`` / ``os.replace`` / ``os.rename`` to record when a file
becomes visible. The guarantee of each mode (see ``fsregistry.storage.durability``) is then
a sequence: a synced file's data is synced before it is linked or renamed into place, and
its directory, and every directory made for it, after. A sync that fails is the write's
error and leaves nothing behind. S3 and GCS ignore the setting.
"""

from __future__ import annotations

import errno
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fsregistry
from fsregistry import config
from fsregistry.exceptions import InvalidParameterValue, MlflowException
from fsregistry.storage import Storage, open_storage
from fsregistry.storage.local import LocalStorage

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads descriptors' paths from /proc/self/fd"
)

_TMP = re.compile(r"^\.(.+)#fsreg-tmp-[0-9a-f]{32}$")

Event = tuple[str, str]


class Recorder:
    """The syncs and renames of local writes under ``root``, as (kind, path relative to the
    root, temp files shown as the file they become)."""

    def __init__(self, root: Path) -> None:
        self.root = str(root)
        self.events: list[Event] = []

    def rel(self, path: str) -> str:
        path = path.removesuffix(" (deleted)")
        rel = os.path.relpath(path, self.root).replace(os.sep, "/")
        head, _, tail = rel.rpartition("/")
        m = _TMP.match(tail)
        if m:
            rel = f"{head}/{m.group(1)}" if head else m.group(1)
        return "" if rel == "." else rel

    def add(self, kind: str, path: str) -> None:
        if os.path.abspath(path).startswith(self.root):
            self.events.append((kind, self.rel(path)))

    def take(self) -> list[Event]:
        out, self.events = self.events, []
        return out


@pytest.fixture
def recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    root = tmp_path / "store"
    root.mkdir()
    rec = Recorder(root)
    real = {name: getattr(os, name) for name in ("fsync", "fdatasync", "link", "replace", "rename")}

    def synced(name: str) -> Any:
        def sync(fd: int) -> None:
            path = os.readlink(f"/proc/self/fd/{fd}")
            kind = "dir" if os.path.isdir(path) else ("data" if name == "fdatasync" else "file")
            rec.add(kind, path)
            real[name](fd)

        return sync

    def moved(name: str) -> Any:
        def move(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
            real[name](src, dst, *args, **kwargs)
            rec.add(name, os.fspath(dst))

        return move

    monkeypatch.setattr(os, "fsync", synced("fsync"))
    monkeypatch.setattr(os, "fdatasync", synced("fdatasync"))
    for name in ("link", "replace", "rename"):
        monkeypatch.setattr(os, name, moved(name))
    monkeypatch.delenv("FSREG_FSYNC", raising=False)
    yield rec


def _storage(rec: Recorder) -> LocalStorage:
    return LocalStorage(rec.root)


# -- each primitive, each mode ------------------------------------------------------------------

META_CREATE = [
    ("data", "e/r/meta.yaml"),
    ("link", "e/r/meta.yaml"),
    ("dir", "e/r"),
    ("dir", "e"),
    ("dir", ""),
]


@pytest.mark.parametrize("mode", ["off", "meta", "all"])
def test_create_of_a_meta_file(recorder: Recorder, mode: str) -> None:
    config.set_fsync_mode(mode)
    _storage(recorder).create("e/r/meta.yaml", b"a: 1\n")
    assert recorder.take() == ([("link", "e/r/meta.yaml")] if mode == "off" else META_CREATE)


@pytest.mark.parametrize("mode", ["off", "meta", "all"])
def test_create_of_another_file(recorder: Recorder, mode: str) -> None:
    storage = _storage(recorder)
    storage.make_dirs("e/r")
    recorder.take()
    config.set_fsync_mode(mode)
    storage.create("e/r/params/p", b"v")
    expected = [("link", "e/r/params/p")]
    if mode == "all":
        expected = [("data", "e/r/params/p"), *expected, ("dir", "e/r/params"), ("dir", "e/r")]
    assert recorder.take() == expected


@pytest.mark.parametrize("mode", ["off", "meta", "all"])
def test_replace_and_compare_and_swap(recorder: Recorder, mode: str) -> None:
    storage = _storage(recorder)
    storage.create("m/meta.yaml", b"a: 1\n")
    storage.write("m/tags/t", b"x")
    recorder.take()
    config.set_fsync_mode(mode)
    storage.write("m/meta.yaml", b"a: 2\n")
    current = storage.read_versioned("m/meta.yaml")
    storage.write_if_match("m/meta.yaml", b"a: 3\n", current.token)
    storage.write("m/tags/t", b"y")
    synced = [("data", "m/meta.yaml"), ("replace", "m/meta.yaml"), ("dir", "m")]
    plain = [("replace", "m/meta.yaml")]
    tag = [("replace", "m/tags/t")]
    if mode == "all":
        tag = [("data", "m/tags/t"), *tag, ("dir", "m/tags")]
    meta = plain if mode == "off" else synced
    assert recorder.take() == meta + meta + tag
    assert storage.read("m/meta.yaml") == b"a: 3\n"


@pytest.mark.parametrize("mode", ["off", "meta", "all"])
def test_appends_sync_only_in_all(recorder: Recorder, mode: str) -> None:
    storage = _storage(recorder)
    storage.make_dirs("r/metrics")
    recorder.take()
    config.set_fsync_mode(mode)
    storage.append("r/metrics/m", b"1 0.5 0\n")  # a new file: made whole
    storage.append("r/metrics/m", b"2 0.6 1\n")
    if mode == "all":
        expected = [
            ("data", "r/metrics/m"),
            ("link", "r/metrics/m"),
            ("dir", "r/metrics"),
            ("data", "r/metrics/m"),
        ]
    else:
        expected = [("link", "r/metrics/m")]
    assert recorder.take() == expected
    assert storage.read("r/metrics/m") == b"1 0.5 0\n2 0.6 1\n"


@pytest.mark.parametrize("mode", ["off", "meta", "all"])
def test_moves_and_deletes(recorder: Recorder, mode: str) -> None:
    storage = _storage(recorder)
    storage.create("a/x/meta.yaml", b"a: 1\n")
    storage.create("a/x/tags/t", b"v")
    storage.create("b/y/meta.yaml", b"a: 1\n")
    recorder.take()
    config.set_fsync_mode(mode)
    storage.move_tree("a/x", ".trash/x")  # .trash is made for it
    storage.delete(".trash/x/tags/t")
    storage.delete(".trash/x/meta.yaml")
    storage.delete_tree("b/y")
    moved = [("rename", ".trash/x")]
    if mode != "off":
        moved += [("dir", ".trash"), ("dir", ""), ("dir", "a")]
    tag = [("dir", ".trash/x/tags")] if mode == "all" else []
    meta = [("dir", ".trash/x")] if mode != "off" else []
    tree = [("dir", "b")] if mode != "off" else []
    assert recorder.take() == moved + tag + meta + tree


@pytest.mark.parametrize("mode", ["off", "meta", "all"])
def test_made_directories_and_uploads(recorder: Recorder, mode: str, tmp_path: Path) -> None:
    storage = _storage(recorder)
    local = tmp_path / "model.pkl"
    local.write_bytes(b"pickle")
    config.set_fsync_mode(mode)
    storage.make_dirs("r/artifacts/sub")
    storage.put_file(str(local), "r/artifacts/sub/model.pkl")
    if mode == "all":
        expected = [
            ("dir", "r/artifacts"),
            ("dir", "r"),
            ("dir", ""),
            ("data", "r/artifacts/sub/model.pkl"),
            ("replace", "r/artifacts/sub/model.pkl"),
            ("dir", "r/artifacts/sub"),
        ]
    else:
        expected = [("replace", "r/artifacts/sub/model.pkl")]
    assert recorder.take() == expected


# -- the setting ------------------------------------------------------------------------------


def test_environment_variable_and_setter(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = _storage(recorder)
    assert config.fsync_mode() == "meta"  # the default
    monkeypatch.setenv("FSREG_FSYNC", " ALL ")
    assert config.fsync_mode() == "all"
    storage.create("p", b"v")
    assert ("data", "p") in recorder.take()
    config.set_fsync_mode("off")  # the setter wins over the environment
    storage.create("q/meta.yaml", b"v")
    assert recorder.take() == [("link", "q/meta.yaml")]
    config.set_fsync_mode(None)
    assert config.fsync_mode() == "all"


def test_bad_mode_is_refused_and_writes_nothing(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(InvalidParameterValue, match=r"'sometimes'.*off, meta, all"):
        config.set_fsync_mode("sometimes")
    assert config.fsync_mode() == "meta"
    monkeypatch.setenv("FSREG_FSYNC", "yes")
    with pytest.raises(InvalidParameterValue, match="FSREG_FSYNC 'yes'"):
        _storage(recorder).create("e/r/meta.yaml", b"a: 1\n")
    assert os.listdir(recorder.root) == []


# -- failures ---------------------------------------------------------------------------------


def test_a_failed_data_sync_leaves_nothing(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "fdatasync", broken)
    monkeypatch.setattr(os, "fsync", broken)
    storage = _storage(recorder)
    with pytest.raises(MlflowException, match=r"e/r/meta\.yaml"):
        storage.create("e/r/meta.yaml", b"a: 1\n")
    with pytest.raises(MlflowException, match=r"e/r/meta\.yaml"):
        storage.write("e/r/meta.yaml", b"a: 1\n")
    assert os.listdir(recorder.root) == []  # no file, no temp file, no directory made for it


def test_a_directory_that_cannot_be_synced_is_no_error(
    recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = os.fsync
    refused: list[str] = []

    def no_dirs(fd: int) -> None:
        path = os.readlink(f"/proc/self/fd/{fd}")
        if os.path.isdir(path):
            refused.append(path)
            raise OSError(errno.EINVAL, "Invalid argument")  # as some FUSE filesystems say
        real(fd)

    monkeypatch.setattr(os, "fsync", no_dirs)
    storage = _storage(recorder)
    storage.create("e/r/meta.yaml", b"a: 1\n")
    assert storage.read("e/r/meta.yaml") == b"a: 1\n"
    assert len(refused) == 3  # e/r, e and the root were asked, and each refusal went by


# -- through the public API -------------------------------------------------------------------


def _write_run_and_version(uri: str) -> None:
    client = fsregistry.MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("durable")
    run = client.create_run(exp)
    client.log_batch(
        run.info.run_id,
        metrics=[fsregistry.entities.Metric("m", 0.5, 0, 0)],
        params=[fsregistry.entities.Param("p", "1")],
        tags=[fsregistry.entities.RunTag("t", "x")],
    )
    client.set_terminated(run.info.run_id)
    client.create_registered_model("model")
    client.create_model_version("model", f"runs:/{run.info.run_id}/model", run.info.run_id)


@pytest.mark.parametrize("mode", ["off", "meta", "all"])
def test_runs_and_versions_through_the_client(recorder: Recorder, mode: str) -> None:
    config.set_fsync_mode(mode)
    _write_run_and_version(recorder.root)
    events = recorder.take()
    synced = {path for kind, path in events if kind in ("data", "file")}
    names = {path.rsplit("/", 1)[-1] for path in synced}
    if mode == "off":
        assert synced == set() and not any(kind == "dir" for kind, _ in events)
        return
    # Every meta.yaml written: the experiment's, the run's (created, then ended), the
    # registered model's and the version's.
    metas = {p for p in synced if p.endswith("meta.yaml")}
    assert len(metas) >= 4, events
    assert "models/model/version-1/meta.yaml" in metas
    for i, (kind, path) in enumerate(events):  # each synced before it became visible
        if kind in ("link", "replace") and path in synced:
            assert ("data", path) in events[:i], (path, events)
    if mode == "meta":
        assert names == {"meta.yaml"}, synced
    else:
        assert {"p", "t", "m", "meta.yaml"} <= names, synced


@pytest.mark.parametrize("mode", ["off", "all"])
def test_object_stores_ignore_the_mode(
    store_url: str, backend: str, mode: str, recorder: Recorder
) -> None:
    """The setting changes nothing a caller sees, on any backend; on S3 and GCS no sync."""
    recorder.root = "/"  # every sync of this process, wherever
    config.set_fsync_mode(mode)
    storage: Storage = open_storage(store_url)
    storage.create("e/meta.yaml", b"a: 1\n")
    storage.update("e/meta.yaml", lambda old: (old or b"") + b"b: 2\n")
    storage.write("e/tags/t", b"x")
    assert storage.read("e/meta.yaml") == b"a: 1\nb: 2\n"
    assert storage.read("e/tags/t") == b"x"
    syncs = [e for e in recorder.take() if e[0] in ("data", "file", "dir")]
    assert bool(syncs) == (backend == "local" and mode == "all"), syncs
