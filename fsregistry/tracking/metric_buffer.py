"""Buffered metric writes for stores that cannot append (S3, GCS).

An object store can only replace a whole object, so appending one line per ``log_metric``
would rewrite a growing object every call. Lines are collected per metric file instead and
written with one compare-and-swap per file when the buffer is flushed: on ``end_run``, on an
explicit ``flush``, before this process reads that store's runs, at interpreter exit, and
every ``FSREG_METRIC_FLUSH_SECONDS`` (default 5) from a background thread.

What a crash can lose: the lines logged since the last flush, at most that many seconds' worth
(a killed process does not run exit handlers). Local disk appends each line directly.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import weakref
from collections.abc import Callable

from fsregistry.storage import Storage

_log = logging.getLogger(__name__)

DEFAULT_FLUSH_SECONDS = 5.0


def flush_interval() -> float:
    raw = os.environ.get("FSREG_METRIC_FLUSH_SECONDS")
    if raw is None:
        return DEFAULT_FLUSH_SECONDS
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"FSREG_METRIC_FLUSH_SECONDS={raw!r} is not a number") from None
    if value <= 0:
        raise ValueError(f"FSREG_METRIC_FLUSH_SECONDS={raw!r} must be positive")
    return value


class MetricBuffer:
    """Pending metric lines per store-relative file path."""

    def __init__(self, storage: Storage, interval: float | None = None) -> None:
        self._storage = storage
        self.interval = interval if interval is not None else flush_interval()
        self._pending: dict[str, bytearray] = {}
        self._lock = threading.Lock()  # guards _pending
        self._flush_lock = threading.Lock()  # keeps flushes, and so line order, sequential
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        _live_buffers.add(self)

    def add(self, path: str, lines: bytes) -> None:
        with self._lock:
            self._pending.setdefault(path, bytearray()).extend(lines)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="fsregistry-metric-flush", daemon=True
                )
                self._thread.start()

    def has_pending(self, prefix: str = "") -> bool:
        with self._lock:
            return any(p.startswith(prefix) for p in self._pending)

    def flush(self, prefix: str = "") -> None:
        """Write every pending line whose file path starts with ``prefix``."""
        with self._flush_lock:
            with self._lock:
                batch = {p: bytes(d) for p, d in self._pending.items() if p.startswith(prefix)}
                for p in batch:
                    del self._pending[p]
            for i, (path, data) in enumerate(batch.items()):
                try:
                    self._storage.update(path, _appender(data))
                except BaseException:
                    self._requeue(list(batch.items())[i:])
                    raise

    def _requeue(self, items: list[tuple[str, bytes]]) -> None:
        with self._lock:
            for path, data in items:
                later = self._pending.get(path, bytearray())
                self._pending[path] = bytearray(data) + later

    def _run(self) -> None:
        while not self._wake.wait(self.interval):
            if not self.has_pending():
                continue
            try:
                self.flush()
            except Exception:  # a background flush must not die; the next one retries
                _log.warning("Background metric flush failed; will retry", exc_info=True)


def _appender(data: bytes) -> Callable[[bytes | None], bytes]:
    def append(old: bytes | None) -> bytes:
        return (old or b"") + data

    return append


_live_buffers: weakref.WeakSet[MetricBuffer] = weakref.WeakSet()


@atexit.register
def _flush_all_at_exit() -> None:
    for buffer in list(_live_buffers):
        try:
            buffer.flush()
        except Exception:  # report and go on: other stores may still flush fine
            _log.error("Could not flush buffered metrics at exit", exc_info=True)
