"""``fsregistry.statsmodels.autolog``: the same script fitting OLS (arrays and formula),
Logit, GLM, ARIMA and WLS in a user's run under real MLflow 3.17.2 and under fsregistry logs
the same params, metrics (values to 1e-6, steps), tags, artifacts and LoggedModels, and
MLflow loads fsregistry's autologged model; patches are reversible and logging failures
never break ``fit``."""

from __future__ import annotations

import inspect
import logging
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import fsregistry
import fsregistry.statsmodels
from fsreg_testing.flavors import MLFLOW_ENV, MLFLOW_EXTRAS, MLFLOW_VERSION
from fsreg_testing.mlflow_env import run_mlflow
from fsregistry import Client
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.statsmodels import autologging

sm = pytest.importorskip("statsmodels.api", reason="part of the test extra")

# Tags only fsregistry writes (the LoggedModel's manifest digest) or that depend on git.
_OWN_TAGS = ("fsreg.", "mlflow.source.git")


@pytest.fixture(autouse=True)
def _no_autolog(tmp_path: Path) -> Iterator[None]:
    """Each test starts and leaves statsmodels unpatched, with no run active."""
    fsregistry.fluent._active_experiment_id = None
    fsregistry.set_tracking_uri(str(tmp_path / "mlruns"))
    yield
    fsregistry.statsmodels.autolog(disable=True)
    while fsregistry.active_run():
        fsregistry.end_run()
    fsregistry.fluent._active_experiment_id = None


TRAIN = r"""
import json, warnings
warnings.simplefilter("ignore")
import numpy as np, pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from statsmodels.tsa.arima.model import ARIMA

def data():
    rng = np.random.default_rng(3)
    X = rng.uniform(0, 2, (40, 2)).round(4)
    y = (2.0 * X[:, 0] - X[:, 1] + rng.normal(0, 0.1, 40)).round(4)
    return X, y

def train(mlflow, uri):
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("autolog")
    mlflow.statsmodels.autolog(extra_tags={"team": "stats"})
    X, y = data()
    ids = {}
    sm.OLS(y, sm.add_constant(X)).fit()
    ids["ols"] = mlflow.last_active_run().info.run_id
    frame = pd.DataFrame({"f1": X[:, 0], "f2": X[:, 1], "y": y})
    smf.ols("y ~ f1 + f2", data=frame).fit(cov_type="HC1")
    ids["formula"] = mlflow.last_active_run().info.run_id
    sm.Logit((y > 1).astype(float), sm.add_constant(X)).fit(disp=0)
    ids["logit"] = mlflow.last_active_run().info.run_id
    ARIMA(np.sin(np.arange(40) / 3.0), order=(1, 0, 0)).fit()
    ids["arima"] = mlflow.last_active_run().info.run_id
    sm.GLM(y, sm.add_constant(X), family=sm.families.Gaussian()).fit(None, 50)
    ids["glm"] = mlflow.last_active_run().info.run_id
    with mlflow.start_run() as run:
        sm.WLS(y, sm.add_constant(X), weights=np.linspace(1, 2, 40)).fit()
    ids["user"] = run.info.run_id
    return ids, mlflow.active_run() is None

def dump(client, ids, own_tags):
    out = {}
    for label, rid in ids.items():
        run = client.get_run(rid)
        out[label] = {
            "params": dict(run.data.params),
            "metrics": {k: sorted([m.value, m.step] for m in client.get_metric_history(rid, k))
                        for k in run.data.metrics},
            "tags": sorted(t for t in run.data.tags if not t.startswith(own_tags)),
            "autologging": [run.data.tags.get("mlflow.autologging"), run.data.tags.get("team")],
            "status": run.info.status,
            "artifacts": sorted(a.path for a in client.list_artifacts(rid)),
        }
    exp = client.get_run(ids["ols"]).info.experiment_id
    labels = {rid: label for label, rid in ids.items()}
    models = {}
    for m in client.search_logged_models([exp], max_results=1000):
        models[labels[m.source_run_id]] = {
            "name": m.name, "status": str(m.status), "params": dict(m.params),
            "tags": sorted(t for t in m.tags if not t.startswith(own_tags)),
            "metrics": sorted([x.key, x.value, x.step, labels[x.run_id], x.model_id == m.model_id]
                              for x in m.metrics),
            "id": m.model_id,
        }
    out["models"] = models
    return out
"""


def _close(ours: Any, theirs: Any, where: str = "") -> None:
    """Equal; floats to a relative 1e-6."""
    if isinstance(theirs, float) or isinstance(ours, float):
        assert math.isclose(ours, theirs, rel_tol=1e-6, abs_tol=1e-9), (where, ours, theirs)
    elif isinstance(theirs, dict):
        assert sorted(ours) == sorted(theirs), (where, sorted(ours), sorted(theirs))
        for k in theirs:
            _close(ours[k], theirs[k], f"{where}/{k}")
    elif isinstance(theirs, list):
        assert len(ours) == len(theirs), (where, ours, theirs)
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _close(a, b, f"{where}[{i}]")
    else:
        assert ours == theirs, (where, ours, theirs)


def _mlflow(code: str, cwd: Path) -> Any:
    return run_mlflow(MLFLOW_VERSION, code, cwd=cwd, env=MLFLOW_ENV, extras=MLFLOW_EXTRAS)


@pytest.mark.mlflow
def test_same_script_logs_what_mlflow_logs(tmp_path: Path) -> None:
    theirs_dir, ours_dir = tmp_path / "mlflow", tmp_path / "fsreg"
    theirs_dir.mkdir()
    ours_dir.mkdir()
    theirs = _mlflow(
        TRAIN + "import mlflow, mlflow.statsmodels\n"
        "ids, ended = train(mlflow, 'file:./mlruns')\n"
        f"print(json.dumps([dump(mlflow.MlflowClient(), ids, {_OWN_TAGS!r}), ended]))\n",
        theirs_dir,
    )
    scope: dict[str, Any] = {}
    exec(TRAIN, scope)
    ids, ended = scope["train"](fsregistry, str(ours_dir / "mlruns"))
    ours = scope["dump"](Client(), ids, _OWN_TAGS)
    assert ended and theirs[1]
    our_ids = {label: m.pop("id") for label, m in ours["models"].items()}
    for m in theirs[0]["models"].values():
        m.pop("id")
    _close(ours, theirs[0])
    # The names MLflow uses, spelled out (so a shared mistake cannot pass).
    assert {"rsquared", "aic", "bic", "llf", "fvalue", "f_pvalue"} <= set(ours["ols"]["metrics"])
    assert ours["ols"]["params"]["method"] == "pinv" and ours["glm"]["params"]["maxiter"] == "50"
    assert ours["ols"]["artifacts"] == ["model_summary.txt"]
    assert ours["ols"]["autologging"] == ["statsmodels", "stats"]
    assert ours["user"]["autologging"] == [None, None]
    assert sorted(ours["models"]) == sorted(ids)
    # MLflow reads fsregistry's runs and LoggedModels as fsregistry does, and loads and
    # predicts with its autologged OLS model.
    X, _ = scope["data"]()
    read = _mlflow(
        TRAIN + "import mlflow, mlflow.statsmodels, statsmodels.api as sm\n"
        "mlflow.set_tracking_uri('file:./mlruns')\n"
        f"out = dump(mlflow.MlflowClient(), {ids!r}, {_OWN_TAGS!r})\n"
        f"model = mlflow.statsmodels.load_model('models:/{our_ids['ols']}')\n"
        "X, _ = data()\n"
        "out['predict'] = model.predict(sm.add_constant(X)).tolist()\n"
        "print(json.dumps(out))\n",
        ours_dir,
    )
    predicted = read.pop("predict")
    for m in read["models"].values():
        m.pop("id")
    _close(ours, read)
    model = fsregistry.statsmodels.load_model(f"models:/{our_ids['ols']}")
    _close(predicted, model.predict(sm.add_constant(X)).tolist())


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    X = sm.add_constant(rng.uniform(0, 2, (30, 2)))
    return X, X @ np.array([1.0, 2.0, -1.0]) + rng.normal(0, 0.1, 30)


def _runs() -> list[Any]:
    return fsregistry.search_runs(search_all_experiments=True, output_format="list")


def test_disable_restores_every_original() -> None:
    from statsmodels.base.model import LikelihoodModel, Model
    from statsmodels.discrete.discrete_model import Logit
    from statsmodels.regression.linear_model import OLS, RegressionModel

    originals = {c: dict(vars(c)).get("fit") for c in (OLS, RegressionModel, Logit)}
    likelihood_fit, model_fit = LikelihoodModel.fit, Model.fit
    fsregistry.statsmodels.autolog()
    fsregistry.autolog()  # enabling again replaces the patches, never stacks them
    assert RegressionModel.fit is not originals[RegressionModel]
    assert RegressionModel.fit.__wrapped__ is originals[RegressionModel]  # type: ignore[attr-defined]
    assert Logit.fit.__wrapped__ is originals[Logit]  # type: ignore[attr-defined]
    assert "fit" not in vars(OLS)  # inherits RegressionModel's patched fit, as in MLflow
    assert Model.fit is model_fit  # the abstract root is left alone, as in MLflow
    fsregistry.autolog(disable=True)
    assert {c: dict(vars(c)).get("fit") for c in originals} == originals
    assert LikelihoodModel.fit is likelihood_fit
    X, y = _data()
    sm.OLS(y, X).fit()
    assert _runs() == []


def test_exclude_flavors() -> None:
    from statsmodels.regression.linear_model import RegressionModel

    fit = RegressionModel.fit
    fsregistry.autolog(exclude_flavors=["statsmodels", "sklearn", "keras"])
    assert RegressionModel.fit is fit and not autologging.kit.enabled


def test_fit_with_no_active_run_starts_and_ends_one() -> None:
    fsregistry.statsmodels.autolog(extra_tags={"team": "a", "mlflow.autologging": "ignored"})
    X, y = _data()
    results = sm.OLS(y, X).fit(cov_type="HC0")
    assert fsregistry.active_run() is None
    (run,) = _runs()
    assert run.info.status == "FINISHED"
    assert run.data.tags["mlflow.autologging"] == "statsmodels" and run.data.tags["team"] == "a"
    assert run.data.params["cov_type"] == "HC0"
    assert run.data.metrics["rsquared"] == pytest.approx(results.rsquared)
    (model,) = Client().search_logged_models([run.info.experiment_id])
    assert model.name == "model" and model.source_run_id == run.info.run_id
    loaded = fsregistry.statsmodels.load_model(f"models:/{model.model_id}")
    assert np.allclose(loaded.predict(X), results.predict(X))


def test_a_failing_fit_fails_its_run_with_only_its_params() -> None:
    fsregistry.statsmodels.autolog()
    X, y = _data()
    with pytest.raises(ValueError):
        sm.OLS(y, X).fit(method="nonsense")
    (run,) = _runs()
    assert run.info.status == "FAILED" and fsregistry.active_run() is None
    # As in MLflow the params are logged before training; nothing after it is.
    assert run.data.params["method"] == "nonsense" and run.data.metrics == {}
    assert Client().list_artifacts(run.info.run_id) == []
    assert Client().search_logged_models([run.info.experiment_id]) == []


def test_exclusive_leaves_user_runs_alone() -> None:
    fsregistry.statsmodels.autolog(exclusive=True)
    X, y = _data()
    with fsregistry.start_run() as user:
        sm.OLS(y, X).fit()
    (run,) = _runs()
    assert run.info.run_id == user.info.run_id and run.data.params == {}
    assert run.data.metrics == {}
    fsregistry.statsmodels.autolog(exclusive=False)
    with fsregistry.start_run() as user:
        sm.OLS(y, X).fit()
        assert fsregistry.active_run() is not None  # the user's run is left running
    logged = Client().get_run(user.info.run_id)
    assert "rsquared" in logged.data.metrics and "mlflow.autologging" not in logged.data.tags


def test_log_models_false_logs_metrics_without_a_model() -> None:
    fsregistry.statsmodels.autolog(log_models=False)
    X, y = _data()
    sm.OLS(y, X).fit()
    (run,) = _runs()
    assert "aic" in run.data.metrics
    assert Client().search_logged_models([run.info.experiment_id]) == []
    assert [a.path for a in Client().list_artifacts(run.info.run_id)] == ["model_summary.txt"]


def test_registered_model_name_registers_each_fit() -> None:
    fsregistry.statsmodels.autolog(registered_model_name="ols")
    X, y = _data()
    sm.OLS(y, X).fit()
    sm.OLS(y, X).fit()
    versions = Client().search_model_versions("name = 'ols'")
    assert sorted(int(v.version) for v in versions) == [1, 2]
    models = Client().search_logged_models([_runs()[0].info.experiment_id])
    assert {v.model_id for v in versions} == {m.model_id for m in models}


def test_a_failing_logging_step_is_a_warning_and_fit_returns(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk full")

    monkeypatch.setattr(fsregistry.statsmodels, "log_model", broken)
    fsregistry.statsmodels.autolog()
    X, y = _data()
    with caplog.at_level(logging.WARNING, logger="fsregistry.statsmodels.autologging"):
        results = sm.OLS(y, X).fit()
    assert results.rsquared > 0.9
    assert "disk full" in caplog.text
    (run,) = _runs()
    assert run.info.status == "FINISHED" and "rsquared" in run.data.metrics  # the rest logged
    caplog.clear()
    fsregistry.statsmodels.autolog(silent=True)
    with caplog.at_level(logging.WARNING, logger="fsregistry.statsmodels.autologging"):
        sm.OLS(y, X).fit()
    assert "disk full" not in caplog.text


def test_a_metric_that_raises_is_named_in_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    class Results:
        aic = 1.5
        df_model = np.int64(2)
        rsquared = True  # not a number for MLflow
        llf = "x"

        @property
        def bic(self) -> float:
            raise np.linalg.LinAlgError("singular")

        @property
        def scale(self) -> float:
            raise ValueError("no scale")

    fsregistry.statsmodels.autolog()
    with caplog.at_level(logging.WARNING, logger="fsregistry.statsmodels.autologging"):
        metrics = autologging.results_metrics(Results())
    assert metrics == {"aic": 1.5, "df_model": 2}
    assert "Failed to autolog metrics: bic, scale." in caplog.text


def test_nested_fits_log_one_run() -> None:
    from statsmodels.tsa.arima.model import ARIMA

    fsregistry.statsmodels.autolog()
    ARIMA(np.sin(np.arange(40) / 3.0), order=(1, 0, 0)).fit()  # fits SARIMAX inside
    (run,) = _runs()
    assert "low_memory" in run.data.params and "aic" in run.data.metrics
    assert len(Client().search_logged_models([run.info.experiment_id])) == 1


def test_fit_params_follow_mlflow_naming() -> None:
    def fit(self: Any, a: int, b: str = "x", *args: Any, c: int = 3, **kwargs: Any) -> None:
        pass

    empty = inspect.Parameter.empty
    params = autologging.fit_params(fit, (1,), {"c": 4, "extra": 5})
    assert params == {"a": 1, "c": 4, "extra": 5, "b": "x", "args": empty, "kwargs": empty}


def test_autolog_arguments_are_checked() -> None:
    with pytest.raises(InvalidParameterValue, match="extra_tags"):
        fsregistry.statsmodels.autolog(extra_tags=["x"])  # type: ignore[arg-type]
    assert not autologging.kit.enabled
