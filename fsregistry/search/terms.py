"""The parsed form of MLflow search filters and ``order_by`` clauses: what parsing
(:mod:`fsregistry.search.filter`, :mod:`fsregistry.search.order`) produces and evaluation
(:mod:`fsregistry.search.evaluate`) consumes.

A filter is a list of AND-ed :class:`Comparison` terms and an ordering a list of
:class:`OrderClause` terms, both naming canonical entities (``metric``, ``param``, ``tag``,
``attribute``, ``dataset``, whatever the user spelled) and canonical keys (``start_time`` for
``created``, ...). The five kinds of search are :data:`KINDS`; the operator sets name which
operators take a number, a string, a list or no value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

Kind = Literal["runs", "experiments", "registered_models", "model_versions", "logged_models"]
KINDS: Final[tuple[Kind, ...]] = get_args(Kind)

# Canonical entity names used in Comparison / OrderClause.
METRIC: Final = "metric"
PARAM: Final = "param"
TAG: Final = "tag"
ATTRIBUTE: Final = "attribute"
DATASET: Final = "dataset"

NUMERIC_OPS: Final = frozenset({"=", "!=", "<", "<=", ">", ">="})
STRING_OPS: Final = frozenset({"=", "!=", "LIKE", "ILIKE"})
LIST_OPS: Final = frozenset({"IN", "NOT IN"})
NULL_OPS: Final = frozenset({"IS NULL", "IS NOT NULL"})

# Registry searches exclude prompts by filtering on this tag; models that never had it must
# still match ``!= 'true'`` / ``= 'false'`` (MLflow special-cases it the same way).
PROMPT_TAG_KEY: Final = "mlflow.prompt.is_prompt"


@dataclass(frozen=True)
class Comparison:
    """One ``<entity>.<key> <op> <value>`` term of a filter, validated and canonicalised.

    ``value`` is a float for numeric comparisons, the verbatim string for string ones, a tuple
    for ``IN`` / ``NOT IN`` and ``None`` for ``IS [NOT] NULL``. ``missing_matches`` says what
    the comparison yields when the entity has no such key; it is only ever true for MLflow's
    prompt-tag special case on registered models and model versions.
    """

    entity: str
    key: str
    op: str
    value: float | str | tuple[str, ...] | None
    missing_matches: bool = False


@dataclass(frozen=True)
class OrderClause:
    """One ``order_by`` term: sort on ``entity``/``key``, ascending unless ``ascending`` is False."""

    entity: str
    key: str
    ascending: bool
