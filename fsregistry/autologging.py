"""``mlflow.autolog`` for fsregistry: enable autologging for every installed library it
supports: scikit-learn (:func:`fsregistry.sklearn.autolog`) and Keras 3
(:func:`fsregistry.keras.autolog`)."""

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
    Differs: scikit-learn and Keras are the ones; ``log_traces`` has no effect (no GenAI
    tracing)."""
    if "keras" not in (exclude_flavors or []) and importlib.util.find_spec("keras") is not None:
        from fsregistry import keras

        keras.autolog(
            log_models=log_models,
            log_model_signatures=log_model_signatures,
            log_datasets=log_datasets,
            log_input_examples=log_input_examples,
            disable=disable,
            exclusive=exclusive,
            disable_for_unsupported_versions=disable_for_unsupported_versions,
            silent=silent,
            extra_tags=extra_tags,
        )
    if "pytorch" not in (exclude_flavors or []) and any(
        importlib.util.find_spec(name) is not None for name in ("lightning", "pytorch_lightning")
    ):
        from fsregistry import pytorch

        pytorch.autolog(
            log_models=log_models,
            log_model_signatures=log_model_signatures,
            log_datasets=log_datasets,
            disable=disable,
            exclusive=exclusive,
            disable_for_unsupported_versions=disable_for_unsupported_versions,
            silent=silent,
            extra_tags=extra_tags,
        )
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
