"""The registry's decoded-file index never changes an answer (local disk, S3, GCS).

Searches keep what they decoded (in memory, and on local disk in ``models/`` shard files) and
use it only while a listing reports the same change token for the same file. Whatever
changes the files — another process, a hand edit, MLflow itself — the next answer is the one
a reader without any index gives (a fresh store whose shards were deleted).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from fsreg_testing.mlflow_env import MlflowPython
from fsreg_testing.registry import answers, shard_files
from fsregistry import Client
from fsregistry.mlruns.metafile import _load_simple
from fsregistry.registry import model_index
from fsregistry.registry.store import RegistryStore
from fsregistry.storage import LocalStorage, open_storage

FsRoot = tuple[Any, str]


# -- helpers ------------------------------------------------------------------------------------
def shard_models(storage: Any, name: str) -> dict[str, Any]:
    """The models a shard holds, decoded (a line per model: its name, a tab, its JSON)."""
    head, *lines = storage.read(f"models/{name}").decode("utf-8").rstrip("\n").split("\n")
    assert json.loads(head) == {"format": model_index._FORMAT}
    return {json.loads(n): json.loads(body) for n, _, body in (x.partition("\t") for x in lines)}


def reference(url: str) -> Any:
    """The answers of a reader with no index at all."""
    storage = open_storage(url)
    for name in shard_files(url):
        storage.delete(f"models/{name}")
    return answers(RegistryStore(storage))


def age(url: str, seconds: float = 30.0) -> None:
    """Local disk: make every file look written ``seconds`` ago (no longer "racy")."""
    storage = open_storage(url)
    if not isinstance(storage, LocalStorage):
        return
    then = time.time() - seconds
    for d, _, names in os.walk(storage.root):
        for n in names:
            os.utime(os.path.join(d, n), (then, then))


def build(url: str) -> Client:
    client = Client(tracking_uri=url)
    client.create_registered_model("m", tags={"team": "ml"}, description="model m")
    for i in range(1, 5):
        client.create_model_version("m", f"/src/m/{i}", tags={"i": str(i)}, description="aaaa")
    client.set_registered_model_alias("m", "champion", 2)
    client.transition_model_version_stage("m", 3, "Staging")
    client.create_registered_model("n")
    client.create_model_version("n", "/src/n/1")
    return client


def edit(fs_root: FsRoot, rel: str, change: Callable[[bytes], bytes]) -> None:
    """Rewrite a store file in place (local disk: same inode, as an editor or MLflow does)."""
    fs, root = fs_root
    path = f"{root}/{rel}"
    new = change(fs.cat_file(path))
    if fs.protocol in ("file", ("file", "local")):
        with open(path, "r+b") as f:
            f.write(new)
            f.truncate()
    else:
        fs.pipe_file(path, new)


def put(fs_root: FsRoot, rel: str, data: bytes) -> None:
    fs, root = fs_root
    path = f"{root}/{rel}"
    if fs.protocol in ("file", ("file", "local")):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    fs.pipe_file(path, data)


def remove(fs_root: FsRoot, rel: str) -> None:
    fs, root = fs_root
    fs.rm(f"{root}/{rel}", recursive=True)


# -- answers follow every kind of change ---------------------------------------------------------
HAND_EDITS: list[tuple[str, Callable[[FsRoot], None]]] = [
    (
        "version meta.yaml edited in place, same length",
        lambda fr: edit(fr, "models/m/version-1/meta.yaml", lambda b: b.replace(b"aaaa", b"bbbb")),
    ),
    (
        "stage changed in place (as MLflow rewrites meta.yaml)",
        lambda fr: edit(
            fr, "models/m/version-2/meta.yaml", lambda b: b.replace(b": None", b": Production")
        ),
    ),
    (
        "version directory added by hand",
        lambda fr: put(
            fr,
            "models/m/version-9/meta.yaml",
            b"creation_timestamp: 5\ncurrent_stage: Archived\ndescription: by hand\n"
            b"last_updated_timestamp: 5\nname: m\nsource: /by/hand\nstatus: READY\n"
            b"version: 9\n",
        ),
    ),
    ("version directory deleted", lambda fr: remove(fr, "models/m/version-4")),
    ("alias file changed", lambda fr: put(fr, "models/m/aliases/champion", b"1")),
    ("alias file added", lambda fr: put(fr, "models/n/aliases/only", b"1")),
    ("version tag added by hand", lambda fr: put(fr, "models/m/version-9/tags/hand", b"yes")),
    ("version tag of an older version", lambda fr: put(fr, "models/m/version-1/tags/i", b"one")),
    ("model tag edited", lambda fr: put(fr, "models/m/tags/team", b"ops")),
    (
        "model description edited in place",
        lambda fr: edit(
            fr, "models/n/meta.yaml", lambda b: b.replace(b"description: null", b"description: x")
        ),
    ),
    (
        "model added by hand",
        lambda fr: put(fr, "models/h/meta.yaml", b"creation_timestamp: 1\nname: h\n"),
    ),
    ("model deleted by hand", lambda fr: remove(fr, "models/n")),
]


def test_answers_follow_hand_edits(store_url: str, store_fs: FsRoot) -> None:
    client = build(store_url)
    age(store_url)
    store = client.registry_store
    first = answers(store)
    assert answers(store) == first == reference(store_url)
    answers(store)  # the shards again (local disk)
    for what, change in HAND_EDITS:
        change(store_fs)
        got = answers(store)
        fresh = answers(RegistryStore(open_storage(store_url)))  # what another process sees
        assert got == fresh == reference(store_url), what
        age(store_url)  # so that the next edit changes a file the index holds
        assert answers(store) == got, what


def test_another_process_sees_writes_at_once(store_url: str) -> None:
    """Writes by another process show in this process's very next search, and vice versa."""
    client = build(store_url)
    age(store_url)
    store = client.registry_store
    answers(store)
    code = f"""
import json, sys
from fsregistry import Client
c = Client(tracking_uri={store_url!r})
c.create_model_version("m", "/src/m/5", tags={{"by": "child"}})
c.set_model_version_tag("m", "1", "child", "yes")
c.update_model_version("m", "2", "changed")
c.transition_model_version_stage("m", "3", "Production")
c.delete_model_version("m", "4")
c.set_registered_model_alias("m", "champion", "5")
c.set_registered_model_tag("n", "k", "v")
print(json.dumps([v.version for v in c.search_model_versions("name = 'm'")]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert sorted(json.loads(out.stdout)) == [1, 2, 3, 5]
    assert answers(store) == reference(store_url)
    versions = {v.version: v for v in client.search_model_versions("name = 'm'")}
    assert versions[1].tags == {"i": "1", "child": "yes"}
    assert versions[2].description == "changed"
    assert versions[3].current_stage == "Production" and 4 not in versions
    assert versions[5].aliases == ["champion"]
    # ... and the other way round: our writes, then a search in a fresh process.
    client.delete_registered_model_alias("m", "champion")
    client.transition_model_version_stage("m", "5", "Archived")
    code = f"""
import json
from fsregistry import Client
c = Client(tracking_uri={store_url!r})
print(json.dumps([[v.version, v.current_stage, v.aliases] for v in
                  c.search_model_versions("name = 'm'", order_by=["version_number ASC"])]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [
        [1, "None", []],
        [2, "None", []],
        [3, "Production", []],
        [5, "Archived", []],
    ]


def test_a_racy_file_is_never_cached(tmp_path: Path) -> None:
    """A file changed within the clock tick of the listing that read it: a second same-size
    write in that tick keeps its token, so what was read then must not be kept."""
    url = str(tmp_path / "mlruns")
    writer = RegistryStore(LocalStorage(url))  # another process, in effect
    writer.create_registered_model("m")
    writer.create_model_version("m", "/src/a", description="aaaa")
    reader = RegistryStore(open_storage(url))
    assert [v.description for v in reader.search_model_versions("name = 'm'")] == ["aaaa"]
    path = tmp_path / "mlruns" / "models" / "m" / "version-1" / "meta.yaml"
    before = path.stat()
    with open(path, "r+b") as f:  # same size, same inode, and the same mtime: same token
        f.write(path.read_bytes().replace(b"aaaa", b"bbbb"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert LocalStorage(url).tokens(["models/m/version-1/meta.yaml"]) == {
        "models/m/version-1/meta.yaml": f"{before.st_size}-{before.st_mtime_ns}-{before.st_ino}"
    }
    assert [v.description for v in reader.search_model_versions("name = 'm'")] == ["bbbb"]
    assert [v.description for v in reader.search_model_versions()] == ["bbbb"]
    assert reader.get_registered_model("m").latest_versions[0].description == "bbbb"


def test_a_version_this_process_created_then_replaced_elsewhere(tmp_path: Path) -> None:
    url = str(tmp_path / "mlruns")
    client = Client(tracking_uri=url)
    client.create_registered_model("m")
    client.create_model_version("m", "/src/a", description="mine")
    other = RegistryStore(LocalStorage(url))  # another process, replacing the file at once
    other.update_model_version("m", 1, "theirs")
    assert [v.description for v in client.search_model_versions("name = 'm'")] == ["theirs"]


# -- what the index holds and where ---------------------------------------------------------------
def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    original = LocalStorage.read_many

    def counting(self: LocalStorage, paths: Any) -> dict[str, bytes]:
        paths = list(paths)
        seen.extend(paths)
        return original(self, paths)

    monkeypatch.setattr(LocalStorage, "read_many", counting)
    return seen


def test_a_fresh_process_reads_the_shards_not_the_versions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = str(tmp_path / "mlruns")
    build(url)
    age(url)
    expected = reference(url)
    assert answers(RegistryStore(open_storage(url))) == expected  # records what it read
    assert shard_files(url)
    reads = _reads(monkeypatch)
    assert answers(RegistryStore(open_storage(url))) == expected
    assert reads and all(p.startswith(f"models/{model_index.SHARD_PREFIX}") for p in reads)
    reads.clear()
    path = tmp_path / "mlruns" / "models" / "m" / "version-2" / "meta.yaml"
    path.write_bytes(path.read_bytes().replace(b"aaaa", b"cccc"))
    got = answers(RegistryStore(open_storage(url)))
    assert [v[3] for v in got[1] if v[0] == "m" and v[1] == 2] == ["cccc"]
    assert "models/m/version-2/meta.yaml" in reads
    assert not [p for p in reads if "version-1" in p or "version-3" in p]


def test_shards_survive_damage_and_forget_deleted_models(tmp_path: Path) -> None:
    url = str(tmp_path / "mlruns")
    client = build(url)
    age(url)
    expected = reference(url)
    answers(RegistryStore(open_storage(url)))
    storage = open_storage(url)
    for name in shard_files(url):
        storage.write(f"models/{name}", b"{not json")
    assert answers(RegistryStore(open_storage(url))) == expected
    for name in shard_files(url):
        assert shard_models(storage, name)  # rebuilt by the reader that had to read
    client.delete_registered_model("n")
    answers(RegistryStore(open_storage(url)))
    held = set()
    for name in shard_files(url):
        held |= set(shard_models(storage, name))
    assert held == {"m"}
    # MLflow lists every directory of models/ as a model: shards are files, never listed.
    assert [m.name for m in client.search_registered_models()] == ["m"]


def test_nothing_is_written_for_a_missing_store(tmp_path: Path) -> None:
    url = str(tmp_path / "nothing" / "mlruns")
    store = RegistryStore(open_storage(url))
    assert list(store.search_registered_models()) == []
    assert list(store.search_model_versions("name = 'm'")) == []
    assert not (tmp_path / "nothing").exists()


def test_a_name_filter_reads_only_that_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = str(tmp_path / "mlruns")
    build(url)
    store = RegistryStore(open_storage(url))
    reads = _reads(monkeypatch)
    assert [v.version for v in store.search_model_versions("name = 'n'")] == [1]
    assert reads and all(p.startswith(("models/n/", "models/.")) for p in reads)
    assert {v.name for v in store.search_model_versions("name IN ('m', 'n', 'zz')")} == {"m", "n"}
    assert list(store.search_model_versions("name = 'm' and name = 'n'")) == []
    for bad in ("../m", ".fsreg-registry-index-0", "m/version-1", ""):
        assert list(store.search_model_versions(f"name = '{bad}'")) == []
        assert list(store.search_registered_models(f"name = '{bad}'")) == []
    assert [m.name for m in store.search_registered_models("name = 'm'")] == ["m"]


def test_a_name_filter_decodes_only_its_models_of_the_shards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh process searching a few models by name decodes those models' entries of the
    shards, not every model that shares their shard files (nor the shards' big models)."""
    url = str(tmp_path / "mlruns")
    client = Client(tracking_uri=url)
    names = [f"m{i}" for i in range(40)]
    for name in names:
        client.create_registered_model(name)
        client.create_model_version(name, f"/src/{name}/1")
    age(url)
    answers(RegistryStore(open_storage(url)))  # the first reader writes the shards
    shard = model_index.shard_name("m3")
    assert [n for n in names if n != "m3" and model_index.shard_name(n) == shard]  # shared
    decoded: list[str] = []
    loads = json.loads

    def counting(text: Any, *a: Any, **k: Any) -> Any:
        decoded.append(text.decode() if isinstance(text, bytes) else text)
        return loads(text, *a, **k)

    monkeypatch.setattr(json, "loads", counting)
    store = RegistryStore(open_storage(url))
    assert [m.name for m in store.search_registered_models("name = 'm3'")] == ["m3"]
    assert [v.source for v in store.search_model_versions("name LIKE 'm3'")] == ["/src/m3/1"]
    sources = [s for text in decoded for s in names if f'"/src/{s}/1"' in text]
    assert sources == ["m3"]


def test_hex_nonces_stay_on_the_fast_reader() -> None:
    """Nonces and ids that start with 0b/0x but are no YAML number parse without PyYAML, and
    exactly as PyYAML reads them."""
    words = ["0b4a08ff", "0b101", "0b1", "0x1f", "0xAbC", "0xzz", "0X1F", "0B101", "0b1e5"]
    words += [f"0{p}{h:x}" for p in "bx" for h in range(0, 4096, 37)]
    for word in words:
        doc = f"nonce: {word}\n"
        fast = _load_simple(doc)
        ref = yaml.safe_load(doc)
        if fast is not None:
            assert fast == ref and type(fast["nonce"]) is type(ref["nonce"]), word
    assert _load_simple("nonce: 0b4a08a1b3d642f993110b42d0cc84d5\n") == {
        "nonce": "0b4a08a1b3d642f993110b42d0cc84d5"
    }


# -- MLflow writes into a registry fsregistry has indexed ------------------------------------------
_MLFLOW_CHANGES = """
import json
from mlflow import MlflowClient
uri = {uri!r}
c = MlflowClient(tracking_uri=uri, registry_uri=uri)
c.transition_model_version_stage("m", "1", "Production")
c.set_model_version_tag("m", "2", "by", "mlflow")
c.update_model_version("m", "3", description="mlflow was here")
c.delete_model_version("m", "4")
mv = c.create_model_version("m", "/src/mlflow")
c.set_registered_model_alias("m", "champion", mv.version)
c.set_registered_model_tag("n", "by", "mlflow")
out = {{}}
for rm in c.search_registered_models():
    vs = c.search_model_versions(f"name = '{{rm.name}}'")
    out[rm.name] = {{
        "aliases": {{k: str(v) for k, v in rm.aliases.items()}},
        "tags": rm.tags,
        "latest": sorted([v.version, v.current_stage] for v in rm.latest_versions),
        "versions": sorted([v.version, v.current_stage, v.description, v.tags]
                           for v in vs),
    }}
print(json.dumps(out))
"""


@pytest.mark.mlflow
def test_mlflow_changes_show_in_the_next_search(
    mlflow_python: MlflowPython, tmp_path: Path
) -> None:
    root = tmp_path / "mlruns"
    client = build(str(root))
    age(str(root))
    answers(client.registry_store)  # indexed, in memory and in the shards
    theirs = mlflow_python.run(_MLFLOW_CHANGES.format(uri=root.as_uri()), cwd=tmp_path)

    def ours(store: RegistryStore) -> dict[str, Any]:
        out = {}
        for rm in store.search_registered_models():
            vs = store.search_model_versions(f"name = '{rm.name}'")
            out[rm.name] = {
                "aliases": rm.aliases,
                "tags": rm.tags,
                "latest": sorted([v.version, v.current_stage] for v in rm.latest_versions),
                "versions": sorted([v.version, v.current_stage, v.description, v.tags] for v in vs),
            }
        return out

    assert ours(client.registry_store) == theirs
    assert ours(RegistryStore(open_storage(str(root)))) == theirs
    assert theirs["m"]["aliases"] == {"champion": "5"}
