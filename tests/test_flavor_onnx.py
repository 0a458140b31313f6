"""``fsregistry.onnx``: tiny ONNX graphs built here with ``onnx.helper`` (a linear model, one with
two inputs and two outputs, one whose weights go to an external data file), saved, logged to
every store, loaded natively and as pyfunc (MLflow's DataFrame / array / dict input mapping,
tensor signatures, providers, session options), scored by spark_udf and the scoring server,
and round-tripped with real MLflow 3.17.2 in both directions (identical predictions)."""

# ruff: noqa: F811

from __future__ import annotations

import base64
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
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
from fsregistry import onnx as fonnx
from fsregistry import pyfunc
from fsregistry.exceptions import (
    InvalidParameterValue,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from fsregistry.models.hashes import ModelIntegrityError
from fsregistry.models.signature import ModelSignature

onnx = pytest.importorskip("onnx", reason="fsregistry[onnx] is part of the test extra")
ort = pytest.importorskip("onnxruntime", reason="fsregistry[onnx] is part of the test extra")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

#: The MLflow venv of this module: MLflow 3.17.2 with onnx and onnxruntime (its own cached
#: venv, apart from the other flavors' one).
MLFLOW_EXTRAS = ("onnx", "onnxruntime")
F32 = TensorProto.FLOAT


def _model(nodes: list[Any], inputs: list[Any], outputs: list[Any], weights: dict[str, Any]) -> Any:
    inits = [
        numpy_helper.from_array(np.asarray(v, dtype=np.float32), k) for k, v in weights.items()
    ]
    graph = helper.make_graph(nodes, "g", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by every onnxruntime since 1.10
    onnx.checker.check_model(model)
    return model


def linear() -> Any:
    """y = x @ W + B, x: [N, 2] float."""
    return _model(
        [
            helper.make_node("MatMul", ["x", "W"], ["xw"]),
            helper.make_node("Add", ["xw", "B"], ["y"]),
        ],
        [helper.make_tensor_value_info("x", F32, [None, 2])],
        [helper.make_tensor_value_info("y", F32, [None, 1])],
        {"W": [[0.5], [-1.25]], "B": [0.25]},
    )


def two_inputs() -> Any:
    """Inputs a, b: [N]; outputs y = 0.5 a - 1.25 b + 0.25 and z = relu(y)."""
    return _model(
        [
            helper.make_node("Mul", ["a", "wa"], ["am"]),
            helper.make_node("Mul", ["b", "wb"], ["bm"]),
            helper.make_node("Add", ["am", "bm"], ["s"]),
            helper.make_node("Add", ["s", "c"], ["y"]),
            helper.make_node("Relu", ["y"], ["z"]),
        ],
        [helper.make_tensor_value_info(n, F32, [None]) for n in ("a", "b")],
        [helper.make_tensor_value_info(n, F32, [None]) for n in ("y", "z")],
        {"wa": [0.5], "wb": [-1.25], "c": [0.25]},
    )


def wide() -> Any:
    """x @ W1 @ W2 with a 2x256 W1 (2 KiB: saved as external data)."""
    rng = np.random.default_rng(5)
    return _model(
        [
            helper.make_node("MatMul", ["x", "W1"], ["h"]),
            helper.make_node("MatMul", ["h", "W2"], ["y"]),
        ],
        [helper.make_tensor_value_info("x", F32, [None, 2])],
        [helper.make_tensor_value_info("y", F32, [None, 1])],
        {"W1": rng.uniform(-1, 1, (2, 256)).round(3), "W2": rng.uniform(-1, 1, (256, 1)).round(3)},
    )


def data(n: int = 12) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame({"f1": rng.uniform(0, 2, n).round(3), "f2": rng.uniform(-1, 1, n).round(3)})


def run(model: Any, feeds: dict[str, Any]) -> list[Any]:
    """The model's outputs from onnxruntime directly."""
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {k: np.asarray(v, dtype=np.float32) for k, v in feeds.items()})


def same_model(a: Any, b: Any) -> bool:
    """Same graph and weights (an external-data tensor read back keeps its location fields)."""

    def weights(m: Any) -> dict[str, list[Any]]:
        return {i.name: numpy_helper.to_array(i).tolist() for i in m.graph.initializer}

    return (
        weights(a) == weights(b)
        and list(a.graph.node) == list(b.graph.node)
        and list(a.graph.input) == list(b.graph.input)
        and list(a.graph.output) == list(b.graph.output)
    )


def native_predict(model: Any, X: pd.DataFrame) -> np.ndarray:
    return run(model, {"x": X.to_numpy()})[0].reshape(-1)


MODELS = {"linear": linear, "wide": wide}


@pytest.mark.parametrize(("kind", "external"), [("linear", True), ("wide", True), ("wide", False)])
def test_save_and_load_native_and_pyfunc(kind: str, external: bool, tmp_path: Path) -> None:
    model = MODELS[kind]()
    before = model.SerializeToString()
    X = data()
    path = tmp_path / "model"
    fonnx.save_model(model, path, input_example=X[:3], save_as_external_data=external)
    assert model.SerializeToString() == before  # the caller's model keeps its tensors
    mlmodel = yaml.safe_load((path / "MLmodel").read_text())
    assert mlmodel["flavors"]["onnx"] == {
        "onnx_version": onnx.__version__,
        "data": "model.onnx",
        "providers": ["CUDAExecutionProvider", "CPUExecutionProvider"],
        "onnx_session_options": None,
        "code": None,
    }
    conf = mlmodel["flavors"]["python_function"]
    assert conf["loader_module"] == "mlflow.onnx"
    assert conf["data"] == "model.onnx"
    assert conf["env"] == {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}
    side_files = [f for f in os.listdir(path) if f.endswith(".data")]
    assert len(side_files) == (1 if kind == "wide" and external else 0), os.listdir(path)
    sig = ModelSignature.from_dict(mlmodel["signature"])
    assert sig.inputs.input_names() == ["f1", "f2"] and sig.outputs.input_names() == ["y"]
    reqs = (path / "requirements.txt").read_text().splitlines()
    assert any(r.startswith("onnx==") for r in reqs), reqs
    assert any(r.startswith("onnxruntime") for r in reqs), reqs
    loaded = fonnx.load_model(str(path))
    assert isinstance(loaded, onnx.ModelProto)
    assert same_model(loaded, model)
    expected = native_predict(model, X)
    pf = pyfunc.load_model(str(path))
    got = pf.predict(X)
    assert list(got.columns) == ["y"]
    np.testing.assert_array_equal(got["y"].to_numpy(), expected)
    assert isinstance(pf.get_raw_model(), ort.InferenceSession)


def test_pyfunc_input_mapping_follows_mlflow(tmp_path: Path) -> None:
    X = data()
    fonnx.save_model(linear(), tmp_path / "one")
    one = pyfunc.load_model(str(tmp_path / "one"))
    expected = native_predict(linear(), X)
    arr = one.predict(X.to_numpy())  # one input: an array is its tensor, float64 is cast
    assert set(arr) == {"y"} and arr["y"].dtype == np.float32
    np.testing.assert_array_equal(arr["y"].reshape(-1), expected)
    np.testing.assert_array_equal(one.predict({"x": X.to_numpy()})["y"].reshape(-1), expected)
    np.testing.assert_array_equal(one.predict(X)["y"].to_numpy(), expected)

    model = two_inputs()
    ab = pd.DataFrame({"a": X["f1"], "b": X["f2"]})
    y, z = run(model, {"a": ab["a"], "b": ab["b"]})
    fonnx.save_model(model, tmp_path / "two")
    two = pyfunc.load_model(str(tmp_path / "two"))
    frame = two.predict(ab[["b", "a"]])  # several inputs: one column each, by name
    assert list(frame.columns) == ["y", "z"]
    np.testing.assert_array_equal(frame["y"].to_numpy(), y)
    np.testing.assert_array_equal(frame["z"].to_numpy(), z)
    feeds = two.predict({"a": ab["a"].to_numpy(), "b": ab["b"].to_numpy()})
    assert set(feeds) == {"y", "z"}
    np.testing.assert_array_equal(feeds["z"], z)
    with pytest.raises(InvalidParameterValue, match=r"single input.*requires 2 inputs.*'a', 'b'"):
        two.predict(ab.to_numpy())
    raw = fonnx._load_pyfunc(str(tmp_path / "two"))  # past the (absent) signature check
    with pytest.raises(InvalidParameterValue, match=r"no column for the model inputs \['b'\]"):
        raw.predict(ab[["a"]])
    with pytest.raises(InvalidParameterValue, match=r"no tensor for the model inputs \['b'\]"):
        raw.predict({"a": ab["a"].to_numpy()})
    with pytest.raises(InvalidParameterValue, match="Input should be a dictionary"):
        raw.predict([[1.0, 2.0]])
    with pytest.raises(InvalidParameterValue, match="cannot run on this input"):
        fonnx._load_pyfunc(str(tmp_path / "one")).predict(np.ones((2, 3)))


def test_tensor_signature_from_a_dict_example(local_tracking: str) -> None:
    model = two_inputs()
    example = {"a": np.array([1.0, 2.0], np.float32), "b": np.array([0.5, -1.0], np.float32)}
    with fsregistry.start_run():
        info = fonnx.log_model(model, name="m", input_example=example)
    sig = info.signature.to_dict()
    assert yaml.safe_load(sig["inputs"]) == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1]}, "name": n}
        for n in ("a", "b")
    ]
    assert [s["name"] for s in yaml.safe_load(sig["outputs"])] == ["y", "z"]
    got = pyfunc.load_model(info.model_uri).predict(example)
    y, z = run(model, example)
    np.testing.assert_array_equal(got["y"], y)
    np.testing.assert_array_equal(got["z"], z)


def test_providers_and_session_options(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    options = {
        "intra_op_num_threads": 1,
        "inter_op_num_threads": 1,
        "execution_mode": "sequential",
        "graph_optimization_level": 99,
        "extra_session_config": {"session.intra_op.allow_spinning": "0"},
    }
    path = tmp_path / "m"
    fonnx.save_model(
        linear(),
        path,
        onnx_execution_providers=[("CPUExecutionProvider", {})],
        onnx_session_options=options,
    )
    conf = yaml.safe_load((path / "MLmodel").read_text())["flavors"]["onnx"]
    assert conf["providers"] == [["CPUExecutionProvider", {}]]
    assert conf["onnx_session_options"] == options
    with caplog.at_level(logging.WARNING, logger="fsregistry.onnx"):
        session = pyfunc.load_model(str(path)).get_raw_model()
    assert not caplog.records
    assert session.get_providers() == ["CPUExecutionProvider"]
    got = session.get_session_options()
    assert (got.intra_op_num_threads, got.inter_op_num_threads) == (1, 1)
    assert got.execution_mode == ort.ExecutionMode.ORT_SEQUENTIAL
    assert got.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_ALL

    fonnx.save_model(linear(), tmp_path / "gpu", onnx_execution_providers=["NoSuchProvider"])
    with caplog.at_level(logging.WARNING, logger="fsregistry.onnx"):
        session = pyfunc.load_model(str(tmp_path / "gpu")).get_raw_model()
    assert session.get_providers() == ["CPUExecutionProvider"]
    assert any("NoSuchProvider" in r.getMessage() for r in caplog.records)

    bad: list[tuple[dict[str, Any], str]] = [
        ({"onnx_session_options": {"no_such_key": 1}}, "not a valid ONNX Runtime"),
        ({"onnx_session_options": {"execution_mode": "fast"}}, "'parallel' or 'sequential'"),
        ({"onnx_session_options": {"graph_optimization_level": 3}}, "0, 1, 2, or 99, not 3"),
        ({"onnx_session_options": {"intra_op_num_threads": -1}}, ">= 0, not -1"),
        ({"onnx_session_options": {"extra_session_config": 1}}, "should be a dict"),
        ({"onnx_session_options": [("a", 1)]}, "should be a dict"),
        ({"onnx_execution_providers": "CPUExecutionProvider"}, "must be a list"),
        ({"onnx_execution_providers": [("CPUExecutionProvider",)]}, "entries must be"),
    ]
    for kwargs, message in bad:
        with pytest.raises(InvalidParameterValue, match=message):
            fonnx.save_model(linear(), tmp_path / "bad", **kwargs)
        assert not (tmp_path / "bad").exists()


def test_log_register_and_load_from_every_store(tracking: str) -> None:
    model = wide()
    X = data()
    with fsregistry.start_run() as run_:
        info = fonnx.log_model(
            model,
            name="onnx",
            input_example=X[:2],
            registered_model_name="onnx-model",
            extra_pip_requirements=["pandas"],
        )
    assert info.model_uri == f"models:/{info.model_id}"  # MLflow 3: a LoggedModel
    assert info.run_id == run_.info.run_id
    assert info.registered_model_version == 1
    assert info.flavors["onnx"]["onnx_version"] == onnx.__version__
    expected = native_predict(model, X)
    for uri in (info.model_uri, "models:/onnx-model/1"):
        np.testing.assert_array_equal(native_predict(fonnx.load_model(uri), X), expected)
        np.testing.assert_array_equal(pyfunc.load_model(uri).predict(X)["y"], expected)
    reqs = Path(pyfunc.get_model_dependencies("models:/onnx-model/1")).read_text().splitlines()
    assert "pandas" in reqs and any(r.startswith("onnxruntime") for r in reqs), reqs


def test_requirements_and_defaults(tmp_path: Path) -> None:
    reqs = fonnx.get_default_pip_requirements()
    assert reqs[0] == f"onnx=={onnx.__version__}"
    assert reqs[1].startswith("onnxruntime") and reqs[1].endswith(f"=={ort.__version__}")
    conda = fonnx.get_default_conda_env()
    assert conda["channels"] == ["conda-forge"] and {"pip": reqs} in conda["dependencies"]
    fonnx.save_model(linear(), tmp_path / "m", pip_requirements=["onnxruntime", "numpy<3"])
    assert (tmp_path / "m" / "requirements.txt").read_text().splitlines() == [
        "onnxruntime",
        "numpy<3",
    ]


def test_unsupported_objects_write_nothing(tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    target = tmp_path / "m"
    with pytest.raises(InvalidParameterValue, match=r"onnx\.ModelProto.*LinearRegression"):
        fonnx.save_model(LinearRegression(), target)
    with pytest.raises(InvalidParameterValue, match=r"onnx\.ModelProto.*bytes"):
        fonnx.save_model(linear().SerializeToString(), target)
    broken = linear()
    broken.graph.node[1].input[1] = "undefined"  # a graph the ONNX checker rejects
    with pytest.raises(InvalidParameterValue, match="not a valid ONNX model"):
        fonnx.save_model(broken, target)
    assert not target.exists()
    target.mkdir()
    (target / "x").write_text("taken")
    with pytest.raises(ResourceAlreadyExists):
        fonnx.save_model(linear(), target)
    assert os.listdir(target) == ["x"]


@pytest.mark.parametrize("module", ["onnx", "onnxruntime"])
def test_missing_framework_names_the_extra(
    module: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m"
    fonnx.save_model(linear(), path)
    monkeypatch.setitem(sys.modules, module, None)  # "import <module>" fails from here on
    loads = (
        [pyfunc.load_model] if module == "onnxruntime" else [fonnx.load_model, pyfunc.load_model]
    )
    for load in loads:
        with pytest.raises(InvalidParameterValue, match=r"pip install 'fsregistry\[onnx\]'"):
            load(str(path))
    with pytest.raises(InvalidParameterValue, match=rf"needs the {module} package"):
        fonnx.save_model(linear(), tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_another_major_version_warns_with_both(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "m"
    fonnx.save_model(linear(), path)
    mlmodel = path / "MLmodel"
    mlmodel.write_text(
        mlmodel.read_text().replace(f"onnx_version: {onnx.__version__}", "onnx_version: 0.4.0")
    )
    with caplog.at_level(logging.WARNING, logger="fsregistry.flavors"):
        model = fonnx.load_model(str(path), verify=False)
        pyfunc.load_model(str(path), verify=False)
    warnings = [r.getMessage() for r in caplog.records if "another major version" in r.getMessage()]
    assert len(warnings) == 2 and all("0.4.0" in w and onnx.__version__ in w for w in warnings)
    assert native_predict(model, data()).shape == (len(data()),)


def test_corrupted_model_directories_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "m"
    fonnx.save_model(wide(), path)
    (side,) = [f for f in os.listdir(path) if f.endswith(".data")]
    (path / "model.onnx").write_bytes(b"not a model")
    with pytest.raises(ModelIntegrityError, match=r"model\.onnx"):  # the hash check
        fonnx.load_model(str(path))
    for load in (fonnx.load_model, pyfunc.load_model):  # and without it, the readers
        with pytest.raises(ModelIntegrityError, match="corrupted or incomplete"):
            load(str(path), verify=False)
    path.rename(tmp_path / "old")
    fonnx.save_model(wide(), path)
    (side,) = [f for f in os.listdir(path) if f.endswith(".data")]
    (path / side).unlink()  # the weights are gone
    for load in (fonnx.load_model, pyfunc.load_model):
        with pytest.raises(ModelIntegrityError, match="corrupted or incomplete"):
            load(str(path), verify=False)
    (path / "model.onnx").unlink()
    with pytest.raises(ModelIntegrityError, match="corrupted or incomplete"):
        fonnx.load_model(str(path), verify=False)
    mlmodel = yaml.safe_load((path / "MLmodel").read_text())
    del mlmodel["flavors"]["onnx"]
    (path / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    with pytest.raises(ResourceDoesNotExist, match='Model does not have the "onnx" flavor'):
        fonnx.load_model(str(path), verify=False)


@needs_java
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_spark_udf_scores_like_predict(spark: Any, local_tracking: str) -> None:
    model = linear()
    X = data()
    with fsregistry.start_run():
        info = fonnx.log_model(model, name="m", input_example=X[:2])
    got = spark_scores(spark, info.model_uri, X)
    assert got == [float(v) for v in native_predict(model, X)]


def test_scoring_server(local_tracking: str, tmp_path: Path) -> None:
    model = linear()
    X = data()
    with fsregistry.start_run():
        fonnx.log_model(model, name="m", input_example=X[:2], registered_model_name="onnx-served")
    got = served_predictions("models:/onnx-served/1", tmp_path, local_tracking, X)
    assert got == [{"y": float(v)} for v in native_predict(model, X)]


MLFLOW_ONNX = (
    "import base64\n"
    "import onnx, onnxruntime\n"
    "def NATIVE(m, X):\n"
    "    s = onnxruntime.InferenceSession(m.SerializeToString(),\n"
    "                                     providers=['CPUExecutionProvider'])\n"
    "    return s.run(None, {'x': X.to_numpy().astype('float32')})[0].reshape(-1)\n"
    + MLFLOW_LOADS
    + r"""
import mlflow.onnx

out = {"loaded": load_cases(cfg)}
X = pd.DataFrame(cfg["X"])
models = {k: onnx.load_from_string(base64.b64decode(v)) for k, v in cfg["models"].items()}
# predictions first: MLflow's external-data save empties the tensors of the model it is given
preds = {k: NATIVE(m, X).tolist() for k, m in models.items()}
with mlflow.start_run() as run:
    w = mlflow.onnx.log_model(models["wide"], name="wide", input_example=X[:2],
                              registered_model_name="ml-onnx")
    mlflow.onnx.log_model(models["linear"], name="linear", save_as_external_data=False,
                          onnx_execution_providers=["CPUExecutionProvider"],
                          onnx_session_options={"intra_op_num_threads": 1})
out["wide"] = {"uri": f"runs:/{run.info.run_id}/wide", "model_uri": w.model_uri,
               "pred": preds["wide"]}
out["linear"] = {"uri": f"runs:/{run.info.run_id}/linear", "pred": preds["linear"]}
print(json.dumps(out))
"""
)


@pytest.mark.mlflow
def test_mlflow_round_trip_both_directions(local_tracking: str, tmp_path: Path) -> None:
    X = data()
    models = {"wide": wide(), "linear": linear()}
    with fsregistry.start_run():
        infos = {
            "wide": fonnx.log_model(
                models["wide"], name="w", input_example=X[:2], registered_model_name="fs-onnx"
            ),
            "linear": fonnx.log_model(
                models["linear"],
                name="l",
                save_as_external_data=False,
                onnx_execution_providers=[("CPUExecutionProvider", {})],
                onnx_session_options={"intra_op_num_threads": 1, "execution_mode": "parallel"},
            ),
        }
    cases = [
        [infos["wide"].model_uri, X.to_dict("list")],
        ["models:/fs-onnx/1", X.to_dict("list")],
        [infos["linear"].model_uri, X.to_dict("list")],
    ]
    cfg = {
        "tracking_uri": Path(local_tracking).as_uri(),
        "flavor": "onnx",
        "cases": cases,
        "X": X.to_dict("list"),
        "models": {k: base64.b64encode(m.SerializeToString()).decode() for k, m in models.items()},
    }
    snippet = f"CFG = {json.dumps(json.dumps(cfg))}\n" + MLFLOW_ONNX
    logged = run_mlflow(MLFLOW_VERSION, snippet, cwd=tmp_path, env=MLFLOW_ENV, extras=MLFLOW_EXTRAS)
    got = logged["loaded"]
    for (uri, _), kind in zip(cases, ("wide", "wide", "linear"), strict=True):
        expected = native_predict(models[kind], X).tolist()
        assert got[uri]["native"] == expected, uri
        assert got[uri]["pyfunc"] == [[v] for v in expected], uri  # a one-column DataFrame
    assert got["models:/fs-onnx/1"]["conf"] == infos["wide"].flavors["onnx"]
    assert got["models:/fs-onnx/1"]["signature"] == infos["wide"].signature.to_dict()
    assert got[infos["linear"].model_uri]["conf"]["providers"] == [["CPUExecutionProvider", {}]]

    # MLflow logged its own models in the same process; fsregistry loads them
    theirs = fsregistry.models.get_model_info(logged["wide"]["uri"]).flavors
    ours = infos["wide"].flavors
    assert {k: sorted(v) for k, v in theirs.items()} == {k: sorted(v) for k, v in ours.items()}
    assert theirs["onnx"]["providers"] == ours["onnx"]["providers"]
    assert theirs["python_function"]["loader_module"] == ours["python_function"]["loader_module"]
    for uri in (logged["wide"]["uri"], logged["wide"]["model_uri"], "models:/ml-onnx/1"):
        native = fonnx.load_model(uri)
        assert same_model(native, models["wide"]), uri
        assert native_predict(native, X).tolist() == logged["wide"]["pred"], uri
        assert pyfunc.load_model(uri).predict(X)["y"].tolist() == logged["wide"]["pred"], uri
    session = pyfunc.load_model(logged["linear"]["uri"]).get_raw_model()
    assert session.get_session_options().intra_op_num_threads == 1
    assert (
        native_predict(fonnx.load_model(logged["linear"]["uri"]), X).tolist()
        == (logged["linear"]["pred"])
    )
