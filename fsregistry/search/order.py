"""Parse ``order_by`` clauses into :class:`~fsregistry.search.terms.OrderClause` terms, and
the orders MLflow's file store adds to them.

A clause is ``<identifier> [ASC|DESC]`` (ascending by default), with no whitespace before or
after it (MLflow refuses ``"params.p "``); its target must be one the search kind can sort on
(:mod:`fsregistry.search.rules`). The caller's clauses come first;
without any, the kind's default order applies (:func:`default_order`). Tie-breakers
(:func:`tie_breakers`) are always appended so the order is total, as MLflow's file store does;
:func:`effective_order` puts the three together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from fsregistry.exceptions import InvalidParameterValue
from fsregistry.search.grammar import Parser, unexpected
from fsregistry.search.rules import rules_for
from fsregistry.search.terms import ATTRIBUTE, Kind, OrderClause


def parse_order_by(order_by: Sequence[str] | None, kind: Kind) -> list[OrderClause]:
    """Parse ``order_by`` entries (``"<identifier> [ASC|DESC]"``) for a search over ``kind``.

    Only the caller's clauses are returned; combine them with :func:`default_order` and
    :func:`tie_breakers` (or use :func:`effective_order`) to get MLflow's full ordering.
    """
    rules_for(kind)
    if order_by is None:
        return []
    if isinstance(order_by, str):
        # A bare string would otherwise be iterated character by character.
        raise InvalidParameterValue(
            f"Invalid order_by '{order_by}': expected a list of strings, got a single string"
        )
    if isinstance(order_by, bytes | Mapping) or not isinstance(order_by, Iterable):
        raise InvalidParameterValue(
            f"Invalid order_by {order_by!r}: expected a list of strings, "
            f"got {type(order_by).__name__}"
        )
    return [_order_clause(clause, kind) for clause in order_by]


def _order_clause(clause: str, kind: Kind) -> OrderClause:
    if not isinstance(clause, str):
        raise InvalidParameterValue(f"Invalid order_by clause {clause!r}: expected a string")
    parser = Parser(clause, kind, "order_by clause")
    if parser.scanner.at_end():
        parser.fail("empty clause")
    if clause != clause.strip():
        # MLflow's parser (sqlparse) reads the clause as one identifier only when nothing
        # surrounds it: it refuses any clause with leading or trailing whitespace.
        end = "leading" if clause[:1].isspace() else "trailing"
        parser.fail(f"{end} whitespace (MLflow refuses it)")
    entity, key, pos = parser.identifier()
    target = parser.resolve(entity, key, pos, for_order=True)
    direction = parser.scanner.take_word("ASC", "DESC")
    if not parser.scanner.at_end():
        expected = "end of clause" if direction else "ASC, DESC or end of clause"
        parser.fail(unexpected(parser.scanner, expected))
    ascending = direction is None or direction.text == "ASC"
    return OrderClause(target.entity, target.key, ascending)


def _asc(key: str, entity: str = ATTRIBUTE) -> OrderClause:
    return OrderClause(entity, key, True)


def _desc(key: str, entity: str = ATTRIBUTE) -> OrderClause:
    return OrderClause(entity, key, False)


_DEFAULT_ORDER: Final[Mapping[Kind, tuple[OrderClause, ...]]] = {
    "runs": (_desc("start_time"), _asc("run_id")),
    "experiments": (_desc("creation_time"), _asc("experiment_id")),
    "registered_models": (_asc("name"),),
    "model_versions": (_desc("last_updated_timestamp"), _asc("name"), _desc("version_number")),
    "logged_models": (_desc("creation_timestamp"), _asc("model_id")),
}

_TIE_BREAKERS: Final[Mapping[Kind, tuple[OrderClause, ...]]] = {
    # The file store sorts runs by this base order first and then stably by each clause.
    "runs": (_desc("start_time"), _asc("run_id")),
    # Yes, descending: MLflow appends ("experiment_id", ascending=False) (a string sort).
    "experiments": (_desc("experiment_id"),),
    "registered_models": (_asc("name"),),
    "model_versions": (_asc("name"), _desc("version_number")),
    "logged_models": (_desc("creation_timestamp"), _asc("model_id")),
}


def default_order(kind: Kind) -> list[OrderClause]:
    """The complete order MLflow's file store uses for ``kind`` when no order_by is given."""
    rules_for(kind)
    return list(_DEFAULT_ORDER[kind])


def tie_breakers(kind: Kind) -> list[OrderClause]:
    """Clauses MLflow's file store appends after the caller's so the order is total.

    Appending them unconditionally is safe: a key that already appears earlier has already
    decided every pair it can decide.
    """
    rules_for(kind)
    return list(_TIE_BREAKERS[kind])


def effective_order(clauses: Sequence[OrderClause], kind: Kind) -> list[OrderClause]:
    """``clauses`` (or the default order when empty) followed by the tie-breakers."""
    return [*(clauses or default_order(kind)), *tie_breakers(kind)]
