"""``search_logged_models``: MLflow 3's filter, dataset filter, ``order_by`` and paging over
the LoggedModels of some experiments.

The filter is parsed by :mod:`fsregistry.search` (kind ``logged_models``) before any file is
read. Matching follows MLflow's file store:

- ``metrics.<key>`` compares the first value of that key (of a dataset in ``datasets`` when
  given); params, tags and attributes compare their values; a missing value never matches;
- ``datasets`` (dicts with a required ``dataset_name`` and an optional ``dataset_digest``)
  without any metric comparison keeps the models with at least one metric on one of them;
- ``order_by`` is a list of dicts ``{"field_name", "ascending", "dataset_name",
  "dataset_digest"}``: an attribute or ``metrics.<key>`` (its latest value by timestamp, of
  the given dataset); ``creation_timestamp`` descending and ``model_id`` ascending break ties;
  missing values sort last either way;
- deleted models are hidden; experiments that do not exist contribute nothing;
- a page token is MLflow's: base64 of ``{experiment_ids, filter_string, order_by, offset}``
  (as MLflow's SQL store; its file store writes and reads only ``offset``); an undecodable
  token is refused with the file store's text, a token made for another query with the SQL
  store's (the file store does not check it);
- ``max_results`` below 1 is refused with MLflow's text for the other searches (MLflow's file
  store takes 0 as the default and slices with a negative one).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fsregistry.entities import LoggedModel, Metric, PagedList
from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist
from fsregistry.search import METRIC, Comparison, OrderClause, matches, parse_filter, sort_rows
from fsregistry.search.evaluate import Lookup
from fsregistry.search.paging import check_max_results, decode_page_token
from fsregistry.search.rules import rules_for
from fsregistry.storage import Storage
from fsregistry.tracking.experiments import Experiments
from fsregistry.tracking.logged_models.reading import read_models_in

DEFAULT_MAX_RESULTS = 100
_ORDER = "order"  # the lookup entity of an order_by clause; the key is its index


@dataclass(frozen=True)
class _OrderSpec:
    field: str  # canonical attribute, or the metric key
    is_metric: bool
    ascending: bool
    dataset_name: str | None
    dataset_digest: str | None


def _parse_order_by(order_by: Sequence[Mapping[str, Any]] | None) -> list[_OrderSpec]:
    if order_by is None:
        order_by = []
    if isinstance(order_by, str | bytes | Mapping) or not isinstance(order_by, Sequence):
        raise InvalidParameterValue(f"`order_by` must be a list of dictionaries. Got: {order_by!r}")
    names = rules_for("logged_models").order_attr_names
    out = []
    for clause in order_by:
        if not isinstance(clause, Mapping):
            raise InvalidParameterValue(
                f"`order_by` must be a list of dictionaries. Got the clause: {clause!r}"
            )
        field = clause.get("field_name")
        if not isinstance(field, str):
            raise InvalidParameterValue(
                "`field_name` in the `order_by` clause must be specified. Got the clause: "
                f"{dict(clause)!r}"
            )
        is_metric = "." in field
        if is_metric:
            entity, _, key = field.partition(".")
            if entity != "metrics":
                raise InvalidParameterValue(
                    f"Invalid order by field name: {entity}, only `metrics.<name>` is allowed."
                )
        else:
            key = field.strip()
            if key not in names:
                raise InvalidParameterValue(f"Invalid order by field name: {key}.")
            key = names[key]
        ascending = clause.get("ascending", True)
        if ascending not in (True, False):
            raise InvalidParameterValue(
                "Value of `ascending` in the `order_by` clause must be a boolean, got "
                f"{type(ascending)} for field {field}."
            )
        name, digest = clause.get("dataset_name"), clause.get("dataset_digest")
        if digest and not name:
            raise InvalidParameterValue(
                "`dataset_digest` can only be specified if `dataset_name` is also specified."
            )
        out.append(_OrderSpec(key, is_metric, bool(ascending), name, digest))
    if not any(not s.is_metric and s.field == "creation_timestamp" for s in out):
        out.append(_OrderSpec("creation_timestamp", False, False, None, None))
    if not any(not s.is_metric and s.field == "model_id" for s in out):
        out.append(_OrderSpec("model_id", False, True, None, None))
    return out


def _check_datasets(datasets: Any) -> list[Mapping[str, Any]]:
    if datasets is None:
        return []
    if isinstance(datasets, str | bytes | Mapping) or not isinstance(datasets, Sequence):
        raise InvalidParameterValue(f"Invalid datasets {datasets!r}: expected a list of dicts")
    if not all(isinstance(d, Mapping) and d.get("dataset_name") for d in datasets):
        raise InvalidParameterValue("`dataset_name` in the `datasets` clause must be specified.")
    return list(datasets)


def _on_dataset(metric: Metric, dataset: Mapping[str, Any]) -> bool:
    if metric.dataset_name != dataset.get("dataset_name"):
        return False
    digest = dataset.get("dataset_digest")
    return not digest or metric.dataset_digest == digest


def _lookup_for(datasets: Sequence[Mapping[str, Any]], orders: Sequence[_OrderSpec]) -> Any:
    def lookup_for(model: LoggedModel) -> Lookup:
        def lookup(entity: str, key: str) -> Any:
            if entity == _ORDER:
                spec = orders[int(key)]
                if not spec.is_metric:
                    return getattr(model, spec.field)
                found = [
                    m
                    for m in model.metrics
                    if m.key == spec.field
                    and (not spec.dataset_name or m.dataset_name == spec.dataset_name)
                    and (not spec.dataset_digest or m.dataset_digest == spec.dataset_digest)
                ]
                return max(found, key=lambda m: m.timestamp).value if found else None
            if entity == METRIC:
                for m in model.metrics:
                    if m.key == key and (not datasets or any(_on_dataset(m, d) for d in datasets)):
                        return m.value
                return None
            if entity == "param":
                return model.params.get(key)
            if entity == "tag":
                return model.tags.get(key)
            value = getattr(model, key, None)
            return None if value is None else str(value) if isinstance(value, str) else value

        return lookup

    return lookup_for


def _encode_token(
    experiment_ids: list[str],
    filter_string: str | None,
    order_by: Any,
    offset: int,
) -> str:
    payload = {
        "experiment_ids": experiment_ids,
        "filter_string": filter_string,
        "order_by": order_by,
        "offset": offset,
    }
    return base64.b64encode(json.dumps(payload).encode("utf-8")).decode("utf-8")


def _decode_token(
    token: str | bytes | None,
    experiment_ids: list[str],
    filter_string: str | None,
    order_by: Any,
) -> int:
    """The offset of ``token``: an undecodable token gets the text of MLflow's file store
    (``Invalid page token, ...``), a token of another query that of MLflow's SQL store."""
    offset = decode_page_token(token)
    if not token:
        return offset
    payload = json.loads(base64.b64decode(token))  # decode_page_token checked it
    found = {
        k: payload[k] or None
        for k in ("experiment_ids", "filter_string", "order_by")
        if k in payload
    }
    if "experiment_ids" in found and found["experiment_ids"] != (experiment_ids or None):
        raise InvalidParameterValue(
            "Experiment IDs in the page token do not match the requested experiment IDs. "
            f"Expected: {experiment_ids}. Found: {found['experiment_ids']}"
        )
    if "filter_string" in found and found["filter_string"] != (filter_string or None):
        raise InvalidParameterValue(
            "Filter string in the page token does not match the requested filter string. "
            f"Expected: {filter_string or None}. Found: {found['filter_string']}"
        )
    if "order_by" in found and found["order_by"] != (order_by or None):
        raise InvalidParameterValue(
            "Order by in the page token does not match the requested order by. "
            f"Expected: {order_by or None}. Found: {found['order_by']}"
        )
    return offset


def search_logged_models(
    storage: Storage,
    experiments: Experiments,
    experiment_ids: Sequence[str],
    filter_string: str | None = None,
    datasets: Sequence[Mapping[str, Any]] | None = None,
    max_results: int | None = None,
    order_by: Sequence[Mapping[str, Any]] | None = None,
    page_token: str | bytes | None = None,
) -> PagedList[LoggedModel]:
    """One page of the matching LoggedModels (see the module docstring)."""
    if (
        isinstance(experiment_ids, str)
        or not isinstance(experiment_ids, Sequence)
        or not all(isinstance(e, str) for e in experiment_ids)
    ):
        raise InvalidParameterValue(
            f"experiment_ids must be a list of strings, got {type(experiment_ids)}"
        )
    checked_datasets = _check_datasets(datasets)
    comparisons: list[Comparison] = parse_filter(filter_string, "logged_models")
    orders = _parse_order_by(order_by)
    if max_results is None:
        max_results = DEFAULT_MAX_RESULTS
    check_max_results(max_results, "logged_models")
    exp_ids = list(experiment_ids)
    order_json = [dict(c) for c in order_by] if order_by else None
    start = _decode_token(page_token, exp_ids, filter_string, order_json)
    models: list[LoggedModel] = []
    for exp_id in dict.fromkeys(exp_ids):
        try:
            exp_dir, _ = experiments.find_experiment_dir(exp_id)
        except (ResourceDoesNotExist, InvalidParameterValue):
            continue
        models.extend(read_models_in(storage, exp_dir))
    if checked_datasets and not any(c.entity == METRIC for c in comparisons):
        models = [
            m for m in models if any(_on_dataset(x, d) for x in m.metrics for d in checked_datasets)
        ]
    lookup_for = _lookup_for(checked_datasets, orders)
    hits = [m for m in models if matches(comparisons, lookup_for(m))]
    clauses = [OrderClause(_ORDER, str(i), spec.ascending) for i, spec in enumerate(orders)]
    ordered = sort_rows(hits, clauses, lookup_for)
    end = start + max_results
    token = _encode_token(exp_ids, filter_string, order_json, end) if end < len(ordered) else None
    return PagedList(ordered[start:end], token)


__all__ = ["DEFAULT_MAX_RESULTS", "search_logged_models"]
