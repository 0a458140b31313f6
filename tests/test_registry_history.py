"""The registry audit trail (fsregistry extension): one event per change, on local disk, S3 and
GCS; renames followed back, deletions kept; nothing recorded for a change that failed; events
never lost under concurrent writers; MLflow 2.22 and 3.x read the tree as before; doctor and
gc leave the events alone; ``fsreg history`` shows them.
"""

from __future__ import annotations

import json
import multiprocessing
import time
import warnings
from pathlib import Path
from typing import Any

import pytest

from fsreg_testing.mlflow_env import MlflowPython
from fsregistry import Client
from fsregistry.entities import ModelEvent
from fsregistry.exceptions import (
    InvalidParameterValue,
    ResourceDoesNotExist,
    StorageUnavailable,
)
from fsregistry.maintenance.doctor import diagnose
from fsregistry.mlruns import layout
from fsregistry.registry.history import HistoryNotRecorded
from tests.test_cli import fsreg, fsreg_json


def _rows(events: list[ModelEvent]) -> list[tuple[Any, ...]]:
    return [(e.action, e.model, e.version, e.key, e.from_value, e.to_value) for e in events]


def test_every_registry_write_records_one_event(store_url: str) -> None:
    client = Client(tracking_uri=store_url)
    client.create_registered_model("m", description="first")
    client.create_model_version("m", "/src/1", run_id="r1")
    client.create_model_version("m", "/src/2")
    client.set_registered_model_alias("m", "champion", 1)
    client.set_registered_model_alias("m", "champion", "2")
    client.set_registered_model_tag("m", "team", "ml")
    client.delete_registered_model_tag("m", "team")
    client.delete_registered_model_tag("m", "never-set")  # no change: no event
    client.update_registered_model("m", "second")
    client.update_model_version("m", 1, "v1 notes")
    client.set_model_version_tag("m", 1, "ok", "yes")
    client.set_model_version_tag("m", 1, "ok", "no")
    client.delete_model_version_tag("m", 1, "ok")
    client.transition_model_version_stage("m", 1, "Production")
    client.transition_model_version_stage("m", 2, "production", archive_existing_versions=True)
    client.delete_model_version("m", 2)
    client.delete_registered_model_alias("m", "champion")  # removed by the deletion already

    events = client.get_model_history("m")
    assert _rows(events) == [
        ("create_model", "m", None, None, None, None),
        ("create_version", "m", 1, None, None, "/src/1"),
        ("create_version", "m", 2, None, None, "/src/2"),
        ("set_alias", "m", None, "champion", None, "1"),
        ("set_alias", "m", None, "champion", "1", "2"),
        ("set_model_tag", "m", None, "team", None, "ml"),
        ("delete_model_tag", "m", None, "team", "ml", None),
        ("update_model", "m", None, None, "first", "second"),
        ("update_version", "m", 1, None, None, "v1 notes"),
        ("set_version_tag", "m", 1, "ok", None, "yes"),
        ("set_version_tag", "m", 1, "ok", "yes", "no"),
        ("delete_version_tag", "m", 1, "ok", "no", None),
        ("transition_stage", "m", 1, None, "None", "Production"),
        ("transition_stage", "m", 2, None, "None", "Production"),
        ("delete_version", "m", 2, None, "Production", None),
    ]
    assert events[0].details == {"description": "first"}
    assert events[1].details == {"run_id": "r1"}
    assert events[13].details == {"archive_existing_versions": True, "archived": [1]}
    assert events[14].details == {"removed_aliases": ["champion"]}
    assert [e.id for e in events] == sorted(e.id for e in events)
    assert all(e.user and e.timestamp > 0 for e in events)
    # Filters: a version's events; an alias's, including the deletion that removed it.
    assert [e.action for e in client.get_model_history("m", version="1")] == [
        "create_version",
        "update_version",
        "set_version_tag",
        "set_version_tag",
        "delete_version_tag",
        "transition_stage",
    ]
    assert [e.action for e in client.get_model_history("m", alias="champion")] == [
        "set_alias",
        "set_alias",
        "delete_version",
    ]
    # One JSON file per event, outside models/.
    storage = client.registry_store.storage
    _, files = storage.list_dir(layout.model_history_dir("m"))
    assert len(files) == len(events)
    first = json.loads(storage.read(f"{layout.model_history_dir('m')}/{sorted(files)[0]}"))
    assert first["format"] == 1 and first["action"] == "create_model"


def test_rename_carries_history_and_deletion_keeps_it(store_url: str) -> None:
    client = Client(tracking_uri=store_url)
    client.create_registered_model("old")
    client.create_model_version("old", "/src")
    client.rename_registered_model("old", "mid")
    client.set_registered_model_alias("mid", "a", 1)
    client.rename_registered_model("mid", "new")
    client.create_registered_model("old")  # another model takes the old name
    client.set_registered_model_tag("old", "k", "v")

    assert _rows(client.get_model_history("new")) == [
        ("create_model", "old", None, None, None, None),
        ("create_version", "old", 1, None, None, "/src"),
        ("rename_model", "mid", None, None, "old", "mid"),
        ("set_alias", "mid", None, "a", None, "1"),
        ("rename_model", "new", None, None, "mid", "new"),
    ]
    # The old name's history: the first model until it left, then the new one.
    assert [e.action for e in client.get_model_history("old")] == [
        "create_model",
        "create_version",
        "rename_model",
        "create_model",
        "set_model_tag",
    ]
    client.delete_registered_model("new")
    history = client.get_model_history("new")
    assert history[-1].action == "delete_model" and len(history) == 6
    with pytest.raises(ResourceDoesNotExist, match="name=never"):
        client.get_model_history("never")
    # Renamed back: the cycle ends.
    client.create_registered_model("x")
    client.rename_registered_model("x", "y")
    client.rename_registered_model("y", "x")
    assert [e.action for e in client.get_model_history("x")] == [
        "create_model",
        "rename_model",
        "rename_model",
    ]


def test_a_change_that_fails_records_nothing(store_url: str) -> None:
    client = Client(tracking_uri=store_url)
    client.create_registered_model("m")
    before = len(client.get_model_history("m"))
    with pytest.raises(ResourceDoesNotExist):
        client.set_registered_model_alias("m", "a", 3)
    with pytest.raises(ResourceDoesNotExist):
        client.transition_model_version_stage("m", 1, "Staging")
    with pytest.raises(InvalidParameterValue):
        client.set_registered_model_tag("m", "", "v")
    with pytest.raises(Exception, match="already exists"):
        client.create_registered_model("m")
    with pytest.raises(ResourceDoesNotExist):
        client.delete_registered_model("nope")
    assert len(client.get_model_history("m")) == before
    assert not client.registry_store.storage.exists(layout.model_history_dir("nope"))


def test_a_failed_event_write_warns_and_the_change_stands(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client(tracking_uri=store_url)
    client.create_registered_model("m")
    storage = client.registry_store.storage
    create = storage.create

    def failing(path: str, data: bytes) -> None:
        if path.startswith(layout.HISTORY):
            raise StorageUnavailable(f"injected failure writing {path}")
        create(path, data)

    assert [f.kind for f in diagnose(storage, min_age_s=0)] == []
    time.sleep(0.002)  # the change lands in a later millisecond than the last event
    monkeypatch.setattr(storage, "create", failing)
    with pytest.warns(HistoryNotRecorded, match="succeeded, but its history event"):
        client.set_registered_model_tag("m", "k", "v")
    monkeypatch.undo()
    assert client.get_registered_model("m").tags == {"k": "v"}
    assert [e.action for e in client.get_model_history("m")] == ["create_model"]
    # doctor reports the change without its event (what a crash in between leaves), not
    # while it is young, and never as fixable.
    gaps = diagnose(storage, min_age_s=0)
    assert [(f.kind, f.path, f.fixable) for f in gaps] == [
        ("history_gap", layout.registered_model_meta("m"), False)
    ]
    assert diagnose(storage, min_age_s=3600) == []
    storage.write(f"{layout.HISTORY}/m/notes.txt", b"x")
    assert "stray_history_file" in [f.kind for f in diagnose(storage, min_age_s=3600)]


def _alias_worker(url: str, worker: int, release: Any, out: Any) -> None:
    client = Client(tracking_uri=url)
    release.wait()
    done = 0
    for i in range(8):
        client.set_registered_model_alias("m", f"w{worker}", (i % 2) + 1)
        client.set_model_version_tag("m", 1, f"t{worker}", str(i))
        done += 2
    out.put((worker, done))


@pytest.mark.slow
def test_concurrent_writers_lose_no_event(store_url: str) -> None:
    client = Client(tracking_uri=store_url)
    client.create_registered_model("m")
    client.create_model_version("m", "/a")
    client.create_model_version("m", "/b")
    ctx = multiprocessing.get_context("spawn")
    workers = 4
    release, out = ctx.Barrier(workers), ctx.Queue()
    procs = [
        ctx.Process(target=_alias_worker, args=(store_url, w, release, out)) for w in range(workers)
    ]
    for p in procs:
        p.start()
    results = dict(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    assert sum(results.values()) == workers * 16
    events = client.get_model_history("m")[3:]
    assert len(events) == workers * 16
    for w in range(workers):
        mine = [e for e in events if e.key in (f"w{w}", f"t{w}")]
        assert [e.to_value for e in mine if e.action == "set_alias"] == ["1", "2"] * 4
        assert [e.to_value for e in mine if e.action == "set_version_tag"] == [
            str(i) for i in range(8)
        ]


def test_doctor_and_gc_leave_history_alone(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    client = Client(tracking_uri=str(root))
    client.create_registered_model("m")
    client.delete_registered_model("m")
    exp = client.create_experiment("e")
    client.delete_experiment(exp)
    before = sorted(p.name for p in (root / layout.HISTORY / "m").iterdir())
    assert len(before) == 2
    report = fsreg_json("doctor", "-t", str(root), "--min-age", "0")
    assert [f for f in report["findings"] if layout.HISTORY in json.dumps(f)] == []
    fsreg("gc", "-t", str(root), "--older-than", "0s")
    assert sorted(p.name for p in (root / layout.HISTORY / "m").iterdir()) == before
    assert [e.name for e in client.search_experiments()] == ["Default"]


def test_fsreg_history_command(store_url: str) -> None:
    client = Client(tracking_uri=store_url)
    client.create_registered_model("m")
    client.create_model_version("m", "/src")
    client.set_registered_model_alias("m", "champion", 1)
    out = fsreg_json("history", "m", "-t", store_url)
    assert [e["action"] for e in out] == ["create_model", "create_version", "set_alias"]
    assert out[2]["to"] == "1" and out[2]["from"] is None and out[2]["key"] == "champion"
    assert fsreg_json("history", "m", "-t", store_url, "--alias", "champion") == out[2:]
    assert len(fsreg_json("history", "m", "-t", store_url, "--version", "1")) == 1
    table = fsreg("history", "m", "-t", store_url).stdout
    assert table.splitlines()[0].split() == [
        "When",
        "User",
        "Action",
        "Model",
        "Version",
        "Key",
        "From",
        "To",
    ]
    assert "set_alias" in table and "champion" in table
    missing = fsreg("history", "nope", "-t", store_url, check=False)
    assert missing.returncode == 1 and "name=nope not found" in missing.stderr


_MLFLOW_READS = """
import json, logging
import mlflow
from mlflow import MlflowClient
from mlflow.entities import ViewType

seen = []
class Seen(logging.Handler):
    def emit(self, record):
        seen.append(record.getMessage())
for name in ("", "mlflow"):
    logging.getLogger(name).addHandler(Seen(level=logging.WARNING))
client = MlflowClient(tracking_uri={uri!r}, registry_uri={uri!r})
out = {{
    "experiments": sorted(e.name for e in client.search_experiments(view_type=ViewType.ALL)),
    "models": sorted(m.name for m in client.search_registered_models()),
    "versions": sorted(int(v.version) for v in client.search_model_versions("name = 'm'")),
    "alias": str(client.get_model_version_by_alias("m", "a").version),
    "runs": len(client.search_runs([e.experiment_id for e in client.search_experiments()])),
}}
run = client.get_run({run_id!r})
out["run"] = run.info.run_id
out["warnings"] = seen
print(json.dumps(out))
"""


def test_mlflow_reads_a_tree_with_history(mlflow_python: MlflowPython, tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    client = Client(tracking_uri=str(root))
    exp = client.create_experiment("e")
    run_id = client.create_run(exp).info.run_id
    client.create_registered_model("gone")
    client.delete_registered_model("gone")
    client.create_registered_model("m0")
    client.create_model_version("m0", "/src")
    client.set_registered_model_alias("m0", "a", 1)
    client.rename_registered_model("m0", "m")
    assert (root / layout.HISTORY / "gone").is_dir()
    out = mlflow_python.run(_MLFLOW_READS.format(uri=root.as_uri(), run_id=run_id), cwd=tmp_path)
    assert out == {
        "experiments": ["Default", "e"],
        "models": ["m"],
        "versions": [1],
        "alias": "1",
        "runs": 1,
        "run": run_id,
        "warnings": [],
    }


def test_no_warning_when_history_is_written(store_url: str) -> None:
    client = Client(tracking_uri=store_url)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.create_registered_model("m")
        client.rename_registered_model("m", "n")
    assert len(client.get_model_history("n")) == 2


def test_a_registry_written_first_still_gets_the_default_experiment(store_url: str) -> None:
    from fsregistry.registry.store import RegistryStore
    from fsregistry.storage import open_storage

    RegistryStore(open_storage(store_url)).create_registered_model("m")
    assert [e.name for e in Client(tracking_uri=store_url).search_experiments()] == ["Default"]
