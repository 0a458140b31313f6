"""Files of the local-disk backend: fsregistry's own names on disk, and the system calls
that write a file so that a failure leaves nothing behind.

- Bookkeeping names: ``.<name>#fsreg-lock`` guards ``<name>`` for compare-and-swap (and
  stays), ``.<name>#fsreg-tmp-<32 hex>`` is a write in progress; both are hidden from
  listings, and maintenance recognises them by these names. The ``#`` keeps them apart from
  every key MLflow or fsregistry writes (params, metrics and tags take word characters and
  ``/ . - : space``, aliases word characters and ``-``), and artifact uploads refuse such
  names (:mod:`.artifact_repo`).
- Writes that clean up after themselves: a new file is written whole under a temp name or
  removed again; directories made for a write are removed again (``rmdir``, so never one
  another writer has put a file in meanwhile) when the write fails; an append cut short by a
  full disk is truncated away; a download's partial local file is removed.

These functions raise plain ``OSError``; :class:`~fsregistry.storage.local.LocalStorage`
translates them for the storage contract. :func:`local_file` (a download's destination,
outside any store) translates its own.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from fsregistry.storage.base import NAME_MAX, raise_os_error
from fsregistry.storage.durability import sync_file

# Descriptors are not inherited by child processes, and bytes are bytes on every platform.
PLAIN = getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
OPEN_FOR_READ = os.O_RDONLY | PLAIN
OPEN_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | PLAIN
# Appends only ever go to a file that exists: a new one is created whole (see LocalStorage).
OPEN_FOR_APPEND = os.O_WRONLY | os.O_APPEND | PLAIN
# Directories scanned through a descriptor (``walk_tree``) where scandir and stat take one.
_SCAN_BY_FD = os.scandir in os.supports_fd and os.stat in os.supports_dir_fd
_OPEN_DIR = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | PLAIN
READ_BLOCK = 64 * 1024  # the first read of a file: run files and summaries fit in one
# Large copies and reads go by this much (get_file with a progress callback: a report per MiB).
COPY_CHUNK = 1024 * 1024


# Our own bookkeeping files, hidden siblings of the file they serve: ``.<name>#fsreg-lock``
# guards ``<name>`` for compare-and-swap (and stays), ``.<name>#fsreg-tmp-<32 hex>`` is a write
# in progress. Listings hide them so they never show up as tags or artifacts; ``fsreg doctor``
# and ``fsreg gc`` find the ones an interrupted writer left with the same names. No key can
# contain ``#``, so no param, metric, tag or alias file (by MLflow or fsregistry) is ever
# taken for one. (Earlier versions used ``.<name>.fsreg-lock`` / ``.<name>.fsreg-tmp-<hex>``,
# which keys can spell: those names are ordinary files now, see maintenance.local_disk.)
LOCK_SUFFIX = "#fsreg-lock"
TEMP_INFIX = "#fsreg-tmp-"
INTERNAL_NAME = re.compile(
    rf"^\..+({re.escape(LOCK_SUFFIX)}|{re.escape(TEMP_INFIX)}[0-9a-f]{{32}})$", re.DOTALL
)


def is_internal_name(name: str) -> bool:
    """Whether a file name is one of fsregistry's lock or temp files."""
    return name[:1] == "." and INTERNAL_NAME.match(name) is not None


def lock_name(name: str) -> str:
    """``meta.yaml`` -> ``.meta.yaml#fsreg-lock``: the lock file guarding a file."""
    return f".{name}{LOCK_SUFFIX}"


def locked_name(name: str) -> str | None:
    """``.meta.yaml#fsreg-lock`` -> ``meta.yaml``: the file a lock file guards (None: ``name``
    is not a lock file's)."""
    if name[:1] != "." or not name.endswith(LOCK_SUFFIX) or len(name) <= len(LOCK_SUFFIX) + 1:
        return None
    return name[1 : -len(LOCK_SUFFIX)]


# What a temp name adds to the name it is made from: the dot, the infix and 32 hex digits.
_TEMP_EXTRA = 1 + len(TEMP_INFIX) + 32


def temp_name(name: str) -> str:
    """``meta.yaml`` -> ``.meta.yaml#fsreg-tmp-<32 random hex>``: a new temp file's name.

    A long name is cut (at a character boundary) so the temp name stays within 255 bytes:
    every name the filesystem takes (a 250-character param key, a 255-character alias) gets
    a temp file too. Only the suffix identifies a temp file, so the cut loses nothing."""
    limit = NAME_MAX - _TEMP_EXTRA
    if len(os.fsencode(name)) > limit:
        name = name[:limit]
        while len(os.fsencode(name)) > limit:
            name = name[:-1]
    return f".{name}{TEMP_INFIX}{os.urandom(16).hex()}"


_unaddressable_seen: set[str] = set()


def addressable(name: str) -> bool:
    """Whether a directory entry's name (from ``os.scandir``) can be part of a storage path:
    not one whose bytes are no UTF-8 (made by hand or another program; Python decodes them
    to lone surrogates, which every storage path refuses). Listings leave such entries out,
    as if absent, with a warning once per name, instead of failing every search and scan of
    the tree when the path is used."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        if name not in _unaddressable_seen:
            _unaddressable_seen.add(name)
            import logging

            shown_name = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            logging.getLogger(__name__).warning(
                "Ignoring %r: its name is not UTF-8, so no fsregistry or MLflow path names it",
                shown_name,
            )
        return False
    return True


def walk_tree(
    base: str, prune: Callable[[str], bool] | None = None
) -> Iterator[tuple[str, os.DirEntry[str], bool]]:
    """Every entry below the directory ``base``, lock and temp files included, as
    (``/``-separated path relative to ``base``, entry, whether it is a directory); symlinks are
    not followed, and a directory whose path ``prune`` accepts is reported but not entered.
    Directories that vanish or are not directories are skipped. The one recursive walk of a
    local tree: :meth:`LocalStorage.walk` and maintenance's scan both use it.

    Where the platform can, each directory is scanned through a descriptor, so an entry's
    ``stat()`` looks its name up in that directory instead of walking the whole path from
    ``/`` again (a search stats tens of thousands of files ten directories deep: a sixth of
    each stat). Such an entry's ``path`` is its name, and its ``stat()`` must be asked while
    its directory is being scanned: the descriptor is closed when the walk leaves it, and an
    entry kept past that may stat another directory's file of the same name (every caller
    stats at once). A directory renamed mid-scan still lists its files, under the old path."""
    stack = [("", base)]
    while stack:
        rel, full = stack.pop()
        try:
            fd = os.open(full, _OPEN_DIR) if _SCAN_BY_FD else None
        except (FileNotFoundError, NotADirectoryError):
            continue
        try:
            try:
                it = os.scandir(full if fd is None else fd)
            except (FileNotFoundError, NotADirectoryError):
                continue
            with it:
                for entry in it:
                    name = entry.name
                    if not (name.isascii() or addressable(name)):
                        continue  # no path can name it (see ``addressable``)
                    child = f"{rel}/{name}" if rel else name
                    if entry.is_dir(follow_symlinks=False):
                        if prune is None or not prune(child):
                            stack.append((child, f"{full}/{name}"))
                        yield child, entry, True
                    else:
                        yield child, entry, False
        finally:
            if fd is not None:
                os.close(fd)


def read_file(path: str) -> bytes:
    """A whole file, read through its descriptor: a buffered ``open().read()`` makes two
    objects and three more system calls (fstat, ioctl, seek) per file, and searches and
    summaries read files by the thousand."""
    fd = os.open(path, OPEN_FOR_READ)
    try:
        chunks = []
        size = READ_BLOCK
        while chunk := os.read(fd, size):
            chunks.append(chunk)
            size = COPY_CHUNK
    finally:
        os.close(fd)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _is_directory(path: str) -> bool | None:
    """Whether ``path`` is a directory (or a link to one); None when nothing is there (a
    dangling link included: ``mkdir`` then says it exists). One ``stat``: asking "is it a
    directory?" and then "does it exist?" apart takes a directory another writer makes in
    between for a file in the way."""
    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return None


def make_parents(path: str) -> list[str]:
    """Create the missing directories above ``path``; returns the ones made here, outermost
    first, for :func:`remove_dirs` to take back if the write then fails. A file in the way
    is a NotADirectoryError naming it (``os.makedirs`` would say FileExistsError, which the
    contract keeps for a taken ``create``)."""
    missing: list[str] = []
    head = os.path.dirname(path)
    while (is_dir := _is_directory(head)) is not True:
        if is_dir is False:
            raise NotADirectoryError(errno.ENOTDIR, "Not a directory", head)
        missing.append(head)
        if os.path.dirname(head) == head:
            break  # not even the filesystem's root: let mkdir say why
        head = os.path.dirname(head)
    made: list[str] = []
    try:
        for directory in reversed(missing):
            try:
                os.mkdir(directory)
            except FileExistsError:
                if not os.path.isdir(directory):
                    raise NotADirectoryError(errno.ENOTDIR, "Not a directory", directory) from None
                continue  # another writer made it meanwhile: theirs, not ours to remove
            made.append(directory)
    except BaseException:
        remove_dirs(made)
        raise
    return made


def remove_dirs(made: list[str]) -> None:
    """Remove directories ``make_parents`` made, innermost first, while they are empty: a
    directory another writer has put something in meanwhile stays, and so do those above."""
    for directory in reversed(made):
        try:
            os.rmdir(directory)
        except OSError:
            return  # not empty (another writer's file), or gone: leave it and its parents


def unlink_quietly(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


_MAKE_DIRS_TRIES = 3


def open_making_dirs(path: str, flags: int) -> tuple[int, list[str]]:
    """``os.open(path, flags)``, making the missing directories above ``path`` first where
    that is why it failed (asked only then: most writes go to directories that exist).
    Returns the descriptor and the directories made (see ``make_parents``)."""
    try:
        return os.open(path, flags, 0o666), []
    except FileNotFoundError:
        pass
    tries = 1
    while True:
        made = make_parents(path)
        try:
            return os.open(path, flags, 0o666), made
        except FileNotFoundError:
            # Another writer took back an empty directory it had made, between our making
            # (or finding) it and our open: make it again.
            remove_dirs(made)
            if tries == _MAKE_DIRS_TRIES:
                raise
            tries += 1
        except BaseException:
            remove_dirs(made)
            raise


def write_new(path: str, data: bytes, sync: bool = False) -> list[str]:
    """``data`` in a file made for it (``O_EXCL``; its directories made if missing), which is
    removed again, with the directories, if the write fails: no partial file is left behind.
    With ``sync`` the data is on disk before it returns (see :mod:`.durability`). Returns the
    directories made."""
    fd, made = open_making_dirs(path, OPEN_NEW)
    try:
        write_all(fd, data)
        if sync:
            sync_file(fd)
    except BaseException:
        os.close(fd)
        unlink_quietly(path)
        remove_dirs(made)
        raise
    os.close(fd)
    return made


def append_whole(fd: int, data: bytes) -> None:
    """Append all of ``data`` or none of it: a write the disk cut short (ENOSPC after part of
    it) is truncated away again, so the file never ends in a torn line that the next append
    would run into. Other appenders to the same file on a full disk fail alike, so the bytes
    at the end are this call's."""
    written = 0
    view = memoryview(data)
    try:
        while view:
            n = os.write(fd, view)
            written += n
            view = view[n:]
    except BaseException:
        if written:
            os.ftruncate(fd, os.fstat(fd).st_size - written)
        raise


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` (``os.write`` may write part of it)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def tmp_name(target: str) -> str:
    head, tail = os.path.split(target)
    return os.path.join(head, temp_name(tail))


def link_new(tmp: str, target: str, data: bytes, sync: bool = False) -> None:
    """Make the complete ``tmp`` appear at ``target`` unless something is there already
    (FileExistsError for a file, IsADirectoryError for a directory); ``sync``: as
    :func:`write_new`, for the fallback that writes ``target`` itself."""
    try:
        os.link(tmp, target)
        return
    except FileExistsError:
        if os.path.isdir(target):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", target) from None
        raise  # the expected "taken" answer
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EXDEV):
            raise
    # Filesystems without hard links: O_EXCL is still exclusive, though a reader may briefly
    # see the file empty.
    try:
        write_new(target, data, sync)
    except FileExistsError:
        if os.path.isdir(target):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", target) from None
        raise


def missing_is_gone(function: object, path: str, info: tuple[type, BaseException, Any]) -> None:
    """``shutil.rmtree``'s error handler: an entry another process removed first is gone as
    wanted; anything else stops the removal."""
    if not isinstance(info[1], FileNotFoundError):
        raise info[1]


@contextlib.contextmanager
def local_file(local_path: str) -> Iterator[BinaryIO]:
    """A local file opened for writing a download into: an error writing it (a full disk, a
    name too long, a read-only directory) is the contract's error naming the local path, and
    the partial file is removed."""
    where = "the local filesystem"
    try:
        dst = open(local_path, "wb")  # noqa: SIM115 (closed below)
    except OSError as e:
        raise_os_error(e, local_path, where, writing=True)
    try:
        with dst:
            yield dst
    except BaseException as e:
        unlink_quietly(local_path)
        if isinstance(e, OSError):
            raise_os_error(e, local_path, where, writing=True)
        raise
