"""What a repeated run search may trust without checking: runs the change feed vouches for.

Where the storage has a change feed (``fsregistry.storage.changes``: inotify on a local
disk), a search that verified a run's files against its summary keeps a *stamp* taken
before it verified them, and a later search in the same process skips the run (no ``stat``,
no listing) as long as the feed reports no change in the run's directories since the stamp.
What is vouched for is kept per run in the experiment's index
(``run_index.ExperimentIndex.verified``, a :class:`~fsregistry.tracking.run_index.Verified`):
the summary's tokens, the files verified, the stamp.

The rules, each keeping a vouch from hiding a change:

- Watch first, verify after: a change either happened before the verification (which sees
  it) or after the stamp (whose event voids it).
- Only the files a search checked are vouched for (``Verified.files``); a later search that
  needs others checks those, and what is vouched for widens to both under one stamp
  (:func:`widened`) instead of each search replacing the other's record.
- A whole run (``files`` None) is vouched for only when the listing that verified it went
  through no directory that was not watched before it (:func:`watch_runs`, :func:`vouch_for`):
  a directory made since the summary shows up either as a creation in a watched directory
  or as an unwatched directory in the listing, which then vouches for nothing.
- A vouch holds only for the summary it was made for: a run summarised again (new tokens)
  is checked again.
- Watches are a shared kernel budget: runs checked file by file leave a quarter of it to
  runs listed whole, which a watch saves more for; runs beyond the budget are checked as
  if there were no feed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from fsregistry.storage.changes import ChangeFeed, Stamp
from fsregistry.tracking import run_index
from fsregistry.tracking.locations import RUN_DATA_DIRS
from fsregistry.tracking.run_index import Tokens, Verified


class Watch(NamedTuple):
    """A run watched before it is listed in full: the stamp, and the run-relative
    directories watched."""

    stamp: Stamp
    dirs: set[str]


class Vouch(NamedTuple):
    """What makes the change feed vouch for a whole run: the stamp taken before its listing,
    the directories watched then, and the directories the listing went through."""

    stamp: Stamp
    watched: set[str]
    seen: set[str]


class Trusted(NamedTuple):
    """What the feed still vouches for among the runs of one experiment, for a search that
    needs some of their files."""

    runs: dict[str, Tokens | None]  # run -> tokens left to check when returned (None: none)
    partly: dict[str, Verified]  # runs vouched for other files than the ones needed


def trusted(
    feed: ChangeFeed,
    index: run_index.ExperimentIndex,
    run_ids: Sequence[str],
    needed: tuple[str, ...],
) -> Trusted:
    """Take in the feed's changes, then split what it still vouches for about ``run_ids``
    (``index.vouched``) by whether it covers the files ``needed`` (run-relative)."""
    vouched: dict[str, Tokens | None] = {}
    partly: dict[str, Verified] = {}
    feed.poll()
    for run_id, held in index.vouched(feed, run_ids).items():
        if held.files is None:
            vouched[run_id] = None
        elif held.files == needed or all(rel in held.files for rel in needed):
            vouched[run_id] = held.tokens
        else:
            partly[run_id] = held
    return Trusted(vouched, partly)


def watch_needed(
    feed: ChangeFeed, exp_dir: str, run_ids: Sequence[str], needed: tuple[str, ...]
) -> dict[str, Stamp]:
    """Watch runs (``{run id: stamp}`` of those watched) before the files ``needed`` of each
    are checked: the run directory and the directories those files lie in."""
    subdirs = sorted(run_index.run_dirs(needed))
    cut = len(exp_dir) + 1
    # A quarter of the budget is left to whole runs, which a watch saves more for.
    watched = feed.watch({f"{exp_dir}/{r}": subdirs for r in run_ids}, leave=0.25)
    return {top[cut:]: stamp for top, stamp in watched.items()}


def watch_runs(
    feed: ChangeFeed | None, exp_dir: str, runs: Mapping[str, Tokens | None]
) -> dict[str, Watch]:
    """Watch runs (``{run id: tokens of its summary, or None}``) before they are listed
    in full: their data directories, and every directory their summary names where it
    may name nested ones (``train/loss``). With the directories watched, a listing that
    goes through no other directory verifies the whole run (:func:`vouch_for`)."""
    if feed is None or not runs:
        return {}
    plain = sorted(RUN_DATA_DIRS)
    dirs: dict[str, list[str]] = {}
    # Only the directories the summary names: one made since shows up as a creation in the
    # run directory, or in the listing (which then vouches for nothing). Runs with the same
    # files share their paths (``run_index.Tokens``): worked out once per set of paths.
    by_paths: dict[int, list[str]] = {}
    for run_id, tokens in runs.items():
        if tokens is None:
            dirs[run_id] = plain
            continue
        known = by_paths.get(id(tokens[0]))
        if known is None:
            known = by_paths[id(tokens[0])] = sorted(run_index.recorded_dirs(tokens))
        dirs[run_id] = known
    watched = feed.watch({f"{exp_dir}/{r}": d for r, d in dirs.items()})
    cut = len(exp_dir) + 1
    return {top[cut:]: Watch(stamp, set(dirs[top[cut:]])) for top, stamp in watched.items()}


def vouch_for(
    index: run_index.ExperimentIndex, run_id: str, tokens: Tokens, vouch: Vouch | None
) -> None:
    """Record that the feed vouches for the whole run as listed (``vouch``: the stamp and
    directories from :func:`watch_runs`, and the directories the listing went through), if
    every directory the listing went through was watched before it."""
    if vouch is not None and vouch.seen <= vouch.watched:
        index.verified[run_id] = Verified(tokens, None, vouch.stamp)


def widened(
    held: Verified | None, tokens: Tokens, files: tuple[str, ...], stamp: Stamp
) -> Verified:
    """What the feed vouches for once ``files`` of a run are verified under ``stamp``, where
    it still vouched for other files of the same summary (``held``): all of them, under one
    stamp of both stamps' watches from the older one's serial (so searches that need
    different files do not take turns replacing each other's record)."""
    if held is None or held.stamp[0] != stamp[0]:
        return Verified(tokens, files, stamp)
    old = held.stamp
    merged: Stamp = (stamp[0], min(old[1], stamp[1]), tuple(sorted({*old[2], *stamp[2]})))
    return Verified(tokens, tuple(sorted({*(held.files or ()), *files})), merged)


__all__ = [
    "Trusted",
    "Vouch",
    "Watch",
    "trusted",
    "vouch_for",
    "watch_needed",
    "watch_runs",
    "widened",
]
