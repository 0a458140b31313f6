"""Fuzzing every public entry point with hypothesis (issue: "no raw exceptions, no writes on
rejection").

Each test sets up one small store (an experiment, a run with an artifact, a registered model
with two versions and an alias), then draws operations of one area (experiments, runs,
artifacts, registered models, model versions, searches, fluent functions) with hostile
arguments from :mod:`fsreg_testing.fuzz`. Every call must either succeed, and what it wrote
must read back exactly, or raise an ``MlflowException`` subclass having changed no file
(:func:`fsreg_testing.fuzz.attempt`). Local disk gets the full budget, S3 and GCS (whose
emulators are slower) a tenth of it. Runs are derandomized and keep no example database, so
CI sees the same inputs every time and nothing is written into the repository.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import numbers
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

import fsregistry
from fsreg_testing import fuzz
from fsreg_testing.fuzz import attempt
from fsregistry import Client, config, fluent
from fsregistry.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag
from fsregistry.exceptions import FsRegistryException, ResourceDoesNotExist

# Hypothesis keeps a cache of constants it finds in the source under ./.hypothesis even with
# database=None: keep it (and anything else it stores) out of the checkout.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "fsreg-hypothesis")

# Examples per test on local disk; S3 and GCS get LOCAL_EXAMPLES // REMOTE_DIVISOR.
LOCAL_EXAMPLES = int(os.environ.get("FSREG_FUZZ_EXAMPLES", "120"))
REMOTE_DIVISOR = 10
MODEL = "fuzz-model"
_counter = itertools.count()


@dataclass
class World:
    """The store under test and the things in it that operations aim at."""

    url: str
    store_fs: tuple[Any, str]
    client: Client
    exp_id: str
    run_id: str
    tmp: Path

    def fresh(self, prefix: str) -> str:
        return f"{prefix}-{next(_counter)}"


@pytest.fixture(autouse=True)
def _fluent_state() -> Iterator[None]:
    """The fluent functions' process-wide state (active experiment, last run) as it was:
    the fluent fuzzing points it at this test's store, which is gone afterwards."""
    saved = (fluent._active_experiment_id, fluent._last_active_run_id)
    yield
    while fsregistry.active_run() is not None:
        stack = fluent._stack()
        stack.pop()
    fluent._active_experiment_id, fluent._last_active_run_id = saved


@pytest.fixture
def world(store_url: str, store_fs: tuple[Any, str], tmp_path: Path) -> World:
    client = Client(tracking_uri=store_url)
    exp_id = client.create_experiment("fuzz")
    run_id = client.create_run(exp_id).info.run_id
    client.log_text(run_id, "flavors: {}\n", "model/MLmodel")
    client.create_registered_model(MODEL)
    for _ in range(2):
        client.create_model_version(MODEL, f"runs:/{run_id}/model", run_id=run_id)
    client.set_registered_model_alias(MODEL, "champion", 1)
    return World(store_url, store_fs, client, exp_id, run_id, tmp_path)


def fuzz_ops(world: World, backend: str, ops: list[Callable[[World, Any], None]]) -> None:
    """Draw ops and their arguments; ``given`` runs each example against the same store."""
    examples = LOCAL_EXAMPLES if backend == "local" else LOCAL_EXAMPLES // REMOTE_DIVISOR

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        # FSREG_FUZZ_NO_SHRINK=1: report failures unshrunk (shrinking one can take minutes).
        phases=[Phase.explicit, Phase.generate]
        if os.environ.get("FSREG_FUZZ_NO_SHRINK")
        else list(Phase),
    )
    @given(st.data())
    def run(data: Any) -> None:
        op = data.draw(st.sampled_from(ops), label="op")
        op(world, data)

    run()


def expected_text(value: Any) -> str:
    """What a param or tag value is stored as."""
    return "" if value is None else str(value)


def same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def run_id_arg(w: World) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(w.run_id), st.just(w.run_id), fuzz.name())


def exp_id_arg(w: World) -> st.SearchStrategy[Any]:
    return st.one_of(st.just(w.exp_id), st.sampled_from(["0", 0, int(w.exp_id)]), fuzz.name())


def tags_arg() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.dictionaries(fuzz.dict_key(), fuzz.value(), max_size=3),
        st.sampled_from([["a"], "a=b", 5, [RunTag("k", "v")], [("k", "v")]]),
    )


def tag_dict(tags: Any) -> dict[Any, str]:
    """The tags a call was given, as they should read back (only for dict tags)."""
    return {k: expected_text(v) for k, v in tags.items()} if isinstance(tags, dict) else {}


# -- experiments --------------------------------------------------------------------------------


def op_create_experiment(w: World, data: Any) -> None:
    name = data.draw(fuzz.name(), label="name")
    location = data.draw(
        st.one_of(
            st.none(),
            st.sampled_from(["relative/dir", "file:///nonexistent/x", "memory://fuzz/a", ""]),
            fuzz.text(),
        ),
        label="artifact_location",
    )
    tags = data.draw(tags_arg(), label="tags")
    out = attempt(w.store_fs, lambda: w.client.create_experiment(name, location, tags))
    if out.ok:
        exp = w.client.get_experiment(out.result)
        assert exp.name == name
        assert w.client.get_experiment_by_name(name).experiment_id == out.result  # type: ignore[union-attr]
        for k, v in tag_dict(tags).items():
            assert exp.tags[k] == v


def op_get_experiment(w: World, data: Any) -> None:
    exp_id = data.draw(exp_id_arg(w), label="experiment_id")
    attempt(w.store_fs, lambda: w.client.get_experiment(exp_id))
    name = data.draw(fuzz.name(), label="name")
    out = attempt(w.store_fs, lambda: w.client.get_experiment_by_name(name))
    if out.ok and out.result is not None:
        assert out.result.name == name


def op_rename_experiment(w: World, data: Any) -> None:
    exp_id = data.draw(exp_id_arg(w), label="experiment_id")
    new_name = data.draw(fuzz.name(), label="new_name")
    out = attempt(w.store_fs, lambda: w.client.rename_experiment(exp_id, new_name))
    if out.ok:
        assert w.client.get_experiment(str(exp_id)).name == new_name
        assert w.client.get_experiment_by_name(new_name).experiment_id == str(exp_id)  # type: ignore[union-attr]


def op_experiment_tag(w: World, data: Any) -> None:
    exp_id = data.draw(exp_id_arg(w), label="experiment_id")
    key = data.draw(fuzz.name(), label="key")
    value = data.draw(fuzz.value(), label="value")
    out = attempt(w.store_fs, lambda: w.client.set_experiment_tag(exp_id, key, value))
    if out.ok:
        assert w.client.get_experiment(str(exp_id)).tags[key] == expected_text(value)
    out = attempt(w.store_fs, lambda: w.client.delete_experiment_tag(exp_id, key))
    if out.ok:
        assert key not in w.client.get_experiment(str(exp_id)).tags


def op_delete_restore_experiment(w: World, data: Any) -> None:
    exp_id = data.draw(fuzz.name(), label="experiment_id")
    out = attempt(w.store_fs, lambda: w.client.delete_experiment(exp_id))
    if out.ok:
        assert w.client.get_experiment(str(exp_id)).lifecycle_stage == "deleted"
    out = attempt(w.store_fs, lambda: w.client.restore_experiment(exp_id))
    if out.ok:
        assert w.client.get_experiment(str(exp_id)).lifecycle_stage == "active"


EXPERIMENT_OPS = [
    op_create_experiment,
    op_get_experiment,
    op_rename_experiment,
    op_experiment_tag,
    op_delete_restore_experiment,
]


def test_fuzz_experiments(world: World, backend: str) -> None:
    fuzz_ops(world, backend, EXPERIMENT_OPS)


# -- runs ---------------------------------------------------------------------------------------


def op_create_run(w: World, data: Any) -> None:
    exp_id = data.draw(exp_id_arg(w), label="experiment_id")
    start = data.draw(fuzz.integer_arg(), label="start_time")
    tags = data.draw(tags_arg(), label="tags")
    run_name = data.draw(st.one_of(st.none(), fuzz.name()), label="run_name")
    out = attempt(w.store_fs, lambda: w.client.create_run(exp_id, start, tags, run_name))
    if out.ok:
        run = w.client.get_run(out.result.info.run_id)
        assert run.info.experiment_id == str(exp_id)
        if run_name:
            assert run.info.run_name == run_name
        if start is not None:
            assert run.info.start_time == start
        for k, v in tag_dict(tags).items():
            if k != "mlflow.runName":
                assert run.data.tags[k] == v


def op_log_param(w: World, data: Any) -> None:
    run_id = data.draw(run_id_arg(w), label="run_id")
    key = data.draw(fuzz.name(), label="key")
    value = data.draw(fuzz.value(), label="value")
    out = attempt(w.store_fs, lambda: w.client.log_param(run_id, key, value))
    if out.ok:
        assert w.client.get_run(run_id).data.params[key] == expected_text(value)


def op_log_metric(w: World, data: Any) -> None:
    run_id = data.draw(run_id_arg(w), label="run_id")
    key = data.draw(fuzz.name(), label="key")
    value = data.draw(fuzz.metric_value(), label="value")
    timestamp = data.draw(fuzz.integer_arg(), label="timestamp")
    step = data.draw(fuzz.integer_arg(), label="step")
    out = attempt(w.store_fs, lambda: w.client.log_metric(run_id, key, value, timestamp, step))
    if out.ok:
        history = w.client.get_metric_history(run_id, key)
        assert any(
            same_float(m.value, float(value))
            and m.step == (step or 0)
            and (timestamp is None or m.timestamp == timestamp)
            for m in history
        ), (history, value)


def op_set_delete_tag(w: World, data: Any) -> None:
    run_id = data.draw(run_id_arg(w), label="run_id")
    key = data.draw(fuzz.name(), label="key")
    value = data.draw(fuzz.value(), label="value")
    out = attempt(w.store_fs, lambda: w.client.set_tag(run_id, key, value))
    if out.ok:
        assert w.client.get_run(run_id).data.tags[key] == expected_text(value)
    out = attempt(w.store_fs, lambda: w.client.delete_tag(run_id, key))
    if out.ok:
        assert key not in w.client.get_run(run_id).data.tags


def entity_list(make: Callable[..., Any], *fields: st.SearchStrategy[Any]) -> Any:
    item = st.one_of(st.tuples(*fields).map(lambda t: make(*t)), st.sampled_from([None, "x", {}]))
    return st.one_of(st.lists(item, max_size=3), st.sampled_from([None, "abc", 5]))


def op_log_batch(w: World, data: Any) -> None:
    run_id = data.draw(run_id_arg(w), label="run_id")
    metrics = data.draw(
        entity_list(
            Metric, fuzz.name(), fuzz.metric_value(), fuzz.integer_arg(), fuzz.integer_arg()
        ),
        label="metrics",
    )
    params = data.draw(entity_list(Param, fuzz.name(), fuzz.value()), label="params")
    tags = data.draw(entity_list(RunTag, fuzz.name(), fuzz.value()), label="tags")
    out = attempt(w.store_fs, lambda: w.client.log_batch(run_id, metrics, params, tags))
    if out.ok:
        run = w.client.get_run(run_id)
        for p in params or []:
            assert run.data.params[p.key] == expected_text(p.value)
        last_tags = {t.key: t.value for t in tags or []}
        for k, v in last_tags.items():
            assert run.data.tags[k] == expected_text(v)
        for m in metrics or []:
            assert any(
                same_float(h.value, float(m.value)) and h.step == m.step
                for h in w.client.get_metric_history(run_id, m.key)
            )


def op_update_run(w: World, data: Any) -> None:
    run_id = data.draw(run_id_arg(w), label="run_id")
    status = data.draw(st.one_of(st.none(), fuzz.run_status()), label="status")
    name = data.draw(st.one_of(st.none(), fuzz.name()), label="name")
    out = attempt(w.store_fs, lambda: w.client.update_run(run_id, status, name))
    if out.ok:
        info = w.client.get_run(run_id).info
        if name:
            assert info.run_name == name
    end_time = data.draw(fuzz.integer_arg(), label="end_time")
    out = attempt(w.store_fs, lambda: w.client.set_terminated(run_id, status, end_time))
    if out.ok and end_time is not None:
        assert w.client.get_run(run_id).info.end_time == end_time


def op_run_lookups(w: World, data: Any) -> None:
    run_id = data.draw(fuzz.name(), label="run_id")
    attempt(w.store_fs, lambda: w.client.get_run(run_id))
    attempt(w.store_fs, lambda: w.client.get_parent_run(run_id))
    key = data.draw(fuzz.name(), label="key")
    attempt(w.store_fs, lambda: w.client.get_metric_history(data.draw(run_id_arg(w)), key))
    attempt(w.store_fs, lambda: w.client.get_logged_model(data.draw(fuzz.name())))
    attempt(w.store_fs, lambda: w.client.delete_run(run_id))
    attempt(w.store_fs, lambda: w.client.restore_run(run_id))


def op_log_inputs(w: World, data: Any) -> None:
    run_id = data.draw(run_id_arg(w), label="run_id")
    text = st.one_of(fuzz.text(), fuzz.not_text())
    dataset = st.tuples(text, text, text, text, text, text).map(lambda t: Dataset(*t))
    tags = st.lists(st.tuples(text, text).map(lambda t: InputTag(*t)), max_size=2)
    item = st.one_of(
        st.tuples(dataset, tags).map(lambda t: DatasetInput(*t)), st.sampled_from([None, "x"])
    )
    datasets = data.draw(st.one_of(st.none(), st.lists(item, max_size=2)), label="datasets")
    out = attempt(w.store_fs, lambda: w.client.log_inputs(run_id, datasets))
    if out.ok:
        logged = {
            (d.dataset.name, d.dataset.digest, d.dataset.source)
            for d in w.client.get_run(run_id).inputs.dataset_inputs
        }
        for d in datasets or []:
            assert (d.dataset.name, d.dataset.digest, d.dataset.source) in logged


RUN_OPS = [
    op_create_run,
    op_log_param,
    op_log_metric,
    op_set_delete_tag,
    op_log_batch,
    op_update_run,
    op_run_lookups,
    op_log_inputs,
]


def test_fuzz_runs(world: World, backend: str) -> None:
    fuzz_ops(world, backend, RUN_OPS)


# -- artifacts ----------------------------------------------------------------------------------


def download_text(w: World, run_id: str, path: str) -> str:
    dst = w.tmp / w.fresh("dl")
    dst.mkdir()
    local = Path(w.client.download_artifacts(run_id, path, str(dst)))
    return local.read_bytes().decode("utf-8")  # not read_text: it turns "\r\n" into "\n"


def op_log_text(w: World, data: Any) -> None:
    run_id = data.draw(run_id_arg(w), label="run_id")
    text = data.draw(st.one_of(fuzz.text(), fuzz.not_text()), label="text")
    path = data.draw(st.one_of(fuzz.name(), st.just("ok.txt")), label="artifact_file")
    out = attempt(w.store_fs, lambda: w.client.log_text(run_id, text, path))
    if out.ok:
        assert download_text(w, run_id, path) == text


def op_log_dict(w: World, data: Any) -> None:
    run_id = data.draw(run_id_arg(w), label="run_id")
    dictionary = data.draw(
        st.one_of(st.dictionaries(fuzz.text(), fuzz.value(), max_size=2), fuzz.value()),
        label="dictionary",
    )
    suffix = data.draw(st.sampled_from([".json", ".yaml", ".yml", ".txt", ""]), label="suffix")
    path = data.draw(st.one_of(st.just("d"), fuzz.text()), label="artifact_file") + suffix
    out = attempt(w.store_fs, lambda: w.client.log_dict(run_id, dictionary, path))
    if out.ok and suffix == ".json":
        assert json.loads(download_text(w, run_id, path)) == json.loads(json.dumps(dictionary))


def op_log_artifact(w: World, data: Any) -> None:
    run_id = data.draw(run_id_arg(w), label="run_id")
    local = w.tmp / w.fresh("up")
    local.mkdir()
    (local / "f.txt").write_text("payload")
    path = data.draw(st.one_of(st.none(), fuzz.name()), label="artifact_path")
    src = data.draw(
        st.sampled_from([local / "f.txt", str(local / "f.txt"), local / "missing", "", local]),
        label="local_path",
    )
    out = attempt(w.store_fs, lambda: w.client.log_artifact(run_id, src, path))
    if out.ok:
        rel = f"{path}/f.txt" if path else "f.txt"
        assert download_text(w, run_id, rel) == "payload"
    out = attempt(w.store_fs, lambda: w.client.log_artifacts(run_id, local, path))
    if out.ok:
        rel = f"{path}/f.txt" if path else "f.txt"
        assert download_text(w, run_id, rel) == "payload"


def op_read_artifacts(w: World, data: Any) -> None:
    run_id = data.draw(run_id_arg(w), label="run_id")
    path = data.draw(st.one_of(st.none(), fuzz.name()), label="path")
    attempt(w.store_fs, lambda: w.client.list_artifacts(run_id, path))
    dst = w.tmp / w.fresh("dst")
    dst.mkdir()
    attempt(w.store_fs, lambda: w.client.download_artifacts(run_id, path, str(dst)))  # type: ignore[arg-type]


ARTIFACT_OPS = [op_log_text, op_log_dict, op_log_artifact, op_read_artifacts]


def test_fuzz_artifacts(world: World, backend: str) -> None:
    fuzz_ops(world, backend, ARTIFACT_OPS)


# -- registered models --------------------------------------------------------------------------


def model_arg() -> st.SearchStrategy[Any]:
    return st.one_of(st.just(MODEL), st.just(MODEL), fuzz.name())


def op_create_registered_model(w: World, data: Any) -> None:
    name = data.draw(fuzz.name(), label="name")
    tags = data.draw(tags_arg(), label="tags")
    description = data.draw(st.one_of(st.none(), fuzz.value()), label="description")
    out = attempt(w.store_fs, lambda: w.client.create_registered_model(name, tags, description))
    if out.ok:
        model = w.client.get_registered_model(name)
        assert model.name == name
        for k, v in tag_dict(tags).items():
            assert model.tags[k] == v
        if isinstance(description, str):
            assert model.description == description


def op_registered_model_edits(w: World, data: Any) -> None:
    name = data.draw(model_arg(), label="name")
    attempt(w.store_fs, lambda: w.client.get_registered_model(name))
    description = data.draw(st.one_of(st.none(), fuzz.value()), label="description")
    out = attempt(w.store_fs, lambda: w.client.update_registered_model(name, description))
    if out.ok and isinstance(description, str):
        assert w.client.get_registered_model(name).description == description
    key = data.draw(fuzz.name(), label="key")
    value = data.draw(fuzz.value(), label="value")
    out = attempt(w.store_fs, lambda: w.client.set_registered_model_tag(name, key, value))
    if out.ok:
        assert w.client.get_registered_model(name).tags[key] == expected_text(value)
    out = attempt(w.store_fs, lambda: w.client.delete_registered_model_tag(name, key))
    if out.ok:
        assert key not in w.client.get_registered_model(name).tags


def op_rename_registered_model(w: World, data: Any) -> None:
    old = w.fresh("to-rename")
    w.client.create_registered_model(old)
    source = data.draw(st.sampled_from([old, old, MODEL + "-missing"]), label="name")
    new_name = data.draw(fuzz.name(), label="new_name")
    out = attempt(w.store_fs, lambda: w.client.rename_registered_model(source, new_name))
    if out.ok:
        assert w.client.get_registered_model(new_name).name == new_name
        if new_name != source:
            with pytest.raises(ResourceDoesNotExist):
                w.client.get_registered_model(source)


def op_delete_registered_model(w: World, data: Any) -> None:
    name = data.draw(fuzz.name().filter(lambda n: n != MODEL), label="name")
    out = attempt(w.store_fs, lambda: w.client.delete_registered_model(name))
    if out.ok:
        with pytest.raises(ResourceDoesNotExist):
            w.client.get_registered_model(name)


MODEL_OPS = [
    op_create_registered_model,
    op_registered_model_edits,
    op_rename_registered_model,
    op_delete_registered_model,
]


def test_fuzz_registered_models(world: World, backend: str) -> None:
    fuzz_ops(world, backend, MODEL_OPS)


# -- model versions -----------------------------------------------------------------------------


def uri_arg(w: World) -> st.SearchStrategy[Any]:
    return fuzz.model_uri([MODEL], [w.run_id])


def op_create_model_version(w: World, data: Any) -> None:
    name = data.draw(model_arg(), label="name")
    source = data.draw(uri_arg(w), label="source")
    run_id = data.draw(st.one_of(st.none(), run_id_arg(w)), label="run_id")
    tags = data.draw(tags_arg(), label="tags")
    run_link = data.draw(st.one_of(st.none(), fuzz.value()), label="run_link")
    description = data.draw(st.one_of(st.none(), fuzz.value()), label="description")
    out = attempt(
        w.store_fs,
        lambda: w.client.create_model_version(name, source, run_id, tags, run_link, description),
    )
    if out.ok:
        mv = w.client.get_model_version(name, out.result.version)
        assert mv.source == source
        if isinstance(description, str):
            assert mv.description == description
        for k, v in tag_dict(tags).items():
            assert mv.tags[k] == v


def op_model_version_edits(w: World, data: Any) -> None:
    name = data.draw(model_arg(), label="name")
    version = data.draw(fuzz.version(), label="version")
    attempt(w.store_fs, lambda: w.client.get_model_version(name, version))
    attempt(w.store_fs, lambda: w.client.get_model_version_download_uri(name, version))
    attempt(w.store_fs, lambda: w.client.get_model_version_stages(name, version))
    description = data.draw(st.one_of(st.none(), fuzz.value()), label="description")
    out = attempt(w.store_fs, lambda: w.client.update_model_version(name, version, description))
    if out.ok and isinstance(description, str):
        assert w.client.get_model_version(name, version).description == description
    key = data.draw(st.one_of(st.none(), fuzz.name()), label="key")
    value = data.draw(fuzz.value(), label="value")
    stage = data.draw(st.one_of(st.none(), fuzz.stage()), label="stage")
    by_stage = data.draw(st.booleans(), label="by_stage")
    where: dict[str, Any] = {"stage": stage} if by_stage else {"version": version}
    out = attempt(
        w.store_fs, lambda: w.client.set_model_version_tag(name, key=key, value=value, **where)
    )
    if out.ok and not by_stage:
        assert w.client.get_model_version(name, version).tags[key] == expected_text(value)
    out = attempt(w.store_fs, lambda: w.client.delete_model_version_tag(name, key=key, **where))
    if out.ok and not by_stage:
        assert key not in w.client.get_model_version(name, version).tags


def op_aliases(w: World, data: Any) -> None:
    name = data.draw(model_arg(), label="name")
    alias = data.draw(fuzz.alias(), label="alias")
    version = data.draw(fuzz.version(), label="version")
    out = attempt(w.store_fs, lambda: w.client.set_registered_model_alias(name, alias, version))
    if out.ok:
        mv = w.client.get_model_version_by_alias(name, alias)
        assert mv.version == w.client.get_model_version(name, version).version
        assert alias in w.client.get_registered_model(name).aliases
    attempt(w.store_fs, lambda: w.client.get_model_version_by_alias(name, alias))
    out = attempt(w.store_fs, lambda: w.client.delete_registered_model_alias(name, alias))
    if out.ok:
        assert alias not in w.client.get_registered_model(name).aliases


def op_stages(w: World, data: Any) -> None:
    name = data.draw(model_arg(), label="name")
    stages = data.draw(
        st.one_of(st.none(), st.lists(fuzz.stage(), max_size=2), fuzz.stage()), label="stages"
    )
    attempt(w.store_fs, lambda: w.client.get_latest_versions(name, stages))
    version = data.draw(fuzz.version(), label="version")
    stage = data.draw(fuzz.stage(), label="stage")
    archive = data.draw(st.sampled_from([False, True, None, "yes", 1]), label="archive")
    out = attempt(
        w.store_fs,
        lambda: w.client.transition_model_version_stage(name, version, stage, archive),  # type: ignore[arg-type]
    )
    if out.ok:
        mv = w.client.get_model_version(name, version)
        assert mv.current_stage.lower() == str(stage).strip().lower()


def op_delete_model_version(w: World, data: Any) -> None:
    number = w.client.create_model_version(MODEL, "/nonexistent/fresh").version
    name = data.draw(st.one_of(st.just(MODEL), fuzz.name()), label="name")
    version = data.draw(st.one_of(st.sampled_from([number, int(number)]), fuzz.version()))
    if name == MODEL and str(version).strip() in ("1", "2"):
        version = number
    out = attempt(w.store_fs, lambda: w.client.delete_model_version(name, version))
    if out.ok:
        with pytest.raises(ResourceDoesNotExist):
            w.client.get_model_version(name, version)


def op_copy_model_version(w: World, data: Any) -> None:
    src = data.draw(uri_arg(w), label="src_model_uri")
    dst = data.draw(st.one_of(st.just(MODEL + "-copy"), fuzz.name()), label="dst_name")
    registry = data.draw(
        st.sampled_from([None, None, w.url, str(w.tmp / "nonexistent"), "unknownproto://x"]),
        label="src_registry_uri",
    )
    out = attempt(
        w.store_fs, lambda: w.client.copy_model_version(src, dst, src_registry_uri=registry)
    )
    if out.ok:
        assert w.client.get_model_version(dst, out.result.version).name == dst


VERSION_OPS = [
    op_create_model_version,
    op_model_version_edits,
    op_aliases,
    op_stages,
    op_delete_model_version,
    op_copy_model_version,
]


def test_fuzz_model_versions(world: World, backend: str) -> None:
    fuzz_ops(world, backend, VERSION_OPS)


# -- searches -----------------------------------------------------------------------------------


def check_page(out: fuzz.Outcome, kind: type) -> None:
    if out.ok:
        assert all(isinstance(item, kind) for item in out.result)
        assert out.result.token is None or isinstance(out.result.token, str)


def op_search_runs(w: World, data: Any) -> None:
    from fsregistry.entities import Run

    ids = data.draw(
        st.one_of(
            st.just([w.exp_id]),
            st.lists(exp_id_arg(w), max_size=2),
            st.sampled_from([w.exp_id, None, [None], "0"]),
        ),
        label="experiment_ids",
    )
    args = (
        data.draw(fuzz.filter_string("runs"), label="filter_string"),
        data.draw(fuzz.view_type(), label="run_view_type"),
        data.draw(fuzz.max_results(), label="max_results"),
        data.draw(fuzz.order_by("runs"), label="order_by"),
        data.draw(fuzz.page_token(), label="page_token"),
    )
    check_page(attempt(w.store_fs, lambda: w.client.search_runs(ids, *args)), Run)
    with config.using(tracking_uri=w.url):
        fluent_ids = data.draw(st.one_of(st.none(), st.just(ids)), label="fluent ids")
        names = data.draw(st.one_of(st.none(), st.lists(fuzz.name(), max_size=2)), label="names")
        out_format = data.draw(st.sampled_from(["list", "pandas", "x", None]), label="format")
        everything = data.draw(st.booleans(), label="search_all_experiments")
        attempt(
            w.store_fs,
            lambda: fsregistry.search_runs(
                fluent_ids,
                args[0],
                args[1],
                args[2] if args[2] is not None else 10,
                args[3],
                out_format,  # type: ignore[arg-type]
                everything,
                names,
            ),
        )


def op_search_experiments(w: World, data: Any) -> None:
    from fsregistry.entities import Experiment

    view = data.draw(fuzz.view_type(), label="view_type")
    max_results = data.draw(fuzz.max_results(), label="max_results")
    filter_string = data.draw(fuzz.filter_string("experiments"), label="filter_string")
    order_by = data.draw(fuzz.order_by("experiments"), label="order_by")
    token = data.draw(fuzz.page_token(), label="page_token")
    out = attempt(
        w.store_fs,
        lambda: w.client.search_experiments(view, max_results, filter_string, order_by, token),
    )
    check_page(out, Experiment)
    with config.using(tracking_uri=w.url):
        attempt(
            w.store_fs,
            lambda: fsregistry.search_experiments(view, max_results, filter_string, order_by),
        )


def op_search_registry(w: World, data: Any) -> None:
    from fsregistry.entities import ModelVersion, RegisteredModel

    for kind, search, entity in (
        ("registered_models", w.client.search_registered_models, RegisteredModel),
        ("model_versions", w.client.search_model_versions, ModelVersion),
    ):
        filter_string = data.draw(fuzz.filter_string(kind), label=f"{kind} filter_string")
        max_results = data.draw(fuzz.max_results(), label="max_results")
        order_by = data.draw(fuzz.order_by(kind), label="order_by")
        token = data.draw(fuzz.page_token(), label="page_token")
        out = attempt(
            w.store_fs,
            lambda s=search, f=filter_string, m=max_results, o=order_by, t=token: s(f, m, o, t),  # type: ignore[misc]
        )
        check_page(out, entity)


SEARCH_OPS = [op_search_runs, op_search_experiments, op_search_registry]


def test_fuzz_searches(world: World, backend: str) -> None:
    fuzz_ops(world, backend, SEARCH_OPS)


# -- fluent functions ---------------------------------------------------------------------------


@contextlib.contextmanager
def active_run(w: World) -> Iterator[str]:
    """A fresh active run in the world's experiment, ended afterwards whatever happened."""
    with config.using(tracking_uri=w.url):
        fsregistry.set_experiment(experiment_id=w.exp_id)
        run = fsregistry.start_run()
        try:
            yield run.info.run_id
        finally:
            while fsregistry.active_run() is not None:
                fsregistry.end_run()


def op_fluent_experiments(w: World, data: Any) -> None:
    with config.using(tracking_uri=w.url):
        name = data.draw(st.one_of(st.none(), fuzz.name()), label="experiment_name")
        exp_id = data.draw(st.one_of(st.none(), exp_id_arg(w)), label="experiment_id")
        out = attempt(w.store_fs, lambda: fsregistry.set_experiment(name, exp_id))
        if out.ok and name is not None:
            assert out.result.name == name
            assert fsregistry.get_experiment_by_name(name).experiment_id == out.result.experiment_id  # type: ignore[union-attr]
        out = attempt(w.store_fs, lambda: fsregistry.create_experiment(name))  # type: ignore[arg-type]
        attempt(w.store_fs, lambda: fsregistry.get_experiment(exp_id))  # type: ignore[arg-type]
        attempt(w.store_fs, lambda: fsregistry.get_experiment_by_name(name))  # type: ignore[arg-type]
        attempt(w.store_fs, lambda: fsregistry.delete_experiment(data.draw(fuzz.name())))


def op_fluent_start_run(w: World, data: Any) -> None:
    with config.using(tracking_uri=w.url):
        fsregistry.set_experiment(experiment_id=w.exp_id)
        run_id = data.draw(st.one_of(st.none(), run_id_arg(w)), label="run_id")
        exp_id = data.draw(st.one_of(st.none(), exp_id_arg(w)), label="experiment_id")
        run_name = data.draw(st.one_of(st.none(), fuzz.name()), label="run_name")
        parent = data.draw(st.one_of(st.none(), run_id_arg(w)), label="parent_run_id")
        tags = data.draw(tags_arg(), label="tags")
        description = data.draw(st.one_of(st.none(), fuzz.value()), label="description")
        out = attempt(
            w.store_fs,
            lambda: fsregistry.start_run(
                run_id, exp_id, run_name, False, parent, tags, description
            ),
        )
        try:
            if out.ok:
                run = fsregistry.get_run(out.result.info.run_id)
                if run_name:
                    assert run.info.run_name == run_name
                for k, v in tag_dict(tags).items():
                    if k != "mlflow.runName":
                        assert run.data.tags[k] == v
                status = data.draw(fuzz.run_status(), label="status")
                active = fsregistry.active_run()
                out = attempt(w.store_fs, lambda: fsregistry.end_run(status))
                if not out.ok:
                    assert fsregistry.active_run() is active, "a refused end_run ended the run"
        finally:
            while fsregistry.active_run() is not None:
                fsregistry.end_run()
        attempt(w.store_fs, fsregistry.last_active_run)
        attempt(w.store_fs, lambda: fsregistry.get_run(data.draw(fuzz.name())))
        attempt(w.store_fs, lambda: fsregistry.delete_run(data.draw(fuzz.name())))


def op_fluent_logging(w: World, data: Any) -> None:
    with active_run(w) as run_id:
        key = data.draw(fuzz.dict_key(), label="key")
        value = data.draw(fuzz.value(), label="value")
        which = data.draw(st.sampled_from(["param", "params", "tag", "tags"]), label="which")
        call: Callable[[], Any] = {
            "param": lambda: fsregistry.log_param(key, value),
            "params": lambda: fsregistry.log_params({key: value}),
            "tag": lambda: fsregistry.set_tag(key, value),
            "tags": lambda: fsregistry.set_tags({key: value}),
        }[which]
        out = attempt(w.store_fs, call)
        if out.ok:
            data_ = fsregistry.get_run(run_id).data
            got = data_.params if which.startswith("param") else data_.tags
            assert got[key] == expected_text(value)
        out = attempt(w.store_fs, lambda: fsregistry.delete_tag(key))
        metric = data.draw(fuzz.metric_value(), label="metric")
        step = data.draw(fuzz.integer_arg(), label="step")
        timestamp = data.draw(fuzz.integer_arg(), label="timestamp")
        single = data.draw(st.booleans(), label="single")
        out = attempt(
            w.store_fs,
            (lambda: fsregistry.log_metric(key, metric, step, timestamp=timestamp))
            if single
            else (lambda: fsregistry.log_metrics({key: metric}, step, timestamp=timestamp)),
        )
        if out.ok:
            assert isinstance(metric, numbers.Number)
            history = Client(tracking_uri=w.url).get_metric_history(run_id, key)
            assert any(same_float(m.value, float(metric)) for m in history)


def op_fluent_artifacts(w: World, data: Any) -> None:
    with active_run(w) as run_id:
        path = data.draw(fuzz.name(), label="artifact_file")
        text = data.draw(st.one_of(fuzz.text(), fuzz.not_text()), label="text")
        out = attempt(w.store_fs, lambda: fsregistry.log_text(text, path))
        if out.ok:
            assert download_text(w, run_id, path) == text
        dictionary = data.draw(st.dictionaries(fuzz.text(), fuzz.value(), max_size=2))
        attempt(w.store_fs, lambda: fsregistry.log_dict(dictionary, path))
        local = w.tmp / w.fresh("f")
        local.write_text("payload")
        attempt(w.store_fs, lambda: fsregistry.log_artifact(local, path))
        attempt(w.store_fs, lambda: fsregistry.log_artifacts(w.tmp / "missing", path))
        attempt(w.store_fs, lambda: fsregistry.get_artifact_uri(path))
        context = data.draw(st.one_of(st.none(), fuzz.name()), label="context")
        ds = Dataset(
            data.draw(fuzz.name(), label="dataset name"), "digest", "local", "/data", None, None
        )
        tag_key = data.draw(fuzz.dict_key(), label="input tag key")
        attempt(w.store_fs, lambda: fsregistry.log_input(ds, context, {tag_key: "v"}))


def op_fluent_register_model(w: World, data: Any) -> None:
    with config.using(tracking_uri=w.url):
        uri = data.draw(uri_arg(w), label="model_uri")
        name = data.draw(st.one_of(st.just(MODEL), fuzz.name()), label="name")
        tags = data.draw(tags_arg(), label="tags")
        out = attempt(w.store_fs, lambda: fsregistry.register_model(uri, name, tags=tags))
        if out.ok:
            mv = Client(tracking_uri=w.url).get_model_version(name, out.result.version)
            assert mv.name == name
            for k, v in tag_dict(tags).items():
                assert mv.tags[k] == v


def op_fluent_uris(w: World, data: Any) -> None:
    uri = data.draw(
        st.sampled_from(
            [
                "",
                " ",
                "unknownproto://x/y",
                "file://remote-host/x",
                "file:",
                "sqlite:///x.db",
                "databricks",
                "http://127.0.0.1:1/x",
                "models:/x",
                "memory://fuzz-uri",
                str(w.tmp / "a\x00b"),
                str(w.tmp / "elsewhere"),
            ]
        ),
        label="uri",
    )
    which = data.draw(st.sampled_from(["tracking", "registry"]), label="which")
    with config.using():
        setter = fsregistry.set_tracking_uri if which == "tracking" else fsregistry.set_registry_uri
        out = attempt(w.store_fs, lambda: setter(uri))
        if out.ok:
            getter = (
                fsregistry.get_tracking_uri if which == "tracking" else fsregistry.get_registry_uri
            )
            assert getter() == uri or uri == ""  # "" means the default
            attempt(w.store_fs, lambda: fsregistry.search_experiments(max_results=1))
            attempt(w.store_fs, lambda: Client().search_registered_models(max_results=1))


FLUENT_OPS = [
    op_fluent_experiments,
    op_fluent_start_run,
    op_fluent_logging,
    op_fluent_artifacts,
    op_fluent_register_model,
    op_fluent_uris,
]


def test_fuzz_fluent(
    world: World, backend: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # relative URIs land in the test's directory
    fuzz_ops(world, backend, FLUENT_OPS)


def test_the_contract_check_sees_a_write_on_rejection(world: World) -> None:
    """attempt() itself: a call that writes and then raises is caught."""

    def writes_then_raises() -> None:
        world.client.set_tag(world.run_id, "leak", "x")
        raise FsRegistryException("refused")

    with pytest.raises(AssertionError, match="changed"):
        attempt(world.store_fs, writes_then_raises)
