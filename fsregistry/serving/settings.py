"""The scoring server's settings that come from the environment: names, defaults, readers.

Kept apart from the server so the CLI can name them (as option defaults) without importing
asyncio or uvicorn.
"""

from __future__ import annotations

import os
from typing import Any

from fsregistry.exceptions import InvalidParameterValue

MODEL_DIR_ENV = "FSREG_SERVING_MODEL_DIR"
"""Local model directory worker processes load (set by the process starting the server)."""
MAX_REQUEST_BYTES_ENV = "FSREG_SCORING_MAX_REQUEST_BYTES"
TIMEOUT_ENV = "FSREG_SCORING_SERVER_REQUEST_TIMEOUT"
WORKERS_ENV = "FSREG_SERVING_WORKERS"
DEFAULT_MAX_REQUEST_BYTES = 100 * 1024 * 1024
DEFAULT_TIMEOUT_SECONDS = 60.0


def _env_number(name: str, default: float, kind: type[int] | type[float]) -> Any:
    raw = os.environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise InvalidParameterValue(f"${name}={raw!r} is not a valid {kind.__name__}") from None
    if value <= 0:
        raise InvalidParameterValue(f"${name}={raw!r} must be positive")
    return value


def max_request_bytes_from_env() -> int:
    value: int = _env_number(MAX_REQUEST_BYTES_ENV, DEFAULT_MAX_REQUEST_BYTES, int)
    return value


def timeout_from_env() -> float:
    value: float = _env_number(TIMEOUT_ENV, DEFAULT_TIMEOUT_SECONDS, float)
    return value
