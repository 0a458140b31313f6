"""Raise sites of ``spark_udf``, serving and model environments with no MLflow counterpart (or
whose MLflow text is checked outside the table), each with its reason (see
tests/mlflow_messages.py)."""

from __future__ import annotations

from tests.mlflow_messages_base import Allowed

SP = "fsregistry/pyfunc/spark.py"
SPX = "fsregistry/pyfunc/spark_executor.py"
APP = "fsregistry/serving/app.py"
DC = "fsregistry/serving/docker_context.py"
FB = "fsregistry/serving/flavor_backend.py"
SRV = "fsregistry/serving/server.py"
SPEC = "fsregistry/envs/spec.py"

_SPARK_COLUMNS = (
    "MLflow's text (mlflow/pyfunc/__init__.py:spark_udf.udf_with_default_cols / "
    "_predict_row_batch), then fsregistry's detail; applying the UDF needs a Spark session and "
    "a logged model, so tests/test_spark_udf.py::test_bad_arguments_are_clear_errors checks the "
    "text instead of a table trigger"
)
_SPARK_CONVERSION = (
    "fsregistry-only: a prediction that does not fit the declared Spark type; MLflow's "
    "executor lets numpy/pandas fail (astype ValueError, KeyError for a missing struct field) "
    "or Arrow refuse the batch, with no MlflowException"
)
_SPEC = (
    "fsregistry-only: reading the model's python_env.yaml/requirements.txt/conda.yaml for the "
    "environment builder; MLflow's _PythonEnv.from_yaml and yaml.safe_load fail with raw "
    "TypeError/KeyError/YAMLError, or MLflow falls back to its defaults"
)
_LIMITS = (
    "fsregistry-only: the scoring server's request size and time limits and its options; "
    "MLflow's `mlflow models serve` options are click-typed (click's usage error) and it has "
    "no size limit"
)
_DOCKER = (
    "fsregistry-only: Docker context checks (MLflow's mlflow/models/docker_utils.py writes "
    "whatever it is given and lets docker fail)"
)

SPSERVE_ALLOWED: tuple[Allowed, ...] = (
    # -- env_manager -----------------------------------------------------------------------
    Allowed(
        "fsregistry/models/env_manager.py",
        "is not supported",
        "fsregistry-only: an env_manager MLflow accepts (conda anywhere; virtualenv/uv in "
        "spark_udf) that fsregistry does not build; an unknown value gets MLflow's validate "
        "text (table entry 'models.predict: unknown env_manager')",
    ),
    # -- spark_udf, driver -----------------------------------------------------------------
    Allowed(
        SP,
        ". Not a Spark type",
        "MLflow lets pyspark's own ParseException out for a DDL string that is no type "
        "(_parse_spark_datatype); fsregistry says it with MLflow's \"Invalid 'spark_udf' "
        'result type: " text (tests/test_spark_udf.py::test_bad_arguments_are_clear_errors)',
    ),
    Allowed(
        SP,
        "spark_udf cannot derive a Spark result type",
        "fsregistry-only wording: MLflow (_infer_spark_udf_return_type) maps more output "
        "schemas (binary, map) and refuses the rest spec by spec ('Failed to convert schema "
        "type ...', 'Model output tensor spec type ... is not supported in spark_udf.'); kept "
        "in fsregistry's one wording (tests/test_spark_udf.py checks it)",
    ),
    Allowed(
        SP,
        "spark_udf: prebuilt_env_uri=",
        "env_manager None: MLflow raises RuntimeError \"'prebuilt_env' parameter can only be used in Databricks "
        "Serverless...\" (no MlflowException); fsregistry's spark_udf builds no environments",
    ),
    Allowed(
        SP,
        "spark_udf: extra_env",
        "fsregistry-only argument check: MLflow passes extra_env to os.environ on executors, "
        "which fails there with a raw TypeError",
    ),
    Allowed(SP, "spark_udf: invalid extra_env variable name", "fsregistry-only: as extra_env"),
    Allowed(
        SP,
        "spark_udf: model_config",
        "fsregistry-only: MLflow passes model_config to load_model on executors unchecked "
        "(a raw yaml/OSError or pickling error there)",
    ),
    Allowed(
        SP,
        "spark_udf: cannot read model_config file",
        "fsregistry-only: MLflow opens the file on executors (raw OSError)",
    ),
    Allowed(
        SP,
        "this Spark session cannot ship files to executors",
        "fsregistry-only: Spark Connect without a bucket store; MLflow uses Databricks-only "
        "NFS/addArtifact paths here",
    ),
    Allowed(
        SP,
        "spark_udf: arguments must be column names or Columns",
        "fsregistry-only argument type check: MLflow's pandas_udf raises pyspark's "
        "PySparkTypeError (NOT_COLUMN_OR_STR)",
    ),
    Allowed(
        SP,
        "spark_udf: got {} columns but the model's signature has",
        "fsregistry-only: MLflow silently drops columns beyond the signature's inputs",
    ),
    Allowed(SP, "Cannot apply UDF without column names specified", _SPARK_COLUMNS),
    Allowed(
        SP,
        "Cannot apply udf because no column names specified",
        _SPARK_COLUMNS + "; MLflow 3.17.2's text lacks an f-prefix on one line, so it shows "
        "'{input_schema.inputs}' literally where fsregistry shows the input types (a bug not "
        "copied: the rest of the text is MLflow's, word for word)",
    ),
    Allowed(SP, "Attempting to apply udf on zero columns", _SPARK_COLUMNS),
    Allowed(SP, "spark_udf: the model needs the columns", _SPARK_COLUMNS),
    Allowed(SP, "spark_udf: the model needs the inputs", _SPARK_COLUMNS),
    # -- spark_udf, executors --------------------------------------------------------------
    Allowed(SPX, "spark_udf cannot convert predictions of type", _SPARK_CONVERSION),
    Allowed(SPX, "not a list, so it cannot be a", _SPARK_CONVERSION),
    Allowed(SPX, "whose values do not fit", _SPARK_CONVERSION),
    Allowed(SPX, "should be one column of lists", _SPARK_CONVERSION),
    Allowed(SPX, "for the struct field of that name", _SPARK_CONVERSION),
    Allowed(SPX, "does not fit the struct field type", _SPARK_CONVERSION),
    Allowed(
        SPX,
        "spark_udf: the model returned {} predictions for a batch of",
        "fsregistry-only: MLflow returns the wrong-length Series and Arrow fails the task",
    ),
    Allowed(
        SPX,
        "spark_udf: a struct argument must be the only argument",
        "fsregistry-only: MLflow builds a DataFrame of dict cells from it, which the model "
        "then refuses in its own words",
    ),
    Allowed(
        SPX,
        "spark_udf: got {} columns but the model's signature has",
        "fsregistry-only: MLflow silently drops columns beyond the signature's inputs",
    ),
    # -- serving ---------------------------------------------------------------------------
    Allowed(APP, "", _LIMITS),
    Allowed(
        "fsregistry/serving/settings.py",
        "",
        "fsregistry-only: the server's limits from environment variables; MLflow reads "
        "MLFLOW_SCORING_SERVER_REQUEST_TIMEOUT with int() (raw ValueError)",
    ),
    Allowed(SRV, "Invalid port", _LIMITS),
    Allowed(SRV, "Invalid number of workers", _LIMITS),
    Allowed(SRV, "Invalid timeout", _LIMITS),
    Allowed(SRV, "Invalid request size limit", _LIMITS),
    Allowed(SRV, "The host to listen on must not be empty", _LIMITS),
    Allowed(
        SRV,
        "Serving models needs uvicorn",
        "fsregistry-only: MLflow installs uvicorn with mlflow itself (raw ImportError if not)",
    ),
    Allowed(
        "fsregistry/serving/protocol.py",
        "Invalid input. Ensure that input is a valid",
        "MLflow's text (mlflow/pyfunc/scoring_server/__init__.py:invocations for CSV, "
        "_decode_json_input for JSON) in an HTTP answer; "
        "tests/test_serving.py::test_sklearn_model_from_store (check_errors_contain_mlflows_text) "
        "checks it",
    ),
    Allowed(
        FB,
        "install_mlflow=True is not supported",
        "fsregistry-only: fsregistry images serve with fsregistry; MLflow installs mlflow",
    ),
    Allowed(FB, "mlflow_home={} is not supported", "fsregistry-only: as install_mlflow"),
    Allowed(
        FB,
        "build_docker needs model_uri",
        "fsregistry-only: MLflow builds a model-less image for a mounted /opt/ml/model",
    ),
    Allowed(
        FB,
        "workers must be a positive integer",
        "fsregistry-only argument check: MLflow passes workers to uvicorn/gunicorn unchecked",
    ),
    Allowed(
        FB,
        "Cannot start the scoring server",
        "fsregistry-only: MLflow lets Popen's raw OSError out",
    ),
    Allowed(
        FB,
        "The scoring server for {} exited with code",
        "fsregistry-only: MLflow's serve returns the process (or raises ShellCommandException "
        "with 'Non-zero exit code', no MlflowException)",
    ),
    Allowed(DC, "Cannot read the model's Python version", _DOCKER),
    Allowed(DC, "The model was saved with Python", _DOCKER),
    Allowed(DC, "Output directory {} exists and is not an empty directory", _DOCKER),
    Allowed(DC, "Invalid base image", _DOCKER),
    Allowed(DC, "Invalid image name", _DOCKER),
    Allowed(DC, "has neither {} nor {}: nothing says what the image must install", _DOCKER),
    Allowed(
        DC,
        "The docker client is not installed",
        "fsregistry-only: MLflow's docker_utils calls the docker SDK/CLI and lets its raw "
        "error out",
    ),
    Allowed(DC, "Cannot run the docker client", "fsregistry-only: as a missing docker client"),
    Allowed(DC, "Cannot reach the Docker engine", "fsregistry-only: as a missing docker client"),
    Allowed(
        DC,
        "Docker build failed.",
        "MLflow's RuntimeError('Docker build failed.') text (mlflow/models/docker_utils.py:"
        "build_image_from_context), then fsregistry's detail; needs a docker client that fails "
        "a build: tests/test_docker_context.py::test_build_docker_with_a_fake_docker checks it",
    ),
    Allowed(
        "fsregistry/serving/wheel.py",
        "",
        "fsregistry-only: the fsregistry wheel copied into images and environments",
    ),
    # -- model environments ----------------------------------------------------------------
    Allowed(
        "fsregistry/envs/builder.py",
        "Could not build the model environment",
        "fsregistry-only wording of a failed venv/pip/uv step: MLflow raises "
        "ShellCommandException ('Non-zero exit code: ...', mlflow/utils/process.py), a plain "
        "Exception with no error code, and keeps the half-built environment",
    ),
    Allowed(
        "fsregistry/envs/interpreters.py",
        "The model needs Python",
        "fsregistry-only: fsregistry looks for an installed interpreter (PATH, pyenv); MLflow "
        'installs one with pyenv/uv, failing with "Could not find the pyenv binary" or a '
        "ShellCommandException instead",
    ),
    Allowed(
        "fsregistry/envs/predict.py",
        "Neither input_data nor input_path is provided",
        "fsregistry-only: MLflow's models.predict then reads the input from stdin",
    ),
    Allowed(
        "fsregistry/envs/predict.py",
        "input_path {} is not a file",
        "fsregistry-only: MLflow lets the scoring subprocess fail on open() (raw "
        "FileNotFoundError in its output)",
    ),
    Allowed(
        "fsregistry/envs/predict_runner.py",
        "Prediction failed in the model environment",
        "fsregistry-only: the model environment's process died without an error report; "
        'MLflow (mlflow/pyfunc/backend.py:predict) says "An exception occurred while running '
        'model prediction within a virtualenv environment" for every failure and points to '
        "the output above; fsregistry re-raises the model's own MlflowException when there is "
        "one and quotes the last lines otherwise",
    ),
    Allowed(
        "fsregistry/envs/uv.py",
        "Found 'uv' as env_manager, but the 'uv' command is not found in the PATH.",
        "MLflow's text (mlflow/models/python_api.py:predict), then fsregistry's install hint; "
        "the trigger needs uv hidden from the process (uv is a test dependency): "
        "tests/test_envs.py::test_uv_missing_is_a_clear_error_and_writes_nothing checks it; "
        "MLflow raises it with no error code, fsregistry with EnvironmentBuildError's",
    ),
    Allowed(SPEC, "Invalid Python version", _SPEC),
    Allowed(SPEC, "extras must be a list of pip requirement strings", _SPEC),
    Allowed(SPEC, "Invalid extra requirements", _SPEC),
    Allowed(SPEC, "must be a list of strings, got", _SPEC),
    Allowed(SPEC, "is not valid YAML", _SPEC),
    Allowed(SPEC, "must hold a mapping, got", _SPEC),
    Allowed(SPEC, "does not say which Python ('python:') to use", _SPEC),
    Allowed(SPEC, "is ambiguous (YAML reads 3.10 as 3.1)", _SPEC),
    Allowed(
        SPEC,
        "its conda.yaml lists conda packages pip cannot install",
        "fsregistry-only: MLflow's virtualenv manager drops conda-only dependencies silently "
        "(_PythonEnv.from_conda_yaml keeps only pip ones)",
    ),
    Allowed(SPEC, "which is not in the model directory", _SPEC),
    Allowed(
        SPEC,
        "nothing says what its environment is",
        "fsregistry-only: MLflow builds a default environment (current Python, mlflow) for a "
        "model with no environment files",
    ),
)
