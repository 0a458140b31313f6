"""Writing MLflow 3 LoggedModels: create, finalize, delete, tags, params, metrics, and the
run records that link runs to models (docs/mlflow-format.md §1.8, §1.9).

How each write is made, so a failure changes nothing and concurrent writers lose nothing:

- create: the id is ``m-<32 hex>`` (uuid4, as MLflow); params and tags are written first and
  ``meta.yaml`` last with create-if-absent, so the model exists for any reader (MLflow
  included, which skips model directories without a readable meta.yaml) only once it is
  complete; if a write fails, what was written is removed again;
- finalize and delete: compare-and-swap of ``meta.yaml`` (``storage.update``), like every
  other meta update of fsregistry;
- tags and params: one file per key, written whole (params of a LoggedModel may be
  rewritten, as MLflow's file store allows); a batch is validated before the first write;
- metrics: one line ``ts value step run_id [dataset_name dataset_digest]`` per value,
  appended on local disk; on object stores, which cannot append, by compare-and-swap of the
  metric file;
- run outputs ``<run>/outputs/<model_id>/meta.yaml`` and model inputs
  ``<run>/inputs/md5(model_id + run_id)/meta.yaml`` are created once (the first stays);
- ``append_tag_list`` appends to a JSON-list tag (``mlflow.modelVersions``): compare-and-swap
  on object stores; on local disk (a lock file would sit among the tags, where MLflow would
  read it as a tag) a read and replace under a lock of this process, as MLflow does it.

A deleted LoggedModel is "not found" for every operation, as in MLflow.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import operator
import threading
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from fsregistry.entities import LifecycleStage, LoggedModel, Metric
from fsregistry.entities.logged_models import LoggedModelOutput, LoggedModelStatus
from fsregistry.exceptions import (
    FsRegistryException,
    InvalidParameterValue,
    InvalidState,
    MlflowException,
    PathConflict,
    ResourceDoesNotExist,
    shown,
)
from fsregistry.mlruns import layout
from fsregistry.mlruns.artifact_uris import append_uri_path
from fsregistry.mlruns.metafile import dump_meta, load_meta, now_ms
from fsregistry.mlruns.validation import (
    format_metric_value,
    tag_items,
    validate_experiment_id,
    validate_key,
    validate_metric,
    validate_param,
    validate_tag,
)
from fsregistry.tracking import records
from fsregistry.tracking.experiments import Experiments
from fsregistry.tracking.locations import Locations
from fsregistry.tracking.logged_models.reading import (
    LoggedModelInfo,
    get_logged_model,
    read_models_in,
)
from fsregistry.tracking.run_names import random_run_name

_BAD_NAME_CHARS = ("/", ":", ".", "%", '"', "'")


def validate_logged_model_name(name: object) -> str | None:
    """MLflow's rule: None (a random name is drawn) or a non-empty string without
    ``/ : . % " '``."""
    if name is None:
        return None
    if not isinstance(name, str) or not name or any(c in name for c in _BAD_NAME_CHARS):
        raise InvalidParameterValue(
            f"Invalid model name ({name!r}) provided. Model name must be a non-empty string "
            f"and cannot contain the following characters: {_BAD_NAME_CHARS}"
        )
    return name


def validate_model_id(model_id: object) -> str:
    """A model id that can name a directory: not a string is InvalidParameterValue, a blank
    one names no model (MLflow: "Model '<id>' not found")."""
    if not isinstance(model_id, str):
        raise InvalidParameterValue(f"Invalid logged model ID {shown(model_id)}: must be a string")
    if not model_id.strip():
        raise ResourceDoesNotExist(f"Model '{model_id}' not found")
    return model_id


def checked_outputs(outputs: Sequence[LoggedModelOutput] | None) -> list[LoggedModelOutput]:
    """``log_outputs``' models checked before anything is written: each id names one
    directory and each step is an integer (MLflow writes whatever it is given, a bad id
    anywhere under the run and a bad step as a meta.yaml its reader then fails on)."""
    if outputs is None:
        return []
    if isinstance(outputs, str | bytes | Mapping) or not isinstance(outputs, Iterable):
        raise InvalidParameterValue(
            f"Invalid models {shown(outputs)}: expected a list of LoggedModelOutput objects"
        )
    checked = []
    for out in outputs:
        if not (hasattr(out, "model_id") and hasattr(out, "step")):
            raise InvalidParameterValue(
                f"Invalid item {shown(out)} in models: expected a LoggedModelOutput"
            )
        model_id = checked_model_ids([out.model_id])[0]
        step = out.step
        try:
            number = operator.index(step)
        except TypeError:
            number = None
        if number is None or isinstance(step, bool):
            raise InvalidParameterValue(
                f"Invalid step {shown(step)} for the output model {model_id!r}: must be an integer"
            )
        checked.append(LoggedModelOutput(model_id, number))
    return checked


def checked_model_ids(model_ids: Sequence[object]) -> list[str]:
    """Model ids to write under a run, checked first: each a non-blank string naming one
    directory (not ``.``, ``..`` or a path)."""
    checked = []
    for model_id in model_ids:
        text = validate_model_id(model_id)
        if text in (".", "..") or "/" in text or "\\" in text:
            raise InvalidParameterValue(
                f"Invalid logged model ID {shown(model_id)}: must not be a path"
            )
        checked.append(text)
    return checked


def metric_line(metric: Metric, run_id: str | None) -> bytes:
    """One line of a LoggedModel metric file (4 or 6 fields)."""
    line = f"{metric.timestamp} {format_metric_value(metric.value)} {metric.step} {run_id}"
    if metric.dataset_name is not None and metric.dataset_digest is not None:
        line += f" {metric.dataset_name} {metric.dataset_digest}"
    return (line + "\n").encode("utf-8")


class LoggedModels:
    """The LoggedModels of one tracking store."""

    def __init__(self, locations: Locations, experiments: Experiments) -> None:
        self._locations = locations
        self._experiments = experiments
        self.storage = locations.storage
        self._tag_lock = threading.Lock()

    # -- finding ------------------------------------------------------------------------
    def locate(self, model_id: str) -> tuple[str, LoggedModelInfo]:
        """(model directory, info) of a live (not deleted) model, else ResourceDoesNotExist."""
        model_id = validate_model_id(model_id)
        try:
            info = get_logged_model(self.storage, model_id)
        except ResourceDoesNotExist:
            info = None
        if info is None or info.deleted:
            raise ResourceDoesNotExist(f"Model '{model_id}' not found")
        for deleted in (False, True):
            exp_dir = layout.experiment_dir(info.experiment_id, deleted)
            meta = layout.logged_model_meta(exp_dir, model_id)
            if self.storage.exists(meta):
                return meta.rsplit("/", 1)[0], info
        raise ResourceDoesNotExist(f"Model '{model_id}' not found")

    def get(self, model_id: str) -> LoggedModel:
        """The whole live model (MLflow: "Model '<id>' not found" for a deleted one)."""
        model_dir, info = self.locate(model_id)
        exp_dir = model_dir.rsplit(f"/{layout.MODELS}/", 1)[0]
        found = read_models_in(self.storage, exp_dir, [info.model_id])
        if not found:
            raise ResourceDoesNotExist(f"Model '{model_id}' not found")
        return found[0]

    # -- create -------------------------------------------------------------------------
    def create(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, Any] | Sequence[Any] | None = None,
        params: Mapping[str, Any] | Sequence[Any] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """A new PENDING LoggedModel in an active experiment (see the module docstring)."""
        experiment_id = validate_experiment_id(experiment_id)
        name = validate_logged_model_name(name) or random_run_name()
        checked_params = dict(validate_param(k, v) for k, v in tag_items(params))
        checked_tags = dict(validate_tag(k, v) for k, v in tag_items(tags))
        if model_type is not None and not isinstance(model_type, str):
            raise InvalidParameterValue(f"Invalid model_type {shown(model_type)}: not a string")
        if source_run_id is not None and not isinstance(source_run_id, str):
            raise InvalidParameterValue(f"Invalid source_run_id {shown(source_run_id)}")
        exp_dir, meta = self._experiments.find_experiment_dir(experiment_id)
        if meta.get("lifecycle_stage") != LifecycleStage.ACTIVE or exp_dir != experiment_id:
            raise InvalidState(
                f"Could not create model under non-active experiment with ID {experiment_id}."
            )
        exp = records.experiment_from_meta(meta, {})
        exp_location = self._locations.relocate(exp.artifact_location, experiment_id)
        model_id = f"m-{uuid.uuid4().hex}"
        now = now_ms()
        model = LoggedModel(
            model_id=model_id,
            experiment_id=experiment_id,
            name=name,
            artifact_location=append_uri_path(exp_location, layout.MODELS, model_id, "artifacts"),
            creation_timestamp=now,
            last_updated_timestamp=now,
            model_type=model_type,
            source_run_id=source_run_id,
            status=LoggedModelStatus.PENDING,
            tags=checked_tags,
            params=checked_params,
        )
        model_dir = layout.logged_model_meta(exp_dir, model_id).rsplit("/", 1)[0]
        try:
            for sub in ("metrics", "params"):
                self.storage.make_dirs(f"{model_dir}/{sub}")
            self._write_files(model_dir, "params", checked_params)
            self._write_files(model_dir, "tags", checked_tags)
            self.storage.create(f"{model_dir}/{layout.META}", dump_meta(_persisted(model)))
        except BaseException:
            with contextlib.suppress(OSError, MlflowException):
                self.storage.delete_tree(model_dir)  # best effort; the first error is raised
            raise
        return model

    def _write_files(self, model_dir: str, kind: str, items: Mapping[str, str]) -> None:
        paths = {f"{model_dir}/{kind}/{key}": key for key in items}
        if len(paths) > 1 or (paths and not self.storage.capabilities.append):
            # Object stores would keep both ``a`` and ``a/b``; ask first, as runs do.
            conflicts = self.storage.file_conflicts(paths)
            if conflicts:
                key = paths[next(iter(conflicts))]
                raise InvalidParameterValue(
                    f"Invalid {kind[:-1]} key {key!r}: it collides with an existing key that is "
                    "a prefix of it or that it is a prefix of"
                )
        for key, text in items.items():
            try:
                self.storage.write(f"{model_dir}/{kind}/{key}", text.encode("utf-8"))
            except PathConflict as e:
                raise InvalidParameterValue(
                    f"Invalid {kind[:-1]} key {key!r}: it collides with an existing key that is "
                    "a prefix of it or that it is a prefix of"
                ) from e

    # -- meta updates -------------------------------------------------------------------
    def _update_meta(self, model_id: str, **changes: Any) -> None:
        model_dir, _ = self.locate(model_id)
        path = f"{model_dir}/{layout.META}"

        def change(old: bytes | None) -> bytes:
            if old is None:
                raise ResourceDoesNotExist(f"Model '{model_id}' not found")
            meta = load_meta(old, self.storage.uri(path))
            if meta.get("lifecycle_stage") == LifecycleStage.DELETED:
                raise ResourceDoesNotExist(f"Model '{model_id}' not found")
            meta.update(changes)
            meta["last_updated_timestamp"] = now_ms()
            return dump_meta(meta)

        self.storage.update(path, change)

    def finalize(self, model_id: str, status: LoggedModelStatus | str | int) -> LoggedModel:
        """Set the status (READY or FAILED, as MLflow's finalize) by compare-and-swap."""
        final = LoggedModelStatus.from_any(status)
        self._update_meta(model_id, status=final.to_int())
        return self.get(model_id)

    def delete(self, model_id: str) -> None:
        """Soft delete: ``lifecycle_stage: deleted`` (files stay, as in MLflow)."""
        self._update_meta(model_id, lifecycle_stage=LifecycleStage.DELETED)

    def discard(self, model_id: str, run_id: str | None) -> None:
        """Remove a model this process just created and failed to log (its directory and the
        run's output record); nobody else can know its id yet."""
        model_dir, _ = self.locate(model_id)
        if run_id is not None:
            exp_dir = model_dir.rsplit(f"/{layout.MODELS}/", 1)[0]
            output = layout.run_output_meta(exp_dir, run_id, model_id)
            self.storage.delete_tree(output.rsplit("/", 1)[0])
        self.storage.delete_tree(model_dir)

    # -- tags and params ----------------------------------------------------------------
    def set_tags(self, model_id: str, tags: Mapping[str, Any] | Sequence[Any]) -> None:
        checked = dict(validate_tag(k, v) for k, v in tag_items(tags))
        model_dir, _ = self.locate(model_id)
        self._write_files(model_dir, "tags", checked)

    def delete_tag(self, model_id: str, key: str) -> None:
        validate_key(key, "tag key")
        model_dir, _ = self.locate(model_id)
        path = f"{model_dir}/tags/{key}"
        if not self.storage.exists(path):
            raise ResourceDoesNotExist(
                f"No tag with key {key!r} found for model with ID {model_id!r}."
            )
        self.storage.delete(path)

    def log_params(self, model_id: str, params: Mapping[str, Any] | Sequence[Any]) -> None:
        checked = dict(validate_param(k, v) for k, v in tag_items(params))
        model_dir, _ = self.locate(model_id)
        self._write_files(model_dir, "params", checked)

    def append_tag_list(self, model_id: str, key: str, entry: Any) -> None:
        """Append ``entry`` to the JSON list in tag ``key`` (``mlflow.modelVersions``)."""
        validate_key(key, "tag key")
        model_dir, _ = self.locate(model_id)
        path = f"{model_dir}/tags/{key}"
        where = self.storage.uri(path)

        def change(old: bytes | None) -> bytes:
            try:
                items: Any = [] if old is None else json.loads(old)
            except ValueError:
                items = None
            if not isinstance(items, list):
                raise InvalidState(f"Tag {key} of model {model_id} at {where} is not a JSON list")
            return json.dumps([*items, entry]).encode("utf-8")

        if not self.storage.capabilities.append:
            self.storage.update(path, change)
            return
        with self._tag_lock:
            try:
                raw: bytes | None = self.storage.read(path)
            except FileNotFoundError:
                raw = None
            self.storage.write(path, change(raw))

    # -- metrics ------------------------------------------------------------------------
    def model_dirs(self, model_ids: Sequence[str]) -> dict[str, str]:
        """The directory of each live model named (ResourceDoesNotExist for any other)."""
        return {m: self.locate(m)[0] for m in dict.fromkeys(model_ids)}

    def log_metrics(
        self, dirs: Mapping[str, str], run_id: str | None, metrics: Sequence[Metric]
    ) -> None:
        """Append ``metrics`` (each with a ``model_id`` in ``dirs``) to the model files."""
        lines: dict[str, bytearray] = {}
        for m in metrics:
            key, value, timestamp, step = validate_metric(m.key, m.value, m.timestamp, m.step)
            checked = Metric(key, value, timestamp, step, m.dataset_name, m.dataset_digest)
            path = f"{dirs[str(m.model_id)]}/metrics/{key}"
            lines.setdefault(path, bytearray()).extend(metric_line(checked, run_id))
        for path, data in lines.items():
            if self.storage.capabilities.append:
                self.storage.append(path, bytes(data))
            else:
                self.storage.update(path, _appender(bytes(data)))

    # -- run links ----------------------------------------------------------------------
    def log_outputs(self, exp_dir: str, run_id: str, outputs: Sequence[LoggedModelOutput]) -> None:
        """Record ``outputs`` (checked by :func:`checked_outputs`) under the run; the run's
        checks are the caller's."""
        records_: dict[str, dict[str, Any]] = {}
        for out in outputs:  # a model named twice: its first entry, as across calls
            records_.setdefault(
                layout.run_output_meta(exp_dir, run_id, out.model_id),
                {
                    "destination_id": out.model_id,  # MLflow's reader takes the model id here
                    "destination_type": "MODEL_OUTPUT",
                    "source_id": out.model_id,
                    "source_type": "RUN_OUTPUT",
                    "step": out.step,
                    "tags": {},
                },
            )
        self._create_links(records_)

    def log_model_inputs(self, exp_dir: str, run_id: str, model_ids: Sequence[str]) -> None:
        """Record models (ids checked by :func:`checked_model_ids`) as inputs of the run;
        the run's checks are the caller's."""
        records_ = {
            layout.run_input_meta(
                exp_dir, run_id, hashlib.md5(f"{model_id}{run_id}".encode()).hexdigest()
            ): {
                "destination_id": run_id,
                "destination_type": "RUN",
                "source_id": model_id,
                "source_type": "MODEL",
                "tags": {},
            }
            for model_id in model_ids
        }
        self._create_links(records_)

    def _create_links(self, metas: Mapping[str, dict[str, Any]]) -> None:
        """Create each link record not there yet (one logged before stays, as in MLflow);
        if one cannot be written, those this call created are removed before it raises.
        Only records this call provably made are removed: ``exclusive`` creates, so a record
        another writer made with the same bytes meanwhile is theirs, and stays."""
        made: list[str] = []
        try:
            for path, meta in metas.items():
                with contextlib.suppress(FileExistsError):  # logged before: the first one stays
                    self.storage.create(path, dump_meta(meta), exclusive=True)
                    made.append(path)
        except BaseException as error:
            for path in made:
                try:
                    self.storage.delete_tree(path.rsplit("/", 1)[0])
                except (FsRegistryException, OSError) as failed:
                    error.add_note(f"The record {self.storage.uri(path)} is left: {failed}")
            raise

    def run_outputs(self, exp_dir: str, run_id: str) -> list[LoggedModelOutput]:
        """The model outputs recorded for a run, in model id order."""
        prefix = f"{layout.run_dir(exp_dir, run_id)}/outputs"
        paths = [
            f"{prefix}/{f.path}"
            for f in self.storage.walk(prefix, sizes=False)
            if f.path.count("/") == 1 and f.path.endswith(f"/{layout.META}")
        ]
        out = []
        for path, raw in sorted(self.storage.read_many(paths).items()):
            meta = load_meta(raw, self.storage.uri(path))
            if meta.get("destination_id"):
                out.append(LoggedModelOutput(str(meta["destination_id"]), int(meta.get("step", 0))))
        return out


def _appender(data: bytes) -> Callable[[bytes | None], bytes]:
    def change(old: bytes | None) -> bytes:
        return (old or b"") + data

    return change


def _persisted(model: LoggedModel) -> dict[str, Any]:
    return {
        "artifact_location": model.artifact_location,
        "creation_timestamp": model.creation_timestamp,
        "experiment_id": model.experiment_id,
        "last_updated_timestamp": model.last_updated_timestamp,
        "lifecycle_stage": LifecycleStage.ACTIVE,
        "model_id": model.model_id,
        "model_type": model.model_type,
        "name": model.name,
        "source_run_id": model.source_run_id,
        "status": LoggedModelStatus.from_any(model.status).to_int(),
        "status_message": model.status_message,
    }


__all__ = ["LoggedModels", "metric_line", "validate_logged_model_name", "validate_model_id"]
