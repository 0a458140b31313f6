"""Parse MLflow search filters and ``order_by`` clauses into plain data.

MLflow parses filters with ``sqlparse`` and then re-validates the token soup per entity type;
what it accepts is therefore partly an accident of ``sqlparse``'s SQL lexer. This module is a
small hand-written tokenizer + recursive-descent parser for the grammar MLflow documents::

    filter     := comparison ( AND comparison )*
    comparison := identifier operator [ value ]
    identifier := [ entity "." ] key
    operator   := = | != | < | <= | > | >= | LIKE | ILIKE | IN | NOT IN | IS NULL | IS NOT NULL
    value      := number | quoted string | "(" quoted string ( "," quoted string )* [","] ")"

Which entities, keys, operators and value types are legal depends on what is being searched
(runs, experiments, registered models, model versions, logged models). The per-kind tables
below accept the union of what MLflow 2.22 and 3.x accept, and reject at parse time what MLflow
only rejects (or crashes on) when it first evaluates a row, so a bad filter fails the same way
on an empty store as on a full one.

Quoted values keep their text verbatim (``'it''s'`` means the four characters ``it''s``),
exactly as MLflow does; items of an ``IN`` list are read as Python string literals, again as
MLflow 3 does (``('it''s')`` is ``its``, ``('a\\'b')`` is ``a'b``).
"""

from __future__ import annotations

import ast
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, NoReturn, get_args

from fsregistry.exceptions import InvalidParameterValue

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


# --------------------------------------------------------------------------------------------
# Per-kind rules
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Attr:
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
class _KindSpec:
    entity_aliases: Mapping[str, str]  # spelling before the dot -> canonical entity
    entity_ops: Mapping[str, frozenset[str]]  # non-attribute entities usable in filters
    attributes: Mapping[str, _Attr]  # canonical attribute name -> rules
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

_RUN_ATTRS: Final[Mapping[str, _Attr]] = {
    "run_id": _Attr(numeric=False, in_list=True),
    "run_name": _Attr(numeric=False),
    "status": _Attr(numeric=False),
    "user_id": _Attr(numeric=False),
    "artifact_uri": _Attr(numeric=False),
    "start_time": _Attr(numeric=True),
    "end_time": _Attr(numeric=True),
}
_RUN_ALIASES: Final[Mapping[str, str]] = {"created": "start_time", "Created": "start_time"}
_RUN_NAME_ALIASES: Final[Mapping[str, str]] = {
    "run name": "run_name",
    "Run name": "run_name",
    "Run Name": "run_name",
}

_LOGGED_MODEL_ATTRS: Final[Mapping[str, _Attr]] = {
    "name": _Attr(numeric=False, in_list=True),
    "model_id": _Attr(numeric=False, in_list=True),
    "model_type": _Attr(numeric=False, in_list=True),
    "status": _Attr(numeric=False, in_list=True),
    "source_run_id": _Attr(numeric=False, in_list=True),
    "creation_timestamp": _Attr(numeric=True),
    "last_updated_timestamp": _Attr(numeric=True),
}
_LOGGED_MODEL_NAMES: Final[Mapping[str, str]] = {
    **_identity(*_LOGGED_MODEL_ATTRS),
    "creation_time": "creation_timestamp",
    "last_updated_time": "last_updated_timestamp",
}

_SPECS: Final[Mapping[Kind, _KindSpec]] = {
    "runs": _KindSpec(
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
    "experiments": _KindSpec(
        entity_aliases=_REGISTRY_ENTITIES,
        entity_ops={TAG: STRING_OPS | NULL_OPS},
        attributes={
            "name": _Attr(numeric=False),
            "experiment_id": _Attr(numeric=False, in_list=True),
            "creation_time": _Attr(numeric=True),
            "last_update_time": _Attr(numeric=True),
        },
        filter_attr_names=_identity("name", "experiment_id", "creation_time", "last_update_time"),
        order_entities=frozenset(),
        order_attr_names=_identity("name", "experiment_id", "creation_time", "last_update_time"),
    ),
    "registered_models": _KindSpec(
        entity_aliases=_REGISTRY_ENTITIES,
        entity_ops={TAG: STRING_OPS},
        attributes={"name": _Attr(numeric=False, in_list=True)},
        filter_attr_names=_identity("name"),
        order_entities=frozenset(),
        order_attr_names=_identity("name", "creation_timestamp", "last_updated_timestamp"),
    ),
    "model_versions": _KindSpec(
        entity_aliases=_REGISTRY_ENTITIES,
        entity_ops={TAG: STRING_OPS},
        attributes={
            "name": _Attr(numeric=False, in_list=True),
            "run_id": _Attr(numeric=False, in_list=True),
            "source_path": _Attr(numeric=False),
            "version_number": _Attr(numeric=True, integer=True),
        },
        filter_attr_names=_identity("name", "run_id", "source_path", "version_number"),
        order_entities=frozenset(),
        order_attr_names=_identity(
            "name", "version_number", "creation_timestamp", "last_updated_timestamp"
        ),
    ),
    "logged_models": _KindSpec(
        entity_aliases=_TRACKING_ENTITIES,
        entity_ops={METRIC: NUMERIC_OPS, PARAM: STRING_OPS, TAG: STRING_OPS},
        attributes=_LOGGED_MODEL_ATTRS,
        filter_attr_names=_LOGGED_MODEL_NAMES,
        order_entities=frozenset({METRIC}),
        order_attr_names=_LOGGED_MODEL_NAMES,
    ),
}


def _spec(kind: Kind) -> _KindSpec:
    if kind not in _SPECS:
        # A wrong kind is a programming error in the caller, not bad user input.
        raise ValueError(f"unknown search kind {kind!r}; expected one of {KINDS}")
    return _SPECS[kind]


# --------------------------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------------------------
# The grammar is context sensitive at the lexical level (``.5`` is a number after ``>`` but
# part of a key after ``metrics``; ``"x"`` is a key before the operator and a value after it),
# so the scanner matches the token class the parser expects at the current position.

_SQ = r"'(?:''|\\'|[^'])*'"
_DQ = r'"(?:""|\\"|[^"])*"'
_BT = r"`(?:``|[^`])*`"
_IDENTIFIER_RE: Final = re.compile(
    rf"(?P<head>[^\W\d]\w*|{_BT}|{_DQ})(?:\.(?P<key>{_BT}|{_DQ}|{_SQ}|\w+(?:\.\w+)*))?"
)
# Ints, decimals and exponents, optionally negative; ``1.5.5`` and ``1e5x`` are not numbers.
_NUMBER_RE: Final = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?![\w.])")
_STRING_RE: Final = re.compile(rf"{_SQ}|{_DQ}")
_SYMBOL_OP_RE: Final = re.compile(r"[<>=!]+")
_WORD_RE: Final = re.compile(r"[^\W\d]\w*")
_LPAREN_RE: Final = re.compile(r"\(")
_RPAREN_RE: Final = re.compile(r"\)")
_COMMA_RE: Final = re.compile(r",")
# Only used to show the user what we tripped over.
_ANY_TOKEN_RE: Final = re.compile(r"'[^']*'?|\"[^\"]*\"?|`[^`]*`?|[\w.+-]+|[<>=!]+|\S")
_WS_RE: Final = re.compile(r"\s*")

_RESERVED_WORDS: Final = frozenset({"AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE"})


@dataclass(frozen=True)
class _Token:
    text: str
    pos: int


class _Scanner:
    """Cursor over the input that skips whitespace and matches one token class at a time."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def _skip_ws(self) -> None:
        match = _WS_RE.match(self.text, self.pos)
        if match:
            self.pos = match.end()

    def at_end(self) -> bool:
        self._skip_ws()
        return self.pos >= len(self.text)

    def take(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        """Consume and return ``pattern`` at the cursor (after whitespace), else None."""
        self._skip_ws()
        match = pattern.match(self.text, self.pos)
        if match is None or match.end() == match.start():
            return None
        self.pos = match.end()
        return match

    def take_word(self, *words: str) -> _Token | None:
        """Consume the next word if it is one of ``words`` (case-insensitive)."""
        self._skip_ws()
        match = _WORD_RE.match(self.text, self.pos)
        if match is None or match.group().upper() not in words:
            return None
        self.pos = match.end()
        return _Token(match.group().upper(), match.start())

    def peek(self) -> _Token:
        """The next raw token, for error messages; empty text at end of input."""
        self._skip_ws()
        match = _ANY_TOKEN_RE.match(self.text, self.pos)
        return _Token(match.group() if match else "", self.pos)


# --------------------------------------------------------------------------------------------
# Parser
# --------------------------------------------------------------------------------------------


def _strip_quotes(text: str) -> str:
    """Drop one pair of surrounding quotes/backticks; the inside is kept verbatim (as MLflow)."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        return text[1:-1]
    return text


def _python_string(token: _Token, fail: _Fail) -> str:
    # MLflow 3 reads IN lists with ast.literal_eval, so items follow Python's string rules.
    with warnings.catch_warnings():
        # "\d" and friends only warn and keep the backslash; that is the behaviour we want.
        warnings.simplefilter("ignore")
        try:
            value = ast.literal_eval(token.text)
        except (SyntaxError, ValueError) as exc:
            fail(f"malformed string {token.text} in IN list at position {token.pos} ({exc})")
    if not isinstance(value, str):  # pragma: no cover - the token is always a quoted string
        fail(f"IN list item {token.text} at position {token.pos} is not a string")
    return value


class _Fail:
    """Raises InvalidParameterValue quoting the whole input plus a specific reason."""

    def __init__(self, what: str, text: str) -> None:
        self.prefix = f"Invalid {what} '{text}'"

    def __call__(self, detail: str) -> NoReturn:
        raise InvalidParameterValue(f"{self.prefix}: {detail}")


@dataclass(frozen=True)
class _Target:
    """The resolved left-hand side of a comparison or order_by clause."""

    entity: str
    key: str
    attr: _Attr | None  # set for filterable attributes


def _unexpected(scanner: _Scanner, expected: str) -> str:
    token = scanner.peek()
    if not token.text:
        return f"expected {expected} at position {token.pos}, got end of input"
    return f"unexpected token '{token.text}' at position {token.pos} (expected {expected})"


class _Parser:
    def __init__(self, text: str, kind: Kind, what: str) -> None:
        self.scanner = _Scanner(text)
        self.spec = _spec(kind)
        self.kind = kind
        self.fail = _Fail(what, text)

    # -- identifiers ---------------------------------------------------------------------

    def identifier(self) -> tuple[str | None, str, int]:
        """Return (entity spelling or None for a bare key, key, position)."""
        scanner = self.scanner
        self.reject_misplaced_syntax()
        match = scanner.take(_IDENTIFIER_RE)
        if match is None:
            self.fail(_unexpected(scanner, "an identifier such as metrics.<key>"))
        head, key = match.group("head"), match.group("key")
        if key is None and scanner.text.startswith(".", match.end()):
            self._bad_key(head, match.end() + 1)
        if key is None:
            if head.upper() in _RESERVED_WORDS:
                self.fail(f"unexpected keyword '{head}' at position {match.start()}")
            return None, _strip_quotes(head), match.start()
        if head.startswith('"'):
            self.fail(
                f"entity {head} at position {match.start()} must not be double-quoted "
                '(quote the key instead, e.g. params."my key")'
            )
        return _strip_quotes(head), _strip_quotes(key), match.start()

    def _bad_key(self, head: str, pos: int) -> NoReturn:
        text = self.scanner.text
        if text[pos : pos + 1] in ("`", '"', "'"):
            self.fail(f"unterminated quoted key after '{head}.' starting at position {pos}")
        bad = _ANY_TOKEN_RE.match(text, pos)
        if bad is None:
            self.fail(f"missing key after '{head}.' at position {pos}")
        self.fail(f"invalid key '{bad.group()}' after '{head}.' at position {pos}")

    def reject_misplaced_syntax(self) -> None:
        token = self.scanner.peek()
        upper = token.text.upper()
        if token.text == "(":
            self.fail(
                f"parentheses are only allowed around IN lists, found '(' at position {token.pos}"
            )
        if upper == "OR":
            self.fail(f"OR is not supported (only AND), found at position {token.pos}")
        if upper == "NOT":
            self.fail(f"NOT is only supported as NOT IN, found at position {token.pos}")

    def resolve(self, entity: str | None, key: str, pos: int, *, for_order: bool) -> _Target:
        spec = self.spec
        if entity is None:
            canonical = ATTRIBUTE
        else:
            found = spec.entity_aliases.get(entity)
            if found is None:
                choices = ", ".join(spec.entity_aliases)
                self.fail(
                    f"unknown entity '{entity}' at position {pos} for {self.kind} "
                    f"(expected one of: {choices})"
                )
            canonical = found
        if canonical == ATTRIBUTE:
            return self._resolve_attribute(key, pos, for_order=for_order)
        allowed = spec.order_entities if for_order else spec.entity_ops.keys()
        if canonical not in allowed:
            usage = "order_by" if for_order else "filters"
            self.fail(f"entity '{entity}' is not supported in {self.kind} {usage}")
        if canonical == DATASET and key not in spec.dataset_keys:
            choices = ", ".join(sorted(spec.dataset_keys))
            self.fail(f"unknown dataset key '{key}' at position {pos} (expected one of: {choices})")
        if not key:
            self.fail(f"empty key after '{entity}.' at position {pos}")
        return _Target(canonical, key, None)

    def _resolve_attribute(self, key: str, pos: int, *, for_order: bool) -> _Target:
        names = self.spec.order_attr_names if for_order else self.spec.filter_attr_names
        canonical = names.get(key)
        if canonical is None:
            usage = "sortable" if for_order else "searchable"
            choices = ", ".join(names)
            self.fail(
                f"unknown attribute '{key}' at position {pos}; {usage} {self.kind} attributes "
                f"are: {choices}"
            )
        return _Target(ATTRIBUTE, canonical, None if for_order else self.spec.attributes[canonical])

    # -- operators -----------------------------------------------------------------------

    def operator(self) -> tuple[str, int]:
        scanner = self.scanner
        symbol = scanner.take(_SYMBOL_OP_RE)
        if symbol is not None:
            if symbol.group() not in NUMERIC_OPS:
                self.fail(
                    f"unexpected token '{symbol.group()}' at position {symbol.start()} "
                    "(expected one of =, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL, "
                    "IS NOT NULL)"
                )
            return symbol.group(), symbol.start()
        word = scanner.take_word("LIKE", "ILIKE", "IN", "NOT", "IS")
        if word is None:
            self.fail(_unexpected(scanner, "a comparison operator"))
        if word.text == "NOT":
            if scanner.take_word("IN") is None:
                self.fail(f"NOT is only supported as NOT IN, found at position {word.pos}")
            return "NOT IN", word.pos
        if word.text == "IS":
            negated = scanner.take_word("NOT") is not None
            if scanner.take_word("NULL") is None:
                self.fail(_unexpected(scanner, "NULL after IS"))
            return ("IS NOT NULL" if negated else "IS NULL"), word.pos
        return word.text, word.pos

    # -- values --------------------------------------------------------------------------

    def number(self, what: str) -> float:
        match = self.scanner.take(_NUMBER_RE)
        if match is None:
            self.fail(self._bad_value(f"a number for {what}"))
        return float(match.group())

    def string(self, what: str) -> str:
        match = self.scanner.take(_STRING_RE)
        if match is None:
            self.fail(self._bad_value(f"a quoted string for {what}"))
        return _strip_quotes(match.group())

    def string_list(self, what: str) -> tuple[str, ...]:
        scanner = self.scanner
        opening = scanner.take(_LPAREN_RE)
        if opening is None:
            self.fail(self._bad_value(f"a parenthesised list of quoted strings for {what}"))
        if scanner.take(_RPAREN_RE) is not None:
            empty = scanner.text[opening.start() : scanner.pos]
            self.fail(f"empty IN list '{empty}' at position {opening.start()}")
        items: list[str] = []
        while True:
            item = scanner.take(_STRING_RE)
            if item is None:
                self.fail(self._bad_value(f"a quoted string in the IN list for {what}"))
            items.append(_python_string(_Token(item.group(), item.start()), self.fail))
            if scanner.take(_RPAREN_RE) is not None:
                return tuple(items)
            if scanner.take(_COMMA_RE) is None:
                self.fail(_unexpected(scanner, "',' or ')' in the IN list"))
            # A trailing comma is fine, as in MLflow 3: ('a',)
            if scanner.take(_RPAREN_RE) is not None:
                return tuple(items)

    def _bad_value(self, expected: str) -> str:
        scanner = self.scanner
        token = scanner.peek()
        if token.text[:1] in ("'", '"') and not _STRING_RE.match(scanner.text, token.pos):
            return f"unterminated string starting at position {token.pos}"
        return _unexpected(scanner, expected)


# --------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------


def parse_filter(filter_string: str | None, kind: Kind) -> list[Comparison]:
    """Parse an MLflow ``filter_string`` for a search over ``kind``.

    Returns the AND-ed comparisons in order (``[]`` for None / blank). Raises
    InvalidParameterValue naming the offending piece for anything MLflow would reject,
    including operators or keys MLflow only rejects once it evaluates a row.
    """
    if filter_string is None or not filter_string.strip():
        _spec(kind)
        return []
    parser = _Parser(filter_string, kind, "filter")
    comparisons = [_comparison(parser)]
    while not parser.scanner.at_end():
        if parser.scanner.take_word("AND") is None:
            parser.reject_misplaced_syntax()
            parser.fail(_unexpected(parser.scanner, "AND or end of filter"))
        comparisons.append(_comparison(parser))
    return comparisons


def _comparison(parser: _Parser) -> Comparison:
    entity, key, pos = parser.identifier()
    target = parser.resolve(entity, key, pos, for_order=False)
    op, op_pos = parser.operator()
    what = _describe(target)
    allowed = target.attr.ops if target.attr is not None else parser.spec.entity_ops[target.entity]
    if op not in allowed:
        parser.fail(
            f"operator '{op}' at position {op_pos} is not supported for {what} "
            f"(supported: {', '.join(_ordered(allowed))})"
        )
    value = _value(parser, target, op, what)
    return Comparison(
        target.entity, target.key, op, value, _missing_matches(parser.kind, target, op, value)
    )


def _value(
    parser: _Parser, target: _Target, op: str, what: str
) -> float | str | tuple[str, ...] | None:
    if op in NULL_OPS:
        return None
    if op in LIST_OPS:
        return parser.string_list(what)
    if target.entity == METRIC or (target.attr is not None and target.attr.numeric):
        if target.attr is not None and target.attr.integer:
            return _integer_value(parser, what)
        return parser.number(what)
    return parser.string(what)


def _integer_value(parser: _Parser, what: str) -> float:
    # MLflow applies int() to the value: 2.5 means version 2, and '3' is accepted.
    scanner = parser.scanner
    quoted = scanner.take(_STRING_RE)
    if quoted is None:
        number = parser.number(what)
        if not math.isfinite(number):
            parser.fail(f"{what} must be a finite number")
        return float(math.trunc(number))
    try:
        return float(int(_strip_quotes(quoted.group())))
    except ValueError:
        parser.fail(
            f"expected an integer for {what}, got {quoted.group()} at position {quoted.start()}"
        )


def _missing_matches(
    kind: Kind, target: _Target, op: str, value: float | str | tuple[str, ...] | None
) -> bool:
    if kind not in ("registered_models", "model_versions"):
        return False
    if target.entity != TAG or target.key != PROMPT_TAG_KEY:
        return False
    return (op == "=" and value == "false") or (op == "!=" and value == "true")


def _describe(target: _Target) -> str:
    return f"{target.entity} '{target.key}'"


_OP_ORDER: Final = (
    *("=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE"),
    *("IN", "NOT IN", "IS NULL", "IS NOT NULL"),
)


def _ordered(ops: frozenset[str]) -> list[str]:
    return [op for op in _OP_ORDER if op in ops]


# --------------------------------------------------------------------------------------------
# order_by
# --------------------------------------------------------------------------------------------


def parse_order_by(order_by: Sequence[str] | None, kind: Kind) -> list[OrderClause]:
    """Parse ``order_by`` entries (``"<identifier> [ASC|DESC]"``) for a search over ``kind``.

    Only the caller's clauses are returned; combine them with :func:`default_order` and
    :func:`tie_breakers` (or use :func:`effective_order`) to get MLflow's full ordering.
    """
    _spec(kind)
    if order_by is None:
        return []
    if isinstance(order_by, str):
        # A bare string would otherwise be iterated character by character.
        raise InvalidParameterValue(
            f"Invalid order_by '{order_by}': expected a list of strings, got a single string"
        )
    return [_order_clause(clause, kind) for clause in order_by]


def _order_clause(clause: str, kind: Kind) -> OrderClause:
    if not isinstance(clause, str):
        raise InvalidParameterValue(f"Invalid order_by clause {clause!r}: expected a string")
    parser = _Parser(clause, kind, "order_by clause")
    if parser.scanner.at_end():
        parser.fail("empty clause")
    entity, key, pos = parser.identifier()
    target = parser.resolve(entity, key, pos, for_order=True)
    direction = parser.scanner.take_word("ASC", "DESC")
    if not parser.scanner.at_end():
        expected = "end of clause" if direction else "ASC, DESC or end of clause"
        parser.fail(_unexpected(parser.scanner, expected))
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
    _spec(kind)
    return list(_DEFAULT_ORDER[kind])


def tie_breakers(kind: Kind) -> list[OrderClause]:
    """Clauses MLflow's file store appends after the caller's so the order is total.

    Appending them unconditionally is safe: a key that already appears earlier has already
    decided every pair it can decide.
    """
    _spec(kind)
    return list(_TIE_BREAKERS[kind])


def effective_order(clauses: Sequence[OrderClause], kind: Kind) -> list[OrderClause]:
    """``clauses`` (or the default order when empty) followed by the tie-breakers."""
    return [*(clauses or default_order(kind)), *tie_breakers(kind)]
