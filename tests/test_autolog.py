"""``fsregistry.autolog`` / ``fsregistry.sklearn.autolog``: the same training script under
real MLflow 3.17.2 and under fsregistry logs the same params, metrics, tags, datasets and
GridSearchCV child runs; MLflow reads fsregistry's autologged runs; patches are reversible
and logging failures never break ``fit``."""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV

import fsregistry
import fsregistry.sklearn
from fsreg_testing.mlflow_env import MlflowEnvError, run_mlflow
from fsregistry import Client
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.sklearn import autologging

# Run tags that depend on where the script runs (a git checkout or not), not on the library.
_OWN_TAGS = ("mlflow.source.git",)
# LoggedModel tags only fsregistry writes (the manifest digest, docs/mlflow-format.md), and git.
_OWN_MODEL_TAGS = ("fsreg.", *_OWN_TAGS)


@pytest.fixture(autouse=True)
def _no_autolog() -> Iterator[None]:
    """Every test starts and leaves scikit-learn unpatched, no run and no experiment active
    (``set_experiment`` in one test must not send the next test's runs to that experiment)."""
    fsregistry.fluent._active_experiment_id = None
    yield
    fsregistry.autolog(disable=True)  # every integration fsregistry.autolog() may have enabled
    while fsregistry.active_run():
        fsregistry.end_run()
    fsregistry.fluent._active_experiment_id = None


TRAIN = r"""
import json, warnings
warnings.simplefilter("ignore")
import numpy as np, pandas as pd
import sklearn.metrics
from sklearn import datasets
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

def train(mlflow, uri):
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("autolog")
    mlflow.sklearn.autolog()
    X, y = datasets.load_iris(return_X_y=True)
    Xr, yr = datasets.load_diabetes(return_X_y=True)
    frame = pd.DataFrame(Xr[:, :3], columns=["a", "b", "c"])
    ids = {}
    LogisticRegression(max_iter=300).fit(X, y)
    ids["classifier"] = mlflow.last_active_run().info.run_id
    m = LinearRegression().fit(Xr, yr, sample_weight=np.linspace(1, 2, len(yr)))
    ids["regressor"] = mlflow.last_active_run().info.run_id
    X_test, y_test = Xr[:50], yr[:50]
    pred = m.predict(X_test)
    sklearn.metrics.mean_squared_error(y_test, pred)
    sklearn.metrics.r2_score(y_test, pred)
    sklearn.metrics.r2_score(y_test, pred)
    m.score(X_test, y_test)
    other = Xr[50:80]
    sklearn.metrics.mean_absolute_error(yr[50:80], m.predict(other))
    LinearRegression().fit(frame, yr)
    ids["frame"] = mlflow.last_active_run().info.run_id
    binary = y < 2
    LogisticRegression(max_iter=300).fit(X[binary], y[binary])
    ids["binary"] = mlflow.last_active_run().info.run_id
    with mlflow.start_run() as run:
        Pipeline([("s", StandardScaler()), ("c", SVC(probability=True, random_state=0))]).fit(X, y)
    ids["pipeline"] = run.info.run_id
    GridSearchCV(SVC(), {"kernel": ("linear", "rbf"), "C": [1, 5, 10]}).fit(X, y)
    ids["grid"] = mlflow.last_active_run().info.run_id
    RandomizedSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 2, 3]},
                       n_iter=3, random_state=0).fit(X, y)
    ids["random"] = mlflow.last_active_run().info.run_id
    return ids, mlflow.active_run() is None
"""

DUMP = r"""
import json, os

def dump(client, ids, own_tags):
    out = {}
    exp = client.get_run(ids["classifier"]).info.experiment_id
    for label, rid in ids.items():
        run = client.get_run(rid)
        children = client.search_runs([exp], f"tags.mlflow.parentRunId = '{rid}'")
        out[label] = {
            "params": dict(run.data.params),
            "metrics": dict(run.data.metrics),
            "tags": sorted(t for t in run.data.tags if not t.startswith(own_tags)),
            "autologging": run.data.tags.get("mlflow.autologging"),
            "estimator": [run.data.tags["estimator_name"], run.data.tags["estimator_class"]],
            "status": run.info.status,
            "inputs": sorted(
                [d.dataset.name, d.dataset.digest, d.dataset.source_type, d.dataset.schema,
                 d.dataset.profile, sorted([t.key, t.value] for t in d.tags)]
                for d in run.inputs.dataset_inputs
            ),
            "children": sorted(
                [sorted(c.data.params.items()),
                 # fit and score times are measured: their keys must match, not their values
                 {k: None if k.endswith("_time") else v for k, v in c.data.metrics.items()},
                 sorted(t for t in c.data.tags if not t.startswith(own_tags)),
                 c.data.tags.get("estimator_name"), c.info.status,
                 [d.dataset.digest for d in c.inputs.dataset_inputs]]
                for c in children
            ),
        }
        names = [a.path for a in client.list_artifacts(rid)]
        out[label]["artifacts"] = sorted(n for n in names if "." in n)  # files, not models
        if "metric_info.json" in names:
            path = client.download_artifacts(rid, "metric_info.json", dst_path=os.getcwd())
            with open(path) as f:
                out[label]["metric_info"] = json.load(f)
    return out
"""


DUMP_MODELS = r"""
def dump_models(client, ids, own_tags, outputs):
    exp = client.get_run(ids["classifier"]).info.experiment_id
    labels = {rid: label for label, rid in ids.items()}

    def label_of(rid):
        if rid in labels:
            return labels[rid]
        parent = client.get_run(rid).data.tags.get("mlflow.parentRunId")
        return labels.get(parent, "?") + "/child"

    models = {}
    for m in client.search_logged_models([exp], max_results=1000):
        assert m.model_id not in models
        models[m.model_id] = [
            label_of(m.source_run_id), m.name, str(m.status), dict(m.params),
            sorted(t for t in m.tags if not t.startswith(own_tags)),
            sorted(
                [x.key, None if x.key.endswith("_time") else x.value, x.step,
                 label_of(x.run_id), x.dataset_name, x.dataset_digest, x.model_id == m.model_id]
                for x in m.metrics
            ),
        ]
    out = {"models": sorted(models.values())}
    if outputs:  # MLflow 3 only: fsregistry's Run has no `outputs`
        out["outputs"] = {
            label: sorted(models[o.model_id][1] for o in client.get_run(rid).outputs.model_outputs)
            for label, rid in ids.items()
        }
    return out
"""


_MLFLOW_INPUT_RACE = re.compile(r"Yaml file '[^']*inputs[^']*meta\.yaml' does not exist")


def _close(ours: Any, theirs: Any, where: str = "") -> None:
    """Equal, floats to 1e-9."""
    if isinstance(theirs, float) or isinstance(ours, float):
        assert math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-9), (where, ours, theirs)
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


@pytest.mark.mlflow
def test_same_script_logs_what_mlflow_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mlflow_dir, ours_dir = tmp_path / "mlflow", tmp_path / "fsreg"
    mlflow_dir.mkdir()
    ours_dir.mkdir()
    for attempt in range(3):
        # Two races of MLflow's file store, not fsregistry's, are run again (MLflow's half
        # alone, in a fresh directory) rather than compared against or failed on:
        # - it writes a param file by truncating then writing it, and its LoggedModel copies
        #   the run's params while autologging's queue may still be writing them: under load
        #   a copied value can come out empty;
        # - its reader can list a dataset input's directory before the writer has put the
        #   input's meta.yaml in it ("Yaml file '.../inputs/<id>/meta.yaml' does not exist").
        work = mlflow_dir / str(attempt)
        work.mkdir()
        try:
            theirs = run_mlflow(
                "3.17.2",
                TRAIN + DUMP + DUMP_MODELS + "import mlflow, mlflow.sklearn\n"
                "ids, ended = train(mlflow, 'file:./mlruns')\n"
                "client = mlflow.MlflowClient()\n"
                f"print(json.dumps([dump(client, ids, {_OWN_TAGS!r}), ended,"
                f" dump_models(client, ids, {_OWN_MODEL_TAGS!r}, True)]))\n",
                cwd=work,
                extras=("matplotlib",),  # MLflow draws the classifier plots only with it
            )
        except MlflowEnvError as exc:
            if attempt == 2 or not _MLFLOW_INPUT_RACE.search(str(exc)):
                raise
            continue
        if "" not in (v for m in theirs[2]["models"] for v in m[3].values()):
            break
    # The in-process dump downloads metric_info.json into the working directory.
    monkeypatch.chdir(ours_dir)
    scope: dict[str, Any] = {}
    exec(TRAIN + DUMP + DUMP_MODELS, scope)
    ids, ended = scope["train"](fsregistry, str(ours_dir / "mlruns"))
    ours = json.loads(json.dumps(scope["dump"](Client(), ids, _OWN_TAGS)))
    our_models = json.loads(json.dumps(scope["dump_models"](Client(), ids, _OWN_MODEL_TAGS, False)))
    assert ended and theirs[1]
    _close(ours, theirs[0])
    _close(our_models["models"], theirs[2]["models"], "models")
    # The names the issue promises, spelled out (so a shared mistake cannot pass).
    assert {"training_accuracy_score", "training_f1_score", "training_log_loss"} <= set(
        ours["classifier"]["metrics"]
    )
    assert {
        "training_root_mean_squared_error",
        "r2_score-2_X_test",
        "LinearRegression_score_X_test",
        "mean_absolute_error_other",
    } <= set(ours["regressor"]["metrics"])
    assert len(ours["grid"]["children"]) == 5 and "best_C" in ours["grid"]["params"]
    assert ours["binary"]["artifacts"] == [
        "estimator.html",
        "training_confusion_matrix.png",
        "training_precision_recall_curve.png",
        "training_roc_curve.png",
    ]
    # MLflow 3: one LoggedModel "model" per autologged run, "best_estimator" for searches.
    names = sorted((m[0], m[1]) for m in our_models["models"])
    assert names == sorted(
        [(label, "model") for label in ids]
        + [("grid", "best_estimator")]
        + [("random", "best_estimator")]
    )
    assert theirs[2]["outputs"]["grid"] == ["best_estimator", "model"]
    # MLflow 3.17.2 and 2.22.5 read fsregistry's autologged runs as fsregistry does, and
    # MLflow 3 its LoggedModels, linked to the runs as outputs as in its own tree.
    for version in ("3.17.2", "2.22.5"):
        dumps = f"dump(client, {ids!r}, {_OWN_TAGS!r})"
        if version.startswith("3"):
            dumps += f", dump_models(client, {ids!r}, {_OWN_MODEL_TAGS!r}, True)"
        read = run_mlflow(
            version,
            DUMP + DUMP_MODELS + "import mlflow\nmlflow.set_tracking_uri('file:./mlruns')\n"
            f"client = mlflow.MlflowClient()\nprint(json.dumps([{dumps}]))\n",
            cwd=ours_dir,
        )
        _close(ours, read[0], version)
        if version.startswith("3"):
            _close(our_models["models"], read[1]["models"], version)
            assert read[1]["outputs"] == theirs[2]["outputs"], version


def test_disable_restores_every_original() -> None:
    fit = LogisticRegression.fit
    score = LinearRegression.score
    accuracy = __import__("sklearn.metrics").metrics.accuracy_score
    grid_fit = GridSearchCV.fit
    fsregistry.sklearn.autolog()
    fsregistry.autolog()  # enabling again replaces the patches, never stacks them
    assert LogisticRegression.fit is not fit and GridSearchCV.fit is not grid_fit
    assert LogisticRegression.fit.__wrapped__ is fit  # type: ignore[attr-defined]
    fsregistry.autolog(disable=True)
    assert LogisticRegression.fit is fit and GridSearchCV.fit is grid_fit
    assert LinearRegression.score is score
    assert __import__("sklearn.metrics").metrics.accuracy_score is accuracy
    assert "fit" not in vars(LogisticRegression) or vars(LogisticRegression)["fit"] is fit


def test_exclude_flavors(tmp_path: Path) -> None:
    fit = LogisticRegression.fit
    fsregistry.autolog(exclude_flavors=["sklearn"])
    assert LogisticRegression.fit is fit and autologging.config is None


def test_disable_logs_nothing(tmp_path: Path) -> None:
    fsregistry.set_tracking_uri(str(tmp_path / "mlruns"))
    fsregistry.sklearn.autolog()
    fsregistry.sklearn.autolog(disable=True)
    X, y = load_iris(return_X_y=True)
    LogisticRegression(max_iter=200).fit(X, y)
    assert fsregistry.search_runs(search_all_experiments=True, output_format="list") == []


def _runs(root: Path) -> list[Any]:
    return Client(tracking_uri=str(root)).search_runs(["0"])


def test_fit_with_no_active_run_starts_and_ends_one(tmp_path: Path) -> None:
    fsregistry.set_tracking_uri(str(tmp_path / "mlruns"))
    fsregistry.autolog(extra_tags={"team": "a", "mlflow.autologging": "ignored"})
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(max_iter=200).fit(X, y)
    assert model.predict(X[:1]).shape == (1,)
    assert fsregistry.active_run() is None
    (run,) = _runs(tmp_path / "mlruns")
    assert run.info.status == "FINISHED"
    assert run.data.tags["team"] == "a" and run.data.tags["mlflow.autologging"] == "sklearn"
    assert run.data.params["max_iter"] == "200"
    with fsregistry.start_run():  # no run was left open
        pass


def test_a_failing_fit_fails_its_run(tmp_path: Path) -> None:
    fsregistry.set_tracking_uri(str(tmp_path / "mlruns"))
    fsregistry.sklearn.autolog()
    with pytest.raises(ValueError):
        LogisticRegression().fit(np.array([[1.0], [np.nan]]), [0, 1])
    (run,) = _runs(tmp_path / "mlruns")
    assert run.info.status == "FAILED" and fsregistry.active_run() is None


def test_exclusive_leaves_user_runs_alone(tmp_path: Path) -> None:
    fsregistry.set_tracking_uri(str(tmp_path / "mlruns"))
    fsregistry.sklearn.autolog(exclusive=True)
    X, y = load_iris(return_X_y=True)
    with fsregistry.start_run() as run:
        LogisticRegression(max_iter=200).fit(X, y)
    got = Client().get_run(run.info.run_id)
    assert got.data.params == {} and got.data.metrics == {}


@pytest.mark.parametrize("silent", [False, True])
def test_logging_failure_never_breaks_fit(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, silent: bool, monkeypatch: Any
) -> None:
    fsregistry.set_tracking_uri(str(tmp_path / "mlruns"))
    fsregistry.sklearn.autolog(silent=silent)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise InvalidParameterValue("store says no")

    monkeypatch.setattr(fsregistry.Client, "log_batch", broken)
    X, y = load_iris(return_X_y=True)
    with caplog.at_level(logging.WARNING, logger="fsregistry.sklearn"):
        model = LogisticRegression(max_iter=200).fit(X, y)
    assert hasattr(model, "coef_")
    warned = [r for r in caplog.records if "store says no" in r.getMessage()]
    assert (not warned) if silent else warned
    assert fsregistry.active_run() is None


def test_options(tmp_path: Path) -> None:
    fsregistry.set_tracking_uri(str(tmp_path / "mlruns"))
    fsregistry.sklearn.autolog(
        log_models=True,
        log_input_examples=True,
        log_datasets=False,
        max_tuning_runs=None,
        registered_model_name="auto-clf",
        log_post_training_metrics=False,
    )
    X, y = load_iris(return_X_y=True)
    search = GridSearchCV(LogisticRegression(max_iter=200), {"C": [0.1, 1, 10]}, cv=3)
    search.fit(X, y)
    run = fsregistry.last_active_run()
    assert run is not None
    client = Client()
    assert run.inputs.dataset_inputs == []
    children = client.search_runs(
        [run.info.experiment_id], f"tags.mlflow.parentRunId = '{run.info.run_id}'"
    )
    assert len(children) == 3  # max_tuning_runs=None: every candidate
    assert {c.data.params["C"] for c in children} == {"0.1", "1", "10"}
    # MLflow 3: the model is a LoggedModel of the run, not a `model` folder of its artifacts.
    assert client.list_artifacts(run.info.run_id, "model") == []
    (model,) = client.search_logged_models([run.info.experiment_id], filter_string="name = 'model'")
    version = client.get_model_version("auto-clf", "1")
    assert (version.run_id, version.model_id) == (run.info.run_id, model.model_id)
    files = {f.path for f in client.list_logged_model_artifacts(model.model_id)}
    assert "input_example.json" in files and "MLmodel" in files
    search.score(X, y)  # post-training metrics are off
    assert not any("_score_" in k for k in client.get_run(run.info.run_id).data.metrics)


def test_models_are_logged_models_of_the_run(store_url: str) -> None:
    """MLflow 3: the fitted search is the LoggedModel ``model`` (its params, training,
    ``best_cv_score`` and post-training metrics naming the training dataset), its
    ``best_estimator_`` the LoggedModel ``best_estimator`` (the best child run's metrics)."""
    import sklearn.metrics

    fsregistry.set_tracking_uri(store_url)
    fsregistry.sklearn.autolog()
    X, y = load_iris(return_X_y=True)
    search = GridSearchCV(LogisticRegression(max_iter=200), {"C": [0.01, 10]}, cv=3)
    search.fit(X, y)
    run = fsregistry.last_active_run()
    assert run is not None and fsregistry.active_run() is None
    X_test = X[::7]
    sklearn.metrics.accuracy_score(y[::7], search.predict(X_test))
    client = Client()
    models = {
        m.name: m for m in client.search_logged_models([run.info.experiment_id], max_results=10)
    }
    assert sorted(models) == ["best_estimator", "model"]
    model, best = models["model"], models["best_estimator"]
    assert {model.source_run_id, best.source_run_id} == {run.info.run_id}
    assert {model.status, best.status} == {"READY"}
    assert fsregistry.last_logged_model().model_id == best.model_id  # type: ignore[union-attr]
    expected = {k: str(v) for k, v in search.get_params(deep=False).items()} | {"best_C": "10"}
    assert model.params == expected
    deep = search.best_estimator_.get_params(deep=True)
    # MLflow 3's log_model adds the run's params (then the search's own, not yet best_C).
    run_params = {k: str(v) for k, v in search.get_params(deep=False).items()}
    assert best.params == {k: str(v) for k, v in deep.items()} | run_params
    digest = fsregistry.data.from_numpy(X, targets=y).digest
    on_model = {m.key: m for m in model.metrics}
    assert {"training_accuracy_score", "training_log_loss", "best_cv_score"} <= set(on_model)
    assert "accuracy_score_X_test" in on_model
    for m in on_model.values():
        assert m.run_id == run.info.run_id and m.model_id == model.model_id
        if m.key != "accuracy_score_X_test":  # post-training metrics name no dataset
            assert (m.dataset_name, m.dataset_digest) == ("dataset", digest), m
    assert on_model["best_cv_score"].value == pytest.approx(search.best_score_)
    children = client.search_runs(
        [run.info.experiment_id], f"tags.mlflow.parentRunId = '{run.info.run_id}'"
    )
    (best_child,) = [c for c in children if c.data.params["C"] == "10"]
    assert {m.run_id for m in best.metrics} == {best_child.info.run_id}
    assert {m.key for m in best.metrics} == {
        k for k in best_child.data.metrics if k.endswith(("_time", "_test_score"))
    }
    loaded = fsregistry.sklearn.load_model(model.model_uri)
    assert (loaded.predict(X_test) == search.predict(X_test)).all()


def test_long_params_are_truncated_as_mlflow_does(tmp_path: Path) -> None:
    fsregistry.set_tracking_uri(str(tmp_path / "mlruns"))
    fsregistry.sklearn.autolog(log_models=False)
    X, y = load_iris(return_X_y=True)
    weights = {i: 1.0 for i in range(3)} | {f"unused-{i:05d}": 1.0 for i in range(500)}
    model = LogisticRegression(max_iter=200, class_weight=weights)
    model.fit(X, y)
    (run,) = _runs(tmp_path / "mlruns")
    assert len(run.data.params["class_weight"]) == 6000
    assert str(weights).startswith(run.data.params["class_weight"])


def test_autolog_arguments_are_checked() -> None:
    with pytest.raises(InvalidParameterValue, match="extra_tags"):
        fsregistry.sklearn.autolog(extra_tags=["x"])  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue, match="max_tuning_runs"):
        fsregistry.sklearn.autolog(max_tuning_runs=-1)
    with pytest.raises(InvalidParameterValue, match="serialization format"):
        fsregistry.sklearn.autolog(serialization_format="json")
    assert autologging.config is None


def test_datasets_and_metrics_on_every_backend(store_url: str) -> None:
    fsregistry.set_tracking_uri(store_url)
    fsregistry.sklearn.autolog(log_models=False)
    Xr, yr = load_diabetes(return_X_y=True)
    frame = pd.DataFrame(Xr[:, :4], columns=list("abcd"))
    model = LinearRegression().fit(frame, yr)
    run_id = fsregistry.last_active_run().info.run_id  # type: ignore[union-attr]
    holdout = frame.iloc[:40]
    model.predict(holdout)
    got = Client().get_run(run_id)
    contexts = sorted(
        (d.tags[0].value, d.dataset.digest, d.dataset.source_type)
        for d in got.inputs.dataset_inputs
    )
    train = fsregistry.data.from_pandas(frame).digest
    evaluation = fsregistry.data.from_pandas(holdout).digest
    assert contexts == sorted([("train", train, "code"), ("eval", evaluation, "code")])
    assert got.data.metrics["training_r2_score"] == pytest.approx(model.score(frame, yr))


def test_inherited_methods_wrap_the_original_once() -> None:
    """A class inheriting a method from another patched class (ExtraTreeClassifier.fit from
    DecisionTreeClassifier) wraps the original, not the parent's wrapper."""
    fsregistry.sklearn.autolog()
    stacked = [
        f"{cls.__name__}.{name}"
        for cls in autologging.estimators_to_patch()
        for name in ("fit", "fit_transform", "fit_predict", "predict", "transform", "score")
        if hasattr(getattr(vars(cls).get(name), "__wrapped__", None), autologging._ORIGINAL)
    ]
    assert stacked == []
    assert "fit" in vars(__import__("sklearn.tree").tree.ExtraTreeClassifier)  # patched there


def test_bench_script_runs(tmp_path: Path) -> None:
    """bench/autolog.py (fsregistry only, one repeat) completes and reports every column."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    out = tmp_path / "autolog.json"
    subprocess.run(
        [sys.executable, str(root / "bench" / "autolog.py"), "--repeats", "1", "--json", str(out)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    (row,) = json.loads(out.read_text())
    assert row["tool"] == "fsregistry"
    assert {"plain_ms", "autolog_ms", "autolog_no_model_ms"} <= set(row)
