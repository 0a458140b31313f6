"""``fsregistry.tensorflow`` and ``fsregistry.keras`` with real TensorFlow: run by
``tests/test_flavor_tensorflow.py`` inside the cached TensorFlow venv (``fsreg_testing/tf_env.py``;
the file name keeps the shared test venv, which has no TensorFlow, from collecting it).

Tiny models trained here (a Keras MLP, a two-input Keras model, a ``tf.Module``), saved, logged to
every store, loaded natively and as pyfunc (DataFrames, arrays, dicts; tensor signatures), bad
input, corrupted directories and the scoring server. Keras autolog and the round trips with real
MLflow are in ``flavor_tensorflow_mlflow_cases.py``; the shared models in
``fsreg_testing/tf_models.py``."""

# ruff: noqa: F811

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import fsregistry
from fsreg_testing.models import local_tracking, model_cache, tracking  # noqa: F401 - fixtures
from fsregistry import keras as fkeras
from fsregistry import pyfunc
from fsregistry import tensorflow as ftf
from fsregistry.exceptions import (
    InvalidParameterValue,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from fsregistry.models.hashes import ModelIntegrityError
from fsregistry.models.schema import ColSpec, Schema, TensorSpec
from fsregistry.models.signature import ModelSignature, infer_signature

if not os.environ.get("FSREG_TF_SUITE"):  # pragma: no cover - a guard, not a skip
    raise RuntimeError("run through tests/test_flavor_tensorflow.py (it builds the TF venv)")

import keras
import tensorflow as tf

from fsreg_testing.tf_models import TENSOR_3, Linear, data, keras_mlp, mlp, native  # noqa: F401 - mlp


def two_inputs() -> Any:
    """Inputs ``a`` [N, 2] and ``b`` [N, 1] -> one output."""
    keras.utils.set_random_seed(1)
    a = keras.Input((2,), name="a")
    b = keras.Input((1,), name="b")
    out = keras.layers.Dense(1)(keras.layers.Concatenate()([a, b]))
    return keras.Model({"a": a, "b": b}, out)


def files(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()}


ENV_FILES = {"MLmodel", "conda.yaml", "python_env.yaml", "requirements.txt", "fsreg.hashes.json"}
EXAMPLE_FILES = {"input_example.json", "serving_input_example.json"}
PYFUNC_ENV = {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}


def test_keras_model_layout_native_and_pyfunc(mlp: Any, tmp_path: Path) -> None:
    X = data()
    expected = native(mlp, X)
    path = tmp_path / "m"
    ftf.save_model(mlp, path, input_example=X[:2])
    assert files(path) == ENV_FILES | EXAMPLE_FILES | {
        "data/keras_module.txt",
        "data/save_format.txt",
        "data/model.keras",
    }
    assert (path / "data" / "keras_module.txt").read_text() == "tensorflow.keras"
    assert (path / "data" / "save_format.txt").read_text() == "tf"
    mlmodel = yaml.safe_load((path / "MLmodel").read_text())
    assert mlmodel["flavors"]["tensorflow"] == {
        "code": None,
        "data": "data",
        "keras_version": tf.__version__,
        "model_type": "keras",
        "save_format": "tf",
    }
    assert mlmodel["flavors"]["python_function"] == {
        "data": "data",
        "env": PYFUNC_ENV,
        "loader_module": "mlflow.tensorflow",
        "python_version": mlmodel["flavors"]["python_function"]["python_version"],
    }
    assert yaml.safe_load(mlmodel["signature"]["inputs"]) == TENSOR_3  # inferred from the example
    reqs = (path / "requirements.txt").read_text().splitlines()
    assert f"tensorflow-cpu=={tf.__version__}" in reqs and any(
        r.startswith("cloudpickle==") for r in reqs
    ), reqs
    loaded = ftf.load_model(str(path))
    assert isinstance(loaded, keras.Model) and native(loaded, X) == expected
    pf = pyfunc.load_model(str(path))
    assert pf.predict(X).reshape(-1).tolist() == expected  # a tensor: numpy out
    assert pf.predict(pd.DataFrame(X)).reshape(-1).tolist() == expected  # frame -> the tensor
    raw = ftf._load_pyfunc(str(path / "data"))  # no signature enforcement: MLflow's frame path
    frame = raw.predict(pd.DataFrame(X, index=range(10, 10 + len(X))))
    assert list(frame.index) == list(range(10, 34)) and frame[0].tolist() == expected
    with pytest.raises(InvalidParameterValue, match="Unsupported input data type"):
        raw.predict("x")


def test_tf_module_layout_native_and_pyfunc(tmp_path: Path) -> None:
    X = data()
    module = Linear()
    expected = native(module, X)
    path = tmp_path / "m"
    ftf.save_model(module, path, input_example=X[:2], extra_files=[str(_extra(tmp_path))])
    assert {f for f in files(path) if not f.startswith("tf2model/")} == (
        ENV_FILES | EXAMPLE_FILES | {"extra_files/notes.txt"}
    )
    assert {"tf2model/saved_model.pb", "tf2model/variables/variables.index"} <= files(path)
    mlmodel = yaml.safe_load((path / "MLmodel").read_text())
    assert mlmodel["flavors"]["tensorflow"] == {
        "code": None,
        "model_type": "tf2-module",
        "saved_model_dir": "tf2model",
        "extra_files": [{"path": "extra_files/notes.txt"}],
    }
    pyfunc_conf = mlmodel["flavors"]["python_function"]
    assert "data" not in pyfunc_conf and pyfunc_conf["loader_module"] == "mlflow.tensorflow"
    assert yaml.safe_load(mlmodel["signature"]["inputs"]) == TENSOR_3
    assert native(ftf.load_model(str(path)), X) == expected
    pf = pyfunc.load_model(str(path))
    assert pf.predict(X).reshape(-1).tolist() == expected
    assert pf.predict(pd.DataFrame(X)).reshape(-1).tolist() == expected
    with pytest.raises(InvalidParameterValue, match="must be numpy array or a list"):
        ftf._load_pyfunc(str(path)).predict({"x": X})


def _extra(tmp_path: Path) -> Path:
    extra = tmp_path / "notes.txt"
    extra.write_text("trained on noise")
    return extra


def test_named_tensor_signature_and_dict_input(tmp_path: Path) -> None:
    model = two_inputs()
    rng = np.random.default_rng(0)
    feeds = {"a": rng.normal(size=(5, 2)).astype("float32"), "b": rng.normal(size=(5, 1))}
    feeds["b"] = feeds["b"].astype("float32")
    expected = model.predict(feeds, verbose=0).reshape(-1).tolist()
    path = tmp_path / "m"
    ftf.save_model(model, path, input_example={k: v[:2] for k, v in feeds.items()})
    sig = yaml.safe_load(yaml.safe_load((path / "MLmodel").read_text())["signature"]["inputs"])
    assert sig == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 2]}, "name": "a"},
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 1]}, "name": "b"},
    ]
    got = pyfunc.load_model(str(path)).predict(feeds)
    assert got.reshape(-1).tolist() == expected


def test_keras_flavor_saved_and_exported(mlp: Any, tmp_path: Path) -> None:
    X = data()
    expected = native(mlp, X)
    path = tmp_path / "k"
    fkeras.save_model(mlp, path, input_example=X[:2])
    assert files(path) == ENV_FILES | EXAMPLE_FILES | {"data/keras_module.txt", "data/model.keras"}
    assert (path / "data" / "keras_module.txt").read_text() == "keras"
    mlmodel = yaml.safe_load((path / "MLmodel").read_text())
    assert "signature" not in mlmodel  # MLflow's Keras 3 flavor does not infer one
    assert mlmodel["flavors"]["keras"] == {
        "data": "data",
        "keras_version": keras.__version__,
        "keras_backend": "tensorflow",
        "save_exported_model": False,
    }
    conf = mlmodel["flavors"]["python_function"]
    assert conf["loader_module"] == "mlflow.keras" and "data" not in conf and "code" not in conf
    assert (path / "requirements.txt").read_text().splitlines() == [
        f"keras=={keras.__version__}",
        f"tensorflow-cpu=={tf.__version__}",
    ]
    assert native(fkeras.load_model(str(path)), X) == expected
    pf = pyfunc.load_model(str(path))
    assert pf.predict(pd.DataFrame(X))[0].tolist() == expected
    assert pf.predict(X).reshape(-1).tolist() == expected

    signature = infer_signature(X[:2], mlp.predict(X[:2], verbose=0))
    exported = tmp_path / "kx"
    fkeras.save_model(mlp, exported, save_exported_model=True, signature=signature)
    assert "data/model/saved_model.pb" in files(exported)
    conf = yaml.safe_load((exported / "MLmodel").read_text())["flavors"]["keras"]
    assert conf["save_exported_model"] is True
    assert native(fkeras.load_model(str(exported)), X) == expected
    assert pyfunc.load_model(str(exported)).predict(X).reshape(-1).tolist() == expected
    with pytest.raises(InvalidParameterValue, match="cannot be None when `save_exported_model"):
        fkeras.save_model(mlp, tmp_path / "bad", save_exported_model=True)
    assert not (tmp_path / "bad").exists()


def test_signature_rules_write_nothing(mlp: Any, tmp_path: Path) -> None:
    X = data()
    target = tmp_path / "bad"
    column_based = ModelSignature(Schema([ColSpec("float", "a")]))
    fixed_batch = ModelSignature(Schema([TensorSpec(np.dtype("float32"), (2, 3))]))
    cases: list[tuple[Any, dict[str, Any], str]] = [
        (ftf, {"input_example": pd.DataFrame(X[:2], columns=list("abc"))}, "of type TensorSpec"),
        (ftf, {"signature": column_based}, "of type TensorSpec"),
        (ftf, {"signature": fixed_batch}, "variable dimension"),
        (fkeras, {"signature": column_based}, "of type TensorSpec"),
        (fkeras, {"signature": fixed_batch}, "variable dimension"),
    ]
    for flavor, kwargs, message in cases:
        with pytest.raises(InvalidParameterValue, match=message):
            flavor.save_model(mlp, target, **kwargs)
        assert not target.exists(), (flavor, kwargs)
    ftf.save_model(mlp, tmp_path / "nosig", input_example=X[:2], signature=False)
    assert "signature" not in yaml.safe_load((tmp_path / "nosig" / "MLmodel").read_text())


def test_unsupported_objects_and_taken_targets(mlp: Any, tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    target = tmp_path / "m"
    with pytest.raises(
        InvalidParameterValue,
        match=r"^Unknown model type: .*Linear.*tf\.keras\.Model.*or a tf\.Module",
    ):
        ftf.save_model(LinearRegression(), target)
    with pytest.raises(InvalidParameterValue, match=r"must be a keras\.Model, got .*\bLinear$"):
        fkeras.save_model(Linear(), target)
    with pytest.raises(InvalidParameterValue, match="custom_objects must be a dict"):
        ftf.save_model(mlp, target, custom_objects=[1])
    with pytest.raises(InvalidParameterValue, match="Saving the tensorflow model failed"):
        ftf.save_model(mlp, target, keras_model_kwargs={"save_format": "h5", "bogus": 1})
    assert not target.exists()
    target.mkdir()
    (target / "x").write_text("taken")
    for flavor in (ftf, fkeras):
        with pytest.raises(ResourceAlreadyExists):
            flavor.save_model(mlp, target)
    assert os.listdir(target) == ["x"]


def scaled_mse(y_true: Any, y_pred: Any) -> Any:
    return keras.ops.mean(keras.ops.square(y_true - y_pred)) * 2.0


def test_custom_objects_are_saved_and_used(tmp_path: Path) -> None:
    model = keras_mlp(seed=4)
    model.compile(optimizer="adam", loss=scaled_mse)
    path = tmp_path / "m"
    ftf.save_model(model, path, custom_objects={"scaled_mse": scaled_mse})
    assert (path / "data" / "custom_objects.cloudpickle").is_file()
    loaded = ftf.load_model(str(path))
    assert native(loaded, data()) == native(model, data())
    assert loaded.loss is not None


def test_log_register_and_load_from_every_store(mlp: Any, tracking: str) -> None:
    X = data()
    expected = native(mlp, X)
    with fsregistry.start_run() as run_:
        info = ftf.log_model(
            mlp,
            name="tf",
            input_example=X[:2],
            registered_model_name="tf-model",
            extra_pip_requirements=["pandas"],
        )
        kinfo = fkeras.log_model(mlp, name="k", registered_model_name="keras-model")
    assert info.model_uri == f"models:/{info.model_id}" and info.run_id == run_.info.run_id
    assert info.registered_model_version == 1 and kinfo.registered_model_version == 1
    assert info.signature is not None and info.signature.inputs.is_tensor_spec()
    for uri in (info.model_uri, "models:/tf-model/1"):
        assert native(ftf.load_model(uri), X) == expected, uri
        assert pyfunc.load_model(uri).predict(X).reshape(-1).tolist() == expected, uri
    for uri in (kinfo.model_uri, "models:/keras-model/1"):
        assert native(fkeras.load_model(uri), X) == expected, uri
        assert pyfunc.load_model(uri).predict(pd.DataFrame(X))[0].tolist() == expected, uri
    reqs = Path(pyfunc.get_model_dependencies("models:/tf-model/1")).read_text().splitlines()
    assert "pandas" in reqs and f"tensorflow-cpu=={tf.__version__}" in reqs, reqs


def test_requirements_and_defaults() -> None:
    assert ftf.get_default_pip_requirements() == [f"tensorflow-cpu=={tf.__version__}"]
    with_pickle = ftf.get_default_pip_requirements(include_cloudpickle=True)
    assert with_pickle[1].startswith("cloudpickle==")
    conda = ftf.get_default_conda_env()
    assert {"pip": ftf.get_default_pip_requirements()} in conda["dependencies"]
    assert fkeras.get_default_pip_requirements() == [
        f"keras=={keras.__version__}",
        f"tensorflow-cpu=={tf.__version__}",
    ]
    assert {"pip": fkeras.get_default_pip_requirements()} in fkeras.get_default_conda_env()[
        "dependencies"
    ]


def test_another_major_version_warns_with_both(
    mlp: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    for flavor, version in ((ftf, tf.__version__), (fkeras, keras.__version__)):
        path = tmp_path / flavor.FLAVOR_NAME
        flavor.save_model(mlp, path)
        mlmodel = path / "MLmodel"
        text = mlmodel.read_text().replace(f"keras_version: {version}", "keras_version: 1.15.0")
        mlmodel.write_text(text)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="fsregistry.flavors"):
            model = flavor.load_model(str(path), verify=False)
            pyfunc.load_model(str(path), verify=False)
        warnings = [
            r.getMessage() for r in caplog.records if "another major version" in r.getMessage()
        ]
        assert len(warnings) == 2 and all("1.15.0" in w and version in w for w in warnings)
        assert native(model, data()) == native(mlp, data())


def test_corrupted_model_directories_are_clear_errors(mlp: Any, tmp_path: Path) -> None:
    path = tmp_path / "keras"
    ftf.save_model(mlp, path)
    (path / "data" / "model.keras").write_bytes(b"not a model")
    with pytest.raises(ModelIntegrityError, match=r"model\.keras"):  # the hash check
        ftf.load_model(str(path))
    for load in (ftf.load_model, pyfunc.load_model):  # and without it, the reader
        with pytest.raises(ModelIntegrityError, match="corrupted or incomplete"):
            load(str(path), verify=False)
    module = tmp_path / "module"
    ftf.save_model(Linear(), module)
    (module / "tf2model" / "saved_model.pb").write_bytes(b"\x00garbage")
    for load in (ftf.load_model, pyfunc.load_model):
        with pytest.raises(ModelIntegrityError, match="corrupted or incomplete"):
            load(str(module), verify=False)
    k = tmp_path / "k"
    fkeras.save_model(mlp, k)
    (k / "data" / "model.keras").unlink()
    for load in (fkeras.load_model, pyfunc.load_model):
        with pytest.raises(ModelIntegrityError, match="corrupted or incomplete"):
            load(str(k), verify=False)
    mlmodel = yaml.safe_load((path / "MLmodel").read_text())
    mlmodel["flavors"]["tensorflow"]["model_type"] = "tf1-estimator"
    (path / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    with pytest.raises(InvalidParameterValue, match="Unknown model_type: tf1-estimator"):
        ftf.load_model(str(path), verify=False)
    del mlmodel["flavors"]["tensorflow"]
    (path / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    with pytest.raises(ResourceDoesNotExist, match='Model does not have the "tensorflow" flavor'):
        ftf.load_model(str(path), verify=False)


def test_scoring_server(mlp: Any, local_tracking: str, tmp_path: Path) -> None:
    from fsreg_testing.serving import serve

    X = data(6)
    with fsregistry.start_run():
        ftf.log_model(mlp, name="m", input_example=X[:2], registered_model_name="tf-served")
    servers = serve("models:/tf-served/1", tmp_path, tracking_uri=local_tracking)
    server = next(servers)
    try:
        response = server.post({"inputs": X.tolist()})
    finally:
        servers.close()  # stops the server
    assert response.status == 200, response.body
    got = np.asarray(response.json()["predictions"], dtype="float32")
    assert got.reshape(-1).tolist() == native(mlp, X)
