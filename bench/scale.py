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
Each tree is deleted after its size unless ``--keep``. MLflow is not run here: ``run.py``
compares with it at 2,000 runs.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import verify

BENCH = Path(__file__).resolve().parent
KINDS = ("filter", "top10", "top1000", "all_paged")
MODES = {"checked": "0", "trusted": "1"}


def _workload(spec: dict[str, Any], workdir: Path, env: dict[str, str] | None = None) -> Any:
    path = workdir / f"spec-{time.monotonic_ns()}.json"
    path.write_text(json.dumps(spec))
    proc = subprocess.Popen(
        [sys.executable, str(BENCH / "workload.py"), str(path)],
        cwd=str(workdir),
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
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


def measure(uri: str, exp_id: str, n: int, home: Path, mode: str) -> list[dict[str, Any]]:
    """Each search kind cold in a fresh process, then repeated; answers verified."""
    rows = []
    for kind in KINDS:
        spec = {
            "tool": "fsreg",
            "workload": "search",
            "uri": uri,
            "experiment_id": exp_id,
            "n_runs": n,
            "ops": [kind, f"{kind}_again"],
            "repeats": 3,
        }
        r = _result(_workload(spec, home, {"FSREG_TRUST_INDEX": MODES[mode]}))
        if not r.get("ok"):
            rows.append({"kind": kind, "mode": mode, "error": r.get("error"), "ok": False})
            continue
        checks = [verify.search_answer(op, a, n) for op, a in r["answers"].items()]
        ops = r["ops"]
        rows.append(
            {
                "kind": kind,
                "mode": mode,
                "cold": ops[kind]["seconds"],
                "repeated": ops[f"{kind}_again"]["seconds"],
                "rss_mb": r["peak_rss_mb"],
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
                rows += measure(uri, exp_id, n, home, mode)
            results[n] = {"populate_s": populate_s, "rows": rows}
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
