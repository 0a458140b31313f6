"""Where experiments and runs are in a store's tree, and what one process remembers of it.

The tree is MLflow's (``fsregistry.mlruns.layout``): an experiment is ``<id>/`` while active
and ``.trash/<id>/`` once deleted, though lifecycle is decided by its ``meta.yaml``, not by
where it is (hand edits leave deleted experiments in the active tree); a run is a directory
of its experiment, and what it is made of is its ``meta.yaml`` and the files under
``metrics/``, ``params/``, ``tags/``, ``inputs/`` and MLflow 3's ``outputs/``
(:data:`RUN_DATA_DIRS`; ``artifacts/`` and the rest are never listed for it).

What a process keeps, and why it stays right:

- run id -> experiment directory, for every run it located, created or returned from a
  search. Runs move only when their experiment is deleted or restored, which drops that
  experiment's entries (:meth:`Locations.forget_runs_of`); a cached directory whose run is
  gone is dropped when reading through it fails.
- where a copied tree's recorded ``file://`` URIs now point (:meth:`Locations.relocate`),
  decided once per experiment location, since a search relocates thousands of runs; dropped
  whenever an experiment moves or the artifact root changes.

A recorded location is relocated only when it no longer exists, has the default layout
(``<root>/<experiment id>``) and its root is not this store's configured artifact root: a
``file://`` artifact root that does not exist yet (nothing logged there so far) is used as
given, as MLflow does.

A run is valid, as in MLflow's file store, when its ``meta.yaml`` names the run's own id and
the experiment whose directory holds it (:meth:`Locations.check_run_meta`: else "metadata is
in invalid state"); a run directory without ``meta.yaml`` is MLflow's missing-config error,
not "not found".

A run's ``meta.yaml`` changes in one way only, compare-and-swap
(:meth:`Locations.update_run_meta`), used by run writes and by deleting or restoring an
experiment (which deletes or restores its runs).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

from fsregistry.entities import LifecycleStage, ViewType
from fsregistry.exceptions import InvalidState, MissingConfigException, ResourceDoesNotExist
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import dump_meta, load_meta
from fsregistry.mlruns.validation import validate_run_id
from fsregistry.storage import Storage

RUN_DATA_DIRS = frozenset({"metrics", "params", "tags", "inputs", "outputs"})
_RUN_LEVEL_PRUNE = frozenset({"artifacts"})


def prune_run_dir(rel: str) -> bool:
    """Walk filter inside a run directory: only the data directories hold what a run is made
    of (artifacts/ and anything else are not listed)."""
    return "/" not in rel and rel not in RUN_DATA_DIRS


def prune_experiment_dir(rel: str) -> bool:
    """Walk filter inside an experiment: skip LoggedModels/traces (not run data) and run
    artifact trees."""
    parts = rel.split("/")
    if len(parts) == 1:
        return parts[0] in ("models", "traces")
    return len(parts) == 2 and parts[1] in _RUN_LEVEL_PRUNE


class Locations:
    """The directories of one store's experiments and runs, and this process's memory of
    them (see the module docstring)."""

    def __init__(self, storage: Storage, artifact_root: str) -> None:
        self.storage = storage
        self.run_dirs: dict[str, str] = {}  # run_id -> experiment dir; runs move only on delete
        self.run_dirs_lock = threading.Lock()
        self._relocations: dict[str, str] = {}  # recorded file:// experiment URI -> actual
        self._artifact_root = artifact_root

    @property
    def artifact_root(self) -> str:
        """Where new experiments put artifacts (absolute; see ``mlruns.artifact_uris``)."""
        return self._artifact_root

    @artifact_root.setter
    def artifact_root(self, value: str) -> None:
        self._artifact_root = value
        self._relocations.clear()

    # -- experiments ------------------------------------------------------------------------
    def experiment_dirs(self, view_type: int = ViewType.ALL) -> list[str]:
        stages = ViewType.stages(view_type)
        out: list[str] = []
        dirs, _ = self.storage.list_dir("")
        if LifecycleStage.ACTIVE in stages or LifecycleStage.DELETED in stages:
            # An active tree may hold deleted experiments MLflow never moved (hand edits), so
            # lifecycle is decided by meta.yaml, not by location.
            out.extend(d for d in dirs if d not in layout.RESERVED_ROOT_FOLDERS)
        if layout.TRASH in dirs:
            trash, _ = self.storage.list_dir(layout.TRASH)
            out.extend(layout.experiment_dir(d, deleted=True) for d in trash)
        return out

    def experiment_moved(self, exp_dir: str) -> None:
        """Forget what was remembered about an experiment that was just moved (deleted or
        restored): its runs' directories and every relocation."""
        self.forget_runs_of(exp_dir)
        self._relocations.clear()

    # -- runs -------------------------------------------------------------------------------
    def run_ids_in(self, exp_dir: str) -> list[str]:
        dirs, _ = self.storage.list_dir(exp_dir)
        return [d for d in dirs if d not in layout.RESERVED_EXPERIMENT_FOLDERS]

    def cached_run_dir(self, run_id: str) -> str | None:
        """The experiment directory remembered for a run, if any (not checked)."""
        with self.run_dirs_lock:
            return self.run_dirs.get(run_id)

    def remember(self, run_dirs: Mapping[str, str]) -> None:
        """Remember where runs are (``{run id: experiment dir}``)."""
        with self.run_dirs_lock:
            self.run_dirs.update(run_dirs)

    def forget_runs_of(self, exp_dir: str) -> None:
        with self.run_dirs_lock:
            for run_id in [r for r, d in self.run_dirs.items() if d == exp_dir]:
                del self.run_dirs[run_id]

    def locate_run(self, run_id: str) -> tuple[str, bytes]:
        """Experiment directory and meta.yaml bytes of a run, wherever it is.

        ResourceDoesNotExist if no experiment holds it; MissingConfigException if one holds a
        directory of that name without ``meta.yaml`` (looked for only once no ``meta.yaml``
        was found: one existence check per experiment, on this error path only).
        """
        validate_run_id(run_id)
        with self.run_dirs_lock:
            cached = self.run_dirs.get(run_id)
        if cached is not None:
            try:
                return cached, self.storage.read(layout.run_meta(cached, run_id))
            except FileNotFoundError:
                self.forget_runs_of(cached)
        exp_dirs = self.experiment_dirs()
        candidates = [layout.run_meta(d, run_id) for d in exp_dirs]
        for path, raw in self.storage.read_many(candidates).items():
            exp_dir = path[: -len(f"/{run_id}/{layout.META}")]
            with self.run_dirs_lock:
                self.run_dirs[run_id] = exp_dir
            return exp_dir, raw
        if run_id not in layout.RESERVED_EXPERIMENT_FOLDERS:
            for exp_dir in exp_dirs:
                if self.storage.exists(layout.run_dir(exp_dir, run_id)):
                    missing = self.storage.uri(layout.run_meta(exp_dir, run_id))
                    raise MissingConfigException(f"Yaml file '{missing}' does not exist.")
        raise ResourceDoesNotExist(f"Run '{run_id}' not found")

    @staticmethod
    def check_run_meta(exp_dir: str, run_id: str, meta: Mapping[str, Any]) -> None:
        """MLflow's validity rule for a run read from ``<exp_dir>/<run_id>/meta.yaml``: the
        file must name this run and the experiment whose directory holds it."""
        recorded_run = meta.get("run_id") or meta.get("run_uuid")
        recorded_exp = meta.get("experiment_id")
        if str(recorded_run) != run_id or str(recorded_exp) != exp_dir.rsplit("/", 1)[-1]:
            raise InvalidState(f"Run '{run_id}' metadata is in invalid state.")

    def update_run_meta(
        self,
        exp_dir: str,
        run_id: str,
        only_if_stage: str | None = None,
        previous: dict[str, Any] | None = None,
        **changes: Any,
    ) -> dict[str, Any]:
        """Change a run's meta.yaml (compare-and-swap) and return it as written; with
        ``only_if_stage``, the changes apply only to a run in that lifecycle stage. A
        ``deleted_time`` of None removes the key. A run whose meta.yaml is not valid
        (:meth:`check_run_meta`) raises InvalidState and is left as it is. ``previous``, if
        given, is filled with the meta.yaml the change was made to."""
        path = layout.run_meta(exp_dir, run_id)
        result: dict[str, Any] = {}

        def change(old: bytes | None) -> bytes:
            if old is None:
                raise ResourceDoesNotExist(f"Run '{run_id}' not found")
            meta = load_meta(old, path)
            self.check_run_meta(exp_dir, run_id, meta)
            if previous is not None:
                previous.clear()
                previous.update(meta)
            if only_if_stage is None or (meta.get("lifecycle_stage") or "active") == only_if_stage:
                for key, value in changes.items():
                    if value is None and key == "deleted_time":
                        meta.pop(key, None)
                    else:
                        meta[key] = value
            meta.setdefault("run_uuid", meta.get("run_id"))
            result.clear()
            result.update(meta)
            return dump_meta(meta)

        self.storage.update(path, change)
        return result

    # -- copied trees -----------------------------------------------------------------------
    def relocate(self, uri: str, exp_id: str, run_id: str | None = None) -> str:
        """Follow a copied tree: MLflow records absolute ``file://`` URIs of where the tree was
        written. When that location no longer exists but the URI has the default layout
        (``<root>/<exp>[/<run>/artifacts]``), the same place under this store is meant.
        Decided once per experiment location (search relocates thousands of runs)."""
        if not uri.startswith("file:"):
            return uri
        suffix = "" if run_id is None else f"/{run_id}/artifacts"
        if suffix and not uri.endswith(suffix):
            return uri
        recorded = uri[: len(uri) - len(suffix)] if suffix else uri
        if recorded not in self._relocations:
            self._relocations[recorded] = self._relocated_experiment(recorded, exp_id)
        return self._relocations[recorded] + suffix

    def _relocated_experiment(self, recorded: str, exp_id: str) -> str:
        local = unquote(urlparse(recorded).path)
        if os.path.exists(local) or PurePosixPath(local).name != exp_id:
            return recorded
        root = self._artifact_root.rstrip("/")
        if root != self.storage.root_uri and recorded.rstrip("/").rsplit("/", 1)[0] == root:
            return recorded  # this store's own artifact root, where nothing was logged yet
        exp_dir = layout.experiment_dir(exp_id)
        if not self.storage.exists(layout.experiment_meta(exp_dir)):
            exp_dir = layout.experiment_dir(exp_id, deleted=True)
        return self.storage.uri(exp_dir)


__all__ = [
    "RUN_DATA_DIRS",
    "Locations",
    "prune_experiment_dir",
    "prune_run_dir",
]
