"""``fsregistry.tensorflow.autolog`` with real TensorFlow, and a TF model scored by ``spark_udf``:
run by ``tests/test_flavor_tensorflow.py`` inside the cached TensorFlow venv (like
``flavor_tensorflow_cases.py``).

The differential case trains the same Keras model with an ``EarlyStopping`` callback under
MLflow 3.17.2 (its venv with ``tensorboard``: without it MLflow's TensorFlow autolog fails in
``fit``) and under fsregistry, and compares params, metrics (values and steps), tags,
artifacts, checkpoint metrics and the LoggedModel; MLflow loads fsregistry's autologged model,
and ``mlflow.autolog()`` / ``fsregistry.autolog()`` both pick TensorFlow's integration."""

# ruff: noqa: F811

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import fsregistry
from fsreg_testing.flavors import needs_java, spark_scores
from fsreg_testing.mlflow_env import run_mlflow
from fsreg_testing.models import local_tracking  # noqa: F401 - fixture
from fsreg_testing.tf_env import TF_VERSION
from fsregistry import keras as fkeras
from fsregistry import pyfunc
from fsregistry import tensorflow as ftf
from fsregistry.exceptions import FsRegistryException, InvalidParameterValue
from fsregistry.keras import autologging as kauto

if not os.environ.get("FSREG_TF_SUITE"):  # pragma: no cover - a guard, not a skip
    raise RuntimeError("run through tests/test_flavor_tensorflow.py (it builds the TF venv)")

import keras
import tensorflow as tf

MLFLOW_VERSION = "3.17.2"
#: MLflow's TensorFlow autolog needs tensorboard (tensorflow-cpu 2.21 does not bring it).
MLFLOW_EXTRAS = (f"tensorflow-cpu=={TF_VERSION}", "tensorboard")
MLFLOW_ENV = {"MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true", "TF_CPP_MIN_LOG_LEVEL": "3"}
ORIGINAL_FIT = keras.Model.fit


def data(n: int = 32, seed: int = 21) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 3)).astype("float32")


def model_() -> Any:
    keras.utils.set_random_seed(5)
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)]
    )
    model.compile(optimizer=keras.optimizers.Adam(name="adam"), loss="mse", metrics=["mae"])
    return model


def fit(model: Any, epochs: int = 4, **kwargs: Any) -> Any:
    """Early stopping (a huge ``min_delta``) stops after epoch 1 and restores epoch 0."""
    X = data()
    stop = keras.callbacks.EarlyStopping(
        monitor="loss", patience=0, restore_best_weights=True, min_delta=10
    )
    kwargs = {"batch_size": 8, "validation_split": 0.25, "callbacks": [stop], **kwargs}
    return model.fit(X, X.sum(axis=1), epochs=epochs, verbose=0, **kwargs)


def summary(run_id: str) -> dict[str, Any]:
    """What an autologged run holds (the MLflow snippet computes the same)."""
    client = fsregistry.MlflowClient()
    run = client.get_run(run_id)

    def artifacts(path: str | None = None) -> list[str]:
        out: list[str] = []
        for a in client.list_artifacts(run_id, path):
            out += artifacts(a.path) if a.is_dir else [a.path]
        return out

    arts = artifacts()
    metrics = {
        k: sorted({(m.step, m.value) for m in client.get_metric_history(run_id, k)})
        for k in run.data.metrics
    }
    outputs = run.outputs.model_outputs if run.outputs else []
    model = client.get_logged_model(outputs[0].model_id) if outputs else None
    checkpoint = None
    if "checkpoints/latest_checkpoint_metrics.json" in arts:
        checkpoint = fsregistry.artifacts.load_dict(
            f"{run.info.artifact_uri}/checkpoints/latest_checkpoint_metrics.json"
        )
    return {
        "params": run.data.params,
        "metrics": metrics,
        "tags": sorted(k for k in run.data.tags if not k.startswith("mlflow.source")),
        "autologging": run.data.tags.get("mlflow.autologging"),
        "checkpoint_tag": run.data.tags.get("mlflow.latest_checkpoint_artifact"),
        "artifacts": sorted(arts),
        "checkpoint": checkpoint,
        "status": run.info.status,
        "model": None if model is None else {"name": model.name, "params": model.params},
        "model_id": None if model is None else model.model_id,
    }


MLFLOW_AUTOLOG = r"""
import json
import numpy as np
import keras
import tensorflow as tf
import mlflow, mlflow.pyfunc, mlflow.tensorflow
from mlflow.artifacts import load_dict

cfg = json.loads(CFG)
mlflow.set_tracking_uri(cfg["tracking_uri"])
mlflow.set_registry_uri(cfg["tracking_uri"])
keras.utils.disable_interactive_logging()
X = np.asarray(cfg["X"], dtype="float32")

if cfg["mode"] == "all":
    mlflow.autolog(exclude_flavors=["sklearn"])
else:
    mlflow.tensorflow.autolog(registered_model_name="ml-auto-tf")
keras.utils.set_random_seed(5)
m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                      keras.layers.Dense(1)])
m.compile(optimizer=keras.optimizers.Adam(name="adam"), loss="mse", metrics=["mae"])
stop = keras.callbacks.EarlyStopping(monitor="loss", patience=0, restore_best_weights=True,
                                     min_delta=10)
m.fit(X, X.sum(axis=1), epochs=4, batch_size=8, validation_split=0.25, verbose=0,
      callbacks=[stop])
run_id = mlflow.last_active_run().info.run_id
client = mlflow.MlflowClient()
run = client.get_run(run_id)


def artifacts(path=None):
    out = []
    for a in client.list_artifacts(run_id, path):
        out += artifacts(a.path) if a.is_dir else [a.path]
    return out


arts = artifacts()
model = client.get_logged_model(run.outputs.model_outputs[0].model_id)
out = {
    "params": run.data.params,
    "metrics": {k: sorted({(m.step, m.value) for m in client.get_metric_history(run_id, k)})
                for k in run.data.metrics},
    "tags": sorted(k for k in run.data.tags if not k.startswith("mlflow.source")),
    "autologging": run.data.tags.get("mlflow.autologging"),
    "checkpoint_tag": run.data.tags.get("mlflow.latest_checkpoint_artifact"),
    "artifacts": sorted(arts),
    "checkpoint": load_dict(run.info.artifact_uri
                            + "/checkpoints/latest_checkpoint_metrics.json"),
    "status": run.info.status,
    "model": {"name": model.name, "params": model.params},
    "signature": mlflow.models.get_model_info(f"models:/{model.model_id}").signature.to_dict(),
    "conf": mlflow.models.get_model_info(f"models:/{model.model_id}").flavors["tensorflow"],
}
if cfg.get("ours"):
    pf = mlflow.pyfunc.load_model(cfg["ours"])
    out["ours_pyfunc"] = np.asarray(pf.predict(X)).reshape(-1).tolist()
    out["ours_native"] = mlflow.tensorflow.load_model(cfg["ours"]).predict(X).reshape(-1).tolist()
print(json.dumps(out))
"""


def _mlflow(mode: str, tmp_path: Path, ours: str | None = None) -> dict[str, Any]:
    cfg = {
        "tracking_uri": (tmp_path / f"ml-{mode}").as_uri(),
        "X": data().tolist(),
        "mode": mode,
        "ours": ours,
    }
    snippet = f"CFG = {json.dumps(json.dumps(cfg))}\n" + MLFLOW_AUTOLOG
    cwd = tmp_path / f"cwd-{mode}"
    cwd.mkdir()
    return run_mlflow(
        MLFLOW_VERSION, snippet, cwd=cwd, env=MLFLOW_ENV, extras=MLFLOW_EXTRAS, timeout=1200
    )


def _same(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    keys = set(ours["params"]) | set(theirs["params"])
    differ = {k: (ours["params"].get(k), theirs["params"].get(k)) for k in keys}
    assert {k: v for k, v in differ.items() if v[0] != v[1]} == {}
    assert set(ours["metrics"]) == set(theirs["metrics"])
    for key, points in theirs["metrics"].items():
        got = ours["metrics"][key]
        assert [s for s, _ in got] == [s for s, _ in points], key
        np.testing.assert_allclose([v for _, v in got], [v for _, v in points], atol=1e-6)
    # without the tensorboard package (this venv) fsregistry logs no tensorboard_logs
    board = [a for a in theirs["artifacts"] if a.startswith("tensorboard_logs/")]
    assert {a.split("/")[1] for a in board} == {"train", "validation"}
    assert ours["artifacts"] == [a for a in theirs["artifacts"] if a not in board]
    for key in ("tags", "autologging", "checkpoint_tag", "status", "model"):
        assert ours[key] == theirs[key], key
    assert ours["checkpoint"].keys() == theirs["checkpoint"].keys()
    for key, value in theirs["checkpoint"].items():
        assert ours["checkpoint"][key] == pytest.approx(value, abs=1e-6), key


@pytest.mark.mlflow
def test_tensorflow_autolog_matches_mlflow(local_tracking: str, tmp_path: Path) -> None:
    ftf.autolog(registered_model_name="fs-auto-tf")
    try:
        model = model_()
        fit(model)
        run = fsregistry.last_active_run()
    finally:
        ftf.autolog(disable=True)
    assert run is not None
    ours = summary(run.info.run_id)
    local = Path(local_tracking)
    model_dir = next(local.rglob(f"{ours['model_id']}/artifacts/MLmodel")).parent
    theirs = _mlflow("tf", tmp_path, ours=str(model_dir))
    _same(ours, theirs)
    assert ours["autologging"] == "tensorflow" and "opt_name" in ours["params"]
    assert ours["params"]["monitor"] == "loss" and "stopped_epoch" in ours["metrics"]
    info = fsregistry.models.get_model_info(f"models:/{ours['model_id']}")
    assert info.signature is not None and info.signature.to_dict() == theirs["signature"]
    assert info.flavors["tensorflow"] == theirs["conf"]
    X = data()
    want = model.predict(X, verbose=0).reshape(-1).tolist()
    loaded = ftf.load_model("models:/fs-auto-tf/1")
    assert loaded.predict(X, verbose=0).reshape(-1).tolist() == want
    # MLflow loads fsregistry's autologged model
    assert theirs["ours_pyfunc"] == want and theirs["ours_native"] == want
    # the latest (best val_loss: epoch 1) checkpoint is a whole model
    checkpoint = ftf.load_checkpoint(run_id=run.info.run_id)
    assert isinstance(checkpoint, keras.Model) and ours["checkpoint"]["epoch"] == 1
    assert checkpoint.predict(X, verbose=0).shape == (len(X), 1)
    with pytest.raises(FsRegistryException, match="no logged checkpoint artifact"):
        ftf.load_checkpoint(run_id=fsregistry.MlflowClient().create_run("0").info.run_id)


@pytest.mark.mlflow
def test_autolog_picks_tensorflow_as_mlflow_does(local_tracking: str, tmp_path: Path) -> None:
    theirs = _mlflow("all", tmp_path)
    fsregistry.autolog(exclude_flavors=["sklearn"])
    try:
        assert kauto.AUTOLOGGER.enabled  # both enabled, as MLflow
        fit(model_())
        run = fsregistry.last_active_run()
    finally:
        fsregistry.autolog(disable=True, exclude_flavors=["sklearn"])
    assert keras.Model.fit is ORIGINAL_FIT and "fit" not in vars(keras.Model)
    assert run is not None
    ours = summary(run.info.run_id)
    assert theirs["autologging"] == ours["autologging"] == "tensorflow"
    assert not any(k.startswith("optimizer_") for k in {*ours["params"], *theirs["params"]})
    assert sorted(ours["params"]) == sorted(theirs["params"])


def test_autolog_disable_exclusive_and_no_models(local_tracking: str) -> None:
    ftf.autolog(log_models=False, exclusive=True, checkpoint=False)
    try:
        assert keras.Model.fit is not ORIGINAL_FIT
        with fsregistry.start_run() as user_run:
            fit(model_())  # exclusive: the user's run gets nothing
        fit(model_())
        run = fsregistry.last_active_run()
    finally:
        ftf.autolog(disable=True)
    assert keras.Model.fit is ORIGINAL_FIT and "fit" not in vars(keras.Model)
    client = fsregistry.MlflowClient()
    assert client.get_run(user_run.info.run_id).data.params == {}
    assert run is not None and run.info.run_id != user_run.info.run_id
    got = summary(run.info.run_id)
    assert got["model"] is None and got["artifacts"] == ["model_summary.txt"]
    assert got["status"] == "FINISHED" and got["checkpoint_tag"] is None
    runs = len(fsregistry.search_runs(output_format="list"))
    fit(model_())  # disabled
    assert len(fsregistry.search_runs(output_format="list")) == runs


def test_autolog_failing_step_warns_and_training_raises_fails_run(
    local_tracking: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fsregistry.tensorflow import autologging

    def broken(self: Any, call: Any, history: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(autologging.TensorFlowFitLogger, "log_model", broken)
    ftf.autolog(checkpoint=False)
    try:
        with caplog.at_level(logging.WARNING, logger="fsregistry.tensorflow.autologging"):
            history = fit(model_())
        run = fsregistry.last_active_run()
        assert history.epoch == [0, 1] and run is not None
        assert "Failed to autolog (broken): RuntimeError: disk on fire" in caplog.text
        assert summary(run.info.run_id)["status"] == "FINISHED"
        caplog.clear()
        ftf.autolog(checkpoint=False, silent=True)
        with caplog.at_level(logging.WARNING, logger="fsregistry.tensorflow.autologging"):
            fit(model_())
        assert "disk on fire" not in caplog.text
        monkeypatch.undo()
        bad = np.zeros((8, 5), "float32")  # 5 features for a 3-input model
        with pytest.raises(ValueError):
            model_().fit(bad, bad[:, 0], epochs=1, verbose=0)
        failed = fsregistry.last_active_run()
    finally:
        ftf.autolog(disable=True)
    assert failed is not None and failed.info.run_id != run.info.run_id
    got = summary(failed.info.run_id)
    assert got["status"] == "FAILED" and not any(got["metrics"]), got
    client = fsregistry.MlflowClient()
    assert not client.get_run(failed.info.run_id).outputs.model_outputs


def test_autolog_steps_checkpoints_and_tf_data(local_tracking: str) -> None:
    with pytest.raises(InvalidParameterValue, match="must be None if `log_every_epoch=True`"):
        ftf.autolog(log_every_n_steps=2)
    with pytest.raises(InvalidParameterValue, match="'mode' to 'avg'"):
        ftf.autolog(checkpoint_mode="avg")
    assert keras.Model.fit is ORIGINAL_FIT  # a refused autolog patches nothing
    ftf.autolog(
        log_every_epoch=False,
        log_every_n_steps=2,
        checkpoint_save_best_only=False,
        checkpoint_save_weights_only=True,
        log_input_examples=True,
    )
    try:
        X = data()
        ds = tf.data.Dataset.from_tensor_slices((X, X.sum(axis=1))).batch(8)
        model = model_()
        model.fit(ds, epochs=2, verbose=0)
        run = fsregistry.last_active_run()
    finally:
        ftf.autolog(disable=True)
    assert run is not None
    got = summary(run.info.run_id)
    assert got["params"]["batch_size"] == "8"
    assert [s for s, _ in got["metrics"]["loss"]] == [2, 4, 6, 8]  # 4 batches an epoch
    assert "val_loss" not in got["metrics"]
    assert got["checkpoint_tag"] == "checkpoints/epoch_1/checkpoint.weights.h5"
    assert {a for a in got["artifacts"] if a.startswith("checkpoints/")} == {
        f"checkpoints/epoch_{e}/{f}"
        for e in (0, 1)
        for f in ("checkpoint.weights.h5", "checkpoint_metrics.json")
    }
    uri = f"{run.info.artifact_uri}/checkpoints/epoch_1/checkpoint_metrics.json"
    assert fsregistry.artifacts.load_dict(uri).keys() == {"loss", "mae", "epoch", "global_step"}
    assert fsregistry.artifacts.load_dict(uri)["global_step"] == 8
    info = fsregistry.models.get_model_info(f"models:/{got['model_id']}")
    assert info.signature is not None and info.signature.inputs.to_dict() == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}
    ]
    uri = f"models:/{got['model_id']}"
    example = fsregistry.models.Model.load(uri).load_input_example(uri)
    np.testing.assert_array_equal(np.asarray(example), X[:5])

    # load_checkpoint: weights-only checkpoints load into a given model
    run_id = run.info.run_id
    with pytest.raises(FsRegistryException, match="weights-only, 'model' argument must be"):
        ftf.load_checkpoint(run_id=run_id)
    with pytest.raises(FsRegistryException, match="Only one of 'epoch' and 'global_step'"):
        ftf.load_checkpoint(model_(), run_id=run_id, epoch=1, global_step=8)
    with pytest.raises(FsRegistryException, match="There is no active run"):
        ftf.load_checkpoint(model_())
    restored = ftf.load_checkpoint(model_(), run_id=run_id, epoch=1)
    assert restored.predict(X, verbose=0).tolist() == model.predict(X, verbose=0).tolist()
    first = ftf.load_checkpoint(model_(), run_id=run_id, epoch=0)
    assert first.predict(X, verbose=0).tolist() != model.predict(X, verbose=0).tolist()


@needs_java
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_spark_udf_scores_like_pyfunc(spark: Any, local_tracking: str) -> None:
    model = model_()
    X = data(24, seed=3)
    model.fit(X, X.sum(axis=1), epochs=1, verbose=0)
    rows = pd.DataFrame(X, columns=["a", "b", "c"])
    with fsregistry.start_run():
        infos = [
            ftf.log_model(model, name="tf", input_example=X[:2]),
            fkeras.log_model(model, name="k", input_example=X[:2]),
        ]
    for info in infos:
        want = np.asarray(pyfunc.load_model(info.model_uri).predict(rows)).reshape(-1)
        got = spark_scores(spark, info.model_uri, rows)
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
