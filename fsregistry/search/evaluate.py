"""Evaluate parsed filters against rows and sort rows the way MLflow's file store does.

Rows are opaque: callers hand in a *lookup* ``(entity, key) -> value`` per row, so the same
code serves runs, experiments, registered models, model versions and logged models.
Keys are the canonical ones produced by :mod:`fsregistry.search.filter` and
:mod:`fsregistry.search.order` (``start_time`` for ``created``, ``version_number`` for a model
version's version, ``source_path`` for its source, ...). For entity ``"dataset"`` the lookup returns a list of dicts with keys ``name``,
``digest`` and ``context`` (one per dataset input; ``context`` may be None).
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any, Final, TypeAlias, TypeVar

from fsregistry.search.terms import DATASET, Comparison, OrderClause

Lookup: TypeAlias = Callable[[str, str], Any]
T = TypeVar("T")

_NUMERIC_COMPARATORS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "=": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


# --------------------------------------------------------------------------------------------
# Matching
# --------------------------------------------------------------------------------------------


def matches(comparisons: Sequence[Comparison], lookup: Lookup) -> bool:
    """True when every comparison holds for the row behind ``lookup`` (an empty filter matches).

    A missing value (lookup returns None) fails every comparison, ``!=`` and ``NOT IN``
    included, except ``IS NULL`` (and MLflow's prompt-tag special case, see
    ``Comparison.missing_matches``).
    """
    return all(_holds(comparison, lookup) for comparison in comparisons)


def _holds(comparison: Comparison, lookup: Lookup) -> bool:
    if comparison.entity == DATASET:
        return _any_dataset_holds(comparison, lookup(DATASET, comparison.key))
    actual = lookup(comparison.entity, comparison.key)
    if comparison.op == "IS NULL":
        return actual is None
    if comparison.op == "IS NOT NULL":
        return actual is not None
    if actual is None:
        return comparison.missing_matches
    return compare(actual, comparison.op, comparison.value)


def _any_dataset_holds(comparison: Comparison, datasets: Any) -> bool:
    # A run matches when at least one of its dataset inputs does; inputs without the key
    # (e.g. no context tag) are skipped, as in MLflow.
    for dataset in datasets or ():
        value = dataset.get(comparison.key)
        if value is not None and compare(value, comparison.op, comparison.value):
            return True
    return False


def compare(actual: Any, op: str, expected: float | str | tuple[str, ...] | None) -> bool:
    """Apply one operator to a present value; the parser guarantees ``expected`` fits ``op``."""
    if op in ("IN", "NOT IN"):
        assert isinstance(expected, tuple)
        found = _as_text(actual) in expected
        return found if op == "IN" else not found
    if op in ("LIKE", "ILIKE"):
        assert isinstance(expected, str)
        return like_regex(expected, op == "ILIKE").fullmatch(_as_text(actual)) is not None
    if isinstance(expected, float):
        number = _as_number(actual)
        # NaN follows Python float semantics, like MLflow: only != holds.
        return number is not None and _NUMERIC_COMPARATORS[op](number, expected)
    assert isinstance(expected, str)
    return _NUMERIC_COMPARATORS[op](_as_text(actual), expected)


def _as_text(value: Any) -> str:
    # Values come from YAML/text files; an id read back as an int still compares as text.
    return value if isinstance(value, str) else str(value)


def _as_number(value: Any) -> float | None:
    if isinstance(value, numbers.Real):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


@functools.lru_cache(maxsize=256)
def like_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """Compile a SQL LIKE pattern: ``%`` is any run of characters, ``_`` exactly one.

    Everything else is literal (no escape character, as in MLflow). Matching is anchored at
    both ends and ``%``/``_`` also match newlines, as SQL's LIKE does.
    """
    parts = [".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern]
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(parts), flags)


# --------------------------------------------------------------------------------------------
# Sorting
# --------------------------------------------------------------------------------------------

# Buckets put real values first, then NaN, then missing values, whatever the direction.
_REAL, _NAN, _MISSING = 0, 1, 2
# Within real values numbers sort before strings, so mixed columns cannot raise TypeError.
_NUMBER_RANK, _TEXT_RANK = 0, 1


class _Descending:
    """Wraps a sort key so that ``sorted`` orders it in reverse while staying stable."""

    __slots__ = ("key",)

    def __init__(self, key: tuple[int, Any]) -> None:
        self.key = key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Descending) and self.key == other.key

    def __lt__(self, other: _Descending) -> bool:
        return other.key < self.key

    __hash__ = None  # type: ignore[assignment]


def _clause_key(value: Any, ascending: bool) -> tuple[Any, ...]:
    if value is None:
        return (_MISSING,)
    # The exact-type tests spare the common case the slow ABC check (one per row and clause).
    if type(value) is float or type(value) is int or isinstance(value, numbers.Real):
        number = float(value)
        if math.isnan(number):
            return (_NAN,)
        if ascending:
            return (_REAL, _NUMBER_RANK, number)
        # Descending: the ranks swap (text first) and the number is negated, so numeric keys
        # compare in C; a _Descending wrapper is a Python call per comparison, n log n of them
        # (most of a 20,000-run top-10 search).
        return (_REAL, _TEXT_RANK, -number)
    text = _as_text(value)
    if ascending:
        return (_REAL, _TEXT_RANK, text)
    return (_REAL, _NUMBER_RANK, _Descending((_TEXT_RANK, text)))


def sort_rows(
    rows: Sequence[T], clauses: Sequence[OrderClause], lookup_for: Callable[[T], Lookup]
) -> list[T]:
    """Stable sort of ``rows`` by ``clauses`` (earlier clauses take precedence).

    Missing (None) and NaN values sort last in either direction, NaN before None. Rows equal
    on every clause keep their input order. This gives the same order as MLflow's file store,
    which sorts runs by successive stable passes and other entities by a composite key.
    """

    # One flat key per row, the clauses' keys one after another: the same order as a tuple
    # of them, since each clause key starts with its bucket and keys of one bucket have one
    # length; a third of the memory (sorting 100,000 runs holds 100,000 keys at once).
    def row_key(row: T) -> tuple[Any, ...]:
        lookup = lookup_for(row)
        key: list[Any] = []
        for clause in clauses:
            key += _clause_key(lookup(clause.entity, clause.key), clause.ascending)
        return tuple(key)

    return sorted(rows, key=row_key)


Column: TypeAlias = Callable[[OrderClause, Sequence[T]], Sequence[Any]]
"""``column(clause, rows)``: the value each of ``rows`` has for the clause's key, in order."""


def sort_columns(rows: Sequence[T], clauses: Sequence[OrderClause], column: Column[T]) -> list[T]:
    """:func:`sort_rows` with the values asked for a clause at a time (``column``) rather
    than a row at a time: the same order, for callers whose rows keep their values in
    columns (a run search's thousands of candidates: one lookup call per row and clause
    cost more than the sort)."""
    # A key that appears again decides nothing its first clause left undecided.
    first: dict[tuple[str, str], OrderClause] = {}
    for clause in clauses:
        first.setdefault((clause.entity, clause.key), clause)
    deciding = list(first.values())
    if not deciding:
        return list(rows)
    # Flat keys, as in sort_rows, made a clause at a time: one clause's keys and the keys so
    # far are all that is held at once.
    keys = _column_keys(column(deciding[0], rows), deciding[0].ascending)
    for c in deciding[1:]:
        more = _column_keys(column(c, rows), c.ascending)
        keys = [a + b for a, b in zip(keys, more, strict=True)]
        del more
    return [rows[j] for j in sorted(range(len(rows)), key=keys.__getitem__)]


def _column_keys(values: Sequence[Any], ascending: bool) -> list[tuple[Any, ...]]:
    """``_clause_key`` of each value, the common case (a float that is no NaN) inline."""
    rank, sign = (_NUMBER_RANK, 1.0) if ascending else (_TEXT_RANK, -1.0)
    return [
        (_REAL, rank, v * sign) if type(v) is float and v == v else _clause_key(v, ascending)
        for v in values
    ]
