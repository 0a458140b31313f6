"""Shared by the ``spark_udf`` tests (tests/test_spark_udf.py, tests/test_spark_udf_types.py):
their marks, the custom models module (a fixture, registered once in tests/conftest.py), and
the helpers that log models and score rows. Their SparkSession is the tests' one ``spark``
fixture (``fsreg_testing/spark_session.py``).

``models_module``: custom models in a module written to a temporary directory and saved with
``code_paths``, so executors import it from the model, as on a cluster.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import numpy as np
import pandas as pd
import pytest

import fsregistry
from fsreg_testing.flavors import needs_java
from fsregistry import pyfunc

#: The marks of every spark_udf test module (``pytestmark = SPARK_MARKS``).
SPARK_MARKS = [
    needs_java,
    # pyspark 4.x on pandas 3 warns about itself.
    pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated"),
]

MODELS_MODULE = "fsreg_spark_test_models"
MODELS_SOURCE = '''
"""Custom models for the spark_udf tests (shipped to executors with code_paths)."""
import os

import numpy as np
import pandas as pd

from fsregistry.pyfunc import PythonModel


def _append(var, text):
    path = os.environ.get(var)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text + "\\n")


class Proba(PythonModel):
    """predict_proba-like: a list [p(0), p(1)] per row."""

    def predict(self, context, model_input, params=None):
        p = 1.0 / (1.0 + np.exp(-model_input["f1"].to_numpy(dtype=float)))
        return [[float(1.0 - v), float(v)] for v in p]


class Matrix(PythonModel):
    """A 2-D numpy result (n x 3) and a 3-D one when asked for (n x 2 x 2)."""

    def predict(self, context, model_input, params=None):
        x = model_input["f1"].to_numpy(dtype=float)
        if (params or {}).get("nested"):
            return np.stack([np.stack([x, x + 1]), np.stack([x + 2, x + 3])]).transpose(2, 0, 1)
        return np.stack([x, 2 * x, 3 * x], axis=1)


class Label(PythonModel):
    def predict(self, context, model_input, params=None):
        return ["high" if v > 0.5 else "low" for v in model_input["f1"]]


class Frame(PythonModel):
    """A DataFrame prediction: label, score, rank, flag and a list column."""

    def predict(self, context, model_input, params=None):
        f1 = model_input["f1"].to_numpy(dtype=float)
        return pd.DataFrame(
            {
                "label": ["high" if v > 0.5 else "low" for v in f1],
                "score": f1 * 2.0,
                "rank": model_input["f2"].to_numpy(dtype="int64") + 1,
                "flag": f1 > 0.5,
                "pair": [[float(v), float(v) + 1.0] for v in f1],
            }
        )


class Pids(PythonModel):
    """Logs the pid to $FSREG_TEST_LOAD_LOG on load, and to $FSREG_TEST_BATCH_LOG per batch."""

    def load_context(self, context):
        _append("FSREG_TEST_LOAD_LOG", str(os.getpid()))

    def predict(self, context, model_input, params=None):
        _append("FSREG_TEST_BATCH_LOG", f"{os.getpid()} {len(model_input)}")
        return model_input["f1"] * 0 + os.getpid()


class Env(PythonModel):
    """The executor's value of the environment variable named by the ``var`` param."""

    def predict(self, context, model_input, params=None):
        name = (params or {}).get("var", "HOME")
        return [os.environ.get(name, "<unset>")] * len(model_input)
'''


# -- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def models_module(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The custom models module, importable here and saved into each model's code/."""
    directory = tmp_path_factory.mktemp("spark-models")
    (directory / f"{MODELS_MODULE}.py").write_text(MODELS_SOURCE, encoding="utf-8")
    sys.path.insert(0, str(directory))
    try:
        yield importlib.import_module(MODELS_MODULE)
    finally:
        sys.path.remove(str(directory))
        sys.modules.pop(MODELS_MODULE, None)


def rows(n: int = 60) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {"f1": rng.uniform(-1.0, 2.0, n).round(6), "f2": rng.integers(0, 2, n).astype("int64")}
    )


def train() -> Any:
    from sklearn.linear_model import LogisticRegression

    data = rows(40)
    return LogisticRegression(C=0.5).fit(data, (data["f1"] > 0.5).astype(int))


def log_sklearn(name: str = "clf") -> str:
    """A scikit-learn classifier (signature f1 double, f2 long) registered as ``name`` v1 with
    alias champion; returns ``models:/<name>@champion``."""
    from fsregistry import sklearn as fsk

    with fsregistry.start_run():
        fsk.log_model(train(), name="model", registered_model_name=name, input_example=rows(3))
    fsregistry.Client().set_registered_model_alias(name, "champion", "1")
    return f"models:/{name}@champion"


def log_custom(model: Any, module: Any, **kwargs: Any) -> str:
    """Log a custom model with the models module in its code/; returns its runs:/ URI."""
    with fsregistry.start_run():
        info = pyfunc.log_model(
            name="model", python_model=model, code_paths=[module.__file__], **kwargs
        )
    return info.model_uri


def spark_rows(spark: Any, data: pd.DataFrame) -> Any:
    """``data`` as a Spark DataFrame (2 partitions: both Python workers score)."""
    return spark.createDataFrame(data)


def collect(df: Any, column: str = "out") -> list[Any]:
    """``column`` of ``df`` in the order of its ``id`` column (sorted here: no shuffle)."""
    got = df.select("id", column).collect()
    return [r[column] for r in sorted(got, key=lambda r: r["id"])]


def score(df: Any, **columns: Any) -> tuple[dict[str, list[Any]], dict[str, str]]:
    """Each UDF column over ``df``, in the order of ``df``'s ``id``, and each one's Spark type.

    One query per column: UDFs chained in one select each get Python workers of their own,
    which costs more start-ups than separate queries that reuse the same workers.
    """
    values, types = {}, {}
    for name, column in columns.items():
        query = df.select("id", column.alias(name))
        types[name] = query.schema[name].dataType.simpleString()
        values[name] = [r[name] for r in sorted(query.collect(), key=lambda r: r["id"])]
    return values, types


def collect_struct(df: Any, column: str = "out") -> pd.DataFrame:
    got = df.select("id", f"{column}.*").toPandas()
    return got.sort_values("id").reset_index(drop=True)


def with_id(data: pd.DataFrame) -> pd.DataFrame:
    return data.assign(id=np.arange(len(data)))
