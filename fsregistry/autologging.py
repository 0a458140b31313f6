"""``mlflow.autolog`` for fsregistry: enable autologging for every installed library it
supports, as MLflow does: each integration in :data:`INTEGRATIONS` whose library is installed
(and not in ``exclude_flavors``) gets the arguments its own ``autolog`` accepts.

Integrations: scikit-learn (:func:`fsregistry.sklearn.autolog`), Keras 3
(:func:`fsregistry.keras.autolog`), TensorFlow (:func:`fsregistry.tensorflow.autolog`: with
``mlflow.autolog`` TensorFlow's patch is the one that logs a Keras ``fit``), XGBoost
(:func:`fsregistry.xgboost.autolog`), LightGBM (:func:`fsregistry.lightgbm.autolog`),
statsmodels (:func:`fsregistry.statsmodels.autolog`) and PyTorch Lightning
(:func:`fsregistry.pytorch.autolog`).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from typing import Any

#: (flavor name, the import names of its library: any one installed enables it), in the order
#: they are enabled (disabled in the reverse order, so patches stacked on one method, as
#: TensorFlow's on Keras' ``fit``, come off top first). The module is ``fsregistry.<flavor>``.
INTEGRATIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("keras", ("keras",)),
    ("tensorflow", ("tensorflow",)),  # after Keras: its patch of keras.Model.fit logs, as MLflow's
    ("xgboost", ("xgboost",)),
    ("lightgbm", ("lightgbm",)),
    ("statsmodels", ("statsmodels",)),
    ("sklearn", ("sklearn",)),
    ("pytorch", ("lightning", "pytorch_lightning")),
)


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
    Differs: only the libraries of :data:`INTEGRATIONS`; ``log_traces`` has no effect (no
    GenAI tracing)."""
    arguments: dict[str, Any] = {
        "log_input_examples": log_input_examples,
        "log_model_signatures": log_model_signatures,
        "log_models": log_models,
        "log_datasets": log_datasets,
        "disable": disable,
        "exclusive": exclusive,
        "disable_for_unsupported_versions": disable_for_unsupported_versions,
        "silent": silent,
        "extra_tags": extra_tags,
    }
    excluded = set(exclude_flavors or ())
    for flavor, libraries in reversed(INTEGRATIONS) if disable else INTEGRATIONS:
        if flavor in excluded or all(importlib.util.find_spec(n) is None for n in libraries):
            continue
        integration = importlib.import_module(f"fsregistry.{flavor}").autolog
        accepted = inspect.signature(integration).parameters
        integration(**{k: v for k, v in arguments.items() if k in accepted})
