"""The scoring server's HTTP connections: uvicorn's httptools protocol with limits on the
request head (request line and headers), which the ASGI app never sees.

uvicorn's httptools protocol keeps every header byte a client sends until the head is
complete, with no size or time limit: one connection sending an endless header grows the
server's memory without bound, and one that sends half a request line and stops holds its
connection for ever. :class:`LimitedHttpToolsProtocol` adds both limits:

* Size: a head over :data:`MAX_HEAD_BYTES` is answered ``431`` and the connection closed.
  The bytes are counted as they arrive, before the parser has gathered them into headers, so
  at most one more read of the socket is held.
* Time: a head must arrive in full within the request timeout (``--timeout``), counted from
  the connection's first byte, or from the connection itself for the first request: a late
  head is answered ``408`` (or, when not a byte came, the connection is just closed).

Bodies are limited by the app (:mod:`fsregistry.serving.app`). The errors are MLflow-style
JSON, ``{"error_code": "BAD_REQUEST", "message": ...}``, as the app's own.
"""

from __future__ import annotations

import asyncio
import http
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from fsregistry.exceptions import BAD_REQUEST
from fsregistry.serving.settings import timeout_from_env

MAX_HEAD_BYTES = 64 * 1024
"""The largest request head (request line and headers) accepted. nginx and Node accept
8-32 KiB; MLflow's clients send a few hundred bytes."""


def _raw_error(status: int, message: str) -> bytes:
    body = json.dumps({"error_code": BAD_REQUEST, "message": message}).encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing request heads that are too large or too slow.

    The time limit is ``$FSREG_SCORING_SERVER_REQUEST_TIMEOUT`` (set by
    :func:`fsregistry.serving.server.serve` for every worker process).
    """

    max_head_bytes = MAX_HEAD_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head_timeout = timeout_from_env()
        self._in_head = False
        self._head_bytes = 0
        self._head_timer: asyncio.TimerHandle | None = None

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Still in a head after parsing this read: all of it was head bytes (or the end of
        # the previous request, when requests are pipelined: counted, at most one read).
        if self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes:
                self._refuse(
                    431,
                    f"The request line and headers are larger than the limit of "
                    f"{self.max_head_bytes} bytes",
                )

    # httptools parser callbacks
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_bytes = 0
        if self._head_timer is None:
            self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._disarm_head_timer()
        super().on_headers_complete()

    # limits
    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self._in_head:
            self._refuse(
                408,
                f"The request line and headers did not arrive within the request timeout "
                f"({self.head_timeout:g} s)",
            )
        elif self.cycle is None:  # connected, and never a byte
            self.transport.close()

    def _refuse(self, status: int, message: str) -> None:
        self.logger.warning("Refused a request: %s", message)
        self._in_head = False
        self._disarm_head_timer()
        self.transport.write(_raw_error(status, message))
        self.transport.close()
