"""Real MLflow (2.22.5 and 3.17.2, separate virtualenvs) reads trees fsregistry writes.

One read-back snippet runs twice on the same tree: under MLflow with ``MlflowClient`` and in
this process with ``fsregistry.Client`` (same method names). Both must give the same JSON.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import fsregistry
from fsregistry import Client
from fsregistry.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

pytestmark = pytest.mark.mlflow

# Works with MlflowClient and with fsregistry.Client: the same names, the same arguments.
READ_BACK = r"""
import json, math

def num(v):
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return repr(v)
    return v

def dump(client, ViewType):
    out = {"experiments": [], "runs": {}, "histories": {}, "searches": {}}
    exps = client.search_experiments(view_type=ViewType.ALL, order_by=["name ASC"])
    for e in exps:
        out["experiments"].append({
            "id": e.experiment_id, "name": e.name, "stage": e.lifecycle_stage,
            "tags": dict(e.tags), "created": e.creation_time is not None,
        })
    ids = [e.experiment_id for e in exps]
    for r in client.search_runs(ids, run_view_type=ViewType.ALL, max_results=1000):
        run = client.get_run(r.info.run_id)
        i = run.info
        out["runs"][i.run_id] = {
            "experiment_id": i.experiment_id, "name": i.run_name, "status": i.status,
            "stage": i.lifecycle_stage, "start": i.start_time, "end": i.end_time,
            "user": i.user_id,
            "params": dict(run.data.params), "tags": dict(run.data.tags),
            "metrics": {k: num(v) for k, v in run.data.metrics.items()},
            "datasets": sorted(
                [d.dataset.name, d.dataset.digest, sorted((t.key, t.value) for t in d.tags)]
                for d in run.inputs.dataset_inputs
            ),
        }
        for key in run.data.metrics:
            out["histories"][f"{i.run_id}/{key}"] = [
                [m.timestamp, num(m.value), m.step]
                for m in client.get_metric_history(i.run_id, key)
            ]
    queries = {
        "filtered": ("metrics.m0 > 0.5 and params.p0 = 'x'", None),
        "nested_key": ("metrics.`train/acc` < 0.8", None),
        "like": ("tags.stage LIKE 'dev%'", None),
        "failed": ("attributes.status = 'FAILED'", None),
        "order": ("", ["metrics.m0 DESC"]),
        "order_param": ("", ["params.p0 ASC", "attributes.start_time DESC"]),
    }
    exp_id = [e.experiment_id for e in exps if e.name == "interop"][0]
    for label, (flt, order) in queries.items():
        out["searches"][label] = [
            r.info.run_id for r in client.search_runs([exp_id], flt, order_by=order)
        ]
    page = client.search_runs([exp_id], max_results=2, order_by=["attributes.start_time ASC"])
    rest = client.search_runs([exp_id], max_results=100, order_by=["attributes.start_time ASC"],
                              page_token=page.token)
    out["searches"]["paged"] = [r.info.run_id for r in list(page) + list(rest)]
    out["searches"]["deleted_only"] = [
        r.info.run_id for r in client.search_runs([exp_id], run_view_type=ViewType.DELETED_ONLY)
    ]
    return out
"""

MLFLOW_SIDE = (
    READ_BACK
    + r"""
import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType
mlflow.set_tracking_uri("file:./mlruns")
print(json.dumps(dump(MlflowClient(), ViewType)))
"""
)


def _fsregistry_side(root: Path) -> Any:
    scope: dict[str, Any] = {}
    exec(READ_BACK, scope)
    return json.loads(
        json.dumps(scope["dump"](Client(tracking_uri=str(root)), fsregistry.ViewType))
    )


def _write_tree(root: Path) -> None:
    client = Client(tracking_uri=str(root))
    exp_id = client.create_experiment("interop", tags={"team": "ml", "owner/email": "a@b.c"})
    client.create_experiment("other")
    gone = client.create_experiment("gone")
    client.create_run(gone, run_name="in-deleted-exp")
    client.delete_experiment(gone)
    parent = None
    for i in range(5):
        run = client.create_run(exp_id, run_name=f"run-{i}", start_time=1_700_000_000_000 + i)
        rid = run.info.run_id
        client.log_batch(
            rid,
            metrics=[Metric("m0", i / 4, 1_000 + s, s) for s in range(3)]
            + [Metric("train/acc", 1 - i / 10, 5, 0)],
            params=[Param("p0", "x" if i % 2 == 0 else "y"), Param("nested/key", f"v{i}")],
            tags=[
                RunTag("stage", f"dev-{i}"),
                RunTag("multi", "line1\nline2"),
                RunTag("unicode", "héllo ✓"),
            ],
        )
        client.log_metric(rid, "special", [math.nan, math.inf, -math.inf, 1.0, 2.0][i], 7, 0)
        if i == 0:
            parent = rid
            client.log_inputs(
                rid,
                [
                    DatasetInput(
                        Dataset(
                            "toy",
                            "0dee10c8",
                            "code",
                            '{"tags": {}}',
                            '{"mlflow_colspec": []}',
                            '{"num_rows": 6}',
                        ),
                        [InputTag("mlflow.data.context", "training")],
                    )
                ],
            )
        if i == 1:
            client.set_tag(rid, "mlflow.parentRunId", parent)
        if i == 3:
            client.set_terminated(rid, "FAILED", end_time=1_800_000_000_000)
        elif i == 4:
            client.delete_run(rid)
        else:
            client.set_terminated(rid, end_time=1_800_000_000_000)


def test_mlflow_reads_what_fsregistry_wrote(mlflow_python: Any, tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    _write_tree(root)
    ours = _fsregistry_side(root)
    theirs = mlflow_python.run(MLFLOW_SIDE, cwd=tmp_path)
    assert len(ours["runs"]) == 6 and len(ours["experiments"]) == 4
    assert theirs["experiments"] == ours["experiments"]
    assert theirs["runs"] == ours["runs"]
    assert theirs["histories"] == ours["histories"]
    assert theirs["searches"] == ours["searches"]
    assert ours["searches"]["deleted_only"] and ours["searches"]["failed"]
