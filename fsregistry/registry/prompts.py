"""Prompts: registered models tagged ``mlflow.prompt.is_prompt``, as MLflow 3 stores them.

MLflow keeps a prompt as a registered model with that tag (and its versions as model versions
with it), in the same namespace as models. fsregistry implements only what the registry
itself decides about them:

* searches leave prompts out unless the filter names the tag
  (:mod:`fsregistry.registry.queries`);
* creating a registered model whose name is taken says which kind holds it, as MLflow's
  stores do: ``Prompt (name=<name>) already exists.`` when a prompt is created over a prompt,
  ``Registered Model (name=<name>) already exists.`` for a model over a model, and that MLflow
  does not allow a model and a prompt with the same name otherwise. Whether a side is a
  prompt is whether its tags hold the key, whatever its value (MLflow's test);
* :meth:`Prompts.create_prompt` (MLflow's ``create_prompt``): a registered model tagged as a
  prompt, returned as a :class:`~fsregistry.entities.registry.Prompt`;
* MLflow 3's client-side refusals, which the client applies (:func:`refuse_prompt_tags`,
  :func:`refuse_prompt_model`, :func:`refuse_prompt_version`, and for the model and version
  writes :func:`refuse_prompt_name`, which the store runs when the client asks with
  ``models_only=True``): a registered model or version
  created with the prompt tag raises INVALID_PARAMETER_VALUE "Prompts cannot be registered as
  models."; a model or version API given a prompt (the model's tags, or for the version
  reads the version's tags, hold the key) raises RESOURCE_DOES_NOT_EXIST "Registered Model
  with name='<name>' not found.", as if the prompt were not there; ``copy_model_version`` of a
  prompt version raises "Model with uri '<uri>' not found". MLflow 2.22 refuses none of these
  (its client knows no prompts); creating a version of a prompt is allowed, as in MLflow 3.

**Where the write check runs.** MLflow's client checks before anything else
(``_raise_if_prompt`` reads the whole model). fsregistry checks inside the store, after the
call's arguments are validated and before the model is read, with one existence check of the
one tag file ``models/<name>/tags/mlflow.prompt.is_prompt`` (:func:`refuse_prompt_name`),
not through the registry index: a refused argument costs no read of the model, and a refused
call cannot refresh the index (a file). So a prompt given a bad argument is refused for the
argument (MLflow: "not found"); every other refusal is MLflow's.

The conflict is worked out after the atomic create failed (the create stays the only claim
on the name): the model holding the name is read then; if it is gone by then, or the name is
held by an unfinished rename rather than a model, the create's own error stands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fsregistry.entities.registry import ModelVersion, Prompt, RegisteredModel
from fsregistry.exceptions import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from fsregistry.mlruns import layout
from fsregistry.mlruns.validation import tag_items, validate_model_name
from fsregistry.registry.reading import RegistryFiles
from fsregistry.search import PROMPT_TAG_KEY

#: ``(name, tags, description) -> RegisteredModel``: the registered model creation to use.
CreateModel = Callable[[str, "Mapping[str, Any] | Iterable[Any] | None", "str | None"], Any]


def has_prompt_tag(tags: Mapping[str, Any] | Iterable[Any] | None) -> bool:
    """Whether tags (a dict or tag objects) mark a prompt: the key is there, any value."""
    return any(key == PROMPT_TAG_KEY for key, _ in tag_items(tags))


#: MLflow 3's text for a model or version created with the prompt tag.
PROMPTS_AS_MODELS = "Prompts cannot be registered as models."


def prompt_not_found(name: str) -> ResourceDoesNotExist:
    """MLflow 3's error for a model API given a prompt (``_model_not_found``)."""
    return ResourceDoesNotExist(f"Registered Model with name={name!r} not found.")


def refuse_prompt_tags(tags: Any) -> Any:
    """``tags`` (an iterable of tag objects made a list, so it can be read again), or MLflow's
    INVALID_PARAMETER_VALUE when they mark a prompt (other bad tags are the store's to refuse)."""
    if isinstance(tags, Iterable) and not isinstance(tags, Mapping | str | bytes):
        tags = list(tags)
        keys = [getattr(t, "key", None) for t in tags]
    else:
        keys = list(tags) if isinstance(tags, Mapping) else []
    if PROMPT_TAG_KEY in keys:
        raise InvalidParameterValue(PROMPTS_AS_MODELS)
    return tags


def refuse_prompt_model(model: RegisteredModel) -> RegisteredModel:
    """``model``, or MLflow's "not found" when it is a prompt."""
    if PROMPT_TAG_KEY in model.tags:
        raise prompt_not_found(model.name)
    return model


def refuse_prompt_name(files: RegistryFiles, name: str) -> None:
    """MLflow's "not found" when the model ``name`` is a prompt: one existence check of its
    prompt tag file, not through the registry index (see the module docstring)."""
    validate_model_name(name)
    if files.storage.exists(layout.registered_model_tag(name, PROMPT_TAG_KEY)):
        raise prompt_not_found(name)


def refuse_prompt_version(version: ModelVersion) -> ModelVersion:
    """``version``, or MLflow's "not found" for its model when the version is a prompt's."""
    if PROMPT_TAG_KEY in version.tags:
        raise prompt_not_found(version.name)
    return version


def _kind(is_prompt: bool) -> str:
    return "Prompt" if is_prompt else "Registered Model"


class Prompts:
    """The registry's prompt rules (see the module docstring)."""

    def __init__(self, files: RegistryFiles, create_model: CreateModel) -> None:
        self.files = files
        self._create_model = create_model

    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, Any] | Iterable[Any] | None,
        description: str | None,
    ) -> RegisteredModel:
        """Create the model; a taken name raises MLflow's message for the two kinds."""
        if isinstance(tags, Iterable) and not isinstance(tags, Mapping | str | bytes):
            tags = list(tags)  # read twice: by the create, and to tell a prompt (the create
            # refuses anything else that is not a mapping)
        try:
            created: RegisteredModel = self._create_model(name, tags, description)
        except ResourceAlreadyExists as taken:
            raise self._name_taken(name, has_prompt_tag(tags), taken) from taken
        return created

    def _name_taken(
        self, name: str, new_is_prompt: bool, taken: ResourceAlreadyExists
    ) -> ResourceAlreadyExists:
        try:
            held = self.files.load(name)
        except ResourceDoesNotExist:
            return taken  # no model holds it (a rename in progress), or it is gone again
        held_is_prompt = has_prompt_tag(held.tags)
        if held_is_prompt == new_is_prompt:
            return ResourceAlreadyExists(f"{_kind(new_is_prompt)} (name={name}) already exists.")
        return ResourceAlreadyExists(
            f"Tried to create a {_kind(new_is_prompt).lower()} with name {name!r}, but the "
            f"name is already taken by a {_kind(held_is_prompt).lower()}. MLflow does not "
            "allow creating a model and a prompt with the same name."
        )

    def create_prompt(
        self,
        name: str,
        description: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> Prompt:
        """MLflow's ``create_prompt``: a registered model tagged ``mlflow.prompt.is_prompt``
        (plus ``tags``); a taken name raises RESOURCE_ALREADY_EXISTS as above."""
        if tags is not None and not isinstance(tags, Mapping):
            raise InvalidParameterValue(f"Invalid prompt tags {tags!r}: expected a dict")
        user_tags = dict(tags or {})
        rm = self.create_registered_model(name, {PROMPT_TAG_KEY: "true", **user_tags}, description)
        return Prompt(
            name=rm.name,
            description=rm.description,
            creation_timestamp=rm.creation_timestamp,
            tags={k: v for k, v in rm.tags.items() if k in user_tags},  # as stored
        )


__all__ = [
    "PROMPTS_AS_MODELS",
    "Prompts",
    "has_prompt_tag",
    "prompt_not_found",
    "refuse_prompt_model",
    "refuse_prompt_name",
    "refuse_prompt_tags",
    "refuse_prompt_version",
]
