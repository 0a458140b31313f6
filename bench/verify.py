"""Check every answer a workload returned against the data that was written (:mod:`datagen`).

Each function returns ``(ok, detail)``: ``detail`` says what was expected and what came back,
so a wrong answer can be told from a slow one.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import datagen as dg

Result = tuple[bool, str]


def _names(indices: list[int], limit: int = 5) -> str:
    shown = ", ".join(dg.run_name(i) for i in sorted(indices)[:limit])
    return shown + (", ..." if len(indices) > limit else "")


def _set_diff(got: list[int], expected: list[int]) -> str:
    g, e = Counter(got), set(expected)
    missing = sorted(e - set(g))
    extra = sorted(set(g) - e)
    dupes = sorted(i for i, c in g.items() if c > 1)
    parts = [f"expected {len(e)} runs, got {len(got)}"]
    if missing:
        parts.append(f"{len(missing)} missing ({_names(missing)})")
    if extra:
        parts.append(f"{len(extra)} unexpected ({_names(extra)})")
    if dupes:
        parts.append(f"{len(dupes)} returned twice ({_names(dupes)})")
    return "; ".join(parts)


def search_answer(op: str, answer: Any, n_runs: int) -> Result:
    base = op.removesuffix("_again")
    got: list[int] = answer["indices"]
    if base == "filter":
        expected = dg.expected_runs(base, n_runs)
        ok = sorted(got) == expected
        return ok, (f"{len(got)} runs match" if ok else _set_diff(got, expected))
    if base in ("top10", "top1000"):
        expected = dg.expected_runs(base, n_runs)
        # Equal sort keys may come back in either order; compare keys position by position.
        ok = len(got) == len(expected) and [dg.order_key(i) for i in got] == [
            dg.order_key(i) for i in expected
        ]
        if ok:
            return True, f"{len(got)} runs in metrics.m1 DESC order"
        if sorted(got) != sorted(expected):
            return False, _set_diff(got, expected)
        first = next(j for j, (a, b) in enumerate(zip(got, expected, strict=True)) if a != b)
        return False, f"right runs, wrong order from position {first}"
    if base == "all_paged":
        if answer.get("complete", True):
            expected = dg.expected_runs(base, n_runs)
            ok = sorted(got) == expected
            return ok, (
                f"{len(got)} runs in {answer['calls']} pages" if ok else _set_diff(got, expected)
            )
        ok = len(set(got)) == len(got) and all(0 <= i < n_runs for i in got)
        ok = ok and len(got) == 1000 * answer["calls"]
        return ok, f"partial: {len(got)} distinct runs in {answer['calls']} full pages"
    raise ValueError(op)


def get_run_answer(answer: list[dict[str, Any]]) -> Result:
    for run in answer:
        i = run["index"]
        expected = dg.run_content(i)
        if run["name"] != dg.run_name(i):
            return False, f"{dg.run_name(i)}: run name {run['name']!r}"
        for part in ("params", "tags", "metrics"):
            if run[part] != expected[part]:
                diff = sorted(
                    k
                    for k in set(run[part]) | set(expected[part])
                    if run[part].get(k) != expected[part].get(k)
                )
                return False, f"{dg.run_name(i)}: {part} differ at {diff[:5]}"
    return True, f"{len(answer)} runs: params, tags, latest metrics exact"


def _points(points: list[list[Any]]) -> list[tuple[int, float, int]]:
    return sorted((int(s), float(v), int(t)) for s, v, t in points)


def history_answer(answer: list[list[Any]]) -> Result:
    for i, points in answer:
        if _points(points) != _points(dg.metric_history(i, "m0")):
            return False, f"{dg.run_name(i)}: history of m0 differs ({len(points)} points)"
    return True, f"{len(answer)} histories exact"


def single_history_answer(answer: dict[str, Any]) -> Result:
    calls = answer["calls"]
    for j, points in answer["runs"].items():
        if _points(points) != _points(dg.single_history(int(j), calls)):
            return False, f"{dg.single_run_name(int(j))}: {len(points)} points, expected {calls}"
    return True, f"{len(answer['runs'])} sampled runs x {calls} points exact"


def big_history_answer(answer: dict[str, Any]) -> Result:
    calls = answer["calls"]
    if _points(answer["points"]) != _points(dg.single_history(0, calls)):
        return False, f"{len(answer['points'])} points read back, expected {calls}"
    return True, f"{calls} points exact"


def registry_answers(answers: dict[str, Any]) -> list[tuple[str, bool, str]]:
    out: list[tuple[str, bool, str]] = []
    created = answers["created_versions"]
    bad = [(v, got) for v, got in created if v != got]
    out.append(
        (
            "create_model_version numbers",
            not bad,
            f"{len(created)} versions numbered 1..{len(created)}"
            if not bad
            else f"{len(bad)} wrong, e.g. expected {bad[0][0]} got {bad[0][1]}",
        )
    )
    alias = answers["alias"]
    ok = all(g == alias["expected"] for g in alias["got"])
    out.append(("alias", ok, f"alias -> version {alias['expected']}" if ok else str(alias)))
    n = answers["search_versions_n"]
    found = answers["search_versions"]
    expected = sorted((v, dg.version_source(v)) for v in range(1, n + 1))
    got = sorted((int(v), s) for v, s in found)
    ok = got == expected
    out.append(
        (
            "search_model_versions",
            ok,
            f"{len(got)} versions with their sources"
            if ok
            else f"expected {n} versions, got {len(got)} ({len(set(got) ^ set(expected))} differ)",
        )
    )
    m = answers["search_models_n"]
    names = sorted(answers["search_models"])
    expected_names = sorted(dg.registered_model_name(j) for j in range(m))
    ok = names == expected_names
    out.append(
        (
            "search_registered_models",
            ok,
            f"{len(names)} models" if ok else f"expected {m} models, got {len(names)}",
        )
    )
    return out


def concurrent_answer(answer: dict[str, Any]) -> Result:
    procs, per = answer["processes"], answer["per_process"]
    total = procs * per
    errors = [e for w in answer["workers"] for e in w["errors"]]
    claimed = [v for w in answer["workers"] for v, _src in w["versions"]]
    found = answer["found"]
    found_versions = sorted(int(v) for v, _ in found)
    found_sources = sorted(s for _, s in found)
    expected_sources = sorted(dg.worker_source(w, j) for w in range(procs) for j in range(per))
    problems = []
    if answer.get("store_error"):
        problems.append(f"the store could not be read afterwards ({answer['store_error'][:200]})")
    if errors:
        problems.append(f"{len(errors)} calls failed (e.g. {errors[0][:160]})")
    if sorted(claimed) != list(range(1, total + 1)):
        dupes = [v for v, c in Counter(claimed).items() if c > 1]
        problems.append(
            f"versions returned to callers: {len(claimed)}, distinct {len(set(claimed))}"
            + (f", {len(dupes)} handed out twice" if dupes else "")
        )
    if found_versions != list(range(1, total + 1)):
        problems.append(f"{len(found_versions)} versions in the store (expected 1..{total})")
    if found_sources != expected_sources:
        lost = len(set(expected_sources) - set(found_sources))
        problems.append(f"{lost} registrations lost")
    if problems:
        return False, "; ".join(problems)
    return True, f"{total} versions, numbered 1..{total}, none lost or duplicated"
