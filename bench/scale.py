"""Run search at several store sizes, checked and trusted index, with growth ratios (issue 24).

    .venv/bin/python bench/scale.py --sizes 2000,20000,100000 [--out FILE] [--json FILE]
    .venv/bin/python bench/scale.py --smoke        # 40 and 200 runs, every code path

For each size, an experiment of N runs is written on local disk by ``--procs`` processes as
plain files with exactly the bytes fsregistry's API writes, plus each run's summary in the
experiment's run index as the process that ends a run leaves it (``workload.py treegen``,
which checks its generator against the API first). Then every search of ``run.py`` (filter,
top 10, top 1,000, all runs paged by 1,000) runs in a fresh process (**cold**) and again in
that process with nothing changed (**repeated**, median of 3), once per index mode:

- **checked** (``FSREG_TRUST_INDEX=0``, the default on local disk): the files that decide the
  answer are checked against the summaries (``meta.yaml`` and the keys filtered and sorted on,
  a ``stat`` each), and every file of the runs returned;
- **trusted** (``FSREG_TRUST_INDEX=1``, the default on buckets): ended runs are answered from
  the index shards (``fsregistry.tracking.trust``).

Every answer is verified (``verify.py``: the filter's run set, the exact order, every run once
when paged); a wrong answer fails the run (exit status 1). The table gives each line at each
size, peak RSS, and the growth between consecutive sizes next to the run ratio (linear bound).
Each tree is deleted after its size unless ``--keep``.

``--sqlite`` adds MLflow's SQLite store on the **same data**: after fsregistry's lines, the tree
is copied into an MLflow database by fsregistry's exporter (``fsreg export --to sqlite:///...``:
MLflow's SQLAlchemy schema, ids preserved, every metric value), run in the benchmark's MLflow
venv (``mlflow_venv.py``) with this checkout on ``PYTHONPATH``; then each search runs through
``MlflowClient("sqlite:///...").search_runs`` in a fresh process of that venv, cold and
repeated, its answers verified like fsregistry's. A second table gives, per line and size,
SQLite's time over fsregistry's (checked and trusted): the issue's goal is >= 5x cold.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import verify
from mlflow_venv import bench_mlflow_env, bench_mlflow_python

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
KINDS = ("filter", "top10", "top1000", "all_paged")
MODES = {"checked": "0", "trusted": "1"}
SQLITE = "sqlite"
GOAL = 5.0  # issue 24: cold search >= 5x MLflow's SQLite store on every line

EXPORT = """
import json, os, time
from fsregistry.export import export_to_database
t0 = time.perf_counter()
summary = export_to_database(os.environ["STORE"], os.environ["FSREG_EXPORT_DB"])
print(json.dumps({"ok": True, "seconds": time.perf_counter() - t0, **summary}))
"""


def _workload(
    spec: dict[str, Any], workdir: Path, env: dict[str, str] | None = None, python: str = ""
) -> Any:
    path = workdir / f"spec-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(spec))
    base = bench_mlflow_env() if python else dict(os.environ)
    proc = subprocess.Popen(
        [python or sys.executable, str(BENCH / "workload.py"), str(path)],
        cwd=str(workdir),
        env={**base, "PYTHONUNBUFFERED": "1", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
    )
    return proc


def _result(proc: Any) -> dict[str, Any]:
    out, err = proc.communicate()
    lines = [line for line in out.decode(errors="replace").splitlines() if line.strip()]
    try:
        result: dict[str, Any] = json.loads(lines[-1])
    except (IndexError, ValueError):
        return {"ok": False, "error": err.decode(errors="replace")[-2000:]}
    return result


def populate(n: int, home: Path, procs: int) -> tuple[str, str, float]:
    """Write an experiment of ``n`` runs; its store URI, experiment id and the seconds taken."""
    uri = str(home / "mlruns")
    t0 = time.perf_counter()
    first = _result(
        _workload(
            {"tool": "fsreg", "workload": "write", "uri": uri, "experiment": "bench"}
            | {"start": 0, "count": 0},
            home,
        )
    )
    if not first.get("ok"):
        raise SystemExit(f"create experiment: {first.get('error')}")
    bounds = [n * k // procs for k in range(procs + 1)]
    running = [
        _workload(
            {"tool": "fsreg", "workload": "treegen", "uri": uri, "experiment": "bench"}
            | {"start": bounds[k], "count": bounds[k + 1] - bounds[k]}
            | {"ids_out": str(home / f"ids-{k}.json")},
            home,
        )
        for k in range(procs)
        if bounds[k + 1] > bounds[k]
    ]
    for proc in running:
        r = _result(proc)
        if not r.get("ok"):
            raise SystemExit(f"populate: {r.get('error')}")
    return uri, str(first["experiment_id"]), time.perf_counter() - t0


def export_sqlite(uri: str, home: Path) -> tuple[str, float]:
    """Copy the tree into MLflow's SQLite schema with fsregistry's exporter (in MLflow's venv);
    the database URL and the seconds taken."""
    db = f"sqlite:///{home / 'mlflow.db'}"
    env = bench_mlflow_env({"PYTHONPATH": str(REPO), "STORE": uri, "FSREG_EXPORT_DB": db})
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(bench_mlflow_python()), "-c", EXPORT],
        cwd=str(home),
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not lines:
        raise SystemExit(f"export to {db} failed:\n{proc.stderr[-3000:]}")
    print(f"[scale] exported: {lines[-1]}", file=sys.stderr, flush=True)
    return db, time.perf_counter() - t0


def measure(
    uri: str, exp_id: str, n: int, home: Path, mode: str, runs: int = 1
) -> list[dict[str, Any]]:
    """Each search kind cold in a fresh process, then repeated; answers verified. With
    ``runs`` > 1, each kind in that many fresh processes: the median of their cold and of
    their repeated times (a loaded machine's noise is one process in a few)."""
    rows = []
    for kind in KINDS:
        spec = {
            "tool": "mlflow" if mode == SQLITE else "fsreg",
            "workload": "search",
            "uri": uri,
            "experiment_id": exp_id,
            "n_runs": n,
            "ops": [kind, f"{kind}_again"],
            "repeats": 3,
        }
        results = []
        for _ in range(runs):
            if mode == SQLITE:
                r = _result(_workload(spec, home, python=str(bench_mlflow_python())))
            else:
                r = _result(_workload(spec, home, {"FSREG_TRUST_INDEX": MODES[mode]}))
            if not r.get("ok"):
                break
            results.append(r)
        if len(results) < runs:
            rows.append({"kind": kind, "mode": mode, "error": r.get("error"), "ok": False})
            continue
        checks = [verify.search_answer(op, a, n) for r in results for op, a in r["answers"].items()]
        rows.append(
            {
                "kind": kind,
                "mode": mode,
                "cold": statistics.median(r["ops"][kind]["seconds"] for r in results),
                "repeated": statistics.median(
                    r["ops"][f"{kind}_again"]["seconds"] for r in results
                ),
                "rss_mb": max(r["peak_rss_mb"] for r in results),
                "ok": all(ok for ok, _ in checks),
                "detail": "; ".join(d for ok, d in checks if not ok),
            }
        )
    return rows


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds >= 1:
        return f"{seconds:.2f} s"
    return f"{seconds * 1000:.1f} ms"


def _row(results: dict[int, dict[str, Any]], s: int, kind: str, mode: str) -> dict[str, Any]:
    row = next((x for x in results[s]["rows"] if x["kind"] == kind and x["mode"] == mode), None)
    return row if row is not None and row.get("ok") else {}


def render_sqlite(results: dict[int, dict[str, Any]]) -> list[str]:
    """SQLite÷fsregistry per line and size, cold and repeated (empty without ``--sqlite``)."""
    sizes = [s for s in sorted(results) if any(x["mode"] == SQLITE for x in results[s]["rows"])]
    if not sizes:
        return []
    head = ["search", "when", "size", "SQLite", "fsreg checked", "fsreg trusted"]
    head += ["SQLite÷checked", "SQLite÷trusted", f"goal ≥{GOAL:g}× cold"]
    lines = ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for kind in KINDS:
        for when in ("cold", "repeated"):
            for s in sizes:
                sq = _row(results, s, kind, SQLITE).get(when)
                vals = [_row(results, s, kind, m).get(when) for m in MODES]
                ratios = [sq / v if sq and v else None for v in vals]
                cells = [kind, when, f"{s:,}", _fmt(sq), *(_fmt(v) for v in vals)]
                cells += [f"{r:.1f}×" if r else "—" for r in ratios]
                if when == "cold":
                    best = max((r for r in ratios if r), default=None)
                    met = best is not None and best >= GOAL
                    which = "checked" if ratios[0] and ratios[0] >= GOAL else "trusted"
                    cells.append(("met (" + which + ")") if met else "NOT met")
                else:
                    cells.append("")
                lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "| size | export to SQLite | peak RSS, SQLite search |", "|---|---|---|"]
    for s in sizes:
        rss = max(x.get("rss_mb", 0) for x in results[s]["rows"] if x["mode"] == SQLITE)
        lines.append(f"| {s:,} runs | {results[s].get('export_s', 0):.0f} s | {rss:.0f} MB |")
    return lines


def render(results: dict[int, dict[str, Any]]) -> str:
    sizes = sorted(results)
    head = ["search", "mode", "when"] + [f"{s:,} runs" for s in sizes]
    head += [f"growth {a:,}→{b:,} (runs ×{b / a:g})" for a, b in itertools.pairwise(sizes)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for mode in MODES:
        for kind in KINDS:
            for when in ("cold", "repeated"):
                vals = []
                for s in sizes:
                    row = next(
                        (x for x in results[s]["rows"] if x["kind"] == kind and x["mode"] == mode),
                        None,
                    )
                    ok = row is not None and row.get("ok")
                    vals.append(row.get(when) if ok and row is not None else None)
                cells = [_fmt(v) for v in vals]
                for (a, va), (b, vb) in itertools.pairwise(zip(sizes, vals, strict=True)):
                    if va and vb:
                        bound = b / a * 1.2
                        cells.append(f"{vb / va:.1f}× ({'ok' if vb / va <= bound else 'OVER'})")
                    else:
                        cells.append("—")
                lines.append("| " + " | ".join([kind, mode, when, *cells]) + " |")
    lines.append("")
    lines.append("| size | populate | peak RSS, checked | peak RSS, trusted |")
    lines.append("|---|---|---|---|")
    for s in sizes:
        rss = {
            m: max((x.get("rss_mb", 0) for x in results[s]["rows"] if x["mode"] == m), default=0)
            for m in MODES
        }
        lines.append(
            f"| {s:,} runs | {results[s]['populate_s']:.0f} s | {rss['checked']:.0f} MB"
            f" | {rss['trusted']:.0f} MB |"
        )
    lines += render_sqlite(results)
    bad = [
        f"{x['kind']} ({x['mode']}) @ {s:,}: {x.get('error') or x.get('detail')}"
        for s in sizes
        for x in results[s]["rows"]
        if not x.get("ok")
    ]
    lines.append("")
    lines.append("Every answer verified: " + ("yes" if not bad else "NO: " + "; ".join(bad)))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="2000,20000", help="comma-separated run counts")
    p.add_argument("--procs", type=int, default=2, help="processes writing each tree")
    p.add_argument("--smoke", action="store_true", help="sizes 40,200")
    p.add_argument("--workdir", default=None, help="where the scratch trees go")
    p.add_argument("--keep", action="store_true", help="keep the trees")
    p.add_argument("--out", default=None, help="write the Markdown table here too")
    p.add_argument("--json", default=None, help="write the raw results here")
    p.add_argument(
        "--sqlite", action="store_true", help="also MLflow's SQLite store on the same data"
    )
    p.add_argument(
        "--cold-runs",
        type=int,
        default=1,
        help="fresh processes per search and mode; the table gives their medians",
    )
    args = p.parse_args(argv)
    sizes = [40, 200] if args.smoke else [int(x) for x in args.sizes.split(",")]
    scratch = Path(tempfile.mkdtemp(prefix="fsreg-scale-", dir=args.workdir))
    results: dict[int, dict[str, Any]] = {}
    try:
        for n in sizes:
            home = scratch / f"runs-{n}"
            home.mkdir()
            print(f"[scale] writing {n:,} runs ...", file=sys.stderr, flush=True)
            uri, exp_id, populate_s = populate(n, home, args.procs)
            rows = []
            for mode in MODES:
                print(f"[scale] {n:,} runs, {mode} index ...", file=sys.stderr, flush=True)
                rows += measure(uri, exp_id, n, home, mode, max(1, args.cold_runs))
            results[n] = {"populate_s": populate_s, "rows": rows}
            if args.sqlite:
                print(f"[scale] {n:,} runs: export to SQLite ...", file=sys.stderr, flush=True)
                db, results[n]["export_s"] = export_sqlite(uri, home)
                print(f"[scale] {n:,} runs, MLflow SQLite ...", file=sys.stderr, flush=True)
                rows += measure(db, exp_id, n, home, SQLITE, max(1, args.cold_runs))
            print(render(results), file=sys.stderr, flush=True)
            # After each size, before its tree is deleted (hundreds of thousands of files:
            # minutes under I/O load): a run stopped later still reports these.
            if args.out:
                Path(args.out).write_text(render(results) + "\n")
            if args.json:
                Path(args.json).write_text(json.dumps({str(k): v for k, v in results.items()}))
            if not args.keep:
                shutil.rmtree(home, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    table = render(results)
    print(table)
    if args.out:
        Path(args.out).write_text(table + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps({str(k): v for k, v in results.items()}))
    return 0 if all(x.get("ok") for r in results.values() for x in r["rows"]) else 1


if __name__ == "__main__":
    sys.exit(main())
