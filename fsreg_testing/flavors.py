"""Shared pieces of the flavor tests (``tests/test_flavor_*.py``): real MLflow 3.17.2 with the
flavor frameworks in its own cached venv, ``spark_udf`` scores (on the tests' one ``spark``
fixture, ``fsreg_testing/spark_session.py``), and the scoring server.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from fsreg_testing.mlflow_env import run_mlflow
from fsreg_testing.serving import serve

#: The MLflow venv of the flavor round-trip tests: MLflow 3.17.2 plus every framework whose
#: flavor fsregistry has (one venv for all of them, built once), and pyarrow: pandas 3 pickles
#: (statsmodels results) refer to it.
MLFLOW_VERSION = "3.17.2"
MLFLOW_EXTRAS = ("lightgbm", "pyarrow", "statsmodels", "xgboost-cpu")

#: MLflow 3 refuses to unpickle models unless this is set (skops included).
MLFLOW_ENV = {"MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"}


def run_flavor_mlflow(code: str, cfg: dict[str, Any], cwd: Path) -> Any:
    """Run ``code`` (which reads its config from the JSON string ``CFG``) in MLflow 3.17.2."""
    snippet = f"CFG = {json.dumps(json.dumps(cfg))}\n" + code
    return run_mlflow(MLFLOW_VERSION, snippet, cwd=cwd, env=MLFLOW_ENV, extras=MLFLOW_EXTRAS)


#: MLflow loads what fsregistry logged: ``load_cases(cfg)`` with ``cfg = {"tracking_uri",
#: "flavor", "cases": [[uri, {column: values}], ...]}``; ``NATIVE(model, X)`` (defined by the
#: caller before this code) predicts with the natively loaded model. Returns ``{uri:
#: {"native": [...], "pyfunc": [...], "conf": flavor conf, ...}}``. A test's snippet calls it
#: and then logs MLflow's own models, so one MLflow process serves both directions.
MLFLOW_LOADS = r"""
import importlib, json
import numpy as np
import pandas as pd
import mlflow
import mlflow.pyfunc

cfg = json.loads(CFG)
mlflow.set_tracking_uri(cfg["tracking_uri"])
mlflow.set_registry_uri(cfg["tracking_uri"])


def load_cases(cfg):
    flavor = importlib.import_module("mlflow." + cfg["flavor"])
    out = {}
    for uri, data in cfg["cases"]:
        X = pd.DataFrame(data)
        native = flavor.load_model(uri)
        info = mlflow.models.get_model_info(uri)
        out[uri] = {
            "native": np.asarray(NATIVE(native, X)).tolist(),
            "pyfunc": np.asarray(mlflow.pyfunc.load_model(uri).predict(X)).tolist(),
            "conf": info.flavors[cfg["flavor"]],
            "pyfunc_conf": info.flavors["python_function"],
            "signature": info.signature.to_dict() if info.signature else None,
        }
    return out
"""


def _java_available() -> bool:
    home = os.environ.get("JAVA_HOME")
    return shutil.which("java") is not None or bool(home and Path(home, "bin", "java").exists())


needs_java = pytest.mark.skipif(
    not _java_available(), reason="Spark needs a Java runtime: no java on PATH or JAVA_HOME"
)


def spark_scores(spark: Any, model_uri: str, data: Any) -> list[float]:
    """``spark_udf(model_uri)`` over ``data`` (a pandas DataFrame), as doubles in row order."""
    from fsregistry import pyfunc

    udf = pyfunc.spark_udf(spark, model_uri, result_type="double")
    rows = data.assign(_row=range(len(data)))
    df = spark.createDataFrame(rows)
    got = df.select("_row", udf(*[c for c in data.columns]).alias("out")).collect()
    return [r["out"] for r in sorted(got, key=lambda r: r["_row"])]


def served_predictions(model_uri: str, tmp: Path, tracking_uri: str, data: Any) -> Any:
    """``fsreg models serve`` the model and POST ``data`` (``dataframe_split``); the JSON
    ``predictions`` it answers."""
    body = {"dataframe_split": json.loads(data.to_json(orient="split", index=False))}
    servers = serve(model_uri, tmp, tracking_uri=tracking_uri)
    server = next(servers)
    try:
        response = server.post(body)
    finally:
        servers.close()  # stops the server
    assert response.status == 200, response.body
    return response.json()["predictions"]


def assert_close(ours: Any, theirs: Any, tol: float = 1e-9, where: str = "") -> None:
    """Equal JSON-like values (dicts by keys, lists in order), floats to ``tol``, for the
    autolog differentials: the first difference fails with its path."""
    import math

    if isinstance(theirs, float) or isinstance(ours, float):
        assert math.isclose(ours, theirs, rel_tol=tol, abs_tol=tol), (where, ours, theirs)
    elif isinstance(theirs, dict):
        assert sorted(ours) == sorted(theirs), (where, sorted(ours), sorted(theirs))
        for k in theirs:
            assert_close(ours[k], theirs[k], tol, f"{where}/{k}")
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs), (where, ours, theirs)
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            assert_close(a, b, tol, f"{where}[{i}]")
    else:
        assert ours == theirs, (where, ours, theirs)
