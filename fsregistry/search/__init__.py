"""MLflow-compatible search: filter grammar, matching, ordering and page tokens.

Typical use by a store::

    comparisons = parse_filter(filter_string, "runs")
    clauses = effective_order(parse_order_by(order_by, "runs"), "runs")
    hits = [run for run in runs if matches(comparisons, lookup_for(run))]
    page, next_token = paginate(sort_rows(hits, clauses, lookup_for), max_results, page_token)

Parsing is separate from evaluation so a bad filter or order_by is rejected before any file
is read.
"""

from fsregistry.search.evaluate import (
    Lookup,
    compare,
    like_regex,
    matches,
    sort_columns,
    sort_rows,
)
from fsregistry.search.filter import parse_filter
from fsregistry.search.order import default_order, effective_order, parse_order_by, tie_breakers
from fsregistry.search.paging import (
    DEFAULT_MAX_RESULTS,
    MAX_RESULTS_LIMIT,
    check_max_results,
    check_paging,
    decode_page_token,
    encode_page_token,
    paginate,
)
from fsregistry.search.terms import (
    ATTRIBUTE,
    DATASET,
    KINDS,
    LIST_OPS,
    METRIC,
    NULL_OPS,
    NUMERIC_OPS,
    PARAM,
    PROMPT_TAG_KEY,
    STRING_OPS,
    TAG,
    Comparison,
    Kind,
    OrderClause,
)

__all__ = [
    "ATTRIBUTE",
    "DATASET",
    "DEFAULT_MAX_RESULTS",
    "KINDS",
    "LIST_OPS",
    "MAX_RESULTS_LIMIT",
    "METRIC",
    "NULL_OPS",
    "NUMERIC_OPS",
    "PARAM",
    "PROMPT_TAG_KEY",
    "STRING_OPS",
    "TAG",
    "Comparison",
    "Kind",
    "Lookup",
    "OrderClause",
    "check_max_results",
    "check_paging",
    "compare",
    "decode_page_token",
    "default_order",
    "effective_order",
    "encode_page_token",
    "like_regex",
    "matches",
    "paginate",
    "parse_filter",
    "parse_order_by",
    "sort_columns",
    "sort_rows",
    "tie_breakers",
]
