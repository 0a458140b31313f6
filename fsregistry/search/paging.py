"""Page tokens and ``max_results`` limits, compatible with MLflow's file store.

A page token is base64 of the JSON ``{"offset": N}``: an offset into the filtered, sorted
result list. MLflow's Python file store hands tokens out as *bytes*, the REST API as text;
both are accepted here, and tokens are handed out as text.

A search that keeps its sorted result for the next pages (fsregistry's run search) adds
``"cursor": "<id>"`` (:func:`encode_cursor_token`, :func:`decode_cursor`): MLflow reads only
the offset, so such a token still pages through MLflow's stores and through a process that no
longer holds the result.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from typing import Final, NamedTuple, NoReturn, TypeVar

from fsregistry.exceptions import InvalidParameterValue
from fsregistry.search.terms import Kind

T = TypeVar("T")

DEFAULT_MAX_RESULTS: Final[Mapping[Kind, int]] = {
    "runs": 1000,
    "experiments": 1000,
    "registered_models": 100,
    "model_versions": 10_000,
    "logged_models": 100,
}

# None: MLflow's file store enforces no upper bound for logged models.
MAX_RESULTS_LIMIT: Final[Mapping[Kind, int | None]] = {
    "runs": 50_000,
    "experiments": 50_000,
    "registered_models": 1000,
    "model_versions": 200_000,
    "logged_models": None,
}

_SHOWN_TOKEN_CHARS: Final = 200


def check_max_results(max_results: object, kind: Kind, allow_zero: bool = False) -> None:
    """Raise InvalidParameterValue unless ``max_results`` is a positive int within MLflow's
    limit (``allow_zero``: or 0, an empty page, which MLflow's run search accepts)."""
    if kind not in MAX_RESULTS_LIMIT:
        raise ValueError(f"unknown search kind {kind!r}")
    lowest = 0 if allow_zero else 1
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < lowest:
        raise InvalidParameterValue(_too_small(max_results, kind, allow_zero))
    limit = MAX_RESULTS_LIMIT[kind]
    if limit is not None and max_results > limit:
        if kind == "experiments":
            raise InvalidParameterValue(
                f"Invalid value {max_results} for parameter 'max_results' supplied. "
                f"It must be at most {limit}"
            )
        raise InvalidParameterValue(
            "Invalid value for request parameter max_results. It must be at most "
            f"{limit}, but got value {max_results} (searching {kind})"
        )


def _too_small(max_results: object, kind: str, allow_zero: bool) -> str:
    """MLflow's text for a max_results below 1 (registry searches have their own)."""
    if kind in ("registered_models", "model_versions"):
        return (
            f"Invalid value for max_results. It must be a positive integer, but got {max_results!r}"
        )
    return (
        f"Invalid value {max_results!r} for parameter 'max_results' supplied. "
        f"It must be a {'non-negative' if allow_zero else 'positive'} integer"
    )


def check_paging(
    max_results: object, kind: Kind, page_token: str | bytes | None, allow_zero: bool = False
) -> None:
    """Check ``max_results`` (``allow_zero`` as for check_max_results) and ``page_token``
    before a search reads (and caches) anything: a bad argument is refused with the store
    exactly as it was."""
    check_max_results(max_results, kind, allow_zero)
    decode_page_token(page_token)


def encode_page_token(offset: int) -> str:
    """Token for the page starting at ``offset``; same bytes as MLflow's, as text."""
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise ValueError(f"page offset must be a non-negative int, got {offset!r}")
    return base64.b64encode(json.dumps({"offset": offset}).encode("utf-8")).decode("ascii")


class Cursor(NamedTuple):
    """Where a page token points: the offset, and the kept result it came from (or None)."""

    offset: int
    cursor: str | None


def encode_cursor_token(offset: int, cursor: str) -> str:
    """Token for the page at ``offset`` of the kept result ``cursor``; MLflow reads the
    offset alone."""
    encode_page_token(offset)  # checks the offset
    payload = json.dumps({"offset": offset, "cursor": cursor})
    return base64.b64encode(payload.encode("utf-8")).decode("ascii")


def decode_cursor(token: str | bytes | None) -> Cursor:
    """Offset and kept-result id of ``token`` (checked as :func:`decode_page_token` does); a
    cursor that is not a short string is ignored, as MLflow ignores every other field."""
    offset = decode_page_token(token)
    if not token:
        return Cursor(offset, None)
    payload = _token_payload(token)
    held = payload.get("cursor") if isinstance(payload, dict) else None
    if not isinstance(held, str) or len(held) > 64:
        held = None
    return Cursor(offset, held)


def decode_page_token(token: str | bytes | None) -> int:
    """Offset encoded in ``token``; None or empty means the first page (offset 0).

    Extra JSON fields are ignored, so tokens from MLflow's other stores decode too.
    """
    if token is None:
        return 0
    if not isinstance(token, str | bytes | bytearray):
        _bad_token(token, f"expected a string, got {type(token).__name__}", "not stringable")
    if len(token) == 0:
        return 0
    payload = _token_payload(token)
    offset = payload.get("offset") if isinstance(payload, dict) else None
    if isinstance(offset, str) and offset.isdecimal():  # not "²": a digit int() refuses
        # MLflow int()s the field, so a stringified offset is accepted too.
        offset = int(offset)
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        _bad_token(
            token,
            f"expected a JSON object with a non-negative 'offset', got {payload!r}",
            f"parsed value={payload!r}",
        )
    return offset


def _token_payload(token: str | bytes) -> object:
    try:
        raw = token.encode("ascii") if isinstance(token, str) else bytes(token)
        decoded = base64.b64decode(raw, validate=True)
    except (UnicodeEncodeError, binascii.Error, TypeError):
        _bad_token(token, "not valid base64", "could not base64-decode")
    try:
        return json.loads(decoded)
    except ValueError:  # includes JSONDecodeError and UnicodeDecodeError
        _bad_token(token, "not base64-encoded JSON", f"decoded value={decoded!r}")


def _bad_token(token: object, reason: str, mlflow: str) -> NoReturn:
    """MLflow's ``Invalid page token, <mlflow>``, then the token and fsregistry's reason."""
    shown = repr(token)
    if len(shown) > _SHOWN_TOKEN_CHARS:
        shown = shown[:_SHOWN_TOKEN_CHARS] + "..."
    if len(mlflow) > _SHOWN_TOKEN_CHARS:
        mlflow = mlflow[:_SHOWN_TOKEN_CHARS] + "..."
    raise InvalidParameterValue(f"Invalid page token, {mlflow} (token {shown}: {reason})")


def paginate(
    rows: Sequence[T],
    max_results: int,
    page_token: str | bytes | None,
    allow_zero: bool = False,
) -> tuple[list[T], str | None]:
    """The page of ``rows`` that ``page_token`` points at, and the token for the next page.

    The next token is None when this page reaches the end of ``rows``. With ``allow_zero``,
    ``max_results=0`` is an empty page whose token points where it started (MLflow's file
    store pages runs and metric histories so).
    """
    lowest = 0 if allow_zero else 1
    if isinstance(max_results, bool) or not isinstance(max_results, int) or max_results < lowest:
        raise InvalidParameterValue(_too_small(max_results, "", allow_zero))
    start = decode_page_token(page_token)
    end = start + max_results
    next_token = encode_page_token(end) if end < len(rows) else None
    return list(rows[start:end]), next_token
