"""Run and experiment files <-> entities: parsing and formatting, no I/O.

Kept apart from the store so that search (which reads thousands of files in bulk) and
single-run reads decode files the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, TypeAlias

from fsregistry.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    LifecycleStage,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunInputs,
    RunOutputs,
    RunStatus,
)
from fsregistry.entities.logged_models import LoggedModelInput, LoggedModelOutput
from fsregistry.entities.tracking import LatestMetric
from fsregistry.mlruns.metafile import MalformedMetaFile, decode_text, load_meta
from fsregistry.mlruns.validation import format_metric_value
from fsregistry.tracking.run_files import RunFiles as RunFiles

# A search lookup ``(entity, key) -> value`` (fsregistry.search.evaluate.Lookup).
Lookup: TypeAlias = Callable[[str, str], Any]
RUN_NAME_TAG = "mlflow.runName"
SOURCE_TYPE_LOCAL = 4  # MLflow's legacy SourceType.LOCAL, still written into run meta


# -- metrics ------------------------------------------------------------------------------
def format_metric_line(value: float, timestamp: int, step: int) -> bytes:
    return f"{timestamp} {format_metric_value(value)} {step}\n".encode("ascii")


def parse_metric_lines(raw: bytes, key: str, where: str) -> list[Metric]:
    """Every line of a run or logged-model metric file, in file order.

    Accepts MLflow's forms: ``ts value`` (legacy, step 0), ``ts value step``,
    ``ts value step dataset_name dataset_digest`` (3.x), and the logged-model forms with a
    run id after the step (4 or 6 fields).
    """
    out: list[Metric] = []
    for lineno, line in enumerate(raw.decode("utf-8").splitlines(), 1):
        parts = line.split(" ")
        if not line.strip():
            continue
        try:
            ts, value = int(parts[0]), float(parts[1])
            step = int(parts[2]) if len(parts) > 2 else 0
        except (ValueError, IndexError) as e:
            raise MalformedMetaFile(
                f"Malformed metric file {where}, line {lineno}: {line!r}"
            ) from e
        metric = Metric(key=key, value=value, timestamp=ts, step=step)
        if len(parts) == 5:
            metric.dataset_name, metric.dataset_digest = parts[3], parts[4]
        elif len(parts) in (4, 6):
            metric.run_id = parts[3]
            if len(parts) == 6:
                metric.dataset_name, metric.dataset_digest = parts[4], parts[5]
        elif len(parts) > 3:
            raise MalformedMetaFile(f"Malformed metric file {where}, line {lineno}: {line!r}")
        out.append(metric)
    return out


def latest_metric_line(raw: bytes, where: str) -> LatestMetric | None:
    """MLflow's current value of a metric: the line maximising ``(step, timestamp, value)``.

    Compared as Python tuples, as MLflow does, so NaN ties resolve the same way. Only the
    winning line is kept: search reads thousands of these files.
    """
    best: tuple[int, int, float] | None = None
    best_parts: list[str] = []
    for line in raw.decode("utf-8").splitlines():
        parts = line.split(" ")
        if not line.strip():
            continue
        try:
            candidate = (int(parts[2]) if len(parts) > 2 else 0, int(parts[0]), float(parts[1]))
        except (ValueError, IndexError) as e:
            raise MalformedMetaFile(f"Malformed metric file {where}: {line!r}") from e
        if best is None or candidate > best:
            best, best_parts = candidate, parts
    if best is None:
        return None
    if len(best_parts) == 5:
        return (best[2], best[1], best[0], best_parts[3], best_parts[4])
    return (best[2], best[1], best[0], None, None)


# -- experiments --------------------------------------------------------------------------
def experiment_meta(
    experiment_id: str, name: str, artifact_location: str, creation_time: int
) -> dict[str, Any]:
    return {
        "artifact_location": artifact_location,
        "creation_time": creation_time,
        "experiment_id": experiment_id,
        "last_update_time": creation_time,
        "lifecycle_stage": LifecycleStage.ACTIVE,
        "name": name,
    }


def experiment_from_meta(meta: Mapping[str, Any], tags: dict[str, str]) -> Experiment:
    return Experiment(
        experiment_id=str(meta["experiment_id"]),
        name=str(meta["name"]),
        artifact_location=str(meta.get("artifact_location") or ""),
        lifecycle_stage=str(meta.get("lifecycle_stage") or LifecycleStage.ACTIVE),
        tags=tags,
        creation_time=_opt_int(meta.get("creation_time")),
        last_update_time=_opt_int(meta.get("last_update_time")),
    )


# -- runs ---------------------------------------------------------------------------------
def run_meta(info: RunInfo, deleted_time: int | None = None) -> dict[str, Any]:
    """Run ``meta.yaml`` readable by MLflow 2.x (needs ``run_uuid``) and 3.x (int status)."""
    meta: dict[str, Any] = {
        "artifact_uri": info.artifact_uri,
        "end_time": info.end_time,
        "entry_point_name": "",
        "experiment_id": info.experiment_id,
        "lifecycle_stage": info.lifecycle_stage,
        "run_id": info.run_id,
        "run_name": info.run_name,
        "run_uuid": info.run_id,
        "source_name": "",
        "source_type": SOURCE_TYPE_LOCAL,
        "source_version": "",
        "start_time": info.start_time,
        "status": RunStatus.to_int(info.status),
        "tags": [],
        "user_id": info.user_id,
    }
    if deleted_time is not None:
        meta["deleted_time"] = deleted_time
    return meta


# How each RunInfo attribute comes out of ``meta.yaml`` (given its lookup, ``key -> value or
# None``): one table for building runs and for searching summaries without building them, so
# both see the same values.
_META_ATTRIBUTES: Mapping[str, Callable[[Callable[[str], Any]], Any]] = {
    "experiment_id": lambda get: str(_required(get, "experiment_id")),
    "user_id": lambda get: str(get("user_id") or ""),
    "status": lambda get: RunStatus.from_any(get("status")),
    "start_time": lambda get: int(get("start_time") or 0),
    "end_time": lambda get: _opt_int(get("end_time")),
    "lifecycle_stage": lambda get: str(get("lifecycle_stage") or LifecycleStage.ACTIVE),
}


def _required(get: Callable[[str], Any], key: str) -> Any:
    value = get(key)
    if value is None:
        raise KeyError(key)
    return value


def meta_attribute(meta: Mapping[str, Any], key: str) -> Any:
    """One RunInfo attribute read from a run's ``meta.yaml`` (see ``run_info_from_meta``)."""
    return _META_ATTRIBUTES[key](meta.get)


def run_info_from_meta(meta: Mapping[str, Any], artifact_uri: str | None = None) -> RunInfo:
    run_id = str(meta.get("run_id") or meta.get("run_uuid") or "")
    attr, get = _META_ATTRIBUTES, meta.get
    return RunInfo(
        run_id=run_id,
        experiment_id=attr["experiment_id"](get),
        user_id=attr["user_id"](get),
        status=attr["status"](get),
        start_time=attr["start_time"](get),
        end_time=attr["end_time"](get),
        lifecycle_stage=attr["lifecycle_stage"](get),
        artifact_uri=artifact_uri if artifact_uri is not None else str(meta["artifact_uri"]),
        run_name=str(meta.get("run_name") or ""),
    )


def plain_meta(meta: Mapping[str, Any]) -> dict[str, Any]:
    """A run's ``meta.yaml`` mapping with its lists as tuples (MLflow writes ``tags: []``,
    never read back): a dict holding a list stays tracked by the garbage collector."""
    return {k: tuple(v) if type(v) is list else v for k, v in meta.items()}


def build_run(files: RunFiles, artifact_uri: str, datasets: Mapping[str, dict[str, Any]]) -> Run:
    info = run_info_from_meta(files.meta, artifact_uri)
    tags = files.tags
    # A run with no run_name in meta.yaml takes it from the mlflow.runName tag, as MLflow's
    # file store does; the tag itself is only what is on disk (deleting it removes it).
    # (files_value answers searches the same way without building the run.)
    if not info.run_name and RUN_NAME_TAG in tags:
        info.run_name = tags[RUN_NAME_TAG]
    inputs = RunInputs()
    for record in files.inputs:
        if record.get("source_type") == "MODEL":
            inputs.model_inputs.append(LoggedModelInput(str(record.get("source_id"))))
        if record.get("source_type") != "DATASET":
            continue
        ds = datasets.get(str(record.get("source_id")))
        if ds is None:
            continue
        input_tags = record.get("tags") or {}
        inputs.dataset_inputs.append(
            DatasetInput(
                dataset=Dataset(
                    name=str(ds.get("name")),
                    digest=str(ds.get("digest")),
                    source_type=str(ds.get("source_type")),
                    source=str(ds.get("source")),
                    schema=ds.get("schema"),
                    profile=ds.get("profile"),
                ),
                tags=[InputTag(str(k), str(v)) for k, v in input_tags.items()],
            )
        )
    data = RunData.from_latest(files.metric_values(), files.latest_metrics, files.params, tags)
    return Run(info=info, data=data, inputs=inputs, outputs=run_outputs(files))


def run_outputs(files: RunFiles) -> RunOutputs:
    """The run's model outputs as MLflow's file store reads them: each ``MODEL_OUTPUT``
    record's ``destination_id`` (MLflow writes the model id there) and step."""
    return RunOutputs(
        [
            LoggedModelOutput(str(r.get("destination_id")), int(r.get("step") or 0))
            for r in files.outputs
            if r.get("destination_type") == "MODEL_OUTPUT"
        ]
    )


NEEDS_RUN: Final = object()
"""What :func:`files_value` gives where only the built run knows the answer."""


def files_value(run_id: str, files: RunFiles, entity: str, key: str) -> Any:
    """What the search lookup ``(entity, key)`` of the run these files make gives, without
    making it: a search filters and sorts thousands of runs and returns a page of them.

    :data:`NEEDS_RUN` where the answer needs the built run (the relocated artifact URI,
    datasets): the caller builds it (:func:`build_run`) and asks its lookup.
    """
    if entity == "metric":
        return files.metric_value(key)
    if entity == "param":
        return files.param(key)
    if entity == "tag":
        return files.tag(key)
    if entity == "dataset" or key == "artifact_uri":
        return NEEDS_RUN
    if key in _META_ATTRIBUTES:
        return _META_ATTRIBUTES[key](files.meta_get)
    if key == "run_id":
        return run_id
    if key == "run_name":
        return str(files.meta_get("run_name") or "") or files.tag(RUN_NAME_TAG) or ""
    return None


def dataset_context(dataset_input: DatasetInput) -> str | None:
    for tag in dataset_input.tags:
        if tag.key == "mlflow.data.context":
            return tag.value
    return None


def parse_run_files(
    meta_raw: bytes,
    meta_where: str,
    files: Mapping[str, bytes],
    strings: dict[str, str] | None = None,
) -> RunFiles:
    """Decode a run from ``meta.yaml`` bytes and ``{run-relative path: bytes}`` (``strings``:
    see ``run_files.share``)."""
    meta = plain_meta(load_meta(meta_raw, meta_where))
    metrics: dict[str, LatestMetric] = {}
    params: dict[str, str] = {}
    tags: dict[str, str] = {}
    inputs, outputs = [], []
    for rel, raw in files.items():
        kind, _, key = rel.partition("/")
        if kind == "metrics":
            latest = latest_metric_line(raw, f"{meta_where}/{rel}")
            if latest is not None:
                metrics[key] = latest
        elif kind == "params":
            params[key] = decode_text(raw)
        elif kind == "tags":
            tags[key] = decode_text(raw)
        elif kind == "inputs" and rel.endswith("/meta.yaml"):
            inputs.append(load_meta(raw, rel))
        elif kind == "outputs" and rel.count("/") == 2 and rel.endswith("/meta.yaml"):
            outputs.append(load_meta(raw, rel))
    return RunFiles(meta, metrics, params, tags, tuple(inputs), tuple(outputs), strings=strings)


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)
