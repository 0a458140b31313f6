"""Scoring a model in this Python environment on JSON or CSV input, as ``fsreg predict``, the
scoring server and ``validate_serving_input`` do.

The input goes through the same parsing as a scoring server request (``dataframe_split``,
``dataframe_records``, ``instances``, ``inputs`` + ``params`` for JSON; a header row for CSV),
the output is written as ``{"predictions": ...}`` JSON. Running in the model's own virtualenv
is the floor above (:mod:`fsregistry.envs.predict`), which calls this inside that environment.
"""

from __future__ import annotations

import io
import json
import os
import sys
from typing import Any, Literal

from fsregistry.exceptions import InvalidParameterValue


def _jsonable(predictions: Any) -> Any:
    import numpy as np
    import pandas as pd

    if isinstance(predictions, np.ndarray):
        return predictions.tolist()
    if isinstance(predictions, pd.DataFrame):
        return predictions.to_dict(orient="records")
    if isinstance(predictions, pd.Series):
        return pd.DataFrame(predictions).to_dict(orient="records")
    return predictions


def predictions_to_json(predictions: Any) -> str:
    from fsregistry.models.input_example import NumpyEncoder

    return json.dumps({"predictions": _jsonable(predictions)}, cls=NumpyEncoder)


def predict_local(
    model_uri: str,
    input_data: Any = None,
    input_path: str | os.PathLike[str] | None = None,
    content_type: Literal["json", "csv"] = "json",
    output_path: str | os.PathLike[str] | None = None,
    verify: bool = True,
) -> Any:
    """Score the model at ``model_uri`` in this Python environment: the local half of
    :func:`fsregistry.models.predict`, with its arguments already checked. Writes
    ``{"predictions": ...}`` to ``output_path`` (stdout if None) and returns the raw
    predictions."""
    from fsregistry.models.input_example import (
        convert_input_example_to_serving_input,
        parse_csv_input,
        parse_serving_input,
    )
    from fsregistry.pyfunc import load_model

    # The input is checked before the model is loaded, as MLflow does.
    text = csv_text(input_data) if content_type == "csv" and input_path is None else None
    model = load_model(model_uri, verify=verify)
    schema = model.metadata.get_input_schema()
    params = None
    if content_type == "json":
        if input_path is not None:
            with open(input_path, encoding="utf-8") as f:
                payload: Any = f.read()
        else:
            payload = convert_input_example_to_serving_input(input_data)
        data, params = parse_serving_input(payload, schema)
    else:
        if input_path is not None:
            data = parse_csv_input(os.fspath(input_path), schema)
        else:
            data = parse_csv_input(io.StringIO(text or ""), schema)
    predictions = model.predict(data, params=params)
    write_output(predictions_to_json(predictions), output_path)
    return predictions


def csv_text(input_data: Any) -> str:
    import pandas as pd

    if isinstance(input_data, str):
        return input_data
    if isinstance(input_data, list | dict | pd.DataFrame):
        text: str = pd.DataFrame(input_data).to_csv(index=False)
        return text
    # MLflow's text (models/python_api.py:_serialize_input_data).
    raise InvalidParameterValue(
        f"Input data must be one of {(str, list, dict, pd.DataFrame)} when content type is "
        f"'csv', but got {type(input_data)}."
    )


def write_output(text: str, output_path: str | os.PathLike[str] | None) -> None:
    if output_path is None:
        sys.stdout.write(text + "\n")
    else:
        with open(output_path, "w", encoding="utf-8") as f:
            f.write(text)


def validate_serving_input(model_uri: str, serving_input: str | dict[str, Any]) -> Any:
    """Load the model, parse a serving request body against its signature, predict; returns
    the predictions (raises on any mismatch), like ``mlflow.models.validate_serving_input``."""
    from fsregistry.models.input_example import parse_serving_input
    from fsregistry.pyfunc import load_model

    model = load_model(model_uri)
    data, params = parse_serving_input(serving_input, model.metadata.get_input_schema())
    return model.predict(data, params=params)
