"""``fsregistry.lightgbm``: tiny Boosters and scikit-learn API models trained here, saved,
logged to every store, loaded natively and as pyfunc, scored by spark_udf and the scoring
server, and round-tripped with real MLflow 3.17.2 in both directions (identical predictions)."""

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
from fsregistry import lightgbm as flgb
from fsregistry import pyfunc
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.hashes import ModelIntegrityError

lgb = pytest.importorskip("lightgbm", reason="fsregistry[lightgbm] is part of the test extra")

PARAMS = {"num_leaves": 4, "min_data_in_leaf": 2, "verbose": -1}


def data(n: int = 40) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"f1": rng.uniform(0, 2, n).round(4), "f2": rng.uniform(-1, 1, n).round(4)})
    return X, (X["f1"] + X["f2"] > 1).astype(int).to_numpy()


def booster() -> Any:
    X, y = data()
    return lgb.train(PARAMS, lgb.Dataset(X, label=y), num_boost_round=4)


def classifier() -> Any:
    X, y = data()
    return lgb.LGBMClassifier(n_estimators=4, num_leaves=4, min_child_samples=2, verbose=-1).fit(
        X, y
    )


def regressor() -> Any:
    X, y = data()
    return lgb.LGBMRegressor(n_estimators=4, num_leaves=4, min_child_samples=2, verbose=-1).fit(
        X, y.astype(float)
    )


MODELS = {"booster": booster, "classifier": classifier, "regressor": regressor}


@pytest.mark.parametrize(
    ("kind", "fmt", "data_file"),
    [
        ("booster", None, "model.lgb"),
        ("classifier", None, "model.pkl"),
        ("regressor", "skops", "model.skops"),
        ("classifier", "pickle", "model.pkl"),
    ],
)
def test_save_and_load_native_and_pyfunc(
    kind: str, fmt: str | None, data_file: str, tmp_path: Path
) -> None:
    model = MODELS[kind]()
    X, _ = data()
    path = tmp_path / "model"
    flgb.save_model(model, path, input_example=X[:3], serialization_format=fmt)
    mlmodel = yaml.safe_load((path / "MLmodel").read_text())
    fmt = fmt or "cloudpickle"
    trusted = sorted(flgb.SKOPS_TRUSTED_TYPES) if fmt == "skops" else None
    assert mlmodel["flavors"]["lightgbm"] == {
        "lgb_version": lgb.__version__,
        "data": data_file,
        "model_class": f"{type(model).__module__}.{type(model).__name__}",
        "code": None,
        "serialization_format": fmt,
        "skops_trusted_types": trusted,
    }
    conf = mlmodel["flavors"]["python_function"]
    assert (conf["loader_module"], conf["data"]) == ("mlflow.lightgbm", data_file)
    assert "signature" in mlmodel
    reqs = (path / "requirements.txt").read_text().splitlines()
    assert f"lightgbm=={lgb.__version__}" in reqs
    if kind != "booster":
        assert any(r.startswith(fmt if fmt != "pickle" else "scikit-learn") for r in reqs), reqs
    loaded = flgb.load_model(str(path))
    assert type(loaded) is type(model)
    expected = model.predict(X)
    np.testing.assert_array_equal(loaded.predict(X), expected)
    pf = pyfunc.load_model(str(path))
    np.testing.assert_array_equal(np.asarray(pf.predict(X)), expected)
    assert type(pf.get_raw_model()) is type(model)


def test_log_register_and_load_from_every_store(tracking: str) -> None:
    model = booster()
    X, _ = data()
    with fsregistry.start_run() as run:
        info = flgb.log_model(
            model, name="lgb", registered_model_name="lgb-model", pip_requirements=["lightgbm"]
        )
    assert info.model_uri == f"models:/{info.model_id}"  # MLflow 3: a LoggedModel
    assert info.run_id == run.info.run_id
    assert info.registered_model_version == 1
    expected = model.predict(X)
    for uri in (info.model_uri, "models:/lgb-model/1"):
        np.testing.assert_array_equal(flgb.load_model(uri).predict(X), expected)
        np.testing.assert_array_equal(pyfunc.load_model(uri).predict(X), expected)
    reqs = Path(pyfunc.get_model_dependencies("models:/lgb-model/1")).read_text()
    assert reqs.splitlines() == ["lightgbm"]


def test_default_requirements() -> None:
    from fsregistry.models.environment import pinned

    assert flgb.get_default_pip_requirements() == [f"lightgbm=={lgb.__version__}"]
    assert flgb.get_default_pip_requirements(include_skops=True)[1] == pinned("skops")
    conda = flgb.get_default_conda_env(include_cloudpickle=True)
    pip = next(d["pip"] for d in conda["dependencies"] if isinstance(d, dict))
    assert pip == [f"lightgbm=={lgb.__version__}", pinned("cloudpickle")]


def test_bad_input_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "m"
    with pytest.raises(InvalidParameterValue, match=r"lightgbm\.Booster.*builtins\.dict"):
        flgb.save_model({"not": "a model"}, target)
    with pytest.raises(InvalidParameterValue, match="Unrecognized serialization format: joblib"):
        flgb.save_model(classifier(), target, serialization_format="joblib")
    with pytest.raises(InvalidParameterValue, match="only a Booster's save_model"):
        flgb.save_model(classifier(), target, num_iteration=2)
    assert not target.exists()
    flgb.save_model(booster(), target)
    monkeypatch.setitem(sys.modules, "lightgbm", None)
    for load in (flgb.load_model, pyfunc.load_model):
        with pytest.raises(InvalidParameterValue, match=r"pip install 'fsregistry\[lightgbm\]'"):
            load(str(target))


def test_another_major_version_warns_with_both(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "m"
    flgb.save_model(booster(), path)
    mlmodel = path / "MLmodel"
    mlmodel.write_text(
        mlmodel.read_text().replace(f"lgb_version: {lgb.__version__}", "lgb_version: 2.3.1")
    )
    with caplog.at_level(logging.WARNING, logger="fsregistry.flavors"):
        flgb.load_model(str(path), verify=False)
    (message,) = [r.getMessage() for r in caplog.records if "major version" in r.getMessage()]
    assert "lightgbm 2.3.1" in message and f"lightgbm {lgb.__version__}" in message


@pytest.mark.parametrize("kind", ["booster", "classifier"])
def test_corrupted_model_files_are_clear_errors(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "m"
    flgb.save_model(MODELS[kind](), path)
    data_file = path / ("model.lgb" if kind == "booster" else "model.pkl")
    data_file.write_bytes(data_file.read_bytes()[:40])
    with pytest.raises(ModelIntegrityError):
        flgb.load_model(str(path))
    for load in (flgb.load_model, pyfunc.load_model):
        with pytest.raises(ModelIntegrityError, match="corrupted or incomplete"):
            load(str(path), verify=False)
    os.unlink(data_file)
    with pytest.raises(ModelIntegrityError, match="corrupted or incomplete"):
        flgb.load_model(str(path), verify=False)


@needs_java
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_spark_udf_scores_like_predict(spark: Any, local_tracking: str) -> None:
    model = regressor()
    X, _ = data()
    with fsregistry.start_run():
        info = flgb.log_model(model, name="m", input_example=X[:2])
    assert spark_scores(spark, info.model_uri, X) == [float(v) for v in model.predict(X)]


def test_scoring_server(local_tracking: str, tmp_path: Path) -> None:
    model = classifier()
    X, _ = data()
    with fsregistry.start_run():
        flgb.log_model(model, name="m", input_example=X[:2], registered_model_name="lgb-served")
    got = served_predictions("models:/lgb-served/1", tmp_path, local_tracking, X)
    assert got == model.predict(X).tolist()


MLFLOW_LGB = (
    "def NATIVE(m, X):\n    return m.predict(X)\n"
    + MLFLOW_LOADS
    + r"""
import mlflow.lightgbm
import lightgbm as lgb

out = {"loaded": load_cases(cfg)}
X = pd.DataFrame(cfg["X"])
y = np.asarray(cfg["y"])
booster = lgb.train(cfg["params"], lgb.Dataset(X, label=y), num_boost_round=4)
clf = lgb.LGBMClassifier(n_estimators=4, num_leaves=4, min_child_samples=2, verbose=-1).fit(X, y)
with mlflow.start_run() as run:
    mlflow.lightgbm.log_model(booster, name="booster", input_example=X[:2],
                              registered_model_name="ml-lgb")
    mlflow.lightgbm.log_model(clf, name="skops")  # MLflow 3's default format
    mlflow.lightgbm.log_model(clf, name="cloudpickle", serialization_format="cloudpickle")
out["run_id"] = run.info.run_id
out["booster"] = booster.predict(X).tolist()
out["clf"] = clf.predict(X).tolist()
print(json.dumps(out))
"""
)


@pytest.mark.mlflow
def test_mlflow_round_trip_both_directions(local_tracking: str, tmp_path: Path) -> None:
    X, y = data()
    models = {"booster": booster(), "pickle": classifier(), "skops": regressor()}
    with fsregistry.start_run():
        infos = {
            "booster": flgb.log_model(
                models["booster"], name="b", input_example=X[:2], registered_model_name="fs-lgb"
            ),
            "pickle": flgb.log_model(models["pickle"], name="p"),
            "skops": flgb.log_model(models["skops"], name="s", serialization_format="skops"),
        }
    cases = [[info.model_uri, X.to_dict("list")] for info in infos.values()]
    cases.append(["models:/fs-lgb/1", X.to_dict("list")])
    cfg = {"flavor": "lightgbm", "cases": cases, "X": X.to_dict("list"), "y": y.tolist()}
    logged = run_flavor_mlflow(
        MLFLOW_LGB,
        {"tracking_uri": Path(local_tracking).as_uri(), "params": PARAMS, **cfg},
        tmp_path,
    )
    got = logged["loaded"]
    for (uri, _), kind in zip(cases, [*infos, "booster"], strict=True):
        expected = models[kind].predict(X).tolist()
        assert got[uri]["native"] == expected, uri
        assert got[uri]["pyfunc"] == expected, uri
        assert got[uri]["conf"] == infos[kind].flavors["lightgbm"], uri

    # MLflow logged its own models in the same process; fsregistry loads them
    for theirs_name, ours_kind in (("booster", "booster"), ("cloudpickle", "pickle")):
        theirs = fsregistry.models.get_model_info(f"runs:/{logged['run_id']}/{theirs_name}")
        ours = infos[ours_kind].flavors
        assert {k: sorted(v) for k, v in theirs.flavors.items()} == {
            k: sorted(v) for k, v in ours.items()
        }
    run_uri = f"runs:/{logged['run_id']}"
    for uri in (f"{run_uri}/booster", "models:/ml-lgb/1"):
        native = flgb.load_model(uri)
        assert isinstance(native, lgb.Booster)
        assert native.predict(X).tolist() == logged["booster"], uri
        assert pyfunc.load_model(uri).predict(X).tolist() == logged["booster"], uri
    for fmt in ("skops", "cloudpickle"):
        uri = f"{run_uri}/{fmt}"
        assert (
            fsregistry.models.get_model_info(uri).flavors["lightgbm"]["serialization_format"] == fmt
        )
        clf = flgb.load_model(uri)
        assert isinstance(clf, lgb.LGBMClassifier)
        assert clf.predict(X).tolist() == logged["clf"], uri
        assert pyfunc.load_model(uri).predict(X).tolist() == logged["clf"], uri
