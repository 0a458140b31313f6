"""What the registry index tests compare: every search's answer in one shape, and the index's
shard files (``tests/test_registry_index*.py``)."""

from __future__ import annotations

from typing import Any

from fsregistry.registry import model_index
from fsregistry.registry.store import RegistryStore
from fsregistry.storage import open_storage


def answers(store: RegistryStore) -> Any:
    """Everything the registry searches say, in a comparable shape: (models, versions, the
    versions of model ``m``)."""
    models = [
        (
            m.name,
            m.description,
            m.tags,
            m.aliases,
            [(v.version, v.current_stage, v.tags, v.aliases) for v in m.latest_versions],
        )
        for m in store.search_registered_models(max_results=1000)
    ]
    versions = [
        (v.name, v.version, v.current_stage, v.description, v.tags, v.aliases, v.source)
        for v in store.search_model_versions(max_results=10_000)
    ]
    one = [(v.version, v.tags) for v in store.search_model_versions("name = 'm'")]
    return models, versions, one


def shard_files(url: str) -> list[str]:
    """The registry index's shard files under ``models/`` (names, sorted)."""
    _, names = open_storage(url).list_dir("models")
    return sorted(n for n in names if n.startswith(model_index.SHARD_PREFIX))
