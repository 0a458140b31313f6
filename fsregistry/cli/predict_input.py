"""``fsreg predict``'s input file, checked before the model is loaded (which can take long).

JSON input is a scoring-server request body (``{"dataframe_split": ...}``,
``dataframe_records``, ``instances`` or ``inputs``, with optional ``params``), as for
``mlflow models predict``. fsregistry also takes what pandas writes without wrapping it:
``df.to_json(orient="split")`` (an object with ``columns`` and ``data``) is read as
``dataframe_split`` and ``orient="records"`` (a list of objects) as ``dataframe_records``.
Anything else is refused with the form to use. CSV input must have a header row. No pandas
here: the check reads the file with the standard library.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass

from fsregistry.exceptions import InvalidParameterValue

SERVING_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")
_SPLIT_KEYS = {"columns", "data", "index"}
_HINT = (
    'wrap a DataFrame as {"dataframe_split": df.to_dict(orient="split")} (or give '
    'df.to_json(orient="split") / orient="records" as it is), a list of rows as '
    '{"dataframe_records": [...]}, tensors as {"inputs": ...}'
)


@dataclass(frozen=True)
class PredictInput:
    """The file to give the model: the user's own, or a wrapped copy (``temporary``)."""

    path: str
    temporary: bool = False

    def cleanup(self) -> None:
        if self.temporary:
            os.unlink(self.path)


def check_input(path: str, kind: str) -> PredictInput:
    """The input to predict on, after checking it (:class:`InvalidParameterValue` if it
    cannot be read or is not a form ``predict`` accepts)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise InvalidParameterValue(
            f"Cannot read the input file {path!r}: {e.strerror or e}"
        ) from None
    if kind == "csv":
        if not raw.strip():
            raise InvalidParameterValue(f"The input file {path!r} is empty (CSV needs a header)")
        return PredictInput(path)
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidParameterValue(
            f"The input file {path!r} is not valid JSON ({e}); for CSV, name it .csv or give "
            "--content-type csv"
        ) from None
    if isinstance(body, dict) and sum(k in body for k in SERVING_KEYS) == 1:
        return PredictInput(path)
    if isinstance(body, dict) and {"columns", "data"} <= set(body) <= _SPLIT_KEYS:
        return _wrapped({"dataframe_split": body})
    if isinstance(body, list) and body and all(isinstance(row, dict) for row in body):
        return _wrapped({"dataframe_records": body})
    if isinstance(body, dict):
        got = f"an object with keys {sorted(body)}"
    else:
        got = f"a JSON {type(body).__name__}"
    raise InvalidParameterValue(
        f"The input file {path!r} holds {got}, not one of {list(SERVING_KEYS)}: {_HINT}"
    )


def _wrapped(body: object) -> PredictInput:
    fd, path = tempfile.mkstemp(prefix="fsreg-predict-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(body, f)
    return PredictInput(path, temporary=True)
