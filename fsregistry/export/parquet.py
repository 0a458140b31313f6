"""``fsreg export --format parquet -o DIR``: a store's runs and registry as Parquet tables.

One file per table, ``DIR/<table>.parquet``, readable by pandas (``pd.read_parquet``),
DuckDB (``SELECT * FROM 'DIR/metrics.parquet'``), Spark and Polars. Every run and experiment
is included, deleted ones too (``lifecycle_stage`` tells them apart); registered models and
their live versions, prompts included. Times are milliseconds since the epoch (int64), as in
MLflow; ids are strings (experiment ids are 18-digit numbers in fsregistry's stores, kept
as text as MLflow's API does).

Schema (column: type; nullable unless marked ``not null``)

``experiments``
    experiment_id: string not null, name: string not null, artifact_location: string,
    lifecycle_stage: string, creation_time: int64, last_update_time: int64
``experiment_tags``
    experiment_id: string not null, key: string not null, value: string
``runs``
    run_id: string not null, experiment_id: string not null, run_name: string,
    user_id: string, status: string (RUNNING, FINISHED, FAILED, KILLED, SCHEDULED),
    start_time: int64, end_time: int64, lifecycle_stage: string, artifact_uri: string
``params`` / ``tags``
    run_id: string not null, key: string not null, value: string
``metrics`` (every logged value: the full history)
    run_id: string not null, key: string not null, value: double (NaN and infinities kept),
    step: int64 not null, timestamp: int64 not null
``latest_metrics`` (what ``search_runs`` returns as ``run.data.metrics``)
    run_id: string not null, key: string not null, value: double, step: int64,
    timestamp: int64
``registered_models``
    name: string not null, description: string, creation_timestamp: int64,
    last_updated_timestamp: int64
``registered_model_tags``
    name: string not null, key: string not null, value: string
``model_versions``
    name: string not null, version: int64 not null, source: string, run_id: string,
    status: string, current_stage: string, description: string, user_id: string,
    creation_timestamp: int64, last_updated_timestamp: int64, storage_location: string
``model_version_tags``
    name: string not null, version: int64 not null, key: string not null, value: string
``aliases``
    name: string not null, alias: string not null, version: int64 not null

Files are written whole: each table goes to a hidden temporary file in ``DIR`` that replaces
``DIR/<table>.parquet`` only when complete, so a reader never sees a partial table and a
failed export leaves
each table either as it was or complete. Rows are written in batches, so memory
stays bounded by a batch, not by the store. ``DIR`` is a local directory.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from fsregistry.exceptions import InvalidParameterValue, StorageError
from fsregistry.export.source import StoreSource

__all__ = ["SCHEMA", "write_tables"]

_BATCH = 50_000

S, INT, F = "string", "int64", "float64"
#: table -> [(column, type, nullable)]
SCHEMA: dict[str, list[tuple[str, str, bool]]] = {
    "experiments": [
        ("experiment_id", S, False),
        ("name", S, False),
        ("artifact_location", S, True),
        ("lifecycle_stage", S, True),
        ("creation_time", INT, True),
        ("last_update_time", INT, True),
    ],
    "experiment_tags": [("experiment_id", S, False), ("key", S, False), ("value", S, True)],
    "runs": [
        ("run_id", S, False),
        ("experiment_id", S, False),
        ("run_name", S, True),
        ("user_id", S, True),
        ("status", S, True),
        ("start_time", INT, True),
        ("end_time", INT, True),
        ("lifecycle_stage", S, True),
        ("artifact_uri", S, True),
    ],
    "params": [("run_id", S, False), ("key", S, False), ("value", S, True)],
    "tags": [("run_id", S, False), ("key", S, False), ("value", S, True)],
    "metrics": [
        ("run_id", S, False),
        ("key", S, False),
        ("value", F, True),
        ("step", INT, False),
        ("timestamp", INT, False),
    ],
    "latest_metrics": [
        ("run_id", S, False),
        ("key", S, False),
        ("value", F, True),
        ("step", INT, True),
        ("timestamp", INT, True),
    ],
    "registered_models": [
        ("name", S, False),
        ("description", S, True),
        ("creation_timestamp", INT, True),
        ("last_updated_timestamp", INT, True),
    ],
    "registered_model_tags": [("name", S, False), ("key", S, False), ("value", S, True)],
    "model_versions": [
        ("name", S, False),
        ("version", INT, False),
        ("source", S, True),
        ("run_id", S, True),
        ("status", S, True),
        ("current_stage", S, True),
        ("description", S, True),
        ("user_id", S, True),
        ("creation_timestamp", INT, True),
        ("last_updated_timestamp", INT, True),
        ("storage_location", S, True),
    ],
    "model_version_tags": [
        ("name", S, False),
        ("version", INT, False),
        ("key", S, False),
        ("value", S, True),
    ],
    "aliases": [("name", S, False), ("alias", S, False), ("version", INT, False)],
}


class _TableWriter:
    """Rows of one table, written in batches to a temporary file, published by rename."""

    def __init__(self, pa: Any, pq: Any, out_dir: str, table: str) -> None:
        self.pa = pa
        self.table = table
        self.path = os.path.join(out_dir, f"{table}.parquet")
        self.schema = pa.schema(
            [
                pa.field(name, getattr(pa, kind)(), nullable)
                for name, kind, nullable in SCHEMA[table]
            ]
        )
        fd, self.tmp = tempfile.mkstemp(prefix=f".{table}.", suffix=".tmp", dir=out_dir)
        os.close(fd)
        self.writer = pq.ParquetWriter(self.tmp, self.schema)
        self.rows: list[tuple[Any, ...]] = []
        self.count = 0

    def add(self, *row: Any) -> None:
        self.rows.append(row)
        if len(self.rows) >= _BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        columns = list(zip(*self.rows, strict=True))
        arrays = [
            self.pa.array(col, type=f.type) for col, f in zip(columns, self.schema, strict=True)
        ]
        self.writer.write_table(self.pa.Table.from_arrays(arrays, schema=self.schema))
        self.count += len(self.rows)
        self.rows = []

    def close(self) -> None:
        self.flush()
        self.writer.close()

    def discard(self) -> None:
        try:
            self.writer.close()
        finally:
            if os.path.exists(self.tmp):
                os.unlink(self.tmp)


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise InvalidParameterValue(
            "fsreg export --format parquet needs pyarrow: pip install 'fsregistry[parquet]'"
        ) from exc
    return pa, pq


def write_tables(source: StoreSource, out_dir: str) -> dict[str, int]:
    """Write every table of :data:`SCHEMA` under ``out_dir``; rows written per table."""
    pa, pq = _pyarrow()
    if "://" in out_dir and not out_dir.startswith("file://"):
        raise InvalidParameterValue(f"Parquet export writes to a local directory, not {out_dir!r}")
    out_dir = out_dir.removeprefix("file://")
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"Cannot create the output directory {out_dir!r}: {exc}") from exc
    writers: dict[str, _TableWriter] = {}
    try:
        for table in SCHEMA:
            writers[table] = _TableWriter(pa, pq, out_dir, table)
        _fill(source, writers)
        for w in writers.values():
            w.close()
        for w in writers.values():
            os.replace(w.tmp, w.path)
    except OSError as exc:
        for w in writers.values():
            w.discard()
        raise StorageError(f"Writing Parquet files under {out_dir!r} failed: {exc}") from exc
    except BaseException:
        for w in writers.values():
            w.discard()
        raise
    return {t: w.count for t, w in writers.items()}


def _fill(source: StoreSource, w: dict[str, _TableWriter]) -> None:
    experiments = source.experiments()
    for e in experiments:
        eid = e.experiment_id
        w["experiments"].add(
            eid, e.name, e.artifact_location, e.lifecycle_stage, e.creation_time, e.last_update_time
        )
        for k, v in e.tags.items():
            w["experiment_tags"].add(eid, k, v)
        for rid in source.run_ids(eid):
            record = source.run(rid)
            info, data = record.run.info, record.run.data
            w["runs"].add(
                rid,
                info.experiment_id,
                info.run_name,
                info.user_id,
                info.status,
                info.start_time,
                info.end_time,
                info.lifecycle_stage,
                info.artifact_uri,
            )
            for k, v in data.params.items():
                w["params"].add(rid, k, v)
            for k, v in data.tags.items():
                w["tags"].add(rid, k, v)
            for m in data.metric_objs:
                w["latest_metrics"].add(rid, m.key, m.value, m.step, m.timestamp)
            for key, history in record.history.items():
                for m in history:
                    w["metrics"].add(rid, key, m.value, m.step, m.timestamp)
    for model_record in source.registered_models():
        rm = model_record.model
        w["registered_models"].add(
            rm.name, rm.description, rm.creation_timestamp, rm.last_updated_timestamp
        )
        for k, v in rm.tags.items():
            w["registered_model_tags"].add(rm.name, k, v)
        live = set()
        for vr in model_record.versions:
            mv = vr.version
            number = int(mv.version)
            live.add(number)
            w["model_versions"].add(
                rm.name,
                number,
                mv.source,
                mv.run_id,
                mv.status,
                mv.current_stage,
                mv.description,
                mv.user_id,
                mv.creation_timestamp,
                mv.last_updated_timestamp,
                vr.storage_location,
            )
            for k, val in mv.tags.items():
                w["model_version_tags"].add(rm.name, number, k, val)
        for alias, version in sorted(rm.aliases.items()):
            if int(version) in live:
                w["aliases"].add(rm.name, alias, int(version))
