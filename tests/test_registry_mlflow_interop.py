"""The registry on disk is MLflow's: each side reads what the other wrote.

* Real MLflow 2.22.5 and 3.17.2 read a registry fsregistry wrote (including fsregistry's extra
  ``fsregistry:`` keys, a soft-deleted version, a renamed model) and give the same answers as
  fsregistry; MLflow then adds a version itself and fsregistry numbers the next one right.
* fsregistry reads the registries real MLflow wrote (``mlruns_fixture/``, on local disk, S3 and
  GCS) and gives MLflow's own answers (``expected.json``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fsreg_testing.fixture_trees import copy_fixture_tree, load_expected, upload_fixture_tree
from fsreg_testing.mlflow_env import MLFLOW_VERSIONS, MlflowPython
from fsregistry import Client, artifacts
from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist
from fsregistry.uris import resolve_model_uri


def _model_dir(tmp_path: Path, marker: str) -> Path:
    d = tmp_path / f"src-{marker}"
    d.mkdir()
    (d / "MLmodel").write_text(f"flavors: {{}}\nmarker: {marker}\n")
    return d


def _summary(client: Client) -> dict[str, Any]:
    """fsregistry's answers in the shape the MLflow snippet prints."""
    out: dict[str, Any] = {"models": {}}
    for rm in client.search_registered_models():
        versions = client.search_model_versions(f"name = '{rm.name}'")
        out["models"][rm.name] = {
            "tags": rm.tags,
            "description": rm.description,
            "aliases": rm.aliases,
            "latest": sorted([mv.version, mv.current_stage] for mv in rm.latest_versions),
            "versions": sorted(
                [mv.version, mv.current_stage, mv.source, mv.tags, sorted(mv.aliases), mv.run_id]
                for mv in versions
            ),
        }
    return out


_MLFLOW_READS = """
import json, os
import mlflow
from mlflow import MlflowClient

uri = {uri!r}
mlflow.set_tracking_uri(uri)
mlflow.set_registry_uri(uri)
client = MlflowClient(tracking_uri=uri, registry_uri=uri)
out = {{"models": {{}}}}
for rm in client.search_registered_models():
    versions = client.search_model_versions(f"name = '{{rm.name}}'")
    out["models"][rm.name] = {{
        "tags": rm.tags,
        "description": rm.description,
        "aliases": {{k: str(v) for k, v in rm.aliases.items()}},
        "latest": sorted([mv.version, mv.current_stage] for mv in rm.latest_versions),
        "versions": sorted(
            [mv.version, mv.current_stage, mv.source, mv.tags, sorted(mv.aliases), mv.run_id]
            for mv in versions
        ),
    }}
out["champion"] = client.get_model_version_by_alias("fsm", "champion").version
out["download_uri"] = client.get_model_version_download_uri("fsm", 2)
out["latest_marker"] = open(os.path.join(
    mlflow.artifacts.download_artifacts("models:/fsm/latest"), "MLmodel")).read()
out["alias_marker"] = open(os.path.join(
    mlflow.artifacts.download_artifacts("models:/fsm@champion"), "MLmodel")).read()
try:
    client.get_model_version("fsm", 4)
    out["deleted"] = "visible"
except Exception as e:
    out["deleted"] = type(e).__name__
mv = client.create_model_version("fsm", "file:///elsewhere/model", tags={{"by": "mlflow"}})
out["mlflow_created"] = mv.version
client.set_registered_model_alias("fsm", "mlflow-alias", mv.version)
print(json.dumps(out))
"""


def test_mlflow_reads_registry_fsregistry_wrote(
    mlflow_python: MlflowPython, tmp_path: Path
) -> None:
    root = tmp_path / "mlruns"
    client = Client(tracking_uri=str(root))
    exp_id = client.create_experiment("exp")
    run_ids = []
    for i in range(1, 5):
        run_id = client.create_run(exp_id).info.run_id
        client.log_artifacts(run_id, _model_dir(tmp_path, f"m{i}"), "model")
        run_ids.append(run_id)
    client.create_registered_model("fsm-old", tags={"team": "ml"}, description="fs model")
    for i, run_id in enumerate(run_ids, start=1):
        source = f"{client.get_run(run_id).info.artifact_uri}/model"
        client.create_model_version("fsm-old", source, run_id=run_id, tags={"i": str(i)})
    client.set_registered_model_alias("fsm-old", "champion", 2)
    client.transition_model_version_stage("fsm-old", 1, "Staging")
    client.transition_model_version_stage("fsm-old", 2, "Production")
    client.transition_model_version_stage(
        "fsm-old", 3, "production", archive_existing_versions=True
    )
    client.delete_model_version("fsm-old", 4)
    client.rename_registered_model("fsm-old", "fsm")
    client.create_registered_model("other")
    mine = _summary(client)

    out = mlflow_python.run(_MLFLOW_READS.format(uri=root.as_uri()), cwd=tmp_path)
    assert out["models"] == mine["models"]
    assert set(out["models"]) == {"fsm", "other"}
    assert out["champion"] == 2
    assert out["download_uri"] == client.get_model_version_download_uri("fsm", 2)
    assert out["latest_marker"].endswith("marker: m3\n")  # 4 is deleted
    assert out["alias_marker"].endswith("marker: m2\n")
    assert out["deleted"] == "MlflowException"
    # MLflow numbered its version past the soft-deleted 4 and dropped fsregistry's hint when
    # it rewrote meta.yaml; fsregistry still takes the next free number.
    assert out["mlflow_created"] == 5
    mv5 = client.get_model_version("fsm", 5)
    assert mv5.tags == {"by": "mlflow"} and mv5.aliases == ["mlflow-alias"]
    assert client.create_model_version("fsm", "/next").version == 6


# -- fsregistry reads MLflow's own registries ----------------------------------------------------
@pytest.fixture(params=MLFLOW_VERSIONS, ids=[f"mlflow{v.split('.')[0]}" for v in MLFLOW_VERSIONS])
def fixture_store(request: pytest.FixtureRequest, store_url: str, backend: str) -> tuple[str, str]:
    """(MLflow version, store URL) of a copy of that MLflow's fixture tree on the backend."""
    version: str = request.param
    if backend == "local":
        copy_fixture_tree(version, store_url)
    else:
        upload_fixture_tree(version, store_url)
    return version, store_url


def _relocated(uri: str | None, expected: dict[str, Any], client: Client) -> str | None:
    if uri is None:
        return None
    root = client.registry_store.storage.root_uri
    return uri.replace(expected["generated_at_root_uri"], root)


def test_fsregistry_reads_registries_mlflow_wrote(fixture_store: tuple[str, str]) -> None:
    version, url = fixture_store
    expected = load_expected(version)
    client = Client(tracking_uri=url)
    names = [m.name for m in client.search_registered_models()]
    assert names == expected["search_registered_models"]
    for name, want in expected["registered_models"].items():
        rm = client.get_registered_model(name)
        assert rm.tags == want["tags"] and rm.description == want["description"]
        assert rm.aliases == want["aliases"]
        assert rm.creation_timestamp == want["creation_timestamp"]
        assert rm.last_updated_timestamp == want["last_updated_timestamp"]
        assert sorted((mv.version, mv.current_stage) for mv in rm.latest_versions) == sorted(
            (lv["version"], lv["current_stage"]) for lv in want["latest_versions"]
        )
        for stage, versions in want["get_latest_versions"].items():
            got = client.get_latest_versions(name, None if stage == "ALL" else [stage])
            assert sorted(mv.version for mv in got) == sorted(versions), stage
        for alias, number in want["get_model_version_by_alias"].items():
            assert client.get_model_version_by_alias(name, alias).version == number
        for number, mv_want in want["versions"].items():
            if "get_model_version" in mv_want:  # MLflow said: not found (soft-deleted)
                with pytest.raises(ResourceDoesNotExist, match=f"version={number}"):
                    client.get_model_version(name, number)
                continue
            mv = client.get_model_version(name, number)
            got = {
                k: getattr(mv, k)
                for k in mv_want
                if k not in ("download_uri", "storage_location", "version")
            }
            assert got == {k: v for k, v in mv_want.items() if k in got}
            assert mv.version == mv_want["version"]
            assert client.get_model_version_download_uri(name, number) == _relocated(
                mv_want["download_uri"], expected, client
            )
    search = [
        (int(mv.version), mv.current_stage)
        for mv in client.search_model_versions("name='demo-model'", order_by=["version_number"])
    ]
    assert search == [
        (v["version"], v["current_stage"])
        for v in expected["search_model_versions"]["name='demo-model'"]
    ]
    # Model URIs resolve into this copy of the tree, and the files are there.
    local = artifacts.download_artifacts("models:/demo-model@champion", tracking_uri=url)
    assert Path(local, "MLmodel").exists()
    assert resolve_model_uri("models:/demo-model/latest", registry_uri=url) == _relocated(
        expected["registered_models"]["demo-model"]["versions"]["2"]["download_uri"],
        expected,
        client,
    )
    # fsregistry numbers new versions past MLflow's (its deleted 3 included).
    assert client.create_model_version("demo-model", "/new").version == 4
    with pytest.raises(InvalidParameterValue):
        client.get_model_version_by_alias("demo-model", "nope")


def test_model_uris_of_mlflow3_logged_models(store_url: str, backend: str) -> None:
    version = "3.17.2"
    if backend == "local":
        copy_fixture_tree(version, store_url)
    else:
        upload_fixture_tree(version, store_url)
    expected = load_expected(version)
    url = store_url
    client = Client(tracking_uri=url)
    root = client.registry_store.storage.root_uri
    for model in expected["logged_models"]:
        location = model["artifact_location"].replace(expected["generated_at_root_uri"], root)
        assert resolve_model_uri(f"models:/{model['model_id']}", tracking_uri=url) == location
        assert (
            resolve_model_uri(f"runs:/{model['source_run_id']}/model", tracking_uri=url) == location
        )
    alpha = expected["created"]["runs"]["alpha"]
    # runs:/ paths that exist as run artifacts still resolve to the run (MLflow 2 style).
    assert resolve_model_uri(f"runs:/{alpha}/notes", tracking_uri=url).endswith(
        f"{alpha}/artifacts/notes"
    )
    # register_model of a 3.x runs:/ URI records models:/<model_id>, as MLflow 3 does.
    import fsregistry

    with fsregistry.config.using(tracking_uri=url):
        mv = fsregistry.register_model(f"runs:/{alpha}/model", "from-run")
    model_id = next(m["model_id"] for m in expected["logged_models"] if m["source_run_id"] == alpha)
    assert (mv.source, mv.model_id, mv.run_id) == (f"models:/{model_id}", model_id, alpha)
    loc = client.get_model_version_download_uri("from-run", 1)
    assert loc.endswith(f"models/{model_id}/artifacts") and loc.startswith(root)
    assert json.dumps(mv.tags) == "{}"
