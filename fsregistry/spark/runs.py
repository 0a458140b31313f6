"""Runs and metric histories of a store as Spark DataFrames, read in parallel by the executors.

``read_runs(spark, store, experiment_ids, filter_string)`` answers what
``search_runs(experiment_ids, filter_string, output_format="pandas")`` answers, as a Spark
DataFrame: one row per run; the columns ``run_id``, ``experiment_id``, ``status``,
``artifact_uri``, ``start_time``, ``end_time`` (timestamps, UTC), then ``metrics.<key>``
(double, the latest value; null where a run lacks it: pandas' NaN), ``params.<key>`` and
``tags.<key>`` (string, null where missing), each group sorted by key; rows in
``search_runs``' default order (``start_time`` descending, then ``run_id``).
``read_metric_histories`` gives every logged value of the same runs' metrics (or of
``metric_keys``) in the long format of the Parquet export's ``metrics`` table
(``fsregistry.export.parquet.SCHEMA``: ``run_id``, ``key``, ``value``, ``step``,
``timestamp``), one row per logged value.

How it reads: the driver lists the run directories of each experiment (one listing each; a
bucket lists 1,000 prefixes per request) and deals the run ids out to ``num_partitions``
tasks (default: the context's default parallelism). Each task, on an executor, opens the
store from its URL and ``storage_options`` (the executors must reach the store; nothing
else is shipped, never a client object) and runs fsregistry's own search for its runs
(``filter_string AND attributes.run_id IN (...)``, 1,000 ids at a time), so the answer is
``search_runs``' by construction: the run index shards where they are current (trusted on a
bucket by default, ``fsregistry.tracking.trust``), the runs' files otherwise. Each task's
search lists its experiment once, so a store of N runs in one experiment read by P tasks
costs P listings of it and one read of each run. Runs logged between the driver's listing
and a task's search are not in the answer; runs deleted meanwhile are left out; a run
directory whose name is not a plain run id (letters, digits, ``_.-``) is left out. The runs
are read once: the keys pass (which columns there are) runs on the cached RDD.

The store must be reachable by the executors under the same URL (a local path only in
local mode or on a shared filesystem). pyspark is imported by these functions, never by
``import fsregistry.spark``.
"""

from __future__ import annotations

import datetime
import functools
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from fsregistry.entities import Run, ViewType
from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist
from fsregistry.export.parquet import SCHEMA
from fsregistry.mlruns import layout
from fsregistry.run_frames import INFO_COLUMNS
from fsregistry.storage import open_storage
from fsregistry.tracking.store import TrackingStore

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["read_metric_histories", "read_runs"]

#: Run ids per search a task makes (one ``run_id IN (...)`` clause).
IDS_PER_SEARCH = 1000
_GROUPS = (("metrics", "double"), ("params", "string"), ("tags", "string"))
# Directory names taken as run ids: MLflow's (32 hex digits) and any other plain name; one
# with other characters (a quote...) cannot be named in a filter and is left out.
_RUN_ID = re.compile(r"[0-9A-Za-z_.-]+")
_SPARK_TYPES = {"string": "StringType", "int64": "LongType", "float64": "DoubleType"}


class Task(NamedTuple):
    """The runs of one experiment that one Spark task reads."""

    experiment_id: str
    run_ids: tuple[str, ...]


class Source(NamedTuple):
    """What a task needs to read the store (shipped to the executors): never a client."""

    store: str
    storage_options: dict[str, Any] | None
    filter_string: str | None
    run_view_type: int


def read_runs(
    spark: SparkSession,
    store: str,
    experiment_ids: Sequence[str],
    filter_string: str | None = None,
    run_view_type: int = ViewType.ACTIVE_ONLY,
    *,
    storage_options: dict[str, Any] | None = None,
    num_partitions: int | None = None,
) -> DataFrame:
    """``search_runs(..., output_format="pandas")`` as a Spark DataFrame (module docstring);
    no MLflow equivalent (metrics missing from a run are null, not NaN)."""
    from pyspark.sql import functions as sf
    from pyspark.sql import types as st

    source = _source(store, storage_options, filter_string, run_view_type)
    runs = _runs_rdd(spark, source, experiment_ids, num_partitions).cache()
    keys = sorted(set(runs.flatMap(_keys_of).distinct().collect()))
    fields = [
        st.StructField("run_id", st.StringType(), False),
        st.StructField("experiment_id", st.StringType(), False),
        st.StructField("status", st.StringType(), True),
        st.StructField("artifact_uri", st.StringType(), True),
        st.StructField("start_time", st.TimestampType(), True),
        st.StructField("end_time", st.TimestampType(), True),
    ]
    kinds = {"double": st.DoubleType(), "string": st.StringType()}
    for group, kind in _GROUPS:
        fields += [st.StructField(f"{group}.{k}", kinds[kind], True) for g, k in keys if g == group]
    rows = runs.map(functools.partial(_wide_row, keys))
    frame = spark.createDataFrame(rows, st.StructType(fields))
    return frame.orderBy(sf.col("start_time").desc_nulls_last(), sf.col("run_id").asc())


def read_metric_histories(
    spark: SparkSession,
    store: str,
    experiment_ids: Sequence[str],
    filter_string: str | None = None,
    run_view_type: int = ViewType.ACTIVE_ONLY,
    *,
    metric_keys: Sequence[str] | None = None,
    storage_options: dict[str, Any] | None = None,
    num_partitions: int | None = None,
) -> DataFrame:
    """Every logged value of the metrics of the runs ``read_runs`` gives, in the Parquet
    export's ``metrics`` schema (module docstring); no MLflow equivalent."""
    from pyspark.sql import types as st

    source = _source(store, storage_options, filter_string, run_view_type)
    tasks = _tasks(spark, source, experiment_ids, num_partitions)
    wanted = None if metric_keys is None else tuple(metric_keys)
    rows = spark.sparkContext.parallelize(tasks, max(len(tasks), 1)).mapPartitions(
        functools.partial(_history_rows, source, wanted)
    )
    schema = st.StructType(
        [
            st.StructField(name, getattr(st, _SPARK_TYPES[kind])(), nullable)
            for name, kind, nullable in SCHEMA["metrics"]
        ]
    )
    return spark.createDataFrame(rows, schema)


# -- the driver ------------------------------------------------------------------------------
def _source(
    store: str,
    storage_options: dict[str, Any] | None,
    filter_string: str | None,
    run_view_type: int,
) -> Source:
    if not isinstance(store, str):
        raise InvalidParameterValue(
            f"store must be a store URL or path (the executors open it), not {type(store)!r}"
        )
    return Source(store, storage_options, filter_string or None, ViewType.from_any(run_view_type))


def _tasks(
    spark: SparkSession,
    source: Source,
    experiment_ids: Sequence[str],
    num_partitions: int | None,
) -> list[Task]:
    """The run ids of each experiment, dealt into about ``num_partitions`` tasks."""
    if isinstance(experiment_ids, str):
        experiment_ids = [experiment_ids]
    parts = num_partitions or spark.sparkContext.defaultParallelism
    if parts < 1:
        raise InvalidParameterValue(f"num_partitions must be at least 1, got {parts}")
    tracking = TrackingStore(open_storage(source.store, source.storage_options))
    storage = tracking.storage
    listed: list[tuple[str, list[str]]] = []
    for experiment_id in dict.fromkeys(str(e) for e in experiment_ids):
        try:
            experiment = tracking.get_experiment(experiment_id)
        except ResourceDoesNotExist:
            continue  # an unknown experiment gives no runs, as in search_runs
        exp_dir = layout.experiment_dir(experiment_id, experiment.lifecycle_stage == "deleted")
        dirs, _ = storage.list_dir(exp_dir)
        runs = sorted(
            d for d in dirs if d not in layout.RESERVED_EXPERIMENT_FOLDERS and _RUN_ID.fullmatch(d)
        )
        listed.append((experiment_id, runs))
    total = sum(len(r) for _, r in listed)
    per_task = max(1, math.ceil(total / parts))
    tasks: list[Task] = []
    for experiment_id, runs in listed:
        for start in range(0, len(runs), per_task):
            tasks.append(Task(experiment_id, tuple(runs[start : start + per_task])))
    return tasks


def _runs_rdd(
    spark: SparkSession,
    source: Source,
    experiment_ids: Sequence[str],
    num_partitions: int | None,
) -> Any:
    tasks = _tasks(spark, source, experiment_ids, num_partitions)
    rdd = spark.sparkContext.parallelize(tasks, max(len(tasks), 1))
    return rdd.mapPartitions(functools.partial(_run_records, source))


# -- the executors ---------------------------------------------------------------------------
def searched_runs(source: Source, tasks: Iterable[Task]) -> Iterator[Run]:
    """The runs of ``tasks`` that ``source``'s search answers, read on this process."""
    tracking = TrackingStore(open_storage(source.store, source.storage_options))
    for task in tasks:
        for start in range(0, len(task.run_ids), IDS_PER_SEARCH):
            ids = task.run_ids[start : start + IDS_PER_SEARCH]
            clause = "attributes.run_id IN (" + ", ".join(f"'{r}'" for r in ids) + ")"
            where = f"{source.filter_string} AND {clause}" if source.filter_string else clause
            token = None
            while True:
                page = tracking.search_runs(
                    [task.experiment_id], where, source.run_view_type, 50_000, None, token
                )
                yield from page
                token = page.token
                if not token:
                    break


def _run_records(source: Source, tasks: Iterable[Task]) -> Iterator[dict[str, Any]]:
    for run in searched_runs(source, tasks):
        info = run.info
        yield {
            "run_id": info.run_id,
            "experiment_id": info.experiment_id,
            "status": info.status,
            "artifact_uri": info.artifact_uri,
            "start_time": info.start_time,
            "end_time": info.end_time,
            "metrics": dict(run.data.metrics),
            "params": dict(run.data.params),
            "tags": dict(run.data.tags),
        }


def _keys_of(record: dict[str, Any]) -> list[tuple[str, str]]:
    return [(group, key) for group, _ in _GROUPS for key in record[group]]


def _timestamp(ms: int | None) -> datetime.datetime | None:
    if ms is None:
        return None
    return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)


def _wide_row(keys: list[tuple[str, str]], record: dict[str, Any]) -> tuple[Any, ...]:
    info = [record[c] for c in INFO_COLUMNS[:4]]
    times = [_timestamp(record["start_time"]), _timestamp(record["end_time"])]
    values: list[Any] = []
    for group, _ in _GROUPS:
        found = record[group]
        values += [found.get(k) for g, k in keys if g == group]
    return (*info, *times, *values)


def _history_rows(
    source: Source, metric_keys: tuple[str, ...] | None, tasks: Iterable[Task]
) -> Iterator[tuple[Any, ...]]:
    tracking = TrackingStore(open_storage(source.store, source.storage_options))
    for run in searched_runs(source, tasks):
        keys = sorted(run.data.metrics) if metric_keys is None else metric_keys
        for key in keys:
            if key not in run.data.metrics:
                continue
            for m in tracking.get_metric_history(run.info.run_id, key):
                yield (run.info.run_id, key, float(m.value), int(m.step), int(m.timestamp))
