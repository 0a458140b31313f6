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

Findings are data (:class:`Finding`): the kind, the store-relative path, a message, and
whether ``--fix`` may repair it (with ``expect``, what the repair must still find).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fsregistry.entities.registry import STAGE_DELETED_INTERNAL, ModelVersionStatus
from fsregistry.maintenance import local_disk
from fsregistry.maintenance.listing import StoreListing, list_store
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import MalformedMetaFile, load_meta
from fsregistry.registry.claims import STALE_RENAME_MS
from fsregistry.registry.fields import FSREG_KEY
from fsregistry.storage import Storage
from fsregistry.storage.local import LocalStorage
from fsregistry.tracking.records import parse_metric_lines
from fsregistry.tracking.run_index import SHARD_PREFIX, decode_shard, shard_name

ERROR = "error"
WARNING = "warning"
DEFAULT_MIN_AGE_S = 3600.0
_RUN_DIRS_MLFLOW_NEEDS = ("metrics", "params", "artifacts")


@dataclass(frozen=True)
class Finding:
    """One problem: what (``kind``), where (store-relative ``path``), and whether ``--fix``
    may repair it. ``expect`` is what the fix must still find before it acts."""

    kind: str
    path: str
    message: str
    fixable: bool
    severity: str = ERROR
    fixed: bool = False
    fix_error: str | None = None
    expect: str = field(default="", compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": self.path,
            "message": self.message,
            "severity": self.severity,
            "fixable": self.fixable,
            "fixed": self.fixed,
            "fix_error": self.fix_error,
        }


def diagnose(
    storage: Storage, min_age_s: float = DEFAULT_MIN_AGE_S, now: float | None = None
) -> list[Finding]:
    """Every problem found in the store under ``storage``, sorted by path."""
    return Scan(storage, min_age_s, time.time() if now is None else now).run()


class RenameMarkers:
    """Which registered models readers see, from the registry store's rename bookkeeping in
    the models' ``meta.yaml`` files (``contents``: path -> bytes; see
    :mod:`fsregistry.registry.rename`)."""

    def __init__(self, contents: Mapping[str, bytes], now: float) -> None:
        self.contents = contents
        self.now = now

    def bookkeeping(self, name: str) -> dict[str, Any] | None:
        """The ``fsregistry`` bookkeeping of a model's meta.yaml (None: no readable meta)."""
        raw = self.contents.get(layout.registered_model_meta(name))
        if raw is None:
            return None
        try:
            meta = load_meta(raw, name)
        except MalformedMetaFile:
            return None
        value = meta.get(FSREG_KEY)
        return dict(value) if isinstance(value, dict) else {}

    def visible(self, name: str) -> bool:
        """Whether ``models/<name>`` is a registered model to readers (the registry store's
        rename markers; see :mod:`fsregistry.registry.rename`)."""
        fs = self.bookkeeping(name)
        if fs is None or fs.get("renamed_to"):
            return False
        source = fs.get("rename_from")
        if not source:
            return True
        other = self.bookkeeping(str(source)) or {}
        return other.get("renamed_to") == name and other.get("rename_id") == fs.get("rename_id")

    def rename_age_s(self, fs: Mapping[str, Any]) -> float:
        started = fs.get("rename_started")
        return self.now - started / 1000 if isinstance(started, int) else float("inf")


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


class Scan:
    """One pass over a store: :meth:`run` returns its findings."""

    def __init__(self, storage: Storage, min_age_s: float, now: float) -> None:
        self.storage = storage
        self.min_age_s = min_age_s
        self.now = now
        self.local_root = storage.root if isinstance(storage, LocalStorage) else None
        self.findings: list[Finding] = []
        self.listing = StoreListing()
        self.contents: dict[str, bytes] = {}
        self.markers = RenameMarkers(self.contents, now)
        self.hollow: set[str] = set()
        self.internal_only: set[str] = set()
        self.artifact_dirs: set[str] | None = None  # see local_disk.artifact_dirs
        # Lock and temp files a finding on their directory covers (not reported again).
        self.covered: set[str] = set()
        self.subdirs: dict[str, list[str]] = {}  # directory -> its sub-directories
        self.files_in: dict[str, list[str]] = {}  # directory -> names of its files

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

    # -- helpers ------------------------------------------------------------------------------
    def _add(
        self,
        kind: str,
        path: str,
        message: str,
        fixable: bool = False,
        severity: str = ERROR,
        expect: str = "",
    ) -> None:
        self.findings.append(Finding(kind, path, message, fixable, severity, expect=expect))

    def _children(self, parent: str) -> list[str]:
        return self.subdirs.get(parent, [])

    def _young(self, path: str) -> bool:
        """Whether a local path changed within ``min_age_s`` (a writer may be at work)."""
        if self.local_root is None:
            return False
        age = local_disk.age_seconds(self.local_root, path, self.now)
        return age is None or age < self.min_age_s

    def _load(self, path: str, what: str) -> dict[str, Any] | None:
        raw = self.contents.get(path)
        if raw is None:
            return None  # vanished since the listing
        try:
            return load_meta(raw, path)
        except MalformedMetaFile as e:
            reason = e.message.split(f"{path}: ", 1)[-1]
            if not raw.strip():
                reason = "empty (a crashed in-place rewrite, as MLflow does them)"
            self._add("malformed_yaml", path, f"Unreadable {what} meta.yaml: {reason}")
            return None

    def _missing_meta(self, directory: str, what: str) -> bool:
        """Report a directory without meta.yaml; False if it may be a write in progress."""
        if self._young(directory):
            return False
        if directory in self.internal_only:
            return self._interrupted_create(directory, what)
        if directory in self.hollow:
            self._add(
                "empty_directory",
                directory,
                f"Empty {what} directory (no meta.yaml, no files); MLflow lists it and warns "
                "or fails",
                fixable=True,
                severity=WARNING,
            )
        else:
            self._add(
                "missing_meta",
                directory,
                f"{what.capitalize()} directory without meta.yaml: readers skip it, its files "
                "are unreachable",
            )
        return True

    def _interrupted_create(self, directory: str, what: str) -> bool:
        """A directory without meta.yaml holding only fsregistry's own lock and temp files:
        a create of its meta.yaml killed between writing the temp file and linking it into
        place (:mod:`fsregistry.storage.local`). Nothing of the item exists; every file there
        is provably fsregistry's, so ``--fix`` may remove them and the directory."""
        ours = sorted(
            p for p in self.listing.internal | self.listing.legacy if p.startswith(f"{directory}/")
        )
        if any(self._young(p) for p in ours):
            return False  # a writer may be at work
        if any(self._among_artifacts(p) for p in ours if p in self.listing.internal):
            return False  # reported file by file, for a person to judge
        self.covered.update(ours)
        if what == "model version":
            then = "; the next registration takes its number; MLflow's registry fails on it"
        elif what == "registered model":
            then = "; MLflow's registry fails on it"
        else:
            then = "; MLflow skips it"
        self._add(
            "interrupted_create",
            directory,
            f"{what.capitalize()} directory holding only fsregistry's own temp or lock "
            f"file(s) ({len(ours)}), left by a create killed before its meta.yaml was in "
            f"place: no {what} exists here{then}",
            fixable=True,
            severity=WARNING,
        )
        return True

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

    # -- registry -----------------------------------------------------------------------------
    def _check_model(self, model_dir: str) -> None:
        name = model_dir.split("/", 1)[1]
        meta_path = layout.registered_model_meta(name)
        if meta_path not in self.listing.files:
            self._missing_meta(model_dir, "registered model")
            return
        meta = self._load(meta_path, "registered model")
        if meta is None:
            return
        fs = self.markers.bookkeeping(name) or {}
        if fs.get("renamed_to"):
            self._check_tombstone(name, model_dir, fs)
            return
        if not self.markers.visible(name):
            self._check_rename_target(name, model_dir, fs)
            return
        if meta.get("name") != name:
            if self.local_root is not None:
                self._add(
                    "unfinished_rename",
                    meta_path,
                    f"Model directory {name!r} still names itself {meta.get('name')!r} (an "
                    "interrupted rename); MLflow shows the old name",
                    fixable=True,
                    severity=WARNING,
                )
            else:
                self._add(
                    "invalid_meta",
                    meta_path,
                    f"name {meta.get('name')!r} differs from its directory {name!r}",
                )
        versions: dict[int, dict[str, Any] | None] = {}
        for version_dir in sorted(self._children(model_dir)):
            number = layout.parse_version_dir_name(version_dir.rsplit("/", 1)[-1])
            if number is not None:
                versions[number] = self._check_version(name, number, version_dir)
        aliases_dir = layout.registered_model_aliases(name)
        for alias in sorted(self.files_in.get(aliases_dir, [])):
            self._check_alias(f"{aliases_dir}/{alias}", versions)

    def _check_version(self, name: str, number: int, version_dir: str) -> dict[str, Any] | None:
        meta_path = layout.model_version_meta(name, number)
        if meta_path not in self.listing.files:
            self._missing_meta(version_dir, "model version")
            return None
        meta = self._load(meta_path, "model version")
        if meta is None:
            return None
        version = meta.get("version")
        if version != number or isinstance(version, bool):
            self._add(
                "invalid_meta",
                meta_path,
                f"version {version!r} is not the integer {number} of its directory",
            )
        stamp = meta.get("last_updated_timestamp") or meta.get("creation_timestamp") or 0
        if (
            meta.get("status") == ModelVersionStatus.PENDING_REGISTRATION
            and isinstance(stamp, int)
            and self.now - stamp / 1000 >= self.min_age_s
        ):
            self._add(
                "pending_version",
                meta_path,
                f"Version {number} of {name!r} is still PENDING_REGISTRATION (an interrupted "
                "copy of its files); delete it and copy it again",
            )
        return meta

    def _check_alias(self, path: str, versions: Mapping[int, dict[str, Any] | None]) -> None:
        raw = self.contents.get(path)
        if raw is None:
            return
        alias = path.rsplit("/", 1)[-1]
        text = raw.decode("utf-8", errors="replace").strip()
        if not text.isdecimal():
            problem = f"holds {text!r}, not a version number"
        elif int(text) not in versions:
            problem = f"points at version {text}, which does not exist"
        else:
            meta = versions[int(text)]
            if meta is None or meta.get("current_stage") != STAGE_DELETED_INTERNAL:
                return  # fine, or the version's own meta.yaml is the problem (reported)
            problem = f"points at version {text}, which is deleted"
        self._add(
            "dangling_alias",
            path,
            f"Alias {alias!r} {problem}",
            fixable=True,
            severity=WARNING,
            expect=raw.hex(),
        )

    def _check_rename_target(self, name: str, model_dir: str, fs: Mapping[str, Any]) -> None:
        """An invisible ``models/<name>`` made by a rename that never committed."""
        source = str(fs.get("rename_from") or "")
        age_s = self.markers.rename_age_s(fs)
        if age_s * 1000 < STALE_RENAME_MS or age_s < self.min_age_s:
            return  # a rename may be at work
        intact = bool(source) and self.markers.visible(source)
        self._add(
            "interrupted_rename",
            model_dir,
            f"Invisible copy left by an interrupted rename from {source!r}"
            + ("" if intact else f"; {source!r} is gone, so this is the only copy of its files"),
            fixable=intact,
            severity=WARNING,
            expect="target",
        )

    def _check_tombstone(self, name: str, model_dir: str, fs: Mapping[str, Any]) -> None:
        """``models/<name>`` renamed away: only its meta.yaml should be left."""
        leftovers = [
            p
            for p in self.listing.files
            if p.startswith(f"{model_dir}/") and p != layout.registered_model_meta(name)
        ]
        if not leftovers or self.markers.rename_age_s(fs) < self.min_age_s:
            return
        target = str(fs.get("renamed_to"))
        intact = self.markers.visible(target)
        self._add(
            "interrupted_rename",
            model_dir,
            f"{len(leftovers)} file(s) left behind by the rename to {target!r}"
            + ("" if intact else f"; {target!r} is gone, so they are the only copy"),
            fixable=intact,
            severity=WARNING,
            expect="tombstone",
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

    def _among_artifacts(self, path: str) -> bool:
        """Whether a store-relative path is outside the metadata directories, or below an
        artifact location some meta.yaml names inside the store."""
        if local_disk.place(path) == local_disk.OTHER:
            return True
        if self.artifact_dirs is None:
            root = self.local_root
            self.artifact_dirs = local_disk.artifact_dirs(root, self.contents) if root else set()
        return any(not d or path.startswith(f"{d}/") for d in self.artifact_dirs)


__all__ = [
    "DEFAULT_MIN_AGE_S",
    "ERROR",
    "WARNING",
    "Finding",
    "RenameMarkers",
    "Scan",
    "diagnose",
]
