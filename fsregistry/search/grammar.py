"""The grammar of MLflow search filters and ``order_by`` clauses, and the parser that reads it.

MLflow parses filters with ``sqlparse`` and then re-validates the token soup per entity type;
what it accepts is therefore partly an accident of ``sqlparse``'s SQL lexer. This is a small
hand-written tokenizer + recursive-descent parser for the grammar MLflow documents::

    filter     := comparison ( AND comparison )*
    comparison := identifier operator [ value ]
    identifier := [ entity "." ] key
    operator   := = | != | < | <= | > | >= | LIKE | ILIKE | IN | NOT IN | IS NULL | IS NOT NULL
    value      := number | quoted string | "(" quoted string ( "," quoted string )* [","] ")"
    order_by   := identifier [ ASC | DESC ]

:class:`Parser` reads one piece at a time (an identifier, resolved against the search kind's
rules in :mod:`fsregistry.search.rules`; an operator; a value of the type asked for), and every
error quotes the whole input and the position of what it tripped over. Which pieces follow
which is up to :mod:`fsregistry.search.filter` and :mod:`fsregistry.search.order`.

Quoted values keep their text verbatim (``'it''s'`` means the four characters ``it''s``),
exactly as MLflow does; items of an ``IN`` list are read as Python string literals, again as
MLflow 3 does (``('it''s')`` is ``its``, ``('a\\'b')`` is ``a'b``). Integer attributes
(a model version's number) take what MLflow's ``int()`` takes: a number, truncated, or a
quoted integer.
"""

from __future__ import annotations

import ast
import math
import re
import warnings
from dataclasses import dataclass
from typing import Final, NoReturn

from fsregistry.exceptions import InvalidParameterValue
from fsregistry.search.rules import AttributeRule, rules_for
from fsregistry.search.terms import ATTRIBUTE, DATASET, METRIC, NUMERIC_OPS, PARAM, TAG, Kind

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


def _strip_quotes(text: str) -> str:
    """Drop one pair of surrounding quotes/backticks; the inside is kept verbatim (as MLflow)."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        return text[1:-1]
    return text


def _python_string(token: _Token, fail: Fail) -> str:
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


class Fail:
    """Raises InvalidParameterValue with MLflow's text for the error (``mlflow``; by default
    its text for input it cannot parse), then the whole input and fsregistry's reason."""

    def __init__(self, what: str, text: str) -> None:
        self.prefix = f"Invalid {what} '{text}'"
        self.order_by = what != "filter"

    def __call__(self, detail: str, mlflow: str | None = None) -> NoReturn:
        if mlflow is None and self.order_by:
            raise InvalidParameterValue(f"{self.prefix}. Could not be parsed: {detail}")
        head = mlflow or "Invalid clause(s) in filter string"
        raise InvalidParameterValue(f"{head}. {self.prefix}: {detail}")


#: MLflow's word for each entity in "Expected a quoted string value for <word>".
_STRING_WORDS: dict[str, str] = {
    PARAM: "parameter",
    TAG: "tag",
    ATTRIBUTE: "attributes",
    DATASET: "dataset attributes",
}


def expected_number(target: Target) -> str:
    """MLflow's text for a non-numeric value compared with a metric or numeric attribute."""
    if target.entity == METRIC:
        return "Expected numeric value type for metric"
    return f"Expected numeric value type for numeric attribute: {target.key}"


def expected_string(target: Target) -> str:
    """MLflow's text for an unquoted value compared with a string-valued key."""
    return f"Expected a quoted string value for {_STRING_WORDS.get(target.entity, target.entity)}"


@dataclass(frozen=True)
class Target:
    """The resolved left-hand side of a comparison or order_by clause."""

    entity: str
    key: str
    attr: AttributeRule | None  # set for filterable attributes


def unexpected(scanner: _Scanner, expected: str) -> str:
    token = scanner.peek()
    if not token.text:
        return f"expected {expected} at position {token.pos}, got end of input"
    return f"unexpected token '{token.text}' at position {token.pos} (expected {expected})"


class Parser:
    """Reads the pieces of one filter or ``order_by`` clause (``text``) of a search over ``kind``;
    ``what`` names the input in error messages."""

    def __init__(self, text: str, kind: Kind, what: str) -> None:
        self.scanner = _Scanner(text)
        self.rules = rules_for(kind)
        self.kind = kind
        self.fail = Fail(what, text)

    # -- identifiers ---------------------------------------------------------------------

    def identifier(self) -> tuple[str | None, str, int]:
        """Return (entity spelling or None for a bare key, key, position)."""
        scanner = self.scanner
        self.reject_misplaced_syntax()
        match = scanner.take(_IDENTIFIER_RE)
        if match is None:
            self.fail(unexpected(scanner, "an identifier such as metrics.<key>"))
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

    def resolve(self, entity: str | None, key: str, pos: int, *, for_order: bool) -> Target:
        rules = self.rules
        if entity is None:
            canonical = ATTRIBUTE
        else:
            found = rules.entity_aliases.get(entity)
            if found is None:
                choices = ", ".join(rules.entity_aliases)
                self.fail(
                    f"unknown entity '{entity}' at position {pos} for {self.kind} "
                    f"(expected one of: {choices})",
                    f"Invalid entity type '{entity}'",
                )
            canonical = found
        if canonical == ATTRIBUTE:
            return self._resolve_attribute(key, pos, for_order=for_order)
        allowed = rules.order_entities if for_order else rules.entity_ops.keys()
        if canonical not in allowed:
            usage = "order_by" if for_order else "filters"
            self.fail(
                f"entity '{entity}' is not supported in {self.kind} {usage}",
                f"Invalid order_by entity: {canonical}"
                if for_order
                else f"Invalid entity type '{entity}'",
            )
        if canonical == DATASET and key not in rules.dataset_keys:
            choices = ", ".join(sorted(rules.dataset_keys))
            self.fail(
                f"unknown dataset key '{key}' at position {pos} (expected one of: {choices})",
                f"Invalid dataset key '{key}' specified",
            )
        if not key:
            self.fail(f"empty key after '{entity}.' at position {pos}")
        return Target(canonical, key, None)

    def _resolve_attribute(self, key: str, pos: int, *, for_order: bool) -> Target:
        names = self.rules.order_attr_names if for_order else self.rules.filter_attr_names
        canonical = names.get(key)
        if canonical is None:
            usage = "sortable" if for_order else "searchable"
            choices = ", ".join(names)
            self.fail(
                f"unknown attribute '{key}' at position {pos}; {usage} {self.kind} attributes "
                f"are: {choices}",
                f"Invalid attribute key '{key}' specified",
            )
        return Target(ATTRIBUTE, canonical, None if for_order else self.rules.attributes[canonical])

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
            self.fail(unexpected(scanner, "a comparison operator"))
        if word.text == "NOT":
            if scanner.take_word("IN") is None:
                self.fail(f"NOT is only supported as NOT IN, found at position {word.pos}")
            return "NOT IN", word.pos
        if word.text == "IS":
            negated = scanner.take_word("NOT") is not None
            if scanner.take_word("NULL") is None:
                self.fail(unexpected(scanner, "NULL after IS"))
            return ("IS NOT NULL" if negated else "IS NULL"), word.pos
        return word.text, word.pos

    # -- values --------------------------------------------------------------------------

    def next_is_number(self) -> bool:
        """Whether a number comes next (nothing is consumed)."""
        pos = self.scanner.pos
        found = self.scanner.take(_NUMBER_RE) is not None
        self.scanner.pos = pos
        return found

    def _value_missing(self, mlflow: str | None) -> str | None:
        """MLflow's head for a bad value: its clause error when the value is missing (it
        cannot split the comparison), else ``mlflow``."""
        return None if self.scanner.at_end() else mlflow

    def number(self, what: str, mlflow: str | None = None) -> float:
        match = self.scanner.take(_NUMBER_RE)
        if match is None:
            self.fail(self._bad_value(f"a number for {what}"), self._value_missing(mlflow))
        return float(match.group())

    def integer(self, what: str, mlflow: str | None = None) -> float:
        """An integer attribute's value. MLflow applies int() to it: 2.5 means version 2,
        and '3' is accepted."""
        scanner = self.scanner
        quoted = scanner.take(_STRING_RE)
        if quoted is None:
            number = self.number(what, mlflow)
            if not math.isfinite(number):
                self.fail(f"{what} must be a finite number", mlflow)
            return float(math.trunc(number))
        try:
            return float(int(_strip_quotes(quoted.group())))
        except ValueError:
            self.fail(
                f"expected an integer for {what}, got {quoted.group()} at position "
                f"{quoted.start()}",
                mlflow,
            )

    def string(self, what: str, mlflow: str | None = None) -> str:
        match = self.scanner.take(_STRING_RE)
        if match is None:
            self.fail(self._bad_value(f"a quoted string for {what}"), self._value_missing(mlflow))
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
                self.fail(unexpected(scanner, "',' or ')' in the IN list"))
            # A trailing comma is fine, as in MLflow 3: ('a',)
            if scanner.take(_RPAREN_RE) is not None:
                return tuple(items)

    def _bad_value(self, expected: str) -> str:
        scanner = self.scanner
        token = scanner.peek()
        if token.text[:1] in ("'", '"') and not _STRING_RE.match(scanner.text, token.pos):
            return f"unterminated string starting at position {token.pos}"
        return unexpected(scanner, expected)
