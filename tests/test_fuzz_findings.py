"""What tests/test_fuzz.py found, one plain test per bug: each call raised a raw exception
(TypeError, ValueError, UnicodeEncodeError, a YAML error...), wrote something before refusing,
or wrote something that did not read back. Now each is an ``MlflowException`` that changed no
file, or a value that round-trips. Local disk, S3 and GCS where the store is involved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pytest

import fsregistry
from fsreg_testing.fuzz import is_index_cache, snapshot
from fsreg_testing.runs import age_tree, ended_runs
from fsregistry import Client, config
from fsregistry.entities import Dataset, DatasetInput, Metric, RunTag
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.mlruns.metafile import dump_meta, load_meta
from fsregistry.search import decode_page_token, parse_filter, parse_order_by

SURROGATE = "\ud800"  # what os.fsdecode makes of an undecodable byte; UTF-8 cannot store it
HUGE = 10**4301  # str() and repr() refuse ints of more than 4300 digits


@pytest.fixture
def client(store_url: str) -> Client:
    return Client(tracking_uri=store_url)


@pytest.fixture
def run_id(client: Client) -> str:
    return client.create_run(client.create_experiment("e")).info.run_id


def refused(
    store_fs: tuple[Any, str], call: Any, match: str | None = None, *, looked_up: bool = False
) -> InvalidParameterValue:
    """``call`` raises InvalidParameterValue (matching ``match``) and changes no file;
    ``looked_up``: but for the index shards, which the lookup the refusal needed may refresh
    (a cache MLflow ignores, as ``fuzz.attempt`` allows for lookups)."""
    before = snapshot(store_fs)
    with pytest.raises(InvalidParameterValue, match=match) as info:
        call()
    after = snapshot(store_fs)
    if looked_up:
        before = {p: v for p, v in before.items() if not is_index_cache(p)}
        after = {p: v for p, v in after.items() if not is_index_cache(p)}
    assert after == before
    return info.value


# -- values that UTF-8 cannot store -------------------------------------------------------------


def test_lone_surrogates_are_refused_everywhere(
    client: Client, run_id: str, store_fs: tuple[Any, str]
) -> None:
    """Were UnicodeEncodeError from the YAML dump or the file write, some after a first file."""
    exp_id = client.get_run(run_id).info.experiment_id
    client.create_registered_model("m")
    calls = [
        lambda: client.create_experiment(SURROGATE),
        lambda: client.create_experiment("x", artifact_location=f"/tmp/{SURROGATE}"),
        lambda: client.rename_experiment(exp_id, SURROGATE),
        lambda: client.set_experiment_tag(exp_id, "k", SURROGATE),
        lambda: client.create_run(exp_id, run_name=SURROGATE),
        lambda: client.update_run(run_id, name=SURROGATE),
        lambda: client.log_param(run_id, "p", SURROGATE),
        lambda: client.set_tag(run_id, "t", SURROGATE),
        lambda: client.log_text(run_id, SURROGATE, "a.txt"),
        lambda: client.log_text(run_id, "text", f"{SURROGATE}.txt"),
        lambda: client.create_registered_model(SURROGATE),
        lambda: client.update_registered_model("m", SURROGATE),
        lambda: client.create_model_version("m", f"/tmp/{SURROGATE}"),
    ]
    for call in calls:
        refused(store_fs, call, "surrogate")


def test_line_separators_in_meta_yaml_round_trip(client: Client, run_id: str) -> None:
    """A run named '\\u2028' read back as '\\u2028  ': PyYAML writes U+2028 raw inside a
    quoted scalar followed by indentation, and the fast meta.yaml reader split at '\\n' only."""
    for name in ("a\u2028b", "\u2029", "x\x85y", "c\rd"):
        client.update_run(run_id, name=name)
        assert client.get_run(run_id).info.run_name == name
        assert load_meta(dump_meta({"name": name}), "m") == {"name": name}


# -- arguments of the wrong type or shape --------------------------------------------------------


def test_numpy_timestamps_are_stored_as_ints(client: Client, run_id: str) -> None:
    """create_run(start_time=np.int64(7)) raised yaml's RepresenterError."""
    exp_id = client.get_run(run_id).info.experiment_id
    run = client.create_run(exp_id, start_time=np.int64(7))  # type: ignore[arg-type]
    assert client.get_run(run.info.run_id).info.start_time == 7
    client.set_terminated(run.info.run_id, end_time=np.int64(9))  # type: ignore[arg-type]
    assert client.get_run(run.info.run_id).info.end_time == 9


def test_timestamps_that_are_not_integers_are_refused(
    client: Client, run_id: str, store_fs: tuple[Any, str]
) -> None:
    exp_id = client.get_run(run_id).info.experiment_id
    refused(store_fs, lambda: client.create_run(exp_id, start_time="5"), "start_time")  # type: ignore[arg-type]
    refused(store_fs, lambda: client.set_terminated(run_id, end_time=1.5), "end_time")  # type: ignore[arg-type]
    refused(store_fs, lambda: client.set_terminated(run_id, end_time=-1), "end_time")


@pytest.mark.parametrize("tags", [5, "a=b", ["a"]])
def test_tags_that_are_not_a_dict_are_refused(
    client: Client, run_id: str, store_fs: tuple[Any, str], tags: Any
) -> None:
    """Were TypeError ('int' object is not iterable) and AttributeError (list.get)."""
    exp_id = client.get_run(run_id).info.experiment_id
    refused(store_fs, lambda: client.create_run(exp_id, tags=tags), "tag")
    refused(store_fs, lambda: client.create_registered_model("m", tags=tags), "tag")
    with config.using(tracking_uri=client.tracking_uri):
        refused(store_fs, lambda: fsregistry.start_run(experiment_id=exp_id, tags=tags), "tag")
        assert fsregistry.active_run() is None


def test_log_batch_takes_none_and_refuses_what_is_not_a_list_of_entities(
    client: Client, run_id: str, store_fs: tuple[Any, str]
) -> None:
    """log_batch(metrics=None) raised TypeError (len of None); [None] AttributeError."""
    client.log_batch(run_id, metrics=None, params=None, tags=[RunTag("t", "v")])  # type: ignore[arg-type]
    assert client.get_run(run_id).data.tags["t"] == "v"
    refused(store_fs, lambda: client.log_batch(run_id, params=[None]), "params")  # type: ignore[list-item]
    refused(store_fs, lambda: client.log_batch(run_id, tags="abc"), "tags")  # type: ignore[arg-type]
    refused(store_fs, lambda: client.log_batch(run_id, metrics=[Metric("m", 1.0, 0, 0), "x"]))  # type: ignore[list-item]


def test_dataset_inputs_are_checked_before_anything_is_written(
    client: Client, run_id: str, store_fs: tuple[Any, str]
) -> None:
    """A dataset with a None or non-string field raised yaml's RepresenterError, a None item
    AttributeError; a second bad dataset left the first one written."""
    good = DatasetInput(Dataset("d", "1", "local", "/d", None, None), [])
    for bad in (
        DatasetInput(Dataset("d", None, "local", "/d", None, None), []),  # type: ignore[arg-type]
        DatasetInput(Dataset("d", "1", "local", np.int64(1), None, None), []),  # type: ignore[arg-type]
        DatasetInput(Dataset("d", "1", "local", SURROGATE, None, None), []),
        None,
    ):
        refused(store_fs, lambda bad=bad: client.log_inputs(run_id, [good, bad]))
    client.log_inputs(run_id, [good])
    assert client.get_run(run_id).inputs.dataset_inputs[0].dataset.name == "d"


def test_log_dict_refuses_values_it_cannot_serialise(
    client: Client, run_id: str, store_fs: tuple[Any, str]
) -> None:
    """Were raw TypeError (complex), ValueError (an int over 4300 digits) and AttributeError
    (an artifact file that is not a string)."""
    for value, name in (({"c": 1j}, "d.json"), ({"c": 1j}, "d.yaml"), ({"n": HUGE}, "d.json")):
        refused(store_fs, lambda v=value, n=name: client.log_dict(run_id, v, n), "cannot store")
    refused(store_fs, lambda: client.log_dict(run_id, {}, 5), "artifact")  # type: ignore[arg-type]


def test_values_str_cannot_convert_are_refused(
    client: Client, run_id: str, store_fs: tuple[Any, str]
) -> None:
    """log_param(k, 10**4301) and a registry run_link of it raised ValueError."""
    refused(store_fs, lambda: client.log_param(run_id, "p", HUGE), "str")
    client.create_registered_model("m")
    refused(store_fs, lambda: client.create_model_version("m", "/tmp/x", run_link=HUGE))  # type: ignore[arg-type]
    refused(store_fs, lambda: client.get_experiment(HUGE))  # type: ignore[arg-type]
    refused(store_fs, lambda: client.delete_registered_model(HUGE))  # type: ignore[arg-type]


def test_numbers_int_cannot_read_are_refused(
    client: Client, run_id: str, store_fs: tuple[Any, str]
) -> None:
    """'²' is a digit to str.isdigit() but int('²') raises ValueError: versions, model URIs,
    run statuses and page-token offsets took that path."""
    client.create_registered_model("m")
    client.create_model_version("m", "/tmp/x")
    refused(store_fs, lambda: client.get_model_version("m", "²"), "version")
    refused(store_fs, lambda: client.update_run(run_id, status="²"), "status")
    with config.using(tracking_uri=client.tracking_uri):
        refused(store_fs, lambda: fsregistry.register_model("models:/m/²", "m"), "stage")
    with pytest.raises(InvalidParameterValue, match="offset"):
        decode_page_token("eyJvZmZzZXQiOiAiXHUwMGIyIn0=")  # {"offset": "²"}


def test_logged_model_ids_that_are_not_strings_are_refused(client: Client) -> None:
    with pytest.raises(InvalidParameterValue):
        client.get_logged_model(-1)  # type: ignore[arg-type]  # was TypeError


def test_stages_that_are_not_a_list_are_refused(client: Client) -> None:
    client.create_registered_model("m")
    with pytest.raises(InvalidParameterValue, match="stages"):
        client.get_latest_versions("m", 1)  # type: ignore[arg-type]  # was TypeError


# -- searches -------------------------------------------------------------------------------------


def test_search_arguments_of_the_wrong_type_are_refused() -> None:
    """Were AttributeError (int.strip), TypeError (iterating an int, len of an int)."""
    with pytest.raises(InvalidParameterValue, match="filter"):
        parse_filter(5, "runs")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue, match="order_by"):
        parse_order_by(5, "runs")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterValue, match="page token"):
        decode_page_token(5)  # type: ignore[arg-type]


def test_a_bad_page_token_is_refused_before_the_search_writes_its_index(tmp_path: Path) -> None:
    """The search read every model (or run), wrote its index cache, then refused the token.
    Local disk, files aged past the racy window: only then are summaries cached."""
    root = tmp_path / "mlruns"
    client = Client(tracking_uri=str(root))
    for i in range(3):
        client.create_registered_model(f"m{i}")
        client.create_model_version(f"m{i}", "/tmp/x")
    exp_id = client.create_experiment("e")
    ended_runs(client, exp_id, 3)
    age_tree(root)
    store_fs = (fsspec.filesystem("file"), str(root))
    calls = [
        lambda: client.search_registered_models(page_token="!!"),
        lambda: client.search_model_versions(page_token="!!"),
        lambda: client.search_runs([exp_id], page_token="!!"),
        lambda: client.search_experiments(page_token="!!"),
    ]
    for call in calls:
        refused(store_fs, call, "page token")


def test_a_bad_version_is_refused_before_the_prompt_check_reads_the_model(
    tmp_path: Path,
) -> None:
    """The client's prompt check read the model (refreshing the registry index) before the
    store refused a version like '1.0'. Files aged past the racy window, so a read caches."""
    root = tmp_path / "mlruns"
    client = Client(tracking_uri=str(root))
    client.create_registered_model("m")
    client.create_model_version("m", "/tmp/x")
    age_tree(root)
    store_fs = (fsspec.filesystem("file"), str(root))
    calls = [
        lambda: client.get_model_version_download_uri("m", "1.0"),
        lambda: client.update_model_version("m", "1.0", "d"),
        lambda: client.delete_model_version("m", "1.0"),
        lambda: client.set_model_version_tag("m", "1.0", "k", "v"),
        lambda: client.delete_model_version_tag("m", "1.0", "k"),
        lambda: client.set_registered_model_alias("m", "a", "1.0"),
        lambda: client.transition_model_version_stage("m", "1.0", "Staging"),
    ]
    for call in calls:
        refused(store_fs, call, "must be an integer")


def test_fluent_searches_refuse_a_max_results_that_is_not_an_int(store_url: str) -> None:
    """Were TypeError: '<' not supported between int and str."""
    with config.using(tracking_uri=store_url):
        with pytest.raises(InvalidParameterValue, match="max_results"):
            fsregistry.search_runs(max_results="10")  # type: ignore[arg-type]
        with pytest.raises(InvalidParameterValue, match="max_results"):
            fsregistry.search_experiments(max_results="10")  # type: ignore[arg-type]


def test_an_unknown_store_protocol_is_refused(tmp_path: Path) -> None:
    """set_tracking_uri('unknownproto://x') then any call raised fsspec's ValueError."""
    with pytest.raises(InvalidParameterValue, match="unknownproto"):
        Client(tracking_uri="unknownproto://x/y")


# -- writes before refusing ---------------------------------------------------------------------


def test_register_model_resolves_its_source_before_creating_the_model(
    client: Client, store_fs: tuple[Any, str]
) -> None:
    """register_model('models:/m/Production', 'new') with nothing in Production created the
    model 'new', then refused the source."""
    client.create_registered_model("m")
    client.create_model_version("m", "/tmp/x")
    with config.using(tracking_uri=client.tracking_uri):
        refused(
            store_fs,
            lambda: fsregistry.register_model("models:/m/Production", "new"),
            looked_up=True,
        )
        refused(
            store_fs, lambda: fsregistry.register_model("models:/m@nowhere", "new"), looked_up=True
        )
        assert fsregistry.register_model("models:/m/1", "new").version == 1


def test_resuming_a_run_with_bad_tags_leaves_it_as_it_was(
    client: Client, run_id: str, store_fs: tuple[Any, str]
) -> None:
    """start_run(run_id=<finished run>, tags=<bad>) marked the run RUNNING, then refused."""
    client.set_terminated(run_id)
    with config.using(tracking_uri=client.tracking_uri):
        refused(store_fs, lambda: fsregistry.start_run(run_id=run_id, tags={"bad key!": 1}))
        assert fsregistry.active_run() is None
    assert client.get_run(run_id).info.status == "FINISHED"


def test_end_run_with_a_bad_status_keeps_the_run_active(store_url: str) -> None:
    """end_run('DONE') popped the active run and then refused the status: the run stayed
    RUNNING in the store but was no longer the active run."""
    with config.using(tracking_uri=store_url):
        run = fsregistry.start_run(experiment_id=fsregistry.create_experiment("e"))
        with pytest.raises(InvalidParameterValue, match="status"):
            fsregistry.end_run("DONE")
        assert fsregistry.active_run() is run
        fsregistry.end_run()
        assert fsregistry.get_run(run.info.run_id).info.status == "FINISHED"


# -- names of fsregistry's own files -----------------------------------------------------------


def test_keys_and_artifacts_named_like_lock_or_temp_files_are_refused(
    client: Client, run_id: str, store_fs: tuple[Any, str]
) -> None:
    """A tag '.meta.yaml.fsreg-lock' was written, then hidden from get_run (listings skip
    fsregistry's lock and temp files), and `fsreg gc` would delete it. Those files are now
    named '.<name>#fsreg-lock' / '.<name>#fsreg-tmp-<hex>': no key can hold a '#', and no
    artifact path may have a file or directory so named (a directory was still accepted)."""
    exp_id = client.get_run(run_id).info.experiment_id
    for key in (".meta.yaml#fsreg-lock", "a/.b#fsreg-tmp-" + "0" * 32):
        refused(store_fs, lambda k=key: client.set_tag(run_id, k, "v"), "tag key")
        refused(store_fs, lambda k=key: client.set_experiment_tag(exp_id, k, "v"), "tag key")
        refused(store_fs, lambda k=key: client.log_text(run_id, "v", k), "lock")
    refused(store_fs, lambda: client.log_text(run_id, "v", ".d#fsreg-lock/f.txt"), "lock")
    for key in (".hidden", ".meta.yaml.fsreg-lock"):  # names MLflow allows, fine here too
        client.set_tag(run_id, key, "fine")
        assert client.get_run(run_id).data.tags[key] == "fine"


def test_experiment_tags_given_at_creation_read_as_set_experiment_tag_writes_them(
    client: Client,
) -> None:
    """create_experiment(tags={'k': None}) stored 'None'; set_experiment_tag stores ''."""
    exp_id = client.create_experiment("e", tags={"k": None, "n": 5})
    assert client.get_experiment(exp_id).tags == {"k": "", "n": "5"}


def test_get_artifact_uri_refuses_a_path_that_is_not_a_string(store_url: str) -> None:
    """get_artifact_uri(1.5) raised AttributeError ('float' object has no attribute 'lstrip')."""
    with (
        config.using(tracking_uri=store_url),
        fsregistry.start_run(experiment_id=Client(tracking_uri=store_url).create_experiment("e")),
        pytest.raises(InvalidParameterValue, match="artifact path"),
    ):
        fsregistry.get_artifact_uri(1.5)  # type: ignore[arg-type]


def test_names_ending_in_a_newline_are_refused(
    client: Client, run_id: str, store_fs: tuple[Any, str]
) -> None:
    """MLflow's patterns end in '$', which also matches before a final newline: a tag key
    'é\\n' passed and was written (S3 then failed the PutObject with a raw ClientError), as
    would a run id or an alias with a trailing newline."""
    client.create_registered_model("m")
    client.create_model_version("m", "/tmp/x")
    refused(store_fs, lambda: client.set_tag(run_id, "é\n", "v"), "tag key")
    refused(store_fs, lambda: client.log_param(run_id, "p\n", "v"), "param key")
    refused(store_fs, lambda: client.log_metric(run_id, "m\n", 1.0), "metric key")
    refused(store_fs, lambda: client.get_run(run_id + "\n"), "run ID")
    refused(store_fs, lambda: client.set_registered_model_alias("m", "a\n", 1), "alias")


def test_run_ids_and_names_of_the_wrong_type_are_refused(
    client: Client, run_id: str, store_fs: tuple[Any, str]
) -> None:
    """delete_run(['a']) raised TypeError (unhashable: it was a dict key before being
    checked, once the store had seen a write), update_run(name=True) AttributeError."""
    client.set_tag(run_id, "t", "v")
    refused(store_fs, lambda: client.delete_run(["a"]), "run ID")  # type: ignore[arg-type]
    refused(store_fs, lambda: client.update_run(run_id, name=True), "run name")  # type: ignore[arg-type]


def test_artifact_paths_with_control_characters_are_refused(
    client: Client, run_id: str, store_fs: tuple[Any, str]
) -> None:
    """log_dict(run, -453, 'a\\r\\nb.yaml') on S3 failed the PutObject with a raw ClientError."""
    for path in ("a\r\nb.yaml", "tab\there.txt", "bell\x07", "del\x7f"):
        refused(store_fs, lambda p=path: client.log_text(run_id, "x", p), "control character")
