"""Finding what is broken in a store, for ``fsreg doctor`` (the kinds of findings are listed
in :mod:`fsregistry.maintenance.doctor`).

How a store is read: one listing of the whole store (:mod:`fsregistry.maintenance.listing`:
on local disk it also sees directories and fsregistry's lock and temp files), then one bulk
read of the small files that matter, chosen by their place in the ``mlruns`` layout: every
``meta.yaml``, run metric/param/tag files, alias files and run summary shards. Artifacts are
never read. Every check then works on that snapshot:

- each ``meta.yaml`` is parsed; one that is not a YAML mapping is ``malformed_yaml``;
- experiments (active and in ``.trash/``), their runs and shards, then registered models, their
  versions and aliases are checked against their place (ids, names, lifecycle, status);
- a registered model is seen or not as readers see it, by the registry store's rename
  markers (:class:`RenameMarkers`, which the rename repairs re-read too);
- on local disk, lock and temp files are checked last (those in a directory reported as
  ``interrupted_create`` are part of that finding); among artifacts, where names are the
  user's, they are only reported (:mod:`~fsregistry.maintenance.local_disk` says where what
  is fixable, earlier versions' names included).

Anything changed within ``min_age_s`` that may belong to a writer at work is left out.

Collaborators: :mod:`~fsregistry.maintenance.diagnosis_base` (the snapshot, findings and
shared helpers), :mod:`~fsregistry.maintenance.diagnosis_registry` (the registry's checks),
this module (the pass itself, tracking checks and local leftovers).

Findings are data (:class:`Finding`): the kind, the store-relative path, a message, and
whether ``--fix`` may repair it (with ``expect``, what the repair must still find).
"""

from __future__ import annotations

import time

from fsregistry.maintenance import local_disk
from fsregistry.maintenance.diagnosis_base import (
    DEFAULT_MIN_AGE_S,
    ERROR,
    WARNING,
    Finding,
)
from fsregistry.maintenance.diagnosis_registry import RegistryChecks, RenameMarkers
from fsregistry.maintenance.listing import list_store
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import MalformedMetaFile
from fsregistry.storage import Storage
from fsregistry.tracking.records import parse_metric_lines
from fsregistry.tracking.run_index import SHARD_PREFIX, decode_shard, shard_name

_RUN_DIRS_MLFLOW_NEEDS = ("metrics", "params", "artifacts")


def diagnose(
    storage: Storage, min_age_s: float = DEFAULT_MIN_AGE_S, now: float | None = None
) -> list[Finding]:
    """Every problem found in the store under ``storage``, sorted by path."""
    return Scan(storage, min_age_s, time.time() if now is None else now).run()


def _meta_label(path: str) -> str:
    parts = path.split("/")
    for part, label in (
        ("datasets", "dataset"),
        (layout.MODELS, "logged model"),
        ("inputs", "run input"),
        ("outputs", "run output"),
    ):
        if len(parts) >= 3 and parts[-3] == part:
            return label
    return "metadata"


def _role(path: str) -> str | None:
    """What a file is, for the files doctor reads; None for everything else."""
    parts = path.split("/")
    if parts[0] == layout.MODELS:
        rest = parts[2:]
        if rest == [layout.META]:
            return "model_meta"
        if len(rest) == 2 and rest[0] == "aliases":
            return "alias"
        if (
            len(rest) == 2
            and rest[1] == layout.META
            and layout.parse_version_dir_name(rest[0]) is not None
        ):
            return "version_meta"
        return None
    rest = parts[2:] if parts[0] == layout.TRASH else parts[1:]
    if not rest:
        return None
    if rest == [layout.META]:
        return "experiment_meta"
    if len(rest) == 1:
        return "shard" if rest[0].startswith(SHARD_PREFIX) else None
    head = rest[0]
    if head in ("datasets", layout.MODELS):
        return "meta" if len(rest) == 3 and rest[2] == layout.META else None
    if head in layout.RESERVED_EXPERIMENT_FOLDERS:
        return None
    if rest[1:] == [layout.META]:
        return "run_meta"
    if len(rest) >= 3 and rest[1] == "metrics":
        return "metric"
    if len(rest) >= 3 and rest[1] in ("params", "tags"):
        return "text"
    if len(rest) == 4 and rest[1] in ("inputs", "outputs") and rest[3] == layout.META:
        return "meta"
    return None


class Scan(RegistryChecks):
    """One pass over a store: :meth:`run` returns its findings."""

    def run(self) -> list[Finding]:
        self.listing = list_store(self.storage)
        self.hollow = self.listing.hollow_dirs()
        self.internal_only = self.listing.internal_only_dirs()
        for d in self.listing.dirs:
            self.subdirs.setdefault(d.rpartition("/")[0], []).append(d)
        for p in self.listing.files:
            head, _, name = p.rpartition("/")
            self.files_in.setdefault(head, []).append(name)
        roles = {p: _role(p) for p in self.listing.files}
        self.contents = self.storage.read_many(sorted(p for p, r in roles.items() if r))
        self.markers = RenameMarkers(self.contents, self.now)
        for path, role in roles.items():
            if role == "meta":
                self._load(path, _meta_label(path))
            elif role in ("metric", "text"):
                self._check_run_file(path, role)
        for exp_dir in self._experiment_dirs():
            self._check_experiment(exp_dir)
        for model_dir in sorted(self._children(layout.MODELS)):
            self._check_model(model_dir)
        self._check_internal_files()
        from fsregistry.maintenance.history_gaps import history_findings  # it imports Finding

        self.findings += history_findings(
            self.listing.files, self.contents, self.min_age_s, self.now
        )
        return sorted(self.findings, key=lambda f: (f.path, f.kind))

    # -- tracking -----------------------------------------------------------------------------
    def _experiment_dirs(self) -> list[str]:
        active = [d for d in self._children("") if d not in layout.RESERVED_ROOT_FOLDERS]
        return sorted(active + self._children(layout.TRASH))

    def _check_experiment(self, exp_dir: str) -> None:
        exp_id = exp_dir.rsplit("/", 1)[-1]
        in_trash = exp_dir.startswith(f"{layout.TRASH}/")
        meta_path = layout.experiment_meta(exp_dir)
        if meta_path not in self.listing.files:
            self._missing_meta(exp_dir, "experiment")
            return
        meta = self._load(meta_path, "experiment")
        if meta is not None:
            if str(meta.get("experiment_id")) != exp_id:
                self._add(
                    "invalid_meta",
                    meta_path,
                    f"experiment_id {meta.get('experiment_id')!r} differs from its directory "
                    f"{exp_id!r}: readers ignore the experiment",
                )
            stage = meta.get("lifecycle_stage") or "active"
            if (stage == "deleted") != in_trash:
                where = "inside .trash/" if in_trash else "outside .trash/"
                self._add(
                    "misplaced_experiment",
                    exp_dir,
                    f"Experiment {exp_id} has lifecycle_stage {stage!r} but lies {where} "
                    "(an interrupted delete or restore)",
                )
        if in_trash and layout.experiment_meta(exp_id) in self.listing.files:
            self._add(
                "duplicate_experiment",
                exp_dir,
                f"Experiment {exp_id} exists both in {exp_id}/ and in {exp_dir}/ (an "
                "interrupted delete or restore); readers use the active copy",
            )
        runs_with_meta: list[str] = []
        for run_dir in sorted(self._children(exp_dir)):
            name = run_dir.rsplit("/", 1)[-1]
            if name in layout.RESERVED_EXPERIMENT_FOLDERS:
                continue
            if self._check_run(exp_id, run_dir):
                runs_with_meta.append(name)
        used_shards = {shard_name(r) for r in runs_with_meta}
        for name in sorted(self.files_in.get(exp_dir, [])):
            if name.startswith(SHARD_PREFIX):
                self._check_shard(f"{exp_dir}/{name}", name in used_shards)

    def _check_run(self, exp_id: str, run_dir: str) -> bool:
        run_id = run_dir.rsplit("/", 1)[-1]
        meta_path = f"{run_dir}/{layout.META}"
        if meta_path not in self.listing.files:
            self._missing_meta(run_dir, "run")
            return False
        meta = self._load(meta_path, "run")
        if meta is not None:
            recorded = str(meta.get("run_id") or meta.get("run_uuid") or "")
            if recorded != run_id:
                self._add(
                    "invalid_meta",
                    meta_path,
                    f"run_id {recorded!r} differs from its directory {run_id!r}: readers "
                    "ignore the run",
                )
            if str(meta.get("experiment_id")) != exp_id:
                self._add(
                    "invalid_meta",
                    meta_path,
                    f"experiment_id {meta.get('experiment_id')!r} differs from the "
                    f"experiment directory {exp_id!r}",
                )
            status = meta.get("status")
            if status is not None and (not isinstance(status, int) or isinstance(status, bool)):
                self._add(
                    "invalid_meta",
                    meta_path,
                    f"status {status!r} is not an integer (1-5): MLflow 3 cannot read the run",
                )
        if self.storage.capabilities.directories:
            missing = [
                s for s in _RUN_DIRS_MLFLOW_NEEDS if f"{run_dir}/{s}" not in self.listing.dirs
            ]
            if missing:
                self._add(
                    "missing_run_dirs",
                    run_dir,
                    f"Run lacks {', '.join(m + '/' for m in missing)}: MLflow 3 cannot find it "
                    "by id",
                    fixable=True,
                    severity=WARNING,
                    expect=",".join(missing),
                )
        return True

    def _check_run_file(self, path: str, role: str) -> None:
        raw = self.contents.get(path)
        if raw is None:
            return
        try:
            if role == "metric":
                key = path.split("/metrics/", 1)[-1]
                parse_metric_lines(raw, key, path)
            else:
                raw.decode("utf-8")
        except MalformedMetaFile as e:
            self._add("malformed_run_file", path, e.message)
        except UnicodeDecodeError as e:
            self._add("malformed_run_file", path, f"Not UTF-8 text ({e.reason} at byte {e.start})")

    def _check_shard(self, path: str, used: bool) -> None:
        raw = self.contents.get(path)
        if raw is None:
            return
        if decode_shard(raw) is None:
            self._add(
                "corrupt_index",
                path,
                "Run summary shard (a cache) does not parse; it is ignored and rebuilt",
                fixable=True,
                severity=WARNING,
            )
        elif not used:
            self._add(
                "stale_index",
                path,
                "Run summary shard (a cache) for runs that no longer exist",
                fixable=True,
                severity=WARNING,
            )

    # -- local leftovers ------------------------------------------------------------------------
    def _check_internal_files(self) -> None:
        for path in sorted(self.listing.internal - self.covered):
            if self._young(path):
                continue
            if local_disk.is_dir_lock(path):
                continue  # a directory's own lock: it lives as long as the directory, by design
            if self._among_artifacts(path):
                self._add(
                    "internal_file_in_artifacts",
                    path,
                    "File named like fsregistry's own lock or temp file among artifacts, where "
                    "files may have any name: left by an interrupted upload, or a user's file; "
                    "remove it by hand if no upload is running",
                    severity=WARNING,
                )
            elif local_disk.is_lock_file(path):
                if local_disk.lock_target(path) in self.listing.files:
                    continue  # a lock file next to its file: kept for good, by design
                self._add(
                    "orphan_lock",
                    path,
                    "Lock file of a file that no longer exists",
                    fixable=True,
                    severity=WARNING,
                )
            else:
                self._add(
                    "temp_file",
                    path,
                    "Temp file of an interrupted write",
                    fixable=True,
                    severity=WARNING,
                )
        for path in sorted(self.listing.legacy - self.covered):
            if self._young(path):
                continue
            lock = path.endswith(local_disk.LEGACY_LOCK_SUFFIX)
            self._add(
                "legacy_lock_file" if lock else "legacy_temp_file",
                path,
                f"{'Lock' if lock else 'Temp'} file named the way earlier fsregistry versions "
                "did; nothing uses it any more",
                fixable=True,
                severity=WARNING,
            )


__all__ = [
    "DEFAULT_MIN_AGE_S",
    "ERROR",
    "WARNING",
    "Finding",
    "RenameMarkers",
    "Scan",
    "diagnose",
]
