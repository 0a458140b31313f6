"""``fsreg ls models`` runs without typer, click, rich or PyYAML, and prints exactly what the
typer command prints (which stays the reference: it handles every other command line)."""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table

from fsregistry import Client
from fsregistry.cli import output, quick

FSREG = os.path.join(os.path.dirname(sys.executable), "fsreg")
# The console script with the fast path turned off: every command line goes to typer.
TYPER = [
    sys.executable,
    "-c",
    "import sys; sys.argv[0] = 'fsreg'\n"
    "from fsregistry.cli import app, quick\n"
    "quick.parse = lambda argv: None\n"
    "app.main()",
]


def run(cmd: list[str], *args: str) -> tuple[int, str, str]:
    proc = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def store(tmp_path: Path) -> str:
    url = str(tmp_path / "mlruns")
    client = Client(tracking_uri=url)
    client.create_registered_model("churn", description="predicts churn: monthly")
    for i in range(3):
        client.create_model_version("churn", f"/src/{i}")
    client.transition_model_version_stage("churn", 2, "Production")
    client.set_registered_model_alias("churn", "champion", 2)
    client.set_registered_model_alias("churn", "b", 1)
    client.create_registered_model("empty")
    client.create_registered_model("fancy", description="[bold]not markup[/bold] :smile:")
    client.create_registered_model("wide", description="é" * 3)
    return url


COMMAND_LINES = [
    ["ls", "models"],
    ["ls", "models", "--json"],
    ["--debug", "ls", "models", "--max", "2"],
    ["ls", "models", "--max=1", "--order-by", "name DESC"],
    ["ls", "models", "--order-by", "name DESC", "--order-by", "creation_timestamp ASC"],
    ["ls", "models", "-f", "name LIKE 'ch%'", "-f", "name = 'empty'"],
    ["ls", "models", "--filter=name = 'churn'", "--json"],
    ["ls", "models", "--filter", "name >> 1"],
    ["ls", "models", "--max", "0"],
    ["ls", "models", "--max", "x"],
    ["ls", "models", "--max", "-3"],
    ["ls", "models", "--bogus"],
    ["ls", "models", "extra"],
    ["ls", "models", "--help"],
    ["ls", "models", "-f"],
]


@pytest.mark.parametrize("args", COMMAND_LINES, ids=[" ".join(a) for a in COMMAND_LINES])
def test_ls_models_prints_what_the_typer_command_prints(store: str, args: list[str]) -> None:
    where = ["-t", store] if "--help" not in args else []
    fast = run([FSREG], *args, *where)
    slow = run(TYPER, *args, *where)
    if "--debug" in args and fast[0] == 1:  # tracebacks name different frames
        assert fast[2].splitlines()[-1] == slow[2].splitlines()[-1]
        fast, slow = fast[:2], slow[:2]
    assert fast == slow


def test_store_options_resolve_as_the_client_does(store: str, tmp_path: Path) -> None:
    env = {**os.environ, "FSREG_TRACKING_URI": store}
    for args in (
        ["ls", "models", "--json"],
        ["ls", "models", "--registry-uri", store, "-t", str(tmp_path / "elsewhere")],
        ["ls", "models", "-t", "http://not-a-store", "--registry-uri", store],
        ["ls", "models", "-t", ""],
    ):
        fast = subprocess.run([FSREG, *args], capture_output=True, text=True, env=env)
        slow = subprocess.run([*TYPER, *args], capture_output=True, text=True, env=env)
        assert (fast.returncode, fast.stdout, fast.stderr) == (
            slow.returncode,
            slow.stdout,
            slow.stderr,
        ), args


def test_ls_models_loads_no_cli_framework(tmp_path: Path) -> None:
    url = str(tmp_path / "mlruns")
    client = Client(tracking_uri=url)
    client.create_registered_model("churn", description="predicts churn")
    client.create_model_version("churn", "/src/0")
    then = time.time() - 30  # long written: what a search reads, it records for the next one
    for d, _, names in os.walk(url):
        for n in names:
            os.utime(os.path.join(d, n), (then, then))
    code = (
        "import sys\n"
        f"sys.argv = ['fsreg', 'ls', 'models', '-t', {url!r}]\n"
        "from fsregistry.cli.app import main\n"
        "main()\n"
        "heavy = ('typer', 'click', 'rich', 'yaml', 'pandas', 's3fs', 'gcsfs', 'filelock')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    for _ in range(2):  # the first run writes the index, the second only reads it
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        assert "churn" in proc.stdout
    assert proc.stderr.strip() == "[]"


def test_other_command_lines_go_to_typer() -> None:
    assert quick.parse(["ls", "models", "-t", "x", "--order-by", "a", "--order-by", "b"]) == (
        quick.LsModels(tracking_uri="x", order_by=["a", "b"])
    )
    assert quick.parse(["--debug", "ls", "models", "--max=007", "--json"]) == quick.LsModels(
        debug=True, max=7, as_json=True
    )
    for argv in (
        [],
        ["ls"],
        ["ls", "versions"],
        ["ls", "--debug", "models"],
        ["--help"],
        ["ls", "models", "--help"],
        ["ls", "models", "-t"],
        ["ls", "models", "-tx"],
        ["ls", "models", "-t=x"],
        ["ls", "models", "--json=1"],
        ["ls", "models", "--max", "٣"],
        ["ls", "models", "--max", " 3"],
        ["ls", "models", "-f", "-x"],
        ["ls", "models", "--", "x"],
        ["ls", "models", "x"],
        ["--install-completion", "ls", "models"],
    ):
        assert quick.parse(argv) is None, argv


# -- the plain table is rich's, byte for byte ------------------------------------------------------
def _rich(headers: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=100_000, highlight=False, soft_wrap=True)
    table = Table(box=None, header_style="bold", pad_edge=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table)
    return buf.getvalue()


def test_plain_tables_are_what_rich_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "_plain_output", lambda: True)
    rng = random.Random(11)
    alphabet = "abcXYZ019 -_./:=,@'\"#%&()*+;<>?!~`{}|\\^$[]é\t"
    plain = 0
    for _ in range(1500):
        columns = rng.randint(1, 5)
        headers = ["".join(rng.choices(alphabet, k=rng.randint(1, 8))) for _ in range(columns)]
        rows = [
            ["".join(rng.choices(alphabet, k=rng.randint(0, 12))) for _ in range(columns)]
            for _ in range(rng.randint(0, 4))
        ]
        got = output.plain_table(headers, rows)
        if got is not None:
            plain += 1
            assert got == _rich(headers, rows), (headers, rows)
    assert plain > 150  # the plain path is a common one, not a corner
    assert output.plain_table(["A"], [["[bold]x[/bold]"]]) is None  # markup: rich's business
    assert output.plain_table(["A"], [[":smile:"]]) is None  # emoji codes too
    assert output.plain_table(["A", "B"], [["s3://b/k", "file:///x:y"]]) is not None  # URIs


def test_rich_still_prints_for_terminals_and_forced_colour(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stdout", io.StringIO())
    assert output.plain_table(["A"], [["x"]]) == "A\nx\n"
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert output.plain_table(["A"], [["x"]]) is None

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("FORCE_COLOR")
    monkeypatch.setattr(sys, "stdout", Terminal())
    assert output.plain_table(["A"], [["x"]]) is None
