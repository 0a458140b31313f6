"""The run index's shard encoding (format 7): what a fresh process decodes per run, counted,
format-6 shards, still read, and shards of older formats, which are read from the files,
never mis-read.

A cold search decodes every run of the shards it reads; format 5 held a JSON object per run
(with one per meta, params, tags and metrics inside), and decoding those dominated a cold
search at 100,000 runs (issue 24). Format 6 writes each run's keys and its flat row of values
apart, so a reader decodes each distinct set of keys once and no mapping per run. Format 7
writes a run's change tokens as one string and its metrics' numbers packed in another, so
what a reader decodes per run does not grow with its files and metrics.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from fsreg_testing.runs import age_tree, ended_runs, spy_reads
from fsregistry import Client
from fsregistry.entities import Metric
from fsregistry.tracking import run_index
from fsregistry.tracking.records import RunFiles
from fsregistry.tracking.run_files import row_of as run_files_row_of


@pytest.fixture(autouse=True)
def _untrusted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FSREG_TRUST_INDEX", "0")


class _Decoded:
    """What ``json.loads`` decoded inside the run index: calls, and mappings made."""

    def __init__(self) -> None:
        self.calls = 0
        self.mappings = 0
        self.key_sets = 0  # texts of a line's keys (a list of lists of strings) decoded
        self.numbers = 0  # ints and floats decoded
        self.strings = 0  # strings decoded

    def count(self, value: Any) -> None:
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                self.mappings += 1
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, str):
                self.strings += 1
            elif isinstance(item, int | float) and not isinstance(item, bool):
                self.numbers += 1


def _spy_json(monkeypatch: pytest.MonkeyPatch) -> _Decoded:
    decoded = _Decoded()
    loads = json.loads

    class Spy:
        def __getattr__(self, name: str) -> Any:
            return getattr(json, name)

        @staticmethod
        def loads(raw: Any, *args: Any, **kwargs: Any) -> Any:
            value = loads(raw, *args, **kwargs)
            decoded.calls += 1
            decoded.count(value)
            groups = value[:-1] if isinstance(value, list) and value[-1:] == [7] else value
            if (
                isinstance(groups, list)
                and groups
                and all(isinstance(g, list) and all(isinstance(k, str) for k in g) for g in groups)
            ):
                decoded.key_sets += 1
            return value

    monkeypatch.setattr(run_index, "json", Spy())
    # A fresh process: no keys decoded yet (raising=False: also where there is no such cache).
    monkeypatch.setattr(run_index, "_SHAPES", {}, raising=False)
    return decoded


def test_a_cold_search_decodes_no_mapping_per_run_and_each_key_set_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """40 runs with the same keys in one shard: decoding it makes no mapping but its header,
    parses the keys once, and the rows of all runs in one parse; the answer is the files'."""
    client = Client(tracking_uri=str(tmp_path / "mlruns"))
    exp_id = client.create_experiment("counted")
    one = run_index.shard_name("00")
    monkeypatch.setattr(run_index, "shard_name", lambda run_id: one)  # all in one shard
    run_ids = ended_runs(client, exp_id, 40)
    age_tree(tmp_path / "mlruns")
    client.search_runs([exp_id])  # summarised again at the aged tokens
    read_runs = spy_reads(client, monkeypatch)
    decoded = _spy_json(monkeypatch)
    runs = client.search_runs([exp_id], order_by=["metrics.m"])
    assert read_runs == [], "every run came from the shard"
    assert [r.info.run_id for r in runs] == run_ids
    assert [r.data.params["p"] for r in runs] == [str(i) for i in range(40)]
    assert decoded.mappings == 1, "only the shard's header is a mapping"
    assert decoded.key_sets == 1, "the runs' keys are decoded once, not per run"
    assert decoded.calls == 3  # the header, the keys, all rows


def test_runs_with_other_keys_each_decode_their_own_keys_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys are per line: runs whose keys differ (a metric more) are each decoded with their
    own, listed in any order; key sets shared by several runs are decoded once."""
    client = Client(tracking_uri=str(tmp_path / "mlruns"))
    exp_id = client.create_experiment("shapes")
    one = run_index.shard_name("00")
    monkeypatch.setattr(run_index, "shard_name", lambda run_id: one)
    plain = ended_runs(client, exp_id, 6)
    more = ended_runs(client, exp_id, 4, metric="other")
    client.log_batch(more[0], metrics=[Metric("m", 7.0, 1, 0)])
    client.set_terminated(more[0])
    age_tree(tmp_path / "mlruns")
    client.search_runs([exp_id])
    read_runs = spy_reads(client, monkeypatch)
    decoded = _spy_json(monkeypatch)
    runs = {r.info.run_id: r for r in client.search_runs([exp_id])}
    assert read_runs == []
    assert set(runs) == set(plain) | set(more)
    assert runs[more[0]].data.metrics == {"other": 0.0, "m": 7.0}
    assert runs[more[1]].data.metrics == {"other": 1.0}
    assert runs[plain[5]].data.metrics == {"m": 5.0}
    assert decoded.key_sets == 3 and decoded.mappings == 1


def _decoded_per_run(monkeypatch: pytest.MonkeyPatch, metrics: int) -> Any:
    """What decoding a shard of 10 runs of ``metrics`` metrics each (and a token per metric
    file) takes, counted, and the runs it gives back."""
    lines = []
    made = []
    for i in range(10):
        points = {
            f"x{k}": (i + k / 7, 1_700_000_000_000 + k, k, None, None) for k in range(metrics)
        }
        files = RunFiles(
            {"run_id": f"r{i}", "status": 3, "tags": (), "start_time": 5},
            {"m": (float(i), 1, 0, None, None), **points},
            {"p": str(i)},
            {"t": "aaa"},
        )
        paths = ["meta.yaml", "metrics/m", *(f"metrics/x{k}" for k in range(metrics))]
        tokens = "|" + "".join(f"{path}>{i}-{n}-7|" for n, path in enumerate(sorted(paths)))
        lines.append(run_index.encode_line(f"r{i}", tokens, files))
        made.append((tokens, files))
    decoded = _spy_json(monkeypatch)
    parsed = run_index.shard_lines(b"\n".join([run_index._HEADER, *lines, b""])) or []
    assert [(line.tokens_text(), line.files()) for line in parsed] == made
    return decoded


def test_what_a_run_decodes_does_not_grow_with_its_metrics_and_files(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Format 7: a run's change tokens are one string and its metrics' numbers another, so
    runs with 20 more metrics (20 more files) decode as many values from their rows (format 6
    decoded a token per file and three numbers per metric), and the values come back exact."""
    few = _decoded_per_run(monkeypatch, 0)
    many = _decoded_per_run(monkeypatch, 20)
    assert many.numbers == few.numbers, "no metric number is decoded one by one"
    # The one key set decoded holds 20 more metric keys and 20 more token paths; the rows
    # hold as many strings as before.
    assert many.strings == few.strings + 40
    assert many.calls == few.calls == 3


def test_a_format6_shard_is_read_without_reading_the_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shard an fsregistry of format 6 wrote (tokens one by one, each metric's numbers apart)
    is still read: a fresh process takes its runs from it, with the same answer, and its
    format-7 lines appended later are read next to the format-6 ones."""
    client = Client(tracking_uri=str(tmp_path / "mlruns"))
    exp_id = client.create_experiment("format6")
    one = run_index.shard_name("00")
    monkeypatch.setattr(run_index, "shard_name", lambda run_id: one)
    run_ids = ended_runs(client, exp_id, 8)
    client.log_batch(run_ids[3], metrics=[Metric("m", 2.5, 7, 9)])
    client.set_terminated(run_ids[3])
    age_tree(tmp_path / "mlruns")
    client.search_runs([exp_id])
    shard = tmp_path / "mlruns" / exp_id / one
    lines = run_index.shard_lines(shard.read_bytes()) or []
    assert len(lines) == 8
    original = run_index.decode_shard(shard.read_bytes())
    old = [_format6_line(line) for line in lines[:6]]
    new = shard.read_bytes().split(b"\n")[7:9]  # the last two runs' lines, as format 7 wrote
    shard.write_bytes(b"\n".join([b'{"format":6}', *old, *new, b""]))
    # Every token, value, timestamp and step as the format-7 lines held them.
    assert run_index.decode_shard(shard.read_bytes()) == original
    read_runs = spy_reads(client, monkeypatch)
    runs = client.search_runs([exp_id], order_by=["metrics.m DESC"])
    assert read_runs == [], "every run came from the format-6 shard"
    assert [r.info.run_id for r in runs] == [run_ids[i] for i in (7, 6, 5, 4, 3, 2, 1, 0)]
    assert runs[4].data.metrics == {"m": 2.5}
    assert [r.data.params["p"] for r in runs] == [str(i) for i in (7, 6, 5, 4, 3, 2, 1, 0)]


def _format6_line(line: run_index.ShardLine) -> bytes:
    """``line`` as fsregistry's previous shard format (6) wrote it: keys without the closing
    format number, each token and each metric number a value of the row."""
    files = line.files()
    tokens = line.tokens_text()[1:-1].split("|")
    keys, _ = run_files_row_of(files)
    metric_keys = keys[3]
    points = [files.metrics[k] for k in metric_keys]
    head = [[t.partition(">")[0] for t in tokens], *keys]
    row = [
        *(t.partition(">")[2] for t in tokens),
        *files.meta.values(),
        *(files.params[k] for k in keys[1]),
        *(files.tags[k] for k in keys[2]),
        *(p[0] for p in points),
        *(n for p in points for n in (p[1], p[2])),
        None,
        list(files.inputs),
        list(files.outputs),
    ]
    return b"\t".join(
        [
            json.dumps(line.run_id).encode(),
            json.dumps(head, separators=(",", ":")).encode(),
            json.dumps(row, separators=(",", ":")).encode(),
        ]
    )


def _format5_line(run_id: str, entry: dict[str, Any]) -> bytes:
    """A line as fsregistry's previous shard format (5) wrote it."""
    value = json.dumps(entry, separators=(",", ":")).encode()
    return json.dumps(run_id).encode() + b"\t" + value


def test_a_shard_of_the_previous_format_is_read_from_the_files_and_rewritten(
    store_url: str, store_fs: tuple[Any, str], backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A format-5 shard (an fsregistry before this one) holds valid JSON summaries of the same
    runs: its runs are read from their files, never taken from it, and summarised again in
    format 7; a format-7 shard damaged to look like format 5 is not read either."""
    fs, root = store_fs
    client = Client(tracking_uri=store_url)
    exp_id = client.create_experiment("format5")
    run_ids = ended_runs(client, exp_id, 6)
    if backend == "local":
        age_tree(root)
    client.search_runs([exp_id])
    shards = sorted(
        p
        for p in fs.find(f"{root}/{exp_id}")
        if os.path.basename(p).startswith(run_index.SHARD_PREFIX)
    )
    entries: dict[str, dict[str, Any]] = {}
    for shard in shards:
        decoded = run_index.decode_shard(fs.cat_file(shard))
        assert decoded
        entries.update(decoded)
        # The same summaries, but a param changed: a reader that took them would say "lied".
        lines = []
        for run_id, entry in decoded.items():
            entry["run"]["params"]["p"] = "lied"
            lines.append(_format5_line(run_id, entry))
        fs.pipe_file(shard, b"\n".join([b'{"format":5}', *lines, b""]))
        assert run_index.decode_shard(fs.cat_file(shard)) == {}
    assert set(entries) == set(run_ids)
    read_runs = spy_reads(client, monkeypatch)
    got = {r.info.run_id: r.data.params["p"] for r in client.search_runs([exp_id])}
    assert got == {rid: str(i) for i, rid in enumerate(run_ids)}
    assert set(read_runs) == set(run_ids)
    rewritten: dict[str, dict[str, Any]] = {}
    for shard in shards:
        raw = fs.cat_file(shard)
        assert raw.startswith(b'{"format":7}\n')
        rewritten.update(run_index.decode_shard(raw) or {})
    assert {r: e["run"]["params"]["p"] for r, e in rewritten.items()} == got
    read_again = spy_reads(client, monkeypatch)
    assert len(client.search_runs([exp_id])) == 6 and read_again == []


def test_a_row_of_another_width_or_damaged_keys_is_left_out(tmp_path: Path) -> None:
    """A line whose row does not fit its keys, or whose keys are no key lists, is left out
    (its run is read from its files); the shard's other lines are used."""
    client = Client(tracking_uri=str(tmp_path / "mlruns"))
    exp_id = client.create_experiment("widths")
    (run_id,) = ended_runs(client, exp_id, 1)
    shard = tmp_path / "mlruns" / exp_id / run_index.shard_name(run_id)
    whole = shard.read_bytes()
    key, keys, row = whole.split(b"\n")[1].split(b"\t")
    short = b"\t".join([json.dumps("a" * 32).encode(), keys, row[: row.rindex(b",")] + b"]"])
    bad_keys = b"\t".join([json.dumps("b" * 32).encode(), b'[["meta.yaml"],{"a":1}]', row])
    shard.write_bytes(whole + short + b"\n" + bad_keys + b"\n")
    decoded = run_index.decode_shard(shard.read_bytes())
    assert decoded is not None and set(decoded) == {run_id}
    assert decoded[run_id]["tok"].startswith("|meta.yaml>")
    assert json.loads(key) == run_id


@pytest.mark.parametrize(
    "metrics",
    [
        {"a": (1.5, 1_700_000_000_000, 3, None, None), "b": (-2.0, 1, 0, None, None)},
        {"a": (1.5, 1, 3, "train", "d1"), "b": (float("nan"), 2, 0, None, None)},
        {"a": (1.5, 2**70, 3, None, None), "b": (2.0, 1, 2, "ds", None)},  # beyond int64
        {},
    ],
)
def test_a_line_gives_back_the_run_it_was_made_from(metrics: dict[str, Any]) -> None:
    """Every form ``RunFiles`` keeps (packed numbers, datasets, values beyond int64, no
    metrics) comes back equal from its shard line, whatever order its keys were in."""
    files = RunFiles(
        {"run_id": "r1", "status": 3, "tags": (), "start_time": 5},
        metrics,
        {"z": "1", "a": "2"},
        {"t": "x", "mlflow.runName": "n"},
        ({"source_type": "DATASET", "source_id": "s", "tags": {"k": "v"}},),
        (),
    )
    tokens = "|meta.yaml>1-2-3|params/a>4-5-6|"
    line = run_index.encode_line("r1", tokens, files)
    lines = run_index.shard_lines(run_index._HEADER + b"\n" + line + b"\n")
    assert lines is not None and len(lines) == 1
    back = lines[0].files()
    assert (back.meta, back.params, back.tags) == (files.meta, files.params, files.tags)
    assert (back.inputs, back.outputs) == (files.inputs, files.outputs)
    # NaN equals nothing, so metrics compare by their text (sorted: a line sorts its keys).
    assert repr(sorted(back.metrics.items())) == repr(sorted(files.metrics.items()))
    assert lines[0].tokens_text() == tokens
    assert lines[0].tokens() == run_index.compact_tokens(tokens)


def test_a_metric_value_beyond_a_float_is_left_out() -> None:
    files = RunFiles({"run_id": "r1"}, {"a": (1.0, 2**70, 0, None, None)})
    line = run_index.encode_line("r1", "|meta.yaml>1|", files).replace(
        b"1.0,", b"1" + b"0" * 400 + b","
    )
    shard = run_index._HEADER + b"\n" + line + b"\n"
    (parsed,) = run_index.shard_lines(shard) or []
    with pytest.raises(ValueError):
        parsed.files()
    assert run_index.decode_shard(shard) == {}


def test_a_trusted_search_decodes_only_the_tokens_of_the_runs_it_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trusted cold search never checks an ended run against its files (``trust``), so it
    decodes no ended run's change tokens (counted), only a running run's, which it takes from
    the shard as its files are unchanged. A checked search in the same process never takes
    the summaries whose tokens were not decoded: it reads those runs' files, same answer."""
    client = Client(tracking_uri=str(tmp_path / "mlruns"))
    exp_id = client.create_experiment("tokens")
    run_ids = ended_runs(client, exp_id, 6)
    running = client.create_run(exp_id, run_name="running").info.run_id
    client.log_batch(running, metrics=[Metric("m", 99.0, 1, 0)])
    age_tree(tmp_path / "mlruns")
    client.search_runs([exp_id])  # summarised again at the aged tokens, the running run too
    monkeypatch.setenv("FSREG_TRUST_INDEX", "1")
    read_runs = spy_reads(client, monkeypatch)
    decoded: list[str] = []
    tokens = run_index.ShardLine.tokens

    def counted(line: run_index.ShardLine) -> run_index.Tokens:
        decoded.append(line.run_id)
        return tokens(line)

    monkeypatch.setattr(run_index.ShardLine, "tokens", counted)
    trusted = [(r.info.run_id, r.data.metrics) for r in client.search_runs([exp_id])]
    assert decoded == [running], "only the running run's tokens are decoded"
    assert read_runs == [], "every run came from the shards"
    expected = [(r, {"m": float(i)}) for i, r in enumerate(run_ids)] + [(running, {"m": 99.0})]
    assert sorted(trusted) == sorted(expected)
    monkeypatch.setenv("FSREG_TRUST_INDEX", "0")
    checked = [(r.info.run_id, r.data.metrics) for r in client.search_runs([exp_id])]
    assert checked == trusted
    assert sorted(read_runs) == sorted(run_ids), "ended runs read: their tokens are unknown"
