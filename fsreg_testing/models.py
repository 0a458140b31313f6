"""Shared fixtures and data for the model tests (``test_models_*``, ``test_pyfunc*``,
``test_sklearn*``). Import the fixtures into a test module to use them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import fsregistry
from fsregistry.fluent import _stack

FRAME = {
    "f1": [0.1, 0.4, 0.35, 0.8, 1.2, 1.5, 0.05, 0.9],
    "f2": [1, 0, 1, 0, 1, 1, 0, 0],
}
LABELS = [0, 0, 0, 1, 1, 1, 0, 1]


@pytest.fixture(autouse=True)
def model_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private model download cache per test (never the user's ~/.cache)."""
    cache = tmp_path / "model-cache"
    monkeypatch.setenv("FSREG_MODEL_CACHE", str(cache))
    return cache


@pytest.fixture
def tracking(store_url: str) -> Iterator[str]:
    """The fluent API pointed at this test's store, no active run; yields the store URL."""
    fsregistry.set_tracking_uri(store_url)
    fsregistry.set_registry_uri(store_url)
    fsregistry.fluent._active_experiment_id = None
    _stack().clear()
    yield store_url
    while _stack():
        fsregistry.end_run()
    fsregistry.fluent._active_experiment_id = None


@pytest.fixture
def local_tracking(tmp_path: Path) -> Iterator[str]:
    """Like ``tracking`` but always a local store (for tests MLflow must read)."""
    url = str(tmp_path / "mlruns")
    fsregistry.set_tracking_uri(url)
    fsregistry.set_registry_uri(url)
    fsregistry.fluent._active_experiment_id = None
    _stack().clear()
    yield url
    while _stack():
        fsregistry.end_run()
    fsregistry.fluent._active_experiment_id = None


def frame() -> Any:
    import pandas as pd

    return pd.DataFrame(FRAME)


def trained_model() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=0.5).fit(frame(), LABELS)


def register(model_uri: str, name: str, **kwargs: Any) -> Any:
    """``fsregistry.register_model`` (provided by the registry layer)."""
    register_model = fsregistry.register_model  # type: ignore[attr-defined]
    return register_model(model_uri, name, **kwargs)
