"""``fsregistry.spark``: tiny MLlib pipelines fitted here (VectorAssembler + LinearRegression, a
lone feature transformer), saved with MLlib persistence through a DFS temporary directory,
logged to every store, loaded natively and as pyfunc (local SparkSession, pandas input), scored
by spark_udf and the scoring server, and round-tripped with real MLflow 3.17.2 (+pyspark) in
both directions (identical predictions). The tests' one local SparkSession (``spark``,
``fsreg_testing/spark_session.py``) serves the module."""

# ruff: noqa: F811

from __future__ import annotations

import json
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import fsregistry
from fsreg_testing.flavors import (
    MLFLOW_ENV,
    MLFLOW_LOADS,
    MLFLOW_VERSION,
    needs_java,
    served_predictions,
    spark_scores,
)
from fsreg_testing.mlflow_env import run_mlflow
from fsreg_testing.models import local_tracking, model_cache, tracking  # noqa: F401 - fixtures
from fsregistry import pyfunc
from fsregistry import spark as fsp
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.hashes import ModelIntegrityError

pyspark = pytest.importorskip("pyspark", reason="fsregistry[spark] is part of the test extra")

pytestmark = [
    needs_java,
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

#: The MLflow venv of this module: MLflow 3.17.2 with the same pyspark (its own cached venv).
MLFLOW_EXTRAS = ("pyarrow", f"pyspark=={pyspark.__version__}")


def data() -> tuple[pd.DataFrame, list[float]]:
    X = pd.DataFrame(
        {"f1": [0.1, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0], "f2": [1.0, 0.0, -1.0, 0.5, 0.25, 0.3, -0.5]}
    )
    y = (2.0 * X["f1"] - X["f2"] + 0.5).tolist()
    return X, y


def pipeline(spark: Any) -> Any:
    from pyspark.ml import Pipeline
    from pyspark.ml.feature import VectorAssembler
    from pyspark.ml.regression import LinearRegression

    X, y = data()
    df = spark.createDataFrame(X.assign(label=y))
    stages = [VectorAssembler(inputCols=["f1", "f2"], outputCol="features"), LinearRegression()]
    return Pipeline(stages=stages).fit(df)


def native(spark: Any, model: Any, X: pd.DataFrame) -> list[float]:
    return [r.prediction for r in model.transform(spark.createDataFrame(X)).collect()]


def test_save_and_load_native_and_pyfunc(spark: Any, tmp_path: Path) -> None:
    model = pipeline(spark)
    X, _ = data()
    path = tmp_path / "model"
    dfs = tmp_path / "dfs"
    fsp.save_model(model, path, input_example=X[:3], dfs_tmpdir=str(dfs))
    mlmodel = yaml.safe_load((path / "MLmodel").read_text())
    assert mlmodel["flavors"]["spark"] == {
        "pyspark_version": pyspark.__version__,
        "model_data": "sparkml",
        "code": None,
        "model_class": "pyspark.ml.pipeline.PipelineModel",
    }
    conf = mlmodel["flavors"]["python_function"]
    assert (conf["loader_module"], conf["data"]) == ("mlflow.spark", "sparkml")
    assert "signature" in mlmodel
    assert {"metadata", "stages"} <= set(os.listdir(path / "sparkml"))  # MLlib persistence
    reqs = (path / "requirements.txt").read_text().splitlines()
    assert f"pyspark=={pyspark.__version__}" in reqs
    assert fsp.get_default_pip_requirements() == [f"pyspark=={pyspark.__version__}"]
    assert os.listdir(dfs) == []  # the DFS temporary copy was moved out, nothing left
    expected = native(spark, model, X)
    loaded = fsp.load_model(str(path), dfs_tmpdir=str(dfs))
    assert isinstance(loaded, pyspark.ml.PipelineModel)
    assert native(spark, loaded, X) == expected
    pf = pyfunc.load_model(str(path))
    assert pf.predict(X) == expected
    assert pf.predict(X[:0]) == []
    assert isinstance(pf.get_raw_model(), pyspark.ml.PipelineModel)


def test_a_distributed_file_system_gets_a_copy_in_dfs_tmpdir(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the session's default file system is not the local one (HDFS on a cluster), the
    local ``sparkml/`` is copied to ``<dfs_tmpdir>/<uuid>`` and loaded from there."""
    from fsregistry.spark import flavor

    model = pipeline(spark)
    X, _ = data()
    fsp.save_model(model, tmp_path / "m")
    monkeypatch.setattr(flavor._HadoopFs, "is_local", lambda self, path: False)
    dfs = tmp_path / "dfs"
    loaded = fsp.load_model(str(tmp_path / "m"), dfs_tmpdir=str(dfs))
    (copy,) = os.listdir(dfs)
    assert {"metadata", "stages"} <= set(os.listdir(dfs / copy))
    assert native(spark, loaded, X) == native(spark, model, X)
    monkeypatch.setenv("MLFLOW_DFS_TMP", str(tmp_path / "env-dfs"))  # MLflow's variable
    fsp.load_model(str(tmp_path / "m"))
    assert len(os.listdir(tmp_path / "env-dfs")) == 1


def test_a_lone_transformer_is_wrapped_and_its_output_column_predicted(
    spark: Any, tmp_path: Path
) -> None:
    from pyspark.ml.feature import SQLTransformer

    X, _ = data()
    stage = SQLTransformer(statement="SELECT *, f1 * 10 + f2 AS scaled FROM __THIS__")
    fsp.save_model(stage, tmp_path / "m")
    loaded = fsp.load_model(str(tmp_path / "m"))
    assert isinstance(loaded, pyspark.ml.PipelineModel) and len(loaded.stages) == 1
    from pyspark.ml.feature import Binarizer

    fsp.save_model(Binarizer(threshold=1.0, inputCol="f1", outputCol="big"), tmp_path / "b")
    pf = pyfunc.load_model(str(tmp_path / "b"))
    assert pf.predict(X) == [1.0 if v > 1.0 else 0.0 for v in X["f1"]]


def test_vector_outputs_are_sparkml_vector_in_the_signature(spark: Any, tmp_path: Path) -> None:
    """As MLflow infers it: a vector prediction column is a ``sparkml_vector`` output, and
    pyfunc returns it as lists of floats."""
    from pyspark.ml.feature import VectorAssembler

    X, _ = data()
    stage = VectorAssembler(inputCols=["f1", "f2"], outputCol="vec")
    fsp.save_model(stage, tmp_path / "v", input_example=X[:2])
    mlmodel = yaml.safe_load((tmp_path / "v" / "MLmodel").read_text())
    assert json.loads(mlmodel["signature"]["outputs"]) == [
        {"type": "sparkml_vector", "required": True}
    ]
    pf = pyfunc.load_model(str(tmp_path / "v"))
    assert [list(v) for v in pf.predict(X)] == X[["f1", "f2"]].to_numpy().tolist()


def test_log_register_and_load_from_every_store(spark: Any, tracking: str) -> None:
    model = pipeline(spark)
    X, _ = data()
    with fsregistry.start_run() as run:
        info = fsp.log_model(
            model,
            name="sp",
            input_example=X[:2],
            registered_model_name="sp-model",
            extra_pip_requirements=["pyarrow"],
        )
    assert info.model_uri == f"models:/{info.model_id}"  # MLflow 3: a LoggedModel
    assert info.run_id == run.info.run_id
    assert info.registered_model_version == 1
    expected = native(spark, model, X)
    for uri in (info.model_uri, "models:/sp-model/1"):
        assert native(spark, fsp.load_model(uri), X) == expected, uri
        assert pyfunc.load_model(uri).predict(X) == expected, uri
    reqs = Path(pyfunc.get_model_dependencies(info.model_uri)).read_text().splitlines()
    assert "pyarrow" in reqs and f"pyspark=={pyspark.__version__}" in reqs


def test_artifact_path_is_mlflows_second_argument(spark: Any, local_tracking: str) -> None:
    model = pipeline(spark)
    with warnings.catch_warnings(record=True) as seen, fsregistry.start_run():
        warnings.simplefilter("always")
        info = fsp.log_model(model, "spark-model")
    assert not [w for w in seen if "artifact_path" in str(w.message)]  # not deprecated here
    assert info.name == "spark-model"
    assert info.model_uri == f"models:/{info.model_id}"


def test_unsupported_objects_and_bad_arguments_write_nothing(spark: Any, tmp_path: Path) -> None:
    from pyspark.ml.regression import LinearRegression

    target = tmp_path / "m"
    for bad in (LinearRegression(), object(), "model"):  # an Estimator is not a model
        with pytest.raises(InvalidParameterValue, match="Cannot serialize this model"):
            fsp.save_model(bad, target)
    with pytest.raises(InvalidParameterValue, match="dfs_tmpdir"):
        fsp.save_model(pipeline(spark), target, dfs_tmpdir="")
    assert not target.exists()
    # Spark itself fails to write (the DFS temporary directory is under a file)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InvalidParameterValue, match="Saving the spark model failed"):
        fsp.save_model(pipeline(spark), target, dfs_tmpdir=str(blocker))
    assert not target.exists()
    assert blocker.read_text() == "x"


def test_missing_framework_names_the_extra(
    spark: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fsp.save_model(pipeline(spark), tmp_path / "m")
    monkeypatch.setitem(sys.modules, "pyspark", None)
    for call in (
        lambda: fsp.load_model(str(tmp_path / "m")),
        lambda: pyfunc.load_model(str(tmp_path / "m")),
        lambda: fsp.save_model(object(), tmp_path / "n"),
    ):
        with pytest.raises(InvalidParameterValue, match=r"pip install 'fsregistry\[spark\]'"):
            call()
    assert not (tmp_path / "n").exists()


def test_corrupted_model_directories_are_clear_errors(spark: Any, tmp_path: Path) -> None:
    path = tmp_path / "m"
    fsp.save_model(pipeline(spark), path)
    metadata = next((path / "sparkml" / "metadata").glob("part-*"))
    metadata.write_text("{not json")
    with pytest.raises(ModelIntegrityError):  # the hash check
        fsp.load_model(str(path))
    for load in (fsp.load_model, pyfunc.load_model):
        with pytest.raises(ModelIntegrityError, match="corrupted or incomplete"):
            load(str(path), verify=False)
    import shutil

    shutil.rmtree(path / "sparkml")
    with pytest.raises(ModelIntegrityError, match="sparkml is missing"):
        fsp.load_model(str(path), verify=False)


def test_another_major_version_warns_with_both(
    spark: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "m"
    fsp.save_model(pipeline(spark), path)
    mlmodel = path / "MLmodel"
    mlmodel.write_text(
        mlmodel.read_text().replace(
            f"pyspark_version: {pyspark.__version__}", "pyspark_version: 1.6.0"
        )
    )
    with caplog.at_level(logging.WARNING, logger="fsregistry.flavors"):
        fsp.load_model(str(path), verify=False)
    (message,) = [r.getMessage() for r in caplog.records if "major version" in r.getMessage()]
    assert "pyspark 1.6.0" in message and f"pyspark {pyspark.__version__}" in message


def test_spark_udf_scores_like_predict(spark: Any, local_tracking: str) -> None:
    model = pipeline(spark)
    X, _ = data()
    with fsregistry.start_run():
        info = fsp.log_model(model, name="m", input_example=X[:2])
    assert spark_scores(spark, info.model_uri, X) == native(spark, model, X)


def test_scoring_server(spark: Any, local_tracking: str, tmp_path: Path) -> None:
    model = pipeline(spark)
    X, _ = data()
    with fsregistry.start_run():
        fsp.log_model(model, name="m", input_example=X[:2], registered_model_name="sp-served")
    got = served_predictions("models:/sp-served/1", tmp_path, local_tracking, X)
    assert got == native(spark, model, X)


MLFLOW_SPARK = (
    r"""
import os, sys
from pyspark.sql import SparkSession

os.environ["PYSPARK_PYTHON"] = sys.executable

spark = (
    SparkSession.builder.master("local[1]")
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.ui.enabled", "false")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")


def NATIVE(m, X):
    return [r.prediction for r in m.transform(spark.createDataFrame(X)).collect()]
"""
    + MLFLOW_LOADS
    + r"""
import mlflow.spark
from pyspark.ml import Pipeline
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.regression import LinearRegression

out = {"loaded": load_cases(cfg)}
X = pd.DataFrame(cfg["X"])
df = spark.createDataFrame(X.assign(label=cfg["y"]))
stages = [VectorAssembler(inputCols=["f1", "f2"], outputCol="features"), LinearRegression()]
model = Pipeline(stages=stages).fit(df)
with mlflow.start_run() as run:
    info = mlflow.spark.log_model(model, "sp", input_example=X[:2],
                                  registered_model_name="ml-sp")
out["uri"] = info.model_uri
out["pred"] = NATIVE(model, X)
spark.stop()
print(json.dumps(out))
"""
)


@pytest.mark.mlflow
def test_mlflow_round_trip_both_directions(spark: Any, local_tracking: str, tmp_path: Path) -> None:
    X, y = data()
    model = pipeline(spark)
    with fsregistry.start_run():
        info = fsp.log_model(model, name="m", input_example=X[:2], registered_model_name="fs-sp")
    cases = [[info.model_uri, X.to_dict("list")], ["models:/fs-sp/1", X.to_dict("list")]]
    cfg = {"flavor": "spark", "cases": cases, "X": X.to_dict("list"), "y": y}
    cfg["tracking_uri"] = Path(local_tracking).as_uri()
    logged = run_mlflow(
        MLFLOW_VERSION,
        f"CFG = {json.dumps(json.dumps(cfg))}\n" + MLFLOW_SPARK,
        cwd=tmp_path,
        env={**MLFLOW_ENV, "SPARK_LOCAL_IP": "127.0.0.1"},
        extras=MLFLOW_EXTRAS,
    )
    expected = native(spark, model, X)
    for uri, _ in cases:
        got = logged["loaded"][uri]
        assert got["native"] == got["pyfunc"] == expected, uri
        assert got["conf"] == info.flavors["spark"]
        assert got["pyfunc_conf"]["loader_module"] == "mlflow.spark"
        assert info.signature is not None and got["signature"] == info.signature.to_dict()
    assert logged["uri"].startswith("runs:/")  # MLflow 3.17.2's spark flavor logs to the run
    theirs = fsregistry.models.get_model_info(logged["uri"]).flavors
    assert {k: sorted(v) for k, v in theirs.items()} == {
        k: sorted(v) for k, v in info.flavors.items()
    }
    for uri in (logged["uri"], "models:/ml-sp/1"):
        assert native(spark, fsp.load_model(uri), X) == logged["pred"], uri
        assert pyfunc.load_model(uri).predict(X) == logged["pred"], uri
