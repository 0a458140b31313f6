"""MLflow's real server and UI over fsregistry stores (issue 23 §1-2): the store plugin and
``fsreg ui``.

The server is MLflow 3.17.2 (full package, in a cached venv with this checkout installed
editable, so the ``fsreg+...`` entry points exist: ``fsreg_testing.mlflow_env
.mlflow_plugin_python``), started by ``fsreg ui -t <store> --writable`` on a local store, on
S3 (moto) and on GCS (fake-gcs-server): one server per backend, in one test each, which

1. compares the REST answers the UI's pages use with fsregistry's own answers for a store
   fsregistry wrote (experiments, runs, metric history and its bulk interval, datasets,
   LoggedModels, registered models, versions, aliases, download URIs, artifact listings);
2. checks what fsregistry lacks (traces, scorers, GenAI datasets, webhooks) answers empty, 404
   for a lookup or 400 "not supported", never HTTP 500, and a missing run is a 404;
3. has an MLflow 3 client log THROUGH the server (a run with params and metrics, a pyfunc
   LoggedModel whose artifacts go to the store's bucket through MLflow's own artifact
   repository, a registration, an alias) and reads it all back with fsregistry;
4. registers versions through the server and through fsregistry at the same time: no number
   is taken twice;
5. stops it with Ctrl-C (SIGINT to ``fsreg``) and checks the port is closed.

The tests without a server: the URI mapping, the write gate (the plugin built by MLflow's own
store registry refuses writes to a bucket with PERMISSION_DENIED), the version gate (also
inside MLflow, faking a newer version), and
``fsreg ui`` without MLflow installed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import fsregistry
from fsreg_testing.mlflow_env import mlflow_plugin_python, run_mlflow
from fsreg_testing.mlflow_server import (
    artifacts_dir,
    chromium,
    port_open,
    render_page,
    rest,
    snippet_env,
    start_ui,
    stop_ui,
)
from fsreg_testing.serving import free_port
from fsregistry.entities import Dataset, DatasetInput, InputTag
from fsregistry.exceptions import InvalidParameterValue, UnsupportedOperation
from fsregistry.mlflow_plugin import locations

VERSION = "3.17.2"


# -- URIs, gates (no MLflow) ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("store", "uri"),
    [
        ("/data/mlruns", "fsreg+file:///data/mlruns"),
        ("file:///data/mlruns", "fsreg+file:///data/mlruns"),
        ("s3://team-bucket/mlruns", "fsreg+s3://team-bucket/mlruns"),
        ("gs://team-bucket/mlruns", "fsreg+gs://team-bucket/mlruns"),
    ],
)
def test_plugin_uri_round_trip(store: str, uri: str) -> None:
    assert locations.plugin_uri(store) == uri
    assert locations.store_url(uri) == store.removeprefix("file://")


@pytest.mark.parametrize(
    "bad", ["s3://b/p", "fsreg+http://host/x", "fsreg+s3:///nobucket", "fsreg+file://host/p"]
)
def test_bad_plugin_uri_is_refused(bad: str) -> None:
    with pytest.raises(InvalidParameterValue, match="fsreg"):
        locations.store_url(bad)


def test_ui_refuses_a_protocol_the_plugin_lacks() -> None:
    with pytest.raises(InvalidParameterValue, match="'memory'"):
        locations.plugin_uri("memory://x/mlruns")


def test_buckets_are_read_only_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(locations.WRITABLE_ENV, raising=False)
    assert locations.writes_allowed("fsreg+file:///x")
    assert not locations.writes_allowed("fsreg+s3://b/x")
    assert not locations.writes_allowed("fsreg+gs://b/x")
    monkeypatch.setenv(locations.WRITABLE_ENV, "1")
    assert locations.writes_allowed("fsreg+s3://b/x")


def test_version_gate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(locations.ANY_VERSION_ENV, raising=False)
    locations.check_version("3.17.2")
    for other in ("3.18.0", "3.16.1", "2.22.5"):
        with pytest.raises(UnsupportedOperation, match=rf"MLflow '{other}'") as info:
            locations.check_version(other)
        assert "pip install 'fsregistry[mlflow]'" in info.value.message
    monkeypatch.setenv(locations.ANY_VERSION_ENV, "1")
    locations.check_version("3.18.0")


def test_fsreg_ui_without_mlflow_names_the_extra(tmp_path: Path) -> None:
    # The test venv has no MLflow (it is never a core or test dependency).
    code = (
        "import sys, importlib.metadata as m\n"
        "try:\n    m.version('mlflow'); sys.exit(3)\n"
        "except m.PackageNotFoundError: pass\n"
        "sys.argv = ['fsreg', 'ui', '-t', sys.argv[1]]\n"
        "from fsregistry.cli.app import main\nmain()\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "mlruns")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "pip install 'fsregistry[mlflow]'" in lines[0]
    assert not (tmp_path / "mlruns").exists()


# -- the plugin inside real MLflow, no server ----------------------------------------------
READ_ONLY_SNIPPET = r"""
import json, sys
from mlflow.tracking._tracking_service.utils import _get_store
from mlflow.tracking._model_registry.utils import _get_store as _get_registry
from mlflow.exceptions import MlflowException
uri = sys.argv[1] if len(sys.argv) > 1 else URI
store = _get_store(URI)
registry = _get_registry(URI)
out = {"store": type(store).__name__, "registry": type(registry).__name__,
       "experiments": [e.name for e in store.search_experiments()]}
for name, call in [("create_experiment", lambda: store.create_experiment("x", None, [])),
                   ("create_registered_model", lambda: registry.create_registered_model("m"))]:
    try:
        call()
        out[name] = "written"
    except MlflowException as e:
        out[name] = [e.error_code, e.message]
try:
    store.get_run("0" * 32)
except MlflowException as e:
    out["missing_run"] = e.error_code
out["traces"] = list(store.search_traces(experiment_ids=["0"])[0])
try:
    store.create_assessment(None)
except MlflowException as e:
    out["assessment"] = e.error_code
try:
    store.get_trace_info("tr-1")
except MlflowException as e:
    out["trace"] = e.error_code
import mlflow
from fsregistry.mlflow_plugin.entry import tracking_store
mlflow.__version__ = "3.99.0"  # a newer MLflow, whose store interface may have changed
try:
    tracking_store(URI)
    out["gate"] = "built"
except MlflowException as e:
    out["gate"] = [e.error_code, e.message]
print(json.dumps(out))
"""


@pytest.mark.mlflow
def test_mlflow_store_registry_finds_the_plugin_and_buckets_are_read_only(
    s3_emulator: Any, tmp_path: Path
) -> None:
    url = s3_emulator.make_bucket(f"fsreg-ro-{tmp_path.name[-8:].lower()}") + "/mlruns"
    client = fsregistry.Client(tracking_uri=url)
    client.create_experiment("team-record")
    code = f"URI = {json.dumps(locations.plugin_uri(url))}\n" + READ_ONLY_SNIPPET
    got = run_mlflow(VERSION, code, cwd=tmp_path, python=mlflow_plugin_python(), timeout=300)
    assert got["store"] == "FsregTrackingStore"
    assert got["registry"] == "FsregRegistryStore"
    assert "team-record" in got["experiments"]
    for op in ("create_experiment", "create_registered_model"):
        code_, message = got[op]
        assert code_ == "PERMISSION_DENIED"
        assert "read-only" in message and "--writable" in message
    assert got["missing_run"] == "RESOURCE_DOES_NOT_EXIST"
    assert got["traces"] == []
    assert got["assessment"] == "INVALID_PARAMETER_VALUE"
    assert got["trace"] == "RESOURCE_DOES_NOT_EXIST"
    gate_code, gate_message = got["gate"]
    assert gate_code == "NOT_IMPLEMENTED"
    assert "supports MLflow 3.17.x" in gate_message and "'3.99.0'" in gate_message
    assert [e.name for e in client.search_experiments()] == ["team-record", "Default"]
    assert client.search_registered_models() == []


# -- the server -----------------------------------------------------------------------------
def _populate(url: str, artifacts: Path) -> dict[str, Any]:
    """A store fsregistry wrote: an experiment, a run, a LoggedModel, a registered model."""
    client = fsregistry.Client(tracking_uri=url)
    exp = client.create_experiment("plugin-exp", tags={"team": "ml"})
    run = client.create_run(exp, run_name="trained", tags={"stage": "dev"})
    rid = run.info.run_id
    client.log_param(rid, "alpha", "0.5")
    for step in range(6):
        client.log_metric(rid, "loss", 1.0 / (step + 1), timestamp=1_000 + step, step=step)
    client.log_metric(rid, "acc", 0.9, timestamp=2_000, step=0)
    client.log_inputs(
        rid,
        [
            DatasetInput(
                Dataset("train", "abc123", "local", '{"uri": "train.csv"}'),
                [InputTag("mlflow.data.context", "training")],
            )
        ],
    )
    client.log_text(rid, "hello", "notes/readme.txt")
    client.set_terminated(rid)
    model = client.create_logged_model(exp, name="clf", source_run_id=rid)
    client.log_model_artifact(model.model_id, str(_model_file(artifacts)))
    client.finalize_logged_model(model.model_id, "READY")
    client.create_registered_model("churn", tags={"owner": "ml"}, description="churn model")
    v1 = client.create_model_version("churn", f"models:/{model.model_id}", run_id=rid)
    client.create_model_version("churn", f"models:/{model.model_id}", run_id=rid)
    client.set_registered_model_alias("churn", "champion", v1.version)
    return {"exp": exp, "run": rid, "model": model.model_id}


def _model_file(tmp: Path) -> Path:
    path = tmp / "MLmodel"
    path.write_text("artifact_path: clf\nflavors: {}\n")
    return path


def _compare_rest(port: int, url: str, ids: dict[str, Any]) -> None:
    client = fsregistry.Client(tracking_uri=url)
    exp, rid, mid = ids["exp"], ids["run"], ids["model"]

    # experiments
    got = rest(port, "POST", "/api/2.0/mlflow/experiments/search", {"max_results": 100})
    assert got.status == 200, got.body
    ours = {e.experiment_id: e for e in client.search_experiments()}
    theirs = {e["experiment_id"]: e for e in got.body["experiments"]}
    assert set(theirs) == set(ours)
    for eid, e in ours.items():
        t = theirs[eid]
        assert (t["name"], t["artifact_location"], t["lifecycle_stage"]) == (
            e.name,
            e.artifact_location,
            e.lifecycle_stage,
        )
        assert {x["key"]: x["value"] for x in t.get("tags", [])} == e.tags
    got = rest(port, "GET", f"/api/2.0/mlflow/experiments/get?experiment_id={exp}")
    assert got.body["experiment"]["name"] == "plugin-exp"

    # runs
    ours_run = client.get_run(rid)
    got = rest(port, "POST", "/api/2.0/mlflow/runs/search", {"experiment_ids": [exp]})
    assert got.status == 200, got.body
    [searched] = got.body["runs"]
    got = rest(port, "GET", f"/api/2.0/mlflow/runs/get?run_id={rid}")
    for theirs_run in (searched, got.body["run"]):
        info = theirs_run["info"]
        assert info["run_id"] == rid
        assert info["status"] == ours_run.info.status
        assert info["artifact_uri"] == ours_run.info.artifact_uri
        assert info["run_name"] == "trained"
        data = theirs_run["data"]
        assert {p["key"]: p["value"] for p in data["params"]} == ours_run.data.params
        assert {m["key"]: m["value"] for m in data["metrics"]} == ours_run.data.metrics
        assert {t["key"]: t["value"] for t in data["tags"]} == ours_run.data.tags
    [ds] = got.body["run"]["inputs"]["dataset_inputs"]
    assert (ds["dataset"]["name"], ds["dataset"]["digest"]) == ("train", "abc123")
    assert ds["tags"] == [{"key": "mlflow.data.context", "value": "training"}]
    outputs = got.body["run"].get("outputs", {}).get("model_outputs", [])
    assert [(o["model_id"], int(o["step"])) for o in outputs] == [
        (o.model_id, o.step) for o in ours_run.outputs.model_outputs
    ]

    # metric history, and the bulk interval the charts use
    history = [(m.step, m.value, m.timestamp) for m in client.get_metric_history(rid, "loss")]
    got = rest(port, "GET", f"/api/2.0/mlflow/metrics/get-history?run_id={rid}&metric_key=loss")
    assert [(int(m["step"]), m["value"], int(m["timestamp"])) for m in got.body["metrics"]] == (
        history
    )
    got = rest(
        port,
        "GET",
        f"/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids={rid}"
        f"&metric_key=loss&max_results=3",
    )
    assert got.status == 200, got.body
    steps = [int(m["step"]) for m in got.body["metrics"]]
    assert steps[0] == 0 and steps[-1] == 5 and len(steps) <= 4
    assert all(m["run_id"] == rid for m in got.body["metrics"])

    # LoggedModels
    ours_lm = client.get_logged_model(mid)
    got = rest(port, "POST", "/api/2.0/mlflow/logged-models/search", {"experiment_ids": [exp]})
    assert got.status == 200, got.body
    [lm] = got.body["models"]
    got = rest(port, "GET", f"/api/2.0/mlflow/logged-models/{mid}")
    assert got.body["model"]["info"] == lm["info"]
    assert lm["info"]["model_id"] == mid and lm["info"]["name"] == "clf"
    assert lm["info"]["status"] == "LOGGED_MODEL_READY"
    assert lm["info"]["artifact_uri"] == ours_lm.artifact_location
    assert lm["info"]["source_run_id"] == rid

    # registry
    got = rest(port, "GET", "/api/2.0/mlflow/registered-models/search")
    assert got.status == 200, got.body
    [rm] = got.body["registered_models"]
    ours_rm = client.get_registered_model("churn")
    assert rm["name"] == "churn" and rm["description"] == ours_rm.description
    assert rm["aliases"] == [{"alias": "champion", "version": "1"}]
    assert {t["key"]: t["value"] for t in rm["tags"]} == ours_rm.tags
    got = rest(port, "GET", "/api/2.0/mlflow/registered-models/get?name=churn")
    assert got.body["registered_model"]["aliases"] == rm["aliases"]
    got = rest(port, "GET", "/api/2.0/mlflow/model-versions/search?filter=name%3D%27churn%27")
    ours_versions = {str(v.version): v for v in client.search_model_versions("name='churn'")}
    theirs_versions = {v["version"]: v for v in got.body["model_versions"]}
    assert set(theirs_versions) == set(ours_versions) == {"1", "2"}
    for number, v in ours_versions.items():
        t = theirs_versions[number]
        # (MLflow 3.17's ModelVersion proto has no model_id: the REST answer never carries it.)
        assert (t["source"], t["run_id"], t["current_stage"]) == (
            v.source,
            v.run_id,
            v.current_stage,
        )
    got = rest(port, "GET", "/api/2.0/mlflow/registered-models/alias?name=churn&alias=champion")
    assert got.body["model_version"]["version"] == "1"
    assert got.body["model_version"]["aliases"] == ["champion"]
    got = rest(port, "GET", "/api/2.0/mlflow/model-versions/get-download-uri?name=churn&version=2")
    assert got.body["artifact_uri"] == client.get_model_version_download_uri("churn", 2)

    # artifacts (served by MLflow's own artifact repository for the run's URI)
    got = rest(port, "GET", f"/api/2.0/mlflow/artifacts/list?run_id={rid}")
    assert got.status == 200, got.body
    assert [(f["path"], f["is_dir"]) for f in got.body["files"]] == [("notes", True)]
    got = rest(port, "GET", f"/api/2.0/mlflow/artifacts/list?run_id={rid}&path=notes")
    assert [f["path"] for f in got.body["files"]] == ["notes/readme.txt"]
    with urllib.request.urlopen(
        f"http://127.0.0.1:{port}/get-artifact?path=notes/readme.txt&run_uuid={rid}", timeout=60
    ) as resp:
        assert resp.read() == b"hello"
    # --serve-artifacts (MLflow's default; fsreg ui's destination is the store itself)
    got = rest(port, "GET", f"/api/2.0/mlflow-artifacts/artifacts?path={exp}/{rid}/artifacts")
    assert got.status == 200, got.body
    assert [f["path"] for f in got.body["files"]] == ["notes"]
    with urllib.request.urlopen(
        f"http://127.0.0.1:{port}/api/2.0/mlflow-artifacts/artifacts/{exp}/{rid}/artifacts/"
        "notes/readme.txt",
        timeout=60,
    ) as resp:
        assert resp.read() == b"hello"
    got = rest(port, "GET", f"/ajax-api/2.0/mlflow/logged-models/{mid}/artifacts/directories")
    assert got.status == 200, got.body
    assert [f["path"] for f in got.body["files"]] == ["MLmodel"]


def _check_missing_and_unsupported(port: int, exp: str) -> None:
    got = rest(port, "GET", f"/api/2.0/mlflow/runs/get?run_id={'0' * 32}")
    assert got.status == 404 and got.body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    got = rest(port, "GET", "/api/2.0/mlflow/registered-models/get?name=nope")
    assert got.status == 404 and got.body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    got = rest(
        port,
        "POST",
        "/ajax-api/3.0/mlflow/traces/search",
        {"locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp}}]},
    )
    assert got.status == 200 and got.body.get("traces", []) == [], got.body
    got = rest(port, "GET", f"/ajax-api/3.0/mlflow/scorers/list?experiment_id={exp}")
    assert got.status == 200 and got.body.get("scorers", []) == [], got.body
    got = rest(port, "POST", "/ajax-api/3.0/mlflow/datasets/search", {"experiment_ids": [exp]})
    assert got.status < 500, got.body
    got = rest(port, "GET", "/ajax-api/2.0/mlflow/webhooks")
    assert got.status < 500, got.body
    got = rest(port, "GET", "/ajax-api/3.0/mlflow/traces/tr-00000000000000000000000000000000")
    assert got.status == 404, got.body
    got = rest(
        port,
        "POST",
        "/ajax-api/2.0/mlflow/traces/link-to-run",
        {"trace_ids": ["tr-1"], "run_id": "0" * 32},
    )
    assert got.status == 400 and "not supported" in got.body["message"], got.body


THROUGH_SERVER = r"""
import json
import mlflow
import mlflow.pyfunc

class AddN(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input + 1

mlflow.set_tracking_uri(URL)
exp = mlflow.set_experiment("through-server").experiment_id
with mlflow.start_run(run_name="via-server") as run:
    mlflow.log_param("p", "1")
    for i in range(3):
        mlflow.log_metric("m", i * 2.0, step=i)
    info = mlflow.pyfunc.log_model(name="srv-model", python_model=AddN(),
                                   pip_requirements=["mlflow"])
mv = mlflow.register_model(info.model_uri, "srv-reg")
client = mlflow.MlflowClient()
client.set_registered_model_alias("srv-reg", "prod", mv.version)
print(json.dumps({"exp": exp, "run": run.info.run_id, "model": info.model_id,
                  "version": mv.version}))
"""


def _log_through_server(port: int, url: str, tmp_path: Path) -> None:
    code = f"URL = 'http://127.0.0.1:{port}'\n" + THROUGH_SERVER
    got = run_mlflow(
        VERSION, code, cwd=tmp_path, python=mlflow_plugin_python(), env=snippet_env(), timeout=300
    )
    client = fsregistry.Client(tracking_uri=url)
    run = client.get_run(got["run"])
    assert run.info.experiment_id == got["exp"]
    assert run.info.status == "FINISHED" and run.info.run_name == "via-server"
    assert run.data.params == {"p": "1"}
    history = client.get_metric_history(got["run"], "m")
    # MLflow 3's log_model links the run's metrics to the model with one more log_batch
    # (model_id set), which a file store appends to the run's history too, as MLflow's does.
    assert sorted({(m.step, m.value) for m in history}) == [(0, 0.0), (1, 2.0), (2, 4.0)]
    model = client.get_logged_model(got["model"])
    assert model.status == "READY" and model.source_run_id == got["run"]
    assert model.artifact_location.startswith(url.rstrip("/"))
    assert "MLmodel" in [f.path for f in client.list_logged_model_artifacts(got["model"])]
    version = client.get_model_version_by_alias("srv-reg", "prod")
    assert str(version.version) == str(got["version"]) == "1"
    assert version.model_id == got["model"] and version.run_id == got["run"]
    # The files MLflow uploaded through its artifact repository are where fsregistry looks.
    local = fsregistry.artifacts.download_artifacts(
        artifact_uri="models:/srv-reg@prod", dst_path=str(tmp_path / "dl")
    )
    mlmodel = (Path(local) / "MLmodel").read_text()
    assert "python_function" in mlmodel and got["model"] in mlmodel


def _acknowledged_metrics_are_stored(port: int, url: str, exp: str) -> None:
    """A metric the server acknowledged is in the store at once (the server runs with a one
    hour metric-buffer interval: an object store's buffered lines must be flushed by the call
    itself, or a server crash would lose acknowledged metrics)."""
    got = rest(port, "POST", "/api/2.0/mlflow/runs/create", {"experiment_id": exp})
    assert got.status == 200, got.body
    rid = got.body["run"]["info"]["run_id"]
    for step in range(2):
        body = {"run_id": rid, "key": "ack", "value": step, "timestamp": 5, "step": step}
        assert rest(port, "POST", "/api/2.0/mlflow/runs/log-metric", body).status == 200
    batch = {"run_id": rid, "metrics": [{"key": "ack", "value": 9, "timestamp": 6, "step": 2}]}
    assert rest(port, "POST", "/api/2.0/mlflow/runs/log-batch", batch).status == 200
    history = fsregistry.Client(tracking_uri=url).get_metric_history(rid, "ack")
    assert [(m.step, m.value) for m in history] == [(0, 0.0), (1, 1.0), (2, 9.0)]
    body = {"run_id": rid, "status": "FINISHED", "end_time": 7}
    assert rest(port, "POST", "/api/2.0/mlflow/runs/update", body).status == 200


def _race_registrations(port: int, url: str, model_id: str) -> None:
    """Registrations through the server and through fsregistry at once never share a number."""
    from concurrent.futures import ThreadPoolExecutor

    client = fsregistry.Client(tracking_uri=url)
    before = {int(v.version) for v in client.search_model_versions("name='churn'")}

    def through_server(_: int) -> int:
        got = rest(
            port,
            "POST",
            "/api/2.0/mlflow/model-versions/create",
            {"name": "churn", "source": f"models:/{model_id}", "model_id": model_id},
        )
        assert got.status == 200, got.body
        return int(got.body["model_version"]["version"])

    def direct(_: int) -> int:
        return int(client.create_model_version("churn", f"models:/{model_id}").version)

    with ThreadPoolExecutor(6) as pool:
        served = [pool.submit(through_server, i) for i in range(4)]
        ours = [pool.submit(direct, i) for i in range(4)]
        numbers = [f.result() for f in served + ours]
    assert len(set(numbers)) == 8, numbers
    after = {int(v.version) for v in client.search_model_versions("name='churn'")}
    assert after == before | set(numbers)


@pytest.mark.mlflow
@pytest.mark.parametrize("backend", ["local", "s3", "gcs"])
def test_mlflow_server_over_store(store_url: str, tmp_path: Path) -> None:
    url = store_url
    ids = _populate(url, tmp_path)
    fsregistry.config.set_tracking_uri(url)  # for models:/ in _log_through_server
    port = free_port()
    server = start_ui(
        url, port, tmp_path / "server.log", workers=1, env={"FSREG_METRIC_FLUSH_SECONDS": "3600"}
    )
    try:
        _compare_rest(port, url, ids)
        _check_missing_and_unsupported(port, ids["exp"])
        _acknowledged_metrics_are_stored(port, url, ids["exp"])
        _log_through_server(port, url, tmp_path)
        _race_registrations(port, url, ids["model"])
    except BaseException:
        print(server.log_text())
        raise
    finally:
        code = stop_ui(server)
    assert code == 0, server.log_text()
    assert not port_open(port)
    assert "Traceback" not in server.log_text(), server.log_text()


@pytest.mark.mlflow
def test_mlflow_ui_pages_in_chromium(s3_emulator: Any, tmp_path: Path) -> None:
    """MLflow's UI pages, rendered by headless Chromium, show a bucket's experiment, run,
    metric chart, LoggedModel and registered model; screenshots go to .test-artifacts/."""
    if chromium() is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    url = s3_emulator.make_bucket(f"fsreg-ui-{tmp_path.name[-8:].lower()}") + "/mlruns"
    ids = _populate(url, tmp_path)
    out = artifacts_dir("mlflow-ui")
    port = free_port()
    server = start_ui(url, port, tmp_path / "server.log", workers=1, writable=False)
    base = f"http://127.0.0.1:{port}/#"
    pages = {
        "experiment": (f"/experiments/{ids['exp']}/runs", ["plugin-exp", "trained"]),
        "run": (f"/experiments/{ids['exp']}/runs/{ids['run']}", ["trained", "alpha", "loss"]),
        "metric-charts": (
            f"/experiments/{ids['exp']}/runs/{ids['run']}/model-metrics",
            # the charts draw lazily, after the DOM dump of a headless load; the screenshot
            # (a load of its own) shows them, and the metric REST answers are checked above
            ["Model metrics", "acc"],
        ),
        "logged-models": (f"/experiments/{ids['exp']}/models", ["clf"]),
        "registered-model": ("/models/churn", ["churn", "champion"]),
    }
    try:
        for name, (route, expected) in pages.items():
            dom = render_page(base + route, out / f"{name}.png", tmp_path / f"profile-{name}")
            missing = [text for text in expected if text not in dom]
            assert "Error while loading" not in dom, f"{name} page shows an error"
            assert not missing, f"{name} page lacks {missing}; see {out / f'{name}.png'}"
            assert (out / f"{name}.png").stat().st_size > 10_000
    except BaseException:
        print(server.log_text())
        raise
    finally:
        stop_ui(server)
    assert " 500 " not in server.log_text(), server.log_text()


def test_ui_stops_on_ctrl_c_even_when_started_with_sigint_ignored() -> None:
    """A parent that ignores SIGINT passes that on (seen under pytest-xdist): `fsreg ui` must
    still stop its server on Ctrl-C, and the server must get the signal too."""
    import signal
    import subprocess
    import sys
    import time

    code = (
        "import os, sys\n"
        "from fsregistry.cli.ui_commands import run_server\n"
        "print('ready', flush=True)\n"
        "r = run_server([sys.executable, '-c', 'import time; time.sleep(120)'], dict(os.environ))\n"
        "print(r.interrupted, flush=True)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(2.0)  # the server child has started
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert out.strip() == "True"


def _objects(fs: Any, root: str) -> dict[str, Any]:
    """Every object of the bucket that holds ``root``, with its ETag/generation and size."""
    bucket = root.split("/", 1)[0]
    fs.invalidate_cache()
    return {
        path: (info.get("ETag") or info.get("generation") or info.get("etag"), info.get("size"))
        for path, info in fs.find(bucket, detail=True).items()
    }


@pytest.mark.mlflow
@pytest.mark.parametrize("backend", ["s3", "gcs"])
def test_read_only_server_on_an_empty_bucket_writes_nothing(
    store_url: str, store_fs: tuple[Any, str], tmp_path: Path
) -> None:
    """A read-only server on an empty bucket writes nothing, for any page the UI reads: the
    Default experiment shows virtually (as MLflow's file store and fsregistry's Client would
    create it) and every write answers PERMISSION_DENIED (HTTP 403)."""
    fs, root = store_fs
    fs.pipe(f"{root.split('/', 1)[0]}/unrelated.txt", b"not the store's")  # the bucket exists
    before = _objects(fs, root)
    port = free_port()
    server = start_ui(store_url, port, tmp_path / "server.log", workers=1, writable=False)
    reads = [
        ("POST", "/api/2.0/mlflow/experiments/search", {"max_results": 100}),
        ("POST", "/ajax-api/2.0/mlflow/experiments/search", {"max_results": 25}),
        ("GET", "/api/2.0/mlflow/experiments/get?experiment_id=0", None),
        ("GET", "/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default", None),
        ("POST", "/api/2.0/mlflow/runs/search", {"experiment_ids": ["0"]}),
        ("POST", "/api/2.0/mlflow/logged-models/search", {"experiment_ids": ["0"]}),
        ("GET", "/api/2.0/mlflow/registered-models/search", None),
        ("GET", "/api/2.0/mlflow/model-versions/search", None),
        ("GET", f"/api/2.0/mlflow/runs/get?run_id={'0' * 32}", None),
        ("GET", "/api/2.0/mlflow/registered-models/get?name=nope", None),
        ("GET", f"/api/2.0/mlflow/metrics/get-history?run_id={'0' * 32}&metric_key=m", None),
        ("GET", "/ajax-api/3.0/mlflow/scorers/list?experiment_id=0", None),
        (
            "POST",
            "/ajax-api/3.0/mlflow/traces/search",
            {
                "locations": [
                    {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": "0"}}
                ]
            },
        ),
    ]
    writes = [
        ("/api/2.0/mlflow/experiments/create", {"name": "new"}),
        ("/api/2.0/mlflow/runs/create", {"experiment_id": "0"}),
        (
            "/api/2.0/mlflow/experiments/set-experiment-tag",
            {"experiment_id": "0", "key": "k", "value": "v"},
        ),
        ("/api/2.0/mlflow/registered-models/create", {"name": "m"}),
    ]
    answers: dict[str, Any] = {}
    try:
        for method, path, body in reads:
            got = rest(port, method, path, body)
            assert got.status < 500, (path, got.body)
            answers[path] = got
            assert _objects(fs, root) == before, f"{path} wrote to the bucket"
        for path, body in writes:
            got = rest(port, "POST", path, body)
            assert got.status == 403, (path, got.body)
            assert got.body["error_code"] == "PERMISSION_DENIED", (path, got.body)
            assert "read-only" in got.body["message"], got.body
            assert _objects(fs, root) == before, f"{path} wrote to the bucket"
        if chromium() is not None:
            out = artifacts_dir("mlflow-ui")
            dom = render_page(
                f"http://127.0.0.1:{port}/#/experiments",
                out / f"empty-bucket-{store_url.split(':', 1)[0]}.png",
                tmp_path / "profile",
            )
            assert "Default" in dom and "Error while loading" not in dom
            assert _objects(fs, root) == before, "the UI's experiments page wrote to the bucket"
    except BaseException:
        print(server.log_text())
        raise
    finally:
        stop_ui(server)
    [default] = answers["/api/2.0/mlflow/experiments/search"].body["experiments"]
    assert (default["experiment_id"], default["name"]) == ("0", "Default")
    assert default["artifact_location"] == f"{store_url}/0"
    assert default["lifecycle_stage"] == "active"
    got = answers["/api/2.0/mlflow/experiments/get?experiment_id=0"].body["experiment"]
    assert got == default
    by_name = answers["/api/2.0/mlflow/experiments/get-by-name?experiment_name=Default"]
    assert by_name.body["experiment"] == default
    assert answers["/api/2.0/mlflow/runs/search"].body.get("runs", []) == []
    assert (
        answers["/api/2.0/mlflow/registered-models/search"].body.get("registered_models", []) == []
    )
    assert answers[f"/api/2.0/mlflow/runs/get?run_id={'0' * 32}"].status == 404
    assert " 500 " not in server.log_text(), server.log_text()
    # fsregistry's own client, opening the store for writing, makes the same Default experiment
    made = fsregistry.Client(tracking_uri=store_url).get_experiment("0")
    assert (made.name, made.artifact_location) == (default["name"], default["artifact_location"])


def _tree(store_fs: tuple[Any, str]) -> dict[str, Any]:
    fs, root = store_fs
    fs.invalidate_cache()
    if not fs.exists(root):
        return {}
    return {
        p: (i.get("size"), i.get("ETag") or i.get("generation") or i.get("mtime"))
        for p, i in fs.find(root, detail=True).items()
    }


def test_read_only_storage_reads_a_store_and_writes_nothing(
    store_url: str, store_fs: tuple[Any, str], caplog: pytest.LogCaptureFixture
) -> None:
    """The plugin's read-only storage (no MLflow needed): an empty store shows the Default
    experiment without writing it; a run still running is read without its summary being
    written to the index; every write is PERMISSION_DENIED and changes nothing."""
    from fsregistry.mlflow_plugin.readonly import ReadOnlyStorage
    from fsregistry.storage import open_storage
    from fsregistry.tracking.store import TrackingStore

    def read_only() -> TrackingStore:
        storage = ReadOnlyStorage(
            open_storage(store_url), lambda op: locations.refuse_write("fsreg+x://b", op)
        )
        return TrackingStore(storage)

    empty = read_only()
    [default] = empty.search_experiments(1, 100, None, None, None)
    assert (default.experiment_id, default.name) == ("0", "Default")
    assert empty.get_experiment("0").name == "Default"
    assert empty.search_runs(["0"], None, 1, 100, None, None) == []
    assert _tree(store_fs) == {}
    with pytest.raises(UnsupportedOperation) as refused:
        empty.create_experiment("new", None, None)
    assert refused.value.error_code == "PERMISSION_DENIED"
    assert _tree(store_fs) == {}

    client = fsregistry.Client(tracking_uri=store_url)
    exp = client.create_experiment("live")
    run = client.create_run(exp, run_name="running")
    client.log_param(run.info.run_id, "a", "1")
    before = _tree(store_fs)
    store = read_only()
    with caplog.at_level("DEBUG", logger="fsregistry"):
        [found] = store.search_runs([exp], None, 1, 100, None, None)
        names = {e.name for e in store.search_experiments(1, 100, None, None, None)}
    assert found.info.run_id == run.info.run_id and found.data.params == {"a": "1"}
    assert names == {"live", "Default"}  # the real Default experiment, no virtual one
    assert _tree(store_fs) == before
    assert not [r for r in caplog.records if "run index" in r.getMessage()], caplog.text
    with pytest.raises(UnsupportedOperation):
        store.set_tag(run.info.run_id, "k", "v")
    assert _tree(store_fs) == before


def test_every_plugin_store_method_says_where_it_differs() -> None:
    """Each public method of the plugin's stores (and ``_search_runs``, MLflow's search
    hook) has a docstring saying where it differs from MLflow's file store: its own, or the
    ``doc`` of its ``Forward`` declaration (read from the source: no MLflow needed)."""
    import ast

    plugin = Path(locations.__file__).parent
    undocumented = []
    for module, cls_name in (
        ("tracking", "FsregTrackingStore"),
        ("registry", "FsregRegistryStore"),
    ):
        tree = ast.parse((plugin / f"{module}.py").read_text())
        [cls] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls_name]
        methods = 0
        for node in cls.body:
            if isinstance(node, ast.FunctionDef):
                if node.name.startswith("_") and node.name != "_search_runs":
                    continue
                methods += 1
                doc = ast.get_docstring(node) or ""
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                methods += 1
                node_name = node.targets[0]
                assert isinstance(node_name, ast.Name)
                docs = [k.value for k in node.value.keywords if k.arg == "doc"]
                doc = "".join(
                    part.value
                    for d in docs
                    for part in ast.walk(d)
                    if isinstance(part, ast.Constant) and isinstance(part.value, str)
                )
                node = node_name  # type: ignore[assignment]
            else:
                continue
            name = getattr(node, "name", None) or getattr(node, "id", "?")
            if len(doc.split()) < 3:
                undocumented.append(f"{cls_name}.{name}")
        assert methods > 20
    assert undocumented == []


FORWARDED_SNIPPET = r"""
import json
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

c = MlflowClient(tracking_uri=URI, registry_uri=URI)
out = {}
exp = c.create_experiment("fw")
c.set_experiment_tag(exp, "k", "v")
c.delete_experiment_tag(exp, "k")
c.rename_experiment(exp, "fw2")
out["exp"] = [c.get_experiment(exp).name, c.get_experiment(exp).tags]
c.delete_experiment(exp)
out["deleted"] = c.get_experiment(exp).lifecycle_stage
c.restore_experiment(exp)
run = c.create_run(exp, run_name="r")
rid = run.info.run_id
c.log_param(rid, "p", "1")
c.set_tag(rid, "t", "1")
c.set_tag(rid, "gone", "1")
c.delete_tag(rid, "gone")
c.log_batch(rid, metrics=[Metric("m", 1.5, 1, 0), Metric("m", 2.5, 2, 1)])
out["history"] = [(m.step, m.value) for m in c.get_metric_history(rid, "m")]
c.delete_run(rid)
out["run_deleted"] = c.get_run(rid).info.lifecycle_stage
c.restore_run(rid)
r = c.get_run(rid)
out["run"] = [r.info.lifecycle_stage, r.data.params, r.data.tags.get("t"), "gone" in r.data.tags]
out["experiments"] = sorted(e.name for e in c.search_experiments(max_results=5))
c.create_registered_model("fwm")
c.set_registered_model_tag("fwm", "a", "b")
c.delete_registered_model_tag("fwm", "a")
v1 = c.create_model_version("fwm", "/tmp/x", run_id=rid)
c.create_model_version("fwm", "/tmp/x", run_id=rid)
c.update_model_version("fwm", "1", description="first")
c.set_model_version_tag("fwm", "1", "q", "w")
c.delete_model_version_tag("fwm", "1", "q")
c.transition_model_version_stage("fwm", "1", "Production", archive_existing_versions=True)
c.transition_model_version_stage("fwm", "2", "Production", archive_existing_versions=True)
c.set_registered_model_alias("fwm", "champ", "2")
c.set_registered_model_alias("fwm", "old", "1")
c.delete_registered_model_alias("fwm", "old")
out["alias"] = c.get_model_version_by_alias("fwm", "champ").version
out["stages"] = {v.version: v.current_stage for v in c.search_model_versions("name='fwm'")}
out["latest"] = [v.version for v in c.get_latest_versions("fwm", stages=["Production"])]
out["v1"] = [c.get_model_version("fwm", "1").description, c.get_model_version("fwm", "1").tags]
out["uri"] = c.get_model_version_download_uri("fwm", "2")
c.rename_registered_model("fwm", "fwm2")
m = c.get_registered_model("fwm2")
out["model"] = [m.name, m.tags, m.aliases]
c.delete_model_version("fwm2", "1")
out["versions"] = [v.version for v in c.search_model_versions("name='fwm2'")]
out["models"] = [m.name for m in c.search_registered_models(max_results=5)]
c.delete_registered_model("fwm2")
out["models_after"] = [m.name for m in c.search_registered_models()]
lm = c.create_logged_model(exp, name="lm")
c.set_logged_model_tags(lm.model_id, {"x": "y"})
c.delete_logged_model_tag(lm.model_id, "x")
c.delete_logged_model(lm.model_id)
out["lm"] = [x.model_id for x in c.search_logged_models([exp])]
print(json.dumps(out))
"""


@pytest.mark.mlflow
def test_mlflow_client_drives_every_forwarded_method(tmp_path: Path) -> None:
    """MLflow's own client calls each method the plugin declares with ``Forward`` the way
    MLflow calls them (positional and keyword arguments) on a local store."""
    store = tmp_path / "mlruns"
    code = f"URI = {json.dumps(locations.plugin_uri(str(store)))}\n" + FORWARDED_SNIPPET
    got = run_mlflow(VERSION, code, cwd=tmp_path, python=mlflow_plugin_python(), timeout=300)
    assert got["exp"] == ["fw2", {}]
    assert got["deleted"] == "deleted"
    assert got["history"] == [[0, 1.5], [1, 2.5]]
    assert got["run_deleted"] == "deleted"
    assert got["run"] == ["active", {"p": "1"}, "1", False]
    assert got["experiments"] == ["Default", "fw2"]
    assert got["alias"] == "2"
    assert got["stages"] == {"1": "Archived", "2": "Production"}
    assert got["latest"] == ["2"]
    assert got["v1"] == ["first", {}]
    assert got["uri"] == "/tmp/x"
    assert got["model"] == ["fwm2", {}, {"champ": "2"}]
    assert got["versions"] == ["2"]
    assert got["models"] == ["fwm2"]
    assert got["models_after"] == []
    assert got["lm"] == []
    client = fsregistry.Client(tracking_uri=str(store))
    assert client.get_experiment_by_name("fw2") is not None
    assert client.search_registered_models() == []
