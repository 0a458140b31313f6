"""LoggedModels cross between fsregistry and real MLflow (separate virtualenvs).

* MLflow 3.17.2 reads the LoggedModels fsregistry wrote (``search_logged_models`` with
  filters and order, ``get_logged_model``, run outputs, ``models:/<model_id>`` loading, the
  registered version's ``model_id``) and gets the answers fsregistry gives;
* fsregistry reads the LoggedModels MLflow 3.17.2 wrote the same way;
* MLflow 2.22.5 still reads the runs of a tree holding LoggedModels;
* run inputs and outputs (``log_inputs``, ``log_outputs``, ``Run.outputs``,
  ``Run.inputs.model_inputs``) give MLflow 3.17.2 and fsregistry the same answers, both ways.
"""

# ruff: noqa: F811

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fsregistry
from fsreg_testing.mlflow_env import mlflow_python_env
from fsreg_testing.models import FRAME, LABELS, frame, local_tracking, trained_model  # noqa: F401
from fsregistry import pyfunc
from fsregistry import sklearn as fsk
from fsregistry.entities import Dataset, LoggedModel

pytestmark = pytest.mark.mlflow

SUMMARY = r"""
def summary(m):
    return {
        "model_id": m.model_id,
        "name": m.name,
        "status": str(m.status),
        "experiment_id": m.experiment_id,
        "source_run_id": m.source_run_id,
        "model_type": m.model_type,
        "creation_timestamp": m.creation_timestamp,
        "params": dict(m.params),
        "tags": {k: v for k, v in m.tags.items()},
        "metrics": sorted(
            [m2.key, m2.value, m2.step, m2.dataset_name, m2.dataset_digest] for m2 in m.metrics or []
        ),
    }
"""

MLFLOW_READS = (
    SUMMARY
    + r"""
import json, sys
import numpy as np, pandas as pd
import mlflow
cfg = json.loads(CFG)
mlflow.set_tracking_uri(cfg["uri"])
mlflow.set_registry_uri(cfg["uri"])
c = mlflow.MlflowClient()
exp = cfg["exp"]
out = {}
out["all"] = [summary(m) for m in c.search_logged_models([exp], order_by=[{"field_name": "name"}])]
out["get"] = {mid: summary(c.get_logged_model(mid)) for mid in cfg["ids"]}
for f in cfg["filters"]:
    out[f] = [m.model_id for m in c.search_logged_models([exp], filter_string=f)]
out["by_acc"] = [
    m.model_id
    for m in c.search_logged_models([exp], order_by=[{"field_name": "metrics.acc", "ascending": False}])
]
out["eval"] = [m.model_id for m in c.search_logged_models([exp], datasets=[{"dataset_name": "eval"}])]
page = c.search_logged_models([exp], max_results=1)
out["page2"] = [m.model_id for m in c.search_logged_models([exp], max_results=1, page_token=page.token)]
run = c.get_run(cfg["run"])
out["outputs"] = sorted(o.model_id for o in run.outputs.model_outputs)
out["mv_model_id"] = c.get_model_version("lm-rm", "1").model_id
X = pd.DataFrame(cfg["frame"])
out["pred"] = np.asarray(mlflow.pyfunc.load_model(f"models:/{cfg['ids'][0]}").predict(X)).tolist()
out["run_pred"] = mlflow.sklearn.load_model(f"runs:/{cfg['run']}/clf").predict(X).tolist()
print(json.dumps(out))
"""
)


def _summary(m: LoggedModel) -> dict[str, Any]:
    return {
        "model_id": m.model_id,
        "name": m.name,
        "status": str(m.status),
        "experiment_id": m.experiment_id,
        "source_run_id": m.source_run_id,
        "model_type": m.model_type,
        "creation_timestamp": m.creation_timestamp,
        "params": dict(m.params),
        "tags": dict(m.tags),
        "metrics": sorted(
            [x.key, x.value, x.step, x.dataset_name, x.dataset_digest] for x in m.metrics
        ),
    }


FILTERS = [
    "metrics.acc > 0.5",
    "params.C = '0.5'",
    "name = 'clf'",
    "tags.stage LIKE 'pro%'",
    "status = 'READY'",
]


def test_mlflow3_reads_logged_models_written_by_fsregistry(
    local_tracking: str, tmp_path: Path
) -> None:
    X = frame()
    model = trained_model()
    exp = fsregistry.set_experiment("lm-interop").experiment_id
    with fsregistry.start_run() as run:
        fsregistry.log_param("C", 0.5)
        fsregistry.log_metric("acc", 0.9)
        info = fsk.log_model(
            model,
            name="clf",
            input_example=X[:2],
            serialization_format="cloudpickle",
            registered_model_name="lm-rm",
            tags={"stage": "prod"},
            model_type="classifier",
        )
        other = fsregistry.initialize_logged_model(name="draft", params={"C": "1.0"})
        fsregistry.log_metric("acc", 0.4, model_id=other.model_id)
        fsregistry.log_metric(
            "f1", 0.7, model_id=other.model_id, dataset=Dataset("eval", "d1", "code", "{}")
        )
        fsregistry.finalize_logged_model(other.model_id, "FAILED")
    client = fsregistry.Client()
    ids = [info.model_id or "", other.model_id]
    cfg = {
        "uri": Path(local_tracking).as_uri(),
        "exp": exp,
        "ids": ids,
        "run": run.info.run_id,
        "filters": FILTERS,
        "frame": FRAME,
    }
    got = mlflow_python_env("3.17.2").run(
        f"CFG = {json.dumps(json.dumps(cfg))}\n" + MLFLOW_READS, cwd=tmp_path
    )
    ours = [
        _summary(m) for m in client.search_logged_models([exp], order_by=[{"field_name": "name"}])
    ]
    assert got["all"] == ours and [m["name"] for m in ours] == ["clf", "draft"]
    assert got["get"] == {mid: _summary(client.get_logged_model(mid)) for mid in ids}
    assert ours[0]["status"] == "READY" and ours[1]["status"] == "FAILED"
    assert ours[0]["params"] == {"C": "0.5"} and ours[0]["metrics"] == [["acc", 0.9, 0, None, None]]
    for f in FILTERS:
        assert got[f] == [m.model_id for m in client.search_logged_models([exp], filter_string=f)]
        assert got[f], f
    assert got["by_acc"] == ids
    assert got["eval"] == [other.model_id]
    page = client.search_logged_models([exp], max_results=1)
    second = client.search_logged_models([exp], max_results=1, page_token=page.token)
    assert got["page2"] == [m.model_id for m in second] and len(second) == 1
    assert got["outputs"] == [info.model_id]
    assert got["mv_model_id"] == info.model_id
    assert got["pred"] == got["run_pred"] == model.predict(X).tolist()


MLFLOW_WRITES = (
    SUMMARY
    + r"""
import json
import pandas as pd
import mlflow
from sklearn.linear_model import LogisticRegression
cfg = json.loads(CFG)
mlflow.set_tracking_uri(cfg["uri"])
exp = mlflow.set_experiment("from-mlflow").experiment_id
X = pd.DataFrame(cfg["frame"])
model = LogisticRegression(C=0.3).fit(X, cfg["labels"])
with mlflow.start_run() as run:
    mlflow.log_param("C", 0.3)
    mlflow.log_metric("acc", 0.8)
    a = mlflow.sklearn.log_model(model, name="a", serialization_format="cloudpickle")
    b = mlflow.sklearn.log_model(model, name="a", serialization_format="cloudpickle")
    mlflow.log_metric("loss", 0.2, model_id=b.model_id)
    mlflow.set_logged_model_tags(b.model_id, {"k": "v"})
c = mlflow.MlflowClient()
out = {
    "exp": exp,
    "run": run.info.run_id,
    "ids": [a.model_id, b.model_id],
    "all": [summary(m) for m in c.search_logged_models([exp])],
    "loss": [m.model_id for m in c.search_logged_models([exp], filter_string="metrics.loss < 1")],
    "pred": model.predict(X).tolist(),
}
print(json.dumps(out))
"""
)


def test_fsregistry_reads_logged_models_written_by_mlflow3(
    local_tracking: str, tmp_path: Path
) -> None:
    cfg = {"uri": Path(local_tracking).as_uri(), "frame": FRAME, "labels": LABELS}
    got = mlflow_python_env("3.17.2").run(
        f"CFG = {json.dumps(json.dumps(cfg))}\n" + MLFLOW_WRITES, cwd=tmp_path
    )
    client = fsregistry.Client()
    assert [_summary(m) for m in client.search_logged_models([got["exp"]])] == got["all"]
    assert [
        m.model_id
        for m in client.search_logged_models([got["exp"]], filter_string="metrics.loss < 1")
    ] == got["loss"]
    for model_id in got["ids"]:
        assert (
            np.asarray(pyfunc.load_model(f"models:/{model_id}").predict(frame())).tolist()
            == (got["pred"])
        )
    # two models named "a" in one run: runs:/ resolves to the newer, as MLflow does
    assert fsk.load_model(f"runs:/{got['run']}/a").predict(frame()).tolist() == got["pred"]
    outputs = client.store.get_run_outputs(got["run"])
    assert sorted(o.model_id for o in outputs) == sorted(got["ids"])


MLFLOW2_READS_RUNS = r"""
import json
import mlflow
cfg = json.loads(CFG)
mlflow.set_tracking_uri(cfg["uri"])
c = mlflow.MlflowClient()
run = c.get_run(cfg["run"])
runs = c.search_runs([cfg["exp"]])
print(json.dumps({
    "params": run.data.params,
    "metrics": run.data.metrics,
    "runs": [r.info.run_id for r in runs],
    "history": [m.value for m in c.get_metric_history(cfg["run"], "acc")],
}))
"""


def test_mlflow2_still_reads_runs_next_to_logged_models(
    local_tracking: str, tmp_path: Path
) -> None:
    exp = fsregistry.set_experiment("lm-mlflow2").experiment_id
    with fsregistry.start_run() as run:
        fsregistry.log_param("C", 0.5)
        fsregistry.log_metric("acc", 0.9)
        info = fsk.log_model(trained_model(), name="clf")
        fsregistry.log_metric("acc", 0.95, step=1, model_id=info.model_id)
    cfg = {"uri": Path(local_tracking).as_uri(), "exp": exp, "run": run.info.run_id}
    got = mlflow_python_env("2.22.5").run(
        f"CFG = {json.dumps(json.dumps(cfg))}\n" + MLFLOW2_READS_RUNS, cwd=tmp_path
    )
    assert got == {
        "params": {"C": "0.5"},
        "metrics": {"acc": 0.95},
        "runs": [run.info.run_id],
        "history": [0.9, 0.95],
    }


# -- run inputs and outputs (log_inputs / log_outputs) -----------------------------------------
RUN_IO = r"""
def run_io(r):
    return {
        "outputs": sorted([o.model_id, o.step] for o in r.outputs.model_outputs),
        "model_inputs": sorted(i.model_id for i in r.inputs.model_inputs),
        "datasets": sorted(
            [d.dataset.name, d.dataset.digest, d.dataset.source_type,
             sorted([t.key, t.value] for t in d.tags)]
            for d in r.inputs.dataset_inputs
        ),
    }


def run_io_answers(c, exp, run_ids):
    return {
        "get": {rid: run_io(c.get_run(rid)) for rid in run_ids},
        "search": {r.info.run_id: run_io(r) for r in c.search_runs([exp])},
    }
"""


def _run_io_answers(client: fsregistry.Client, exp: str, run_ids: list[str]) -> Any:
    """fsregistry's answers, from the very code MLflow runs (``RUN_IO``)."""
    scope: dict[str, Any] = {}
    exec(RUN_IO, scope)
    return scope["run_io_answers"](client, exp, run_ids)


MLFLOW_READS_RUN_IO = (
    RUN_IO
    + r"""
import json
import mlflow
cfg = json.loads(CFG)
mlflow.set_tracking_uri(cfg["uri"])
print(json.dumps(run_io_answers(mlflow.MlflowClient(), cfg["exp"], cfg["runs"])))
"""
)


def test_mlflow3_reads_run_inputs_and_outputs_written_by_fsregistry(
    local_tracking: str, tmp_path: Path
) -> None:
    from fsregistry.entities import LoggedModelInput, LoggedModelOutput

    exp = fsregistry.set_experiment("run-io").experiment_id
    train = fsregistry.data.from_numpy(np.array([[1, 2], [3, 4]]), source="train.csv")
    test = fsregistry.data.from_numpy(np.array([[5, 6]]), source="test.csv")
    client = fsregistry.Client()
    with fsregistry.start_run() as run:
        fsregistry.log_inputs(
            [train, test], contexts=["training", "eval"], tags_list=[None, {"k": "v"}]
        )
        info = fsk.log_model(trained_model(), name="clf", step=3)
        other = fsregistry.initialize_logged_model(name="draft")
        fsregistry.log_outputs([LoggedModelOutput(other.model_id, step=7)])
    with fsregistry.start_run() as user:
        client.log_inputs(user.info.run_id, models=[LoggedModelInput(info.model_id or "")])
    with fsregistry.start_run() as plain:
        pass
    run_ids = [run.info.run_id, user.info.run_id, plain.info.run_id]
    cfg = {"uri": Path(local_tracking).as_uri(), "exp": exp, "runs": run_ids}
    got = mlflow_python_env("3.17.2").run(
        f"CFG = {json.dumps(json.dumps(cfg))}\n" + MLFLOW_READS_RUN_IO, cwd=tmp_path
    )
    ours = _run_io_answers(client, exp, run_ids)
    assert got == json.loads(json.dumps(ours))
    assert got["get"][run.info.run_id]["outputs"] == sorted(
        [[info.model_id, 3], [other.model_id, 7]]
    )
    assert got["get"][user.info.run_id]["model_inputs"] == [info.model_id]
    assert sorted(d[3] for d in got["get"][run.info.run_id]["datasets"]) == [
        [["k", "v"], ["mlflow.data.context", "eval"]],
        [["mlflow.data.context", "training"]],
    ]
    assert got["search"][plain.info.run_id] == {"outputs": [], "model_inputs": [], "datasets": []}


MLFLOW_WRITES_RUN_IO = (
    RUN_IO
    + r"""
import json
import numpy as np
import mlflow
from mlflow.entities import LoggedModelInput, LoggedModelOutput
cfg = json.loads(CFG)
mlflow.set_tracking_uri(cfg["uri"])
exp = mlflow.set_experiment("run-io-mlflow").experiment_id
c = mlflow.MlflowClient()
train = mlflow.data.from_numpy(np.array([[1, 2], [3, 4]]), source="train.csv")
test = mlflow.data.from_numpy(np.array([[5, 6]]), source="test.csv")
with mlflow.start_run() as run:
    mlflow.log_inputs([train, test], contexts=["training", "eval"], tags_list=[None, {"k": "v"}])
    made = c.create_logged_model(exp, name="made", source_run_id=run.info.run_id)
    mlflow.log_outputs([LoggedModelOutput(made.model_id, step=2)])
with mlflow.start_run() as user:
    c.log_inputs(user.info.run_id, models=[LoggedModelInput(made.model_id)])
with mlflow.start_run() as plain:
    pass
runs = [run.info.run_id, user.info.run_id, plain.info.run_id]
print(json.dumps({"exp": exp, "runs": runs, "made": made.model_id,
                  "answers": run_io_answers(c, exp, runs)}))
"""
)


def test_fsregistry_reads_run_inputs_and_outputs_written_by_mlflow3(
    local_tracking: str, tmp_path: Path
) -> None:
    cfg = {"uri": Path(local_tracking).as_uri()}
    got = mlflow_python_env("3.17.2").run(
        f"CFG = {json.dumps(json.dumps(cfg))}\n" + MLFLOW_WRITES_RUN_IO, cwd=tmp_path
    )
    ours = _run_io_answers(fsregistry.Client(), got["exp"], got["runs"])
    assert json.loads(json.dumps(ours)) == got["answers"]
    run_id, user_id, _ = got["runs"]
    assert ours["get"][run_id]["outputs"] == [[got["made"], 2]]
    assert ours["get"][user_id]["model_inputs"] == [got["made"]]
    assert len(ours["get"][run_id]["datasets"]) == 2
