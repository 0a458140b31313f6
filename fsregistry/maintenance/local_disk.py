"""What only local disk has: fsregistry's lock and temp files, and empty directories.

:class:`~fsregistry.storage.local.LocalStorage` hides its bookkeeping files from every
listing, so that they never show up as tags or artifacts; finding the ones an interrupted
writer left behind takes a walk that sees them. Their names, and that walk, are the storage
layer's (:mod:`fsregistry.storage.local_files`), so what is recognised here is what it writes.
Removing them has to be careful about live writers, which is why each removal below re-checks
its condition at the last moment:

- only in metadata directories (:func:`place`: an experiment, run, LoggedModel, registered
  model or version directory, or the params/metrics/tags/aliases below one), where no file
  of a user's choosing can take fsregistry's names. Artifact directories hold files of any
  name (MLflow's ``log_artifact`` takes them), so there leftovers are only reported;
- a temp file (``.<name>#fsreg-tmp-<32 hex>``) is removed only if it has not been modified
  for the given age (a live writer's temp file lives for milliseconds);
- a lock file (``.<name>#fsreg-lock``) is removed only when the file it guards is gone, and
  only while holding the lock itself (filelock, which fsregistry locks with, notices a lock
  file that was unlinked under it and retries); a directory's own lock files
  (``.fsreg-dir#fsreg-lock``, ``.fsreg-dir-gate#fsreg-lock``,
  :mod:`fsregistry.storage.dir_locks`) guard no file and live as long as their directory;
- the old-format names of earlier versions (``.<name>.fsreg-lock``, ``.<name>.fsreg-tmp-<32
  hex>``), which keys can spell, are fsregistry's only directly in an item directory (an
  experiment, run, LoggedModel, dataset, registered model or version directory, or
  ``models/``), where neither MLflow nor fsregistry puts a file of a user's choosing: there
  one untouched for the given age is removed (a lock only while holding it, whatever it
  guards: nothing locks the old name any more); anywhere else such a name is a user's file;
- an empty directory is removed with ``rmdir``, which fails if anything appeared in it;
- a directory left by an interrupted create (nothing in it but fsregistry's temp and lock
  files) is emptied only while it still holds nothing else and nothing in it, itself
  included, changed for the given age; its lock files go as orphaned ones do, then the
  directories by ``rmdir``. A writer that starts meanwhile either finds the directory gone
  and makes it again, or puts a file in it that makes the ``rmdir`` fail.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import time
import urllib.parse
from collections.abc import Mapping
from typing import NamedTuple

from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import MalformedMetaFile, load_meta
from fsregistry.storage.dir_locks import is_dir_lock_file
from fsregistry.storage.local_files import is_internal_name, lock_name, locked_name, walk_tree

# Earlier versions' names for the same files (see the module docstring).
LEGACY_LOCK_SUFFIX = ".fsreg-lock"
LEGACY_INTERNAL_NAME = re.compile(r"^\..+\.fsreg-(lock|tmp-[0-9a-f]{32})$", re.DOTALL)

# Where a file sits, by its directory (see :func:`place`).
ITEM = "item"  # an item's own directory: only meta.yaml and index shards are files there
KEYS = "keys"  # params/metrics/tags/aliases below an item: files named by keys
OTHER = "other"  # artifacts, the store root, anything else: files of any name


class LocalScan(NamedTuple):
    """A local tree's entries as store-relative paths: ordinary files, directories,
    fsregistry's lock and temp files, and old-format ones where they are provably ours."""

    files: set[str]
    dirs: set[str]
    internal: set[str]
    legacy: set[str]


def scan(root: str, prefix: str = "") -> LocalScan:
    """Everything below ``root``; ``prefix`` is where ``root`` lies in the store (it decides
    where an old-format name is fsregistry's), and is not part of the paths returned."""
    found = LocalScan(set(), set(), set(), set())
    for child, entry, is_dir in walk_tree(root):
        if is_dir:
            found.dirs.add(child)
        elif is_internal_name(entry.name):
            found.internal.add(child)
        elif is_legacy_name(entry.name) and place(f"{prefix}/{child}" if prefix else child) == ITEM:
            found.legacy.add(child)
        else:
            found.files.add(child)
    return found


def is_legacy_name(name: str) -> bool:
    """Whether a file name has the form of an earlier version's lock or temp file."""
    return name[:1] == "." and LEGACY_INTERNAL_NAME.match(name) is not None


def place(path: str) -> str:
    """What kind of directory the store-relative file ``path`` sits in, by the standard
    layout: :data:`ITEM`, :data:`KEYS` or :data:`OTHER`."""
    parts = path.split("/")[:-1]
    if parts[:1] == [layout.MODELS]:
        return _registry_place(parts[1:])
    if parts[:1] == [layout.TRASH]:
        parts = parts[1:]
    if not parts or parts[0] in layout.RESERVED_ROOT_FOLDERS:
        return OTHER  # the root, or .trash itself
    return _experiment_place(parts[1:])


def _registry_place(rest: list[str]) -> str:
    """``rest``: the directory below ``models/``."""
    if len(rest) <= 1:
        return ITEM  # models/ (index shards) or models/<name>
    if rest[1] in ("tags", "aliases"):
        return KEYS
    if layout.parse_version_dir_name(rest[1]) is None:
        return OTHER
    if len(rest) == 2:
        return ITEM
    return KEYS if rest[2] == "tags" else OTHER


def _experiment_place(rest: list[str]) -> str:
    """``rest``: the directory below an experiment's."""
    if not rest:
        return ITEM
    if rest[0] == "tags":
        return KEYS
    if rest[0] in (layout.MODELS, "datasets"):  # LoggedModels, datasets
        if len(rest) == 2:
            return ITEM
        if rest[0] == layout.MODELS and len(rest) > 2 and rest[2] in _RUN_KEY_DIRS:
            return KEYS
        return OTHER
    if rest[0] in layout.RESERVED_EXPERIMENT_FOLDERS:
        return OTHER  # traces, and models/ or datasets/ themselves
    if len(rest) == 1:
        return ITEM  # a run
    if rest[1] in _RUN_KEY_DIRS:
        return KEYS
    if rest[1] in ("inputs", "outputs") and len(rest) == 3:
        return ITEM
    return OTHER


_RUN_KEY_DIRS = frozenset({"params", "metrics", "tags"})


def artifact_dirs(root: str, metas: Mapping[str, bytes]) -> set[str]:
    """Store-relative directories inside the local store ``root`` that the meta.yaml files
    among ``metas`` (path -> bytes) name as artifact locations ("" for the root itself). An
    experiment's ``artifact_location`` that is its own directory (the standard one) is left
    out: its runs keep their artifacts in their ``artifacts/``, which :func:`place` knows."""
    root = os.path.abspath(root)
    found: set[str] = set()
    for path, raw in metas.items():
        if not path.endswith(f"/{layout.META}"):
            continue
        try:
            meta = load_meta(raw, path)
        except MalformedMetaFile:
            continue
        own = path.rpartition("/")[0].removeprefix(f"{layout.TRASH}/")
        for key in ("artifact_location", "artifact_uri", "storage_location", "source"):
            rel = _store_relative(root, meta.get(key))
            if rel is not None and not (key == "artifact_location" and rel == own):
                found.add(rel)
    return found


def _store_relative(root: str, location: object) -> str | None:
    """A local location as a store-relative path, or None if it is not inside the store."""
    if not isinstance(location, str) or not location:
        return None
    parsed = urllib.parse.urlparse(location)
    if parsed.scheme == "file":
        location = urllib.parse.unquote(parsed.path)
    elif len(parsed.scheme) > 1:
        return None  # s3://, runs:/, models:/ ... (one letter: a Windows drive)
    if not os.path.isabs(location):
        return None
    rel = os.path.relpath(os.path.abspath(location), root)
    if rel == os.curdir:
        return ""
    if rel == os.pardir or rel.startswith(os.pardir + os.sep):
        return None
    return rel.replace(os.sep, "/")


def is_lock_file(path: str) -> bool:
    return locked_name(path.rpartition("/")[2]) is not None


def is_dir_lock(path: str) -> bool:
    """Whether ``path`` is a directory's own lock file, which guards no file and goes only
    with its directory."""
    return is_dir_lock_file(path.rpartition("/")[2])


def lock_path(path: str) -> str:
    """``a/meta.yaml`` -> ``a/.meta.yaml#fsreg-lock``: where the lock guarding a file lives."""
    head, _, name = path.rpartition("/")
    return f"{head}/{lock_name(name)}" if head else lock_name(name)


def lock_target(path: str) -> str:
    """``a/.meta.yaml#fsreg-lock`` -> ``a/meta.yaml``: the file a lock file guards."""
    head, _, name = path.rpartition("/")
    target = locked_name(name)
    if target is None:
        raise ValueError(f"{path!r} is not a lock file")
    return f"{head}/{target}" if head else target


def age_seconds(root: str, path: str, now: float | None = None) -> float | None:
    """Seconds since ``path`` was last modified, or None if it is gone."""
    try:
        mtime = os.stat(_abs(root, path), follow_symlinks=False).st_mtime
    except FileNotFoundError:
        return None
    return (time.time() if now is None else now) - mtime


def remove_stale_file(root: str, path: str, min_age_s: float) -> bool:
    """Remove a temp file if it is still there and still untouched for ``min_age_s``."""
    age = age_seconds(root, path)
    if age is None or age < min_age_s:
        return False
    with contextlib.suppress(FileNotFoundError):
        os.unlink(_abs(root, path))
    return True


def remove_orphan_lock(root: str, path: str) -> bool:
    """Remove a lock file whose guarded file is gone, holding the lock while unlinking."""
    from filelock import FileLock, Timeout

    full = _abs(root, path)
    if not os.path.exists(full) or os.path.exists(_abs(root, lock_target(path))):
        return False
    try:
        with FileLock(full, timeout=0):
            if os.path.exists(_abs(root, lock_target(path))):
                return False
            os.unlink(full)
    except Timeout:
        return False  # someone holds it: not orphaned after all
    return True


def remove_legacy_file(root: str, path: str, min_age_s: float) -> bool:
    """Remove an earlier version's lock or temp file untouched for ``min_age_s``; a lock file
    only while holding it (so never one an old process still holds)."""
    from filelock import FileLock, Timeout

    if not path.endswith(LEGACY_LOCK_SUFFIX):
        return remove_stale_file(root, path, min_age_s)
    age = age_seconds(root, path)
    if age is None or age < min_age_s:
        return False
    full = _abs(root, path)
    try:
        with FileLock(full, timeout=0):
            age = age_seconds(root, path)
            if age is None or age < min_age_s:
                return False
            os.unlink(full)
    except Timeout:
        return False  # an old process holds it
    return True


def remove_empty_tree(root: str, path: str) -> bool:
    """Remove a directory holding only empty directories; False if anything is in it."""
    full = _abs(root, path)
    for dirpath, _dirnames, _files in sorted(os.walk(full), key=lambda w: -len(w[0])):
        try:
            os.rmdir(dirpath)
        except OSError as e:
            if e.errno in (errno.ENOTEMPTY, errno.EEXIST):
                return False
            if e.errno != errno.ENOENT:
                raise
    return not os.path.exists(full)


def remove_interrupted_create(root: str, path: str, min_age_s: float) -> bool:
    """Remove the directory ``path`` if it still holds nothing but fsregistry's temp and lock
    files, none of them (nor the directory) modified within ``min_age_s``. False, having
    removed nothing, if anything else is in it or anything there is younger; False too, with
    the old files removed but the directory kept, if a writer put a file in it meanwhile.
    True if it is gone already."""
    full = _abs(root, path)
    if not os.path.lexists(full):
        return True
    found = scan(full, path)
    if found.files or any(place(f"{path}/{rel}") == OTHER for rel in found.internal):
        return False  # something else, or a leftover among artifacts: for a person to judge
    ours = found.internal | found.legacy
    ages = [age_seconds(root, path), *(age_seconds(full, rel) for rel in ours)]
    if any(age is None or age < min_age_s for age in ages):
        return False
    for rel in sorted(found.legacy):
        if not remove_legacy_file(full, rel, min_age_s):
            return False
    for rel in sorted(found.internal):
        if is_lock_file(rel):
            if not remove_orphan_lock(full, rel):
                return False
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(_abs(full, rel))
    return remove_empty_tree(root, path)


def _abs(root: str, path: str) -> str:
    return os.path.join(root, *path.split("/"))
