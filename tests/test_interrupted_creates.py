"""A process killed inside ``create_model_version`` or ``create_run``: what it leaves, what
``fsreg doctor`` makes of it, and which number the next registration takes.

The crash is real: a child process registers (or creates a run) and sends itself SIGKILL at
one step, so no ``finally`` and no rollback runs, as after a power cut or an OOM kill. The
steps, in the order ``create_model_version`` takes them (``fsregistry.registry.claims``):

- ``before_claim``: before the create-if-absent of ``version-N/meta.yaml`` is sent;
- ``mid_claim`` (local disk only; on S3/GCS the claim is one request): the temp file holding
  the meta.yaml is written, the hard link onto ``meta.yaml`` is not made;
- ``after_claim``: the version exists, its tags are not written yet;
- ``before_hint``: tags written, the model's ``last_version`` hint not raised yet.

Only ``mid_claim`` leaves an unclaimed directory (the bug fixed here: doctor could not
repair it, and a registration listing the versions numbered past it); the other steps and
backends pin what is left and which number comes next, and passed before the fix as well.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fsreg_testing.mlflow_env import MlflowPython
from fsregistry import Client
from fsregistry.maintenance import diagnose, repair
from fsregistry.mlruns.metafile import dump_meta, load_meta
from fsregistry.storage import open_storage

FSREG = shutil.which("fsreg", path=os.path.dirname(sys.executable)) or "fsreg"

# The child: argv = store URL, what to create ("version" / "run"), the step to die at.
CHILD = r"""
import os, re, signal, sys
from fsreg_testing.mlflow_env import MlflowPython
from fsregistry import Client

url, what, step = sys.argv[1:4]
client = Client(tracking_uri=url)
if what == "version":
    storage = client.registry_store.storage
    target = re.compile(r"models/m/version-2/meta\.yaml$")
    hint = "models/m/meta.yaml"
else:
    storage = client.store.storage
    target = re.compile(r"(^|/)[0-9]+/[0-9a-f]{32}/meta\.yaml$")
    hint = None


def die():
    os.kill(os.getpid(), signal.SIGKILL)


real_link, real_create, real_cas = os.link, storage.create, storage.write_if_match


def link(src, dst, *args, **kwargs):
    if step == "mid_claim" and target.search(dst.replace(os.sep, "/")):
        die()
    return real_link(src, dst, *args, **kwargs)


def create(path, data):
    if step == "before_claim" and target.search(path):
        die()
    real_create(path, data)
    if step == "after_claim" and target.search(path):
        die()


def write_if_match(path, data, token):
    if step == "before_hint" and path == hint:
        die()
    real_cas(path, data, token)


os.link = link
storage.create = create
storage.write_if_match = write_if_match
if what == "version":
    client.create_model_version("m", "/tmp/model-src", tags={"team": "ml", "stage": "dev"})
else:
    client.create_run(sys.argv[4], run_name="crashed", tags={"team": "ml"})
raise SystemExit("the child was meant to be killed")
"""

STEPS = ("before_claim", "mid_claim", "after_claim", "before_hint")


def crash(store_url: str, what: str, step: str, *extra: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, store_url, what, step, *extra],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr


def snapshot(fs: Any, root: str) -> dict[str, bytes]:
    """Every file under the store (on local disk, hidden temp and lock files too)."""
    base = fs._strip_protocol(root).rstrip("/") + "/"
    return {p[len(base) :]: fs.cat_file(p) for p in fs.find(root)}


def doctor_fix(store_url: str) -> Any:
    """``fsreg doctor --fix --min-age 0s --json``, the real console script."""
    proc = subprocess.run(
        [FSREG, "doctor", "-t", store_url, "--fix", "--min-age", "0s", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def below(files: dict[str, bytes], prefix: str) -> list[str]:
    return sorted(p for p in files if p.startswith(prefix))


def drop_hint(fs: Any, root: str) -> None:
    """Rewrite the model's meta.yaml without fsregistry's bookkeeping, as MLflow does."""
    path = f"{root}/models/m/meta.yaml"
    meta = load_meta(fs.cat_file(path), path)
    meta.pop("fsregistry", None)
    fs.pipe_file(path, dump_meta(meta))


def register(store_url: str) -> tuple[str, int]:
    """Register a version; its number and the requests it cost (0 on local disk)."""
    client = Client(tracking_uri=store_url)
    before = getattr(client.registry_store.storage, "requests", 0)
    mv = client.create_model_version("m", "/tmp/model-src", tags={"after": "crash"})
    cost = getattr(client.registry_store.storage, "requests", 0) - before
    numbers = sorted(int(v.version) for v in client.search_model_versions("name = 'm'"))
    assert numbers == list(range(1, int(mv.version) + 1))  # no gap
    assert client.get_model_version("m", mv.version).tags == {"after": "crash"}
    return str(mv.version), cost


@pytest.mark.parametrize("order", ["doctor_first", "register_first"])
@pytest.mark.parametrize("step", STEPS)
def test_crash_inside_create_model_version(
    store_url: str, store_fs: tuple[Any, str], backend: str, step: str, order: str
) -> None:
    """``doctor_first``: ``fsreg doctor --fix`` cleans up, then a registration follows.
    ``register_first``: MLflow rewrote the model's meta.yaml (dropping fsregistry's
    ``last_version`` hint), then a registration lists the versions to number the next one."""
    if step == "mid_claim" and backend != "local":
        pytest.skip("on S3/GCS the claim is one request: there is no middle to die in")
    client = Client(tracking_uri=store_url)
    client.create_registered_model("m")
    client.create_model_version("m", "/tmp/model-src")
    fs, root = store_fs
    crash(store_url, "version", step)
    claimed = step in ("after_claim", "before_hint")
    left = below(snapshot(fs, root), "models/m/version-2/")
    if claimed:
        assert "models/m/version-2/meta.yaml" in left
    elif step == "mid_claim":
        # Only the hidden temp file of the claim: no version 2 exists.
        assert len(left) == 1 and ".meta.yaml#fsreg-tmp-" in left[0], left
    else:
        assert left == []
    storage = open_storage(store_url)
    # Young leftovers may be a writer at work: left out by default.
    assert diagnose(storage) == []
    # A number nobody claimed is taken again; a claimed one is never reused.
    expected = "3" if claimed else "2"
    if order == "register_first":
        drop_hint(fs, root)
        assert register(store_url)[0] == expected
    if order == "doctor_first":
        report = doctor_fix(store_url)
        assert report["ok"] is True
        found = [(f["kind"], f["path"], f["fixable"], f["fixed"]) for f in report["findings"]]
    else:
        fixed = repair(storage, diagnose(storage, min_age_s=0), min_age_s=0)
        found = [(f.kind, f.path, f.fixable, f.fixed) for f in fixed]
    if step == "mid_claim" and order == "doctor_first":
        # One finding, fixed in one pass: the directory and the temp file in it.
        assert found == [("interrupted_create", "models/m/version-2", True, True)]
        assert not os.path.exists(f"{root}/models/m/version-2")
    elif step == "mid_claim":
        # Version 2 was claimed over the leftover; the dead writer's temp file is left.
        assert [(k, fixable, fixed) for k, _, fixable, fixed in found] == [
            ("temp_file", True, True)
        ]
    else:
        assert found == []  # after a claim: a whole version 2, without the later tags
    assert diagnose(storage, min_age_s=0) == []
    if order == "doctor_first":
        version, cost = register(store_url)
        assert str(version) == expected
        if backend != "local" and not claimed:
            # Read the model's meta.yaml, create the version, one tag, compare-and-swap the
            # model's meta.yaml, and create the audit trail's event.
            assert cost == 5


def test_doctor_fix_leaves_a_directory_claimed_since_the_scan(tmp_path: Path) -> None:
    """The fix re-checks: a registration that took the number between the scan and the fix
    keeps its version (and the fix of a directory whose files are young does nothing)."""
    url = str(tmp_path / "mlruns")
    client = Client(tracking_uri=url)
    client.create_registered_model("m")
    client.create_model_version("m", "/tmp/model-src")
    crash(url, "version", "mid_claim")
    storage = open_storage(url)
    found = diagnose(storage, min_age_s=0)
    assert [(f.kind, f.path) for f in found] == [("interrupted_create", "models/m/version-2")]
    assert [(f.fixed, f.fix_error) for f in repair(storage, found, min_age_s=3600)] == [
        (False, "changed since the scan (or in use); left alone")
    ]
    assert client.create_model_version("m", "/tmp/model-src", tags={"k": "v"}).version == 2
    assert [(f.fixed, f.fix_error) for f in repair(storage, found, min_age_s=0)] == [
        (False, "changed since the scan (or in use); left alone")
    ]
    assert client.get_model_version("m", "2").tags == {"k": "v"}
    assert [f.kind for f in diagnose(storage, min_age_s=0)] == ["temp_file"]


_MLFLOW_REGISTERS = """
import json
from mlflow import MlflowClient

client = MlflowClient(tracking_uri={uri!r}, registry_uri={uri!r})
out = {{}}
try:
    out["versions"] = sorted(str(v.version) for v in client.search_model_versions("name = 'm'"))
except Exception as e:
    out["versions"] = type(e).__name__
if {create!r}:
    out["created"] = str(client.create_model_version("m", "/tmp/model-src").version)
print(json.dumps(out))
"""


def test_mlflow_registers_again_after_doctor(tmp_path: Path, mlflow_python: MlflowPython) -> None:
    """MLflow's file store fails on a ``version-N/`` without meta.yaml (it reads every version
    to number the next); after one ``doctor --fix`` it numbers its version N, no gap."""
    root = tmp_path / "mlruns"
    client = Client(tracking_uri=str(root))
    client.create_registered_model("m")
    client.create_model_version("m", "/tmp/model-src")
    crash(str(root), "version", "mid_claim")
    broken = mlflow_python.run(
        _MLFLOW_REGISTERS.format(uri=root.as_uri(), create=False), cwd=tmp_path
    )
    assert broken == {"versions": "MissingConfigException"}
    storage = open_storage(str(root))
    fixed = repair(storage, diagnose(storage, min_age_s=0), min_age_s=0)
    assert [(f.kind, f.fixed) for f in fixed] == [("interrupted_create", True)]
    out = mlflow_python.run(_MLFLOW_REGISTERS.format(uri=root.as_uri(), create=True), cwd=tmp_path)
    assert out == {"versions": ["1"], "created": "2"}
    assert Client(tracking_uri=str(root)).create_model_version("m", "/tmp/src").version == 3


def test_a_foreign_leftover_is_reported_and_never_adopted(
    store_url: str, store_fs: tuple[Any, str], backend: str
) -> None:
    """Files in a ``version-N/`` without meta.yaml that fsregistry did not write: doctor
    reports them and leaves them, and a registration listing the versions starts above
    (as before the fix, which now takes an unclaimed number again but never joins someone
    else's files to a new version)."""
    client = Client(tracking_uri=store_url)
    client.create_registered_model("m")
    client.create_model_version("m", "/tmp/model-src")
    fs, root = store_fs
    if backend == "local":
        os.makedirs(f"{root}/models/m/version-2/tags")
    fs.pipe_file(f"{root}/models/m/version-2/tags/x", b"hand-made")
    drop_hint(fs, root)
    storage = open_storage(store_url)
    findings = repair(storage, diagnose(storage, min_age_s=0), min_age_s=0)
    assert [(f.kind, f.path, f.fixable, f.fixed) for f in findings] == [
        ("missing_meta", "models/m/version-2", False, False)
    ]
    assert fs.cat_file(f"{root}/models/m/version-2/tags/x") == b"hand-made"
    assert Client(tracking_uri=store_url).create_model_version("m", "/tmp/src").version == 3


@pytest.mark.parametrize("step", ["before_claim", "mid_claim", "after_claim"])
def test_crash_inside_create_run(
    store_url: str, store_fs: tuple[Any, str], backend: str, step: str
) -> None:
    """Run ids are random, so there is no number to skip; what is left is the question."""
    if step == "mid_claim" and backend != "local":
        pytest.skip("on S3/GCS the create is one request: there is no middle to die in")
    client = Client(tracking_uri=store_url)
    exp = client.create_experiment("e")
    crash(store_url, "run", step, exp)
    fs, root = store_fs
    left = [p for p in below(snapshot(fs, root), f"{exp}/") if p.count("/") >= 2]
    storage = open_storage(store_url)
    findings = repair(storage, diagnose(storage, min_age_s=0), min_age_s=0)
    kinds = [(f.kind, f.fixable, f.fixed) for f in findings]
    if step == "mid_claim":
        assert len(left) == 1 and ".meta.yaml#fsreg-tmp-" in left[0], left
        assert kinds == [("interrupted_create", True, True)]
        assert not os.path.exists(os.path.dirname(f"{root}/{left[0]}"))
    elif step == "after_claim":
        # The run exists; on local disk MLflow 3 needs its metrics/params/artifacts dirs.
        assert kinds == ([("missing_run_dirs", True, True)] if backend == "local" else [])
        assert [r.info.run_name for r in client.search_runs([exp])] == ["crashed"]
    else:
        assert left == [] and kinds == []
    assert diagnose(storage, min_age_s=0) == []
