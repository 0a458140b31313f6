"""Keras autolog, and round trips with real MLflow 3.17.2 + tensorflow-cpu in both directions
(one MLflow process: it loads fsregistry's models, logs its own, and autologs the same fit):
run by ``tests/test_flavor_tensorflow.py`` inside the cached TensorFlow venv, like
``flavor_tensorflow_cases.py``."""

# ruff: noqa: F811

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import fsregistry
from fsreg_testing.mlflow_env import run_mlflow
from fsreg_testing.models import local_tracking  # noqa: F401 - fixture
from fsreg_testing.tf_env import TF_VERSION
from fsregistry import keras as fkeras
from fsregistry import pyfunc
from fsregistry import tensorflow as ftf
from fsregistry.models.signature import infer_signature

if not os.environ.get("FSREG_TF_SUITE"):  # pragma: no cover - a guard, not a skip
    raise RuntimeError("run through tests/test_flavor_tensorflow.py (it builds the TF venv)")

import keras

from fsreg_testing.tf_models import TENSOR_3, Linear, data, mlp, native  # noqa: F401 - mlp

MLFLOW_VERSION = "3.17.2"
MLFLOW_EXTRAS = (f"tensorflow-cpu=={TF_VERSION}",)
MLFLOW_ENV = {"MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true", "TF_CPP_MIN_LOG_LEVEL": "3"}


def autolog_model() -> Any:
    keras.utils.set_random_seed(5)
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)]
    )
    # a named optimizer: Keras numbers unnamed ones per process (adam, adam_1...)
    model.compile(optimizer=keras.optimizers.Adam(name="adam"), loss="mse", metrics=["mae"])
    return model


def autolog_fit(model: Any) -> Any:
    X = data(32, seed=21)
    return model.fit(X, X.sum(axis=1), epochs=2, batch_size=8, validation_split=0.25, verbose=0)


def autolog_summary(run_id: str) -> dict[str, Any]:
    """What an autologged run holds, as the MLflow snippet reports it."""
    client = fsregistry.MlflowClient()
    run = client.get_run(run_id)
    return {
        "params": run.data.params,
        "metrics": sorted(run.data.metrics),
        "tag": run.data.tags.get("mlflow.autologging"),
        "artifacts": sorted(a.path for a in client.list_artifacts(run_id)),
        "loss_steps": [m.step for m in client.get_metric_history(run_id, "loss")],
        "status": run.info.status,
    }


def test_keras_autolog(local_tracking: str) -> None:
    fkeras.autolog(registered_model_name="auto-keras")
    try:
        model = autolog_model()
        history = autolog_fit(model)
        run = fsregistry.last_active_run()
    finally:
        fsregistry.autolog(disable=True, exclude_flavors=["sklearn"])  # disables keras's too
    assert run is not None
    got = autolog_summary(run.info.run_id)
    assert got["tag"] == "keras" and got["status"] == "FINISHED"
    assert got["artifacts"] == ["model_summary.txt"]
    assert got["loss_steps"] == [0, 1]
    params = got["params"]
    assert params["batch_size"] == "8" and params["epochs"] == "2"
    assert params["validation_split"] == "0.25" and params["optimizer_name"] == "adam"
    assert not {"x", "y", "callbacks", "verbose", "validation_data"} & set(params)
    assert set(got["metrics"]) == {
        "loss",
        "mae",
        "val_loss",
        "val_mae",
        "validation_loss",
        "validation_mae",
    }
    client = fsregistry.MlflowClient()
    assert client.get_metric_history(run.info.run_id, "val_loss")[-1].value == pytest.approx(
        history.history["val_loss"][-1]
    )
    (output,) = client.get_run(run.info.run_id).outputs.model_outputs
    logged = client.get_logged_model(output.model_id)
    assert logged.name == "model" and logged.status == "READY"
    info = fsregistry.models.get_model_info(f"models:/{output.model_id}")
    assert info.signature is not None and info.signature.inputs.to_dict() == TENSOR_3
    X = data()
    assert native(fkeras.load_model(f"models:/{output.model_id}"), X) == native(model, X)
    assert native(fkeras.load_model("models:/auto-keras/1"), X) == native(model, X)
    (dataset,) = client.get_run(run.info.run_id).inputs.dataset_inputs
    assert [t.value for t in dataset.tags if t.key == "mlflow.data.context"] == ["train"]
    runs_before = len(fsregistry.search_runs(output_format="list"))
    autolog_fit(autolog_model())  # disabled: nothing is logged
    assert len(fsregistry.search_runs(output_format="list")) == runs_before


MLFLOW_TF = r"""
import json
import numpy as np
import pandas as pd
import tensorflow as tf
import keras
import mlflow, mlflow.pyfunc, mlflow.tensorflow, mlflow.keras
from mlflow.models import infer_signature

cfg = json.loads(CFG)
mlflow.set_tracking_uri(cfg["tracking_uri"])
mlflow.set_registry_uri(cfg["tracking_uri"])
X = np.asarray(cfg["X"], dtype="float32")


def native(m):
    if isinstance(m, keras.Model):
        return m.predict(X, verbose=0).reshape(-1).tolist()
    if hasattr(m, "serve"):
        return m.serve(X).numpy().reshape(-1).tolist()
    return m(tf.constant(X)).numpy().reshape(-1).tolist()


out = {"loaded": {}}
for uri, flavor in cfg["cases"]:
    info = mlflow.models.get_model_info(uri)
    pf = mlflow.pyfunc.load_model(uri)
    out["loaded"][uri] = {
        "native": native(getattr(mlflow, flavor).load_model(uri)),
        "pyfunc": np.asarray(pf.predict(X)).reshape(-1).tolist(),
        "conf": info.flavors[flavor],
        "pyfunc_conf": info.flavors["python_function"],
        "signature": info.signature.to_dict() if info.signature else None,
    }
    if "frame" in cfg and uri in cfg["frame"]:
        out["loaded"][uri]["frame"] = np.asarray(pf.predict(pd.DataFrame(X))).reshape(-1).tolist()

# MLflow's own models: fsregistry loads them
keras.utils.set_random_seed(7)
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(8, activation="tanh"),
                          keras.layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
Xt = np.random.default_rng(17).normal(size=(64, 3)).astype("float32")
model.fit(Xt, Xt.sum(axis=1), epochs=3, batch_size=16, verbose=0)


class Linear(tf.Module):
    def __init__(self):
        super().__init__()
        self.w = tf.Variable([[1.5], [0.25], [-1.0]])

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def __call__(self, x):
        return tf.matmul(x, self.w)


module = Linear()
sig = infer_signature(X[:2], model.predict(X[:2], verbose=0))
with mlflow.start_run() as run:
    tk = mlflow.tensorflow.log_model(model, name="tfk", input_example=X[:2],
                                     registered_model_name="ml-tf")
    mlflow.tensorflow.log_model(module, name="tfm", input_example=X[:2])
    mlflow.keras.log_model(model, name="k")
    mlflow.keras.log_model(model, name="kx", save_exported_model=True, signature=sig)
mlflow.keras.autolog()
keras.utils.set_random_seed(5)
am = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                       keras.layers.Dense(1)])
am.compile(optimizer=keras.optimizers.Adam(name="adam"), loss="mse", metrics=["mae"])
Xa = np.asarray(cfg["Xa"], dtype="float32")
am.fit(Xa, Xa.sum(axis=1), epochs=2, batch_size=8, validation_split=0.25, verbose=0)
mlflow.keras.autolog(disable=True)
arun = mlflow.last_active_run()
client = mlflow.MlflowClient()
r = client.get_run(arun.info.run_id)
out["autolog"] = {
    "params": r.data.params,
    "metrics": sorted(r.data.metrics),
    "tag": r.data.tags.get("mlflow.autologging"),
    "artifacts": sorted(a.path for a in client.list_artifacts(arun.info.run_id)),
    "loss_steps": [m.step for m in client.get_metric_history(arun.info.run_id, "loss")],
    "status": r.info.status,
}
out["theirs"] = {
    "run": run.info.run_id,
    "model_uri": tk.model_uri,
    "keras": native(model),
    "module": native(module),
}
print(json.dumps(out))
"""


@pytest.mark.mlflow
def test_mlflow_round_trip_both_directions(mlp: Any, local_tracking: str, tmp_path: Path) -> None:
    X = data()
    expected = native(mlp, X)
    module = Linear()
    signature = infer_signature(X[:2], mlp.predict(X[:2], verbose=0))
    with fsregistry.start_run():
        infos = {
            "tfk": ftf.log_model(
                mlp, name="tfk", input_example=X[:2], registered_model_name="fs-tf"
            ),
            "tfm": ftf.log_model(module, name="tfm", input_example=X[:2]),
            "k": fkeras.log_model(mlp, name="k", input_example=X[:2]),
            "kx": fkeras.log_model(mlp, name="kx", save_exported_model=True, signature=signature),
        }
    flavors = {"tfk": "tensorflow", "tfm": "tensorflow", "k": "keras", "kx": "keras"}
    cases = [[infos[k].model_uri, flavors[k]] for k in infos] + [["models:/fs-tf/1", "tensorflow"]]
    cfg = {
        "tracking_uri": Path(local_tracking).as_uri(),
        "cases": cases,
        "X": X.tolist(),
        "frame": [infos["k"].model_uri],
        "Xa": data(32, seed=21).tolist(),
    }
    snippet = f"CFG = {json.dumps(json.dumps(cfg))}\n" + MLFLOW_TF
    out = run_mlflow(
        MLFLOW_VERSION, snippet, cwd=tmp_path, env=MLFLOW_ENV, extras=MLFLOW_EXTRAS, timeout=1200
    )
    got = out["loaded"]
    want = {"tfk": expected, "tfm": native(module, X), "k": expected, "kx": expected}
    for key, info in infos.items():
        assert got[info.model_uri]["native"] == want[key], key
        assert got[info.model_uri]["pyfunc"] == want[key], key
        assert got[info.model_uri]["conf"] == info.flavors[flavors[key]], key
        assert got[info.model_uri]["pyfunc_conf"] == info.flavors["python_function"], key
    assert got[infos["k"].model_uri]["frame"] == expected
    assert got["models:/fs-tf/1"]["native"] == expected
    assert got["models:/fs-tf/1"]["signature"] == infos["tfk"].signature.to_dict()

    # MLflow logged its own models in the same process; fsregistry loads them
    theirs = out["theirs"]
    run_uri = f"runs:/{theirs['run']}"
    for name, flavor in flavors.items():
        uri = f"{run_uri}/{name}"
        meta = fsregistry.models.get_model_info(uri).flavors
        ours = infos[name].flavors
        assert {k: sorted(v) for k, v in meta.items()} == {k: sorted(v) for k, v in ours.items()}
        assert meta[flavor] == ours[flavor], name  # same TF and Keras versions here
        want_theirs = theirs["module"] if name == "tfm" else theirs["keras"]
        module_ = ftf if flavor == "tensorflow" else fkeras
        assert native(module_.load_model(uri), X) == want_theirs, name
        assert pyfunc.load_model(uri).predict(X).reshape(-1).tolist() == want_theirs, name
    for uri in (theirs["model_uri"], "models:/ml-tf/1"):
        assert native(ftf.load_model(uri), X) == theirs["keras"], uri

    # autolog (fsregistry.autolog without tensorflow enables Keras's): the same fit logs the same
    # params, metrics, tag and artifacts
    fsregistry.autolog(exclude_flavors=["sklearn", "tensorflow"])
    try:
        autolog_fit(autolog_model())
        run = fsregistry.last_active_run()
    finally:
        fkeras.autolog(disable=True)
    assert run is not None
    ours, theirs_log = autolog_summary(run.info.run_id), out["autolog"]
    # MLflow's file store appends the run's step-0 metrics to the run again when the model is
    # logged (copying them to the LoggedModel): a duplicate line fsregistry does not write.
    assert theirs_log["loss_steps"] == [0, 1, 0] and ours["loss_steps"] == [0, 1]
    keys = set(ours["params"]) | set(theirs_log["params"])
    differ = {k for k in keys if ours["params"].get(k) != theirs_log["params"].get(k)}
    assert differ == set(), {
        k: (ours["params"].get(k), theirs_log["params"].get(k)) for k in differ
    }
    assert {**ours, "loss_steps": None} == {**theirs_log, "loss_steps": None}
