"""Tracking store through ``Client`` and the fluent API, on local disk, S3 and GCS."""

from __future__ import annotations

import copy
import math
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fsregistry
from fsregistry import Client, ViewType
from fsregistry.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunData, RunTag
from fsregistry.entities import tracking as tracking_entities
from fsregistry.exceptions import (
    InvalidParameterValue,
    InvalidState,
    MlflowException,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from fsregistry.fluent import _stack


@pytest.fixture
def client(store_url: str) -> Client:
    return Client(tracking_uri=store_url)


@pytest.fixture
def fluent(store_url: str) -> Iterator[str]:
    """The fluent API pointed at this test's store, with no active run or experiment."""
    fsregistry.set_tracking_uri(store_url)
    fsregistry.fluent._active_experiment_id = None
    _stack().clear()
    yield store_url
    while _stack():
        fsregistry.end_run()
    fsregistry.fluent._active_experiment_id = None


# -- experiments ---------------------------------------------------------------------------
def test_default_experiment_exists_on_first_use(client: Client) -> None:
    exps = client.search_experiments()
    assert [(e.experiment_id, e.name) for e in exps] == [("0", "Default")]
    assert client.get_experiment("0").name == "Default"


def test_create_get_rename_tag_experiment(client: Client) -> None:
    exp_id = client.create_experiment("exp-a", tags={"team": "ml", "owner/email": "a@b.c"})
    assert exp_id.isdigit() and len(exp_id) == 18
    exp = client.get_experiment(exp_id)
    assert exp.name == "exp-a" and exp.lifecycle_stage == "active"
    assert exp.tags == {"team": "ml", "owner/email": "a@b.c"}
    assert exp.artifact_location.endswith(f"/{exp_id}")
    assert client.get_experiment_by_name("exp-a").experiment_id == exp_id  # type: ignore[union-attr]
    assert client.get_experiment_by_name("nope") is None
    with pytest.raises(ResourceAlreadyExists, match="exp-a"):
        client.create_experiment("exp-a")
    client.rename_experiment(exp_id, "exp-b")
    assert client.get_experiment(exp_id).name == "exp-b"
    assert client.get_experiment_by_name("exp-a") is None
    new_id = client.create_experiment("exp-a")  # the old name is free again
    assert new_id != exp_id
    client.set_experiment_tag(exp_id, "team", "platform")
    client.delete_experiment_tag(exp_id, "owner/email")
    assert client.get_experiment(exp_id).tags == {"team": "platform"}
    with pytest.raises(ResourceDoesNotExist):
        client.delete_experiment_tag(exp_id, "owner/email")
    with pytest.raises(ResourceDoesNotExist):
        client.get_experiment("123456")


def test_delete_and_restore_experiment(client: Client) -> None:
    exp_id = client.create_experiment("doomed")
    run = client.create_run(exp_id)
    client.delete_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "deleted"
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "deleted"
    assert "doomed" not in [e.name for e in client.search_experiments()]
    assert "doomed" in [e.name for e in client.search_experiments(view_type=ViewType.DELETED_ONLY)]
    with pytest.raises(ResourceAlreadyExists, match="deleted state"):
        client.create_experiment("doomed")
    with pytest.raises(InvalidState):
        client.create_run(exp_id)
    client.restore_experiment(exp_id)
    assert client.get_experiment(exp_id).lifecycle_stage == "active"
    assert client.get_run(run.info.run_id).info.lifecycle_stage == "active"
    # MLflow's code and text: INTERNAL_ERROR, "Cannot delete the default experiment '0'..."
    with pytest.raises(MlflowException, match="Cannot delete the default experiment '0'") as e:
        client.delete_experiment("0")
    assert e.value.error_code == "INTERNAL_ERROR"


def test_search_experiments_filter_order_paging(client: Client) -> None:
    for name in ("alpha", "beta", "gamma"):
        client.create_experiment(name, tags={"kind": "x" if name != "beta" else "y"})
    names = [e.name for e in client.search_experiments(filter_string="tags.kind = 'x'")]
    assert sorted(names) == ["alpha", "gamma"]
    names = [e.name for e in client.search_experiments(filter_string="name LIKE '%a'")]
    assert sorted(names) == ["alpha", "beta", "gamma"]
    ordered = [e.name for e in client.search_experiments(order_by=["name DESC"])]
    assert ordered == ["gamma", "beta", "alpha", "Default"]
    page1 = client.search_experiments(max_results=2, order_by=["name ASC"])
    page2 = client.search_experiments(max_results=2, order_by=["name ASC"], page_token=page1.token)
    assert [e.name for e in page1] == ["Default", "alpha"]
    assert [e.name for e in page2] == ["beta", "gamma"] and page2.token is None


# -- runs ----------------------------------------------------------------------------------
def test_run_lifecycle_params_metrics_tags(client: Client) -> None:
    exp_id = client.create_experiment("runs")
    run = client.create_run(exp_id, run_name="first", tags={"stage": "dev"})
    run_id = run.info.run_id
    assert run.info.status == "RUNNING" and run.info.run_name == "first"
    assert run.data.tags["mlflow.runName"] == "first"
    client.log_param(run_id, "lr", 0.1)
    client.log_param(run_id, "lr", 0.1)  # same value again: fine
    with pytest.raises(InvalidParameterValue, match="Changing param values is not allowed"):
        client.log_param(run_id, "lr", 0.2)
    client.log_metric(run_id, "loss", 1.0, timestamp=10, step=0)
    client.log_metric(run_id, "loss", 0.5, timestamp=20, step=1)
    client.log_metric(run_id, "loss", 0.7, timestamp=5, step=1)  # same step, older timestamp
    client.log_metric(run_id, "weird", math.nan, timestamp=1, step=0)
    client.log_metric(run_id, "big", math.inf, timestamp=1, step=0)
    client.log_metric(run_id, "small", -math.inf, timestamp=1, step=0)
    client.set_tag(run_id, "multi", "line1\nline2")
    client.set_tag(run_id, "unicode", "héllo ✓")
    got = client.get_run(run_id)
    assert got.data.params == {"lr": "0.1"}
    assert got.data.metrics["loss"] == 0.5  # max (step, timestamp, value)
    assert math.isnan(got.data.metrics["weird"])
    assert got.data.metrics["big"] == math.inf and got.data.metrics["small"] == -math.inf
    assert got.data.tags["multi"] == "line1\nline2" and got.data.tags["unicode"] == "héllo ✓"
    history = client.get_metric_history(run_id, "loss")
    assert [(m.value, m.timestamp, m.step) for m in history] == [
        (1.0, 10, 0),
        (0.5, 20, 1),
        (0.7, 5, 1),
    ]
    assert client.get_metric_history(run_id, "never-logged") == []
    client.delete_tag(run_id, "multi")
    assert "multi" not in client.get_run(run_id).data.tags
    with pytest.raises(ResourceDoesNotExist):
        client.delete_tag(run_id, "multi")
    client.update_run(run_id, name="renamed")
    got = client.get_run(run_id)
    assert got.info.run_name == "renamed" and got.data.tags["mlflow.runName"] == "renamed"
    client.set_tag(run_id, "mlflow.runName", "via-tag")
    assert client.get_run(run_id).info.run_name == "via-tag"
    info = client.set_terminated(run_id, "FAILED")
    assert info.status == "FAILED" and info.end_time is not None


def test_delete_restore_run_and_deleted_run_is_read_only(client: Client) -> None:
    exp_id = client.create_experiment("del")
    run_id = client.create_run(exp_id).info.run_id
    client.delete_run(run_id)
    assert client.get_run(run_id).info.lifecycle_stage == "deleted"
    with pytest.raises(InvalidParameterValue, match="active"):
        client.log_param(run_id, "a", 1)
    assert client.search_runs([exp_id]) == []
    assert len(client.search_runs([exp_id], run_view_type=ViewType.DELETED_ONLY)) == 1
    client.restore_run(run_id)
    client.log_param(run_id, "a", 1)
    assert len(client.search_runs([exp_id])) == 1


def test_log_batch_and_nested_keys(client: Client) -> None:
    exp_id = client.create_experiment("batch")
    run_id = client.create_run(exp_id).info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("m/a", float(i), 1000 + i, i) for i in range(20)],
        params=[Param("nested/key", "v"), Param("p", 3)],
        tags=[RunTag("t/x", "y")],
    )
    run = client.get_run(run_id)
    assert run.data.params == {"nested/key": "v", "p": "3"}
    assert run.data.metrics == {"m/a": 19.0}
    assert run.data.tags["t/x"] == "y"
    assert len(client.get_metric_history(run_id, "m/a")) == 20


def test_get_run_with_history_is_get_run_and_every_history(client: Client) -> None:
    """The export's one read of a run: what get_run and get_metric_history of each key give,
    nested keys, an infinity, a metric logged while the run is active (buffered on object stores)
    and dataset inputs included."""
    exp_id = client.create_experiment("with-history")
    run_id = client.create_run(exp_id).info.run_id
    client.log_batch(
        run_id,
        metrics=[Metric("m/a", float(i), 1000 + i, i) for i in range(5)]
        + [Metric("loss", math.inf, 7, 0), Metric("loss", 0.5, 8, 0)],
        params=[Param("nested/key", "v")],
        tags=[RunTag("t/x", "y")],
    )
    ds = Dataset("d", "dg", "local", "{}", "{}", "{}")
    client.log_inputs(run_id, [DatasetInput(ds, [InputTag("mlflow.data.context", "train")])])
    client.log_metric(run_id, "late", 3.0, 9, 2)
    record = client.store.get_run_with_history(run_id)
    assert record.run == client.get_run(run_id)
    assert sorted(record.history) == ["late", "loss", "m/a"]
    for key, values in record.history.items():
        assert values == list(client.get_metric_history(run_id, key))
    assert [m.step for m in record.history["m/a"]] == [0, 1, 2, 3, 4]
    with pytest.raises(ResourceDoesNotExist):
        client.store.get_run_with_history("0" * 32)


def test_metric_objects_are_the_latest_points_made_on_first_use(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``run.data.metric_objs`` holds each metric's latest point (timestamp, step),
    from ``get_run`` and ``search_runs`` alike. A search makes them only when asked: it may
    return thousands of runs, and each object is one more for the garbage collector."""
    exp_id = client.create_experiment("points")
    run_id = client.create_run(exp_id).info.run_id
    client.log_metric(run_id, "loss", 1.0, timestamp=10, step=0)
    client.log_metric(run_id, "loss", 0.5, timestamp=20, step=1)
    client.log_batch(run_id, metrics=[Metric("acc", 0.9, 30, 2)])
    client.set_terminated(run_id)
    expected = [Metric("acc", 0.9, 30, 2), Metric("loss", 0.5, 20, 1)]
    made: list[tuple[Any, ...]] = []

    def counted(*args: Any) -> Metric:
        made.append(args)
        return Metric(*args)

    monkeypatch.setattr(tracking_entities, "Metric", counted)
    for fresh in (False, True):  # summaries of this process, then read back from the shards
        reader = Client(tracking_uri=client.tracking_uri) if fresh else client
        (found,) = reader.search_runs([exp_id])
        assert found.data.metrics == {"acc": 0.9, "loss": 0.5}
        assert made == []
        assert sorted(found.data.metric_objs, key=lambda m: m.key) == expected
        assert len(made) == 2
        assert found.data.metric_objs is found.data.metric_objs  # made once
        assert len(made) == 2
        made.clear()
    monkeypatch.undo()  # pickling finds classes by name
    got = client.get_run(run_id)
    assert sorted(got.data.metric_objs, key=lambda m: m.key) == expected
    assert got == pickle.loads(pickle.dumps(got))
    assert "metric_objs=[Metric(" in repr(got.data)


def test_run_data_compares_and_copies_like_a_dataclass() -> None:
    points = [Metric("m", 1.0, 5, 0)]
    data = RunData({"m": 1.0}, {"p": "x"}, {"t": "y"}, points)
    assert data == RunData({"m": 1.0}, {"p": "x"}, {"t": "y"}, [Metric("m", 1.0, 5, 0)])
    assert data != RunData({"m": 1.0}, {"p": "x"}, {"t": "y"}, [])
    assert data != RunData({"m": 2.0}, {"p": "x"}, {"t": "y"}, points)
    assert data != ("not", "run data")
    assert RunData() == RunData(metrics={}, params={}, tags={}, metric_objs=[])
    lazy = RunData.from_latest(
        {"m": 1.0}, lambda: {"m": (1.0, 5, 0, None, None)}, {"p": "x"}, {"t": "y"}
    )
    assert lazy == data and data == lazy
    assert pickle.loads(pickle.dumps(lazy)) == data
    copied = copy.deepcopy(lazy)
    assert copied == data and copied.metric_objs is not lazy.metric_objs
    lazy.metric_objs = []
    assert lazy.metric_objs == [] and lazy != data
    with pytest.raises(TypeError, match="unhashable"):
        hash(data)


def test_bad_input_writes_nothing(client: Client, store_url: str) -> None:
    exp_id = client.create_experiment("bad")
    run_id = client.create_run(exp_id).info.run_id
    client.log_param(run_id, "kept", "1")
    client.log_param(run_id, "nested/kept", "1")
    before = client.get_run(run_id).data
    bad_batches = [
        {"params": [Param("ok", 1), Param("../escape", 2)]},
        {"params": [Param("ok", 1), Param("kept", "2")]},  # conflicting param
        # a larger batch (checked with one listing): conflicts found, at any depth
        {"params": [Param("ok", 1), Param("ok2", 1), Param("kept", "2")]},
        {"params": [Param("ok", 1), Param("ok2", 1), Param("nested/kept", "2")]},
        {"metrics": [Metric("fine", 1.0, 1, 0), Metric("x", "NaN-string", 1, 0)]},  # type: ignore[arg-type]
        {"tags": [RunTag("ok", "v"), RunTag("/abs", "v")]},
        {"tags": [RunTag("ok", "v"), RunTag("t", "x" * 9000)]},
        {"params": [Param("ok", 1), Param("a\x00b", 1)]},
        {"metrics": [Metric("fine", 1.0, -5, 0)]},
        {"metrics": [Metric("fine", 1.0, 1, 1.5)]},  # type: ignore[arg-type]
    ]
    for batch in bad_batches:
        with pytest.raises(InvalidParameterValue) as err:
            client.log_batch(run_id, **batch)  # type: ignore[arg-type]
        assert err.value.error_code == "INVALID_PARAMETER_VALUE"
    after = client.get_run(run_id).data
    assert after.params == before.params and after.metrics == before.metrics
    assert after.tags == before.tags
    # the same values again, with a new one: fine
    client.log_batch(run_id, params=[Param("kept", "1"), Param("nested/kept", 1), Param("n", 2)])
    assert client.get_run(run_id).data.params == {**before.params, "n": "2"}
    for bad_name in ("", "   ", "x" * 600):
        with pytest.raises(InvalidParameterValue):
            client.create_experiment(bad_name)
    with pytest.raises(InvalidParameterValue, match="run ID"):
        client.get_run("../../etc")
    with pytest.raises(InvalidParameterValue):
        client.get_experiment("../0")


def test_search_runs_grammar(client: Client) -> None:
    exp_id = client.create_experiment("search")
    ids = []
    for i in range(5):
        run = client.create_run(exp_id, run_name=f"run-{i}", start_time=1000 + i)
        client.log_batch(
            run.info.run_id,
            metrics=[Metric("m0", i / 4, 1, 0), Metric("train/acc", 1 - i / 10, 1, 0)],
            params=[Param("p0", "x" if i % 2 == 0 else "y")],
            tags=[RunTag("stage", f"dev-{i}")],
        )
        ids.append(run.info.run_id)
    client.set_terminated(ids[4], "FAILED")

    def search(f: str = "", order_by: list[str] | None = None) -> list[str]:
        return [r.info.run_id for r in client.search_runs([exp_id], f, order_by=order_by)]

    assert search() == ids[::-1]  # default order: start_time DESC
    assert set(search("metrics.m0 > 0.5 and params.p0 = 'x'")) == {ids[4]}
    assert set(search("metrics.`train/acc` <= 0.8")) == {ids[2], ids[3], ids[4]}
    assert set(search("tags.stage LIKE 'dev-%'")) == set(ids)
    assert set(search("tags.stage ILIKE 'DEV-1'")) == {ids[1]}
    assert set(search("attributes.status = 'FAILED'")) == {ids[4]}
    assert set(search("attributes.run_name = 'run-2'")) == {ids[2]}
    assert set(search(f"attributes.run_id IN ('{ids[0]}', '{ids[3]}')")) == {ids[0], ids[3]}
    assert search("params.missing = 'x'") == []
    assert search("", ["metrics.m0 DESC"]) == ids[::-1]
    assert search("", ["params.p0 ASC", "metrics.m0 ASC"]) == [
        ids[0],
        ids[2],
        ids[4],
        ids[1],
        ids[3],
    ]
    page = client.search_runs([exp_id], max_results=2)
    rest = client.search_runs([exp_id], max_results=10, page_token=page.token)
    assert [r.info.run_id for r in [*page, *rest]] == ids[::-1]
    with pytest.raises(InvalidParameterValue, match="m0 >> 1"):
        client.search_runs([exp_id], "metrics.m0 >> 1")
    assert client.search_runs(["999999"]) == []


def test_search_runs_by_dataset_input(client: Client) -> None:
    exp_id = client.create_experiment("datasets")
    with_ds = client.create_run(exp_id).info.run_id
    without = client.create_run(exp_id).info.run_id
    client.log_inputs(
        with_ds,
        [
            DatasetInput(
                Dataset("toy", "abc123", "code", "{}", None, None),
                [InputTag("mlflow.data.context", "training")],
            )
        ],
    )
    got = client.get_run(with_ds).inputs.dataset_inputs
    assert [(d.dataset.name, d.dataset.digest) for d in got] == [("toy", "abc123")]
    assert client.get_run(without).inputs.dataset_inputs == []

    def ids(f: str) -> list[str]:
        return [r.info.run_id for r in client.search_runs([exp_id], f)]

    assert ids("dataset.name = 'toy'") == [with_ds]
    assert ids("dataset.context = 'training' and dataset.digest LIKE 'abc%'") == [with_ds]
    assert ids("dataset.name = 'other'") == []


def test_artifacts(client: Client, tmp_path: Path) -> None:
    exp_id = client.create_experiment("art")
    run_id = client.create_run(exp_id).info.run_id
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("A")
    (src / "sub" / "b.txt").write_text("B")
    client.log_artifacts(run_id, str(src), "dir")
    client.log_artifact(run_id, str(src / "a.txt"))
    client.log_text(run_id, "hello", "notes/hello.txt")
    client.log_dict(run_id, {"k": [1, 2]}, "cfg.json")
    client.log_dict(run_id, {"k": "v"}, "cfg.yaml")
    listed = [(f.path, f.is_dir) for f in client.list_artifacts(run_id)]
    assert listed == [
        ("a.txt", False),
        ("cfg.json", False),
        ("cfg.yaml", False),
        ("dir", True),
        ("notes", True),
    ]
    assert [f.path for f in client.list_artifacts(run_id, "dir")] == ["dir/a.txt", "dir/sub"]
    out = client.download_artifacts(run_id, "dir", str(tmp_path))
    assert Path(out, "sub", "b.txt").read_text() == "B"
    artifact_uri = client.get_run(run_id).info.artifact_uri
    assert fsregistry.artifacts.load_text(f"{artifact_uri}/notes/hello.txt") == "hello"
    assert fsregistry.artifacts.load_dict(f"{artifact_uri}/cfg.yaml") == {"k": "v"}
    fsregistry.set_tracking_uri(client.tracking_uri)  # runs:/ URIs use the tracking URI
    assert fsregistry.artifacts.load_dict(f"runs:/{run_id}/cfg.json") == {"k": [1, 2]}
    dl = fsregistry.artifacts.download_artifacts(
        run_id=run_id,
        artifact_path="cfg.json",
        dst_path=str(tmp_path),
        tracking_uri=client.tracking_uri,
    )
    assert Path(dl).read_text().startswith("{")
    with pytest.raises(InvalidParameterValue):
        client.log_text(run_id, "x", "../escape.txt")
    with pytest.raises(ResourceDoesNotExist):
        client.download_artifacts(run_id, "missing/file.txt", str(tmp_path))


def test_artifact_root_can_differ_from_tracking_root(store_url: str, tmp_path: Path) -> None:
    local_meta = str(tmp_path / "meta-store")
    client = Client(tracking_uri=local_meta)
    exp_id = client.create_experiment("split", artifact_location=f"{store_url}/artifacts")
    run_id = client.create_run(exp_id).info.run_id
    client.log_text(run_id, "payload", "x.txt")
    assert client.get_run(run_id).info.artifact_uri.startswith(store_url)
    assert [f.path for f in client.list_artifacts(run_id)] == ["x.txt"]
    assert not any(p.name == "x.txt" for p in Path(local_meta).rglob("*"))


# -- fluent ----------------------------------------------------------------------------------
def test_fluent_run_with_nested_child(fluent: str) -> None:
    exp = fsregistry.set_experiment("fluent-exp")
    with fsregistry.start_run(run_name="parent") as parent:
        fsregistry.log_param("a", 1)
        fsregistry.log_params({"b": 2, "nested/c": 3})
        fsregistry.log_metric("loss", 0.5, step=1)
        fsregistry.log_metrics({"acc": 0.9, "f1": 0.8}, step=2)
        fsregistry.set_tag("t", "v")
        fsregistry.set_tags({"u": "w"})
        with pytest.raises(InvalidParameterValue, match="already active"):
            fsregistry.start_run()
        with fsregistry.start_run(nested=True) as child:
            fsregistry.log_metric("loss", 0.1)
        assert fsregistry.active_run().info.run_id == parent.info.run_id  # type: ignore[union-attr]
    assert fsregistry.active_run() is None
    p = fsregistry.get_run(parent.info.run_id)
    c = fsregistry.get_run(child.info.run_id)
    assert p.info.status == "FINISHED" and p.info.experiment_id == exp.experiment_id
    assert p.data.params == {"a": "1", "b": "2", "nested/c": "3"}
    assert p.data.metrics == {"loss": 0.5, "acc": 0.9, "f1": 0.8}
    assert c.data.tags["mlflow.parentRunId"] == parent.info.run_id
    for key in ("mlflow.user", "mlflow.source.name", "mlflow.source.type", "mlflow.runName"):
        assert key in p.data.tags
    df = fsregistry.search_runs(filter_string="metrics.loss < 0.3")
    assert list(df["run_id"]) == [child.info.run_id]
    assert list(df.columns[:6]) == [
        "run_id",
        "experiment_id",
        "status",
        "artifact_uri",
        "start_time",
        "end_time",
    ]
    assert "tags.mlflow.parentRunId" in df.columns and "metrics.loss" in df.columns
    assert fsregistry.last_active_run().info.run_id == parent.info.run_id  # type: ignore[union-attr]


def test_fluent_failed_run_status_and_resume(fluent: str) -> None:
    fsregistry.set_experiment("fail")
    with pytest.raises(RuntimeError), fsregistry.start_run() as run:
        raise RuntimeError("boom")
    assert fsregistry.get_run(run.info.run_id).info.status == "FAILED"
    with fsregistry.start_run(run_id=run.info.run_id):
        fsregistry.log_metric("after", 1.0)
    resumed = fsregistry.get_run(run.info.run_id)
    assert resumed.info.status == "FINISHED" and resumed.data.metrics == {"after": 1.0}


def test_fluent_logging_starts_a_run_implicitly(fluent: str) -> None:
    fsregistry.log_param("x", 1)
    run = fsregistry.active_run()
    assert run is not None and run.info.experiment_id == "0"
    fsregistry.end_run()
    assert fsregistry.get_run(run.info.run_id).data.params == {"x": "1"}


def test_metrics_on_object_stores_are_batched(client: Client, backend: str) -> None:
    """10,000 log_metric calls then end_run: few writes on buckets, every point kept."""
    exp_id = client.create_experiment("many-metrics")
    run_id = client.create_run(exp_id).info.run_id
    storage = client.store.storage
    before = getattr(storage, "requests", 0)
    for i in range(10_000):
        client.log_metric(run_id, "loss", 1.0 / (i + 1), timestamp=1_000 + i, step=i)
    client.set_terminated(run_id)
    history = client.get_metric_history(run_id, "loss")
    assert [m.step for m in history] == list(range(10_000))
    if backend != "local":
        writes_and_reads = storage.requests - before  # type: ignore[attr-defined]
        assert writes_and_reads <= 50, writes_and_reads


def test_search_skips_a_run_with_an_unreadable_file(
    client: Client, store_fs: tuple[Any, str]
) -> None:
    exp_id = client.create_experiment("damaged")
    good = client.create_run(exp_id).info.run_id
    bad = client.create_run(exp_id).info.run_id
    fs, root = store_fs
    fs.pipe_file(f"{root}/{exp_id}/{bad}/tags/t", b"\xff\xfe not utf-8")
    assert [r.info.run_id for r in client.search_runs([exp_id])] == [good]
