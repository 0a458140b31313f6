"""What a run search works on before it returns runs: rows of decoded files, and the files
that decide whether and where a run appears in the answer.

A search filters and sorts every run of its experiments but returns only a page of them, so
it decides on summaries checked against a few files per run and builds :class:`Run` objects
(checking all their files) only for the page.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from fsregistry.exceptions import InvalidParameterValue
from fsregistry.mlruns import layout
from fsregistry.search.terms import ATTRIBUTE, DATASET, METRIC, PARAM, TAG, Comparison, OrderClause
from fsregistry.storage import check_path
from fsregistry.tracking.records import RUN_NAME_TAG, Lookup, RunFiles
from fsregistry.tracking.run_index import Tokens

_KIND_DIRS = {METRIC: "metrics", PARAM: "params", TAG: "tags"}


@dataclass(slots=True)
class SearchRow:
    """One run of the page a search returns.

    ``unchecked`` holds the summary's tokens when only the files a search needs were checked
    against it; the run's other files are compared with them before it is returned. None when
    every file was listed in this search; ``""`` when the run is to be read again.
    """

    exp_dir: str
    run_id: str
    files: RunFiles
    unchecked: Tokens | str | None


@dataclass(slots=True)
class Candidates:
    """Every run a search filters and sorts, column by column, a run being an index.

    Columns rather than an object per run: a search keeps tens of thousands of runs alive
    while it filters and sorts them, and that many new tracked objects set off a full
    garbage collection (of every cached summary too) in each search. Sort keys and indices
    are plain values the collector does not track.
    """

    exp_dirs: list[str] = field(default_factory=list)
    run_ids: list[str] = field(default_factory=list)
    files: list[RunFiles] = field(default_factory=list)
    unchecked: list[Tokens | str | None] = field(default_factory=list)
    # The lookup of the run built from a candidate's files, for the keys only a built run
    # answers (``records.files_value``), made once per search.
    built: dict[int, Lookup] = field(default_factory=dict)

    def add(
        self, exp_dir: str, run_id: str, files: RunFiles, unchecked: Tokens | str | None
    ) -> None:
        self.exp_dirs.append(exp_dir)
        self.run_ids.append(run_id)
        self.files.append(files)
        self.unchecked.append(unchecked)

    def __len__(self) -> int:
        return len(self.run_ids)

    def row(self, i: int) -> SearchRow:
        return SearchRow(self.exp_dirs[i], self.run_ids[i], self.files[i], self.unchecked[i])


@dataclass(slots=True)
class _Answer:
    candidates: Candidates
    order: Sequence[int]


class Answers:
    """The filtered, sorted order of a process's recent searches, each reused by a search
    whose candidates are exactly the same runs with the same decoded files.

    Paging through 20,000 runs by 1,000 is twenty searches: each checks every run again (the
    files decide what a page holds), but sorting the same runs twenty times would cost more
    than checking them. Nothing here is trusted on its own: the candidates of each search are
    checked as usual and compared with the ones the order was made from, and an order that
    needed a built run (datasets, artifact URIs) is not kept, since those have other sources.
    A few queries only: each keeps its candidates' decoded files alive until it is replaced.
    """

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._held: dict[Hashable, _Answer] = {}
        self._lock = threading.Lock()  # a store may search from several threads

    def get(self, query: Hashable, found: Candidates) -> Sequence[int] | None:
        """The order kept for ``query`` if it was made from the same candidates as ``found``."""
        with self._lock:
            held = self._held.get(query)
        if held is None:
            return None
        old = held.candidates
        # Lists compare item by identity first, so an unchanged run costs no deep comparison.
        if old.run_ids != found.run_ids or old.files != found.files:
            return None
        if old.exp_dirs != found.exp_dirs:
            return None
        return held.order

    def put(self, query: Hashable, found: Candidates, order: Sequence[int]) -> None:
        if found.built:
            return
        with self._lock:
            self._held.pop(query, None)
            if len(self._held) >= self._size:
                del self._held[next(iter(self._held))]
            self._held[query] = _Answer(found, order)


@dataclass(slots=True)
class Kept:
    """A search's filtered, sorted result kept for its next pages."""

    query: Hashable
    candidates: Candidates
    order: Sequence[int]


class Cursors:
    """Sorted results kept for the next pages of a search, by the id its page tokens carry
    (``paging.encode_cursor_token``).

    Paging 100,000 runs by 1,000 is a hundred calls: each checking every run and sorting
    again would make paging cost the square of the store. A next page instead takes its rows
    from the kept order and checks only them (their files, and the filter again), so it costs
    what its page holds. The answer is a cursor over the runs as the first page found them:
    every run is returned once, with its current files; a run that no longer matches the
    filter is left out of its page; runs made after the first page are not in it (a new
    search sees them). A few results only, the oldest dropped first; a token whose result is
    gone (another process, or dropped) pages by its offset through a fresh search.
    """

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._held: dict[str, Kept] = {}
        self._lock = threading.Lock()  # a store may search from several threads

    def keep(self, query: Hashable, found: Candidates, order: Sequence[int]) -> str:
        """Keep a result; the id its page tokens carry."""
        cursor = secrets.token_hex(8)
        with self._lock:
            while len(self._held) >= self._size:
                del self._held[next(iter(self._held))]
            self._held[cursor] = Kept(query, found, order)
        return cursor

    def get(self, cursor: str | None, query: Hashable) -> Kept | None:
        """The result kept as ``cursor`` if it was kept for this same query."""
        if cursor is None:
            return None
        with self._lock:
            held = self._held.get(cursor)
        return held if held is not None and held.query == query else None

    def __len__(self) -> int:
        return len(self._held)


def files_needed(
    comparisons: Sequence[Comparison], clauses: Sequence[OrderClause]
) -> tuple[str, ...] | None:
    """Run-relative paths of the files that decide whether and where a run is in the answer of
    a search with these filter terms and order clauses; None when they cannot be named (a
    dataset filter reads the run's inputs and the experiment's datasets).

    ``meta.yaml`` always decides (lifecycle stage, default order). A key that is not a
    canonical relative path names no file a listing could report, so its value is None in
    every run whatever is on disk, and no file needs checking for it.
    """
    needed = {layout.META: None}
    terms: list[Comparison | OrderClause] = [*comparisons, *clauses]
    for term in terms:
        if term.entity == DATASET:
            return None
        if term.entity == ATTRIBUTE:
            if term.key == "run_name":
                needed[f"tags/{RUN_NAME_TAG}"] = None
            continue
        folder = _KIND_DIRS.get(term.entity)
        if folder is not None and _is_canonical(term.key):
            needed[f"{folder}/{term.key}"] = None
    return tuple(needed)


def _is_canonical(key: str) -> bool:
    try:
        return check_path(key) == key
    except InvalidParameterValue:
        return False


__all__ = ["Answers", "Candidates", "Cursors", "Kept", "SearchRow", "files_needed"]
