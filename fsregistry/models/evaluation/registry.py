"""Evaluator registry: the built-ins (``default``, ``classifier``, ``regressor``, ``shap``) plus
plugins found by entry point in the ``mlflow.model_evaluator`` group (MLflow's) and the
``fsregistry.model_evaluator`` group (fsregistry's own), loaded once, on first use. A plugin
that fails to import is skipped with a warning, as in MLflow.
"""

from __future__ import annotations

import warnings
from importlib.metadata import entry_points
from typing import Any

from fsregistry.exceptions import MlflowException

#: Entry point groups read for evaluator plugins.
ENTRY_POINT_GROUPS = ("mlflow.model_evaluator", "fsregistry.model_evaluator")

_registry: dict[str, type[Any]] = {}
_builtin: set[str] = set()


def _load() -> dict[str, type[Any]]:
    if _registry:
        return _registry
    from fsregistry.models.evaluation.builtin import (
        ClassifierEvaluator,
        DefaultEvaluator,
        RegressorEvaluator,
    )
    from fsregistry.models.evaluation.shap_explain import ShapEvaluator

    for cls in (DefaultEvaluator, ClassifierEvaluator, RegressorEvaluator, ShapEvaluator):
        _registry[cls.name] = cls
        _builtin.add(cls.name)
    for group in ENTRY_POINT_GROUPS:
        for ep in entry_points(group=group):
            try:
                _registry[ep.name] = ep.load()
            except (AttributeError, ImportError) as exc:
                warnings.warn(
                    f'Failure attempting to register model evaluator for scheme "{ep.name}": {exc}',
                    stacklevel=2,
                )
    return _registry


def register(name: str, evaluator: type[Any]) -> None:
    """Register an evaluator class under ``name`` (what an entry point does)."""
    _load()[name] = evaluator


def list_evaluators() -> list[str]:
    """Names of every available evaluator. Same as MLflow's (plus fsregistry's group)."""
    return list(_load())


def is_builtin(name: str) -> bool:
    """Whether ``name`` is one of the built-in evaluators."""
    _load()
    return name in _builtin


def is_registered(name: str) -> bool:
    """Whether an evaluator is registered under ``name``."""
    return name in _load()


def get_evaluator(name: str) -> Any:
    """A new instance of the evaluator registered under ``name``."""
    cls = _load().get(name)
    if cls is None:
        raise MlflowException(
            f"Could not find a registered model evaluator for: {name}. Currently registered "
            f"evaluator names are: {list(_registry)}"
        )
    return cls()
