"""``fsregistry.h2o``: a tiny H2O GLM trained here, saved (``model.h2o/`` + ``h2o.yaml`` with the
``init`` settings), logged to every store, loaded natively and as pyfunc, scored by spark_udf
and the scoring server, and round-tripped with real MLflow 3.17.2 (+h2o) in both directions.

h2o is not in the test venv: the fsregistry side runs in the cached h2o venv
(:mod:`fsreg_testing.h2o_env`, this checkout on its ``PYTHONPATH``), MLflow's in
``mlflow-3.17.2+h2o``; both talk to one H2O server (``-Xmx1g``, 127.0.0.1) this module starts
and shuts down. In the test process itself h2o is missing: that is the "framework not
installed" case."""

# ruff: noqa: F811

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import fsregistry
from fsreg_testing.flavors import MLFLOW_ENV, MLFLOW_LOADS, MLFLOW_VERSION, needs_java
from fsreg_testing.h2o_env import H2O_VERSION, H2OServer, h2o_command, h2o_env, run_h2o
from fsreg_testing.mlflow_env import run_mlflow
from fsreg_testing.models import local_tracking, model_cache, tracking  # noqa: F401 - fixtures
from fsreg_testing.serving import free_port, start_server, stop_server
from fsregistry import h2o as fh2o
from fsregistry import pyfunc
from fsregistry.exceptions import InvalidParameterValue

pytestmark = [needs_java]

#: MLflow's side: MLflow 3.17.2 with the same h2o (its own cached venv).
MLFLOW_EXTRAS = (f"h2o=={H2O_VERSION}",)

X = {"f1": [0.1, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0], "f2": [1.0, 0.0, -1.0, 0.5, 0.25, 0.3, -0.5]}
Y = [2.0 * a - b + 0.5 for a, b in zip(X["f1"], X["f2"], strict=True)]


@pytest.fixture(scope="module")
def h2o_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[H2OServer]:
    """One H2O node for the module, shut down after it."""
    server = H2OServer(tmp_path_factory.mktemp("h2o-server"))
    try:
        yield server
    finally:
        server.stop()


#: Runs first in every fsregistry snippet (h2o venv): connect, train the GLM, helpers.
PRELUDE = r"""
import json, logging, os, shutil, sys
import pandas as pd
import h2o
import fsregistry
from fsregistry import h2o as fh2o, pyfunc

cfg = json.loads(CFG)
h2o.init(**cfg["init"])
h2o.no_progress()
X = pd.DataFrame(cfg["X"])


def train():
    from h2o.estimators import H2OGeneralizedLinearEstimator

    m = H2OGeneralizedLinearEstimator(family="gaussian", lambda_=0, seed=1)
    m.train(x=["f1", "f2"], y="y", training_frame=h2o.H2OFrame(X.assign(y=cfg["y"])))
    return m


def native(m):
    return m.predict(h2o.H2OFrame(X)).as_data_frame()["predict"].tolist()


def error(call):
    try:
        call()
    except Exception as exc:
        return [type(exc).__name__, str(exc)]
    return None
"""


def fsreg_h2o(code: str, server: H2OServer, cwd: Path, **cfg: Any) -> Any:
    cfg = {"init": server.init, "X": X, "y": Y, **cfg}
    return run_h2o(f"CFG = {json.dumps(json.dumps(cfg))}\n" + PRELUDE + code, cwd=cwd)


SAVE_AND_LOAD = r"""
out = {}
m = train()
out["expected"] = native(m)
settings = {"init": cfg["init"], "note": "kept"}
fh2o.save_model(m, "model", input_example=X[:3], settings=settings)
out["settings_untouched"] = settings == {"init": cfg["init"], "note": "kept"}
out["files"] = sorted(os.listdir("model")), sorted(os.listdir("model/model.h2o"))
out["native"] = native(fh2o.load_model("model"))
pf = pyfunc.load_model("model")
out["pyfunc"] = pf.predict(X)["predict"].tolist()
out["pyfunc_index"] = pf.predict(X.set_index(X.index + 10)).index.tolist()
out["unsupported"] = error(lambda: fh2o.save_model(object(), "bad"))
out["bad_settings"] = error(lambda: fh2o.save_model(m, "bad", settings={"init": "x"}))
out["bad_exists"] = os.path.exists("bad")
# corrupted copies
shutil.copytree("model", "c1")
mf = [f for f in os.listdir("c1/model.h2o") if f != "h2o.yaml"][0]
with open(os.path.join("c1/model.h2o", mf), "wb") as f:
    f.write(b"garbage")
out["c1_hash"] = error(lambda: fh2o.load_model("c1"))
out["c1_native"] = error(lambda: fh2o.load_model("c1", verify=False))
out["c1_pyfunc"] = error(lambda: pyfunc.load_model("c1", verify=False))
shutil.copytree("model", "c2")
with open("c2/model.h2o/h2o.yaml", "w") as f:
    f.write("model_file: ../../etc/passwd\n")
out["c2_traversal"] = error(lambda: fh2o.load_model("c2", verify=False))
with open("c2/model.h2o/h2o.yaml", "w") as f:
    f.write("{not: [yaml\n")
out["c2_yaml"] = error(lambda: fh2o.load_model("c2", verify=False))
# init settings that reach no cluster: a clear error naming them, not "corrupted"
# (start_h2o=False: otherwise h2o.init starts a local server when it finds none)
import yaml
shutil.copytree("model", "c4")
with open("c4/model.h2o/h2o.yaml") as f:
    conf = yaml.safe_load(f)
conf["init"] = {"url": "http://127.0.0.1:9", "start_h2o": False}
with open("c4/model.h2o/h2o.yaml", "w") as f:
    yaml.safe_dump(conf, f)
out["c4_init"] = error(lambda: pyfunc.load_model("c4", verify=False))
# another h2o major version recorded: a warning naming both
shutil.copytree("model", "c3")
text = open("c3/MLmodel").read().replace("h2o_version: " + h2o.__version__, "h2o_version: 2.0.0")
open("c3/MLmodel", "w").write(text)
records = []
handler = logging.Handler()
handler.emit = records.append
logging.getLogger("fsregistry.flavors").addHandler(handler)
fh2o.load_model("c3", verify=False)
out["warnings"] = [r.getMessage() for r in records]
out["h2o_version"] = h2o.__version__
# no cluster connection: load_model does not call h2o.init (as MLflow), it says so
h2o.connection().close()
out["no_connection"] = error(lambda: fh2o.load_model("model"))
print(json.dumps(out))
"""


def test_save_and_load_native_and_pyfunc_and_bad_input(
    h2o_server: H2OServer, tmp_path: Path
) -> None:
    out = fsreg_h2o(SAVE_AND_LOAD, h2o_server, tmp_path)
    assert out["native"] == out["pyfunc"] == out["expected"]
    assert out["pyfunc_index"] == list(range(10, 17))
    assert out["settings_untouched"]
    files, data_files = out["files"]
    assert {"MLmodel", "model.h2o", "requirements.txt", "input_example.json"} <= set(files)
    assert "h2o.yaml" in data_files and len(data_files) == 2
    path = tmp_path / "model"
    mlmodel = yaml.safe_load((path / "MLmodel").read_text())
    assert mlmodel["flavors"]["h2o"] == {
        "h2o_version": out["h2o_version"],
        "data": "model.h2o",
        "code": None,
    }
    conf = mlmodel["flavors"]["python_function"]
    assert (conf["loader_module"], conf["data"]) == ("mlflow.h2o", "model.h2o")
    assert "signature" in mlmodel
    settings = yaml.safe_load((path / "model.h2o" / "h2o.yaml").read_text())
    model_file = next(f for f in data_files if f != "h2o.yaml")
    assert settings == {
        "init": h2o_server.init,
        "note": "kept",
        "model_file": model_file,
        "model_dir": str(path / "model.h2o"),
        "full_file": str(path / "model.h2o" / model_file),
    }
    assert f"h2o=={H2O_VERSION}" in (path / "requirements.txt").read_text().splitlines()
    assert out["unsupported"][0] == "InvalidParameterValue"
    assert (
        "trained H2O model" in out["unsupported"][1] and "builtins.object" in out["unsupported"][1]
    )
    assert out["bad_settings"][0] == "InvalidParameterValue"
    assert not out["bad_exists"]
    assert out["c1_hash"][0] == "ModelIntegrityError"
    for key in ("c1_native", "c1_pyfunc", "c2_traversal", "c2_yaml"):
        assert out[key][0] == "ModelIntegrityError", (key, out[key])
        assert "corrupted or incomplete" in out[key][1], (key, out[key])
    assert out["c4_init"][0] == "InvalidParameterValue"
    assert "http://127.0.0.1:9" in out["c4_init"][1] and "h2o.yaml" in out["c4_init"][1]
    (warning,) = [w for w in out["warnings"] if "major version" in w]
    assert "h2o 2.0.0" in warning and f"h2o {out['h2o_version']}" in warning
    assert out["no_connection"][0] == "InvalidParameterValue"
    assert "h2o.init()" in out["no_connection"][1]


def test_missing_framework_names_the_extra(h2o_server: H2OServer, tmp_path: Path) -> None:
    """The test venv has no h2o: loading a saved model or saving names the extra."""
    assert "h2o" not in sys.modules
    fsreg_h2o('fh2o.save_model(train(), "model")\nprint("{}")', h2o_server, tmp_path)
    for call in (
        lambda: fh2o.load_model(str(tmp_path / "model")),
        lambda: pyfunc.load_model(str(tmp_path / "model")),
        lambda: fh2o.save_model(object(), tmp_path / "other"),
    ):
        with pytest.raises(InvalidParameterValue, match=r"pip install 'fsregistry\[h2o\]'"):
            call()
    assert not (tmp_path / "other").exists()


LOG_AND_LOAD = r"""
fsregistry.set_tracking_uri(cfg["tracking_uri"])
fsregistry.set_registry_uri(cfg["tracking_uri"])
m = train()
with fsregistry.start_run() as run:
    info = fh2o.log_model(m, name="h2", input_example=X[:2], settings={"init": cfg["init"]},
                          registered_model_name=cfg["registered"])
out = {"expected": native(m), "uri": info.model_uri, "model_id": info.model_id,
       "run": [info.run_id, run.info.run_id], "version": info.registered_model_version,
       "flavors": info.flavors, "loaded": {}}
for uri in (info.model_uri, "models:/" + cfg["registered"] + "/1"):
    out["loaded"][uri] = [native(fh2o.load_model(uri)),
                          pyfunc.load_model(uri).predict(X)["predict"].tolist()]
print(json.dumps(out))
"""


def log_in_h2o_venv(server: H2OServer, url: str, cwd: Path, registered: str) -> Any:
    return fsreg_h2o(LOG_AND_LOAD, server, cwd, tracking_uri=url, registered=registered)


def test_log_register_and_load_from_every_store(
    h2o_server: H2OServer, tracking: str, tmp_path: Path
) -> None:
    out = log_in_h2o_venv(h2o_server, tracking, tmp_path, "h2-model")
    assert out["uri"] == f"models:/{out['model_id']}"  # MLflow 3: a LoggedModel
    assert out["run"][0] == out["run"][1] and out["version"] == 1
    for uri, (native, pf) in out["loaded"].items():
        assert native == pf == out["expected"], uri
    # the test process (no h2o) reads the logged model's metadata from the store
    info = fsregistry.models.get_model_info("models:/h2-model/1")
    assert info.flavors["h2o"]["data"] == "model.h2o"


def test_scoring_server(h2o_server: H2OServer, local_tracking: str, tmp_path: Path) -> None:
    out = log_in_h2o_venv(h2o_server, local_tracking, tmp_path, "h2-served")
    port = free_port()
    command = h2o_command(
        "-c",
        "from fsregistry.cli.app import main; main()",
        "models",
        "serve",
        "-m",
        "models:/h2-served/1",
        "--port",
        str(port),
        "--tracking-uri",
        local_tracking,
    )
    env = h2o_env({"FSREG_MODEL_CACHE": str(tmp_path / "server-cache")})
    server = start_server(command, tmp_path / "server.log", port, env, ready_within=180)
    try:
        body = {
            "dataframe_split": {
                "columns": ["f1", "f2"],
                "data": list(zip(*X.values(), strict=True)),
            }
        }
        response = server.post(body)
    finally:
        stop_server(server)
    assert response.status == 200, response.body
    got = response.json()["predictions"]
    assert [row["predict"] for row in got] == out["expected"]


SPARK_UDF = r"""
from pyspark.sql import SparkSession

fsregistry.set_tracking_uri(cfg["tracking_uri"])
m = train()
with fsregistry.start_run():
    info = fh2o.log_model(m, name="h2", input_example=X[:2], settings={"init": cfg["init"]})
spark = (
    SparkSession.builder.master("local[1]")
    .config("spark.ui.enabled", "false")
    .config("spark.driver.host", "127.0.0.1")
    .config("spark.driver.bindAddress", "127.0.0.1")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
udf = pyfunc.spark_udf(spark, info.model_uri, result_type="double")
df = spark.createDataFrame(X.assign(_row=range(len(X))))
rows = df.select("_row", udf("f1", "f2").alias("out")).collect()
got = [r["out"] for r in sorted(rows, key=lambda r: r["_row"])]
spark.stop()
print(json.dumps({"expected": native(m), "udf": got}))
"""


@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
def test_spark_udf_scores_like_predict(
    h2o_server: H2OServer, local_tracking: str, tmp_path: Path
) -> None:
    out = fsreg_h2o(SPARK_UDF, h2o_server, tmp_path, tracking_uri=local_tracking)
    assert out["udf"] == out["expected"]


MLFLOW_H2O = (
    r"""
import h2o

cfg0 = __import__("json").loads(CFG)
h2o.init(**cfg0["init"])
h2o.no_progress()


def NATIVE(m, X):
    return m.predict(h2o.H2OFrame(X)).as_data_frame()["predict"].tolist()
"""
    + MLFLOW_LOADS
    + r"""
import mlflow.h2o
from h2o.estimators import H2OGeneralizedLinearEstimator

out = {"loaded": load_cases(cfg)}
X = pd.DataFrame(cfg["X"])
model = H2OGeneralizedLinearEstimator(family="gaussian", lambda_=0, seed=1)
model.train(x=["f1", "f2"], y="y", training_frame=h2o.H2OFrame(X.assign(y=cfg["y"])))
with mlflow.start_run():
    info = mlflow.h2o.log_model(model, name="h2", input_example=X[:2],
                                settings={"init": cfg["init"]}, registered_model_name="ml-h2")
out["uri"] = info.model_uri
out["pred"] = NATIVE(model, X)
print(json.dumps(out), flush=True)
import os
os._exit(0)  # skip h2o's "session closed" lines at exit: the JSON stays the last line
"""
)

LOAD_THEIRS = r"""
fsregistry.set_tracking_uri(cfg["tracking_uri"])
fsregistry.set_registry_uri(cfg["tracking_uri"])
out = {}
for uri in cfg["uris"]:
    out[uri] = [native(fh2o.load_model(uri)), pyfunc.load_model(uri).predict(X)["predict"].tolist()]
print(json.dumps(out))
"""


@pytest.mark.mlflow
def test_mlflow_round_trip_both_directions(
    h2o_server: H2OServer, local_tracking: str, tmp_path: Path
) -> None:
    ours = log_in_h2o_venv(h2o_server, local_tracking, tmp_path, "fs-h2")
    cases = [[ours["uri"], X], ["models:/fs-h2/1", X]]
    cfg = {"flavor": "h2o", "cases": cases, "X": X, "y": Y, "init": h2o_server.init}
    cfg["tracking_uri"] = Path(local_tracking).as_uri()
    logged = run_mlflow(
        MLFLOW_VERSION,
        f"CFG = {json.dumps(json.dumps(cfg))}\n" + MLFLOW_H2O,
        cwd=tmp_path,
        env={**MLFLOW_ENV, "DO_NOT_TRACK": "1"},
        extras=MLFLOW_EXTRAS,
    )
    for uri, _ in cases:
        got = logged["loaded"][uri]
        assert got["native"] == ours["expected"], uri
        assert got["pyfunc"] == [[v] for v in ours["expected"]], uri
        assert got["conf"] == ours["flavors"]["h2o"]
        assert got["pyfunc_conf"]["loader_module"] == "mlflow.h2o"
    theirs = fsregistry.models.get_model_info(logged["uri"]).flavors
    assert {k: sorted(v) for k, v in theirs.items()} == {
        k: sorted(v) for k, v in ours["flavors"].items()
    }
    uris = [logged["uri"], "models:/ml-h2/1"]
    back = fsreg_h2o(LOAD_THEIRS, h2o_server, tmp_path, uris=uris, tracking_uri=local_tracking)
    for uri in uris:
        assert back[uri] == [logged["pred"], logged["pred"]], uri
