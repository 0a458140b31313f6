"""``fsregistry.models.predict``: score a model on JSON or CSV input in this environment.

The input goes through the same parsing as a scoring server request (``dataframe_split``,
``dataframe_records``, ``instances``, ``inputs`` + ``params`` for JSON; a header row for CSV),
the output is written as ``{"predictions": ...}`` JSON to ``output_path`` or stdout.
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


def predict(
    model_uri: str,
    input_data: Any = None,
    input_path: str | os.PathLike[str] | None = None,
    content_type: Literal["json", "csv"] = "json",
    output_path: str | os.PathLike[str] | None = None,
    env_manager: str | None = None,
    verify: bool = True,
) -> Any:
    """Predict with the model at ``model_uri`` in the current Python environment.

    Give exactly one of ``input_data`` (any pyfunc input: DataFrame, ndarray, dict, list,
    scalar; or, for CSV, CSV text or DataFrame-like data) and ``input_path`` (a file). Writes
    ``{"predictions": ...}`` to ``output_path`` (stdout if None) and returns the raw
    predictions. Only ``env_manager=None``/``"local"`` is supported: fsregistry never builds
    virtualenvs or conda environments.
    """
    from fsregistry.models.input_example import (
        convert_input_example_to_serving_input,
        parse_csv_input,
        parse_serving_input,
    )
    from fsregistry.pyfunc import load_model

    if content_type not in ("json", "csv"):
        raise InvalidParameterValue(
            f"Unknown content_type {content_type!r}: expected 'json' or 'csv'"
        )
    if env_manager not in (None, "local"):
        raise InvalidParameterValue(
            f"env_manager={env_manager!r} is not supported: fsregistry predicts in the current "
            "environment only (use None or 'local')"
        )
    if (input_data is None) == (input_path is None):
        raise InvalidParameterValue("Give exactly one of input_data and input_path")
    if input_path is not None and not os.path.isfile(input_path):
        raise InvalidParameterValue(f"input_path {os.fspath(input_path)!r} is not a file")
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
        import pandas as pd

        if input_path is not None:
            data = parse_csv_input(os.fspath(input_path), schema)
        elif isinstance(input_data, str):
            data = parse_csv_input(io.StringIO(input_data), schema)
        elif isinstance(input_data, list | dict | pd.DataFrame):
            text = pd.DataFrame(input_data).to_csv(index=False)
            data = parse_csv_input(io.StringIO(text), schema)
        else:
            raise InvalidParameterValue(
                "For content_type='csv', input_data must be CSV text, a list, a dict or a "
                f"DataFrame, got {type(input_data).__name__}"
            )
    predictions = model.predict(data, params=params)
    text = predictions_to_json(predictions)
    if output_path is None:
        sys.stdout.write(text + "\n")
    else:
        with open(output_path, "w", encoding="utf-8") as f:
            f.write(text)
    return predictions
