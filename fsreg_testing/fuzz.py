"""Hypothesis strategies and checks for ``tests/test_fuzz.py``: hostile names, keys, values,
URIs, filter strings and paging arguments, and the contract every public call must keep.

The contract (docs/architecture.md, CONTRIBUTING.md): a call either succeeds, and what it
wrote reads back exactly, or it raises an ``MlflowException`` subclass and the store's files
are exactly as they were (none added, removed or rewritten). :func:`attempt` runs one call under that contract;
a raw exception (TypeError, OSError, a YAML error...) propagates, which fails the example.

The strategies mix hand-picked edge values (:data:`EDGE_TEXT`: path-like names, NUL and
control characters, lone surrogates, MLflow's length limits +/- 1, names of the mlruns
tree's own files, YAML syntax) with generated text, so shrinking lands on a short input.
"""

from __future__ import annotations

import base64
import decimal
import fractions
import json
import os
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import strategies as st

from fsregistry.exceptions import FsRegistryException, InvalidParameterValue
from fsregistry.storage.dir_locks import GATE_FILE, LOCK_FILE
from fsregistry.storage.local_files import LOCK_SUFFIX

T = TypeVar("T")

# -- the contract -------------------------------------------------------------------------------


def snapshot(store_fs: tuple[Any, str]) -> dict[str, object]:
    """Every file and directory under the store root, each with what changes when it is
    written: on local disk its size, inode and change times (``os.replace`` makes a new
    inode, an append or rewrite moves mtime and ctime; a lock file, its size); on S3 and GCS the size and ETag or
    generation the listing reports (one listing instead of a GET per file: a fuzz run takes
    thousands of snapshots). A file rewritten with the same bytes counts as changed too."""
    fs, root = store_fs
    if "file" in fs.protocol:
        return _local_snapshot(root)
    if not fs.exists(root):
        return {}
    out: dict[str, object] = {}
    for path, info in sorted(fs.find(root, withdirs=True, detail=True).items()):
        if info["type"] == "directory":
            out[path] = None
        else:
            version = info.get("ETag") or info.get("generation") or info.get("md5Hash")
            assert version, f"no ETag or generation listed for {path}: {info}"
            out[path] = (info["size"], version)
    return out


_DIR_HOLD_FILES = frozenset({LOCK_FILE, GATE_FILE})


def _local_snapshot(root: str) -> dict[str, object]:
    out: dict[str, object] = {}
    stack = [root]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except FileNotFoundError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                out[entry.path] = None
                stack.append(entry.path)
            elif entry.name in _DIR_HOLD_FILES:
                # A registered model directory's hold (fsregistry.storage.dir_locks): made
                # the first time the directory is held, by any registry write, before the
                # arguments it checks under the hold; empty, hidden, moving with the directory.
                continue
            elif entry.name.endswith(LOCK_SUFFIX):
                # Taking a lock opens its file with O_TRUNC, which moves its times: only
                # whether it exists (and stays empty) tells.
                out[entry.path] = entry.stat(follow_symlinks=False).st_size
            else:
                st = entry.stat(follow_symlinks=False)
                out[entry.path] = (st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns)
    return out


def diff(before: dict[str, object], after: dict[str, object]) -> list[str]:
    """Paths added, removed or changed, for the assertion message."""
    keys = sorted(set(before) | set(after))
    return [k for k in keys if before.get(k, "<absent>") != after.get(k, "<absent>")]


class Outcome:
    """What :func:`attempt` saw: the result, or the MlflowException raised."""

    def __init__(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result = result
        self.error = error

    @property
    def ok(self) -> bool:
        return self.error is None


_INDEX_PREFIXES = (".fsreg-index-", ".fsreg-registry-index-")


def is_index_cache(path: str) -> bool:
    """A run or registry index shard: a cache any read may refresh (MLflow ignores it)."""
    name = path.rsplit("/", 1)[-1].lstrip(".")
    return ("." + name).startswith(_INDEX_PREFIXES)


def attempt(store_fs: tuple[Any, str], call: Callable[[], T]) -> Outcome:
    """Run ``call``: success, or an MlflowException that left every file as it was."""
    before = snapshot(store_fs)
    try:
        result = call()
    except FsRegistryException as e:
        after = snapshot(store_fs)
        changed = diff(before, after)
        if not isinstance(e, InvalidParameterValue):
            # A lookup that ends in "not found" or "wrong state" has read the store, and
            # reading may refresh the hidden index shards (a cache MLflow ignores, which
            # never changes an answer). A refused argument must be refused before any I/O.
            changed = [p for p in changed if not is_index_cache(p)]
        assert not changed, f"rejected with {e!r} but changed {changed[:10]}"
        assert e.error_code and isinstance(e.message, str)
        return Outcome(error=e)
    return Outcome(result=result)


# -- text ---------------------------------------------------------------------------------------

EDGE_TEXT: list[str] = [
    # empty and blank
    "",
    " ",
    "  \t",
    # path-like
    ".",
    "..",
    "...",
    "./a",
    "../a",
    "../../../../etc/passwd",
    "a/..",
    "a/../b",
    "a/./b",
    "/",
    "/a",
    "a/",
    "a//b",
    "\\",
    "a\\b",
    "..\\a",
    "C:\\a",
    "C:",
    "~",
    "~/a",
    "$HOME",
    "%2F",
    "%2e%2e",
    "a%00b",
    # NUL, control and invisible characters, lone surrogates, odd unicode
    "\x00",
    "a\x00b",
    "\n",
    "a\nb",
    "a\r\nb",
    "trailing\n",
    "\r",
    "\t",
    "\x7f",
    "\x1b[31mred",
    "\u202eevil",
    "\u200b",
    "\ufeffbom",
    "\u2028",
    "\x85",
    "\ud800",
    "a\udfffb",
    "é",
    "e\u0301",
    "ﬁ",
    "日本語",
    "🙂",
    "\U0010ffff",
    # characters of MLflow's key grammar and its neighbours
    ":",
    "a:b",
    "a b",
    "a.b",
    "a-b",
    "a_b",
    "a/b",
    "a.",
    ".a",
    "a ",
    " a",
    "*",
    "?",
    '<>|"',
    "a'b",
    'a"b',
    "a`b",
    "(a)",
    "a,b",
    "a=b",
    "a;b",
    # names of the mlruns tree's own files and directories
    "meta.yaml",
    "tags",
    "params",
    "metrics",
    "artifacts",
    "inputs",
    "outputs",
    ".trash",
    "models",
    "version-1",
    "aliases",
    ".fsreg-index-00",
    ".meta.yaml.fsreg-lock",
    ".meta.yaml#fsreg-lock",
    "0",
    "1",
    "-1",
    "01",
    "1e3",
    # words with a meaning somewhere
    "nan",
    "inf",
    "None",
    "null",
    "true",
    "CON",
    "nul.txt",
    "latest",
    "LATEST",
    "v1",
    "V12",
    "champion",
    "Production",
    "staging",
    "Archived",
    "none",
    # YAML syntax (values end up in meta.yaml files)
    "- item",
    "key: value",
    "{a: b}",
    "[1, 2]",
    "!!python/object/apply:os.system ['true']",
    "&anchor",
    "*alias",
    "#comment",
    "|",
    ">",
    "---",
    "'",
    '"',
    "@",
    "a@b",
    # MLflow's limits +/- 1
    "k" * 250,
    "k" * 251,
    "n" * 255,
    "n" * 256,
    "e" * 500,
    "e" * 501,
    "p" * 6000,
    "p" * 6001,
    "t" * 8000,
    "t" * 8001,
    "x" * 20001,
    "/".join(["d"] * 60),
]


def text() -> st.SearchStrategy[str]:
    """Any string: edge values, short generated text, key-grammar-shaped text, path segments."""
    key_chars = st.sampled_from(list("ab_-. :/0é\\\x00\n\t@'\"`%"))
    segments = st.lists(
        st.sampled_from(["a", "b.c", ".", "..", "", " ", "x:y", "é", "-"]), min_size=1, max_size=5
    ).map("/".join)
    return st.one_of(
        st.sampled_from(EDGE_TEXT),
        st.text(max_size=12),
        st.text(key_chars, min_size=1, max_size=12),
        segments,
        st.text(st.characters(codec="utf-8"), min_size=1, max_size=6),
        st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2),
    )


def not_text() -> st.SearchStrategy[Any]:
    """Values of the wrong type where a string is expected."""
    huge = 10**4301  # repr() and str() refuse ints of more than 4300 digits
    return st.sampled_from(
        [None, 0, 1, -1, 1.5, True, b"bytes", b"\xff", ["a"], ("a",), {"a": 1}, huge]
    )


def name() -> st.SearchStrategy[Any]:
    """An experiment, run or registered model name, or a key: mostly text, a few non-strings."""
    return st.one_of(text(), text(), text(), not_text())


def dict_key() -> st.SearchStrategy[Any]:
    """A key of a dict the caller builds (params, tags, metrics): :func:`name`, hashable."""
    return st.one_of(text(), text(), text(), st.sampled_from([None, 0, 1.5, True, b"k", ("a",)]))


def value() -> st.SearchStrategy[Any]:
    """A param or tag value: stored as ``str(value)`` (MLflow), so any type may come."""
    import numpy as np

    return st.one_of(
        text(),
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(),
        st.sampled_from(
            [
                10**4301,  # str() refuses ints of more than 4300 digits
                b"bytes",
                b"\x00\xff",
                [1, "a"],
                {"k": "v"},
                (1,),
                np.float32(0.1),
                np.int64(-3),
                np.bool_(True),
                np.str_("np"),
                np.array([1, 2]),
                decimal.Decimal("1e-400"),
                decimal.Decimal("NaN"),
                fractions.Fraction(1, 3),
                1j,
            ]
        ),
    )


def metric_value() -> st.SearchStrategy[Any]:
    """Numbers MLflow takes and the things next to them (bools, huge ints, numpy, strings)."""
    import numpy as np

    return st.one_of(
        st.floats(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(),
        st.sampled_from(
            [
                2**1024,
                -(2**1024),
                10**400,
                True,
                False,
                None,
                "1.5",
                "nan",
                b"1",
                1j,
                decimal.Decimal("1e400"),
                decimal.Decimal("NaN"),
                decimal.Decimal("sNaN"),
                fractions.Fraction(1, 3),
                np.float16(65504),
                np.float32("nan"),
                np.float64("-inf"),
                np.int8(-128),
                np.uint64(2**64 - 1),
                np.int64(2**63 - 1),
                np.bool_(False),
                np.array(1.5),
                np.array([1.0]),
                np.longdouble("1e4000"),
            ]
        ),
    )


def integer_arg() -> st.SearchStrategy[Any]:
    """A timestamp, step or other integer argument, and its wrong-typed neighbours."""
    import numpy as np

    return st.one_of(
        st.none(),
        st.integers(),
        st.integers(min_value=-(2**64), max_value=2**64),
        st.sampled_from(
            [0, -1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 1.5, float("nan"), True, "5", "x"]
        ),
        st.sampled_from([np.int64(7), np.uint64(2**64 - 1), np.int32(-1), np.float64(2.0)]),
    )


def version() -> st.SearchStrategy[Any]:
    """A model version given by the user: int or str, valid or not."""
    return st.one_of(
        st.sampled_from(
            [1, 2, "1", "2", "01", " 1", "1 ", "1.0", "+1", "-1", 0, -1, "0", "١", "²", 10**30]
        ),
        st.sampled_from(["99", 99, 2**63, str(2**64), "latest", "v1", "", None, 1.0, True, b"1"]),
        st.integers(),
        text(),
    )


def stage() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(["None", "Staging", "Production", "Archived", "production", "STAGING"]),
        st.sampled_from(["", " ", "Prod", "none ", None, 1]),
        text(),
    )


def alias() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(
            ["champion", "a-b_c", "latest", "Latest", "v1", "V2", "v", "v1a", "a" * 256]
        ),
        st.text(st.sampled_from(list("aZ0_-vV. @/é")), min_size=0, max_size=8),
        name(),
    )


def model_uri(names: list[str], run_ids: list[str]) -> st.SearchStrategy[Any]:
    """``models:/`` and ``runs:/`` URIs built from real and hostile pieces, and garbage.

    No scheme that would reach the network (s3, gs, http) appears: the local run of the
    suite has no emulator, and nothing may leave the machine.
    """
    piece = st.one_of(st.sampled_from(names), text())
    run = st.one_of(st.sampled_from(run_ids), text())
    suffix = st.one_of(st.sampled_from(["1", "2", "latest", "Production", "None", "0"]), text())
    built = st.one_of(
        st.tuples(piece, suffix).map(lambda t: f"models:/{t[0]}/{t[1]}"),
        st.tuples(piece, alias()).map(lambda t: f"models:/{t[0]}@{t[1]}"),
        st.tuples(piece, suffix, text()).map(lambda t: f"models:/{t[0]}/{t[1]}/{t[2]}"),
        piece.map(lambda p: f"models:/{p}"),
        st.tuples(run, text()).map(lambda t: f"runs:/{t[0]}/{t[1]}"),
        st.tuples(run, st.sampled_from(["model", "", "../..", "model/../../..", "a//b"])).map(
            lambda t: f"runs:/{t[0]}/{t[1]}"
        ),
    )
    fixed = st.sampled_from(
        [
            "models:",
            "models:/",
            "models://",
            "models:/@",
            "models:/m@",
            "models:/@a",
            "models:///x/1",
            "models:/m/1/",
            "models:/m/99999999999999999999999999",
            "runs:",
            "runs:/",
            "runs://",
            "runs:/../x",
            "file:",
            "file://",
            "file:///",
            "file://remote-host/x",
            "file:///nonexistent/model",
            "memory://fuzz/model",
            "unknownproto://a/b",
            "sqlite:///x.db",
            "databricks",
            "relative/model",
            "./model",
            "../model",
            "/nonexistent/model",
            "/dev/null",
            "m-0123456789abcdef",
        ]
    )
    return st.one_of(built, fixed, text(), not_text())


# -- searches -----------------------------------------------------------------------------------

_IDENT: dict[str, list[str]] = {
    "runs": [
        "metrics.m",
        "metrics.`a b`",
        'metrics."m"',
        "params.p",
        "params.`p`",
        "tags.t",
        "tags.`mlflow.runName`",
        "attributes.status",
        "attribute.run_name",
        "run_name",
        "status",
        "start_time",
        "end_time",
        "run_id",
        "attributes.run_id",
        "artifact_uri",
        "user_id",
        "lifecycle_stage",
        "datasets.name",
        "dataset.digest",
        "datasets.context",
        "metric.m",
        "param.p",
        "tag.t",
    ],
    "experiments": [
        "name",
        "attributes.name",
        "tags.t",
        "tags.`a b`",
        "experiment_id",
        "creation_time",
        "last_update_time",
        "lifecycle_stage",
    ],
    "registered_models": [
        "name",
        "tags.t",
        "tag.`a.b`",
        "creation_timestamp",
        "last_updated_timestamp",
        "timestamp",
        "description",
    ],
    "model_versions": [
        "name",
        "version_number",
        "run_id",
        "source_path",
        "tags.t",
        "current_stage",
        "creation_timestamp",
        "last_updated_timestamp",
        "timestamp",
        "description",
    ],
}
_JUNK_IDENT = ["", "x", "metrics.", ".x", "tags.``", "unknown.x", "metrics.a.b", "`unclosed", "1x"]
_OPS = ["=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL"]
_JUNK_OPS = ["==", "<>", "=<", "like", "not in", "IS NOT NULL", "IS", "NOT", "~", ""]
_VALUES = [
    "0",
    "-1",
    "1.5",
    "1e309",
    "-1e309",
    "1e-400",
    str(2**64),
    "9" * 400,
    "nan",
    "'x'",
    "'%'",
    "'_%'",
    "'it''s'",
    "'a\\'b'",
    '"dq"',
    "'FINISHED'",
    "'READY'",
    "'1'",
    "' 1'",
    "'\x00'",
    "('a', 'b')",
    "('a',)",
    "()",
    "('1', '2')",
    "(1, 2)",
    "'unclosed",
    "(",
    "('a'",
    "",
    "NULL",
    "1.5.5",
    "--1",
    ".5",
]


def _clause(kind: str) -> st.SearchStrategy[str]:
    ident = st.one_of(st.sampled_from(_IDENT[kind]), st.sampled_from(_JUNK_IDENT), text())
    op = st.one_of(st.sampled_from(_OPS), st.sampled_from(_JUNK_OPS))
    val = st.one_of(st.sampled_from(_VALUES), text().map(lambda t: f"'{t}'"), text())
    return st.tuples(ident, op, val).map(" ".join)


def filter_string(kind: str) -> st.SearchStrategy[Any]:
    """A filter for one kind of search: clauses of real and junk pieces joined by AND/OR."""
    joiner = st.sampled_from([" AND ", " and ", " OR ", " ", " AND AND ", ", "])
    clauses = st.lists(_clause(kind), min_size=1, max_size=3)
    joined = st.tuples(clauses, joiner).map(lambda t: t[1].join(t[0]))
    return st.one_of(st.none(), st.just(""), joined, joined, text(), not_text())


def order_by(kind: str) -> st.SearchStrategy[Any]:
    ident = st.one_of(st.sampled_from(_IDENT[kind]), st.sampled_from(_JUNK_IDENT), text())
    direction = st.sampled_from(["", " ASC", " DESC", " asc", " desc", " UP", " ASC DESC"])
    clause = st.one_of(st.tuples(ident, direction).map("".join), text())
    return st.one_of(
        st.none(),
        st.lists(clause, max_size=3),
        clause,  # a bare string where a list belongs
        st.sampled_from([[None], [1], 5, ["name", "name"]]),
    )


def max_results() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.integers(min_value=-2, max_value=5),
        st.sampled_from([None, 1000, 1001, 50_000, 50_001, 200_001, 2**64, 1.0, "10", True]),
    )


def _b64(payload: object) -> str:
    return base64.b64encode(json.dumps(payload).encode()).decode()


def page_token() -> st.SearchStrategy[Any]:
    offsets: list[object] = [0, 1, 3, -1, 2**70, 1.5, 1e308, "2", "-1", "²", "١", "", None, [1]]
    return st.one_of(
        st.none(),
        st.sampled_from([_b64({"offset": o}) for o in offsets]),
        st.sampled_from([_b64([1]), _b64("x"), _b64(None), _b64({}), "e30=", "!!", "\ud800"]),
        st.sampled_from([b"eyJvZmZzZXQiOiAxfQ==", b"\xff", bytearray(b"e30="), 5, ["x"]]),
        text(),
    )


def view_type() -> st.SearchStrategy[Any]:
    return st.sampled_from(
        [1, 2, 3, 0, 4, -1, "ACTIVE_ONLY", "DELETED_ONLY", "ALL", "active_only", "all", "x", None]
    )


def run_status() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.sampled_from(["RUNNING", "FINISHED", "FAILED", "KILLED", "SCHEDULED", "finished"]),
        st.sampled_from([1, 2, 3, 4, 5, 0, 99, None, "", "DONE", True]),
        text(),
    )
