"""``mlflow.autolog`` for fsregistry: enable autologging for every installed library it
supports, as MLflow does: each integration in :data:`INTEGRATIONS` whose library is installed
(and not in ``exclude_flavors``) gets the arguments its own ``autolog`` accepts.

Integrations: scikit-learn (:func:`fsregistry.sklearn.autolog`), Keras 3
(:func:`fsregistry.keras.autolog`), XGBoost (:func:`fsregistry.xgboost.autolog`), LightGBM
(:func:`fsregistry.lightgbm.autolog`) and statsmodels (:func:`fsregistry.statsmodels.autolog`).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from typing import Any

#: (flavor name, the library's import name): the fsregistry module is ``fsregistry.<flavor>``.
INTEGRATIONS: tuple[tuple[str, str], ...] = (
    ("keras", "keras"),
    ("xgboost", "xgboost"),
    ("lightgbm", "lightgbm"),
    ("statsmodels", "statsmodels"),
    ("sklearn", "sklearn"),
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
    for flavor, library in INTEGRATIONS:
        if flavor in excluded or importlib.util.find_spec(library) is None:
            continue
        integration = importlib.import_module(f"fsregistry.{flavor}").autolog
        accepted = inspect.signature(integration).parameters
        integration(**{k: v for k, v in arguments.items() if k in accepted})
