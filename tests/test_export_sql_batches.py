"""``fsreg export --to DB_URL`` writes runs in batches: the SQL it sends does not grow with the
number of runs, and the batches make the same database as one run at a time would.

Counted with SQLAlchemy's ``before_cursor_execute`` and ``commit`` events on the export's
engine, inside real MLflow 3.17.2's venv (its schema, its SQLite): every statement sent to the
database (an ``executemany`` is one) and every commit, for a store of 4 runs and one of 40
(same experiments, every run with params, tags, a metric history and the same dataset).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from fsreg_testing.export import in_mlflow, populate, table_rows
from fsregistry import Client

pytestmark = pytest.mark.mlflow

COUNTED = """
import json, os
from sqlalchemy import event
from fsregistry.export import export_to_database, sql

counts = {"statements": 0, "commits": 0}
made = sql.SqlTarget.__init__

def counted(self, *args, **kwargs):
    made(self, *args, **kwargs)  # MLflow makes the schema first: not counted
    def statement(*_):
        counts["statements"] += 1
    def commit(*_):
        counts["commits"] += 1
    event.listen(self.engine, "before_cursor_execute", statement)
    event.listen(self.engine, "commit", commit)

sql.SqlTarget.__init__ = counted
if os.environ.get("BATCH_RUNS"):
    sql.BATCH_RUNS = int(os.environ["BATCH_RUNS"])
summary = export_to_database(os.environ["STORE"], os.environ["FSREG_EXPORT_DB"])
print(json.dumps({"counts": counts, **summary}))
"""


def many_runs(store: str, n: int) -> None:
    """``n`` runs with 3 params, 2 tags, a 5-step metric and 2 single values, and the same
    dataset input, in an experiment of their own."""
    from fsregistry.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag

    c = Client(store)
    eid = c.create_experiment("many")
    ds = Dataset("train", "d1g3st", "local", '{"uri": "/data/train.csv"}', "{}", "{}")
    for i in range(n):
        rid = c.create_run(eid, run_name=f"r{i}", start_time=1_700_000_000_000 + i).info.run_id
        c.log_batch(
            rid,
            metrics=[Metric("loss", 1.0 / (s + 1), 1_700_000_000_000 + s, s) for s in range(5)]
            + [Metric("acc", 0.5, 1_700_000_000_000, 0), Metric("f1", 0.25, 1_700_000_000_000, 0)],
            params=[Param(f"p{k}", str(i * k)) for k in range(3)],
            tags=[RunTag("team", "a"), RunTag("i", str(i))],
        )
        c.log_inputs(rid, [DatasetInput(ds, [InputTag("mlflow.data.context", "training")])])
        c.set_terminated(rid)


def export(tmp_path: Path, store: str, name: str, **env: str) -> dict[str, Any]:
    url = f"sqlite:///{tmp_path / name}"
    result: dict[str, Any] = in_mlflow(COUNTED, tmp_path, STORE=store, FSREG_EXPORT_DB=url, **env)
    return result


def test_statements_and_commits_do_not_grow_with_the_runs(tmp_path: Path) -> None:
    small, large = str(tmp_path / "small"), str(tmp_path / "large")
    populate(small)
    populate(large)
    many_runs(small, 4)
    many_runs(large, 40)

    few = export(tmp_path, small, "small.db")
    more = export(tmp_path, large, "large.db")
    assert few["copied"]["run"] == 5 + 4
    assert more["copied"]["run"] == 5 + 40
    # One run at a time sent ~8 statements and one commit per run: 36 more runs, 36 more
    # commits and about 300 more statements. In batches, the same SQL for 9 runs and 45.
    assert more["counts"] == few["counts"]
    # 5 experiments, the query of which runs are there, one batch of runs, 1 LoggedModel and
    # 2 registered models: one commit each.
    assert few["counts"]["commits"] == 5 + 1 + 1 + 1 + 2


def test_batches_make_the_same_database_and_resume(tmp_path: Path) -> None:
    store = str(tmp_path / "mlruns")
    populate(store)
    many_runs(store, 7)
    whole = export(tmp_path, store, "whole.db")
    batched = export(tmp_path, store, "batched.db", BATCH_RUNS="2")
    assert whole["copied"] == batched["copied"]
    assert batched["copied"]["run"] == 12
    # 12 runs in batches of 2: 6 commits where one batch took 1.
    assert batched["counts"]["commits"] == whole["counts"]["commits"] + 5
    assert table_rows(tmp_path / "batched.db") == table_rows(tmp_path / "whole.db")

    again = export(tmp_path, store, "batched.db", BATCH_RUNS="2")
    assert again["copied"] == {}
    assert again["skipped"]["run"] == 12
    assert table_rows(tmp_path / "batched.db") == table_rows(tmp_path / "whole.db")


UNREADABLE_THIRD = """
import json, os
from fsregistry.exceptions import MlflowException
from fsregistry.export import export_to_database, source

read, real = [], source.StoreSource.run

def run(self, run_id):
    read.append(run_id)
    if len(read) == 3:
        raise MlflowException(f"Run '{run_id}' could not be read")
    return real(self, run_id)

source.StoreSource.run = run
try:
    export_to_database(os.environ["STORE"], os.environ["FSREG_EXPORT_DB"])
except MlflowException as e:
    print(json.dumps({"error": str(e), "read": read}))
"""


def test_a_run_that_cannot_be_read_fails_the_export_after_the_runs_read_before_it(
    tmp_path: Path,
) -> None:
    """One run at a time, the runs read before an unreadable one were committed; a batch
    must not lose them (a resumed export would read them again)."""
    import sqlite3

    store = str(tmp_path / "mlruns")
    many_runs(store, 5)
    db = tmp_path / "part.db"
    out = in_mlflow(UNREADABLE_THIRD, tmp_path, STORE=store, FSREG_EXPORT_DB=f"sqlite:///{db}")
    assert out["read"][2] in out["error"]
    con = sqlite3.connect(db)
    try:
        copied = {r for (r,) in con.execute("SELECT run_uuid FROM runs")}
    finally:
        con.close()
    assert copied == set(out["read"][:2])
    export(tmp_path, store, "part.db")
    export(tmp_path, store, "whole.db")
    assert table_rows(db) == table_rows(tmp_path / "whole.db")
