"""``fsregistry.evaluate`` on its own: logging to every backend, all-or-nothing, optional
matplotlib, validation (MLflow 3's function and MLflow 2's deprecated arguments), results
save/load, numpy data and plain callables, plugins, and the ``fsreg evaluate --gate`` exit code.
(Metric values and artifact names against real MLflow: tests/test_evaluate_mlflow.py.)
"""

# ruff: noqa: F811
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import fsregistry
from fsreg_testing.models import tracking  # noqa: F401 - fixture
from fsregistry.exceptions import (
    InvalidParameterValue,
    MlflowException,
    ModelValidationFailedException,
)
from fsregistry.models import MetricThreshold, make_metric
from fsregistry.models.evaluation import EvaluationResult, MetricValue, list_evaluators

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def binary() -> tuple[pd.DataFrame, Any]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=5000).fit(X, y)
    return X.assign(label=y), model


def _saved(model: Any, tmp_path: Path) -> str:
    path = str(tmp_path / "model")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fsregistry.sklearn.save_model(model, path)
    return path


def test_results_logged_to_the_store(tracking: str, binary: Any, tmp_path: Path) -> None:
    frame, model = binary
    uri = _saved(model, tmp_path)
    with fsregistry.start_run() as run:
        result = fsregistry.evaluate(
            uri,
            frame,
            targets="label",
            model_type="classifier",
            evaluator_config={"metric_prefix": "val_"},
        )
    assert result.run_id == run.info.run_id
    logged = fsregistry.get_run(run.info.run_id)
    assert logged.data.metrics == pytest.approx(result.metrics)
    assert "val_accuracy_score" in logged.data.metrics
    names = {f.path for f in fsregistry.Client().list_artifacts(run.info.run_id)}
    assert "val_confusion_matrix.png" in names and "val_roc_curve_plot.png" in names
    (ds,) = logged.inputs.dataset_inputs
    assert ds.dataset.name == "dataset" and len(ds.dataset.digest) == 8
    assert [(t.key, t.value) for t in ds.tags] == [("mlflow.data.context", "val_")]
    assert result.artifacts["confusion_matrix"].content.size[0] > 0


def test_a_new_run_is_started_and_ended(tracking: str, binary: Any, tmp_path: Path) -> None:
    frame, model = binary
    result = fsregistry.evaluate(
        _saved(model, tmp_path), frame, targets="label", model_type="classifier"
    )
    assert fsregistry.active_run() is None
    assert fsregistry.get_run(result.run_id).info.status == "FINISHED"


def test_a_failing_metric_logs_nothing(tracking: str, binary: Any, tmp_path: Path) -> None:
    frame, model = binary

    def broken(predictions: Any, targets: Any) -> float:
        raise ZeroDivisionError("boom")

    with pytest.raises(MlflowException, match="Metric 'broken'"):
        fsregistry.evaluate(
            _saved(model, tmp_path),
            frame,
            targets="label",
            model_type="classifier",
            extra_metrics=[make_metric(eval_fn=broken, greater_is_better=True)],
        )
    assert fsregistry.search_runs(output_format="list", search_all_experiments=True) == []


def test_genai_model_types_are_out_of_scope(tracking: str, binary: Any) -> None:
    frame, _ = binary
    with pytest.raises(InvalidParameterValue, match="GenAI model type, which is out of scope"):
        fsregistry.evaluate(
            lambda df: df.iloc[:, 0], frame, targets="label", model_type="question-answering"
        )


def test_without_matplotlib_metrics_and_a_note(
    tracking: str,
    binary: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from fsregistry.models.evaluation import plots

    frame, model = binary
    uri = _saved(model, tmp_path)
    full = fsregistry.evaluate(uri, frame, targets="label", model_type="classifier")
    monkeypatch.setattr(plots, "available", lambda: False)
    with caplog.at_level(logging.WARNING):
        bare = fsregistry.evaluate(uri, frame, targets="label", model_type="classifier")
    assert bare.metrics == full.metrics
    assert bare.artifacts == {}
    assert "confusion_matrix image: matplotlib is not installed" in caplog.text
    assert "roc_curve_plot" in caplog.text


def test_numpy_data_and_a_plain_callable(tracking: str) -> None:
    X = np.arange(40, dtype="float64").reshape(20, 2)
    y = X[:, 0] * 2.0 + 1.0
    result = fsregistry.evaluate(
        lambda df: df["feature_1"] * 2.0, X, targets=y, model_type="regressor"
    )
    assert result.metrics["mean_absolute_error"] == pytest.approx(1.0)
    assert result.metrics["example_count"] == 20
    assert result.metrics["max_error"] == pytest.approx(1.0)


def test_static_predictions_and_per_row_scores(tracking: str) -> None:
    frame = pd.DataFrame({"x": [1, 2, 3, 4], "y": [1.0, 2.0, 3.0, 5.0], "p": [1.0, 2.0, 3.0, 4.0]})

    def sq(predictions: Any, targets: Any) -> MetricValue:
        return MetricValue(scores=((predictions - targets) ** 2).tolist())

    result = fsregistry.evaluate(
        None,
        frame,
        targets="y",
        predictions="p",
        model_type="regressor",
        extra_metrics=[make_metric(eval_fn=sq, greater_is_better=False)],
    )
    assert result.metrics["sq/mean"] == pytest.approx(0.25)
    table = result.tables["eval_results_table"]
    assert list(table["sq/score"]) == [0.0, 0.0, 0.0, 1.0]


def test_deprecated_baseline_and_thresholds(tracking: str, binary: Any, tmp_path: Path) -> None:
    frame, model = binary
    uri = _saved(model, tmp_path)
    thresholds = {
        "accuracy_score": MetricThreshold(
            threshold=0.99, min_absolute_change=0.01, greater_is_better=True
        ),
        "log_loss": MetricThreshold(min_relative_change=0.5, greater_is_better=False),
        "f1_score": MetricThreshold(threshold=0.1, greater_is_better=True),
    }
    with pytest.warns(FutureWarning), pytest.raises(ModelValidationFailedException) as err:
        fsregistry.evaluate(
            uri,
            frame,
            targets="label",
            model_type="classifier",
            validation_thresholds=thresholds,
            baseline_model=uri,
        )
    lines = str(err.value).splitlines()
    assert len(lines) == 2
    assert "accuracy_score value threshold check failed" in lines[0]
    assert "accuracy_score minimum absolute change check failed" in lines[0]
    assert "log_loss minimum relative change check failed" in lines[1]
    assert err.value.error_code == "BAD_REQUEST"


def test_validate_evaluation_results(tracking: str) -> None:
    cand = EvaluationResult({"acc": 0.9, "loss": 0.2}, {}, run_id="r")
    base = EvaluationResult({"acc": 0.85, "loss": 0.25}, {}, run_id="r")
    ok = {
        "acc": MetricThreshold(min_absolute_change=0.04, greater_is_better=True),
        "loss": MetricThreshold(min_relative_change=0.1, greater_is_better=False),
    }
    fsregistry.validate_evaluation_results(ok, cand, base)
    bad = {
        "acc": MetricThreshold(min_absolute_change=0.06, greater_is_better=True),
        "gone": MetricThreshold(threshold=1, greater_is_better=True),
    }
    with pytest.raises(ModelValidationFailedException, match=r"(?s)acc minimum absolute.*gone"):
        fsregistry.validate_evaluation_results(bad, cand, base)
    with pytest.raises(InvalidParameterValue, match="must be a dictionary"):
        fsregistry.validate_evaluation_results({"acc": 0.5}, cand)  # type: ignore[dict-item]
    with pytest.raises(InvalidParameterValue, match="min_relative_change"):
        MetricThreshold(min_relative_change=2.0, greater_is_better=True)


def test_result_save_and_load(tracking: str, binary: Any, tmp_path: Path) -> None:
    frame, model = binary
    result = fsregistry.evaluate(
        _saved(model, tmp_path), frame, targets="label", model_type="classifier"
    )
    result.save(str(tmp_path / "saved"))
    meta = json.loads((tmp_path / "saved" / "artifacts_metadata.json").read_text())
    assert meta["confusion_matrix"]["class_name"] == (
        "mlflow.models.evaluation.artifacts.ImageEvaluationArtifact"
    )
    loaded = EvaluationResult.load(str(tmp_path / "saved"))
    assert loaded.metrics == pytest.approx(result.metrics)
    assert sorted(loaded.artifacts) == sorted(result.artifacts)
    assert loaded.artifacts["roc_curve_plot"].content.size == (
        result.artifacts["roc_curve_plot"].content.size
    )


def test_plugin_evaluator(tracking: str, binary: Any) -> None:
    from fsregistry.models.evaluation import ModelEvaluator, registry

    class Counting(ModelEvaluator):
        @classmethod
        def can_evaluate(cls, *, model_type: Any, evaluator_config: Any, **kw: Any) -> bool:
            return True

        def evaluate(self, *, dataset: Any, run_id: str, **kw: Any) -> EvaluationResult:
            fsregistry.Client().log_metric(run_id, "rows", len(dataset.features_data))
            return EvaluationResult({"rows": len(dataset.features_data)}, {}, run_id)

    registry.register("counting", Counting)
    try:
        assert list_evaluators()[:4] == ["default", "classifier", "regressor", "shap"]
        assert "counting" in list_evaluators()
        frame, _ = binary
        result = fsregistry.evaluate(
            lambda df: df.iloc[:, 0] > 10,
            frame,
            targets="label",
            model_type="classifier",
            evaluators=["counting"],
        )
        assert result.metrics == {"rows": len(frame)}
        assert fsregistry.get_run(result.run_id).data.metrics == {"rows": len(frame)}
    finally:
        registry._registry.pop("counting")


def _fsreg(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", "from fsregistry.cli.app import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def test_cli_gate_exit_status(binary: Any, tmp_path: Path) -> None:
    frame, model = binary
    uri = _saved(model, tmp_path)
    frame.to_csv(tmp_path / "data.csv", index=False)
    (tmp_path / "pass.json").write_text(
        json.dumps({"accuracy_score": {"threshold": 0.5, "greater_is_better": True}})
    )
    (tmp_path / "fail.json").write_text(
        json.dumps(
            {
                "accuracy_score": {"threshold": 0.999, "greater_is_better": True},
                "log_loss": {"threshold": 0.001, "greater_is_better": False},
            }
        )
    )
    common = [
        uri,
        "--data",
        "data.csv",
        "--targets",
        "label",
        "--model-type",
        "classifier",
        "-t",
        str(tmp_path / "mlruns"),
    ]
    ok = _fsreg("evaluate", *common, "--gate", "pass.json", "--json", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["failures"] == []
    bad = _fsreg("evaluate", *common, "--gate", "fail.json", cwd=tmp_path)
    assert bad.returncode == 2, bad.stderr
    assert "accuracy_score value threshold check failed" in bad.stderr
    assert "log_loss value threshold check failed" in bad.stderr
    assert "gate: FAILED" in bad.stdout


def test_a_million_rows_in_bounded_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Evaluating 1,000,000 rows allocates less than one more copy of the data (no per-row
    Python objects, no defensive copies of the features)."""
    import tracemalloc

    from fsregistry.models.evaluation import plots

    rng = np.random.default_rng(0)
    X = rng.normal(size=(1_000_000, 8))
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(8)])
    frame["label"] = (X[:, 0] + 0.5 * rng.normal(size=len(X)) > 0).astype("int64")
    del X
    size = int(frame.memory_usage().sum())
    fsregistry.set_tracking_uri(str(tmp_path / "mlruns"))
    monkeypatch.setattr(plots, "available", lambda: False)
    tracemalloc.start()
    try:
        result = fsregistry.evaluate(
            lambda df: (df["f0"] > 0).astype("int64"),
            frame,
            targets="label",
            model_type="classifier",
            evaluator_config={"log_model_explainability": False},
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.metrics["example_count"] == 1_000_000
    assert peak < size, f"peak {peak / 1e6:.0f} MB for {size / 1e6:.0f} MB of data"


def test_bad_label_list_is_invalid_parameter_and_logs_nothing(
    tracking: str, binary: Any, tmp_path: Path
) -> None:
    """A label list that does not match the model's probabilities fails in scikit-learn's
    log loss: an INVALID_PARAMETER_VALUE naming the evaluator, and no run."""
    frame, model = binary
    with pytest.raises(InvalidParameterValue, match="'classifier' evaluator failed") as err:
        fsregistry.evaluate(
            _saved(model, tmp_path),
            frame,
            targets="label",
            model_type="classifier",
            evaluator_config={"label_list": [0, 1, 2]},
        )
    assert isinstance(err.value.__cause__, ValueError)
    assert fsregistry.search_runs(output_format="list", search_all_experiments=True) == []


def test_metrics_go_to_the_logged_model(tracking: str, binary: Any, tmp_path: Path) -> None:
    """MLflow 3: ``model_id=`` (or a loaded PyFuncModel's id) links the metrics to that
    LoggedModel, naming the evaluation dataset and run; a ``model_id`` that contradicts the
    model's raises INVALID_PARAMETER_VALUE before any run is started."""
    frame, model = binary
    with fsregistry.start_run(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info = fsregistry.sklearn.log_model(model, name="clf")
    client = fsregistry.Client()
    result = fsregistry.evaluate(
        _saved(model, tmp_path),
        frame,
        targets="label",
        model_type="classifier",
        model_id=info.model_id,
    )
    logged = client.get_logged_model(info.model_id)
    (ds,) = fsregistry.get_run(result.run_id).inputs.dataset_inputs
    assert sorted(m.key for m in logged.metrics) == sorted(result.metrics)
    for m in logged.metrics:
        assert m.value == pytest.approx(result.metrics[m.key])
        assert (m.run_id, m.dataset_name, m.dataset_digest) == (
            result.run_id,
            ds.dataset.name,
            ds.dataset.digest,
        )
    # the run's own history is not duplicated (MLflow 3 appends the values a second time)
    assert len(client.get_metric_history(result.run_id, "accuracy_score")) == 1
    loaded = fsregistry.pyfunc.load_model(info.model_uri)
    again = fsregistry.evaluate(loaded, frame, targets="label", model_type="classifier")
    # one value per key and dataset, the latest (MLflow's LoggedModel.metrics)
    runs = {m.run_id for m in client.get_logged_model(info.model_id).metrics}
    assert runs == {again.run_id} != {result.run_id}
    before = fsregistry.search_runs(output_format="list", search_all_experiments=True)
    with pytest.raises(InvalidParameterValue, match="contradicts the model_id"):
        fsregistry.evaluate(
            info.model_uri, frame, targets="label", model_type="classifier", model_id="m-other"
        )
    after = fsregistry.search_runs(output_format="list", search_all_experiments=True)
    assert len(after) == len(before)


def test_datasets_tag_lists_each_dataset_and_model_once(tmp_path: Path) -> None:
    """MLflow's `mlflow.datasets` run tag: one entry per (dataset, model) evaluated on the run;
    none for static predictions."""
    fsregistry.set_tracking_uri(str(tmp_path / "mlruns"))
    df = pd.DataFrame({"x": np.arange(20.0), "y": np.arange(20.0) * 2})
    other = df.assign(x=df["x"] + 1)
    saved = tmp_path / "m"
    fsregistry.pyfunc.save_model(saved, python_model=lambda d: d["x"] * 2)
    with fsregistry.start_run() as run:
        for data in (df, df, other):
            fsregistry.evaluate(str(saved), data, targets="y", model_type="regressor")
        fsregistry.evaluate(
            None, df.assign(p=df["y"]), targets="y", predictions="p", model_type="regressor"
        )
    tag = fsregistry.get_run(run.info.run_id).data.tags["mlflow.datasets"]
    entries = json.loads(tag)
    uuid = fsregistry.models.Model.load(saved).model_uuid
    assert [e["model"] for e in entries] == [uuid, uuid]
    assert [e["name"] for e in entries] == ["dataset", "dataset"]
    assert entries[0]["hash"] != entries[1]["hash"]
    assert tag == json.dumps(entries, separators=(",", ":"))
    with fsregistry.start_run() as static_run:
        fsregistry.evaluate(
            None, df.assign(p=df["y"]), targets="y", predictions="p", model_type="regressor"
        )
    assert "mlflow.datasets" not in fsregistry.get_run(static_run.info.run_id).data.tags
