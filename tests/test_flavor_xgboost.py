"""``fsregistry.xgboost``: tiny Boosters and scikit-learn API models trained here, saved, logged
to every store, loaded natively and as pyfunc, scored by spark_udf and the scoring server, and
round-tripped with real MLflow 3.17.2 in both directions (identical predictions)."""

# ruff: noqa: F811

from __future__ import annotations

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
    MLFLOW_LOADS,
    needs_java,
    run_flavor_mlflow,
    served_predictions,
    spark_scores,
)
from fsreg_testing.models import local_tracking, model_cache, tracking  # noqa: F401 - fixtures
from fsregistry import pyfunc
from fsregistry import xgboost as fxgb
from fsregistry.exceptions import (
    InvalidParameterValue,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from fsregistry.models.hashes import ModelIntegrityError

xgb = pytest.importorskip("xgboost", reason="fsregistry[xgboost] is part of the test extra")


def data(n: int = 24) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    X = pd.DataFrame({"f1": rng.uniform(0, 2, n).round(4), "f2": rng.uniform(-1, 1, n).round(4)})
    return X, (X["f1"] + X["f2"] > 1).astype(int).to_numpy()


def booster() -> Any:
    X, y = data()
    return xgb.train({"max_depth": 2, "eta": 0.5}, xgb.DMatrix(X, label=y), num_boost_round=4)


def classifier() -> Any:
    X, y = data()
    return xgb.XGBClassifier(n_estimators=4, max_depth=2).fit(X, y)


def regressor() -> Any:
    X, y = data()
    return xgb.XGBRegressor(n_estimators=4, max_depth=2).fit(X, y.astype(float))


def native_predict(model: Any, X: pd.DataFrame) -> np.ndarray:
    return model.predict(xgb.DMatrix(X) if isinstance(model, xgb.Booster) else X)


MODELS = {"booster": booster, "classifier": classifier, "regressor": regressor}


@pytest.mark.parametrize(
    ("kind", "model_format"), [("booster", "ubj"), ("classifier", "json"), ("regressor", "xgb")]
)
def test_save_and_load_native_and_pyfunc(kind: str, model_format: str, tmp_path: Path) -> None:
    model = MODELS[kind]()
    X, _ = data()
    path = tmp_path / "model"
    fxgb.save_model(model, path, input_example=X[:3], model_format=model_format)
    mlmodel = yaml.safe_load((path / "MLmodel").read_text())
    assert mlmodel["flavors"]["xgboost"] == {
        "xgb_version": xgb.__version__,
        "data": f"model.{model_format}",
        "model_class": f"{type(model).__module__}.{type(model).__name__}",
        "model_format": model_format,
        "code": None,
    }
    conf = mlmodel["flavors"]["python_function"]
    assert conf["loader_module"] == "mlflow.xgboost"
    assert conf["data"] == f"model.{model_format}"
    assert conf["env"] == {"conda": "conda.yaml", "virtualenv": "python_env.yaml"}
    assert (path / f"model.{model_format}").is_file()
    assert "signature" in mlmodel and (path / "input_example.json").is_file()
    reqs = (path / "requirements.txt").read_text().splitlines()
    assert any(r.startswith(("xgboost==", "xgboost-cpu==")) for r in reqs), reqs
    loaded = fxgb.load_model(str(path))
    assert type(loaded) is type(model)
    expected = native_predict(model, X)
    np.testing.assert_array_equal(native_predict(loaded, X), expected)
    pf = pyfunc.load_model(str(path))
    np.testing.assert_array_equal(np.asarray(pf.predict(X)), expected)
    assert type(pf.get_raw_model()) is type(model)


def test_log_register_and_load_from_every_store(tracking: str) -> None:
    model = classifier()
    X, _ = data()
    with fsregistry.start_run() as run:
        info = fxgb.log_model(
            model,
            name="xgb",
            input_example=X[:2],
            registered_model_name="xgb-model",
            extra_pip_requirements=["pandas"],
        )
    assert info.model_uri == f"models:/{info.model_id}"  # MLflow 3: a LoggedModel
    assert info.run_id == run.info.run_id
    assert info.registered_model_version == 1
    assert info.flavors["xgboost"]["model_class"] == "xgboost.sklearn.XGBClassifier"
    expected = model.predict(X)
    for uri in (info.model_uri, "models:/xgb-model/1"):
        np.testing.assert_array_equal(fxgb.load_model(uri).predict(X), expected)
        np.testing.assert_array_equal(pyfunc.load_model(uri).predict(X), expected)
    reqs = Path(pyfunc.get_model_dependencies("models:/xgb-model/1")).read_text().splitlines()
    assert "pandas" in reqs and any(r.startswith("xgboost") for r in reqs), reqs


def test_requirements_and_defaults(tmp_path: Path) -> None:
    (req,) = fxgb.get_default_pip_requirements()
    assert req.startswith(("xgboost==", "xgboost-cpu==")) and req.endswith(xgb.__version__)
    conda = fxgb.get_default_conda_env()
    assert conda["channels"] == ["conda-forge"] and {"pip": [req]} in conda["dependencies"]
    fxgb.save_model(booster(), tmp_path / "m", pip_requirements=["xgboost", "numpy<3"])
    assert (tmp_path / "m" / "requirements.txt").read_text().splitlines() == ["xgboost", "numpy<3"]


def test_unsupported_objects_and_formats_write_nothing(tmp_path: Path) -> None:
    from sklearn.linear_model import LinearRegression

    target = tmp_path / "m"
    with pytest.raises(InvalidParameterValue, match=r"xgboost\.Booster.*LinearRegression"):
        fxgb.save_model(LinearRegression(), target)
    with pytest.raises(InvalidParameterValue, match="model_format 'pkl'"):
        fxgb.save_model(booster(), target, model_format="pkl")
    assert not target.exists()
    target.mkdir()
    (target / "x").write_text("taken")
    with pytest.raises(ResourceAlreadyExists):
        fxgb.save_model(booster(), target)
    assert os.listdir(target) == ["x"]


def test_missing_framework_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m"
    fxgb.save_model(booster(), path)
    monkeypatch.setitem(sys.modules, "xgboost", None)  # "import xgboost" fails from here on
    for load in (fxgb.load_model, pyfunc.load_model):
        with pytest.raises(InvalidParameterValue, match=r"pip install 'fsregistry\[xgboost\]'"):
            load(str(path))
    with pytest.raises(InvalidParameterValue, match=r"fsregistry\[xgboost\]"):
        fxgb.save_model(object(), tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_another_major_version_warns_with_both(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "m"
    fxgb.save_model(booster(), path)
    mlmodel = path / "MLmodel"
    mlmodel.write_text(
        mlmodel.read_text().replace(f"xgb_version: {xgb.__version__}", "xgb_version: 1.7.6")
    )
    X, _ = data()
    with caplog.at_level(logging.WARNING, logger="fsregistry.flavors"):
        model = fxgb.load_model(str(path), verify=False)
        pyfunc.load_model(str(path), verify=False)
    warnings = [r.getMessage() for r in caplog.records if "another major version" in r.getMessage()]
    assert len(warnings) == 2 and all("1.7.6" in w and xgb.__version__ in w for w in warnings)
    assert model.predict(xgb.DMatrix(X)).shape == (len(X),)


def test_corrupted_model_directories_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "m"
    fxgb.save_model(booster(), path)
    (path / "model.ubj").write_bytes(b"not a model")
    with pytest.raises(ModelIntegrityError, match=r"model\.ubj"):  # the hash check
        fxgb.load_model(str(path))
    for load in (fxgb.load_model, pyfunc.load_model):  # and without it, the reader
        with pytest.raises(ModelIntegrityError, match="corrupted or incomplete"):
            load(str(path), verify=False)
    (path / "model.ubj").unlink()
    with pytest.raises(ModelIntegrityError, match="corrupted or incomplete"):
        fxgb.load_model(str(path), verify=False)
    mlmodel = yaml.safe_load((path / "MLmodel").read_text())
    mlmodel["flavors"]["xgboost"]["model_class"] = "os.system"
    (path / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    with pytest.raises(InvalidParameterValue, match="not a class of the xgboost package"):
        fxgb.load_model(str(path), verify=False)
    del mlmodel["flavors"]["xgboost"]
    (path / "MLmodel").write_text(yaml.safe_dump(mlmodel))
    with pytest.raises(ResourceDoesNotExist, match='Model does not have the "xgboost" flavor'):
        fxgb.load_model(str(path), verify=False)


@needs_java
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_spark_udf_scores_like_predict(spark: Any, local_tracking: str) -> None:
    model = regressor()
    X, _ = data()
    with fsregistry.start_run():
        info = fxgb.log_model(model, name="m", input_example=X[:2])
    got = spark_scores(spark, info.model_uri, X)
    assert got == [float(v) for v in model.predict(X)]


def test_scoring_server(local_tracking: str, tmp_path: Path) -> None:
    model = classifier()
    X, _ = data()
    with fsregistry.start_run():
        fxgb.log_model(model, name="m", input_example=X[:2], registered_model_name="xgb-served")
    got = served_predictions("models:/xgb-served/1", tmp_path, local_tracking, X)
    assert got == model.predict(X).tolist()


MLFLOW_XGB = (
    "import xgboost\n"
    "def NATIVE(m, X):\n"
    "    return m.predict(xgboost.DMatrix(X) if isinstance(m, xgboost.Booster) else X)\n"
    + MLFLOW_LOADS
    + r"""
import mlflow.xgboost
import xgboost as xgb

out = {"loaded": load_cases(cfg)}
X = pd.DataFrame(cfg["X"])
y = np.asarray(cfg["y"])
booster = xgb.train({"max_depth": 2, "eta": 0.5}, xgb.DMatrix(X, label=y), num_boost_round=4)
clf = xgb.XGBClassifier(n_estimators=4, max_depth=2).fit(X, y)
with mlflow.start_run() as run:
    b = mlflow.xgboost.log_model(booster, name="booster", input_example=X[:2],
                                 registered_model_name="ml-xgb")
    c = mlflow.xgboost.log_model(clf, name="clf", model_format="json")
out["booster"] = {"uri": f"runs:/{run.info.run_id}/booster", "model_uri": b.model_uri,
                  "pred": booster.predict(xgb.DMatrix(X)).tolist()}
out["clf"] = {"uri": f"runs:/{run.info.run_id}/clf", "pred": clf.predict(X).tolist()}
print(json.dumps(out))
"""
)


@pytest.mark.mlflow
def test_mlflow_round_trip_both_directions(local_tracking: str, tmp_path: Path) -> None:
    X, y = data()
    models = {"booster": booster(), "clf": classifier()}
    with fsregistry.start_run():
        infos = {
            "booster": fxgb.log_model(
                models["booster"], name="b", input_example=X[:2], registered_model_name="fs-xgb"
            ),
            "clf": fxgb.log_model(models["clf"], name="c", model_format="json"),
        }
    cases = [
        [infos["booster"].model_uri, X.to_dict("list")],
        ["models:/fs-xgb/1", X.to_dict("list")],
        [infos["clf"].model_uri, X.to_dict("list")],
    ]
    cfg = {"flavor": "xgboost", "cases": cases, "X": X.to_dict("list"), "y": y.tolist()}
    logged = run_flavor_mlflow(
        MLFLOW_XGB, {"tracking_uri": Path(local_tracking).as_uri(), **cfg}, tmp_path
    )
    got = logged["loaded"]
    for (uri, _), kind in zip(cases, ("booster", "booster", "clf"), strict=True):
        expected = native_predict(models[kind], X).tolist()
        assert got[uri]["native"] == expected, uri
        assert got[uri]["pyfunc"] == expected, uri
    assert got["models:/fs-xgb/1"]["conf"] == infos["booster"].flavors["xgboost"]
    assert got["models:/fs-xgb/1"]["signature"] == infos["booster"].signature.to_dict()

    # MLflow logged its own models in the same process; fsregistry loads them
    theirs = fsregistry.models.get_model_info(logged["booster"]["uri"]).flavors
    ours = infos["booster"].flavors
    assert {k: sorted(v) for k, v in theirs.items()} == {k: sorted(v) for k, v in ours.items()}
    assert theirs["python_function"]["loader_module"] == ours["python_function"]["loader_module"]
    for uri in (logged["booster"]["uri"], logged["booster"]["model_uri"], "models:/ml-xgb/1"):
        native = fxgb.load_model(uri)
        assert isinstance(native, xgb.Booster)
        assert native.predict(xgb.DMatrix(X)).tolist() == logged["booster"]["pred"], uri
        assert pyfunc.load_model(uri).predict(X).tolist() == logged["booster"]["pred"], uri
    clf = fxgb.load_model(logged["clf"]["uri"])
    assert isinstance(clf, xgb.XGBClassifier)
    assert clf.predict(X).tolist() == logged["clf"]["pred"]
    assert pyfunc.load_model(logged["clf"]["uri"]).predict(X).tolist() == logged["clf"]["pred"]
