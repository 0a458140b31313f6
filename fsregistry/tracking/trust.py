"""Trusted run index: a store that only fsregistry writes answers a cold search from its index
shards alone, without checking any file of the runs it does not return in full.

Without trust a cold search checks, for every run, the files that decide the answer against
the summary's change tokens (a ``stat`` each on local disk; on a bucket one listing of every
object of the experiment), since MLflow or anything else may have changed them. With trust:

- **declared in the store**: ``<root>/.fsreg-trust`` holds ``{"trust_index": true}`` or
  ``false`` (:func:`declare`); without it, trust is on for object stores (MLflow's file store
  cannot write to a bucket) and off on local disk. ``FSREG_TRUST_INDEX=1`` / ``0`` overrides
  both for a process.
- **what is trusted**: the summary of a run whose status is terminal (``FINISHED``,
  ``FAILED``, ``KILLED``), as the writer that ended it (or a reader) recorded it. The runs of
  an experiment are listed (one directory listing; a bucket lists its run prefixes, 1,000 per
  request) unless its generation says nothing changed (below), so a run created, deleted or
  renamed away by anyone is seen; a run with no summary, or a summary that says it is still
  running, is checked and read from its files as without trust; a run ended by MLflow is
  read so too.
- **changed runs**: every fsregistry writer that writes to a run whose status is terminal
  (a tag set after the end, a metric logged after it, a rename, a delete or restore, ending
  it again) first adds the run's id to ``<experiment>/.fsreg-changed-runs``
  (:meth:`ChangedRuns.mark`, before the write: a reader can never trust a summary a write
  made stale), and a trusted search checks the runs listed there from their files. A search
  re-reads the file only when its change token changed. Deleting or restoring a whole
  experiment marks nothing: a deleted experiment is searched checked, and a restore deletes
  the experiment's index shards and stamps it (``tracking.experiments``).
- **the run-set stamp and the generation**: ``<experiment>/.fsreg-runs-stamp`` is rewritten
  with fresh bytes (:func:`bump`) by every fsregistry writer AFTER it creates a run
  (``create_run``, an import), removes one (``gc``) or marks one changed (after the mark,
  before the write to the run: the run is read from its files from then on). A call whose
  stamp fails undoes its change before it raises (``create_run`` removes its run, a restore
  puts the experiment back in the trash; ``gc`` and an import report the failure and keep
  what they did), and a mark is made only once the call will write (its checks passed).
  The stamp's change token (S3 ETag of unique bytes, GCS generation, local size+mtime+inode of a replaced file)
  changes on every rewrite, concurrent writers included. On local disk the experiment
  directory's own ``Storage.dir_token`` is part of the generation (:func:`generation`), so a
  run directory MLflow or anyone makes or removes changes it without any stamp. A search
  reads the generation BEFORE it lists the runs; a later search in the same process that
  finds it unchanged reuses that listing and the changed runs read with it, listing and
  reading nothing of the store but the generation (one request on a bucket, two ``stat``
  on local disk). The runs that were not ended, unsummarised or changed at that look are
  still checked every time (one listing of the run each, read where a file changed since
  its summary), so a run's end, or a write to a changed run, needs no stamp. Without a stamp
  (an experiment written before stamps, until its next ``create_run``) every search lists.

  A writer that stops between its change and the stamp (a crash, a killed process) leaves
  a change that a process holding an older listing does not see until the next stamp (the
  next ``create_run`` in the experiment, say) or until a fresh process: for those searches
  the change counts as not made yet, as for a search that ran just before it; cold
  searches, ``get_run`` and untrusted searches see it. On a bucket so does a run created by
  an fsregistry older than the stamp (MLflow's file store cannot write to buckets).

When it is safe: when nothing but fsregistry (this version or later) changes runs after they
end: MLflow, an older fsregistry, a text editor or a sync tool rewriting a finished run's
files (a metric appended to a finished run by MLflow, say) is not seen by a trusted search
until that run is read again (``get_run`` always reads the files, and an untrusted search
re-summarises it). New runs, runs still running and runs ended by other tools are always
read. Runs returned whole by a trusted search are built from their summaries.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid

from fsregistry.storage import Storage

_log = logging.getLogger(__name__)

TRUST_FILE = ".fsreg-trust"
CHANGED_FILE = ".fsreg-changed-runs"
STAMP_FILE = ".fsreg-runs-stamp"
ENV = "FSREG_TRUST_INDEX"
# RunStatus values (ints in meta.yaml) of a run that ended: FINISHED, FAILED, KILLED.
TERMINAL_STATUSES = frozenset({3, 4, 5})


def declared(storage: Storage) -> bool:
    """Whether searches of this store trust its run index (see the module docstring)."""
    env = os.environ.get(ENV, "").strip().lower()
    if env in ("1", "true", "yes", "on"):
        return True
    if env in ("0", "false", "no", "off"):
        return False
    try:
        raw = storage.read(TRUST_FILE)
    except FileNotFoundError:
        return not storage.capabilities.cheap_stat
    try:
        value = json.loads(raw).get("trust_index")
    except (ValueError, AttributeError):
        value = None
    if not isinstance(value, bool):
        _log.warning(
            "Ignoring unreadable %s; the run index is not trusted", storage.uri(TRUST_FILE)
        )
        return False
    return value


def declare(storage: Storage, trust: bool) -> None:
    """Declare in the store whether its searches trust the run index."""
    storage.write(TRUST_FILE, json.dumps({"trust_index": trust}).encode("utf-8") + b"\n")


def is_terminal(status: object) -> bool:
    """Whether a run's ``status`` (as in meta.yaml: an int, or its name) is terminal."""
    if isinstance(status, str):
        return status in ("FINISHED", "FAILED", "KILLED")
    return status in TERMINAL_STATUSES


def changed_path(exp_dir: str) -> str:
    return f"{exp_dir}/{CHANGED_FILE}"


def stamp_path(exp_dir: str) -> str:
    return f"{exp_dir}/{STAMP_FILE}"


def bump(storage: Storage, exp_dir: str) -> None:
    """Rewrite the experiment's run-set stamp with fresh bytes, AFTER a change to its runs
    (module docstring). Raised errors are the storage's: the change is made, but a search
    holding an older listing would not see it, so the caller undoes it and fails
    (``create_run`` removes its run; a run it listed still running is checked at every
    search, so a trusted search holding it sees it gone)."""
    storage.write(stamp_path(exp_dir), uuid.uuid4().hex.encode("ascii") + b"\n")


def generation(storage: Storage, exp_dir: str) -> str | None:
    """The experiment's generation, read before its runs are listed: equal at two searches
    only if no fsregistry writer stamped a change to its runs in between and (local disk)
    no entry of its directory was made or removed. None where it cannot tell (no stamp yet,
    a network filesystem, no change tokens): then every search lists.

    The stamp's *contents* (fresh random bytes at every :func:`bump`) are the generation, not
    its change token: a local file's token (mtime, size, inode) can repeat after two rewrites
    within one clock tick. A reader never makes the stamp: a write by a reader could recreate
    an experiment directory another process has just deleted or moved to the trash.

    No generation where no fsregistry writer stamps what this storage shows: a read-only
    storage (``capabilities.read_only``: the MLflow plugin's view of a team's store; its
    searches list every time, so the UI also shows runs made by writers that do not stamp,
    an older fsregistry), and a backend fsregistry cannot create runs on (no atomic create and
    no directories: a generic fsspec filesystem such as SFTP or WebDAV, whose runs come from
    MLflow or from fsregistry through a mount, neither of which stamps it)."""
    caps = storage.capabilities
    if caps.read_only or not (caps.atomic_create or caps.directories):
        return None  # no fsregistry writer stamps it: see above
    try:
        stamp = storage.read(stamp_path(exp_dir)).decode("ascii", "replace").strip()
    except FileNotFoundError:
        return None  # written before stamps: the experiment's next create_run makes it
    if not stamp:
        return None
    if not storage.capabilities.directories:
        return stamp
    directory = storage.dir_token(exp_dir)
    return None if directory is None else f"{stamp}/{directory}"


def parse_changed(raw: bytes | None) -> set[str]:
    """The run ids a changed-runs file lists (a line still being written left out)."""
    if not raw:
        return set()
    body = raw if raw.endswith(b"\n") else raw[: raw.rfind(b"\n") + 1]
    return {line.decode("utf-8", "replace") for line in body.split(b"\n") if line}


class ChangedRuns:
    """This process's view of the experiments' changed-runs files, and what it marked."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._marked: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def mark(self, exp_dir: str, run_id: str) -> None:
        """Add ``run_id`` to its experiment's changed runs, then bump its stamp, before a
        write to the ended run. Raised errors are the storage's: a write that cannot be
        marked is not made. If the stamp fails after the id was added, the id stays: a
        changed mark only makes searches read that run from its files, and taking it out
        again could drop the mark another writer relies on (its id was already there)."""
        with self._lock:
            if (exp_dir, run_id) in self._marked:
                return
        path = changed_path(exp_dir)
        storage = self._storage
        if storage.capabilities.append:
            storage.append(path, f"{run_id}\n".encode())
        else:

            def change(old: bytes | None) -> bytes:
                added = b"" if run_id in parse_changed(old) else f"{run_id}\n".encode()
                return (old or b"") + added

            storage.update(path, change)
        bump(storage, exp_dir)
        with self._lock:
            self._marked.add((exp_dir, run_id))

    def read(self, exp_dir: str) -> set[str]:
        """The runs of an experiment marked changed since they ended."""
        try:
            return parse_changed(self._storage.read(changed_path(exp_dir)))
        except FileNotFoundError:
            return set()


__all__ = [
    "CHANGED_FILE",
    "ENV",
    "STAMP_FILE",
    "TRUST_FILE",
    "ChangedRuns",
    "bump",
    "declare",
    "declared",
    "generation",
    "is_terminal",
    "parse_changed",
    "stamp_path",
]
