"""MLflow 3 LoggedModels (``<exp>/models/<model_id>/``, docs/mlflow-format.md §1.9, §1.10).

- ``reading``: find and read models (``models:/<model_id>``, ``runs:/<run>/<name>``) and
  follow copied trees;
- ``writing``: create, finalize, delete, tags, params, metrics, and the run links (outputs,
  model inputs);
- ``search``: ``search_logged_models``.
"""

from fsregistry.tracking.logged_models.reading import (
    LoggedModelInfo,
    find_run_logged_model,
    get_logged_model,
    live_logged_model,
    read_logged_model,
    read_models_in,
    relocate_file_uri,
)
from fsregistry.tracking.logged_models.search import search_logged_models
from fsregistry.tracking.logged_models.writing import (
    LoggedModels,
    checked_model_ids,
    checked_outputs,
    validate_logged_model_name,
    validate_model_id,
)

__all__ = [
    "LoggedModelInfo",
    "LoggedModels",
    "checked_model_ids",
    "checked_outputs",
    "find_run_logged_model",
    "get_logged_model",
    "live_logged_model",
    "read_logged_model",
    "read_models_in",
    "relocate_file_uri",
    "search_logged_models",
    "validate_logged_model_name",
    "validate_model_id",
]
