"""The ``shap`` evaluator (SHAP explainability plots of ``evaluate``, MLflow 3's names and
rules); the differential comparison with MLflow's is in test_evaluate_mlflow.py."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import fsregistry
from fsregistry.exceptions import InvalidParameterValue

PLOTS = {"shap_beeswarm_plot", "shap_summary_plot", "shap_feature_importance_plot"}


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = str(tmp_path / "mlruns")
    fsregistry.set_tracking_uri(url)
    return url


@pytest.fixture
def binary(tmp_path: Path) -> tuple[pd.DataFrame, str]:
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    frame["label"] = (frame["a"] + frame["b"] > 0).astype(int)
    model = LogisticRegression().fit(frame[["a", "b", "c"]], frame["label"])
    path = tmp_path / "model"
    fsregistry.sklearn.save_model(model, path)
    return frame, str(path)


def test_plots_are_logged_with_the_prefix(store: str, binary: Any) -> None:
    import matplotlib.pyplot as plt

    frame, uri = binary
    mine = plt.figure()  # a caller's open figure survives the evaluation
    result = fsregistry.evaluate(
        uri,
        frame,
        targets="label",
        model_type="classifier",
        evaluator_config={"metric_prefix": "v_"},
    )
    assert set(result.artifacts) >= PLOTS  # keys as MLflow's: the prefix is in the file name
    files = {a.path for a in fsregistry.MlflowClient().list_artifacts(result.run_id)}
    assert {f"v_{p}.png" for p in PLOTS} <= files
    assert plt.fignum_exists(mine.number)
    plt.close(mine)


def test_switched_off_or_skipped_with_a_reason(
    store: str, binary: Any, caplog: pytest.LogCaptureFixture
) -> None:
    frame, uri = binary
    off = fsregistry.evaluate(
        uri,
        frame,
        targets="label",
        model_type="classifier",
        evaluator_config={"log_model_explainability": False},
    )
    assert not PLOTS & set(off.artifacts)
    # non-numeric labels: skipped, as MLflow does, with the reason in the log
    labelled = frame.assign(label=frame["label"].map({0: "no", 1: "yes"}))
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit(labelled[["a", "b", "c"]], labelled["label"])
    with caplog.at_level(logging.WARNING):
        got = fsregistry.evaluate(
            lambda df: model.predict(df), labelled, targets="label", model_type="classifier"
        )
    assert not PLOTS & set(got.artifacts)
    assert "requires all label values to be numeric or boolean" in caplog.text


def test_algorithms(store: str, binary: Any) -> None:
    frame, uri = binary
    with pytest.raises(InvalidParameterValue, match="Specified explainer algorithm tree is"):
        fsregistry.evaluate(
            uri,
            frame,
            targets="label",
            model_type="classifier",
            evaluator_config={"explainability_algorithm": "tree"},
        )
    kernel = fsregistry.evaluate(
        uri,
        frame,
        targets="label",
        model_type="classifier",
        evaluator_config={"explainability_algorithm": "kernel", "explainability_nsamples": 20},
    )
    assert set(kernel.artifacts) >= PLOTS
    with pytest.raises(InvalidParameterValue, match="explainability_kernel_link"):
        fsregistry.evaluate(
            uri,
            frame,
            targets="label",
            model_type="classifier",
            evaluator_config={
                "explainability_algorithm": "kernel",
                "explainability_kernel_link": "probit",
                "ignore_exceptions": False,
            },
        )
