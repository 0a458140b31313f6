"""Run search: which runs a search must look at, and how little it may read of each.

A search filters and sorts every run of its experiments (its *candidates*,
``search_rows.Candidates``) but returns one page, so it decides on summaries
(``run_index``) checked against the files, and builds runs (checking all their files) only
for the page (:meth:`RunSearch._complete`). Candidates are gathered one of three ways:

- where a stat costs a request (untrusted object stores): one recursive listing per experiment
  gives every file's change token; runs whose tokens all match their summary come from it, the
  rest are read in one bulk read (:meth:`RunSearch._listed_rows`);
- where a stat is a system call (local disk): only the files the search needs
  (``search_rows.files_needed``: ``meta.yaml`` and the keys its filter and order name) are
  checked against the summaries, and the page's runs are checked in full before they are
  returned (:meth:`RunSearch._checked_rows`). With a change feed, runs it vouches for are
  not checked at all (``vouches``);
- where the store trusts its run index (``trust``: buckets by default, local disk when
  declared): one listing of the run directories, ended runs from their summaries unchecked,
  and only runs not ended, unsummarised or marked changed read from their files
  (:meth:`RunSearch._trusted_rows`); next pages likewise (:meth:`RunSearch._trusted`). A
  repeated search whose experiment's generation (``trust.generation``) is unchanged reuses
  the last listing: it costs the generation and the runs read from their files, not the
  store.

Runs that are read from their files are recorded as summaries on the way (``run_reader``).
The filtered, sorted order of recent queries is kept (``search_rows.Answers``) and reused
by a search whose candidates are the same runs with the same decoded files. A page token
names the sorted result it came from (``search_rows.Cursors``): the next page takes its rows
from it and checks only them, so paging gathers and sorts once and each next page costs what
it holds (:meth:`RunSearch._next_page`). Buffered metric lines are written before a search, so it sees them. A run deleted
between the choice of the page and its completion is left out of the page. An unknown
experiment id gives no runs, as in MLflow; so does a directory whose ``meta.yaml`` names
another experiment, while one without ``meta.yaml`` gives its runs (MLflow lists them too).
Runs whose ``meta.yaml`` names another experiment than their directory are left out
(``run_reader``).
"""

from __future__ import annotations

import functools
import time
from array import array
from collections.abc import Callable, Collection, Sequence
from typing import Any

from fsregistry.entities import PagedList, Run, ViewType
from fsregistry.exceptions import (
    InvalidParameterValue,
    MissingConfigException,
    ResourceDoesNotExist,
)
from fsregistry.mlruns import layout
from fsregistry.mlruns.validation import validate_experiment_id
from fsregistry.search import (
    check_paging,
    effective_order,
    matches,
    parse_filter,
    parse_order_by,
    sort_columns,
)
from fsregistry.search.paging import decode_cursor, encode_cursor_token, encode_page_token
from fsregistry.search.terms import ATTRIBUTE, METRIC, PARAM, TAG, Comparison, OrderClause
from fsregistry.storage import FileInfo
from fsregistry.storage.changes import Stamp
from fsregistry.tracking import records, run_index, trust
from fsregistry.tracking.experiments import Experiments
from fsregistry.tracking.locations import RUN_DATA_DIRS, Locations, prune_experiment_dir
from fsregistry.tracking.run_index import Listed, Tokens, compact_tokens, same_token
from fsregistry.tracking.run_reader import RunReader, from_experiment
from fsregistry.tracking.runs import Runs
from fsregistry.tracking.search_rows import (
    Answers,
    Candidates,
    Cursors,
    Kept,
    SearchRow,
    files_needed,
)
from fsregistry.tracking.vouches import (
    Vouch,
    Watch,
    trusted,
    vouch_for,
    watch_needed,
    watch_runs,
    widened,
)

# Runs checked at a time by a checked search (``RunSearch._checked_rows``).
_CHECK_CHUNK = 2048

_RUN_ATTRIBUTES = (
    "run_id",
    "run_name",
    "status",
    "user_id",
    "artifact_uri",
    "start_time",
    "end_time",
    "lifecycle_stage",
    "experiment_id",
)


class RunSearch:
    """``search_runs`` over one store."""

    def __init__(
        self, locations: Locations, experiments: Experiments, reader: RunReader, runs: Runs
    ) -> None:
        self._locations = locations
        self._experiments = experiments
        self._reader = reader
        self._runs = runs
        self.storage = locations.storage
        self._answers = Answers()
        self._cursors = Cursors()

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        run_view_type: int | str = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[Run]:
        if isinstance(experiment_ids, str | int):
            raise InvalidParameterValue(
                f"experiment_ids must be a list, got {experiment_ids!r}; "
                f"did you mean [{experiment_ids!r}]?"
            )
        view = ViewType.from_any(run_view_type)
        # 0: an empty page, as MLflow gives
        check_paging(max_results, "runs", page_token, allow_zero=True)
        comparisons = parse_filter(filter_string, "runs")
        clauses = effective_order(parse_order_by(order_by, "runs"), "runs")
        self._runs.flush()
        stages = ViewType.stages(view)
        needed = (
            files_needed(comparisons, clauses) if self.storage.capabilities.cheap_stat else None
        )
        exp_dirs = self._experiment_dirs(experiment_ids)
        query = (tuple(exp_dirs), stages, tuple(comparisons), tuple(clauses))
        start, cursor = decode_cursor(page_token)
        kept = self._cursors.get(cursor, query)
        if kept is not None and cursor is not None:
            return self._next_page(kept, cursor, start, max_results, comparisons, stages)
        found = Candidates()
        trusting = trust.declared(self.storage)
        for exp_dir in exp_dirs:
            if trusting and not _in_trash(exp_dir):
                self._trusted_rows(exp_dir, found)
            elif needed is None:
                self._listed_rows(exp_dir, found)
            else:
                self._checked_rows(exp_dir, needed, found)

        order = self._answers.get(query, found)
        if order is None:
            kept_rows = self._selected(found, stages, comparisons)
            column = functools.partial(self._column, found)
            # Kept for later pages and searches: packed, not a list of int objects (~36
            # bytes a run instead of 8 at 100,000 runs).
            order = array("q", sort_columns(kept_rows, clauses, column))
            del kept_rows
            self._answers.put(query, found, order)
        end = start + max_results
        token = None
        if end < len(order) and max_results == 0:
            token = encode_page_token(end)  # MLflow's token: nothing worth keeping
        elif end < len(order):
            token = encode_cursor_token(end, self._cursors.keep(query, found, order))
        return PagedList(self._complete([found.row(i) for i in order[start:end]]), token)

    def _experiment_dirs(self, experiment_ids: Sequence[str]) -> list[str]:
        """The directories of the experiments searched: unknown ids left out (MLflow returns
        no runs for them), a directory without ``meta.yaml`` kept (MLflow lists its runs)."""
        exp_dirs = []
        for exp_id in dict.fromkeys(validate_experiment_id(e) for e in experiment_ids):
            try:
                exp_dir, _ = self._experiments.find_experiment_dir(exp_id)
            except ResourceDoesNotExist:
                continue
            except MissingConfigException:
                found_dir = self._experiments.directory_without_meta(exp_id)
                if found_dir is None:
                    continue
                exp_dir = found_dir
            exp_dirs.append(exp_dir)
        return exp_dirs

    def _next_page(
        self,
        kept: Kept,
        cursor: str,
        start: int,
        max_results: int,
        comparisons: Sequence[Comparison],
        stages: Collection[str],
    ) -> PagedList[Run]:
        """A next page from a kept sorted result (``search_rows.Cursors``): only its rows
        are checked, in full, and a run that no longer matches is left out."""
        end = start + max_results
        rows = [kept.candidates.row(i) for i in kept.order[start:end]]
        trusting = trust.declared(self.storage) and not any(_in_trash(r.exp_dir) for r in rows)
        rows = self._trusted(rows) if trusting else self._rechecked(rows)
        runs = []
        for run in self._complete(rows):
            lookup = run_lookup(run)
            if run.info.lifecycle_stage in stages and matches(comparisons, lookup):
                runs.append(run)
        token = encode_cursor_token(end, cursor) if end < len(kept.order) else None
        return PagedList(runs, token)

    def _trusted(self, rows: Sequence[SearchRow]) -> list[SearchRow]:
        """Kept rows where the store trusts its run index: as they are, but a run that is not
        ended, or was marked changed since, is read again (``trust``)."""
        changed: dict[str, set[str]] = {}
        out = []
        for row in rows:
            marked = changed.get(row.exp_dir)
            if marked is None:
                marked = changed[row.exp_dir] = self._reader.changed.read(row.exp_dir)
            if row.run_id in marked or not trust.is_terminal(row.files.meta_get("status")):
                out.append(SearchRow(row.exp_dir, row.run_id, row.files, ""))
            else:
                out.append(SearchRow(row.exp_dir, row.run_id, row.files, None))
        return out

    def _rechecked(self, rows: Sequence[SearchRow]) -> list[SearchRow]:
        """Kept rows made ready to be checked again in full by ``_complete``: marked with
        their summary's tokens, or unchecked-free where the change feed vouches for the whole
        run since; a row whose summary was replaced is read again."""
        feed = self.storage.change_feed()
        if feed is not None:
            feed.poll()
        out = []
        for row in rows:
            index = self._reader.index(row.exp_dir)
            summary = index.runs.get(row.run_id)
            if summary is None or summary.files is not row.files:
                out.append(SearchRow(row.exp_dir, row.run_id, row.files, ""))
                continue
            if feed is not None:
                held = index.vouched(feed, [row.run_id]).get(row.run_id)
                if held is not None and held.files is None:
                    out.append(SearchRow(row.exp_dir, row.run_id, row.files, None))
                    continue
            out.append(SearchRow(row.exp_dir, row.run_id, row.files, summary.tokens))
        return out

    def _selected(
        self, found: Candidates, stages: Collection[str], comparisons: Sequence[Comparison]
    ) -> list[int]:
        """The candidates in the view's lifecycle stages that match the filter, in order. The
        stage comes straight from each run's files (it never needs the built run), and an
        empty filter asks nothing of a run."""
        value = records.files_value
        rows = [
            i
            for i, (run_id, files) in enumerate(zip(found.run_ids, found.files, strict=True))
            if value(run_id, files, ATTRIBUTE, "lifecycle_stage") in stages
        ]
        if not comparisons:
            return rows
        lookup = self._candidate_value
        return [i for i in rows if matches(comparisons, functools.partial(lookup, found, i))]

    def _column(self, found: Candidates, clause: OrderClause, rows: Sequence[int]) -> list[Any]:
        """The value of the clause's key in each of the candidates ``rows``, a column at a
        time: what the search lookup (``_candidate_value``) gives, asked of the files
        directly, and of the built run only where the files do not tell."""
        files, entity, key = found.files, clause.entity, clause.key
        if entity == METRIC:
            return [files[i].metric_value(key) for i in rows]
        if entity == PARAM:
            return [files[i].param(key) for i in rows]
        if entity == TAG:
            return [files[i].tag(key) for i in rows]
        run_ids, value, needs_run = found.run_ids, records.files_value, records.NEEDS_RUN
        values = [value(run_ids[i], files[i], entity, key) for i in rows]
        return [
            self._candidate_value(found, i, entity, key) if v is needs_run else v
            for i, v in zip(rows, values, strict=True)
        ]

    def _candidate_value(self, found: Candidates, i: int, entity: str, key: str) -> Any:
        """Search lookup over one candidate run's files (the built run where they do not
        tell, see ``records.files_value``)."""
        files = found.files[i]
        value = records.files_value(found.run_ids[i], files, entity, key)
        if value is not records.NEEDS_RUN:
            return value
        built = found.built.get(i)
        if built is None:
            exp_dir, run_id = found.exp_dirs[i], found.run_ids[i]
            reader = self._reader
            ids = [str(r.get("source_id")) for r in files.inputs]
            datasets = reader.datasets(exp_dir, ids) if ids else {}
            built = found.built[i] = run_lookup(reader.build_run(exp_dir, run_id, files, datasets))
        return built(entity, key)

    # -- candidates -------------------------------------------------------------------------
    def _listed_rows(self, exp_dir: str, into: Candidates) -> None:
        """Every run of one experiment from one recursive listing: summaries for the runs
        whose files all kept their tokens, one bulk read for the rest (see ``run_index``).
        The way on object stores, where a listing returns a thousand tokens per request."""
        listed_at = time.time()
        listing = self.storage.walk(exp_dir, prune=prune_experiment_dir, sizes=True)
        # Paths stay relative to the experiment ("<run>/params/p"): a listing holds tens of
        # thousands of files, and rewriting each one's path costs more than the search.
        per_run: dict[str, list[FileInfo]] = {}
        shards: dict[str, str] = {}
        reserved = layout.RESERVED_EXPERIMENT_FOLDERS
        for info in listing:
            head, sep, rest = info.path.partition("/")
            if not sep:
                if head.startswith(run_index.SHARD_PREFIX):
                    shards[head] = info.token
            elif head not in reserved and (
                rest == layout.META or rest.partition("/")[0] in RUN_DATA_DIRS
            ):
                bucket = per_run.get(head)
                if bucket is None:
                    per_run[head] = [info]
                else:
                    bucket.append(info)
        index = self._reader.index(exp_dir)
        tokens: dict[str, Tokens | None] = {}
        for r, infos in per_run.items():
            text = run_index.tokens_of(infos, strip=len(r) + 1)
            tokens[r] = None if text is None else compact_tokens(text)
        found: dict[str, records.RunFiles] = {}
        for run_id, toks in tokens.items():
            cached = index.lookup(run_id, toks)
            if cached is not None:
                found[run_id] = cached
        if len(found) < len(per_run) and shards:
            index.load_shards(self.storage, exp_dir, shards)
            for run_id, toks in tokens.items():
                cached = None if run_id in found else index.lookup(run_id, toks)
                if cached is not None:
                    found[run_id] = cached
        stale = {r: per_run[r] for r in per_run if r not in found}
        found.update(self._reader.read_and_summarise(exp_dir, stale, listed_at, set(per_run)))
        for r in per_run:
            if r in found:
                into.add(exp_dir, r, found[r], None)

    def _trusted_rows(self, exp_dir: str, into: Candidates) -> None:
        """Every run of one experiment where the store trusts its run index (``trust``): the
        run directories from one listing (or, when the experiment's generation is unchanged
        since this process last listed it, from that listing), ended runs from their
        summaries as they are, and only the rest (no summary, not ended, or marked changed
        since it ended) checked against their summary by one listing of the run, and read
        from their files where it changed."""
        storage, reader = self.storage, self._reader
        index = reader.index(exp_dir)
        generation = trust.generation(storage, exp_dir)  # before the listing: see trust
        look = index.listed
        if look is None or generation is None or look.generation != generation:
            dirs, files = storage.list_dir_tokens(exp_dir)
            ids = [d for d in dirs if d not in layout.RESERVED_EXPERIMENT_FOLDERS]
            shards = {n: t for n, t in files.items() if n.startswith(run_index.SHARD_PREFIX)}
            marked = reader.changed.read(exp_dir) if trust.CHANGED_FILE in files else set()
            if shards:
                # Only the runs checked below need their tokens (the rest: run_index.UNKNOWN).
                index.load_shards(storage, exp_dir, shards, _checked_when_trusted(marked))
            look = index.listed = Listed(generation, _shared_ids(index, ids), frozenset(marked))
        run_ids, changed = look.run_ids, look.changed
        summaries = index.runs
        checked = _checked_when_trusted(changed)
        stale = []
        for run_id in run_ids:
            entry = summaries.get(run_id)
            if entry is None or checked(run_id, entry.files):
                stale.append(run_id)
            else:
                into.add(exp_dir, run_id, entry.files, None)
        if stale:
            listed_at = time.time()
            listed = {r: reader.list_run(exp_dir, r) for r in stale}
            found = {}
            for r, infos in listed.items():  # unchanged since summarised: not read again
                text = run_index.tokens_of(infos, strip=len(r) + 1)
                kept = None if text is None else index.lookup(r, compact_tokens(text))
                if kept is not None:
                    found[r] = kept
            listed = {r: infos for r, infos in listed.items() if r not in found}
            found.update(reader.read_and_summarise(exp_dir, listed, listed_at, set(run_ids)))
            for r in stale:
                if r in found:
                    into.add(exp_dir, r, found[r], None)

    def _checked_rows(self, exp_dir: str, needed: Sequence[str], into: Candidates) -> None:
        """Every run of one experiment, checking only the files a search needs (``needed``,
        run-relative) against the summaries: the way on local disk, where one stat is a
        system call and listing every file of an experiment costs a stat per file.

        Runs whose needed files kept their tokens come from their summary, marked unchecked
        (their other files are checked when they are returned, see ``_complete``); the rest
        are listed and read. Where the storage has a change feed, a run it vouches for needs
        no check at all, and every run checked here is watched before its check so that the
        next search can skip it."""
        dirs, names = self.storage.list_dir(exp_dir)
        run_ids = [d for d in dirs if d not in layout.RESERVED_EXPERIMENT_FOLDERS]
        reader = self._reader
        index = reader.index(exp_dir)
        shards = [f"{exp_dir}/{n}" for n in names if n.startswith(run_index.SHARD_PREFIX)]
        if shards:
            cut = len(exp_dir) + 1
            shard_tokens = self.storage.tokens(shards)
            index.load_shards(self.storage, exp_dir, {p[cut:]: t for p, t in shard_tokens.items()})
        run_ids = _shared_ids(index, run_ids)
        summaries = index.runs
        needed = tuple(needed)
        feed = self.storage.change_feed()
        vouched: dict[str, Tokens | None] = {}  # run -> tokens left to check (None: none)
        partly: dict[str, run_index.Verified] = {}  # vouched for other files than these
        if feed is not None:
            vouched, partly = trusted(feed, index, run_ids, needed)
        stale: list[str] = []
        # A chunk of runs at a time: the paths and tokens of every needed file of 100,000 runs
        # would be ~70 MB held at once (issue 24), for values compared once.
        for at in range(0, len(run_ids), _CHECK_CHUNK):
            chunk = run_ids[at : at + _CHECK_CHUNK]
            known = [r for r in chunk if r in summaries and r not in vouched]
            # This chunk's own watches, taken before its check; none carried from another.
            stamps: dict[str, Stamp] = (
                watch_needed(feed, exp_dir, known, needed) if feed is not None and known else {}
            )
            current = self.storage.tokens(f"{exp_dir}/{r}/{rel}" for r in known for rel in needed)
            for run_id in chunk:
                entry = summaries.get(run_id)
                if entry is None:
                    stale.append(run_id)
                    continue
                if run_id in vouched:
                    into.add(exp_dir, run_id, entry.files, vouched[run_id])
                    continue
                prefix = f"{exp_dir}/{run_id}/"
                recorded = entry.tokens
                for rel in needed:
                    if not same_token(recorded, rel, current.get(prefix + rel)):
                        stale.append(run_id)
                        break
                else:
                    into.add(exp_dir, run_id, entry.files, recorded)
                    stamp = stamps.get(run_id)
                    if stamp is not None:
                        verified = widened(partly.get(run_id), recorded, needed, stamp)
                        index.verified[run_id] = verified
            del current
        if stale:
            stale_watches = watch_runs(
                feed, exp_dir, {r: summaries[r].tokens if r in summaries else None for r in stale}
            )
            listed_at = time.time()
            seen: dict[str, set[str]] = {r: set() for r in stale}
            listed = {r: reader.list_run(exp_dir, r, seen=seen[r]) for r in stale}
            vouches = {
                r: Vouch(watch.stamp, watch.dirs, seen[r]) for r, watch in stale_watches.items()
            }
            found = reader.read_and_summarise(exp_dir, listed, listed_at, set(run_ids), vouches)
            for r in stale:
                if r in found:
                    into.add(exp_dir, r, found[r], None)

    # -- the page ---------------------------------------------------------------------------
    def _complete(self, rows: Sequence[SearchRow]) -> list[Run]:
        """The runs behind a page of search rows: rows not yet checked file by file are
        listed, and read again where any file changed since their summary."""
        reader = self._reader
        files_of: dict[int, records.RunFiles] = {}
        recheck: dict[str, dict[str, list[FileInfo]]] = {}  # exp dir -> run -> listing
        # Only rows still to be checked are watched: a page of runs a trusted index answers
        # for makes no change feed (no inotify instance, no ctypes) in a one-search process.
        checking = any(row.unchecked is not None for row in rows)
        feed = self.storage.change_feed() if checking else None
        watched: dict[str, dict[str, Watch]] = {}
        vouches: dict[str, dict[str, Vouch]] = {}
        if feed is not None:  # (no poll: nothing here asks whether a stamp still holds)
            unchecked: dict[str, dict[str, Tokens | None]] = {}  # exp dir -> run -> tokens
            for row in rows:
                if row.unchecked is not None:
                    summary = row.unchecked if isinstance(row.unchecked, tuple) else None
                    unchecked.setdefault(row.exp_dir, {})[row.run_id] = summary
            for exp_dir, tokens in unchecked.items():
                watched[exp_dir] = watch_runs(feed, exp_dir, tokens)
        listed_at = time.time()
        for i, row in enumerate(rows):
            if row.unchecked is None:
                files_of[i] = row.files
                continue
            seen: set[str] = set()
            listing = reader.list_run(row.exp_dir, row.run_id, relative=True, seen=seen)
            held = watched.get(row.exp_dir, {}).get(row.run_id)
            vouch = None if held is None else Vouch(held.stamp, held.dirs, seen)
            listed = run_index.tokens_of(listing)
            now = None if listed is None else compact_tokens(listed)
            if now is not None and now == row.unchecked:
                files_of[i] = row.files
                vouch_for(reader.index(row.exp_dir), row.run_id, now, vouch)
            else:
                recheck.setdefault(row.exp_dir, {})[row.run_id] = from_experiment(
                    row.run_id, listing
                )
                if vouch is not None:
                    vouches.setdefault(row.exp_dir, {})[row.run_id] = vouch
        fresh = {
            (exp_dir, run_id): files
            for exp_dir, listed in recheck.items()
            for run_id, files in reader.read_and_summarise(
                exp_dir, listed, listed_at, None, vouches.get(exp_dir)
            ).items()
        }
        for i, row in enumerate(rows):
            if i not in files_of and (row.exp_dir, row.run_id) in fresh:
                files_of[i] = fresh[row.exp_dir, row.run_id]
        by_exp: dict[str, list[str]] = {}
        for i, row in enumerate(rows):
            if i in files_of:
                by_exp.setdefault(row.exp_dir, []).extend(
                    str(r.get("source_id")) for r in files_of[i].inputs
                )
        datasets = {e: reader.datasets(e, ids) if ids else {} for e, ids in by_exp.items()}
        runs = []
        for i, row in enumerate(rows):
            if i in files_of:  # a run deleted since the page was chosen is left out
                runs.append(
                    reader.build_run(row.exp_dir, row.run_id, files_of[i], datasets[row.exp_dir])
                )
        self._locations.remember(
            {row.run_id: row.exp_dir for i, row in enumerate(rows) if i in files_of}
        )
        return runs


def _checked_when_trusted(
    marked: Collection[str],
) -> Callable[[str, records.RunFiles], bool]:
    """Whether a trusted search checks a run against its summary (``_trusted_rows``): a run
    not ended, or ``marked`` changed since it ended."""

    def checked(run_id: str, files: records.RunFiles) -> bool:
        return run_id in marked or not trust.is_terminal(files.meta_get("status"))

    return checked


def _shared_ids(index: run_index.ExperimentIndex, run_ids: list[str]) -> list[str]:
    """The run ids of a listing as the index holds them: the results a process keeps
    (``search_rows.Answers``, ``Cursors``) then share one string per run, not one per
    listing (~80 bytes a run each)."""
    same = index.strings.get
    return [same(r, r) for r in run_ids]


def run_lookup(run: Run) -> Any:
    """Search lookup ``(entity, key) -> value`` over one run."""

    def lookup(entity: str, key: str) -> Any:
        if entity == "metric":
            return run.data.metrics.get(key)
        if entity == "param":
            return run.data.params.get(key)
        if entity == "tag":
            return run.data.tags.get(key)
        if entity == "dataset":
            return [
                {
                    "name": d.dataset.name,
                    "digest": d.dataset.digest,
                    "context": records.dataset_context(d),
                }
                for d in run.inputs.dataset_inputs
            ]
        if key in _RUN_ATTRIBUTES:
            return getattr(run.info, key)
        return None

    return lookup


__all__ = ["RunSearch", "run_lookup"]


def _in_trash(exp_dir: str) -> bool:
    """A deleted experiment's runs are searched checked, never trusted: deleting and
    restoring an experiment rewrites every run's lifecycle stage without marking the runs
    changed (which would make every later search check each run)."""
    return exp_dir.startswith(layout.TRASH + "/")
