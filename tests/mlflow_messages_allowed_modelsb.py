"""Raise sites of fsregistry's model environments, saving, hashes, models from code, custom
models, ``add_libraries_to_model`` and ``predict`` with no MLflow counterpart, each with its
reason (see tests/mlflow_messages.py; the compared ones are in tests/mlflow_messages_modelsb.py).
"""

from __future__ import annotations

from tests.mlflow_messages_base import Allowed

ENV = "fsregistry/models/environment.py"
HSH = "fsregistry/models/hashes.py"
MOD = "fsregistry/models/model.py"
SAV = "fsregistry/models/saving.py"
WHL = "fsregistry/models/wheeled_model.py"
FC = "fsregistry/pyfunc/from_code.py"
PM = "fsregistry/pyfunc/model.py"
DEP = "fsregistry/models/dependencies_schemas.py"

_HASHES = (
    "fsregistry-only: the model's file-hash manifest (fsreg.hashes.json) and the digest the "
    "registry records are fsregistry's integrity check; MLflow writes no hashes and loads "
    "whatever files it finds"
)
_FILE_NOT_FOUND = (
    "fsregistry-only: a requirements or conda file path that is not a file, refused before "
    "anything is written; MLflow opens it and lets the FileNotFoundError out"
)
_MLMODEL_DAMAGED = (
    "fsregistry-only: a damaged MLmodel file; MLflow's Model.load lets yaml's error or an "
    "AttributeError out"
)

ALLOWED_MODELSB: tuple[Allowed, ...] = (
    # -- models/cache.py ----------------------------------------------------------------------
    Allowed(
        "fsregistry/models/cache.py",
        "Invalid model URI {}: expected a non-empty string",
        "fsregistry-only argument check: MLflow's load_model resolves '' as the current "
        "directory (then 'Could not find an \"MLmodel\" configuration file') and fails on a "
        "non-string with an AttributeError",
    ),
    # -- models/dependencies_schemas.py -------------------------------------------------------
    Allowed(
        DEP,
        "set_retriever_schema: {} must be a string",
        "fsregistry-only argument type check: MLflow's set_retriever_schema stores any value "
        "and writes it into the MLmodel's metadata as is",
    ),
    Allowed(
        DEP,
        "other_columns must be a list of strings",
        "fsregistry-only argument type check: MLflow's set_retriever_schema stores any value "
        "and writes it into the MLmodel's metadata as is",
    ),
    # -- models/environment.py ----------------------------------------------------------------
    Allowed(
        ENV,
        "Not a readable pickle",
        "fsregistry-only: requirements are inferred by reading the model's pickle as data; "
        "MLflow imports the model in a subprocess (utils/_capture_modules.py) instead",
    ),
    Allowed(
        ENV,
        "Not a readable skops file",
        "fsregistry-only: requirements are inferred by reading the skops file's schema; MLflow "
        "imports the model in a subprocess (utils/_capture_modules.py) instead",
    ),
    Allowed(ENV, "is not a file", _FILE_NOT_FOUND),
    Allowed(
        ENV,
        "uses the 'defaults' channel",
        "fsregistry-only policy: conda environments are written for conda-forge only; MLflow "
        "writes any channel it is given",
    ),
    Allowed(
        ENV,
        "conda_env must describe a mapping",
        "fsregistry-only: a conda.yaml file whose YAML is not a mapping; MLflow fails in "
        "_get_pip_deps with an AttributeError",
    ),
    Allowed(
        ENV,
        "operation must be 'add' or 'remove'",
        "fsregistry-only argument check: MLflow's update_model_requirements treats any "
        "operation other than 'add' as 'remove'",
    ),
    Allowed(
        ENV,
        "requirement_list must be a list of strings",
        "fsregistry-only argument type check: MLflow's update_model_requirements calls "
        ".strip() on each item (an AttributeError; a string is taken letter by letter)",
    ),
    # -- models/hashes.py ---------------------------------------------------------------------
    Allowed(HSH, "is malformed", _HASHES),
    Allowed(HSH, "is not valid JSON", _HASHES),
    Allowed(HSH, "are not the expected", _HASHES),
    Allowed(HSH, "are not the ones the registry recorded", _HASHES),
    Allowed(HSH, "does not match the file hashes recorded", _HASHES),
    Allowed(HSH, "so its files cannot be verified", _HASHES),
    Allowed(HSH, "so it cannot be checked against expected_digest", _HASHES),
    Allowed(HSH, "but the registry recorded the digest", _HASHES),
    # -- models/model.py ----------------------------------------------------------------------
    Allowed(
        MOD,
        "This model has no run_id/artifact_path",
        "fsregistry-only: Model.load_input_example() on a model never logged; MLflow builds "
        "the URI 'runs:/None/None' and fails reading it",
    ),
    Allowed(MOD, "Invalid MLmodel content: expected a mapping", _MLMODEL_DAMAGED),
    Allowed(MOD, "'flavors' must be a mapping", _MLMODEL_DAMAGED),
    Allowed(MOD, "is not valid YAML", _MLMODEL_DAMAGED),
    # -- models/requirements_inference.py -----------------------------------------------------
    Allowed(
        "fsregistry/models/requirements_inference.py",
        "timeout must be a positive number of seconds",
        "fsregistry-only argument check: MLflow hands the timeout to signal.alarm unchecked "
        "(a TypeError for a string; 0 or less means no timeout)",
    ),
    # -- models/saving.py ---------------------------------------------------------------------
    Allowed(
        SAV,
        "already exists and is a file",
        "fsregistry-only: the save path is a file; MLflow's "
        "_validate_and_prepare_target_save_path lets os.scandir's NotADirectoryError out",
    ),
    Allowed(
        SAV,
        "signature must be a ModelSignature",
        "fsregistry-only argument type check: MLflow fails reading the signature's .inputs "
        "(an AttributeError, wrapped as 'Input example does not match the model signature' "
        "when an input example is given)",
    ),
    Allowed(
        SAV,
        "metadata must be a dict",
        "fsregistry-only argument type check: MLflow's log_model writes any metadata value "
        "into the MLmodel as is",
    ),
    Allowed(
        SAV,
        "{} must be a dict, got {}",
        "fsregistry-only argument type check of log_model's tags and params: MLflow fails "
        "with an AttributeError ('items') or a TypeError ('not a mapping')",
    ),
    Allowed(
        SAV,
        "step must be an int",
        "fsregistry-only argument type check: MLflow's log_model accepts any step and passes "
        "it on to the logged model's metrics",
    ),
    Allowed(
        SAV,
        "cannot be rewritten",
        "fsregistry-only: the hash manifest and fsregistry's own files of a stored model "
        "cannot be replaced through rewrite_model_files; MLflow has no manifest",
    ),
    # -- models/wheeled_model.py --------------------------------------------------------------
    Allowed(
        WHL,
        "Could not run pip to download the wheels",
        "fsregistry-only: starting pip failed (an OSError of subprocess.run); MLflow lets "
        "that OSError out",
    ),
    # -- pyfunc/from_code.py ------------------------------------------------------------------
    Allowed(
        FC,
        "as a Python file",
        "fsregistry-only: importlib finds no loader for the model file (not a .py path); "
        "MLflow fails on spec.loader with an AttributeError",
    ),
    Allowed(
        FC,
        "metadata must be a dict",
        "fsregistry-only argument type check: MLflow's save_model writes any metadata value "
        "into the MLmodel as is",
    ),
    Allowed(
        FC,
        "not a model from code",
        "fsregistry-only: a damaged MLmodel whose loader is the model-from-code one but that "
        "has no model_code_path; MLflow's loader fails with a KeyError",
    ),
    # -- pyfunc/model.py ----------------------------------------------------------------------
    Allowed(
        PM,
        "Invalid artifact URI",
        "fsregistry-only: an artifacts= URI with a scheme but no path; MLflow fails when it "
        "picks the artifact repository for it (an ImportError or its 'Could not find a "
        "registered artifact repository')",
    ),
    Allowed(
        PM,
        "artifacts must be a dict",
        "fsregistry-only argument type check: MLflow calls artifacts.items() (an AttributeError)",
    ),
    Allowed(
        PM,
        "Compressed python models",
        "fsregistry-only limitation: MLflow loads a python_model pickled with compression; "
        "fsregistry refuses it rather than load it wrongly",
    ),
)
