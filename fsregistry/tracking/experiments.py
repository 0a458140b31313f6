"""Experiments: create, read, rename, delete, restore, tag and search them.

An experiment is ``<id>/meta.yaml`` with its tags as files under ``<id>/tags/``; deleting one
sets its lifecycle stage, marks its active runs deleted and moves the tree to
``.trash/<id>/`` (restoring undoes all three), as MLflow's file store does.

- Ids come from the name: an 18-digit number (as MLflow's look) hashed from the name and an
  attempt number, claimed with an atomic create of its ``meta.yaml``. Two processes creating
  one name pick the same id, so one wins and the other gets "already exists"; an id held by
  another name (a renamed experiment) moves on to the next attempt.
- The Default experiment (id ``0``) is created when a new store is first used, as MLflow
  does: by the first experiment created, by asking for experiment ``0`` or ``Default``, or by
  an experiment search of an empty store.
- An experiment whose ``meta.yaml`` is missing, unreadable or names another id than its
  directory is not an experiment (MLflow skips these too).
- Reads list the root once and read every ``meta.yaml`` (and tag) in one bulk read.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fsregistry.entities import Experiment, LifecycleStage, PagedList, ViewType
from fsregistry.exceptions import (
    InvalidParameterValue,
    InvalidState,
    ResourceAlreadyExists,
    ResourceDoesNotExist,
)
from fsregistry.mlruns import layout
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
from fsregistry.tracking import records
from fsregistry.tracking.locations import Locations

_ID_DIGITS = 18


def _name_experiment_id(name: str, attempt: int) -> str:
    """Deterministic experiment id for a name, so concurrent creators pick the same one."""
    digest = hashlib.sha256(f"{name}\x00{attempt}".encode()).digest()
    number = int.from_bytes(digest[:8], "big") % (9 * 10 ** (_ID_DIGITS - 1))
    return str(10 ** (_ID_DIGITS - 1) + number)


class Experiments:
    """The experiments of one store. ``artifact_root``: where new experiments put
    artifacts."""

    def __init__(self, locations: Locations, artifact_root: str) -> None:
        self._locations = locations
        self.storage = locations.storage
        self.artifact_root = artifact_root

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
        """The directory and decoded ``meta.yaml`` of an experiment, active or deleted;
        ResourceDoesNotExist if there is none."""
        experiment_id = validate_experiment_id(experiment_id)
        for deleted in (False, True):
            exp_dir = layout.experiment_dir(experiment_id, deleted)
            try:
                raw = self.storage.read(layout.experiment_meta(exp_dir))
            except FileNotFoundError:
                continue
            return exp_dir, load_meta(raw, self.storage.uri(layout.experiment_meta(exp_dir)))
        if experiment_id == layout.DEFAULT_EXPERIMENT_ID and self._ensure_default_experiment():
            return self.find_experiment_dir(experiment_id)
        raise ResourceDoesNotExist(f"Could not find experiment with ID {experiment_id}")

    def _ensure_default_experiment(self) -> bool:
        """Create experiment 0 'Default' if it is missing, as MLflow does for a new store."""
        if self.storage.exists(layout.experiment_meta(layout.experiment_dir("0", True))):
            return False
        meta = records.experiment_meta(
            layout.DEFAULT_EXPERIMENT_ID,
            layout.DEFAULT_EXPERIMENT_NAME,
            f"{self.artifact_root}/{layout.DEFAULT_EXPERIMENT_ID}",
            now_ms(),
        )
        with contextlib.suppress(FileExistsError):  # another process made it first: same result
            self.storage.create(layout.experiment_meta("0"), dump_meta(meta))
        self.storage.make_dirs(layout.TRASH)
        return True

    def _ensure_default_experiment_once(self) -> None:
        if not self.storage.exists(layout.experiment_meta("0")):
            self._ensure_default_experiment()

    def get_experiment(self, experiment_id: str) -> Experiment:
        exp_dir, _ = self.find_experiment_dir(experiment_id)
        found = self._read_experiments([exp_dir])
        if not found:
            raise ResourceDoesNotExist(f"Could not find experiment with ID {experiment_id}")
        return found[0]

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        for exp in self._read_experiments(self._locations.experiment_dirs(), with_tags=False):
            if exp.name == name:
                self._attach_experiment_tags([exp])
                return exp
        if name == layout.DEFAULT_EXPERIMENT_NAME and self._ensure_default_experiment():
            return self.get_experiment(layout.DEFAULT_EXPERIMENT_ID)
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
        exp_dirs = self._locations.experiment_dirs(view)
        if not exp_dirs and self._ensure_default_experiment():
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
        if artifact_location is not None:
            _check_artifact_location(artifact_location)
        existing = self.get_experiment_by_name(name)
        if existing is not None:
            raise _experiment_exists(name, existing)
        self._ensure_default_experiment_once()
        for attempt in range(1000):
            exp_id = _name_experiment_id(name, attempt)
            if self.storage.exists(layout.experiment_meta(layout.experiment_dir(exp_id, True))):
                continue
            location = (artifact_location or f"{self.artifact_root}/{exp_id}").rstrip("/")
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

    def _update_experiment_meta(self, exp_dir: str, **changes: Any) -> None:
        path = layout.experiment_meta(exp_dir)

        def change(old: bytes | None) -> bytes:
            if old is None:
                raise ResourceDoesNotExist(f"Experiment meta {self.storage.uri(path)} vanished")
            meta = load_meta(old, path)
            meta.update(changes)
            meta["last_update_time"] = now_ms()
            return dump_meta(meta)

        self.storage.update(path, change)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        validate_experiment_name(new_name)
        exp_dir, meta = self.find_experiment_dir(experiment_id)
        if meta.get("lifecycle_stage") == LifecycleStage.DELETED:
            raise InvalidState(f"Cannot rename a non-active experiment {experiment_id}")
        existing = self.get_experiment_by_name(new_name)
        if existing is not None and existing.experiment_id != str(experiment_id):
            raise _experiment_exists(new_name, existing)
        self._update_experiment_meta(exp_dir, name=new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        experiment_id = validate_experiment_id(experiment_id)
        if experiment_id == layout.DEFAULT_EXPERIMENT_ID:
            raise InvalidParameterValue("Cannot delete the Default experiment '0'")
        exp_dir, _meta = self.find_experiment_dir(experiment_id)
        if exp_dir != layout.experiment_dir(experiment_id):
            raise InvalidState(f"Experiment {experiment_id} is already deleted")
        now = now_ms()
        locations = self._locations
        for run_id in locations.run_ids_in(exp_dir):
            locations.update_run_meta(
                exp_dir,
                run_id,
                only_if_stage=LifecycleStage.ACTIVE,
                lifecycle_stage=LifecycleStage.DELETED,
                deleted_time=now,
            )
        self._update_experiment_meta(exp_dir, lifecycle_stage=LifecycleStage.DELETED)
        self.storage.move_tree(exp_dir, layout.experiment_dir(experiment_id, deleted=True))
        locations.experiment_moved(exp_dir)

    def restore_experiment(self, experiment_id: str) -> None:
        experiment_id = validate_experiment_id(experiment_id)
        exp_dir, _ = self.find_experiment_dir(experiment_id)
        active_dir = layout.experiment_dir(experiment_id)
        if exp_dir == active_dir:
            raise InvalidState(f"Experiment {experiment_id} is not deleted")
        locations = self._locations
        self.storage.move_tree(exp_dir, active_dir)
        locations.experiment_moved(exp_dir)
        self._update_experiment_meta(active_dir, lifecycle_stage=LifecycleStage.ACTIVE)
        for run_id in locations.run_ids_in(active_dir):
            locations.update_run_meta(
                active_dir,
                run_id,
                only_if_stage=LifecycleStage.DELETED,
                lifecycle_stage=LifecycleStage.ACTIVE,
                deleted_time=None,
            )

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        key, text = validate_tag(key, value, MAX_EXPERIMENT_TAG_VAL_LENGTH)
        exp_dir, meta = self.find_experiment_dir(experiment_id)
        if meta.get("lifecycle_stage") == LifecycleStage.DELETED:
            raise InvalidState(f"Cannot set a tag on deleted experiment {experiment_id}")
        self.storage.write(layout.experiment_tag(exp_dir, key), text.encode("utf-8"))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        validate_key(key, "tag key")
        exp_dir, _ = self.find_experiment_dir(experiment_id)
        path = layout.experiment_tag(exp_dir, key)
        if not self.storage.exists(path):
            raise ResourceDoesNotExist(f"No tag {key!r} on experiment {experiment_id}")
        self.storage.delete(path)


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
