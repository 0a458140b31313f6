"""``mlflow.spark`` for fsregistry: save, log and load Spark MLlib models (``PipelineModel``).

Layout (MLflow 3's): the model is written with MLlib's own persistence (``model.save``) under
``sparkml/``; the MLmodel entry is ``spark: {pyspark_version, model_data: sparkml, code,
model_class}`` beside ``python_function`` with ``loader_module: mlflow.spark`` and ``data:
sparkml``. A single ``Transformer``/``Model`` is wrapped in a one-stage ``PipelineModel``
first, as MLflow does, so ``model_class`` is always ``pyspark.ml.pipeline.PipelineModel``.

**DFS round trip** (``dfs_tmpdir``, default ``$MLFLOW_DFS_TMP`` or ``/tmp/mlflow``): Spark
writes and reads models through the Hadoop file system of the session (HDFS on a cluster), so
saving writes to ``<dfs_tmpdir>/<uuid>`` and moves the files into the local model directory
(Hadoop ``copyToLocalFile``, source removed); loading reads the local ``sparkml/`` directly when
the default file system is the local one, and otherwise first copies it to
``<dfs_tmpdir>/<uuid>`` (left there: Spark may read it lazily, as in MLflow). A failed save
removes its DFS temporary directory and the model directory: nothing is left behind.

**Sessions**: saving and loading use the active ``SparkSession``; with none (a scoring server,
a plain Python process, an executor's Python worker under ``spark_udf``) a local one is created
as MLflow does (``local[1]``, driver on 127.0.0.1, ``spark.executor.allowSparkContext``) and
reused by later loads; unlike MLflow its web UI is off.

**pyfunc** (:class:`_SparkModelWrapper`): the pandas input becomes a Spark DataFrame
(``createDataFrame``), array columns the signature declares ``sparkml_vector`` (or, without
one, an ``array<double>`` column named by the last stage's ``featuresCol``) become ML vectors,
the model transforms it and ``predict`` returns the ``prediction`` column as a list (vector
outputs the signature declares become lists of floats). When the last stage has an
``outputCol`` (a feature transformer) and no ``prediction`` column comes out, that column is
the prediction; MLflow renames the stage's output column instead (it mutates the loaded model),
fsregistry reads it without changing the model. An empty input predicts ``[]`` (MLflow fails
to infer a Spark schema from it).

Not supported (unlike MLflow): Spark Connect ML models (``pyspark.ml.connect``), Databricks
``mlflowdbfs``/UC-volume paths; both are ``InvalidParameterValue`` before anything is written.
Needs ``pip install 'fsregistry[spark]'`` and a Java runtime.
"""

from __future__ import annotations

import os
import posixpath
import re
import sys
import uuid
from collections.abc import Sequence
from typing import Any

from fsregistry import flavors as kit
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.models.model import Model, ModelInfo
from fsregistry.models.signature import ModelSignature

FLAVOR_NAME = "spark"
SPARK_MODEL_PATH_SUB = "sparkml"
DEFAULT_DFS_TMP = "/tmp/mlflow"
FLAVOR = kit.Flavor(
    name=FLAVOR_NAME,
    package="pyspark",
    extra="spark",
    version_key="pyspark_version",
    loader_module="mlflow.spark",
    data_key="model_data",
)


def get_default_pip_requirements() -> list[str]:
    """Pinned pyspark (a ``.dev`` suffix dropped, as MLflow does); ``pandas<2`` for pyspark
    before 3.4. MLflow's ``is_spark_connect_model`` argument is not taken (no Connect models)."""
    pyspark = FLAVOR.require()
    reqs = [re.sub(r"(\.?)dev.*$", "", FLAVOR.requirement())]
    if _version_tuple(str(pyspark.__version__)) < (3, 4):
        reqs.append("pandas<2")
    return reqs


def get_default_conda_env() -> dict[str, Any]:
    """MLflow's conda environment with :func:`get_default_pip_requirements` (conda-forge)."""
    from fsregistry.models.environment import conda_env

    return conda_env(get_default_pip_requirements())


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", version)[:2])


def _library_errors() -> tuple[type[BaseException], ...]:
    """Spark's exceptions (JVM errors through py4j, PySpark's own), raised by save and load."""
    from py4j.protocol import Py4JError  # type: ignore[import-untyped]
    from pyspark.errors import PySparkException

    return (Py4JError, PySparkException)


# ----------------------------------------------------------------------------- sessions
def spark_session() -> Any:
    """The active SparkSession, or a local one created as MLflow's pyfunc loader does."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    return (
        SparkSession.builder.config("spark.python.worker.reuse", "true")
        .config("spark.databricks.io.cache.enabled", "false")
        .config("spark.executor.allowSparkContext", "true")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .master("local[1]")
        .getOrCreate()
    )


def _dfs_tmpdir(dfs_tmpdir: str | None) -> str:
    if dfs_tmpdir is None:
        dfs_tmpdir = os.environ.get("MLFLOW_DFS_TMP") or DEFAULT_DFS_TMP
    if not isinstance(dfs_tmpdir, str) or not dfs_tmpdir:
        raise InvalidParameterValue(f"dfs_tmpdir must be a non-empty path, got {dfs_tmpdir!r}")
    if dfs_tmpdir.startswith(("dbfs:", "mlflowdbfs:")) or dfs_tmpdir.startswith("/Volumes/"):
        raise InvalidParameterValue(
            f"dfs_tmpdir {dfs_tmpdir!r} is a Databricks path, which fsregistry does not support"
        )
    return posixpath.join(dfs_tmpdir, str(uuid.uuid4()))


class _HadoopFs:
    """The session's Hadoop ``FileSystem`` (through py4j): where Spark reads and writes."""

    def __init__(self, spark: Any) -> None:
        sc = spark.sparkContext
        self.jvm = sc._jvm
        self.fs = self.jvm.org.apache.hadoop.fs.FileSystem.get(sc._jsc.hadoopConfiguration())

    def path(self, p: str) -> Any:
        return self.jvm.org.apache.hadoop.fs.Path(p)

    def local(self, p: str) -> Any:
        return self.path(os.path.abspath(p))

    def is_local(self, local_path: str) -> bool:
        """Whether the default file system is the local one (no copy needed)."""
        path = self.local(local_path)
        return bool(self.fs.makeQualified(path).toString() == "file:" + path.toString())

    def move_to_local(self, src: str, dst: str) -> None:
        self.fs.copyToLocalFile(True, self.path(src), self.local(dst))

    def copy_from_local(self, src: str, dst: str) -> None:
        self.fs.copyFromLocalFile(False, self.local(src), self.path(dst))

    def delete(self, p: str) -> None:
        path = self.path(p)
        if self.fs.exists(path):
            self.fs.delete(path, True)


def _save_native(spark_model: Any, dfs_tmpdir: str | None, dst: str) -> None:
    """``spark_model.save`` to a DFS temporary directory, then moved to ``dst`` (local)."""
    tmp = _dfs_tmpdir(dfs_tmpdir)
    hadoop = _HadoopFs(spark_session())
    try:
        spark_model.save(tmp)
        hadoop.move_to_local(tmp, dst)
    finally:
        hadoop.delete(tmp)


# ----------------------------------------------------------------------------- saving
def _is_connect_model(spark_model: Any) -> bool:
    """Whether the model is a Spark Connect ML model. Its class's module is checked, not the
    class: importing ``pyspark.ml.connect`` without Spark Connect's dependencies calls
    ``sys.exit(0)`` in processes whose ``__main__`` has no file (pytest-xdist workers,
    embedded interpreters), and a connect model exists only once that module was imported."""
    return any(
        (getattr(cls, "__module__", "") or "").startswith("pyspark.ml.connect")
        for cls in type(spark_model).__mro__
    )


def _validate_model(spark_model: Any) -> None:
    from pyspark.ml import Model as PySparkModel
    from pyspark.ml import Transformer
    from pyspark.ml.util import MLReadable, MLWritable

    if _is_connect_model(spark_model):
        raise InvalidParameterValue(
            "Spark Connect ML models (pyspark.ml.connect) are not supported by fsregistry.spark, "
            f"got {kit.class_name(spark_model)}"
        )
    if not (
        isinstance(spark_model, PySparkModel | Transformer)
        and isinstance(spark_model, MLReadable)
        and isinstance(spark_model, MLWritable)
    ):
        raise InvalidParameterValue(
            "Cannot serialize this model. MLflow can only save descendants of pyspark.ml.Model "
            "or pyspark.ml.Transformer that implement MLWritable and MLReadable. Got "
            f"{kit.class_name(spark_model)}"
        )


def save_model(
    spark_model: Any,
    path: str | os.PathLike[str],
    mlflow_model: Model | None = None,
    conda_env: dict[str, Any] | str | None = None,
    code_paths: Sequence[str] | None = None,
    dfs_tmpdir: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Save a Spark MLlib model at ``path`` (new or empty) with MLlib persistence.

    Unlike MLflow: no ``**kwargs`` (MLflow ignores them), Spark Connect models are refused, and
    the signature inferred from ``input_example`` comes from pyfunc ``predict`` on it.
    """
    FLAVOR.require()
    _validate_model(spark_model)
    from pyspark.ml import PipelineModel

    if not isinstance(spark_model, PipelineModel):
        spark_model = PipelineModel([spark_model])
    _dfs_tmpdir(dfs_tmpdir)  # a bad dfs_tmpdir is refused before anything is written
    spark = spark_session()
    if signature is None and input_example is not None:
        signature = _vector_output_signature(spark, spark_model, input_example)

    def write(model_dir: str) -> kit.SavedData:
        _save_native(spark_model, dfs_tmpdir, os.path.join(model_dir, SPARK_MODEL_PATH_SUB))
        return kit.SavedData(
            data=SPARK_MODEL_PATH_SUB,
            conf={"model_class": kit.class_name(spark_model)},
            requirements=get_default_pip_requirements(),
        )

    kit.save_model(
        FLAVOR,
        path,
        kit.ModelOptions(
            conda_env=conda_env,
            code_paths=code_paths,
            mlflow_model=mlflow_model,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            extra_pip_requirements=extra_pip_requirements,
            metadata=metadata,
        ),
        write,
        _SparkModelWrapper(spark, spark_model.copy(), None).predict,
        library_errors=_library_errors(),
    )


def _vector_output_signature(spark: Any, spark_model: Any, input_example: Any) -> Any:
    """MLflow's signature when the prediction column is an ML vector (``sparkml_vector``
    output, which values alone cannot show); None otherwise (inferred from ``predict``)."""
    from pyspark.ml.linalg import VectorUDT

    from fsregistry.models.datatypes import SparkMLVector
    from fsregistry.models.inference import infer_schema
    from fsregistry.models.input_example import InputExample
    from fsregistry.models.schema import ColSpec, Schema

    errors: tuple[type[BaseException], ...] = (InvalidParameterValue, *_library_errors())
    try:
        data = InputExample(input_example).data
        out = _SparkModelWrapper(spark, spark_model, None).transform(data)
        if not isinstance(out.schema[out.columns[0]].dataType, VectorUDT):
            return None
        return ModelSignature(infer_schema(data), Schema([ColSpec(SparkMLVector())]))
    except errors:
        return None  # the usual inference then reports why


def log_model(
    spark_model: Any,
    artifact_path: str | None = None,
    conda_env: dict[str, Any] | str | None = None,
    code_paths: Sequence[str] | None = None,
    dfs_tmpdir: str | None = None,
    registered_model_name: str | None = None,
    signature: ModelSignature | bool | None = None,
    input_example: Any = None,
    await_registration_for: int | None = None,
    pip_requirements: Sequence[str] | str | None = None,
    extra_pip_requirements: Sequence[str] | str | None = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    **kwargs: Any,
) -> ModelInfo:
    """Log a Spark MLlib model as an MLflow 3 LoggedModel (``models:/<model_id>``; no run is
    started); ``artifact_path`` (MLflow's second argument) is an alias of ``name``.

    MLflow 3.17.2's ``mlflow.spark.log_model`` still logs to the run's artifacts (``runs:/``
    URI, a run started when none is active); both are read by either. ``params``, ``tags``,
    ``model_type``, ``step``, ``model_id`` and ``run_id`` pass through as for every flavor.
    """
    FLAVOR.require()
    _validate_model(spark_model)
    if name is None:  # MLflow's spark flavor takes artifact_path, not deprecated there
        name, artifact_path = artifact_path, None
    return kit.log_model(
        sys.modules[__name__],
        name=name,
        artifact_path=artifact_path,
        registered_model_name=registered_model_name,
        metadata=metadata,
        spark_model=spark_model,
        conda_env=conda_env,
        code_paths=code_paths,
        dfs_tmpdir=dfs_tmpdir,
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        await_registration_for=await_registration_for,
        **kwargs,
    )


# ----------------------------------------------------------------------------- loading
def _load(local: kit.LocalModel, dfs_tmpdir: str | None) -> Any:
    from pyspark.ml import PipelineModel

    model_class = local.conf.get("model_class")
    if isinstance(model_class, str) and model_class.startswith("pyspark.ml.connect."):
        raise InvalidParameterValue(
            f"The model at {local.path} is a Spark Connect ML model ({model_class}), which "
            "fsregistry.spark does not load"
        )
    data = local.file(local.conf.get("model_data", SPARK_MODEL_PATH_SUB))
    if not os.path.isdir(data):
        from fsregistry.models.hashes import ModelIntegrityError

        raise ModelIntegrityError(
            f"The spark model directory {data} is missing; the model directory is corrupted "
            "or incomplete"
        )
    spark = spark_session()
    with kit.reading(FLAVOR, data, _library_errors()):
        hadoop = _HadoopFs(spark)
        source = os.path.abspath(data)
        if not hadoop.is_local(data):
            source = _dfs_tmpdir(dfs_tmpdir)
            hadoop.copy_from_local(data, source)
        return PipelineModel.load(source)


def load_model(
    model_uri: str,
    dfs_tmpdir: str | None = None,
    dst_path: str | None = None,
    *,
    verify: bool = True,
    expected_digest: str | None = None,
) -> Any:
    """Load the ``PipelineModel`` at ``model_uri``.

    Unlike MLflow: files are checked against their recorded hashes first (``verify``), a
    SparkSession is created when none is active, and another pyspark major version warns.
    """
    local = kit.load_local(FLAVOR, model_uri, dst_path, verify, expected_digest)
    return _load(local, dfs_tmpdir)


class _SparkModelWrapper(kit.ModelWrapper):
    """pyfunc implementation: pandas in, the ``prediction`` column (a list) out."""

    def __init__(self, spark: Any, model: Any, signature: ModelSignature | None) -> None:
        super().__init__(model)
        self.spark = spark
        self.signature = signature

    def _vector_columns(self, outputs: bool) -> list[str | None]:
        from fsregistry.models.datatypes import SparkMLVector

        schema = None
        if self.signature is not None:
            schema = self.signature.outputs if outputs else self.signature.inputs
        if schema is None:
            return []
        return [
            s.name for s in schema.inputs if isinstance(getattr(s, "type", None), SparkMLVector)
        ]

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import pandas as pd

        frame = data if isinstance(data, pd.DataFrame) else pd.DataFrame(data)
        if len(frame) == 0:
            return []
        return [row.prediction for row in self.transform(frame).collect()]

    def transform(self, frame: Any) -> Any:
        """The model's output on a pandas frame: a Spark DataFrame of one column,
        ``prediction``."""
        from pyspark.ml.functions import array_to_vector, vector_to_array
        from pyspark.sql import functions as F

        vectors_in = self._vector_columns(outputs=False)
        if vectors_in:
            frame = frame.copy(deep=False)
            for name in vectors_in:
                col = name or frame.columns[0]
                frame[col] = frame[col].map(lambda array: [float(v) for v in array])
        df = self.spark.createDataFrame(frame)
        for name in vectors_in:
            col = name or df.columns[0]
            df = df.withColumn(col, array_to_vector(F.col(col)))
        df = self._features_as_vector(df)
        out = self.model.transform(df)
        column = self._prediction_column(out)
        out = out.select(out[column].alias("prediction"))
        if self._vector_columns(outputs=True):  # one prediction column
            out = out.withColumn("prediction", vector_to_array(F.col("prediction")))
        return out

    def _last_stage(self) -> Any:
        stages = getattr(self.model, "stages", None)
        return stages[-1] if stages else self.model

    def _features_as_vector(self, df: Any) -> Any:
        """An ``array<double>`` column the last stage reads as ``featuresCol`` -> ML vector."""
        from pyspark.ml.functions import array_to_vector
        from pyspark.sql import types as T

        stage = self._last_stage()
        if not stage.hasParam("featuresCol"):
            return df
        name = stage.extractParamMap().get(stage.featuresCol)
        for f in df.schema.fields:
            if f.name == name and f.dataType in (
                T.ArrayType(T.DoubleType(), True),
                T.ArrayType(T.DoubleType(), False),
            ):
                return df.withColumn(name, array_to_vector(df[name]))
        return df

    def _prediction_column(self, out: Any) -> str:
        stage = self._last_stage()
        if "prediction" not in out.columns and stage.hasParam("outputCol"):
            return str(stage.getOrDefault("outputCol"))
        return "prediction"


def _load_pyfunc(path: str) -> _SparkModelWrapper:
    """pyfunc loader for ``loader_module: mlflow.spark`` (``path``: the ``sparkml`` data dir)."""
    local = kit.pyfunc_model_dir(FLAVOR, path)
    model = _load(local, None)
    return _SparkModelWrapper(spark_session(), model, local.meta.signature)


__all__ = [
    "FLAVOR_NAME",
    "SPARK_MODEL_PATH_SUB",
    "get_default_conda_env",
    "get_default_pip_requirements",
    "load_model",
    "log_model",
    "save_model",
    "spark_session",
]
