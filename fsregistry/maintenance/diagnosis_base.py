"""The state and helpers every check of ``fsreg doctor``'s scan shares
(:mod:`fsregistry.maintenance.diagnosis`): the findings (:class:`Finding`), the store's
snapshot (one listing, the small files read in bulk), and how a directory without meta.yaml,
a young path (a writer may be at work) or a file among artifacts is told.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fsregistry.maintenance import local_disk
from fsregistry.maintenance.listing import StoreListing
from fsregistry.mlruns.metafile import MalformedMetaFile, load_meta
from fsregistry.storage import Storage
from fsregistry.storage.local import LocalStorage

ERROR = "error"
WARNING = "warning"
DEFAULT_MIN_AGE_S = 3600.0


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


class ScanBase:
    """A scan's snapshot and findings, and the helpers its checks share."""

    def __init__(self, storage: Storage, min_age_s: float, now: float) -> None:
        self.storage = storage
        self.min_age_s = min_age_s
        self.now = now
        self.local_root = storage.root if isinstance(storage, LocalStorage) else None
        self.findings: list[Finding] = []
        self.listing = StoreListing()
        self.contents: dict[str, bytes] = {}
        self.hollow: set[str] = set()
        self.internal_only: set[str] = set()
        self.artifact_dirs: set[str] | None = None  # see local_disk.artifact_dirs
        # Lock and temp files a finding on their directory covers (not reported again).
        self.covered: set[str] = set()
        self.subdirs: dict[str, list[str]] = {}  # directory -> its sub-directories
        self.files_in: dict[str, list[str]] = {}  # directory -> names of its files

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

    def _among_artifacts(self, path: str) -> bool:
        """Whether a store-relative path is outside the metadata directories, or below an
        artifact location some meta.yaml names inside the store."""
        if local_disk.place(path) == local_disk.OTHER:
            return True
        if self.artifact_dirs is None:
            root = self.local_root
            self.artifact_dirs = local_disk.artifact_dirs(root, self.contents) if root else set()
        return any(not d or path.startswith(f"{d}/") for d in self.artifact_dirs)


__all__ = ["DEFAULT_MIN_AGE_S", "ERROR", "WARNING", "Finding", "ScanBase"]
