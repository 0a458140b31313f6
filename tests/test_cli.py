"""The real ``fsreg`` console script in a subprocess, against local disk, S3 and GCS."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fsregistry import Client

FSREG = shutil.which("fsreg", path=os.path.dirname(sys.executable)) or "fsreg"


def fsreg(
    *args: str, cwd: Path | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [FSREG, *args], capture_output=True, text=True, cwd=cwd, timeout=120, env=os.environ.copy()
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"fsreg {' '.join(args)} -> {proc.returncode}\n{proc.stderr}")
    return proc


def fsreg_json(*args: str) -> Any:
    return json.loads(fsreg(*args, "--json").stdout)


@pytest.fixture
def populated(store_url: str) -> tuple[str, str, list[str]]:
    client = Client(tracking_uri=store_url)
    exp_id = client.create_experiment("cli-exp", tags={"team": "ml"})
    run_ids = []
    for i in range(3):
        run = client.create_run(exp_id, run_name=f"r{i}", start_time=1000 + i)
        client.log_param(run.info.run_id, "lr", f"0.{i}")
        client.log_metric(run.info.run_id, "loss", 1.0 - i / 10, timestamp=1, step=0)
        run_ids.append(run.info.run_id)
    client.log_text(run_ids[0], "hello", "notes/a.txt")
    client.flush()
    return store_url, exp_id, run_ids


def test_ls_and_show(populated: tuple[str, str, list[str]]) -> None:
    url, exp_id, run_ids = populated
    exps = fsreg_json("ls", "experiments", "--tracking-uri", url)
    assert {e["name"] for e in exps} == {"cli-exp", "Default"}
    assert [e["tags"] for e in exps if e["name"] == "cli-exp"] == [{"team": "ml"}]
    runs = fsreg_json("ls", "runs", "-t", url, "-e", "cli-exp", "--filter", "params.lr = '0.1'")
    assert [r["run_id"] for r in runs] == [run_ids[1]]
    ordered = fsreg_json(
        "ls", "runs", "-t", url, "-e", exp_id, "--order-by", "metrics.loss ASC", "--max", "2"
    )
    assert [r["run_id"] for r in ordered] == [run_ids[2], run_ids[1]]
    run = fsreg_json("show", "run", run_ids[0], "-t", url)
    assert run["params"] == {"lr": "0.0"} and run["metrics"] == {"loss": 1.0}
    assert fsreg_json("show", "experiment", "cli-exp", "-t", url)["experiment_id"] == exp_id
    arts = fsreg_json("ls", "artifacts", run_ids[0], "-t", url)
    assert arts == [{"path": "notes", "is_dir": True, "file_size": None}]
    table = fsreg("ls", "runs", "-t", url).stdout
    assert all(r in table for r in run_ids)  # whole ids, never cut


def test_tracking_uri_from_environment(
    populated: tuple[str, str, list[str]], tmp_path: Path
) -> None:
    url, _, run_ids = populated
    env_before = os.environ.get("FSREG_TRACKING_URI")
    os.environ["FSREG_TRACKING_URI"] = url
    try:
        runs = fsreg_json("ls", "runs")
    finally:
        if env_before is None:
            del os.environ["FSREG_TRACKING_URI"]
        else:
            os.environ["FSREG_TRACKING_URI"] = env_before
    assert sorted(r["run_id"] for r in runs) == sorted(run_ids)


def test_errors_are_one_line_with_exit_code(populated: tuple[str, str, list[str]]) -> None:
    url, _, _ = populated
    missing = fsreg("show", "run", "0" * 32, "-t", url, check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == [
        f"error: Run '{'0' * 32}' not found [RESOURCE_DOES_NOT_EXIST]"
    ]
    bad_filter = fsreg("ls", "runs", "-t", url, "--filter", "metrics.x >> 1", check=False)
    assert bad_filter.returncode == 1 and "metrics.x >> 1" in bad_filter.stderr
    assert "Traceback" not in bad_filter.stderr
    debug = fsreg("--debug", "show", "run", "0" * 32, "-t", url, check=False)
    assert debug.returncode == 1 and "Traceback" in debug.stderr
    assert fsreg("ls", "no-such-thing", check=False).returncode == 2


def test_cli_and_package_import_stay_light() -> None:
    """``fsreg --help`` and ``import fsregistry`` must not load pandas or the cloud SDKs."""
    code = (
        "import sys, fsregistry, fsregistry.cli.app;"
        "print(sorted(m for m in ('pandas', 's3fs', 'gcsfs', 'numpy', 'sklearn') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert "Usage" in fsreg("--help").stdout


def test_registry_commands(populated: tuple[str, str, list[str]]) -> None:
    url, _, run_ids = populated
    client = Client(tracking_uri=url)
    client.log_text(run_ids[1], "not really a model", "model/MLmodel")
    out = fsreg("register", f"runs:/{run_ids[1]}/model", "churn", "-t", url)
    assert "Registered churn version 1" in out.stdout
    client.create_model_version("churn", f"runs:/{run_ids[2]}/model", run_id=run_ids[2])
    assert (
        "churn@champion -> version 2"
        in fsreg("alias", "set", "churn", "champion", "2", "-t", url).stdout
    )
    models = fsreg_json("ls", "models", "-t", url)
    assert [(m["name"], m["aliases"]) for m in models] == [("churn", {"champion": "2"})]
    versions = fsreg_json("ls", "versions", "churn", "-t", url)
    assert [(v["version"], v["aliases"], v["run_id"]) for v in versions] == [
        ("2", ["champion"], run_ids[2]),
        ("1", [], run_ids[1]),
    ]
    assert fsreg_json("ls", "aliases", "churn", "-t", url) == [
        {"alias": "champion", "version": "2"}
    ]
    shown = fsreg_json("show", "version", "churn", "1", "-t", url)
    assert shown["run"]["run_id"] == run_ids[1] and shown["run"]["params"] == {"lr": "0.1"}
    assert shown["download_uri"].endswith(f"/{run_ids[1]}/artifacts/model")
    assert fsreg_json("show", "model", "churn", "-t", url)["aliases"] == {"champion": "2"}
    bad = fsreg("alias", "set", "churn", "latest", "1", "-t", url, check=False)
    assert bad.returncode == 1 and "'latest'" in bad.stderr and "Traceback" not in bad.stderr
    fsreg("alias", "delete", "churn", "champion", "-t", url)
    assert fsreg_json("ls", "aliases", "churn", "-t", url) == []


def test_manage_fetch_and_predict(store_url: str, tmp_path: Path) -> None:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import fsregistry
    import fsregistry.sklearn

    frame = pd.DataFrame({"f1": [0.1, 0.9, 0.2, 0.8], "f2": [1.0, 0.0, 1.0, 0.0]})
    model = LogisticRegression().fit(frame, [0, 1, 0, 1])
    fsregistry.set_tracking_uri(store_url)
    fsregistry.fluent._active_experiment_id = None
    with fsregistry.start_run():
        fsregistry.sklearn.log_model(
            model, name="model", input_example=frame.head(2), registered_model_name="clf"
        )
        fsregistry.sklearn.log_model(model, name="model2", registered_model_name="clf")
    url = store_url
    fsreg("describe", "clf", "a classifier", "-t", url)
    fsreg("describe", "clf", "first", "--version", "1", "-t", url)
    fsreg("tag", "clf", "team", "ml", "-t", url)
    fsreg("tag", "clf", "validated", "yes", "--version", "1", "-t", url)
    fsreg("untag", "clf", "team", "-t", url)
    fsreg("transition", "clf", "1", "Production", "-t", url)
    fsreg("transition", "clf", "2", "production", "--archive-existing", "-t", url)
    shown = fsreg_json("show", "model", "clf", "-t", url)
    assert shown["description"] == "a classifier" and shown["tags"] == {}
    versions = {v["version"]: v for v in fsreg_json("ls", "versions", "clf", "-t", url)}
    assert (
        versions["1"]["current_stage"] == "Archived"
        and versions["2"]["current_stage"] == "Production"
    )
    assert versions["1"]["description"] == "first" and versions["1"]["tags"]["validated"] == "yes"

    csv_in = tmp_path / "in.csv"
    frame.to_csv(csv_in, index=False)
    out = fsreg("predict", "-m", "models:/clf/Production", "-i", str(csv_in), "--tracking-uri", url)
    assert json.loads(out.stdout) == {"predictions": model.predict(frame).tolist()}
    out_file = tmp_path / "preds.json"
    fsreg(
        "predict",
        "-m",
        "models:/clf/1",
        "-i",
        str(csv_in),
        "-o",
        str(out_file),
        "--tracking-uri",
        url,
    )
    assert json.loads(out_file.read_text())["predictions"] == model.predict(frame).tolist()

    dl = tmp_path / "dl"
    dl.mkdir()
    local = fsreg("artifacts", "download", "models:/clf/1", "-d", str(dl), "-t", url).stdout.strip()
    assert (Path(local) / "MLmodel").is_file()

    other = str(tmp_path / "other-store")
    fsreg("copy", "models:/clf/2", "promoted", "--from", url, "-t", other)
    assert [v["version"] for v in fsreg_json("ls", "versions", "promoted", "-t", other)] == ["1"]
    fsreg("rename", "clf", "clf-renamed", "-t", url)
    assert [m["name"] for m in fsreg_json("ls", "models", "-t", url)] == ["clf-renamed"]
    fsreg("delete", "clf-renamed", "--version", "1", "--yes", "-t", url)
    assert [v["version"] for v in fsreg_json("ls", "versions", "clf-renamed", "-t", url)] == ["2"]
    refused = fsreg("delete", "clf-renamed", "-t", url, check=False)  # no --yes, no terminal
    assert refused.returncode != 0
    fsreg("delete", "clf-renamed", "--yes", "-t", url)
    assert fsreg_json("ls", "models", "-t", url) == []
