"""``fsreg doctor``: find what is broken in a store, and repair what is safe to repair.

One listing of the store and one bulk read of the small files that matter (every
``meta.yaml``, run metric/param/tag files, alias files, index shards) give every finding
(:func:`diagnose`, :mod:`fsregistry.maintenance.diagnosis`); artifacts are never read.
Findings are data (:class:`Finding`); :func:`repair` (:mod:`fsregistry.maintenance.repairs`)
applies the fixes of the fixable ones, each re-checking its condition first.

What is reported (``kind``; *fixable* ones are repaired by ``--fix``):

errors (something MLflow or fsregistry cannot read as intended; never deleted, that would be
user data):

- ``malformed_yaml``: a ``meta.yaml`` (experiment, run, logged model, dataset, run
  input/output, registered model, model version) that is empty, not YAML or not a mapping;
  the item is skipped by every reader. Empty ones are what an interrupted non-atomic rewrite
  leaves (MLflow rewrites run metadata in place).
- ``missing_meta``: an experiment, run, registered model or ``version-N`` directory holding
  files but no ``meta.yaml``, not all of them fsregistry's own (those are
  ``interrupted_create``).
- ``invalid_meta``: a ``meta.yaml`` that parses but contradicts its place (id or version
  differs from the directory name, run status not an integer, ...).
- ``malformed_run_file``: a metric line that does not parse or a param/tag file that is not
  UTF-8: searches skip or fail on the run.
- ``duplicate_experiment``: an experiment both in ``<id>/`` and ``.trash/<id>/`` (an
  interrupted delete or restore on an object store).
- ``misplaced_experiment``: ``lifecycle_stage`` disagrees with the location (deleted but not
  in ``.trash/``, or active inside it): an interrupted delete or restore.
- ``pending_version``: a model version still ``PENDING_REGISTRATION`` long after it was
  created (an interrupted cross-store copy).

leftovers and stale data (warnings; fixable unless said otherwise):

- ``dangling_alias``: an alias pointing at a missing or deleted version, or at no number.
  Fix: delete the alias file (as deleting the version would have).
- ``missing_run_dirs`` (local disk): a run without its ``metrics/``, ``params/`` or
  ``artifacts/`` directory, which MLflow 3 needs to find the run by id. Fix: create them.
- ``empty_directory`` (local disk): an experiment, run, model or version directory with no
  file at all; MLflow's registry fails on an empty model directory. Fix: remove it.
- ``interrupted_create`` (local disk): an experiment, run, model or version directory with
  no ``meta.yaml`` and nothing in it but fsregistry's own temp (and lock) files: a create
  killed between writing its meta.yaml to a temp file and linking it into place, so the item
  was never created (a version number stays free for the next registration). MLflow skips
  such an experiment or run directory and fails on such a registry one. Fix: remove those files and the
  directory, if they are still all there is and still old.
- ``temp_file`` (local disk): a temp file of an interrupted write. Fix: delete it.
- ``orphan_lock`` (local disk): a lock file whose guarded file is gone. Fix: delete it.
- ``corrupt_index`` / ``stale_index``: a run summary shard (``.fsreg-index-XX``, a cache)
  that does not parse / that no run of its experiment uses any more. Fix: delete it.
- ``unfinished_rename`` (local disk): a registered model whose ``meta.yaml`` still carries its
  old name after a rename. Fix: finish the rename.
- ``interrupted_rename`` (object stores): files left by a rename that was interrupted; fixable
  when the model they were copied from / to is intact.
- ``history_gap`` / ``stray_history_file`` (not fixable): a registered model changed after
  its last audit-trail event, a file in the audit trail that is not an event
  (:mod:`fsregistry.maintenance.history_gaps`).

Anything younger than ``min_age_s`` (default one hour) that could belong to a writer at work
(temp files, lock files, empty directories, directories without ``meta.yaml`` on local disk
and the files in them, rename copies, pending versions) is left out.
"""

from __future__ import annotations

from fsregistry.maintenance.diagnosis import DEFAULT_MIN_AGE_S, ERROR, WARNING, Finding, diagnose
from fsregistry.maintenance.repairs import repair

__all__ = ["DEFAULT_MIN_AGE_S", "ERROR", "WARNING", "Finding", "diagnose", "repair"]
