"""``meta.yaml`` bytes <-> dicts, written exactly as MLflow writes them.

PyYAML safe dump, block style, sorted keys, unicode kept, UTF-8.

Reading is on the hot path (a registry search parses one file per version, a cold run search
one per run), and PyYAML's constructor costs ~1 ms per file even with the C parser. Files in
the shape MLflow and fsregistry write (flat ``key: scalar`` lines, one nested level, ``[]``
and ``{}``) go through a small exact reader of that subset of YAML; anything else, or any
doubt, goes to PyYAML (the C loader when libyaml is there), so results are always PyYAML's.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from fsregistry.exceptions import FsRegistryException

if TYPE_CHECKING:
    from types import ModuleType


def now_ms() -> int:
    """Now as MLflow's files record times: milliseconds since the epoch."""
    return int(time.time() * 1000)


def decode_text(raw: bytes) -> str:
    """Param and tag files: UTF-8 text without a trailing newline (kept verbatim)."""
    return raw.decode("utf-8")


class MalformedMetaFile(FsRegistryException):
    """A ``meta.yaml`` is empty, not YAML, or not a mapping."""


def _yaml() -> ModuleType:
    # Imported on first need (~30 ms): a read-only command whose files all take the fast
    # path below (``fsreg ls models``) never needs it.
    import yaml

    return yaml


def dump_meta(data: dict[str, Any]) -> bytes:
    yaml = _yaml()
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # C speed when libyaml is there
    text: str = yaml.dump(
        data, Dumper=dumper, default_flow_style=False, allow_unicode=True, sort_keys=True
    )
    return text.encode("utf-8")


# Plain scalars that YAML 1.1 (PyYAML) reads as strings: they start with a letter, "/" or
# "_" (numbers, floats, dates, ".inf" and the like start otherwise) and hold no character with
# a meaning in YAML syntax; the bool and null words are excluded by name.
_PLAIN = re.compile(r"[A-Za-z/_][A-Za-z0-9_./:@+-]*\Z")
_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]*):(?: (.*))?\Z")
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
# Hex ids (run ids, digests, nonces) may start with a digit; letters and digits alone never
# make a YAML 1.1 number unless the token is all digits, or 0b + binary digits, or 0x + hex
# digits (PyYAML's int patterns; "0b4a", "0xzz" or "0X1F" stay strings).
_DIGIT_WORD = re.compile(
    r"(?!0b[01]+\Z)(?!0x[0-9a-fA-F]+\Z)[0-9][0-9A-Za-z]*[A-Za-z][0-9A-Za-z]*\Z"
)
_QUOTED = re.compile(r"'((?:[^'\n]|'')*)'\Z")
_WORDS: dict[str, Any] = {
    **{w: True for w in ("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")},
    **{w: False for w in ("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")},
    **{w: None for w in ("null", "Null", "NULL", "~")},
}
_NO_VALUE = object()
# YAML line breaks besides "\n": PyYAML writes U+2028 and U+2029 raw inside a quoted scalar
# (followed by the indentation it then strips), so a line of that file is not a line here.
_OTHER_LINE_BREAKS = ("\r", "\x85", "\u2028", "\u2029")


def _scalar(text: str) -> Any:
    """The value PyYAML gives ``text``, or ``_NO_VALUE`` when unsure."""
    if text in _WORDS:
        return _WORDS[text]
    if _INT.match(text):
        return int(text)
    if text == "[]":
        return []
    if text == "{}":
        return {}
    quoted = _QUOTED.match(text)
    if quoted:
        return quoted.group(1).replace("''", "'")
    if (_PLAIN.match(text) and not text.endswith(":")) or _DIGIT_WORD.match(text):
        return text
    return _NO_VALUE


class _Line(NamedTuple):
    """One ``key: value`` line of the flat shape, as parsed."""

    inner: bool  # indented under the block before it
    key: str
    value: str | None  # the text after "key: ", None for a "key:" line
    parsed: Any  # the value PyYAML gives it, or _NO_VALUE


# Lines already parsed: most lines of a registry's or an experiment's meta.yaml files repeat
# from file to file ("current_stage: None", "status: READY"...), and a first reader parses
# every one of them. Bounded: cleared when full.
_LINES: dict[str, _Line] = {}
_LINES_KEPT = 8192
_LINE_KEPT_CHARS = 200


def _line(line: str) -> _Line | None:
    """One line parsed, or None when it is not of the flat shape."""
    inner = line.startswith("  ")
    m = _KEY_LINE.match(line[2:] if inner else line)
    if m is None or m.group(1) in _WORDS:  # "yes:" or "null:" are not string keys
        return None
    key, value = m.group(1), m.group(2)
    return _Line(inner, key, value, _NO_VALUE if value is None else _scalar(value))


def _load_simple(text: str) -> dict[str, Any] | None:
    """Parse the flat shape MLflow writes, or None to let PyYAML decide."""
    if any(brk in text for brk in _OTHER_LINE_BREAKS):
        return None  # a quoted scalar may span lines this reader does not split at
    out: dict[str, Any] = {}
    nested: dict[str, Any] | None = None
    empty_blocks: set[str] = set()  # "key:" lines with nothing below are null in YAML
    lines = _LINES
    for line in text.split("\n"):
        if not line:
            continue
        known = lines.get(line)
        if known is None:
            known = _line(line)
            if known is None:
                return None
            # Shared: immutable values only, of short lines (the ones that repeat; a long
            # description would be held for the process's life), parsed to a value.
            if (
                len(line) <= _LINE_KEPT_CHARS
                and not isinstance(known.parsed, (list, dict))
                and (known.value is None or known.parsed is not _NO_VALUE)
            ):
                if len(lines) >= _LINES_KEPT:
                    lines.clear()
                lines[line] = known
        inner, key, value, parsed = known
        if inner:
            if nested is None or parsed is _NO_VALUE:
                return None
            nested[key] = parsed
            continue
        empty_blocks.discard(key)
        if value is None:
            nested = out[key] = {}
            empty_blocks.add(key)
            continue
        if parsed is _NO_VALUE:
            return None
        nested = None
        out[key] = parsed
    for key in empty_blocks:
        if not out[key]:
            out[key] = None
    return out


def load_meta(raw: bytes, where: str) -> dict[str, Any]:
    """Parse a meta.yaml; ``where`` names the file in errors."""
    if not raw.strip():
        raise MalformedMetaFile(f"Malformed meta file {where}: empty")
    try:
        simple = _load_simple(raw.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise MalformedMetaFile(f"Malformed meta file {where}: {e}") from e
    if simple:
        return simple
    yaml = _yaml()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=loader)
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise MalformedMetaFile(f"Malformed meta file {where}: {e}") from e
    if not isinstance(data, dict):
        raise MalformedMetaFile(f"Malformed meta file {where}: not a mapping")
    return data
