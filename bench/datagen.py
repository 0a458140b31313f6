"""The benchmark's data: deterministic, the same for every tool, and the expected answers.

Standard library only: this module is imported by the workload script in fsregistry's venv
*and* in MLflow's venv, and by the driver that checks the answers.

Run ``i`` of the batch experiment is named ``run-<i:06d>`` and carries 20 params, 10 tags and
10 metrics x 20 steps. Every value is a pure function of ``(i, key, step)``, so the driver can
compute what any search must return without reading the store.
"""

from __future__ import annotations

from collections.abc import Iterable

N_PARAMS = 20
N_TAGS = 10
N_METRICS = 10
N_STEPS = 20
BASE_TS = 1_700_000_000_000
FILTER = "metrics.m0 > 0.5 and params.p0 = 'x'"
ORDER_BY = "metrics.m1 DESC"
_MASK = (1 << 64) - 1


def _mix(x: int) -> int:
    """splitmix64 finaliser: a well-spread 64-bit hash of an integer."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def u01(i: int, k: int, step: int) -> float:
    """A value in [0, 1) with 53 random bits: exact through text, JSON and SQLite REAL."""
    return (_mix(i * 1_000_003 + k * 10_007 + step * 101 + 12_345) >> 11) / float(1 << 53)


# -- batch runs (workload A, searched by workload B) -----------------------------------------
def run_name(i: int) -> str:
    return f"run-{i:06d}"


def run_index(name: str) -> int:
    """``run-000123`` -> 123 (raises on anything else)."""
    if not name.startswith("run-"):
        raise ValueError(f"not a benchmark run name: {name!r}")
    return int(name[4:])


def param_value(i: int, k: int) -> str:
    if (i * 7 + k) % 3 == 0:  # p0 is 'x' exactly when i % 3 == 0
        return "x"
    return f"v{(i * 13 + k * 5) % 97}"


def params(i: int) -> dict[str, str]:
    return {f"p{k}": param_value(i, k) for k in range(N_PARAMS)}


def tags(i: int) -> dict[str, str]:
    return {f"t{k}": f"tag-{k}-{(i + k) % 11}" for k in range(N_TAGS)}


def metric_timestamp(i: int, step: int) -> int:
    return BASE_TS + i * 1000 + step


def metric_points(i: int) -> list[tuple[str, float, int, int]]:
    """(key, value, timestamp, step) of every point of run ``i``, in logging order."""
    return [
        (f"m{k}", u01(i, k, s), metric_timestamp(i, s), s)
        for k in range(N_METRICS)
        for s in range(N_STEPS)
    ]


def latest_metrics(i: int) -> dict[str, float]:
    """Each metric's current value: the last step has the largest step and timestamp."""
    return {f"m{k}": u01(i, k, N_STEPS - 1) for k in range(N_METRICS)}


def metric_history(i: int, key: str) -> list[list[float]]:
    """``[[step, value, timestamp], ...]`` of one metric, by step."""
    k = int(key[1:])
    return [[s, u01(i, k, s), metric_timestamp(i, s)] for s in range(N_STEPS)]


def run_content(i: int) -> dict[str, dict[str, object]]:
    """What ``get_run`` must return for run ``i`` (user params, tags and latest metrics)."""
    return {"params": params(i), "tags": tags(i), "metrics": dict(latest_metrics(i))}


def filter_matches(i: int) -> bool:
    """Run ``i`` matches :data:`FILTER`."""
    return u01(i, 0, N_STEPS - 1) > 0.5 and param_value(i, 0) == "x"


def expected_filter(indices: Iterable[int]) -> list[int]:
    return sorted(i for i in indices if filter_matches(i))


def expected_order(indices: Iterable[int], top: int) -> list[int]:
    """Indices ordered by :data:`ORDER_BY` (``metrics.m1 DESC``), first ``top``."""
    return sorted(indices, key=lambda i: -u01(i, 1, N_STEPS - 1))[:top]


def order_key(i: int) -> float:
    return u01(i, 1, N_STEPS - 1)


# The run-relative files that decide whether and where a run is in each search's answer: its
# meta.yaml (lifecycle stage; start time, the default order) and the keys filtered or sorted on.
DECIDING_FILES = {
    "filter": ("meta.yaml", "metrics/m0", "params/p0"),
    "top10": ("meta.yaml", "metrics/m1"),
    "top1000": ("meta.yaml", "metrics/m1"),
    "all_paged": ("meta.yaml",),
}


def expected_runs(kind: str, n_runs: int) -> list[int]:
    """The runs search ``kind`` (a key of :data:`DECIDING_FILES`) returns, in its order."""
    if kind == "filter":
        return expected_filter(range(n_runs))
    if kind in ("top10", "top1000"):
        return expected_order(range(n_runs), 10 if kind == "top10" else 1000)
    if kind == "all_paged":
        return list(range(n_runs))
    raise ValueError(kind)


def sample(n_runs: int, count: int) -> list[int]:
    """``count`` run indices spread evenly over ``range(n_runs)``."""
    count = min(count, n_runs)
    return sorted({j * n_runs // count for j in range(count)})


# -- single log_metric calls (workload A) ----------------------------------------------------
SINGLE_KEY = "loss"


def single_run_name(j: int) -> str:
    return f"single-{j:04d}"


def single_value(j: int, step: int) -> float:
    return u01(j, 99, step)


def single_history(j: int, calls: int) -> list[list[float]]:
    return [[s, single_value(j, s), BASE_TS + s] for s in range(calls)]


# -- registry (workloads C and D) ------------------------------------------------------------
MODEL = "bench-model"
CONCURRENT_MODEL = "concurrent-model"
ALIAS = "champion"


def version_source(version: int) -> str:
    return f"file:///bench/models/bench-model/{version}"


def registered_model_name(j: int) -> str:
    return f"rm-{j:04d}"


def worker_source(worker: int, j: int) -> str:
    return f"file:///bench/models/concurrent/w{worker}/{j}"
