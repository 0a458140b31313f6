"""fsregistry reads trees written by real MLflow 2.22.5 and 3.17.2 and gives MLflow's answers.

The trees in ``mlruns_fixture/`` were written by ``scripts/make_mlruns_fixture.py`` on another
path (their ``file://`` URIs point at a location that no longer exists), and each test reads a
copy: on local disk, or uploaded into an S3 or GCS bucket. So these tests also prove a tree
can be moved (rsync to a laptop, upload to a bucket) and still read correctly.
"""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import pytest

from fsreg_testing.fixture_trees import copy_fixture_tree, load_expected, upload_fixture_tree
from fsreg_testing.mlflow_env import MLFLOW_IDS, MLFLOW_VERSIONS
from fsregistry import Client, ViewType
from fsregistry.exceptions import ResourceDoesNotExist


def _num(value: float) -> Any:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


@pytest.fixture(params=MLFLOW_VERSIONS, ids=[MLFLOW_IDS[v] for v in MLFLOW_VERSIONS])
def fixture_store(
    request: pytest.FixtureRequest, store_url: str, backend: str
) -> tuple[Client, dict[str, Any]]:
    version: str = request.param
    if backend == "local":
        copy_fixture_tree(version, store_url)
    else:
        upload_fixture_tree(version, store_url)
    return Client(tracking_uri=store_url), load_expected(version)


def test_experiments(fixture_store: tuple[Client, dict[str, Any]]) -> None:
    client, expected = fixture_store
    got = {e.experiment_id: e for e in client.search_experiments(view_type=ViewType.ALL)}
    for exp in expected["experiments"]:
        ours = got[exp["experiment_id"]]
        assert (ours.name, ours.lifecycle_stage, ours.tags) == (
            exp["name"],
            exp["lifecycle_stage"],
            exp["tags"],
        )
        assert (ours.creation_time, ours.last_update_time) == (
            exp["creation_time"],
            exp["last_update_time"],
        )
        # Relocated: the recorded file:// path is gone; the copy's own location is used.
        assert ours.artifact_location.startswith(client.store.storage.root_uri)
        assert ours.artifact_location.endswith("/" + exp["experiment_id"])
    for view, ids in expected["search_experiments"].items():
        assert [e.experiment_id for e in client.search_experiments(view_type=view)] == ids


def test_runs_params_tags_metrics_and_history(fixture_store: tuple[Client, dict[str, Any]]) -> None:
    client, expected = fixture_store
    for run_id, exp_run in expected["runs"].items():
        run = client.get_run(run_id)
        info = exp_run["info"]
        for field in (
            "experiment_id",
            "run_name",
            "status",
            "start_time",
            "end_time",
            "lifecycle_stage",
            "user_id",
        ):
            assert getattr(run.info, field) == info[field], (run_id, field)
        assert run.info.artifact_uri.startswith(client.store.storage.root_uri)
        assert run.info.artifact_uri.endswith(f"/{run_id}/artifacts")
        assert run.data.params == exp_run["params"]
        assert run.data.tags == exp_run["tags"]
        assert {k: _num(v) for k, v in run.data.metrics.items()} == exp_run["metrics"]
        got_inputs = [
            {
                "name": d.dataset.name,
                "digest": d.dataset.digest,
                "source": d.dataset.source,
                "schema": d.dataset.schema,
                "profile": d.dataset.profile,
                "source_type": d.dataset.source_type,
            }
            for d in run.inputs.dataset_inputs
        ]
        want_inputs = [
            {k: d[k] for k in ("name", "digest", "source", "schema", "profile", "source_type")}
            for d in exp_run["dataset_inputs"]
        ]
        assert got_inputs == want_inputs
    for run_id, histories in expected["metric_history"].items():
        for key, points in histories.items():
            got = [
                [m.timestamp, _num(m.value), m.step] for m in client.get_metric_history(run_id, key)
            ]
            assert got == points, (run_id, key)


def test_artifacts_of_relocated_runs(
    fixture_store: tuple[Client, dict[str, Any]], tmp_path: Path
) -> None:
    client, expected = fixture_store

    def walk(run_id: str, path: str | None = None) -> list[dict[str, Any]]:
        out = []
        for f in client.list_artifacts(run_id, path):
            out.append({"path": f.path, "is_dir": f.is_dir, "file_size": f.file_size})
            if f.is_dir:
                out.extend(walk(run_id, f.path))
        return out

    checked = 0
    for run_id, exp_run in expected["runs"].items():
        want = exp_run["artifacts"]
        if client.store.storage.capabilities.directories is False:
            # Object stores have no empty directories; MLflow lists them on disk.
            want = [
                a
                for a in want
                if not a["is_dir"]
                or any(b["path"].startswith(a["path"] + "/") and not b["is_dir"] for b in want)
            ]
        # MLflow 2 writes ``registered_model_meta`` into a model it loads by registry URI
        # (docs/mlflow-format.md §2.5); the generator loaded the model after recording this listing.
        got = [a for a in walk(run_id) if not a["path"].endswith("/registered_model_meta")]
        assert sorted(got, key=lambda a: a["path"]) == sorted(want, key=lambda a: a["path"])
        files = [a for a in want if not a["is_dir"]]
        if files:
            local = client.download_artifacts(run_id, files[0]["path"], str(tmp_path))
            assert Path(local).stat().st_size == files[0]["file_size"]
            checked += 1
    assert checked > 0


def test_search_runs_matches_mlflow(fixture_store: tuple[Client, dict[str, Any]]) -> None:
    client, expected = fixture_store
    for query in expected["search_runs"]:
        got = client.search_runs(
            query["experiment_ids"],
            query["filter"],
            query["run_view_type"],
            query["max_results"],
            query["order_by"],
        )
        assert [r.info.run_id for r in got] == query["run_ids"], query
    paging = expected["search_runs_paging"]
    page1 = client.search_runs(paging["experiment_ids"], max_results=paging["max_results"])
    assert [r.info.run_id for r in page1] == paging["page1_run_ids"]
    # fsregistry's token adds a cursor to MLflow's {"offset": N}; MLflow reads only the
    # offset, so each side's token pages the other (issue 24: paging by cursor).
    ours, theirs = (json.loads(base64.b64decode(t)) for t in (page1.token, paging["page1_token"]))
    assert ours["offset"] == theirs["offset"] and set(theirs) == {"offset"}
    for token in (paging["page1_token"].encode(), page1.token):  # MLflow's bytes form, ours
        page2 = client.search_runs(
            paging["experiment_ids"], max_results=paging["max_results"], page_token=token
        )
        assert [r.info.run_id for r in page2] == paging["page2_run_ids"]


def test_logged_models_of_mlflow_3(fixture_store: tuple[Client, dict[str, Any]]) -> None:
    client, expected = fixture_store
    if not expected["mlflow_version"].startswith("3."):
        assert not expected.get("logged_models")  # MLflow 2 logs models under the run
        return
    assert expected["logged_models"]
    for want in expected["logged_models"]:
        got = client.get_logged_model(want["model_id"])
        assert (got.experiment_id, got.name, got.source_run_id, got.status) == (
            want["experiment_id"],
            want["name"],
            want["source_run_id"],
            want["status"],
        )
        assert got.params == want["params"]
        assert got.tags == want["tags"]
        assert got.artifact_location.startswith(client.store.storage.root_uri)
        assert got.artifact_location.endswith(f"/models/{want['model_id']}/artifacts")
    with pytest.raises(ResourceDoesNotExist):
        client.get_logged_model("m-00000000000000000000000000000000")
