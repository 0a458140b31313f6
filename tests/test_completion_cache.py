"""Shell completion answers are cached on disk: a second Tab reads nothing from the store
(local disk, S3, GCS); on local disk a model, version, alias or run created meanwhile shows up
at once; ``FSREG_COMPLETION_TTL=0`` turns the cache off."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fsregistry import Client
from fsregistry.cli import completion
from fsregistry.storage import open_storage

STORE_READS = ("list_dir", "walk", "read", "read_many", "read_versioned", "exists", "tokens")


@dataclass
class Ctx:
    """The part of click's context the completers read."""

    params: dict[str, Any]
    args: list[str] = field(default_factory=list)


def _answers(url: str) -> dict[str, list[str]]:
    store = Ctx({"tracking_uri": url})
    model = Ctx({"tracking_uri": url, "name": "churn"})
    return {
        "models": completion.model_names(store, None, ""),
        "versions": completion.versions(model, None, ""),
        "aliases": completion.aliases(model, None, ""),
        "experiments": completion.experiment_names(store, None, ""),
        "runs": completion.run_ids(store, None, ""),
    }


@pytest.fixture
def populated(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("FSREG_COMPLETION_CACHE", str(tmp_path / "completion-cache"))
    monkeypatch.delenv("FSREG_COMPLETION_TTL", raising=False)
    client = Client(tracking_uri=store_url)
    client.create_registered_model("churn")
    client.create_model_version("churn", "/a")
    client.set_registered_model_alias("churn", "champion", 1)
    client.create_run(client.create_experiment("exp"))
    return store_url


def _count_store_reads(url: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    cls = type(open_storage(url))
    for name in STORE_READS:
        original = getattr(cls, name)

        def counted(self: Any, *args: Any, _name: str = name, _orig: Any = original) -> Any:
            calls.append(_name)
            return _orig(self, *args)

        monkeypatch.setattr(cls, name, counted)
    return calls


def test_a_second_completion_reads_nothing_from_the_store(
    populated: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _answers(populated)
    assert first["models"] == ["churn"] and first["versions"] == ["1"]
    assert first["aliases"] == ["champion"] and len(first["runs"]) == 1
    assert first["experiments"] == ["Default", "exp"]
    calls = _count_store_reads(populated, monkeypatch)
    assert _answers(populated) == first
    assert calls == []


@pytest.mark.parametrize("backend", ["local"], indirect=True)  # S3/GCS: the TTL decides
def test_local_changes_show_up_at_once(populated: str) -> None:
    _answers(populated)
    client = Client(tracking_uri=populated)
    client.create_registered_model("other")
    client.create_model_version("churn", "/b")
    client.set_registered_model_alias("churn", "challenger", 2)
    run = client.create_run(client.get_experiment_by_name("exp").experiment_id)
    client.create_experiment("exp2")
    now = _answers(populated)
    assert now["models"] == ["churn", "other"]
    assert now["versions"] == ["1", "2"]
    assert now["aliases"] == ["challenger", "champion"]
    assert run.info.run_id in now["runs"] and len(now["runs"]) == 2
    assert now["experiments"] == ["Default", "exp", "exp2"]
    client.delete_model_version("churn", 2)
    assert _answers(populated)["versions"] == ["1"]


def test_ttl_zero_turns_the_cache_off(populated: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FSREG_COMPLETION_TTL", "0")
    first = _answers(populated)
    calls = _count_store_reads(populated, monkeypatch)
    assert _answers(populated) == first
    assert calls
