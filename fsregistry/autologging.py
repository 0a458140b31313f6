"""``mlflow.autolog`` for fsregistry: enable autologging for every installed library it
supports, which is scikit-learn (:func:`fsregistry.sklearn.autolog`)."""

from __future__ import annotations

import importlib.util
from typing import Any


def autolog(
    log_input_examples: bool = False,
    log_model_signatures: bool = True,
    log_models: bool = True,
    log_datasets: bool = True,
    log_traces: bool = True,
    disable: bool = False,
    exclusive: bool = False,
    disable_for_unsupported_versions: bool = False,
    silent: bool = False,
    extra_tags: dict[str, Any] | None = None,
    exclude_flavors: list[str] | None = None,
) -> None:
    """Enable (or disable) autologging of every supported library that is installed.
    Differs: scikit-learn is the only one; ``log_traces`` has no effect (no GenAI tracing)."""
    if "sklearn" in (exclude_flavors or []) or importlib.util.find_spec("sklearn") is None:
        return
    from fsregistry import sklearn

    sklearn.autolog(
        log_input_examples=log_input_examples,
        log_model_signatures=log_model_signatures,
        log_models=log_models,
        log_datasets=log_datasets,
        disable=disable,
        exclusive=exclusive,
        disable_for_unsupported_versions=disable_for_unsupported_versions,
        silent=silent,
        extra_tags=extra_tags,
    )
