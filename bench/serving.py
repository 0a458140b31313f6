"""Throughput of ``fsreg models serve`` for a small scikit-learn model.

    .venv/bin/python bench/serving.py [--seconds 3] [--concurrency 8] [--workers 1,2]
                                      [--json FILE]

Trains a LogisticRegression (2 features, 8 rows), logs and registers it in a temporary local
store, starts ``fsreg models serve -m models:/bench-clf/1`` (a real server process) for each
``--workers`` value and drives it from another process with ``--concurrency`` keep-alive HTTP
clients (asyncio + aiohttp) for ``--seconds`` per request kind: ``GET /ping``, ``POST
/invocations`` with 1 row and with 100 rows (``dataframe_split`` JSON). Every answer is
checked against the model's own predictions. Prints requests/s and latency percentiles;
client and server share this machine's cores, so the numbers are a floor. Exit status 1 if
any answer was wrong. Runs in well under a minute with the defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FSREG = shutil.which("fsreg", path=os.path.dirname(sys.executable)) or "fsreg"
F1 = [0.1, 0.4, 0.35, 0.8, 1.2, 1.5, 0.05, 0.9]
F2 = [1, 0, 1, 0, 1, 1, 0, 0]
LABELS = [0, 0, 0, 1, 1, 1, 0, 1]


# ----------------------------------------------------------------------------- load client
async def _drive(
    url: str, body: bytes | None, expected: bytes, concurrency: int, seconds: float
) -> dict[str, Any]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    headers = {"Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one() -> None:
            nonlocal errors
            t0 = time.perf_counter()
            if body is None:
                async with session.get(url) as r:
                    data, status = await r.read(), r.status
            else:
                async with session.post(url, data=body, headers=headers) as r:
                    data, status = await r.read(), r.status
            latencies.append(time.perf_counter() - t0)
            if status != 200 or data != expected:
                errors += 1

        async def worker(stop: float) -> None:
            while time.perf_counter() < stop:
                await one()

        warm = time.perf_counter() + min(0.5, seconds / 4)
        await asyncio.gather(*(worker(warm) for _ in range(concurrency)))
        latencies.clear()
        errors = 0
        start = time.perf_counter()
        await asyncio.gather(*(worker(start + seconds) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "errors": errors,
        "seconds": elapsed,
        "rps": len(ordered) / elapsed,
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
    }


def client_main(argv: list[str]) -> None:
    """``serving.py client SPEC.json``: run each ``{url, body_file, expected_file}`` of the
    spec in turn and print one JSON list of results."""
    spec = json.loads(Path(argv[0]).read_text())
    results = []
    for item in spec["requests"]:
        body = Path(item["body_file"]).read_bytes() if item["body_file"] else None
        expected = Path(item["expected_file"]).read_bytes()
        drive = _drive(item["url"], body, expected, spec["concurrency"], spec["seconds"])
        results.append(asyncio.run(drive))
    print(json.dumps(results))


# ----------------------------------------------------------------------------- server side
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _log_model(store: str) -> tuple[str, Any]:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import fsregistry
    from fsregistry import sklearn as fsk

    X = pd.DataFrame({"f1": F1, "f2": F2})
    model = LogisticRegression(C=0.5).fit(X, LABELS)
    fsregistry.set_tracking_uri(store)
    fsregistry.set_registry_uri(store)
    with fsregistry.start_run():
        fsk.log_model(model, name="model", input_example=X[:2], registered_model_name="bench-clf")
    return "models:/bench-clf/1", model


def _wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    import http.client

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}:\n{log.read_text()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/ping")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server did not answer /ping:\n{log.read_text()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "client":
        client_main(sys.argv[2:])
        return 0
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=3.0, help="Measured time per request kind.")
    p.add_argument("--concurrency", type=int, default=8, help="Concurrent HTTP clients.")
    p.add_argument("--workers", default="1,2", help="Server worker counts to measure.")
    p.add_argument("--json", help="Also write the results to this file.")
    ns = p.parse_args()
    import pandas as pd

    from fsregistry.pyfunc.predict import predictions_to_json

    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="fsreg-bench-serving-") as tmp_dir:
        tmp = Path(tmp_dir)
        store = str(tmp / "mlruns")
        uri, model = _log_model(store)
        kinds: list[tuple[str, bytes | None, bytes]] = [("GET /ping", None, b"\n")]
        for n in (1, 100):
            rows = [[F1[i % 8] + i / 1000, F2[i % 8]] for i in range(n)]
            frame = pd.DataFrame(rows, columns=["f1", "f2"])
            body = json.dumps({"dataframe_split": {"columns": ["f1", "f2"], "data": rows}})
            expected = predictions_to_json(model.predict(frame)).encode()
            kinds.append(
                (f"POST /invocations {n} row{'s' if n > 1 else ''}", body.encode(), expected)
            )
        files: list[tuple[str, Path | None, Path]] = []
        for i, (name, body_bytes, expected) in enumerate(kinds):
            body_path = None
            if body_bytes is not None:
                body_path = tmp / f"body{i}.json"
                body_path.write_bytes(body_bytes)
            expected_path = tmp / f"expected{i}.json"
            expected_path.write_bytes(expected)
            files.append((name, body_path, expected_path))
        serve_cmd = [FSREG, "models", "serve", "-m", uri, "--tracking-uri", store]
        for workers in [int(w) for w in ns.workers.split(",")]:
            port = _free_port()
            log = tmp / f"server-{workers}.log"
            with open(log, "wb") as out:
                proc = subprocess.Popen(
                    [*serve_cmd, "--port", str(port), "--workers", str(workers)],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, "FSREG_MODEL_CACHE": str(tmp / "cache")},
                    start_new_session=True,
                )
            try:
                _wait_ready(proc, port, log)
                spec = {
                    "concurrency": ns.concurrency,
                    "seconds": ns.seconds,
                    "requests": [
                        {
                            "url": f"http://127.0.0.1:{port}"
                            + ("/ping" if body_path is None else "/invocations"),
                            "body_file": str(body_path) if body_path else None,
                            "expected_file": str(expected_path),
                        }
                        for _, body_path, expected_path in files
                    ],
                }
                spec_path = tmp / "spec.json"
                spec_path.write_text(json.dumps(spec))
                cmd = [sys.executable, __file__, "client", str(spec_path)]
                out = subprocess.run(cmd, capture_output=True, text=True, check=True)
                for (name, _, _), measured in zip(files, json.loads(out.stdout), strict=True):
                    result = {"workers": workers, "request": name, **measured}
                    results.append(result)
                    print(
                        f"workers={workers}  {name:<28} {result['rps']:8.0f} req/s   "
                        f"p50 {result['p50_ms']:6.2f} ms   p99 {result['p99_ms']:6.2f} ms   "
                        f"errors {result['errors']}",
                        flush=True,
                    )
            finally:
                _stop(proc)
    print(
        f"fsreg models serve: uvicorn + httptools + uvloop, bare ASGI app; "
        f"{ns.concurrency} keep-alive clients in another process; {os.cpu_count()} CPUs shared "
        "by client and server"
    )
    if ns.json:
        Path(ns.json).write_text(json.dumps(results, indent=2))
    return 1 if any(r["errors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
