"""Whether anything under ``models/`` changed since a registry search read it, from the local
disk's change feed (:mod:`fsregistry.storage.changes`, Linux inotify).

A registry search checks every file it answers from against its change token: a ``stat`` per
version meta.yaml and a listing per model, tens of thousands of system calls for a large
registry, the same ones in every search of a process. With the feed, a search watches the
registry's directories *before* it reads them (:meth:`RegistryWatch.stamp`), keeps the stamp
with what it read, and a later search in the same process whose stamp the kernel reports no
change for answers from what it holds (:mod:`fsregistry.registry.searching`): no listing, no
``stat``, no read.

Which directories: ``models/`` (a model created, deleted or renamed; the registry index's
shard files live there too, so a shard written by any reader voids the stamp, costing one
more check, never an answer), each model's directory, its ``tags/`` and ``aliases/``, each
version directory and its ``tags/``. Each level is watched before it is listed, so a
directory made after its parent's listing shows up as a creation in the watched parent.
Any write by anyone (MLflow's file store, an editor, this process) reaches the kernel's
queue inside the writing system call, so the next search sees it as surely as it sees it
with ``stat`` (the feed's own argument).

No stamp, so every search checks its files as before: object stores, network and FUSE
filesystems, a symbolic link inside ``models/``, or the feed's inotify budget spent (a
registry of more directories than a quarter of ``fs.inotify.max_user_watches``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fsregistry.mlruns import layout

if TYPE_CHECKING:
    from fsregistry.storage import Storage
    from fsregistry.storage.changes import ChangeFeed, Stamp


class RegistryWatch:
    """The change feed's view of one store's registry (see the module docstring)."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def feed(self) -> ChangeFeed | None:
        """The store's change feed with every change reported so far taken in, or None."""
        if not self.storage.capabilities.cheap_stat:
            return None
        feed = self.storage.change_feed()
        if feed is not None:
            feed.poll()
        return feed

    def stamp(self, feed: ChangeFeed) -> Stamp | None:
        """Watch every directory of the registry, level by level (each before it is listed);
        one stamp for all of them, or None where one could not be watched."""
        models = layout.MODELS
        first = feed.watch({models: []}).get(models)
        if first is None:
            return None
        names, _ = self.storage.list_dir(models)
        tops = {f"{models}/{name}": ["tags", "aliases"] for name in names}
        watched = feed.watch(tops)
        if len(watched) < len(tops):
            return None
        versions: dict[str, list[str]] = {}
        for top in tops:
            subdirs, _ = self.storage.list_dir(top)
            numbered = [d for d in subdirs if layout.parse_version_dir_name(d) is not None]
            versions[top] = [sub for d in numbered for sub in (d, f"{d}/tags")]
        inner = feed.watch(versions)
        if len(inner) < len(versions):
            return None
        number, serial, wds = first
        for stamp in (*watched.values(), *inner.values()):
            wds += stamp[2]
        # The first stamp's serial: a change after any of these watches voids the whole.
        return number, serial, wds


__all__ = ["RegistryWatch"]
