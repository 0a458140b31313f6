"""Registry searches (``search_registered_models``, ``search_model_versions``): filter and sort
on the decoded files, build entities only for the page, and page from a kept sorted result.

A first page reads the registry as it is now (:class:`~fsregistry.registry.reading
.RegistryFiles`: one listing, decoded files from the registry index at their listed tokens),
then filters and sorts *rows* (a model's or version's decoded meta.yaml and tags, looked up
the way the entity would answer) and builds :class:`RegisteredModel` / :class:`ModelVersion`
entities for the rows of the page alone: a registered model's latest versions' tags, for
instance, are read only for the models shown. A filter that tests model names (``name LIKE
'team-a-%'``) is first tried on the names of the model directories, and only the models that
pass are read when they are few (:meth:`RegistrySearch._named`).

Repeated searches: the sorted order of a process's recent queries is kept with the rows it
was made from (:class:`Answers`) and reused by a search whose fresh rows are the same (the
index hands out the same decoded objects while the files keep their tokens, so the
comparison is mostly by identity): a repeated search lists and compares, it does not sort.

Held answers (local disk, :mod:`fsregistry.registry.watching`): a search also keeps what it
read and the entities it built (:class:`Held`) with a change-feed stamp taken before it read
anything; while the kernel reports no change under ``models/``, the same search, or its next
page, answers from them: no listing, no ``stat``, no read, and entities are built once per
row shown (copies are handed out). Any change voids it and the search checks its files again.
The stamp is taken from the second time a process makes a query (watching costs what a
check does): the first repeat checks as before, the next ones answer from what is held. The
change feed itself is opened only then: a process's first search (``fsreg ls models``) loads
and opens none.

Paging: a page token is MLflow's ``{"offset": N}`` plus ``"cursor"``, the id of the sorted
result this process keeps (:class:`Cursors`, as the run search keeps its own). A next page takes its keys (model names, or model name and version number)
from that result and reads only them: one model read per model shown, or for versions one
listing per version directory where a stat is a system call (one listing of the model's
files elsewhere) and the model's aliases; a row that no longer matches the filter, or whose
model or version is gone, is left out of its page. So paging lists and sorts the registry
once, and each next page costs what it shows. Models and versions made after the first page
are not in the kept result (a new search sees them). MLflow reads only the offset of such a
token, and a token whose result this process does not hold (another process, MLflow's, or
dropped: a few results are kept) pages by its offset through a fresh search.
"""

from __future__ import annotations

import functools
import secrets
import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from fsregistry.entities import ModelVersion, PagedList, RegisteredModel
from fsregistry.exceptions import ResourceDoesNotExist
from fsregistry.mlruns import layout
from fsregistry.registry.reading import ModelFiles, RegistryFiles
from fsregistry.registry.watching import RegistryWatch, Watched
from fsregistry.search import ATTRIBUTE, TAG, Comparison, OrderClause, matches, sort_rows
from fsregistry.search.paging import decode_cursor, encode_cursor_token

if TYPE_CHECKING:
    from fsregistry.storage.changes import ChangeFeed

K = TypeVar("K")
# (name, number, meta, tags) of a version; (name, meta, tags) of a model
_VersionRow = tuple[str, int, dict[str, Any], dict[str, str] | None]

# A model's entity from its files, and a version's from (name, number, meta, tags, aliases):
# the entity rules live in ``queries``, which hands them in.
BuildModel = Callable[[ModelFiles], RegisteredModel]
BuildVersion = Callable[
    [str, int, Mapping[str, Any], Mapping[str, str] | None, Mapping[str, str]], ModelVersion
]


@dataclass(slots=True)
class _Answer:
    rows: Sequence[Any]
    order: list[int]


class Answers:
    """The sorted order of a process's recent registry searches, each reused by a search
    whose rows are equal to the ones it was made from (a few queries only)."""

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._held: dict[Hashable, _Answer] = {}
        self._lock = threading.Lock()  # a store may search from several threads

    def get(self, query: Hashable, rows: Sequence[Any]) -> list[int] | None:
        with self._lock:
            held = self._held.get(query)
        # Lists and tuples compare item by identity first: unchanged decoded files cost no
        # deep comparison.
        return held.order if held is not None and held.rows == rows else None

    def put(self, query: Hashable, rows: Sequence[Any], order: list[int]) -> None:
        with self._lock:
            self._held.pop(query, None)
            if len(self._held) >= self._size:
                del self._held[next(iter(self._held))]
            self._held[query] = _Answer(rows, order)


@dataclass(slots=True)
class _Snapshot:
    stamp: Watched
    order: list[int]
    build: Callable[[int], Any]  # the entity of row i, as read
    key: Callable[[int], Any]  # the key of row i a kept cursor holds
    built: dict[int, Any]
    cursor: str | None = None  # the id of the tokens its pages carry


class Held:
    """What a process's recent registry searches read, each with the change-feed stamp taken
    before reading (a few queries only): see the module docstring."""

    def __init__(self, watch: RegistryWatch, size: int = 4) -> None:
        self._watch = watch
        self._size = size
        self._held: dict[Hashable, _Snapshot] = {}
        self._seen: dict[Hashable, None] = {}
        self._lock = threading.Lock()

    def again(self, query: Hashable) -> bool:
        """Whether this process made ``query`` before: only then is it worth watching the
        registry (a watch per directory costs about what a ``stat`` does, so a search made
        once, as by the ``fsreg`` command, pays nothing for it)."""
        with self._lock:
            if query in self._seen:
                return True
            if len(self._seen) >= 16 * self._size:
                del self._seen[next(iter(self._seen))]
            self._seen[query] = None
            return False

    def holds(self, query: Hashable) -> bool:
        """Whether a snapshot of ``query`` is held (only then is the change feed asked: a
        process's first search opens none)."""
        with self._lock:
            return query in self._held

    def get(self, query: Hashable, feed: ChangeFeed | None) -> _Snapshot | None:
        """The snapshot of ``query`` if the feed reports no change since its stamp."""
        if feed is None:
            return None
        with self._lock:
            held = self._held.get(query)
        return held if held is not None and self._watch.unchanged(feed, held.stamp) else None

    def put(self, query: Hashable, snapshot: _Snapshot) -> None:
        with self._lock:
            self._held.pop(query, None)
            if len(self._held) >= self._size:
                del self._held[next(iter(self._held))]
            self._held[query] = snapshot

    def page(
        self, held: _Snapshot, start: int, end: int, keep: Callable[[list[Any]], str]
    ) -> tuple[list[Any], str | None]:
        """One page of a held answer (its entities built once, copies handed out), and the
        token of the next page (``keep`` keeps the sorted keys as a cursor, once: a next
        page the feed voids by then is read from them)."""
        page = []
        for i in held.order[start:end]:
            entity = held.built.get(i)
            if entity is None:
                entity = held.built[i] = held.build(i)
            page.append(_fresh(entity))
        if end >= len(held.order):
            return page, None
        if held.cursor is None:
            held.cursor = keep([held.key(i) for i in held.order])
        return page, encode_cursor_token(end, held.cursor)


@dataclass(slots=True)
class _Kept(Generic[K]):
    query: Hashable
    keys: list[K]


class Cursors(Generic[K]):
    """Sorted results kept for the next pages of a search, by the id its page tokens carry
    (the oldest dropped first: a few only)."""

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._held: dict[str, _Kept[K]] = {}
        self._lock = threading.Lock()

    def keep(self, query: Hashable, keys: list[K]) -> str:
        """Keep a sorted result's keys; the id its page tokens carry."""
        cursor = secrets.token_hex(8)
        with self._lock:
            while len(self._held) >= self._size:
                del self._held[next(iter(self._held))]
            self._held[cursor] = _Kept(query, keys)
        return cursor

    def get(self, cursor: str | None, query: Hashable) -> list[K] | None:
        """The keys kept as ``cursor`` if they were kept for this same query."""
        if cursor is None:
            return None
        with self._lock:
            held = self._held.get(cursor)
        return held.keys if held is not None and held.query == query else None


class RegistrySearch:
    """The registry's two searches over one store (see the module docstring)."""

    def __init__(
        self, files: RegistryFiles, build_model: BuildModel, build_version: BuildVersion
    ) -> None:
        self.files = files
        self._build_model = build_model
        self._build_version = build_version
        self._answers = Answers()
        self._watch = RegistryWatch(files.storage)
        self._held = Held(self._watch)
        self._model_cursors: Cursors[str] = Cursors()
        self._version_cursors: Cursors[tuple[str, int]] = Cursors()

    # -- registered models --------------------------------------------------------------------
    def registered_models(
        self,
        comparisons: Sequence[Comparison],
        clauses: Sequence[OrderClause],
        pinned: set[str] | None,
        max_results: int,
        page_token: str | bytes | None,
    ) -> PagedList[RegisteredModel]:
        """Registered models matching ``comparisons`` sorted by ``clauses`` (checked and
        parsed by the caller), one page; ``pinned``: the only names the filter can match."""
        query = ("registered_models", _frozen(pinned), tuple(comparisons), tuple(clauses))
        start, cursor = decode_cursor(page_token)
        end = start + max_results
        feed = self._watch.feed() if self._held.holds(query) else None
        held = self._held.get(query, feed)
        if held is not None and (cursor is None or cursor == held.cursor):
            hold = functools.partial(self._model_cursors.keep, query)
            return PagedList(*self._held.page(held, start, end, hold))
        names = self._model_cursors.get(cursor, query)
        if names is not None and cursor is not None:
            shown = [self._model_now(n) for n in names[start:end]]
            page = [m for m in shown if m is not None and matches(comparisons, model_lookup(m))]
            return PagedList(page, encode_cursor_token(end, cursor) if end < len(names) else None)
        stamp = None
        if cursor is None and self._held.again(query):
            feed = feed or self._watch.feed()
            stamp = None if feed is None else self._watch.stamp(feed)
        models = self.files.visible_models(self._named(comparisons, pinned), version_tags=False)
        rows = [(m.name, m.meta, m.tags) for m in models]
        order = self._answers.get(query, rows)
        if order is None:
            hits = [i for i, row in enumerate(rows) if matches(comparisons, _model_row(row))]
            order = sort_rows(hits, clauses, lambda i: _model_row(rows[i]))
            self._answers.put(query, rows, order)
        if stamp is not None:
            snapshot = _Snapshot(
                stamp, order, lambda i: self._build_model(models[i]), lambda i: models[i].name, {}
            )
            self._held.put(query, snapshot)
            hold = functools.partial(self._model_cursors.keep, query)
            return PagedList(*self._held.page(snapshot, start, end, hold))
        page = [self._build_model(models[i]) for i in order[start:end]]
        token = None
        if end < len(order):
            keep = self._model_cursors.keep(query, [models[i].name for i in order])
            token = encode_cursor_token(end, keep)
        return PagedList(page, token)

    def _named(self, comparisons: Sequence[Comparison], pinned: set[str] | None) -> set[str] | None:
        """The only models a search need read: ``pinned``, or, when the filter tests names
        (``name LIKE 'x%'``...), the model directories whose name passes those tests, if
        they are few enough that reading them one by one costs less than one listing of the
        whole registry (half the models on local disk; on object stores, where a listing
        request returns 1,000 keys, a model of ten versions is about thirty keys, one in 32);
        None: all of them."""
        terms = [c for c in comparisons if c.entity == ATTRIBUTE and c.key == "name"]
        if pinned is not None or not terms:
            return pinned
        dirs, _ = self.files.storage.list_dir(layout.MODELS)
        named = {d for d in dirs if matches(terms, _name_only(d))}
        share = 2 if self.files.storage.capabilities.cheap_stat else 32
        return named if len(named) * share <= len(dirs) else None

    def _model_now(self, name: str) -> RegisteredModel | None:
        """A kept model as it is now, or None if it is gone (or hidden)."""
        try:
            return self._build_model(self.files.load(name, version_tags=False))
        except ResourceDoesNotExist:
            return None

    # -- model versions -----------------------------------------------------------------------
    def model_versions(
        self,
        comparisons: Sequence[Comparison],
        clauses: Sequence[OrderClause],
        pinned: set[str] | None,
        max_results: int,
        page_token: str | bytes | None,
    ) -> PagedList[ModelVersion]:
        """Model versions matching ``comparisons`` sorted by ``clauses``, one page (as
        :meth:`registered_models`)."""
        query = ("model_versions", _frozen(pinned), tuple(comparisons), tuple(clauses))
        start, cursor = decode_cursor(page_token)
        end = start + max_results
        feed = self._watch.feed() if self._held.holds(query) else None
        held = self._held.get(query, feed)
        if held is not None and (cursor is None or cursor == held.cursor):
            hold = functools.partial(self._version_cursors.keep, query)
            return PagedList(*self._held.page(held, start, end, hold))
        keys = self._version_cursors.get(cursor, query)
        if keys is not None and cursor is not None:
            page = self._versions_now(keys[start:end], comparisons)
            return PagedList(page, encode_cursor_token(end, cursor) if end < len(keys) else None)
        stamp = None
        if cursor is None and self._held.again(query):
            feed = feed or self._watch.feed()
            stamp = None if feed is None else self._watch.stamp(feed)
        models = self.files.visible_models(self._named(comparisons, pinned))
        rows: list[_VersionRow] = []
        owners: list[ModelFiles] = []
        for m in models:
            tags_of = m.version_tags or {}
            for n, meta in sorted(m.live_versions().items()):
                rows.append((m.name, n, meta, tags_of.get(n)))
                owners.append(m)
        order = self._answers.get(query, rows)
        if order is None:
            hits = [i for i, row in enumerate(rows) if matches(comparisons, _version_row(row))]
            order = sort_rows(hits, clauses, lambda i: _version_row(rows[i]))
            self._answers.put(query, rows, order)
        if stamp is not None:
            snapshot = _Snapshot(
                stamp,
                order,
                lambda i: self._build_version(*rows[i], owners[i].aliases),
                lambda i: (rows[i][0], rows[i][1]),
                {},
            )
            self._held.put(query, snapshot)
            hold = functools.partial(self._version_cursors.keep, query)
            return PagedList(*self._held.page(snapshot, start, end, hold))
        page = [self._build_version(*rows[i], owners[i].aliases) for i in order[start:end]]
        token = None
        if end < len(order):
            keep = self._version_cursors.keep(query, [(rows[i][0], rows[i][1]) for i in order])
            token = encode_cursor_token(end, keep)
        return PagedList(page, token)

    def _versions_now(
        self, keys: Sequence[tuple[str, int]], comparisons: Sequence[Comparison]
    ) -> list[ModelVersion]:
        """The kept versions ``keys`` as they are now, in that order: those gone (or whose
        model is), or that no longer match, left out."""
        by_model: dict[str, list[int]] = {}
        for name, number in keys:
            by_model.setdefault(name, []).append(number)
        now: dict[tuple[str, int], ModelVersion] = {}
        for name, numbers in by_model.items():
            try:
                self.files.model_meta(name)
            except ResourceDoesNotExist:
                continue
            aliases = self.files.aliases(name)
            for number, (meta, tags) in self.files.read_versions(name, numbers).items():
                row = (name, number, meta, tags)
                if matches(comparisons, _version_row(row)):
                    now[(name, number)] = self._build_version(name, number, meta, tags, aliases)
        return [now[k] for k in keys if k in now]


def _fresh(entity: Any) -> Any:
    """A copy of a held entity (a plain dataclass) whose lists and dicts, and the entities
    they hold, the caller may change without changing what later searches return."""
    new = object.__new__(type(entity))
    into = new.__dict__
    for key, value in vars(entity).items():
        if type(value) is dict:
            value = dict(value)
        elif type(value) is list:
            value = [_fresh(x) if hasattr(x, "__dict__") else x for x in value]
        into[key] = value
    return new


# -- lookups over rows, answering as the entities would ---------------------------------------
def _name_only(name: str) -> Callable[[str, str], Any]:
    """Lookup answering a model's name alone (for the filter's name tests)."""
    return lambda entity, key: name if entity == ATTRIBUTE and key == "name" else None


def _frozen(names: set[str] | None) -> frozenset[str] | None:
    return None if names is None else frozenset(names)


_MODEL_ATTRS = frozenset({"name", "creation_timestamp", "last_updated_timestamp"})


def _model_row(row: tuple[Any, ...]) -> Callable[[str, str], Any]:
    """Lookup over ``(name, meta, tags)`` of a registered model."""
    name, meta, tags = row

    def lookup(entity: str, key: str) -> Any:
        if entity == TAG:
            return tags.get(key)
        if key not in _MODEL_ATTRS:
            return None
        return name if key == "name" else meta.get(key)

    return lookup


def model_lookup(model: RegisteredModel) -> Callable[[str, str], Any]:
    """Lookup over a registered model entity."""
    return _model_row((model.name, vars(model), model.tags))


def _version_row(row: tuple[Any, ...]) -> Callable[[str, str], Any]:
    """Lookup over ``(name, number, meta, tags)`` of a version, as its entity answers
    (``queries.version_entity``)."""
    name, number, meta, tags = row

    def lookup(entity: str, key: str) -> Any:
        if entity == TAG:
            return None if tags is None else tags.get(key)
        if key == "version_number":
            return number
        if key == "source_path":
            return meta.get("source")
        if key == "name":
            return name
        if key == "creation_timestamp":
            return int(meta.get("creation_timestamp") or 0)
        if key in ("run_id", "last_updated_timestamp"):
            return meta.get(key)
        return None

    return lookup


__all__ = ["Answers", "Cursors", "RegistrySearch", "model_lookup"]
