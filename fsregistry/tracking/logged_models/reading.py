"""Read-only access to MLflow 3 LoggedModels (``<exp>/models/<model_id>/meta.yaml``).

MLflow 3 puts a logged model's files under its experiment, not under the run
(docs/mlflow-format.md §1.9, §1.10), so ``models:/<model_id>`` and ``runs:/<run_id>/<name>`` need to find that directory.
This module reads them (``writing`` writes them, ``search`` searches them).

It also knows how to follow a tree that was copied elsewhere: MLflow records absolute
``file://`` URIs of where it wrote the tree, so :func:`relocate_file_uri` maps a URI that no
longer exists onto the same place under the store being read, when that place exists.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

from fsregistry.entities import LifecycleStage, LoggedModel, Metric
from fsregistry.entities.logged_models import LoggedModelStatus
from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist, shown
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import MalformedMetaFile, decode_text, load_meta
from fsregistry.storage import Storage
from fsregistry.tracking import records

# LoggedModel ``status`` integers (docs/mlflow-format.md §1.9).
_STATUS_NAMES = {0: "UNSPECIFIED", 1: "PENDING", 2: "READY", 3: "FAILED"}


@dataclass(frozen=True)
class LoggedModelInfo:
    """What fsregistry needs of a LoggedModel: where its files are and where it came from."""

    model_id: str
    experiment_id: str
    name: str
    source_run_id: str | None
    artifact_location: str
    status: str
    creation_timestamp: int | None
    deleted: bool


def _experiment_dirs(storage: Storage) -> list[str]:
    dirs, _ = storage.list_dir("")
    out = [d for d in dirs if d not in layout.RESERVED_ROOT_FOLDERS and not d.startswith(".")]
    trash, _ = storage.list_dir(layout.TRASH)
    out.extend(layout.experiment_dir(d, deleted=True) for d in trash)
    return out


def _info_from_meta(meta: dict[str, Any], storage: Storage) -> LoggedModelInfo:
    status = meta.get("status")
    status_name = _STATUS_NAMES.get(status, str(status)) if isinstance(status, int) else status
    return LoggedModelInfo(
        model_id=str(meta["model_id"]),
        experiment_id=str(meta.get("experiment_id")),
        name=str(meta.get("name")),
        source_run_id=meta.get("source_run_id"),
        artifact_location=relocate_file_uri(str(meta.get("artifact_location") or ""), storage),
        status=str(status_name),
        creation_timestamp=meta.get("creation_timestamp"),
        deleted=meta.get("lifecycle_stage") == "deleted",
    )


def get_logged_model(storage: Storage, model_id: str) -> LoggedModelInfo:
    """The LoggedModel ``model_id`` in any experiment of the tracking store on ``storage``."""
    if not isinstance(model_id, str):
        raise InvalidParameterValue(f"Invalid logged model ID {shown(model_id)}")
    if not model_id or "/" in model_id or model_id.startswith("."):
        raise ResourceDoesNotExist(f"Model '{model_id}' not found")
    candidates = [layout.logged_model_meta(d, model_id) for d in _experiment_dirs(storage)]
    for path, raw in storage.read_many(candidates).items():
        try:
            meta = load_meta(raw, storage.uri(path))
        except MalformedMetaFile:
            continue
        if str(meta.get("model_id")) == model_id:
            return _info_from_meta(meta, storage)
    raise ResourceDoesNotExist(f"Model '{model_id}' not found")


def live_logged_model(storage: Storage, model_id: str) -> LoggedModelInfo:
    """The LoggedModel ``model_id`` unless it is deleted: what ``models:/<model_id>`` resolves
    to. A deleted one is "Model '<id>' not found", as MLflow's ``get_logged_model``."""
    info = get_logged_model(storage, model_id)
    if info.deleted:
        raise ResourceDoesNotExist(f"Model '{model_id}' not found")
    return info


def read_logged_model(storage: Storage, model_id: str) -> LoggedModel:
    """The whole LoggedModel: its meta.yaml plus tags, params and latest metrics.

    Metric files of logged models hold ``ts value step run_id [dataset digest]`` lines; the
    latest value is kept per (key, dataset), as MLflow 3 reports them.
    """
    info = get_logged_model(storage, model_id)
    exp_dir = layout.experiment_dir(info.experiment_id)
    if not storage.exists(layout.logged_model_meta(exp_dir, model_id)):
        exp_dir = layout.experiment_dir(info.experiment_id, deleted=True)
    found = read_models_in(storage, exp_dir, [model_id], include_deleted=True)
    if not found:
        raise ResourceDoesNotExist(f"Model '{model_id}' not found")
    return found[0]


def read_models_in(
    storage: Storage,
    exp_dir: str,
    model_ids: Sequence[str] | None = None,
    include_deleted: bool = False,
) -> list[LoggedModel]:
    """Every LoggedModel under ``<exp_dir>/models/`` (or only ``model_ids``), whole, in one
    listing and one bulk read; directories without a readable meta.yaml naming their own id
    and this experiment are skipped, as MLflow skips them. Deleted models only with
    ``include_deleted``."""
    models_dir = f"{exp_dir}/{layout.MODELS}"
    wanted = None if model_ids is None else set(model_ids)

    def prune(rel: str) -> bool:
        parts = rel.split("/")
        if wanted is not None and parts[0] not in wanted:
            return True
        return len(parts) >= 2 and parts[1] == "artifacts"

    files: dict[str, list[str]] = {}
    for f in storage.walk(models_dir, prune=prune, sizes=False):
        model_id, _, rel = f.path.partition("/")
        if (wanted is None or model_id in wanted) and (
            rel == layout.META or rel.split("/", 1)[0] in ("tags", "params", "metrics")
        ):
            files.setdefault(model_id, []).append(rel)
    contents = storage.read_many(
        f"{models_dir}/{m}/{rel}" for m, rels in files.items() for rel in rels
    )
    exp_id = exp_dir.rsplit("/", 1)[-1]
    out = []
    for model_id, rels in files.items():
        model_dir = f"{models_dir}/{model_id}"
        raw_meta = contents.get(f"{model_dir}/{layout.META}")
        if raw_meta is None:
            continue
        try:
            meta = load_meta(raw_meta, storage.uri(f"{model_dir}/{layout.META}"))
        except MalformedMetaFile:
            continue
        if str(meta.get("model_id")) != model_id or str(meta.get("experiment_id")) != exp_id:
            continue
        if meta.get("lifecycle_stage") == LifecycleStage.DELETED and not include_deleted:
            continue
        out.append(_build_model(storage, model_dir, meta, rels, contents))
    return out


def _build_model(
    storage: Storage,
    model_dir: str,
    meta: dict[str, Any],
    rels: Sequence[str],
    contents: Mapping[str, bytes],
) -> LoggedModel:
    info = _info_from_meta(meta, storage)
    model = LoggedModel(
        model_id=info.model_id,
        experiment_id=info.experiment_id,
        name=info.name,
        artifact_location=info.artifact_location,
        creation_timestamp=info.creation_timestamp,
        last_updated_timestamp=meta.get("last_updated_timestamp"),
        model_type=meta.get("model_type"),
        source_run_id=info.source_run_id,
        status=_status_of(meta.get("status")),
        status_message=meta.get("status_message"),
    )
    for rel in sorted(rels):
        raw = contents.get(f"{model_dir}/{rel}")
        if raw is None or rel == layout.META:
            continue
        kind, _, key = rel.partition("/")
        if kind == "tags":
            model.tags[key] = decode_text(raw)
        elif kind == "params":
            model.params[key] = decode_text(raw)
        else:
            latest: dict[tuple[str | None, str | None], Metric] = {}
            for m in records.parse_metric_lines(raw, key, storage.uri(f"{model_dir}/{rel}")):
                m.model_id = info.model_id
                group = (m.dataset_name, m.dataset_digest)
                best = latest.get(group)
                if best is None or (m.step, m.timestamp, m.value) > (
                    best.step,
                    best.timestamp,
                    best.value,
                ):
                    latest[group] = m
            model.metrics.extend(latest.values())
    return model


def _status_of(status: Any) -> str:
    try:
        return LoggedModelStatus.from_any(status)
    except InvalidParameterValue:
        return str(status)


def find_run_logged_model(
    storage: Storage, exp_dir: str, run_id: str, name: str
) -> LoggedModelInfo | None:
    """The LoggedModel named ``name`` logged by run ``run_id`` (MLflow 3 ``runs:/`` lookup).

    Several matches (the same name logged at several steps) resolve as MLflow does: the one
    with the largest output ``step`` of the run, then the newest.
    """
    models_dir = f"{exp_dir}/{layout.MODELS}"
    metas = [
        f"{models_dir}/{info.path}"
        for info in storage.walk(models_dir, prune=lambda rel: rel.count("/") >= 1)
        if info.path.endswith(f"/{layout.META}")
    ]
    found: list[LoggedModelInfo] = []
    for path, raw in storage.read_many(metas).items():
        try:
            meta = load_meta(raw, storage.uri(path))
        except MalformedMetaFile:
            continue
        if meta.get("source_run_id") == run_id and meta.get("name") == name and "model_id" in meta:
            info = _info_from_meta(meta, storage)
            if not info.deleted:
                found.append(info)
    if len(found) <= 1:
        return found[0] if found else None
    outputs = storage.read_many(layout.run_output_meta(exp_dir, run_id, m.model_id) for m in found)

    def rank(model: LoggedModelInfo) -> tuple[int, int]:
        raw = outputs.get(layout.run_output_meta(exp_dir, run_id, model.model_id))
        step = 0
        if raw is not None:
            try:
                step = int(load_meta(raw, model.model_id).get("step") or 0)
            except (MalformedMetaFile, TypeError, ValueError):
                step = 0
        return step, model.creation_timestamp or 0

    return max(found, key=rank)


# Path shapes, after the store root, of the places MLflow records absolute URIs of:
# run artifacts, LoggedModel artifacts, experiments, and fsregistry's copied version files.
def _store_suffix(parts: tuple[str, ...]) -> str | None:
    for i, part in enumerate(parts):
        rest = parts[i:]
        if i > 0 and parts[i - 1] == layout.TRASH:
            rest = parts[i - 1 :]  # a deleted experiment: .trash/<exp>/...
        if part.isdigit():
            tail = parts[i:]
            if len(tail) >= 3 and tail[2] == "artifacts":
                return "/".join(rest)  # <exp>/<run>/artifacts/...
            if len(tail) >= 4 and tail[1] == layout.MODELS and tail[3] == "artifacts":
                return "/".join(rest)  # <exp>/models/<model_id>/artifacts/...
        if (
            part == layout.MODELS
            and len(rest) >= 4
            and layout.parse_version_dir_name(rest[2]) is not None
            and rest[3] == layout.VERSION_ARTIFACTS
        ):
            return "/".join(rest)  # models/<name>/version-N/artifacts/...
    return None


def relocate_file_uri(uri: str, storage: Storage) -> str:
    """Map a stale absolute ``file://`` URI onto ``storage`` when the tree was copied.

    Only a ``file:`` URI whose path no longer exists is changed, and only when its tail has
    one of MLflow's layouts (run artifacts, LoggedModel artifacts, registry version files)
    and that tail exists under ``storage``; everything else is returned unchanged.
    """
    if not uri.startswith("file:"):
        return uri
    local = unquote(urlparse(uri).path)
    if os.path.exists(local):
        return uri
    suffix = _store_suffix(PurePosixPath(local).parts)
    if suffix is None or not storage.exists(suffix):
        return uri
    return storage.uri(suffix)
