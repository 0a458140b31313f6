"""Snapshots of ``fsreg``'s help and output, so wording and layout changes show up in review,
and one run in a real terminal (tmux) to see the table rich draws there.

The snapshots are text files under ``tests/snapshots/``; a test fails when the output differs
and shows the diff. After an intended change, regenerate them with
``FSREG_UPDATE_SNAPSHOTS=1 pytest tests/test_cli_snapshots.py`` and review the diff in git.
Run ids, times and the store's path vary from run to run and are replaced by placeholders of
the same width (so tables keep their layout); trailing blanks are dropped.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from fsregistry import Client

FSREG = os.path.join(os.path.dirname(sys.executable), "fsreg")
SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("FSREG_UPDATE_SNAPSHOTS") == "1"
# The environment every snapshot is taken in: UTC times, 80 columns, no colours.
ENV = {"TZ": "UTC", "COLUMNS": "80", "LINES": "40", "NO_COLOR": "1", "LC_ALL": "C.UTF-8"}

HELP = """
import os
from fsregistry.cli.commands import command

def walk(cmd, path):
    yield path
    for name in sorted(getattr(cmd, "commands", {})):
        yield from walk(cmd.commands[name], [*path, name])

root = command()
for path in walk(root, []):
    print("=" * 10, " ".join(["fsreg", *path, "--help"]))
    root.main([*path, "--help"], prog_name="fsreg", standalone_mode=False)
"""


def check_snapshot(name: str, text: str) -> None:
    # Trailing blanks (rich pads table cells) are no one's business, and editors strip them.
    text = "".join(line.rstrip() + "\n" for line in text.splitlines())
    path = SNAPSHOTS / name
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    assert path.is_file(), f"no snapshot {path}: run with FSREG_UPDATE_SNAPSHOTS=1"
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = difflib.unified_diff(
            expected.splitlines(), text.splitlines(), "snapshot", "now", lineterm=""
        )
        pytest.fail(f"{name} differs (FSREG_UPDATE_SNAPSHOTS=1 to accept):\n" + "\n".join(diff))


def test_help_snapshot(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", HELP],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **ENV},
        cwd=tmp_path,  # not the checkout, which "-c" would put first on sys.path
    )
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout
    # What the help must never show again: typer's metavars, raw RST, cut option names.
    assert "{" not in "".join(line for line in text.splitlines() if line.startswith("Usage:"))
    assert "<str>" not in text and "``" not in text and "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "--backend-store-uri" not in text  # still accepted by gc, not listed
    check_snapshot("help.txt", text)


@pytest.fixture
def store(tmp_path: Path) -> tuple[str, str]:
    url = str(tmp_path / "mlruns")
    client = Client(tracking_uri=url)
    exp_id = client.create_experiment("churn-exp", tags={"team": "ml"})
    run = client.create_run(exp_id, run_name="r1", start_time=1_700_000_000_000)
    run_id = run.info.run_id
    client.log_param(run_id, "lr", "0.1")
    client.log_metric(run_id, "loss", 0.25, timestamp=1, step=0)
    client.log_metric(run_id, "acc", 0.875, timestamp=1, step=0)
    client.set_tag(
        run_id,
        "mlflow.log-model.history",
        '[{"artifact_path": "model", "flavors": {"python_function": {}, "sklearn": {}}, '
        '"utc_time_created": "2026-01-02 03:04:05.123456", "model_uuid": "abc"}]',
    )
    client.log_text(run_id, "x" * 3000, "notes/big.txt")
    client.log_text(run_id, "y" * 3_000_000, "data.bin")
    client.set_terminated(run_id, end_time=1_700_000_060_000)
    client.create_registered_model("churn", description="predicts churn")
    for _ in range(3):
        client.create_model_version("churn", f"runs:/{run_id}/model", run_id=run_id)
    client.transition_model_version_stage("churn", 2, "Production")
    client.set_registered_model_alias("churn", "champion", 2)
    client.set_registered_model_tag("churn", "team", "ml")
    client.create_registered_model("empty")
    client.flush()
    return url, run_id


OUTPUTS = [
    ["ls", "models"],
    ["ls", "versions", "churn"],
    ["ls", "aliases", "churn"],
    ["ls", "experiments"],
    ["ls", "runs"],
    ["ls", "artifacts", "RUN"],
    ["show", "run", "RUN"],
    ["show", "experiment", "churn-exp"],
    ["show", "model", "churn"],
    ["show", "version", "churn", "2"],
    ["doctor"],
    ["gc", "--dry-run"],
    ["ls", "runs", "-e", "nope"],
    ["show", "model", "nope", "--json"],
]


def test_output_snapshot(store: tuple[str, str], tmp_path: Path) -> None:
    url, run_id = store
    chunks = []
    for args in [*OUTPUTS, ["ls", "models", "-t", str(tmp_path / "typo")]]:
        args = [run_id if a == "RUN" else a for a in args]
        where = [] if "-t" in args else ["-t", url]
        proc = subprocess.run(
            [FSREG, *args, *where],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, **ENV},
        )
        shown = " ".join(["fsreg", *args]).replace(run_id, "RUN")
        chunks.append(f"========== {shown}  (exit {proc.returncode})\n{proc.stdout}")
        if proc.stderr:
            chunks.append(f"---------- stderr\n{proc.stderr}")
    text = "".join(chunks)
    text = text.replace(run_id, "R" * len(run_id))
    text = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00", "YYYY-MM-DD hh:mm:ss+00:00", text)
    text = text.replace(f"file://{tmp_path}", "file://TMP").replace(str(tmp_path), "TMP")
    check_snapshot("output.txt", text)


class Terminal:
    """A bash in a tmux session on a private socket (so no other session is touched)."""

    def __init__(self, cwd: Path) -> None:
        tmux = shutil.which("tmux")
        if tmux is None:
            pytest.skip("tmux is not installed (apt-get install tmux): no real terminal to test in")
        self.base = [tmux, "-L", f"fsreg-test-{uuid.uuid4().hex[:8]}", "-f", "/dev/null"]
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
        env["TERM"] = "xterm-256color"
        env["FSREG"] = FSREG
        env["PATH"] = os.path.dirname(FSREG) + os.pathsep + env.get("PATH", "")
        start = [*self.base, "new-session", "-d", "-s", "t", "-x", "120", "-y", "30", "-c"]
        subprocess.run(
            [*start, str(cwd), "bash --norc --noprofile -i"], check=True, env=env, timeout=60
        )

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.base, "send-keys", "-t", "t", *keys], check=True, timeout=60)

    def screen(self, colours: bool = False) -> str:
        args = [*self.base, "capture-pane", "-p", "-t", "t", *(["-e"] if colours else [])]
        return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout

    def wait_for(self, pattern: str, colours: bool = False) -> str:
        """The screen once ``pattern`` shows on it (a wait for the shell, not a timing assert)."""
        deadline = time.monotonic() + 120
        screen = self.screen(colours)
        while not re.search(pattern, screen) and time.monotonic() < deadline:
            time.sleep(0.2)
            screen = self.screen(colours)
        assert re.search(pattern, screen), screen
        return screen

    def close(self) -> None:
        subprocess.run([*self.base, "kill-server"], check=False, timeout=60)


def test_ls_models_in_a_real_terminal(store: tuple[str, str], tmp_path: Path) -> None:
    """``fsreg ls models`` in tmux: the table rich draws for a terminal, header in bold."""
    url, _ = store
    assert Path(url).parent == tmp_path
    term = Terminal(tmp_path)
    try:
        command = '"$FSREG" ls models -t mlruns; echo FSREG-DONE-$?'  # short: one screen line
        term.keys(command, "Enter")
        screen = term.wait_for(r"FSREG-DONE-\d", colours=True)
        output = screen.split(command)[-1]
        assert "FSREG-DONE-0" in output, screen
        plain = re.sub(r"\x1b\[[0-9;]*m", "", output)
        lines = [line.rstrip() for line in plain.splitlines() if line.strip()]
        assert lines[0].split() == ["Name", "Latest", "@champion", "Description"]
        assert lines[1].split() == ["churn", "3", "2", "predicts", "churn"]
        assert lines[2].split() == ["empty", "-", "-"]
        assert re.search(r"\x1b\[[0-9;]*1[0-9;]*mName", output)  # rich's bold header
    finally:
        term.close()


def test_completion_in_a_real_terminal(store: tuple[str, str], tmp_path: Path) -> None:
    """bash completion installed from ``fsreg --show-completion bash``, pressed Tab in tmux."""
    url, _ = store
    term = Terminal(tmp_path)
    try:
        term.keys(f'export FSREG_TRACKING_URI={url}; eval "$(fsreg --show-completion bash)"')
        term.keys("Enter")
        term.keys("clear; echo READY", "Enter")
        term.wait_for(r"(?m)^READY")
        term.keys("fsreg show model chu", "Tab")
        term.wait_for(r"(?m)fsreg show model churn\s*$")  # the one candidate, completed in place
        term.keys("C-u", "fsreg show version churn ", "Tab", "Tab")
        term.wait_for(r"(?m)^1\s+2\s+3\s*$")  # bash lists the candidates
    finally:
        term.close()
