"""``fsreg plot``: metric histories as a terminal chart (snapshot, no matplotlib needed) and as
PNG/SVG files (matplotlib) of the expected size; local disk, S3 and GCS stores."""

from __future__ import annotations

import json
import math
import os
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from fsregistry import Client
from fsregistry.cli.charts import Series, braille_chart, terminal_charts
from tests.test_cli_snapshots import ENV, FSREG, check_snapshot


def _fsreg(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        [FSREG, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **ENV},
    )
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture
def runs(store_url: str) -> tuple[str, list[str]]:
    client = Client(tracking_uri=store_url)
    exp = client.create_experiment("plots")
    ids = []
    for k, name in enumerate(["base", "tuned"]):
        run_id = client.create_run(exp, run_name=name).info.run_id
        for step in range(30):
            value = math.exp(-step / (8 + 4 * k)) + 0.05 * math.sin(step)
            client.log_metric(run_id, "loss", value, timestamp=1, step=step)
        ids.append(run_id)
    client.log_metric(ids[0], "loss", float("nan"), timestamp=1, step=30)  # left out
    client.flush()
    return store_url, ids


def test_terminal_chart_snapshot(runs: tuple[str, list[str]]) -> None:
    url, ids = runs
    out = _fsreg("plot", *ids, "--metric", "loss", "-t", url, "--width", "50", "--height", "8")
    text = out.stdout.replace(ids[0][:8], "RUN_A___").replace(ids[1][:8], "RUN_B___")
    check_snapshot("plot.txt", text)
    raw = json.loads(_fsreg("plot", *ids, "-m", "loss", "-t", url, "--json").stdout)
    assert raw["metric"] == "loss" and [r["run_id"] for r in raw["runs"]] == ids
    assert len(raw["runs"][0]["points"]) == 31 and raw["runs"][0]["points"][-1]["value"] == "nan"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_png_and_svg_files(runs: tuple[str, list[str]], tmp_path: Path) -> None:
    url, ids = runs
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    png = tmp_path / "loss.png"
    assert _fsreg("plot", *ids, "-m", "loss", "-t", url, "-o", str(png)).stdout == (
        f"Wrote {png}\n"
    )
    assert _png_size(png.read_bytes()) == (800, 450)
    svg = tmp_path / "loss.svg"
    _fsreg("plot", ids[0], "-m", "loss", "-t", url, "-o", str(svg))
    root = ET.fromstring(svg.read_bytes())
    assert root.tag.endswith("svg") and root.get("width") == "576pt"  # 800 px at 72 pt/in
    assert sorted(p.name for p in tmp_path.iterdir()) == ["loss.png", "loss.svg"]  # no temp


def test_refusals(runs: tuple[str, list[str]], tmp_path: Path) -> None:
    url, ids = runs
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    bad = _fsreg(
        "plot", ids[0], "-m", "loss", "-t", url, "-o", str(tmp_path / "x.jpg"), check=False
    )
    assert bad.returncode == 1 and "must end with .png or .svg" in bad.stderr
    none = _fsreg("plot", ids[0], "-m", "nope", "-t", url, check=False)
    assert none.returncode == 1 and "No values of metric 'nope'" in none.stderr
    assert list(tmp_path.iterdir()) == []


def test_colour_chart_shares_one_frame() -> None:
    series = [Series("a", [(0, 0.0), (1, 1.0)]), Series("b", [(0, 1.0), (1, 0.0)])]
    out = terminal_charts("m", series, 20, 4, colour=True)
    assert out.startswith("m   \x1b[36m━\x1b[0m a  \x1b[33m━\x1b[0m b\n")
    assert out.count("└") == 1 and "\x1b[36m" in out.split("\n", 1)[1]
    flat = braille_chart([Series("c", [(0, 2.0), (5, 2.0), (9, float("inf"))])], 10, 3)
    assert flat.splitlines()[1] == " 2┤⠤⠤⠤⠤⠤⠤⠤⠤⠤⠤" and "step 0" in flat  # inf left out


def test_plot_needs_no_matplotlib_for_the_terminal() -> None:
    code = (
        "import sys\nfrom fsregistry.cli.charts import Series, terminal_charts\n"
        "terminal_charts('m', [Series('a', [(0, 1.0), (1, 2.0)])], 10, 3, False)\n"
        "assert 'matplotlib' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
