"""The ``evaluate`` part of the table of MLflow's messages holds for real MLflow.

MLflow's ``mlflow.evaluate`` needs matplotlib, which the venv of tests/test_mlflow_messages.py
lacks, so the entries that go through it (:data:`~tests.mlflow_messages_evaluation.EVALUATION`
and :data:`~tests.mlflow_messages_metrics.ARTIFACTS`) are checked here, with the same setup and triggers, in MLflow 3.17.2 and 2.22.5 venvs that have matplotlib.
(fsregistry's side of every entry is checked by tests/test_mlflow_messages.py.)
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fsreg_testing.mlflow_env import run_mlflow
from tests.mlflow_messages_evaluation import EVALUATION
from tests.mlflow_messages_metrics import ARTIFACTS
from tests.test_mlflow_messages import mlflow_script

pytestmark = pytest.mark.mlflow

_ENTRIES = EVALUATION + ARTIFACTS


def _answers(version: str, tmp_path: Path) -> dict[str, list[str | None] | None]:
    """Each entry's trigger run in MLflow ``version`` with matplotlib: None, or the exception's
    [type, code, message]."""
    code = mlflow_script(_ENTRIES, tmp_path)
    answers: dict[str, list[str | None] | None] = run_mlflow(
        version, code, cwd=tmp_path, extras=["matplotlib"]
    )
    return answers


def _differs(entry_regex: str, code: str, answer: list[str | None] | None) -> bool:
    return (
        answer is None or not re.search(entry_regex, answer[2] or "") or (answer[1] or "") != code
    )


def test_the_evaluate_entries_are_mlflow3s(tmp_path: Path) -> None:
    """MLflow 3.17.2 (with matplotlib) gives each entry's text and code for its trigger."""
    got = _answers("3.17.2", tmp_path)
    problems = {e.kind: got[e.kind] for e in _ENTRIES if _differs(e.regex, e.code, got[e.kind])}
    assert problems == {}
    assert len(_ENTRIES) > 30


def test_the_evaluate_entries_hold_for_mlflow2_where_not_noted(tmp_path: Path) -> None:
    """MLflow 2.22.5 (with matplotlib) gives the same, except where the note says how 2.22
    differs."""
    got = _answers("2.22.5", tmp_path)
    differs = {e.kind for e in _ENTRIES if _differs(e.regex, e.code, got[e.kind])}
    assert differs == {e.kind for e in _ENTRIES if "MLflow 2.22" in e.note}
