"""``fsregistry.models.predict``: score a model on JSON or CSV input, in this environment
(:func:`fsregistry.pyfunc.predict.predict_local`) or in the model's own virtualenv
(``env_manager="virtualenv"`` or ``"uv"``, built by :mod:`fsregistry.envs`), where
:mod:`fsregistry.envs.predict_runner` runs the same local scoring with the environment's
interpreter.
"""

from __future__ import annotations

import json
import os
from typing import Any, Literal

from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.env_manager import LOCAL, UV, VIRTUALENV, check_env_manager
from fsregistry.pyfunc.predict import csv_text, predict_local, write_output

#: ``env_manager`` values :func:`predict` accepts (and None, for ``"local"``).
ENV_MANAGERS = (LOCAL, VIRTUALENV, UV)


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
    decoded from that JSON; ``"uv"`` does the same with an environment uv builds. ``"conda"``
    is not supported.
    """
    if content_type not in ("json", "csv"):
        raise InvalidParameterValue(
            f"Content type must be one of json or csv. Got {content_type!r}"
        )
    check_env_manager(
        LOCAL if env_manager is None else env_manager,
        ENV_MANAGERS,
        " ('local' or None for the current environment, 'virtualenv' or 'uv' for the model's "
        "own environment)",
    )
    if input_data is not None and input_path is not None:
        raise InvalidParameterValue(
            "Both input_data and input_path are provided. Only one of them should be specified."
        )
    if input_data is None and input_path is None:
        raise InvalidParameterValue(
            "Neither input_data nor input_path is provided: give one of them (fsregistry does "
            "not read the input from stdin)"
        )
    if input_path is not None and not os.path.isfile(input_path):
        raise InvalidParameterValue(f"input_path {os.fspath(input_path)!r} is not a file")
    if env_manager in ("virtualenv", "uv"):
        return _predict_in_virtualenv(
            model_uri, input_data, input_path, content_type, output_path, verify, env_manager
        )
    return predict_local(model_uri, input_data, input_path, content_type, output_path, verify)


def _predict_in_virtualenv(
    model_uri: str,
    input_data: Any,
    input_path: str | os.PathLike[str] | None,
    content_type: Literal["json", "csv"],
    output_path: str | os.PathLike[str] | None,
    verify: bool,
    env_manager: str,
) -> Any:
    """Same input handling and output as the local path, run by the model environment's
    interpreter (``fsregistry.envs.predict_runner``) on the locally cached model."""
    import tempfile

    from fsregistry.envs import prepare_env_for_model_dir
    from fsregistry.envs.builder import subprocess_env
    from fsregistry.envs.predict_runner import run_in_env
    from fsregistry.models.input_example import convert_input_example_to_serving_input
    from fsregistry.pyfunc import fetch_verified_model

    with tempfile.TemporaryDirectory(prefix="fsreg-predict-") as work:
        if input_path is None:
            if content_type == "json":
                payload = convert_input_example_to_serving_input(input_data) or ""
            else:
                payload = csv_text(input_data)
            input_file = os.path.join(work, f"input.{content_type}")
            with open(input_file, "w", encoding="utf-8") as f:
                f.write(payload)
        else:
            input_file = os.path.abspath(input_path)
        local = fetch_verified_model(model_uri, verify=verify)
        env = prepare_env_for_model_dir(local, env_manager=env_manager)
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
    write_output(text, output_path)
    return json.loads(text)["predictions"]
