"""``fsreg models serve``: the real server in a subprocess, real HTTP requests.

A server costs seconds to start, and module-scoped fixtures would be started once per xdist
worker, so each server is started by one test that runs every check against it (the
``check_*`` functions): a scikit-learn model in a local store, the same in the S3 emulator,
and a custom model with params served by two worker processes.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import textwrap
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from conftest import new_bucket_name

import fsregistry
from fsreg_testing.models import FRAME, LABELS, frame, trained_model
from fsreg_testing.serving import FSREG, Response, Server, fluent_store, serve
from fsregistry import Client
from fsregistry import sklearn as fsk

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 64 * 1024  # --max-request-bytes of the test servers


def store_for(backend: str, request: pytest.FixtureRequest, tmp: Path) -> str:
    if backend == "local":
        return str(tmp / "mlruns")
    emu = request.getfixturevalue(f"{backend}_emulator")
    return f"{emu.make_bucket(new_bucket_name())}/mlruns"


EXPECTED = [int(x) for x in trained_model().predict(frame())]


# ----------------------------------------------------------------------------- sklearn server
@pytest.fixture(params=["local", "s3"])
def sk_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Server]:
    """A LogisticRegression registered as ``clf`` (alias ``champion``) in a local store or in
    the S3 emulator, served from its ``models:/`` URI."""
    tmp = tmp_path
    store = store_for(request.param, request, tmp)
    with fluent_store(store), fsregistry.start_run():
        info = fsk.log_model(
            trained_model(), name="model", input_example=frame()[:2], registered_model_name="clf"
        )
    version = info.registered_model_version
    Client(tracking_uri=store).set_registered_model_alias("clf", "champion", version)
    uri = "models:/clf@champion" if request.param == "local" else f"models:/clf/{version}"
    yield from serve(uri, tmp, "--max-request-bytes", str(LIMIT), tracking_uri=store)


def check_default_host_is_loopback(sk_server: Server) -> None:
    assert f"on http://127.0.0.1:{sk_server.port} " in sk_server.log_text()


def check_ping_health_version(sk_server: Server) -> None:
    for path in ("/ping", "/health"):
        r = sk_server.request("GET", path)
        assert (r.status, r.body, r.headers["content-type"]) == (200, b"\n", "application/json")
    r = sk_server.request("GET", "/version")
    assert (r.status, r.body.decode()) == (200, fsregistry.__version__)
    r = sk_server.request("HEAD", "/ping")
    assert (r.status, r.body) == (200, b"")


def check_json_formats(sk_server: Server) -> None:
    rows = [list(r) for r in zip(FRAME["f1"], FRAME["f2"], strict=True)]
    records = [{"f1": f1, "f2": f2} for f1, f2 in rows]
    bodies = [
        {"dataframe_split": {"columns": ["f1", "f2"], "data": rows}},
        {"dataframe_split": {"columns": ["f1", "f2"], "data": rows, "index": list(range(8))}},
        {"dataframe_records": records},
        {"instances": records},
        {"inputs": FRAME},
        {"dataframe_records": records, "params": {}},
    ]
    for body in bodies:
        r = sk_server.post(body)
        assert (r.status, r.json()) == (200, {"predictions": EXPECTED}), (body, r.body)
        assert r.headers["content-type"] == "application/json"
    r = sk_server.post(bodies[0], content_type="application/json; charset=UTF-8")
    assert r.json() == {"predictions": EXPECTED}


def check_csv(sk_server: Server) -> None:
    csv = frame().to_csv(index=False).encode()
    r = sk_server.post(csv, content_type="text/csv")
    assert (r.status, r.json()) == (200, {"predictions": EXPECTED})
    r = sk_server.post(csv, content_type="text/csv; charset=utf-8")
    assert r.json() == {"predictions": EXPECTED}


def check_wrong_schema_is_mlflows_400(sk_server: Server) -> None:
    r = sk_server.post({"dataframe_records": [{"f1": 0.1}]})
    assert r.status == 400 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert body["message"].startswith("Failed to predict data")
    assert "missing inputs ['f2']" in body["message"]
    r = sk_server.post({"dataframe_records": [{"f1": 0.1, "f2": "abc"}]})
    assert r.status == 400 and r.json()["error_code"] in ("INVALID_PARAMETER_VALUE", "BAD_REQUEST")
    assert "f2" in r.json()["message"]
    r = sk_server.post(b"f1\n0.5\n", content_type="text/csv")
    assert r.status == 400 and "missing inputs ['f2']" in r.json()["message"]


def check_bad_json_and_bad_shapes_are_400(sk_server: Server) -> None:
    cases: list[bytes] = [
        b"{not json",
        b"",
        b"[1, 2]",
        b'{"columns": ["f1"]}',  # no format key: MLflow 1.x style
        b'{"inputs": [[1]], "instances": [[1]]}',
        b'{"dataframe_split": {"columns": ["f1", "f2"], "data": [[1, 2]], "extra": 1}}',
        b'{"inputs": {"f1": [0.1]}, "params": [1]}',
        b"\xff\xfe",
    ]
    for body in cases:
        r = sk_server.post(body)
        assert r.status == 400, (body, r.status, r.body)
        assert r.json()["error_code"] == "BAD_REQUEST", (body, r.body)
        assert r.json()["message"]
    r = sk_server.post(b'f1,f2\n"unclosed,1\n', content_type="text/csv")
    assert r.status == 400 and r.json()["error_code"] == "BAD_REQUEST"


def check_unsupported_content_types_are_415(sk_server: Server) -> None:
    body = json.dumps({"inputs": FRAME}).encode()
    for ctype, fragment in [
        ("text/plain", "only supports the following content types"),
        ("application/x-www-form-urlencoded", "Got 'application/x-www-form-urlencoded'"),
        ("application/json; charset=latin-1", "only supports UTF-8"),
        ("application/json; format=pandas-split", "Unrecognized content type parameters: format"),
    ]:
        r = sk_server.post(body, content_type=ctype)
        assert r.status == 415, (ctype, r.body)
        assert r.headers["content-type"].startswith("text/plain")
        assert fragment in r.body.decode(), (ctype, r.body)
    r = sk_server.request("POST", "/invocations", body=body)  # no Content-Type at all
    assert r.status == 415


def check_errors_contain_mlflows_text(sk_server: Server) -> None:
    """Error answers carry MLflow's scoring-server text (mlflow/pyfunc/scoring_server)."""
    error = "Error: 'UnicodeDecodeError('utf-8', b'\\xff\\xfe', 0, 1, 'invalid start byte')'"
    for ctype, message in [
        (
            "application/json",
            f"Invalid input. Ensure that input is a valid JSON formatted string. {error}\n"
            "Input: \nb'\\xff\\xfe'\n",
        ),
        ("text/csv", f"Invalid input. Ensure that input is a valid UTF-8 encoded string. {error}"),
    ]:
        r = sk_server.post(b"\xff\xfe", content_type=ctype)
        assert r.json() == {"error_code": "BAD_REQUEST", "message": message}
        assert r.status == 400
    r = sk_server.post(b"{}", content_type="application/json; format=pandas-split")
    assert r.status == 415
    assert r.body.decode().startswith(
        "Unrecognized content type parameters: format. IMPORTANT: The MLflow Model scoring "
        "protocol has changed in MLflow version 2.0. If you are seeing this error, you are "
        "likely using an outdated scoring request format."
    ), r.body


def check_unknown_path_and_wrong_method(sk_server: Server) -> None:
    r = sk_server.request("GET", "/nope")
    assert (r.status, r.json()) == (404, {"detail": "Not Found"})
    r = sk_server.request("GET", "/invocations")
    assert (r.status, r.json(), r.headers["allow"]) == (
        405,
        {"detail": "Method Not Allowed"},
        "POST",
    )
    r = sk_server.request("POST", "/ping", body=b"")
    assert (r.status, r.headers["allow"]) == (405, "GET, HEAD")


def _padded(size: int) -> bytes:
    """A valid request body of exactly ``size`` bytes (JSON allows trailing spaces)."""
    body = json.dumps({"inputs": FRAME}).encode()
    return body + b" " * (size - len(body))


def check_request_size_limit(sk_server: Server) -> None:
    assert sk_server.post(_padded(LIMIT)).json() == {"predictions": EXPECTED}
    r = sk_server.post(_padded(LIMIT + 1))
    assert r.status == 413 and r.json()["error_code"] == "BAD_REQUEST"
    assert f"larger than the limit of {LIMIT} bytes" in r.json()["message"]
    # 4 MiB announced by Content-Length: refused before the body is read
    r = sk_server.post(_padded(4 * 1024 * 1024))
    assert r.status == 413 and str(4 * 1024 * 1024) in r.json()["message"]
    # chunked (no Content-Length): refused as soon as the limit is passed
    chunks = [_padded(LIMIT // 2)] + [b" " * 4096] * 64
    r = sk_server.request(
        "POST", "/invocations", body=iter(chunks), headers={"Content-Type": "application/json"}
    )
    assert r.status == 413 and r.json()["error_code"] == "BAD_REQUEST"
    assert sk_server.request("GET", "/ping").status == 200


def check_concurrent_clients(sk_server: Server) -> None:
    def client(i: int) -> list[tuple[int, Any, list[int]]]:
        conn = http.client.HTTPConnection("127.0.0.1", sk_server.port, timeout=60)
        out = []
        try:
            for j in range(20):
                rows = [(i + j + k) % len(LABELS) for k in range(1 + (i + j) % 4)]
                body = {
                    "dataframe_records": [
                        {"f1": FRAME["f1"][r], "f2": FRAME["f2"][r]} for r in rows
                    ]
                }
                r = sk_server.post(body, conn=conn)
                out.append((r.status, r.json(), [EXPECTED[r_] for r_ in rows]))
        finally:
            conn.close()
        return out

    with ThreadPoolExecutor(8) as pool:
        results = [x for batch in pool.map(client, range(8)) for x in batch]
    assert len(results) == 160
    for status, body, expected in results:
        assert (status, body) == (200, {"predictions": expected})


def test_sklearn_model_from_store(sk_server: Server) -> None:
    """The whole protocol against one server (local store, then the S3 emulator)."""
    check_default_host_is_loopback(sk_server)
    check_ping_health_version(sk_server)
    check_json_formats(sk_server)
    check_csv(sk_server)
    check_wrong_schema_is_mlflows_400(sk_server)
    check_bad_json_and_bad_shapes_are_400(sk_server)
    check_unsupported_content_types_are_415(sk_server)
    check_errors_contain_mlflows_text(sk_server)
    check_unknown_path_and_wrong_method(sk_server)
    check_request_size_limit(sk_server)
    check_concurrent_clients(sk_server)


# ----------------------------------------------------------------------------- params + workers
SCALED_MODEL_CODE = '''
"""A custom model for the serving tests: y = f1 * scale, and the pid that answered."""
import os
import time

import pandas as pd

from fsregistry.pyfunc import PythonModel


class ScaledModel(PythonModel):
    def predict(self, context, model_input, params=None):
        params = params or {}
        wait_for = params.get("wait_for") or ""
        deadline = time.monotonic() + 60
        while wait_for and not os.path.exists(wait_for) and time.monotonic() < deadline:
            time.sleep(0.01)
        return pd.DataFrame({"y": model_input["f1"] * params.get("scale", 1.0), "pid": os.getpid()})
'''
TIMEOUT = 5


@pytest.fixture
def params_server(tmp_path: Path) -> Iterator[Server]:
    """A custom model with a params schema, served by two workers from its ``runs:/`` URI."""
    import pandas as pd

    tmp = tmp_path
    code = tmp / "scaled_model.py"
    code.write_text(textwrap.dedent(SCALED_MODEL_CODE))
    sys.path.insert(0, str(tmp))
    try:
        import scaled_model  # type: ignore[import-not-found]

        example = (pd.DataFrame({"f1": [0.5, 1.0]}), {"scale": 1.0, "wait_for": ""})
        with fluent_store(str(tmp / "mlruns")), fsregistry.start_run():
            info = fsregistry.pyfunc.log_model(
                name="scaled",
                python_model=scaled_model.ScaledModel(),
                code_paths=[str(code)],
                input_example=example,
            )
    finally:
        sys.path.remove(str(tmp))
        sys.modules.pop("scaled_model", None)
    yield from serve(
        info.model_uri,
        tmp,
        "--workers",
        "2",
        "--timeout",
        str(TIMEOUT),
        tracking_uri=str(tmp / "mlruns"),
    )


def _ys(r: Response) -> list[float]:
    assert r.status == 200, r.body
    return [p["y"] for p in r.json()["predictions"]]


def check_params(params_server: Server) -> None:
    data = {"f1": [1.0, 2.5]}
    assert _ys(params_server.post({"inputs": data})) == [1.0, 2.5]
    assert _ys(params_server.post({"inputs": data, "params": {"scale": 2.0}})) == [2.0, 5.0]
    split = {"dataframe_split": {"columns": ["f1"], "data": [[3.0]]}, "params": {"scale": 3}}
    assert _ys(params_server.post(split)) == [9.0]
    r = params_server.post({"inputs": data, "params": {"scale": "big"}})
    assert r.status == 400 and r.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "scale" in r.json()["message"]


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(x) for x in (task / "children").read_text().split()]
    return kids


def check_two_workers_answer_concurrent_clients(params_server: Server) -> None:
    workers = [
        pid
        for pid in _children(params_server.proc.pid)
        if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    assert len(workers) == 2, params_server.log_text()

    def client(i: int) -> list[tuple[list[float], list[float], int]]:
        out = []
        for j in range(20):
            values = [float(i), float(j)]
            r = params_server.post({"inputs": {"f1": values}, "params": {"scale": 2.0}})
            out.append((_ys(r), [v * 2 for v in values], r.json()["predictions"][0]["pid"]))
        return out

    with ThreadPoolExecutor(8) as pool:
        results = [x for batch in pool.map(client, range(8)) for x in batch]
    assert len(results) == 160
    assert all(got == want for got, want, _ in results)
    assert {pid for _, _, pid in results} <= set(workers)


def check_ping_answers_while_a_prediction_runs(params_server: Server, tmp_path: Path) -> None:
    release = tmp_path / "release"
    # Pin both workers: one request each that waits for the release file (a worker can take
    # both, then the pings below are answered by the other one or by the same event loop).
    body = {"inputs": {"f1": [1.0]}, "params": {"wait_for": str(release)}}
    with ThreadPoolExecutor(2) as pool:
        pending = [pool.submit(params_server.post, body) for _ in range(2)]
        time.sleep(0.3)
        for _ in range(5):
            assert params_server.request("GET", "/ping").status == 200
        assert not any(f.done() for f in pending)
        release.touch()
        assert [_ys(f.result()) for f in pending] == [[1.0], [1.0]]


def check_slow_prediction_times_out_with_504(params_server: Server, tmp_path: Path) -> None:
    release = tmp_path / "never"
    r = params_server.post({"inputs": {"f1": [1.0]}, "params": {"wait_for": str(release)}})
    release.touch()  # let the abandoned prediction thread finish
    assert r.status == 504 and r.json()["error_code"] == "DEADLINE_EXCEEDED"
    assert f"({TIMEOUT} s)" in r.json()["message"]


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts workers in /proc")
def test_custom_model_with_params_on_two_workers(params_server: Server, tmp_path: Path) -> None:
    check_params(params_server)
    check_two_workers_answer_concurrent_clients(params_server)
    check_ping_answers_while_a_prediction_runs(params_server, tmp_path)
    check_slow_prediction_times_out_with_504(params_server, tmp_path)


# ----------------------------------------------------------------------------- virtualenv
@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/cmdline").is_file(), reason="reads /proc (Linux)")
def test_serve_in_the_models_virtualenv(tmp_path: Path) -> None:
    """``--env-manager virtualenv``: the model's environment is built (from the package index,
    minutes) and the server process becomes that environment's Python."""
    store = str(tmp_path / "mlruns")
    with fluent_store(store), fsregistry.start_run():
        fsk.log_model(trained_model(), name="model", registered_model_name="clf")
    env_root = tmp_path / "envs"
    servers = serve(
        "models:/clf/1",
        tmp_path,
        "--env-manager",
        "virtualenv",
        tracking_uri=store,
        env={"FSREG_ENV_ROOT": str(env_root)},
        ready_within=1500,
    )
    server = next(servers)
    try:
        python = Path(f"/proc/{server.proc.pid}/cmdline").read_bytes().split(b"\0")[0]
        assert Path(python.decode()).is_relative_to(env_root), python
        body = {"dataframe_split": {"columns": ["f1", "f2"], "data": [[0.1, 1], [1.5, 1]]}}
        r = server.post(body)
        assert (r.status, r.json()) == (200, {"predictions": [EXPECTED[0], EXPECTED[5]]})
        assert server.request("GET", "/version").body.decode() == fsregistry.__version__
    finally:
        servers.close()


# ----------------------------------------------------------------------------- CLI and setup
def test_serve_errors_are_one_line(tmp_path: Path) -> None:
    cases = [
        ["-m", str(tmp_path / "no-model")],
        ["-m", str(tmp_path), "--env-manager", "conda"],
    ]
    for args in cases:
        proc = subprocess.run(
            [FSREG, "models", "serve", *args], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 1, (args, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, proc.stderr)


def test_missing_uvicorn_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from fsregistry.exceptions import InvalidState
    from fsregistry.serving.server import import_uvicorn

    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(InvalidState, match=r"pip install 'fsregistry\[serve\]'"):
        import_uvicorn()


def test_serve_requirements_match_the_extra() -> None:
    from fsregistry.serving.server import SERVE_REQUIREMENTS

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert extras["serve"] == list(SERVE_REQUIREMENTS)
    assert set(SERVE_REQUIREMENTS) <= set(extras["test"])


def test_bad_limits_are_rejected() -> None:
    from fsregistry.exceptions import InvalidParameterValue
    from fsregistry.serving.app import ScoringApp
    from fsregistry.serving.server import ServerOptions, run

    with pytest.raises(InvalidParameterValue, match="max_request_bytes"):
        ScoringApp(object(), max_request_bytes=0)
    with pytest.raises(InvalidParameterValue, match="port"):
        ServerOptions(port=70000).check()
    with pytest.raises(InvalidParameterValue, match="workers"):
        ServerOptions(workers=0).check()
    with pytest.raises(InvalidParameterValue, match=r"^env_manager='conda' is not supported"):
        run("models:/x/1", ServerOptions(), env_manager="conda")
