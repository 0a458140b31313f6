"""Registry writes racing a rename are all-or-nothing, and searches never crash: local disk,
S3 and GCS.

One spawned process renames two models back and forth (``a`` <-> ``a2``, ``b`` <-> ``b2``)
while the others make a fixed number of mixed calls on them (create_model_version, aliases,
version deletes, tags, stage transitions, searches), each recording every outcome: the
result, or the exception's type and error code. Afterwards the store's files (read directly,
not through fsregistry) must hold exactly what the successful calls did and nothing of the
failed ones:

* a version whose ``create_model_version`` returned exists once, under its number, in the
  model it was created in (whatever that model is called now), deleted only if a delete of
  it succeeded; a create that raised left no version (each create's ``source`` is unique);
* a version delete that raised changed nothing; alias and tag files, and each version's
  stage, are what the successful calls left, in call order;
* no call raised anything but an ``MlflowException``; no search raised at all;
* no directory under ``models/`` lacks its meta.yaml (no half-made model or version).

A call that raised RESOURCE_DOES_NOT_EXIST while its change was carried into the renamed
model (on object stores: the rename copied the change before the call's final
compare-and-swap found the model renamed away) is counted apart, as "ambiguous", and fails
the test like any other disagreement on every backend: such a call looks the rename's
receipt up and succeeds (:mod:`fsregistry.registry.receipts`). The tests after the stress
test, and tests/test_registry_rename_receipts.py, force single interleavings.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml

from fsregistry import Client
from fsregistry.maintenance.diagnosis import diagnose
from fsregistry.registry.claims import Claims

WORKERS = 5  # plus the renamer: six processes
CALLS = 30  # per worker on local disk
# Per worker on object stores, where a rename copies every file of the model, and the
# model's size (every version, tag and alias is a file) sets how long a rename takes.
OBJECT_STORE_CALLS = 20
MAX_RENAMES = 400  # the renamer stops when the workers are done, or after this many
# Object stores: a worker waits up to this long between calls, or the rename, which copies
# the model and commits only if nothing changed it meanwhile, would never get through.
PAUSE = 0.6
# Object stores: a worker stalls up to this long (every other write) between its write's file
# and its final compare-and-swap of the model, so that whole renames land in between and
# carry the change away: the window tests/test_registry_rename_receipts.py forces one at a
# time.
STALL = 0.5
FAMILIES = {"a": ("a", "a2"), "b": ("b", "b2")}
# Transitions (without archive_existing_versions: only a version's creator moves it, so each
# version's stage is its creator's last successful transition).
STAGES = ["Staging", "Production", "Archived", "None"]


@dataclass(frozen=True)
class Outcome:
    """One call as its caller saw it."""

    worker: int
    call: int
    op: str
    family: str
    name: str
    args: tuple[Any, ...]
    ok: bool
    result: Any = None
    error_type: str | None = None
    error_code: str | None = None
    message: str = ""
    mlflow_error: bool = False
    seconds: float = 0.0
    started: float = 0.0  # wall clock, to line calls up with the renames


def _call(fn: Any, worker: int, call: int, op: str, family: str, name: str, *args: Any) -> Outcome:
    from fsregistry.exceptions import MlflowException

    t0 = time.perf_counter()
    started = time.time()
    try:
        result = fn(name, *args)
    except Exception as e:  # recorded and judged by the parent
        return Outcome(
            worker,
            call,
            op,
            family,
            name,
            args,
            ok=False,
            error_type=type(e).__name__,
            error_code=getattr(e, "error_code", None),
            message=str(e)[:300] if isinstance(e, MlflowException) else _where(e),
            mlflow_error=isinstance(e, MlflowException),
            seconds=time.perf_counter() - t0,
            started=started,
        )
    seconds = time.perf_counter() - t0
    return Outcome(
        worker, call, op, family, name, args, True, result, seconds=seconds, started=started
    )


def _where(e: BaseException) -> str:
    """An unexpected exception with the frames it came from, for the failure report."""
    frames = traceback.extract_tb(e.__traceback__)[-4:]
    return f"{e} at " + " <- ".join(
        f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno} {f.name}" for f in reversed(frames)
    )


def _renamer(url: str, worker: int, release: Any, out: Any, done: Any) -> None:
    client = Client(tracking_uri=url)
    current = {family: names[0] for family, names in FAMILIES.items()}
    outcomes: list[Outcome] = []
    release.wait()
    count = 0
    while not done.is_set() and count < MAX_RENAMES:
        family = "ab"[count % 2]
        old = current[family]
        new = FAMILIES[family][1] if old == FAMILIES[family][0] else FAMILIES[family][0]
        o = _call(
            lambda n, new: client.rename_registered_model(n, new).name,
            worker,
            count,
            "rename",
            family,
            old,
            new,
        )
        outcomes.append(o)
        if o.ok:
            current[family] = new
        count += 1
    out.put((worker, outcomes))


def _worker(
    url: str, worker: int, release: Any, out: Any, done: Any, calls: int, pause: float
) -> None:
    client = Client(tracking_uri=url)
    rng = random.Random(worker)
    # The name each family last answered to, as this worker saw it.
    guess = {family: names[0] for family, names in FAMILIES.items()}
    mine: dict[str, list[int]] = {"a": [], "b": []}  # live versions this worker created
    outcomes: list[Outcome] = []
    if pause:  # object stores
        _stall_bumps(random.Random(-worker))
    release.wait()
    for call in range(calls):
        time.sleep(rng.uniform(0, pause))
        family = rng.choice("ab")
        name = guess[family]
        roll = rng.random()
        versions = mine[family]
        if roll < 0.40 or not versions:
            source = f"/sources/w{worker}/c{call}"
            o = _call(
                lambda n, s: int(client.create_model_version(n, s).version),
                worker,
                call,
                "create",
                family,
                name,
                source,
            )
            if o.ok:
                versions.append(o.result)
        elif roll < 0.50:
            o = _call(
                client.set_registered_model_alias,
                worker,
                call,
                "set_alias",
                family,
                name,
                f"al{worker}",
                rng.choice(versions),
            )
        elif roll < 0.55:
            o = _call(
                client.delete_registered_model_alias,
                worker,
                call,
                "delete_alias",
                family,
                name,
                f"al{worker}",
            )
        elif roll < 0.65:
            v = rng.choice(versions)
            o = _call(client.delete_model_version, worker, call, "delete_version", family, name, v)
            if o.ok:
                versions.remove(v)
        elif roll < 0.72:
            o = _call(
                client.set_model_version_tag,
                worker,
                call,
                "version_tag",
                family,
                name,
                rng.choice(versions),
                f"t{worker}_{call}",
                "x",
            )
        elif roll < 0.80:
            o = _call(
                client.set_registered_model_tag,
                worker,
                call,
                "model_tag",
                family,
                name,
                f"t{worker}_{call}",
                "x",
            )
        elif roll < 0.86:
            o = _call(
                lambda n, v, stage: client.transition_model_version_stage(n, v, stage).version,
                worker,
                call,
                "transition",
                family,
                name,
                rng.choice(versions),
                rng.choice(STAGES),
            )
        elif roll < 0.92:
            o = _call(
                lambda n: len(client.search_model_versions(max_results=10_000)),
                worker,
                call,
                "search_versions",
                family,
                name,
            )
        else:
            o = _call(
                lambda n: len(client.search_registered_models()),
                worker,
                call,
                "search_models",
                family,
                name,
            )
        outcomes.append(o)
        if (
            not o.ok
            and o.error_code == "RESOURCE_DOES_NOT_EXIST"
            and "Registered Model" in (o.message)
        ):
            a, b = FAMILIES[family]
            guess[family] = b if name == a else a  # renamed away: try the other name
    out.put((worker, outcomes))


def _stall_bumps(rng: random.Random) -> None:
    """In this (spawned worker) process, stall every other write before its final bump."""
    from fsregistry.registry.edits import Edits

    real = Edits.touch

    def touch(self: Edits, *args: Any, **kwargs: Any) -> Any:
        if rng.random() < 0.5:
            time.sleep(rng.uniform(0, STALL))
        return real(self, *args, **kwargs)

    Edits.touch = touch  # type: ignore[method-assign]


def _run(url: str, calls: int, pause: float) -> list[Outcome]:
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    done = ctx.Event()
    release = ctx.Barrier(WORKERS + 2)
    procs = [ctx.Process(target=_renamer, args=(url, 0, release, queue, done))]
    procs += [
        ctx.Process(target=_worker, args=(url, w, release, queue, done, calls, pause))
        for w in range(1, WORKERS + 1)
    ]
    for p in procs:
        p.start()
    outcomes: list[Outcome] = []
    try:
        release.wait(timeout=120)
        finished = 0
        for _ in procs:
            worker, got = queue.get(timeout=300)
            outcomes.extend(got)
            if worker != 0:
                finished += 1
                if finished == WORKERS:
                    done.set()
    finally:
        done.set()
        for p in procs:
            p.join(timeout=60)
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    return outcomes


# -- the store's files, read directly -----------------------------------------------------
@dataclass
class StoredModel:
    meta: dict[str, Any]
    tags: set[str] = field(default_factory=set)
    aliases: dict[str, int] = field(default_factory=dict)
    versions: dict[int, dict[str, Any]] = field(default_factory=dict)
    version_tags: dict[int, set[str]] = field(default_factory=dict)


def _read_store(fs: Any, root: str, local: bool) -> tuple[dict[str, StoredModel], list[str]]:
    """Visible models by name, and the problems found: leftover rename markers, files
    outside any model, tags of versions that do not exist, directories without meta.yaml."""
    base = f"{root}/models"
    paths = [p for p in fs.find(base) if "/." not in p]  # not lock or temp files
    problems: list[str] = []
    models: dict[str, StoredModel] = {}
    rels = [p[len(base) + 1 :].split("/") for p in paths]
    for parts in rels:
        if parts[1:] == ["meta.yaml"]:
            meta = yaml.safe_load(fs.cat_file(f"{base}/{parts[0]}/meta.yaml"))
            fsreg = meta.get("fsregistry") or {}
            if fsreg.get("rename_from"):
                problems.append(f"rename marker left in {parts[0]}: {fsreg}")
            elif not fsreg.get("renamed_to"):  # a tombstone (object stores) is no model
                models[parts[0]] = StoredModel(meta)
    for parts in rels:
        model = models.get(parts[0])
        if model is None:
            if parts[1:] != ["meta.yaml"]:
                problems.append(f"models/{'/'.join(parts)} outside any model")
            continue
        head = parts[1]
        if head == "tags":
            model.tags.add("/".join(parts[2:]))
        elif head == "aliases":
            text = fs.cat_file(f"{base}/{'/'.join(parts)}").decode().strip()
            model.aliases["/".join(parts[2:])] = int(text)
        elif head.startswith("version-"):
            number = int(head.removeprefix("version-"))
            if parts[2:] == ["meta.yaml"]:
                model.versions[number] = yaml.safe_load(fs.cat_file(f"{base}/{'/'.join(parts)}"))
            elif parts[2] == "tags":
                model.version_tags.setdefault(number, set()).add("/".join(parts[3:]))
    for name, model in models.items():
        for number in model.version_tags.keys() - model.versions.keys():
            problems.append(f"version-{number} of {name} has tags but no meta.yaml")
    if local:  # only there can a directory exist without files
        for d in fs.find(base, withdirs=True, detail=True).values():
            rel = d["name"][len(base) + 1 :]
            parts = rel.split("/")
            is_model = len(parts) == 1 and rel != ""
            is_version = len(parts) == 2 and parts[1].startswith("version-")
            hollow = not fs.exists(f"{d['name']}/meta.yaml")
            if d["type"] == "directory" and (is_model or is_version) and hollow:
                problems.append(f"directory models/{rel} without meta.yaml")
    return models, problems


def _family_of(name: str) -> str:
    return next(f for f, names in FAMILIES.items() if name in names)


@dataclass
class Verdict:
    """How the store disagrees with what the calls reported. ``carried``: calls that raised
    RESOURCE_DOES_NOT_EXIST (the model renamed away under them) although their change is in
    the renamed model (the "ambiguous" calls; none may be left); ``failures``: everything
    else."""

    failures: list[str] = field(default_factory=list)
    carried: list[str] = field(default_factory=list)


def _uncertain(o: Outcome) -> bool:
    """A call that raised because its model was gone when it checked, which on an object
    store does not prove its change was not carried into the renamed model."""
    return not o.ok and o.error_code == "RESOURCE_DOES_NOT_EXIST"


def _check(outcomes: list[Outcome], models: dict[str, StoredModel]) -> Verdict:
    """Compare the store's files with what every call reported (see the module docstring)."""
    verdict = Verdict()
    failures = verdict.failures
    for o in outcomes:
        if not o.ok and not o.mlflow_error:
            failures.append(f"raw {o.error_type} from {o.op}({o.name}, {o.args}): {o.message}")
        elif not o.ok and o.op.startswith("search"):
            failures.append(f"{o.op} raised {o.error_type} {o.error_code}: {o.message}")
    by_family: dict[str, list[StoredModel]] = {f: [] for f in FAMILIES}
    for name, model in models.items():
        by_family[_family_of(name)].append(model)
    for family, found in by_family.items():
        if len(found) != 1:
            failures.append(f"family {family}: {len(found)} visible models")
    family_model = {f: found[0] for f, found in by_family.items() if len(found) == 1}

    # Where each source's versions are: (family, number, deleted).
    stored: dict[str, list[tuple[str, int, bool]]] = {}
    for family, model in family_model.items():
        for number, meta in model.versions.items():
            deleted = meta.get("current_stage") == "Deleted_Internal"
            stored.setdefault(str(meta["source"]), []).append((family, number, deleted))

    ordered = sorted(outcomes, key=lambda o: (o.worker, o.call))
    deletes = {
        (o.worker, o.family, o.args[0]): o for o in ordered if o.op == "delete_version" and o.ok
    }
    maybe_deletes = {
        (o.worker, o.family, o.args[0]): o
        for o in ordered
        if o.op == "delete_version" and _uncertain(o)
    }
    for o in ordered:
        if o.op != "create":
            continue
        source = o.args[0]
        where = stored.get(source, [])
        what = f"create_model_version({o.name}, {source})"
        if not o.ok:
            if len(where) == 1 and where[0][0] == o.family and _uncertain(o):
                verdict.carried.append(
                    f"{what} raised {o.error_code} but created {where} ({o.seconds:.2f} s; "
                    f"renames during the call: {_renames_during(o, ordered)})"
                )
            elif where:
                failures.append(f"{what} raised {o.error_type} {o.error_code} but created {where}")
            continue
        key = (o.worker, o.family, o.result)
        if where == [(o.family, o.result, key in deletes)]:
            continue
        if where == [(o.family, o.result, True)] and key in maybe_deletes:
            verdict.carried.append(f"delete of {what} -> {o.result} raised but deleted it")
            continue
        model = family_model.get(o.family)
        there = model.versions.get(o.result, {}).get("source") if model else None
        failures.append(
            f"{what} returned {o.result}; stored: {where}, deleted by a delete that returned: "
            f"{key in deletes}; version {o.result} holds {there}; renames during the call: "
            f"{_renames_during(o, ordered)}"
        )

    # Aliases: replay each worker's own alias per family (only it sets or deletes it, and
    # only its version deletes remove it); ``possible`` also lets uncertain calls apply.
    for worker in {o.worker for o in ordered if o.worker != 0}:
        for family in FAMILIES:
            alias: int | None = None
            possible: set[int | None] = {None}
            for o in ordered:
                if o.worker != worker or o.family != family or not (o.ok or _uncertain(o)):
                    continue
                after = {_alias_after(o, value) for value in possible}
                possible = after if o.ok else possible | after
                if o.ok:
                    alias = _alias_after(o, alias)
            model = family_model.get(family)
            if model is None:
                continue
            got = model.aliases.get(f"al{worker}")
            if got != alias:
                line = f"alias al{worker} of {family}: {got}, expected {alias}"
                (verdict.carried if got in possible else failures).append(line)

    # Stages: replay each worker's transitions of each of its versions, in call order.
    staged: dict[tuple[str, int], tuple[str, set[str]]] = {}
    raised: dict[tuple[str, int], list[str]] = {}
    for o in ordered:
        if o.op != "transition" or not (o.ok or _uncertain(o)):
            continue
        key = (o.family, int(o.args[0]))
        stage, possible = staged.get(key, ("None", {"None"}))
        staged[key] = (o.args[1], {o.args[1]}) if o.ok else (stage, possible | {o.args[1]})
        if not o.ok:
            raised.setdefault(key, []).append(f"{o.name} -> {o.args[1]}: {o.message}")
    for (family, number), (stage, possible) in staged.items():
        model = family_model.get(family)
        meta = model.versions.get(number) if model else None
        got = meta.get("current_stage") if meta else None
        if got in (None, "Deleted_Internal") or got == stage:
            continue
        line = (
            f"version {number} of {family}: stage {got}, expected {stage}; raised: "
            f"{raised.get((family, number))}"
        )
        (verdict.carried if got in possible else failures).append(line)

    for o in ordered:
        model = family_model.get(o.family)
        if model is None:
            continue
        if o.op == "model_tag":
            present = o.args[0] in model.tags
        elif o.op == "version_tag":
            present = o.args[1] in model.version_tags.get(o.args[0], set())
        else:
            continue
        line = f"{o.op} {o.args} present={present} but call ok={o.ok} ({o.error_code})"
        if present and _uncertain(o):
            verdict.carried.append(line)
        elif present != o.ok:
            failures.append(line)
    return verdict


def _alias_after(o: Outcome, alias: int | None) -> int | None:
    """The worker's alias after the call ``o`` took effect."""
    if o.op == "set_alias":
        return int(o.args[1])
    if o.op == "delete_alias" or (o.op == "delete_version" and alias == o.args[0]):
        return None
    return alias


def _renames_during(call: Outcome, outcomes: list[Outcome]) -> list[str]:
    """The renames of the call's model that overlapped it (what the renamer reported)."""
    end = call.started + call.seconds
    return [
        f"{o.name}->{o.args[0]} {'ok' if o.ok else o.error_code}"
        for o in outcomes
        if o.op == "rename"
        and o.family == call.family
        and o.started < end
        and o.started + o.seconds > call.started
    ]


def _summary(outcomes: list[Outcome]) -> str:
    kinds = Counter((o.op, "ok" if o.ok else f"{o.error_type}:{o.error_code}") for o in outcomes)
    slowest = max((o.seconds, o.op) for o in outcomes)
    calls = [o.seconds for o in outcomes if o.op != "rename"]
    return (
        ", ".join(f"{op} {what} x{n}" for (op, what), n in sorted(kinds.items()))
        + f"; calls: mean {sum(calls) / len(calls):.3f} s, slowest {slowest[0]:.2f} s "
        + f"({slowest[1]})"
    )


@pytest.mark.slow
def test_writes_racing_renames_are_all_or_nothing(
    store_url: str, store_fs: tuple[Any, str], backend: str
) -> None:
    client = Client(tracking_uri=store_url)
    for family in FAMILIES:
        client.create_registered_model(family)
        client.create_model_version(family, f"/sources/init-{family}")
    t0 = time.perf_counter()
    local = backend == "local"
    outcomes = _run(store_url, *((CALLS, 0.0) if local else (OBJECT_STORE_CALLS, PAUSE)))
    wall = time.perf_counter() - t0
    fs, root = store_fs
    models, problems = _read_store(fs, root, local)
    verdict = _check(outcomes, models)
    # Local disk: a write holds its model directory, so nothing is carried by a rename;
    # object stores: a write whose change a rename carried finds it in the rename's receipt
    # (a version's writes in any receipt the name keeps, by the claim's nonce or the edit's
    # identity).
    failures = problems + verdict.failures + verdict.carried
    renames = sum(1 for o in outcomes if o.op == "rename" and o.ok)
    print(
        f"\n[rename races {backend}] {wall:.1f} s, {renames} renames; {_summary(outcomes)}; "
        f"ambiguous (raised, but a rename carried the change): {len(verdict.carried)} "
        f"{verdict.carried}; other failures: {len(verdict.failures) + len(problems)}"
    )
    assert renames > 0
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:40])


# -- one interleaving at a time -----------------------------------------------------------
def _in_thread(fn: Any, name: str) -> tuple[threading.Thread, list[tuple[str, Any]]]:
    """Run ``fn`` in a thread named ``name``; its outcome lands in the list: ("ok", result)
    or ("err", exception)."""
    box: list[tuple[str, Any]] = []

    def run() -> None:
        try:
            box.append(("ok", fn()))
        except Exception as e:  # the test looks at it
            box.append(("err", e))

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread, box


def _pause_claims_in(
    thread_name: str, monkeypatch: pytest.MonkeyPatch, before: Any = None
) -> tuple[threading.Event, threading.Event]:
    """Make the registration running in the thread ``thread_name`` stop right after it has
    created its version (before it bumps the model), until ``go`` is set; ``before`` is
    waited for before the version is created. Returns (claimed, go)."""
    claimed, go = threading.Event(), threading.Event()
    real = Claims._claim_version

    def paused(self: Claims, *args: Any, **kwargs: Any) -> Any:
        if threading.current_thread().name != thread_name:
            return real(self, *args, **kwargs)
        if before is not None:
            assert before.wait(60)
        out = real(self, *args, **kwargs)
        claimed.set()
        assert go.wait(60)
        return out

    monkeypatch.setattr(Claims, "_claim_version", paused)
    return claimed, go


def test_rename_waits_for_a_registration_under_way_on_local_disk(
    store_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Local disk: a registration holds its model directory from its first read to its
    last write, so a rename started meanwhile waits, and then carries the new version."""
    if backend != "local":
        pytest.skip("object stores rename by copy and compare-and-swap: see the next test")
    client = Client(tracking_uri=store_url)
    client.create_registered_model("a")
    claimed, go = _pause_claims_in("registering", monkeypatch)
    registering, registered = _in_thread(
        lambda: client.create_model_version("a", "/src/1"), "registering"
    )
    assert claimed.wait(60)
    renaming, renamed = _in_thread(
        lambda: client.rename_registered_model("a", "a2").name, "renaming"
    )
    # Time for the rename to reach the model: before the fix it finished here, and the
    # registration then failed with the version already moved to a2.
    time.sleep(0.5)
    go.set()
    registering.join(60)
    renaming.join(60)
    assert [(s, getattr(v, "version", v)) for s, v in registered] == [("ok", 1)]
    assert renamed == [("ok", "a2")]
    found = [(mv.name, mv.version, mv.source) for mv in client.search_model_versions()]
    assert found == [("a2", 1, "/src/1")]
    # The lock files stay in the model directory, where doctor does not call them orphans
    # (seen an hour later, when they would not count as a live writer's any more).
    later = diagnose(client.registry_store.storage, now=time.time() + 3600)
    assert [(f.kind, f.path) for f in later] == []


def test_registration_across_a_rename_away_and_back_is_all_or_nothing(
    store_url: str, backend: str, store_fs: tuple[Any, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Object stores: a registration creates its version just after a rename listed the
    model, so the rename does not carry it, and deletes it with the old files; the model is
    renamed back, and another registration takes the same number. The first registration's
    bump then finds a visible model ``a`` again, but another one: it must fail, and leave
    the other version alone (before the fix it returned the other version's number)."""
    if backend == "local":
        pytest.skip("local disk: a rename waits for the registration (the test above)")
    client = Client(tracking_uri=store_url)
    client.create_registered_model("a")
    client.create_model_version("a", "/src/first")
    storage = client.registry_store.storage
    listed = threading.Event()
    claimed, go = _pause_claims_in("late", monkeypatch, before=listed)
    real_walk = storage.walk

    def walk(path: str, *args: Any, **kwargs: Any) -> Any:
        out = real_walk(path, *args, **kwargs)
        if path == "models/a" and not listed.is_set():
            listed.set()  # the rename has listed what it copies: now the late claim
            assert claimed.wait(60)
        return out

    monkeypatch.setattr(storage, "walk", walk)
    late, outcome = _in_thread(lambda: client.create_model_version("a", "/src/late"), "late")
    client.rename_registered_model("a", "a2")
    monkeypatch.setattr(storage, "walk", real_walk)
    client.rename_registered_model("a2", "a")
    other = client.create_model_version("a", "/src/other")
    go.set()
    late.join(60)
    [(status, value)] = outcome
    stored = {mv.source: mv.version for mv in client.search_model_versions("name='a'")}
    assert stored.get("/src/other") == other.version  # untouched by the late one's undo
    if status == "ok":
        assert stored.get("/src/late") == value.version, (value.version, stored)
    else:
        assert getattr(value, "error_code", None) == "RESOURCE_DOES_NOT_EXIST", value
        fs, root = store_fs
        metas = [fs.cat_file(p) for p in fs.find(f"{root}/models") if p.endswith("meta.yaml")]
        assert not [m for m in metas if b"/src/late" in m]  # nothing of it anywhere


def test_search_while_a_model_is_renamed_mid_walk_does_not_crash(
    store_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Local disk: a search walks models/ one directory at a time, so a model renamed by
    another process while it walks has entries listed that are gone when looked at; they
    are absent, not an error (before the fix: a raw FileNotFoundError from the stat)."""
    if backend != "local":
        pytest.skip("object stores list a prefix in one request")
    from fsregistry.storage import local

    client = Client(tracking_uri=store_url)
    client.create_registered_model("a")
    client.create_model_version("a", "/src/1")
    real_walk_tree = local.walk_tree
    moved = []

    def walk_tree(base: str, prune: Any = None) -> Any:
        for child, entry, is_dir in real_walk_tree(base, prune):
            if not moved and child.startswith("a/") and not is_dir:
                moved.append(child)  # another process renames the model right now
                os.rename(
                    os.path.join(store_url, "models", "a"), os.path.join(store_url, "models", "b")
                )
            yield child, entry, is_dir

    monkeypatch.setattr(local, "walk_tree", walk_tree)
    client.search_model_versions()
    client.search_registered_models()
    assert moved
    monkeypatch.setattr(local, "walk_tree", real_walk_tree)
    assert [m.name for m in client.search_registered_models()] == ["b"]


def test_rename_copying_a_model_while_an_alias_is_deleted(
    store_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Object stores: an alias deleted after the rename listed the model is gone when the
    rename copies it; the deleter bumped the model, so the rename copies again (before the
    fix: a raw FileNotFoundError from the rename)."""
    if backend == "local":
        pytest.skip("local disk renames with rename(2), copying nothing")
    client = Client(tracking_uri=store_url)
    client.create_registered_model("a")
    client.create_model_version("a", "/src/1")
    client.set_registered_model_alias("a", "champion", 1)
    storage = client.registry_store.storage
    real_walk = storage.walk

    deleted: list[str] = []

    def walk(path: str, *args: Any, **kwargs: Any) -> Any:
        out = real_walk(path, *args, **kwargs)
        if path == "models/a" and not deleted and any(f.path.startswith("aliases/") for f in out):
            deleted.append("champion")
            client.delete_registered_model_alias("a", "champion")  # another process, now
        return out

    monkeypatch.setattr(storage, "walk", walk)
    assert client.rename_registered_model("a", "a2").name == "a2"
    monkeypatch.setattr(storage, "walk", real_walk)
    assert deleted
    assert client.get_registered_model("a2").aliases == {}
    assert [mv.source for mv in client.search_model_versions()] == ["/src/1"]
