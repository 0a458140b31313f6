"""Spinners of long commands: drawn on a real terminal (tmux, every byte the pane received
logged with ``pipe-pane``) and gone from the screen afterwards; nothing at all on a pipe."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from fsregistry import Client
from tests.test_cli_snapshots import FSREG, Terminal


def _store(tmp_path: Path) -> Path:
    root = tmp_path / "mlruns"
    client = Client(tracking_uri=str(root))
    client.create_registered_model("m")
    client.create_run(client.create_experiment("e"))
    return root


def test_doctor_spins_on_a_terminal_and_leaves_no_trace(tmp_path: Path) -> None:
    root = _store(tmp_path)
    log = tmp_path / "pane.log"
    term = Terminal(tmp_path)
    try:
        subprocess.run(
            [*term.base, "pipe-pane", "-t", "t", "-o", f"cat >> {log}"], check=True, timeout=60
        )
        command = '"$FSREG" doctor -t mlruns; echo FSREG-DONE-$?'
        term.keys(command, "Enter")
        screen = term.wait_for(r"FSREG-DONE-\d")
        assert "FSREG-DONE-0" in screen and "No problems found" in screen
        assert "Checking file://" not in screen  # transient: erased when done
        raw = log.read_bytes().decode("utf-8", "replace")
        assert f"Checking {root.as_uri()}" in raw  # it was drawn meanwhile
        assert any(frame in raw for frame in "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")  # rich's "dots" spinner
    finally:
        term.close()


def test_no_spinner_on_a_pipe(tmp_path: Path) -> None:
    root = _store(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "FSREG_NO_PROGRESS"}
    for args in (["doctor", "-t", str(root)], ["gc", "-t", str(root), "--dry-run"]):
        proc = subprocess.run(
            [FSREG, *args], capture_output=True, text=True, timeout=120, env=env, check=True
        )
        assert proc.stderr == "", proc.stderr
        assert "Checking" not in proc.stdout and "Finding what" not in proc.stdout
