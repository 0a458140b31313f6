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

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from fsregistry import Client
from fsregistry.exceptions import ResourceDoesNotExist
from fsregistry.registry.edits import Edits
from fsregistry.registry.reading import RegistryFiles
from fsregistry.registry.receipts import MAX_KEPT


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


_HOPS = {"2": ["a2", "a"], "3": ["a2", "a", "a2"], "4": ["a2", "a", "a2", "a"]}
# More renames away from ``a`` than a name keeps receipts of (MAX_KEPT): a version's writes
# find their version by its claim's nonce (or an edit by its identity) in any later receipt;
# a tag's cannot (left open, see the receipts module).
_MANY = ["a2", "a"] * (MAX_KEPT + 2) + ["a2"]


@pytest.mark.parametrize(
    ("op", "hops"),
    [
        *(
            pytest.param(op, hops, id=f"{op}-{n}")
            for op in ("create_model_version", "set_registered_model_tag", "delete_model_version")
            for n, hops in _HOPS.items()
        ),
        pytest.param("create_model_version", _MANY, id="create_model_version-many"),
        pytest.param("delete_model_version", _MANY, id="delete_model_version-many"),
        # A description update finds itself by the edit identity it stamped (every copy keeps
        # it, not its bytes: a rename rewrites the version's name).
        pytest.param("update_model_version", _HOPS["4"], id="update_model_version-4"),
        pytest.param("update_model_version", _MANY, id="update_model_version-many"),
    ],
)
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
    "hops",
    [["a2"], ["a2", "a", "a2"], ["a2", "a"] * (MAX_KEPT + 2) + ["a2"]],
    ids=["one", "three", "many"],
)
def test_registration_carried_away_returns_the_version_where_it_is(
    hops: list[str], clients: tuple[Client, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Renamed away (a -> a2, and on, ending at a2) between the registration's claim and
    its bump: the call succeeds and returns the version as it now is, under the name its
    model has now. "many": more renames away from ``a`` than a name keeps receipts of
    (MAX_KEPT), so the receipt of the model the call read is gone, but every later one holds
    the version by its claim's nonce (before the fix: RESOURCE_DOES_NOT_EXIST with the
    version in a2, the stress test's "ambiguous" registration; and every case returned the
    old name ``a``)."""
    writer, renamer = clients

    def hop() -> None:
        for old, new in zip(["a", *hops], hops, strict=False):
            renamer.rename_registered_model(old, new)

    ran = _renames_before_bump(monkeypatch, hop)
    mv = writer.create_model_version("a", "/src/new", tags={"k": "v"})
    monkeypatch.undo()
    assert ran == ["a"]
    assert (mv.name, mv.version, mv.source, mv.tags) == ("a2", 2, "/src/new", {"k": "v"})
    stored = writer.get_model_version("a2", 2)
    assert (stored.source, stored.tags) == ("/src/new", {"k": "v"})
    assert [m.name for m in writer.search_registered_models()] == ["a2"]


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
    bump the model (HTTP requests counted at aiohttp, which s3fs and gcsfs both use); then
    the audit trail's event is one more create (fsregistry.registry.history)."""
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
    assert len(sent) == 3 + 1, sent


# -- stage transitions ----------------------------------------------------------------------
# A transition bumps the model (taking its sequence number), writes the version's meta.yaml,
# with archive_existing_versions the other versions' in the stage, and then bumps the model
# again to confirm. Its compare-and-swaps, in order, by the index the tests run a rename at:
TRANSITION_CAS = {False: ["seq", "version", "confirm"], True: ["seq", "v1", "v2", "v3", "confirm"]}


@pytest.fixture
def staged(store_url: str, backend: str) -> Iterator[tuple[Client, Client]]:
    """Model ``a``: version 1 in None, versions 2 and 3 in Production."""
    if backend == "local":
        pytest.skip("local disk: the write holds its model directory, the rename waits")
    writer = Client(tracking_uri=store_url)
    writer.create_registered_model("a")
    for n in (1, 2, 3):
        writer.create_model_version("a", f"/src/{n}")
    writer.transition_model_version_stage("a", 2, "Production")
    writer.transition_model_version_stage("a", 3, "Production")
    yield writer, Client(tracking_uri=store_url)


def _stages(client: Client, name: str) -> dict[str, str]:
    return {
        str(mv.version): mv.current_stage for mv in client.search_model_versions(f"name='{name}'")
    }


def _rename_at_cas(
    monkeypatch: pytest.MonkeyPatch, index: int, after: bool, rename: Callable[[], None]
) -> list[int]:
    """Run ``rename`` once, just before the writer's compare-and-swap number ``index`` of a
    meta.yaml of ``models/a`` (0-based), or, with ``after``, just after it returned."""
    from fsregistry.storage.base import Storage

    real = Storage.write_if_match
    seen: list[int] = []
    ran: list[int] = []

    def write_if_match(self: Storage, path: str, *args: Any, **kwargs: Any) -> Any:
        if ran or "models/a/" not in path or not path.endswith("meta.yaml") or seen == [-1]:
            return real(self, path, *args, **kwargs)
        n = len(seen)
        seen.append(n)
        if n == index and not after:
            ran.append(n)
            rename()
        out = real(self, path, *args, **kwargs)
        if n == index and after:
            ran.append(n)
            rename()
        return out

    monkeypatch.setattr(Storage, "write_if_match", write_if_match)
    return ran


@pytest.mark.parametrize(
    ("archive", "point"),
    [
        *((False, ("before", i)) for i in range(3)),
        (False, ("after", 1)),  # the version written, before the call's final reads
        *((True, ("before", i)) for i in range(5)),
        (True, ("after", 3)),
    ],
    ids=lambda v: v if isinstance(v, bool) else f"{v[0]}-{v[1]}",
)
def test_transition_racing_a_rename_is_all_or_nothing(
    archive: bool,
    point: tuple[str, int],
    staged: tuple[Client, Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A whole rename a -> a2 runs just before (or after) one of the transition's
    compare-and-swaps. Before its version write: the transition raises and a2 is as ``a``
    was. After it: the copy took it, so the transition succeeds, returns the version under
    a2, and a2 holds its whole effect (with archiving: versions 2 and 3 archived) — before
    the fix, it raised with its change carried, or succeeded with part of it (or the rename
    never ran: the old code had no confirming swap). A later transition in a2 lands."""
    writer, renamer = staged
    when, index = point
    before = _stages(writer, "a")
    ran = _rename_at_cas(
        monkeypatch, index, when == "after", lambda: renamer.rename_registered_model("a", "a2")
    )
    step = TRANSITION_CAS[archive][index]
    carried = when == "after" or step not in ("seq", "version", "v1")
    outcome: Any
    try:
        outcome = writer.transition_model_version_stage(
            "a", 1, "Production", archive_existing_versions=archive
        )
    except ResourceDoesNotExist as e:
        outcome = e
    monkeypatch.undo()
    assert ran == [index], f"no rename at {point}: the transition made {ran} swaps"
    after = _stages(writer, "a2")
    assert [m.name for m in writer.search_registered_models()] == ["a2"]
    if not carried:
        assert isinstance(outcome, ResourceDoesNotExist), outcome
        assert after == before
    else:
        assert not isinstance(outcome, Exception), f"{outcome!r}; a2 holds {after}"
        assert (outcome.name, str(outcome.version), outcome.current_stage) == (
            "a2",
            "1",
            "Production",
        )
        other = "Archived" if archive else "Production"
        assert after == {"1": "Production", "2": other, "3": other}
    writer.transition_model_version_stage("a2", 1, "Staging", archive_existing_versions=True)
    assert _stages(writer, "a2")["1"] == "Staging"


def test_transition_without_a_rename_costs_no_more_requests(
    staged: tuple[Client, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The confirming bump costs no request overall: the version's swap reuses the version
    read before it, and the reply is made from the version written (HTTP requests counted
    at aiohttp, relative to get_model_version's). Before the fix: 5 more than
    get_model_version (read model, read version, bump, read + swap version, then all of
    get_model_version); now 4 (read model, read version, bump, swap version, read + swap
    the model to confirm, then get_model_version's listings without its two reads), plus
    the audit trail's two: the read of the stage it replaces and the event's create."""
    import aiohttp

    writer, _ = staged
    real = aiohttp.ClientSession._request
    sent: list[str] = []

    async def request(self: Any, method: str, url: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(f"{method} {url}")
        return await real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(aiohttp.ClientSession, "_request", request)
    store = writer.registry_store  # the client adds the same prompt check to both
    store.get_model_version("a", 1)
    reading = len(sent)
    sent.clear()
    assert store.transition_model_version_stage("a", 1, "Staging").current_stage == "Staging"
    assert len(sent) - reading == 4 + 2, sent


def test_rename_recopying_takes_the_model_meta_as_committed(
    clients: tuple[Client, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A transition lands while a rename copies the model, so the rename's commit fails and
    it copies again: the renamed model's meta.yaml must then hold the model's bookkeeping as
    committed (the stage sequence, the version hint), not as read when the rename started.
    Before the fix it kept the first read's: the next transition took a sequence number a
    version already carried, and was silently not applied (the stress test's "stage
    Production, expected None")."""
    writer, renamer = clients
    writer.transition_model_version_stage("a", 1, "Staging")  # the model has a sequence
    storage = renamer.registry_store.storage
    real_walk = storage.walk
    moved: list[str] = []

    def walk(path: str, *args: Any, **kwargs: Any) -> Any:
        out = real_walk(path, *args, **kwargs)
        if path == "models/a" and not moved:
            moved.append("Archived")  # another process, while the rename copies
            writer.transition_model_version_stage("a", 1, "Archived")
        return out

    monkeypatch.setattr(storage, "walk", walk)
    renamer.rename_registered_model("a", "a2")
    monkeypatch.undo()
    assert moved
    assert writer.get_model_version("a2", 1).current_stage == "Archived"
    mv = writer.transition_model_version_stage("a2", 1, "Production")
    assert mv.current_stage == "Production"
    assert writer.get_model_version("a2", 1).current_stage == "Production"


def _renames_at_swaps(
    monkeypatch: pytest.MonkeyPatch, triggers: list[tuple[str, int, Callable[[], None]]]
) -> list[str]:
    """Run each trigger's renames once, in order, just before the writer's compare-and-swap
    number ``n`` (1-based) of the meta.yaml ``path``; the renames' own swaps do not count."""
    from fsregistry.storage.base import Storage

    real = Storage.write_if_match
    counts: dict[str, int] = {}
    busy: list[bool] = []
    ran: list[str] = []

    def write_if_match(self: Storage, path: str, *args: Any, **kwargs: Any) -> Any:
        if not busy and len(ran) < len(triggers):
            counts[path] = counts.get(path, 0) + 1
            target, n, rename = triggers[len(ran)]
            if path.endswith(target) and counts[path] == n:
                ran.append(target)
                busy.append(True)
                try:
                    rename()
                finally:
                    busy.clear()
        return real(self, path, *args, **kwargs)

    monkeypatch.setattr(Storage, "write_if_match", write_if_match)
    return ran


def _hop(renamer: Client, names: list[str]) -> Callable[[], None]:
    """Rename the model along ``names`` (from the first to the last)."""

    def run() -> None:
        for old, new in itertools.pairwise(names):
            renamer.rename_registered_model(old, new)

    return run


@pytest.mark.parametrize(
    "triggers",
    [
        # a -> a2 carries the paused transition; while it completes in a2, a2 -> a -> a2
        # carries it on: the model at a2 is then another one than the completion tried.
        [("models/a/meta.yaml", 2, ["a", "a2"]), ("models/a2/meta.yaml", 1, ["a2", "a", "a2"])],
        # More renames away from ``a`` than a name keeps receipts of: the receipt of the
        # rename that carried it first (the only one holding its bytes) is gone.
        [("models/a/meta.yaml", 2, ["a", *(["a2", "a"] * (MAX_KEPT + 2)), "a2"])],
    ],
    ids=["carried-on-while-completing", "more-than-kept"],
)
def test_transition_carried_on_by_further_renames_succeeds(
    triggers: list[tuple[str, int, list[str]]],
    staged: tuple[Client, Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A transition paused before its confirming swap (its version written) is carried away
    by a rename, and then on by more: it finds itself by the identity its version write
    stamped (which every copy keeps, unlike its bytes: each rename rewrites the version's
    name), completes where the model is and returns the version there. Before the fix:
    RESOURCE_DOES_NOT_EXIST with the change carried (the stress test's known transition)."""
    writer, renamer = staged
    ran = _renames_at_swaps(
        monkeypatch, [(path, n, _hop(renamer, names)) for path, n, names in triggers]
    )
    mv = writer.transition_model_version_stage("a", 1, "Staging")
    monkeypatch.undo()
    assert len(ran) == len(triggers), ran
    assert (mv.name, str(mv.version), mv.current_stage) == ("a2", "1", "Staging")
    assert [m.name for m in writer.search_registered_models()] == ["a2"]
    assert _stages(writer, "a2") == {"1": "Staging", "2": "Production", "3": "Production"}
    writer.transition_model_version_stage("a2", 1, "Archived")
    assert _stages(writer, "a2")["1"] == "Archived"


_KEY_WRITES = [
    "set_registered_model_tag",
    "delete_registered_model_tag",
    "set_model_version_tag",
    "delete_model_version_tag",
    "set_registered_model_alias",
    "delete_registered_model_alias",
]


def _files_at(store_fs: tuple[Any, str], name: str) -> list[str]:
    fs, root = store_fs
    base = f"{root}/models/{name}"
    return sorted(p[len(base) + 1 :] for p in fs.find(base) if "/." not in p)


@pytest.mark.parametrize("op", _KEY_WRITES)
def test_key_write_carried_across_more_renames_than_kept_succeeds(
    op: str,
    clients: tuple[Client, Client],
    store_url: str,
    store_fs: tuple[Any, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A tag or alias write paused before its bump across more renames away from ``a`` than
    a name keeps receipts of: the receipt of the model it read is gone, so it follows its
    model's lineage (``origin``, which every rename hands on) to where the model is now,
    finds its change there and succeeds, leaving nothing at ``a``. Before the fix:
    RESOURCE_DOES_NOT_EXIST with its change carried."""
    writer, renamer = clients
    expected = _expected(op, writer, store_url)
    write, read = WRITES[op]
    ran = _renames_before_bump(monkeypatch, _hop(renamer, ["a", *_MANY]))
    write(writer, "a")
    monkeypatch.undo()
    assert ran == ["a"]
    assert read(writer, "a2") == expected
    assert _files_at(store_fs, "a") == ["meta.yaml"]  # the tombstone only


@pytest.mark.parametrize("op", ["set_registered_model_tag", "set_registered_model_alias"])
def test_key_write_not_carried_across_more_renames_than_kept_raises(
    op: str,
    clients: tuple[Client, Client],
    store_fs: tuple[Any, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same renames run after the write read the model and before it wrote its file, so
    no copy took it: it still raises, and nothing of it is anywhere."""
    writer, renamer = clients
    write, read = WRITES[op]
    before = read(writer, "a")
    ran = _renames_after_read(monkeypatch, _hop(renamer, ["a", *_MANY]))
    with pytest.raises(ResourceDoesNotExist):
        write(writer, "a")
    monkeypatch.undo()
    assert ran == ["a"]
    assert read(writer, "a2") == before
    assert _files_at(store_fs, "a") == ["meta.yaml"]


# Another model takes the name while a key write is paused, and another caller sets the same
# key on it (acknowledged): how to set it there, and how to read it back.
_RETAKEN: dict[str, tuple[Callable[[Client, str], Any], Callable[[Client], Any]]] = {
    "set_registered_model_tag": (
        lambda c, v: c.set_registered_model_tag("a", "k", v),
        lambda c: c.get_registered_model("a").tags,
    ),
    "set_registered_model_alias": (
        lambda c, v: c.set_registered_model_alias("a", "new", int(v)),
        lambda c: c.get_registered_model("a").aliases,
    ),
}


def _retake(renamer: Client, op: str, value: str | None, delete: bool = True) -> None:
    """Delete ``a`` (if ``delete``), create another model ``a`` (one version), and set
    ``op``'s key on it to ``value`` (None: leave it unset)."""
    if delete:
        renamer.delete_registered_model("a")
    renamer.create_registered_model("a")
    renamer.create_model_version("a", "/src/other")
    if value is not None:
        _RETAKEN[op][0](renamer, value)


@pytest.mark.parametrize("op", sorted(_RETAKEN))
def test_key_write_undo_spares_another_models_key(
    op: str, clients: tuple[Client, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the write is paused before its bump, its model is deleted, another model is
    created at the name and another caller sets the same key there to another value (its
    call returned). The write's bump finds another model: it raises, and must leave the
    other caller's key alone. Before the fix its undo deleted the file at the name (the
    other model's acknowledged key: a lost write)."""
    writer, renamer = clients
    real = WRITES[op][0]
    mine = "2" if op == "set_registered_model_alias" else "v"  # the key's value, the write's
    writer.create_model_version("a", "/src/2")
    ran = _renames_before_bump(monkeypatch, lambda: _retake(renamer, op, "1"))
    with pytest.raises(ResourceDoesNotExist):
        if op == "set_registered_model_alias":
            writer.set_registered_model_alias("a", "new", int(mine))
        else:
            real(writer, "a")
    monkeypatch.undo()
    assert ran == ["a"]
    expected = {"new": "1"} if op == "set_registered_model_alias" else {"k": "1"}
    assert _RETAKEN[op][1](writer) == expected


@pytest.mark.parametrize("value", ["mine", "other", None])
def test_key_write_undo_after_the_name_is_retaken(
    value: str | None, clients: tuple[Client, Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write's model is deleted while it is paused before its bump; its bump fails and it
    finds no model at the name; only then (before its undo) is another model created at the
    name, and another caller sets the same key there: to the write's value, to another, or
    not at all. The other caller's key must survive; the write's stray file must not show
    in the new model. Before the fix the undo deleted the file the other caller set."""
    writer, renamer = clients
    _renames_before_bump(monkeypatch, lambda: renamer.delete_registered_model("a"))
    real_holds = Edits._holds
    retaken: list[str] = []

    def holds(self: Edits, name: str, *args: Any, **kwargs: Any) -> bool:
        out = real_holds(self, name, *args, **kwargs)
        if not retaken:
            retaken.append(name)
            value_set = {"mine": "v"}.get(str(value), value)
            _retake(renamer, "set_registered_model_tag", value_set, delete=False)
        return out

    monkeypatch.setattr(Edits, "_holds", holds)
    outcome: Any = None
    try:
        writer.set_registered_model_tag("a", "k", "v")
    except ResourceDoesNotExist as e:
        outcome = e
    monkeypatch.undo()
    assert retaken == ["a"]
    tags = writer.get_registered_model("a").tags
    if value is None:  # nobody set it on the new model: the write's stray file is gone
        assert outcome is not None and tags == {}, (outcome, tags)
    elif value == "other":
        assert outcome is not None and tags == {"k": "other"}, (outcome, tags)
    else:  # the same value, in the model at the name: the write counts as a write to it
        assert outcome is None and tags == {"k": "v"}, (outcome, tags)
