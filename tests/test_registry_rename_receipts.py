"""A registry write whose model a rename carries away between its two steps is all-or-nothing
on S3 and GCS (:mod:`fsregistry.registry.receipts`).

Each test forces one interleaving in-process: the write runs up to its final
compare-and-swap of the model's meta.yaml (its file is written), then a whole rename runs
(another client, as another process would), then the write goes on. The rename's copy took
the write's file, so the write must succeed and its change be in the renamed model (before
the fix: RESOURCE_DOES_NOT_EXIST although the change was there, and a retry duplicated it).
The converse interleaving (the rename runs before the write's file lands, so the copy lacks
it) must raise and leave nothing. Local disk renames with rename(2) under a lock the write
holds, so these interleavings cannot happen there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fsregistry import Client
from fsregistry.exceptions import ResourceDoesNotExist
from fsregistry.registry.edits import Edits
from fsregistry.registry.reading import RegistryFiles


@pytest.fixture
def clients(store_url: str, backend: str) -> Iterator[tuple[Client, Client]]:
    """A writer's client and a renamer's client on the same object store."""
    if backend == "local":
        pytest.skip("local disk: the write holds its model directory, the rename waits")
    writer = Client(tracking_uri=store_url)
    writer.create_registered_model("a")
    writer.create_model_version("a", "/src/1")
    writer.set_registered_model_alias("a", "old", 1)
    writer.set_registered_model_tag("a", "gone", "x")
    writer.set_model_version_tag("a", 1, "gone", "x")
    yield writer, Client(tracking_uri=store_url)


def _renames_before_bump(
    monkeypatch: pytest.MonkeyPatch,
    rename: Callable[[], None],
    armed: Callable[[], bool] = lambda: True,
) -> list[str]:
    """Run ``rename`` once, inside the first model bump (a write's final compare-and-swap)
    made once ``armed()``, just before it."""
    real = Edits.touch
    ran: list[str] = []

    def touch(self: Edits, name: str, *args: Any, **kwargs: Any) -> Any:
        if not ran and armed():
            ran.append(name)
            rename()
        return real(self, name, *args, **kwargs)

    monkeypatch.setattr(Edits, "touch", touch)
    return ran


# The write, and how to read its effect in a model.
WRITES: dict[str, tuple[Callable[[Client, str], Any], Callable[[Client, str], Any]]] = {
    "create_model_version": (
        lambda c, n: c.create_model_version(n, "/src/new").version,
        lambda c, n: sorted(mv.source for mv in c.search_model_versions(f"name='{n}'")),
    ),
    "create_model_version_with_tags": (
        lambda c, n: c.create_model_version(n, "/src/new", tags={"k": "v", "k2": "v2"}).version,
        lambda c, n: [(mv.source, mv.tags) for mv in c.search_model_versions(f"name='{n}'")],
    ),
    "update_model_version": (
        lambda c, n: c.update_model_version(n, 1, "new description").description,
        lambda c, n: c.get_model_version(n, 1).description,
    ),
    "set_registered_model_tag": (
        lambda c, n: c.set_registered_model_tag(n, "k", "v"),
        lambda c, n: c.get_registered_model(n).tags,
    ),
    "delete_registered_model_tag": (
        lambda c, n: c.delete_registered_model_tag(n, "gone"),
        lambda c, n: c.get_registered_model(n).tags,
    ),
    "set_model_version_tag": (
        lambda c, n: c.set_model_version_tag(n, 1, "k", "v"),
        lambda c, n: c.get_model_version(n, 1).tags,
    ),
    "delete_model_version_tag": (
        lambda c, n: c.delete_model_version_tag(n, 1, "gone"),
        lambda c, n: c.get_model_version(n, 1).tags,
    ),
    "set_registered_model_alias": (
        lambda c, n: c.set_registered_model_alias(n, "new", 1),
        lambda c, n: c.get_registered_model(n).aliases,
    ),
    "delete_registered_model_alias": (
        lambda c, n: c.delete_registered_model_alias(n, "old"),
        lambda c, n: c.get_registered_model(n).aliases,
    ),
    "delete_model_version": (
        lambda c, n: c.delete_model_version(n, 1),
        lambda c, n: (
            [mv.version for mv in c.search_model_versions(f"name='{n}'")],
            c.get_registered_model(n).aliases,
        ),
    ),
}


def _expected(op: str, writer: Client, store_url: str) -> Any:
    """The effect of ``op`` on an unraced copy of the fixture's model, read back."""
    write, read = WRITES[op]
    twin = Client(tracking_uri=store_url)
    twin.create_registered_model("twin")
    twin.create_model_version("twin", "/src/1")
    twin.set_registered_model_alias("twin", "old", 1)
    twin.set_registered_model_tag("twin", "gone", "x")
    twin.set_model_version_tag("twin", 1, "gone", "x")
    write(twin, "twin")
    return read(twin, "twin")


@pytest.mark.parametrize("op", sorted(WRITES))
def test_write_carried_by_a_rename_succeeds(
    op: str, clients: tuple[Client, Client], store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rename copied the write's file before its bump: the write succeeds, and its
    change is in the renamed model exactly as in a model nobody renamed."""
    writer, renamer = clients
    expected = _expected(op, writer, store_url)
    write, read = WRITES[op]
    ran = _renames_before_bump(monkeypatch, lambda: renamer.rename_registered_model("a", "a2"))
    write(writer, "a")  # before the fix: RESOURCE_DOES_NOT_EXIST
    assert ran == ["a"]
    monkeypatch.undo()
    assert read(writer, "a2") == expected
    assert [m.name for m in writer.search_registered_models()] == ["a2", "twin"]


@pytest.mark.parametrize("hops", [["a2", "a"], ["a2", "a", "a2"], ["a2", "a", "a2", "a"]])
@pytest.mark.parametrize("op", ["create_model_version", "set_registered_model_tag"])
def test_write_carried_away_and_back_succeeds(
    op: str,
    hops: list[str],
    clients: tuple[Client, Client],
    store_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Renamed a -> a2 -> a (-> ...) between the write's two steps: the model now at ``a``
    (or its tombstone) is another incarnation, which kept the receipts of the renames away
    from ``a`` since the model the write read, so the write still learns its change was
    carried, and it is in the model at the last name. (Before the fix the first and last
    cases happened to pass: the bump went to the model back at ``a``.)"""
    writer, renamer = clients
    expected = _expected(op, writer, store_url)
    write, read = WRITES[op]

    def hop() -> None:
        for old, new in zip(["a", *hops], hops, strict=False):
            renamer.rename_registered_model(old, new)

    _renames_before_bump(monkeypatch, hop)
    write(writer, "a")  # before the fix, ending at a2: RESOURCE_DOES_NOT_EXIST
    monkeypatch.undo()
    assert read(writer, hops[-1]) == expected


@pytest.mark.parametrize(
    "op",
    [
        "create_model_version",
        "set_registered_model_tag",
        "delete_registered_model_tag",
        "delete_registered_model_alias",
    ],
)
def test_write_the_rename_did_not_carry_raises_and_leaves_nothing(
    op: str, clients: tuple[Client, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rename ran after the write read the model but before it wrote its file: the copy
    lacks it, so the write raises and nothing of it is anywhere."""
    writer, renamer = clients
    write, read = WRITES[op]
    before = read(writer, "a")
    ran = _renames_after_read(monkeypatch, lambda: renamer.rename_registered_model("a", "a2"))
    with pytest.raises(ResourceDoesNotExist):
        write(writer, "a")
    monkeypatch.undo()
    assert ran == ["a"]
    assert read(writer, "a2") == before
    assert [m.name for m in writer.search_registered_models()] == ["a2"]


def _renames_after_read(monkeypatch: pytest.MonkeyPatch, rename: Callable[[], None]) -> list[str]:
    """Run ``rename`` once, right after the write has read the model's meta.yaml (before it
    writes its file)."""
    real = RegistryFiles.model_meta
    ran: list[str] = []

    def model_meta(self: RegistryFiles, name: str, *args: Any, **kwargs: Any) -> Any:
        out = real(self, name, *args, **kwargs)
        if not ran:
            ran.append(name)
            rename()
        return out

    monkeypatch.setattr(RegistryFiles, "model_meta", model_meta)
    return ran


@pytest.mark.parametrize("op", ["set_registered_model_tag"])
def test_write_between_a_rename_away_and_back_is_not_lost(
    op: str, clients: tuple[Client, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """a -> a2 commits after the write read ``a`` and before it writes its file (the copy
    lacks it); a2 -> a then clears what is left at ``a`` (the file) before the write's bump,
    which finds a visible model at ``a`` again, but another one. Before the fix the bump
    went through and the call succeeded with its tag gone; now it raises, and nothing of it
    is anywhere."""
    writer, renamer = clients
    write, read = WRITES[op]
    before = read(writer, "a")
    away: list[str] = []

    def rename_away() -> None:
        renamer.rename_registered_model("a", "a2")
        away.append("a2")  # done: the next bump is the write's

    _renames_after_read(monkeypatch, rename_away)
    back = _renames_before_bump(
        monkeypatch, lambda: renamer.rename_registered_model("a2", "a"), armed=lambda: bool(away)
    )
    outcome: Any = None
    try:
        write(writer, "a")
    except ResourceDoesNotExist as e:
        outcome = e
    monkeypatch.undo()
    assert back == ["a"]
    after = read(writer, "a")
    # All or nothing: it raised and the model is as before, or it returned and holds the tag.
    assert (outcome is not None and after == before) or (outcome is None and "k" in after), (
        outcome,
        after,
    )
    assert outcome is not None  # its file was cleared: it cannot have succeeded


def test_registration_without_a_rename_stays_three_requests(
    clients: tuple[Client, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The receipt costs nothing unless a bump fails: read the model, create the version,
    bump the model (HTTP requests counted at aiohttp, which s3fs and gcsfs both use)."""
    import aiohttp

    writer, _ = clients
    writer.create_model_version("a", "/src/warm")  # clients and sessions made
    real = aiohttp.ClientSession._request
    sent: list[str] = []

    async def request(self: Any, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(f"{method} {url}")
        return await real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(aiohttp.ClientSession, "_request", request)
    assert writer.create_model_version("a", "/src/counted").version == 3
    assert len(sent) == 3, sent
