"""Tests of the test infrastructure itself: emulators, store roots, real MLflow, fixture trees."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fsspec
import pytest

from fsreg_testing import emulators
from fsreg_testing.emulators import Emulator, start_gcs_server, start_s3_server
from fsreg_testing.fixture_trees import copy_fixture_tree, fixture_dir, load_expected
from fsreg_testing.mlflow_env import (
    MLFLOW_IDS,
    MLFLOW_VERSIONS,
    MlflowEnvError,
    MlflowPython,
    run_mlflow,
)

EMULATORS = ("s3_emulator", "gcs_emulator")


def _env_only_fs(protocol: str) -> Any:
    """A filesystem configured only by the environment (no endpoint, no credentials)."""
    return fsspec.filesystem(protocol, skip_instance_cache=True, use_listings_cache=False)


@pytest.fixture(params=EMULATORS, ids=["s3", "gcs"])
def emulator(request: pytest.FixtureRequest) -> Emulator:
    emu: Emulator = request.getfixturevalue(request.param)
    return emu


@pytest.fixture
def bucket(emulator: Emulator) -> str:
    name = f"infra-{uuid.uuid4().hex[:16]}"
    emulator.make_bucket(name)
    return name


def test_emulator_url_and_env(emulator: Emulator) -> None:
    assert emulator.url.startswith("http://127.0.0.1:")
    assert emulator.port > 0
    assert emulator.is_running()
    for key, value in emulator.env.items():
        assert os.environ.get(key) == value, f"{key} not exported by the fixture"
    if emulator.kind == "s3":
        assert os.environ["AWS_ENDPOINT_URL"] == emulator.url
        assert "AWS_PROFILE" not in os.environ
        assert not [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL_")]
    else:
        assert os.environ["STORAGE_EMULATOR_HOST"] == emulator.url
        assert os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] == "false"


def test_write_read_with_env_only_client(emulator: Emulator, bucket: str) -> None:
    fs = _env_only_fs(emulator.protocol)
    path = f"{bucket}/dir/hello.txt"
    fs.pipe_file(path, "héllo ✓\n".encode())
    assert fs.cat_file(path) == "héllo ✓\n".encode()
    assert fs.find(bucket) == [path]
    # The explicitly configured client sees the same object.
    assert emulator.filesystem().cat_file(path) == "héllo ✓\n".encode()


def test_conditional_create_is_exclusive(emulator: Emulator, bucket: str) -> None:
    fs = _env_only_fs(emulator.protocol)
    path = f"{bucket}/models/m/version-1/meta.yaml"
    fs.pipe_file(path, b"first", mode="create")
    with pytest.raises(FileExistsError):
        fs.pipe_file(path, b"second", mode="create")
    assert fs.cat_file(path) == b"first"


def test_s3_if_match_compare_and_swap(s3_emulator: Emulator) -> None:
    name = f"infra-{uuid.uuid4().hex[:16]}"
    s3_emulator.make_bucket(name)
    fs = s3_emulator.filesystem()
    path = f"{name}/meta.yaml"
    fs.pipe_file(path, b"v1")
    etag = fs.info(path)["ETag"]
    fs.pipe_file(path, b"v2", IfMatch=etag)
    with pytest.raises(OSError):
        fs.pipe_file(path, b"v3", IfMatch=etag)  # stale ETag
    assert fs.cat_file(path) == b"v2"


def _race(emulator: Emulator, path: str, body: bytes, writers: int) -> tuple[list[int], list[str]]:
    """``writers`` threads create ``path`` at once; returns (winners, unexpected errors)."""
    wins: list[int] = []
    losses: list[int] = []
    errors: list[str] = []
    barrier = threading.Barrier(writers)

    def claim(i: int) -> None:
        fs = emulator.filesystem()
        barrier.wait()
        try:
            fs.pipe_file(path, body[:-1] + bytes([i]), mode="create")
            wins.append(i)
        except FileExistsError:
            losses.append(i)
        except OSError as exc:  # e.g. S3 409 ConditionalRequestConflict: also a loss
            errors.append(repr(exc))

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert len(wins) + len(losses) + len(errors) == writers, "a writer thread hung"
    return wins, errors


@pytest.mark.parametrize("emulator", EMULATORS, ids=["s3", "gcs"], indirect=True)
def test_concurrent_conditional_creates_have_one_winner(emulator: Emulator, bucket: str) -> None:
    """Large bodies make moto's unlocked check-then-write race; the server lock prevents it."""
    body = os.urandom(1024 * 1024)
    for round_ in range(3):
        path = f"{bucket}/race-{round_}"
        wins, errors = _race(emulator, path, body, writers=4)
        assert len(wins) == 1, f"round {round_}: winners {wins}, other errors {errors}"
        stored = emulator.filesystem().cat_file(path)
        assert stored[-1] == wins[0]


def test_moto_write_lock_wraps_the_real_methods() -> None:
    """The server process's lock must wrap moto's actual write entry points."""
    code = (
        "from fsreg_testing import emulators\n"
        "from moto.s3.responses import S3Response\n"
        "before = {n: getattr(S3Response, n) for n in ('put_object', '_key_response_post')}\n"
        "emulators._install_s3_write_lock()\n"
        "for n, fn in before.items():\n"
        "    assert getattr(S3Response, n).__wrapped__ is fn, n\n"
        "print('ok')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "ok"


def test_subprocess_inherits_emulator_env(emulator: Emulator, bucket: str) -> None:
    path = f"{bucket}/from-parent.txt"
    _env_only_fs(emulator.protocol).pipe_file(path, b"parent")
    code = (
        "import sys, fsspec\n"
        "fs = fsspec.filesystem(sys.argv[1], skip_instance_cache=True)\n"
        "sys.stdout.write(fs.cat_file(sys.argv[2]).decode())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, emulator.protocol, path],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout == "parent"


def test_emulator_stop_frees_port() -> None:
    emu = start_gcs_server()
    port = emu.port
    emu.stop()
    emu.stop()  # idempotent
    assert emu.process.poll() is not None
    assert not emu.is_running()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1)
        assert s.connect_ex(("127.0.0.1", port)) != 0


_SEEN_STORE_URLS: set[str] = set()


@pytest.mark.parametrize("attempt", [1, 2])
def test_store_url_is_fresh_and_empty(
    store_url: str, backend: str, store_fs: tuple[Any, str], attempt: int
) -> None:
    assert store_url not in _SEEN_STORE_URLS
    _SEEN_STORE_URLS.add(store_url)
    assert store_url.endswith("mlruns")
    expected_scheme = {"local": "", "s3": "s3://", "gcs": "gs://"}[backend]
    if backend == "local":
        assert "://" not in store_url
        assert not Path(store_url).exists()
        assert Path(store_url).parent.is_dir()
    else:
        assert store_url.startswith(expected_scheme)
    fs, root = store_fs
    assert not fs.exists(root) or fs.find(root) == []
    # Write something so that a non-fresh root would be noticed by the next attempt.
    fs.makedirs(root, exist_ok=True)  # needed on local disk only
    fs.pipe_file(f"{root}/probe.txt", b"x")
    assert fs.cat_file(f"{root}/probe.txt") == b"x"


@pytest.mark.parametrize("version", MLFLOW_VERSIONS, ids=MLFLOW_IDS.get)
def test_copy_fixture_tree_restores_empty_dirs(version: str, tmp_path: Path) -> None:
    expected = load_expected(version)
    assert expected["mlflow_version"] == version
    assert Path(expected["generated_at_root"]).is_absolute()
    assert expected["generated_at_root"] != str(fixture_dir(version) / "mlruns")
    root = copy_fixture_tree(version, tmp_path / "mlruns")
    assert root == tmp_path / "mlruns"
    for run_id, run in expected["runs"].items():
        run_dir = root / run["info"]["experiment_id"] / run_id
        if not run_dir.exists():  # runs of deleted experiments live in .trash
            run_dir = root / ".trash" / run["info"]["experiment_id"] / run_id
        for sub in ("metrics", "params", "artifacts"):
            assert (run_dir / sub).is_dir(), f"{run_dir / sub} missing"
    with pytest.raises(FileExistsError):
        copy_fixture_tree(version, root)


@pytest.mark.mlflow
@pytest.mark.parametrize("version", MLFLOW_VERSIONS, ids=MLFLOW_IDS.get)
def test_run_mlflow_returns_version(version: str, tmp_path: Path) -> None:
    out = run_mlflow(
        version,
        "import json, os, mlflow\n"
        "print('noise before the result')\n"
        "print(json.dumps({'version': mlflow.__version__,"
        " 'allow': os.environ['MLFLOW_ALLOW_FILE_STORE'], 'x': os.environ['FSREG_X']}))\n",
        cwd=tmp_path,
        env={"FSREG_X": "y"},
    )
    assert out == {"version": version, "allow": "true", "x": "y"}


@pytest.mark.mlflow
def test_run_mlflow_reports_failures(tmp_path: Path) -> None:
    with pytest.raises(MlflowEnvError, match="boom"):
        run_mlflow(MLFLOW_VERSIONS[0], "raise SystemExit('boom')", cwd=tmp_path)
    with pytest.raises(MlflowEnvError, match="not JSON"):
        run_mlflow(MLFLOW_VERSIONS[0], "print('not json')", cwd=tmp_path)


def test_mlflow_python_fixture_reads_fixture_tree(
    mlflow_python: MlflowPython, tmp_path: Path
) -> None:
    """Real MLflow reads a relocated copy of its own fixture tree (needs the empty dirs)."""
    root = copy_fixture_tree(mlflow_python.version, tmp_path / "mlruns")
    expected = load_expected(mlflow_python.version)
    code = f"""
import json
import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType

client = MlflowClient(tracking_uri={root.as_uri()!r})
exps = client.search_experiments(view_type=ViewType.ALL)
runs = {{}}
for e in exps:
    for r in client.search_runs([e.experiment_id], run_view_type=ViewType.ALL):
        run = client.get_run(r.info.run_id)
        runs[run.info.run_id] = dict(run.data.params)
print(json.dumps({{"version": mlflow.__version__,
                  "experiments": sorted(e.name for e in exps),
                  "runs": runs}}))
"""
    out = mlflow_python.run(code, cwd=tmp_path)
    assert out["version"] == mlflow_python.version
    assert out["experiments"] == sorted(e["name"] for e in expected["experiments"])
    assert out["runs"] == {rid: r["params"] for rid, r in expected["runs"].items()}
    assert os.fspath(mlflow_python) == str(mlflow_python.python)


def test_expected_json_is_strict_json() -> None:
    for version in MLFLOW_VERSIONS:
        text = (fixture_dir(version) / "expected.json").read_text(encoding="utf-8")
        json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))


# -- moto listing: the preloaded S3 server's fast ListObjectsV2 against moto's own -------------


def _listing_key_names() -> list[str]:
    """235 key names chosen to trip up a listing that is not moto's.

    Runs whose names share prefixes (``r1``, ``r10``, ``r1x``, ``r1.5``), keys equal to a
    prefix of other keys (``a`` and ``a/b``, ``e/r1`` and ``e/r1/...``), characters sorting
    just before and after the delimiter (`` !-.`` < ``/`` < ``0``), a directory marker
    (``e/r2/``), an empty segment (``a//b``), hidden index files, spaces and non-ASCII names
    (one of them written both NFC and NFD).
    """
    names = [
        "a", "a/", "a/b", "a/b/c", "a//b", "a.b", "a b", "ab",
        "e", "e/", "e/r1", "e/r1 x", "e/r1!", "e/r1-x", "e/r1.json", "e/r2/",
        "e/.fsreg-index-ab", "e/r1/.fsreg-index-ab", "e/r1/.fsreg-index-ab/inner",
        "e/r1/métrics/ä", "e/r1/m/x", "e/r1/mm", "e/r1/m",
        "with space/x y.txt", ".hidden", "ü/ñ.txt", "日本/語.txt", "😀", "z\u00e9", "ze\u0301", "~",
    ]  # fmt: skip
    for run in ("r0", "r1", "r2", "r3", "r9", "r10", "r11", "r1x", "r1.5", "r100", "r2x", "s"):
        names += [f"e/{run}/metrics/m{i}" for i in range(12)]
        names += [f"e/{run}/params/p {i}" for i in range(3)]
        names += [f"e/{run}/meta.yaml", f"e/{run}/tags/mlflow.runName"]
    return names


def _build_listing_bucket(backend: Any, versioned: bool) -> Any:
    """A bucket of moto ``backend`` holding ``_listing_key_names()``, then overwrites, deletes.

    Versioned, it also holds several versions of some keys, delete markers hiding others (one
    hides the only key under ``gone/``), and an older version made current again.
    """
    name = f"listing-{uuid.uuid4().hex[:16]}"
    backend.create_bucket(name, "us-east-1")
    if versioned:
        backend.put_bucket_versioning(name, "Enabled")
    for i, key in enumerate(_listing_key_names()):
        backend.put_object(name, key, f"body {i}".encode(), disable_notification=True)
    for key in ("a", "e/r1/metrics/m3", "gone/x"):
        backend.put_object(name, key, b"second version", disable_notification=True)
    newest = backend.put_object(name, "e/r3/meta.yaml", b"newest", disable_notification=True)
    for key in ("e/r2/meta.yaml", "gone/x", "e/r1/m"):
        backend.delete_object(name, key)
    if versioned:
        backend.delete_object(name, "e/r3/meta.yaml", version_id=newest.version_id)
        assert type(backend.get_bucket(name).keys["gone/x"]).__name__ == "FakeDeleteMarker"
    return backend.get_bucket(name)


def _stock_and_fast_listing() -> tuple[Any, Any]:
    """(moto's ``S3Backend.list_objects_v2``, the one ``_install_fast_listing`` installs).

    The patch is installed only long enough to pick its function up, then moto is restored:
    nothing else in this test process lists through it.
    """
    from moto.core import serialize
    from moto.s3.models import S3Backend

    stock = S3Backend.list_objects_v2
    assert stock.__module__ == "moto.s3.models", "moto's listing is already patched"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(S3Backend, "list_objects_v2", stock)
        mp.setattr(serialize, "parse_to_aware_datetime", serialize.parse_to_aware_datetime)
        emulators._install_fast_listing()
        fast = S3Backend.list_objects_v2
    assert fast is not stock
    assert S3Backend.list_objects_v2 is stock
    return stock, fast


def _entry(entry: Any) -> tuple[Any, ...]:
    """A listing entry as comparable data: a common prefix, or which version of which key."""
    from moto.s3.models import FakeKey

    if isinstance(entry, str):
        return ("prefix", entry)
    assert isinstance(entry, FakeKey), f"listing returned {entry!r}"
    return ("key", entry.name, entry.version_id, entry.etag, entry.size)


Page = tuple[list[tuple[Any, ...]], bool, str | None]


def _all_pages(
    list_v2: Any,
    backend: Any,
    bucket: Any,
    prefix: str | None,
    delimiter: str | None,
    start_after: str | None,
    max_keys: int,
) -> list[Page]:
    """Every page of one listing: (entries, is_truncated, next continuation token) each.

    Follows the continuation tokens as a client does (repeating StartAfter, as boto's
    paginator does, which the token overrides).
    """
    pages: list[Page] = []
    token = None
    for _ in range(len(bucket.keys) + 2):
        keys, truncated, token = list_v2(
            backend, bucket, prefix, delimiter, token, start_after, max_keys
        )
        pages.append(([_entry(e) for e in keys], truncated, token))
        if not truncated:
            return pages
    raise AssertionError(f"listing did not end after {len(pages)} pages: {pages[-3:]}")


@pytest.mark.parametrize(
    ("prefix", "versioned"),
    [(p, False) for p in ("", "e/", "e/r1", "e/r1/", "a", "nope/")]
    + [(p, True) for p in (None, "e/r1")],
)
def test_fast_moto_listing_pages_equal_moto_listing(prefix: str | None, versioned: bool) -> None:
    """Preloaded S3 servers list through ``_install_fast_listing``: same pages as moto's own.

    Every page of every listing of a grid (prefix x delimiter x StartAfter x MaxKeys), on a
    plain bucket as the benchmark uses and on a versioned one (delete markers, old versions).
    """
    from moto.s3.models import S3Backend

    stock, fast = _stock_and_fast_listing()
    backend = S3Backend("us-east-1", "123456789012")
    try:
        bucket = _build_listing_bucket(backend, versioned)
        for delimiter in (None, "/", "/m"):
            for start_after in (None, "e/r1/", "e/r1/metrics/m3", "~~"):
                whole = _all_pages(stock, backend, bucket, prefix, delimiter, start_after, 10**6)
                assert len(whole) == 1
                for max_keys in (0, 1, 2, 7, 1000):
                    args = (backend, bucket, prefix, delimiter, start_after, max_keys)
                    expected = _all_pages(stock, *args)
                    assert _all_pages(fast, *args) == expected, (
                        f"prefix={prefix!r} delimiter={delimiter!r} "
                        f"start_after={start_after!r} max_keys={max_keys}"
                    )
                    if max_keys:  # the grid compares real pages: they add up to the answer
                        assert [e for page in expected for e in page[0]] == whole[0][0]
                if start_after is None:
                    assert whole[0][0] or prefix == "nope/", "nothing listed: a vacuous grid"
        # A continuation token the server never issued goes to moto's own code: same outcome.
        outcomes: list[Any] = []
        for list_v2 in (stock, fast):
            try:
                outcomes.append(list_v2(backend, bucket, prefix, "/", "unknown", None, 2))
            except Exception as exc:  # moto's own failure, compared below
                outcomes.append(type(exc))
        assert outcomes[0] == outcomes[1]
    finally:
        backend.reset()


def test_fast_moto_listing_survives_a_write_during_the_listing() -> None:
    """The server is threaded, so a PUT of a new key can land while a listing walks the bucket.

    Moto walks a copy of the bucket's key table; a walk over the live table fails with
    "dictionary changed size during iteration" (an HTTP 500, retried by the client). The
    write is made deterministic: a key name whose ``startswith`` (called by the listing on
    every name) writes a new key.
    """
    from moto.s3.models import S3Backend

    stock, fast = _stock_and_fast_listing()
    backend = S3Backend("us-east-1", "123456789012")
    try:
        bucket = _build_listing_bucket(backend, versioned=False)
        new_key = "e/written-during-the-listing"
        armed: list[bool] = []
        fired: list[str] = []

        class KeyNameThatWrites(str):
            def startswith(self, *args: Any) -> bool:
                if armed and not fired:
                    fired.append(new_key)
                    backend.put_object(bucket.name, new_key, b"x", disable_notification=True)
                return super().startswith(*args)

        versions = dict.pop(bucket.keys, "e/r1/meta.yaml")
        dict.__setitem__(bucket.keys, KeyNameThatWrites("e/r1/meta.yaml"), versions)
        before = _all_pages(stock, backend, bucket, "e/", None, None, 1000)
        armed.append(True)
        assert _all_pages(fast, backend, bucket, "e/", None, None, 1000) == before
        assert fired, "the key name's hook did not run: the test proves nothing"
        after = _all_pages(stock, backend, bucket, "e/", None, None, 1000)
        assert ("key", new_key) in {entry[:2] for entry in after[0][0]}
    finally:
        backend.reset()


def test_fast_moto_listing_sorts_a_bucket_once_per_listing_until_it_changes() -> None:
    """The next pages of a listing reuse the names sorted for its first page (a listing of
    840,000 objects in 1,000-key pages would otherwise sort the bucket 840 times), and any
    write to the bucket's key table (a new key, a deleted one, an overwrite) is seen by the
    next page: the pages equal moto's own, before and after each write.

    The walks are counted by a key name whose ``startswith`` (called on every name of a walk)
    counts its calls."""
    from moto.s3.models import S3Backend

    stock, fast = _stock_and_fast_listing()
    backend = S3Backend("us-east-1", "123456789012")
    try:
        bucket = _build_listing_bucket(backend, versioned=False)
        walks: list[int] = []

        class CountingKeyName(str):
            def startswith(self, *args: Any) -> bool:
                walks.append(1)
                return super().startswith(*args)

        versions = dict.pop(bucket.keys, "e/r1/meta.yaml")
        dict.__setitem__(bucket.keys, CountingKeyName("e/r1/meta.yaml"), versions)
        for delimiter in (None, "/"):
            walks.clear()
            pages = _all_pages(fast, backend, bucket, "e/", delimiter, None, 3)
            assert len(pages) > 3, "too few pages to show the sorted names kept"
            assert len(walks) == 1, f"{len(pages)} pages walked the bucket {len(walks)} times"
            assert pages == _all_pages(stock, backend, bucket, "e/", delimiter, None, 3)
        put = functools.partial(backend.put_object, bucket.name, disable_notification=True)
        writes: list[Callable[[], object]] = [
            lambda: put("e/r1/new", b"new key"),
            lambda: backend.delete_object(bucket.name, "e/r10/meta.yaml"),
            lambda: put("e/r3/meta.yaml", b"overwritten"),
        ]
        for write in writes:
            token = fast(backend, bucket, "e/", None, None, None, 7)[2]
            assert token is not None
            walks.clear()
            write()
            rest = []
            while token is not None:
                keys, _truncated, token = fast(backend, bucket, "e/", None, token, None, 7)
                rest += [_entry(e) for e in keys]
            assert len(walks) == 1, "the write was not seen: the bucket was not walked again"
            whole = _all_pages(stock, backend, bucket, "e/", None, None, 10**6)[0][0]
            assert rest == whole[7:]
    finally:
        backend.reset()


# -- emulators started with preload=DIR ----------------------------------------------------------


def _write_preload_tree(root: Path) -> dict[str, dict[str, bytes]]:
    """Write ``root/<bucket>/<key>`` files; return ``{bucket: {key: body}}``."""
    binary = bytes(range(256)) * 3 + b"\x00\r\n\xff"
    trees: dict[str, dict[str, bytes]] = {
        "preload-runs": {
            "empty": b"",
            "bin/blob.bin": binary,
            "with space/ü ñ.txt": "héllo ✓\n".encode(),
            "e/.fsreg-index-ab": b'{"runs": []}\n',
            "e/meta.yaml": b"name: e\n",
            **{
                f"e/r{r}/metrics/m{m}": f"{r} {m} 0.5\n".encode() * (m + 1)
                for r in (1, 2, 10)
                for m in range(4)
            },
            **{f"e/r{r}/meta.yaml": f"run_id: r{r}\n".encode() for r in (1, 2, 10)},
        },
        "preload-models": {
            "models/m/meta.yaml": b"name: m\n",
            "models/m/version-1/meta.yaml": b"version: 1\n",
            "models/m/version-1/model.pkl": binary[::-1],
        },
    }
    for bucket, objects in trees.items():
        for key, body in objects.items():
            path = root / bucket / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(body)
    return trees


def _raw_listing(fs: Any, kind: str, bucket: str) -> list[tuple[str, int, str]]:
    """(key, size, MD5 as the API gives it) of every object, in pages of 5 as the API sends them."""
    listed: list[tuple[str, int, str]] = []
    token: str | None = None
    while True:
        if kind == "s3":
            kwargs = {"ContinuationToken": token} if token else {}
            page = fs.call_s3("list_objects_v2", Bucket=bucket, MaxKeys=5, **kwargs)
            listed += [(o["Key"], o["Size"], o["ETag"]) for o in page.get("Contents", [])]
            token = page.get("NextContinuationToken") if page["IsTruncated"] else None
        else:
            kwargs = {"pageToken": token} if token else {}
            page = fs.call("GET", "b/{}/o", bucket, json_out=True, maxResults=5, **kwargs)
            listed += [(o["name"], int(o["size"]), o["md5Hash"]) for o in page.get("items", [])]
            token = page.get("nextPageToken")
        if token is None:
            return listed


@pytest.mark.parametrize("kind", ["s3", "gcs"])
def test_preloaded_emulator_serves_the_tree(kind: str, tmp_path: Path) -> None:
    """``start_*_server(preload=DIR)``: every file is an object with its bytes, once."""
    trees = _write_preload_tree(tmp_path / "preload")
    start = start_s3_server if kind == "s3" else start_gcs_server
    with start(preload=tmp_path / "preload") as emu:
        fs = emu.filesystem()
        for bucket, objects in trees.items():
            digests = {key: hashlib.md5(body).digest() for key, body in objects.items()}
            if kind == "s3":
                checksums = {key: f'"{d.hex()}"' for key, d in digests.items()}
            else:
                checksums = {key: base64.b64encode(d).decode() for key, d in digests.items()}
            assert _raw_listing(fs, kind, bucket) == [
                (key, len(objects[key]), checksums[key]) for key in sorted(objects)
            ]
            paths = {f"{bucket}/{key}": body for key, body in objects.items()}
            assert fs.cat(list(paths)) == paths
            assert sorted(fs.find(bucket)) == sorted(paths)
        # One level through the delimiter: common prefixes next to objects.
        assert sorted(fs.ls("preload-runs/e", detail=False)) == [
            f"preload-runs/e/{name}" for name in (".fsreg-index-ab", "meta.yaml", "r1", "r10", "r2")
        ]
        for key in ("preload-runs/empty", "preload-runs/e/r10/meta.yaml"):
            with pytest.raises(FileExistsError):
                fs.pipe_file(key, b"overwritten", mode="create")
            assert fs.cat_file(key) == trees["preload-runs"][key.split("/", 1)[1]]
        fs.pipe_file("preload-runs/e/r10/new", b"new", mode="create")
        assert fs.cat_file("preload-runs/e/r10/new") == b"new"
