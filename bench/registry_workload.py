"""One registry-scale step in a fresh process: ``python registry_workload.py SPEC.json``.

Run by ``registry_scale.py`` in fsregistry's venv (``"tool": "fsreg"``) and in the benchmark's
MLflow venv (``"tool": "mlflow"``, MLflow's SQLite store). Steps (``"step"``):

- ``populate``: ``models`` small models ``sm-00000...`` of ``versions`` versions each, and the
  model ``big-model`` of ``big`` versions, its alias ``champion`` on version ``big // 2``.
  fsregistry: through its API (``first``/``last`` bound the small models a process writes,
  ``big`` is written by the process given it). MLflow: the first model, its first versions and
  the alias through MLflow's API, then every other row cloned from the rows MLflow wrote
  (its name, version, source and times changed) and inserted in one SQLite transaction;
  the generator is checked first against a model and a version MLflow's API writes, and a
  difference stops the run.
- ``measure``: one operation (``"op"``) called once in this fresh process (**cold**) and then
  3 more times (**repeated**, the median); its answer is returned for the driver to verify.

Prints one JSON document as its last stdout line (``workload.py``'s format).
"""

from __future__ import annotations

import json
import resource
import sqlite3
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from workload import Recorder, Tool, _pages, _version

BIG = "big-model"
FRESH = "fresh-model"
ALIAS = "champion"
OTHER_ALIAS = "challenger"
FILTER = "name LIKE 'sm-0000%'"  # small models 0..9


def small(j: int) -> str:
    """The name of small model ``j``."""
    return f"sm-{j:05d}"


def source(name: str, version: int) -> str:
    """The source of a version (no files: the registry stores the URI only)."""
    return f"file:///bench/models/{name}/{version}"


def _create_versions(c: Any, name: str, first: int, last: int) -> None:
    for v in range(first, last + 1):
        got = _version(c.create_model_version(name, source(name, v), run_id=None))
        if got != v:
            raise RuntimeError(f"{name}: created version {got}, expected {v}")


def populate_fsreg(tool: Tool, spec: dict[str, Any]) -> dict[str, Any]:
    c = tool.client
    for j in range(spec["first"], spec["last"]):
        c.create_registered_model(small(j))
        _create_versions(c, small(j), 1, spec["versions"])
    if spec.get("big"):
        c.create_registered_model(BIG)
        _create_versions(c, BIG, 1, spec["big"])
        c.set_registered_model_alias(BIG, ALIAS, str(spec["big"] // 2))
    return {}


def _rows(
    db: sqlite3.Connection, table: str, where: str, args: tuple[Any, ...]
) -> list[dict[str, Any]]:
    db.row_factory = sqlite3.Row
    return [dict(r) for r in db.execute(f"SELECT * FROM {table} WHERE {where}", args)]


def _clone_version(row: dict[str, Any], name: str, v: int, now: int) -> dict[str, Any]:
    out = dict(row, name=name, version=v, source=source(name, v))
    out["storage_location"] = source(name, v)
    out["creation_time"] = out["last_updated_time"] = now
    return out


def _clone_model(row: dict[str, Any], name: str, now: int) -> dict[str, Any]:
    return dict(row, name=name, creation_time=now, last_updated_time=now)


def _differs(generated: dict[str, Any], written: dict[str, Any]) -> list[str]:
    times = ("creation_time", "last_updated_time")
    return [k for k in written if k not in times and generated.get(k) != written[k]] + [
        k for k in generated if k not in written
    ]


def populate_mlflow_sqlite(tool: Tool, spec: dict[str, Any]) -> dict[str, Any]:
    c = tool.client
    m, n, big = spec["models"], spec["versions"], spec["big"]
    # Through MLflow's API: the templates, and what the generator is checked against.
    c.create_registered_model(small(0))
    _create_versions(c, small(0), 1, min(2, n))
    c.create_registered_model(BIG)
    _create_versions(c, BIG, 1, 1)
    db_path = spec["uri"].removeprefix("sqlite:///")
    db = sqlite3.connect(db_path)
    model_row = _rows(db, "registered_models", "name = ?", (small(0),))[0]
    version_row = _rows(db, "model_versions", "name = ? AND version = 1", (small(0),))[0]
    if n >= 2:
        written = _rows(db, "model_versions", "name = ? AND version = 2", (small(0),))[0]
        bad = _differs(_clone_version(version_row, small(0), 2, 0), written)
        if bad:
            raise RuntimeError(f"the version generator differs from MLflow's API in {bad}")
    written_model = _rows(db, "registered_models", "name = ?", (BIG,))[0]
    bad = _differs(_clone_model(model_row, BIG, 0), written_model)
    if bad:
        raise RuntimeError(f"the model generator differs from MLflow's API in {bad}")
    db.close()
    now = int(time.time() * 1000)
    models = [_clone_model(model_row, small(j), now) for j in range(1, m)]
    versions = [
        _clone_version(version_row, small(j), v, now) for j in range(1, m) for v in range(1, n + 1)
    ]
    versions += [_clone_version(version_row, small(0), v, now) for v in range(3, n + 1)]
    versions += [_clone_version(version_row, BIG, v, now) for v in range(2, big + 1)]
    db = sqlite3.connect(db_path)
    with db:
        for table, rows in (("registered_models", models), ("model_versions", versions)):
            if rows:
                cols = list(rows[0])
                db.executemany(
                    f"INSERT INTO {table} ({', '.join(cols)}) "
                    f"VALUES ({', '.join('?' for _ in cols)})",
                    [tuple(r[k] for k in cols) for r in rows],
                )
    db.close()
    c.set_registered_model_alias(BIG, ALIAS, str(big // 2))
    return {}


def _search_models(c: Any, filter_string: str | None, page: int) -> tuple[list[str], int]:
    items, calls, _ = _pages(
        lambda tok: c.search_registered_models(
            filter_string=filter_string, max_results=page, page_token=tok
        )
    )
    return sorted(rm.name for rm in items), calls


def _search_versions(c: Any, filter_string: str) -> list[list[Any]]:
    items, _, _ = _pages(
        lambda tok: c.search_model_versions(filter_string, max_results=1000, page_token=tok)
    )
    return sorted([mv.name, _version(mv), mv.source] for mv in items)


def operation(c: Any, spec: dict[str, Any]) -> Any:
    """The callable of ``spec["op"]`` (each call returns its answer)."""
    op, big = spec["op"], spec["big"]
    ops: dict[str, Any] = {
        "get_model_version": lambda: [_version(c.get_model_version(BIG, str(big // 2)))],
        "get_model_version_by_alias": lambda: [_version(c.get_model_version_by_alias(BIG, ALIAS))],
        "set_alias": lambda: c.set_registered_model_alias(BIG, OTHER_ALIAS, str(big // 3 or 1)),
        "search_registered_models_all": lambda: _search_models(c, None, 1000)[0],
        "search_registered_models_filter": lambda: _search_models(c, FILTER, 100)[0],
        "search_registered_models_paged": lambda: _search_models(c, None, 100),
        "search_model_versions_one_model": lambda: _search_versions(c, f"name = '{BIG}'"),
        "search_model_versions_filter": lambda: _search_versions(c, FILTER),
        "get_latest_versions": lambda: sorted(
            _version(mv) for mv in c.get_latest_versions(BIG, stages=["None"])
        ),
    }
    return ops[op]


def measure(tool: Tool, rec: Recorder, spec: dict[str, Any]) -> dict[str, Any]:
    c, op = tool.client, spec["op"]
    if op in ("create_model_version_big", "create_model_version_fresh"):
        # 10 versions: on the big model (after its ``big``) or on a new model (1..10); the
        # first call is the cold one, the median of the other 9 the repeated one.
        name, start = (BIG, spec["big"]) if op.endswith("big") else (FRESH, 0)
        if name == FRESH:
            c.create_registered_model(FRESH)

        def create(v: int) -> int:
            return _version(c.create_model_version(name, source(name, v), run_id=None))

        t0 = time.perf_counter()
        first = create(start + 1)
        cold = time.perf_counter() - t0
        got = rec.loop(op, list(range(start + 2, start + 11)), create)
        rec.ops[op]["cold"] = cold
        rec.answers[op] = [first, *got]
        return {}
    fn = operation(c, spec)
    t0 = time.perf_counter()
    first = fn()
    cold = time.perf_counter() - t0
    again = rec.run(op, fn, repeats=3)
    rec.ops[op]["cold"] = cold
    rec.answers[op] = [first, again]
    if op == "set_alias":  # what the alias points at now (read after the timing)
        rec.answers[op] = _version(c.get_model_version_by_alias(BIG, OTHER_ALIAS))
    return {}


def main() -> int:
    spec = json.loads(Path(sys.argv[1]).read_text())
    out: dict[str, Any] = {"step": spec["step"], "tool": spec["tool"]}
    try:
        tool = Tool(spec)
        rec = Recorder(spec)
        t0 = time.perf_counter()
        if spec["step"] == "populate":
            run = populate_fsreg if tool.name == "fsreg" else populate_mlflow_sqlite
            out.update(run(tool, spec))
        else:
            out.update(measure(tool, rec, spec))
        if tool.name == "fsreg":
            tool.client.flush()
        out["seconds"] = time.perf_counter() - t0
        out["ops"] = rec.ops
        out["answers"] = rec.answers
        out["ok"] = True
    except Exception as e:
        out["ok"] = False
        out["error"] = f"{type(e).__name__}: {e}"
        out["traceback"] = traceback.format_exc()[-4000:]
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
