"""The rows of MLflow's tables that a run becomes in an export (``fsreg export --to``), as
MLflow's SQL store writes them: metric values sanitised as MLflow stores them, the latest
value per key by MLflow's rule, and the ids MLflow would make at random derived from what
they link (so every export of a store agrees)."""

from __future__ import annotations

import math
import uuid
from typing import Any

from fsregistry.entities.tracking import Metric
from fsregistry.tracking.runs import RunRecord

__all__ = ["RunRows", "edge", "metric_rows", "row_count", "run_rows", "sanitize", "uid", "unique"]

_MAX_FLOAT = 1.7976931348623157e308
# Namespace of the uuids an export derives (dataset and input ids), so reruns agree.
_UUID_NS = uuid.UUID("5b0f3c2e-6f4e-4a55-9a43-2f0d6c6a1e21")


def uid(*parts: str) -> str:
    """A uuid derived from ``parts`` (the same on every export)."""
    return uuid.uuid5(_UUID_NS, "\x00".join(parts)).hex


def sanitize(value: float) -> tuple[bool, float]:
    """MLflow's SQL encoding of a metric value: (is_nan, finite value)."""
    if math.isnan(value):
        return True, 0.0
    if math.isinf(value):
        return False, _MAX_FLOAT if value > 0 else -_MAX_FLOAT
    return False, float(value)


class RunRows:
    """The rows a batch of runs adds, per table of MLflow's schema (inserted in ``TABLES``
    order: foreign keys point backwards)."""

    TABLES = (
        "runs",
        "tags",
        "params",
        "metrics",
        "latest_metrics",
        "datasets",
        "inputs",
        "input_tags",
    )

    def __init__(self) -> None:
        self.tables: dict[str, list[dict[str, Any]]] = {t: [] for t in self.TABLES}

    def add(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Rows for ``table``."""
        self.tables[table].extend(rows)


def run_rows(record: RunRecord, rows: RunRows) -> None:
    """Add a run's own rows: ``runs``, ``tags``, ``params``, ``metrics``, ``latest_metrics``."""
    run = record.run
    info = run.info
    rid = info.run_id
    eid = int(info.experiment_id)
    rows.add(
        "runs",
        [
            {
                "run_uuid": rid,
                "name": info.run_name,
                "source_type": "UNKNOWN",
                "source_name": "",
                "entry_point_name": "",
                "user_id": info.user_id,
                "status": info.status,
                "start_time": info.start_time,
                "end_time": info.end_time,
                "deleted_time": None,
                "source_version": "",
                "lifecycle_stage": info.lifecycle_stage,
                "artifact_uri": info.artifact_uri,
                "experiment_id": eid,
            }
        ],
    )
    rows.add("tags", [{"run_uuid": rid, "key": k, "value": v} for k, v in run.data.tags.items()])
    rows.add(
        "params", [{"run_uuid": rid, "key": k, "value": v} for k, v in run.data.params.items()]
    )
    metrics, latest = metric_rows(rid, record.history)
    rows.add("metrics", metrics)
    rows.add("latest_metrics", latest)


def edge(
    input_uuid: str, source_type: str, source_id: str, dest_type: str, dest_id: str
) -> dict[str, Any]:
    """A row of ``inputs``: what links to what (step 0)."""
    return {
        "input_uuid": input_uuid,
        "source_type": source_type,
        "source_id": source_id,
        "destination_type": dest_type,
        "destination_id": dest_id,
        "step": 0,
    }


def unique(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """``rows`` with one per value of ``key`` (the last)."""
    return list({row[key]: row for row in rows}.values())


def metric_rows(
    run_id: str, history: dict[str, list[Metric]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows of ``metrics`` (one per distinct logged value) and ``latest_metrics``."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    latest: dict[str, dict[str, Any]] = {}
    for key, metrics in history.items():
        for m in metrics:
            is_nan, value = sanitize(m.value)
            row = {
                "run_uuid": run_id,
                "key": key,
                "value": value,
                "timestamp": m.timestamp,
                "step": m.step,
                "is_nan": is_nan,
            }
            rows.setdefault((key, m.timestamp, m.step, value, is_nan), row)
            best = latest.get(key)
            if best is None or (m.step, m.timestamp, value) > (
                best["step"],
                best["timestamp"],
                best["value"],
            ):
                latest[key] = row
    return list(rows.values()), list(latest.values())


def row_count(record: RunRecord) -> int:
    """About how many rows a run adds (its batch's size is counted in rows)."""
    data = record.run.data
    return 1 + len(data.params) + len(data.tags) + sum(map(len, record.history.values()))
