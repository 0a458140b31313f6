"""``mlflow.register_model``: register a model URI as a new version, creating the model."""

from __future__ import annotations

from typing import Any

from fsregistry import config
from fsregistry.entities import ModelVersion
from fsregistry.exceptions import InvalidParameterValue
from fsregistry.registry.store import RegistryStore
from fsregistry.registry.uris import (
    is_models_uri,
    is_runs_uri,
    locate_runs_uri,
    parse_models_uri,
)
from fsregistry.validation import (
    MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH,
    tag_items,
    validate_model_name,
    validate_tag,
)

# MLflow's default; the file store registers synchronously, so there is nothing to wait for.
DEFAULT_AWAIT_MAX_SLEEP_SECONDS = 300


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


def register_model(
    model_uri: str,
    name: str,
    await_registration_for: int | None = DEFAULT_AWAIT_MAX_SLEEP_SECONDS,
    *,
    tags: dict[str, Any] | None = None,
) -> ModelVersion:
    """Create a new version of registered model ``name`` (created if missing) from
    ``model_uri`` (``runs:/``, ``models:/``, a path or a bucket URL), in the process's
    registry (:func:`fsregistry.set_registry_uri`, default: the tracking store).

    Safe when several processes register the same new model at once: they all reuse the one
    that got created, and each gets its own version number.
    """
    del await_registration_for  # versions are READY when this returns
    validate_model_name(name)
    for key, value in tag_items(tags):
        validate_tag(key, value, MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH)
    tracking_uri = config.get_tracking_uri()
    registry = config.registry_store()
    source, run_id, model_id = version_source(
        model_uri, tracking_uri=tracking_uri, registry=registry
    )
    registry.ensure_registered_model(name)
    return registry.create_model_version(
        name, source, run_id=run_id, tags=tags, model_id=model_id, tracking_uri=tracking_uri
    )


__all__ = ["DEFAULT_AWAIT_MAX_SLEEP_SECONDS", "register_model", "version_source"]
