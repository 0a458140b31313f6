"""The one resolver of model URIs: ``models:/...``, ``runs:/...`` and store URLs -> where the
files are, and what a registered version records for its source.

The grammar is :mod:`fsregistry.mlruns.uris`; this module reads the stores it names:

* ``models:/<name>/...`` and ``models:/<name>@<alias>`` through the registry store of
  ``registry_uri`` (default :func:`fsregistry.config.registry_uri_for` of ``tracking_uri``,
  MLflow's precedence);
* ``models:/<model_id>`` through the LoggedModels of the tracking store (a deleted one is
  "not found", as in MLflow 3);
* ``runs:/<run_id>/<path>``: the run's artifacts at ``<path>`` (MLflow 2 ``log_model``), or,
  when the run has nothing there, the MLflow 3 LoggedModel that run logged under the first
  component of ``<path>``.

:func:`resolve_model_uri` turns any of them into the URI of the model directory (or of the
file inside it), which :class:`~fsregistry.storage.artifact_repo.ArtifactRepository` opens.
:func:`version_source` and :func:`version_location` compute what a new model version records
(MLflow's ``register_model`` and ``create_model_version``); the registry store is given the
result and never resolves a URI itself.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from fsregistry import config
from fsregistry.exceptions import FsRegistryException, InvalidParameterValue, ResourceDoesNotExist
from fsregistry.mlruns import layout
from fsregistry.mlruns.model_digest import HASHES_FILE, MODEL_DIGEST_TAG, manifest_digest
from fsregistry.mlruns.uris import (
    ModelUri,
    is_models_uri,
    is_runs_uri,
    parse_models_uri,
    parse_runs_uri,
)
from fsregistry.registry.store import VersionLocation
from fsregistry.storage import join, open_storage

if TYPE_CHECKING:
    from fsregistry.registry.store import RegistryStore
    from fsregistry.tracking.logged_models import LoggedModelInfo


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


class ResolvedModel(NamedTuple):
    """Where a model URI points: the model ``location`` (URI of its directory), the ``path``
    inside it ("" for the directory itself), and ``digest``, the manifest digest the registry
    recorded for the version a ``models:/<name>/...`` URI named (None otherwise)."""

    location: str
    path: str = ""
    digest: str | None = None

    @property
    def uri(self) -> str:
        """``location`` joined with ``path``."""
        return f"{self.location.rstrip('/')}/{self.path}" if self.path else self.location


def resolve_model(
    uri: str,
    *,
    tracking_uri: str | None = None,
    registry_uri: str | None = None,
    with_digest: bool = False,
) -> ResolvedModel:
    """Resolve any accepted model URI (see module doc), reading each store once: an alias,
    stage or ``latest`` is resolved to one version, whose location and recorded digest go
    together even if the alias moves meanwhile. The digest (one more read of the version)
    is read only ``with_digest``: loaders need it, resolving a location does not."""
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidParameterValue(f"Invalid model URI {uri!r}: expected a non-empty string")
    if is_runs_uri(uri):
        target = locate_runs_uri(uri, tracking_uri=tracking_uri)
        return ResolvedModel(target.base, target.path)
    if not is_models_uri(uri):
        return ResolvedModel(uri)
    parsed = parse_models_uri(uri)
    if parsed.model_id is not None:
        from fsregistry.tracking.logged_models import live_logged_model

        storage = config.tracking_store(tracking_uri).storage
        return ResolvedModel(live_logged_model(storage, parsed.model_id).artifact_location)
    store = config.registry_store(config.registry_uri_for(tracking_uri, registry_uri))
    assert parsed.name is not None
    version = store.version_for_uri(parsed)
    location = store.get_model_version_download_uri(parsed.name, version)
    digest = (
        store.get_model_version(parsed.name, version).tags.get(MODEL_DIGEST_TAG)
        if with_digest
        else None
    )
    if is_models_uri(location) or is_runs_uri(location):
        # A version whose recorded location is itself a model URI (hand-written registries):
        # follow it once more.
        inner = resolve_model(
            location, tracking_uri=tracking_uri, registry_uri=registry_uri, with_digest=with_digest
        )
        return ResolvedModel(
            inner.location, join(inner.path, parsed.sub_path), digest or inner.digest
        )
    return ResolvedModel(location, parsed.sub_path, digest)


def resolve_model_uri_parts(
    uri: str, *, tracking_uri: str | None = None, registry_uri: str | None = None
) -> tuple[str, str]:
    """(model location URI, path inside it) for any accepted model URI (see module doc)."""
    resolved = resolve_model(uri, tracking_uri=tracking_uri, registry_uri=registry_uri)
    return resolved.location, resolved.path


def resolve_model_uri(
    uri: str, *, tracking_uri: str | None = None, registry_uri: str | None = None
) -> str:
    """The location URI of the model (or of the file inside it) that ``uri`` names.

    ``tracking_uri``/``registry_uri`` default to the process settings
    (:func:`fsregistry.set_tracking_uri`, :func:`fsregistry.set_registry_uri`).
    """
    return resolve_model(uri, tracking_uri=tracking_uri, registry_uri=registry_uri).uri


def version_source(
    model_uri: str, *, tracking_uri: str | None, registry: RegistryStore
) -> tuple[str, str | None, str | None]:
    """(source, run_id, model_id) to record for ``model_uri``, as MLflow's register_model.

    ``runs:/<run>/<path>`` records the run artifact URI when the run has files there (MLflow
    2), else ``models:/<model_id>`` of the LoggedModel the run logged under that name
    (MLflow 3); ``models:/<model_id>`` and ``models:/<name>/<version>`` carry the model id.
    """
    if not isinstance(model_uri, str) or not model_uri.strip():
        raise InvalidParameterValue(f"Invalid model URI {model_uri!r}")
    if is_runs_uri(model_uri):
        target = locate_runs_uri(model_uri, tracking_uri=tracking_uri, must_exist=True)
        if target.logged_model is None:
            return f"{target.base.rstrip('/')}/{target.path}", target.run_id, None
        model_id = target.logged_model.model_id
        return f"models:/{model_id}", target.run_id, model_id
    if is_models_uri(model_uri):
        parsed = parse_models_uri(model_uri)
        if parsed.model_id is not None:
            return model_uri, None, parsed.model_id
        if parsed.name is not None and parsed.version is not None:
            return model_uri, None, registry.get_model_version(parsed.name, parsed.version).model_id
    return model_uri, None, None


def version_location(
    source: str,
    run_id: str | None,
    model_id: str | None,
    *,
    tracking_uri: str | None,
    registry: RegistryStore,
) -> VersionLocation:
    """The ``storage_location`` and ``run_id`` MLflow records at ``create_model_version``
    (docs/mlflow-format.md §2.2): a ``models:/`` source is resolved against ``registry`` (a
    version) or the tracking store of ``tracking_uri`` (a LoggedModel), whose source run
    also fills a missing ``run_id``; any other source is its own location."""
    location = source
    if is_models_uri(source):
        from fsregistry.tracking.logged_models import live_logged_model

        try:
            parsed = parse_models_uri(source)
            if parsed.model_id is not None:
                logged = live_logged_model(
                    config.tracking_store(tracking_uri).storage, parsed.model_id
                )
                location = logged.artifact_location
                run_id = run_id or logged.source_run_id
            else:
                assert parsed.name is not None
                number = registry.version_for_uri(parsed)
                location = registry.get_model_version_download_uri(parsed.name, number)
                if parsed.sub_path:
                    location = f"{location.rstrip('/')}/{parsed.sub_path}"
        except (ResourceDoesNotExist, InvalidParameterValue) as e:
            raise InvalidParameterValue(
                f"Unable to fetch model from model URI source {source!r}: {e}"
            ) from e
    if model_id is not None and not run_id:
        from fsregistry.tracking.logged_models import get_logged_model

        # Lineage only: a model id from another store must not block the registration.
        with contextlib.suppress(ResourceDoesNotExist):
            run_id = get_logged_model(
                config.tracking_store(tracking_uri).storage, model_id
            ).source_run_id
    return VersionLocation(location, run_id, _digest_at(location, tracking_uri))


# Where a new version's manifest is read: fsregistry's own kinds of store.
_DIGEST_SCHEMES = frozenset({"", "file", "s3", "s3a", "gs", "gcs", "memory"})


def _digest_at(location: str, tracking_uri: str | None) -> str | None:
    """The digest of the hash manifest of the model at ``location`` (a ``runs:/`` URI is
    looked up in the tracking store), or None where there is none. A location this process
    cannot read gives None too: a version's source need not be readable by its registrar
    (MLflow never reads it), and loading it later checks what it finds there."""
    try:
        where = location
        if is_runs_uri(location):
            target = locate_runs_uri(location, tracking_uri=tracking_uri)
            where = join(target.base, target.path) if target.path else target.base
        elif is_models_uri(location):
            return None  # unresolved: nothing recorded to read
        scheme = where.split("://", 1)[0].lower() if "://" in where else ""
        if scheme not in _DIGEST_SCHEMES:
            return None  # never connect to an arbitrary server (ftp://, hdfs://) to register
        from fsregistry.storage.artifact_repo import ArtifactRepository

        data = ArtifactRepository(where).read_bytes(HASHES_FILE)
    except ResourceDoesNotExist:
        return None
    except FsRegistryException as e:
        import logging  # not at module level: CLI start-up time

        logging.getLogger(__name__).debug(
            "No model digest recorded for a version of %r: %s", location, e
        )
        return None
    return manifest_digest(data)


__all__ = [
    "MODEL_DIGEST_TAG",
    "ModelUri",
    "ResolvedModel",
    "RunsTarget",
    "is_models_uri",
    "is_runs_uri",
    "locate_runs_uri",
    "parse_models_uri",
    "parse_runs_uri",
    "resolve_model",
    "resolve_model_uri",
    "resolve_model_uri_parts",
    "version_location",
    "version_source",
]
