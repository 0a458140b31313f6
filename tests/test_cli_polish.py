"""What a new user trips on in ``fsreg`` (issue 25, items 1-7), through the real console
script: missing stores, one meaning per short flag, readable ``show``, ``ls models``
columns, download/predict input, JSON errors, help text, and completion from the store."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from fsregistry import Client

FSREG = os.path.join(os.path.dirname(sys.executable), "fsreg")
HISTORY = (
    '[{"artifact_path": "model", "flavors": {"python_function": {}, "sklearn": {}}, '
    '"utc_time_created": "2026-01-02 03:04:05.123456", "model_uuid": "abc"}]'
)


def fsreg(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FSREG, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def ok(*args: str, env: dict[str, str] | None = None) -> str:
    proc = fsreg(*args, env=env)
    assert proc.returncode == 0, (args, proc.stderr)
    return proc.stdout


def listing(fs: Any, root: str) -> list[str]:
    return sorted(fs.find(root, withdirs=True)) if fs.exists(root) else []


# -- 1. a wrong or missing store is an error, never an empty listing -------------------------
READ_COMMANDS = [
    ["ls", "models"],
    ["ls", "models", "--json"],
    ["ls", "versions"],
    ["ls", "aliases", "churn"],
    ["show", "model", "churn"],
    ["show", "version", "churn", "1"],
    ["ls", "experiments"],
    ["ls", "runs"],
    ["show", "experiment", "Default"],
    ["show", "run", "0" * 32],
    ["ls", "artifacts", "0" * 32],
    ["artifacts", "download", "models:/churn/1"],
]


def test_missing_store_says_so_and_creates_nothing(
    store_url: str, store_fs: tuple[Any, str], tmp_path: Path
) -> None:
    fs, root = store_fs
    typo = f"{store_url}-typo"
    for args in READ_COMMANDS:
        proc = fsreg(*args, "-t", typo)
        assert proc.returncode == 1, args
        assert f"No store at {typo}" in proc.stderr, (args, proc.stderr)
        assert proc.stdout == ""
    assert listing(fs, f"{root}-typo") == []
    assert not (tmp_path / "mlruns").exists()  # the download's default store neither

    Client(tracking_uri=store_url)  # an empty but real store: reading it succeeds
    before = listing(fs, root)
    assert json.loads(ok("ls", "models", "-t", store_url, "--json")) == []
    assert [e["name"] for e in json.loads(ok("ls", "experiments", "-t", store_url, "--json"))] == [
        "Default"
    ]
    assert json.loads(ok("ls", "runs", "-t", store_url, "--json")) == []
    nope = fsreg("ls", "runs", "-t", store_url, "-e", "nope")
    assert nope.returncode == 1
    assert "No experiment named 'nope'" in nope.stderr and nope.stdout == ""
    assert listing(fs, root) == before


EDIT_COMMANDS = [
    ["describe", "churn", "text"],
    ["tag", "churn", "k", "v"],
    ["untag", "churn", "k"],
    ["transition", "churn", "1", "Production"],
    ["rename", "churn", "other"],
    ["delete", "churn", "--yes"],
    ["alias", "set", "churn", "champion", "1"],
    ["alias", "delete", "churn", "champion"],
    ["runs", "delete", "0" * 32],
    ["experiments", "rename", "Default", "x"],
]


def test_edits_on_a_missing_store_create_nothing(tmp_path: Path) -> None:
    typo = str(tmp_path / "typo")
    for args in EDIT_COMMANDS:
        proc = fsreg(*args, "-t", typo)
        assert proc.returncode == 1 and f"No store at {typo}" in proc.stderr, (args, proc.stderr)
    assert not os.path.exists(typo)


def test_registry_only_store_is_read_without_making_experiments(tmp_path: Path) -> None:
    tracking, registry = tmp_path / "tracking", tmp_path / "registry"
    Client(tracking_uri=str(tracking), registry_uri=str(registry)).create_registered_model("m")
    # The registry and its audit trail (fsregistry.registry.history), no experiment.
    assert sorted(os.listdir(registry)) == [".fsreg-history.trash", "models"]
    assert json.loads(ok("ls", "models", "-t", str(registry), "--json"))[0]["name"] == "m"
    runs = fsreg("ls", "runs", "-t", str(registry))
    assert runs.returncode == 1 and "it holds only a model registry" in runs.stderr
    # A separate registry is read where it is, the tracking store is not needed for it.
    assert "m" in ok("ls", "models", "-t", str(tmp_path / "none"), "--registry-uri", str(registry))
    assert sorted(os.listdir(registry)) == [".fsreg-history.trash", "models"]
    assert not (tmp_path / "none").exists()
    elsewhere = tmp_path / "not-a-store"
    (elsewhere / "some-dir").mkdir(parents=True)
    proc = fsreg("ls", "experiments", "-t", str(elsewhere))
    assert proc.returncode == 1 and "no experiments or models there" in proc.stderr
    assert os.listdir(elsewhere) == ["some-dir"]


# -- 2. one meaning per short flag -----------------------------------------------------------
def test_t_means_tracking_uri_everywhere(tmp_path: Path) -> None:
    code = """
import json
import typer
from fsregistry.cli.commands import app

out = []
def walk(cmd, path):
    for p in cmd.params:
        if p.param_type_name == "option":
            out.append([" ".join(path), p.name, p.opts])
    for name, sub in getattr(cmd, "commands", {}).items():
        walk(sub, [*path, name])
walk(typer.main.get_command(app), [])
print(json.dumps(out))
"""
    proc = subprocess.run(  # cwd: not the checkout, which "-c" would put first on sys.path
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    options = json.loads(proc.stdout)
    with_t = {(cmd, name) for cmd, name, opts in options if "-t" in opts}
    with_uri = {(cmd, name) for cmd, name, opts in options if name == "tracking_uri"}
    assert with_t == with_uri and len(with_uri) > 25
    shorts = {(cmd, name): opts for cmd, name, opts in options}
    assert "-c" in shorts[("predict", "content_type")]
    assert "-T" in shorts[("models serve", "timeout")]
    for cmd in ("models generate-dockerfile", "models build-docker", "models serve"):
        assert "-t" in shorts[(cmd, "tracking_uri")]


# -- 3/4. readable show and ls output; --json keeps raw values -------------------------------
@pytest.fixture
def store(tmp_path: Path) -> tuple[str, str, str]:
    url = str(tmp_path / "mlruns")
    client = Client(tracking_uri=url)
    exp_id = client.create_experiment("churn-exp")
    run = client.create_run(exp_id, run_name="r1", start_time=1_700_000_000_000)
    run_id = run.info.run_id
    client.log_param(run_id, "lr", "0.1")
    client.log_metric(run_id, "loss", 0.25, timestamp=1, step=0)
    client.set_tag(run_id, "mlflow.log-model.history", HISTORY)
    client.log_text(run_id, "x" * 3000, "notes/big.txt")
    client.set_terminated(run_id, end_time=1_700_000_060_000)
    client.create_registered_model("churn")
    for _ in range(3):
        client.create_model_version("churn", f"runs:/{run_id}/model", run_id=run_id)
    client.transition_model_version_stage("churn", 2, "Production")
    client.set_registered_model_alias("churn", "champion", 2)
    client.set_registered_model_alias("churn", "challenger", 3)
    client.create_registered_model("empty")
    client.flush()
    return url, exp_id, run_id


UTC = {"TZ": "UTC"}
TOKYO = {"TZ": "Asia/Tokyo"}


def test_show_run_reads_as_text_and_json_stays_raw(store: tuple[str, str, str]) -> None:
    url, exp_id, run_id = store
    shown = ok("show", "run", run_id, "-t", url, env=TOKYO)
    assert "start_time:      2023-11-15 07:13:20+09:00" in shown
    assert "experiment:      churn-exp" in shown
    assert "None" not in shown and "1700000000000" not in shown
    assert "utc_time_created" not in shown  # the history blob is summed up
    assert re.search(r"model\s+python_function, sklearn\s+2026-01-02 12:04:05\+09:00", shown)
    assert re.search(r"lr\s+0\.1", shown) and re.search(r"loss\s+0\.25", shown)
    assert "utc_time_created" in ok("show", "run", run_id, "-t", url, "--all-tags")
    raw = json.loads(ok("show", "run", run_id, "-t", url, "--json"))
    assert raw["start_time"] == 1_700_000_000_000 and raw["experiment_id"] == exp_id
    assert raw["tags"]["mlflow.log-model.history"] == HISTORY

    runs = ok("ls", "runs", "-t", url, env=UTC)
    assert re.search(rf"{run_id}\s+r1\s+churn-exp\s+FINISHED\s+2023-11-14 22:13:20\+00:00", runs)
    assert exp_id not in runs
    assert "2.9 KB" in ok("ls", "artifacts", run_id, "notes", "-t", url)
    assert json.loads(ok("ls", "artifacts", run_id, "notes", "-t", url, "--json")) == [
        {"path": "notes/big.txt", "is_dir": False, "file_size": 3000}
    ]
    experiment = ok("show", "experiment", "churn-exp", "-t", url)
    assert "creation_time:" in experiment and "None" not in experiment


def test_show_version_and_model_read_as_text(store: tuple[str, str, str]) -> None:
    url, _, run_id = store
    version = ok("show", "version", "churn", "2", "-t", url)
    assert "None" not in version and "{" not in version
    assert re.search(r"current_stage:\s+Production", version)
    assert re.search(r"aliases:\s+champion", version)
    assert "run:" in version and re.search(r"run_id:\s+" + run_id, version)
    assert re.search(r"\n  lr\s+0\.1", version)  # the run's params as a table
    model = ok("show", "model", "churn", "-t", url)
    assert not re.search(r":\s+None", model) and "{" not in model  # (stage "None" is a value)
    assert re.search(r"description:\s+-", model)
    assert re.search(r"current_stage\s*\n", model)  # latest versions as a table
    assert json.loads(ok("show", "model", "churn", "-t", url, "--json"))["description"] is None


def test_ls_models_shows_the_highest_version_and_one_column_per_alias(
    store: tuple[str, str, str],
) -> None:
    url, _, _ = store
    lines = ok("ls", "models", "-t", url).splitlines()
    assert lines[0].split() == ["Name", "Latest", "@challenger", "@champion", "Description"]
    assert lines[1].split() == ["churn", "3", "3", "2"]
    assert lines[2].split() == ["empty", "-", "-", "-"]
    raw = json.loads(ok("ls", "models", "-t", url, "--json"))
    assert raw[0]["latest_versions"] == [
        {"version": "2", "current_stage": "Production"},
        {"version": "3", "current_stage": "None"},
    ]
    client = Client(tracking_uri=url)
    for alias in ("a", "b", "c"):
        client.set_registered_model_alias("churn", alias, 1)
    lines = ok("ls", "models", "-t", url).splitlines()
    assert lines[0].split() == ["Name", "Latest", "Aliases", "Description"]
    assert lines[1].split() == ["churn", "3", "a=1,b=1,c=1,challenger=3,champion=2"]


# -- 5. download into a new directory; predict checks its input first ------------------------
def test_download_creates_its_directory_and_removes_it_on_failure(
    store: tuple[str, str, str], tmp_path: Path
) -> None:
    url, _, run_id = store
    dst = tmp_path / "new" / "dir"
    local = ok("artifacts", "download", f"runs:/{run_id}/notes", "-d", str(dst), "-t", url)
    assert (Path(local.strip()) / "big.txt").read_text() == "x" * 3000
    failed = tmp_path / "failed"
    proc = fsreg("artifacts", "download", f"runs:/{run_id}/nothing", "-d", str(failed), "-t", url)
    assert proc.returncode == 1 and not failed.exists()


@pytest.fixture
def model_store(tmp_path: Path) -> tuple[str, Any, Any]:
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    import fsregistry.sklearn

    url = str(tmp_path / "models-store")
    frame = pd.DataFrame({"f1": [0.1, 0.9, 0.2, 0.8], "f2": [1.0, 0.0, 1.0, 0.0]})
    model = LogisticRegression().fit(frame, [0, 1, 0, 1])
    fsregistry.sklearn.save_model(model, str(tmp_path / "m"))
    client = Client(tracking_uri=url)
    client.create_registered_model("clf")
    client.create_model_version("clf", str(tmp_path / "m"))
    return url, model, frame


def test_predict_reads_pandas_files_and_checks_input_before_the_model(
    model_store: tuple[str, Any, Any], tmp_path: Path
) -> None:
    url, model, frame = model_store
    expected = {"predictions": model.predict(frame).tolist()}
    temp = tmp_path / "temp"
    temp.mkdir()
    for orient in ("split", "records"):
        path = tmp_path / f"{orient}.json"
        frame.to_json(path, orient=orient)
        out = ok(
            "predict", "-m", "models:/clf/1", "-i", str(path), "-t", url, env={"TMPDIR": str(temp)}
        )
        assert json.loads(out) == expected, orient
    assert os.listdir(temp) == []  # the wrapped copy is gone
    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"dataframe_split": frame.to_dict(orient="split")}))
    assert json.loads(ok("predict", "-m", "models:/clf/1", "-i", str(wrapped), "-t", url)) == (
        expected
    )
    columns = tmp_path / "columns.json"
    frame.to_json(columns, orient="columns")
    bad = fsreg("predict", "-m", "models:/clf/1", "-i", str(columns), "-t", url)
    assert bad.returncode == 1 and '{"dataframe_split"' in bad.stderr
    # The input is checked before the model is even looked up.
    missing_model = fsreg("predict", "-m", "models:/nope/1", "-i", str(columns), "-t", url)
    assert missing_model.returncode == 1 and "dataframe_split" in missing_model.stderr
    no_file = fsreg("predict", "-m", "models:/nope/1", "-i", str(tmp_path / "x.json"), "-t", url)
    assert no_file.returncode == 1 and "Cannot read the input file" in no_file.stderr
    csv = tmp_path / "in.csv"
    frame.to_csv(csv, index=False)
    out = ok("predict", "-m", "models:/clf/1", "-i", str(csv), "-c", "csv", "-t", url)
    assert json.loads(out) == expected


# -- 6. JSON errors, --version, help text, transition and doctor reports ---------------------
def test_json_errors_and_version(tmp_path: Path) -> None:
    for args in (["ls", "models"], ["ls", "runs"], ["show", "run", "x"]):
        proc = fsreg(*args, "-t", str(tmp_path / "none"), "--json")
        assert proc.returncode == 1 and proc.stdout == ""
        error = json.loads(proc.stderr)["error"]
        assert error["code"] == "RESOURCE_DOES_NOT_EXIST"
        assert error["message"].startswith(f"No store at {tmp_path / 'none'}")
    plain = fsreg("ls", "runs", "-t", str(tmp_path / "none"))
    assert plain.stderr.startswith("error: No store at")
    from fsregistry import __version__

    assert ok("--version") == f"fsreg (fsregistry) {__version__}\n"


def test_transition_says_what_it_archived(store: tuple[str, str, str]) -> None:
    url, _, _ = store
    out = ok("transition", "churn", "3", "Production", "--archive-existing", "-t", url)
    assert out.splitlines() == [
        "churn version 3 -> Production",
        "churn version 2 -> Archived (was Production)",
    ]
    assert ok("transition", "churn", "1", "Staging", "-t", url).splitlines() == [
        "churn version 1 -> Staging"
    ]


def test_doctor_counts_what_it_leaves_out_as_too_young(store: tuple[str, str, str]) -> None:
    url, _, _ = store
    (Path(url) / "123456").mkdir()  # an experiment directory without meta.yaml, just made
    out = ok("doctor", "-t", url)
    assert "1 leftover(s) younger than 1h not reported" in out and "--min-age 0" in out
    assert json.loads(ok("doctor", "-t", url, "--json"))["too_young"] == 1
    now = fsreg("doctor", "-t", url, "--min-age", "0")
    assert now.returncode == 1 and "123456" in now.stdout and "not reported" not in now.stdout
    assert (
        json.loads(fsreg("doctor", "-t", url, "--min-age", "0", "--json").stdout)["too_young"] == 0
    )


# -- 7. completion from the store ------------------------------------------------------------
COMPLETE = """
import atexit, os, sys
atexit.register(lambda: sys.stderr.write(
    "LOADED:" + ",".join(m for m in ("pandas", "numpy", "s3fs", "gcsfs") if m in sys.modules)
))
sys.argv = ["fsreg"]
from fsregistry.cli.app import main
main()
"""


def complete(url: str, line: str) -> list[str]:
    words = line.split(" ")
    env = {
        **os.environ,
        "COMP_WORDS": line,
        "COMP_CWORD": str(len(words) - 1),
        "_FSREG_COMPLETE": "complete_bash",
        "FSREG_TRACKING_URI": url,
    }
    proc = subprocess.run(
        [sys.executable, "-c", COMPLETE],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=Path(url).parent,  # not the checkout, which "-c" would put first on sys.path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.endswith("LOADED:"), proc.stderr  # no pandas, numpy or cloud SDK
    return proc.stdout.split()


def test_completion_offers_what_is_in_the_store(store: tuple[str, str, str]) -> None:
    url, _, run_id = store
    assert complete(url, "fsreg show model ") == ["churn", "empty"]
    assert complete(url, "fsreg show model ch") == ["churn"]
    assert complete(url, "fsreg show version churn ") == ["1", "2", "3"]
    assert complete(url, "fsreg describe churn x --version ") == ["1", "2", "3"]
    assert complete(url, "fsreg alias delete churn ch") == ["challenger", "champion"]
    assert complete(url, "fsreg ls runs -e ") == ["Default", "churn-exp"]
    assert complete(url, "fsreg show run ") == [run_id]
    assert complete(url, f"fsreg ls artifacts {run_id[:5]}") == [run_id]
    # A missing store completes nothing and creates nothing.
    missing = str(Path(url).parent / "missing")
    assert complete(missing, "fsreg show model ") == []
    assert complete(missing, "fsreg show run ") == []
    assert not os.path.exists(missing)


def test_show_run_draws_each_metrics_history(store: tuple[str, str, str]) -> None:
    url, _, run_id = store
    client = Client(tracking_uri=url)
    for step, value in enumerate([3.0, 2.0, 1.0, float("nan"), 0.5]):
        client.log_metric(run_id, "val_loss", value, timestamp=1, step=step)
    client.flush()
    shown = ok("show", "run", run_id, "-t", url)
    assert re.search(r"val_loss\s+0\.5\s+5\s+█▅▂ ▁", shown), shown
    assert re.search(r"loss\s+0\.25\s+1\s+-", shown)  # one value: nothing to draw
    raw = json.loads(ok("show", "run", run_id, "-t", url, "--json"))
    assert raw["metrics"] == {"loss": 0.25, "val_loss": 0.5}
