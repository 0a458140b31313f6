"""Experiments: create, read, rename, delete, restore, tag and search them.

An experiment is ``<id>/meta.yaml`` with its tags as files under ``<id>/tags/``; deleting one
sets its lifecycle stage, marks its active runs deleted and moves the tree to
``.trash/<id>/`` (restoring undoes all three), as MLflow's file store does. A restore that
fails part-way (its run-set stamp not written, say) puts all three back before it raises.

- Ids come from the name: an 18-digit number (as MLflow's look) hashed from the name and an
  attempt number, claimed with an atomic create of its ``meta.yaml``. Two processes creating
  one name pick the same id, so one wins and the other gets "already exists"; an id held by
  another name (a renamed experiment) moves on to the next attempt.
- The Default experiment (id ``0``) is created when a store is opened (:meth:`initialise`:
  by ``Client``, else by the store's first experiment or run operation), once per store
  object, and only if the store holds no experiment yet (nothing at the root but a registry's
  ``models/``): MLflow creates it when its root does not exist yet. So it is never older than
  a user experiment, and a store whose ``0/meta.yaml`` was deleted or whose ``0/`` was renamed
  gets MLflow's errors instead of a new Default experiment. (An existing empty directory
  counts as new: on an object store, an empty root and a missing one are the same thing.)
- Asking for an experiment by id gives MLflow's answers: no directory of that id is "Could
  not find experiment with ID", a directory without ``meta.yaml`` is a missing-config error,
  a ``meta.yaml`` naming another id is "Experiment '<id>' does not exist". Searches and name
  look-ups skip such directories, as MLflow does.
- Artifact locations follow ``mlruns.artifact_uris``: a relative ``artifact_location`` is
  made absolute against the working directory, the default one is ``<artifact root>/<id>``.
- Reads list the root once and read every ``meta.yaml`` (and tag) in one bulk read.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fsregistry.entities import Experiment, LifecycleStage, PagedList, ViewType
from fsregistry.exceptions import (
    FsRegistryException,
    InvalidParameterValue,
    InvalidState,
    MissingConfigException,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from fsregistry.mlruns import layout
from fsregistry.mlruns.artifact_uris import absolute_location, append_uri_path
from fsregistry.mlruns.metafile import MalformedMetaFile, decode_text, dump_meta, load_meta, now_ms
from fsregistry.mlruns.validation import (
    MAX_EXPERIMENT_TAG_VAL_LENGTH,
    tag_items,
    validate_experiment_id,
    validate_experiment_name,
    validate_key,
    validate_tag,
    validate_utf8,
)
from fsregistry.search import (
    check_paging,
    effective_order,
    matches,
    paginate,
    parse_filter,
    parse_order_by,
    sort_rows,
)
from fsregistry.tracking import records, run_index, trust
from fsregistry.tracking.locations import Locations

_ID_DIGITS = 18
_log = logging.getLogger(__name__)


def _name_experiment_id(name: str, attempt: int) -> str:
    """Deterministic experiment id for a name, so concurrent creators pick the same one."""
    digest = hashlib.sha256(f"{name}\x00{attempt}".encode()).digest()
    number = int.from_bytes(digest[:8], "big") % (9 * 10 ** (_ID_DIGITS - 1))
    return str(10 ** (_ID_DIGITS - 1) + number)


class Experiments:
    """The experiments of one store (new ones put artifacts under
    ``locations.artifact_root``)."""

    def __init__(self, locations: Locations) -> None:
        self._locations = locations
        self.storage = locations.storage
        self._initialised = False
        self._initialise_lock = threading.Lock()

    @property
    def artifact_root(self) -> str:
        return self._locations.artifact_root

    @artifact_root.setter
    def artifact_root(self, value: str) -> None:
        self._locations.artifact_root = value

    # -- the Default experiment -------------------------------------------------------------
    def initialise(self) -> None:
        """Create the Default experiment (and ``.trash/``) if the store holds no experiment
        yet; once per store object (see the module docstring). A backend that cannot create
        files atomically is left as it is (fsregistry does not write there)."""
        if self._initialised:
            return
        with self._initialise_lock:
            if self._initialised:
                return
            if self.storage.capabilities.atomic_create:
                dirs, _ = self.storage.list_dir("")
                if not [d for d in dirs if d not in (layout.MODELS, layout.HISTORY)]:
                    self._create_default_experiment()
            self._initialised = True

    def _create_default_experiment(self) -> None:
        meta = records.experiment_meta(
            layout.DEFAULT_EXPERIMENT_ID,
            layout.DEFAULT_EXPERIMENT_NAME,
            append_uri_path(self.artifact_root, layout.DEFAULT_EXPERIMENT_ID),
            now_ms(),
        )
        with contextlib.suppress(FileExistsError):  # another process made it first: same result
            self.storage.create(layout.experiment_meta("0"), dump_meta(meta))
        self.storage.make_dirs(layout.TRASH)

    # -- reading ----------------------------------------------------------------------------
    def _read_experiments(
        self, exp_dirs: Sequence[str], with_tags: bool = True
    ) -> list[Experiment]:
        metas = self.storage.read_many(layout.experiment_meta(d) for d in exp_dirs)
        experiments: list[Experiment] = []
        for exp_dir in exp_dirs:
            raw = metas.get(layout.experiment_meta(exp_dir))
            if raw is None:
                continue  # not an experiment (or a half-deleted one): MLflow skips these too
            try:
                meta = load_meta(raw, self.storage.uri(layout.experiment_meta(exp_dir)))
                exp_id = str(meta["experiment_id"])
            except (MalformedMetaFile, KeyError):
                continue
            if exp_id != exp_dir.rsplit("/", 1)[-1]:
                continue  # MLflow ignores an experiment whose id and directory disagree
            exp = records.experiment_from_meta(meta, {})
            exp.artifact_location = self._locations.relocate(exp.artifact_location, exp_id)
            experiments.append(exp)
        if with_tags:
            self._attach_experiment_tags(experiments)
        return experiments

    def _attach_experiment_tags(self, experiments: list[Experiment]) -> None:
        paths: dict[str, tuple[Experiment, str]] = {}  # tag file -> (experiment, tag key)
        for exp in experiments:
            tags_dir = layout.experiment_tags(_exp_dir_of(exp))
            for info in self.storage.walk(tags_dir):
                paths[f"{tags_dir}/{info.path}"] = (exp, info.path)
        for path, raw in self.storage.read_many(paths).items():
            exp, key = paths[path]
            exp.tags[key] = decode_text(raw)

    def find_experiment_dir(self, experiment_id: str) -> tuple[str, dict[str, Any]]:
        """The directory and decoded ``meta.yaml`` of an experiment, active or deleted, with
        MLflow's errors (see the module docstring): ResourceDoesNotExist,
        MissingConfigException."""
        experiment_id = validate_experiment_id(experiment_id)
        self.initialise()
        for deleted in (False, True):
            exp_dir = layout.experiment_dir(experiment_id, deleted)
            path = layout.experiment_meta(exp_dir)
            try:
                raw = self.storage.read(path)
            except FileNotFoundError:
                continue
            meta = load_meta(raw, self.storage.uri(path))
            if str(meta.get("experiment_id")) != experiment_id:
                raise ResourceDoesNotExist(f"Experiment '{experiment_id}' does not exist.")
            return exp_dir, meta
        bare_dir = self.directory_without_meta(experiment_id)
        if bare_dir is not None:
            missing = self.storage.uri(layout.experiment_meta(bare_dir))
            raise MissingConfigException(f"Yaml file '{missing}' does not exist.")
        raise ResourceDoesNotExist(f"Could not find experiment with ID {experiment_id}")

    def directory_without_meta(self, experiment_id: str) -> str | None:
        """The directory of ``experiment_id`` (active, else deleted) when it exists without a
        ``meta.yaml`` (asked once none was found); never a reserved root folder."""
        if experiment_id in layout.RESERVED_ROOT_FOLDERS:
            return None
        for deleted in (False, True):
            exp_dir = layout.experiment_dir(experiment_id, deleted)
            if self.storage.exists(exp_dir):
                return exp_dir
        return None

    def get_experiment(self, experiment_id: str) -> Experiment:
        exp_dir, _ = self.find_experiment_dir(experiment_id)
        found = self._read_experiments([exp_dir])
        if not found:
            raise ResourceDoesNotExist(f"Could not find experiment with ID {experiment_id}")
        return found[0]

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        self.initialise()
        for exp in self._read_experiments(self._locations.experiment_dirs(), with_tags=False):
            if exp.name == name:
                self._attach_experiment_tags([exp])
                return exp
        return None

    def search_experiments(
        self,
        view_type: int | str = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[Experiment]:
        view = ViewType.from_any(view_type)
        check_paging(max_results, "experiments", page_token)
        comparisons = parse_filter(filter_string, "experiments")
        clauses = effective_order(parse_order_by(order_by, "experiments"), "experiments")
        self.initialise()
        exp_dirs = self._locations.experiment_dirs(view)
        stages = ViewType.stages(view)
        experiments = [e for e in self._read_experiments(exp_dirs) if e.lifecycle_stage in stages]
        experiments = [e for e in experiments if matches(comparisons, _experiment_lookup(e))]
        experiments = sort_rows(experiments, clauses, _experiment_lookup)
        page, token = paginate(experiments, max_results, page_token)
        return PagedList(page, token)

    # -- writing ----------------------------------------------------------------------------
    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, Any] | Iterable[Any] | None = None,
    ) -> str:
        validate_experiment_name(name)
        given_tags = [
            validate_tag(key, value, MAX_EXPERIMENT_TAG_VAL_LENGTH)
            for key, value in tag_items(tags)
        ]
        if artifact_location:  # "" or None: the default location, as MLflow
            _check_artifact_location(artifact_location)
            artifact_location = absolute_location(artifact_location)
        existing = self.get_experiment_by_name(name)
        if existing is not None:
            raise _experiment_exists(name, existing)
        for attempt in range(1000):
            exp_id = _name_experiment_id(name, attempt)
            if self.storage.exists(layout.experiment_meta(layout.experiment_dir(exp_id, True))):
                continue
            location = artifact_location or append_uri_path(self.artifact_root, exp_id)
            meta = records.experiment_meta(exp_id, name, location, now_ms())
            try:
                self.storage.create(layout.experiment_meta(exp_id), dump_meta(meta))
            except FileExistsError:
                holder = load_meta(self.storage.read(layout.experiment_meta(exp_id)), exp_id)
                if holder.get("name") == name:
                    raise _experiment_exists(name, None) from None
                continue  # id held by a renamed experiment: try the next one for this name
            for key, text in given_tags:  # as set_experiment_tag stores them ("" for None)
                self.storage.write(layout.experiment_tag(exp_id, key), text.encode("utf-8"))
            return exp_id
        raise InvalidState(f"Could not allocate an experiment id for {name!r}")

    def _update_experiment_meta(
        self, exp_dir: str, *, touch: bool = True, **changes: Any
    ) -> dict[str, Any]:
        """Change an experiment's meta.yaml (compare-and-swap) and return it as it was before;
        a change to None removes the key. ``touch``: set ``last_update_time`` to now."""
        path = layout.experiment_meta(exp_dir)
        before: dict[str, Any] = {}

        def change(old: bytes | None) -> bytes:
            if old is None:
                raise ResourceDoesNotExist(f"Experiment meta {self.storage.uri(path)} vanished")
            meta = load_meta(old, path)
            before.clear()
            before.update(meta)
            meta.update(changes)
            for key in [k for k, v in changes.items() if v is None]:
                del meta[key]
            if touch:
                meta["last_update_time"] = now_ms()
            return dump_meta(meta)

        self.storage.update(path, change)
        return before

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        validate_experiment_name(new_name)
        exp_dir, meta = self.find_experiment_dir(experiment_id)
        if meta.get("lifecycle_stage") == LifecycleStage.DELETED:
            raise InvalidState(
                "Cannot rename experiment in non-active lifecycle stage. Current stage: "
                f"{meta.get('lifecycle_stage')} (experiment {experiment_id})"
            )
        existing = self.get_experiment_by_name(new_name)
        if existing is not None and existing.experiment_id != str(experiment_id):
            raise _experiment_exists(new_name, existing)
        self._update_experiment_meta(exp_dir, name=new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        experiment_id = validate_experiment_id(experiment_id)
        if experiment_id == layout.DEFAULT_EXPERIMENT_ID:
            raise FsRegistryException(  # INTERNAL_ERROR, as MLflow's
                "Cannot delete the default experiment '0'. This is an internally reserved "
                "experiment."
            )
        exp_dir, _meta = self.find_experiment_dir(experiment_id)
        if exp_dir != layout.experiment_dir(experiment_id):
            raise ResourceDoesNotExist(
                f"Could not find experiment with ID {experiment_id} (it is already deleted)"
            )
        now = now_ms()
        locations = self._locations
        for run_id in locations.run_ids_in(exp_dir):
            self._set_run_stage(
                exp_dir, run_id, LifecycleStage.ACTIVE, LifecycleStage.DELETED, deleted_time=now
            )
        self._update_experiment_meta(exp_dir, lifecycle_stage=LifecycleStage.DELETED)
        self.storage.move_tree(exp_dir, layout.experiment_dir(experiment_id, deleted=True))
        locations.experiment_moved(exp_dir)

    def restore_experiment(self, experiment_id: str) -> None:
        experiment_id = validate_experiment_id(experiment_id)
        exp_dir, _ = self.find_experiment_dir(experiment_id)
        active_dir = layout.experiment_dir(experiment_id)
        if exp_dir == active_dir:
            raise ResourceDoesNotExist(
                f"Could not find deleted experiment with ID {experiment_id} (it is active)"
            )
        locations = self._locations
        self.storage.move_tree(exp_dir, active_dir)
        locations.experiment_moved(exp_dir)
        undo = _Restore(exp_dir, active_dir)
        try:
            undo.meta = self._update_experiment_meta(
                active_dir, lifecycle_stage=LifecycleStage.ACTIVE
            )
            undo.listed = set(locations.run_ids_in(active_dir))
            for run_id in sorted(undo.listed):
                before = self._set_run_stage(
                    active_dir,
                    run_id,
                    LifecycleStage.DELETED,
                    LifecycleStage.ACTIVE,
                    deleted_time=None,
                )
                if before is not None:
                    undo.runs[run_id] = before
            self._forget_run_summaries(active_dir)
        except BaseException as error:
            self._undo_restore(undo, error)
            raise

    def _undo_restore(self, undo: _Restore, error: BaseException) -> None:
        """Put back an experiment whose restore failed part-way with ``error`` (its stamp not
        written, say: a search holding an older listing would not see the restore): the
        stages and deletion times of the runs it restored, its meta.yaml's stage and update
        time, then its tree in the trash, so the call raises having changed nothing (the
        index shards it deleted are a cache the next search rebuilds; a run another writer
        changed meanwhile goes to the trash with it as it is; if another writer has made a run in
        it meanwhile, it is left restored and ``error`` says so). A reader holding a
        listing of the trashed experiment from before finds it as it was. If a step of this
        fails too, the rest is left and ``error`` says so."""
        storage, active = self.storage, undo.active_dir
        try:
            listed = undo.listed
            made = set() if listed is None else set(self._locations.run_ids_in(active)) - listed
            if made:
                # Another writer has used the restored experiment meanwhile: moving it back
                # would take its runs to the trash under it. Left restored, and said so.
                where = storage.uri(active)
                _log.warning("Leaving %s restored: runs were created in it meanwhile", where)
                error.add_note(
                    f"The experiment {where} is left restored: runs {sorted(made)} were "
                    "created in it meanwhile"
                )
                return
            for run_id, before in undo.runs.items():
                self._locations.update_run_meta(
                    active,
                    run_id,
                    only_if_stage=LifecycleStage.ACTIVE,
                    lifecycle_stage=before.get("lifecycle_stage"),
                    deleted_time=before.get("deleted_time"),
                )
            if undo.meta is not None:
                self._update_experiment_meta(
                    active,
                    touch=False,
                    lifecycle_stage=undo.meta.get("lifecycle_stage"),
                    last_update_time=undo.meta.get("last_update_time"),
                )
            storage.move_tree(active, undo.trash_dir)
            self._locations.experiment_moved(active)
        except (FsRegistryException, OSError) as failed:
            where = storage.uri(active)
            _log.warning("Could not undo the failed restore of %s: %s", where, failed)
            error.add_note(f"The experiment {where} is left part-restored: {failed}")

    def _forget_run_summaries(self, exp_dir: str) -> None:
        """Delete the experiment's run-index shards (fsregistry's own files), then stamp it: a
        restore rewrote every run's lifecycle stage, which summaries a search of the deleted
        experiment may have recorded, and a trusted search would believe them. The next
        search summarises the runs from their files again."""
        _dirs, files = self.storage.list_dir(exp_dir)
        for name in files:
            if name.startswith(run_index.SHARD_PREFIX):
                with contextlib.suppress(FileNotFoundError):  # another process removed it
                    self.storage.delete(f"{exp_dir}/{name}")
        trust.bump(self.storage, exp_dir)

    def _set_run_stage(
        self, exp_dir: str, run_id: str, old: str, new: str, deleted_time: int | None
    ) -> dict[str, Any] | None:
        """Move one run of an experiment being deleted or restored from stage ``old`` to
        ``new``; its meta.yaml as it was, if it moved. A directory that is not a valid run (no
        meta.yaml, or one naming another run or experiment) is skipped with a warning, as
        MLflow does."""
        before: dict[str, Any] = {}
        try:
            self._locations.update_run_meta(
                exp_dir,
                run_id,
                only_if_stage=old,
                previous=before,
                lifecycle_stage=new,
                deleted_time=deleted_time,
            )
        except (InvalidState, ResourceDoesNotExist) as e:
            _log.warning("Skipping %s: %s", self.storage.uri(layout.run_dir(exp_dir, run_id)), e)
            return None
        return before if (before.get("lifecycle_stage") or LifecycleStage.ACTIVE) == old else None

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        key, text = validate_tag(key, value, MAX_EXPERIMENT_TAG_VAL_LENGTH)
        exp_dir, meta = self.find_experiment_dir(experiment_id)
        if meta.get("lifecycle_stage") == LifecycleStage.DELETED:
            raise InvalidParameterValue(
                f"The experiment {experiment_id} must be in the 'active' lifecycle_stage to "
                "set tags"
            )
        self.storage.write(layout.experiment_tag(exp_dir, key), text.encode("utf-8"))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        validate_key(key, "tag key")
        exp_dir, _ = self.find_experiment_dir(experiment_id)
        path = layout.experiment_tag(exp_dir, key)
        if not self.storage.exists(path):
            raise ResourceDoesNotExist(
                f"No tag with name: {key} in experiment with id {experiment_id}"
            )
        self.storage.delete(path)


@dataclass
class _Restore:
    """What a restore changed so far, for :meth:`Experiments._undo_restore`: the experiment's
    meta.yaml and each restored run's as they were before."""

    trash_dir: str
    active_dir: str
    meta: dict[str, Any] | None = None
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    listed: set[str] | None = None  # its runs, listed once it was moved back


def _exp_dir_of(exp: Experiment) -> str:
    return layout.experiment_dir(
        exp.experiment_id, deleted=exp.lifecycle_stage == LifecycleStage.DELETED
    )


def _experiment_lookup(exp: Experiment) -> Any:
    def lookup(entity: str, key: str) -> Any:
        if entity == "tag":
            return exp.tags.get(key)
        return getattr(exp, key, None)

    return lookup


def _experiment_exists(name: str, existing: Experiment | None) -> ResourceAlreadyExists:
    state = ""
    if existing is not None and existing.lifecycle_stage == LifecycleStage.DELETED:
        state = " in deleted state"
    return ResourceAlreadyExists(f"Experiment '{name}' already exists{state}.")


def _check_artifact_location(location: str) -> None:
    if not isinstance(location, str) or not location.strip():
        raise InvalidParameterValue(f"Invalid artifact location {location!r}")
    if location.startswith("runs:") or location.startswith("models:"):
        raise InvalidParameterValue(
            f"Invalid artifact location {location!r}: cannot be a runs:/ or models:/ URI"
        )
    validate_utf8(location, "artifact location")


__all__ = ["Experiments"]
