"""What a cold run search (a fresh process) does per candidate run, counted, never timed
(issue 24): a search filters and sorts every run of its experiments but returns one page, so
any work per candidate beyond its filter and its sort keys is what a cold search pays for
nothing.

- No search lookup per candidate but its filter's terms: the lifecycle stage and the sort
  keys are taken from the decoded files a column at a time.
- A page a trusted index answers for in full makes no change feed (``ctypes``, an inotify
  instance): there is nothing to watch.
- A local listing scans each directory through a descriptor, so a file's ``stat`` looks its
  name up in its directory rather than walking the whole path again.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fsreg_testing.runs import age_tree, ended_runs
from fsregistry import Client
from fsregistry.search import OrderClause, sort_columns, sort_rows
from fsregistry.storage.local_files import is_internal_name
from fsregistry.tracking import trust

REPO = Path(__file__).resolve().parent.parent


def _count_lookups(monkeypatch: pytest.MonkeyPatch, client: Client) -> list[tuple[str, str]]:
    """Every search lookup (entity, key) of one candidate that the client's searches make."""
    search = client.store._search
    asked: list[tuple[str, str]] = []
    original = search._candidate_value

    def counting(found: Any, i: int, entity: str, key: str) -> Any:
        asked.append((entity, key))
        return original(found, i, entity, key)

    monkeypatch.setattr(search, "_candidate_value", counting)
    return asked


def _cold(store_url: str, backend: str, count: int) -> tuple[Client, str, list[str]]:
    """``count`` ended runs (``ended_runs``), and a client as fresh as a new process."""
    client = Client(tracking_uri=store_url)
    exp_id = client.create_experiment("cold")
    run_ids = ended_runs(client, exp_id, count)
    if backend == "local":
        age_tree(store_url)
    return Client(tracking_uri=store_url), exp_id, run_ids


def test_a_sorted_search_asks_no_candidate_a_lookup(
    store_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh, exp_id, run_ids = _cold(store_url, backend, 6)
    asked = _count_lookups(monkeypatch, fresh)
    page = fresh.search_runs([exp_id], order_by=["metrics.m DESC"], max_results=3)
    assert [r.info.run_id for r in page] == run_ids[::-1][:3]
    # Before: 4 per candidate (its stage, the metric, start_time and run_id tie-breakers).
    assert asked == [], "stage and sort keys come from the files, a column at a time"
    page = fresh.search_runs([exp_id], order_by=["attributes.run_name ASC", "params.p DESC"])
    assert [r.info.run_name for r in page] == [f"r{i}" for i in range(6)]
    assert asked == []


def test_a_filtered_search_asks_each_candidate_its_filter_only(
    store_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh, exp_id, run_ids = _cold(store_url, backend, 5)
    asked = _count_lookups(monkeypatch, fresh)
    page = fresh.search_runs([exp_id], "metrics.m >= 2", order_by=["params.p ASC"])
    assert [r.info.run_id for r in page] == run_ids[2:]
    # Before: its stage and its filter term for each of the 5, and 3 sort keys for each match.
    assert asked == [("metric", "m")] * 5


def test_a_trusted_page_of_ended_runs_makes_no_change_feed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(trust.ENV, "1")
    fresh, exp_id, run_ids = _cold(str(tmp_path / "mlruns"), "local", 4)
    storage = fresh.store._search.storage
    feeds: list[Any] = []
    original = storage.change_feed

    def counting() -> Any:
        feeds.append(None)
        return original()

    monkeypatch.setattr(storage, "change_feed", counting)
    page = fresh.search_runs([exp_id], order_by=["metrics.m DESC"], max_results=2)
    assert [r.info.run_id for r in page] == run_ids[::-1][:2]
    assert feeds == [], "nothing to watch: the trusted index answers for every row"


_WALK = """
import json, sys
from fsregistry.storage.local import LocalStorage

scans = []
sys.addaudithook(lambda event, args: scans.append(type(args[0]).__name__)
                 if event == "os.scandir" else None)
infos = LocalStorage(sys.argv[1]).walk(sys.argv[2])
print(json.dumps({"scans": scans, "files": {i.path: i.token for i in infos}}))
"""


def test_a_local_listing_stats_each_file_by_name_in_its_directory(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    client = Client(tracking_uri=str(root))
    exp_id = client.create_experiment("cold")
    run_id = ended_runs(client, exp_id, 1)[0]
    run_dir = f"{exp_id}/{run_id}"
    proc = subprocess.run(
        [sys.executable, "-c", _WALK, str(root), run_dir],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    got = json.loads(proc.stdout)
    # Before: every directory scanned by its path ("str"), each file's stat a path walk.
    assert got["scans"] and set(got["scans"]) == {"int"}, got["scans"]
    expected = {}
    for path in sorted((root / run_dir).rglob("*")):
        if path.is_file() and not is_internal_name(path.name):
            st = path.stat()
            rel = path.relative_to(root / run_dir).as_posix()
            expected[rel] = f"{st.st_size}-{st.st_mtime_ns}-{st.st_ino}"
    assert got["files"] == expected


_VALUES: list[Any] = [None, math.nan, -0.0, 0.0, 1, 2.5, -3.0, True, "a", "B", "b", 1e300]


@pytest.mark.parametrize("seed", range(5))
def test_sort_columns_gives_the_order_of_sort_rows(seed: int) -> None:
    rng = random.Random(seed)
    rows = [{"id": i, **{f"metric.k{j}": rng.choice(_VALUES) for j in range(3)}} for i in range(40)]
    clauses = [
        OrderClause("metric", f"k{rng.randrange(3)}", rng.random() < 0.5)
        for _ in range(rng.randrange(1, 5))
    ]

    def lookup_for(row: dict[str, Any]) -> Any:
        return lambda entity, key: row.get(f"{entity}.{key}")

    def column(clause: OrderClause, of: Any) -> list[Any]:
        return [row.get(f"{clause.entity}.{clause.key}") for row in of]

    want = [r["id"] for r in sort_rows(rows, clauses, lookup_for)]
    assert [r["id"] for r in sort_columns(rows, clauses, column)] == want
    assert sort_columns(rows, [], column) == rows
