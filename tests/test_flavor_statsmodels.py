"""``fsregistry.statsmodels``: tiny OLS and ARIMA results fitted here, saved (with and without
``remove_data``), logged to every store, loaded natively and as pyfunc, scored by spark_udf
and the scoring server, and round-tripped with real MLflow 3.17.2 in both directions."""

# ruff: noqa: F811

from __future__ import annotations

import logging
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
from fsregistry import statsmodels as fsm
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.hashes import ModelIntegrityError

statsmodels = pytest.importorskip("statsmodels", reason="part of the test extra")


def data(n: int = 30) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(11)
    X = pd.DataFrame({"f1": rng.uniform(0, 2, n).round(4), "f2": rng.uniform(-1, 1, n).round(4)})
    y = 2.0 * X["f1"] - X["f2"] + rng.normal(0, 0.1, n).round(4)
    return X, y.to_numpy()


def ols() -> Any:
    import statsmodels.formula.api as smf

    X, y = data()
    return smf.ols("y ~ f1 + f2", data=X.assign(y=y)).fit()


def arima() -> Any:
    from statsmodels.tsa.arima.model import ARIMA

    return ARIMA(np.sin(np.arange(40) / 3.0), order=(1, 0, 0)).fit()


@pytest.mark.parametrize("remove_data", [False, True])
def test_save_and_load_native_and_pyfunc(remove_data: bool, tmp_path: Path) -> None:
    model = ols()
    X, _ = data()
    path = tmp_path / "model"
    fsm.save_model(model, path, input_example=X[:3], remove_data=remove_data)
    mlmodel = yaml.safe_load((path / "MLmodel").read_text())
    assert mlmodel["flavors"]["statsmodels"] == {
        "statsmodels_version": statsmodels.__version__,
        "data": "model.statsmodels",
        "code": None,
    }
    conf = mlmodel["flavors"]["python_function"]
    assert (conf["loader_module"], conf["data"]) == ("mlflow.statsmodels", "model.statsmodels")
    assert "signature" in mlmodel
    reqs = (path / "requirements.txt").read_text().splitlines()
    assert f"statsmodels=={statsmodels.__version__}" in reqs
    loaded = fsm.load_model(str(path))
    expected = model.predict(X)
    pd.testing.assert_series_equal(loaded.predict(X), expected)
    pd.testing.assert_series_equal(pyfunc.load_model(str(path)).predict(X), expected)
    if remove_data:  # the training arrays are gone, the parameters are not
        assert loaded.model.endog is None or len(loaded.model.endog) == 0
    else:
        assert len(loaded.model.endog) == len(X)


def test_time_series_results_predict_from_start_to_end(tmp_path: Path) -> None:
    model = arima()
    fsm.save_model(model, tmp_path / "m")
    pf = pyfunc.load_model(str(tmp_path / "m"))
    got = pf.predict(pd.DataFrame({"start": [35], "end": [44]}))
    np.testing.assert_array_equal(np.asarray(got), model.predict(start=35, end=44))
    with pytest.raises(InvalidParameterValue, match="exactly one row"):
        pf.predict(pd.DataFrame({"start": [1, 2], "end": [3, 4]}))


def test_log_register_and_load_from_every_store(tracking: str) -> None:
    model = ols()
    X, _ = data()
    with fsregistry.start_run() as run:
        info = fsm.log_model(
            model,
            name="sm",
            input_example=X[:2],
            registered_model_name="sm-model",
            extra_pip_requirements=["formulaic"],
        )
    assert info.model_uri == f"models:/{info.model_id}"  # MLflow 3: a LoggedModel
    assert info.run_id == run.info.run_id
    assert info.registered_model_version == 1
    expected = model.predict(X)
    for uri in (info.model_uri, "models:/sm-model/1"):
        pd.testing.assert_series_equal(fsm.load_model(uri).predict(X), expected)
        pd.testing.assert_series_equal(pyfunc.load_model(uri).predict(X), expected)
    reqs = Path(pyfunc.get_model_dependencies(info.model_uri)).read_text().splitlines()
    assert "formulaic" in reqs and f"statsmodels=={statsmodels.__version__}" in reqs


def test_bad_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import statsmodels.api as sm

    target = tmp_path / "m"
    X, y = data()
    with pytest.raises(InvalidParameterValue, match=r"fitted statsmodels results.*OLS"):
        fsm.save_model(sm.OLS(y, X), target)  # a model, not results
    with pytest.raises(InvalidParameterValue, match="remove_data must be a bool"):
        fsm.save_model(ols(), target, remove_data="yes")  # type: ignore[arg-type]
    assert not target.exists()
    fsm.save_model(ols(), target)
    (target / "model.statsmodels").write_bytes(b"\x80\x04garbage")
    with pytest.raises(ModelIntegrityError):
        fsm.load_model(str(target))
    for load in (fsm.load_model, pyfunc.load_model):
        with pytest.raises(ModelIntegrityError, match="corrupted or incomplete"):
            load(str(target), verify=False)
    monkeypatch.setitem(sys.modules, "statsmodels", None)
    with pytest.raises(InvalidParameterValue, match=r"pip install 'fsregistry\[statsmodels\]'"):
        fsm.load_model(str(target), verify=False)


def test_another_major_version_warns_with_both(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "m"
    fsm.save_model(ols(), path)
    mlmodel = path / "MLmodel"
    text = mlmodel.read_text()
    mlmodel.write_text(
        text.replace(
            f"statsmodels_version: {statsmodels.__version__}", "statsmodels_version: 1.0.0"
        )
    )
    with caplog.at_level(logging.WARNING, logger="fsregistry.flavors"):
        pyfunc.load_model(str(path), verify=False)
    (message,) = [r.getMessage() for r in caplog.records if "major version" in r.getMessage()]
    assert "statsmodels 1.0.0" in message and f"statsmodels {statsmodels.__version__}" in message


@needs_java
@pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas:FutureWarning")
@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")
def test_spark_udf_scores_like_predict(spark: Any, local_tracking: str) -> None:
    model = ols()
    X, _ = data()
    with fsregistry.start_run():
        info = fsm.log_model(model, name="m", input_example=X[:2])
    assert spark_scores(spark, info.model_uri, X) == model.predict(X).tolist()


def test_scoring_server(local_tracking: str, tmp_path: Path) -> None:
    model = ols()
    X, _ = data()
    with fsregistry.start_run():
        fsm.log_model(model, name="m", input_example=X[:2], registered_model_name="sm-served")
    got = served_predictions("models:/sm-served/1", tmp_path, local_tracking, X)
    # a Series prediction answers as MLflow's server does: records of its one column "0"
    assert got == [{"0": v} for v in model.predict(X).tolist()]


MLFLOW_SM = (
    "def NATIVE(m, X):\n    return m.predict(X)\n"
    + MLFLOW_LOADS
    + r"""
import mlflow.statsmodels
import statsmodels.formula.api as smf

out = {"loaded": load_cases(cfg)}
X = pd.DataFrame(cfg["X"])
results = smf.ols("y ~ f1 + f2", data=X.assign(y=cfg["y"])).fit()
with mlflow.start_run() as run:
    mlflow.statsmodels.log_model(results, name="ols", input_example=X[:2],
                                 registered_model_name="ml-sm")
out["uri"] = f"runs:/{run.info.run_id}/ols"
out["pred"] = results.predict(X).tolist()
print(json.dumps(out))
"""
)


@pytest.mark.mlflow
def test_mlflow_round_trip_both_directions(local_tracking: str, tmp_path: Path) -> None:
    X, y = data()
    model = ols()
    with fsregistry.start_run():
        info = fsm.log_model(
            model, name="m", input_example=X[:2], registered_model_name="fs-sm", remove_data=True
        )
    cases = [[info.model_uri, X.to_dict("list")], ["models:/fs-sm/1", X.to_dict("list")]]
    cfg = {"flavor": "statsmodels", "cases": cases, "X": X.to_dict("list"), "y": y.tolist()}
    logged = run_flavor_mlflow(
        MLFLOW_SM, {"tracking_uri": Path(local_tracking).as_uri(), **cfg}, tmp_path
    )
    expected = model.predict(X).tolist()
    for uri, _ in cases:
        got = logged["loaded"][uri]
        assert got["native"] == got["pyfunc"] == expected, uri
        assert got["conf"] == info.flavors["statsmodels"]
        assert info.signature is not None and got["signature"] == info.signature.to_dict()
    theirs = fsregistry.models.get_model_info(logged["uri"]).flavors
    assert {k: sorted(v) for k, v in theirs.items()} == {
        k: sorted(v) for k, v in info.flavors.items()
    }
    for uri in (logged["uri"], "models:/ml-sm/1"):
        assert fsm.load_model(uri).predict(X).tolist() == logged["pred"], uri
        assert pyfunc.load_model(uri).predict(X).tolist() == logged["pred"], uri
