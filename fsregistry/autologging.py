"""``mlflow.autolog`` for fsregistry: enable autologging for every installed library it
supports: scikit-learn (:func:`fsregistry.sklearn.autolog`), Keras 3
(:func:`fsregistry.keras.autolog`) and TensorFlow (:func:`fsregistry.tensorflow.autolog`)."""

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
    Differs: scikit-learn, Keras and TensorFlow are the ones; ``log_traces`` has no effect (no GenAI
    tracing)."""

    def tensorflow_autolog() -> None:
        if (
            "tensorflow" in (exclude_flavors or [])
            or importlib.util.find_spec("tensorflow") is None
        ):
            return
        from fsregistry import tensorflow

        tensorflow.autolog(
            log_models=log_models,
            log_datasets=log_datasets,
            disable=disable,
            exclusive=exclusive,
            disable_for_unsupported_versions=disable_for_unsupported_versions,
            silent=silent,
            log_input_examples=log_input_examples,
            log_model_signatures=log_model_signatures,
            extra_tags=extra_tags,
        )

    # TensorFlow's patch of keras.Model.fit is made after Keras' (it is the one that logs, as
    # with MLflow's mlflow.autolog) and undone before it
    if disable:
        tensorflow_autolog()
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
    if not disable:
        tensorflow_autolog()
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
