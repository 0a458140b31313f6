"""Models cross between fsregistry and real MLflow (2.22.5 and 3.17.2, separate virtualenvs).

* fsregistry logs and registers scikit-learn models; MLflow loads them with
  ``mlflow.pyfunc.load_model`` and ``mlflow.sklearn.load_model`` through ``runs:/`` and
  ``models:/`` URIs, predicts the same, and reads the same signature and input example.
* MLflow logs and registers models (2.22: cloudpickle and pickle; 3.x: skops and
  cloudpickle); fsregistry, which has no MLflow installed, loads them through every URI form
  with the same predictions, signature and input example.
"""

# Fixtures come from fsreg_testing.models (imported by name), so pytest's argument names shadow
# them: that is how pytest fixtures are shared without a conftest.
# ruff: noqa: F811

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import fsregistry
from fsreg_testing.mlflow_env import MlflowPython
from fsreg_testing.models import (  # noqa: F401 - fixtures
    FRAME,
    LABELS,
    frame,
    local_tracking,
    model_cache,
    register,
    trained_model,
)
from fsregistry import pyfunc
from fsregistry import sklearn as fsk
from fsregistry.models import Model, get_model_info, infer_signature

pytestmark = pytest.mark.mlflow

MLFLOW_READS = r"""
import json, sys
import numpy as np
import pandas as pd
import mlflow
import mlflow.sklearn
from mlflow.models import Model

cfg = json.loads(sys.argv[1] if len(sys.argv) > 1 else CFG)
mlflow.set_tracking_uri(cfg["tracking_uri"])
mlflow.set_registry_uri(cfg["tracking_uri"])
out = {}
for uri, data in cfg["cases"]:
    X = pd.DataFrame(data) if isinstance(data, dict) else np.array(data, dtype="float32")
    info = mlflow.models.get_model_info(uri)
    local = mlflow.artifacts.download_artifacts(uri)
    example = Model.load(local).load_input_example(local)
    if isinstance(example, pd.DataFrame):
        example = example.to_dict("list")
    elif isinstance(example, np.ndarray):
        example = example.tolist()
    out[uri] = {
        "pyfunc": np.asarray(mlflow.pyfunc.load_model(uri).predict(X)).tolist(),
        "sklearn": mlflow.sklearn.load_model(uri).predict(X).tolist(),
        "signature": info.signature.to_dict() if info.signature else None,
        "example": example,
        "flavor_format": info.flavors["sklearn"]["serialization_format"],
    }
print(json.dumps(out))
"""


def _run(mlflow_python: MlflowPython, snippet: str, cfg: dict[str, Any], cwd: Path) -> Any:
    code = f"CFG = {json.dumps(json.dumps(cfg))}\n" + snippet
    return mlflow_python.run(code, cwd=cwd)


def test_mlflow_is_not_installed_in_the_test_environment() -> None:
    assert importlib.util.find_spec("mlflow") is None


def test_mlflow_loads_models_logged_by_fsregistry(
    mlflow_python: MlflowPython, local_tracking: str, tmp_path: Path
) -> None:
    X = frame()
    model = trained_model()
    with fsregistry.start_run() as run:
        info = fsk.log_model(
            model, name="model", input_example=X[:2], registered_model_name="fs-model"
        )
        pkl = fsk.log_model(model, name="pickled", serialization_format="pickle")
    assert info.registered_model_version == 1
    fsregistry.Client().set_registered_model_alias("fs-model", "champion", "1")
    # a tensor-signature model on numpy input
    from sklearn.linear_model import LinearRegression

    arr = np.asarray(X, dtype="float32")
    reg = LinearRegression().fit(arr, np.asarray(LABELS, dtype="float64"))
    with fsregistry.start_run():
        tinfo = fsk.log_model(reg, name="tensor", input_example=arr[:2])
    cases = [
        (info.model_uri, FRAME),
        (f"runs:/{run.info.run_id}/model", FRAME),  # MLflow 3 finds the run's LoggedModel
        ("models:/fs-model/1", FRAME),
        ("models:/fs-model@champion", FRAME),
        ("models:/fs-model/latest", FRAME),
        (pkl.model_uri, FRAME),
        (tinfo.model_uri, arr.tolist()),
    ]
    if mlflow_python.major < 3:
        # fsregistry logs MLflow 3 LoggedModels: MLflow 2 cannot resolve models:/<model_id>
        # or runs:/ to them (as with MLflow 3's own), but loads them through the registry.
        cases = [c for c in cases if c[0].startswith("models:/fs-model")]
    got = _run(
        mlflow_python,
        MLFLOW_READS,
        {"tracking_uri": Path(local_tracking).as_uri(), "cases": cases},
        tmp_path,
    )
    expected = model.predict(X).tolist()
    for uri, _ in cases:
        if uri != tinfo.model_uri:
            assert got[uri]["pyfunc"] == expected, uri
            assert got[uri]["sklearn"] == expected, uri
    assert fsk.load_model("models:/fs-model/1").predict(X).tolist() == expected
    if mlflow_python.major < 3:
        return
    assert info.model_uri.startswith("models:/m-") and f"runs:/{run.info.run_id}/model" in got
    assert got[pkl.model_uri]["flavor_format"] == "pickle"
    assert info.signature is not None
    assert got[info.model_uri]["signature"] == info.signature.to_dict()
    assert got["models:/fs-model@champion"]["example"] == X[:2].to_dict("list")
    tensor = got[tinfo.model_uri]
    assert np.allclose(tensor["pyfunc"], reg.predict(arr))
    assert tinfo.signature is not None and tensor["signature"] == tinfo.signature.to_dict()
    assert tensor["example"] == arr[:2].tolist()
    # MLflow wrote its registered_model_meta side-effect file into the stored model (2.x does
    # when loading models:/); the hash check ignores it, so fsregistry still loads the model.
    assert fsk.load_model("models:/fs-model/1").predict(X).tolist() == expected
    assert run.info.run_id


MLFLOW_LOGS = r"""
import json
import numpy as np
import pandas as pd
import mlflow
import mlflow.sklearn
from mlflow.models import infer_signature
from sklearn.linear_model import LogisticRegression

cfg = json.loads(CFG)
mlflow.set_tracking_uri(cfg["tracking_uri"])
mlflow.set_registry_uri(cfg["tracking_uri"])
mlflow.set_experiment("mlflow-side")
X = pd.DataFrame(cfg["frame"])
model = LogisticRegression(C=0.3).fit(X, cfg["labels"])
major = int(mlflow.__version__.split(".")[0])
key = "name" if major >= 3 else "artifact_path"
formats = ["skops", "cloudpickle"] if major >= 3 else ["cloudpickle", "pickle"]
out = {"models": {}}
with mlflow.start_run() as run:
    for i, fmt in enumerate(formats):
        name = f"model_{fmt}"
        kwargs = {key: name}
        if i == 0:
            kwargs["input_example"] = X.iloc[:2]
            kwargs["registered_model_name"] = "ml-model"
        else:
            kwargs["signature"] = infer_signature(X, model.predict(X), params={"threshold": 0.5})
        info = mlflow.sklearn.log_model(model, serialization_format=fmt, **kwargs)
        out["models"][fmt] = {
            "uri": f"runs:/{run.info.run_id}/{name}",
            "info_uri": info.model_uri,
            "signature": info.signature.to_dict(),
        }
mlflow.MlflowClient().set_registered_model_alias("ml-model", "champion", 1)
out["predictions"] = model.predict(X).tolist()
out["version"] = mlflow.__version__
print(json.dumps(out))
"""


def test_fsregistry_loads_models_logged_by_mlflow(
    mlflow_python: MlflowPython, local_tracking: str, tmp_path: Path
) -> None:
    got = _run(
        mlflow_python,
        MLFLOW_LOGS,
        {"tracking_uri": Path(local_tracking).as_uri(), "frame": FRAME, "labels": LABELS},
        tmp_path,
    )
    X = frame()
    expected = got["predictions"]
    first, second = (
        ("skops", "cloudpickle") if mlflow_python.major >= 3 else ("cloudpickle", "pickle")
    )
    registered = got["models"][first]
    uris = [
        registered["uri"],
        registered["info_uri"],
        "models:/ml-model/1",
        "models:/ml-model/latest",
        "models:/ml-model@champion",
        got["models"][second]["uri"],
    ]
    for uri in uris:
        assert pyfunc.load_model(uri).predict(X).tolist() == expected, uri
        assert fsk.load_model(uri).predict(X).tolist() == expected, uri
    # the model directory itself, as a plain local path
    from fsregistry.models.cache import resolve_location

    location = resolve_location("models:/ml-model/1")
    path = location[len("file://") :] if location.startswith("file://") else location
    assert fsk.load_model(path).predict(X).tolist() == expected
    meta = get_model_info("models:/ml-model@champion")
    assert meta.flavors["sklearn"]["serialization_format"] == first
    assert meta.signature is not None and meta.signature.to_dict() == registered["signature"]
    example = Model.load(registered["uri"]).load_input_example(registered["uri"])
    pd.testing.assert_frame_equal(example, X.iloc[:2])
    # a signature with params written by MLflow
    with_params = get_model_info(got["models"][second]["uri"])
    assert with_params.signature is not None
    assert with_params.signature.to_dict() == got["models"][second]["signature"]
    assert with_params.signature == infer_signature(
        X, np.asarray(expected), params={"threshold": 0.5}
    )
    loaded = pyfunc.load_model(got["models"][second]["uri"])
    assert loaded.predict(X, params={"threshold": 0.9}).tolist() == expected
