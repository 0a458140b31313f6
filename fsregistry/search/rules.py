"""What each kind of search accepts in a filter or ``order_by``: the entities (and how they
may be spelled before the dot), the operators each entity or attribute takes, the attributes
(and their accepted spellings) and the dataset keys.

The tables accept the union of what MLflow 2.22 and 3.x accept, and reject at parse time what
MLflow only rejects (or crashes on) when it first evaluates a row, so a bad filter fails the
same way on an empty store as on a full one. An unknown kind is a programming error of the
caller (``ValueError``), not bad user input.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from fsregistry.search.terms import (
    ATTRIBUTE,
    DATASET,
    KINDS,
    LIST_OPS,
    METRIC,
    NULL_OPS,
    NUMERIC_OPS,
    PARAM,
    STRING_OPS,
    TAG,
    Kind,
)


@dataclass(frozen=True)
class AttributeRule:
    """What a filterable attribute accepts."""

    numeric: bool
    in_list: bool = False
    # MLflow converts the value with int(): quoted integers are accepted, floats truncated.
    integer: bool = False

    @property
    def ops(self) -> frozenset[str]:
        if self.numeric:
            return NUMERIC_OPS
        return STRING_OPS | LIST_OPS if self.in_list else STRING_OPS


@dataclass(frozen=True)
class KindRules:
    """Everything one kind of search accepts."""

    entity_aliases: Mapping[str, str]  # spelling before the dot -> canonical entity
    entity_ops: Mapping[str, frozenset[str]]  # non-attribute entities usable in filters
    attributes: Mapping[str, AttributeRule]  # canonical attribute name -> rules
    filter_attr_names: Mapping[str, str]  # accepted spelling -> canonical attribute
    order_entities: frozenset[str]  # non-attribute entities usable in order_by
    order_attr_names: Mapping[str, str]  # accepted spelling -> canonical attribute
    dataset_keys: frozenset[str] = frozenset()


def _identity(*names: str) -> dict[str, str]:
    return {name: name for name in names}


_TRACKING_ENTITIES: Final[Mapping[str, str]] = {
    "metric": METRIC,
    "metrics": METRIC,
    "param": PARAM,
    "params": PARAM,
    "parameter": PARAM,
    "parameters": PARAM,
    "tag": TAG,
    "tags": TAG,
    "attribute": ATTRIBUTE,
    "attributes": ATTRIBUTE,
    "attr": ATTRIBUTE,
    "run": ATTRIBUTE,
    "dataset": DATASET,
    "datasets": DATASET,
}
# MLflow's experiment and registry searches only know these three prefixes.
_REGISTRY_ENTITIES: Final[Mapping[str, str]] = {"attribute": ATTRIBUTE, "tag": TAG, "tags": TAG}

_RUN_ATTRS: Final[Mapping[str, AttributeRule]] = {
    "run_id": AttributeRule(numeric=False, in_list=True),
    "run_name": AttributeRule(numeric=False),
    "status": AttributeRule(numeric=False),
    "user_id": AttributeRule(numeric=False),
    "artifact_uri": AttributeRule(numeric=False),
    "start_time": AttributeRule(numeric=True),
    "end_time": AttributeRule(numeric=True),
}
_RUN_ALIASES: Final[Mapping[str, str]] = {"created": "start_time", "Created": "start_time"}
_RUN_NAME_ALIASES: Final[Mapping[str, str]] = {
    "run name": "run_name",
    "Run name": "run_name",
    "Run Name": "run_name",
}

_LOGGED_MODEL_ATTRS: Final[Mapping[str, AttributeRule]] = {
    "name": AttributeRule(numeric=False, in_list=True),
    "model_id": AttributeRule(numeric=False, in_list=True),
    "model_type": AttributeRule(numeric=False, in_list=True),
    "status": AttributeRule(numeric=False, in_list=True),
    "source_run_id": AttributeRule(numeric=False, in_list=True),
    "creation_timestamp": AttributeRule(numeric=True),
    "last_updated_timestamp": AttributeRule(numeric=True),
}
_LOGGED_MODEL_NAMES: Final[Mapping[str, str]] = {
    **_identity(*_LOGGED_MODEL_ATTRS),
    "creation_time": "creation_timestamp",
    "last_updated_time": "last_updated_timestamp",
}

_RULES: Final[Mapping[Kind, KindRules]] = {
    "runs": KindRules(
        entity_aliases=_TRACKING_ENTITIES,
        entity_ops={
            METRIC: NUMERIC_OPS,
            PARAM: STRING_OPS | NULL_OPS,
            TAG: STRING_OPS | NULL_OPS,
            DATASET: STRING_OPS | LIST_OPS,
        },
        attributes=_RUN_ATTRS,
        filter_attr_names={**_identity(*_RUN_ATTRS), **_RUN_ALIASES, **_RUN_NAME_ALIASES},
        order_entities=frozenset({METRIC, PARAM, TAG}),
        order_attr_names={**_identity(*_RUN_ATTRS), **_RUN_ALIASES},
        dataset_keys=frozenset({"name", "digest", "context"}),
    ),
    "experiments": KindRules(
        entity_aliases=_REGISTRY_ENTITIES,
        entity_ops={TAG: STRING_OPS | NULL_OPS},
        attributes={
            "name": AttributeRule(numeric=False),
            "experiment_id": AttributeRule(numeric=False, in_list=True),
            "creation_time": AttributeRule(numeric=True),
            "last_update_time": AttributeRule(numeric=True),
        },
        filter_attr_names=_identity("name", "experiment_id", "creation_time", "last_update_time"),
        order_entities=frozenset(),
        order_attr_names=_identity("name", "experiment_id", "creation_time", "last_update_time"),
    ),
    "registered_models": KindRules(
        entity_aliases=_REGISTRY_ENTITIES,
        entity_ops={TAG: STRING_OPS},
        attributes={"name": AttributeRule(numeric=False, in_list=True)},
        filter_attr_names=_identity("name"),
        order_entities=frozenset(),
        order_attr_names=_identity("name", "creation_timestamp", "last_updated_timestamp"),
    ),
    "model_versions": KindRules(
        entity_aliases=_REGISTRY_ENTITIES,
        entity_ops={TAG: STRING_OPS},
        attributes={
            "name": AttributeRule(numeric=False, in_list=True),
            "run_id": AttributeRule(numeric=False, in_list=True),
            "source_path": AttributeRule(numeric=False),
            "version_number": AttributeRule(numeric=True, integer=True),
        },
        filter_attr_names=_identity("name", "run_id", "source_path", "version_number"),
        order_entities=frozenset(),
        order_attr_names=_identity(
            "name", "version_number", "creation_timestamp", "last_updated_timestamp"
        ),
    ),
    "logged_models": KindRules(
        entity_aliases=_TRACKING_ENTITIES,
        entity_ops={METRIC: NUMERIC_OPS, PARAM: STRING_OPS, TAG: STRING_OPS},
        attributes=_LOGGED_MODEL_ATTRS,
        filter_attr_names=_LOGGED_MODEL_NAMES,
        order_entities=frozenset({METRIC}),
        order_attr_names=_LOGGED_MODEL_NAMES,
    ),
}


def rules_for(kind: Kind) -> KindRules:
    """The rules of a search over ``kind``."""
    if kind not in _RULES:
        # A wrong kind is a programming error in the caller, not bad user input.
        raise ValueError(f"unknown search kind {kind!r}; expected one of {KINDS}")
    return _RULES[kind]
