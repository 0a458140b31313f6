"""Byte-level download progress: the storage callback, the artifact repository, and the
progress bar of ``fsreg artifacts download`` (real console script, local disk, S3, GCS)."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

from fsregistry import Client
from fsregistry.artifacts import download_artifacts
from fsregistry.storage import open_storage
from fsregistry.storage.artifact_repo import ArtifactRepository

FSREG = shutil.which("fsreg", path=os.path.dirname(sys.executable)) or "fsreg"


class Recorder:
    """A DownloadProgress that remembers what it was told."""

    def __init__(self) -> None:
        self.totals: list[int | None] = []
        self.chunks: list[int] = []

    def start(self, total_bytes: int | None) -> None:
        self.totals.append(total_bytes)

    def advance(self, nbytes: int) -> None:
        self.chunks.append(nbytes)


def logged_run(url: str, tmp_path: Path, size: int) -> tuple[str, bytes]:
    """A run with ``data/big.bin`` (random bytes of ``size``) and ``data/small.txt``."""
    client = Client(tracking_uri=url)
    run_id = client.create_run("0").info.run_id
    payload = os.urandom(size)
    src = tmp_path / "src" / "big.bin"
    src.parent.mkdir()
    src.write_bytes(payload)
    client.log_artifact(run_id, str(src), "data")
    client.log_text(run_id, "small", "data/small.txt")
    return run_id, payload


def test_progress_reports_every_byte(store_url: str, tmp_path: Path, backend: str) -> None:
    run_id, payload = logged_run(store_url, tmp_path, 3 * 1024 * 1024 + 123)
    artifact_uri = Client(tracking_uri=store_url).get_run(run_id).info.artifact_uri
    storage = open_storage(artifact_uri)

    seen: list[int] = []
    storage.get_file("data/big.bin", str(tmp_path / "raw.bin"), callback=seen.append)
    assert sum(seen) == len(payload) and (tmp_path / "raw.bin").read_bytes() == payload
    if backend == "local":
        assert len(seen) == 4  # one report per MiB

    one = Recorder()
    (tmp_path / "one").mkdir()
    path = ArtifactRepository(artifact_uri).download_artifacts(
        "data/big.bin", str(tmp_path / "one"), progress=one
    )
    assert Path(path).read_bytes() == payload
    assert one.totals == [len(payload)] and sum(one.chunks) == len(payload)

    tree = Recorder()
    (tmp_path / "tree").mkdir()
    path = download_artifacts(
        artifact_uri=f"runs:/{run_id}/data",
        dst_path=str(tmp_path / "tree"),
        tracking_uri=store_url,
        progress=tree,
    )
    assert (Path(path) / "big.bin").read_bytes() == payload
    assert (Path(path) / "small.txt").read_bytes() == b"small"
    assert tree.totals == [len(payload) + 5] and sum(tree.chunks) == len(payload) + 5


def fsreg(*args: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FSREG, *args], capture_output=True, text=True, timeout=120, **kwargs)  # type: ignore[call-overload]


def test_fsreg_download_bar_only_when_asked(store_url: str, tmp_path: Path, backend: str) -> None:
    run_id, payload = logged_run(store_url, tmp_path, 2 * 1024 * 1024)
    uri = f"runs:/{run_id}/data/big.bin"
    (tmp_path / "a").mkdir()
    forced = fsreg(
        "artifacts", "download", uri, "-d", str(tmp_path / "a"), "-t", store_url, "--progress"
    )
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.strip() == str(tmp_path / "a" / "data" / "big.bin")
    assert (tmp_path / "a" / "data" / "big.bin").read_bytes() == payload
    assert "big.bin" in forced.stderr and "2.1/2.1 MB" in forced.stderr
    if backend != "local":
        return  # the rest is the CLI's own logic, the same on every store
    (tmp_path / "b").mkdir()
    piped = fsreg("artifacts", "download", uri, "-d", str(tmp_path / "b"), "-t", store_url)
    assert piped.returncode == 0 and piped.stderr == ""
    assert (tmp_path / "b" / "data" / "big.bin").read_bytes() == payload
    (tmp_path / "c").mkdir()
    as_json = fsreg(
        "artifacts",
        "download",
        f"runs:/{run_id}/data",
        "-d",
        str(tmp_path / "c"),
        "-t",
        store_url,
        "--json",
    )
    assert as_json.returncode == 0 and as_json.stderr == ""
    assert json.loads(as_json.stdout) == {"local_path": str(tmp_path / "c" / "data")}
    assert (tmp_path / "c" / "data" / "big.bin").read_bytes() == payload


def run_with_terminal_stderr(args: list[str]) -> tuple[int, str, str]:
    """Run fsreg with stderr on a pseudo-terminal; (exit code, stdout, terminal output)."""
    leader, follower = pty.openpty()
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "120"}
    proc = subprocess.run(
        [FSREG, *args], stdout=subprocess.PIPE, stderr=follower, text=True, timeout=120, env=env
    )
    os.close(follower)
    out = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the terminal's other side is closed
            break
        if not chunk:
            break
        out += chunk
    os.close(leader)
    return proc.returncode, proc.stdout, out.decode("utf-8", errors="replace")


def test_fsreg_download_bar_on_a_terminal_for_large_files(tmp_path: Path) -> None:
    url = str(tmp_path / "mlruns")
    run_id, payload = logged_run(url, tmp_path, 11 * 1024 * 1024)
    for name in ("large", "small"):
        (tmp_path / name).mkdir()
    code, out, terminal = run_with_terminal_stderr(
        [
            "artifacts",
            "download",
            f"runs:/{run_id}/data/big.bin",
            "-d",
            str(tmp_path / "large"),
            "-t",
            url,
        ]
    )
    assert code == 0 and out.strip() == str(tmp_path / "large" / "data" / "big.bin")
    assert "big.bin" in terminal and "11.5/11.5 MB" in terminal
    assert (tmp_path / "large" / "data" / "big.bin").read_bytes() == payload
    code, out, terminal = run_with_terminal_stderr(
        [
            "artifacts",
            "download",
            f"runs:/{run_id}/data/small.txt",
            "-d",
            str(tmp_path / "small"),
            "-t",
            url,
        ]
    )
    assert code == 0 and terminal == ""
