"""A search decides on a run's decoded files; it must see exactly what the built run shows."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from fsregistry.search import effective_order, parse_filter, parse_order_by
from fsregistry.tracking import records
from fsregistry.tracking.run_search import _RUN_ATTRIBUTES, run_lookup
from fsregistry.tracking.search_rows import Answers, Candidates, files_needed

RUN_ID = "0123456789abcdef0123456789abcdef"
NAMES = [None, "", "from-meta"]
TAG_NAMES = [None, "", "from-tag"]
STATUSES = [None, 1, 3, "FINISHED", " killed ", "4"]
TIMES: list[Any] = [None, 0, 1_700_000_000_000, "1700000000001"]
KEYS = [
    ("metric", "m"),
    ("metric", "missing"),
    ("param", "p"),
    ("param", "missing"),
    ("tag", "t"),
    ("tag", records.RUN_NAME_TAG),
    ("tag", "missing"),
    *(("attribute", k) for k in (*_RUN_ATTRIBUTES, "not_an_attribute")),
]


def _files(meta_name: Any, tag_name: Any, status: Any, start: Any, end: Any) -> records.RunFiles:
    meta: dict[str, Any] = {
        "run_id": RUN_ID,
        "experiment_id": 12,
        "artifact_uri": f"s3://bucket/12/{RUN_ID}/artifacts",
        "status": status,
        "start_time": start,
        "end_time": end,
    }
    if meta_name is not None:
        meta["run_name"] = meta_name
    if start is None:
        meta.pop("start_time")
        meta["user_id"] = None
        meta["lifecycle_stage"] = "deleted"
    tags = {"t": "x"}
    if tag_name is not None:
        tags[records.RUN_NAME_TAG] = tag_name
    return records.RunFiles(
        meta=meta,
        metrics={"m": (0.5, 3, 2, None, None)},
        params={"p": "1"},
        tags=tags,
    )


@pytest.mark.parametrize(
    ("meta_name", "tag_name", "status", "start", "end"),
    list(itertools.product(NAMES, TAG_NAMES, STATUSES, TIMES, [None, 5])),
)
def test_files_value_agrees_with_the_built_run(
    meta_name: Any, tag_name: Any, status: Any, start: Any, end: Any
) -> None:
    files = _files(meta_name, tag_name, status, start, end)
    uri = str(files.meta["artifact_uri"])
    built = run_lookup(records.build_run(files, uri, {}))
    needs_run = []
    for entity, key in KEYS:
        value = records.files_value(RUN_ID, files, entity, key)
        if value is records.NEEDS_RUN:
            needs_run.append(key)
        else:
            assert value == built(entity, key), (entity, key)
    assert needs_run == ["artifact_uri"]  # only the relocated artifact URI needs the run


@pytest.mark.parametrize(
    ("filter_string", "order_by", "needed"),
    [
        (None, None, ("meta.yaml",)),
        ("metrics.m0 > 0.5 and params.p0 = 'x'", None, ("meta.yaml", "metrics/m0", "params/p0")),
        (None, ["metrics.m1 DESC", "tags.t"], ("meta.yaml", "metrics/m1", "tags/t")),
        ("attributes.run_name = 'a'", None, ("meta.yaml", "tags/mlflow.runName")),
        ("tags.`mlflow.runName` = 'a'", None, ("meta.yaml", "tags/mlflow.runName")),
        ("metrics.`a/b` > 0 and status = 'FINISHED'", ["start_time"], ("meta.yaml", "metrics/a/b")),
        ("metrics.`a//b` > 0 and params.`a/` = '1'", None, ("meta.yaml",)),
        ("params.`../x` = '1'", None, ("meta.yaml",)),
        ("datasets.name = 'd'", None, None),
    ],
)
def test_files_needed(filter_string: str | None, order_by: Any, needed: Any) -> None:
    comparisons = parse_filter(filter_string, "runs")
    clauses = effective_order(parse_order_by(order_by, "runs"), "runs")
    assert files_needed(comparisons, clauses) == needed


def test_answers_are_kept_for_the_same_candidates_only() -> None:
    def candidates(*runs: tuple[str, records.RunFiles]) -> Candidates:
        found = Candidates()
        for run_id, files in runs:
            found.add("exp", run_id, files, None)
        return found

    a, b = _files("a", None, 3, 1, 2), _files("b", None, 3, 1, 2)
    answers = Answers(size=2)
    answers.put("q1", candidates(("r1", a), ("r2", b)), [1, 0])
    assert answers.get("q1", candidates(("r1", a), ("r2", b))) == [1, 0]
    assert answers.get("q2", candidates(("r1", a), ("r2", b))) is None
    assert answers.get("q1", candidates(("r2", b), ("r1", a))) is None  # other runs in place
    assert answers.get("q1", candidates(("r1", a), ("r2", a))) is None  # r2's files changed
    assert answers.get("q1", candidates(("r1", a))) is None  # a run gone
    answers.put("q2", candidates(("r1", a)), [0])
    answers.put("q3", candidates(("r1", a)), [0])
    assert answers.get("q1", candidates(("r1", a), ("r2", b))) is None  # the oldest dropped
    assert answers.get("q3", candidates(("r1", a))) == [0]
    built = candidates(("r1", a))
    built.built[0] = lambda entity, key: None
    answers.put("q4", built, [0])
    assert answers.get("q4", candidates(("r1", a))) is None, "built runs have other sources"
