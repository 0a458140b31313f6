"""Whether anything under ``models/`` changed since a registry search read it, from the local
disk's change feed (:mod:`fsregistry.storage.changes`, Linux inotify).

A registry search checks every file it answers from against its change token: a ``stat`` per
version meta.yaml and a listing per model, tens of thousands of system calls for a large
registry, the same ones in every search of a process. With the feed, a search watches the
registry's directories *before* it reads them (:meth:`RegistryWatch.stamp`), keeps the stamp
with what it read, and a later search in the same process whose stamp the kernel reports no
change for answers from what it holds (:mod:`fsregistry.registry.searching`): no listing, no
``stat``, no read.

Which directories: each model's directory, its ``tags/`` and ``aliases/``, each version
directory and its ``tags/``. Each level is watched before it is listed, so a directory made
after its parent's listing shows up as a creation in the watched parent. ``models/`` itself
is not watched for its content (the registry index's shard files live there, and a reader
that writes one would void every stamp): a search lists it instead (one listing), and a
model created, deleted or renamed since changes that list; one deleted and made again
under the same name voids its directory's watch.
Any write by anyone (MLflow's file store, an editor, this process) reaches the kernel's
queue inside the writing system call, so the next search sees it as surely as it sees it
with ``stat`` (the feed's own argument).

No stamp, so every search checks its files as before: object stores, network and FUSE
filesystems, a symbolic link inside ``models/``, or the feed's inotify budget spent (a
registry of more directories than a quarter of ``fs.inotify.max_user_watches``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from fsregistry.mlruns import layout

if TYPE_CHECKING:
    from fsregistry.storage import Storage
    from fsregistry.storage.changes import ChangeFeed, Stamp


class Watched(NamedTuple):
    """A stamp over every model directory and below, and the model directories there were."""

    stamp: Stamp
    models: frozenset[str]


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

    def _models(self) -> frozenset[str]:
        return frozenset(self.storage.list_dir(layout.MODELS)[0])

    def stamp(self, feed: ChangeFeed) -> Watched | None:
        """Watch every model directory and the directories below it, level by level (each
        before it is listed); None where one could not be watched."""
        models = self._models()
        tops = {f"{layout.MODELS}/{name}": ["tags", "aliases"] for name in sorted(models)}
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
        stamps = [*watched.values(), *inner.values()]
        if not stamps:
            return None
        # The first stamp's serial: a change after any of these watches voids the whole.
        number, serial, _ = stamps[0]
        return Watched((number, serial, tuple(wd for s in stamps for wd in s[2])), models)

    def unchanged(self, feed: ChangeFeed, watched: Watched) -> bool:
        """No change reported below any model directory since the stamp, and the same model
        directories (one listing of ``models/``)."""
        return feed.unchanged(watched.stamp) and self._models() == watched.models


__all__ = ["RegistryWatch", "Watched"]
