"""Runs' model inputs and outputs (MLflow 3): ``log_inputs`` (fluent and Client),
``log_outputs``, ``Run.inputs.model_inputs`` and ``Run.outputs.model_outputs``, on local disk,
S3 and GCS (docs/mlflow-format.md §1.9)."""

from __future__ import annotations

import errno
import hashlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import yaml

import fsregistry
from fsregistry import Client
from fsregistry.entities import (
    Dataset,
    DatasetInput,
    LoggedModelInput,
    LoggedModelOutput,
    RunOutputs,
)
from fsregistry.exceptions import InvalidParameterValue, MlflowException
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


def _read_yaml(store_fs: tuple[Any, str], rel: str) -> Any:
    fs, root = store_fs
    with fs.open(f"{root}/{rel}", "rb") as f:
        return yaml.safe_load(f.read())


# -- log_inputs -------------------------------------------------------------------------------
def test_fluent_log_inputs_logs_datasets_contexts_and_tags(fluent: str) -> None:
    train = fsregistry.data.from_numpy(np.array([[1, 2], [3, 4]]), source="train.csv")
    test = fsregistry.data.from_numpy(np.array([[-1, 2]]), source="test.csv")
    with fsregistry.start_run() as run:
        fsregistry.log_inputs(
            [train, test, None],
            contexts=["training", "test", None],
            tags_list=[None, {"my_tag": "v"}, None],
        )
    inputs = Client().get_run(run.info.run_id).inputs.dataset_inputs
    got = {d.dataset.digest: sorted((t.key, t.value) for t in d.tags) for d in inputs}
    assert got == {
        train.digest: [("mlflow.data.context", "training")],
        test.digest: [("mlflow.data.context", "test"), ("my_tag", "v")],
    }


def test_fluent_log_inputs_checks_its_arguments_before_starting_a_run(fluent: str) -> None:
    ds = fsregistry.data.from_numpy(np.array([[1]]), source="a.csv")
    with pytest.raises(MlflowException, match="requires `datasets`, `contexts`, `tags_list`"):
        fsregistry.log_inputs([ds], contexts=["training"])
    with pytest.raises(MlflowException, match="only supported by Databricks managed MLflow"):
        fsregistry.log_inputs(models=[LoggedModelInput("m-" + "0" * 32)])
    with pytest.raises(InvalidParameterValue, match="`dataset` must be specified"):
        fsregistry.log_inputs([None], contexts=["training"], tags_list=[None])
    assert fsregistry.active_run() is None


def test_client_log_inputs_records_models_as_mlflow(
    client: Client, store_fs: tuple[Any, str]
) -> None:
    exp = client.create_experiment("inputs")
    run_id = client.create_run(exp).info.run_id
    mid = client.create_logged_model(exp, name="m").model_id
    with pytest.raises(InvalidParameterValue, match="Invalid item 'x' in models"):
        client.log_inputs(run_id, models=[LoggedModelInput(mid), "x"])  # type: ignore[list-item]
    fs, root = store_fs
    assert not fs.exists(f"{root}/{exp}/{run_id}/inputs")
    client.log_inputs(run_id, models=[LoggedModelInput(mid)])
    input_id = hashlib.md5(f"{mid}{run_id}".encode()).hexdigest()
    assert _read_yaml(store_fs, f"{exp}/{run_id}/inputs/{input_id}/meta.yaml") == {
        "destination_id": run_id,
        "destination_type": "RUN",
        "source_id": mid,
        "source_type": "MODEL",
        "tags": {},
    }
    client.delete_run(run_id)
    with pytest.raises(MlflowException, match="must be in 'active' lifecycle_stage"):
        client.log_inputs(run_id, models=[LoggedModelInput(mid)])


# -- Run.outputs / Run.inputs.model_inputs -----------------------------------------------------
def test_get_run_and_search_runs_show_model_outputs_and_inputs(client: Client) -> None:
    exp = client.create_experiment("run-io")
    run_id = client.create_run(exp).info.run_id
    other_id = client.create_run(exp).info.run_id
    made = client.create_logged_model(exp, name="made", source_run_id=run_id).model_id
    used = client.create_logged_model(exp, name="used").model_id
    client.log_outputs(run_id, [LoggedModelOutput(made, step=4)])
    client.log_inputs(run_id, models=[LoggedModelInput(used)])
    run = client.get_run(run_id)
    assert run.outputs == RunOutputs([LoggedModelOutput(made, 4)])
    assert run.outputs.model_outputs[0].step == 4
    assert run.inputs.model_inputs == [LoggedModelInput(used)]
    assert run.inputs.dataset_inputs == []
    plain = client.get_run(other_id)
    assert plain.outputs.model_outputs == [] and plain.inputs.model_inputs == []
    client.set_terminated(run_id)  # summarised into the run index: read back from there too
    for fresh in (client, Client(tracking_uri=client.tracking_uri)):
        found = {r.info.run_id: r for r in fresh.search_runs([exp])}
        assert found[run_id].outputs.model_outputs == [LoggedModelOutput(made, 4)]
        assert found[run_id].inputs.model_inputs == [LoggedModelInput(used)]
        assert found[other_id].outputs.model_outputs == []
        assert fresh.get_run(run_id).outputs.model_outputs == [LoggedModelOutput(made, 4)]


def test_get_run_lists_a_run_once_with_or_without_outputs(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = client.create_experiment("cheap")
    plain_id = client.create_run(exp).info.run_id
    run_id = client.create_run(exp).info.run_id
    mid = client.create_logged_model(exp, name="m", source_run_id=run_id).model_id
    client.log_outputs(run_id, [LoggedModelOutput(mid)])
    client.get_run(plain_id), client.get_run(run_id)  # runs located
    storage = client.store.storage
    listings: list[str] = []
    for name in ("walk", "list_dir"):
        original = getattr(storage, name)
        monkeypatch.setattr(
            storage,
            name,
            lambda path, *a, _o=original, **k: listings.append(path) or _o(path, *a, **k),
        )
    assert client.get_run(plain_id).outputs.model_outputs == []
    assert len(listings) <= 1
    listings.clear()
    assert client.get_run(run_id).outputs.model_outputs == [LoggedModelOutput(mid, 0)]
    assert len(listings) <= 1


# -- deleted LoggedModels ----------------------------------------------------------------------
def test_a_deleted_logged_model_is_not_found_as_in_mlflow(fluent: str) -> None:
    from fsreg_testing.models import frame, trained_model
    from fsregistry import pyfunc
    from fsregistry import sklearn as fsk
    from fsregistry.exceptions import ResourceDoesNotExist

    fsregistry.set_registry_uri(fluent)
    with fsregistry.start_run():
        info = fsk.log_model(trained_model(), name="clf")
    model_id = info.model_id or ""
    expected = list(trained_model().predict(frame()))
    assert list(pyfunc.load_model(info.model_uri).predict(frame())) == expected
    Client().delete_logged_model(model_id)
    not_found = rf"^Model '{model_id}' not found$"
    with pytest.raises(ResourceDoesNotExist, match=not_found) as got:
        fsregistry.get_logged_model(model_id)
    assert got.value.error_code == "RESOURCE_DOES_NOT_EXIST"
    with pytest.raises(ResourceDoesNotExist, match=not_found):
        pyfunc.load_model(info.model_uri)
    with pytest.raises(ResourceDoesNotExist, match=not_found):
        fsk.load_model(f"models:/{model_id}")
    with pytest.raises(MlflowException, match=f"Model '{model_id}' not found"):
        fsregistry.register_model(info.model_uri, "from-deleted")
    assert fsregistry.search_registered_models(filter_string="name = 'from-deleted'") == []


# -- downloading a LoggedModel's artifacts -----------------------------------------------------
def test_download_artifacts_of_a_model_uri_creates_the_destination(
    fluent: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fsreg_testing.models import trained_model
    from fsregistry import sklearn as fsk

    with fsregistry.start_run():
        info = fsk.log_model(trained_model(), name="clf")
    dst = tmp_path / "new" / "dir"
    got = fsregistry.artifacts.download_artifacts(artifact_uri=info.model_uri, dst_path=str(dst))
    assert got == str(dst) and (dst / "MLmodel").is_file()  # MLflow 3 creates dst_path
    from fsregistry.exceptions import StorageUnavailable
    from fsregistry.storage.artifact_repo import ArtifactRepository

    def failing(self: Any, *a: Any, **k: Any) -> str:
        raise StorageUnavailable("injected: the store went away mid-download")

    monkeypatch.setattr(ArtifactRepository, "download_artifacts", failing)
    missing = tmp_path / "other" / "dir"
    with pytest.raises(StorageUnavailable):
        fsregistry.artifacts.download_artifacts(artifact_uri=info.model_uri, dst_path=str(missing))
    assert not (tmp_path / "other").exists()  # a failed download leaves nothing


# -- all or nothing ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "bad",
    [
        LoggedModelOutput("../../escaped", 0),
        LoggedModelOutput("nested/id", 0),
        LoggedModelOutput("..", 0),
        LoggedModelOutput(5, 0),  # type: ignore[arg-type]
        LoggedModelOutput("m-fine", "x"),  # type: ignore[arg-type]
        LoggedModelOutput("m-fine", True),
    ],
    ids=["dotdot-path", "nested", "dotdot", "not-a-string", "step-not-int", "step-bool"],
)
def test_log_outputs_checks_every_model_before_it_writes_any(
    client: Client, store_fs: tuple[Any, str], bad: LoggedModelOutput
) -> None:
    """A bad entry anywhere refuses the whole call with INVALID_PARAMETER_VALUE before any
    record is written: it used to write the entries before it (and a step that is no
    integer raised a raw ValueError; a nested id made nested directories)."""
    run_id = client.create_run("0").info.run_id
    fs, root = store_fs
    before = sorted(fs.find(root))
    with pytest.raises(InvalidParameterValue) as error:
        client.log_outputs(run_id, [LoggedModelOutput("m-first", 1), bad])
    assert error.value.error_code == "INVALID_PARAMETER_VALUE"
    assert sorted(fs.find(root)) == before
    assert client.get_run(run_id).outputs.model_outputs == []
    client.log_outputs(run_id, [LoggedModelOutput("m-first", np.int64(2))])  # type: ignore[arg-type]
    assert client.get_run(run_id).outputs == RunOutputs([LoggedModelOutput("m-first", 2)])


def test_log_inputs_checks_every_model_before_it_writes_any(
    client: Client, store_fs: tuple[Any, str]
) -> None:
    run_id = client.create_run("0").info.run_id
    fs, root = store_fs
    before = sorted(fs.find(root))
    with pytest.raises(InvalidParameterValue, match="must not be a path"):
        client.log_inputs(
            run_id, models=[LoggedModelInput("m-first"), LoggedModelInput("../escaped")]
        )
    assert sorted(fs.find(root)) == before
    assert client.get_run(run_id).inputs.model_inputs == []


def test_log_outputs_that_cannot_write_one_record_removes_those_it_wrote(
    client: Client, store_fs: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A storage failure on the second record: the first, written by this call, is removed
    and the storage's error is raised; a record logged by an earlier call stays."""
    run_id = client.create_run("0").info.run_id
    client.log_outputs(run_id, [LoggedModelOutput("m-earlier", 0)])
    fs, root = store_fs
    before = {p: fs.cat_file(p) for p in fs.find(root)}
    storage = client.store.storage
    real = storage._create  # type: ignore[attr-defined]

    def refusing(path: str, *args: Any) -> Any:
        if "/outputs/m-second/" in path:
            with storage._errors(path, writing=True):  # type: ignore[attr-defined]
                raise PermissionError(errno.EACCES, "Permission denied", path)
        return real(path, *args)

    monkeypatch.setattr(storage, "_create", refusing)
    with pytest.raises(MlflowException) as error:
        client.log_outputs(
            run_id,
            [
                LoggedModelOutput("m-earlier", 0),
                LoggedModelOutput("m-first", 1),
                LoggedModelOutput("m-second", 2),
            ],
        )
    assert error.value.error_code == "PERMISSION_DENIED"
    assert {p: fs.cat_file(p) for p in fs.find(root)} == before
    assert client.get_run(run_id).outputs == RunOutputs([LoggedModelOutput("m-earlier", 0)])


def test_log_inputs_checks_its_models_before_it_writes_a_dataset(
    client: Client, store_fs: tuple[Any, str]
) -> None:
    run_id = client.create_run("0").info.run_id
    fs, root = store_fs
    before = sorted(fs.find(root))
    dataset = DatasetInput(Dataset("d", "1", "local", "/d", None, None), [])
    for bad in ("../escaped", "a/b"):
        with pytest.raises(InvalidParameterValue, match="must not be a path"):
            client.log_inputs(run_id, datasets=[dataset], models=[LoggedModelInput(bad)])
    assert sorted(fs.find(root)) == before
    assert client.get_run(run_id).inputs.dataset_inputs == []


def test_log_outputs_of_one_model_twice_keeps_the_first_and_refuses_other_items(
    client: Client,
) -> None:
    run_id = client.create_run("0").info.run_id
    for bad in ([None], "m-1", [("m-1", 0)]):
        with pytest.raises(InvalidParameterValue, match="LoggedModelOutput"):
            client.log_outputs(run_id, bad)  # type: ignore[arg-type]
    client.log_outputs(run_id, [LoggedModelOutput("m-1", 0), LoggedModelOutput("m-1", 5)])
    assert client.get_run(run_id).outputs == RunOutputs([LoggedModelOutput("m-1", 0)])
