"""A wheel of the running fsregistry, built from its installed files.

Docker images install fsregistry from this wheel rather than from a package index: fsregistry
may not be on the index (unreleased, patched, private), and the image should run exactly the
code that wrote it. A wheel (not a bare copy of the package) lets pip resolve fsregistry's
dependencies together with the model's requirements and create the ``fsreg`` console script.
Nothing is compiled or built: a pure-Python wheel is a zip of the package plus a
``.dist-info`` (PEP 427), written here with fixed timestamps so the same code gives the same
bytes (and Docker reuses its cached layers).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import os
import re
import zipfile
from pathlib import Path

from fsregistry.exceptions import InvalidState
from fsregistry.package import package_dir, package_files

_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
_EXTRA_MARKER = re.compile(r"\bextra\s*==")
_DEFAULT_ENTRY_POINTS = "[console_scripts]\nfsreg = fsregistry.cli.app:main\n"


def _distribution() -> importlib.metadata.Distribution:
    try:
        return importlib.metadata.distribution("fsregistry")
    except importlib.metadata.PackageNotFoundError:
        raise InvalidState(
            "fsregistry is not installed as a package (no metadata found), so its wheel "
            "cannot be written: install it with pip (pip install -e . in a checkout)"
        ) from None


def runtime_requirements(dist: importlib.metadata.Distribution) -> list[str]:
    """fsregistry's own dependencies (``Requires-Dist`` lines without an ``extra`` marker)."""
    reqs = [r for r in (dist.requires or []) if not _EXTRA_MARKER.search(r)]
    if not reqs:
        raise InvalidState(
            "The installed fsregistry lists no dependencies in its metadata; reinstall it with "
            "pip so its wheel can declare them"
        )
    return reqs


def wheel_name(version: str) -> str:
    return f"fsregistry-{version}-py3-none-any.whl"


def _metadata(version: str, dist: importlib.metadata.Distribution) -> str:
    lines = [
        "Metadata-Version: 2.1",
        "Name: fsregistry",
        f"Version: {version}",
        "Summary: fsregistry copied from the host that wrote this wheel",
    ]
    lines += [f"Requires-Python: {r}" for r in dist.metadata.get_all("Requires-Python") or []]
    lines += [f"Requires-Dist: {r}" for r in runtime_requirements(dist)]
    return "\n".join(lines) + "\n"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _add(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    zf.writestr(info, data)


def build_wheel(dest_dir: str | os.PathLike[str]) -> Path:
    """Write ``fsregistry-<version>-py3-none-any.whl`` of the running fsregistry into
    ``dest_dir`` (an existing directory); returns its path."""
    dist = _distribution()
    version = dist.version
    root = package_dir()
    dist_info = f"fsregistry-{version}.dist-info"
    entries: list[tuple[str, bytes]] = [
        (f"fsregistry/{p.relative_to(root).as_posix()}", p.read_bytes())
        for p in package_files(root)
    ]
    entry_points = dist.read_text("entry_points.txt") or _DEFAULT_ENTRY_POINTS
    entries += [
        (f"{dist_info}/METADATA", _metadata(version, dist).encode("utf-8")),
        (
            f"{dist_info}/WHEEL",
            b"Wheel-Version: 1.0\nGenerator: fsregistry\nRoot-Is-Purelib: true\n"
            b"Tag: py3-none-any\n",
        ),
        (f"{dist_info}/entry_points.txt", entry_points.encode("utf-8")),
    ]
    record = [_record_line(name, data) for name, data in entries] + [f"{dist_info}/RECORD,,"]
    entries.append((f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode("utf-8")))
    path = Path(dest_dir) / wheel_name(version)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries:
            _add(zf, name, data)
    return path
