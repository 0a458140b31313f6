"""``fsregistry.models.predict``: score a model on JSON or CSV input, in this environment or in
the model's own virtualenv (``env_manager="virtualenv"``, see :mod:`fsregistry.envs`).

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

#: ``env_manager`` values :func:`predict` accepts.
ENV_MANAGERS = (None, "local", "virtualenv")


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
    """Predict with the model at ``model_uri``.

    Give exactly one of ``input_data`` (any pyfunc input: DataFrame, ndarray, dict, list,
    scalar; or, for CSV, CSV text or DataFrame-like data) and ``input_path`` (a file). Writes
    ``{"predictions": ...}`` to ``output_path`` (stdout if None).

    ``env_manager``: ``None``/``"local"`` predicts in this Python environment and returns the
    raw predictions; ``"virtualenv"`` prepares the model's isolated environment
    (:func:`fsregistry.envs.prepare_env`, cached) and predicts in a subprocess running its
    interpreter, with the same input parsing and output; it returns the predictions as
    decoded from that JSON. ``"conda"`` and ``"uv"`` (MLflow's other managers) are not
    supported.
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
    if env_manager not in ENV_MANAGERS:
        raise InvalidParameterValue(
            f"env_manager={env_manager!r} is not supported: use 'local' (or None) for the "
            "current environment or 'virtualenv' for the model's own environment"
            + (
                " (conda environments are not built by fsregistry)"
                if env_manager == "conda"
                else ""
            )
        )
    if (input_data is None) == (input_path is None):
        raise InvalidParameterValue("Give exactly one of input_data and input_path")
    if input_path is not None and not os.path.isfile(input_path):
        raise InvalidParameterValue(f"input_path {os.fspath(input_path)!r} is not a file")
    if env_manager == "virtualenv":
        return _predict_in_virtualenv(
            model_uri, input_data, input_path, content_type, output_path, verify
        )
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
            data = parse_csv_input(io.StringIO(_csv_text(input_data)), schema)
    predictions = model.predict(data, params=params)
    _write_output(predictions_to_json(predictions), output_path)
    return predictions


def _csv_text(input_data: Any) -> str:
    import pandas as pd

    if isinstance(input_data, str):
        return input_data
    if isinstance(input_data, list | dict | pd.DataFrame):
        text: str = pd.DataFrame(input_data).to_csv(index=False)
        return text
    raise InvalidParameterValue(
        "For content_type='csv', input_data must be CSV text, a list, a dict or a "
        f"DataFrame, got {type(input_data).__name__}"
    )


def _write_output(text: str, output_path: str | os.PathLike[str] | None) -> None:
    if output_path is None:
        sys.stdout.write(text + "\n")
    else:
        with open(output_path, "w", encoding="utf-8") as f:
            f.write(text)


def _predict_in_virtualenv(
    model_uri: str,
    input_data: Any,
    input_path: str | os.PathLike[str] | None,
    content_type: Literal["json", "csv"],
    output_path: str | os.PathLike[str] | None,
    verify: bool,
) -> Any:
    """Same input handling and output as the local path, run by the model environment's
    interpreter (``fsregistry.envs.predict_runner``) on the locally cached model."""
    import tempfile

    from fsregistry.envs import prepare_env_for_model_dir
    from fsregistry.envs.builder import subprocess_env
    from fsregistry.envs.predict_runner import run_in_env
    from fsregistry.models.cache import local_model_dir
    from fsregistry.models.input_example import convert_input_example_to_serving_input

    with tempfile.TemporaryDirectory(prefix="fsreg-predict-") as work:
        if input_path is None:
            if content_type == "json":
                payload = convert_input_example_to_serving_input(input_data) or ""
            else:
                payload = _csv_text(input_data)
            input_file = os.path.join(work, f"input.{content_type}")
            with open(input_file, "w", encoding="utf-8") as f:
                f.write(payload)
        else:
            input_file = os.path.abspath(input_path)
        local, _ = local_model_dir(model_uri)
        env = prepare_env_for_model_dir(local)
        result_file = os.path.join(work, "predictions.json")
        run_in_env(
            env.python,
            os.path.abspath(local),
            input_file,
            content_type,
            result_file,
            os.path.join(work, "error.json"),
            verify,
            subprocess_env(),
        )
        with open(result_file, encoding="utf-8") as f:
            text = f.read()
    _write_output(text, output_path)
    return json.loads(text)["predictions"]
