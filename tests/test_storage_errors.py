"""No raw OS or client error from a public call: names and paths too long for the filesystem
or object store, a file where a directory is and a directory where a file is, a bucket
that does not exist, a server that does not answer. Each is an ``MlflowException`` with
MLflow's error code and a message naming the value (shortened when huge), and the call
wrote nothing. Local disk, S3 and GCS, through ``Client``, the fluent API and
``fsregistry.artifacts``."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import fsspec
import pytest

import fsregistry
from fsregistry import Client, config
from fsregistry.exceptions import (
    FsRegistryException,
    InvalidParameterValue,
    PathConflict,
    StorageUnavailable,
    StoreMissing,
)
from fsregistry.fluent import _stack
from fsregistry.storage import open_storage

HUGE = "x" * 10_000
# Longer than a file name may be on local disk (255 bytes), well within an object name (1,024).
OVER_NAME_MAX = "y" * 300 + ".txt"


def tree(store_fs: tuple[Any, str]) -> dict[str, bytes | None]:
    """Every file (hidden ones included) with its bytes, and every directory (None): a call
    that changed nothing leaves this as it was."""
    fs, root = store_fs
    if not fs.exists(root):
        return {}
    found = fs.find(root, withdirs=True, detail=True)
    return {
        path: None if info["type"] == "directory" else fs.cat_file(path)
        for path, info in sorted(found.items())
    }


def check_refused(
    error: pytest.ExceptionInfo[FsRegistryException], kind: type, value: str, code: str
) -> None:
    """The error is ``kind`` with ``code``, names ``value`` (its start, if huge) and stays
    short however long the value."""
    assert isinstance(error.value, kind), repr(error.value)
    assert error.value.error_code == code
    message = str(error.value)
    assert value[:40] in message, message
    assert len(message) < 1_000, len(message)


@pytest.fixture
def run(store_url: str, tmp_path: Path) -> Iterator[tuple[Client, str]]:
    """A client and a run holding ``a.txt`` and ``d/inner.txt``; the fluent API points at
    the same store, with that run active."""
    client = Client(tracking_uri=store_url)
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    client.log_text(run_id, "text", "a.txt")
    client.log_text(run_id, "inner", "d/inner.txt")
    fsregistry.set_tracking_uri(store_url)
    fsregistry.fluent._active_experiment_id = None
    _stack().clear()
    fsregistry.start_run(run_id=run_id)
    yield client, run_id
    while _stack():
        fsregistry.end_run()


def local_file(tmp_path: Path, name: str) -> str:
    path = tmp_path / "upload" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("local")
    return str(path)


# -- names and paths too long --------------------------------------------------------------
TOO_LONG_WRITES: dict[str, Callable[[Client, str, Path], object]] = {
    "client.log_text": lambda c, r, t: c.log_text(r, "x", HUGE),
    "client.log_dict": lambda c, r, t: c.log_dict(r, {"a": 1}, HUGE + ".json"),
    "client.log_artifact": lambda c, r, t: c.log_artifact(r, local_file(t, "f.txt"), HUGE),
    "client.log_artifacts": lambda c, r, t: c.log_artifacts(
        r, os.path.dirname(local_file(t, "f.txt")), HUGE
    ),
    "fluent.log_text": lambda c, r, t: fsregistry.log_text("x", HUGE),
    "fluent.log_artifact": lambda c, r, t: fsregistry.log_artifact(local_file(t, "f.txt"), HUGE),
}


@pytest.mark.parametrize("call", TOO_LONG_WRITES, ids=list(TOO_LONG_WRITES))
def test_a_10000_character_artifact_path_is_refused(
    run: tuple[Client, str], store_fs: tuple[Any, str], tmp_path: Path, call: str
) -> None:
    """Local disk said ENAMETOOLONG (a raw OSError); object stores took the key (real S3 and
    GCS refuse names over 1,024 bytes, with their own client errors)."""
    client, run_id = run
    before = tree(store_fs)
    with pytest.raises(FsRegistryException) as error:
        TOO_LONG_WRITES[call](client, run_id, tmp_path)
    check_refused(error, InvalidParameterValue, HUGE, "INVALID_PARAMETER_VALUE")
    assert tree(store_fs) == before


TOO_LONG_READS: dict[str, Callable[[Client, str, Path], object]] = {
    "client.list_artifacts": lambda c, r, t: c.list_artifacts(r, HUGE),
    "client.download_artifacts": lambda c, r, t: c.download_artifacts(r, HUGE, str(t)),
    "artifacts.load_text": lambda c, r, t: fsregistry.artifacts.load_text(f"runs:/{r}/{HUGE}"),
    "artifacts.list_artifacts": lambda c, r, t: fsregistry.artifacts.list_artifacts(
        run_id=r, artifact_path=HUGE
    ),
}


@pytest.mark.parametrize("call", TOO_LONG_READS, ids=list(TOO_LONG_READS))
def test_reading_a_10000_character_artifact_path_is_refused(
    run: tuple[Client, str], tmp_path: Path, call: str
) -> None:
    client, run_id = run
    with pytest.raises(FsRegistryException) as error:
        TOO_LONG_READS[call](client, run_id, tmp_path)
    check_refused(error, InvalidParameterValue, HUGE, "INVALID_PARAMETER_VALUE")


def test_names_at_the_length_limits_round_trip(store_url: str) -> None:
    """Keys of 250 characters (MLflow's limit), a 255-character alias and a 250-character
    model name are files of up to 255 bytes: local disk takes them, but the temp file each
    write goes through added 44 characters to the name, so every such write failed there
    with ENAMETOOLONG."""
    client = Client(tracking_uri=store_url)
    exp_id = client.create_experiment("e" * 500)
    run_id = client.create_run(exp_id).info.run_id
    key = "k" * 250
    client.log_param(run_id, key, "p")
    client.set_tag(run_id, key, "t")
    client.log_metric(run_id, key, 1.5)
    client.set_experiment_tag(exp_id, key, "e")
    model = "m" * 250
    client.create_registered_model(model, tags={key: "rm"})
    client.create_model_version(model, "/tmp/source", tags={key: "mv"})
    alias = "a" * 255
    client.set_registered_model_alias(model, alias, 1)

    data = client.get_run(run_id).data
    assert (data.params[key], data.tags[key], data.metrics[key]) == ("p", "t", 1.5)
    assert client.get_experiment(exp_id).tags[key] == "e"
    assert client.get_experiment_by_name("e" * 500) is not None
    assert client.get_registered_model(model).tags == {key: "rm"}
    assert client.get_model_version(model, 1).tags == {key: "mv"}
    assert client.get_model_version_by_alias(model, alias).version == 1


def test_a_name_longer_than_the_filesystem_allows_is_refused_on_local_disk(
    store_url: str, store_fs: tuple[Any, str], backend: str, tmp_path: Path
) -> None:
    """250 characters of two-byte UTF-8 are 500 bytes: within MLflow's limit, over a local
    file name's (255 bytes). Local disk refuses with the key in the message and writes
    nothing; object stores keep it, and a download of such a file to local disk names the
    local path and leaves no partial file."""
    client = Client(tracking_uri=store_url)
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    wide = "é" * 250
    before = tree(store_fs)
    if backend == "local":
        with pytest.raises(InvalidParameterValue) as error:
            client.log_param(run_id, wide, "v")
        check_refused(error, InvalidParameterValue, wide, "INVALID_PARAMETER_VALUE")
        with pytest.raises(InvalidParameterValue) as error:
            client.log_text(run_id, "x", OVER_NAME_MAX)
        check_refused(error, InvalidParameterValue, OVER_NAME_MAX, "INVALID_PARAMETER_VALUE")
        assert tree(store_fs) == before
        return
    client.log_param(run_id, wide, "v")
    client.log_text(run_id, "x", OVER_NAME_MAX)
    assert client.get_run(run_id).data.params[wide] == "v"
    fsregistry.set_tracking_uri(store_url)
    assert fsregistry.artifacts.load_text(f"runs:/{run_id}/{OVER_NAME_MAX}") == "x"
    dst = tmp_path / "download"
    dst.mkdir()
    with pytest.raises(InvalidParameterValue) as error:
        client.download_artifacts(run_id, OVER_NAME_MAX, str(dst))
    check_refused(error, InvalidParameterValue, OVER_NAME_MAX, "INVALID_PARAMETER_VALUE")
    assert "local filesystem" in str(error.value)
    assert list(dst.iterdir()) == []


def test_huge_values_are_shortened_in_messages(store_url: str) -> None:
    """Values rejected for their characters were echoed whole: a 10,000-character run ID
    made a 10,000-character message."""
    client = Client(tracking_uri=store_url)
    exp_id = client.create_experiment("e")
    run_id = client.create_run(exp_id).info.run_id
    client.create_registered_model("m")
    client.create_model_version("m", "/tmp/source")
    calls: list[tuple[str, Callable[[], object]]] = [
        ("run ID", lambda: client.get_run(HUGE + "!")),
        ("experiment ID", lambda: client.get_experiment(HUGE + "!")),
        ("experiment name", lambda: client.create_experiment("\x00" + HUGE)),
        ("model name", lambda: client.create_registered_model("a/" * 5_000)),
        ("alias", lambda: client.set_registered_model_alias("m", HUGE + "!", 1)),
        ("tag key", lambda: client.set_tag(run_id, HUGE + "!", "v")),
        ("artifact path", lambda: client.log_text(run_id, "x", "/" + HUGE)),
    ]
    for what, call in calls:
        with pytest.raises(InvalidParameterValue) as error:
            call()
        assert error.value.error_code == "INVALID_PARAMETER_VALUE"
        assert len(str(error.value)) < 1_000, (what, len(str(error.value)))


# -- a file where a directory is, a directory where a file is -------------------------------
CONFLICTING_WRITES: dict[str, tuple[str, Callable[[Client, str, Path], object]]] = {
    "log_text onto a directory": ("d", lambda c, r, t: c.log_text(r, "x", "d")),
    "log_text below a file": ("a.txt/b", lambda c, r, t: c.log_text(r, "x", "a.txt/b")),
    "log_dict below a file": ("a.txt/b.json", lambda c, r, t: c.log_dict(r, {}, "a.txt/b.json")),
    "log_artifact onto a directory": (
        "d",
        lambda c, r, t: c.log_artifact(r, local_file(t, "d")),
    ),
    "log_artifact below a file": (
        "a.txt/f.txt",
        lambda c, r, t: c.log_artifact(r, local_file(t, "f.txt"), "a.txt"),
    ),
    "fluent log_text onto a directory": ("d", lambda c, r, t: fsregistry.log_text("x", "d")),
    "fluent log_artifact below a file": (
        "a.txt/f.txt",
        lambda c, r, t: fsregistry.log_artifact(local_file(t, "f.txt"), "a.txt"),
    ),
}


@pytest.mark.parametrize("call", CONFLICTING_WRITES, ids=list(CONFLICTING_WRITES))
def test_a_file_cannot_be_written_where_a_directory_is_or_below_a_file(
    run: tuple[Client, str], store_fs: tuple[Any, str], tmp_path: Path, call: str
) -> None:
    """Local disk raised IsADirectoryError or FileExistsError; S3 and GCS stored both ``a.txt``
    and ``a.txt/b``, a tree that neither a download to disk nor MLflow can hold."""
    client, run_id = run
    path, write = CONFLICTING_WRITES[call]
    before = tree(store_fs)
    with pytest.raises(FsRegistryException) as error:
        write(client, run_id, tmp_path)
    check_refused(error, PathConflict, repr(path), "INVALID_PARAMETER_VALUE")
    assert tree(store_fs) == before
    # The run's artifacts still download to disk as they were.
    dst = tmp_path / "download"
    dst.mkdir()
    out = client.download_artifacts(run_id, "", str(dst))
    assert sorted(str(p.relative_to(out)) for p in Path(out).rglob("*")) == [
        "a.txt",
        "d",
        "d/inner.txt",
    ]


def test_log_artifacts_writes_nothing_when_one_file_cannot_be_written(
    run: tuple[Client, str], store_fs: tuple[Any, str], tmp_path: Path
) -> None:
    """A directory whose ``a.txt/`` holds a file, uploaded where ``a.txt`` is a file: the
    other files were uploaded before the conflict was met (on local disk a raw
    FileExistsError; on object stores no error at all)."""
    client, run_id = run
    upload = tmp_path / "many"
    for rel in ("first.txt", "a.txt/below.txt", "z/last.txt"):
        (upload / rel).parent.mkdir(parents=True, exist_ok=True)
        (upload / rel).write_text(rel)
    before = tree(store_fs)
    with pytest.raises(PathConflict) as error:
        client.log_artifacts(run_id, str(upload))
    check_refused(error, PathConflict, "'a.txt/below.txt'", "INVALID_PARAMETER_VALUE")
    assert "'a.txt' is a file" in str(error.value)
    assert tree(store_fs) == before


KEY_COLLISIONS: dict[str, tuple[str, Callable[[Client, str], object]]] = {
    "param a/b below param a": ("a/b", lambda c, r: c.log_param(r, "a/b", "v")),
    "param b onto params b/*": ("b", lambda c, r: c.log_param(r, "b", "v")),
    "tag a/b below tag a": ("a/b", lambda c, r: c.set_tag(r, "a/b", "v")),
    "metric a/b below metric a": ("a/b", lambda c, r: c.log_metric(r, "a/b", 1.0)),
    "model tag a/b below tag a": (
        "a/b",
        lambda c, r: c.set_registered_model_tag("m", "a/b", "v"),
    ),
}


@pytest.mark.parametrize("call", KEY_COLLISIONS, ids=list(KEY_COLLISIONS))
def test_keys_that_collide_as_paths_are_refused_on_local_disk(tmp_path: Path, call: str) -> None:
    """Keys are file paths: with ``a`` stored, ``a/b`` cannot be (and the other way round).
    A tag, metric or model tag ``a/b`` raised a raw FileExistsError; a param ``a/b`` or ``b``
    was silently dropped (the call returned, nothing was stored)."""
    store = tmp_path / "mlruns"
    client = Client(tracking_uri=str(store))
    run_id = client.create_run(client.create_experiment("e")).info.run_id
    client.log_param(run_id, "a", "1")
    client.log_param(run_id, "b/c", "1")
    client.set_tag(run_id, "a", "1")
    client.log_metric(run_id, "a", 1.0)
    client.create_registered_model("m", tags={"a": "1"})
    # A first write to the existing model makes its directory-hold lock files (kept for as
    # long as the directory, by design), so that the refused call below must add nothing.
    client.set_registered_model_tag("m", "z", "1")
    store_fs = (fsspec.filesystem("file"), str(store))
    before = tree(store_fs)
    key, write = KEY_COLLISIONS[call]
    with pytest.raises(InvalidParameterValue) as error:
        write(client, run_id)
    check_refused(error, InvalidParameterValue, repr(key), "INVALID_PARAMETER_VALUE")
    assert "collides" in str(error.value)
    assert tree(store_fs) == before


# -- object stores: a missing bucket, a server that does not answer --------------------------
@pytest.mark.parametrize("backend", ["s3", "gcs"])
def test_a_store_in_a_missing_bucket_is_a_clear_error(
    backend: str, request: pytest.FixtureRequest
) -> None:
    """Writes raised botocore's NoSuchBucket or a bare FileNotFoundError naming an upload URL;
    reads find nothing there, as in an empty store."""
    request.getfixturevalue(f"{backend}_emulator")
    scheme = "s3" if backend == "s3" else "gs"
    bucket = f"fsreg-missing-{uuid.uuid4().hex[:12]}"
    url = f"{scheme}://{bucket}/mlruns"
    # A Client gives a new store its Default experiment as it is made (as MlflowClient
    # does), so making one is the first write.
    with pytest.raises(StoreMissing) as error:
        Client(tracking_uri=url)
    check_refused(error, StoreMissing, bucket, "RESOURCE_DOES_NOT_EXIST")
    registry = config.registry_store(url)
    with pytest.raises(StoreMissing) as error:
        registry.create_registered_model("m")
    check_refused(error, StoreMissing, bucket, "RESOURCE_DOES_NOT_EXIST")
    assert registry.search_registered_models() == []


def test_an_s3_endpoint_that_does_not_answer_is_temporarily_unavailable(
    s3_emulator: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """botocore's EndpointConnectionError came out raw, from reads and writes. (GCS maps its
    connection errors the same way; gcsfs retries them for half a minute first, too long to
    wait for here.)"""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    storage = open_storage(f"s3://fsreg-dead-{uuid.uuid4().hex[:12]}/mlruns")
    for call in (lambda: storage.read("0/meta.yaml"), lambda: storage.write("0/x", b"x")):
        with pytest.raises(StorageUnavailable) as error:
            call()
        check_refused(error, StorageUnavailable, "0/", "TEMPORARILY_UNAVAILABLE")


@pytest.mark.parametrize("when", ["between_checks", "before_open"])
def test_a_directory_another_writer_makes_or_takes_back_meanwhile_is_no_conflict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    """CI failure (a race of create_model_version through MLflow's server and through
    fsregistry): ``version-8/`` was missing when the writer asked "is it a directory?", was
    made by the other writer, and existed when it asked "is anything there?", so the claim
    failed with PathConflict, "a directory above it is a file". And a writer whose empty
    directory another writer takes back before the open makes it again."""
    from fsregistry.storage import local_files

    storage = open_storage(str(tmp_path / "store"))
    storage.write("models/m/meta.yaml", b"x")
    target = tmp_path / "store" / "models" / "m" / "version-8"
    real_stat, real_open = os.stat, os.open
    done: list[str] = []

    def stat_as_other_writer_mkdirs(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        if when == "between_checks" and str(path) == str(target) and not done:
            done.append("made")
            try:
                return real_stat(path, *args, **kwargs)  # missing, as the writer saw it
            finally:
                os.mkdir(target)  # then the other writer makes it
        return real_stat(path, *args, **kwargs)

    def open_after_other_writer_rmdirs(path: Any, *args: Any, **kwargs: Any) -> int:
        if when == "before_open" and str(target) in str(path) and target.is_dir() and not done:
            done.append("taken back")
            os.rmdir(target)  # the other writer's rollback of an empty directory
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(local_files.os, "stat", stat_as_other_writer_mkdirs)
    monkeypatch.setattr(local_files.os, "open", open_after_other_writer_rmdirs)
    storage.create("models/m/version-8/meta.yaml", b"v8")
    monkeypatch.undo()
    assert done
    assert (target / "meta.yaml").read_bytes() == b"v8"
    assert sorted(p.name for p in target.iterdir()) == ["meta.yaml"]


def test_a_folder_whose_name_is_no_utf8_is_left_out_of_listings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A folder made by hand whose name's bytes are no UTF-8 (Python gives lone surrogates,
    which no storage path holds) is left out, with a warning, instead of failing every
    registry and run search of the store with a raw UnicodeEncodeError or a refused path."""
    from fsregistry import Client

    root = tmp_path / "mlruns"
    client = Client(tracking_uri=str(root))
    client.create_registered_model("good")
    client.create_model_version("good", "/src")
    exp_id = client.create_experiment("e")
    run_id = client.create_run(exp_id).info.run_id
    bad_model = os.fsencode(root) + b"/models/bad\xff"
    os.makedirs(bad_model)
    with open(bad_model + b"/meta.yaml", "wb") as f:
        f.write(b"creation_timestamp: 1\nname: bad\n")
    os.makedirs(os.fsencode(root) + b"/" + exp_id.encode() + b"/run\xfe/metrics")
    fresh = Client(tracking_uri=str(root) + "/")  # another store object: nothing held
    with caplog.at_level("WARNING"):
        assert [m.name for m in fresh.search_registered_models()] == ["good"]
        assert [v.name for v in fresh.search_model_versions()] == ["good"]
        assert [r.info.run_id for r in fresh.search_runs([exp_id])] == [run_id]
    assert "is not UTF-8" in caplog.text
