"""The scoring server's ASGI application: a bare ASGI callable, run by uvicorn.

Routes (MLflow's): ``GET /ping`` and ``GET /health`` (``200``, body ``"\\n"``),
``GET /version`` (the fsregistry version), ``POST /invocations`` (see
:mod:`fsregistry.serving.protocol`); ``HEAD`` is answered wherever ``GET`` is. Unknown
paths are ``404 {"detail": "Not Found"}`` and a wrong method ``405 {"detail": "Method Not
Allowed"}``, as MLflow's FastAPI app answers.

Limits protect the server (the request head is limited before the app sees it, by
:mod:`fsregistry.serving.connection`):

* Request size: a body over ``max_request_bytes`` is answered ``413`` with an MLflow-style
  JSON error and ``Connection: close``. A declared ``Content-Length`` over the limit is refused
  before any of the body is read (a client sending ``Expect: 100-continue`` never sends it); a
  chunked body is read only up to the limit. The server then reads and drops what the client
  still sends, at most :data:`DRAIN_BYTES` (or the limit, if larger) for at most
  :data:`DRAIN_SECONDS`, never keeping it: a client that sends its whole body before reading
  the answer (most do) gets the ``413`` instead of a reset connection, and an endless body
  costs a bounded amount of reading. Then the connection is closed.
* Time: the body must arrive within ``timeout_seconds`` (else ``408`` and the connection is
  closed: a client that sends its headers and then stops, or trickles, does not hold a
  connection for ever), and the prediction must finish within ``timeout_seconds`` (else
  ``504``).

Prediction is CPU-bound, so each request is parsed and scored in a thread of a pool: the event
loop stays free to accept connections and answer ``/ping`` while models run.

Worker processes build their app with :func:`create_app`, which reads the model directory
and limits from environment variables set by :func:`fsregistry.serving.server.serve`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fsregistry.exceptions import BAD_REQUEST, InvalidParameterValue
from fsregistry.serving.protocol import CONTENT_TYPE_JSON, Reply, error_reply, invoke
from fsregistry.serving.settings import (
    DEFAULT_MAX_REQUEST_BYTES,
    DEFAULT_TIMEOUT_SECONDS,
    MAX_REQUEST_BYTES_ENV,
    MODEL_DIR_ENV,
    max_request_bytes_from_env,
    timeout_from_env,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_PING_BODY = b"\n"
_NOT_FOUND = Reply(404, CONTENT_TYPE_JSON, b'{"detail":"Not Found"}')
_NOT_ALLOWED = Reply(405, CONTENT_TYPE_JSON, b'{"detail":"Method Not Allowed"}')
_ROUTES = {"/ping": "GET", "/health": "GET", "/version": "GET", "/invocations": "POST"}


DRAIN_BYTES = 16 * 1024 * 1024
"""After a ``413``, the most of the rest of the body read and dropped (or the request size
limit, if larger) before the connection is closed."""
DRAIN_SECONDS = 5.0
"""After a ``413``, the longest the rest of the body is read and dropped."""
_CLOSE = ((b"connection", b"close"),)


class _BodyTooLarge(Exception):
    pass


class _ClientGone(Exception):
    pass


def _too_large(size: int | None, limit: int) -> Reply:
    size_text = f" ({size} bytes)" if size is not None else ""
    return error_reply(
        f"The request body{size_text} is larger than the limit of {limit} bytes "
        f"(--max-request-bytes or ${MAX_REQUEST_BYTES_ENV})",
        BAD_REQUEST,
        status=413,
    )


def _too_slow(timeout: float) -> Reply:
    return error_reply(
        f"The request body did not arrive within the request timeout ({timeout:g} s)",
        BAD_REQUEST,
        status=408,
    )


def _start(reply: Reply, extra: tuple[tuple[bytes, bytes], ...]) -> Message:
    headers = [
        (b"content-type", reply.content_type.encode("latin-1")),
        (b"content-length", str(len(reply.body)).encode("ascii")),
        *extra,
    ]
    return {"type": "http.response.start", "status": reply.status, "headers": headers}


async def _send_reply(
    send: Send, reply: Reply, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> None:
    await send(_start(reply, extra))
    await send({"type": "http.response.body", "body": reply.body})


async def _drain(receive: Receive, max_bytes: int, max_seconds: float) -> None:
    """Read and drop the rest of a request body: until it ends or the client leaves, at most
    ``max_bytes`` and ``max_seconds``."""
    drained = 0
    try:
        async with asyncio.timeout(max_seconds):
            while drained <= max_bytes:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                drained += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return
    except TimeoutError:
        return


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class ScoringApp:
    """ASGI app serving one loaded ``PyFuncModel`` over MLflow's scoring protocol."""

    def __init__(
        self,
        model: Any,
        *,
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
        threads: int | None = None,
    ) -> None:
        if max_request_bytes <= 0:
            raise InvalidParameterValue(
                f"max_request_bytes must be positive, got {max_request_bytes}"
            )
        if timeout_seconds <= 0:
            raise InvalidParameterValue(f"timeout_seconds must be positive, got {timeout_seconds}")
        from fsregistry.package import __version__

        self.model = model
        self.max_request_bytes = max_request_bytes
        self.timeout_seconds = timeout_seconds
        self._version = Reply(200, CONTENT_TYPE_JSON, __version__.encode("ascii"))
        self._ping = Reply(200, CONTENT_TYPE_JSON, _PING_BODY)
        self._pool = ThreadPoolExecutor(
            max_workers=threads or min(32, (os.cpu_count() or 1) + 4),
            thread_name_prefix="fsreg-predict",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self._pool.shutdown(wait=False, cancel_futures=True)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        method = _ROUTES.get(path)
        if method is None:
            await _send_reply(send, _NOT_FOUND)
            return
        if scope["method"] != method and not (method == "GET" and scope["method"] == "HEAD"):
            # HEAD goes with GET (uvicorn sends no body), as in MLflow's FastAPI app
            allow = b"GET, HEAD" if method == "GET" else method.encode("ascii")
            await _send_reply(send, _NOT_ALLOWED, ((b"allow", allow),))
            return
        if path == "/invocations":
            await self._invocations(scope, receive, send)
        elif path == "/version":
            await _send_reply(send, self._version)
        else:
            await _send_reply(send, self._ping)

    async def _invocations(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.max_request_bytes
        declared = _header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            # A client waiting for "100 Continue" sends nothing more: nothing to drain.
            expects_continue = (_header(scope, b"expect") or b"").lower() == b"100-continue"
            await self._refuse_too_large(
                receive, send, _too_large(int(declared), limit), drain=not expects_continue
            )
            return
        try:
            async with asyncio.timeout(self.timeout_seconds):
                body = await _read_body(receive, limit)
        except _BodyTooLarge:
            await self._refuse_too_large(receive, send, _too_large(None, limit), drain=True)
            return
        except TimeoutError:
            await _send_reply(send, _too_slow(self.timeout_seconds), _CLOSE)
            return
        except _ClientGone:
            return
        raw_type = _header(scope, b"content-type")
        content_type = raw_type.decode("latin-1") if raw_type is not None else None
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(self._pool, invoke, self.model, body, content_type)
        try:
            reply = await asyncio.wait_for(work, self.timeout_seconds)
        except TimeoutError:
            # The thread cannot be interrupted; it finishes in the background and its answer
            # is dropped, as with MLflow's timeout.
            reply = error_reply(
                f"Request processing time exceeded limit ({self.timeout_seconds:g} s)",
                "DEADLINE_EXCEEDED",
            )
        await _send_reply(send, reply)

    async def _refuse_too_large(
        self, receive: Receive, send: Send, reply: Reply, *, drain: bool
    ) -> None:
        """Send the ``413`` at once, drain what the client still sends (bounded), then close.

        The whole answer is written before draining; the empty last body message, sent
        after, lets uvicorn close the connection (``Connection: close``).
        """
        await send(_start(reply, _CLOSE))
        await send({"type": "http.response.body", "body": reply.body, "more_body": True})
        if drain:
            await _drain(receive, max(DRAIN_BYTES, self.max_request_bytes), DRAIN_SECONDS)
        await send({"type": "http.response.body", "body": b""})


def create_app() -> ScoringApp:
    """App factory for uvicorn worker processes: loads the model in ``$FSREG_SERVING_MODEL_DIR``
    (a local directory prepared by the parent process) once per process."""
    from fsregistry.pyfunc import load_model

    model_dir = os.environ.get(MODEL_DIR_ENV)
    if not model_dir:
        raise InvalidParameterValue(f"${MODEL_DIR_ENV} is not set: no model to serve")
    return ScoringApp(
        load_model(model_dir),
        max_request_bytes=max_request_bytes_from_env(),
        timeout_seconds=timeout_from_env(),
    )
