"""Model URIs: ``models:/...``, ``runs:/...`` and plain store URLs -> where the files are.

Accepted forms (MLflow's, spec §2.5 and §1.10):

* ``models:/<name>/<version>``, ``models:/<name>/latest`` (any case), ``models:/<name>/<stage>``
  (any case), ``models:/<name>@<alias>`` — each optionally followed by ``/<path in model>``;
* ``models:/<model_id>`` — an MLflow 3 LoggedModel, found in the tracking store;
* ``runs:/<run_id>/<path>`` — the run's artifacts at ``<path>`` (MLflow 2 ``log_model``), or,
  when the run has nothing there, the MLflow 3 LoggedModel that run logged under the first
  component of ``<path>``;
* anything else (local paths, ``file://``, ``s3://``, ``gs://``) is already a location.

:func:`resolve_model_uri` turns any of them into the URI of the model directory (or of the
file inside it), which :class:`~fsregistry.tracking.artifact_repo.ArtifactRepository` opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fsregistry import config, layout
from fsregistry.exceptions import InvalidParameterValue, ResourceDoesNotExist
from fsregistry.storage import join, open_storage

if TYPE_CHECKING:
    from fsregistry.tracking.logged_models import LoggedModelInfo

MODELS_SCHEME = "models:"
RUNS_SCHEME = "runs:"
LATEST = "latest"


@dataclass(frozen=True)
class ModelUri:
    """A parsed ``models:/`` URI: exactly one of ``model_id``, ``version``, ``stage``,
    ``alias``, ``latest`` says which version of ``name`` is meant; ``sub_path`` is the path
    inside the model directory ("" for the directory itself)."""

    uri: str
    model_id: str | None = None
    name: str | None = None
    version: int | None = None
    stage: str | None = None
    alias: str | None = None
    latest: bool = False
    sub_path: str = ""


def _improper(uri: str) -> InvalidParameterValue:
    return InvalidParameterValue(
        f"Not a proper models:/ URI: {uri!r}. Models URIs must be of the form "
        "'models:/<name>/<version|stage|latest>[/path]', 'models:/<name>@<alias>[/path]' or "
        "'models:/<model_id>'."
    )


def is_models_uri(uri: object) -> bool:
    return isinstance(uri, str) and uri.startswith(MODELS_SCHEME)


def is_runs_uri(uri: object) -> bool:
    return isinstance(uri, str) and uri.startswith(RUNS_SCHEME)


def parse_models_uri(uri: str) -> ModelUri:
    """Parse a ``models:/`` URI the way MLflow's ``split_models_uri`` + ``_parse_model_uri`` do.

    Only ``models:/`` followed by a path is accepted (no ``models://profile@databricks``).
    """
    if not is_models_uri(uri) or not uri.startswith(f"{MODELS_SCHEME}/"):
        raise _improper(uri if isinstance(uri, str) else repr(uri))
    path = uri[len(MODELS_SCHEME) :].rstrip("/")
    if path.startswith("//"):
        raise _improper(uri)
    parts = path.lstrip("/").split("/")
    if not parts[0].strip():
        raise _improper(uri)
    if "@" in parts[0]:
        # models:/<name>@<alias>[/path]
        name, _, alias = parts[0].rpartition("@")
        if not name.strip() or not alias.strip():
            raise _improper(uri)
        return ModelUri(uri, name=name, alias=alias, sub_path="/".join(parts[1:]))
    if len(parts) == 1:
        return ModelUri(uri, model_id=parts[0])
    name, suffix, sub = parts[0], parts[1], "/".join(parts[2:])
    if not suffix.strip():
        raise _improper(uri)
    if suffix.isdigit():
        return ModelUri(uri, name=name, version=int(suffix), sub_path=sub)
    if suffix.lower() == LATEST:
        return ModelUri(uri, name=name, latest=True, sub_path=sub)
    return ModelUri(uri, name=name, stage=suffix, sub_path=sub)


def parse_runs_uri(uri: str) -> tuple[str, str]:
    """``runs:/<run_id>/<path>`` -> (run_id, path)."""
    if not is_runs_uri(uri):
        raise InvalidParameterValue(f"Not a runs:/ URI: {uri!r}")
    rest = uri[len(RUNS_SCHEME) :].lstrip("/")
    run_id, _, path = rest.partition("/")
    if not run_id:
        raise InvalidParameterValue(f"Invalid runs:/ URI {uri!r}: no run id")
    return run_id, path.strip("/")


@dataclass(frozen=True)
class RunsTarget:
    """Where a ``runs:/`` URI points: the run's own artifacts (``logged_model`` None), or an
    MLflow 3 LoggedModel of that run (``base`` is its artifact location)."""

    run_id: str
    base: str
    path: str
    logged_model: LoggedModelInfo | None = None


def locate_runs_uri(
    uri: str, *, tracking_uri: str | None = None, must_exist: bool = False
) -> RunsTarget:
    """Resolve ``runs:/<run_id>/<path>``: run artifacts first (MLflow 2 ``log_model``), else
    the LoggedModel the run logged under the first component of ``<path>`` (MLflow 3).

    When neither exists the run artifact location is returned (listing it gives nothing),
    unless ``must_exist``, which raises ResourceDoesNotExist instead.
    """
    from fsregistry.tracking.logged_models import find_run_logged_model

    run_id, path = parse_runs_uri(uri)
    tracking = config.tracking_store(tracking_uri)
    run = tracking.get_run(run_id)
    artifact_uri = run.info.artifact_uri
    if not path or open_storage(artifact_uri).exists(path):
        return RunsTarget(run_id, artifact_uri, path)
    head, _, rest = path.partition("/")
    exp_id = run.info.experiment_id
    # A run of a deleted experiment lives under .trash/ (a deleted run stays in place).
    for exp_dir in (exp_id, f"{layout.TRASH}/{exp_id}"):
        model = find_run_logged_model(tracking.storage, exp_dir, run_id, head)
        if model is not None:
            return RunsTarget(run_id, model.artifact_location, rest, model)
    if not must_exist:
        return RunsTarget(run_id, artifact_uri, path)
    raise ResourceDoesNotExist(
        f"Nothing found at {uri!r}: run {run_id} has no artifacts at {path!r} and logged "
        f"no model named {head!r}"
    )


def resolve_runs_uri_parts(uri: str, *, tracking_uri: str | None = None) -> tuple[str, str]:
    """(base URI, path under it) of a ``runs:/`` URI: run artifacts, else a LoggedModel."""
    target = locate_runs_uri(uri, tracking_uri=tracking_uri)
    return target.base, target.path


def resolve_model_uri_parts(
    uri: str, *, tracking_uri: str | None = None, registry_uri: str | None = None
) -> tuple[str, str]:
    """(model location URI, path inside it) for any accepted model URI (see module doc)."""
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidParameterValue(f"Invalid model URI {uri!r}: expected a non-empty string")
    if is_runs_uri(uri):
        return resolve_runs_uri_parts(uri, tracking_uri=tracking_uri)
    if not is_models_uri(uri):
        return uri, ""
    parsed = parse_models_uri(uri)
    if parsed.model_id is not None:
        from fsregistry.tracking.logged_models import get_logged_model

        storage = config.tracking_store(tracking_uri).storage
        return get_logged_model(storage, parsed.model_id).artifact_location, ""
    store = config.registry_store(registry_uri or config.registry_uri_for(tracking_uri))
    assert parsed.name is not None
    version = store.version_for_uri(parsed)
    location = store.get_model_version_download_uri(parsed.name, version)
    if is_models_uri(location) or is_runs_uri(location):
        # A version whose recorded location is itself a model URI (hand-written registries):
        # follow it once more.
        base, sub = resolve_model_uri_parts(
            location, tracking_uri=tracking_uri, registry_uri=registry_uri
        )
        return base, join(sub, parsed.sub_path)
    return location, parsed.sub_path


def resolve_model_uri(
    uri: str, *, tracking_uri: str | None = None, registry_uri: str | None = None
) -> str:
    """The location URI of the model (or of the file inside it) that ``uri`` names.

    ``tracking_uri``/``registry_uri`` default to the process settings
    (:func:`fsregistry.set_tracking_uri`, :func:`fsregistry.set_registry_uri`).
    """
    base, sub = resolve_model_uri_parts(uri, tracking_uri=tracking_uri, registry_uri=registry_uri)
    return f"{base.rstrip('/')}/{sub}" if sub else base


__all__ = [
    "ModelUri",
    "RunsTarget",
    "is_models_uri",
    "is_runs_uri",
    "locate_runs_uri",
    "parse_models_uri",
    "parse_runs_uri",
    "resolve_model_uri",
    "resolve_model_uri_parts",
    "resolve_runs_uri_parts",
]
