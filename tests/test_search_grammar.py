"""Unit tests for fsregistry.search: filter grammar, order_by, matching, sorting, page tokens.

Expected values were checked by hand against MLflow 2.22.5 and 3.x (file store); where
fsregistry deliberately differs (stricter syntax, errors at parse time instead of at first
evaluation) the test says so.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import random
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from fsregistry.exceptions import InvalidParameterValue
from fsregistry.search import (
    DEFAULT_MAX_RESULTS,
    KINDS,
    LIST_OPS,
    MAX_RESULTS_LIMIT,
    NULL_OPS,
    NUMERIC_OPS,
    STRING_OPS,
    Comparison,
    Kind,
    Lookup,
    OrderClause,
    check_max_results,
    decode_page_token,
    default_order,
    effective_order,
    encode_page_token,
    matches,
    paginate,
    parse_filter,
    parse_order_by,
    sort_rows,
    tie_breakers,
)

ALL_OPS = (
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "LIKE",
    "ILIKE",
    "IN",
    "NOT IN",
    "IS NULL",
    "IS NOT NULL",
)


def one(filter_string: str, kind: Kind = "runs") -> Comparison:
    (comparison,) = parse_filter(filter_string, kind)
    return comparison


def rejects(filter_string: str, kind: Kind = "runs", *fragments: str) -> str:
    """Assert the filter is rejected and the message quotes the filter and each fragment."""
    with pytest.raises(InvalidParameterValue) as info:
        parse_filter(filter_string, kind)
    message = str(info.value)
    # MLflow's text comes first (tests/mlflow_messages.py), then the filter and the reason.
    assert f"Invalid filter '{filter_string}': " in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert info.value.error_code == "INVALID_PARAMETER_VALUE"
    return message


def row(**values: Any) -> Lookup:
    """Lookup over ``entity.key`` names, e.g. row(**{"metric.m": 1.0})."""

    def lookup(entity: str, key: str) -> Any:
        return values.get(f"{entity}.{key}")

    return lookup


def holds(filter_string: str, lookup: Lookup, kind: Kind = "runs") -> bool:
    return matches(parse_filter(filter_string, kind), lookup)


# ============================================================================================
# parse_filter: basics
# ============================================================================================


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("blank", [None, "", " ", "\t\n  "])
def test_blank_filter_is_empty(blank: str | None, kind: Kind) -> None:
    assert parse_filter(blank, kind) == []


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown search kind 'jobs'"):
        parse_filter("name = 'x'", "jobs")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown search kind"):
        parse_order_by(["name"], "jobs")  # type: ignore[arg-type]


def test_single_comparison_fields() -> None:
    assert one("metrics.m0 > 1") == Comparison("metric", "m0", ">", 1.0)
    assert one("params.p = 'v'") == Comparison("param", "p", "=", "v")
    assert one("tags.t != 'v'") == Comparison("tag", "t", "!=", "v")
    assert one("status = 'FINISHED'") == Comparison("attribute", "status", "=", "FINISHED")
    assert one("dataset.name = 'd'") == Comparison("dataset", "name", "=", "d")


def test_comparisons_are_anded_in_order() -> None:
    assert parse_filter("metrics.m >= 1 AND params.p = 'a' AND tags.t LIKE '%x%'", "runs") == [
        Comparison("metric", "m", ">=", 1.0),
        Comparison("param", "p", "=", "a"),
        Comparison("tag", "t", "LIKE", "%x%"),
    ]


@pytest.mark.parametrize("conjunction", ["AND", "and", "And", "aNd"])
def test_and_is_case_insensitive(conjunction: str) -> None:
    parsed = parse_filter(f"params.p = 'a' {conjunction} params.q = 'b'", "runs")
    assert [c.key for c in parsed] == ["p", "q"]


def test_whitespace_is_free_around_tokens_but_optional() -> None:
    assert one("metrics.m0>1") == Comparison("metric", "m0", ">", 1.0)
    assert one("  metrics.m0\t>=\n1  ") == Comparison("metric", "m0", ">=", 1.0)
    assert len(parse_filter("params.p='a'AND params.q='b'", "runs")) == 2


def test_keywords_inside_strings_are_data() -> None:
    assert one("params.p = 'a AND b OR (c)'") == Comparison("param", "p", "=", "a AND b OR (c)")


# ============================================================================================
# parse_filter: numbers
# ============================================================================================


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("1", 1.0),
        ("0", 0.0),
        ("-1", -1.0),
        ("-0", 0.0),
        ("1.5", 1.5),
        ("-1.5", -1.5),
        ("5.", 5.0),
        (".5", 0.5),
        ("-.5", -0.5),
        ("1e5", 1e5),
        ("1E5", 1e5),
        ("1e-5", 1e-5),
        ("1e+5", 1e5),  # MLflow's sqlparse lexer rejects the explicit '+'; we accept it
        ("-1.5e3", -1500.0),
        ("1234567890123", 1234567890123.0),
    ],
)
def test_numbers(literal: str, value: float) -> None:
    assert one(f"metrics.m = {literal}").value == value
    assert one(f"start_time > {literal}").value == value


@pytest.mark.parametrize("literal", ["+5", "0x10", "1_000", "1.5.5", "1abc", "1e5x", "nan", "inf"])
def test_malformed_numbers_are_rejected(literal: str) -> None:
    message = rejects(f"metrics.m > {literal}", "runs", "expected a number for metric 'm'")
    assert literal.split(".")[0][:1] in message


def test_number_separated_from_sign_is_rejected() -> None:
    rejects("metrics.m > - 1", "runs", "unexpected token '-' at position 12")


def test_quoted_number_for_metric_is_rejected() -> None:
    rejects("metrics.m > '1'", "runs", "unexpected token ''1''", "a number for metric 'm'")


def test_numbers_for_string_targets_are_rejected() -> None:
    rejects("params.p = 1", "runs", "unexpected token '1'", "a quoted string for param 'p'")
    rejects("start_time > '5'", "runs", "unexpected token ''5''", "number for attribute")


# ============================================================================================
# parse_filter: identifiers and quoting
# ============================================================================================


@pytest.mark.parametrize(
    ("prefix", "entity"),
    [
        ("metric", "metric"),
        ("metrics", "metric"),
        ("param", "param"),
        ("params", "param"),
        ("parameter", "param"),
        ("parameters", "param"),
        ("tag", "tag"),
        ("tags", "tag"),
        ("`metrics`", "metric"),
        ("`tags`", "tag"),
    ],
)
def test_run_entity_aliases(prefix: str, entity: str) -> None:
    value = "1" if entity == "metric" else "'x'"
    assert one(f"{prefix}.k = {value}").entity == entity


@pytest.mark.parametrize("prefix", ["attribute", "attributes", "attr", "run", ""])
def test_run_attribute_prefixes(prefix: str) -> None:
    dotted = f"{prefix}." if prefix else ""
    assert one(f"{dotted}status = 'FINISHED'") == Comparison("attribute", "status", "=", "FINISHED")


@pytest.mark.parametrize("prefix", ["dataset", "datasets"])
def test_dataset_prefixes(prefix: str) -> None:
    assert one(f"{prefix}.digest = 'abc'") == Comparison("dataset", "digest", "=", "abc")


@pytest.mark.parametrize(
    ("identifier", "key"),
    [
        ("metrics.`train/acc`", "train/acc"),
        ('metrics."train/acc"', "train/acc"),
        ("metrics.'train/acc'", "train/acc"),
        ("metrics.`my metric`", "my metric"),
        ('metrics."my metric"', "my metric"),
        ("metrics.`a.b`", "a.b"),
        ("metrics.a.b.c", "a.b.c"),
        ("metrics.`a-b:c d/e`", "a-b:c d/e"),
        ("metrics._m", "_m"),
        ("metrics.0m", "0m"),
        ("metrics.été", "été"),
        ("metrics.`it's`", "it's"),
        # Doubled quote characters inside a quoted key are kept verbatim, as in MLflow.
        ("metrics.`a``b`", "a``b"),
        ('metrics."a""b"', 'a""b'),
    ],
)
def test_quoted_and_dotted_keys(identifier: str, key: str) -> None:
    assert one(f"{identifier} > 0") == Comparison("metric", key, ">", 0.0)


def test_params_and_tags_with_quoted_keys() -> None:
    assert one("params.\"my key\" = 'v'") == Comparison("param", "my key", "=", "v")
    assert one("tags.`mlflow.source.name` = 'x'") == Comparison(
        "tag", "mlflow.source.name", "=", "x"
    )
    assert one("tags.mlflow.source.name = 'x'").key == "mlflow.source.name"


def test_keys_that_look_like_keywords() -> None:
    assert one("params.and = 'a'").key == "and"
    assert one("params.in = 'a'").key == "in"
    assert one("params.select = 'a'").key == "select"


@pytest.mark.parametrize(
    ("identifier", "key"),
    [
        ("created", "start_time"),
        ("Created", "start_time"),
        ("start_time", "start_time"),
        ("attributes.created", "start_time"),
        ("end_time", "end_time"),
    ],
)
def test_numeric_run_attribute_aliases(identifier: str, key: str) -> None:
    assert one(f"{identifier} > 5") == Comparison("attribute", key, ">", 5.0)


@pytest.mark.parametrize(
    "identifier", ["run_name", "`Run name`", '"Run name"', "`run name`", "`Run Name`"]
)
def test_run_name_aliases(identifier: str) -> None:
    assert one(f"{identifier} = 'x'") == Comparison("attribute", "run_name", "=", "x")


def test_backticked_bare_attribute() -> None:
    assert one("`status` = 'x'").key == "status"
    assert one("attributes.`start_time` > 1").key == "start_time"


@pytest.mark.parametrize(
    ("filter_string", "fragments"),
    [
        ("metrics . m > 1", ["unknown attribute 'metrics'"]),
        ("metrics.m-0 > 1", ["unexpected token '-0'"]),
        ("metrics.`a b`.c > 1", ["unexpected token '.c' at position 13"]),
        ("tags.a..b = 'a'", ["unexpected token '..b'"]),
        ("tags.a. = 'a'", ["unexpected token '.'"]),
        ("params.p$ = 'a'", ["unexpected token '$'"]),
        ('"metrics".m > 1', ['entity "metrics"', "must not be double-quoted"]),
        ("metrics.`` > 1", ["empty key after 'metrics.'"]),
        ("metrics.`abc > 1", ["unterminated quoted key after 'metrics.' starting at position 8"]),
        ("metrics.-x > 1", ["invalid key '-x' after 'metrics.' at position 8"]),
        ("metrics. m > 1", ["missing key after 'metrics.' at position 8"]),
    ],
)
def test_malformed_identifiers(filter_string: str, fragments: list[str]) -> None:
    rejects(filter_string, "runs", *fragments)


# ============================================================================================
# parse_filter: string values
# ============================================================================================


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("'v'", "v"),
        ('"v"', "v"),
        ("''", ""),
        ('""', ""),
        ("'a\"b'", 'a"b'),
        ('"a\'b"', "a'b"),
        ("'%_.*'", "%_.*"),
        ("'  spaced  '", "  spaced  "),
        ("'ünïcødé'", "ünïcødé"),
        # MLflow keeps the text between the outer quotes verbatim: no unescaping.
        ("'it''s'", "it''s"),
        ("'a\\'b'", "a\\'b"),
        ('"it""s"', 'it""s'),
        ("'C:\\'", "C:\\"),
    ],
)
def test_quoted_values_are_verbatim(literal: str, value: str) -> None:
    assert one(f"params.p = {literal}").value == value


def test_unquoted_string_value_is_rejected() -> None:
    rejects("params.p = v", "runs", "unexpected token 'v' at position 11", "quoted string")
    rejects("params.p = NULL", "runs", "unexpected token 'NULL'")


def test_unterminated_string() -> None:
    rejects("params.p = 'abc", "runs", "unterminated string starting at position 11")
    rejects('tags.t = "abc', "runs", "unterminated string starting at position 9")


def test_missing_value() -> None:
    rejects("params.p =", "runs", "got end of input")
    rejects("metrics.m >", "runs", "expected a number for metric 'm'", "got end of input")


# ============================================================================================
# parse_filter: operators, per kind
# ============================================================================================

# (kind, identifier, canonical entity, canonical key, numeric?, allowed operators)
OPERATOR_MATRIX: list[tuple[Kind, str, str, str, bool, frozenset[str]]] = [
    ("runs", "metrics.m", "metric", "m", True, NUMERIC_OPS),
    ("runs", "params.p", "param", "p", False, STRING_OPS | NULL_OPS),
    ("runs", "tags.t", "tag", "t", False, STRING_OPS | NULL_OPS),
    ("runs", "run_id", "attribute", "run_id", False, STRING_OPS | LIST_OPS),
    ("runs", "run_name", "attribute", "run_name", False, STRING_OPS),
    ("runs", "status", "attribute", "status", False, STRING_OPS),
    ("runs", "user_id", "attribute", "user_id", False, STRING_OPS),
    ("runs", "artifact_uri", "attribute", "artifact_uri", False, STRING_OPS),
    ("runs", "start_time", "attribute", "start_time", True, NUMERIC_OPS),
    ("runs", "end_time", "attribute", "end_time", True, NUMERIC_OPS),
    ("runs", "dataset.name", "dataset", "name", False, STRING_OPS | LIST_OPS),
    ("runs", "dataset.digest", "dataset", "digest", False, STRING_OPS | LIST_OPS),
    ("runs", "dataset.context", "dataset", "context", False, STRING_OPS | LIST_OPS),
    ("experiments", "name", "attribute", "name", False, STRING_OPS),
    ("experiments", "experiment_id", "attribute", "experiment_id", False, STRING_OPS | LIST_OPS),
    ("experiments", "creation_time", "attribute", "creation_time", True, NUMERIC_OPS),
    ("experiments", "last_update_time", "attribute", "last_update_time", True, NUMERIC_OPS),
    ("experiments", "tags.t", "tag", "t", False, STRING_OPS | NULL_OPS),
    ("experiments", "tag.t", "tag", "t", False, STRING_OPS | NULL_OPS),
    ("registered_models", "name", "attribute", "name", False, STRING_OPS | LIST_OPS),
    ("registered_models", "tags.t", "tag", "t", False, STRING_OPS),
    ("registered_models", "tag.t", "tag", "t", False, STRING_OPS),
    ("model_versions", "name", "attribute", "name", False, STRING_OPS | LIST_OPS),
    ("model_versions", "run_id", "attribute", "run_id", False, STRING_OPS | LIST_OPS),
    ("model_versions", "source_path", "attribute", "source_path", False, STRING_OPS),
    ("model_versions", "version_number", "attribute", "version_number", True, NUMERIC_OPS),
    ("model_versions", "tags.t", "tag", "t", False, STRING_OPS),
    ("logged_models", "metrics.m", "metric", "m", True, NUMERIC_OPS),
    ("logged_models", "params.p", "param", "p", False, STRING_OPS),
    ("logged_models", "tags.t", "tag", "t", False, STRING_OPS),
    ("logged_models", "name", "attribute", "name", False, STRING_OPS | LIST_OPS),
    ("logged_models", "model_id", "attribute", "model_id", False, STRING_OPS | LIST_OPS),
    ("logged_models", "model_type", "attribute", "model_type", False, STRING_OPS | LIST_OPS),
    ("logged_models", "status", "attribute", "status", False, STRING_OPS | LIST_OPS),
    ("logged_models", "source_run_id", "attribute", "source_run_id", False, STRING_OPS | LIST_OPS),
    ("logged_models", "creation_timestamp", "attribute", "creation_timestamp", True, NUMERIC_OPS),
    (
        "logged_models",
        "last_updated_timestamp",
        "attribute",
        "last_updated_timestamp",
        True,
        NUMERIC_OPS,
    ),
]


def _operand(op: str, numeric: bool) -> tuple[str, float | str | tuple[str, ...] | None]:
    if op in NULL_OPS:
        return "", None
    if op in LIST_OPS:
        return " ('a', 'b')", ("a", "b")
    if numeric:
        return " 7", 7.0
    return " 'v%'", "v%"


@pytest.mark.parametrize(
    ("kind", "identifier", "entity", "key", "numeric", "allowed"),
    OPERATOR_MATRIX,
    ids=[f"{row[0]}:{row[1]}" for row in OPERATOR_MATRIX],
)
@pytest.mark.parametrize("op", ALL_OPS)
def test_operator_matrix(
    op: str,
    kind: Kind,
    identifier: str,
    entity: str,
    key: str,
    numeric: bool,
    allowed: frozenset[str],
) -> None:
    operand, value = _operand(op, numeric)
    filter_string = f"{identifier} {op}{operand}"
    if op in allowed:
        assert one(filter_string, kind) == Comparison(entity, key, op, value)
    else:
        rejects(filter_string, kind, f"operator '{op}'", f"{entity} '{key}'", "supported:")


@pytest.mark.parametrize(
    ("spelling", "op"),
    [
        ("like", "LIKE"),
        ("Like", "LIKE"),
        ("ilike", "ILIKE"),
        ("ILike", "ILIKE"),
        ("in", "IN"),
        ("not in", "NOT IN"),
        ("Not In", "NOT IN"),
        ("NOT   IN", "NOT IN"),
    ],
)
def test_word_operators_are_case_insensitive(spelling: str, op: str) -> None:
    operand = " ('a')" if "IN" in op else " 'a'"
    assert one(f"run_id {spelling}{operand}").op == op


@pytest.mark.parametrize(
    ("spelling", "op"),
    [
        ("IS NULL", "IS NULL"),
        ("is null", "IS NULL"),
        ("Is Null", "IS NULL"),
        ("IS NOT NULL", "IS NOT NULL"),
        ("is not null", "IS NOT NULL"),
        ("IS  NOT \t NULL", "IS NOT NULL"),  # MLflow's lexer needs single spaces here
    ],
)
def test_null_operators(spelling: str, op: str) -> None:
    assert one(f"params.p {spelling}") == Comparison("param", "p", op, None)
    assert one(f"tags.t {spelling}", "experiments") == Comparison("tag", "t", op, None)


@pytest.mark.parametrize(
    ("filter_string", "fragments"),
    [
        ("metrics.m0 >> 1", ["unexpected token '>>' at position 11"]),
        ("params.p <> 'a'", ["unexpected token '<>' at position 9"]),
        ("params.p == 'a'", ["unexpected token '=='"]),
        ("params.p =! 'a'", ["unexpected token '=!'"]),
        ("params.p NOT LIKE 'a'", ["NOT is only supported as NOT IN", "position 9"]),
        ("params.p IS 'a'", ["unexpected token ''a''", "NULL after IS"]),
        ("params.p IS NOT 'a'", ["NULL after IS"]),
        ("params.p RLIKE 'a'", ["unexpected token 'RLIKE'", "comparison operator"]),
        ("params.p 'a'", ["unexpected token ''a''", "comparison operator"]),
        ("params.p", ["got end of input", "comparison operator"]),
    ],
)
def test_bad_operators(filter_string: str, fragments: list[str]) -> None:
    rejects(filter_string, "runs", *fragments)


def test_error_message_format_matches_brief() -> None:
    with pytest.raises(InvalidParameterValue) as info:
        parse_filter("metrics.m0 >> 1", "runs")
    assert str(info.value).startswith("Invalid clause(s) in filter string. ")
    assert "Invalid filter 'metrics.m0 >> 1': unexpected token '>>' at position 11" in str(
        info.value
    )


def test_is_null_is_rejected_where_mlflow_rejects_it() -> None:
    rejects("metrics.m IS NULL", "runs", "operator 'IS NULL'", "metric 'm'")
    rejects("status IS NULL", "runs", "operator 'IS NULL'", "attribute 'status'")
    rejects("tags.t IS NULL", "registered_models", "operator 'IS NULL'")
    rejects("tags.t IS NOT NULL", "model_versions", "operator 'IS NOT NULL'")
    rejects("params.p IS NULL", "logged_models", "operator 'IS NULL'")
    rejects("name IS NULL", "experiments", "operator 'IS NULL'", "attribute 'name'")


# ============================================================================================
# parse_filter: entities and keys per kind
# ============================================================================================


@pytest.mark.parametrize(
    ("kind", "filter_string", "fragments"),
    [
        ("runs", "lol.foo = 'x'", ["unknown entity 'lol' at position 0"]),
        ("runs", "METRICS.m > 1", ["unknown entity 'METRICS'"]),
        ("runs", "foo = 'x'", ["unknown attribute 'foo' at position 0"]),
        ("runs", "experiment_id = '0'", ["unknown attribute 'experiment_id'"]),
        ("runs", "run.lifecycle_stage = 'active'", ["unknown attribute 'lifecycle_stage'"]),
        ("runs", "dataset.foo = 'x'", ["unknown dataset key 'foo'"]),
        ("experiments", "metrics.m > 1", ["unknown entity 'metrics'"]),
        ("experiments", "params.p = 'x'", ["unknown entity 'params'"]),
        ("experiments", "attributes.name = 'x'", ["unknown entity 'attributes'"]),
        ("experiments", "lifecycle_stage = 'active'", ["unknown attribute 'lifecycle_stage'"]),
        ("experiments", "artifact_location = 'x'", ["unknown attribute 'artifact_location'"]),
        ("registered_models", "run_id = 'x'", ["unknown attribute 'run_id'"]),
        ("registered_models", "creation_timestamp > 1", ["unknown attribute 'creation_timestamp'"]),
        ("registered_models", "metrics.m > 1", ["unknown entity 'metrics'"]),
        ("model_versions", "creation_timestamp > 1", ["unknown attribute 'creation_timestamp'"]),
        ("model_versions", "current_stage = 'Production'", ["unknown attribute 'current_stage'"]),
        ("model_versions", "version = 3", ["unknown attribute 'version'"]),
        ("model_versions", "params.p = 'x'", ["unknown entity 'params'"]),
        ("logged_models", "dataset.name = 'x'", ["entity 'dataset' is not supported"]),
        ("logged_models", "experiment_id = '1'", ["unknown attribute 'experiment_id'"]),
    ],
)
def test_unknown_entities_and_keys(kind: Kind, filter_string: str, fragments: list[str]) -> None:
    rejects(filter_string, kind, *fragments)


def test_attribute_prefix_for_registry_kinds() -> None:
    assert one("attribute.name = 'x'", "experiments").key == "name"
    assert one("attribute.name = 'x'", "registered_models").key == "name"
    assert one("attribute.version_number = 3", "model_versions").key == "version_number"
    assert one("`name` = 'x'", "registered_models").key == "name"


def test_logged_model_timestamp_aliases() -> None:
    assert one("creation_time > 1", "logged_models").key == "creation_timestamp"
    assert one("last_updated_time > 1", "logged_models").key == "last_updated_timestamp"
    assert one("metric.m > 1", "logged_models").entity == "metric"


def test_version_number_follows_mlflow_int_conversion() -> None:
    assert one("version_number = 3", "model_versions").value == 3.0
    assert one("version_number = '3'", "model_versions").value == 3.0
    assert one("version_number = 2.7", "model_versions").value == 2.0
    assert one("version_number > -1.5", "model_versions").value == -1.0
    rejects("version_number = 'abc'", "model_versions", "expected an integer", "'abc'")
    rejects("version_number = '2.5'", "model_versions", "expected an integer", "'2.5'")


def test_numeric_values_for_string_attributes_are_rejected() -> None:
    rejects("name = 3", "model_versions", "unexpected token '3'", "quoted string")
    rejects("name = 3", "registered_models", "unexpected token '3'")


# ============================================================================================
# parse_filter: IN lists
# ============================================================================================


@pytest.mark.parametrize(
    ("literal", "items"),
    [
        ("('a')", ("a",)),
        ("('a', 'b')", ("a", "b")),
        ("('a','b','c')", ("a", "b", "c")),
        ("( 'a' , 'b' )", ("a", "b")),
        ("('a',)", ("a",)),
        ('("a", "b")', ("a", "b")),
        ("('a', \"b\")", ("a", "b")),
        # IN items are Python string literals in MLflow 3 (ast.literal_eval).
        ("('it''s')", ("its",)),
        ("('a\\'b')", ("a'b",)),
        ("('a\\nb')", ("a\nb",)),
        ("('A1', '123')", ("A1", "123")),
    ],
)
def test_in_lists(literal: str, items: tuple[str, ...]) -> None:
    assert one(f"run_id IN {literal}") == Comparison("attribute", "run_id", "IN", items)
    assert one(f"run_id NOT IN {literal}").value == items


@pytest.mark.parametrize(
    ("filter_string", "fragments"),
    [
        ("run_id IN ()", ["empty IN list '()' at position 10"]),
        ("run_id IN (  )", ["empty IN list '(  )'"]),
        ("run_id IN (1, 2)", ["unexpected token '1'", "quoted string in the IN list"]),
        ("run_id IN ('a', 2)", ["unexpected token '2'"]),
        ("run_id IN 'a'", ["unexpected token ''a''", "parenthesised list"]),
        ("run_id IN ('a' 'b')", ["unexpected token ''b'' at position 15", "',' or ')'"]),
        ("run_id IN ('a'", ["got end of input", "',' or ')'"]),
        ("run_id IN ('a',,'b')", ["unexpected token ','"]),
        ("run_id IN ('\\N')", ["malformed string", "'\\N'"]),
        ("status IN ('FINISHED')", ["operator 'IN'", "attribute 'status'"]),
        ("params.p IN ('a')", ["operator 'IN'", "param 'p'"]),
        ("end_time IN ('1')", ["operator 'IN'", "attribute 'end_time'"]),
        ("source_path IN ('a')", ["operator 'IN'"]),
    ],
)
def test_bad_in_lists(filter_string: str, fragments: list[str]) -> None:
    kind: Kind = "model_versions" if filter_string.startswith("source_path") else "runs"
    rejects(filter_string, kind, *fragments)


# ============================================================================================
# parse_filter: structural errors
# ============================================================================================


@pytest.mark.parametrize(
    ("filter_string", "fragments"),
    [
        ("params.p = 'a' OR params.q = 'b'", ["OR is not supported", "position 15"]),
        ("OR params.q = 'b'", ["OR is not supported", "position 0"]),
        ("params.p = 'a' AND OR", ["OR is not supported", "position 19"]),
        ("(params.p = 'a')", ["parentheses are only allowed around IN lists", "position 0"]),
        ("params.p = 'a' AND (params.q = 'b')", ["parentheses", "position 19"]),
        ("params.p = ('a')", ["unexpected token '('", "quoted string"]),
        ("NOT params.p = 'a'", ["NOT is only supported as NOT IN", "position 0"]),
        ("params.p = 'a' AND NOT params.q = 'b'", ["NOT is only supported as NOT IN"]),
        # MLflow silently accepts the next four; fsregistry requires exactly one AND between terms
        ("params.p = 'a' params.q = 'b'", ["unexpected token 'params.q' at position 15"]),
        ("params.p = 'a' AND", ["got end of input", "position 18"]),
        ("AND params.p = 'a'", ["unexpected keyword 'AND' at position 0"]),
        ("params.p = 'a' AND AND params.q = 'b'", ["unexpected keyword 'AND' at position 19"]),
        ("params.p = 'a';", ["unexpected token ';' at position 14"]),
        ("params.p = 'a'; params.q = 'b'", ["unexpected token ';'"]),
        ("params.p = 'a' garbage", ["unexpected token 'garbage' at position 15"]),
        ("metrics.m > 1 )", ["unexpected token ')'"]),
        ("> 1", ["unexpected token '>' at position 0", "identifier"]),
        ("'x' = 'x'", ["unexpected token ''x''", "identifier"]),
    ],
)
def test_structural_errors(filter_string: str, fragments: list[str]) -> None:
    rejects(filter_string, "runs", *fragments)


# ============================================================================================
# parse_filter: MLflow's prompt-tag special case
# ============================================================================================


@pytest.mark.parametrize("kind", ["registered_models", "model_versions"])
def test_prompt_tag_filters_match_models_without_the_tag(kind: Kind) -> None:
    untagged = row()
    assert holds("tags.`mlflow.prompt.is_prompt` != 'true'", untagged, kind)
    assert holds("tag.`mlflow.prompt.is_prompt` = 'false'", untagged, kind)
    assert not holds("tags.`mlflow.prompt.is_prompt` = 'true'", untagged, kind)
    assert not holds("tags.`mlflow.prompt.is_prompt` LIKE 'f%'", untagged, kind)
    prompt = row(**{"tag.mlflow.prompt.is_prompt": "true"})
    assert not holds("tags.`mlflow.prompt.is_prompt` != 'true'", prompt, kind)
    assert holds("tags.`mlflow.prompt.is_prompt` = 'true'", prompt, kind)


def test_prompt_tag_special_case_is_registry_only() -> None:
    assert not holds("tags.`mlflow.prompt.is_prompt` != 'true'", row(), "runs")
    assert not holds("tags.other != 'true'", row(), "registered_models")


# ============================================================================================
# matches
# ============================================================================================


def test_empty_filter_matches_everything() -> None:
    assert matches([], row())


@pytest.mark.parametrize(
    ("op", "expected"),
    [("=", False), ("!=", True), ("<", True), ("<=", True), (">", False), (">=", False)],
)
def test_metric_comparisons(op: str, expected: bool) -> None:
    assert holds(f"metrics.m {op} 2", row(**{"metric.m": 1.5})) is expected


def test_metric_equality_and_ints() -> None:
    assert holds("metrics.m = 1", row(**{"metric.m": 1}))
    assert holds("metrics.m = 1.0", row(**{"metric.m": 1.0}))
    assert holds("metrics.m >= -1e3", row(**{"metric.m": -1000.0}))


@pytest.mark.parametrize("op", sorted(NUMERIC_OPS))
def test_nan_metric_follows_python_float_semantics(op: str) -> None:
    # MLflow applies operator.<op>(nan, value): only != is true.
    assert holds(f"metrics.m {op} 0", row(**{"metric.m": math.nan})) is (op == "!=")


def test_infinite_metrics() -> None:
    assert holds("metrics.m > 1e300", row(**{"metric.m": math.inf}))
    assert holds("metrics.m < -1e300", row(**{"metric.m": -math.inf}))


@pytest.mark.parametrize(
    "filter_string",
    [
        "metrics.m = 1",
        "metrics.m != 1",
        "metrics.m < 1",
        "params.p = 'a'",
        "params.p != 'a'",
        "params.p LIKE '%'",
        "params.p ILIKE '%'",
        "tags.t != ''",
        "run_id IN ('a')",
        "run_id NOT IN ('a')",
        "end_time != 5",
        "params.p IS NOT NULL",
    ],
)
def test_missing_values_fail_every_comparison(filter_string: str) -> None:
    assert not holds(filter_string, row())


def test_is_null() -> None:
    assert holds("params.p IS NULL", row())
    assert not holds("params.p IS NULL", row(**{"param.p": ""}))
    assert holds("tags.t IS NOT NULL", row(**{"tag.t": ""}))
    assert holds("tags.t IS NULL", row(), "experiments")


@pytest.mark.parametrize(
    ("pattern", "value", "like", "ilike"),
    [
        ("abc", "abc", True, True),
        ("abc", "ABC", False, True),
        ("abc", "abcd", False, False),
        ("abc", "xabc", False, False),
        ("a%", "abc", True, True),
        ("A%", "abc", False, True),
        ("%c", "abc", True, True),
        ("%b%", "abc", True, True),
        ("%", "", True, True),
        ("", "", True, True),
        ("", "a", False, False),
        ("a_c", "abc", True, True),
        ("a_c", "ac", False, False),
        ("a__", "abc", True, True),
        ("a%%c", "ac", True, True),
        ("_", "é", True, True),
        # Regex metacharacters are literal.
        ("a.c", "abc", False, False),
        ("a.c", "a.c", True, True),
        ("a*", "aaa", False, False),
        ("a*", "a*", True, True),
        ("a+b", "a+b", True, True),
        ("a?", "a?", True, True),
        ("[ab]", "a", False, False),
        ("[ab]", "[ab]", True, True),
        ("(x|y)", "x", False, False),
        ("(x|y)", "(x|y)", True, True),
        ("^a$", "^a$", True, True),
        ("a\\%", "a\\xyz", True, True),  # no escape character: '\' is literal, '%' a wildcard
        ("{1}", "{1}", True, True),
        # '%' and '_' also match newlines, as in SQL.
        ("%y", "x\ny", True, True),
        ("x_y", "x\ny", True, True),
        ("abc", "abc\n", False, False),
    ],
)
def test_like_and_ilike(pattern: str, value: str, like: bool, ilike: bool) -> None:
    lookup = row(**{"param.p": value})
    literal = "'" + pattern + "'"
    assert holds(f"params.p LIKE {literal}", lookup) is like
    assert holds(f"params.p ILIKE {literal}", lookup) is ilike


def test_string_equality_is_case_sensitive() -> None:
    assert holds("status = 'FINISHED'", row(**{"attribute.status": "FINISHED"}))
    assert not holds("status = 'finished'", row(**{"attribute.status": "FINISHED"}))
    assert holds("status != 'RUNNING'", row(**{"attribute.status": "FINISHED"}))


def test_in_and_not_in() -> None:
    lookup = row(**{"attribute.run_id": "r2"})
    assert holds("run_id IN ('r1', 'r2')", lookup)
    assert not holds("run_id IN ('r1', 'R2')", lookup)
    assert holds("run_id NOT IN ('r1', 'r3')", lookup)
    assert not holds("run_id NOT IN ('r2')", lookup)


def test_numeric_attributes() -> None:
    lookup = row(**{"attribute.start_time": 1700000000123, "attribute.end_time": None})
    assert holds("start_time = 1700000000123", lookup)
    assert holds("created > 1700000000000", lookup)
    assert not holds("end_time > 0", lookup)
    assert not holds("end_time != 0", lookup)


def test_values_read_as_other_types_are_coerced() -> None:
    # An experiment id parsed from YAML as an int still compares as text ...
    assert holds("experiment_id = '7'", row(**{"attribute.experiment_id": 7}), "experiments")
    assert holds("experiment_id IN ('7')", row(**{"attribute.experiment_id": 7}), "experiments")
    # ... and a numeric value stored as text still compares as a number.
    assert holds("metrics.m > 1", row(**{"metric.m": "2.5"}))
    assert not holds("metrics.m > 1", row(**{"metric.m": "not a number"}))


def test_unusable_values_do_not_match() -> None:
    assert not holds("metrics.m > 1", row(**{"metric.m": object()}))
    assert not holds("metrics.m != 1", row(**{"metric.m": [2.0]}))


def test_huge_numbers() -> None:
    assert one("metrics.m < 1e999").value == math.inf
    rejects("version_number = 1e999", "model_versions", "must be a finite number")


def test_version_number_truncation_end_to_end() -> None:
    assert holds("version_number = 2.9", row(**{"attribute.version_number": 2}), "model_versions")


def test_all_comparisons_must_hold() -> None:
    lookup = row(**{"metric.m": 1.0, "param.p": "a"})
    assert holds("metrics.m = 1 AND params.p = 'a'", lookup)
    assert not holds("metrics.m = 1 AND params.p = 'b'", lookup)
    assert not holds("metrics.m = 2 AND params.p = 'a'", lookup)


DATASETS = [
    {"name": "train", "digest": "d1", "context": "training"},
    {"name": "eval", "digest": "d2", "context": None},
]


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("dataset.name = 'train'", True),
        ("dataset.name = 'eval'", True),
        ("dataset.name = 'test'", False),
        ("dataset.name != 'train'", True),  # 'eval' differs: ANY input may match
        ("dataset.digest IN ('d2', 'd3')", True),
        ("dataset.digest NOT IN ('d1', 'd2')", False),
        ("dataset.name LIKE 'tr%'", True),
        ("dataset.name ILIKE 'EVAL'", True),
        ("dataset.context = 'training'", True),
        # Inputs without a context are skipped, so only 'training' is compared.
        ("dataset.context != 'training'", False),
        ("dataset.context IN ('eval')", False),
        ("dataset.context NOT IN ('x')", True),
        ("dataset.name = 'train' AND dataset.digest = 'd2'", True),  # per-term ANY
    ],
)
def test_dataset_comparisons(filter_string: str, expected: bool) -> None:
    assert (
        holds(
            filter_string,
            row(
                **{
                    "dataset.name": DATASETS,
                    "dataset.digest": DATASETS,
                    "dataset.context": DATASETS,
                }
            ),
        )
        is expected
    )


def test_dataset_comparisons_without_inputs() -> None:
    assert not holds("dataset.name != 'x'", row(**{"dataset.name": []}))
    assert not holds("dataset.name NOT IN ('x')", row(**{"dataset.name": None}))


# ============================================================================================
# parse_order_by
# ============================================================================================


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("metrics.m", OrderClause("metric", "m", True)),
        ("metrics.m ASC", OrderClause("metric", "m", True)),
        ("metrics.m DESC", OrderClause("metric", "m", False)),
        ("metrics.m desc", OrderClause("metric", "m", False)),
        ("metrics.m Asc", OrderClause("metric", "m", True)),
        ("metrics.m   DESC", OrderClause("metric", "m", False)),
        ("metrics.m\tDESC", OrderClause("metric", "m", False)),
        ("metrics.`a b` DESC", OrderClause("metric", "a b", False)),
        ('metrics."a b" ASC', OrderClause("metric", "a b", True)),
        ("metrics.'train/acc'", OrderClause("metric", "train/acc", True)),
        ("params.p", OrderClause("param", "p", True)),
        ("parameter.p DESC", OrderClause("param", "p", False)),
        ("tags.`mlflow.runName` DESC", OrderClause("tag", "mlflow.runName", False)),
        ("tags.mlflow.runName", OrderClause("tag", "mlflow.runName", True)),
        ("start_time", OrderClause("attribute", "start_time", True)),
        ("created DESC", OrderClause("attribute", "start_time", False)),
        ("Created", OrderClause("attribute", "start_time", True)),
        ("attribute.run_name DESC", OrderClause("attribute", "run_name", False)),
        ("attributes.status", OrderClause("attribute", "status", True)),
        ("run.end_time", OrderClause("attribute", "end_time", True)),
        ("run_id DESC", OrderClause("attribute", "run_id", False)),
        ("user_id", OrderClause("attribute", "user_id", True)),
        ("artifact_uri", OrderClause("attribute", "artifact_uri", True)),
    ],
)
def test_order_by_runs(clause: str, expected: OrderClause) -> None:
    assert parse_order_by([clause], "runs") == [expected]


@pytest.mark.parametrize(
    ("kind", "clause", "expected"),
    [
        ("experiments", "name", OrderClause("attribute", "name", True)),
        ("experiments", "experiment_id DESC", OrderClause("attribute", "experiment_id", False)),
        ("experiments", "creation_time DESC", OrderClause("attribute", "creation_time", False)),
        (
            "experiments",
            "attribute.last_update_time",
            OrderClause("attribute", "last_update_time", True),
        ),
        ("registered_models", "name DESC", OrderClause("attribute", "name", False)),
        (
            "registered_models",
            "creation_timestamp",
            OrderClause("attribute", "creation_timestamp", True),
        ),
        (
            "registered_models",
            "last_updated_timestamp DESC",
            OrderClause("attribute", "last_updated_timestamp", False),
        ),
        (
            "model_versions",
            "version_number DESC",
            OrderClause("attribute", "version_number", False),
        ),
        ("model_versions", "name", OrderClause("attribute", "name", True)),
        ("logged_models", "metrics.acc DESC", OrderClause("metric", "acc", False)),
        ("logged_models", "creation_time", OrderClause("attribute", "creation_timestamp", True)),
        ("logged_models", "model_id", OrderClause("attribute", "model_id", True)),
    ],
)
def test_order_by_other_kinds(kind: Kind, clause: str, expected: OrderClause) -> None:
    assert parse_order_by([clause], kind) == [expected]


def test_order_by_keeps_clause_order() -> None:
    assert parse_order_by(["metrics.a DESC", "params.b"], "runs") == [
        OrderClause("metric", "a", False),
        OrderClause("param", "b", True),
    ]
    assert parse_order_by(None, "runs") == []
    assert parse_order_by([], "runs") == []


@pytest.mark.parametrize(
    ("kind", "clause", "fragments"),
    [
        ("runs", "metrics.m DOWN", ["unexpected token 'DOWN' at position 10"]),
        ("runs", "metrics.m DESC extra", ["unexpected token 'extra'"]),
        ("runs", "metrics.m DESC NULLS LAST", ["unexpected token 'NULLS'"]),
        ("runs", "metrics.m, params.p", ["unexpected token ','"]),
        ("runs", "", ["empty clause"]),
        ("runs", "   ", ["empty clause"]),
        # MLflow cannot parse a clause with whitespace around it ("Could not be parsed").
        ("runs", "  metrics.m   DESC  ", ["Could not be parsed: leading whitespace"]),
        ("runs", "params.my_param ", ["Could not be parsed: trailing whitespace"]),
        ("runs", "metrics.m DESC\n", ["trailing whitespace"]),
        ("experiments", " name", ["leading whitespace"]),
        ("registered_models", "name ", ["trailing whitespace"]),
        ("registered_models", "creation_timestamp\t", ["trailing whitespace"]),
        ("model_versions", "version_number DESC ", ["trailing whitespace"]),
        ("runs", "DESC", ["unknown attribute 'DESC'"]),
        ("runs", "`Run name`", ["unknown attribute 'Run name'"]),
        ("runs", "experiment_id", ["unknown attribute 'experiment_id'"]),
        ("runs", "dataset.name", ["entity 'dataset' is not supported in runs order_by"]),
        ("runs", "bogus.x", ["unknown entity 'bogus'"]),
        ("experiments", "tags.t", ["entity 'tags' is not supported in experiments order_by"]),
        ("experiments", "start_time", ["unknown attribute 'start_time'"]),
        ("registered_models", "timestamp", ["unknown attribute 'timestamp'"]),
        ("registered_models", "tag.t DESC", ["entity 'tag' is not supported"]),
        ("model_versions", "version", ["unknown attribute 'version'"]),
        ("model_versions", "run_id", ["unknown attribute 'run_id'"]),
        ("logged_models", "params.p", ["entity 'params' is not supported"]),
        ("logged_models", "experiment_id", ["unknown attribute 'experiment_id'"]),
    ],
)
def test_bad_order_by(kind: Kind, clause: str, fragments: list[str]) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        parse_order_by([clause], kind)
    message = str(info.value)
    assert f"Invalid order_by clause '{clause}'" in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_order_by_must_be_a_list_of_strings() -> None:
    with pytest.raises(InvalidParameterValue, match="single string"):
        parse_order_by("metrics.m", "runs")
    with pytest.raises(InvalidParameterValue, match="expected a string"):
        parse_order_by([1], "runs")  # type: ignore[list-item]


def _attr(key: str, ascending: bool) -> OrderClause:
    return OrderClause("attribute", key, ascending)


@pytest.mark.parametrize(
    ("kind", "default", "ties"),
    [
        (
            "runs",
            [_attr("start_time", False), _attr("run_id", True)],
            [_attr("start_time", False), _attr("run_id", True)],
        ),
        (
            "experiments",
            [_attr("creation_time", False), _attr("experiment_id", True)],
            [_attr("experiment_id", False)],
        ),
        ("registered_models", [_attr("name", True)], [_attr("name", True)]),
        (
            "model_versions",
            [
                _attr("last_updated_timestamp", False),
                _attr("name", True),
                _attr("version_number", False),
            ],
            [_attr("name", True), _attr("version_number", False)],
        ),
        (
            "logged_models",
            [_attr("creation_timestamp", False), _attr("model_id", True)],
            [_attr("creation_timestamp", False), _attr("model_id", True)],
        ),
    ],
)
def test_default_order_and_tie_breakers(
    kind: Kind, default: list[OrderClause], ties: list[OrderClause]
) -> None:
    assert default_order(kind) == default
    assert tie_breakers(kind) == ties
    assert effective_order([], kind) == default + ties
    mine = [_attr("name", False)]
    assert effective_order(mine, kind) == mine + ties


def test_default_order_returns_fresh_lists() -> None:
    default_order("runs").clear()
    assert default_order("runs")


# ============================================================================================
# sort_rows
# ============================================================================================


def _lookup_for(item: Mapping[str, Any]) -> Lookup:
    return lambda entity, key: item.get(f"{entity}.{key}")


def _sorted_ids(rows: Sequence[Mapping[str, Any]], clauses: Sequence[OrderClause]) -> list[Any]:
    return [item["id"] for item in sort_rows(rows, clauses, _lookup_for)]


METRIC_ROWS: list[dict[str, Any]] = [
    {"id": "none1", "metric.m": None},
    {"id": "two", "metric.m": 2.0},
    {"id": "nan", "metric.m": math.nan},
    {"id": "neg", "metric.m": -1.0},
    {"id": "none2"},
    {"id": "inf", "metric.m": math.inf},
    {"id": "int2", "metric.m": 2},
]


def test_numbers_ascending_with_nan_and_none_last() -> None:
    clauses = [OrderClause("metric", "m", True)]
    assert _sorted_ids(METRIC_ROWS, clauses) == [
        "neg",
        "two",
        "int2",
        "inf",
        "nan",
        "none1",
        "none2",
    ]


def test_numbers_descending_with_nan_and_none_still_last() -> None:
    clauses = [OrderClause("metric", "m", False)]
    assert _sorted_ids(METRIC_ROWS, clauses) == [
        "inf",
        "two",
        "int2",
        "neg",
        "nan",
        "none1",
        "none2",
    ]


def test_equal_numbers_keep_their_order_in_either_direction() -> None:
    """Zero and negative zero are equal; infinities are ordinary numbers (descending keys are
    negated numbers, so these are the edge cases)."""
    values = [0.0, -0.0, -math.inf, 0, math.inf, -0.0]
    rows = [{"id": i, "metric.m": v} for i, v in enumerate(values)]
    assert _sorted_ids(rows, [OrderClause("metric", "m", True)]) == [2, 0, 1, 3, 5, 4]
    assert _sorted_ids(rows, [OrderClause("metric", "m", False)]) == [4, 0, 1, 3, 5, 2]


def test_strings_sort_as_strings() -> None:
    rows = [{"id": i, "param.p": v} for i, v in enumerate(["9", "10", "b", "B", None, "a"])]
    assert _sorted_ids(rows, [OrderClause("param", "p", True)]) == [1, 0, 3, 5, 2, 4]
    assert _sorted_ids(rows, [OrderClause("param", "p", False)]) == [2, 5, 3, 0, 1, 4]


def test_mixed_types_do_not_raise() -> None:
    rows: list[dict[str, Any]] = [
        {"id": 0, "tag.t": "x"},
        {"id": 1, "tag.t": 3},
        {"id": 2, "tag.t": None},
    ]
    assert _sorted_ids(rows, [OrderClause("tag", "t", True)]) == [1, 0, 2]
    assert _sorted_ids(rows, [OrderClause("tag", "t", False)]) == [0, 1, 2]


def test_earlier_clauses_take_precedence_and_sort_is_stable() -> None:
    rows = [
        {"id": 0, "param.a": "x", "metric.b": 1.0},
        {"id": 1, "param.a": "y", "metric.b": 5.0},
        {"id": 2, "param.a": "x", "metric.b": 3.0},
        {"id": 3, "param.a": "y", "metric.b": 5.0},
        {"id": 4, "param.a": "x", "metric.b": 3.0},
    ]
    clauses = [OrderClause("param", "a", False), OrderClause("metric", "b", False)]
    assert _sorted_ids(rows, clauses) == [1, 3, 2, 4, 0]
    assert _sorted_ids(rows, []) == [0, 1, 2, 3, 4]


def test_run_tie_breakers_match_mlflow_base_order() -> None:
    rows = [
        {"id": "c", "attribute.run_id": "c", "attribute.start_time": 1, "metric.m": 1.0},
        {"id": "a", "attribute.run_id": "a", "attribute.start_time": 1, "metric.m": 1.0},
        {"id": "b", "attribute.run_id": "b", "attribute.start_time": 2, "metric.m": 1.0},
        {"id": "d", "attribute.run_id": "d", "attribute.start_time": 3, "metric.m": 0.0},
    ]
    clauses = effective_order(parse_order_by(["metrics.m DESC"], "runs"), "runs")
    assert _sorted_ids(rows, clauses) == ["b", "a", "c", "d"]
    assert _sorted_ids(rows, effective_order([], "runs")) == ["d", "b", "a", "c"]


def test_experiment_tie_breaker_is_experiment_id_descending_as_text() -> None:
    rows = [
        {"id": eid, "attribute.experiment_id": eid, "attribute.creation_time": 5}
        for eid in ["9", "10", "2"]
    ]
    clauses = effective_order(parse_order_by(["creation_time"], "experiments"), "experiments")
    assert _sorted_ids(rows, clauses) == ["9", "2", "10"]
    # The default order names experiment_id ASC explicitly.
    assert _sorted_ids(rows, effective_order([], "experiments")) == ["10", "2", "9"]


def test_model_version_default_order() -> None:
    rows = [
        {
            "id": ("b", 1),
            "attribute.name": "b",
            "attribute.version_number": 1,
            "attribute.last_updated_timestamp": 10,
        },
        {
            "id": ("a", 1),
            "attribute.name": "a",
            "attribute.version_number": 1,
            "attribute.last_updated_timestamp": 10,
        },
        {
            "id": ("a", 2),
            "attribute.name": "a",
            "attribute.version_number": 2,
            "attribute.last_updated_timestamp": 10,
        },
        {
            "id": ("c", 1),
            "attribute.name": "c",
            "attribute.version_number": 1,
            "attribute.last_updated_timestamp": 20,
        },
    ]
    order = effective_order([], "model_versions")
    assert _sorted_ids(rows, order) == [("c", 1), ("a", 2), ("a", 1), ("b", 1)]
    by_name = effective_order(parse_order_by(["name DESC"], "model_versions"), "model_versions")
    assert _sorted_ids(rows, by_name) == [("c", 1), ("b", 1), ("a", 2), ("a", 1)]


def _mlflow_style_successive_sort(
    rows: Sequence[Mapping[str, Any]], clauses: Sequence[OrderClause]
) -> list[Any]:
    """Reference: how MLflow's file store sorts runs (stable passes, last clause first)."""

    def pass_key(item: Mapping[str, Any], clause: OrderClause) -> tuple[bool, Any]:
        value = item.get(f"{clause.entity}.{clause.key}")
        missing = value is None
        nan = isinstance(value, float) and math.isnan(value)
        fill = math.inf if clause.ascending else -math.inf
        if missing:
            value = fill
        elif nan:
            value = -fill
        flag = missing or nan
        return (flag, value) if clause.ascending else (not flag, value)

    ordered = list(rows)
    for clause in reversed(clauses):
        ordered.sort(key=functools.partial(pass_key, clause=clause), reverse=not clause.ascending)
    return [item["id"] for item in ordered]


@pytest.mark.parametrize("seed", range(20))
def test_composite_sort_equals_successive_stable_passes(seed: int) -> None:
    rng = random.Random(seed)
    values = [None, math.nan, -1.0, 0.0, 1.0, 1.0, 2.5, math.inf, -math.inf]
    rows = [
        {"id": i, "metric.a": rng.choice(values), "metric.b": rng.choice(values)} for i in range(40)
    ]
    for _ in range(5):
        clauses = [
            OrderClause("metric", rng.choice("ab"), rng.random() < 0.5)
            for _ in range(rng.randint(1, 3))
        ]
        assert _sorted_ids(rows, clauses) == _mlflow_style_successive_sort(rows, clauses)


# ============================================================================================
# page tokens and paginate
# ============================================================================================


def test_token_is_mlflows_encoding() -> None:
    # Spec §4.2: the file store hands out b'eyJvZmZzZXQiOiAxfQ==' for offset 1.
    assert encode_page_token(1) == "eyJvZmZzZXQiOiAxfQ=="
    assert json.loads(base64.b64decode(encode_page_token(250))) == {"offset": 250}


@pytest.mark.parametrize("offset", [0, 1, 99, 12345, 10**12])
def test_token_round_trip(offset: int) -> None:
    token = encode_page_token(offset)
    assert isinstance(token, str)
    assert decode_page_token(token) == offset
    assert decode_page_token(token.encode("ascii")) == offset


def test_mlflow_bytes_token_is_accepted() -> None:
    assert decode_page_token(b"eyJvZmZzZXQiOiAxfQ==") == 1


@pytest.mark.parametrize("empty", [None, "", b""])
def test_empty_token_is_first_page(empty: str | bytes | None) -> None:
    assert decode_page_token(empty) == 0


def test_token_extras_and_string_offsets() -> None:
    extra = base64.b64encode(b'{"offset": 3, "experiment_ids": ["1"]}').decode()
    assert decode_page_token(extra) == 3
    assert decode_page_token(base64.b64encode(b'{"offset": "7"}')) == 7


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("not a token!", "not valid base64"),
        ("abc", "not valid base64"),
        ("ünï", "not valid base64"),
        (_b64(b"not json"), "not base64-encoded JSON"),
        (_b64(b"\xff\xfe"), "not base64-encoded JSON"),
        (_b64(b"[1, 2]"), "non-negative 'offset'"),
        (_b64(b'{"page": 1}'), "non-negative 'offset'"),
        (_b64(b'{"offset": -1}'), "non-negative 'offset'"),
        (_b64(b'{"offset": true}'), "non-negative 'offset'"),
        (_b64(b'{"offset": 1.5}'), "non-negative 'offset'"),
        (_b64(b'{"offset": "x"}'), "non-negative 'offset'"),
        (_b64(b'{"offset": null}'), "non-negative 'offset'"),
    ],
)
def test_bad_tokens_name_the_token(token: str, reason: str) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        decode_page_token(token)
    assert str(info.value).startswith("Invalid page token, ")  # MLflow's text
    assert f"(token {token!r}: " in str(info.value)
    assert reason in str(info.value)
    with pytest.raises(InvalidParameterValue, match=r"Invalid page token, .*\(token b'"):
        decode_page_token(token.encode("utf-8"))


def test_long_bad_tokens_are_truncated_in_messages() -> None:
    with pytest.raises(InvalidParameterValue) as info:
        decode_page_token("!" * 1000)
    assert len(str(info.value)) < 300


def test_encode_rejects_negative_offsets() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        encode_page_token(-1)


def test_paginate_walks_every_row_once() -> None:
    rows = list(range(23))
    seen: list[int] = []
    token: str | None = None
    pages = 0
    while True:
        page, token = paginate(rows, 5, token)
        seen.extend(page)
        pages += 1
        if token is None:
            break
    assert seen == rows
    assert pages == 5


def test_paginate_edges() -> None:
    assert paginate([], 10, None) == ([], None)
    assert paginate([1, 2], 2, None) == ([1, 2], None)
    assert paginate([1, 2, 3], 2, None) == ([1, 2], encode_page_token(2))
    assert paginate([1, 2, 3], 2, b"eyJvZmZzZXQiOiAxfQ==") == ([2, 3], None)
    assert paginate([1, 2, 3], 2, encode_page_token(10)) == ([], None)
    assert paginate((1, 2, 3), 1, None) == ([1], encode_page_token(1))


@pytest.mark.parametrize("bad", [0, -1])
def test_paginate_rejects_non_positive_page_sizes(bad: int) -> None:
    with pytest.raises(InvalidParameterValue, match=f"Invalid value {bad} for parameter"):
        paginate([1], bad, None)


@pytest.mark.parametrize(
    ("kind", "limit"),
    [
        ("runs", 50_000),
        ("experiments", 50_000),
        ("registered_models", 1000),
        ("model_versions", 200_000),
    ],
)
def test_max_results_limits(kind: Kind, limit: int) -> None:
    check_max_results(1, kind)
    check_max_results(limit, kind)
    with pytest.raises(InvalidParameterValue) as info:
        check_max_results(limit + 1, kind)
    # MLflow's texts: "Invalid value N for parameter 'max_results' supplied. It must be at most
    # L" (experiments), "... It must be at most L, but got value N" (the others)
    assert re.search(
        rf"Invalid value (for request parameter max_results.*)?{limit + 1}\b", str(info.value)
    )
    assert f"at most {limit}" in str(info.value)
    assert MAX_RESULTS_LIMIT[kind] == limit


def test_max_results_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown search kind 'jobs'"):
        check_max_results(10, "jobs")  # type: ignore[arg-type]


def test_logged_models_have_no_upper_limit() -> None:
    check_max_results(10**9, "logged_models")
    assert MAX_RESULTS_LIMIT["logged_models"] is None


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bad", [0, -5, True, 2.0, "10", None])
def test_max_results_must_be_a_positive_int(kind: Kind, bad: object) -> None:
    with pytest.raises(InvalidParameterValue) as info:
        check_max_results(bad, kind)
    assert str(info.value).startswith("Invalid value ")  # MLflow's texts differ per kind
    assert repr(bad) in str(info.value)


def test_default_max_results() -> None:
    assert DEFAULT_MAX_RESULTS == {
        "runs": 1000,
        "experiments": 1000,
        "registered_models": 100,
        "model_versions": 10_000,
        "logged_models": 100,
    }
    for kind in KINDS:
        check_max_results(DEFAULT_MAX_RESULTS[kind], kind)
