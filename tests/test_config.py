"""Where the stores are: set_*_uri, FSREG_*, MLFLOW_* when it names a path or bucket, ./mlruns."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fsregistry import config


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in (
        "FSREG_TRACKING_URI",
        "MLFLOW_TRACKING_URI",
        "FSREG_REGISTRY_URI",
        "MLFLOW_REGISTRY_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(config, "_tracking_uri", None)
    monkeypatch.setattr(config, "_registry_uri", None)
    yield


def test_default_is_local_mlruns() -> None:
    assert config.get_tracking_uri() == "./mlruns"
    assert config.get_registry_uri() == "./mlruns"


def test_fsreg_variable_wins_over_mlflow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "s3://mlflow-bucket/x")
    assert config.get_tracking_uri() == "s3://mlflow-bucket/x"
    monkeypatch.setenv("FSREG_TRACKING_URI", "gs://ours/y")
    assert config.get_tracking_uri() == "gs://ours/y"
    assert config.get_registry_uri() == "gs://ours/y"  # registry follows tracking


@pytest.mark.parametrize(
    "server", ["http://mlflow:5000", "https://x", "databricks", "sqlite:///m.db"]
)
def test_mlflow_server_uris_are_not_ours(monkeypatch: pytest.MonkeyPatch, server: str) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server)
    assert config.get_tracking_uri() == "./mlruns"


def test_explicit_settings_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FSREG_TRACKING_URI", "/env/path")
    config.set_tracking_uri("/explicit")
    assert config.get_tracking_uri() == "/explicit"
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", "s3://reg/models")
    assert config.get_registry_uri() == "s3://reg/models"
    config.set_registry_uri("/explicit-registry")
    assert config.get_registry_uri() == "/explicit-registry"
