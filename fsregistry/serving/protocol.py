"""MLflow's scoring protocol for one ``POST /invocations`` request, independent of any web
framework: content type in, status + content type + body out.

Request bodies are parsed by :mod:`fsregistry.models.input_example` (the same parser as
``fsreg predict`` and ``validate_serving_input``), predictions are written by
:func:`fsregistry.pyfunc.predict.predictions_to_json`. What this module adds is the HTTP side,
with MLflow's status codes and bodies:

* ``application/json`` or ``text/csv`` (optionally ``; charset=utf-8``); another charset, an
  unknown content-type parameter or another media type is ``415`` with a ``text/plain`` body.
* Unparseable input (bad JSON, bad CSV, no or several of ``dataframe_split``,
  ``dataframe_records``, ``instances``, ``inputs``) is ``400`` ``{"error_code": "BAD_REQUEST",
  "message": ...}``.
* Input that does not match the signature (missing column, unsafe type change) is ``400``
  ``{"error_code": "INVALID_PARAMETER_VALUE", "message": "Failed to predict data ..."}``.
* Any other error raised by the model is ``400`` ``BAD_REQUEST`` "Encountered an unexpected
  error while evaluating the model..." with the ``stack_trace``, as MLflow answers.
"""

from __future__ import annotations

import io
import json
import logging
import traceback
from dataclasses import dataclass
from typing import Any

from fsregistry.exceptions import BAD_REQUEST, INTERNAL_ERROR, FsRegistryException

_logger = logging.getLogger(__name__)

CONTENT_TYPE_JSON = "application/json"
CONTENT_TYPE_CSV = "text/csv"
CONTENT_TYPES = [CONTENT_TYPE_CSV, CONTENT_TYPE_JSON]
TEXT_PLAIN = "text/plain; charset=utf-8"

#: MLflow's note after a refused content-type parameter (scoring_server).
SCORING_PROTOCOL_CHANGE_INFO = (
    "IMPORTANT: The MLflow Model scoring protocol has changed in MLflow version 2.0. If you are"
    " seeing this error, you are likely using an outdated scoring request format. To resolve the"
    " error, either update your request format or adjust your MLflow Model's requirements file to"
    " specify an older version of MLflow (for example, change the 'mlflow' requirement specifier"
    " to 'mlflow==1.30.0'). If you are making a request using the MLflow client"
    " (e.g. via `mlflow.pyfunc.spark_udf()`), upgrade your MLflow client to a version >= 2.0 in"
    " order to use the new request format. For more information about the updated MLflow"
    " Model scoring protocol in MLflow 2.0, see"
    " https://mlflow.org/docs/latest/models.html#deploy-mlflow-models."
)
# MLflow's ``ErrorCode`` -> HTTP status (``MlflowException.get_http_status_code``).
_HTTP_STATUS = {
    "BAD_REQUEST": 400,
    "INVALID_PARAMETER_VALUE": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "MALFORMED_REQUEST": 400,
    "CUSTOMER_UNAUTHORIZED": 401,
    "PERMISSION_DENIED": 403,
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "REQUEST_LIMIT_EXCEEDED": 429,
    "INTERNAL_ERROR": 500,
    "INVALID_STATE": 500,
    "NOT_IMPLEMENTED": 501,
    "TEMPORARILY_UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}
# A predict error message quotes the input (as MLflow's does); cap it so a large request does
# not come back as an equally large error.
_MAX_QUOTED_INPUT = 1000


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, ``Content-Type`` header value and body bytes."""

    status: int
    content_type: str
    body: bytes


def http_status(error_code: str) -> int:
    return _HTTP_STATUS.get(error_code, 500)


def error_reply(
    message: str, error_code: str, *, status: int | None = None, stack_trace: str | None = None
) -> Reply:
    """MLflow's JSON error body: ``{"error_code": ..., "message": ...[, "stack_trace": ...]}``."""
    body: dict[str, str] = {"error_code": error_code, "message": message}
    if stack_trace is not None:
        body["stack_trace"] = stack_trace
    return Reply(
        status if status is not None else http_status(error_code),
        CONTENT_TYPE_JSON,
        json.dumps(body).encode("utf-8"),
    )


def _text(status: int, message: str) -> Reply:
    return Reply(status, TEXT_PLAIN, message.encode("utf-8"))


def parse_content_type(header: str | None) -> tuple[str, dict[str, str]]:
    """``("application/json", {"charset": "utf-8"})`` from a ``Content-Type`` header value."""
    parts = [p.strip() for p in (header or "").split(";")]
    params: dict[str, str] = {}
    for part in parts[1:]:
        if part:
            key, _, value = part.partition("=")
            params[key.strip().lower()] = value.strip().strip('"')
    return parts[0].lower(), params


def check_content_type(header: str | None) -> Reply | str:
    """The media type to parse, or the ``415`` reply MLflow gives for this header."""
    mime, params = parse_content_type(header)
    if params.get("charset", "utf-8").lower() != "utf-8":
        return _text(415, "The scoring server only supports UTF-8")
    unexpected = sorted(set(params) - {"charset"})
    if unexpected:
        return _text(
            415,
            f"Unrecognized content type parameters: {', '.join(unexpected)}. "
            + SCORING_PROTOCOL_CHANGE_INFO,
        )
    if mime not in CONTENT_TYPES:
        return _text(
            415,
            "This predictor only supports the following content types: "
            f"Types: {CONTENT_TYPES}. Got '{header or ''}'.",
        )
    return mime


def _quoted(data: Any) -> str:
    try:
        text = str(data)
    except Exception as exc:  # a repr that fails must not hide the real error
        text = f"<unprintable {type(data).__name__}: {exc}>"
    if len(text) > _MAX_QUOTED_INPUT:
        text = text[:_MAX_QUOTED_INPUT] + "..."
    return text


def parse_request(model: Any, body: bytes, mime: str) -> tuple[Any, dict[str, Any] | None]:
    """``(model input, params)`` from a request body of media type ``mime``."""
    from fsregistry.models.input_example import (
        InvalidInputError,
        parse_csv_input,
        parse_serving_input,
    )

    schema = model.metadata.get_input_schema()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        # MLflow's words: CSV is decoded first, JSON by ``json.loads`` (scoring_server).
        if mime == CONTENT_TYPE_CSV:
            raise InvalidInputError(
                f"Invalid input. Ensure that input is a valid UTF-8 encoded string. Error: "
                f"'{exc!r}'"
            ) from None
        raise InvalidInputError(
            "Invalid input. Ensure that input is a valid JSON formatted string. "
            f"Error: '{exc!r}'\nInput: \n{_quoted(body)}\n"
        ) from None
    if mime == CONTENT_TYPE_CSV:
        return parse_csv_input(io.StringIO(text), schema), None
    return parse_serving_input(text, schema)


def invoke(model: Any, body: bytes, content_type: str | None) -> Reply:
    """Answer one ``/invocations`` request for ``model`` (a loaded ``PyFuncModel``).

    Synchronous and CPU-bound: the server runs it in a worker thread.
    """
    from fsregistry.pyfunc.predict import predictions_to_json

    checked = check_content_type(content_type)
    if isinstance(checked, Reply):
        return checked
    try:
        data, params = parse_request(model, body, checked)
    except FsRegistryException as exc:
        return error_reply(exc.message, exc.error_code)
    except Exception as exc:
        # pandas/numpy reject some malformed input with their own exception types
        _logger.debug("Unparseable request", exc_info=True)
        return error_reply(f"Invalid input. {type(exc).__name__}: {exc}", BAD_REQUEST)
    try:
        predictions = model.predict(data, params=params)
    except FsRegistryException as exc:
        return error_reply(
            f"Failed to predict data '{_quoted(data)}'. \nError: {exc.message}", exc.error_code
        )
    except Exception:
        trace = traceback.format_exc()
        _logger.error("The model failed on a request:\n%s", trace)
        return error_reply(
            "Encountered an unexpected error while evaluating the model. Verify that the "
            "serialized input Dataframe is compatible with the model for inference.",
            BAD_REQUEST,
            stack_trace=trace,
        )
    try:
        text = predictions_to_json(predictions)
    except (TypeError, ValueError) as exc:
        return error_reply(
            f"The model's predictions cannot be written as JSON: {exc}", INTERNAL_ERROR
        )
    return Reply(200, CONTENT_TYPE_JSON, text.encode("utf-8"))
