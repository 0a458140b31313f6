"""What fsregistry does not store, answered as MLflow's own file store answers it.

fsregistry keeps experiments, runs, LoggedModels and the model registry; it has no traces,
assessments, issues, GenAI evaluation datasets, scorers, label schemas, review queues or
webhooks. MLflow's server still asks for them (the experiment page lists traces and scorers),
so each such method of MLflow's store interfaces gets a definition here:

- the searches and lists a page makes on load answer empty (no traces, no scorers, an empty
  page), as MLflow's file store does for an experiment without them;
- a lookup by id (a trace, an assessment, a scorer...) raises RESOURCE_DOES_NOT_EXIST (HTTP
  404): there is no such item, as MLflow's file store answers for an unknown trace id;
- every other call (the writes) raises INVALID_PARAMETER_VALUE (HTTP 400) with MLflow's file
  store wording ("... is not supported in FileStore", naming fsregistry), the code MLflow's
  file store gives ``link_traces_to_run``. Its FEATURE_DISABLED, which the server sends as
  HTTP 500, is not used: a page must not see a server error for a feature the store lacks.

The class decorators add these only where the store class defines nothing itself, so a method
fsregistry gains later simply takes over.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, TypeVar

from mlflow.exceptions import MlflowException as MlflowError
from mlflow.protos import databricks_pb2
from mlflow.store.entities.paged_list import PagedList as MlflowPagedList

C = TypeVar("C", bound=type)


def _empty_page() -> Any:
    return MlflowPagedList([], None)


#: Reads answered empty: method name -> the empty answer's factory.
TRACKING_EMPTY: dict[str, Callable[[], Any]] = {
    "search_traces": lambda: ([], None),
    "batch_get_traces": list,
    "batch_get_trace_infos": list,
    "find_completed_sessions": list,
    "search_issues": _empty_page,
    "search_datasets": _empty_page,
    "list_scorers": list,
    "list_scorers_across_experiments": list,
    "get_online_scoring_configs": list,
    "get_active_online_scorers": list,
    "list_label_schemas": _empty_page,
    "list_review_queues": _empty_page,
    "list_review_queue_items": _empty_page,
}

#: Lookups by id answered "does not exist".
TRACKING_MISSING: tuple[str, ...] = (
    "get_trace_info",
    "get_trace",
    "get_online_trace_details",
    "get_assessment",
    "get_issue",
    "get_dataset",
    "get_scorer",
    "get_label_schema",
    "get_label_schema_by_name",
    "get_review_queue",
    "get_review_queue_by_name",
)

#: Calls refused as not supported.
TRACKING_REFUSED: tuple[str, ...] = (
    "start_trace",
    "delete_traces",
    "archive_traces",
    "resolve_trace_archival_config",
    "query_trace_metrics",
    "set_trace_tag",
    "delete_trace_tag",
    "create_assessment",
    "update_assessment",
    "delete_assessment",
    "create_issue",
    "update_issue",
    "log_spans",
    "create_dataset",
    "delete_dataset",
    "upsert_dataset_records",
    "delete_dataset_records",
    "set_dataset_tags",
    "delete_dataset_tag",
    "get_dataset_experiment_ids",
    "add_dataset_to_experiments",
    "remove_dataset_from_experiments",
    "link_traces_to_run",
    "unlink_traces_from_run",
    "link_prompts_to_trace",
    "calculate_trace_filter_correlation",
    "register_scorer",
    "list_scorer_versions",
    "delete_scorer",
    "upsert_online_scoring_config",
    "create_label_schema",
    "update_label_schema",
    "delete_label_schema",
    "create_review_queue",
    "get_or_create_user_queue",
    "update_review_queue",
    "delete_review_queue",
    "add_items_to_review_queue",
    "remove_items_from_review_queue",
    "set_review_queue_item_status",
)

REGISTRY_EMPTY: dict[str, Callable[[], Any]] = {
    "list_webhooks": _empty_page,
    "list_webhooks_by_event": _empty_page,
}
REGISTRY_MISSING: tuple[str, ...] = ("get_webhook",)
REGISTRY_REFUSED: tuple[str, ...] = (
    "create_webhook",
    "update_webhook",
    "delete_webhook",
    "test_webhook",
)


def not_supported(name: str) -> MlflowError:
    """The error of a call fsregistry cannot do, worded as MLflow's file store words it."""
    return MlflowError(
        f"{name} is not supported in fsregistry's file-based store (nor in MLflow's "
        f"FileStore). Please use a database-backed store (e.g., SQLAlchemy store) for this "
        f"feature; `fsreg export` copies a store into one.",
        error_code=databricks_pb2.INVALID_PARAMETER_VALUE,
    )


def does_not_exist(name: str, args: tuple[Any, ...]) -> MlflowError:
    """RESOURCE_DOES_NOT_EXIST for a lookup of an item fsregistry never stores."""
    shown = ", ".join(repr(a) for a in args)[:200]
    return MlflowError(
        f"{name}({shown}): not found; fsregistry's store holds no such items (traces, "
        f"assessments, GenAI datasets, scorers, webhooks...)",
        error_code=databricks_pb2.RESOURCE_DOES_NOT_EXIST,
    )


def _empty(name: str, factory: Callable[[], Any]) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        return factory()

    method.__name__ = name
    method.__doc__ = f"Empty: fsregistry stores no such items (as MLflow's FileStore: {name})."
    return method


def _refused(name: str) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise not_supported(name)

    method.__name__ = name
    method.__doc__ = f"Raises INVALID_PARAMETER_VALUE: fsregistry cannot do {name}."
    return method


def _missing(name: str) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        raise does_not_exist(name, args + tuple(kwargs.values()))

    method.__name__ = name
    method.__doc__ = f"Raises RESOURCE_DOES_NOT_EXIST: fsregistry stores nothing {name} finds."
    return method


def _fill(
    cls: C,
    empty: dict[str, Callable[[], Any]],
    missing: tuple[str, ...],
    refused: tuple[str, ...],
) -> C:
    made = {name: _empty(name, factory) for name, factory in empty.items()}
    made.update((name, _missing(name)) for name in missing)
    made.update((name, _refused(name)) for name in refused)
    for name, method in made.items():
        if name not in cls.__dict__:
            setattr(cls, name, method)
    abc.update_abstractmethods(cls)  # those filled here were abstract in MLflow's interface
    return cls


def tracking_unsupported(cls: C) -> C:
    """Class decorator: the tracking-store calls fsregistry cannot answer (module docstring)."""
    return _fill(cls, TRACKING_EMPTY, TRACKING_MISSING, TRACKING_REFUSED)


def registry_unsupported(cls: C) -> C:
    """Class decorator: the registry-store calls fsregistry cannot answer (webhooks)."""
    return _fill(cls, REGISTRY_EMPTY, REGISTRY_MISSING, REGISTRY_REFUSED)
