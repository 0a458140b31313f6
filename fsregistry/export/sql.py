"""``fsreg export --to DB_URL``: copy a store into the database of MLflow's SQLAlchemy stores.

MLflow (``fsregistry[mlflow]``: MLflow and SQLAlchemy) is imported here only. MLflow itself
creates or upgrades the schema (its tracking and registry ``SqlAlchemyStore`` on the URL, so
any URL they accept works: SQLite, PostgreSQL, MySQL, MSSQL). Rows are then written through
the tables of MLflow's ORM models (``mlflow.store.tracking.dbmodels``,
``mlflow.store.model_registry.dbmodels``), because MLflow's store API makes new ids and an
export keeps them: experiment ids, run ids, LoggedModel ids and version numbers are the
store's.

What is copied, and how each unit is made all-or-nothing
    One database transaction per unit, except runs, which go in batches of whole runs (one
    transaction of at most ``BATCH_RUNS`` runs or about ``BATCH_ROWS`` rows, one multi-row
    insert per table: the SQL sent does not grow with the number of runs), in this order
    (foreign keys point backwards):

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
    model name) is skipped, unread past that check (the run ids are asked for in chunks of
    500 before any run is read, and again per batch). A unit or batch is one transaction, so
    an export that was killed left whole units only; running it again copies what is missing
    and ends with the same database as an uninterrupted export. The ids MLflow would make at random
    (dataset and input uuids) are derived from what they link, so they are the same on every
    run. A unit already present is not compared with the store: to pick up later changes to
    runs or models that were exported before, export into a new database.

    A key taken by something else (an experiment name used by another id in the database)
    raises RESOURCE_ALREADY_EXISTS naming it; the units copied before stay, the failing one
    (for a run, its whole batch) is rolled back. A run that cannot be read fails the export
    after the runs read before it in its batch are copied.

fsregistry's 18-digit experiment ids (MLflow's file store makes the same) fit SQLite's
64-bit INTEGER; PostgreSQL's and MySQL's ``experiment_id`` columns are 32-bit in MLflow's
schema, so such an export is refused after MLflow made the schema and before any row of the
store is written (INVALID_PARAMETER_VALUE naming the id and every column to widen to BIGINT;
after ``ALTER TABLE ... TYPE BIGINT`` on those, the export goes through).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from fsregistry.entities.tracking import Experiment, LoggedModel
from fsregistry.exceptions import (
    FsRegistryException,
    InvalidParameterValue,
    ResourceAlreadyExists,
    StorageUnavailable,
)
from fsregistry.export.common import ExportSummary, Progress, require_mlflow
from fsregistry.export.source import ModelRecord, StoreSource
from fsregistry.export.sql_rows import (
    RunRows,
    edge,
    row_count,
    run_rows,
    sanitize,
    uid,
    unique,
)
from fsregistry.tracking.runs import RunRecord

__all__ = ["BATCH_ROWS", "BATCH_RUNS", "SqlTarget", "export_units", "target_run_ids"]

T = TypeVar("T")
_INT32_MAX = 2**31 - 1
# A batch of runs is one transaction: at most this many runs, or about this many rows.
BATCH_RUNS = 500
BATCH_ROWS = 50_000


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
        # (experiment id, name, digest) -> dataset_uuid of datasets known to be in the database
        self._datasets: dict[tuple[Any, ...], str] = {}

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
    def put_runs(self, records: list[RunRecord]) -> list[bool]:
        """Copy a batch of runs with their params, tags, metric histories, inputs and outputs
        in one transaction, one multi-row insert per table; per run, False if it was there
        already (one query for the whole batch)."""
        from sqlalchemy import select

        if not records:
            return []
        ids = [r.run.info.run_id for r in records]
        rows = RunRows()
        known = dict(self._datasets)
        what = f"run {ids[0]}" if len(ids) == 1 else f"runs {ids[0]} to {ids[-1]} ({len(ids)})"
        with self.transaction(what) as conn:
            runs = self.t["runs"]
            present = {
                r for (r,) in conn.execute(select(runs.c.run_uuid).where(runs.c.run_uuid.in_(ids)))
            }
            copied = [rid not in present for rid in ids]
            for record, new in zip(records, copied, strict=True):
                if new:
                    self._run_rows(conn, record, rows, known)
            for table in RunRows.TABLES:
                _insert(conn, self.t[table], rows.tables[table])
        self._datasets = known  # committed: the batch's datasets are in the database now
        return copied

    def _run_rows(
        self, conn: Any, record: RunRecord, rows: RunRows, known: dict[tuple[Any, ...], str]
    ) -> None:
        run_rows(record, rows)
        self._input_rows(conn, int(record.run.info.experiment_id), record, rows, known)

    def _input_rows(
        self,
        conn: Any,
        eid: int,
        record: RunRecord,
        rows: RunRows,
        known: dict[tuple[Any, ...], str],
    ) -> None:
        rid = record.run.info.run_id
        inputs: list[dict[str, Any]] = []
        input_tags: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for dataset_input in record.run.inputs.dataset_inputs:
            ds = dataset_input.dataset
            if (ds.name, ds.digest) in seen:
                continue  # MLflow keeps the first of a name and digest
            seen.add((ds.name, ds.digest))
            key = (eid, ds.name, ds.digest)
            dataset_uuid = known.get(key) or self._dataset_uuid(conn, eid, ds.name, ds.digest)
            if dataset_uuid is None:
                dataset_uuid = uid("dataset", str(eid), ds.name, ds.digest)
                rows.add(
                    "datasets",
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
            known[key] = dataset_uuid
            input_uuid = uid("input", dataset_uuid, rid)
            inputs.append(edge(input_uuid, "DATASET", dataset_uuid, "RUN", rid))
            input_tags += [
                {"input_uuid": input_uuid, "name": t.key, "value": t.value}
                for t in dataset_input.tags
            ]
        for model_input in record.run.inputs.model_inputs:
            mid = model_input.model_id
            inputs.append(edge(uid("model-input", rid, mid), "RUN_INPUT", rid, "MODEL_INPUT", mid))
        for output in record.run.outputs.model_outputs:
            mid = output.model_id
            output_edge = edge(
                uid("model-output", rid, mid), "RUN_OUTPUT", rid, "MODEL_OUTPUT", mid
            )
            inputs.append({**output_edge, "step": output.step})
        rows.add("inputs", unique(inputs, "input_uuid"))
        rows.add("input_tags", input_tags)

    def _dataset_uuid(self, conn: Any, eid: int, name: str, digest: str) -> str | None:
        """The id of the experiment's dataset of this name and digest in the database."""
        from sqlalchemy import select

        datasets = self.t["datasets"]
        found = conn.execute(
            select(datasets.c.dataset_uuid).where(
                datasets.c.experiment_id == eid,
                datasets.c.name == name,
                datasets.c.digest == digest,
            )
        ).first()
        return None if found is None else str(found[0])

    # -- logged models ----------------------------------------------------------------------
    def put_logged_model(self, model: LoggedModel) -> bool:
        """Copy one LoggedModel with its params, tags and metrics."""

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
            rows: dict[tuple[Any, ...], dict[str, Any]] = {}
            for m in model.metrics:
                run_id = m.run_id or model.source_run_id
                if not run_id:
                    continue  # MLflow's SQL store records a model metric only with its run
                dataset_uuid = None
                if m.dataset_name and m.dataset_digest:
                    dataset_uuid = self._dataset_uuid(conn, eid, m.dataset_name, m.dataset_digest)
                rows.setdefault(
                    (m.key, m.timestamp, m.step, run_id),
                    {
                        "model_id": mid,
                        "metric_name": m.key,
                        "metric_timestamp_ms": m.timestamp,
                        "metric_step": m.step,
                        "metric_value": sanitize(m.value)[1],
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


def _insert(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(table.insert(), rows)


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
    # Each id once: paging that falls back to offsets may show a run made meanwhile twice.
    run_ids = list(dict.fromkeys(rid for eid in experiment_ids for rid in source.run_ids(eid)))
    _copy_runs(source, target, run_ids, summary, progress)
    models = list(source.logged_models(experiment_ids))
    stage("logged_model", models, lambda m: m.model_id, target.put_logged_model)
    registered = list(source.registered_models())
    stage("registered_model", registered, lambda r: r.model.name, target.put_registered_model)
    return summary


def _copy_runs(
    source: StoreSource,
    target: SqlTarget,
    run_ids: list[str],
    summary: ExportSummary,
    progress: Callable[[Progress], None] | None,
) -> None:
    """Copy the runs missing from ``target`` in batches of whole runs (``BATCH_RUNS`` runs
    or about ``BATCH_ROWS`` rows, one transaction each); a run already there is not read."""
    present = target_run_ids(target, run_ids)
    done = 0

    def report(run_id: str, copied: bool) -> None:
        nonlocal done
        done += 1
        summary.count("run", copied)
        if progress is not None:
            progress(Progress("run", run_id, copied, done, len(run_ids)))

    batch: list[RunRecord] = []
    rows = 0

    def flush() -> None:
        nonlocal rows
        for record, copied in zip(batch, target.put_runs(batch), strict=True):
            report(record.run.info.run_id, copied)
        batch.clear()
        rows = 0

    for run_id in run_ids:
        if run_id in present:
            report(run_id, False)
            continue
        try:
            record = source.run(run_id)
        except BaseException as error:
            try:
                flush()  # the runs read before this one are copied, as one unit at a time was
            except Exception as flush_error:
                error.add_note(f"The runs read before it were not copied either: {flush_error}")
            raise
        batch.append(record)
        rows += row_count(record)
        if len(batch) >= BATCH_RUNS or rows >= BATCH_ROWS:
            flush()
    flush()


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
