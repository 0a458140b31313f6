"""``fsreg doctor`` and ``fsreg gc``: the real console script against local disk, S3 and GCS.

Broken trees are made by writing files directly with fsspec, as a crash, a hand edit or an
older tool would leave them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from fsspec.implementations.local import LocalFileSystem

from fsregistry import Client
from fsregistry.exceptions import FsRegistryException
from fsregistry.maintenance import diagnose, execute_gc, plan_gc, repair
from fsregistry.mlruns.metafile import dump_meta, load_meta
from fsregistry.storage import open_storage

FSREG = shutil.which("fsreg", path=os.path.dirname(sys.executable)) or "fsreg"
DAY_MS = 24 * 3600 * 1000


def fsreg(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [FSREG, *args], capture_output=True, text=True, timeout=120, env=os.environ.copy()
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"fsreg {' '.join(args)} -> {proc.returncode}\n{proc.stderr}")
    return proc


def fsreg_json(*args: str, code: int = 0) -> Any:
    proc = fsreg(*args, "--json", check=False)
    assert proc.returncode == code, proc.stderr
    return json.loads(proc.stdout)


def snapshot(fs: Any, root: str) -> dict[str, bytes]:
    """Every file under the store (on local disk, hidden lock files too) and its bytes."""
    base = fs._strip_protocol(root).rstrip("/") + "/"
    return {p[len(base) :]: fs.cat_file(p) for p in fs.find(root)}


def put(fs: Any, path: str, data: bytes) -> None:
    """Write a file as a crash or a hand edit would (local disk: parents made first)."""
    if isinstance(fs, LocalFileSystem):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    fs.pipe_file(path, data)


def age(path: Path, seconds: float) -> None:
    """Make a local file or directory look untouched for ``seconds``."""
    old = time.time() - seconds
    os.utime(path, (old, old))


def populate(url: str) -> dict[str, Any]:
    """A healthy store: experiments, finished runs with data and artifacts, a registered
    model with a version and an alias, a deleted run and a deleted experiment."""
    client = Client(tracking_uri=url)
    exp = client.create_experiment("health", tags={"team": "ml"})
    runs = []
    for i in range(3):
        rid = client.create_run(exp, run_name=f"r{i}").info.run_id
        client.log_param(rid, "lr", f"0.{i}")
        client.log_metric(rid, "loss", 1.0 - i / 10, step=i)
        client.set_tag(rid, "note", "héllo")
        client.log_text(rid, f"artifact {i}", "notes/a.txt")
        client.set_terminated(rid)
        runs.append(rid)
    client.create_registered_model("clf")
    client.create_model_version("clf", f"runs:/{runs[0]}/notes", run_id=runs[0])
    client.set_registered_model_alias("clf", "champion", "1")
    client.delete_run(runs[2])
    gone = client.create_experiment("gone")
    gone_run = client.create_run(gone, run_name="g").info.run_id
    client.log_text(gone_run, "bye", "x.txt")
    client.delete_experiment(gone)
    client.search_runs([exp])  # summary shards, as any search leaves them
    client.flush()
    return {"client": client, "exp": exp, "runs": runs, "gone": gone, "gone_run": gone_run}


def run_meta_path(root: str, exp: str, run_id: str) -> str:
    return f"{root}/{exp}/{run_id}/meta.yaml"


def set_meta(fs: Any, path: str, **changes: Any) -> None:
    meta = load_meta(fs.cat_file(path), path)
    meta.update(changes)
    put(fs, path, dump_meta(meta))


# ==========================================================================================
# doctor
# ==========================================================================================
def test_doctor_healthy_store_is_left_byte_identical(
    store_url: str, store_fs: tuple[Any, str], backend: str
) -> None:
    populate(store_url)
    fs, root = store_fs
    before = snapshot(fs, root)
    if backend != "local":  # in-process: the CLI runs against every store in the next test
        storage = open_storage(store_url)
        assert diagnose(storage) == []
        assert repair(storage, diagnose(storage, min_age_s=0)) == []
        assert snapshot(fs, root) == before
        return
    report = fsreg_json("doctor", "-t", store_url)
    assert report["ok"] is True and report["findings"] == [] and report["remaining"] == 0
    assert report["stores"] == [open_storage(store_url).root_uri]
    fixed = fsreg_json("doctor", "-t", store_url, "--fix", "--min-age", "0s")
    assert fixed["ok"] is True and fixed["fixed"] == 0
    assert snapshot(fs, root) == before
    assert fsreg("doctor", "-t", store_url).stdout.startswith("No problems found in ")


def test_doctor_reports_and_fixes_only_what_is_safe(
    store_url: str, store_fs: tuple[Any, str], backend: str
) -> None:
    s = populate(store_url)
    fs, root = store_fs
    exp, (r0, r1, r2) = s["exp"], s["runs"]
    client: Client = s["client"]
    # -- damage that must be reported and never "fixed" (it is user data) ------------------
    put(fs, run_meta_path(root, exp, r1), b"")  # MLflow's truncated-rewrite bug
    orphan_run = uuid.uuid4().hex
    put(fs, f"{root}/{exp}/{orphan_run}/metrics/loss", b"1 0.5 0\n")
    put(fs, f"{root}/{exp}/{r0}/metrics/bad", b"not a metric line\n")
    put(fs, f"{root}/{exp}/{r0}/params/latin", "é".encode("latin-1"))
    put(fs, f"{root}/models/clf/version-7/tags/x", b"y")
    # -- leftovers --fix repairs -----------------------------------------------------------
    client.create_model_version("clf", f"runs:/{r0}/notes", run_id=r0)
    client.delete_model_version("clf", "2")
    put(fs, f"{root}/models/clf/aliases/old", b"2")  # -> a deleted version
    put(fs, f"{root}/models/clf/aliases/ghost", b"9")  # -> no such version
    put(fs, f"{root}/{exp}/.fsreg-index-zz", b"{not json")
    used = {r[:2] for r in s["runs"]}
    unused = next(f"{i:02x}" for i in range(256) if f"{i:02x}" not in used)
    put(fs, f"{root}/{exp}/.fsreg-index-{unused}", b'{"format": 1, "runs": {}}')
    expected = {
        ("malformed_yaml", f"{exp}/{r1}/meta.yaml", False),
        ("missing_meta", f"{exp}/{orphan_run}", False),
        ("malformed_run_file", f"{exp}/{r0}/metrics/bad", False),
        ("malformed_run_file", f"{exp}/{r0}/params/latin", False),
        ("missing_meta", "models/clf/version-7", False),
        ("dangling_alias", "models/clf/aliases/old", True),
        ("dangling_alias", "models/clf/aliases/ghost", True),
        ("corrupt_index", f"{exp}/.fsreg-index-zz", True),
        ("stale_index", f"{exp}/.fsreg-index-{unused}", True),
    }
    young_tmp = None
    if backend == "local":
        run0 = Path(root) / exp / r0
        old_tmp = run0 / f".meta.yaml#fsreg-tmp-{uuid.uuid4().hex}"
        old_tmp.write_bytes(b"half a write")
        age(old_tmp, 7200)
        young_tmp = run0 / f".meta.yaml#fsreg-tmp-{uuid.uuid4().hex}"
        young_tmp.write_bytes(b"a writer at work")
        lock = run0 / ".gone#fsreg-lock"
        lock.write_bytes(b"")
        age(lock, 7200)
        empty = Path(root) / exp / uuid.uuid4().hex
        empty.mkdir()
        age(empty, 7200)
        shutil.rmtree(Path(root) / exp / r2 / "params")
        # Directories without meta.yaml are reported once no writer can be creating them.
        age(Path(root) / exp / orphan_run, 7200)
        age(Path(root) / "models" / "clf" / "version-7", 7200)
        expected |= {
            ("temp_file", f"{exp}/{r0}/{old_tmp.name}", True),
            ("orphan_lock", f"{exp}/{r0}/.gone#fsreg-lock", True),
            ("empty_directory", f"{exp}/{empty.name}", True),
            ("missing_run_dirs", f"{exp}/{r2}", True),
        }
    report = fsreg_json("doctor", "-t", store_url, code=1)
    found = {(f["kind"], f["path"], f["fixable"]) for f in report["findings"]}
    assert found == expected
    assert report["ok"] is False and report["remaining"] == len(expected)
    assert all(f["fixed"] is False and f["fix_error"] is None for f in report["findings"])
    assert all(f["severity"] in ("error", "warning") for f in report["findings"])
    if backend == "local":
        table = fsreg("doctor", "-t", store_url, check=False)
        assert table.returncode == 1 and "fsreg doctor --fix" in table.stdout

    before = snapshot(fs, root)
    fixed = fsreg_json("doctor", "-t", store_url, "--fix", code=1)
    assert {f["path"] for f in fixed["findings"] if f["fixed"]} == {
        p for _, p, fixable in expected if fixable
    }
    assert fixed["remaining"] == sum(1 for *_, fixable in expected if not fixable)
    after = snapshot(fs, root)
    removed = set(before) - set(after)
    assert removed == {
        p for k, p, _ in expected if k in ("dangling_alias", "corrupt_index", "stale_index")
    } | ({f"{exp}/{r0}/{old_tmp.name}", f"{exp}/{r0}/.gone#fsreg-lock"} if young_tmp else set())
    assert all(after[p] == before[p] for p in after)  # nothing rewritten
    assert after["models/clf/aliases/champion"] == b"1"
    assert after[f"{exp}/{r1}/meta.yaml"] == b""
    if young_tmp is not None:
        assert young_tmp.exists()
        assert (Path(root) / exp / r2 / "params").is_dir()
        assert not (Path(root) / exp / empty.name).exists()
    again = fsreg_json("doctor", "-t", store_url, code=1)
    assert {(f["kind"], f["path"]) for f in again["findings"]} == {
        (k, p) for k, p, fixable in expected if not fixable
    }
    assert client.get_model_version_by_alias("clf", "champion").version == 1


def test_doctor_interrupted_rename_leftovers(store_url: str, store_fs: tuple[Any, str]) -> None:
    client = Client(tracking_uri=store_url)
    client.create_registered_model("src", description="kept")
    fs, root = store_fs
    long_ago = int(time.time() * 1000) - 2 * 3600 * 1000
    # A rename target that never committed: invisible, its source intact.
    target = {
        "name": "dst",
        "creation_timestamp": long_ago,
        "last_updated_timestamp": long_ago,
        "description": "kept",
        "fsregistry": {"rename_from": "src", "rename_id": "r1", "rename_started": long_ago},
    }
    put(fs, f"{root}/models/dst/meta.yaml", dump_meta(target))
    put(fs, f"{root}/models/dst/tags/t", b"copied")
    # A committed rename whose old files were not cleaned up.
    tomb = {**target, "name": "old", "fsregistry": {"renamed_to": "src", "rename_id": "r0"}}
    tomb["fsregistry"]["rename_started"] = long_ago
    put(fs, f"{root}/models/old/meta.yaml", dump_meta(tomb))
    put(fs, f"{root}/models/old/tags/t", b"stale")
    src_meta = load_meta(fs.cat_file(f"{root}/models/src/meta.yaml"), "src")
    src_meta["fsregistry"] = {**src_meta.get("fsregistry", {})}
    # "src" acknowledges "old" as its rename source, as a committed rename leaves it.
    src_meta["fsregistry"].update({"rename_from": "old", "rename_id": "r0"})
    put(fs, f"{root}/models/src/meta.yaml", dump_meta(src_meta))
    report = fsreg_json("doctor", "-t", store_url, code=1)
    assert {(f["kind"], f["path"], f["fixable"]) for f in report["findings"]} == {
        ("interrupted_rename", "models/dst", True),
        ("interrupted_rename", "models/old", True),
    }
    fsreg_json("doctor", "-t", store_url, "--fix")
    left = snapshot(fs, root)
    assert not any(p.startswith("models/dst/") for p in left)
    assert [p for p in left if p.startswith("models/old/")] == ["models/old/meta.yaml"]
    assert [m.name for m in client.search_registered_models()] == ["src"]


def test_doctor_finishes_an_interrupted_local_rename(tmp_path: Path) -> None:
    url = str(tmp_path / "mlruns")
    client = Client(tracking_uri=url)
    client.create_registered_model("a", description="d")
    client.create_model_version("a", "s3://bucket/model")
    client.rename_registered_model("a", "b")
    meta_path = tmp_path / "mlruns" / "models" / "b" / "meta.yaml"
    meta = load_meta(meta_path.read_bytes(), "b")
    meta_path.write_bytes(dump_meta({**meta, "name": "a"}))  # crashed before the last step
    report = fsreg_json("doctor", "-t", url, code=1)
    assert [(f["kind"], f["path"]) for f in report["findings"]] == [
        ("unfinished_rename", "models/b/meta.yaml")
    ]
    assert fsreg_json("doctor", "-t", url, "--fix")["fixed"] == 1
    assert load_meta(meta_path.read_bytes(), "b")["name"] == "b"
    assert client.get_registered_model("b").description == "d"


def test_doctor_bad_input(tmp_path: Path) -> None:
    missing = fsreg("doctor", "-t", str(tmp_path / "nowhere"), check=False)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert missing.stderr.strip().count("\n") == 0 and "nowhere" in missing.stderr
    Client(tracking_uri=str(tmp_path / "mlruns")).create_experiment("e")
    bad = fsreg("doctor", "-t", str(tmp_path / "mlruns"), "--min-age", "soon", check=False)
    assert bad.returncode == 1 and "Could not parse any time information from 'soon'" in bad.stderr
    assert "--min-age" in bad.stderr
    assert bad.stderr.strip().count("\n") == 0


# ==========================================================================================
# gc
# ==========================================================================================
def test_gc_removes_deleted_runs_and_experiments(
    store_url: str, store_fs: tuple[Any, str], backend: str
) -> None:
    s = populate(store_url)
    client: Client = s["client"]
    fs, root = store_fs
    exp, (r0, r1, r2), gone, gone_run = s["exp"], s["runs"], s["gone"], s["gone_run"]
    client.delete_run(r0)  # backs registered model 'clf' version 1: must be kept
    old = client.create_run(exp, run_name="old").info.run_id
    client.log_text(old, "old", "o.txt")
    client.delete_run(old)
    now = int(time.time() * 1000)
    set_meta(fs, run_meta_path(root, exp, old), deleted_time=now - 3 * DAY_MS)
    base = fs._strip_protocol(root).rstrip("/") + "/"

    def paths() -> set[str]:  # gc only ever removes, so listings tell what it did
        return {p[len(base) :] for p in fs.find(root)}

    def under(prefix: str) -> set[str]:
        return {p for p in paths() if p.startswith(prefix)}

    active_before = {p: b for p, b in snapshot(fs, root).items() if p.startswith(f"{exp}/{r1}/")}
    if backend == "local":  # CLI logic, the same on every store: spare the slow emulators
        before = paths()
        plan = fsreg_json("gc", "-t", store_url, "--older-than", "1d", "--dry-run")
        assert plan["dry_run"] is True and plan["older_than"] == "1d"
        assert [r["run_id"] for r in plan["runs"]] == [old] and plan["experiments"] == []
        assert paths() == before

    done = fsreg_json("gc", "-t", store_url, "--older-than", "1d")
    assert done["dry_run"] is False and done["older_than"] == "1d"
    assert [r["run_id"] for r in done["runs"]] == [old] and done["errors"] == []
    assert done["runs"][0]["path"] == f"{exp}/{old}"
    assert under(f"{exp}/{old}/") == set()
    assert under(f"{exp}/{r2}/")  # deleted, but not for a day

    # Ids that cannot go fail the whole call, removing nothing.
    refusals = [(["--run-ids", r0], [r0, "registered model 'clf' version 1"])]
    if backend == "local":
        refusals += [
            # MLflow's `mlflow gc` texts (mlflow/cli/__init__.py), fsregistry's detail after.
            (
                ["--run-ids", f"{r2},{r1}"],
                [
                    f"Run {r1} is not in `deleted` lifecycle stage. Only runs in `deleted` "
                    "lifecycle stage can be deleted."
                ],
            ),
            (
                ["--run-ids", r2, "--older-than", "1d"],
                [
                    f"Run {r2} is not older than the required age. Only runs older than 1d "
                    "can be deleted."
                ],
            ),
            (
                ["--experiment-ids", exp],
                [
                    f"Experiments ['{exp}'] are not in the deleted lifecycle stage. Only "
                    "experiments in the deleted lifecycle stage can be hard-deleted."
                ],
            ),
            (["--experiment-ids", "123"], ["Could not find experiment with ID 123"]),
            (["--run-ids", "0" * 32], [f"Run '{'0' * 32}' not found"]),
            (
                ["--older-than", "3x"],
                [
                    "Could not parse any time information from '3x'. Examples of valid "
                    "strings: '8h', '2d8h5m20s', '2m4s'",
                    "--older-than",
                ],
            ),
            (["--run-ids", "../x"], ["'../x'"]),
        ]
    before = paths()
    for args, words in refusals:
        proc = fsreg("gc", "-t", store_url, *args, check=False)
        assert proc.returncode == 1, args
        assert all(w in proc.stderr for w in words), (args, proc.stderr)
        assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert paths() == before

    # Given experiment ids: only those (with all their runs), not every deleted run.
    done = fsreg_json("gc", "-t", store_url, "--experiment-ids", gone)
    assert [e["experiment_id"] for e in done["experiments"]] == [gone]
    assert done["experiments"][0]["run_ids"] == [gone_run]
    assert [r["run_id"] for r in done["runs"]] == [gone_run]
    assert under(f".trash/{gone}/") == set() and under(f"{gone}/") == set()
    assert under(f"{exp}/{r2}/")

    # A sweep takes the rest and keeps what backs a registered version.
    text = fsreg("gc", "--backend-store-uri", store_url).stdout
    assert r2 in text and "Permanently deleted 0 experiment(s) and 1 run(s)" in text
    assert f"kept: run {r0}: its files back registered model 'clf' version 1" in text
    assert under(f"{exp}/{r2}/") == set() and under(f"{exp}/{r0}/")
    after = snapshot(fs, root)
    assert {p: b for p, b in after.items() if p.startswith(f"{exp}/{r1}/")} == active_before
    listed = Client(tracking_uri=store_url).search_runs([exp], run_view_type="ALL")
    assert {r.info.run_id for r in listed} == {r0, r1}
    assert client.get_model_version_by_alias("clf", "champion").run_id == r0
    if backend == "local":
        assert fsreg("gc", "-t", store_url).stdout.startswith("Nothing to delete in ")
        assert fsreg_json("doctor", "-t", store_url, "--min-age", "0s")["ok"] is True


def test_gc_removes_artifacts_stored_apart(store_url: str, store_fs: tuple[Any, str]) -> None:
    fs, root = store_fs
    client = Client(tracking_uri=store_url)
    apart = f"{store_url}-artifacts/exp"
    exp = client.create_experiment("apart", artifact_location=apart)
    run = client.create_run(exp).info.run_id
    client.log_text(run, "data", "d/x.txt")
    shared = client.create_run(exp).info.run_id
    client.delete_run(run)
    client.delete_run(shared)
    set_meta(fs, run_meta_path(root, exp, shared), artifact_uri=f"{store_url}-artifacts/shared")
    put(fs, f"{root}-artifacts/shared/keep.txt", b"shared by others")
    assert fs.cat_file(f"{root}-artifacts/exp/{run}/artifacts/d/x.txt") == b"data"
    # Outside the store: kept unless asked for, and the plan says how to remove it.
    planned = fsreg_json("gc", "-t", store_url, "--dry-run")
    reasons = {k["id"]: k["reason"] for k in planned["kept"]}
    assert "--delete-outside-artifacts" in reasons[f"{apart}/{run}/artifacts"]
    assert {r["run_id"]: r["separate_artifacts"] for r in planned["runs"]} == {
        run: None,
        shared: None,
    }
    done = fsreg_json("gc", "-t", store_url, "--delete-outside-artifacts")
    by_id = {r["run_id"]: r for r in done["runs"]}
    assert by_id[run]["separate_artifacts"] == f"{apart}/{run}/artifacts"
    assert by_id[shared]["separate_artifacts"] is None
    assert [(k["kind"], k["id"]) for k in done["kept"]] == [
        ("artifacts", f"{store_url}-artifacts/shared")
    ]
    assert not fs.exists(f"{root}-artifacts/exp/{run}/artifacts/d/x.txt")
    assert fs.cat_file(f"{root}-artifacts/shared/keep.txt") == b"shared by others"
    assert not fs.exists(f"{root}/{exp}/{run}/meta.yaml")


def test_gc_interrupted_leaves_a_deleted_run(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client(tracking_uri=store_url)
    exp = client.create_experiment("e")
    run = client.create_run(exp).info.run_id
    client.log_param(run, "p", "1")
    client.log_text(run, "x", "a.txt")
    client.delete_run(run)
    client.flush()
    storage = open_storage(store_url)
    plan = plan_gc(storage)
    real_delete = storage.delete

    def crash_on_meta(path: str) -> None:
        if path.endswith("/meta.yaml"):
            raise OSError("power cut")
        real_delete(path)

    monkeypatch.setattr(storage, "delete", crash_on_meta)
    result = execute_gc(storage, plan)
    assert [e.id for e in result.errors] == [run] and result.runs == []
    monkeypatch.undo()
    fresh = Client(tracking_uri=store_url)
    assert fresh.get_run(run).info.lifecycle_stage == "deleted"
    assert fresh.search_runs([exp]) == []
    result = execute_gc(storage, plan_gc(storage))
    assert [r.run_id for r in result.runs] == [run] and not result.errors
    assert fresh.search_runs([exp], run_view_type="ALL") == []


def test_separate_registry_store_is_checked_and_protects(tmp_path: Path) -> None:
    track, reg = str(tmp_path / "mlruns"), str(tmp_path / "registry")
    client = Client(tracking_uri=track, registry_uri=reg)
    run = client.create_run("0").info.run_id
    client.log_text(run, "weights", "model/w.txt")
    client.create_registered_model("m")
    location = f"{client.get_run(run).info.artifact_uri}/model"
    client.create_model_version("m", location, run_id=run)
    client.delete_run(run)
    (tmp_path / "registry" / "models" / "m" / "aliases").mkdir()
    (tmp_path / "registry" / "models" / "m" / "aliases" / "ghost").write_text("5")
    report = fsreg_json("doctor", "-t", track, "--registry-uri", reg, code=1)
    assert report["stores"] == [Path(track).as_uri(), Path(reg).as_uri()]
    assert [(f["store"], f["kind"]) for f in report["findings"]] == [
        (Path(reg).as_uri(), "dangling_alias")
    ]
    plan = fsreg_json("gc", "-t", track, "--registry-uri", reg)
    assert plan["runs"] == [] and [k["id"] for k in plan["kept"]] == [run]
    assert (tmp_path / "mlruns" / "0" / run / "artifacts" / "model" / "w.txt").exists()


def test_doctor_and_gc_on_half_moved_experiments_and_odd_metadata(
    store_url: str, store_fs: tuple[Any, str]
) -> None:
    """In-process (the CLI is covered above): states a crash mid delete/restore leaves."""
    fs, root = store_fs
    client = Client(tracking_uri=store_url)
    both = client.create_experiment("both")
    run = client.create_run(both).info.run_id
    client.delete_run(run)
    meta = load_meta(fs.cat_file(f"{root}/{both}/meta.yaml"), "both")
    put(fs, f"{root}/.trash/{both}/meta.yaml", dump_meta({**meta, "lifecycle_stage": "deleted"}))
    half = client.create_experiment("half")
    odd = client.create_run(half).info.run_id
    set_meta(fs, f"{root}/{half}/meta.yaml", lifecycle_stage="deleted")
    set_meta(fs, run_meta_path(root, half, odd), status="FINISHED", experiment_id="42")
    client.create_registered_model("m")
    client.create_model_version("m", "s3://bucket/m1")
    set_meta(fs, f"{root}/models/m/version-1/meta.yaml", version=3)
    client.create_model_version("m", "s3://bucket/m2")
    long_ago = int(time.time() * 1000) - 2 * 3600 * 1000
    set_meta(
        fs,
        f"{root}/models/m/version-2/meta.yaml",
        status="PENDING_REGISTRATION",
        last_updated_timestamp=long_ago,
    )
    storage = open_storage(store_url)
    found = {(f.kind, f.path) for f in diagnose(storage)}
    assert found == {
        ("duplicate_experiment", f".trash/{both}"),
        ("misplaced_experiment", half),
        ("invalid_meta", f"{half}/{odd}/meta.yaml"),  # experiment_id
        ("invalid_meta", "models/m/version-1/meta.yaml"),
        ("pending_version", "models/m/version-2/meta.yaml"),
    }
    assert sum(1 for f in diagnose(storage) if f.kind == "invalid_meta") == 3  # + status
    assert not any(f.fixable for f in diagnose(storage))
    plan = plan_gc(storage)
    assert plan.runs == [] and plan.experiments == []
    assert {(k.kind, k.id) for k in plan.kept} == {
        ("experiment", both),
        ("run", run),
        ("experiment", half),
    }
    with pytest.raises(FsRegistryException, match="interrupted delete or restore"):
        plan_gc(storage, experiment_ids=[both])


def test_gc_keeps_artifacts_outside_the_store_unless_asked(
    store_url: str, store_fs: tuple[Any, str]
) -> None:
    """A run whose meta.yaml names a directory outside the store (anyone who can write one
    meta.yaml of a shared store can do that): gc removes the run, not that directory."""
    fs, root = store_fs
    client = Client(tracking_uri=store_url)
    exp = client.create_experiment("e")
    run = client.create_run(exp).info.run_id
    client.delete_run(run)
    victim = f"{root}-victim/{run}/artifacts"
    put(fs, f"{victim}/precious.txt", b"not the store's")
    set_meta(fs, run_meta_path(root, exp, run), artifact_uri=f"{store_url}-victim/{run}/artifacts")
    done = fsreg_json("gc", "-t", store_url)
    assert [r["run_id"] for r in done["runs"]] == [run]
    assert [k["id"] for k in done["kept"]] == [f"{store_url}-victim/{run}/artifacts"]
    assert fs.cat_file(f"{victim}/precious.txt") == b"not the store's"
    assert not fs.exists(f"{root}/{exp}/{run}/meta.yaml")


@pytest.mark.parametrize("where", ["run", "artifacts", "experiment"])
def test_gc_never_deletes_through_a_symbolic_link(tmp_path: Path, where: str) -> None:
    """A deleted run (or experiment) directory that is a link out of the store, or a run
    whose artifacts directory is one: gc reports it and deletes nothing on either side."""
    store = tmp_path / "mlruns"
    client = Client(tracking_uri=str(store))
    exp = client.create_experiment("e")
    run = client.create_run(exp).info.run_id
    client.log_text(run, "x", "d/a.txt")
    client.delete_run(run)
    if where == "experiment":
        client.delete_experiment(exp)
    client.flush()
    outside = tmp_path / "outside"
    exp_dir = store / ".trash" / exp if where == "experiment" else store / exp
    moved = {"run": exp_dir / run, "artifacts": exp_dir / run / "artifacts", "experiment": exp_dir}
    link = moved[where]
    shutil.move(str(link), str(outside))
    link.symlink_to(outside, target_is_directory=True)
    before = {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()}
    assert before
    proc = fsreg("gc", "-t", str(store), "--json", check=False)
    assert proc.returncode == 1, proc.stderr
    errors = json.loads(proc.stdout)["errors"]
    assert len(errors) == 1 and "symbolic link" in errors[0]["reason"], errors
    assert {p: p.read_bytes() for p in outside.rglob("*") if p.is_file()} == before
    assert link.is_symlink()
