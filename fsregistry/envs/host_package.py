"""The running fsregistry, made importable in a model environment.

fsregistry may not be on the package index a site uses (air-gapped mirrors, an unreleased or
patched version), so an environment never installs it with pip: the package directory of the
running fsregistry is copied into ``<env>/fsregistry-code/<code digest>/fsregistry`` and a
``fsregistry.pth`` file in the environment's site-packages puts that directory on
``sys.path``. A minimal ``fsregistry-<version>.dist-info`` makes ``importlib.metadata``,
``pip list`` and pip's resolver see it.

The environment hash covers fsregistry's version, not its code: when the host's code changes
(an edited checkout, a patched install of the same version) the next ``prepare_env`` copies
the new code next to the old one and switches the ``.pth`` file atomically, instead of
rebuilding a whole environment. A process already running keeps the code it started with
(old copies are never deleted while the environment exists), a new one gets the host's
current code.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path

from fsregistry.package import package_dir, package_files

CODE_DIR = "fsregistry-code"
PTH_FILE = "fsregistry.pth"


@cache
def package_digest() -> str:
    """sha256 over the relative paths and contents of the fsregistry package's files (once
    per process: the code a process runs does not change under it)."""
    root = package_dir()
    h = hashlib.sha256()
    for path in package_files(root):
        h.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _pth_line(env_dir: Path) -> str:
    return str(env_dir / CODE_DIR / package_digest()[:32])


def code_is_current(env_dir: Path, site_packages: Path) -> bool:
    """Whether the environment imports the code of the running fsregistry."""
    try:
        text = (site_packages / PTH_FILE).read_text(encoding="utf-8")
    except OSError:
        return False
    return text.strip() == _pth_line(env_dir) and Path(_pth_line(env_dir), "fsregistry").is_dir()


def install_code(env_dir: Path, site_packages: Path) -> None:
    """Copy the running fsregistry into the environment (if that code is not there yet) and
    point ``fsregistry.pth`` at it. Call with the environment's lock held."""
    target = Path(_pth_line(env_dir))
    if not (target / "fsregistry").is_dir():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".partial-", dir=target.parent))
        try:
            root = package_dir()
            for path in package_files(root):
                dest = tmp / "fsregistry" / path.relative_to(root)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)
            if target.exists():  # a copy interrupted after the rename: replace it
                shutil.rmtree(target)
            os.rename(tmp, target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    tmp_pth = site_packages / (PTH_FILE + ".tmp")
    tmp_pth.write_text(str(target) + "\n", encoding="utf-8")
    os.replace(tmp_pth, site_packages / PTH_FILE)


def write_dist_info(site_packages: Path, version: str) -> None:
    """``fsregistry-<version>.dist-info`` (METADATA, INSTALLER, RECORD) for the ``.pth``."""
    dist_info = site_packages / f"fsregistry-{version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: fsregistry\nVersion: {version}\n"
        "Summary: The host's fsregistry, made importable by fsregistry.envs (not from an index)\n",
        encoding="utf-8",
    )
    (dist_info / "INSTALLER").write_text("fsregistry-envs\n", encoding="utf-8")
    record = [f"{PTH_FILE},,"] + [f"{dist_info.name}/{n},," for n in ("METADATA", "INSTALLER")]
    record.append(f"{dist_info.name}/RECORD,,")
    (dist_info / "RECORD").write_text("\n".join(record) + "\n", encoding="utf-8")
