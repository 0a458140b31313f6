"""Parse an MLflow search ``filter_string`` into :class:`~fsregistry.search.terms.Comparison`
terms (:func:`parse_filter`).

A filter is comparisons joined by ``AND`` (the grammar is in :mod:`fsregistry.search.grammar`).
Each comparison's target must be one the search kind accepts (:mod:`fsregistry.search.rules`)
and its operator one that target takes. The value's type follows from the target and the
operator: none for ``IS [NOT] NULL``, a tuple of strings for ``[NOT] IN``, a number for
metrics and numeric attributes (an integer for integer ones), a quoted string otherwise.
Anything MLflow would reject is rejected here, before any row is read, including operators or
keys MLflow only rejects once it evaluates a row.

Registry searches exclude prompts by filtering on the tag ``mlflow.prompt.is_prompt``; a
registered model or version that never had it still matches ``!= 'true'`` and ``= 'false'``
(``Comparison.missing_matches``), as MLflow special-cases it.
"""

from __future__ import annotations

from typing import Final

from fsregistry.exceptions import InvalidParameterValue
from fsregistry.search.grammar import Parser, Target, expected_number, expected_string, unexpected
from fsregistry.search.rules import rules_for
from fsregistry.search.terms import (
    ATTRIBUTE,
    DATASET,
    LIST_OPS,
    METRIC,
    NULL_OPS,
    PROMPT_TAG_KEY,
    TAG,
    Comparison,
    Kind,
)


def parse_filter(filter_string: str | None, kind: Kind) -> list[Comparison]:
    """Parse an MLflow ``filter_string`` for a search over ``kind``.

    Returns the AND-ed comparisons in order (``[]`` for None / blank). Raises
    InvalidParameterValue naming the offending piece for anything MLflow would reject,
    including operators or keys MLflow only rejects once it evaluates a row.
    """
    if filter_string is not None and not isinstance(filter_string, str):
        rules_for(kind)
        raise InvalidParameterValue(
            f"Error on parsing filter '{filter_string}' (expected a string, "
            f"got {type(filter_string).__name__})"
        )
    if filter_string is None or not filter_string.strip():
        rules_for(kind)
        return []
    parser = Parser(filter_string, kind, "filter")
    comparisons = [_comparison(parser)]
    while not parser.scanner.at_end():
        if parser.scanner.take_word("AND") is None:
            parser.reject_misplaced_syntax()
            parser.fail(unexpected(parser.scanner, "AND or end of filter"))
        comparisons.append(_comparison(parser))
    return comparisons


def _comparison(parser: Parser) -> Comparison:
    entity, key, pos = parser.identifier()
    target = parser.resolve(entity, key, pos, for_order=False)
    op, op_pos = parser.operator()
    what = _describe(target)
    allowed = target.attr.ops if target.attr is not None else parser.rules.entity_ops[target.entity]
    numeric = target.entity == METRIC or (
        target.attr is not None and target.attr.numeric and not target.attr.integer
    )
    # MLflow reads a metric's or numeric attribute's value before its comparator.
    if (
        op not in allowed
        and numeric
        and op not in NULL_OPS
        and op not in LIST_OPS
        and not parser.scanner.at_end()
        and not parser.next_is_number()
    ):
        parser.fail(
            f"operator '{op}' at position {op_pos} is not supported for {what}, and "
            f"{parser.scanner.peek().text} is not a number",
            expected_number(target),
        )
    if op not in allowed and op in NULL_OPS and parser.kind == "runs":
        # MLflow 3 (SearchUtils._get_comparison) names the entity as its identifier types do.
        named = _MLFLOW_TYPE.get(target.entity, target.entity)
        parser.fail(
            f"operator '{op}' at position {op_pos} is not supported for {what} "
            f"(supported: {', '.join(_ordered(allowed))})",
            "IS NULL / IS NOT NULL is only supported for tags and params, "
            f"not for '{named}' '{target.key}'",
        )
    if op not in allowed:
        parser.fail(
            f"operator '{op}' at position {op_pos} is not supported for {what} "
            f"(supported: {', '.join(_ordered(allowed))})",
            f"Invalid comparator '{op}'",
        )
    value = _value(parser, target, op, what)
    return Comparison(
        target.entity, target.key, op, value, _missing_matches(parser.kind, target, op, value)
    )


def _value(
    parser: Parser, target: Target, op: str, what: str
) -> float | str | tuple[str, ...] | None:
    if op in NULL_OPS:
        return None
    if op in LIST_OPS:
        return parser.string_list(what)
    if target.entity == METRIC or (target.attr is not None and target.attr.numeric):
        if target.attr is not None and target.attr.integer:
            return parser.integer(what, expected_number(target))
        return parser.number(what, expected_number(target))
    return parser.string(what, expected_string(target))


def _missing_matches(
    kind: Kind, target: Target, op: str, value: float | str | tuple[str, ...] | None
) -> bool:
    if kind not in ("registered_models", "model_versions"):
        return False
    if target.entity != TAG or target.key != PROMPT_TAG_KEY:
        return False
    return (op == "=" and value == "false") or (op == "!=" and value == "true")


#: MLflow's names of the entity kinds in its filter messages (``SearchUtils``' identifiers).
_MLFLOW_TYPE: Final = {METRIC: "metric", ATTRIBUTE: "attribute", DATASET: "dataset"}


def _describe(target: Target) -> str:
    return f"{target.entity} '{target.key}'"


_OP_ORDER: Final = (
    *("=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE"),
    *("IN", "NOT IN", "IS NULL", "IS NOT NULL"),
)


def _ordered(ops: frozenset[str]) -> list[str]:
    return [op for op in _OP_ORDER if op in ops]
