"""fsregistry's own lock and temp files (``.<name>#fsreg-lock``, ``.<name>#fsreg-tmp-<hex>``)
have names no key and no artifact can take, and ``fsreg doctor`` deletes only files it
provably made.

Keys and artifacts spelled like the names earlier versions used (``.x.fsreg-lock``) are
ordinary keys and files: readers return them and doctor never touches them. Such old-format
files directly in an item directory (next to a ``meta.yaml``) are earlier versions' locks,
which doctor reports and, once old and unheld, removes.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

import fsspec
import pytest
from filelock import FileLock

from fsregistry import Client
from fsregistry.exceptions import MlflowException
from fsregistry.maintenance import diagnose, repair
from fsregistry.storage import open_storage
from tests.test_cli_health import fsreg_json, snapshot

HEX = "0123456789abcdef" * 2
OLD_KEYS = [".x.fsreg-lock", f".x.fsreg-tmp-{HEX}", f".meta.yaml.fsreg-tmp-{HEX}"]


def age(path: Path, seconds: float = 7200) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old))


def test_keys_spelled_like_old_internal_names_round_trip_and_survive_doctor(
    store_url: str, store_fs: tuple[Any, str]
) -> None:
    client = Client(tracking_uri=store_url)
    exp = client.create_experiment("names", tags=dict.fromkeys(OLD_KEYS, "e"))
    run = client.create_run(exp).info.run_id
    for key in OLD_KEYS:
        client.log_param(run, key, "p")
        client.set_tag(run, key, "t")
        client.log_metric(run, key, 1.0)
    client.create_registered_model("m", tags=dict.fromkeys(OLD_KEYS, "m"))
    client.create_model_version("m", f"runs:/{run}/model", run_id=run)
    for key in OLD_KEYS:
        client.set_model_version_tag("m", "1", key, "v")

    def check(c: Client) -> None:
        data = c.get_run(run).data
        assert set(OLD_KEYS) <= set(data.params) and set(OLD_KEYS) <= set(data.tags)
        assert set(OLD_KEYS) <= set(data.metrics)
        assert set(OLD_KEYS) <= set(c.get_experiment(exp).tags)
        assert set(OLD_KEYS) <= set(c.get_registered_model("m").tags)
        assert set(OLD_KEYS) <= set(c.get_model_version("m", "1").tags)

    check(client)
    fs, root = store_fs
    before = snapshot(fs, root)
    fsreg_json("doctor", "-t", store_url, "--fix", "--min-age", "0s")
    assert snapshot(fs, root) == before
    check(Client(tracking_uri=store_url))


def test_internal_names_are_refused_for_keys_and_artifacts(store_url: str, tmp_path: Path) -> None:
    client = Client(tracking_uri=store_url)
    run = client.create_run(client.create_experiment("refused")).info.run_id
    for name in (".x#fsreg-lock", f".x#fsreg-tmp-{HEX}"):
        with pytest.raises(MlflowException, match="Invalid"):
            client.log_param(run, name, "p")
        with pytest.raises(MlflowException, match="Invalid"):
            client.set_tag(run, name, "t")
        local = tmp_path / name
        local.write_bytes(b"data")
        with pytest.raises(MlflowException, match="reserved") as e:
            client.log_artifact(run, str(local), "sub")
        assert e.value.error_code == "INVALID_PARAMETER_VALUE" and name in e.value.message
        with pytest.raises(MlflowException, match="reserved"):
            client.log_text(run, "x", f"sub/{name}")
        local.unlink()
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "ok.txt").write_bytes(b"ok")
    (folder / ".y#fsreg-lock").write_bytes(b"no")
    with pytest.raises(MlflowException, match="reserved"):
        client.log_artifacts(run, str(folder))
    assert client.list_artifacts(run) == []  # all or nothing


def test_artifacts_spelled_like_old_internal_names_are_listed_and_kept(
    store_url: str, store_fs: tuple[Any, str], tmp_path: Path
) -> None:
    client = Client(tracking_uri=store_url)
    run = client.create_run(client.create_experiment("arts")).info.run_id
    for name in OLD_KEYS:
        local = tmp_path / name
        local.write_bytes(name.encode())
        client.log_artifact(run, str(local), "d")
    client.log_text(run, "t", "d/.meta.yaml.fsreg-lock")
    listed = {f.path for f in client.list_artifacts(run, "d")}
    assert listed == {f"d/{n}" for n in [*OLD_KEYS, ".meta.yaml.fsreg-lock"]}
    fs, root = store_fs
    before = snapshot(fs, root)
    fsreg_json("doctor", "-t", store_url, "--fix", "--min-age", "0s")
    assert snapshot(fs, root) == before
    assert {f.path for f in client.list_artifacts(run, "d")} == listed


def test_internal_looking_files_among_artifacts_are_reported_never_deleted(
    tmp_path: Path,
) -> None:
    root = tmp_path / "mlruns"
    client = Client(tracking_uri=str(root))
    exp = client.create_experiment("a")
    run = client.create_run(exp).info.run_id
    client.log_text(run, "x", "sub/x.txt")
    custom = client.create_experiment("c", artifact_location=str(root / "custom"))
    custom_run = client.create_run(custom).info.run_id
    client.log_text(custom_run, "y", "y.txt")
    client.flush()
    planted = [
        root / exp / run / "artifacts" / "sub" / f".x.txt#fsreg-tmp-{HEX}",
        root / exp / run / "artifacts" / ".gone#fsreg-lock",
        root / exp / run / "artifacts" / f".old.fsreg-tmp-{HEX}",  # a user's file
        root / "custom" / f".z#fsreg-tmp-{HEX}",
        root / "custom" / custom_run / "artifacts" / ".q#fsreg-lock",
    ]
    for path in planted:
        path.write_bytes(b"upload or user data")
        age(path)
    before = snapshot(fsspec.filesystem("file"), str(root))
    report = fsreg_json("doctor", "-t", str(root), "--fix", "--min-age", "0s", code=1)
    found = {(f["kind"], f["path"], f["fixable"]) for f in report["findings"]}
    rel = {str(p.relative_to(root)).replace(os.sep, "/") for p in planted}
    # An artifact location inside the store looks like an experiment without meta.yaml:
    # reported, never fixable (as before this change).
    assert found == {("internal_file_in_artifacts", p, False) for p in rel if "#" in p} | {
        ("missing_meta", "custom", False)
    }, found
    assert all(
        "remove it by hand" in f["message"]
        for f in report["findings"]
        if f["kind"] == "internal_file_in_artifacts"
    )
    after = snapshot(fsspec.filesystem("file"), str(root))
    assert after == before


def test_legacy_lock_and_temp_files_next_to_meta_are_fixed(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    client = Client(tracking_uri=str(root))
    exp = client.create_experiment("legacy", tags={"t": "1"})
    run = client.create_run(exp, run_name="r").info.run_id
    client.log_param(run, "p", "1")
    client.create_registered_model("m")
    client.create_model_version("m", f"runs:/{run}/model", run_id=run)
    client.set_registered_model_alias("m", "a", "1")
    client.search_runs([exp])
    client.flush()
    lock = ".meta.yaml.fsreg-lock"
    legacy = [
        root / exp / lock,
        root / exp / "..fsreg-index-ab.fsreg-lock",
        root / exp / run / lock,
        root / exp / run / f".meta.yaml.fsreg-tmp-{HEX}",
        root / "models" / lock,
        root / "models" / "m" / lock,
        root / "models" / "m" / "version-1" / lock,
    ]
    for path in legacy:
        path.write_bytes(b"")
        age(path)
    young = root / "models" / "m" / f".meta.yaml.fsreg-tmp-{uuid.uuid4().hex}"
    young.write_bytes(b"")
    held = root / exp / "..fsreg-index-cd.fsreg-lock"
    held.write_bytes(b"")
    age(held)
    # An earlier version's create killed before its meta.yaml was linked into place.
    killed = root / "models" / "m" / "version-2"
    killed.mkdir()
    (killed / f".meta.yaml.fsreg-tmp-{HEX}").write_bytes(b"half")
    age(killed / f".meta.yaml.fsreg-tmp-{HEX}")
    age(killed)

    # Readers are not disturbed by the stray files (a fresh client: nothing cached).
    fresh = Client(tracking_uri=str(root))
    assert fresh.get_run(run).data.params == {"p": "1"}
    assert [r.info.run_id for r in fresh.search_runs([exp])] == [run]
    assert fresh.get_experiment(exp).tags["t"] == "1"
    assert "legacy" in {e.name for e in fresh.search_experiments()}
    assert fresh.get_registered_model("m").aliases == {"a": "1"}
    assert [m.name for m in fresh.search_registered_models()] == ["m"]
    assert fresh.get_model_version("m", "1").run_id == run
    assert fresh.get_model_version_by_alias("m", "a").version == 1
    assert fresh.list_artifacts(run) == []

    storage = open_storage(str(root))
    rel = {str(p.relative_to(root)).replace(os.sep, "/") for p in [*legacy, held]}
    findings = diagnose(storage, min_age_s=3600)
    assert {(f.kind, f.path, f.fixable) for f in findings} == {
        ("legacy_lock_file" if p.endswith("lock") else "legacy_temp_file", p, True) for p in rel
    } | {("interrupted_create", "models/m/version-2", True)}
    with FileLock(str(held), timeout=0):  # an old process holding its lock
        fixed = repair(storage, findings, min_age_s=3600)
    assert {f.path for f in fixed if f.fixed} == rel - {f"{exp}/{held.name}"} | {
        "models/m/version-2"
    }
    assert all(not p.exists() for p in legacy)
    assert held.exists() and young.exists() and not killed.exists()
    assert [f.path for f in diagnose(storage, min_age_s=3600)] == [f"{exp}/{held.name}"]
    assert Client(tracking_uri=str(root)).get_run(run).data.params == {"p": "1"}
