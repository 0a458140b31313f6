"""Model registry through ``Client``, ``register_model`` and model URIs: local disk, S3, GCS."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import fsregistry
from fsregistry import Client, artifacts
from fsregistry.exceptions import (
    InvalidParameterValue,
    MlflowException,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from fsregistry.registry.rename import Renames
from fsregistry.uris import resolve_model_uri


@pytest.fixture
def client(store_url: str) -> Client:
    return Client(tracking_uri=store_url)


@pytest.fixture
def process_uris(store_url: str) -> Iterator[str]:
    """Point the process-wide tracking (and so registry) URI at this test's store."""
    with fsregistry.config.using(tracking_uri=store_url):
        yield store_url


def snapshot(store_fs: tuple[Any, str]) -> dict[str, bytes]:
    """Every file of the store and its bytes (to prove a rejected call wrote nothing)."""
    fs, root = store_fs
    if not fs.exists(root):
        return {}
    return {p: fs.cat_file(p) for p in sorted(fs.find(root))}


def read_yaml(store_fs: tuple[Any, str], rel: str) -> dict[str, Any]:
    fs, root = store_fs
    data: dict[str, Any] = yaml.safe_load(fs.cat_file(f"{root}/{rel}"))
    return data


def make_model_dir(tmp_path: Path, marker: str) -> Path:
    d = tmp_path / f"model-{marker}"
    (d / "sub").mkdir(parents=True)
    (d / "MLmodel").write_text(f"flavors: {{}}\nmarker: {marker}\n")
    (d / "sub" / "weights.bin").write_bytes(marker.encode() * 10)
    return d


def logged_run(client: Client, tmp_path: Path, marker: str) -> str:
    """A run holding an MLflow-2-style model under artifacts/model; returns its run id."""
    exp = client.get_experiment_by_name("models") or None
    exp_id = exp.experiment_id if exp else client.create_experiment("models")
    run_id = client.create_run(exp_id).info.run_id
    client.log_artifacts(run_id, make_model_dir(tmp_path, marker), "model")
    return run_id


# -- registered models -----------------------------------------------------------------------
def test_create_get_update_delete_registered_model(
    client: Client, store_fs: tuple[Any, str]
) -> None:
    rm = client.create_registered_model("m1", tags={"team": "ml"}, description="first")
    assert (rm.name, rm.description, rm.tags) == ("m1", "first", {"team": "ml"})
    got = client.get_registered_model("m1")
    assert got.tags == {"team": "ml"} and got.latest_versions == [] and got.aliases == {}
    assert got.creation_timestamp == rm.creation_timestamp
    with pytest.raises(ResourceAlreadyExists, match="m1"):
        client.create_registered_model("m1")
    before = got.last_updated_timestamp or 0
    assert client.update_registered_model("m1", description="second").description == "second"
    client.set_registered_model_tag("m1", "owner/email", "a@b.c")
    client.delete_registered_model_tag("m1", "team")
    got = client.get_registered_model("m1")
    assert got.description == "second" and got.tags == {"owner/email": "a@b.c"}
    assert (got.last_updated_timestamp or 0) >= before
    meta = read_yaml(store_fs, "models/m1/meta.yaml")
    assert meta["name"] == "m1" and meta["description"] == "second"
    assert isinstance(meta["creation_timestamp"], int)
    client.delete_registered_model("m1")
    with pytest.raises(ResourceDoesNotExist, match="m1"):
        client.get_registered_model("m1")
    fs, root = store_fs
    assert not fs.exists(f"{root}/models/m1/meta.yaml")


def test_search_registered_models(client: Client) -> None:
    for name in ("alpha", "beta", "Gamma", "delta"):
        client.create_registered_model(name, tags={"kind": "a" if name < "c" else "b"})
    client.registry_store.create_registered_model(
        "prompt-x", tags={"mlflow.prompt.is_prompt": "true"}
    )

    def names(**kw: Any) -> list[str]:
        return [m.name for m in client.search_registered_models(**kw)]

    assert names() == ["Gamma", "alpha", "beta", "delta"]  # name ASC, prompts left out
    assert names(filter_string="name = 'beta'") == ["beta"]
    assert names(filter_string="name LIKE '%ta'") == ["beta", "delta"]
    assert names(filter_string="name ILIKE 'g%'") == ["Gamma"]
    assert names(filter_string="tags.kind = 'b'") == ["delta"]
    assert names(filter_string="tags.kind = 'a' AND name != 'alpha'") == ["Gamma", "beta"]
    assert names(order_by=["name DESC"]) == ["delta", "beta", "alpha", "Gamma"]
    client.set_registered_model_tag("alpha", "touched", "yes")
    assert names(order_by=["last_updated_timestamp DESC"])[0] == "alpha"
    page1 = client.search_registered_models(max_results=3)
    assert [m.name for m in page1] == ["Gamma", "alpha", "beta"] and page1.token
    page2 = client.search_registered_models(max_results=3, page_token=page1.token)
    assert [m.name for m in page2] == ["delta"] and page2.token is None
    with pytest.raises(InvalidParameterValue):
        client.search_registered_models(filter_string="version_number = 1")
    with pytest.raises(InvalidParameterValue):
        client.search_registered_models(max_results=1001)


# -- versions ----------------------------------------------------------------------------------
def test_model_versions_lifecycle(client: Client, store_fs: tuple[Any, str]) -> None:
    client.create_registered_model("m")
    mvs = [
        client.create_model_version("m", f"s3://b/src{i}", run_id=None, tags={"i": str(i)})
        for i in range(1, 4)
    ]
    assert [mv.version for mv in mvs] == [1, 2, 3]
    assert mvs[0].current_stage == "None" and mvs[0].status == "READY"
    meta = read_yaml(store_fs, "models/m/version-2/meta.yaml")
    assert meta["version"] == 2 and meta["source"] == "s3://b/src2"
    assert meta["storage_location"] == "s3://b/src2" and meta["current_stage"] == "None"
    assert "model_id" not in meta
    mv = client.update_model_version("m", "2", description="better")
    assert mv.description == "better" and mv.tags == {"i": "2"}
    client.set_model_version_tag("m", 2, "stage", "qa")
    client.delete_model_version_tag("m", 2, "i")
    assert client.get_model_version("m", 2).tags == {"stage": "qa"}
    client.set_registered_model_alias("m", "champion", 3)
    client.delete_model_version("m", 3)
    meta = read_yaml(store_fs, "models/m/version-3/meta.yaml")
    assert meta["current_stage"] == "Deleted_Internal"  # soft delete
    with pytest.raises(ResourceDoesNotExist, match=r"version=3"):
        client.get_model_version("m", 3)
    with pytest.raises(InvalidParameterValue, match="champion"):
        client.get_model_version_by_alias("m", "champion")  # removed with its version
    assert client.get_registered_model("m").aliases == {}
    assert client.create_model_version("m", "s3://b/src4").version == 4  # never reused
    assert client.get_model_version_by_alias("m", "latest").version == 4
    client.delete_model_version("m", 4)
    assert client.get_model_version_by_alias("m", "LATEST").version == 2
    with pytest.raises(ResourceDoesNotExist):
        client.delete_model_version("m", 4)


def test_aliases_latest_and_stages(client: Client) -> None:
    client.create_registered_model("m")
    for i in range(1, 5):
        client.create_model_version("m", f"/models/{i}")
    client.set_registered_model_alias("m", "champion", "2")
    client.set_registered_model_alias("m", "challenger", 4)
    assert client.get_model_version_by_alias("m", "champion").version == 2
    assert client.get_model_version("m", 2).aliases == ["champion"]
    assert client.get_registered_model("m").aliases == {"champion": "2", "challenger": "4"}
    found = {mv.version: mv.aliases for mv in client.search_model_versions("name = 'm'")}
    assert found == {1: [], 2: ["champion"], 3: [], 4: ["challenger"]}
    client.set_registered_model_alias("m", "champion", 3)  # moves
    assert client.get_model_version_by_alias("m", "champion").version == 3
    client.delete_registered_model_alias("m", "challenger")
    assert client.get_registered_model("m").aliases == {"champion": "3"}

    client.transition_model_version_stage("m", 1, "production")
    assert client.get_model_version("m", 1).current_stage == "Production"
    client.transition_model_version_stage("m", 2, "Staging")
    client.transition_model_version_stage("m", 3, "PRODUCTION", archive_existing_versions=True)
    stages = {mv.version: mv.current_stage for mv in client.search_model_versions("name='m'")}
    assert stages == {1: "Archived", 2: "Staging", 3: "Production", 4: "None"}
    latest = client.get_latest_versions("m")
    assert {(mv.version, mv.current_stage) for mv in latest} == {
        (1, "Archived"),
        (2, "Staging"),
        (3, "Production"),
        (4, "None"),
    }
    assert [mv.version for mv in client.get_latest_versions("m", ["production"])] == [3]
    rm = client.get_registered_model("m")
    assert {mv.version for mv in rm.latest_versions} == {1, 2, 3, 4}
    # MLflow's code: INTERNAL_ERROR
    with pytest.raises(MlflowException, match="'Archived' is not an Active stage") as e:
        client.transition_model_version_stage("m", 4, "Archived", archive_existing_versions=True)
    assert e.value.error_code == "INTERNAL_ERROR"
    with pytest.raises(InvalidParameterValue, match="Shipping"):
        client.transition_model_version_stage("m", 4, "Shipping")
    client.set_model_version_tag("m", key="deployed", value="yes", stage="Production")
    assert client.get_model_version("m", 3).tags == {"deployed": "yes"}


def test_search_model_versions(client: Client) -> None:
    client.create_registered_model("a")
    client.create_registered_model("b")
    run_id = "0123456789abcdef0123456789abcdef"
    client.create_model_version("a", "file:///x/a1", run_id=run_id, tags={"t": "x"})
    client.create_model_version("a", "file:///x/a2")
    client.create_model_version("b", "file:///y/b1", run_id=run_id)

    def found(flt: str, **kw: Any) -> list[tuple[str, int]]:
        return [(mv.name, mv.version) for mv in client.search_model_versions(flt, **kw)]

    assert found("name = 'a'", order_by=["version_number ASC"]) == [("a", 1), ("a", 2)]
    assert found(f"run_id = '{run_id}'", order_by=["name"]) == [("a", 1), ("b", 1)]
    assert found("version_number > 1") == [("a", 2)]
    assert found("source_path LIKE 'file:///y/%'") == [("b", 1)]
    assert found("tags.t = 'x'") == [("a", 1)]
    assert found("name IN ('a', 'b') AND version_number = 1", order_by=["name DESC"]) == [
        ("b", 1),
        ("a", 1),
    ]
    first = client.search_model_versions("", max_results=2, order_by=["name", "version_number"])
    assert [(m.name, m.version) for m in first] == [("a", 1), ("a", 2)] and first.token
    rest = client.search_model_versions(
        "", max_results=2, page_token=first.token, order_by=["name", "version_number"]
    )
    assert [(m.name, m.version) for m in rest] == [("b", 1)] and rest.token is None
    client.delete_model_version("a", 2)
    assert found("name = 'a'") == [("a", 1)]


# -- URIs, register_model, artifacts ------------------------------------------------------------
def test_register_model_and_resolve_every_uri_form(process_uris: str, tmp_path: Path) -> None:
    client = Client()
    run_id = logged_run(client, tmp_path, "one")
    mv = fsregistry.register_model(f"runs:/{run_id}/model", "reg", tags={"via": "fluent"})
    assert (mv.name, mv.version, mv.run_id, mv.tags) == ("reg", 1, run_id, {"via": "fluent"})
    run_artifacts = client.get_run(run_id).info.artifact_uri
    assert mv.source == f"{run_artifacts}/model"
    mv2 = fsregistry.register_model(f"runs:/{run_id}/model", "reg")  # model exists: reused
    assert mv2.version == 2
    client.set_registered_model_alias("reg", "champion", 1)
    client.transition_model_version_stage("reg", 2, "Staging")
    location = client.get_model_version_download_uri("reg", 1)
    assert location == f"{run_artifacts}/model"
    for uri in (
        "models:/reg/1",
        "models:/reg@champion",
        "models:/reg/latest",
        "models:/reg/staging",
        f"runs:/{run_id}/model",
    ):
        assert resolve_model_uri(uri) == location, uri
    assert resolve_model_uri("models:/reg/1/sub/weights.bin") == f"{location}/sub/weights.bin"
    assert resolve_model_uri("s3://bucket/x") == "s3://bucket/x"
    local = artifacts.download_artifacts("models:/reg@champion", dst_path=str(tmp_path))
    assert Path(local, "MLmodel").read_text().endswith("marker: one\n")
    assert Path(local, "sub", "weights.bin").read_bytes() == b"one" * 10
    names = sorted(f.path for f in artifacts.list_artifacts("models:/reg/latest"))
    assert names == ["MLmodel", "sub"]
    assert artifacts.load_text("models:/reg/1/MLmodel").startswith("flavors")
    with pytest.raises(ResourceDoesNotExist):
        fsregistry.register_model(f"runs:/{run_id}/missing", "reg")
    with pytest.raises(InvalidParameterValue, match="Prod"):
        client.get_latest_versions("reg", ["Prod"])
    with pytest.raises(ResourceDoesNotExist, match="Production"):
        resolve_model_uri("models:/reg/Production")
    copy = client.create_model_version("reg", "models:/reg@champion")
    assert copy.source == "models:/reg@champion"
    assert client.get_model_version_download_uri("reg", copy.version) == location


def test_registry_uri_apart_from_tracking(tmp_path: Path, store_url: str) -> None:
    tracking = str(tmp_path / "tracking")
    fsregistry.set_tracking_uri(tracking)
    fsregistry.set_registry_uri(store_url)
    try:
        run_id = logged_run(Client(), tmp_path, "apart")
        mv = fsregistry.register_model(f"runs:/{run_id}/model", "apart")
        assert (
            Client(registry_uri=store_url).get_model_version("apart", mv.version).run_id == run_id
        )
        assert not os.path.exists(os.path.join(tracking, "models", "apart"))
        local = artifacts.download_artifacts("models:/apart/1", dst_path=str(tmp_path))
        assert Path(local, "MLmodel").exists()
    finally:
        fsregistry.config.reset()


# -- rename ------------------------------------------------------------------------------------
def _populated(client: Client) -> None:
    client.create_registered_model("old", tags={"team": "ml"}, description="desc")
    for i in range(1, 4):
        client.create_model_version("old", f"/m/{i}", tags={"v": str(i)})
    client.set_registered_model_alias("old", "champion", 2)
    client.delete_model_version("old", 3)


def test_rename_keeps_tags_aliases_versions(client: Client, store_fs: tuple[Any, str]) -> None:
    _populated(client)
    renamed = client.rename_registered_model("old", "new")
    assert renamed.name == "new" and renamed.tags == {"team": "ml"}
    assert renamed.aliases == {"champion": "2"} and renamed.description == "desc"
    assert client.get_model_version("new", 2).tags == {"v": "2"}
    assert client.get_model_version_by_alias("new", "champion").version == 2
    assert client.get_model_version("new", 1).name == "new"
    assert [m.name for m in client.search_registered_models()] == ["new"]
    with pytest.raises(ResourceDoesNotExist):
        client.get_registered_model("old")
    assert client.create_model_version("new", "/m/4").version == 4  # 3 still taken
    assert read_yaml(store_fs, "models/new/version-1/meta.yaml")["name"] == "new"
    client.create_registered_model("other")
    with pytest.raises(ResourceAlreadyExists, match="other"):
        client.rename_registered_model("new", "other")
    client.create_registered_model("old")  # the old name is free again
    assert client.get_registered_model("old").tags == {}


class Crash(BaseException):
    """Stands for the process dying at that point."""


def _visible(client: Client) -> list[str]:
    return sorted(m.name for m in client.search_registered_models())


def test_rename_interrupted_before_commit_keeps_old(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    _populated(client)
    storage = client.registry_store.storage
    if storage.capabilities.directories:
        monkeypatch.setattr(storage, "move_tree", lambda *a: (_ for _ in ()).throw(Crash()))
    else:
        monkeypatch.setattr(storage, "write_if_match", lambda *a: (_ for _ in ()).throw(Crash()))
    with pytest.raises(Crash):
        client.rename_registered_model("old", "new")
    monkeypatch.undo()
    assert _visible(client) == ["old"]
    assert client.get_registered_model("old").aliases == {"champion": "2"}
    with pytest.raises(ResourceDoesNotExist):
        client.get_registered_model("new")
    # Retrying the same rename completes it.
    assert client.rename_registered_model("old", "new").tags == {"team": "ml"}
    assert _visible(client) == ["new"]


def test_rename_interrupted_after_commit_shows_only_new(
    client: Client, monkeypatch: pytest.MonkeyPatch, store_fs: tuple[Any, str]
) -> None:
    _populated(client)
    store = client.registry_store
    storage = store.storage
    if storage.capabilities.directories:
        monkeypatch.setattr(
            Renames, "finish_local_rename", lambda self, name: (_ for _ in ()).throw(Crash())
        )
    else:
        real = storage.write_if_match

        def commit_then_die(path: str, data: bytes, token: str | None) -> None:
            real(path, data, token)
            if path == "models/old/meta.yaml":
                raise Crash()

        monkeypatch.setattr(storage, "write_if_match", commit_then_die)
    with pytest.raises(Crash):
        client.rename_registered_model("old", "new")
    monkeypatch.undo()
    assert _visible(client) == ["new"]
    fs, root = store_fs
    if storage.capabilities.directories:
        # What MLflow sees: exactly one directory under models/.
        assert sorted(p.rsplit("/", 1)[-1] for p in fs.ls(f"{root}/models")) == ["new"]
    rm = client.get_registered_model("new")
    assert rm.tags == {"team": "ml"} and rm.aliases == {"champion": "2"}
    assert {mv.version for mv in client.search_model_versions("name='new'")} == {1, 2}
    with pytest.raises(ResourceDoesNotExist):
        client.get_registered_model("old")
    client.set_registered_model_tag("new", "after", "crash")  # any write finishes the rename
    assert read_yaml(store_fs, "models/new/meta.yaml")["name"] == "new"
    assert read_yaml(store_fs, "models/new/version-1/meta.yaml")["name"] == "new"
    assert _visible(client) == ["new"]


# -- copies ------------------------------------------------------------------------------------
def test_copy_model_version_within_and_across_stores(
    client: Client, store_url: str, tmp_path: Path
) -> None:
    client.create_registered_model("src")
    client.create_model_version("src", "/somewhere/model", tags={"k": "v"}, description="d")
    same = client.copy_model_version("models:/src/1", "dst")
    assert (same.name, same.version, same.source) == ("dst", 1, "models:/src/1")
    assert same.tags == {"k": "v"} and same.description == "d"
    assert client.get_model_version_download_uri("dst", 1) == "/somewhere/model"

    dev = Client(tracking_uri=str(tmp_path / "dev"))
    run_id = logged_run(dev, tmp_path, "dev")
    dev.create_registered_model("cand")
    dev.create_model_version("cand", f"runs:/{run_id}/model", run_id=run_id, tags={"q": "1"})
    dev.set_registered_model_alias("cand", "best", 1)
    promoted = client.copy_model_version(
        "models:/cand@best", "team-model", src_registry_uri=str(tmp_path / "dev")
    )
    assert promoted.status == "READY" and promoted.run_id == run_id
    assert promoted.tags["q"] == "1"
    assert promoted.tags["fsregistry.copied_from"] == "models:/cand/1"
    location = client.get_model_version_download_uri("team-model", promoted.version)
    assert location.startswith(client.registry_store.storage.root_uri)
    assert promoted.source == location and location.endswith("version-1/artifacts")
    (tmp_path / "out").mkdir()
    local = Client(registry_uri=store_url).registry_store.get_model_version_download_uri(
        "team-model", promoted.version
    )
    local = artifacts.download_artifacts(local, dst_path=str(tmp_path / "out"))
    assert Path(local, "sub", "weights.bin").read_bytes() == b"dev" * 10
    with pytest.raises(InvalidParameterValue, match="runs:/"):
        client.copy_model_version(f"runs:/{run_id}/model", "x")


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["a/b", "a:b", "a%b", "..", ".", "", "  ", "a\\b"])
def test_bad_model_names_change_nothing(
    client: Client, store_fs: tuple[Any, str], bad: str
) -> None:
    client.create_registered_model("good")
    client.create_model_version("good", "/x")
    before = snapshot(store_fs)
    for call in (
        lambda: client.create_registered_model(bad),
        lambda: client.create_model_version(bad, "/x"),
        lambda: client.rename_registered_model("good", bad),
        lambda: fsregistry.register_model("/x", bad),
        lambda: client.copy_model_version("models:/good/1", bad),
    ):
        with pytest.raises(InvalidParameterValue) as info:
            call()
        assert repr(bad) in str(info.value) or bad in str(info.value)
    assert snapshot(store_fs) == before


def test_bad_aliases_versions_and_tags_change_nothing(
    client: Client, store_fs: tuple[Any, str]
) -> None:
    client.create_registered_model("m")
    client.create_model_version("m", "/x")
    client.delete_model_version("m", 1)
    client.create_model_version("m", "/y")
    before = snapshot(store_fs)
    bad_calls: list[tuple[type[Exception], str, Any]] = [
        (
            InvalidParameterValue,
            "latest",
            lambda: client.set_registered_model_alias("m", "latest", 2),
        ),
        (
            InvalidParameterValue,
            "Latest",
            lambda: client.set_registered_model_alias("m", "Latest", 2),
        ),
        (InvalidParameterValue, "v3", lambda: client.set_registered_model_alias("m", "v3", 2)),
        (InvalidParameterValue, "''", lambda: client.set_registered_model_alias("m", "", 2)),
        (InvalidParameterValue, "a/b", lambda: client.set_registered_model_alias("m", "a/b", 2)),
        (ResourceDoesNotExist, "version=1", lambda: client.set_registered_model_alias("m", "x", 1)),
        (ResourceDoesNotExist, "version=7", lambda: client.set_registered_model_alias("m", "x", 7)),
        (InvalidParameterValue, "'two'", lambda: client.get_model_version("m", "two")),
        (InvalidParameterValue, "-1", lambda: client.update_model_version("m", -1, "d")),
        (ResourceDoesNotExist, "version=9", lambda: client.update_model_version("m", 9, "d")),
        (
            ResourceDoesNotExist,
            "version=9",
            lambda: client.transition_model_version_stage("m", 9, "Staging"),
        ),
        (ResourceDoesNotExist, "version=1", lambda: client.delete_model_version("m", 1)),
        (ResourceDoesNotExist, "version=1", lambda: client.set_model_version_tag("m", 1, "k", "v")),
        (InvalidParameterValue, "../x", lambda: client.set_model_version_tag("m", 2, "../x", "v")),
        (InvalidParameterValue, "../x", lambda: client.set_registered_model_tag("m", "../x", "v")),
        (
            InvalidParameterValue,
            "100000",
            lambda: client.set_registered_model_tag("m", "k", "x" * 100_001),
        ),
        (ResourceDoesNotExist, "nope", lambda: client.create_model_version("nope", "/x")),
        (ResourceDoesNotExist, "nope", lambda: client.set_registered_model_tag("nope", "k", "v")),
        (ResourceDoesNotExist, "nope", lambda: client.rename_registered_model("nope", "other")),
        (
            InvalidParameterValue,
            "Unable to fetch",
            lambda: client.create_model_version("m", "models:/m/1"),
        ),
        (InvalidParameterValue, "models:/", lambda: resolve_model_uri("models:/")),
        (
            InvalidParameterValue,
            "champion",
            lambda: client.get_model_version_by_alias("m", "champion"),
        ),
    ]
    for exc, text, call in bad_calls:
        with pytest.raises(exc) as info:
            call()
        assert text in str(info.value), (text, str(info.value))
    assert snapshot(store_fs) == before


def test_tracking_store_and_registry_share_a_tree(
    client: Client, store_fs: tuple[Any, str]
) -> None:
    """The registry lives in models/ of the tracking root; experiments never list it."""
    client.create_registered_model("m")
    assert [e.name for e in client.search_experiments()] == ["Default"]
    fs, root = store_fs
    assert fs.exists(f"{root}/models/m/meta.yaml")
