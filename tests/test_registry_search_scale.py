"""Registry search costs that must not grow with the registry (issue 24): a next page continues
from a kept sorted result, reading only its own models or versions, and a repeated search of
an unchanged registry does not sort again. Local disk, S3 and GCS.

Counts, never times: how many times a search reads the whole registry, sorts, builds
entities, and which models and versions a page reads.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from fsregistry import Client
from fsregistry.registry import searching
from fsregistry.registry.store import RegistryStore
from fsregistry.search import paging
from fsregistry.storage import LocalStorage, open_storage

ORDER = ["name ASC", "version_number DESC"]


def _spy(monkeypatch: pytest.MonkeyPatch, client: Client) -> dict[str, list[Any]]:
    """Record the whole-registry reads, sorts, model loads and version reads of the client's
    registry store."""
    seen: dict[str, list[Any]] = {"whole": [], "sort": [], "loaded": [], "versions": []}
    files = client.registry_store._files
    visible = files.visible_models

    def whole(*a: Any, **k: Any) -> Any:
        seen["whole"].append(a[0] if a else k.get("names"))
        return visible(*a, **k)

    monkeypatch.setattr(files, "visible_models", whole)
    load = files.load

    def loading(name: str, *a: Any, **k: Any) -> Any:
        seen["loaded"].append(name)
        return load(name, *a, **k)

    monkeypatch.setattr(files, "load", loading)
    read_versions = files.read_versions

    def versions(name: str, numbers: Any) -> Any:
        numbers = list(numbers)
        seen["versions"].extend((name, n) for n in numbers)
        return read_versions(name, numbers)

    monkeypatch.setattr(files, "read_versions", versions)
    sort = searching.sort_rows

    def counting(rows: Any, *a: Any, **k: Any) -> Any:
        seen["sort"].append(len(rows))
        return sort(rows, *a, **k)

    monkeypatch.setattr(searching, "sort_rows", counting)
    return seen


def _clear(seen: dict[str, list[Any]]) -> None:
    for key in seen:
        seen[key].clear()


def _registry(url: str, models: int = 7, versions: int = 3) -> Client:
    client = Client(tracking_uri=url)
    for i in range(models):
        client.create_registered_model(f"m{i}", tags={"i": str(i)})
        for v in range(versions):
            client.create_model_version(f"m{i}", f"/src/m{i}/{v}", tags={"v": str(v)})
    return client


def test_next_pages_of_model_versions_read_only_their_versions_and_never_sort(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _registry(store_url, models=3, versions=5)
    seen = _spy(monkeypatch, client)
    want = [(f"m{i}", v) for i in range(3) for v in range(5, 0, -1)]  # name ASC, version DESC
    page = client.search_model_versions("tags.v != '9'", max_results=4, order_by=ORDER)
    got = [(mv.name, int(mv.version)) for mv in page]
    assert len(seen["whole"]) == 1 and seen["sort"] == [15]
    assert page.token is not None and paging.decode_cursor(page.token).cursor is not None
    assert paging.decode_page_token(page.token) == 4  # what MLflow reads of the token
    while page.token:
        _clear(seen)
        page = client.search_model_versions(
            "tags.v != '9'", max_results=4, order_by=ORDER, page_token=page.token
        )
        keys = [(mv.name, int(mv.version)) for mv in page]
        got += keys
        assert seen["whole"] == [] and seen["sort"] == [], "a next page reads and sorts nothing"
        assert seen["versions"] == keys, "a next page reads its own versions alone"
    assert got == want, "every version once, in order"
    assert all(mv.tags == {"v": str(int(mv.version) - 1)} for mv in page)


def test_next_pages_of_registered_models_read_only_their_models_and_never_sort(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _registry(store_url, models=7, versions=1)
    seen = _spy(monkeypatch, client)
    page = client.search_registered_models(max_results=3, order_by=["name DESC"])
    got = [m.name for m in page]
    assert len(seen["whole"]) == 1 and seen["sort"] == [7] and seen["loaded"] == []
    while page.token:
        _clear(seen)
        page = client.search_registered_models(
            max_results=3, order_by=["name DESC"], page_token=page.token
        )
        names = [m.name for m in page]
        got += names
        assert seen["whole"] == [] and seen["sort"] == []
        assert seen["loaded"] == names, "a next page reads its own models alone"
        assert all(m.latest_versions and m.tags for m in page)
    assert got == [f"m{i}" for i in range(6, -1, -1)]


def test_next_pages_on_local_disk_walk_no_model_or_version_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On local disk a next page checks its models as a repeated listing does (a listing of
    the model directory, a stat per version's meta.yaml) and its versions by a stat of their
    meta.yaml: only tags and aliases directories are walked, never a whole model's tree or a
    version directory."""
    client = _registry(str(tmp_path / "mlruns"), models=4, versions=3)
    then = time.time() - 30  # no longer "racy": what a search decodes is kept
    for d, _, names in os.walk(tmp_path / "mlruns"):
        for n in names:
            os.utime(os.path.join(d, n), (then, then))
    walked: list[str] = []
    walk = LocalStorage.walk

    def counting(self: LocalStorage, path: str, *a: Any, **k: Any) -> Any:
        walked.append(path)
        return walk(self, path, *a, **k)

    monkeypatch.setattr(LocalStorage, "walk", counting)
    page = client.search_registered_models(max_results=1, order_by=["name DESC"])
    got = [(m.name, m.tags, [v.tags for v in m.latest_versions]) for m in page]
    walked.clear()
    while page.token:
        page = client.search_registered_models(
            max_results=1, order_by=["name DESC"], page_token=page.token
        )
        got += [(m.name, m.tags, [v.tags for v in m.latest_versions]) for m in page]
    assert walked and all(p.endswith(("/tags", "/aliases")) for p in walked), walked
    assert got == [(f"m{i}", {"i": str(i)}, [{"v": "2"}]) for i in range(3, -1, -1)]
    versions = client.search_model_versions("name = 'm1'", max_results=1, order_by=ORDER)
    seen = [(int(v.version), v.tags) for v in versions]
    walked.clear()
    while versions.token:
        versions = client.search_model_versions(
            "name = 'm1'", max_results=1, order_by=ORDER, page_token=versions.token
        )
        seen += [(int(v.version), v.tags) for v in versions]
    assert walked and all(p.endswith(("/tags", "/aliases")) for p in walked), walked
    assert seen == [(v, {"v": str(v - 1)}) for v in range(3, 0, -1)]


def test_a_first_page_builds_entities_for_its_rows_alone(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _registry(store_url, models=6, versions=2)
    queries = client.registry_store._queries
    built: list[str] = []
    build_model = queries._search._build_model
    build_version = queries._search._build_version

    def model(files: Any) -> Any:
        built.append(files.name)
        return build_model(files)

    def version(name: str, number: int, *a: Any) -> Any:
        built.append(f"{name}/{number}")
        return build_version(name, number, *a)

    monkeypatch.setattr(queries._search, "_build_model", model)
    monkeypatch.setattr(queries._search, "_build_version", version)
    assert [m.name for m in client.search_registered_models(max_results=2)] == ["m0", "m1"]
    assert built == ["m0", "m1"]
    built.clear()
    page = client.search_model_versions("name LIKE 'm%'", max_results=3, order_by=ORDER)
    assert [f"{mv.name}/{mv.version}" for mv in page] == built == ["m0/2", "m0/1", "m1/2"]


def test_a_repeated_search_sorts_again_only_when_something_changed(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _registry(store_url, models=4, versions=2)
    seen = _spy(monkeypatch, client)

    def models() -> list[str]:
        return [m.name for m in client.search_registered_models("tags.i != '9'")]

    def versions() -> list[tuple[str, int]]:
        found = client.search_model_versions("tags.v = '1'", order_by=ORDER)
        return [(mv.name, int(mv.version)) for mv in found]

    assert models() == ["m0", "m1", "m2", "m3"]
    assert versions() == [("m0", 2), ("m1", 2), ("m2", 2), ("m3", 2)]
    assert seen["sort"] == [4, 4]
    _clear(seen)
    assert models() == ["m0", "m1", "m2", "m3"]
    assert versions() == [("m0", 2), ("m1", 2), ("m2", 2), ("m3", 2)]
    assert seen["sort"] == [], "nothing changed: the kept orders are reused"
    assert len(seen["whole"]) == 2, "but the registry is looked at again"
    # Another process writes: this one's next searches see it.
    other = RegistryStore(open_storage(store_url))
    other.set_registered_model_tag("m0", "i", "9")
    other.set_model_version_tag("m3", "1", "v", "1")
    other.delete_model_version("m1", "2")
    assert models() == ["m1", "m2", "m3"]
    assert versions() == [("m0", 2), ("m2", 2), ("m3", 2), ("m3", 1)]
    assert len(seen["sort"]) == 2


def test_a_next_page_shows_its_rows_as_they_are_now(store_url: str) -> None:
    client = _registry(store_url, models=2, versions=4)
    page = client.search_model_versions("tags.v != 'x'", max_results=3, order_by=ORDER)
    assert [(mv.name, int(mv.version)) for mv in page] == [("m0", 4), ("m0", 3), ("m0", 2)]
    other = RegistryStore(open_storage(store_url))  # another process, in effect
    other.update_model_version("m0", "1", "changed since")
    other.set_model_version_tag("m1", "4", "v", "x")  # no longer matches
    other.delete_model_version("m1", "3")  # gone
    other.set_registered_model_alias("m1", "best", "2")
    rest = []
    while page.token:
        page = client.search_model_versions(
            "tags.v != 'x'", max_results=3, order_by=ORDER, page_token=page.token
        )
        rest += list(page)
    assert [(mv.name, int(mv.version)) for mv in rest] == [("m0", 1), ("m1", 2), ("m1", 1)]
    assert rest[0].description == "changed since" and rest[1].aliases == ["best"]
    models = client.search_registered_models(max_results=1)
    other.delete_registered_model("m1")
    assert models.token is not None
    after = client.search_registered_models(max_results=1, page_token=models.token)
    assert list(after) == [] and after.token is None, "a model gone since is left out"


def test_a_token_without_a_kept_result_pages_by_its_offset(store_url: str) -> None:
    """MLflow's token (the offset alone), or one whose result this process does not hold,
    pages through a fresh search."""
    client = _registry(store_url, models=5, versions=1)
    fresh = Client(tracking_uri=store_url)
    token = client.search_registered_models(max_results=2).token
    assert token is not None
    other = RegistryStore(open_storage(store_url))  # does not hold the result
    page = other.search_registered_models(max_results=2, page_token=token)
    assert [m.name for m in page] == ["m2", "m3"]
    mlflow_token = paging.encode_page_token(3)
    page = fresh.search_registered_models(max_results=5, page_token=mlflow_token)
    assert [m.name for m in page] == ["m3", "m4"] and page.token is None
    versions = client.search_model_versions(max_results=2, order_by=ORDER)
    assert versions.token is not None
    page = other.search_model_versions(max_results=10, order_by=ORDER, page_token=versions.token)
    assert [mv.name for mv in page] == ["m2", "m3", "m4"]


def test_a_name_filter_reads_only_the_models_it_can_match(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Few models whose directory names pass the filter's name tests: only they are read (one
    in two on local disk, one in 32 on object stores, is few enough)."""
    client = Client(tracking_uri=store_url)
    for i in range(40):
        client.create_registered_model(f"m{i:02d}")
    for v in range(3):
        client.create_model_version("m07", f"/src/m07/{v}")
    client.create_model_version("m08", "/src/m08/0")
    files = client.registry_store._files
    scanned: list[str | None] = []
    scan = files.scan

    def spy(name: str | None) -> Any:
        scanned.append(name)
        return scan(name)

    monkeypatch.setattr(files, "scan", spy)
    page = client.search_model_versions("name LIKE 'm07%'", order_by=ORDER)
    assert [(mv.name, int(mv.version)) for mv in page] == [("m07", 3), ("m07", 2), ("m07", 1)]
    assert scanned == ["m07"]
    scanned.clear()
    models = client.search_registered_models("name ILIKE 'M08'")
    assert [(m.name, [mv.version for mv in m.latest_versions]) for m in models] == [("m08", [1])]
    assert scanned == ["m08"]
    scanned.clear()
    page = client.search_model_versions("name LIKE 'm%'", order_by=ORDER)
    assert len(page) == 4 and scanned == [None], "most models match: one listing of them all"


_IO = ("read", "read_many", "read_versioned", "exists", "tokens", "list_dir", "list_dir_tokens")


def _storage_calls(monkeypatch: pytest.MonkeyPatch, client: Client) -> list[str]:
    """Record every call of the registry store's storage that lists, stats or reads."""
    calls: list[str] = []
    storage = client.registry_store.storage
    for name in (*_IO, "walk"):
        method = getattr(storage, name)

        def counted(*a: Any, _name: str = name, _method: Any = method, **k: Any) -> Any:
            calls.append(_name)
            return _method(*a, **k)

        monkeypatch.setattr(storage, name, counted)
    return calls


def test_a_repeated_search_answers_from_what_it_holds_until_anything_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Local disk: with the change feed's stamp, a search made again, and its next pages,
    list models/ once and stat and read nothing while nothing under it changed; any writer's
    change (another process's, MLflow's in-place rewrite, a new model) is seen by the next
    search."""
    client = _registry(str(tmp_path / "mlruns"), models=5, versions=3)
    assert client.registry_store.storage.change_feed() is not None, "Linux local disk"
    seen = _spy(monkeypatch, client)
    calls = _storage_calls(monkeypatch, client)

    def models() -> list[tuple[str, str | None, list[int]]]:
        out, token = [], None
        while True:
            page = client.search_registered_models(
                "tags.i != '9'", max_results=2, order_by=["name DESC"], page_token=token
            )
            out += [(m.name, m.description, [v.version for v in m.latest_versions]) for m in page]
            if not page.token:
                return out
            token = page.token

    def versions() -> list[tuple[str, int, str | None, dict[str, str]]]:
        out, token = [], None
        while True:
            page = client.search_model_versions(
                "name LIKE 'm%'", max_results=4, order_by=ORDER, page_token=token
            )
            out += [(v.name, int(v.version), v.description, v.tags) for v in page]
            if not page.token:
                return out
            token = page.token

    want_models = [(f"m{i}", None, [3]) for i in range(4, -1, -1)]
    want_versions = [
        (f"m{i}", v, None, {"v": str(v - 1)}) for i in range(5) for v in range(3, 0, -1)
    ]
    for _ in range(2):  # the first time, and once more: the registry is checked both times
        assert models() == want_models and versions() == want_versions
    assert calls and len(seen["whole"]) == 4
    for _ in range(2):
        _clear(seen)
        calls.clear()
        got_models, got_versions = models(), versions()
        assert got_models == want_models and got_versions == want_versions
        # 3 pages of models, 4 of versions: one listing of models/ each, nothing else.
        assert calls == ["list_dir"] * 7, "nothing changed: no stat or read"
        assert seen == {"whole": [], "sort": [], "loaded": [], "versions": []}
    # What a caller does to an entity it got does not change what the next search returns.
    page = client.search_model_versions("name LIKE 'm%'", max_results=4, order_by=ORDER)
    page[0].tags["v"] = "changed by the caller"
    assert versions() == want_versions

    # Another process changes a description; MLflow rewrites a tag file in place.
    RegistryStore(open_storage(str(tmp_path / "mlruns"))).update_model_version("m1", "2", "new")
    tag = tmp_path / "mlruns" / "models" / "m3" / "version-1" / "tags" / "v"
    with open(tag, "r+", encoding="utf-8") as f:
        f.write("7")
    _clear(seen)
    changed = [
        (n, v, "new" if (n, v) == ("m1", 2) else d, {"v": "7"} if (n, v) == ("m3", 1) else t)
        for n, v, d, t in want_versions
    ]
    assert versions() == changed
    assert len(seen["whole"]) == 1, "a change under models/: the registry is checked again"
    calls.clear()
    assert versions() == changed and calls == ["list_dir"] * 4, "and held again once checked"
    client.create_model_version("m0", "/src/m0/new")  # this process's own write
    assert models()[-1] == ("m0", None, [4])
    RegistryStore(open_storage(str(tmp_path / "mlruns"))).create_registered_model("m5", {"i": "5"})
    assert [m[0] for m in models()] == ["m5", "m4", "m3", "m2", "m1", "m0"]


def test_a_first_search_opens_no_change_feed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Local disk: the change feed (inotify, through ctypes) is asked for only when a process
    makes a query again, so a one-off search (``fsreg ls models``) neither loads nor opens it;
    the query made again still answers from what it holds after that."""
    client = _registry(str(tmp_path / "mlruns"), models=3, versions=2)
    storage = client.registry_store.storage
    feeds: list[Any] = []
    change_feed = storage.change_feed

    def counting() -> Any:
        feeds.append(change_feed())
        return feeds[-1]

    monkeypatch.setattr(storage, "change_feed", counting)
    assert [m.name for m in client.search_registered_models()] == ["m0", "m1", "m2"]
    assert len(client.search_model_versions("name = 'm1'")) == 2
    assert feeds == [], "a first search opens no change feed"
    assert [m.name for m in client.search_registered_models()] == ["m0", "m1", "m2"]
    assert feeds and feeds[-1] is not None, "made again: the registry is watched"
    seen = _spy(monkeypatch, client)
    assert [m.name for m in client.search_registered_models()] == ["m0", "m1", "m2"]
    assert seen["whole"] == [], "answered from what the watched search holds"
