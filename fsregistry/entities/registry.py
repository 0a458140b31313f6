"""Model registry entities with MLflow's field names (``mlflow.entities.model_registry``).

``ModelVersion.version`` is an ``int``, as MLflow's file and SQL stores return it (its REST
API sends a string); so are the versions in ``RegisteredModel.latest_versions``. Alias targets
(``RegisteredModel.aliases``, ``RegisteredModelAlias.version``) are strings, as MLflow's file
store returns them. Every API that takes a version accepts ``3`` and ``"3"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from fsregistry.entities.pairs import KeyValuePairs
from fsregistry.exceptions import InvalidParameterValue

STAGE_NONE = "None"
STAGE_STAGING = "Staging"
STAGE_PRODUCTION = "Production"
STAGE_ARCHIVED = "Archived"
# A soft-deleted version: kept on disk (its number is never reused), invisible to every API.
STAGE_DELETED_INTERNAL = "Deleted_Internal"

ALL_STAGES = (STAGE_NONE, STAGE_STAGING, STAGE_PRODUCTION, STAGE_ARCHIVED)
# The stages ``archive_existing_versions`` may be used with.
ACTIVE_STAGES = (STAGE_STAGING, STAGE_PRODUCTION)
_CANONICAL_STAGES = {stage.lower(): stage for stage in ALL_STAGES}


def canonical_stage(stage: object) -> str:
    """``"production"`` -> ``"Production"``; anything but the four public stages is refused."""
    if isinstance(stage, str) and stage.lower() in _CANONICAL_STAGES:
        return _CANONICAL_STAGES[stage.lower()]
    raise InvalidParameterValue(
        f"Invalid Model Version stage: {stage}. Value must be one of "
        f"{', '.join(ALL_STAGES)}. (case-insensitive)"
    )


class ModelVersionStatus:
    """MLflow's version states; the file store only ever writes READY, except while
    :meth:`fsregistry.Client.copy_model_version` copies artifacts between stores."""

    PENDING_REGISTRATION: ClassVar[str] = "PENDING_REGISTRATION"
    FAILED_REGISTRATION: ClassVar[str] = "FAILED_REGISTRATION"
    READY: ClassVar[str] = "READY"


@dataclass
class RegisteredModelTag(KeyValuePairs):
    key: str
    value: str


@dataclass
class ModelVersionTag(KeyValuePairs):
    key: str
    value: str


@dataclass
class RegisteredModelAlias(KeyValuePairs):
    alias: str
    version: str


@dataclass
class ModelVersion(KeyValuePairs):
    """One version of a registered model.

    ``tags`` is a dict (as MLflow's entity exposes it), ``aliases`` the alias names pointing
    at this version, ``model_id`` the MLflow 3 LoggedModel it was registered from (if any).
    """

    name: str
    version: int
    creation_timestamp: int
    last_updated_timestamp: int | None = None
    description: str | None = None
    user_id: str | None = None
    current_stage: str = STAGE_NONE
    source: str | None = None
    run_id: str | None = None
    status: str = ModelVersionStatus.READY
    status_message: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    run_link: str | None = None
    aliases: list[str] = field(default_factory=list)
    model_id: str | None = None


@dataclass
class RegisteredModel(KeyValuePairs):
    """A registered model: ``aliases`` maps alias -> version (a str, as in MLflow),
    ``latest_versions`` holds the highest version in each stage that has one (versions are
    ints)."""

    name: str
    creation_timestamp: int | None = None
    last_updated_timestamp: int | None = None
    description: str | None = None
    latest_versions: list[ModelVersion] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)


@dataclass
class Prompt(KeyValuePairs):
    """A prompt (MLflow's ``Prompt`` entity): a registered model tagged
    ``mlflow.prompt.is_prompt``; ``tags`` are the prompt's own, without that key."""

    name: str
    description: str | None = None
    creation_timestamp: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
