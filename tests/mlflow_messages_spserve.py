"""MLflow's messages for ``spark_udf``, ``models.predict``, the flavor backend and the
``env_manager`` check (tests/mlflow_messages.py's table, serving part).

``spark_udf``'s triggers run without a Spark session (the checks come before Spark is used), or
call the driver/executor conversion functions directly; MLflow 3.17.2's venv has no pyspark, so
they are fsregistry-only (``in_mlflow3=False``) and the note names MLflow's source. The serving
answers (HTTP bodies) are checked in tests/test_serving.py (see
tests/mlflow_messages_allowed_spserve.py).
"""

from __future__ import annotations

from tests.mlflow_messages_base import INTERNAL, INVALID, MISSING, Message, validation

PYF = "mlflow/pyfunc/__init__.py"
PYAPI = "mlflow/models/python_api.py"
EM = "fsregistry/models/env_manager.py"
SP = "fsregistry/pyfunc/spark.py"
SPX = "fsregistry/pyfunc/spark_executor.py"
FB = "fsregistry/serving/flavor_backend.py"
#: The module with ``get_flavor_backend``: fsregistry's serving module, MLflow's registry.
_BACKENDS = (
    'importlib.import_module(m.__name__ + (".serving.flavor_backend" if m.__name__ == '
    '"fsregistry" else ".models.flavor_backend_registry"))'
)
_SPARK_T = '__import__("pyspark.sql.types", fromlist=["T"])'
_SPARK = 'importlib.import_module(m.__name__ + ".pyfunc.spark")'
_SPARK_X = 'importlib.import_module(m.__name__ + ".pyfunc.spark_executor")'
_MANAGERS = r"Must be one of \['local', 'conda', 'virtualenv', 'uv'\]"


_v = validation


SPSERVE: tuple[Message, ...] = (
    _v(
        "models.predict: unknown env_manager",
        r"Invalid value for `env_manager`: bad\. " + _MANAGERS,
        INVALID,
        "mlflow/utils/env_manager.py:validate",
        'm.models.predict("x", input_data=1, env_manager="bad")',
        (EM, "Invalid value for `env_manager`"),
        in_mlflow3=False,
        note="MLflow's models.predict does not check env_manager itself (it fails later, in "
        "the flavor backend); validate's text is what MLflow's spark_udf, evaluate and the "
        "--env-manager option of `mlflow models serve/predict` raise for it",
    ),
    _v(
        "spark_udf: unknown env_manager",
        r"Invalid value for `env_manager`: docker\. " + _MANAGERS,
        INVALID,
        f"{PYF}:spark_udf (mlflow/utils/env_manager.py:validate)",
        'm.pyfunc.spark_udf(None, "x", env_manager="docker")',
        in_mlflow3=False,
        note="MLflow's venv has no pyspark; spark_udf calls _EnvManager.validate first",
    ),
    _v(
        "spark_udf: prebuilt_env_uri with env_manager='local'",
        r"If 'prebuilt_env_uri' parameter is set, 'env_manager' parameter must be either None, "
        r"'virtualenv', or 'uv'\.",
        INTERNAL,
        f"{PYF}:spark_udf",
        'm.pyfunc.spark_udf(None, "x", env_manager="local", prebuilt_env_uri="/tmp/env.tar")',
        (SP, "If 'prebuilt_env_uri' parameter is set"),
        in_mlflow3=False,
        fs_code=INVALID,
        note="MLflow's venv has no pyspark; MLflow raises it with MlflowException's default "
        "code (INTERNAL_ERROR), fsregistry with INVALID_PARAMETER_VALUE (a bad argument)",
    ),
    _v(
        "spark_udf: result type not supported",
        r"Invalid 'spark_udf' result type: BinaryType\(\)\.",
        INVALID,
        f"{PYF}:spark_udf",
        f"{_SPARK}.parse_result_type({_SPARK_T}.BinaryType())",
        (SP, ". Unsupported: "),
        in_mlflow3=False,
        note="MLflow's venv has no pyspark; fsregistry also refuses map<string, ...> results, "
        "which MLflow accepts, with this text",
    ),
    _v(
        "spark_udf: result type not a type",
        r"Invalid 'spark_udf' result type: 42\.",
        INVALID,
        f"{PYF}:spark_udf (_check_udf_return_type is False)",
        f"{_SPARK}.parse_result_type(42)",
        (SP, ". Expected a pyspark DataType or a DDL string"),
        in_mlflow3=False,
        note="MLflow's venv has no pyspark",
    ),
    _v(
        "spark_udf: model without python_function flavor",
        r'Model does not have the "python_function" flavor',
        MISSING,
        "mlflow/utils/model_utils.py:_get_flavor_configuration (spark_udf's load_model)",
        "m.pyfunc.spark_udf(None, NOPF)",
        (SP, 'Model does not have the "{}" flavor'),
        in_mlflow3=False,
        note="MLflow's venv has no pyspark; MLflow raises it when the model is loaded (on "
        "executors with env_manager='local'), fsregistry when the UDF is made",
    ),
    _v(
        "spark_udf: no prediction column fits the result type",
        r"The model did not produce any values compatible with the requested type "
        r"'IntegerType\(\)'\. Consider requesting udf with StringType or Arraytype\(StringType\)\.",
        INVALID,
        f"{PYF}:spark_udf._predict_row_batch",
        f'{_SPARK_X}.to_spark_values(pd.DataFrame({{"s": ["x"]}}), {_SPARK_T}.IntegerType(), 1)',
        (SPX, "spark_udf: no column of the model's predictions"),
        in_mlflow3=False,
        note="raised on executors (MLflow's venv has no pyspark); the trigger calls the "
        "executor's conversion of one batch",
    ),
    _v(
        "spark_udf: no prediction column fits the array result type",
        r"The model did not produce any values compatible with the requested type "
        r"'LongType\(\)'\. Consider requesting udf with StringType",
        INVALID,
        f"{PYF}:spark_udf._predict_row_batch",
        f'{_SPARK_X}.to_spark_values(pd.DataFrame({{"s": ["x"]}}), '
        f"{_SPARK_T}.ArrayType({_SPARK_T}.LongType()), 1)",
        (SPX, "spark_udf: no column of {} {} fits"),
        in_mlflow3=False,
        note="raised on executors (MLflow's venv has no pyspark); MLflow names the element type",
    ),
    _v(
        "models.predict: unknown content type",
        r"Content type must be one of json or csv\.",
        INVALID,
        f"{PYAPI}:predict",
        'm.models.predict("x", input_data=1, content_type="xml")',
        ("fsregistry/envs/predict.py", "Content type must be one of json or csv."),
    ),
    _v(
        "models.predict: both input_data and input_path",
        r"Both input_data and input_path are provided\. Only one of them should be specified\.",
        INVALID,
        f"{PYAPI}:predict",
        'm.models.predict("x", input_data=1, input_path="in.json")',
        ("fsregistry/envs/predict.py", "Both input_data and input_path are provided."),
    ),
    _v(
        "flavor backend: no python_function flavor",
        r"No suitable flavor backend was found for the model\.",
        "",
        "mlflow/models/flavor_backend_registry.py:get_flavor_backend",
        f"{_BACKENDS}.get_flavor_backend(NOPF)",
        (FB, "No suitable flavor backend was found for the model."),
        fs_code=INVALID,
        note="MLflow raises a plain Exception (no error code)",
    ),
    _v(
        "flavor backend: predict with an unknown content type",
        r"Unknown content type 'xml'",
        "",
        "mlflow/pyfunc/scoring_server/__init__.py:_predict",
        f'{_BACKENDS}.get_flavor_backend(None, env_manager="local").predict("x", None, None, '
        '"xml")',
        (FB, "Unknown content type '{}'."),
        in_mlflow3=False,
        fs_code=INVALID,
        note="MLflow raises a plain Exception (no error code), after loading the model (so "
        "the same trigger fails earlier there, on the missing model); fsregistry checks first",
    ),
)
