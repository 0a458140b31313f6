"""The ``fsregistry.pytorch`` tests; they need torch, so ``tests/test_flavor_pytorch.py`` runs
this file in the torch venv (``fsreg_testing/torch_env.py``); it is not collected by itself.

Tiny models trained here, saved in both formats (pt2, pickle), logged to every store, loaded
natively and as pyfunc (DataFrame and array input, devices), state dicts, bad input, scored by
spark_udf and the scoring server, and round-tripped with real MLflow 3.17.2 (+ torch) in both
directions.
"""

# ruff: noqa: F811

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

import fsregistry
from fsreg_testing.flavors import (
    needs_java,
    served_predictions,
    spark_scores,
)
from fsreg_testing.mlflow_env import run_mlflow
from fsreg_testing.models import local_tracking, model_cache, tracking  # noqa: F401 - fixtures
from fsregistry import pyfunc
from fsregistry import pytorch as fpt
from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist
from fsregistry.models.hashes import ModelIntegrityError

MLFLOW_EXTRAS = ("torch==2.13.0",)
MLFLOW_ENV = {"MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true"}


def data(n: int = 24) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    X = rng.uniform(-1, 1, (n, 3)).astype(np.float32)
    y = (X @ np.array([[1.5], [-2.0], [0.5]], dtype=np.float32) + 0.3).astype(np.float32)
    return X, y


def trained(model: torch.nn.Module | None = None, steps: int = 30) -> torch.nn.Module:
    """A tiny regression net trained a few SGD steps (deterministic)."""
    torch.manual_seed(7)
    net = model or torch.nn.Sequential(
        torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1)
    )
    X, y = data()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(torch.from_numpy(X)), torch.from_numpy(y))
        loss.backward()
        opt.step()
    return net.eval()


def predict(model: Any, X: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return np.asarray(model(torch.from_numpy(X)).numpy())


def frame(X: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(X, columns=["a", "b", "c"])


def mlmodel(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load((path / "MLmodel").read_text()))


PYFUNC_CONF = {
    "loader_module": "mlflow.pytorch",
    "data": "data",
    "pickle_module_name": "mlflow.pytorch.pickle_module",
    "config": {"device": None},
}


# ----------------------------------------------------------------------------- saving
def test_pt2_is_the_default_layout_and_loads(tmp_path: Path) -> None:
    model = trained()
    X, _ = data()
    path = tmp_path / "m"
    fpt.save_model(model, path, input_example=X[:4])
    assert sorted(p.name for p in (path / "data").iterdir()) == ["model.pt2"]
    meta = mlmodel(path)
    assert meta["flavors"]["pytorch"] == {
        "model_data": "data",
        "pytorch_version": torch.__version__,
        "code": None,
    }
    conf = meta["flavors"]["python_function"]
    assert {k: conf[k] for k in PYFUNC_CONF} == PYFUNC_CONF
    sig = json.loads(meta["signature"]["inputs"])
    assert sig == [{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}]
    reqs = (path / "requirements.txt").read_text().splitlines()
    assert f"torch=={torch.__version__.split('+')[0]}" in reqs
    assert any(r.startswith("cloudpickle==") for r in reqs)
    expected = predict(model, X)
    native = fpt.load_model(str(path))
    np.testing.assert_array_equal(predict(native, X), expected)  # dynamic batch axis
    pf = pyfunc.load_model(str(path))
    np.testing.assert_array_equal(pf.predict(X), expected)
    assert isinstance(pf.get_raw_model(), torch.nn.Module)


def test_pickle_format_with_a_class_of_its_own(tmp_path: Path) -> None:
    class Net(torch.nn.Module):  # local class: cloudpickle saves it by value
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(3, 1)

        def forward(self, x: torch.Tensor, scale: float = 1.0) -> torch.Tensor:
            return self.lin(x) * scale

    model = trained(Net())
    X, _ = data()
    path = tmp_path / "m"
    fpt.save_model(model, path, input_example=frame(X[:3]), serialization_format="pickle")
    files = sorted(p.name for p in (path / "data").iterdir())
    assert files == ["model.pth", "pickle_module_info.txt"]
    assert (path / "data" / "pickle_module_info.txt").read_text() == (
        "mlflow.pytorch.pickle_module"
    )
    expected = predict(model, X)
    native = fpt.load_model(str(path), map_location="cpu", device="cpu")
    assert not native.training
    np.testing.assert_array_equal(predict(native, X), expected)
    pf = pyfunc.load_model(str(path))
    got = pf.predict(frame(X).set_axis(range(100, 124)))
    assert isinstance(got, pd.DataFrame) and list(got.index) == list(range(100, 124))
    np.testing.assert_array_equal(got.to_numpy(), expected)
    np.testing.assert_array_equal(pf._model_impl.predict(X, {"scale": 2.0}), expected * 2)


def test_pickle_module_and_scripted_models(tmp_path: Path) -> None:
    import pickle

    model = trained()
    X, _ = data()
    fpt.save_model(model, tmp_path / "p", serialization_format="pickle", pickle_module=pickle)
    assert (tmp_path / "p" / "data" / "pickle_module_info.txt").read_text() == "pickle"
    assert mlmodel(tmp_path / "p")["flavors"]["python_function"]["pickle_module_name"] == "pickle"
    np.testing.assert_array_equal(
        predict(fpt.load_model(str(tmp_path / "p")), X), predict(model, X)
    )
    scripted = torch.jit.script(model)
    fpt.save_model(scripted, tmp_path / "s", serialization_format="pickle")
    np.testing.assert_array_equal(
        pyfunc.load_model(str(tmp_path / "s")).predict(X), predict(model, X)
    )
    with pytest.raises(InvalidParameterValue, match=r"not supported for torch\.jit\.ScriptModule"):
        fpt.save_model(scripted, tmp_path / "s2", input_example=X)
    assert not (tmp_path / "s2").exists()


def test_export_model_is_deprecated_pt2(tmp_path: Path) -> None:
    X, _ = data()
    with pytest.warns(FutureWarning, match="`export_model` argument is deprecated"):
        fpt.save_model(trained(), tmp_path / "m", input_example=X, export_model=True)
    assert (tmp_path / "m" / "data" / "model.pt2").is_file()
    with pytest.raises(InvalidParameterValue, match="Cannot set both `export_model=True`"):
        fpt.save_model(trained(), tmp_path / "n", export_model=True, serialization_format="pickle")
    assert not (tmp_path / "n").exists()


def test_pt2_tensor_and_multi_input_examples_have_no_pyfunc(tmp_path: Path) -> None:
    from fsregistry.models.signature import infer_signature

    class Two(torch.nn.Module):
        def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
            return a.sum(dim=1, keepdim=True) - b

    X, _ = data()
    t = torch.from_numpy(X)
    with pytest.raises(InvalidParameterValue, match="input signature must be specified"):
        fpt.save_model(trained(), tmp_path / "t0", input_example=t)  # no example saved, no sig
    assert not (tmp_path / "t0").exists()
    sig = infer_signature(X, predict(trained(), X))
    fpt.save_model(trained(), tmp_path / "t", input_example=t, signature=sig)
    meta = mlmodel(tmp_path / "t")
    assert "python_function" not in meta["flavors"] and "saved_input_example_info" not in meta
    np.testing.assert_array_equal(
        predict(fpt.load_model(str(tmp_path / "t")), X), predict(trained(), X)
    )
    from fsregistry.models.schema import Schema, TensorSpec
    from fsregistry.models.signature import ModelSignature

    two_sig = ModelSignature(
        Schema(
            [
                TensorSpec(np.dtype("float32"), (-1, 3), "a"),
                TensorSpec(np.dtype("float32"), (-1, 1), "b"),
            ]
        )
    )
    b = np.ones((len(X), 1), dtype=np.float32)
    fpt.save_model(Two(), tmp_path / "two", input_example=(X, b), signature=two_sig)
    assert "python_function" not in mlmodel(tmp_path / "two")["flavors"]
    loaded = fpt.load_model(str(tmp_path / "two"))
    np.testing.assert_allclose(
        loaded(torch.from_numpy(X), torch.from_numpy(b)).numpy(), X.sum(1, keepdims=True) - 1
    )


# ----------------------------------------------------------------------------- pyfunc
def test_pyfunc_input_types_and_devices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = trained()
    X, _ = data()
    path = tmp_path / "m"
    fpt.save_model(model, path, serialization_format="pickle")  # no signature: raw input
    expected = predict(model, X)
    pf = pyfunc.load_model(str(path), model_config={"device": "cpu"})
    assert pf._model_impl.device == "cpu"
    np.testing.assert_array_equal(pf.predict(X), expected)
    got = pf.predict(frame(X).astype("float64"))  # a DataFrame is fed as float32
    np.testing.assert_array_equal(got.to_numpy(), expected)
    with pytest.raises(InvalidParameterValue, match="does not support List or Dict"):
        pf.predict(X.tolist())
    with pytest.raises(InvalidParameterValue, match="must be specified at load time"):
        pf._model_impl.predict(X, params={"device": "cpu"})  # no signature: pyfunc drops params
    with pytest.raises(InvalidParameterValue, match="cannot run on this input"):
        pf.predict(X[:, :2])
    monkeypatch.setenv("MLFLOW_DEFAULT_PREDICTION_DEVICE", "meta")  # no data: shapes only
    assert pyfunc.load_model(str(path))._model_impl.device == "meta"
    monkeypatch.delenv("MLFLOW_DEFAULT_PREDICTION_DEVICE")
    assert pyfunc.load_model(str(path))._model_impl.device == "cpu"  # no CUDA here
    with pytest.raises(InvalidParameterValue, match="Invalid torch device 'gpu0'"):
        fpt.load_model(str(path), device="gpu0")
    with pytest.raises(InvalidParameterValue, match="cannot be moved to device 'cuda'"):
        pyfunc.load_model(str(path), model_config={"device": "cuda"})  # a CPU-only torch
    moved = fpt.load_model(str(path), device="meta")
    assert next(moved.parameters()).device.type == "meta"


def test_exported_model_cannot_change_device(tmp_path: Path) -> None:
    X, _ = data()
    fpt.save_model(trained(), tmp_path / "m", input_example=X)
    with pytest.raises(InvalidParameterValue, match="can't be loaded on 'meta' device"):
        fpt.load_model(str(tmp_path / "m"), device="meta")
    assert fpt.load_model(str(tmp_path / "m"), device="cpu") is not None


# ----------------------------------------------------------------------------- logging
def test_log_register_and_load_from_every_store(tracking: str) -> None:
    model = trained()
    X, _ = data()
    with fsregistry.start_run() as run:
        info = fpt.log_model(
            model,
            name="net",
            input_example=X[:5],
            registered_model_name="torch-model",
            extra_pip_requirements=["einops"],
            params={"lr": 0.1},
            tags={"arch": "mlp"},
        )
    logged = fsregistry.get_logged_model(info.model_id)
    assert logged.params == {"lr": "0.1"} and logged.tags["arch"] == "mlp"
    assert info.model_uri == f"models:/{info.model_id}"
    assert info.run_id == run.info.run_id and info.registered_model_version == 1
    expected = predict(model, X)
    for uri in (info.model_uri, "models:/torch-model/1"):
        np.testing.assert_array_equal(predict(fpt.load_model(uri), X), expected)
        np.testing.assert_array_equal(pyfunc.load_model(uri).predict(X), expected)
    reqs = Path(pyfunc.get_model_dependencies(info.model_uri)).read_text().splitlines()
    assert "einops" in reqs and any(r.startswith("torch==") for r in reqs)


def test_state_dict_save_log_load(tracking: str, tmp_path: Path) -> None:
    model = trained()
    X, _ = data()
    fpt.save_state_dict(model.state_dict(), tmp_path / "sd")
    assert sorted(p.name for p in (tmp_path / "sd").iterdir()) == ["state_dict.pth"]
    with fsregistry.start_run() as run:
        fpt.log_state_dict(model.state_dict(), "checkpoint")
    for uri in (str(tmp_path / "sd"), f"runs:/{run.info.run_id}/checkpoint"):
        fresh = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
        fresh.load_state_dict(fpt.load_state_dict(uri))
        np.testing.assert_array_equal(predict(fresh.eval(), X), predict(model, X))
    with pytest.raises(InvalidParameterValue, match="Must be an instance of `dict`"):
        fpt.save_state_dict(model, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
    with pytest.raises(ResourceDoesNotExist, match=r"No state_dict\.pth"):
        fpt.load_state_dict(str(tmp_path))
    (tmp_path / "sd" / "state_dict.pth").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ModelIntegrityError, match="corrupted or incomplete"):
        fpt.load_state_dict(str(tmp_path / "sd"))


# ----------------------------------------------------------------------------- bad input
def test_bad_input_writes_nothing(tmp_path: Path) -> None:
    X, _ = data()
    target = tmp_path / "m"
    with pytest.raises(InvalidParameterValue, match=r"should be a torch.nn.Module.*Tensor"):
        fpt.save_model(torch.zeros(3), target, input_example=X)
    with pytest.raises(InvalidParameterValue, match="input_example is required"):
        fpt.save_model(trained(), target)  # pt2 default needs an example
    with pytest.raises(InvalidParameterValue, match="input_example is required"):
        fpt.save_model(trained(), target, input_example=frame(X))
    with pytest.raises(InvalidParameterValue, match="must be one of 'pickle' or 'pt2'"):
        fpt.save_model(trained(), target, serialization_format="onnx")
    with pytest.raises(InvalidParameterValue, match="pickle_module must be a module"):
        fpt.save_model(trained(), target, serialization_format="pickle", pickle_module="pickle")
    from fsregistry.models.signature import infer_signature

    class DataDependent(torch.nn.Module):  # torch.export cannot trace the branch
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x if x.sum() > 0 else -x

    with pytest.raises(InvalidParameterValue, match="Saving the pytorch model failed"):
        fpt.save_model(DataDependent(), target, input_example=X)
    assert not target.exists()
    col_sig = infer_signature(frame(X), predict(trained(), X))
    with pytest.raises(InvalidParameterValue, match="must be specified using `TensorSpec`"):
        fpt.save_model(trained(), target, input_example=X, signature=col_sig)
    assert not target.exists()


def test_corrupted_model_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    X, _ = data()
    pickled, exported = tmp_path / "p", tmp_path / "e"
    fpt.save_model(trained(), pickled, serialization_format="pickle")
    fpt.save_model(trained(), exported, input_example=X)
    (pickled / "data" / "model.pth").write_bytes(b"\x80\x04garbage")
    (exported / "data" / "model.pt2").write_bytes(b"PK\x03\x04garbage")
    for path in (pickled, exported):
        with pytest.raises(ModelIntegrityError):
            fpt.load_model(str(path))  # the hash check
        for load in (fpt.load_model, pyfunc.load_model):
            with pytest.raises(ModelIntegrityError, match="corrupted or incomplete"):
                load(str(path), verify=False)
    fine = tmp_path / "f"
    fpt.save_model(trained(), fine, serialization_format="pickle")
    (fine / "data" / "pickle_module_info.txt").unlink()
    with pytest.raises(ModelIntegrityError, match=r"pickle_module_info\.txt"):
        fpt.load_model(str(fine), verify=False)
    state = tmp_path / "sd"
    fpt.save_model(trained(), state, serialization_format="pickle")
    torch.save(trained().state_dict(), state / "data" / "model.pth")
    with pytest.raises(ModelIntegrityError, match=r"not a torch\.nn\.Module"):
        fpt.load_model(str(state), verify=False)
    (state / "data" / "pickle_module_info.txt").write_text("no_such_pickle_module")
    with pytest.raises(ResourceDoesNotExist, match="`no_such_pickle_module`"):
        fpt.load_model(str(state), verify=False)
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(InvalidParameterValue, match=r"pip install 'fsregistry\[pytorch\]'"):
        fpt.load_model(str(exported), verify=False)
    with pytest.raises(InvalidParameterValue, match=r"pip install 'fsregistry\[pytorch\]'"):
        fpt.save_model(object(), tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_another_major_version_warns_with_both(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "m"
    fpt.save_model(trained(), path, serialization_format="pickle")
    text = (path / "MLmodel").read_text()
    (path / "MLmodel").write_text(
        text.replace(f"pytorch_version: {torch.__version__}", "pytorch_version: 1.13.1")
    )
    with caplog.at_level(logging.WARNING, logger="fsregistry.flavors"):
        pyfunc.load_model(str(path), verify=False)
    (message,) = [r.getMessage() for r in caplog.records if "major version" in r.getMessage()]
    assert "torch 1.13.1" in message and f"torch {torch.__version__}" in message


def test_lightning_names_are_provided() -> None:
    import pytorch_lightning

    assert callable(fpt.autolog) and callable(fpt.load_checkpoint)
    assert issubclass(fpt.MlflowModelCheckpointCallback, pytorch_lightning.Callback)
    assert not hasattr(fpt, "no_such_name")


def test_import_does_not_import_torch() -> None:
    import subprocess

    code = "import sys, fsregistry; fsregistry.pytorch.FLAVOR_NAME; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------------------- serving
@needs_java
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_spark_udf_scores_like_predict(spark: Any, local_tracking: str) -> None:
    model = trained()
    X, _ = data()
    with fsregistry.start_run():
        info = fpt.log_model(
            model, name="m", input_example=frame(X[:2]), serialization_format="pickle"
        )
    got = spark_scores(spark, info.model_uri, frame(X))
    np.testing.assert_allclose(got, predict(model, X).ravel(), rtol=0, atol=0)


def test_scoring_server(local_tracking: str, tmp_path: Path) -> None:
    model = trained()
    X, _ = data()
    with fsregistry.start_run():
        fpt.log_model(
            model,
            name="m",
            input_example=frame(X[:2]),
            serialization_format="pickle",
            registered_model_name="torch-served",
        )
        fpt.log_model(model, name="e", input_example=X[:2], registered_model_name="torch-pt2")
    got = served_predictions("models:/torch-served/1", tmp_path, local_tracking, frame(X))
    assert got == [{"0": v} for v in predict(model, X).ravel().tolist()]
    got = served_predictions("models:/torch-pt2/1", tmp_path, local_tracking, pd.DataFrame(X))
    assert got == predict(model, X).tolist()  # a tensor model answers a list of rows


# ----------------------------------------------------------------------------- MLflow
MLFLOW_TORCH = r"""
import json
import os
import numpy as np
import pandas as pd
import torch
import mlflow
import mlflow.pyfunc
import mlflow.pytorch

cfg = json.loads(CFG)
mlflow.set_tracking_uri(cfg["tracking_uri"])
mlflow.set_registry_uri(cfg["tracking_uri"])
X = np.asarray(cfg["X"], dtype=np.float32)
out = {"loaded": {}, "safe": {}}


def feed(info):
    # the input as the signature takes it: an array (tensor spec) or a DataFrame a, b, c
    if info.signature is None or info.signature.inputs.is_tensor_spec():
        return X
    return pd.DataFrame(X, columns=list("abc"))


# MLflow 3 loads a pt2 model without MLFLOW_ALLOW_PICKLE_DESERIALIZATION once it has checked
# that the archive holds no pickle
os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "false"
for uri in cfg["pt2_uris"]:
    with torch.no_grad():
        nat = mlflow.pytorch.load_model(uri)(torch.from_numpy(X)).numpy()
    out["safe"][uri] = nat.ravel().tolist()
os.environ["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"
for uri in cfg["uris"]:
    native = mlflow.pytorch.load_model(uri)
    with torch.no_grad():
        nat = native(torch.from_numpy(X)).numpy()
    info = mlflow.models.get_model_info(uri)
    pf = mlflow.pyfunc.load_model(uri)
    out["loaded"][uri] = {
        "native": nat.ravel().tolist(),
        "pyfunc": np.asarray(pf.predict(feed(info))).ravel().tolist(),
        "conf": info.flavors["pytorch"],
        "pyfunc_conf": info.flavors["python_function"],
    }
torch.manual_seed(3)
net = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1))
with torch.no_grad():
    out["pred"] = net(torch.from_numpy(X)).numpy().ravel().tolist()
with mlflow.start_run() as run:
    pt2 = mlflow.pytorch.log_model(net, name="pt2", input_example=X[:4],
                                   registered_model_name="ml-torch")
    pkl = mlflow.pytorch.log_model(net, name="pkl", input_example=pd.DataFrame(X[:4], columns=list("abc")),
                                   serialization_format="pickle")
out["uris"] = [pt2.model_uri, pkl.model_uri, f"runs:/{run.info.run_id}/pkl"]
print(json.dumps(out))
"""


@pytest.mark.mlflow
def test_mlflow_round_trip_both_directions(local_tracking: str, tmp_path: Path) -> None:
    model = trained()
    X, _ = data()
    with fsregistry.start_run():
        pt2 = fpt.log_model(model, name="pt2", input_example=X[:4], registered_model_name="fs-t")
        pkl = fpt.log_model(
            model, name="pkl", input_example=frame(X[:4]), serialization_format="pickle"
        )
    uris = [pt2.model_uri, "models:/fs-t/1", pkl.model_uri]
    cfg = {
        "tracking_uri": Path(local_tracking).as_uri(),
        "uris": uris,
        "pt2_uris": uris[:2],
        "X": X.tolist(),
    }
    snippet = f"CFG = {json.dumps(json.dumps(cfg))}\n" + MLFLOW_TORCH
    logged = run_mlflow("3.17.2", snippet, cwd=tmp_path, env=MLFLOW_ENV, extras=MLFLOW_EXTRAS)
    expected = predict(model, X).ravel().tolist()
    for uri, info in ((uris[0], pt2), (uris[1], pt2), (uris[2], pkl)):
        got = logged["loaded"][uri]
        assert got["native"] == got["pyfunc"] == expected, uri
        assert got["conf"] == info.flavors["pytorch"]
        assert {k: got["pyfunc_conf"][k] for k in PYFUNC_CONF} == PYFUNC_CONF
    assert logged["safe"] == {uri: expected for uri in uris[:2]}
    # theirs: same MLmodel entries as ours, and the same predictions here
    for uri in logged["uris"]:
        theirs = fsregistry.models.get_model_info(uri).flavors
        assert theirs["pytorch"] == {
            "model_data": "data",
            "pytorch_version": torch.__version__,
            "code": None,
        }
        assert predict(fpt.load_model(uri), X).ravel().tolist() == logged["pred"], uri
        pf = pyfunc.load_model(uri)
        sig = pf.metadata.signature
        got = pf.predict(X if sig is None or sig.inputs.is_tensor_spec() else frame(X))
        assert np.asarray(got).ravel().tolist() == logged["pred"], uri
    assert predict(fpt.load_model("models:/ml-torch/1"), X).ravel().tolist() == logged["pred"]
