"""The running fsregistry package: its version (written here only; ``pyproject.toml`` reads
it) and its files, for the code that copies fsregistry into model environments and images.

Floor 0, like :mod:`fsregistry.exceptions`: it imports nothing of fsregistry, so any layer
may ask which fsregistry is running without importing the public namespace above it.
"""

from __future__ import annotations

import os
from pathlib import Path

__version__ = "0.1.0"

_SKIP_DIRS = frozenset({"__pycache__"})
_SKIP_SUFFIXES = (".pyc", ".pyo")


def package_dir() -> Path:
    """Directory of the running ``fsregistry`` package."""
    return Path(__file__).resolve().parent


def package_files(root: Path | None = None) -> list[Path]:
    """Every source file of the package at ``root`` (default: the running one), sorted, no
    byte-code: what an environment copy or a wheel carries."""
    root = root or package_dir()
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        files += [Path(dirpath, f) for f in sorted(filenames) if not f.endswith(_SKIP_SUFFIXES)]
    return files
