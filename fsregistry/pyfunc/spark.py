"""Score a model on Spark DataFrames: ``fsregistry.pyfunc.spark_udf`` (MLflow's
``mlflow.pyfunc.spark_udf``).

The driver resolves the model URI once (``models:/name@alias``, ``runs:/...``, a path, a bucket
URI) to the model's concrete location and reads only its ``MLmodel`` and hash manifest; the UDF
carries that location, the manifest digest and a few environment variables, never the model
itself and never the registry. Each executor Python worker loads the model from the location the
first time it scores a batch and keeps it for the life of the process (Spark reuses Python
workers, ``spark.python.worker.reuse``), so a model is loaded once per worker, not per batch or
per task. Executors load with ``expected_digest`` pinned to the manifest the driver saw, so every
executor scores exactly the model the driver resolved, checked before anything is unpickled.

Where the files come from on executors:

* a bucket (``s3://``, ``gs://``): executors read it directly (one download per machine, into
  the model cache, see :mod:`fsregistry.models.cache`). They need credentials for it from their
  own environment (instance role, ``spark.executorEnv.*``) or from ``extra_env``. The
  driver's endpoint settings (``AWS_ENDPOINT_URL``, ``AWS_ENDPOINT_URL_S3``,
  ``STORAGE_EMULATOR_HOST``), which are not secrets, go with the UDF so executors reach the
  endpoint the location was resolved against; credentials never do unless given in
  ``extra_env``.
* a local path: in local mode (``local``/``local[n]``) executors share the driver's disk and
  read it in place; on a cluster the driver zips the model once and ships it with
  ``SparkContext.addArchive``, as MLflow does.

This module is the driver's side: checking the arguments, resolving and reading the model,
choosing the result type (given, or from the output schema), shipping a local model, and building
the UDF. What executors run (loading, batch conversion, predicting) is
:mod:`fsregistry.pyfunc.spark_executor`, which imports nothing of this module.

This module imports pyspark and pyarrow; ``fsregistry.pyfunc.spark_udf`` imports it only when
called (``pip install 'fsregistry[spark]'``).
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Mapping
from typing import Any

from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist
from fsregistry.models.cache import (
    MLMODEL_FILE_NAME,
    local_path_or_none,
    read_model_file,
    resolve_location,
)
from fsregistry.models.env_manager import LOCAL, check_env_manager
from fsregistry.models.hashes import HASHES_FILE, manifest_digest
from fsregistry.models.model import Model
from fsregistry.models.schema import Array, ColSpec, DataType, Schema, TensorSpec
from fsregistry.pyfunc.spark_executor import (
    PRIMITIVES,
    SPARK_EXTRA_HINT,
    ModelSource,
    make_predict_batches,
    to_spark_values,
)

try:
    from pyspark.sql import Column, SparkSession
    from pyspark.sql import types as T
    from pyspark.sql.functions import col, struct
    from pyspark.sql.pandas.functions import pandas_udf
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        f"fsregistry.pyfunc.spark_udf needs PySpark and PyArrow ({exc}): {SPARK_EXTRA_HINT}"
    ) from exc

#: ``ModelSource`` and ``to_spark_values`` live in the executor module and stay importable here.
__all__ = [
    "FORWARDED_ENV_VARS",
    "ModelSource",
    "infer_result_type",
    "parse_result_type",
    "spark_udf",
    "to_spark_values",
]

_logger = logging.getLogger(__name__)


#: Endpoint settings the storage layer reads; forwarded from the driver (never credentials).
FORWARDED_ENV_VARS = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "STORAGE_EMULATOR_HOST")

#: MLflow's refusal of a result type (``spark_udf``), followed by the type.
_INVALID_RESULT_TYPE = "Invalid 'spark_udf' result type: "
_SUPPORTED_TYPES_TEXT = (
    "int, long, float, double, boolean, string; array<one of those>; "
    "array<array<one of those>>; struct<name: any of the above, ...> "
    "(as a pyspark DataType or a DDL string such as 'double', 'array<double>', "
    "'label string, score double')"
)
_SCHEMA_TO_SPARK: dict[DataType, T.DataType] = {
    DataType.boolean: T.BooleanType(),
    DataType.integer: T.IntegerType(),
    DataType.long: T.LongType(),
    DataType.float: T.FloatType(),
    DataType.double: T.DoubleType(),
    DataType.string: T.StringType(),
}


# -- result types (driver) ---------------------------------------------------------------------


def _is_primitive(t: T.DataType) -> bool:
    return type(t) in PRIMITIVES


def _is_supported_value_type(t: T.DataType) -> bool:
    if _is_primitive(t):
        return True
    if isinstance(t, T.ArrayType):
        inner = t.elementType
        if isinstance(inner, T.ArrayType):
            inner = inner.elementType
        return _is_primitive(inner)
    return False


def _is_supported(t: T.DataType) -> bool:
    if isinstance(t, T.StructType):
        return len(t.fields) > 0 and all(_is_supported_value_type(f.dataType) for f in t.fields)
    return _is_supported_value_type(t)


def parse_result_type(result_type: T.DataType | str) -> T.DataType:
    """``result_type`` (a pyspark DataType or a DDL string) as a supported pyspark DataType."""
    if isinstance(result_type, str):
        text = result_type.strip()
        if text.lower() == "bool":  # MLflow accepts "bool" as well as "boolean"
            text = "boolean"
        try:
            parsed = T._parse_datatype_string(text)
        except Exception as exc:  # pyspark raises ParseException or a Py4J/Connect error
            raise InvalidParameterValue(
                f"{_INVALID_RESULT_TYPE}{result_type}. Not a Spark type ({exc}). "
                f"Supported: {_SUPPORTED_TYPES_TEXT}"
            ) from None
    elif isinstance(result_type, T.DataType):
        parsed = result_type
    else:
        raise InvalidParameterValue(
            f"{_INVALID_RESULT_TYPE}{result_type}. Expected a pyspark DataType or a "
            f"DDL string. Supported: {_SUPPORTED_TYPES_TEXT}"
        )
    if not _is_supported(parsed):
        raise InvalidParameterValue(
            f"{_INVALID_RESULT_TYPE}{parsed}. Unsupported: {parsed.simpleString()!r} "
            f"(from {result_type!r}). Supported: {_SUPPORTED_TYPES_TEXT}"
        )
    return parsed


def _spark_type_of(t: Any) -> T.DataType | None:
    if isinstance(t, DataType):
        return _SCHEMA_TO_SPARK.get(t)
    if isinstance(t, Array):
        inner = _spark_type_of(t.dtype)
        return None if inner is None else T.ArrayType(inner)
    return None


def _tensor_type(spec: TensorSpec) -> T.DataType | None:
    kind, wide = spec.type.kind, spec.type.itemsize > 4
    base: T.DataType | None = None
    if kind == "b":
        base = T.BooleanType()
    elif kind == "f":
        base = T.DoubleType() if wide else T.FloatType()
    elif kind == "i":
        base = T.LongType() if wide else T.IntegerType()
    elif kind in ("U", "O"):
        base = T.StringType()
    if base is None:
        return None
    dims = len(spec.shape) - 1  # the first dimension is the batch
    if dims <= 0:
        return base
    if dims == 1:
        return T.ArrayType(base)
    if dims == 2:
        return T.ArrayType(T.ArrayType(base))
    return None


def infer_result_type(output_schema: Schema | None) -> T.DataType:
    """The Spark type of a model's predictions from its output schema (``double`` without one)."""
    if output_schema is None or len(output_schema.inputs) == 0:
        _logger.warning(
            "spark_udf: no result_type given and the model has no output schema; "
            "result_type is 'double'"
        )
        return T.DoubleType()
    specs = list(output_schema.inputs)
    inferred: T.DataType | None
    if output_schema.is_tensor_spec():
        inferred = _tensor_type(specs[0]) if len(specs) == 1 else None  # type: ignore[arg-type]
    elif len(specs) == 1:
        inferred = _spark_type_of(specs[0].type)
    elif output_schema.has_input_names():
        fields: list[T.StructField] = []
        for spec in specs:
            assert isinstance(spec, ColSpec)
            t = _spark_type_of(spec.type)
            if t is None:
                fields = []
                break
            fields.append(T.StructField(str(spec.name), t))
        inferred = T.StructType(fields) if fields else None
    else:
        inferred = None
    if inferred is None or not _is_supported(inferred):
        raise InvalidParameterValue(
            f"spark_udf cannot derive a Spark result type from the model's output schema "
            f"{output_schema!r}; pass result_type ({_SUPPORTED_TYPES_TEXT})"
        )
    return inferred


# -- the driver --------------------------------------------------------------------------------


def _check_env_manager(env_manager: str | None, prebuilt_env_uri: str | None) -> None:
    if env_manager == LOCAL and prebuilt_env_uri is not None:
        raise InvalidParameterValue(
            "If 'prebuilt_env_uri' parameter is set, 'env_manager' parameter must be either "
            f"None, 'virtualenv', or 'uv'. spark_udf: got env_manager='local' and "
            f"prebuilt_env_uri={prebuilt_env_uri!r}"
        )
    if env_manager is None and prebuilt_env_uri is not None:
        raise InvalidParameterValue(
            f"spark_udf: prebuilt_env_uri={prebuilt_env_uri!r} needs a restored model "
            "environment, which fsregistry's spark_udf does not build; executors score in "
            "their own Python environment (env_manager='local')"
        )
    check_env_manager(
        env_manager or LOCAL,
        (LOCAL,),
        " (spark_udf scores in the executors' own Python environment; install the model's "
        "requirements, fsregistry.pyfunc.get_model_dependencies, on the executors)",
    )


def _check_extra_env(extra_env: Mapping[str, str] | None) -> dict[str, str]:
    if extra_env is None:
        return {}
    if not isinstance(extra_env, Mapping):
        raise InvalidParameterValue(
            f"spark_udf: extra_env must be a dict of str to str, got {type(extra_env).__name__}"
        )
    for key, value in extra_env.items():
        if not isinstance(key, str) or not key or "=" in key or "\x00" in key:
            raise InvalidParameterValue(f"spark_udf: invalid extra_env variable name {key!r}")
        if not isinstance(value, str) or "\x00" in value:
            raise InvalidParameterValue(
                f"spark_udf: extra_env[{key!r}] must be a string, got {value!r}"
            )
    return dict(extra_env)


def _model_config_json(model_config: dict[str, Any] | str | None) -> str | None:
    if model_config is None:
        return None
    if isinstance(model_config, str):
        import yaml

        try:
            with open(model_config, encoding="utf-8") as f:
                model_config = yaml.safe_load(f)
        except OSError as exc:
            raise InvalidParameterValue(
                f"spark_udf: cannot read model_config file {model_config!r}: {exc}"
            ) from None
    if not isinstance(model_config, dict):
        raise InvalidParameterValue(
            f"spark_udf: model_config must be a dict or a YAML file path, got {model_config!r}"
        )
    try:
        return json.dumps(model_config, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterValue(
            f"spark_udf: model_config must be JSON-serializable to reach executors: {exc}"
        ) from None


def _executors_share_driver_disk(spark: SparkSession) -> bool:
    """True in local mode, where executors are threads of the driver's JVM."""
    master = str(spark.conf.get("spark.master", "") or "")
    return master == "local" or master.startswith("local[")


_shipped: dict[tuple[str, str], str] = {}
_ship_lock = threading.Lock()


def _ship_local_model(spark: SparkSession, path: str, fingerprint: str) -> str:
    """Zip a driver-local model once and add it to the Spark job (``addArchive``); returns the
    name executors find it under with ``SparkFiles.get``."""
    from pyspark.errors import PySparkException

    try:
        context = spark.sparkContext
    except PySparkException as exc:  # Spark Connect: no SparkContext on the client
        raise InvalidParameterValue(
            f"spark_udf: the model at {path} is on the driver's disk and this Spark session "
            f"cannot ship files to executors ({exc}); log the model to a bucket store "
            "(s3://, gs://) that the executors can read"
        ) from None
    name = "fsreg-model-" + hashlib.sha256(f"{path}\0{fingerprint}".encode()).hexdigest()[:24]
    key = (str(context.applicationId), name)
    with _ship_lock:
        if key in _shipped:
            return _shipped[key]
        staging = tempfile.mkdtemp(prefix="fsreg-spark-")
        # Spark serves the file from here for as long as the application runs.
        atexit.register(shutil.rmtree, staging, True)
        archive = shutil.make_archive(os.path.join(staging, name), "zip", root_dir=path)
        context.addArchive(archive)
        _shipped[key] = os.path.basename(archive)
        return _shipped[key]


def _missing_columns(names: list[str], given: int) -> str:
    """MLflow's message for too few UDF columns (raised on its executors, here on the driver
    when the UDF is applied)."""
    return (
        f"Model input is missing required columns. Expected {len(names)} required input "
        f"columns {names}, but the model received only {given} unnamed input columns (Since "
        "the columns were passed unnamed they are expected to be in the order specified by "
        "the schema)."
    )


def _quoted(name: str) -> Column:
    return col("`" + name.replace("`", "``") + "`")


def spark_udf(
    spark: SparkSession,
    model_uri: str,
    result_type: T.DataType | str | None = None,
    env_manager: str | None = None,
    params: dict[str, Any] | None = None,
    extra_env: dict[str, str] | None = None,
    prebuilt_env_uri: str | None = None,
    model_config: dict[str, Any] | str | None = None,
) -> Any:
    """See :func:`fsregistry.pyfunc.spark_udf`."""
    from fsregistry.models.enforcement import enforce_params_schema
    from fsregistry.pyfunc import FLAVOR_NAME

    _check_env_manager(env_manager, prebuilt_env_uri)
    extra = _check_extra_env(extra_env)
    config_json = _model_config_json(model_config)
    location = resolve_location(model_uri)
    local = local_path_or_none(location)
    if local is not None:
        location = local  # absolute: executors do not share the driver's working directory
    mlmodel = read_model_file(model_uri, MLMODEL_FILE_NAME, location=location)
    meta = Model.from_yaml(mlmodel, f"MLmodel of {model_uri}")
    if FLAVOR_NAME not in meta.flavors:
        raise ResourceDoesNotExist(
            f'Model does not have the "{FLAVOR_NAME}" flavor: spark_udf cannot score '
            f"the model at {model_uri!r} (flavors: {sorted(meta.flavors)})"
        )
    try:
        digest: str | None = manifest_digest(
            read_model_file(model_uri, HASHES_FILE, location=location)
        )
    except ResourceDoesNotExist:
        digest = None  # written by MLflow: no manifest to pin
    fingerprint = digest or "sha256:" + hashlib.sha256(mlmodel).hexdigest()
    spark_type = (
        infer_result_type(meta.get_output_schema())
        if result_type is None
        else parse_result_type(result_type)
    )
    params = enforce_params_schema(params, meta.get_params_schema())
    archive = None
    if local is not None and not _executors_share_driver_disk(spark):
        archive = _ship_local_model(spark, local, fingerprint)
    env = {k: os.environ[k] for k in FORWARDED_ENV_VARS if os.environ.get(k)}
    env.update(extra)
    source = ModelSource(
        location=location,
        fingerprint=fingerprint,
        digest=digest,
        archive=archive,
        model_config=config_json,
        env=tuple(sorted(env.items())),
    )
    input_schema = meta.get_input_schema()
    names: list[str] = []
    required: list[str] = []
    optional: list[str] = []
    if input_schema is not None and input_schema.has_input_names():
        names = [str(n) for n in input_schema.input_names()]
        required = [str(n) for n in input_schema.required_input_names()]
        optional = [str(n) for n in input_schema.optional_input_names()]
    batches_udf = pandas_udf(  # type: ignore[call-overload]
        make_predict_batches(source, spark_type, names, params), returnType=spark_type
    )

    @functools.wraps(batches_udf)
    def predict(*cols: Column | str) -> Column:
        for c in cols:
            if not isinstance(c, (str, Column)):
                raise InvalidParameterValue(
                    f"spark_udf: arguments must be column names or Columns, got {c!r}"
                )
        if not cols:
            if optional:
                raise InvalidParameterValue(
                    "Cannot apply UDF without column names specified when model signature "
                    f"contains optional columns. spark_udf: the optional inputs are {optional}"
                )
            if not names and input_schema is not None and len(input_schema.inputs) > 0:
                raise InvalidParameterValue(
                    "Cannot apply udf because no column names specified. The udf expects "
                    f"{len(input_schema.inputs)} columns with types: {input_schema.inputs}. "
                    "Input column names could not be inferred from the model signature "
                    "(column names not found). spark_udf: call it with columns, e.g. "
                    "udf('a', 'b') or udf(struct('a', 'b'))"
                )
            if not names:
                raise InvalidParameterValue(
                    "Attempting to apply udf on zero columns because no column names were "
                    "specified as arguments or inferred from the model signature. spark_udf: "
                    f"the model at {model_uri!r} has no signature; call it with columns, "
                    "e.g. udf('a', 'b') or udf(struct('a', 'b'))"
                )
            return batches_udf(struct(*[_quoted(n) for n in names]))  # type: ignore[no-any-return]
        given = [c for c in cols if isinstance(c, str)]
        if len(given) == len(cols) and (not names or all(c in names for c in given)):
            # Column names: the model gets them under those names, in any order.
            missing = [n for n in required if n not in given]
            if missing:
                raise InvalidParameterValue(
                    f"{_missing_columns(names, len(given))} spark_udf: the model needs the "
                    f"columns {missing}, which were not given (given: {given})"
                )
            return batches_udf(struct(*[_quoted(n) for n in given]))  # type: ignore[no-any-return]
        if names:
            if len(cols) > len(names):
                raise InvalidParameterValue(
                    f"spark_udf: got {len(cols)} columns but the model's signature has "
                    f"{len(names)} inputs {names}"
                )
            missing = [n for n in required if n not in names[: len(cols)]]
            if missing and len(cols) > 1:  # a single Column may be a struct of them all
                raise InvalidParameterValue(
                    f"{_missing_columns(names, len(cols))} spark_udf: the model needs the "
                    f"inputs {missing}, which were not given (columns passed as Columns are "
                    "matched to the signature by position)"
                )
        spark_cols = [_quoted(c) if isinstance(c, str) else c for c in cols]
        return batches_udf(*spark_cols)  # type: ignore[no-any-return]

    predict.metadata = meta  # type: ignore[attr-defined]
    return predict
