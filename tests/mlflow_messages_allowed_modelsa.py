"""Raise sites of the schema, inference, input-example and model-config modules with no MLflow
counterpart (issue 20; tests/mlflow_messages.py joins them into ``ALLOWED``): what MLflow 3.17.2
does instead."""

from __future__ import annotations

from tests.mlflow_messages_base import Allowed

_SC = "fsregistry/models/schema.py"
_PA = "fsregistry/models/params.py"
_IE = "fsregistry/models/input_example.py"
_CF = "fsregistry/models/model_config.py"
_RAW_JSON = (
    "fsregistry-only: MLflow's {}.from_json runs json.loads and indexes the result unchecked, "
    "letting a JSONDecodeError, TypeError or KeyError out of a damaged MLmodel signature"
)

ALLOWED_MODELSA: tuple[Allowed, ...] = (
    Allowed(_SC, "Invalid schema JSON", _RAW_JSON.format("Schema")),
    Allowed(_SC, "Schema JSON must be a list", _RAW_JSON.format("Schema")),
    Allowed(_SC, "Schema entries must be objects", _RAW_JSON.format("Schema")),
    Allowed(
        _SC,
        "Unknown tensor dtype",
        "fsregistry-only: MLflow's TensorInfo.from_json_dict lets numpy's TypeError for an "
        "unknown dtype name out",
    ),
    Allowed(
        _SC,
        "Duplicated input names in Schema",
        "fsregistry-only: MLflow's Schema accepts two inputs of one name (its enforcement then "
        "reads the same column for both)",
    ),
    Allowed(_PA, "Invalid params JSON", _RAW_JSON.format("ParamSchema")),
    Allowed(_PA, "Params JSON must be a list of objects", _RAW_JSON.format("ParamSchema")),
    Allowed(
        "fsregistry/models/signature.py",
        "Invalid signature {}: expected a dict",
        "fsregistry-only: MLflow's ModelSignature.from_dict calls .get on its argument and "
        "lets the AttributeError out",
    ),
    Allowed(
        _IE,
        "Input example is not JSON-serializable",
        "fsregistry-only: MLflow's _Example lets json.dumps' TypeError out",
    ),
    Allowed(
        _IE,
        "'params' must be a JSON object",
        "fsregistry-only: MLflow's scoring server passes a non-object 'params' on to "
        "predict unchecked",
    ),
    Allowed(
        _IE,
        "Unsupported pandas orient",
        "fsregistry-only: an internal caller's argument; MLflow's dataframe_from_parsed_json "
        "with another orient fails with an UnboundLocalError",
    ),
    Allowed(
        _CF,
        "development_config must be a dict or a YAML file path",
        "fsregistry-only: MLflow's ModelConfig passes any value to os.path.isfile (an int is "
        "taken as a file descriptor) and raises FileNotFoundError or a TypeError",
    ),
    Allowed(
        _CF,
        "could not be read",
        "fsregistry-only: an unreadable configuration file; MLflow lets open()'s OSError out",
    ),
    Allowed(
        _CF,
        "MLFLOW_PYFUNC_INFERENCE_CONFIG must be a JSON object",
        "fsregistry-only: MLflow's _get_overridden_pyfunc_model_config lets json.loads' "
        "JSONDecodeError (or dict()'s error) out",
    ),
)
