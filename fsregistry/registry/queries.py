"""What readers are shown: registered models and versions as MLflow's entities, the searches,
and the lookups behind ``models:/`` URIs (latest, stage, alias).

Everything here reads through :class:`~fsregistry.registry.reading.RegistryFiles` and writes
nothing. Entities are built the way MLflow builds them, with fsregistry's rules on top:

* a model is named by its directory, whatever a stale meta.yaml says (an unfinished local
  rename, :mod:`fsregistry.registry.rename`);
* a registered model's ``latest_versions`` are the highest live version of each stage, and
  only those become entities (a model may have thousands of versions);
* an alias whose version is gone (deleted concurrently with setting it) is not shown;
* prompts (registered models and versions tagged ``mlflow.prompt.is_prompt``) are left out
  of searches unless the filter names that tag, MLflow's rule (its stores add
  ``tags.`mlflow.prompt.is_prompt` != 'true'`` to a filter whose text does not contain the
  key): ``tags.`mlflow.prompt.is_prompt` = 'true'`` finds the prompts;
* a filter on ``name = 'x'`` (or ``name IN (...)``) reads only those models.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from fsregistry.entities import ModelVersion, PagedList, RegisteredModel
from fsregistry.entities.registry import (
    ALL_STAGES,
    STAGE_NONE,
    ModelVersionStatus,
    canonical_stage,
)
from fsregistry.exceptions import InvalidParameterValue, InvalidState, ResourceDoesNotExist
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import decode_text
from fsregistry.mlruns.validation import validate_model_name
from fsregistry.registry.fields import is_deleted, lookup_alias, version_number
from fsregistry.registry.reading import ModelFiles, RegistryFiles
from fsregistry.registry.searching import RegistrySearch
from fsregistry.search import (
    ATTRIBUTE,
    PROMPT_TAG_KEY,
    TAG,
    Comparison,
    Kind,
    OrderClause,
    check_paging,
    effective_order,
    parse_filter,
    parse_order_by,
)

if TYPE_CHECKING:
    from fsregistry.mlruns.uris import ModelUri

# Prompts are registered models with this tag; MLflow's searches leave them out.
_NOT_A_PROMPT = Comparison(TAG, PROMPT_TAG_KEY, "!=", "true", missing_matches=True)


def _registry_filter(filter_string: str | None, kind: Kind) -> list[Comparison]:
    """A registry search's comparisons: the filter's, and the one leaving prompts out unless
    the filter's text names the prompt tag (MLflow's rule, a plain substring test)."""
    comparisons = parse_filter(filter_string, kind)
    if PROMPT_TAG_KEY not in (filter_string or ""):
        comparisons.append(_NOT_A_PROMPT)
    return comparisons


def version_entity(
    name: str,
    number: int,
    meta: Mapping[str, Any],
    tags: Mapping[str, str] | None,
    aliases: Mapping[str, str],
) -> ModelVersion:
    """A version's entity from its meta.yaml, its tags and its model's aliases."""
    text = str(number)
    return ModelVersion(
        name=name,  # the directory names the model, whatever a stale meta.yaml says
        version=number,
        creation_timestamp=int(meta.get("creation_timestamp") or 0),
        last_updated_timestamp=meta.get("last_updated_timestamp"),
        description=meta.get("description"),
        user_id=meta.get("user_id"),
        current_stage=str(meta.get("current_stage") or STAGE_NONE),
        source=meta.get("source"),
        run_id=meta.get("run_id"),
        status=str(meta.get("status") or ModelVersionStatus.READY),
        status_message=meta.get("status_message"),
        tags=dict(tags or {}),
        run_link=meta.get("run_link"),
        aliases=sorted(a for a, v in aliases.items() if v == text),
        model_id=meta.get("model_id"),
    )


def latest_per_stage(versions: Sequence[ModelVersion], stages: Iterable[str]) -> list[ModelVersion]:
    """The highest version in each of ``stages``, in version order."""
    wanted = set(stages)
    best: dict[str, ModelVersion] = {}
    for mv in versions:
        if mv.current_stage in wanted:
            held = best.get(mv.current_stage)
            if held is None or held.version < mv.version:
                best[mv.current_stage] = mv
    return sorted(best.values(), key=lambda mv: mv.version)


class Queries:
    """The registry store's reads (see the module docstring)."""

    def __init__(self, files: RegistryFiles) -> None:
        self.files = files
        self.storage = files.storage
        self._search = RegistrySearch(files, self._model_entity, version_entity)

    # -- entities -----------------------------------------------------------------------------
    def _tags_of(self, model: ModelFiles, number: int) -> dict[str, str] | None:
        if model.version_tags is None:
            return self.files.version_tags(model.name, number)
        return model.version_tags.get(number)

    def _versions_of(self, model: ModelFiles) -> list[ModelVersion]:
        return [
            version_entity(model.name, n, meta, self._tags_of(model, n), model.aliases)
            for n, meta in sorted(model.live_versions().items())
        ]

    def _model_entity(self, model: ModelFiles) -> RegisteredModel:
        # Only the latest version of each stage becomes an entity: a model may have thousands.
        latest: dict[str, int] = {}
        live: set[str] = set()
        for number, version_meta in model.versions.items():
            if is_deleted(version_meta):
                continue
            live.add(str(number))
            stage = str(version_meta.get("current_stage") or STAGE_NONE)
            if stage in ALL_STAGES and latest.get(stage, 0) < number:
                latest[stage] = number
        meta = model.meta
        return RegisteredModel(
            name=model.name,
            creation_timestamp=meta.get("creation_timestamp"),
            last_updated_timestamp=meta.get("last_updated_timestamp"),
            description=meta.get("description"),
            latest_versions=[
                version_entity(
                    model.name,
                    n,
                    model.versions[n],
                    self._tags_of(model, n),
                    model.aliases,
                )
                for n in sorted(latest.values())
            ],
            tags=dict(model.tags),
            # An alias whose version is gone (deleted concurrently with setting it) is not shown.
            aliases={a: v for a, v in sorted(model.aliases.items()) if v in live},
        )

    # -- registered models --------------------------------------------------------------------
    def get_registered_model(self, name: str) -> RegisteredModel:
        return self._model_entity(self.files.load(name))

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[RegisteredModel]:
        check_paging(max_results, "registered_models", page_token)
        comparisons = _registry_filter(filter_string, "registered_models")
        clauses = _distinct(
            effective_order(parse_order_by(order_by, "registered_models"), "registered_models")
        )
        return self._search.registered_models(
            comparisons, clauses, _pinned_names(comparisons), max_results, page_token
        )

    # -- model versions -----------------------------------------------------------------------
    def get_model_version(self, name: str, version: Any) -> ModelVersion:
        number = version_number(version)
        self.files.model_meta(name)
        meta = self.files.live_version_meta(name, number)
        tags = self.files.version_tags(name, number)
        return version_entity(name, number, meta, tags, self.files.aliases(name))

    def get_model_version_download_uri(self, name: str, version: Any) -> str:
        number = version_number(version)
        self.files.model_meta(name)
        meta = self.files.live_version_meta(name, number)
        location = meta.get("storage_location") or meta.get("source")
        if not location:
            raise InvalidState(f"Model version {name}/{version} records no location")
        from fsregistry.tracking.logged_models import relocate_file_uri

        return relocate_file_uri(str(location), self.storage)

    def get_latest_versions(
        self, name: str, stages: Sequence[str] | None = None
    ) -> list[ModelVersion]:
        if stages is not None and (isinstance(stages, str) or not isinstance(stages, Iterable)):
            raise InvalidParameterValue(f"Invalid stages {stages!r}: expected a list of stages")
        wanted = [canonical_stage(s) for s in stages] if stages else list(ALL_STAGES)
        model = self.files.load(name)
        return latest_per_stage(self._versions_of(model), wanted)

    def latest_version_number(self, name: str) -> int:
        """The highest non-deleted version (``models:/<name>/latest``): reads from the top."""
        self.files.model_meta(name)
        dirs, _ = self.storage.list_dir(layout.registered_model_dir(name))
        numbers = sorted(
            (n for n in map(layout.parse_version_dir_name, dirs) if n is not None), reverse=True
        )
        batch = 4
        for i in range(0, len(numbers), batch):
            chunk = numbers[i : i + batch]
            metas = self.storage.read_many(layout.model_version_meta(name, n) for n in chunk)
            for n in chunk:
                raw = metas.get(layout.model_version_meta(name, n))
                path = layout.model_version_meta(name, n)
                meta = None if raw is None else self.files.parse(path, raw)
                if meta is not None and not is_deleted(meta):
                    return n
        raise ResourceDoesNotExist(f"No versions of model with name '{name}' found")

    def version_for_uri(self, parsed: ModelUri) -> int:
        """The version number a parsed ``models:/<name>...`` URI points at."""
        name = parsed.name
        if name is None:
            raise InvalidParameterValue(f"{parsed.uri!r} names a logged model, not a version")
        validate_model_name(name)
        if parsed.version is not None:
            return parsed.version
        if parsed.alias is not None:
            return self.get_model_version_by_alias(name, parsed.alias).version
        if parsed.latest:
            return self.latest_version_number(name)
        assert parsed.stage is not None
        stage = canonical_stage(parsed.stage)
        latest = self.get_latest_versions(name, [stage])
        if not latest:
            raise ResourceDoesNotExist(
                f"No versions of model with name '{name}' and stage '{stage}' found"
            )
        return latest[-1].version

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | bytes | None = None,
    ) -> PagedList[ModelVersion]:
        check_paging(max_results, "model_versions", page_token)
        comparisons = _registry_filter(filter_string, "model_versions")
        clauses = _distinct(
            effective_order(parse_order_by(order_by, "model_versions"), "model_versions")
        )
        return self._search.model_versions(
            comparisons, clauses, _pinned_names(comparisons), max_results, page_token
        )

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        alias = lookup_alias(alias)
        if alias.lower() == "latest":
            return self.get_model_version(name, self.latest_version_number(name))
        self.files.model_meta(name)
        try:
            raw = self.storage.read(layout.registered_model_alias(name, alias))
        except FileNotFoundError:
            raise InvalidParameterValue(
                f"Registered model alias {alias} not found (model {name!r})."
            ) from None
        target = decode_text(raw).strip()
        try:
            return self.get_model_version(name, target)
        except (ResourceDoesNotExist, InvalidParameterValue) as e:
            raise InvalidParameterValue(
                f"Registered model alias {alias} of model {name!r} points at version "
                f"{target!r}, which does not exist."
            ) from e


# -- search helpers ---------------------------------------------------------------------------
def _distinct(clauses: Sequence[OrderClause]) -> list[OrderClause]:
    """``clauses`` without repeats of a key already sorted on (the tie-breakers repeat the
    default order): rows equal on a key are equal on it again, whatever the direction."""
    seen: set[tuple[str, str]] = set()
    out = []
    for clause in clauses:
        if (clause.entity, clause.key) not in seen:
            seen.add((clause.entity, clause.key))
            out.append(clause)
    return out


def _pinned_names(comparisons: Iterable[Comparison]) -> set[str] | None:
    """The only model names a filter can match (``name = 'x'``, ``name IN (...)``), or None
    when it does not pin them; a search then reads those models alone."""
    names: set[str] | None = None
    for c in comparisons:
        if c.entity != ATTRIBUTE or c.key != "name":
            continue
        if c.op == "=" and isinstance(c.value, str):
            allowed = {c.value}
        elif c.op == "IN" and isinstance(c.value, tuple):
            allowed = set(c.value)
        else:
            continue
        names = allowed if names is None else names & allowed
    return names


__all__ = ["Queries", "latest_per_stage", "version_entity"]
