"""Registry at scale (issue 24): 1,000 models × 10 versions beside 1 model × 10,000 versions,
fsregistry on local disk against MLflow 3's SQLite store on the same data.

    .venv/bin/python bench/registry_scale.py [--models 1000 --versions 10 --big 10000]
    .venv/bin/python bench/registry_scale.py --smoke     # 5 × 2 and 20 versions

Populating (``registry_workload.py populate``): fsregistry through its own API (``--procs``
processes: one writes the big model, the others share the small ones); MLflow's SQLite store
through MLflow's API for the first rows and, for the rest, rows cloned from those in one
transaction, the generator checked first against rows MLflow's API wrote.

Then each operation runs in a fresh process per tool: called once (**cold**) and 3 more
times (**repeated**, median), then once more in a second fresh process (**2nd cold**).
fsregistry's cold is a first reader's: the registry index shards (``models/.fsreg-registry-
index-*``, which only readers write) are removed before it, as fsregistry's writers leave a
registry; its 2nd cold finds the shards the first process wrote, the steady state of a
team's registry (MLflow's 2nd cold is the same call again, for the same warm page cache): ``get_model_version`` and ``get_model_version_by_alias`` on the
big model, ``set_registered_model_alias``, ``search_registered_models`` (all, pages of 1,000;
a ``name LIKE`` filter; all in pages of 100), ``search_model_versions`` (the big model's
versions in pages of 1,000; a ``name LIKE`` filter over every model), ``get_latest_versions``,
and last ``create_model_version``: 10 versions of a new model and 10 more of the big one
(per-call median: flat means the 10,001st costs what the 10th does). Every answer is
verified against the data written (a wrong one makes the exit status 1); the table gives
the times, the SQLite÷fsregistry ratio, and each tool's peak RSS. ``fsreg 1st repeat``: the
first of the 3 repeated calls alone (on local disk a query made again takes the change feed's
stamp and checks the registry once more; the calls after it answer from what it holds).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mlflow_venv import bench_mlflow_env, bench_mlflow_python
from registry_workload import BIG, small, source

BENCH = Path(__file__).resolve().parent
TOOLS = ("fsreg", "mlflow-sqlite")
READS = (
    "get_model_version",
    "get_model_version_by_alias",
    "set_alias",
    "search_registered_models_all",
    "search_registered_models_filter",
    "search_registered_models_paged",
    "search_model_versions_one_model",
    "search_model_versions_filter",
    "get_latest_versions",
)
CREATES = ("create_model_version_fresh", "create_model_version_big")


class Driver:
    """Launches workload processes for both tools in one scratch directory."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.mlflow_python = str(bench_mlflow_python())
        self.uris = {
            "fsreg": str(workdir / "fsreg" / "mlruns"),
            "mlflow-sqlite": f"sqlite:///{workdir / 'mlflow-sqlite' / 'mlflow.db'}",
        }
        for tool in TOOLS:
            (workdir / tool).mkdir(parents=True, exist_ok=True)
        self._n = 0

    def launch(self, tool: str, spec: dict[str, Any]) -> subprocess.Popen[bytes]:
        self._n += 1
        path = self.workdir / f"spec-{self._n:03d}.json"
        kind = "fsreg" if tool == "fsreg" else "mlflow"
        path.write_text(json.dumps({**spec, "tool": kind, "uri": self.uris[tool]}))
        if kind == "mlflow":
            python, env = self.mlflow_python, bench_mlflow_env()
        else:
            python, env = sys.executable, dict(os.environ)
            for key in ("MLFLOW_TRACKING_URI", "FSREG_TRACKING_URI", "FSREG_REGISTRY_URI"):
                env.pop(key, None)
        return subprocess.Popen(
            [python, str(BENCH / "registry_workload.py"), str(path)],
            cwd=str(self.workdir / tool),
            env={**env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )

    @staticmethod
    def result(proc: subprocess.Popen[bytes]) -> dict[str, Any]:
        out, err = proc.communicate()
        lines = [line for line in out.decode(errors="replace").splitlines() if line.strip()]
        try:
            result: dict[str, Any] = json.loads(lines[-1])
        except (IndexError, ValueError):
            return {"ok": False, "error": err.decode(errors="replace")[-3000:]}
        return result


def populate(d: Driver, tool: str, sizes: dict[str, int], procs: int) -> float:
    """Write the registry for ``tool``; the seconds taken."""
    t0 = time.perf_counter()
    base = {"step": "populate", **sizes}
    if tool == "fsreg":
        m, writers = sizes["models"], max(procs - 1, 1)
        bounds = [m * k // writers for k in range(writers + 1)]
        specs = [dict(base, first=bounds[k], last=bounds[k + 1], big=0) for k in range(writers)]
        if procs > 1:
            specs.append(dict(base, first=0, last=0))
        else:
            specs[0]["big"] = sizes["big"]
    else:
        specs = [base]
    for r in [Driver.result(p) for p in [d.launch(tool, s) for s in specs]]:
        if not r.get("ok"):
            raise SystemExit(f"populate {tool}: {r.get('error')}\n{r.get('traceback', '')}")
    return time.perf_counter() - t0


def expected(op: str, m: int, n: int, big: int) -> Any:
    """The answer ``op`` must give on the data written."""
    names = sorted([BIG, *(small(j) for j in range(m))])
    few = range(min(m, 10))
    return {
        "get_model_version": [big // 2],
        "get_model_version_by_alias": [big // 2],
        "set_alias": big // 3 or 1,
        "search_registered_models_all": names,
        "search_registered_models_filter": [small(j) for j in few],
        "search_registered_models_paged": [names, math.ceil(len(names) / 100)],
        "search_model_versions_one_model": [[BIG, v, source(BIG, v)] for v in range(1, big + 1)],
        "search_model_versions_filter": [
            [small(j), v, source(small(j), v)] for j in few for v in range(1, n + 1)
        ],
        "get_latest_versions": [big],
        "create_model_version_fresh": list(range(1, 11)),
        "create_model_version_big": list(range(big + 1, big + 11)),
    }[op]


def check(op: str, answer: Any, want: Any) -> bool:
    """Every call's answer (cold and repeated, or the loop's) equals ``want``."""
    if op.startswith("create_") or op == "set_alias":
        return bool(answer == want)
    return all(json.loads(json.dumps(a)) == json.loads(json.dumps(want)) for a in answer)


def drop_shards(d: Driver) -> None:
    """Remove fsregistry's registry index shards: the registry as its writers leave it."""
    from fsregistry.registry.model_index import SHARD_PREFIX

    models = Path(d.uris["fsreg"]) / "models"
    for path in models.glob(f"{SHARD_PREFIX}*"):
        path.unlink()


def measure(d: Driver, tool: str, sizes: dict[str, int]) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for op in READS + CREATES:
        print(f"[registry-scale] {tool} {op}", file=sys.stderr, flush=True)
        spec = {"step": "measure", "op": op, **sizes}
        if tool == "fsreg" and op in READS:
            drop_shards(d)
        r = Driver.result(d.launch(tool, spec))
        second = Driver.result(d.launch(tool, spec)) if op in READS and r.get("ok") else None
        if second is not None and not second.get("ok"):
            r = second
        if not r.get("ok"):
            rows[op] = {"ok": False, "detail": f"{r.get('error')} {r.get('traceback', '')}"}
            continue
        stats = r["ops"][op]
        want = expected(op, sizes["models"], sizes["versions"], sizes["big"])
        ok = check(op, r["answers"][op], want)
        if second is not None:
            ok = ok and check(op, second["answers"][op], want)
        if op.startswith("create_"):
            cold, repeated = stats["cold"], stats["median_ms"] / 1000
        else:
            cold, repeated = stats["cold"], stats["seconds"]
        rows[op] = {"ok": ok, "cold": cold, "repeated": repeated, "rss_mb": r["peak_rss_mb"]}
        if not op.startswith("create_"):
            rows[op]["first_repeat"] = stats.get("repeats", [repeated])[0]
        if second is not None:
            rows[op]["cold2"] = second["ops"][op]["cold"]
        if not ok:
            rows[op]["detail"] = f"answer differs from the data written: {r['answers'][op]!r:.300}"
    return rows


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.1f} ms"


def render(sizes: dict[str, int], results: dict[str, dict[str, Any]]) -> str:
    head = "| operation | fsreg cold | fsreg 2nd cold | fsreg repeated | SQLite cold |"
    head += " SQLite 2nd cold | SQLite repeated | SQLite÷fsreg cold | SQLite÷fsreg 2nd cold |"
    lines = [
        f"Registry: {sizes['models']:,} models × {sizes['versions']} versions + 1 model × "
        f"{sizes['big']:,} versions",
        "",
        head + " SQLite÷fsreg repeated | fsreg 1st repeat | verified |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for op in READS + CREATES:
        cells, vals = [], {}
        for tool in TOOLS:
            row = results.get(tool, {}).get("rows", {}).get(op, {})
            vals[tool] = row
            good = row.get("ok")
            cells += [_fmt(row.get(when) if good else None) for when in ("cold", "cold2")]
            cells += [_fmt(row.get("repeated") if good else None)]
        for when in ("cold", "cold2", "repeated"):
            a, b = vals["fsreg"].get(when), vals["mlflow-sqlite"].get(when)
            cells.append(f"{b / a:.1f}×" if a and b else "—")
        cells.append(_fmt(vals["fsreg"].get("first_repeat")))
        ok = all(vals[t].get("ok") for t in results)
        label = op + (" (per call)" if op.startswith("create_") else "")
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {'yes' if ok else 'NO'} |")
    lines += ["", "| tool | populate | peak RSS (largest process) |", "|---|---|---|"]
    for tool, res in results.items():
        rss = max((x.get("rss_mb", 0) for x in res["rows"].values()), default=0)
        lines.append(f"| {tool} | {res['populate_s']:.0f} s | {rss:.0f} MB |")
    for tool, res in results.items():
        fresh = res["rows"].get("create_model_version_fresh", {}).get("repeated")
        bigger = res["rows"].get("create_model_version_big", {}).get("repeated")
        if fresh and bigger:
            lines.append(
                f"\n{tool}: create_model_version at version {sizes['big'] + 1:,} costs "
                f"{bigger / fresh:.2f}× what versions 1–10 cost (median per call)."
            )
    bad = [
        f"{tool}/{op}: {row.get('detail')}"
        for tool, res in results.items()
        for op, row in res["rows"].items()
        if not row.get("ok")
    ]
    lines += ["", "Every answer verified: " + ("yes" if not bad else "NO: " + "; ".join(bad))]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--models", type=int, default=1000, help="small models")
    p.add_argument("--versions", type=int, default=10, help="versions of each small model")
    p.add_argument("--big", type=int, default=10000, help="versions of the big model")
    p.add_argument("--procs", type=int, default=2, help="processes writing fsregistry's store")
    p.add_argument("--smoke", action="store_true", help="5 models × 2 versions, 20 versions")
    p.add_argument("--workdir", default=None, help="where the scratch stores go")
    p.add_argument("--keep", action="store_true", help="keep the stores")
    p.add_argument("--out", default=None, help="write the Markdown table here too")
    p.add_argument("--json", default=None, help="write the raw results here")
    args = p.parse_args(argv)
    sizes = {"models": args.models, "versions": args.versions, "big": args.big}
    if args.smoke:
        sizes = {"models": 5, "versions": 2, "big": 20}
    if sizes["models"] < 1 or sizes["versions"] < 2 or sizes["big"] < 3:
        p.error("need at least 1 model, 2 versions each, and 3 versions of the big model")
    scratch = Path(tempfile.mkdtemp(prefix="fsreg-registry-scale-", dir=args.workdir))
    results: dict[str, dict[str, Any]] = {}
    try:
        d = Driver(scratch)
        for tool in TOOLS:
            print(f"[registry-scale] populating {tool} ...", file=sys.stderr, flush=True)
            seconds = populate(d, tool, sizes, args.procs)
            results[tool] = {"populate_s": seconds, "rows": measure(d, tool, sizes)}
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    table = render(sizes, results)
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps({"sizes": sizes, "results": results}))
    return 0 if all(r.get("ok") for res in results.values() for r in res["rows"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
