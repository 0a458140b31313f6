"""``fsregistry.evaluate`` on a Spark DataFrame: it is collected up to
``SPARK_DATAFRAME_LIMIT`` rows (MLflow's 10,000), with a warning naming the limit when there are
more, and gives the same metrics as the same rows in pandas."""

# ruff: noqa: F811
from __future__ import annotations

import logging
from typing import Any

import pandas as pd
import pytest

import fsregistry
from fsreg_testing.models import local_tracking  # noqa: F401 - fixture
from fsregistry.models.evaluation import dataset as eval_dataset


def test_spark_dataframe_is_collected_up_to_the_limit(
    local_tracking: str,
    spark: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    frame = pd.DataFrame(
        {"x": [float(i) for i in range(30)], "y": [float(i % 7) for i in range(30)]}
    )
    sdf = spark.createDataFrame(frame).coalesce(1)

    def model(df: pd.DataFrame) -> Any:
        return df["x"] / 5.0

    whole = fsregistry.evaluate(model, sdf, targets="y", model_type="regressor")
    expected = fsregistry.evaluate(model, frame, targets="y", model_type="regressor")
    assert whole.metrics == pytest.approx(expected.metrics)

    monkeypatch.setattr(eval_dataset, "SPARK_DATAFRAME_LIMIT", 12)
    with caplog.at_level(logging.WARNING):
        limited = fsregistry.evaluate(model, sdf, targets="y", model_type="regressor")
    assert limited.metrics["example_count"] == 12
    assert "Only the first 12 rows will be used" in caplog.text
    head = fsregistry.evaluate(model, frame.head(12), targets="y", model_type="regressor")
    assert limited.metrics == pytest.approx(head.metrics)
