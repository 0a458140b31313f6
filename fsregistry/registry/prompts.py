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
  prompt, returned as a :class:`~fsregistry.entities.registry.Prompt`.

The conflict is worked out after the atomic create failed (the create stays the only claim
on the name): the model holding the name is read then; if it is gone by then, or the name is
held by an unfinished rename rather than a model, the create's own error stands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from fsregistry.entities.registry import Prompt, RegisteredModel
from fsregistry.exceptions import InvalidParameterValue, ResourceAlreadyExists, ResourceDoesNotExist
from fsregistry.mlruns.validation import tag_items
from fsregistry.registry.reading import RegistryFiles
from fsregistry.search import PROMPT_TAG_KEY

#: ``(name, tags, description) -> RegisteredModel``: the registered model creation to use.
CreateModel = Callable[[str, "Mapping[str, Any] | Iterable[Any] | None", "str | None"], Any]


def has_prompt_tag(tags: Mapping[str, Any] | Iterable[Any] | None) -> bool:
    """Whether tags (a dict or tag objects) mark a prompt: the key is there, any value."""
    return any(key == PROMPT_TAG_KEY for key, _ in tag_items(tags))


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


__all__ = ["Prompts", "has_prompt_tag"]
