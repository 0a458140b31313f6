"""Behaviour MLflow's file store pins down, which code ported from MLflow relies on.

Two kinds of test:

- the same scenario runs under real MLflow (2.22.5 and 3.17.2, ``mlflow_python``) with
  ``MlflowClient`` and here with ``fsregistry.Client``, on local disk, and both must give the
  same answers (results, error codes, messages);
- the storage-dependent parts run on local disk, S3 and GCS (``store_url``), with the
  answers MLflow gave in that scenario written out.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import fsregistry
from fsregistry import Client, ViewType, entities
from fsregistry.entities import Dataset, DatasetInput, InputTag, Metric
from fsregistry.exceptions import (
    InvalidParameterValue,
    InvalidState,
    MissingConfigException,
    MlflowException,
    ResourceDoesNotExist,
)
from fsregistry.models import Model
from fsregistry.search import encode_page_token
from fsregistry.storage import open_storage
from fsregistry.tracking.store import TrackingStore

# -- the same scenario under MLflow and fsregistry --------------------------------------------
# Works with MlflowClient and fsregistry.Client: the same names, arguments and entities.
SCENARIO = r"""
import json, os, shutil, time

def scenario(Client, Model, E, root):
    names = {root: "<root>"}

    def error(call):
        try:
            call()
        except Exception as e:
            message = str(getattr(e, "message", e)).replace("file://", "")
            for value, name in sorted(names.items(), key=lambda kv: -len(kv[0])):
                message = message.replace(value, name)
            return [getattr(e, "error_code", type(e).__name__), message]
        return None

    def set_meta_line(path, key, value):
        with open(path) as f:
            lines = f.read().splitlines()
        lines = [f"{key}: '{value}'" if line.startswith(key + ":") else line for line in lines]
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")

    out = {}
    client = Client(tracking_uri=root)
    out["default_after_open"] = os.path.exists(os.path.join(root, "0", "meta.yaml"))
    opened = int(time.time() * 1000)
    while int(time.time() * 1000) <= opened:
        time.sleep(0.001)
    exp = client.create_experiment("e")
    names[exp] = "<exp>"
    out["created_by_open"] = [
        x.name for x in client.search_experiments(filter_string=f"creation_time <= {opened}")
    ]
    out["newest_first"] = [x.name for x in client.search_experiments()]

    run = client.create_run(exp, run_name="named")
    rid = run.info.run_id
    names[rid] = "<run>"
    client.delete_tag(rid, "mlflow.runName")
    got = client.get_run(rid)
    out["run_name_tag_deleted"] = [got.data.tags.get("mlflow.runName"), got.info.run_name]
    out["search_by_tag"] = len(client.search_runs([exp], "tags.mlflow.runName = 'named'"))
    out["search_by_name"] = len(client.search_runs([exp], "attributes.run_name = 'named'"))

    ds = E.Dataset("d", "abc", "local", "src")
    client.log_inputs(rid, [E.DatasetInput(ds, [E.InputTag("mlflow.data.context", "train")])])
    client.log_inputs(rid, [E.DatasetInput(ds, [E.InputTag("mlflow.data.context", "eval")])])
    client.log_inputs(rid)
    out["input_tags"] = [
        sorted((t.key, t.value) for t in d.tags) for d in client.get_run(rid).inputs.dataset_inputs
    ]

    page = client.search_runs([exp], max_results=0)
    out["search_runs_max0"] = [list(page), page.token is not None]
    empty = client.create_experiment("empty")
    out["search_runs_max0_none"] = client.search_runs([empty], max_results=0).token
    out["search_experiments_max0"] = error(lambda: client.search_experiments(max_results=0))[0]

    for step in range(3):
        client.log_metric(rid, "m", step / 2, timestamp=1000 + step, step=step)
    history = client.get_metric_history(rid, "m")
    out["history"] = [type(history).__name__, history.token, [m.step for m in history.to_list()]]
    missing = client.get_metric_history(rid, "nothing")
    out["history_missing"] = [type(missing).__name__, list(missing), missing.token]

    client._record_logged_model(rid, Model(artifact_path="first", run_id=rid))
    client._record_logged_model(rid, Model(artifact_path="second", run_id=rid))
    logged = json.loads(client.get_run(rid).data.tags["mlflow.log-model.history"])
    out["log_model_history"] = [[m["artifact_path"], m["run_id"] == rid] for m in logged]
    out["record_not_a_model"] = error(lambda: client._record_logged_model(rid, {"a": 1}))
    client.set_terminated(rid)
    client._record_logged_model(rid, Model(artifact_path="after-end", run_id=rid))
    client.delete_run(rid)
    out["record_on_deleted_run"] = error(
        lambda: client._record_logged_model(rid, Model(artifact_path="x", run_id=rid))
    )[0]

    other = client.create_experiment("other")
    names[other] = "<other>"
    bad = client.create_run(exp).info.run_id
    names[bad] = "<bad>"
    set_meta_line(os.path.join(root, exp, bad, "meta.yaml"), "experiment_id", other)
    out["run_naming_other_experiment"] = [
        error(lambda: client.get_run(bad)),
        error(lambda: client.delete_run(bad)),
        error(lambda: client.log_param(bad, "p", 1)),
        error(lambda: client.get_metric_history(bad, "m")),
        [names[r.info.run_id] for r in client.search_runs([exp, other], run_view_type=3)],
    ]
    bare = client.create_run(exp).info.run_id
    names[bare] = "<bare>"
    os.remove(os.path.join(root, exp, bare, "meta.yaml"))
    out["run_without_meta"] = [
        error(lambda: client.get_run(bare)),
        error(lambda: client.set_tag(bare, "k", "v")),
        error(lambda: client.get_run("f" * 32)),
    ]

    client.set_experiment_tag("0", "keep", "dir")  # the Default dir keeps a file
    os.remove(os.path.join(root, "0", "meta.yaml"))
    again = Client(tracking_uri=root)
    out["default_meta_deleted"] = [
        error(lambda: again.get_experiment("0")),
        error(lambda: again.create_run("0")),
        again.get_experiment_by_name("Default") is None,
        sorted(x.name for x in again.search_experiments()),
        os.path.exists(os.path.join(root, "0", "meta.yaml")),
    ]
    os.rename(os.path.join(root, other), os.path.join(root, "12345"))
    out["experiment_dir_renamed"] = [
        error(lambda: again.get_experiment(other)),
        error(lambda: again.get_experiment("12345")),
        error(lambda: again.create_run("12345")),
        again.get_experiment_by_name("other") is None,
    ]
    shutil.rmtree(os.path.join(root, "0"))
    out["default_dir_deleted"] = [
        error(lambda: Client(tracking_uri=root).get_experiment("0")),
        os.path.exists(os.path.join(root, "0")),
    ]
    return out
"""

MLFLOW_SIDE = (
    SCENARIO
    + r"""
import types, mlflow
from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, InputTag
from mlflow.models import Model
E = types.SimpleNamespace(Dataset=Dataset, DatasetInput=DatasetInput, InputTag=InputTag)
print(json.dumps(scenario(MlflowClient, Model, E, os.path.abspath("mlruns"))))
"""
)


def _fsregistry_scenario(root: Path) -> Any:
    scope: dict[str, Any] = {}
    exec(SCENARIO, scope)
    return json.loads(json.dumps(scope["scenario"](Client, Model, entities, str(root))))


@pytest.mark.mlflow
def test_scenario_matches_mlflow(mlflow_python: Any, tmp_path: Path) -> None:
    ours = _fsregistry_scenario(tmp_path / "ours" / "mlruns")
    (tmp_path / "theirs").mkdir()
    theirs = mlflow_python.run(MLFLOW_SIDE, cwd=tmp_path / "theirs")
    assert ours["default_after_open"] is True
    assert ours["created_by_open"] == ["Default"]
    assert ours["run_name_tag_deleted"][0] is None
    for key in theirs:
        assert ours[key] == theirs[key], key
    assert ours.keys() == theirs.keys()


ARTIFACT_CASES = r"""
import json, os

def artifact_cases(make_store, base):
    cases = {
        "relative root": ("art", None),
        "relative file: root": ("file:art", None),
        "file root that does not exist yet": (f"file://{base}/not-yet", None),
        "root with query": ("s3://bucket/root?x=1#frag", None),
        "relative location": (None, "rel/loc"),
        "relative file: location": (None, "file:rel/loc"),
        "location with query": (None, "s3://b/p?versionId=3#f"),
        "file location that does not exist yet": (None, f"file://{base}/later"),
        "location with trailing slash": (None, f"file://{base}/slash/"),
    }
    out = {}
    for n, (label, (root, location)) in enumerate(sorted(cases.items())):
        store = make_store(os.path.join(base, f"store-{n}"), root)
        exp = store.create_experiment(f"x{n}", location)
        run = store.create_run(exp, "u", 0, [], None)
        names = [(run.info.run_id, "<run>"), (exp, "<exp>"), (base, "<base>")]
        found = [store.get_experiment(exp).artifact_location, run.info.artifact_uri,
                 store.get_run(run.info.run_id).info.artifact_uri]
        for value, name in names:
            found = [f.replace(value, name) for f in found]
        out[label] = found
    try:
        store = make_store(os.path.join(base, "store-dots"), None)
        exp = store.create_experiment("dots", "s3://b/p?x=../y")
        store.create_run(exp, "u", 0, [], None)
        out["query with dots"] = None
    except Exception as e:
        out["query with dots"] = [e.error_code, "Invalid query string" in str(e)]
    return out
"""

MLFLOW_ARTIFACTS = (
    ARTIFACT_CASES
    + r"""
from mlflow.store.tracking.file_store import FileStore
print(json.dumps(artifact_cases(FileStore, os.getcwd())))
"""
)


@pytest.mark.mlflow
def test_artifact_locations_match_mlflow(
    mlflow_python: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ours").mkdir()
    (tmp_path / "theirs").mkdir()
    monkeypatch.chdir(tmp_path / "ours")
    scope: dict[str, Any] = {}
    exec(ARTIFACT_CASES, scope)

    def make_store(root: str, artifact_root: str | None) -> TrackingStore:
        return TrackingStore(open_storage(root), artifact_root)

    ours = scope["artifact_cases"](make_store, str(tmp_path / "ours"))
    theirs = mlflow_python.run(MLFLOW_ARTIFACTS, cwd=tmp_path / "theirs")
    assert ours["file root that does not exist yet"][1] == (
        "file://<base>/not-yet/<exp>/<run>/artifacts"
    )
    assert ours == theirs


# -- the same rules on local disk, S3 and GCS ---------------------------------------------------
@pytest.fixture
def client(store_url: str) -> Client:
    return Client(tracking_uri=store_url)


def _meta_text(store_fs: tuple[Any, str], path: str) -> str:
    fs, root = store_fs
    text: str = fs.cat_file(f"{root}/{path}").decode()
    return text


def _set_meta_line(store_fs: tuple[Any, str], path: str, key: str, value: str) -> None:
    fs, root = store_fs
    lines = _meta_text(store_fs, path).splitlines()
    lines = [f"{key}: '{value}'" if line.startswith(f"{key}:") else line for line in lines]
    fs.pipe_file(f"{root}/{path}", ("\n".join(lines) + "\n").encode())


def _wait_for_next_ms() -> int:
    """Now in ms, once the clock moved past it (so anything made later is strictly later)."""
    start = int(time.time() * 1000)
    while int(time.time() * 1000) <= start:
        time.sleep(0.001)
    return start


def test_default_experiment_is_created_when_the_client_opens_the_store(
    store_url: str, store_fs: tuple[Any, str]
) -> None:
    fs, root = store_fs
    client = Client(tracking_uri=store_url)
    assert fs.exists(f"{root}/0/meta.yaml")  # before any call, as MlflowClient does
    opened = _wait_for_next_ms()
    exp_id = client.create_experiment("user")
    early = client.search_experiments(filter_string=f"creation_time <= {opened}")
    assert [e.experiment_id for e in early] == ["0"]
    assert [e.name for e in client.search_experiments()] == ["user", "Default"]
    default = client.get_experiment("0")
    assert default.creation_time is not None
    assert default.creation_time < client.get_experiment(exp_id).creation_time  # type: ignore[operator]


def test_a_store_that_lost_its_default_experiment_gets_mlflow_errors(
    client: Client, store_url: str, store_fs: tuple[Any, str]
) -> None:
    fs, root = store_fs
    exp_id = client.create_experiment("kept")
    client.set_experiment_tag("0", "keep", "a file in 0/")
    fs.rm_file(f"{root}/0/meta.yaml")
    for fresh in (client, Client(tracking_uri=store_url)):
        with pytest.raises(MissingConfigException, match=r"Yaml file '.*/0/meta\.yaml' does"):
            fresh.get_experiment("0")
        with pytest.raises(MissingConfigException) as caught:
            fresh.create_run("0")
        assert caught.value.error_code == "INTERNAL_ERROR"
        assert fresh.get_experiment_by_name("Default") is None
        assert [e.experiment_id for e in fresh.search_experiments()] == [exp_id]
    assert not fs.exists(f"{root}/0/meta.yaml")  # no new Default was written

    fs.rm(f"{root}/0", recursive=True)
    with pytest.raises(ResourceDoesNotExist, match="Could not find experiment with ID 0"):
        Client(tracking_uri=store_url).create_run("0")
    assert not fs.exists(f"{root}/0/meta.yaml")


def test_an_experiment_whose_directory_was_renamed_is_not_found(
    client: Client, store_fs: tuple[Any, str]
) -> None:
    fs, root = store_fs
    exp_id = client.create_experiment("moved")
    client.set_experiment_tag(exp_id, "t", "v")
    fs.copy(f"{root}/{exp_id}", f"{root}/12345", recursive=True)
    fs.rm(f"{root}/{exp_id}", recursive=True)
    with pytest.raises(ResourceDoesNotExist, match=f"Could not find experiment with ID {exp_id}"):
        client.get_experiment(exp_id)
    with pytest.raises(ResourceDoesNotExist, match=r"Experiment '12345' does not exist\."):
        client.get_experiment("12345")
    with pytest.raises(ResourceDoesNotExist, match=r"Experiment '12345' does not exist\."):
        client.create_run("12345")
    assert client.get_experiment_by_name("moved") is None
    assert client.search_runs(["12345"]) == []


def test_a_run_whose_meta_names_another_experiment_is_invalid(
    client: Client, store_fs: tuple[Any, str]
) -> None:
    exp_id = client.create_experiment("here")
    other = client.create_experiment("there")
    good = client.create_run(exp_id).info.run_id
    bad = client.create_run(exp_id).info.run_id
    client.log_metric(bad, "m", 1.0)
    client.flush()
    _set_meta_line(store_fs, f"{exp_id}/{bad}/meta.yaml", "experiment_id", other)
    message = f"Run '{bad}' metadata is in invalid state."
    calls = {
        "get_run": lambda: client.get_run(bad),
        "delete_run": lambda: client.delete_run(bad),
        "log_param": lambda: client.log_param(bad, "p", 1),
        "set_terminated": lambda: client.set_terminated(bad),
        "get_metric_history": lambda: client.get_metric_history(bad, "m"),
    }
    for name, call in calls.items():
        with pytest.raises(InvalidState) as caught:
            call()
        assert str(caught.value) == message, name
        assert caught.value.error_code == "INVALID_STATE"
    found = client.search_runs([exp_id, other], run_view_type=ViewType.ALL)
    assert [r.info.run_id for r in found] == [good]
    client.delete_experiment(exp_id)  # skips the invalid run, as MLflow does
    assert client.get_run(good).info.lifecycle_stage == "deleted"


def test_a_run_directory_without_meta_is_a_missing_config_error(
    client: Client, store_fs: tuple[Any, str]
) -> None:
    fs, root = store_fs
    exp_id = client.create_experiment("bare")
    run_id = client.create_run(exp_id).info.run_id
    client.get_run(run_id)  # remembered where it is
    fs.rm_file(f"{root}/{exp_id}/{run_id}/meta.yaml")
    for call in (
        lambda: client.get_run(run_id),
        lambda: client.set_tag(run_id, "k", "v"),
        lambda: client.delete_run(run_id),
    ):
        with pytest.raises(MissingConfigException) as caught:
            call()
        assert isinstance(caught.value, MlflowException)
        assert caught.value.error_code == "INTERNAL_ERROR"
        assert str(caught.value).startswith("Yaml file '")
        assert str(caught.value).endswith(f"/{exp_id}/{run_id}/meta.yaml' does not exist.")
    assert client.search_runs([exp_id]) == []
    with pytest.raises(ResourceDoesNotExist, match=f"Run '{'f' * 32}' not found"):
        client.get_run("f" * 32)


def test_artifact_locations_go_into_the_uri_path(
    client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    rel = client.create_experiment("relative", artifact_location="rel/loc")
    assert client.get_experiment(rel).artifact_location == f"{tmp_path}/rel/loc"
    query = client.create_experiment("query", artifact_location="s3://b/p?versionId=3#f")
    run_id = client.create_run(query).info.run_id
    assert client.get_run(run_id).info.artifact_uri == f"s3://b/p/{run_id}/artifacts?versionId=3#f"
    dots = client.create_experiment("dots", artifact_location="s3://b/p?x=../y")
    with pytest.raises(InvalidParameterValue, match="Invalid query string"):
        client.create_run(dots)


def test_a_file_artifact_root_that_does_not_exist_yet_is_used_as_given(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = f"file://{tmp_path}/artifacts-later"
    monkeypatch.setenv("FSREG_ARTIFACT_ROOT", root)
    client = Client(tracking_uri=store_url)
    exp_id = client.create_experiment("later")
    assert client.get_experiment(exp_id).artifact_location == f"{root}/{exp_id}"
    run_id = client.create_run(exp_id).info.run_id
    assert client.get_run(run_id).info.artifact_uri == f"{root}/{exp_id}/{run_id}/artifacts"
    client.log_text(run_id, "here", "a.txt")
    written = tmp_path / "artifacts-later" / exp_id / run_id / "artifacts" / "a.txt"
    assert written.read_text() == "here"


def test_relative_artifact_root_is_made_absolute(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = TrackingStore(open_storage(store_url), "art")
    assert store.artifact_root == f"{tmp_path}/art"
    exp_id = store.create_experiment("x")
    assert store.get_experiment(exp_id).artifact_location == f"{tmp_path}/art/{exp_id}"


def test_deleting_the_run_name_tag_removes_it(client: Client) -> None:
    exp_id = client.create_experiment("names")
    run_id = client.create_run(exp_id, run_name="named").info.run_id
    client.delete_tag(run_id, "mlflow.runName")
    run = client.get_run(run_id)
    assert "mlflow.runName" not in run.data.tags
    assert run.info.run_name == "named"  # meta.yaml keeps it, as in MLflow
    assert client.search_runs([exp_id], "tags.mlflow.runName = 'named'") == []
    assert len(client.search_runs([exp_id], "attributes.run_name = 'named'")) == 1


def test_logging_a_dataset_again_keeps_the_first_input_tags(
    client: Client, store_fs: tuple[Any, str]
) -> None:
    fs, root = store_fs
    exp_id = client.create_experiment("inputs")
    run_id = client.create_run(exp_id).info.run_id
    ds = Dataset("d", "abc", "local", "src")
    client.log_inputs(run_id, [DatasetInput(ds, [InputTag("mlflow.data.context", "train")])])
    client.log_inputs(run_id, [DatasetInput(ds, [InputTag("mlflow.data.context", "eval")])])
    inputs = client.get_run(run_id).inputs.dataset_inputs
    assert [[(t.key, t.value) for t in d.tags] for d in inputs] == [
        [("mlflow.data.context", "train")]
    ]
    before = sorted(fs.find(f"{root}/{exp_id}/{run_id}"))
    client.store.log_inputs(run_id)  # nothing to log: nothing written
    client.log_inputs(run_id, [])
    assert sorted(fs.find(f"{root}/{exp_id}/{run_id}")) == before
    client.delete_run(run_id)
    with pytest.raises(InvalidParameterValue, match="must be in 'active' lifecycle_stage"):
        client.log_inputs(run_id)  # the run is still checked, as in MLflow 3


def test_max_results_zero(client: Client, fluent_store: str) -> None:
    exp_id = client.create_experiment("zero")
    client.create_run(exp_id)
    page = client.search_runs([exp_id], max_results=0)
    assert page == [] and page.token == encode_page_token(0)  # MLflow's token
    empty = client.create_experiment("none")
    assert client.search_runs([empty], max_results=0).token is None
    for search in (
        lambda: client.search_experiments(max_results=0),
        lambda: client.search_registered_models(max_results=0),
        lambda: client.search_model_versions(max_results=0),
    ):  # MlflowClient refuses these
        with pytest.raises(InvalidParameterValue, match="It must be a positive integer"):
            search()
    with pytest.raises(InvalidParameterValue):
        client.search_runs([exp_id], max_results=-1)
    assert fsregistry.search_experiments(max_results=0) == []
    assert fsregistry.search_runs([exp_id], max_results=0, output_format="list") == []


@pytest.fixture
def fluent_store(store_url: str) -> str:
    fsregistry.set_tracking_uri(store_url)
    return store_url


def test_metric_history_pages(client: Client) -> None:
    exp_id = client.create_experiment("history")
    run_id = client.create_run(exp_id).info.run_id
    client.log_batch(run_id, metrics=[Metric("m", s / 2, 1000 + s, s) for s in range(5)])
    whole = client.get_metric_history(run_id, "m")
    assert isinstance(whole, entities.PagedList) and whole.token is None
    assert [m.step for m in whole.to_list()] == [0, 1, 2, 3, 4]
    assert type(whole.to_list()) is list
    page1 = client.get_metric_history(run_id, "m", max_results=2)
    page2 = client.get_metric_history(run_id, "m", max_results=2, page_token=page1.token)
    page3 = client.get_metric_history(run_id, "m", max_results=2, page_token=page2.token)
    assert [[m.step for m in p] for p in (page1, page2, page3)] == [[0, 1], [2, 3], [4]]
    assert page1.token == encode_page_token(2) and page3.token is None
    rest = client.get_metric_history(run_id, "m", page_token=page1.token)
    assert [m.step for m in rest] == [2, 3, 4] and rest.token is None
    zero = client.get_metric_history(run_id, "m", max_results=0)
    assert zero == [] and zero.token == encode_page_token(0)
    missing = client.get_metric_history(run_id, "nothing", max_results=2)
    assert isinstance(missing, entities.PagedList) and missing == [] and missing.token is None
    with pytest.raises(InvalidParameterValue, match="max_results"):
        client.get_metric_history(run_id, "m", max_results=-1)


def test_record_logged_model(client: Client) -> None:
    exp_id = client.create_experiment("models")
    run_id = client.create_run(exp_id).info.run_id
    client.record_logged_model(run_id, Model(artifact_path="first", run_id=run_id))
    client._record_logged_model(run_id, Model(artifact_path="second", run_id=run_id))
    raw = client.get_run(run_id).data.tags["mlflow.log-model.history"]
    history = json.loads(raw)
    assert [h["artifact_path"] for h in history] == ["first", "second"]
    assert history[0] == Model(artifact_path="first", run_id=run_id).get_tags_dict() | {
        "utc_time_created": history[0]["utc_time_created"],
        "model_uuid": history[0]["model_uuid"],
    }
    with pytest.raises(TypeError, match=r"should be of type mlflow\.models\.Model"):
        client.record_logged_model(run_id, {"artifact_path": "x"})
    client.set_terminated(run_id)
    client.record_logged_model(run_id, Model(artifact_path="after-end", run_id=run_id))
    client.delete_run(run_id)
    with pytest.raises(InvalidParameterValue, match="must be in 'active' lifecycle_stage"):
        client.record_logged_model(run_id, Model(artifact_path="x", run_id=run_id))

    other = client.create_run(exp_id).info.run_id
    client.set_tag(other, "mlflow.log-model.history", "not json")
    with pytest.raises(InvalidState, match="not a JSON list"):
        client.record_logged_model(other, Model(artifact_path="x", run_id=other))
    assert client.get_run(other).data.tags["mlflow.log-model.history"] == "not json"


def test_record_logged_model_from_threads_keeps_every_entry(client: Client) -> None:
    exp_id = client.create_experiment("threads")
    run_id = client.create_run(exp_id).info.run_id
    errors: list[BaseException] = []

    def log(worker: int) -> None:
        try:
            for i in range(4):
                model = Model(artifact_path=f"w{worker}-{i}", run_id=run_id)
                client.record_logged_model(run_id, model)
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=log, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    history = json.loads(client.get_run(run_id).data.tags["mlflow.log-model.history"])
    assert sorted(h["artifact_path"] for h in history) == sorted(
        f"w{w}-{i}" for w in range(4) for i in range(4)
    )


def test_paged_list_to_list() -> None:
    page = entities.PagedList([1, 2], "t")
    assert page.to_list() == [1, 2] and type(page.to_list()) is list
