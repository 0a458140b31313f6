"""The scoring server under abuse and load: malformed bodies, huge bodies and heads, slow
clients, slow models, and 1,280 requests from 32 concurrent clients.

Every test starts its own ``fsreg models serve`` on a free 127.0.0.1 port and stops it at the
end; every request loop is bounded in count and time. Memory is the server process's
``VmRSS`` and peak ``VmHWM`` (``/proc/<pid>/status``), read before and after. The numbers in
README.md's "Scoring server limits" come from these tests (``pytest -s`` prints them).
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import fsregistry
from fsreg_testing.models import FRAME, frame, trained_model
from fsreg_testing.serving import Response, Server, fluent_store, memory, serve
from fsregistry import sklearn as fsk

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").is_file(), reason="reads server memory from /proc (Linux)"
)

LIMIT = 1024 * 1024  # --max-request-bytes of these servers
TIMEOUT = 3  # --timeout of the slow-client server
MiB = 1024 * 1024
ROWS = [{"f1": f1, "f2": f2} for f1, f2 in zip(FRAME["f1"], FRAME["f2"], strict=True)]
EXPECTED = [int(x) for x in trained_model().predict(frame())]
VALID = {"dataframe_records": ROWS}


def report(name: str, **numbers: Any) -> None:
    """One line of measured numbers (shown by ``pytest -s``; quoted in README.md)."""
    print(f"\n[{name}] " + ", ".join(f"{k}={v}" for k, v in numbers.items()))


def assert_healthy(server: Server) -> None:
    """``/ping`` answers, a valid request is predicted right, and no request crashed the app."""
    assert server.request("GET", "/ping").status == 200
    r = server.post(VALID)
    assert (r.status, r.json()) == (200, {"predictions": EXPECTED}), r.body
    log = server.log_text()
    assert "Exception in ASGI application" not in log, log
    assert "Internal Server Error" not in log, log


@pytest.fixture
def sk_server(tmp_path: Path) -> Iterator[Server]:
    """A LogisticRegression in a local store, served from its ``runs:/`` URI."""
    store = str(tmp_path / "mlruns")
    with fluent_store(store), fsregistry.start_run():
        info = fsk.log_model(trained_model(), name="model", input_example=frame()[:2])
    yield from serve(
        info.model_uri,
        tmp_path,
        "--max-request-bytes",
        str(LIMIT),
        "--timeout",
        str(TIMEOUT),
        tracking_uri=store,
    )


# ----------------------------------------------------------------------------- raw sockets
def connect(port: int, timeout: float = 10) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def head(headers: dict[str, str], path: str = "/invocations") -> bytes:
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_response(sock: socket.socket) -> Response:
    """The next HTTP response on ``sock`` (``100 Continue`` would be skipped)."""
    resp = http.client.HTTPResponse(sock, method="POST")
    try:
        resp.begin()
        data = resp.read()
    finally:
        resp.close()
    return Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """Whether the server closes ``sock`` within ``within`` seconds (bytes still arriving are
    read and dropped)."""
    deadline = time.monotonic() + within
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return True
        except (ConnectionResetError, BrokenPipeError):
            return True
        except TimeoutError:
            return False
    return False


def assert_json_error(r: Response, status: int, fragment: str = "") -> None:
    assert r.status == status, (r.status, r.body)
    assert r.headers["content-type"] == "application/json", r.headers
    body = r.json()
    assert set(body) == {"error_code", "message"}, body
    assert body["error_code"] == "BAD_REQUEST" and fragment in body["message"], body


# ----------------------------------------------------------------------------- malformed bodies
JSON = "application/json"
CSV = "text/csv"
MALFORMED: list[tuple[str, bytes, str]] = [
    # invalid JSON
    ("truncated JSON", b'{"dataframe_records": [{"f1": 0.1', JSON),
    ("not JSON", b"{not json", JSON),
    ("trailing garbage", json.dumps(VALID).encode() + b"}", JSON),
    ("NUL bytes", b"\x00\x00\x00", JSON),
    ("UTF-8 BOM", b"\xef\xbb\xbf" + json.dumps(VALID).encode(), JSON),
    ("nesting 100,000 deep", b"[" * 100_000 + b"]" * 100_000, JSON),
    ("5,000-digit integer", b'{"inputs": {"f1": [0.1], "f2": [1' + b"0" * 5000 + b"]}}", JSON),
    # wrong top-level keys or shapes
    ("empty object", b"{}", JSON),
    ("unknown key only", b'{"columns": ["f1", "f2"], "data": [[0.1, 1]]}', JSON),
    ("two format keys", b'{"inputs": [[1]], "instances": [[1]]}', JSON),
    ("top-level list", b"[1, 2]", JSON),
    ("top-level string", b'"dataframe_records"', JSON),
    ("top-level null", b"null", JSON),
    # wrong types
    ("dataframe_split null", b'{"dataframe_split": null}', JSON),
    ("dataframe_split list", b'{"dataframe_split": [[0.1, 1]]}', JSON),
    ("split data not rows", b'{"dataframe_split": {"columns": ["f1", "f2"], "data": 3}}', JSON),
    ("split extra key", b'{"dataframe_split": {"columns": ["f1"], "data": [[1]], "x": 1}}', JSON),
    (
        "split index a string",
        b'{"dataframe_split": {"columns": ["f1", "f2"], "data": [[0.1, 1]], "index": "x"}}',
        JSON,
    ),
    ("records a dict", b'{"dataframe_records": {"f1": 0.1, "f2": 1}}', JSON),
    ("records null", b'{"dataframe_records": null}', JSON),
    ("a column of dicts", b'{"dataframe_records": [{"f1": {"a": 1}, "f2": 1}]}', JSON),
    ("a column of strings", b'{"dataframe_records": [{"f1": "abc", "f2": 1}]}', JSON),
    (
        "a long too large",
        b'{"inputs": {"f1": [0.1], "f2": [123456789012345678901234567890]}}',
        JSON,
    ),
    ("params a list", b'{"inputs": {"f1": [0.1], "f2": [1]}, "params": [1]}', JSON),
    ("params a string", b'{"inputs": {"f1": [0.1], "f2": [1]}, "params": "x"}', JSON),
    ("missing column", b'{"dataframe_records": [{"f1": 0.1}]}', JSON),
    ("no rows", b'{"dataframe_records": []}', JSON),
    # empty body, non-UTF-8
    ("empty JSON body", b"", JSON),
    ("empty CSV body", b"", CSV),
    (
        "latin-1 JSON",
        '{"dataframe_records": [{"f1": 0.1, "f2": 1, "é": 1}]}'.encode("latin-1"),
        JSON,
    ),
    ("invalid UTF-8", b"\xff\xfe\xfd", JSON),
    ("invalid UTF-8 CSV", b"f1,f2\n\xff,1\n", CSV),
    # invalid CSV
    ("unclosed quote", b'f1,f2\n"0.1,1\n', CSV),
    ("letters in numbers", b"f1,f2\nabc,def\n", CSV),
    ("header only", b"f1,f2\n", CSV),
    ("missing field", b"f1,f2\n0.1\n", CSV),
    ("CSV overflow", b"f1,f2\n0.1," + b"9" * 60 + b"\n", CSV),
    ("JSON sent as CSV", json.dumps(VALID).encode(), CSV),
]


def test_malformed_bodies_are_4xx_json_and_the_server_keeps_answering(sk_server: Server) -> None:
    # All on one keep-alive connection: an error must not break the connection either.
    conn = http.client.HTTPConnection("127.0.0.1", sk_server.port, timeout=30)
    try:
        for i, (name, body, ctype) in enumerate(MALFORMED):
            r = sk_server.post(body, content_type=ctype, conn=conn)
            assert 400 <= r.status < 500, (name, r.status, r.body)
            assert r.headers["content-type"] == "application/json", (name, r.headers)
            answer = r.json()
            assert answer["error_code"] in ("BAD_REQUEST", "INVALID_PARAMETER_VALUE"), (
                name,
                answer,
            )
            assert isinstance(answer["message"], str) and answer["message"], (name, answer)
            if i % 5 == 4:  # and valid requests are still answered, on the same connection
                r = sk_server.post(VALID, conn=conn)
                assert r.json() == {"predictions": EXPECTED}, (name, r.body)
    finally:
        conn.close()
    # Wrong content types: 415 with MLflow's text/plain body (as MLflow's server answers).
    body = json.dumps(VALID).encode()
    for ctype in ["text/plain", "application/xml", "multipart/form-data; boundary=x", ""]:
        r = sk_server.post(body, content_type=ctype)
        assert r.status == 415 and r.headers["content-type"].startswith("text/plain"), ctype
    # Broken HTTP is uvicorn's plain 400 (the app never sees it), then the connection closes.
    for garbage in [b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 8, b"GET / HTTP/9.9\r\n\r\n"]:
        with connect(sk_server.port) as sock:
            sock.sendall(garbage)
            assert read_response(sock).status == 400
            assert closed_by_server(sock, within=5)
    # A body shorter than its Content-Length, then the client leaves: nothing to answer.
    with connect(sk_server.port) as sock:
        sock.sendall(head({"Content-Type": JSON, "Content-Length": "100"}) + b'{"inputs"')
    assert_healthy(sk_server)


# ----------------------------------------------------------------------------- huge bodies
@dataclass
class Upload:
    """What a client pushing an over-limit body saw: the answer, and how much the server let
    it send before closing the connection."""

    response: Response | None
    sent: int
    seconds: float
    closed: bool


def push(port: int, headers: dict[str, str], chunked: bool, total: int) -> Upload:
    """Send a request head, then up to ``total`` body bytes in 1 MiB blocks (for at most 20 s)
    while another thread reads the answer: as a client that does not wait for the server."""
    block = b" " * MiB
    frame_ = b"%x\r\n%s\r\n" % (len(block), block) if chunked else block
    answer: list[Response] = []
    with connect(port, timeout=20) as sock:
        sock.sendall(head(headers))
        reader = threading.Thread(target=lambda: answer.append(read_response(sock)), daemon=True)
        reader.start()
        sent, closed, start = 0, False, time.monotonic()
        try:
            while sent < total and time.monotonic() - start < 20:
                sock.sendall(frame_)
                sent += len(block)
        except (BrokenPipeError, ConnectionResetError):
            closed = True
        seconds = time.monotonic() - start
        reader.join(timeout=10)
    return Upload(answer[0] if answer else None, sent, seconds, closed)


def test_huge_bodies_and_heads_are_refused_without_reading_them(sk_server: Server) -> None:
    assert_healthy(sk_server)  # loads what the first request loads, before measuring
    before = memory(sk_server.proc.pid)
    gib = 1024 * MiB
    declared = {"Content-Type": JSON, "Content-Length": str(gib)}
    chunked = {"Content-Type": JSON, "Transfer-Encoding": "chunked"}
    # 8 clients at once, each trying to send 1 GiB: 4 declared, 4 chunked.
    cases = [(declared, False), (chunked, True)] * 4
    with ThreadPoolExecutor(len(cases)) as pool:
        uploads = list(pool.map(lambda case: push(sk_server.port, *case, gib), cases))
    for up in uploads:
        assert up.response is not None, up
        assert_json_error(up.response, 413, f"larger than the limit of {LIMIT} bytes")
        assert up.response.headers["connection"] == "close"
        # The server read at most the limit + 16 MiB (the drain), then closed the connection;
        # the rest of what the client got to send sat in the two sockets' buffers.
        assert up.closed and up.sent < 64 * MiB, up
    # A declared size over the limit with "Expect: 100-continue": 413 instead of "100
    # Continue", and the connection is closed at once (the client sends no body).
    with connect(sk_server.port) as sock:
        sock.sendall(head({**declared, "Expect": "100-continue"}))
        first = sock.recv(64)
        assert first.startswith(b"HTTP/1.1 413 "), first
        assert closed_by_server(sock, within=2)
    # A body just over the limit, sent whole by a client that reads only afterwards
    # (http.client): it gets the 413, not a reset connection.
    r = sk_server.post(b" " * (LIMIT + 4 * MiB))
    assert_json_error(r, 413, f"({LIMIT + 4 * MiB} bytes)")
    # Request heads: 1 GiB of headers, or one header 1 GiB long, are refused with 431.
    many = (b"X-Pad: " + b"a" * 8000 + b"\r\n") * 128
    for start, unit in [
        (b"POST /invocations HTTP/1.1\r\nHost: x\r\n", many),
        (b"POST /invocations HTTP/1.1\r\nX-Big: ", b"a" * MiB),
    ]:
        with connect(sk_server.port) as sock:
            sock.sendall(start)
            sent = 0
            try:
                while sent < gib:
                    sock.sendall(unit)
                    sent += len(unit)
            except (BrokenPipeError, ConnectionResetError):
                pass
            assert sent < 64 * MiB, sent
            assert_json_error(read_response(sock), 431, "larger than the limit of 65536 bytes")
    after = memory(sk_server.proc.pid)
    report(
        "huge",
        clients=8,
        attempted_mib=8 * 1024,
        max_sent_mib=max(up.sent for up in uploads) // MiB,
        max_seconds=round(max(up.seconds for up in uploads), 2),
        rss_before_mib=before.rss_kib // 1024,
        rss_after_mib=after.rss_kib // 1024,
        peak_before_mib=before.peak_kib // 1024,
        peak_after_mib=after.peak_kib // 1024,
    )
    assert after.peak_kib - before.peak_kib < 32 * 1024, (before, after)
    assert_healthy(sk_server)


# ----------------------------------------------------------------------------- slow clients
def trickle(sock: socket.socket, data: bytes, every: float, stop: threading.Event) -> None:
    """Send ``data`` one byte every ``every`` seconds until done, stopped or disconnected."""
    try:
        for byte in data:
            if stop.wait(every):
                return
            sock.sendall(bytes([byte]))
    except OSError:
        return


def test_slow_clients_do_not_block_others_and_are_timed_out(sk_server: Server) -> None:
    body_head = head({"Content-Type": JSON, "Content-Length": "1000"})
    stop = threading.Event()
    kinds: dict[str, list[socket.socket]] = {
        k: [] for k in ("body", "trickle", "head", "head-trickle", "idle")
    }
    threads: list[threading.Thread] = []
    try:
        for _ in range(4):  # headers, 10 body bytes of 1,000, then nothing
            sock = connect(sk_server.port)
            sock.sendall(body_head + b'{"inputs":')
            kinds["body"].append(sock)
        for _ in range(4):  # headers, then the body at 10 bytes/s (100 s for all of it)
            sock = connect(sk_server.port)
            sock.sendall(body_head)
            threads.append(threading.Thread(target=trickle, args=(sock, b" " * 1000, 0.1, stop)))
            kinds["trickle"].append(sock)
        for _ in range(4):  # half a head, then nothing
            sock = connect(sk_server.port)
            sock.sendall(b"POST /invocations HTTP/1.1\r\nHost: 127.")
            kinds["head"].append(sock)
        for _ in range(4):  # a head at 10 bytes/s, never ending
            sock = connect(sk_server.port)
            sock.sendall(b"POST /invocations HTTP/1.1\r\n")
            threads.append(
                threading.Thread(target=trickle, args=(sock, b"X-Slow: " + b"a" * 1000, 0.1, stop))
            )
            kinds["head-trickle"].append(sock)
        for _ in range(4):  # connected, never a byte
            kinds["idle"].append(connect(sk_server.port))
        started = time.monotonic()
        for t in threads:
            t.start()
        # While the 20 slow clients hold their connections, others are answered at once.
        latencies = []
        while time.monotonic() - started < TIMEOUT - 1:
            t0 = time.monotonic()
            assert sk_server.request("GET", "/ping").status == 200
            r = sk_server.post(VALID)
            assert r.json() == {"predictions": EXPECTED}
            latencies.append(time.monotonic() - t0)
        assert len(latencies) >= 10 and max(latencies) < 1.0, latencies
        # Then every slow client is answered 408 and disconnected, within the timeout.
        for kind in ("body", "trickle", "head", "head-trickle"):
            for sock in kinds[kind]:
                sock.settimeout(TIMEOUT + 5)
                assert_json_error(
                    read_response(sock), 408, "did not arrive within the request timeout"
                )
                assert closed_by_server(sock, within=5), kind
        for sock in kinds["idle"]:
            assert closed_by_server(sock, within=TIMEOUT + 5)
        waited = time.monotonic() - started
        assert waited < TIMEOUT + 3, waited
        report(
            "slow",
            slow_clients=20,
            ping_and_predict_pairs=len(latencies),
            max_pair_ms=round(max(latencies) * 1000),
            all_timed_out_after_s=round(waited, 1),
        )
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=5)
        for socks in kinds.values():
            for sock in socks:
                sock.close()
    assert_healthy(sk_server)


# ----------------------------------------------------------------------------- timeouts
SLEEPY_MODEL_CODE = '''
"""A custom model for the timeout test: y = f1 * 10 + f2, after sleeping params["sleep"] s."""
import time

from fsregistry.pyfunc import PythonModel


class SleepyModel(PythonModel):
    def predict(self, context, model_input, params=None):
        time.sleep((params or {}).get("sleep", 0.0))
        return (model_input["f1"] * 10 + model_input["f2"]).tolist()
'''
PREDICT_TIMEOUT = 1


@pytest.fixture
def sleepy_server(tmp_path: Path) -> Iterator[Server]:
    import pandas as pd

    code = tmp_path / "sleepy_model.py"
    code.write_text(textwrap.dedent(SLEEPY_MODEL_CODE))
    sys.path.insert(0, str(tmp_path))
    try:
        import sleepy_model  # type: ignore[import-not-found]

        example = (pd.DataFrame({"f1": [0.5], "f2": [1]}), {"sleep": 0.0})
        store = str(tmp_path / "mlruns")
        with fluent_store(store), fsregistry.start_run():
            info = fsregistry.pyfunc.log_model(
                name="sleepy",
                python_model=sleepy_model.SleepyModel(),
                code_paths=[str(code)],
                input_example=example,
            )
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("sleepy_model", None)
    yield from serve(
        info.model_uri, tmp_path, "--timeout", str(PREDICT_TIMEOUT), tracking_uri=store
    )


def sleepy_request(server: Server, sleep: float, f1: float = 0.5) -> tuple[Response, float]:
    t0 = time.monotonic()
    r = server.post({"inputs": {"f1": [f1], "f2": [1]}, "params": {"sleep": sleep}})
    return r, time.monotonic() - t0


def test_slow_predictions_are_504_and_the_server_recovers(sleepy_server: Server) -> None:
    assert sleepy_request(sleepy_server, 0)[0].json() == {"predictions": [6.0]}
    # 3 predictions sleeping 4 s at once, against a 1 s timeout.
    started = time.monotonic()
    with ThreadPoolExecutor(3) as pool:
        slow = [pool.submit(sleepy_request, sleepy_server, 4.0) for _ in range(3)]
        time.sleep(0.3)
        for _ in range(5):  # /ping answers while they run
            t0 = time.monotonic()
            assert sleepy_server.request("GET", "/ping").status == 200
            assert time.monotonic() - t0 < 0.5
        results = [f.result(timeout=30) for f in slow]
    for r, seconds in results:
        assert r.status == 504 and r.headers["content-type"] == "application/json", r.body
        assert r.json() == {
            "error_code": "DEADLINE_EXCEEDED",
            "message": f"Request processing time exceeded limit ({PREDICT_TIMEOUT} s)",
        }
        assert PREDICT_TIMEOUT <= seconds < PREDICT_TIMEOUT + 1.5, seconds
    # The abandoned predictions still run (a thread cannot be stopped); the pool's other
    # threads answer meanwhile, and once they finish the pool is whole again.
    for f1 in (1.0, 2.0):
        r, _ = sleepy_request(sleepy_server, 0, f1)
        assert (r.status, r.json()) == (200, {"predictions": [f1 * 10 + 1]}), r.body
    time.sleep(max(0.0, started + 4.5 - time.monotonic()))
    with ThreadPoolExecutor(4) as pool:
        fast = list(pool.map(lambda i: sleepy_request(sleepy_server, 0.1, float(i)), range(12)))
    assert [r.json()["predictions"] for r, _ in fast] == [[i * 10.0 + 1] for i in range(12)]
    r, _ = sleepy_request(sleepy_server, 0.5)  # under the timeout: answered
    assert r.json() == {"predictions": [6.0]}
    assert "Exception in ASGI application" not in sleepy_server.log_text()


# ----------------------------------------------------------------------------- load
CLIENTS = 32
REQUESTS_PER_CLIENT = 40


def load_request(i: int, j: int) -> tuple[bytes, str, list[int]]:
    """Request ``j`` of client ``i``: 1-8 rows in one of the four body formats."""
    rows = [(i * 7 + j * 3 + k) % len(ROWS) for k in range(1 + (i + j) % 8)]
    expected = [EXPECTED[r] for r in rows]
    picked = [ROWS[r] for r in rows]
    kind = (i + j) % 4
    if kind == 0:
        data = [[row["f1"], row["f2"]] for row in picked]
        return (
            json.dumps({"dataframe_split": {"columns": ["f1", "f2"], "data": data}}).encode(),
            JSON,
            expected,
        )
    if kind == 1:
        return json.dumps({"dataframe_records": picked}).encode(), JSON, expected
    if kind == 2:
        columns = {"f1": [r["f1"] for r in picked], "f2": [r["f2"] for r in picked]}
        return json.dumps({"inputs": columns}).encode(), JSON, expected
    csv = "f1,f2\n" + "".join(f"{r['f1']},{r['f2']}\n" for r in picked)
    return csv.encode(), CSV, expected


def run_client(server: Server, i: int) -> list[tuple[int, Any, list[int]]]:
    """Client ``i``: even clients keep one connection, odd ones open one per request."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30) if i % 2 == 0 else None
    out = []
    try:
        for j in range(REQUESTS_PER_CLIENT):
            body, ctype, expected = load_request(i, j)
            r = server.post(body, content_type=ctype, conn=conn)
            out.append((r.status, r.json(), expected))
    finally:
        if conn is not None:
            conn.close()
    return out


def pinger(server: Server, stop: threading.Event, latencies: list[float]) -> Callable[[], None]:
    def run() -> None:
        while not stop.wait(0.02) and len(latencies) < 2000:
            t0 = time.monotonic()
            assert server.request("GET", "/ping").status == 200
            latencies.append(time.monotonic() - t0)

    return run


@pytest.mark.slow
def test_load_1280_requests_from_32_clients(sk_server: Server) -> None:
    assert_healthy(sk_server)
    before = memory(sk_server.proc.pid)
    stop, latencies = threading.Event(), []
    ping_thread = threading.Thread(target=pinger(sk_server, stop, latencies))
    ping_thread.start()
    start = time.monotonic()
    try:
        with ThreadPoolExecutor(CLIENTS) as pool:
            futures = [pool.submit(run_client, sk_server, i) for i in range(CLIENTS)]
            results = [x for f in futures for x in f.result(timeout=120)]
        seconds = time.monotonic() - start
    finally:
        stop.set()
        ping_thread.join(timeout=30)
    after = memory(sk_server.proc.pid)
    assert len(results) == CLIENTS * REQUESTS_PER_CLIENT
    wrong = [
        (status, body, want)
        for status, body, want in results
        if (status, body) != (200, {"predictions": want})
    ]
    assert not wrong, wrong[:5]
    assert len(latencies) >= 5 and max(latencies) < 5, latencies
    report(
        "load",
        requests=len(results),
        clients=CLIENTS,
        seconds=round(seconds, 1),
        requests_per_s=round(len(results) / seconds),
        pings=len(latencies),
        max_ping_ms=round(max(latencies) * 1000),
        rss_before_mib=before.rss_kib // 1024,
        rss_after_mib=after.rss_kib // 1024,
        peak_after_mib=after.peak_kib // 1024,
    )
    assert after.rss_kib - before.rss_kib < 64 * 1024, (before, after)
    assert_healthy(sk_server)
