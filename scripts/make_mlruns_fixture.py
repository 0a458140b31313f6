"""Regenerate ``mlruns_fixture/`` with REAL MLflow (one tree per supported MLflow version).

    python scripts/make_mlruns_fixture.py [--version 2.22.5] [--version 3.17.2]

For each version this

1. builds/reuses the MLflow venv (``fsreg_testing/mlflow_env.py``),
2. runs MLflow in a scratch directory (``$TMPDIR/fsregistry-fixture-gen/mlflow-<version>/``) to
   write a store at ``.../mlruns`` (experiments, runs, metrics, datasets, artifacts, sklearn
   models, registered models — see ``GENERATE`` below and ``mlruns_fixture/README.md``),
3. asks the same MLflow to read everything back and records its answers in ``expected.json``,
4. copies the tree to ``mlruns_fixture/mlflow-<version>/mlruns/``, lists its empty
   directories in ``empty_dirs.txt`` (git drops them; ``fsreg_testing/fixture_trees.py`` recreates
   them) and deletes the scratch tree (``--keep`` keeps it).

MLflow stores absolute ``file://`` URIs, so the copied tree still points at the scratch
location (``generated_at_root`` in ``expected.json``): exactly what relocation tests need.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fsreg_testing.fixture_trees import EMPTY_DIRS_FILE, FIXTURE_ROOT, empty_dirs
from fsreg_testing.mlflow_env import MLFLOW_VERSIONS, run_mlflow

#: The tiny deterministic training/prediction frame (f1 float, f2 int) and its labels.
FRAME = {
    "f1": [0.1, 0.4, 0.35, 0.8, 1.2, 1.5, 0.05, 0.9],
    "f2": [1, 0, 1, 0, 1, 1, 0, 0],
}
LABELS = [0, 0, 0, 1, 1, 1, 0, 1]
#: Base of all timestamps passed explicitly to MLflow (2023-11-14T22:13:20Z).
T0 = 1_700_000_000_000

# Code run inside the MLflow venv. ``ARGS`` is prepended as a JSON literal.
COMMON = r"""
import json
import math
import sys
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.entities import ViewType

ROOT = Path(ARGS["root"])
ROOT_URI = ROOT.as_uri()
MAJOR = int(mlflow.__version__.split(".")[0])
T0 = ARGS["t0"]
mlflow.set_tracking_uri(ROOT_URI)
mlflow.set_registry_uri(ROOT_URI)
client = MlflowClient(tracking_uri=ROOT_URI, registry_uri=ROOT_URI)


def frame():
    return pd.DataFrame(
        {
            "f1": pd.Series(ARGS["frame"]["f1"], dtype="float64"),
            "f2": pd.Series(ARGS["frame"]["f2"], dtype="int64"),
        }
    )
"""

GENERATE = r'''
from sklearn.linear_model import LogisticRegression
from mlflow.entities import RunStatus

X = frame()
y = pd.Series(ARGS["labels"], dtype="int64", name="y")
work = Path.cwd()

# -- experiments ------------------------------------------------------------------------
demo = client.create_experiment(
    "demo-exp", tags={"team": "ml-platform", "owner/email": "owner@example.com"}
)
to_delete = client.create_experiment("to-delete")
client.set_experiment_tag(to_delete, "purpose", "deleted on purpose")
client.delete_experiment(to_delete)
other = client.create_experiment("other")

MULTILINE = "first line\nsecond line\n  indented third line"
UNICODE = "héllo ✓"
ids = {}


def make_run(exp, name, minute, params, tags, metrics):
    """A run with fixed timestamps; metrics: {key: [(value, step), ...]} in file order."""
    start = T0 + minute * 60_000
    run = client.create_run(exp, start_time=start, tags=tags, run_name=name)
    rid = run.info.run_id
    for key, value in params.items():
        client.log_param(rid, key, value)
    for key, points in metrics.items():
        for value, step in points:
            client.log_metric(rid, key, value, timestamp=start + 1_000 * (step + 1), step=step)
    return rid, start


def finish(rid, start, status="FINISHED"):
    client.set_terminated(rid, status, end_time=start + 30_000)


def log_model(rid, C):
    model = LogisticRegression(C=C, max_iter=500).fit(X, y)
    with mlflow.start_run(run_id=rid):
        if MAJOR >= 3:
            mlflow.sklearn.log_model(model, name="model", input_example=X.head(2))
        else:
            mlflow.sklearn.log_model(model, artifact_path="model", input_example=X.head(2))


# Run A "alpha": edge-case metrics, dataset input, artifacts, model -> demo-model v1.
ids["alpha"], a_start = make_run(
    demo,
    "alpha",
    0,
    {"C": "0.1", "solver": "lbfgs", "nested/key": "a"},
    {"stage": "dev", "note": MULTILINE, "greeting": UNICODE},
    {
        "loss": [(0.9, 0), (0.6, 1), (0.45, 2)],
        "train/acc": [(0.5, 0), (0.75, 1), (0.875, 2)],
        "edge": [(float("nan"), 0), (float("inf"), 1), (float("-inf"), 2)],
    },
)
# A metric logged with an explicit timestamp far from the run's others, and no step.
client.log_metric(ids["alpha"], "final_score", 0.8125, timestamp=T0 + 123_456)

# Run B "beta": loss logged out of step order (file order != step order) -> v2 (champion).
ids["beta"], b_start = make_run(
    demo,
    "beta",
    1,
    {"C": "0.5", "solver": "lbfgs", "nested/key": "b"},
    {"stage": "dev-canary", "note": MULTILINE, "greeting": UNICODE},
    {
        "loss": [(0.8, 0), (0.3, 2), (0.5, 1)],
        "train/acc": [(0.625, 0), (0.75, 1), (1.0, 2)],
    },
)

# Run C "gamma": FAILED -> v3 (deleted version).
ids["gamma"], c_start = make_run(
    demo,
    "gamma",
    2,
    {"C": "1.0", "solver": "liblinear", "nested/key": "c"},
    {"stage": "prod", "note": MULTILINE, "greeting": UNICODE},
    {"loss": [(0.7, 0), (0.65, 1), (0.6, 2)], "train/acc": [(0.5, 0), (0.5, 1), (0.625, 2)]},
)

# Run D "discarded": deleted run.
ids["discarded"], d_start = make_run(
    demo,
    "discarded",
    3,
    {"C": "2.0", "solver": "lbfgs", "nested/key": "d"},
    {"stage": "dev-old"},
    {"loss": [(0.25, 0), (0.2, 1)]},
)
finish(ids["discarded"], d_start)
client.delete_run(ids["discarded"])

# Dataset input, artifacts and the nested child on alpha (fluent API, resumed run).
data_csv = work / "data" / "demo.csv"
data_csv.parent.mkdir(parents=True, exist_ok=True)
X.assign(y=y).to_csv(data_csv, index=False)
dataset = mlflow.data.from_pandas(
    X.assign(y=y), source=str(data_csv), name="demo-data", targets="y"
)
with mlflow.start_run(run_id=ids["alpha"]):
    mlflow.log_input(dataset, context="training")
    with mlflow.start_run(experiment_id=demo, run_name="child-eval", nested=True) as child:
        ids["child-eval"] = child.info.run_id
        child_start = child.info.start_time
        mlflow.log_param("eval_set", "holdout")
        client.log_metric(ids["child-eval"], "val_loss", 0.5, timestamp=T0 + 600_000, step=0)
client.set_terminated(ids["child-eval"], "FINISHED", end_time=T0 + 660_000)

client.log_text(ids["alpha"], "hello\nworld\n", "notes/readme.txt")
client.log_dict(ids["alpha"], {"lr": 0.1, "layers": [8, 4], "name": UNICODE}, "config/settings.json")
client.log_artifact(ids["alpha"], str(data_csv), artifact_path="data")
bundle = work / "bundle"
(bundle / "sub").mkdir(parents=True, exist_ok=True)
(bundle / "top.txt").write_text("top\n")
(bundle / "sub" / "inner.txt").write_text("inner\n")
client.log_artifacts(ids["alpha"], str(bundle), artifact_path="bundle")

# Models and registrations.
for name, C in (("alpha", 0.1), ("beta", 0.5), ("gamma", 1.0)):
    log_model(ids[name], C)
finish(ids["alpha"], a_start)
finish(ids["beta"], b_start)
finish(ids["gamma"], c_start, "FAILED")

versions = {}
for name in ("alpha", "beta", "gamma"):
    mv = mlflow.register_model(f"runs:/{ids[name]}/model", "demo-model")
    versions[name] = str(mv.version)  # the file store returns an int
assert [versions[n] for n in ("alpha", "beta", "gamma")] == ["1", "2", "3"], versions
client.update_registered_model("demo-model", description="Demo classifier on f1/f2.")
client.set_registered_model_tag("demo-model", "task", "classification")
client.set_model_version_tag("demo-model", "1", "validation", "passed")
client.set_model_version_tag("demo-model", "2", "data_version", "v2")
client.set_model_version_tag("demo-model", "2", "note", MULTILINE)
client.update_model_version("demo-model", "2", description="Champion candidate")
client.set_registered_model_alias("demo-model", "champion", "2")
client.transition_model_version_stage("demo-model", "1", "Staging")
client.delete_model_version("demo-model", "3")

# Experiment "other": one run with a model -> other-model v1.
ids["other-run"], o_start = make_run(
    other, "other-run", 4, {"C": "0.5"}, {"stage": "dev"}, {"loss": [(0.55, 0)]}
)
log_model(ids["other-run"], 0.5)
finish(ids["other-run"], o_start)
mlflow.register_model(f"runs:/{ids['other-run']}/model", "other-model")

print(json.dumps({"experiments": {"demo-exp": demo, "to-delete": to_delete, "other": other}, "runs": ids}))
'''

READ_BACK = r"""
import importlib.metadata as md
import platform

from mlflow.exceptions import MlflowException
from mlflow.store.model_registry.file_store import FileStore as RegistryFileStore


def enc(v):
    if v is None:
        return None
    v = float(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def dist_version(name):
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return None


out = {
    "mlflow_version": mlflow.__version__,
    "environment": {
        "python": platform.python_version(),
        **{p: dist_version(p) for p in ("mlflow-skinny", "scikit-learn", "pandas", "numpy", "cloudpickle", "skops")},
    },
    "frame": ARGS["frame"],
}

# -- experiments ----------------------------------------------------------------------------
exps = client.search_experiments(view_type=ViewType.ALL, max_results=1000)
out["experiments"] = [
    {
        "experiment_id": e.experiment_id,
        "name": e.name,
        "lifecycle_stage": e.lifecycle_stage,
        "artifact_location": e.artifact_location,
        "tags": dict(e.tags),
        "creation_time": e.creation_time,
        "last_update_time": e.last_update_time,
    }
    for e in exps
]
out["search_experiments"] = {
    "ACTIVE_ONLY": [e.experiment_id for e in client.search_experiments()],
    "DELETED_ONLY": [e.experiment_id for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)],
    "ALL": [e.experiment_id for e in exps],
}
exp_ids = {e.name: e.experiment_id for e in exps}
demo = exp_ids["demo-exp"]

# -- runs -----------------------------------------------------------------------------------
runs = {}
histories = {}
run_ids_by_name = {}
for e in exps:
    for r in client.search_runs([e.experiment_id], run_view_type=ViewType.ALL, max_results=1000):
        run = client.get_run(r.info.run_id)
        info = run.info
        run_ids_by_name[info.run_name] = info.run_id
        entry = {
            "info": {
                "run_id": info.run_id,
                "run_name": info.run_name,
                "experiment_id": info.experiment_id,
                "user_id": info.user_id,
                "status": info.status,
                "start_time": info.start_time,
                "end_time": info.end_time,
                "lifecycle_stage": info.lifecycle_stage,
                "artifact_uri": info.artifact_uri,
            },
            "params": dict(run.data.params),
            "tags": dict(run.data.tags),
            "metrics": {k: enc(v) for k, v in run.data.metrics.items()},
            "dataset_inputs": [
                {
                    "name": d.dataset.name,
                    "digest": d.dataset.digest,
                    "source_type": d.dataset.source_type,
                    "source": d.dataset.source,
                    "schema": d.dataset.schema,
                    "profile": d.dataset.profile,
                    "tags": {t.key: t.value for t in d.tags},
                }
                for d in (run.inputs.dataset_inputs if run.inputs else [])
            ],
        }
        if MAJOR >= 3:
            entry["model_inputs"] = [m.model_id for m in (run.inputs.model_inputs or [])] if run.inputs else []
            entry["model_outputs"] = (
                [{"model_id": m.model_id, "step": m.step} for m in (run.outputs.model_outputs or [])]
                if run.outputs
                else []
            )
        artifacts = []
        stack = [None]
        while stack:
            path = stack.pop()
            for f in client.list_artifacts(info.run_id, path):
                artifacts.append({"path": f.path, "is_dir": f.is_dir, "file_size": f.file_size})
                if f.is_dir:
                    stack.append(f.path)
        entry["artifacts"] = sorted(artifacts, key=lambda a: a["path"])
        runs[info.run_id] = entry
        histories[info.run_id] = {
            key: [[m.timestamp, enc(m.value), m.step] for m in client.get_metric_history(info.run_id, key)]
            for key in sorted(run.data.metrics)
        }
out["runs"] = runs
out["run_ids_by_name"] = run_ids_by_name
out["metric_history"] = histories

# -- search_runs ------------------------------------------------------------------------------
VIEW = {"ACTIVE_ONLY": ViewType.ACTIVE_ONLY, "DELETED_ONLY": ViewType.DELETED_ONLY, "ALL": ViewType.ALL}
queries = [
    {"filter": ""},
    {"filter": "metrics.loss < 0.5"},
    {"filter": "params.C = '0.5'"},
    {"filter": "tags.stage LIKE 'dev%'"},
    {"filter": "attributes.status = 'FAILED'"},
    {"filter": "params.`nested/key` = 'a'"},
    {"filter": "metrics.`train/acc` >= 0.75"},
    {"filter": "tags.greeting = 'héllo ✓'"},
    {"filter": "attributes.run_name = 'beta'"},
    {"filter": "metrics.loss < 0.5 and params.solver = 'lbfgs'"},
    {"filter": "", "order_by": ["metrics.loss DESC"]},
    {"filter": "", "order_by": ["metrics.loss ASC"]},
    {"filter": "", "order_by": ["params.C ASC"]},
    {"filter": "", "order_by": ["attributes.start_time DESC"]},
    {"filter": "", "view": "DELETED_ONLY"},
    {"filter": "", "view": "ALL"},
    {"filter": "metrics.loss < 0.5", "view": "ALL", "order_by": ["metrics.loss ASC"]},
]
search_results = []
for q in queries:
    res = client.search_runs(
        [demo],
        filter_string=q["filter"],
        run_view_type=VIEW[q.get("view", "ACTIVE_ONLY")],
        order_by=q.get("order_by"),
        max_results=1000,
    )
    search_results.append(
        {
            "experiment_ids": [demo],
            "filter": q["filter"],
            "order_by": q.get("order_by"),
            "run_view_type": q.get("view", "ACTIVE_ONLY"),
            "max_results": 1000,
            "run_ids": [r.info.run_id for r in res],
        }
    )
out["search_runs"] = search_results
page1 = client.search_runs([demo], max_results=1)
page2 = client.search_runs([demo], max_results=1, page_token=page1.token)


def token(t):
    # The file store's page tokens are base64 bytes in 2.x and str in 3.x.
    return t.decode("ascii") if isinstance(t, bytes) else t


out["search_runs_paging"] = {
    "experiment_ids": [demo],
    "max_results": 1,
    "page1_run_ids": [r.info.run_id for r in page1],
    "page1_token": token(page1.token),
    "page1_token_type": type(page1.token).__name__,
    "page2_run_ids": [r.info.run_id for r in page2],
    "page2_token": token(page2.token),
}

# -- registry ---------------------------------------------------------------------------------
def mv_dict(mv):
    d = {
        "name": mv.name,
        "version": mv.version,
        "current_stage": mv.current_stage,
        "source": mv.source,
        "run_id": mv.run_id,
        "run_link": mv.run_link,
        "tags": dict(mv.tags),
        "aliases": list(mv.aliases),
        "status": mv.status,
        "status_message": mv.status_message,
        "description": mv.description,
        "user_id": mv.user_id,
        "creation_timestamp": mv.creation_timestamp,
        "last_updated_timestamp": mv.last_updated_timestamp,
    }
    if MAJOR >= 3:
        d["model_id"] = mv.model_id
    return d


def err(exc):
    return {"error_code": exc.error_code, "message": str(exc).splitlines()[0][:300]}


registry_store = RegistryFileStore(str(ROOT))
models = {}
for rm in client.search_registered_models(max_results=1000):
    versions = {}
    for v in range(1, 10):
        try:
            mv = client.get_model_version(rm.name, str(v))
        except MlflowException as exc:
            if not (ROOT / "models" / rm.name / f"version-{v}").exists():
                break
            versions[str(v)] = {"get_model_version": err(exc)}
            continue
        d = mv_dict(mv)
        d["storage_location"] = registry_store._fetch_file_model_version_if_exists(rm.name, str(v)).storage_location
        d["download_uri"] = client.get_model_version_download_uri(rm.name, str(v))
        versions[str(v)] = d
    latest = {}
    for stages in (None, ["None"], ["Staging"], ["Production"], ["Archived"]):
        key = "ALL" if stages is None else stages[0]
        latest[key] = [mv.version for mv in client.get_latest_versions(rm.name, stages=stages)]
    by_alias = {}
    for alias in sorted(rm.aliases):
        by_alias[alias] = client.get_model_version_by_alias(rm.name, alias).version
    models[rm.name] = {
        "name": rm.name,
        "description": rm.description,
        "tags": dict(rm.tags),
        "aliases": dict(rm.aliases),
        "latest_versions": sorted(
            ({"version": mv.version, "current_stage": mv.current_stage} for mv in rm.latest_versions),
            key=lambda x: int(x["version"]),
        ),
        "creation_timestamp": rm.creation_timestamp,
        "last_updated_timestamp": rm.last_updated_timestamp,
        "versions": versions,
        "get_latest_versions": latest,
        "get_model_version_by_alias": by_alias,
    }
out["registered_models"] = models
out["search_registered_models"] = [rm.name for rm in client.search_registered_models()]
out["search_model_versions"] = {
    "name='demo-model'": [
        {"version": mv.version, "current_stage": mv.current_stage}
        for mv in client.search_model_versions("name='demo-model'")
    ],
}
try:
    client.get_model_version_download_uri("demo-model", "3")
    deleted_download = {"unexpected": "no error"}
except MlflowException as exc:
    deleted_download = err(exc)
out["deleted_version_download_uri"] = deleted_download

if MAJOR >= 3:
    logged = client.search_logged_models(experiment_ids=[exp_ids["demo-exp"], exp_ids["other"]], max_results=100)
    out["logged_models"] = sorted(
        (
            {
                "model_id": m.model_id,
                "name": m.name,
                "experiment_id": m.experiment_id,
                "source_run_id": m.source_run_id,
                "status": str(m.status),
                "artifact_location": m.artifact_location,
                "tags": dict(m.tags),
                "params": dict(m.params),
            }
            for m in logged
        ),
        key=lambda m: m["model_id"],
    )

# -- predictions ------------------------------------------------------------------------------
df = frame()
pred = {}
for uri in ("models:/demo-model@champion",):
    model = mlflow.pyfunc.load_model(uri)
    pred[uri] = [int(x) for x in np.asarray(model.predict(df)).ravel()]
out["predictions"] = pred

print(json.dumps(out, ensure_ascii=False, allow_nan=False, sort_keys=True))
"""


def _code(body: str, args: dict[str, Any]) -> str:
    return (
        f"ARGS = {json.dumps(args)!r}\nimport json as _j\nARGS = _j.loads(ARGS)\n{COMMON}\n{body}"
    )


def generate(version: str, gen_base: Path, out_base: Path, *, keep: bool = False) -> Path:
    gen = gen_base / f"mlflow-{version}"
    if gen.exists():
        shutil.rmtree(gen)
    work = gen / "work"
    work.mkdir(parents=True)
    root = gen / "mlruns"
    args = {"root": str(root), "t0": T0, "frame": FRAME, "labels": LABELS}

    t = time.monotonic()
    created = run_mlflow(version, _code(GENERATE, args), cwd=work, timeout=1800)
    print(f"[{version}] generated in {time.monotonic() - t:.1f}s: {created}", flush=True)
    t = time.monotonic()
    expected = run_mlflow(version, _code(READ_BACK, args), cwd=work, timeout=1800)
    print(f"[{version}] read back in {time.monotonic() - t:.1f}s", flush=True)
    expected = {
        "generated_at_root": str(root),
        "generated_at_root_uri": root.as_uri(),
        "created": created,
        **expected,
    }

    dst = out_base / f"mlflow-{version}"
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    shutil.copytree(root, dst / "mlruns", symlinks=False)
    empties = empty_dirs(dst / "mlruns")
    (dst / EMPTY_DIRS_FILE).write_text("".join(f"{p}\n" for p in empties), encoding="utf-8")
    (dst / "expected.json").write_text(
        json.dumps(expected, indent=2, ensure_ascii=False, sort_keys=True, allow_nan=False) + "\n",
        encoding="utf-8",
    )
    print(f"[{version}] wrote {dst} ({len(empties)} empty dirs)", flush=True)
    if not keep:
        # The recorded absolute paths must not resolve on this machine either, or relocation
        # tests could pass by reading the original tree.
        shutil.rmtree(gen)
    return dst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--version",
        action="append",
        choices=MLFLOW_VERSIONS,
        help="MLflow version(s) to regenerate (default: all)",
    )
    parser.add_argument(
        "--gen-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "fsregistry-fixture-gen",
        help="scratch directory MLflow writes into (its absolute path ends up in the tree)",
    )
    parser.add_argument("--out", type=Path, default=FIXTURE_ROOT, help="output directory")
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch tree (default: delete it)"
    )
    args = parser.parse_args(argv)
    gen_dir = args.gen_dir.resolve()
    if gen_dir == args.out.resolve() or gen_dir in args.out.resolve().parents:
        parser.error("--gen-dir must not contain the output directory")
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ.pop("MLFLOW_REGISTRY_URI", None)
    for version in args.version or MLFLOW_VERSIONS:
        generate(version, gen_dir, args.out, keep=args.keep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
