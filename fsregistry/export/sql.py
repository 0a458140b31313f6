"""``fsreg export --to DB_URL``: copy a store into the database of MLflow's SQLAlchemy stores.

MLflow (``fsregistry[mlflow]``: MLflow and SQLAlchemy) is imported here only. MLflow itself
creates or upgrades the schema (its tracking and registry ``SqlAlchemyStore`` on the URL, so
any URL they accept works: SQLite, PostgreSQL, MySQL, MSSQL). Rows are then written through
the tables of MLflow's ORM models (``mlflow.store.tracking.dbmodels``,
``mlflow.store.model_registry.dbmodels``), because MLflow's store API makes new ids and an
export keeps them: experiment ids, run ids, LoggedModel ids and version numbers are the
store's.

What is copied, and how each unit is made all-or-nothing
    One database transaction per unit, in this order (foreign keys point backwards):

    * an experiment with its tags (name, artifact location, lifecycle stage, creation and
      update times). Experiment ``0`` exists in every MLflow database (MLflow creates it with
      the schema): its row is set to the store's ``0``;
    * a run with its params, tags, the full history of every metric (``metrics``; NaN stored as
      MLflow does: value 0 with ``is_nan``, infinities as the largest finite doubles), the
      latest value per key (``latest_metrics``: MLflow's rule, the greatest
      ``(step, timestamp, value)``), its dataset inputs (``datasets``, ``inputs``,
      ``input_tags``), its model inputs and its outputs (LoggedModels it logged);
    * a LoggedModel with its params, tags and metrics (status, type, source run,
      artifact location);
    * a registered model with its tags, description, every live version (source, run id, run
      link, status, stage, description, user, tags; ``storage_location`` resolved as MLflow's
      SQL store resolves a ``models:/`` source) and its aliases.

    Artifacts stay where they are: artifact locations and URIs are copied as they are.

Resumable and idempotent
    A unit whose key is already in the database (experiment id, run id, model id, registered
    model name) is skipped, unread past that check. A unit is one transaction, so an export
    that was killed left whole units only; running it again copies what is missing and ends
    with the same database as an uninterrupted export. The ids MLflow would make at random
    (dataset and input uuids) are derived from what they link, so they are the same on every
    run. A unit already present is not compared with the store: to pick up later changes to
    runs or models that were exported before, export into a new database.

    A key taken by something else (an experiment name used by another id in the database)
    raises RESOURCE_ALREADY_EXISTS naming it; the units copied before stay, the failing one
    is rolled back.

fsregistry's 18-digit experiment ids (MLflow's file store makes the same) fit SQLite's
64-bit INTEGER; PostgreSQL's and MySQL's ``experiment_id`` columns are 32-bit in MLflow's
schema, so such an export is refused after MLflow made the schema and before any row of the
store is written (INVALID_PARAMETER_VALUE naming the id and every column to widen to BIGINT;
after ``ALTER TABLE ... TYPE BIGINT`` on those, the export goes through).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from fsregistry.entities.tracking import Experiment, LoggedModel, Metric
from fsregistry.exceptions import (
    FsRegistryException,
    InvalidParameterValue,
    ResourceAlreadyExists,
    StorageUnavailable,
)
from fsregistry.export.common import ExportSummary, Progress, require_mlflow
from fsregistry.export.source import ModelRecord, RunRecord, StoreSource

__all__ = ["SqlTarget", "export_units", "target_run_ids"]

T = TypeVar("T")
_INT32_MAX = 2**31 - 1
_MAX_FLOAT = 1.7976931348623157e308
# Namespace of the uuids an export derives (dataset and input ids), so reruns agree.
_UUID_NS = uuid.UUID("5b0f3c2e-6f4e-4a55-9a43-2f0d6c6a1e21")


def _uid(*parts: str) -> str:
    return uuid.uuid5(_UUID_NS, "\x00".join(parts)).hex


def _sanitize(value: float) -> tuple[bool, float]:
    """MLflow's SQL encoding of a metric value: (is_nan, finite value)."""
    if math.isnan(value):
        return True, 0.0
    if math.isinf(value):
        return False, _MAX_FLOAT if value > 0 else -_MAX_FLOAT
    return False, float(value)


class SqlTarget:
    """The database of MLflow's SQLAlchemy stores at ``db_uri``, schema made by MLflow."""

    def __init__(self, db_uri: str, default_artifact_root: str) -> None:
        tracking_sql, registry_sql = require_mlflow()
        from mlflow.store.model_registry.dbmodels import models as reg_models
        from mlflow.store.tracking.dbmodels import models as trk_models

        self.db_uri = db_uri
        try:
            self._tracking = tracking_sql.SqlAlchemyStore(db_uri, default_artifact_root)
            registry_sql.SqlAlchemyStore(db_uri)
        except Exception as exc:  # MLflow's and SQLAlchemy's errors, from a URL we were given
            raise _db_error(exc, db_uri) from exc
        self.engine = self._tracking.engine
        t, r = trk_models, reg_models
        self.t = {
            name: getattr(t, cls).__table__
            for name, cls in {
                "experiments": "SqlExperiment",
                "experiment_tags": "SqlExperimentTag",
                "runs": "SqlRun",
                "tags": "SqlTag",
                "params": "SqlParam",
                "metrics": "SqlMetric",
                "latest_metrics": "SqlLatestMetric",
                "datasets": "SqlDataset",
                "inputs": "SqlInput",
                "input_tags": "SqlInputTag",
                "logged_models": "SqlLoggedModel",
                "logged_model_params": "SqlLoggedModelParam",
                "logged_model_tags": "SqlLoggedModelTag",
                "logged_model_metrics": "SqlLoggedModelMetric",
            }.items()
        }
        self.t.update(
            {
                name: getattr(r, cls).__table__
                for name, cls in {
                    "registered_models": "SqlRegisteredModel",
                    "registered_model_tags": "SqlRegisteredModelTag",
                    "model_versions": "SqlModelVersion",
                    "model_version_tags": "SqlModelVersionTag",
                    "registered_model_aliases": "SqlRegisteredModelAlias",
                }.items()
            }
        )
        from mlflow.entities import LoggedModelStatus

        self._model_status = LoggedModelStatus

    @property
    def dialect(self) -> str:
        """The database kind (``sqlite``, ``postgresql``, ``mysql``, ``mssql``)."""
        return str(self.engine.dialect.name)

    def narrow_id_columns(self) -> list[str]:
        """``table.column`` of every ``experiment_id`` column that holds 32 bits only
        (SQLite's INTEGER is 64-bit whatever its declared type)."""
        import sqlalchemy

        if self.dialect == "sqlite":
            return []
        narrow = []
        inspector = sqlalchemy.inspect(self.engine)
        for table in inspector.get_table_names():
            for col in inspector.get_columns(table):
                kind = col["type"]
                wide = isinstance(kind, sqlalchemy.BigInteger)
                if (
                    col["name"] == "experiment_id"
                    and isinstance(kind, sqlalchemy.Integer)
                    and not wide
                ):
                    narrow.append(f"{table}.{col['name']}")
        return sorted(narrow)

    @contextmanager
    def transaction(self, what: str) -> Iterator[Any]:
        """One transaction; SQLAlchemy's errors become fsregistry's (rolled back)."""
        import sqlalchemy.exc

        try:
            with self.engine.begin() as conn:
                yield conn
        except sqlalchemy.exc.IntegrityError as exc:
            raise ResourceAlreadyExists(
                f"Cannot copy {what} into {self.db_uri}: the database already holds a "
                f"conflicting row ({exc.orig})"
            ) from exc
        except sqlalchemy.exc.SQLAlchemyError as exc:
            raise _db_error(exc, self.db_uri) from exc

    def _exists(self, conn: Any, table: str, **keys: Any) -> bool:
        from sqlalchemy import select

        tab = self.t[table]
        query = select(*[tab.c[k] for k in keys]).where(*[tab.c[k] == v for k, v in keys.items()])
        return conn.execute(query.limit(1)).first() is not None

    # -- experiments ------------------------------------------------------------------------
    def put_experiment(self, exp: Experiment) -> bool:
        """Copy one experiment and its tags; False if it was there already."""
        from sqlalchemy import select

        eid = int(exp.experiment_id)
        row = {
            "name": exp.name,
            "artifact_location": exp.artifact_location,
            "lifecycle_stage": exp.lifecycle_stage,
            "creation_time": exp.creation_time,
            "last_update_time": exp.last_update_time,
        }
        tags = [{"experiment_id": eid, "key": k, "value": v} for k, v in exp.tags.items()]
        with self.transaction(f"experiment {exp.experiment_id} ({exp.name!r})") as conn:
            table = self.t["experiments"]
            present = conn.execute(
                select(*[table.c[k] for k in row]).where(table.c.experiment_id == eid)
            ).first()
            if present is not None and eid != 0:
                return False
            if present is None:
                conn.execute(table.insert(), [{"experiment_id": eid, **row}])
                _insert(conn, self.t["experiment_tags"], tags)
                return True
            # Experiment 0 comes with MLflow's schema: make it the store's.
            changed = dict(present._mapping) != row
            if changed:
                conn.execute(table.update().where(table.c.experiment_id == eid).values(**row))
            tag_table = self.t["experiment_tags"]
            have = {
                k
                for (k,) in conn.execute(
                    select(tag_table.c.key).where(tag_table.c.experiment_id == eid)
                )
            }
            missing = [t for t in tags if t["key"] not in have]
            _insert(conn, tag_table, missing)
            return changed or bool(missing)

    # -- runs -------------------------------------------------------------------------------
    def put_run(self, record: RunRecord) -> bool:
        """Copy one run with params, tags, metric histories, inputs and outputs."""
        run = record.run
        info = run.info
        rid = info.run_id
        with self.transaction(f"run {rid}") as conn:
            if self._exists(conn, "runs", run_uuid=rid):
                return False
            eid = int(info.experiment_id)
            conn.execute(
                self.t["runs"].insert(),
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
            _insert(
                conn,
                self.t["tags"],
                [{"run_uuid": rid, "key": k, "value": v} for k, v in run.data.tags.items()],
            )
            _insert(
                conn,
                self.t["params"],
                [{"run_uuid": rid, "key": k, "value": v} for k, v in run.data.params.items()],
            )
            metrics, latest = _metric_rows(rid, record.history)
            _insert(conn, self.t["metrics"], metrics)
            _insert(conn, self.t["latest_metrics"], latest)
            self._put_inputs(conn, eid, record)
            return True

    def _put_inputs(self, conn: Any, eid: int, record: RunRecord) -> None:
        from sqlalchemy import select

        rid = record.run.info.run_id
        inputs: list[dict[str, Any]] = []
        input_tags: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        datasets = self.t["datasets"]
        for dataset_input in record.run.inputs.dataset_inputs:
            ds = dataset_input.dataset
            if (ds.name, ds.digest) in seen:
                continue  # MLflow keeps the first of a name and digest
            seen.add((ds.name, ds.digest))
            found = conn.execute(
                select(datasets.c.dataset_uuid).where(
                    datasets.c.experiment_id == eid,
                    datasets.c.name == ds.name,
                    datasets.c.digest == ds.digest,
                )
            ).first()
            if found is not None:
                dataset_uuid = found[0]
            else:
                dataset_uuid = _uid("dataset", str(eid), ds.name, ds.digest)
                _insert(
                    conn,
                    datasets,
                    [
                        {
                            "dataset_uuid": dataset_uuid,
                            "experiment_id": eid,
                            "name": ds.name,
                            "digest": ds.digest,
                            "dataset_source_type": ds.source_type,
                            "dataset_source": ds.source,
                            "dataset_schema": ds.schema,
                            "dataset_profile": ds.profile,
                        }
                    ],
                )
            input_uuid = _uid("input", dataset_uuid, rid)
            inputs.append(_edge(input_uuid, "DATASET", dataset_uuid, "RUN", rid))
            input_tags += [
                {"input_uuid": input_uuid, "name": t.key, "value": t.value}
                for t in dataset_input.tags
            ]
        for model_input in record.run.inputs.model_inputs:
            mid = model_input.model_id
            inputs.append(
                _edge(_uid("model-input", rid, mid), "RUN_INPUT", rid, "MODEL_INPUT", mid)
            )
        for output in record.run.outputs.model_outputs:
            mid = output.model_id
            edge = _edge(_uid("model-output", rid, mid), "RUN_OUTPUT", rid, "MODEL_OUTPUT", mid)
            inputs.append({**edge, "step": output.step})
        _insert(conn, self.t["inputs"], _unique(inputs, "input_uuid"))
        _insert(conn, self.t["input_tags"], input_tags)

    # -- logged models ----------------------------------------------------------------------
    def put_logged_model(self, model: LoggedModel) -> bool:
        """Copy one LoggedModel with its params, tags and metrics."""
        from sqlalchemy import select

        mid = model.model_id
        eid = int(model.experiment_id)
        with self.transaction(f"logged model {mid}") as conn:
            if self._exists(conn, "logged_models", model_id=mid):
                return False
            conn.execute(
                self.t["logged_models"].insert(),
                [
                    {
                        "model_id": mid,
                        "experiment_id": eid,
                        "name": model.name,
                        "artifact_location": model.artifact_location,
                        "creation_timestamp_ms": model.creation_timestamp,
                        "last_updated_timestamp_ms": model.last_updated_timestamp,
                        "status": self._model_status(str(model.status)).to_int(),
                        "lifecycle_stage": "active",
                        "model_type": model.model_type,
                        "source_run_id": model.source_run_id,
                        "status_message": model.status_message,
                    }
                ],
            )
            _insert(
                conn,
                self.t["logged_model_params"],
                [
                    {"model_id": mid, "experiment_id": eid, "param_key": k, "param_value": v}
                    for k, v in model.params.items()
                ],
            )
            _insert(
                conn,
                self.t["logged_model_tags"],
                [
                    {"model_id": mid, "experiment_id": eid, "tag_key": k, "tag_value": v}
                    for k, v in model.tags.items()
                ],
            )
            datasets = self.t["datasets"]
            rows: dict[tuple[Any, ...], dict[str, Any]] = {}
            for m in model.metrics:
                run_id = m.run_id or model.source_run_id
                if not run_id:
                    continue  # MLflow's SQL store records a model metric only with its run
                dataset_uuid = None
                if m.dataset_name and m.dataset_digest:
                    found = conn.execute(
                        select(datasets.c.dataset_uuid).where(
                            datasets.c.experiment_id == eid,
                            datasets.c.name == m.dataset_name,
                            datasets.c.digest == m.dataset_digest,
                        )
                    ).first()
                    dataset_uuid = found[0] if found else None
                rows.setdefault(
                    (m.key, m.timestamp, m.step, run_id),
                    {
                        "model_id": mid,
                        "metric_name": m.key,
                        "metric_timestamp_ms": m.timestamp,
                        "metric_step": m.step,
                        "metric_value": _sanitize(m.value)[1],
                        "experiment_id": eid,
                        "run_id": run_id,
                        "dataset_uuid": dataset_uuid,
                        "dataset_name": m.dataset_name,
                        "dataset_digest": m.dataset_digest,
                    },
                )
            _insert(conn, self.t["logged_model_metrics"], list(rows.values()))
            return True

    # -- registry ---------------------------------------------------------------------------
    def put_registered_model(self, record: ModelRecord) -> bool:
        """Copy one registered model with its tags, versions (and their tags) and aliases."""
        rm = record.model
        name = rm.name
        with self.transaction(f"registered model {name!r}") as conn:
            if self._exists(conn, "registered_models", name=name):
                return False
            conn.execute(
                self.t["registered_models"].insert(),
                [
                    {
                        "name": name,
                        "creation_time": rm.creation_timestamp,
                        "last_updated_time": rm.last_updated_timestamp,
                        "description": rm.description,
                    }
                ],
            )
            _insert(
                conn,
                self.t["registered_model_tags"],
                [{"name": name, "key": k, "value": v} for k, v in rm.tags.items()],
            )
            versions: list[dict[str, Any]] = []
            version_tags: list[dict[str, Any]] = []
            for vr in record.versions:
                v = vr.version
                number = int(v.version)
                versions.append(
                    {
                        "name": name,
                        "version": number,
                        "creation_time": v.creation_timestamp,
                        "last_updated_time": v.last_updated_timestamp,
                        "description": v.description,
                        "user_id": v.user_id,
                        "current_stage": v.current_stage,
                        "source": v.source,
                        "storage_location": vr.storage_location,
                        "run_id": v.run_id or None,
                        "run_link": v.run_link or None,
                        "status": v.status,
                        "status_message": v.status_message,
                    }
                )
                version_tags += [
                    {"name": name, "version": number, "key": k, "value": val}
                    for k, val in v.tags.items()
                ]
            _insert(conn, self.t["model_versions"], versions)
            _insert(conn, self.t["model_version_tags"], version_tags)
            live = {int(v.version.version) for v in record.versions}
            _insert(
                conn,
                self.t["registered_model_aliases"],
                [
                    {"name": name, "alias": alias, "version": int(version)}
                    for alias, version in rm.aliases.items()
                    if int(version) in live
                ],
            )
            return True


def _edge(
    input_uuid: str, source_type: str, source_id: str, dest_type: str, dest_id: str
) -> dict[str, Any]:
    return {
        "input_uuid": input_uuid,
        "source_type": source_type,
        "source_id": source_id,
        "destination_type": dest_type,
        "destination_id": dest_id,
        "step": 0,
    }


def _unique(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return list({row[key]: row for row in rows}.values())


def _insert(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(table.insert(), rows)


def _metric_rows(
    run_id: str, history: dict[str, list[Metric]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows of ``metrics`` (one per distinct logged value) and ``latest_metrics``."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    latest: dict[str, dict[str, Any]] = {}
    for key, metrics in history.items():
        for m in metrics:
            is_nan, value = _sanitize(m.value)
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


def _db_error(exc: BaseException, db_uri: str) -> FsRegistryException:
    if isinstance(exc, FsRegistryException):
        return exc
    if isinstance(exc, ImportError):  # SQLAlchemy's driver for the URL is not installed
        return InvalidParameterValue(
            f"Database {db_uri} needs its driver, the Python package {exc.name!r}; install it "
            "(e.g. psycopg2-binary for postgresql://, pymysql for mysql+pymysql://)"
        )
    code = getattr(exc, "error_code", None)
    if isinstance(code, str):  # an MlflowException from MLflow's store
        return FsRegistryException(f"{db_uri}: {getattr(exc, 'message', exc)}", code)
    return StorageUnavailable(f"Database {db_uri} failed: {exc}")


def export_units(
    source: StoreSource,
    target: SqlTarget,
    progress: Callable[[Progress], None] | None = None,
) -> ExportSummary:
    """Copy every unit of ``source`` missing from ``target``; see the module docstring."""
    summary = ExportSummary()
    experiments = source.experiments()
    too_big = [e.experiment_id for e in experiments if int(e.experiment_id) > _INT32_MAX]
    narrow = target.narrow_id_columns() if too_big else []
    if narrow:
        raise InvalidParameterValue(
            f"Experiment id {too_big[0]} does not fit the 32-bit experiment_id column of "
            f"MLflow's {target.dialect} schema ({len(too_big)} such experiments); export to "
            f"SQLite, or widen these columns to BIGINT first: {', '.join(narrow)}"
        )

    def stage(kind: str, items: list[T], key: Callable[[T], str], put: Callable[[T], bool]) -> None:
        for done, item in enumerate(items, 1):
            copied = put(item)
            summary.count(kind, copied)
            if progress is not None:
                progress(Progress(kind, key(item), copied, done, len(items)))

    stage("experiment", experiments, lambda e: e.experiment_id, target.put_experiment)
    experiment_ids = [e.experiment_id for e in experiments]
    run_ids = [rid for eid in experiment_ids for rid in source.run_ids(eid)]
    present = target_run_ids(target, run_ids)
    stage("run", run_ids, str, lambda r: r not in present and target.put_run(source.run(r)))
    models = list(source.logged_models(experiment_ids))
    stage("logged_model", models, lambda m: m.model_id, target.put_logged_model)
    registered = list(source.registered_models())
    stage("registered_model", registered, lambda r: r.model.name, target.put_registered_model)
    return summary


def target_run_ids(target: SqlTarget, run_ids: list[str]) -> set[str]:
    """Which of ``run_ids`` the database has (so a resumed export does not read them)."""
    from sqlalchemy import select

    runs = target.t["runs"]
    present: set[str] = set()
    with target.transaction("the list of runs") as conn:
        for start in range(0, len(run_ids), 500):
            chunk = run_ids[start : start + 500]
            present.update(
                r
                for (r,) in conn.execute(select(runs.c.run_uuid).where(runs.c.run_uuid.in_(chunk)))
            )
    return present
