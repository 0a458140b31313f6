"""Differential tests: the same models and data through ``fsregistry.evaluate`` and real MLflow
3.17.2's ``mlflow.models.evaluate`` (its own venv, with matplotlib and shap) give the same metric names
and values (1e-6), the same artifact names, and a validation that fails in one fails in the
other naming the same thresholds.

Models are saved once by fsregistry (cloudpickle sklearn flavor, which MLflow loads); data is
a CSV both sides read. Custom metrics and artifacts are the same source code run on each side.
The run input recording the data (name, digest, schema, profile, context tag) is compared too.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from pathlib import Path
from typing import Any

import pytest

from fsreg_testing.mlflow_env import run_mlflow

pytestmark = pytest.mark.mlflow

MLFLOW = "3.17.2"
EXTRAS = ["matplotlib", "shap"]
#: Cases that also compare SHAP explainability (its three plots); the others switch it off to
#: keep the test time down.
SHAP_CASES = ("binary", "multiclass", "regressor")

#: Code both sides run: custom metric and artifact definitions (``mlflow`` is bound to each
#: side's library).
CUSTOM = """
import numpy as np
def squared_diff_plus_one(predictions, targets, metrics):
    scores = ((np.asarray(predictions) - np.asarray(targets)) ** 2 + 1).tolist()
    return MetricValue(scores=[float(s) for s in scores])
def ratio(predictions, targets, metrics):
    return float(np.mean(np.asarray(predictions) == np.asarray(targets)) * 2)
def artifact_fn(eval_df, metrics, artifacts_dir):
    return {"preview": eval_df.head(3), "meta": {"rows": int(len(eval_df))}}
EXTRA = [
    mlflow.models.make_metric(eval_fn=squared_diff_plus_one, greater_is_better=False),
    mlflow.models.make_metric(eval_fn=ratio, greater_is_better=True, name="twice_accuracy"),
]
"""

SCRIPT = """
import json, os, sys, warnings
warnings.simplefilter("ignore")
import pandas as pd
import {lib} as mlflow
import {lib}.metrics
{metric_value_import}
mlflow.set_tracking_uri("file:" + os.path.abspath({store!r}))
spec = json.loads({spec!r})
df = pd.read_csv(spec["data"])
kwargs = dict(model_type=spec["model_type"], evaluator_config=spec.get("config") or {{}})
if spec.get("custom"):
    exec(spec["custom_code"], globals())
    kwargs["extra_metrics"] = EXTRA
    kwargs["custom_artifacts"] = [artifact_fn]
if spec.get("builtin_extra"):
    kwargs["extra_metrics"] = kwargs.get("extra_metrics", []) + [
        getattr(mlflow.metrics, n)() for n in spec["builtin_extra"]]
if spec.get("weights"):
    kwargs["evaluator_config"]["sample_weights"] = df.pop("w").to_numpy()
if spec.get("predictions"):
    model = None
    kwargs["predictions"] = spec["predictions"]
else:
    model = spec["model"]
with mlflow.start_run():
    result = mlflow.models.evaluate(model, df, targets=spec["targets"], **kwargs)
failures = []
if spec.get("thresholds"):
    th = {{k: mlflow.models.MetricThreshold(**v) for k, v in spec["thresholds"].items()}}
    try:
        mlflow.validate_evaluation_results(th, result)
    except Exception as exc:
        failures = [type(exc).__name__, str(exc)]
ds = mlflow.get_run(result.run_id).inputs.dataset_inputs[0]
dataset = {{"name": ds.dataset.name, "digest": ds.dataset.digest,
            "source_type": ds.dataset.source_type, "schema": json.loads(ds.dataset.schema),
            "profile": json.loads(ds.dataset.profile),
            "tags": sorted((t.key, t.value) for t in ds.tags)}}
tag = mlflow.get_run(result.run_id).data.tags.get("mlflow.datasets")
out = {{"metrics": {{k: float(v) for k, v in result.metrics.items()}},
        "artifacts": sorted(result.artifacts), "failures": failures, "dataset": dataset,
        "datasets_tag": json.loads(tag) if tag else None}}
print(json.dumps(out))
"""


def _run_fsregistry(tmp_path: Path, spec: dict[str, Any]) -> dict[str, Any]:
    import subprocess
    import sys

    code = SCRIPT.format(
        lib="fsregistry",
        metric_value_import="from fsregistry.models.evaluation import MetricValue",
        store=str(tmp_path / "fs"),
        spec=json.dumps(spec),
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _run_mlflow(tmp_path: Path, spec: dict[str, Any]) -> dict[str, Any]:
    code = SCRIPT.format(
        lib="mlflow",
        metric_value_import="from mlflow.metrics import MetricValue",
        store=str(tmp_path / "ml"),
        spec=json.dumps(spec),
    )
    return run_mlflow(MLFLOW, code, cwd=tmp_path, extras=EXTRAS)  # type: ignore[no-any-return]


def _dataset(kind: str, tmp_path: Path, weights: bool = False) -> dict[str, Any]:
    import numpy as np
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
    from sklearn.linear_model import LinearRegression, LogisticRegression

    import fsregistry

    loader = {"binary": load_breast_cancer, "multiclass": load_iris, "regressor": load_diabetes}[
        kind
    ]
    X, y = loader(return_X_y=True, as_frame=True)
    model = (LinearRegression() if kind == "regressor" else LogisticRegression(max_iter=5000)).fit(
        X, y
    )
    path = tmp_path / "model"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fsregistry.sklearn.save_model(model, str(path))
    frame = X.assign(label=y)
    frame["pred"] = model.predict(X)
    if weights:
        frame["w"] = np.random.default_rng(0).uniform(0.5, 2.0, len(frame))
    data = tmp_path / "data.csv"
    frame.drop(columns=["pred"]).to_csv(data, index=False)
    frame.drop(columns=["w"], errors="ignore").to_csv(tmp_path / "with_pred.csv", index=False)
    return {
        "data": str(data),
        "model": str(path),
        "targets": "label",
        "model_type": "regressor" if kind == "regressor" else "classifier",
    }


CASES = {
    "binary": ("binary", {}),
    "binary_pos0_weights": ("binary", {"config": {"pos_label": 0}, "weights": True}),
    "multiclass": ("multiclass", {}),
    "multiclass_macro_prefix": (
        "multiclass",
        {"config": {"average": "macro", "metric_prefix": "val_"}},
    ),
    "regressor": ("regressor", {}),
    "regressor_weights_custom": ("regressor", {"weights": True, "custom": True}),
    "binary_custom": ("binary", {"custom": True}),
    "static_predictions": (
        "multiclass",
        {"predictions": "pred", "builtin_extra": ["mae", "mse", "rmse", "r2_score", "max_error"]},
    ),
    "binary_metrics_module": (
        "binary",
        {
            "config": {"average": "macro"},
            "builtin_extra": ["f1_score", "precision_score", "recall_score", "mape"],
        },
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_same_metrics_and_artifacts_as_mlflow(tmp_path: Path, case: str) -> None:
    kind, extra = CASES[case]
    spec = _dataset(kind, tmp_path, weights=bool(extra.get("weights")))
    spec.update(extra)
    spec["config"] = dict(extra.get("config") or {})
    if case not in SHAP_CASES:
        spec["config"]["log_model_explainability"] = False
    spec["custom_code"] = CUSTOM
    if extra.get("predictions"):
        spec["data"] = str(tmp_path / "with_pred.csv")
    ours = _run_fsregistry(tmp_path, spec)
    theirs = _run_mlflow(tmp_path, spec)
    assert sorted(ours["metrics"]) == sorted(theirs["metrics"])
    for name, value in theirs["metrics"].items():
        assert ours["metrics"][name] == pytest.approx(value, rel=1e-6, abs=1e-6), name
    assert ours["artifacts"] == theirs["artifacts"]
    shap_plots = {"shap_beeswarm_plot", "shap_summary_plot", "shap_feature_importance_plot"}
    assert (case in SHAP_CASES) == shap_plots.issubset(theirs["artifacts"])
    # The evaluation data is logged as the same run input (mlflow.data.from_pandas's record).
    assert ours["dataset"] == theirs["dataset"]
    # ...and the same `mlflow.datasets` tag (MLflow's dataset hash, the model's model_uuid);
    # none for static predictions, which evaluate no model.
    assert ours["datasets_tag"] == theirs["datasets_tag"]
    assert (theirs["datasets_tag"] is None) == bool(extra.get("predictions"))


def _failed_names(message: str) -> list[str]:
    return sorted(set(re.findall(r"Metric (?:validation failed: metric )?(\w+)", message)))


@pytest.mark.parametrize(
    "thresholds",
    [
        {
            "accuracy_score": {"threshold": 0.99, "greater_is_better": True},
            "log_loss": {"threshold": 0.01, "greater_is_better": False},
            "f1_score": {"threshold": 0.5, "greater_is_better": True},
            "no_such_metric": {"threshold": 1.0, "greater_is_better": True},
        },
        {"roc_auc": {"threshold": 0.5, "greater_is_better": True}},
    ],
    ids=["three_fail", "passes"],
)
def test_validation_fails_alike(tmp_path: Path, thresholds: dict[str, Any]) -> None:
    spec = _dataset("binary", tmp_path)
    spec["thresholds"] = thresholds
    ours = _run_fsregistry(tmp_path, spec)
    theirs = _run_mlflow(tmp_path, spec)
    assert bool(ours["failures"]) == bool(theirs["failures"])
    if theirs["failures"]:
        assert ours["failures"][0] == theirs["failures"][0] == "ModelValidationFailedException"
        assert _failed_names(ours["failures"][1]) == _failed_names(theirs["failures"][1])
        assert len(ours["failures"][1].splitlines()) == len(theirs["failures"][1].splitlines())


@pytest.mark.slow
def test_bench_evaluate_smoke(tmp_path: Path) -> None:
    """``bench/evaluate.py`` at a tiny size, so it cannot rot: it runs both tools and checks
    their metrics agree (exit 0) before printing its line. No timing asserts."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(root / "bench" / "evaluate.py"), "--rows", "3000", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "evaluate (classifier, 3,000 rows" in proc.stdout
    results = json.loads(out.read_text())
    assert sorted(results["fsregistry"]["metrics"]) == sorted(results["mlflow"]["metrics"])


def test_mlflow_loads_saved_results(tmp_path: Path) -> None:
    """``EvaluationResult.save`` writes MLflow's layout and class names: MLflow's ``load`` reads
    it, metrics and artifact contents included."""
    import pandas as pd

    import fsregistry

    spec = _dataset("multiclass", tmp_path)
    fsregistry.set_tracking_uri(str(tmp_path / "fs"))
    result = fsregistry.evaluate(
        spec["model"], pd.read_csv(spec["data"]), targets="label", model_type="classifier"
    )
    result.save(str(tmp_path / "saved"))
    code = f"""
import json
from mlflow.models.evaluation import EvaluationResult
r = EvaluationResult.load({str(tmp_path / "saved")!r})
print(json.dumps({{"metrics": r.metrics, "artifacts": sorted(r.artifacts),
                  "per_class_rows": len(r.artifacts["per_class_metrics"].content),
                  "image": list(r.artifacts["confusion_matrix"].content.size)}}))
"""
    got = run_mlflow(MLFLOW, code, cwd=tmp_path, extras=EXTRAS)
    assert got["metrics"] == pytest.approx(result.metrics)
    assert got["artifacts"] == sorted(result.artifacts)
    assert got["per_class_rows"] == 3
    assert got["image"] == list(result.artifacts["confusion_matrix"].content.size)


LINKED = r"""
import json, warnings
warnings.simplefilter("ignore")
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

def go(mlflow, uri):
    mlflow.set_tracking_uri(uri)
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=500).fit(X, y)
    with mlflow.start_run() as run:
        info = mlflow.sklearn.log_model(model, name="clf")
        result = mlflow.models.evaluate(
            info.model_uri, X.assign(label=y), targets="label", model_type="classifier"
        )
    return run.info.run_id, info.model_id, sorted(result.metrics)

def read(client, run_id, model_id):
    lm = client.get_logged_model(model_id)
    (ds,) = client.get_run(run_id).inputs.dataset_inputs
    return {
        "metrics": sorted(
            [m.key, m.step, m.dataset_name, m.dataset_digest, m.run_id == run_id]
            for m in lm.metrics
        ),
        "dataset": [ds.dataset.name, ds.dataset.digest],
        "model_inputs": [i.model_id == model_id for i in client.get_run(run_id).inputs.model_inputs],
    }
"""


def test_evaluate_links_metrics_to_the_logged_model_as_mlflow(tmp_path: Path) -> None:
    """``evaluate("models:/<model_id>")`` in a run: MLflow 3 logs the metrics to the LoggedModel
    too (naming the dataset and the run) and records the model as an input of the run; MLflow
    reads fsregistry's tree with the same answers as its own."""
    import fsregistry

    (tmp_path / "mlflow").mkdir()
    (tmp_path / "fs").mkdir()
    theirs = run_mlflow(
        MLFLOW,
        LINKED + "import mlflow, mlflow.models, mlflow.sklearn\n"
        "rid, mid, keys = go(mlflow, 'file:./mlruns')\n"
        "print(json.dumps([keys, read(mlflow.MlflowClient(), rid, mid)]))\n",
        cwd=tmp_path / "mlflow",
        extras=EXTRAS,
    )
    fsregistry.fluent._active_experiment_id = None  # the default experiment of this store
    scope: dict[str, Any] = {}
    exec(LINKED, scope)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_id, model_id, keys = scope["go"](fsregistry, str(tmp_path / "fs" / "mlruns"))
    read = run_mlflow(
        MLFLOW,
        LINKED + "import mlflow\nmlflow.set_tracking_uri('file:./mlruns')\n"
        f"print(json.dumps(read(mlflow.MlflowClient(), {run_id!r}, {model_id!r})))\n",
        cwd=tmp_path / "fs",
    )
    assert keys == theirs[0]
    assert read == theirs[1]
    assert read["model_inputs"] == [True] and len(read["metrics"]) == len(keys)


HASH_CASES = """
import numpy as np, pandas as pd
rng = np.random.default_rng(7)
frames = {
    "small": (pd.DataFrame({"a": [1.0, 2.5, 3.0], "s": ["x", "y", "z"], "y": [0, 1, 0]}), "y"),
    "large": (pd.DataFrame({"a": rng.normal(size=57), "b": np.arange(57), "y": np.arange(57) % 3}), "y"),
    "list_cells": (pd.DataFrame({"a": [[1, 2], [3], [4, 5]], "y": [1, 0, 1]}), "y"),
    "no_targets": (pd.DataFrame({"a": np.arange(12.0)}), None),
}
arrays = {
    "array": (rng.normal(size=(23, 3)), np.arange(23) % 2),
    "array_small": (np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([1, 0])),
}
"""

MLFLOW_HASHES = (
    "import json, warnings\nwarnings.simplefilter('ignore')\n"
    + HASH_CASES
    + """
from mlflow.data.evaluation_dataset import EvaluationDataset
out = {k: EvaluationDataset(df, targets=t).hash for k, (df, t) in frames.items()}
out.update({k: EvaluationDataset(x, targets=y).hash for k, (x, y) in arrays.items()})
print(json.dumps(out))
"""
)


def test_dataset_hash_is_mlflows(tmp_path: Path) -> None:
    """The `mlflow.datasets` tag's hash equals MLflow's EvaluationDataset.hash on frames of
    both sizes (all rows / first and last rows), string and list cells, and arrays."""
    from fsregistry.models.evaluation.dataset import to_eval_data
    from fsregistry.models.evaluation.dataset_tag import evaluation_hash

    scope: dict[str, Any] = {}
    exec(HASH_CASES, scope)
    ours = {
        k: evaluation_hash(
            to_eval_data(df, targets=t, predictions=None, feature_names=None, path=None)
        )
        for k, (df, t) in scope["frames"].items()
    }
    ours.update(
        {
            k: evaluation_hash(
                to_eval_data(x, targets=y, predictions=None, feature_names=None, path=None)
            )
            for k, (x, y) in scope["arrays"].items()
        }
    )
    theirs = run_mlflow(MLFLOW, MLFLOW_HASHES, cwd=tmp_path, extras=EXTRAS)
    assert ours == theirs
    assert len(set(ours.values())) == len(ours)
