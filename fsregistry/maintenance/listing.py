"""One listing of a whole store, as ``doctor`` needs it.

Object stores: one recursive listing through the storage layer. Local disk: one directory
walk that, unlike :meth:`Storage.walk`, also reports what only exists there: directories
(which can be empty) and fsregistry's own lock and temp files, which listings hide from
everyone else (see :mod:`fsregistry.maintenance.local_disk`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fsregistry.maintenance import local_disk
from fsregistry.storage import Storage
from fsregistry.storage.local import LocalStorage


@dataclass
class StoreListing:
    """Store-relative paths of every file and directory under the root."""

    files: set[str] = field(default_factory=set)
    dirs: set[str] = field(default_factory=set)
    # Local disk only: fsregistry's ``.<name>#fsreg-lock`` / ``.<name>#fsreg-tmp-<hex>`` files.
    internal: set[str] = field(default_factory=set)
    # Local disk only: earlier versions' ``.<name>.fsreg-lock`` / ``.<name>.fsreg-tmp-<hex>``
    # files, where they are provably fsregistry's (see local_disk.place).
    legacy: set[str] = field(default_factory=set)

    def hollow_dirs(self) -> set[str]:
        """Directories with no file at all below them (only on local disk can they exist)."""
        return self.dirs - _holding(self.files | self.internal | self.legacy)

    def internal_only_dirs(self) -> set[str]:
        """Directories whose files below are all fsregistry's lock and temp files (and there
        is at least one): on local disk, what a create killed before its file was linked
        into place leaves."""
        return _holding(self.internal | self.legacy) - _holding(self.files)


def _holding(paths: set[str]) -> set[str]:
    """Every directory with one of ``paths`` below it."""
    full: set[str] = set()
    for path in paths:
        parts = path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            full.add("/".join(parts[:i]))
    return full


def list_store(storage: Storage) -> StoreListing:
    if isinstance(storage, LocalStorage):
        found = local_disk.scan(storage.root)
        return StoreListing(found.files, found.dirs, found.internal, found.legacy)
    listing = StoreListing()
    for info in storage.walk("", sizes=False):
        listing.files.add(info.path)
        parts = info.path.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            listing.dirs.add("/".join(parts[:i]))
    return listing
