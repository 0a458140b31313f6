"""The MLflow coverage page is generated from the code and must be current; MLflow names
fsregistry lacks raise an AttributeError that says so."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import fsregistry
from fsreg_testing import coverage
from fsregistry.mlflow_api.names import MLFLOW_VERSION, NAMES


def test_page_is_generated_from_the_code() -> None:
    assert coverage.PAGE.read_text(encoding="utf-8") == coverage.render(), (
        "docs/mlflow-coverage.md is out of date: run python -m fsreg_testing.coverage --write"
    )


def test_every_mlflow_name_has_a_status() -> None:
    no_status = [f"{e.module}.{e.name}" for e in coverage.entries() if e.status == "NO STATUS"]
    assert no_status == [], "add a reason in fsregistry/mlflow_api/reasons.py"


def test_statuses_come_from_the_code() -> None:
    by_name = {f"{e.module}.{e.name}": e for e in coverage.entries()}
    assert by_name["mlflow.start_run"].status == "works"
    assert by_name["mlflow.trace"].status == "not provided"
    assert by_name["mlflow.MlflowClient.set_terminated"].status == "differs"
    assert "RunInfo" in by_name["mlflow.MlflowClient.set_terminated"].note
    # a name with neither an fsregistry object nor a reason has no status
    assert coverage.entry("mlflow", "no_such_name", fsregistry).status == "NO STATUS"


def test_readme_links_the_page() -> None:
    readme = (coverage.ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/mlflow-coverage.md" in readme


@pytest.mark.parametrize(
    ("lookup", "mlflow_name"),
    [
        (lambda: fsregistry.start_span, "mlflow.start_span"),
        (lambda: fsregistry.catboost, "mlflow.catboost"),
        (lambda: fsregistry.get_trace, "mlflow.get_trace"),
        (lambda: fsregistry.models.Resource, "mlflow.models.Resource"),
        (lambda: fsregistry.entities.Trace, "mlflow.entities.Trace"),
    ],
)
def test_missing_mlflow_names_say_so(lookup: object, mlflow_name: str) -> None:
    with pytest.raises(AttributeError) as info:
        lookup()  # type: ignore[operator]
    message = str(info.value)
    assert (
        f"{mlflow_name} is an MLflow {MLFLOW_VERSION} feature that fsregistry does not" in message
    )
    assert "docs/mlflow-coverage.md" in message


def test_missing_client_methods_say_so(tmp_path: Path) -> None:
    client = fsregistry.Client(str(tmp_path / "mlruns"))
    with pytest.raises(AttributeError, match=r"mlflow\.MlflowClient\.search_traces is an MLflow"):
        client.search_traces  # noqa: B018
    assert "search_traces" in NAMES["mlflow.MlflowClient"]
    with pytest.raises(AttributeError) as info:
        client.no_such_method  # noqa: B018
    assert str(info.value) == "'Client' object has no attribute 'no_such_method'"
    assert not hasattr(client, "_private")


def test_other_names_get_the_usual_error() -> None:
    with pytest.raises(AttributeError) as info:
        fsregistry.no_such_name  # noqa: B018
    assert str(info.value) == "module 'fsregistry' has no attribute 'no_such_name'"


def test_the_lookup_stays_cheap() -> None:
    code = (
        "import sys, fsregistry\n"
        "try:\n    fsregistry.start_span\nexcept AttributeError:\n    pass\n"
        "heavy = [m for m in ('pandas', 'numpy', 'fsregistry.client') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.mlflow
def test_the_names_are_mlflows() -> None:
    found = coverage.mlflow_names(MLFLOW_VERSION)
    assert found["version"] == MLFLOW_VERSION
    assert {k: tuple(v) for k, v in found["names"].items()} == NAMES
