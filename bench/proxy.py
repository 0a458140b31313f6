"""A counting HTTP reverse proxy on 127.0.0.1, put in front of an S3 or GCS emulator.

Every HTTP request a client sends to the proxy is counted, classified, and forwarded to the
emulator unchanged (same method, path, query, headers and body); the emulator's answer goes
back unchanged. Clients are pointed at the proxy instead of the emulator (``AWS_ENDPOINT_URL``
/ ``STORAGE_EMULATOR_HOST``), so the counts cover every request of every process, listings
and metadata probes included, whatever library issued them.

``GET /__bench__/counts`` (answered by the proxy itself, not counted) returns the running
totals as JSON: ``{"total": N, "by_kind": {"read": .., "list": .., "write": .., ...}}``.
Workloads read it before and after an operation and report the difference.

Run: ``python bench/proxy.py --kind s3|gcs --upstream http://127.0.0.1:PORT --port-file F``.
The chosen port is written to ``F``; the proxy exits when its parent process does.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs

from aiohttp import ClientConnectionResetError, ClientSession, ClientTimeout, TCPConnector, web

CONTROL_PATH = "/__bench__/counts"
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "expect",
        "content-length",
    }
)

# Request kinds. "write" covers everything that creates, replaces or deletes an object.
READ, LIST, STAT, WRITE, DELETE, OTHER = "read", "list", "stat", "write", "delete", "other"


def classify_s3(method: str, path: str, query: str) -> str:
    """Path-style S3 (what clients use with an IP endpoint): ``/bucket[/key]``."""
    parts = path.lstrip("/").split("/", 1)
    has_key = len(parts) == 2 and parts[1] != ""
    q = parse_qs(query, keep_blank_values=True)
    if method == "GET":
        return READ if has_key else LIST
    if method == "HEAD":
        return STAT
    if method == "PUT":
        return WRITE if has_key else OTHER
    if method == "DELETE":
        return DELETE
    if method == "POST":
        if "delete" in q:
            return DELETE
        return WRITE  # multipart upload steps, conditional POSTs
    return OTHER


def classify_gcs(method: str, path: str, query: str) -> str:
    """GCS JSON API: ``/storage/v1/b/<bucket>/o[/<object>]``, uploads under ``/upload``."""
    q = parse_qs(query, keep_blank_values=True)
    if path.startswith("/upload/") or path.startswith("/resumable/"):
        return WRITE
    if path.startswith("/download/"):
        return READ
    if path.startswith("/batch/"):
        return DELETE if method == "POST" else OTHER
    if "/o/" in path:
        if method == "GET":
            return READ if q.get("alt") == ["media"] else STAT
        if method == "DELETE":
            return DELETE
        if method in ("POST", "PUT", "PATCH"):
            return WRITE  # copy / rewrite / compose / metadata patch
        return OTHER
    if path.rstrip("/").endswith("/o"):
        if method == "GET":
            return LIST
        if method == "POST":
            return WRITE
    if method == "GET" and "/b/" in path:
        return STAT  # bucket metadata
    return OTHER


class CountingProxy:
    def __init__(self, kind: str, upstream: str) -> None:
        self.kind = kind
        self.upstream = upstream.rstrip("/")
        self.counts: Counter[str] = Counter()
        self.total = 0
        self.session: ClientSession | None = None
        self.public_base = ""  # http://127.0.0.1:<proxy port>, set once bound

    async def start_session(self) -> None:
        self.session = ClientSession(
            connector=TCPConnector(limit=256, force_close=False),
            auto_decompress=False,
            timeout=ClientTimeout(total=300),
        )

    async def handle(self, request: web.Request) -> web.StreamResponse:
        try:
            return await self._handle(request)
        except (ConnectionResetError, ClientConnectionResetError, asyncio.CancelledError):
            # The client went away mid-answer (a process exiting); the request was counted.
            raise web.HTTPServiceUnavailable() from None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path == CONTROL_PATH:
            return web.json_response(
                {"total": self.total, "by_kind": dict(self.counts), "time": time.time()}
            )
        classify = classify_s3 if self.kind == "s3" else classify_gcs
        kind = classify(request.method, request.path, request.query_string)
        self.total += 1
        self.counts[kind] += 1
        body = await request.read()
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        assert self.session is not None
        async with self.session.request(
            request.method,
            self.upstream + request.raw_path,
            headers=headers,
            data=body if body else None,
            allow_redirects=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type", "Accept"),
        ) as upstream:
            payload = await upstream.read()
            out_headers = []
            for k, v in upstream.headers.items():
                lk = k.lower()
                if lk in HOP_BY_HOP:
                    continue
                if lk == "location" and v.startswith(self.upstream):
                    v = self.public_base + v[len(self.upstream) :]  # keep clients on the proxy
                out_headers.append((k, v))
            resp = web.StreamResponse(status=upstream.status, reason=upstream.reason)
            for k, v in out_headers:
                resp.headers.add(k, v)
            if request.method == "HEAD" or upstream.status in (204, 304):
                length = upstream.headers.get("Content-Length")
                if length is not None and request.method == "HEAD":
                    resp.headers["Content-Length"] = length
                await resp.prepare(request)
                await resp.write_eof()
                return resp
            resp.content_length = len(payload)
            await resp.prepare(request)
            await resp.write(payload)
            await resp.write_eof()
            return resp


def _watch_parent(parent_pid: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent_pid:
            os._exit(0)


async def _serve(args: argparse.Namespace) -> None:
    proxy = CountingProxy(args.kind, args.upstream)
    await proxy.start_session()
    app = web.Application(client_max_size=1 << 30)
    app.router.add_route("*", "/{tail:.*}", proxy.handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    server = site._server
    assert server is not None and server.sockets
    port = server.sockets[0].getsockname()[1]
    proxy.public_base = f"http://127.0.0.1:{port}"
    tmp = Path(str(args.port_file) + ".tmp")
    tmp.write_text(str(port))
    os.replace(tmp, args.port_file)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--kind", choices=("s3", "gcs"), required=True)
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--port-file", type=Path, required=True)
    parser.add_argument("--parent-pid", type=int, default=os.getppid())
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    threading.Thread(target=_watch_parent, args=(args.parent_pid,), daemon=True).start()
    asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
