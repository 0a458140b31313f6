"""Access to the committed MLflow-written stores in ``mlruns_fixture/``.

``mlruns_fixture/mlflow-<version>/`` holds ``mlruns/`` (a store written by that real MLflow,
see ``scripts/make_mlruns_fixture.py``), ``expected.json`` (MLflow's own answers read back
from it) and ``empty_dirs.txt`` (empty directories, which git does not keep but MLflow 3
needs: a run without ``metrics/``, ``params/`` or ``artifacts/`` is "not found").

Tests must work on a copy: ``copy_fixture_tree(version, tmp_path / "mlruns")``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

__all__ = [
    "EMPTY_DIRS_FILE",
    "FIXTURE_ROOT",
    "copy_fixture_tree",
    "empty_dirs",
    "fixture_dir",
    "load_expected",
    "upload_fixture_tree",
]

FIXTURE_ROOT = Path(__file__).resolve().parent.parent / "mlruns_fixture"
EMPTY_DIRS_FILE = "empty_dirs.txt"


def fixture_dir(version: str) -> Path:
    """``mlruns_fixture/mlflow-<version>`` (raises if it was never generated)."""
    d = FIXTURE_ROOT / f"mlflow-{version}"
    if not (d / "mlruns").is_dir():
        raise FileNotFoundError(
            f"no fixture tree for MLflow {version} at {d}; run "
            "`python scripts/make_mlruns_fixture.py`"
        )
    return d


def load_expected(version: str) -> dict[str, Any]:
    """MLflow's own answers for the fixture tree of ``version`` (``expected.json``)."""
    with open(fixture_dir(version) / "expected.json", encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def empty_dirs(root: Path) -> list[str]:
    """Leaf directories under ``root`` with no entries, as sorted POSIX relative paths."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        if not dirnames and not filenames and Path(dirpath) != root:
            out.append(Path(dirpath).relative_to(root).as_posix())
    return sorted(out)


def _listed_empty_dirs(version: str) -> list[str]:
    listing = fixture_dir(version) / EMPTY_DIRS_FILE
    if not listing.exists():
        return []
    lines = listing.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip()]


def copy_fixture_tree(version: str, dst: str | os.PathLike[str]) -> Path:
    """Copy the fixture store of MLflow ``version`` so that ``dst`` is its root; return ``dst``.

    Recreates the empty directories listed in ``empty_dirs.txt``. ``dst`` must not exist.
    """
    dst_path = Path(dst)
    if dst_path.exists():
        raise FileExistsError(f"copy_fixture_tree: destination {dst_path} already exists")
    shutil.copytree(fixture_dir(version) / "mlruns", dst_path)
    for rel in _listed_empty_dirs(version):
        (dst_path / rel).mkdir(parents=True, exist_ok=True)
    return dst_path


def upload_fixture_tree(version: str, url: str, **storage_options: Any) -> str:
    """Upload the fixture store of ``version`` to an fsspec ``url`` (e.g. ``s3://b/mlruns``).

    Object stores have no empty directories; they are skipped. Returns ``url``.
    """
    import fsspec

    fs, root = fsspec.core.url_to_fs(url, **storage_options)
    src = fixture_dir(version) / "mlruns"
    for path in sorted(src.rglob("*")):
        if path.is_file():
            rel = path.relative_to(src).as_posix()
            fs.pipe_file(f"{root.rstrip('/')}/{rel}", path.read_bytes())
    return url
