"""MLflow's messages for ``mlflow.data``: datasets, their sources and schemas
(tests/mlflow_messages.py's table). Sources are in ``mlflow/data/``."""

from __future__ import annotations

from tests.mlflow_messages_base import INTERNAL, INVALID, MISSING, Message, _m
from tests.mlflow_messages_evaluation import UNCODED, val

SRC = "mlflow/data/dataset_source_registry.py"
SPK = "mlflow/data/spark_dataset.py:load_delta / from_spark"
#: A dataset entity as read from a run.
ENT = 'm.entities.Dataset(name="d", digest="x", source_type={!r}, source={!r})'

DATA: tuple[Message, ...] = (
    val(
        "data.get_source: not a dataset",
        r"Unrecognized dataset type <class 'int'>\. Expected one of: "
        r"`mlflow\.data\.dataset\.Dataset`, `mlflow\.entities\.Dataset`, "
        r"`mlflow\.entities\.DatasetInput`\.",
        INVALID,
        "mlflow/data/__init__.py:get_source",
        "m.data.get_source(5)",
        ("fsregistry/data/__init__.py", "Unrecognized dataset type"),
    ),
    val(
        "TensorDatasetSchema.from_dict: no mlflow_tensorspec",
        r"TensorDatasetSchema dictionary is missing expected key 'mlflow_tensorspec'",
        INVALID,
        "mlflow/data/schema.py:TensorDatasetSchema.from_dict",
        'importlib.import_module(m.__name__ + ".data.schema").TensorDatasetSchema.from_dict({})',
        ("fsregistry/data/datasets.py", "TensorDatasetSchema dictionary is missing"),
    ),
    val(
        "data.from_pandas: targets column absent",
        r"The specified pandas DataFrame does not contain the specified targets column 'z'\.",
        INVALID,
        "mlflow/data/pandas_dataset.py:PandasDataset.__init__",
        'm.data.from_pandas(A1, targets="z")',
        ("fsregistry/data/datasets.py", "does not contain the specified {} column"),
    ),
    val(
        "data.from_pandas: predictions column absent",
        r"The specified pandas DataFrame does not contain the specified predictions column "
        r"'z'\.",
        INVALID,
        "mlflow/data/pandas_dataset.py:PandasDataset.__init__",
        'm.data.from_pandas(A1, predictions="z")',
    ),
    _m(
        "data digest: nothing to hash",
        r"No hashable elements were provided for md5 digest creation",
        INVALID,
        "mlflow/data/digest_utils.py:get_normalized_md5_digest",
        'importlib.import_module("fsregistry.data.digest").normalized_md5([])',
        (("fsregistry/data/digest.py", "No hashable elements were provided"),),
        in_mlflow3=False,
        storage=False,
        note="an internal helper in both (every public digest hashes at least the shape), "
        "so the trigger calls fsregistry's; the text is digest_utils.py's",
    ),
    val(
        "data: a source no resolver accepts",
        r"Could not find a source information resolver for the specified dataset source: 5\.",
        MISSING,
        f"{SRC}:DatasetSourceRegistry.resolve",
        "m.data.from_pandas(A1, source=5)",
        ("fsregistry/data/sources.py", "Could not find a source information resolver"),
    ),
    val(
        "data: a file URI with a remote host",
        r"Could not find a source information resolver for the specified dataset source: "
        r"file://remotehost/x\.",
        MISSING,
        f"{SRC}:DatasetSourceRegistry.resolve",
        'm.data.from_pandas(A1, source="file://remotehost/x")',
        note="MLflow's is_local_uri raises 'is not a valid remote uri', which the local "
        "source's _can_resolve turns into False",
    ),
    val(
        "data.get_source: an unknown source type",
        r"Could not parse dataset source from JSON due to unrecognized source type: nope\.",
        MISSING,
        f"{SRC}:DatasetSourceRegistry.get_source_from_json",
        f"m.data.get_source({ENT.format('nope', '{}')})",
        ("fsregistry/data/sources.py", "Could not parse dataset source from JSON"),
    ),
    val(
        "data.get_source: an artifact source without uri",
        r'Failed to parse S3ArtifactDatasetSource\. Missing expected key: "uri"',
        INVALID,
        "mlflow/data/artifact_dataset_sources.py:from_dict",
        f"m.data.get_source({ENT.format('s3', '{}')})",
        ("fsregistry/data/sources.py", 'Missing expected key: "uri"'),
    ),
    val(
        "data.get_source: an HTTP source without url",
        r'Failed to parse HTTPDatasetSource\. Missing expected key: "url"',
        INVALID,
        "mlflow/data/http_dataset_source.py:HTTPDatasetSource.from_dict",
        f"m.data.get_source({ENT.format('http', '{}')})",
        ("fsregistry/data/sources.py", "Failed to parse HTTPDatasetSource"),
    ),
    val(
        "data.get_source: a Spark source with none of path, table, sql",
        r'Must specify exactly one of "path", "table_name", or "sql"',
        INVALID,
        "mlflow/data/spark_dataset_source.py:SparkDatasetSource.__init__",
        f"m.data.get_source({ENT.format('spark', '{}')})",
        ("fsregistry/data/sources.py", 'Must specify exactly one of "path", "table_name"'),
    ),
    val(
        "data.get_source: a Delta source with neither path nor table",
        r'Must specify exactly one of "path" or "table_name"',
        INVALID,
        "mlflow/data/delta_dataset_source.py:DeltaDatasetSource.__init__",
        f"m.data.get_source({ENT.format('delta_table', '{}')})",
        ("fsregistry/data/sources.py", 'Must specify exactly one of "path" or "table_name"'),
    ),
    val(
        "data.from_spark: path and table_name",
        r"Must specify at most one of `path`, `table_name`, or `sql`\.",
        INVALID,
        SPK,
        'm.data.from_spark(None, path="a", table_name="b")',
        ("fsregistry/data/spark.py", "Must specify at most one of `path`, `table_name`"),
    ),
    val(
        "data.from_spark: version with sql",
        r"`version` may not be specified when `sql` is specified\. `version` may only be "
        r"specified when `table_name` or `path` is specified\.",
        INVALID,
        SPK,
        'm.data.from_spark(None, sql="select 1", version="1")',
        ("fsregistry/data/spark.py", "`version` may not be specified when `sql`"),
    ),
    val(
        "data.from_spark: version of a path that is no Delta table",
        r"Version '1' was specified, but the path '[^']+' does not refer to a Delta table\.",
        INVALID,
        SPK,
        'm.data.from_spark(None, path=TMPD, version="1")',
        ("fsregistry/data/spark.py", "does not refer to a Delta table"),
    ),
    _m(
        "Spark schema: a map of maps",
        r"Please construct spark DataFrame with schema using StructType for dictionary/map "
        r"fields, MLflow schema inference only supports scalar, array and struct types\.",
        INTERNAL,
        "mlflow/types/utils.py:_infer_spark_type",
        'importlib.import_module("fsregistry.data.spark").spark_type(_T.MapType(_T.StringType(), '
        '_T.MapType(_T.StringType(), _T.LongType())), object(), "c")'.replace(
            "_T", 'importlib.import_module("pyspark.sql.types")'
        ),
        (("fsregistry/data/spark.py", "Please construct spark DataFrame with schema"),),
        in_mlflow3=False,
        storage=False,
        note="needs pyspark, which MLflow's venv lacks; an internal helper in both (reached "
        "through infer_signature on a Spark DataFrame). " + UNCODED,
        fs_code=INVALID,
    ),
    _m(
        "Spark schema: an unsupported type",
        r"Unsupported Spark Type '<class 'pyspark\.sql\.types\.NullType'>' for MLflow schema\.",
        INVALID,
        "mlflow/types/utils.py:_infer_spark_type",
        'importlib.import_module("fsregistry.data.spark").spark_type('
        'importlib.import_module("pyspark.sql.types").NullType())',
        (("fsregistry/data/spark.py", "Unsupported Spark Type"),),
        in_mlflow3=False,
        storage=False,
        note="needs pyspark, which MLflow's venv lacks; an internal helper in both (reached "
        "through infer_signature on a Spark DataFrame)",
    ),
)
