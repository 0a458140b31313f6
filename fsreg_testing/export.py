"""A store worth exporting, and the answers to compare between the store and MLflow's database.

:func:`populate` writes, through fsregistry's client, a store with what ``fsreg export``
copies: experiments (one deleted, tags), runs (deleted, failed, running) with params, tags,
metric histories (several steps, a NaN, an infinity), dataset inputs with tags, LoggedModels
(params, tags, metrics with a dataset), model inputs and outputs, and a registry (tags,
descriptions, stages, aliases, a deleted version, a ``models:/<model_id>`` source).

:func:`answers` asks a client the questions a user would (searches, gets, histories,
aliases, latest versions, download URIs) using only calls ``MlflowClient`` and fsregistry's
``Client`` share, and returns JSON-ready answers, so the same function runs in the test
process on the store and in MLflow's venv on the database (this module imports neither
fsregistry nor MLflow at import time).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

__all__ = [
    "ANSWERS_SNIPPET",
    "EXPORT_SNIPPET",
    "EXTRAS",
    "VERSION",
    "answers",
    "in_mlflow",
    "populate",
    "table_rows",
]

#: The MLflow the export tests run: full MLflow (SQLAlchemy, alembic, Flask for its server)
#: plus what fsregistry needs in that venv (its core dependencies, s3fs and gcsfs).
VERSION = "3.17.2"
EXTRAS = ("mlflow==3.17.2", "filelock", "fsspec", "typer<0.29", "s3fs", "gcsfs")
REPO = str(Path(__file__).resolve().parents[1])


def in_mlflow(code: str, cwd: Path, extras: tuple[str, ...] = EXTRAS, **env: str) -> Any:
    """Run ``code`` in MLflow 3.17.2's venv (``extras``: its extra packages) with this
    checkout importable; its JSON answer."""
    from fsreg_testing.mlflow_env import run_mlflow

    return run_mlflow(
        VERSION, code, cwd=cwd, extras=extras, env={"PYTHONPATH": REPO, **env}, timeout=900
    )


#: ``export_to_database($STORE, $FSREG_EXPORT_DB)``, its counts printed as JSON.
EXPORT_SNIPPET = """
import json, os
from fsregistry.export import export_to_database
print(json.dumps(export_to_database(os.environ["STORE"], os.environ["FSREG_EXPORT_DB"])))
"""

_MAX_FLOAT = 1.7976931348623157e308


def table_rows(db: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of a SQLite database, sorted (its whole content)."""
    import sqlite3

    con = sqlite3.connect(db)
    try:
        names = [
            n
            for (n,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            if not n.startswith("sqlite_")
        ]
        return {n: sorted(con.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}
    finally:
        con.close()


def populate(store_url: str) -> dict[str, Any]:
    """Fill an empty store; returns ids a test may want."""
    from fsregistry import Client
    from fsregistry.entities import (
        Dataset,
        DatasetInput,
        InputTag,
        LoggedModelInput,
        LoggedModelOutput,
        Metric,
        Param,
        RunTag,
    )

    c = Client(store_url)
    e1 = c.create_experiment("exp-one", tags={"team": "a", "note": "é ünïcode"})
    e2 = c.create_experiment("exp-two")
    e3 = c.create_experiment("exp-gone")
    c.set_experiment_tag("0", "default-tag", "d")
    runs: list[str] = []
    t0 = 1_700_000_000_000
    for i in range(3):
        r = c.create_run(e1, run_name=f"run-{i}", start_time=t0 + i, tags={"k": f"v{i}"})
        rid = r.info.run_id
        runs.append(rid)
        c.log_batch(
            rid,
            metrics=[Metric("loss", 1.0 / (s + 1) + i, t0 + 10 * s, s) for s in range(5)]
            + [Metric("acc", 0.5 + i / 10, t0 + 7, 0), Metric("acc", 0.6 + i / 10, t0 + 8, 1)],
            params=[Param("lr", str(0.1 * (i + 1))), Param("depth", str(i + 3))],
            tags=[RunTag("phase", "train")],
        )
        c.log_metric(rid, "odd", float("nan"), timestamp=t0, step=0)
        c.log_metric(rid, "odd", float("inf"), timestamp=t0 + 1, step=1)
        if i < 2:
            c.set_terminated(rid, "FINISHED" if i == 0 else "FAILED", end_time=t0 + 1000)
    ds = Dataset("iris", "abc123", "local", json.dumps({"uri": "/data/iris.csv"}), "{}", "{}")
    c.log_inputs(runs[2], [DatasetInput(ds, [InputTag("mlflow.data.context", "training")])])
    c.log_inputs(runs[1], [DatasetInput(ds, [InputTag("mlflow.data.context", "eval")])])
    lm = c.create_logged_model(
        e1,
        name="clf",
        source_run_id=runs[2],
        tags={"t": "1"},
        params={"alpha": "0.5"},
        model_type="sklearn",
    )
    c.log_metric(
        runs[2],
        "val_acc",
        0.93,
        timestamp=t0 + 50,
        step=2,
        dataset_name="iris",
        dataset_digest="abc123",
        model_id=lm.model_id,
    )
    c.finalize_logged_model(lm.model_id, "READY")
    c.log_outputs(runs[2], [LoggedModelOutput(lm.model_id, 2)])
    c.log_inputs(runs[0], models=[LoggedModelInput(lm.model_id)])
    r2 = c.create_run(e2, run_name="solo", start_time=t0 + 5).info.run_id
    c.log_param(r2, "only", "1")
    c.set_terminated(r2, "FINISHED", end_time=t0 + 6)
    gone = c.create_run(e2, run_name="deleted", start_time=t0 + 9).info.run_id
    c.delete_run(gone)
    c.delete_experiment(e3)

    c.create_registered_model("churn", tags={"owner": "ml"}, description="churn model")
    v1 = c.create_model_version("churn", f"{c.get_run(runs[0]).info.artifact_uri}/model", runs[0])
    v2 = c.create_model_version(
        "churn", f"models:/{lm.model_id}", runs[2], tags={"v": "2"}, description="second"
    )
    c.create_model_version("churn", f"{c.get_run(runs[1]).info.artifact_uri}/model", runs[1])
    c.delete_model_version("churn", 3)
    c.transition_model_version_stage("churn", v1.version, "Production")
    c.transition_model_version_stage("churn", v2.version, "Staging")
    c.set_registered_model_alias("churn", "champion", v2.version)
    c.set_model_version_tag("churn", v1.version, "validated", "yes")
    c.create_registered_model("empty-model")
    # Another process (the export) reads the store next: write the metric lines an object
    # store buffers for a run still running (as a writer must before handing a store over).
    c.flush()
    return {"experiments": [e1, e2, e3], "runs": [*runs, r2, gone], "model_id": lm.model_id}


def _num(x: Any) -> Any:
    # MLflow's SQL store keeps an infinity as the largest finite double (its documented
    # limitation): both read as "inf" here.
    if isinstance(x, float) and abs(x) == _MAX_FLOAT:
        x = math.copysign(math.inf, x)
    if isinstance(x, float) and (math.isnan(x) or math.isinf(x)):
        return repr(x)
    return x


def _enum(x: Any) -> Any:
    return getattr(x, "value", x) if x is not None else None


def answers(client: Any) -> dict[str, Any]:
    """What ``client`` (MlflowClient or fsregistry's Client) says about everything exported."""
    out: dict[str, Any] = {}
    exps = client.search_experiments(view_type=3, max_results=1000)
    out["experiments"] = sorted(
        (
            {
                "id": e.experiment_id,
                "name": e.name,
                "artifact_location": e.artifact_location,
                "lifecycle_stage": e.lifecycle_stage,
                "tags": dict(e.tags),
                "creation_time": e.creation_time,
                "last_update_time": e.last_update_time,
            }
            for e in exps
        ),
        key=lambda d: d["id"],
    )
    ids = [e.experiment_id for e in exps]
    runs = client.search_runs(ids, run_view_type=3, max_results=1000, order_by=["run_id"])
    out["runs"] = []
    for r in runs:
        info = r.info
        # MLflow's SQL search leaves model inputs out; its get_run has them.
        got = client.get_run(info.run_id)
        inputs = got.inputs
        run = {
            "run_id": info.run_id,
            "experiment_id": info.experiment_id,
            "run_name": info.run_name,
            "user_id": info.user_id,
            "status": info.status,
            "start_time": info.start_time,
            "end_time": info.end_time,
            "lifecycle_stage": info.lifecycle_stage,
            "artifact_uri": info.artifact_uri,
            "metrics": {k: _num(v) for k, v in r.data.metrics.items()},
            "params": dict(r.data.params),
            "tags": dict(r.data.tags),
            "datasets": sorted(
                [
                    d.dataset.name,
                    d.dataset.digest,
                    d.dataset.source_type,
                    d.dataset.source,
                    d.dataset.schema,
                    d.dataset.profile,
                    sorted([t.key, t.value] for t in d.tags),
                ]
                for d in inputs.dataset_inputs
            ),
            "model_inputs": sorted(m.model_id for m in (inputs.model_inputs or [])),
            "model_outputs": sorted(
                [m.model_id, m.step] for m in (got.outputs.model_outputs if got.outputs else [])
            ),
            "history": {
                k: sorted(
                    [m.step, m.timestamp, _num(m.value)]
                    for m in client.get_metric_history(info.run_id, k)
                )
                for k in sorted(r.data.metrics)
            },
        }
        out["runs"].append(run)
    # One get_run, to check the single-run path as well as the search.
    if out["runs"]:
        first = client.get_run(out["runs"][0]["run_id"])
        out["get_run_metrics"] = {k: _num(v) for k, v in first.data.metrics.items()}
    models = client.search_logged_models(experiment_ids=ids, max_results=100)
    out["logged_models"] = sorted(
        (
            {
                "model_id": m.model_id,
                "experiment_id": m.experiment_id,
                "name": m.name,
                "artifact_location": m.artifact_location,
                "status": _enum(m.status),
                "model_type": m.model_type,
                "source_run_id": m.source_run_id,
                "creation_timestamp": m.creation_timestamp,
                "tags": dict(m.tags),
                "params": dict(m.params),
                "metrics": sorted(
                    [x.key, _num(x.value), x.step, x.timestamp, x.run_id, x.dataset_name]
                    for x in (m.metrics or [])
                ),
            }
            for m in models
        ),
        key=lambda d: d["model_id"],
    )
    out["registered_models"] = []
    for rm in sorted(client.search_registered_models(max_results=1000), key=lambda m: m.name):
        versions = client.search_model_versions(f"name='{rm.name}'")
        out["registered_models"].append(
            {
                "name": rm.name,
                "description": rm.description,
                "tags": dict(rm.tags),
                "aliases": {k: str(v) for k, v in dict(rm.aliases).items()},
                "creation_timestamp": rm.creation_timestamp,
                "latest": sorted(
                    [v.current_stage, int(v.version)] for v in client.get_latest_versions(rm.name)
                ),
                "versions": sorted(
                    (
                        {
                            "version": int(v.version),
                            "source": v.source,
                            "run_id": v.run_id,
                            "status": v.status,
                            "current_stage": v.current_stage,
                            "description": v.description,
                            "tags": dict(v.tags),
                            # MLflow's SQL search leaves version aliases out; get has them.
                            "aliases": sorted(client.get_model_version(rm.name, v.version).aliases),
                            "creation_timestamp": v.creation_timestamp,
                            "last_updated_timestamp": v.last_updated_timestamp,
                            "download_uri": client.get_model_version_download_uri(
                                rm.name, v.version
                            ),
                        }
                        for v in versions
                    ),
                    key=lambda d: d["version"],
                ),
                "by_alias": {
                    a: int(client.get_model_version_by_alias(rm.name, a).version)
                    for a in sorted(dict(rm.aliases))
                },
            }
        )
    return out


#: Run in MLflow's venv with ``DB`` set: prints MLflow's answers about the database.
ANSWERS_SNIPPET = """
import json, os, sys
from mlflow import MlflowClient
from fsreg_testing.export import answers
db = os.environ["FSREG_EXPORT_DB"]
print(json.dumps(answers(MlflowClient(db, db))))
"""
