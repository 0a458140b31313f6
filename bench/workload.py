"""One benchmark workload in a fresh process, for one tool: ``python workload.py SPEC.json``.

Runs unchanged in fsregistry's venv (``"tool": "fsreg"``) and in MLflow's venv (``"tool":
"mlflow"``): the two clients share MlflowClient's method names, so one script drives both.
It imports only the standard library, :mod:`datagen` and the tool under test.

Prints one JSON document as its last stdout line::

    {"ok": true, "ops": {NAME: {"seconds": s, "calls": n, "requests": {...}, ...}},
     "answers": {NAME: ...}, "peak_rss_mb": m, ...}

``answers`` are what the tool returned (run indices, versions, metric values); the driver
checks them against :mod:`datagen`, so a fast wrong answer shows. ``requests`` (S3/GCS only)
are the HTTP requests the counting proxy saw during that operation (``bench/proxy.py``).
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
import traceback
import urllib.request
import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

# Found beside this file: Python puts a script's directory first on sys.path, and this file
# is always started as a script (``python bench/workload.py SPEC``), in MLflow's venv too,
# where nothing else of this checkout is importable.
import datagen as dg

# -- tool adapter ---------------------------------------------------------------------------


class Tool:
    """The tool under test: a client and its entity classes."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.name: str = spec["tool"]
        uri = spec["uri"]
        if self.name == "fsreg":
            import fsregistry
            from fsregistry import entities

            self.client: Any = fsregistry.Client(tracking_uri=uri, registry_uri=uri)
            self.module: Any = fsregistry
        elif self.name == "mlflow":
            import mlflow
            from mlflow import entities

            self.client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
            self.module = mlflow
        else:
            raise ValueError(f"unknown tool {self.name!r}")
        self.Metric = entities.Metric
        self.Param = entities.Param
        self.RunTag = entities.RunTag
        self.ViewType = entities.ViewType
        self.version: str = getattr(self.module, "__version__", "?")

    def has_registry(self) -> tuple[bool, str]:
        if self.name == "mlflow":
            return True, ""
        import importlib.util

        if importlib.util.find_spec("fsregistry.registry") is None:
            return False, "fsregistry.registry does not exist yet"
        if importlib.util.find_spec("fsregistry.registry.store") is None:
            return False, "fsregistry/registry/store.py does not exist yet"
        needed = (
            "create_registered_model",
            "create_model_version",
            "set_registered_model_alias",
            "get_model_version_by_alias",
            "search_model_versions",
            "search_registered_models",
        )
        missing = [m for m in needed if not hasattr(self.client, m)]
        if missing:
            return False, "fsregistry.Client lacks " + ", ".join(missing)
        return True, ""

    def experiment_id(self, name: str) -> str:
        exp = self.client.get_experiment_by_name(name)
        if exp is not None:
            return str(exp.experiment_id)
        try:
            return str(self.client.create_experiment(name))
        except Exception:
            # Parallel writers: another process may have created it since we looked.
            exp = self.client.get_experiment_by_name(name)
            if exp is None:
                raise
            return str(exp.experiment_id)


# -- request counting -----------------------------------------------------------------------


class Requests:
    """Totals from the counting proxy (``None`` off buckets)."""

    def __init__(self, url: str | None) -> None:
        self.url = url

    def snap(self) -> dict[str, int] | None:
        if not self.url:
            return None
        with urllib.request.urlopen(self.url, timeout=30) as resp:
            data = json.loads(resp.read())
        out = {"total": int(data["total"])}
        out.update({k: int(v) for k, v in data["by_kind"].items()})
        return out

    @staticmethod
    def delta(a: dict[str, int] | None, b: dict[str, int] | None) -> dict[str, int] | None:
        if a is None or b is None:
            return None
        return {k: b.get(k, 0) - a.get(k, 0) for k in set(a) | set(b) if b.get(k, 0) != a.get(k, 0)}

    @staticmethod
    def add(acc: dict[str, int] | None, d: dict[str, int] | None) -> dict[str, int] | None:
        if d is None:
            return acc
        acc = dict(acc or {})
        for k, v in d.items():
            acc[k] = acc.get(k, 0) + v
        return acc


class Recorder:
    """Times operations and counts their requests; the proxy is read outside the timing."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.requests = Requests(spec.get("proxy"))
        self.ops: dict[str, dict[str, Any]] = {}
        self.answers: dict[str, Any] = {}
        self.deadline: float | None = spec.get("deadline")
        self.essential: set[str] | None = set(spec["essential"]) if "essential" in spec else None
        self.skipped: dict[str, str] = {}

    def allowed(self, name: str) -> bool:
        """Whether op ``name`` runs: essential ops always, others only before the deadline."""
        if self.deadline is None or self.essential is None or name in self.essential:
            return True
        if time.time() < self.deadline:
            return True
        self.skipped[name] = "time budget"
        return False

    def run(self, name: str, fn: Callable[[], Any], calls: int = 1, repeats: int = 1) -> Any:
        """``fn()`` timed; with ``repeats``, made that many times and its median time kept (a
        single call of a few milliseconds can meet a garbage collection, or another job's
        burst), its requests counted over the first call. The last call's answer is returned."""
        before = self.requests.snap()
        times: list[float] = []
        after = before
        for i in range(repeats):
            t0 = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - t0)
            if i == 0:
                after = self.requests.snap()
        self.ops[name] = {"seconds": statistics.median(times), "calls": calls}
        if repeats > 1:
            self.ops[name]["repeats"] = [round(t, 6) for t in times]
        req = Requests.delta(before, after)
        if req is not None:
            self.ops[name]["requests"] = req
        return result

    def loop(
        self,
        name: str,
        items: list[Any],
        fn: Callable[[Any], Any],
        cap_seconds: float | None = None,
    ) -> list[Any]:
        """``fn(item)`` for each item, timed per call (stops early after ``cap_seconds``)."""
        before = self.requests.snap()
        times: list[float] = []
        out: list[Any] = []
        for item in items:
            t0 = time.perf_counter()
            out.append(fn(item))
            times.append(time.perf_counter() - t0)
            if cap_seconds is not None and sum(times) > cap_seconds:
                break
        after = self.requests.snap()
        self.ops[name] = _loop_stats(times, len(items))
        req = Requests.delta(before, after)
        if req is not None:
            self.ops[name]["requests"] = req
        return out


def _loop_stats(times: list[float], planned: int) -> dict[str, Any]:
    stats: dict[str, Any] = {
        "seconds": sum(times),
        "calls": len(times),
        "mean_ms": 1000 * statistics.fmean(times) if times else None,
        "median_ms": 1000 * statistics.median(times) if times else None,
    }
    if len(times) < planned:
        stats["partial"] = f"stopped after {len(times)} of {planned} calls (time cap)"
    return stats


def _version(mv: Any) -> int:
    return int(mv.version)


def _pages(
    fetch: Callable[[Any], Any],
    cap_seconds: float | None = None,
    keep: Callable[[Any], Any] | None = None,
) -> tuple[list[Any], int, bool]:
    """Every page of a paged search: (items, number of calls, complete?). With ``keep``, what
    it gives of each item is kept as the pages come, not the items (a consumer that pages
    through a large answer holds a page at a time)."""
    items: list[Any] = []
    token = None
    calls = 0
    t0 = time.perf_counter()
    while True:
        page = fetch(token)
        calls += 1
        items.extend(page if keep is None else map(keep, page))
        token = getattr(page, "token", None)
        if not token:
            return items, calls, True
        if cap_seconds is not None and time.perf_counter() - t0 > cap_seconds:
            return items, calls, False


# -- A: writes ------------------------------------------------------------------------------


def workload_write(tool: Tool, rec: Recorder, spec: dict[str, Any]) -> dict[str, Any]:
    c = tool.client
    out: dict[str, Any] = {}
    start, count = spec["start"], spec["count"]
    exp_id = tool.experiment_id(spec["experiment"])
    out["experiment_id"] = exp_id
    if count:
        ids: dict[str, str] = {}
        per_run: list[float] = []
        split = {"create_run": 0.0, "log_batch": 0.0, "set_terminated": 0.0}
        split_req: dict[str, dict[str, int] | None] = dict.fromkeys(split)
        counted = rec.requests.url is not None and spec.get("count_split", True)

        def step(name: str, fn: Callable[[], Any], timing: dict[str, float]) -> Any:
            before = rec.requests.snap() if counted else None
            t0 = time.perf_counter()
            result = fn()
            timing[name] = time.perf_counter() - t0
            if counted:
                delta = Requests.delta(before, rec.requests.snap())
                split_req[name] = Requests.add(split_req[name], delta)
            return result

        # MLflow's file store: one run in `every` through the API (timed), the others written
        # as files in its layout (untimed), so the timed runs meet every experiment size on
        # the way to `count` runs (its create_run slows down as the experiment fills).
        every = int(spec.get("api_every", 1))
        write_files: Callable[[int], str] | None = None
        for i in range(start, start + count):
            if (i - start) % every:
                if write_files is None:
                    first = dg.run_name(start)
                    write_files = _mlflow_file_writer(tool, exp_id, ids[first], start)
                ids[dg.run_name(i)] = write_files(i)
                continue
            m = [tool.Metric(k, v, ts, s) for k, v, ts, s in dg.metric_points(i)]
            p = [tool.Param(k, v) for k, v in dg.params(i).items()]
            t = [tool.RunTag(k, v) for k, v in dg.tags(i).items()]
            timing: dict[str, float] = {}
            run = step("create_run", partial(c.create_run, exp_id, run_name=dg.run_name(i)), timing)
            run_id = str(run.info.run_id)
            step("log_batch", partial(c.log_batch, run_id, metrics=m, params=p, tags=t), timing)
            step("set_terminated", partial(c.set_terminated, run_id), timing)
            for name, dt in timing.items():
                split[name] += dt
            total = sum(timing.values())
            per_run.append(total)
            ids[dg.run_name(i)] = run_id
        timed = len(per_run)
        rec.ops["write_runs"] = _loop_stats(per_run, timed)
        half = per_run[len(per_run) // 2 :]
        rec.ops["write_runs"]["second_half_mean_ms"] = 1000 * statistics.fmean(half)
        for step, seconds in split.items():
            rec.ops[step] = {"seconds": seconds, "calls": timed, "mean_ms": 1000 * seconds / timed}
            if split_req[step] is not None:
                rec.ops[step]["requests"] = split_req[step]
        if spec.get("ids_out"):
            Path(spec["ids_out"]).write_text(json.dumps(ids))
        if spec.get("bulk_load"):
            # MLflow SQLite: the remaining runs are bulk-inserted, untimed (see sqlite_load).
            load = {**spec, **spec["bulk_load"], "ids_file": spec["ids_out"]}
            load["template"] = dg.run_name(start)
            workload_sqlite_load(tool, rec, load)

    # Single log_metric calls: runs x calls, each call timed.
    n_single, calls = spec.get("single_runs", 0), spec.get("single_calls", 0)
    if n_single and calls:
        exp2 = tool.experiment_id(spec["experiment"] + "-single")
        latencies: list[float] = []
        end_times: list[float] = []
        histories: dict[str, Any] = {}
        before = rec.requests.snap()
        single_ids = []
        for j in range(n_single):
            run_id = c.create_run(exp2, run_name=dg.single_run_name(j)).info.run_id
            single_ids.append(run_id)
            for s in range(calls):
                t0 = time.perf_counter()
                c.log_metric(run_id, dg.SINGLE_KEY, dg.single_value(j, s), dg.BASE_TS + s, s)
                latencies.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            c.set_terminated(run_id)
            end_times.append(time.perf_counter() - t0)
        after = rec.requests.snap()
        rec.ops["log_metric"] = _loop_stats(latencies, n_single * calls)
        rec.ops["log_metric_end_run"] = _loop_stats(end_times, n_single)
        req = Requests.delta(before, after)
        if req is not None:
            rec.ops["log_metric"]["requests"] = req
        for j in dg.sample(n_single, 10):
            hist = c.get_metric_history(single_ids[j], dg.SINGLE_KEY)
            histories[str(j)] = [[h.step, h.value, h.timestamp] for h in hist]
        rec.answers["single_history"] = {"calls": calls, "runs": histories}

    # One run, many log_metric calls, then end_run: what buffering saves on a bucket.
    big = spec.get("big_calls", 0)
    if big:
        exp2 = tool.experiment_id(spec["experiment"] + "-single")
        run_id = c.create_run(exp2, run_name="big-0").info.run_id

        def log_all() -> None:
            for s in range(big):
                c.log_metric(run_id, dg.SINGLE_KEY, dg.single_value(0, s), dg.BASE_TS + s, s)

        rec.run("log_metric_many", log_all, calls=big)
        rec.run("log_metric_many_end_run", lambda: c.set_terminated(run_id))
        hist = c.get_metric_history(run_id, dg.SINGLE_KEY)
        rec.answers["big_history"] = {
            "calls": big,
            "points": [[h.step, h.value, h.timestamp] for h in hist],
        }
    return out


# -- B: searches ----------------------------------------------------------------------------


def _indices(runs: list[Any]) -> list[int]:
    return [dg.run_index(r.info.run_name) for r in runs]


def workload_search(tool: Tool, rec: Recorder, spec: dict[str, Any]) -> dict[str, Any]:
    c = tool.client
    exp = [spec["experiment_id"]]
    active = tool.ViewType.ACTIVE_ONLY
    cap = spec.get("cap_seconds")

    def search(
        filter_string: str = "", max_results: int = 1000, order_by: Any = None, token: Any = None
    ) -> Any:
        return c.search_runs(
            exp,
            filter_string=filter_string,
            run_view_type=active,
            max_results=max_results,
            order_by=order_by,
            page_token=token,
        )

    def all_paged() -> dict[str, Any]:
        indices, calls, complete = _pages(
            lambda tok: search(max_results=1000, token=tok),
            cap,
            keep=lambda run: dg.run_index(run.info.run_name),
        )
        return {"indices": indices, "calls": calls, "complete": complete}

    searches: dict[str, Callable[[], Any]] = {
        "filter": lambda: {"indices": _indices(search(dg.FILTER, max_results=50_000))},
        "top10": lambda: {"indices": _indices(search(max_results=10, order_by=[dg.ORDER_BY]))},
        "top1000": lambda: {"indices": _indices(search(max_results=1000, order_by=[dg.ORDER_BY]))},
        "all_paged": all_paged,
    }
    for name in spec["ops"]:
        if not rec.allowed(name):
            continue
        base = name.removesuffix("_again")
        if base in searches:
            repeats = spec.get("repeats", 1) if name.endswith("_again") else 1
            answer = rec.run(name, searches[base], repeats=repeats)
            if base == "all_paged":
                rec.ops[name]["calls"] = answer["calls"]
                if not answer["complete"]:
                    rec.ops[name]["partial"] = f"stopped after {answer['calls']} pages (time cap)"
            rec.answers[name] = answer
        elif name in ("get_run", "history"):
            ids = json.loads(Path(spec["ids_file"]).read_text())
            picks = dg.sample(spec["n_runs"], spec.get("sample", 200))
            pairs = [(i, ids[dg.run_name(i)]) for i in picks]
            if name == "get_run":

                def get(pair: tuple[int, str]) -> Any:
                    run = c.get_run(pair[1])
                    return {
                        "index": pair[0],
                        "name": run.info.run_name,
                        "params": dict(run.data.params),
                        "tags": {
                            k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")
                        },
                        "metrics": dict(run.data.metrics),
                    }

                rec.answers[name] = rec.loop(name, pairs, get, cap)
            else:

                def hist(pair: tuple[int, str]) -> Any:
                    points = c.get_metric_history(pair[1], "m0")
                    return [pair[0], [[h.step, h.value, h.timestamp] for h in points]]

                rec.answers[name] = rec.loop(name, pairs, hist, cap)
        else:
            raise ValueError(f"unknown search op {name!r}")
    return {}


# -- C: registry ----------------------------------------------------------------------------


def _populate_mlflow_file_versions(tool: Tool, first: int, last: int) -> None:
    """Versions ``first..last`` written with MLflow file store's own meta writer, O(1) each.

    MLflow's ``create_model_version`` re-reads every version to find the next number, so
    creating 1,000 versions through the API takes tens of minutes; only the versions whose
    creation is timed go through it.
    """
    from mlflow.store.model_registry.file_store import FileModelVersion
    from mlflow.utils.file_utils import mkdir

    store = tool.client._get_registry_client().store
    now = int(time.time() * 1000)
    for v in range(first, last + 1):
        src = dg.version_source(v)
        mv = FileModelVersion(
            name=dg.MODEL,
            version=v,
            creation_timestamp=now,
            last_updated_timestamp=now,
            description=None,
            current_stage="None",
            source=src,
            run_id=None,
            run_link=None,
            tags=[],
            aliases=[],
            storage_location=src,
        )
        d = store._get_model_version_dir(dg.MODEL, v)
        mkdir(d)
        store._save_model_version_as_meta_file(mv, meta_dir=d, overwrite=False)


def workload_registry(tool: Tool, rec: Recorder, spec: dict[str, Any]) -> dict[str, Any]:
    ok, why = tool.has_registry()
    if not ok:
        return {"available": False, "reason": why}
    c = tool.client
    n = spec["versions"]
    head = min(spec.get("timed_head", 10), n)
    tail = min(spec.get("timed_tail", 10), max(n - head, 0))
    populate = spec.get("populate", "api")
    c.create_registered_model(dg.MODEL)
    created: dict[int, int] = {}

    def create(v: int) -> int:
        got = _version(c.create_model_version(dg.MODEL, dg.version_source(v), run_id=None))
        created[v] = got
        return got

    rec.loop("create_version_first", list(range(1, head + 1)), create)
    middle = list(range(head + 1, n - tail + 1))
    if middle:
        if populate == "mlflow-file-internal":
            _populate_mlflow_file_versions(tool, middle[0], middle[-1])
            created.update({v: v for v in middle})
        else:
            rec.loop("create_version_middle", middle, create)
    rec.loop("create_version_last", list(range(n - tail + 1, n + 1)), create)
    rec.answers["created_versions"] = [[v, created[v]] for v in sorted(created)]

    # Alias: set 5 times (the last one points at version n // 2), then read it back 5 times.
    targets = [max(1, (n * k) // 5) for k in range(1, 5)] + [max(1, n // 2)]
    rec.loop(
        "set_alias",
        targets,
        lambda v: c.set_registered_model_alias(dg.MODEL, dg.ALIAS, str(v)),
    )
    got = rec.loop(
        "get_by_alias",
        list(range(20)),
        lambda _: _version(c.get_model_version_by_alias(dg.MODEL, dg.ALIAS)),
    )
    rec.answers["alias"] = {"expected": max(1, n // 2), "got": got}

    def search_versions() -> list[list[Any]]:
        items, _calls, _ = _pages(
            lambda tok: c.search_model_versions(f"name='{dg.MODEL}'", page_token=tok)
        )
        return [[_version(mv), mv.source] for mv in items]

    rec.answers["search_versions"] = rec.run("search_versions", search_versions)
    rec.answers["search_versions_n"] = n

    m = spec["models"]
    rec.loop(
        "create_registered_model",
        list(range(m)),
        lambda j: c.create_registered_model(dg.registered_model_name(j)),
    )

    def search_models() -> list[str]:
        items, _calls, _ = _pages(
            lambda tok: c.search_registered_models(
                filter_string="name LIKE 'rm-%'", max_results=1000, page_token=tok
            )
        )
        return [rm.name for rm in items]

    rec.answers["search_models"] = rec.run("search_registered_models", search_models)
    rec.answers["search_models_n"] = m
    return {"available": True}


# -- D: concurrent registration -------------------------------------------------------------


def workload_concurrent(tool: Tool, rec: Recorder, spec: dict[str, Any]) -> dict[str, Any]:
    ok, why = tool.has_registry()
    if not ok:
        return {"available": False, "reason": why}
    c = tool.client
    c.create_registered_model(dg.CONCURRENT_MODEL)
    workdir = Path(spec["workdir"])
    workdir.mkdir(parents=True, exist_ok=True)
    go = workdir / "go"
    procs = []
    for w in range(spec["processes"]):
        child = dict(spec, workload="register_worker", worker=w, go=str(go))
        child_spec = workdir / f"worker-{w}.json"
        child_spec.write_text(json.dumps(child))
        procs.append(
            subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), str(child_spec)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
            )
        )
    # Start everyone at once, after they have all imported and connected.
    deadline = time.time() + 300
    while len(list(workdir.glob("ready-*"))) < len(procs):
        if time.time() > deadline or any(p.poll() is not None for p in procs):
            break
        time.sleep(0.02)
    before = rec.requests.snap()
    t_go = time.time()
    go.write_text("go")
    results = []
    peak = 0.0
    for p in procs:
        stdout, stderr = p.communicate(timeout=1800)
        lines = [line for line in stdout.decode(errors="replace").splitlines() if line.strip()]
        try:
            res = json.loads(lines[-1])
        except (IndexError, ValueError):
            res = {"ok": False, "error": stderr.decode(errors="replace")[-2000:]}
        results.append(res)
        peak = max(peak, float(res.get("peak_rss_mb") or 0))
    t_end = max([r.get("finished", t_go) for r in results] + [t_go])
    after = rec.requests.snap()
    total = spec["processes"] * spec["per_process"]
    rec.ops["concurrent_register"] = {
        "seconds": t_end - t_go,
        "calls": total,
        "versions_per_s": total / (t_end - t_go) if t_end > t_go else None,
    }
    req = Requests.delta(before, after)
    if req is not None:
        rec.ops["concurrent_register"]["requests"] = req
    store_error = None
    try:
        items, _calls, _ = _pages(
            lambda tok: c.search_model_versions(f"name='{dg.CONCURRENT_MODEL}'", page_token=tok)
        )
    except Exception as e:  # a store left unreadable by the race (MLflow's file store) is a result
        items, store_error = [], f"{type(e).__name__}: {str(e)[:300]}"
    rec.answers["concurrent"] = {
        "store_error": store_error,
        "processes": spec["processes"],
        "per_process": spec["per_process"],
        "workers": [
            {"versions": r.get("versions", []), "errors": r.get("errors", []), "ok": r.get("ok")}
            for r in results
        ],
        "found": [[_version(mv), mv.source] for mv in items],
    }
    return {"available": True, "workers_peak_rss_mb": peak}


def workload_register_worker(tool: Tool, rec: Recorder, spec: dict[str, Any]) -> dict[str, Any]:
    c = tool.client
    w = spec["worker"]
    go = Path(spec["go"])
    (go.parent / f"ready-{w}").write_text("ready")
    while not go.exists():
        time.sleep(0.005)
    versions: list[list[Any]] = []
    errors: list[str] = []
    for j in range(spec["per_process"]):
        try:
            mv = c.create_model_version(dg.CONCURRENT_MODEL, dg.worker_source(w, j), run_id=None)
            versions.append([_version(mv), dg.worker_source(w, j)])
        except Exception as e:  # MLflow's stores may fail under concurrency: that is a result
            errors.append(f"{type(e).__name__}: {str(e)[:300]}")
    return {"versions": versions, "errors": errors, "finished": time.time()}


# -- population helpers ---------------------------------------------------------------------


def workload_sqlite_load(tool: Tool, rec: Recorder, spec: dict[str, Any]) -> dict[str, Any]:
    """Bulk-insert runs ``start..start+count-1`` into MLflow's SQLite store.

    Writing 2,000 runs through MLflow's SQLite store takes several minutes (one commit per
    metric batch), so only the first runs go through the API (timed); the rest are copied
    from one of them row by row, with the generated values, in one transaction.
    """
    import sqlite3

    db = spec["uri"].removeprefix("sqlite:///")
    conn = sqlite3.connect(db)
    ids = json.loads(Path(spec["ids_file"]).read_text())
    template = ids[spec["template"]]
    cur = conn.execute("SELECT * FROM runs WHERE run_uuid = ?", (template,))
    cols = [d[0] for d in cur.description]
    row = dict(zip(cols, cur.fetchone(), strict=True))
    sys_tags = [
        (k, v)
        for k, v in conn.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (template,))
        if k.startswith("mlflow.") and k != "mlflow.runName"
    ]
    now = int(time.time() * 1000)
    runs, tags, params, metrics, latest = [], [], [], [], []
    for i in range(spec["start"], spec["start"] + spec["count"]):
        run_id = uuid.uuid5(uuid.NAMESPACE_OID, f"fsreg-bench-sqlite-{i}").hex
        r = dict(row)
        r.update(
            run_uuid=run_id,
            name=dg.run_name(i),
            start_time=now + i,
            end_time=now + i + 1,
            status="FINISHED",
            lifecycle_stage="active",
            artifact_uri=str(row["artifact_uri"]).replace(template, run_id),
        )
        runs.append(tuple(r[c] for c in cols))
        tags.extend((k, v, run_id) for k, v in sys_tags)
        tags.append(("mlflow.runName", dg.run_name(i), run_id))
        tags.extend((k, v, run_id) for k, v in dg.tags(i).items())
        params.extend((k, v, run_id) for k, v in dg.params(i).items())
        metrics.extend((k, v, ts, run_id, s, 0) for k, v, ts, s in dg.metric_points(i))
        latest.extend(
            (k, v, dg.metric_timestamp(i, dg.N_STEPS - 1), dg.N_STEPS - 1, 0, run_id)
            for k, v in dg.latest_metrics(i).items()
        )
        ids[dg.run_name(i)] = run_id
    with conn:
        conn.executemany(
            f"INSERT INTO runs ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", runs
        )
        conn.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tags)
        conn.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", params)
        conn.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            metrics,
        )
        conn.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            latest,
        )
    conn.close()
    Path(spec["ids_file"]).write_text(json.dumps(ids))
    return {}


def _mlflow_run_files(
    i: int, run_id: str, exp_id: str, artifact_location: str, user: str, start: int, end: int
) -> dict[str, bytes]:
    """The files MLflow's file store writes for batch run ``i`` once it has ended (its meta
    dict from its own ``_make_persisted_run_info_dict``, dumped by its own yaml writer)."""
    import tempfile

    from mlflow.entities import RunInfo
    from mlflow.store.tracking.file_store import _make_persisted_run_info_dict
    from mlflow.utils.uri import append_to_uri_path
    from mlflow.utils.yaml_utils import write_yaml

    info = RunInfo(
        run_id=run_id,
        run_name=dg.run_name(i),
        experiment_id=exp_id,
        artifact_uri=append_to_uri_path(artifact_location, run_id, "artifacts"),
        user_id=user,
        status="FINISHED",
        start_time=start,
        end_time=end,
        lifecycle_stage="active",
    )
    with tempfile.TemporaryDirectory(prefix="fsreg-bench-mlmeta-") as tmp:
        write_yaml(tmp, "meta.yaml", _make_persisted_run_info_dict(info))
        files = {"meta.yaml": Path(tmp, "meta.yaml").read_bytes()}
    files.update({f"params/{k}": v.encode() for k, v in dg.params(i).items()})
    files["tags/mlflow.runName"] = dg.run_name(i).encode()
    files.update({f"tags/{k}": v.encode() for k, v in dg.tags(i).items()})
    lines: dict[str, list[str]] = {}
    for k, v, ts, step in dg.metric_points(i):
        lines.setdefault(f"metrics/{k}", []).append(f"{ts} {v} {step}\n")
    files.update({k: "".join(v).encode() for k, v in lines.items()})
    return files


_MLFLOW_RUN_DIRS = ("artifacts", "metrics", "params", "tags")


def _check_mlflow_run_files(run_dir: Path, i: int, exp_id: str, location: str) -> str:
    """Refuse to generate unless the generator reproduces what MLflow's API wrote for run
    ``i`` at ``run_dir``: same files and directories, params/tags/metrics byte-identical,
    meta.yaml equal once parsed. Returns the API's user id (the generator reuses it)."""
    from mlflow.utils.yaml_utils import read_yaml

    api_meta = read_yaml(str(run_dir), "meta.yaml")
    written = {
        str(p.relative_to(run_dir)): p.read_bytes() for p in run_dir.rglob("*") if p.is_file()
    }
    made = _mlflow_run_files(
        i,
        run_dir.name,
        exp_id,
        location,
        api_meta["user_id"],
        api_meta["start_time"],
        api_meta["end_time"],
    )
    if set(written) != set(made):
        diff = sorted(set(written) ^ set(made))
        raise RuntimeError(f"MLflow run generator is stale: files differ from its API's: {diff}")
    for rel, data in made.items():
        if rel != "meta.yaml" and written[rel] != data:
            raise RuntimeError(f"MLflow run generator is stale: {rel} differs from its API's")
    import yaml

    if yaml.safe_load(made["meta.yaml"]) != api_meta:
        raise RuntimeError(
            "MLflow run generator is stale: meta.yaml differs from its API's: "
            f"{yaml.safe_load(made['meta.yaml'])} != {api_meta}"
        )
    dirs = sorted(str(p.relative_to(run_dir)) for p in run_dir.rglob("*") if p.is_dir())
    if dirs != sorted(_MLFLOW_RUN_DIRS):
        raise RuntimeError(f"MLflow run generator is stale: its API made directories {dirs}")
    return str(api_meta["user_id"])


def _mlflow_file_writer(
    tool: Tool, exp_id: str, template_id: str, template_i: int
) -> Callable[[int], str]:
    """A function writing batch run ``i`` into MLflow's file store as files, without its API
    (returns the new run's id), once the generator has been checked against what its API
    wrote for run ``template_i`` (``template_id``)."""
    store = tool.client._tracking_client.store
    exp_dir = Path(store._get_experiment_path(exp_id, assert_exists=True))
    location = tool.client.get_experiment(exp_id).artifact_location
    user = _check_mlflow_run_files(exp_dir / template_id, template_i, exp_id, location)

    def write(i: int) -> str:
        run_id = uuid.uuid4().hex
        run_dir = exp_dir / run_id
        for sub in _MLFLOW_RUN_DIRS:
            (run_dir / sub).mkdir(parents=True)
        now = int(time.time() * 1000)
        for rel, data in _mlflow_run_files(i, run_id, exp_id, location, user, now, now).items():
            with open(run_dir / rel, "wb") as f:
                f.write(data)
        return run_id

    return write


# -- fast population of a large local experiment (scale line) ----------------------------------


def _tree_files(
    i: int,
    run_id: str,
    exp_id: str,
    artifact_location: str,
    user: str,
    start: int | None = None,
    end: int | None = None,
) -> dict[str, bytes]:
    """The files fsregistry's API writes for batch run ``i``, built with its own formatters."""
    from fsregistry.entities import LifecycleStage, RunInfo, RunStatus
    from fsregistry.mlruns.metafile import dump_meta
    from fsregistry.tracking import records

    now = int(time.time() * 1000)
    info = RunInfo(
        run_id=run_id,
        experiment_id=exp_id,
        user_id=user,
        status=RunStatus.FINISHED,
        start_time=now if start is None else start,
        end_time=now if end is None else end,
        lifecycle_stage=LifecycleStage.ACTIVE,
        artifact_uri=f"{artifact_location}/{run_id}/artifacts",
        run_name=dg.run_name(i),
    )
    files = {"meta.yaml": dump_meta(records.run_meta(info))}
    files.update({f"params/{k}": v.encode() for k, v in dg.params(i).items()})
    files["tags/mlflow.runName"] = dg.run_name(i).encode()
    files.update({f"tags/{k}": v.encode() for k, v in dg.tags(i).items()})
    lines: dict[str, bytearray] = {}
    for k, v, ts, step in dg.metric_points(i):
        lines.setdefault(f"metrics/{k}", bytearray()).extend(
            records.format_metric_line(v, ts, step)
        )
    files.update({k: bytes(v) for k, v in lines.items()})
    return files


def _check_tree_files(tool: Tool) -> None:
    """Refuse to generate unless the generated files equal what the API writes for a run."""
    import tempfile

    from fsregistry import Client

    with tempfile.TemporaryDirectory(prefix="fsreg-bench-treegen-") as tmp:
        c = Client(tracking_uri=tmp)
        exp_id = str(c.create_experiment("check"))
        run = _write_check_run(tool, c, exp_id)
        run_id = run.info.run_id
        base = Path(tmp) / exp_id / run_id
        written = {
            str(p.relative_to(base)): p.read_bytes()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        }
        location = c.get_experiment(exp_id).artifact_location
        made = _tree_files(7, run_id, exp_id, location, run.info.user_id)
        if set(written) != set(made):
            raise RuntimeError(
                f"tree generator is stale: API wrote {sorted(set(written) ^ set(made))}"
            )
        for rel, data in made.items():
            if rel != "meta.yaml" and written[rel] != data:
                raise RuntimeError(f"tree generator is stale: {rel} differs from the API's")
        dirs = sorted(str(p.relative_to(base)) for p in base.rglob("*") if p.is_dir())
        if dirs != sorted(["artifacts", "metrics", "params", "tags"]):
            raise RuntimeError(f"tree generator is stale: API made directories {dirs}")


_RUN_DATA_DIRS = frozenset({"metrics", "params", "tags", "inputs"})


def _write_check_run(tool: Tool, client: Any, exp_id: str) -> Any:
    """Write batch run 7 through the API (create_run, log_batch, set_terminated): what the
    file generators are checked against. Returns the run as create_run returned it."""
    run = client.create_run(exp_id, run_name=dg.run_name(7))
    run_id = run.info.run_id
    client.log_batch(
        run_id,
        metrics=[tool.Metric(k, v, ts, s) for k, v, ts, s in dg.metric_points(7)],
        params=[tool.Param(k, v) for k, v in dg.params(7).items()],
        tags=[tool.RunTag(k, v) for k, v in dg.tags(7).items()],
    )
    client.set_terminated(run_id)
    return run


def _runs_of_listing(listing: list[Any]) -> dict[str, list[Any]]:
    """A listing of an experiment (paths ``<run>/...``) grouped by run, keeping the files a
    reader records tokens of: meta.yaml and the metrics/params/tags/inputs files. This is what
    ``fsregistry.tracking.run_search.RunSearch._listed_rows`` does; the checks below compare
    the result with what fsregistry's writer recorded, so a drift shows."""
    from fsregistry.mlruns import layout

    per_run: dict[str, list[Any]] = {}
    for info in listing:
        head, sep, rest = info.path.partition("/")
        if (
            sep
            and head not in layout.RESERVED_EXPERIMENT_FOLDERS
            and (rest == layout.META or rest.partition("/")[0] in _RUN_DATA_DIRS)
        ):
            per_run.setdefault(head, []).append(info)
    return per_run


def _summary(
    run_id: str, infos: list[Any], files: dict[str, bytes], where: str, etags: bool
) -> Any:
    """(file tokens as ``run_index.tokens_of`` gives them, parsed run) of one run, from its listing
    entries and the bytes the generator made for it. The listing must show exactly those
    files with those sizes (and, on S3, those MD5 ETags), or the bucket is not what the
    generator wrote and summarising it would hide that."""
    import hashlib

    from fsregistry.mlruns import layout
    from fsregistry.tracking import records, run_index

    strip = len(run_id) + 1
    listed = {info.path[strip:]: info for info in infos}
    if set(listed) != set(files):
        raise RuntimeError(f"{where}: listed files {sorted(set(listed) ^ set(files))} differ")
    for rel, info in listed.items():
        data = files[rel]
        if info.size != len(data) or (
            etags and info.token.strip('"') != hashlib.md5(data).hexdigest()
        ):
            raise RuntimeError(f"{where}/{rel}: stored object differs from the generated bytes")
    tokens = run_index.tokens_of(infos, strip=strip)
    if tokens is None:
        raise RuntimeError(f"{where}: the listing gives no change tokens; nothing to summarise")
    body = {rel: data for rel, data in files.items() if rel != layout.META}
    return tokens, records.parse_run_files(files[layout.META], where, body)


def workload_treegen(tool: Tool, rec: Recorder, spec: dict[str, Any]) -> dict[str, Any]:
    """Write runs ``start..start+count-1`` as plain files, the bytes fsregistry's API writes,
    and their summaries in the experiment's run index, as the processes that end runs leave it
    (``RunReader.summarise_run``: list the run, record its tokens, parse, add its line to
    its shard; written here in bulk, one line per run).
    """
    import getpass

    from fsregistry.storage import open_storage
    from fsregistry.tracking import run_index

    _check_tree_files(tool)
    exp_id = tool.experiment_id(spec["experiment"])
    exp = tool.client.get_experiment(exp_id)
    storage = open_storage(spec["uri"])
    root = Path(spec["uri"]) / exp_id
    user = getpass.getuser()
    ids: dict[str, str] = {}
    lines: dict[str, bytes] = {}
    index = run_index.ExperimentIndex()

    def generate() -> None:
        for i in range(spec["start"], spec["start"] + spec["count"]):
            run_id = uuid.uuid4().hex
            run_dir = root / run_id
            for sub in ("artifacts", "metrics", "params", "tags"):
                (run_dir / sub).mkdir(parents=True)
            files = _tree_files(i, run_id, exp_id, exp.artifact_location, user)
            for rel, data in files.items():
                with open(run_dir / rel, "wb") as f:
                    f.write(data)
            ids[dg.run_name(i)] = run_id
            listing = storage.walk(f"{exp_id}/{run_id}", sizes=True)
            infos = _runs_of_listing(
                [info._replace(path=f"{run_id}/{info.path}") for info in listing]
            ).get(run_id, [])
            lines[run_id] = run_index.encode_line(
                run_id, *_summary(run_id, infos, files, f"{exp_id}/{run_id}", False)
            )

    rec.run("generate", generate, calls=spec["count"])
    if spec.get("summaries", True):
        rec.run("summaries", lambda: index.persist(storage, exp_id, lines, None))
    Path(spec["ids_out"]).write_text(json.dumps(ids))
    return {"experiment_id": exp_id}


# -- a large experiment in a bucket: generated, preloaded into the emulator, then summarised ----


def workload_buckettree(tool: Tool, rec: Recorder, spec: dict[str, Any]) -> dict[str, Any]:
    """Write runs ``0..count-1`` of a bucket store as local files ``<dir>/<bucket>/<key>``, for
    the emulator to preload (``fsreg_testing/emulators.py``): the bytes fsregistry's API writes
    there.

    ``spec["uri"]`` is the local directory standing for the bucket store's root; the driver
    sets ``FSREG_ARTIFACT_ROOT`` to the bucket store's URL, so the experiment made here
    records the artifact location an experiment created on the bucket would.
    ``bucketindex`` later checks all of it against the API on the running emulator.
    """
    import getpass

    from fsregistry.storage import open_storage
    from fsregistry.tracking import trust

    _check_tree_files(tool)
    exp_id = tool.experiment_id(spec["experiment"])
    location = tool.client.get_experiment(exp_id).artifact_location
    root = Path(spec["uri"]) / exp_id
    user = getpass.getuser()
    base = int(time.time() * 1000)
    ids: dict[str, str] = {}

    def generate() -> None:
        for i in range(spec["count"]):
            run_id = uuid.uuid4().hex
            for rel, data in _tree_files(
                i, run_id, exp_id, location, user, base + i, base + i
            ).items():
                path = root / run_id / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "wb") as f:
                    f.write(data)
            ids[dg.run_name(i)] = run_id

    rec.run("generate", generate, calls=spec["count"])
    # The experiment's run-set stamp, as the runs' create_run calls leave it (checked against
    # the API by bucketindex): without it every search lists the runs again.
    trust.bump(open_storage(spec["uri"]), exp_id)
    # Only experiments' meta.yaml, the stamp and the generated runs may become objects (no
    # lock files).
    parts = [p.relative_to(spec["uri"]).parts for p in Path(spec["uri"]).rglob("*") if p.is_file()]
    junk = [
        "/".join(x)
        for x in parts
        if not (len(x) == 2 and x[1] == "meta.yaml")
        and x != (exp_id, trust.STAMP_FILE)
        and not (len(x) > 2 and x[0] == exp_id)
    ]
    if junk:
        raise RuntimeError(f"unexpected files in the generated bucket tree: {junk[:5]}")
    Path(spec["ids_out"]).write_text(json.dumps(ids))
    tree = {"experiment_id": exp_id, "artifact_location": location, "user": user, "base": base}
    Path(spec["tree_out"]).write_text(json.dumps(tree))
    return {"experiment_id": exp_id}


def _check_bucket_summaries(tool: Tool, storage: Any, tree: dict[str, Any], etags: bool) -> None:
    """Refuse to summarise a preloaded bucket unless the generator agrees with fsregistry's
    writer on this bucket: one run written through the API (create_run, log_batch,
    set_terminated) must have, in its experiment's index, the file tokens and the encoded run
    the generator computes for it; its files must be the generator's bytes; an experiment
    created on the bucket must record what a generated one records."""
    import tempfile

    from fsregistry.config import tracking_store
    from fsregistry.mlruns import layout
    from fsregistry.mlruns.metafile import load_meta
    from fsregistry.tracking import run_index, trust

    c = tool.client
    found = c.get_experiment_by_name("bench")
    if found is None or str(found.experiment_id) != tree["experiment_id"]:
        raise RuntimeError(f"preloaded experiment 'bench' not found as {tree['experiment_id']}")
    if found.artifact_location != tree["artifact_location"]:
        raise RuntimeError(
            f"preloaded experiment records {found.artifact_location!r}, "
            f"the API reports {tree['artifact_location']!r}"
        )
    exp_id = tool.experiment_id("bench-check")
    run_id = _write_check_run(tool, c, exp_id).info.run_id
    c.flush()
    if trust.generation(storage, exp_id) is None:
        raise RuntimeError("fsregistry's writer left no run-set stamp; the generator writes one")
    shard = run_index.decode_shard(storage.read(f"{exp_id}/{run_index.shard_name(run_id)}"))
    entry = (shard or {}).get(run_id)
    if entry is None:
        raise RuntimeError("fsregistry's writer left no summary for the check run")
    meta = load_meta(storage.read(f"{exp_id}/{run_id}/{layout.META}"), run_id)
    if meta["user_id"] != tree["user"]:
        raise RuntimeError(f"API writes user {meta['user_id']!r}, generator {tree['user']!r}")
    location = c.get_experiment(exp_id).artifact_location
    files = _tree_files(
        7, run_id, exp_id, location, tree["user"], meta["start_time"], meta["end_time"]
    )
    written = storage.read_many(f"{exp_id}/{run_id}/{rel}" for rel in files)
    for rel, data in files.items():
        if written.get(f"{exp_id}/{run_id}/{rel}") != data:
            raise RuntimeError(f"bucket tree generator is stale: {rel} differs from the API's")
    infos = _runs_of_listing(storage.walk(exp_id, sizes=True)).get(run_id, [])
    tokens, parsed = _summary(run_id, infos, files, f"{exp_id}/{run_id}", etags)
    made = json.loads(json.dumps(run_index.encode_run(parsed), default=str))
    if tokens != entry["tok"]:
        raise RuntimeError("run index generator is stale: file tokens differ from the writer's")
    if made != entry["run"]:
        raise RuntimeError(
            f"run index generator is stale: encoded run differs from the writer's: "
            f"{made} != {entry['run']}"
        )
    # An experiment made off the bucket (as the generator does) records what the API records.
    with tempfile.TemporaryDirectory(prefix="fsreg-bench-expcheck-") as tmp:
        local = tracking_store(tmp)
        local.artifact_root = tool.client.store.artifact_root
        local_id = local.create_experiment("bench-check")
        ours = load_meta((Path(tmp) / local_id / layout.META).read_bytes(), "generated")
    theirs = load_meta(storage.read(f"{exp_id}/{layout.META}"), "bucket")
    times = ("creation_time", "last_update_time")
    if {k: v for k, v in ours.items() if k not in times} != {
        k: v for k, v in theirs.items() if k not in times
    }:
        raise RuntimeError(f"experiment generator is stale: {ours} != {theirs}")


def workload_bucketindex(tool: Tool, rec: Recorder, spec: dict[str, Any]) -> dict[str, Any]:
    """Summarise every run of a preloaded bucket experiment in its run index, as fsregistry's
    writers would have when each run ended: list the experiment once, take each run's file
    tokens from the listing, parse the generator's bytes, write the shards (256 at most)."""
    from fsregistry.storage import open_storage
    from fsregistry.tracking import run_index

    tree = json.loads(Path(spec["tree_file"]).read_text())
    ids = json.loads(Path(spec["ids_file"]).read_text())
    storage = open_storage(spec["uri"])
    etags = spec["uri"].startswith("s3://")
    rec.run("check", lambda: _check_bucket_summaries(tool, storage, tree, etags))
    exp_id = tree["experiment_id"]
    listing = rec.run("list", lambda: storage.walk(exp_id, sizes=True))
    per_run = _runs_of_listing(listing)
    if set(per_run) != set(ids.values()):
        raise RuntimeError(f"bucket holds {len(per_run)} runs, the generator wrote {len(ids)}")
    index = run_index.ExperimentIndex()
    lines: dict[str, bytes] = {}
    for name, run_id in ids.items():
        i = dg.run_index(name)
        t = tree["base"] + i
        files = _tree_files(i, run_id, exp_id, tree["artifact_location"], tree["user"], t, t)
        lines[run_id] = run_index.encode_line(
            run_id, *_summary(run_id, per_run[run_id], files, f"{exp_id}/{run_id}", etags)
        )
    rec.run("persist", lambda: index.persist(storage, exp_id, lines, None))
    shards = {run_index.shard_name(r) for r in lines}
    return {"experiment_id": exp_id, "objects": len(listing), "shards": len(shards)}


# -- the physical floor: listing the tree -----------------------------------------------------


def _files_below(top: str, stat: bool = False) -> list[str]:
    """Every file below ``top`` (scandir only, or with a stat of each)."""
    files: list[str] = []
    stack = [top]
    while stack:
        with os.scandir(stack.pop()) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                else:
                    if stat:
                        entry.stat()
                    files.append(entry.path)
    return files


def _check_floors(rec: Recorder, root: str, spec: dict[str, Any]) -> None:
    """For each search, the time to stat what a reader must check when it trusts nothing it
    did not see in this process (another process, MLflow or an editor may have written any
    file): the files that decide the answer (``dg.DECIDING_FILES``) of every run, and every
    file of each run it returns. No reading, no parsing, no sorting: the least such a search
    costs on this disk, whatever it keeps elsewhere, since a change to any of those files
    changes the answer."""
    ids = json.loads(Path(spec["ids_file"]).read_text())
    n = spec["n_runs"]
    run_ids = [ids[dg.run_name(i)] for i in range(n)]
    runs = set(run_ids)  # the experiment's other entries (index files) are not runs
    for kind, deciding in dg.DECIDING_FILES.items():
        returned = {run_ids[i] for i in dg.expected_runs(kind, n)}

        def check(deciding: tuple[str, ...] = deciding, returned: set[str] = returned) -> int:
            stats = 0
            for name in os.listdir(root):
                run = f"{root}/{name}"
                if name in returned:
                    stats += len(_files_below(run, stat=True))
                elif name in runs:
                    for rel in deciding:
                        os.stat(f"{run}/{rel}")
                        stats += 1
            return stats

        stats = rec.run(f"check_{kind}", check)
        rec.ops[f"check_{kind}"].update(files=stats, returned=len(returned))


def workload_floor(tool: Tool | None, rec: Recorder, spec: dict[str, Any]) -> dict[str, Any]:
    """Time to merely list (and, on local disk, read) every file of one experiment, and the
    least each search must stat (``_check_floors``)."""
    if spec["kind"] == "local":
        root = spec["path"]

        files = rec.run("list_tree", lambda: _files_below(root))
        rec.ops["list_tree"]["files"] = len(files)
        if "ids_file" in spec:
            _check_floors(rec, root, spec)
        if not spec.get("read", True):
            return {}

        def read_all() -> int:
            size = 0
            for f in files:
                with open(f, "rb") as fh:
                    size += len(fh.read())
            return size

        rec.run("read_tree", read_all)
        return {}
    if spec["kind"] == "s3":
        import s3fs

        fs: Any = s3fs.S3FileSystem(
            endpoint_url=os.environ["AWS_ENDPOINT_URL"],
            skip_instance_cache=True,
            use_listings_cache=False,
        )
    else:
        import gcsfs

        fs = gcsfs.GCSFileSystem(token="anon", skip_instance_cache=True, use_listings_cache=False)
    found = rec.run("list_tree", lambda: fs.find(spec["path"]))
    rec.ops["list_tree"]["files"] = len(found)
    return {}


WORKLOADS: dict[str, Callable[[Tool, Recorder, dict[str, Any]], dict[str, Any]]] = {
    "write": workload_write,
    "search": workload_search,
    "registry": workload_registry,
    "concurrent": workload_concurrent,
    "register_worker": workload_register_worker,
    "sqlite_load": workload_sqlite_load,
    "floor": workload_floor,
    "treegen": workload_treegen,
    "buckettree": workload_buckettree,
    "bucketindex": workload_bucketindex,
}


def main() -> int:
    spec = json.loads(Path(sys.argv[1]).read_text())
    t_import = time.perf_counter()
    out: dict[str, Any] = {"workload": spec["workload"], "tool": spec["tool"]}
    try:
        tool = Tool(spec) if spec["tool"] != "none" else None
        out["import_and_connect_s"] = time.perf_counter() - t_import
        out["tool_version"] = tool.version if tool else None
        rec = Recorder(spec)
        out.update(WORKLOADS[spec["workload"]](tool, rec, spec) or {})  # type: ignore[arg-type]
        if tool is not None and tool.name == "fsreg":
            tool.client.flush()
        out["ops"] = rec.ops
        out["answers"] = rec.answers
        out["skipped"] = rec.skipped
        out["ok"] = True
    except Exception as e:
        out["ok"] = False
        out["error"] = f"{type(e).__name__}: {e}"
        out["traceback"] = traceback.format_exc()[-4000:]
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sys.stdout.flush()
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
