"""Reading runs from their files, and recording what was read as summaries.

A run is its ``meta.yaml`` and the files under its data directories
(``locations.RUN_DATA_DIRS``): it is read with one listing of those and one bulk read of
every file, whether one run (``get_run``) or thousands (a search). Its ``meta.yaml`` must name
the run's own id, or the directory is not that run, and the experiment whose directory holds
it, or a search leaves it out with a warning (as MLflow does; reading it by id raises, see
``Locations.check_run_meta``); a run whose files do not decode is left out with a warning
(one damaged run must not break every search; ``fsreg doctor`` names it).

What a search had to read anyway is recorded in the experiment's index (``run_index``: in
memory, and in the experiment's shard files) with the change tokens of the files it came
from, so the next search, in this process or another, decodes the summary instead:

- a reader records a run only if none of its files changed shortly before its listing
  (``run_index.is_racy``); the writer that ends a run (:meth:`RunReader.summarise_run`)
  records it right after its own writes (see ``run_index`` for why it may), appending its
  line to the shard where the storage can append;
- a reader that listed an experiment whole passes every run it found, so shards drop the
  runs that are gone;
- a run listed after being watched by the change feed is vouched for as a whole
  (``vouches.vouch_for``) when it is recorded.

Stored artifact URIs are relocated (``Locations.relocate``) as runs are built.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from fsregistry.entities import Run
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import MalformedMetaFile, load_meta
from fsregistry.storage import FileInfo
from fsregistry.tracking import records, run_index
from fsregistry.tracking.locations import RUN_DATA_DIRS, Locations, prune_run_dir
from fsregistry.tracking.trust import ChangedRuns
from fsregistry.tracking.vouches import Vouch, vouch_for

_log = logging.getLogger(__name__)


def from_experiment(run_id: str, listing: Iterable[FileInfo]) -> list[FileInfo]:
    """A run-relative listing with paths relative to the run's experiment."""
    return [FileInfo(f"{run_id}/{i.path}", i.size, i.token, i.mtime) for i in listing]


class RunReader:
    """Reads the runs of one store and keeps its experiments' indexes (``run_index``)."""

    def __init__(self, locations: Locations) -> None:
        self._locations = locations
        self.storage = locations.storage
        self.indexes: dict[str, run_index.ExperimentIndex] = {}  # exp dir -> run summaries
        # Ended runs written again, which a trusted index does not vouch for (``trust``).
        self.changed = ChangedRuns(locations.storage)

    def index(self, exp_dir: str) -> run_index.ExperimentIndex:
        return self.indexes.setdefault(exp_dir, run_index.ExperimentIndex())

    # -- one run ----------------------------------------------------------------------------
    def run_contents(self, exp_dir: str, run_id: str) -> dict[str, bytes]:
        """The bytes of one run's data files (params, tags, metrics, inputs, outputs) by path
        relative to the run, listed and read in one go."""
        run_dir = layout.run_dir(exp_dir, run_id)
        listing = self.storage.walk(run_dir, prune=prune_run_dir, sizes=False)
        wanted = [f.path for f in listing if f.path.partition("/")[0] in RUN_DATA_DIRS]
        contents = self.storage.read_many(f"{run_dir}/{p}" for p in wanted)
        return {p: contents[f"{run_dir}/{p}"] for p in wanted if f"{run_dir}/{p}" in contents}

    def run_uri(self, exp_dir: str, run_id: str) -> str:
        """The run directory's URI, as errors name it."""
        return self.storage.uri(layout.run_dir(exp_dir, run_id))

    def datasets(self, exp_dir: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The experiment's dataset records of these ids (``{id: meta}``; missing ones left
        out)."""
        paths = {layout.dataset_meta(exp_dir, i): i for i in set(ids)}
        out: dict[str, dict[str, Any]] = {}
        for path, raw in self.storage.read_many(paths).items():
            out[paths[path]] = load_meta(raw, path)
        return out

    def build_run(
        self,
        exp_dir: str,
        run_id: str,
        files: records.RunFiles,
        datasets: Mapping[str, dict[str, Any]],
    ) -> Run:
        exp_id = str(files.meta_get("experiment_id"))
        artifact_uri = self._locations.relocate(
            str(files.meta_get("artifact_uri") or ""), exp_id, run_id
        )
        return records.build_run(files, artifact_uri, datasets)

    def list_run(
        self, exp_dir: str, run_id: str, relative: bool = False, seen: set[str] | None = None
    ) -> list[FileInfo]:
        """One run's data files with their tokens, paths relative to the experiment (or, with
        ``relative``, to the run). ``seen`` collects the directories the listing went
        through, run-relative."""
        prune = prune_run_dir
        if seen is not None:

            def prune(rel: str, add: Any = seen.add) -> bool:
                if prune_run_dir(rel):
                    return True
                add(rel)
                return False

        listing = self.storage.walk(f"{exp_dir}/{run_id}", prune=prune, sizes=True)
        data = RUN_DATA_DIRS
        own = [i for i in listing if i.path == layout.META or i.path.partition("/")[0] in data]
        return own if relative else from_experiment(run_id, own)

    # -- many runs, and their summaries -----------------------------------------------------
    def read_and_summarise(
        self,
        exp_dir: str,
        per_run: Mapping[str, list[FileInfo]],
        listed_at: float | None,
        live: set[str] | None = None,
        vouches: Mapping[str, Vouch] | None = None,
    ) -> dict[str, records.RunFiles]:
        """Read runs from their files and record them in the experiment's index, unless a
        file changed too shortly before ``listed_at`` (``run_index.is_racy``; None: no such
        guard, for the writer that ends a run). ``live``: every run of the experiment, when
        known, so shards drop runs that are gone. ``vouches``: for runs watched before they
        were listed, what the change feed is to vouch for (``vouches.vouch_for``)."""
        if not per_run:
            return {}
        index = self.index(exp_dir)
        found = self.read_runs(exp_dir, per_run, index.strings)
        lines: dict[str, bytes] = {}
        for run_id, infos in per_run.items():
            files = found.get(run_id)
            tokens = run_index.tokens_of(infos, strip=len(run_id) + 1)
            if files is None or tokens is None:
                continue
            if listed_at is not None and run_index.is_racy(infos, listed_at):
                continue
            lines[run_id] = index.record(run_id, tokens, files)
            if vouches:
                vouch_for(index, run_id, index.runs[run_id].tokens, vouches.get(run_id))
        if not lines:
            return found
        if listed_at is None and self.storage.capabilities.append:
            for run_id, line in lines.items():  # the writer that ends a run: run_index.append
                index.append(self.storage, exp_dir, run_id, line)
        else:
            index.persist(self.storage, exp_dir, lines, live)
        return found

    def read_runs(
        self,
        exp_dir: str,
        per_run: Mapping[str, list[FileInfo]],
        strings: dict[str, str] | None = None,
    ) -> dict[str, records.RunFiles]:
        """Decode runs from their files (one bulk read); runs that are not valid are left out.
        ``per_run`` holds each run's files with paths relative to ``exp_dir`` (``strings``:
        see ``run_files.share``)."""
        contents = self.storage.read_many(
            f"{exp_dir}/{i.path}" for infos in per_run.values() for i in infos
        )
        out: dict[str, records.RunFiles] = {}
        exp_id = exp_dir.rsplit("/", 1)[-1]
        for run_id, infos in per_run.items():
            meta_raw = contents.get(f"{exp_dir}/{run_id}/{layout.META}")
            if meta_raw is None:
                continue  # a run directory without meta.yaml is not a run
            strip = len(run_id) + 1
            files = {
                i.path[strip:]: contents[f"{exp_dir}/{i.path}"]
                for i in infos
                if i.path[strip:] != layout.META and f"{exp_dir}/{i.path}" in contents
            }
            try:
                run_files = records.parse_run_files(meta_raw, f"{exp_dir}/{run_id}", files, strings)
            except (MalformedMetaFile, UnicodeDecodeError) as e:
                # One damaged run must not break every search; `fsreg doctor` names it.
                _log.warning("Skipping run %s: %s", self.storage.uri(f"{exp_dir}/{run_id}"), e)
                continue
            meta = run_files.meta_get
            if str(meta("run_id") or meta("run_uuid")) != run_id:
                continue
            if str(meta("experiment_id")) != exp_id:
                _log.warning(
                    "Skipping run %s: its meta.yaml names experiment %s",
                    self.storage.uri(f"{exp_dir}/{run_id}"),
                    meta("experiment_id"),
                )
                continue
            out[run_id] = run_files
        return out

    def summarise_run(self, exp_dir: str, run_id: str) -> None:
        """Record a run that just ended in its experiment's index (see ``run_index``), so the
        next reader in any process finds it summarised instead of reading its files. Skips the
        racy guard: see the module docstring of ``run_index`` for why this writer may."""
        capabilities = self.storage.capabilities
        if not (capabilities.append or capabilities.compare_and_swap):
            return  # shards cannot be updated safely here; readers read the files
        self.read_and_summarise(exp_dir, {run_id: self.list_run(exp_dir, run_id)}, None)


__all__ = ["RunReader", "from_experiment"]
