"""``load_meta`` gives exactly what PyYAML gives, on its fast path and off it."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import yaml

from fsregistry.mlruns.metafile import MalformedMetaFile, _load_simple, dump_meta, load_meta

FIXTURES = Path(__file__).parent.parent / "mlruns_fixture"

# Values on both sides of the line between "YAML reads this as a string" and "as something
# else" (bools, nulls, ints in every base, floats, dates, sexagesimal, flow collections).
VALUES = [
    "yes", "no", "on", "off", "Yes", "OFF", "y", "n", "true", "False", "null", "Null", "~",
    "None", "0", "00", "012", "-1", "+1", "-0", "1_000", "0b101", "0b1a", "0x1f", "0o17",
    "1.5", "1e3", "12e4", "1E5", "0e0", ".inf", ".nan", "NaN", "2001-12-14", "1:20",
    "2906cfe224e448c0b946d170d3fc39bf", "6f241cc3", "00a", "9z", "a:b", "a: b",
    "file:///x/y", "s3://b/k", "/tmp/x", "_x", "x#y", "#x", "''", "'a''b'", "'it''s'",
    '"q"', "[]", "{}", "[1]", "{a: 1}", "abc ", " x", "-", "- a", "?", "a,b", "*a", "&a",
    "!x", "|", ">", "%x", "@x", "`x", "'open", "é", "a.b", "x-y", "x_y:", "READY",
]  # fmt: skip
KEYS = ["a", "b", "run_id", "yes", "on", "null", "k.x", "_k", "k-1", "1", "é"]


def _documents(count: int) -> list[str]:
    rng = random.Random(7)
    docs = []
    for _ in range(count):
        lines = []
        for _ in range(rng.randint(1, 5)):
            key = rng.choice(KEYS)
            if rng.random() < 0.15:
                lines.append(f"{key}:")
                for _ in range(rng.randint(0, 2)):
                    lines.append(f"  {rng.choice(KEYS)}: {rng.choice(VALUES)}")
            else:
                lines.append(f"{key}: {rng.choice(VALUES)}")
        docs.append("\n".join(lines) + rng.choice(["\n", ""]))
    return docs


def _same(got: object, ref: object) -> bool:
    if isinstance(got, dict) and isinstance(ref, dict):
        return got.keys() == ref.keys() and all(_same(got[k], ref[k]) for k in got)
    return type(got) is type(ref) and got == ref


@pytest.mark.parametrize("doc", _documents(3000))
def test_fast_path_agrees_with_pyyaml(doc: str) -> None:
    got = _load_simple(doc)
    if got is None:
        return  # left to PyYAML
    assert _same(got, yaml.safe_load(doc)), doc


def test_fast_path_is_taken_for_what_mlflow_writes() -> None:
    files = sorted(FIXTURES.rglob("meta.yaml"))
    assert len(files) > 20
    fast = 0
    for path in files:
        text = path.read_text(encoding="utf-8")
        got = _load_simple(text)
        if got is not None:
            fast += 1
            assert _same(got, yaml.safe_load(text)), path
    assert fast >= 0.75 * len(files)  # the others hold free text (descriptions)


def test_round_trip_and_errors() -> None:
    meta = {"name": "m", "version": 3, "tags": [], "fsregistry": {"nonce": "0ab"}, "x": None}
    assert load_meta(dump_meta(meta), "here") == meta
    assert load_meta(b"description: two words\nname: m\n", "here")["description"] == "two words"
    for raw in (b"", b"  \n", b"[1, 2]", b"a: [1\n", b"\xff\xfe"):
        with pytest.raises(MalformedMetaFile, match="here"):
            load_meta(raw, "here")


def test_lines_repeated_across_files_are_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A first reader of a registry parses thousands of meta.yaml files whose lines mostly
    repeat: each distinct line is parsed once, and a value a caller may change ([] or {}) is
    never shared between answers."""
    from fsregistry.mlruns import metafile

    monkeypatch.setattr(metafile, "_LINES", {})
    parsed: list[str] = []
    line = metafile._line

    def counting(text: str) -> Any:
        parsed.append(text)
        return line(text)

    monkeypatch.setattr(metafile, "_line", counting)
    for v in range(50):
        doc = f"current_stage: None\nstatus: READY\nversion: {v % 7}\ntags: []\nfsregistry:\n"
        doc += f"  nonce: n{v}\n  extra: {{}}\n"
        got = load_meta(doc.encode(), "x")
        assert got == yaml.safe_load(doc)
        got["tags"].append("mine")
        got["fsregistry"]["extra"]["k"] = 1
    assert parsed.count("current_stage: None") == 1 and parsed.count("status: READY") == 1
    assert len([p for p in parsed if p.startswith("version: ")]) == 7
    assert parsed.count("tags: []") == 50 and parsed.count("  extra: {}") == 50
    # A long line (a description) is parsed each time, never held for the process's life.
    long = "description: " + "x" * 1000
    for _ in range(2):
        assert load_meta(f"{long}\n".encode(), "x") == {"description": "x" * 1000}
    assert parsed.count(long) == 2 and long not in metafile._LINES
