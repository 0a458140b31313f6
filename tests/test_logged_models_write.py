"""MLflow 3 LoggedModels written by fsregistry: the store and Client methods, on local disk,
S3 and GCS (the layout of docs/mlflow-format.md §1.9)."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

import fsregistry
from fsregistry import Client
from fsregistry.entities import Dataset, LoggedModelOutput, LoggedModelStatus
from fsregistry.exceptions import InvalidParameterValue, InvalidState, ResourceDoesNotExist
from fsregistry.fluent import _stack


@pytest.fixture
def client(store_url: str) -> Client:
    return Client(tracking_uri=store_url)


def _meta(store_fs: tuple[Any, str], exp_id: str, model_id: str) -> dict[str, Any]:
    fs, root = store_fs
    with fs.open(f"{root}/{exp_id}/models/{model_id}/meta.yaml", "rb") as f:
        return dict(yaml.safe_load(f.read()))


def _read(store_fs: tuple[Any, str], rel: str) -> str:
    fs, root = store_fs
    with fs.open(f"{root}/{rel}", "rb") as f:
        return str(f.read().decode("utf-8"))


def test_create_writes_mlflow3_layout(client: Client, store_fs: tuple[Any, str]) -> None:
    exp = client.create_experiment("lm")
    run = client.create_run(exp)
    model = client.create_logged_model(
        exp,
        name="clf",
        source_run_id=run.info.run_id,
        tags={"team": "ml"},
        params={"C": 0.5, "nested/k": "v"},
        model_type="sklearn",
    )
    assert re.fullmatch(r"m-[0-9a-f]{32}", model.model_id)
    assert model.status == LoggedModelStatus.PENDING and model.status == "PENDING"
    assert model.model_uri == f"models:/{model.model_id}"
    assert model.artifact_location.endswith(f"/{exp}/models/{model.model_id}/artifacts")
    meta = _meta(store_fs, exp, model.model_id)
    assert meta["status"] == 1 and meta["lifecycle_stage"] == "active"
    assert meta["experiment_id"] == exp and meta["name"] == "clf"
    assert meta["source_run_id"] == run.info.run_id and meta["model_type"] == "sklearn"
    assert _read(store_fs, f"{exp}/models/{model.model_id}/params/C") == "0.5"
    assert _read(store_fs, f"{exp}/models/{model.model_id}/params/nested/k") == "v"
    assert _read(store_fs, f"{exp}/models/{model.model_id}/tags/team") == "ml"
    got = client.get_logged_model(model.model_id)
    assert got.params == {"C": "0.5", "nested/k": "v"} and got.tags == {"team": "ml"}
    assert got.name == "clf" and got.creation_timestamp == model.creation_timestamp


def test_create_without_name_draws_one_and_rejects_bad_names(client: Client) -> None:
    exp = client.create_experiment("names")
    assert client.create_logged_model(exp).name
    for bad in ("a/b", "a.b", "a:b", "", "50%"):
        with pytest.raises(InvalidParameterValue, match="Invalid model name"):
            client.create_logged_model(exp, name=bad)
    assert client.search_logged_models([exp], max_results=10).token is None
    assert len(client.search_logged_models([exp])) == 1


def test_failed_create_leaves_nothing(client: Client, store_fs: tuple[Any, str]) -> None:
    exp = client.create_experiment("atomic")
    with pytest.raises(InvalidParameterValue, match="collides"):
        client.create_logged_model(exp, name="x", params={"a": "1", "a/b": "2"})
    fs, root = store_fs
    assert not fs.exists(f"{root}/{exp}/models") or not [
        p for p in fs.find(f"{root}/{exp}/models") if not p.endswith("/")
    ]
    assert list(client.search_logged_models([exp])) == []


def test_create_needs_an_active_experiment(client: Client) -> None:
    with pytest.raises(ResourceDoesNotExist):
        client.create_logged_model("123456789")
    exp = client.create_experiment("gone")
    client.delete_experiment(exp)
    with pytest.raises(InvalidState, match="non-active experiment"):
        client.create_logged_model(exp)


def test_finalize_is_a_meta_update(client: Client, store_fs: tuple[Any, str]) -> None:
    exp = client.create_experiment("fin")
    model = client.create_logged_model(exp, name="m")
    ready = client.finalize_logged_model(model.model_id, "READY")
    assert ready.status == LoggedModelStatus.READY
    assert ready.last_updated_timestamp >= model.last_updated_timestamp  # type: ignore[operator]
    assert _meta(store_fs, exp, model.model_id)["status"] == 2
    failed = client.finalize_logged_model(model.model_id, LoggedModelStatus.FAILED)
    assert failed.status == "FAILED" and _meta(store_fs, exp, model.model_id)["status"] == 3
    with pytest.raises(InvalidParameterValue, match="'DONE' is not a valid LoggedModelStatus"):
        client.finalize_logged_model(model.model_id, "DONE")
    assert _meta(store_fs, exp, model.model_id)["status"] == 3


def test_tags_params_and_delete(client: Client) -> None:
    exp = client.create_experiment("tags")
    mid = client.create_logged_model(exp, name="m").model_id
    client.set_logged_model_tags(mid, {"a": 1, "b": "two"})
    client.log_model_params(mid, {"lr": 0.1})
    got = client.get_logged_model(mid)
    assert got.tags == {"a": "1", "b": "two"} and got.params == {"lr": "0.1"}
    client.delete_logged_model_tag(mid, "a")
    assert client.get_logged_model(mid).tags == {"b": "two"}
    with pytest.raises(ResourceDoesNotExist, match="No tag with key 'a'"):
        client.delete_logged_model_tag(mid, "a")
    with pytest.raises(ResourceDoesNotExist, match="not found"):
        client.get_logged_model("m-" + "0" * 32)
    client.delete_logged_model(mid)
    with pytest.raises(ResourceDoesNotExist, match="not found"):
        client.get_logged_model(mid)
    with pytest.raises(ResourceDoesNotExist):
        client.set_logged_model_tags(mid, {"c": "3"})
    assert list(client.search_logged_models([exp])) == []


def test_metrics_with_model_id_go_to_run_and_model(
    client: Client, store_fs: tuple[Any, str]
) -> None:
    exp = client.create_experiment("metrics")
    run_id = client.create_run(exp).info.run_id
    mid = client.create_logged_model(exp, name="m", source_run_id=run_id).model_id
    client.log_metric(run_id, "acc", 0.5, timestamp=10, step=1, model_id=mid)
    client.log_metric(
        run_id,
        "acc",
        0.7,
        timestamp=11,
        step=2,
        model_id=mid,
        dataset_name="test",
        dataset_digest="abc",
    )
    client.log_metric(run_id, "loss", 0.1, timestamp=12)  # run only
    client.flush()
    assert _read(store_fs, f"{exp}/models/{mid}/metrics/acc") == (
        f"10 0.5 1 {run_id}\n11 0.7 2 {run_id} test abc\n"
    )
    assert [m.value for m in client.get_metric_history(run_id, "acc")] == [0.5, 0.7]
    model = client.get_logged_model(mid)
    by_dataset = {(m.key, m.dataset_name): m for m in model.metrics}
    assert set(by_dataset) == {("acc", None), ("acc", "test")}
    assert by_dataset[("acc", "test")].value == 0.7 and by_dataset[("acc", None)].run_id == run_id
    assert all(m.model_id == mid for m in model.metrics)
    with pytest.raises(ResourceDoesNotExist):
        client.log_metric(run_id, "acc", 1.0, model_id="m-missing")
    client.flush()
    assert len(client.get_metric_history(run_id, "acc")) == 2  # refused before any write


def test_run_outputs_link_runs_to_models(client: Client, store_fs: tuple[Any, str]) -> None:
    exp = client.create_experiment("outputs")
    run_id = client.create_run(exp).info.run_id
    mid = client.create_logged_model(exp, name="m", source_run_id=run_id).model_id
    client.log_outputs(run_id, [LoggedModelOutput(mid, step=3)])
    meta = yaml.safe_load(_read(store_fs, f"{exp}/{run_id}/outputs/{mid}/meta.yaml"))
    assert meta == {
        "destination_id": mid,
        "destination_type": "MODEL_OUTPUT",
        "source_id": mid,
        "source_type": "RUN_OUTPUT",
        "step": 3,
        "tags": {},
    }
    assert client.store.get_run_outputs(run_id) == [LoggedModelOutput(mid, 3)]


def _models(client: Client, exp: str) -> dict[str, str]:
    """Three finalized models with params, tags and metrics; name -> id."""
    run_id = client.create_run(exp).info.run_id
    ids = {}
    for i, (name, acc, opt) in enumerate([("a", 0.9, "adam"), ("b", 0.7, "sgd"), ("c", 0.8, "")]):
        time.sleep(0.003)  # distinct creation timestamps, so the default order is known
        mid = client.create_logged_model(
            exp, name=name, source_run_id=run_id, params={"opt": opt} if opt else None
        ).model_id
        client.set_logged_model_tags(mid, {"rank": str(i)})
        client.log_metric(run_id, "acc", acc, timestamp=100 + i, model_id=mid)
        if name == "b":
            client.log_metric(
                run_id, "f1", 0.5, model_id=mid, dataset_name="eval", dataset_digest="d1"
            )
        client.finalize_logged_model(mid, "READY" if name != "c" else "FAILED")
        ids[name] = mid
    client.flush()
    return ids


def test_search_filter_order_and_datasets(client: Client) -> None:
    exp = client.create_experiment("search")
    ids = _models(client, exp)

    def names(**kwargs: Any) -> list[str]:
        return [m.name for m in client.search_logged_models([exp], **kwargs)]

    assert names() == ["c", "b", "a"]  # newest first, then model_id
    assert sorted(names(filter_string="metrics.acc > 0.75")) == ["a", "c"]
    assert names(filter_string="params.opt = 'adam'") == ["a"]
    assert names(filter_string="params.opt LIKE '%g%'") == ["b"]
    assert names(filter_string="tags.rank != '0'") == ["c", "b"]
    assert names(filter_string="status = 'FAILED'") == ["c"]
    assert names(filter_string=f"model_id = '{ids['b']}'") == ["b"]
    assert names(filter_string="name IN ('a', 'c') AND metrics.acc < 0.85") == ["c"]
    assert names(order_by=[{"field_name": "metrics.acc", "ascending": False}]) == ["a", "c", "b"]
    assert names(order_by=[{"field_name": "name"}]) == ["a", "b", "c"]
    assert names(order_by=[{"field_name": "creation_time", "ascending": True}]) == ["a", "b", "c"]
    assert names(datasets=[{"dataset_name": "eval"}]) == ["b"]
    assert names(datasets=[{"dataset_name": "eval", "dataset_digest": "no"}]) == []
    assert names(filter_string="metrics.f1 > 0.1", datasets=[{"dataset_name": "eval"}]) == ["b"]
    assert names(filter_string="metrics.acc > 0.1", datasets=[{"dataset_name": "eval"}]) == []
    for bad in ("metrics.acc > 'x'", "runs.x = 'y'", "params.opt > 'a'", "nope = 'x'"):
        with pytest.raises(InvalidParameterValue):
            client.search_logged_models([exp], filter_string=bad)
    for order in ([{"field_name": "params.opt"}], [{"ascending": True}], ["name"]):
        with pytest.raises(InvalidParameterValue):
            client.search_logged_models([exp], order_by=order)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue, match="dataset_name"):
        client.search_logged_models([exp], datasets=[{"dataset_digest": "d1"}])
    with pytest.raises(InvalidParameterValue, match="list of strings"):
        client.search_logged_models(exp)  # type: ignore[arg-type]
    assert list(client.search_logged_models(["999999999"])) == []


def test_search_pages_with_mlflow_tokens(client: Client) -> None:
    exp = client.create_experiment("pages")
    _models(client, exp)
    first = client.search_logged_models([exp], max_results=2)
    assert [m.name for m in first] == ["c", "b"] and first.token
    payload = json.loads(base64.b64decode(first.token))
    assert payload == {
        "experiment_ids": [exp],
        "filter_string": None,
        "order_by": None,
        "offset": 2,
    }
    second = client.search_logged_models([exp], max_results=2, page_token=first.token)
    assert [m.name for m in second] == ["a"] and second.token is None
    with pytest.raises(InvalidParameterValue, match="Filter string in the page token"):
        client.search_logged_models([exp], filter_string="name = 'a'", page_token=first.token)
    with pytest.raises(InvalidParameterValue):
        client.search_logged_models([exp], max_results=0)


# -- the fluent functions ------------------------------------------------------------------
@pytest.fixture
def fluent(store_url: str) -> Iterator[str]:
    """The fluent API pointed at this test's store, with no active run, experiment or model."""
    fsregistry.set_tracking_uri(store_url)
    fsregistry.fluent._active_experiment_id = None
    _stack().clear()
    fsregistry.clear_active_model()
    yield store_url
    while _stack():
        fsregistry.end_run()
    fsregistry.fluent._active_experiment_id = None
    fsregistry.clear_active_model()


def test_fluent_initialize_finalize_and_last_model(fluent: str) -> None:
    exp = fsregistry.set_experiment("fluent-lm").experiment_id
    with fsregistry.start_run() as run:
        model = fsregistry.initialize_logged_model(name="m", params={"p": 1}, model_type="agent")
    assert model.source_run_id == run.info.run_id and model.experiment_id == exp
    assert model.tags["mlflow.user"] and model.tags["mlflow.source.type"] == "LOCAL"
    assert fsregistry.last_logged_model().model_id == model.model_id  # type: ignore[union-attr]
    ready = fsregistry.finalize_logged_model(model.model_id, "READY")
    assert ready.status == "READY" and ready.params == {"p": "1"}
    assert fsregistry.get_logged_model(model.model_id).model_type == "agent"
    fsregistry.set_logged_model_tags(model.model_id, {"k": "v"})
    fsregistry.delete_logged_model_tag(model.model_id, "mlflow.user")
    assert "mlflow.user" not in fsregistry.get_logged_model(model.model_id).tags
    with pytest.raises(
        InvalidParameterValue, match="`model_id` must be a non-empty string, but got None"
    ):
        fsregistry.log_model_params({"a": "b"})
    fsregistry.log_model_params({"a": "b"}, model_id=model.model_id)
    assert fsregistry.get_logged_model(model.model_id).params == {"p": "1", "a": "b"}


def test_fluent_search_list_and_pandas(fluent: str) -> None:
    fsregistry.set_experiment("fluent-search")
    ids = [fsregistry.initialize_logged_model(name=f"m{i}").model_id for i in range(3)]
    listed = fsregistry.search_logged_models(output_format="list", max_results=2)
    assert isinstance(listed, list) and len(listed) == 2
    everything = fsregistry.search_logged_models(
        output_format="list", order_by=[{"field_name": "name"}]
    )
    assert [m.model_id for m in everything] == ids  # type: ignore[union-attr]
    frame = fsregistry.search_logged_models(filter_string="name = 'm1'")
    assert list(frame["model_id"]) == [ids[1]] and list(frame["status"]) == ["PENDING"]
    assert {"artifact_location", "metrics", "params", "tags", "source_run_id"} <= set(frame.columns)
    with pytest.raises(InvalidParameterValue, match="Unsupported output format"):
        fsregistry.search_logged_models(output_format="json")  # type: ignore[call-overload]


def test_fluent_external_and_active_models(fluent: str) -> None:
    fsregistry.set_experiment("fluent-active")
    assert fsregistry.get_active_model_id() is None
    active = fsregistry.set_active_model(name="agent")  # none yet: an external model
    assert fsregistry.get_active_model_id() == active.model_id
    model = fsregistry.get_logged_model(active.model_id)
    assert model.status == "READY" and model.tags["mlflow.model.isExternal"] == "true"
    listed = Client().list_logged_model_artifacts(active.model_id)
    assert [f.path for f in listed] == ["MLmodel"]
    assert fsregistry.set_active_model(name="agent").model_id == active.model_id  # found
    other = fsregistry.initialize_logged_model(name="other")
    with fsregistry.set_active_model(model_id=other.model_id):
        assert fsregistry.get_active_model_id() == other.model_id
    assert fsregistry.get_active_model_id() == active.model_id
    with pytest.raises(InvalidParameterValue, match="does not match"):
        fsregistry.set_active_model(name="agent", model_id=other.model_id)
    with pytest.raises(InvalidParameterValue, match="Either name or model_id"):
        fsregistry.set_active_model()
    fsregistry.clear_active_model()
    assert fsregistry.get_active_model_id() is None


def test_fluent_metrics_link_models_and_datasets(fluent: str, store_fs: tuple[Any, str]) -> None:
    exp = fsregistry.set_experiment("fluent-metrics").experiment_id
    model = fsregistry.initialize_logged_model(name="m")
    dataset = Dataset("eval", "d1", "code", "{}")
    with fsregistry.start_run() as run:
        run_id = run.info.run_id
        fsregistry.set_active_model(model_id=model.model_id)
        fsregistry.log_metric("acc", 0.5, step=1)
        fsregistry.clear_active_model()
        fsregistry.log_metrics({"f1": 0.25}, model_id=model.model_id, dataset=dataset)
        fsregistry.log_metric("loss", 2.0)  # no model: the run only
    got = fsregistry.get_logged_model(model.model_id)
    assert {(m.key, m.value, m.dataset_name) for m in got.metrics} == {
        ("acc", 0.5, None),
        ("f1", 0.25, "eval"),
    }
    data = fsregistry.get_run(run_id).data.metrics
    assert data == {"acc": 0.5, "f1": 0.25, "loss": 2.0}
    inputs = fsregistry.get_run(run_id).inputs.dataset_inputs
    assert [(i.dataset.name, i.dataset.digest) for i in inputs] == [("eval", "d1")]
    fs, root = store_fs
    metas = [p for p in fs.find(f"{root}/{exp}/{run_id}/inputs") if p.endswith("meta.yaml")]
    kinds = sorted(yaml.safe_load(fs.cat_file(p))["source_type"] for p in metas)
    assert kinds == ["DATASET", "MODEL"]  # the model is recorded as an input of the run
    with pytest.raises(ResourceDoesNotExist), fsregistry.start_run():
        fsregistry.log_metric("acc", 1.0, model_id="m-nope")


def test_fluent_metrics_follow_run_outputs_at_their_step(fluent: str) -> None:
    fsregistry.set_experiment("fluent-outputs")
    with fsregistry.start_run():
        model = fsregistry.initialize_logged_model(name="m")
        fsregistry.log_outputs([LoggedModelOutput(model.model_id, step=0)])
        fsregistry.log_metric("acc", 0.9)  # step 0: the model logged at step 0
        fsregistry.log_metric("acc", 0.1, step=5)  # no model at step 5
    got = fsregistry.get_logged_model(model.model_id)
    assert [(m.key, m.value, m.step) for m in got.metrics] == [("acc", 0.9, 0)]


# -- log_model (MLflow 3) ---------------------------------------------------------------------
def test_log_model_without_a_run_starts_none(fluent: str) -> None:
    from fsreg_testing.models import frame, trained_model
    from fsregistry import sklearn as fsk

    exp = fsregistry.set_experiment("no-run").experiment_id
    info = fsk.log_model(trained_model(), name="clf")
    assert fsregistry.active_run() is None and info.run_id is None
    model = fsregistry.get_logged_model(info.model_id or "")
    assert model.experiment_id == exp and model.source_run_id is None
    assert model.status == "READY" and fsregistry.last_logged_model().model_id == model.model_id  # type: ignore[union-attr]
    assert Client().search_runs([exp]) == []
    with fsregistry.start_run():  # nothing was left open
        pass
    pred = fsk.load_model(info.model_uri).predict(frame())
    assert list(pred) == list(trained_model().predict(frame()))


def test_log_model_links_the_run_and_copies_step_metrics(fluent: str) -> None:
    from fsreg_testing.models import trained_model
    from fsregistry import sklearn as fsk

    with fsregistry.start_run() as run:
        fsregistry.log_params({"C": 0.5, "solver": "lbfgs"})
        fsregistry.log_metric("acc", 0.8, step=0)
        fsregistry.log_metric("acc", 0.9, step=1)
        first = fsk.log_model(trained_model(), name="clf", params={"extra": 1}, step=1)
        again = fsk.log_model(trained_model(), name="clf")  # same name: another model
        fsregistry.log_metric("auc", 0.7, step=1)  # follows the model logged at step 1
    assert first.model_id != again.model_id
    model = fsregistry.get_logged_model(first.model_id or "")
    assert model.params == {"C": "0.5", "solver": "lbfgs", "extra": "1"}
    assert sorted((m.key, m.value, m.step) for m in model.metrics) == [
        ("acc", 0.9, 1),
        ("auc", 0.7, 1),
    ]
    history = Client().get_metric_history(run.info.run_id, "acc")
    assert [m.value for m in history] == [0.8, 0.9]  # the run's lines are not duplicated
    outputs = {o.model_id: o.step for o in Client().store.get_run_outputs(run.info.run_id)}
    assert outputs == {first.model_id: 1, again.model_id: 0}
    run_tags = fsregistry.get_run(run.info.run_id).data.tags
    assert "mlflow.log-model.history" not in run_tags  # MLflow 3 writes none


def test_failed_log_model_leaves_nothing(fluent: str, store_fs: tuple[Any, str]) -> None:
    from fsreg_testing.models import trained_model
    from fsregistry import sklearn as fsk

    exp = fsregistry.set_experiment("failing").experiment_id
    with fsregistry.start_run() as run:
        with pytest.raises(InvalidParameterValue, match="serialization"):
            fsk.log_model(trained_model(), name="clf", serialization_format="json")
        with pytest.raises(InvalidParameterValue, match="Invalid model name"):
            fsk.log_model(trained_model(), name="a/b")
    assert list(Client().search_logged_models([exp])) == []
    assert Client().store.get_run_outputs(run.info.run_id) == []
    fs, root = store_fs
    left = [p for p in fs.find(f"{root}/{exp}") if "/models/" in p]
    assert left == []


def test_log_model_into_an_initialized_model(fluent: str) -> None:
    from fsreg_testing.models import trained_model
    from fsregistry import sklearn as fsk

    fsregistry.set_experiment("init-then-log")
    model = fsregistry.initialize_logged_model(name="agent", tags={"t": "1"})
    info = fsk.log_model(trained_model(), model_id=model.model_id)
    assert info.model_id == model.model_id
    got = fsregistry.get_logged_model(model.model_id)
    assert got.status == "READY" and got.tags["t"] == "1" and "fsreg.model_digest" in got.tags


def test_register_model_from_model_id_records_it(fluent: str) -> None:
    from fsreg_testing.models import frame, trained_model
    from fsregistry import pyfunc
    from fsregistry import sklearn as fsk

    fsregistry.set_registry_uri(fluent)
    with fsregistry.start_run():
        info = fsk.log_model(trained_model(), name="clf")
    mv = fsregistry.register_model(info.model_uri, "lm-reg")
    mv2 = fsregistry.register_model(info.model_uri, "lm-reg")
    assert mv.model_id == mv2.model_id == info.model_id and mv.source == info.model_uri
    model = fsregistry.get_logged_model(info.model_id or "")
    assert json.loads(model.tags["mlflow.modelVersions"]) == [
        {"name": "lm-reg", "version": 1},
        {"name": "lm-reg", "version": 2},
    ]
    assert Client().get_model_version_download_uri("lm-reg", 1) == model.artifact_location
    expected = list(trained_model().predict(frame()))
    assert list(pyfunc.load_model("models:/lm-reg/2").predict(frame())) == expected
