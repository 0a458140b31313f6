"""``meta.yaml`` bytes <-> dicts, written exactly as MLflow writes them.

PyYAML safe dump, block style, sorted keys, unicode kept, UTF-8. Reading uses the C loader
when PyYAML has it: search reads thousands of these.
"""

from __future__ import annotations

from typing import Any

import yaml

from fsregistry.exceptions import FsRegistryException

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # C speed when libyaml is there
_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class MalformedMetaFile(FsRegistryException):
    """A ``meta.yaml`` is empty, not YAML, or not a mapping."""


def dump_meta(data: dict[str, Any]) -> bytes:
    text: str = yaml.dump(
        data, Dumper=_Dumper, default_flow_style=False, allow_unicode=True, sort_keys=True
    )
    return text.encode("utf-8")


def load_meta(raw: bytes, where: str) -> dict[str, Any]:
    """Parse a meta.yaml; ``where`` names the file in errors."""
    if not raw.strip():
        raise MalformedMetaFile(f"Malformed meta file {where}: empty")
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=_Loader)
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise MalformedMetaFile(f"Malformed meta file {where}: {e}") from e
    if not isinstance(data, dict):
        raise MalformedMetaFile(f"Malformed meta file {where}: not a mapping")
    return data
