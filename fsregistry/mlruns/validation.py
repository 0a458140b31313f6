"""MLflow's rules for names, keys and values, checked before anything is written.

Keys become file paths (``params/a/b``), so a bad key is a path-traversal risk as much as a
compatibility one: every check here runs before the first byte is written, and every error
names the rejected value.
"""

from __future__ import annotations

import math
import numbers
import posixpath
import re
from collections.abc import Iterable, Mapping
from typing import Any

from fsregistry.exceptions import SHOWN_CHARS, InvalidParameterValue, shown

MAX_ENTITY_KEY_LENGTH = 250
MAX_PARAM_VAL_LENGTH = 6000
MAX_TAG_VAL_LENGTH = 8000
MAX_EXPERIMENT_NAME_LENGTH = 500
MAX_EXPERIMENT_TAG_VAL_LENGTH = 20000
# MLflow 3's limit for registered model and version tags (its file and SQL stores; 2.x: 5,000).
# MLflow 2.22 reads longer values fine: only its writes check the limit.
MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH = 100_000
MAX_REGISTERED_MODEL_ALIAS_LENGTH = 255
MAX_PARAMS_TAGS_PER_BATCH = 100
MAX_METRICS_PER_BATCH = 1000

# Colons are allowed as on MLflow for POSIX; such keys are not portable to Windows. Matched
# with fullmatch: "$" alone also matches before a final newline ("a\n" passed as a key).
_KEY_RE = re.compile(r"^[/\w.\- :]*$")
_RUN_ID_RE = re.compile(r"^[a-zA-Z0-9][\w\-]{0,255}$")
_EXPERIMENT_ID_RE = re.compile(r"^[a-zA-Z0-9][\w\-]{0,63}$")
_ALIAS_RE = re.compile(r"^[\w\-]*$")
_VERSION_ALIAS_RE = re.compile(r"^[vV]\d+$")
_INT64_MAX = 2**63 - 1


def _fail(message: str) -> InvalidParameterValue:
    return InvalidParameterValue(message)


def invalid_value(path: str, value: Any, message: str | None = None) -> str:
    """MLflow's ``invalid_value`` text: ``Invalid value "x" for parameter 'path' supplied``
    (the value as JSON, shortened when long), then ``: message``."""
    import json

    try:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        text = shown(value)
    if len(text) > SHOWN_CHARS:
        text = f"{text[:SHOWN_CHARS]}... ({len(text)} characters)"
    head = f"Invalid value {text} for parameter '{path}' supplied"
    return f"{head}: {message}" if message else f"{head}."


def exceeds(field: str, limit: int) -> str:
    """MLflow's ``exceeds_maximum_length`` text for ``field``."""
    return f"'{field}' exceeds the maximum length of {limit} characters"


# MLflow's names for a key in its length message.
_KEY_FIELDS = {"param key": "Param key", "metric key": "Metric name"}
_KEY_CHARS = (
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), "
    "spaces ( ), colon(:) and slashes (/)."
)


def validate_key(key: Any, what: str = "key") -> str:
    """A metric, param or tag key: MLflow's characters, a normalised relative path."""
    if not isinstance(key, str):
        raise _fail(f"{invalid_value('key', key, 'must be a string')} (invalid {what})")
    if key == "":
        raise _fail(f"Missing value for required parameter 'key'. (empty {what})")
    if len(key) > MAX_ENTITY_KEY_LENGTH:
        field = _KEY_FIELDS.get(what, "key")
        raise _fail(f"{exceeds(field, MAX_ENTITY_KEY_LENGTH)} (invalid {what} {key[:40]!r}...)")
    if not _KEY_RE.fullmatch(key):
        raise _fail(f"{invalid_value('key', key, _KEY_CHARS)} (invalid {what} {key!r})")
    norm = posixpath.normpath(key)
    if norm != key or norm == "." or norm.startswith("..") or norm.startswith("/"):
        raise _fail(
            invalid_value(
                "key",
                key,
                "Names may be treated as files in certain cases, and must not resolve to "
                f"other names when treated as such. This name would resolve to {norm!r}",
            )
            + f" (invalid {what}: names are stored as file paths)"
        )
    return key


def validate_utf8(value: str, what: str) -> str:
    """Refuse a string UTF-8 cannot encode (lone surrogates such as ``'\\ud800'``, which
    ``os.fsdecode`` and ``surrogateescape`` produce): every file and object key is UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise _fail(
            f"Invalid {what} {value[:40]!r}: the character {value[e.start]!r} at position "
            f"{e.start} is a lone surrogate, which UTF-8 cannot store"
        ) from e
    return value


def validate_value_length(value: str, limit: int, what: str, field: str = "value") -> str:
    """``value`` if it holds no NUL nor lone surrogate and at most ``limit`` characters. The
    error carries MLflow's text (``'<field>' exceeds the maximum length of <limit>
    characters``, ``field`` being MLflow's name for it) and the start of the value."""
    if "\x00" in value:
        raise _fail(f"Invalid {what} {value[:40]!r}: contains a NUL character")
    if len(value) > limit:
        raise _fail(
            f"Invalid {what} {value[:40]!r}...: '{field}' exceeds the maximum length of "
            f"{limit} characters (it has {len(value)})"
        )
    return validate_utf8(value, what)


def value_text(value: Any, what: str) -> str:
    """A param or tag value as MLflow stores it, ``str(value)`` ("" for None), or why not:
    ``str`` itself refuses some values (an int of more than 4300 digits raises ValueError)."""
    if value is None:
        return ""
    try:
        return str(value)
    except (ValueError, TypeError) as e:
        raise _fail(f"Invalid {what} of type {type(value).__name__}: str() refused it: {e}") from e


def validate_param(key: Any, value: Any) -> tuple[str, str]:
    """Returns the key and the value as MLflow stores it (``str(value)``)."""
    validate_key(key, "param key")
    what = f"value of param {key!r}"
    return key, validate_value_length(
        value_text(value, what), MAX_PARAM_VAL_LENGTH, what, "Param value"
    )


def validate_tag(key: Any, value: Any, limit: int = MAX_TAG_VAL_LENGTH) -> tuple[str, str]:
    validate_key(key, "tag key")
    what = f"value of tag {key!r}"
    return key, validate_value_length(value_text(value, what), limit, what)


def validate_timestamp(value: Any, what: str) -> int:
    """A time in ms since the epoch given by the user (a run's start or end): an integer of
    any integral type (numpy's too), stored as a plain int; 0 to 2**63 - 1 as MLflow's int64."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _fail(f"Invalid {what} {shown(value)}: must be an integer (milliseconds)")
    number = int(value)
    if not 0 <= number <= _INT64_MAX:
        raise _fail(f"Invalid {what} {shown(value)}: must be between 0 and 2**63 - 1 ms")
    return number


def validate_metric(key: Any, value: Any, timestamp: Any, step: Any) -> tuple[str, float, int, int]:
    """Key, value as float (NaN and +/-inf allowed), timestamp ms >= 0, integer step."""
    validate_key(key, "metric key")
    double = "Please specify value as a valid double (64-bit floating point)"
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        raise _fail(invalid_value("value", value, f"metric {key!r}. {double}"))
    try:
        fvalue = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError) as e:
        raise _fail(invalid_value("value", value, f"metric {key!r} ({e}). {double}")) from e
    long = "Timestamp must be a nonnegative long (64-bit integer)"
    if isinstance(timestamp, bool) or not isinstance(timestamp, numbers.Integral):
        raise _fail(invalid_value("timestamp", timestamp, f"metric {key!r}. {long}"))
    if not 0 <= int(timestamp) <= _INT64_MAX:
        raise _fail(invalid_value("timestamp", timestamp, f"metric {key!r}. {long}"))
    step_long = "Step must be a valid long (64-bit integer)."
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise _fail(invalid_value("step", step, f"metric {key!r}. {step_long}"))
    if not -(2**63) <= int(step) <= _INT64_MAX:
        raise _fail(invalid_value("step", step, f"metric {key!r}. {step_long}"))
    return key, fvalue, int(timestamp), int(step)


def format_metric_value(value: float) -> str:
    """Python's ``str(float)``, as MLflow writes it: ``0.5``, ``nan``, ``inf``, ``-inf``."""
    return "nan" if math.isnan(value) else str(float(value))


def validate_run_id(run_id: Any) -> str:
    if not isinstance(run_id, str) or not _RUN_ID_RE.fullmatch(run_id):
        raise _fail(
            f"{invalid_value('run_id', run_id)} (Invalid run ID {shown(run_id)}: expected "
            "letters, digits, '_' or '-')"
        )
    return run_id


def validate_experiment_id(experiment_id: Any) -> str:
    if isinstance(experiment_id, bool) or not isinstance(experiment_id, str | int):
        raise _fail(f"Invalid experiment ID: {shown(experiment_id)} (must be a string or integer)")
    if isinstance(experiment_id, int) and not 0 <= experiment_id <= _INT64_MAX:
        raise _fail(f"Invalid experiment ID: {shown(experiment_id)} (out of range)")
    text = str(experiment_id)
    if not _EXPERIMENT_ID_RE.fullmatch(text):
        raise _fail(f"Invalid experiment ID: {shown(text)} (expected letters, digits, '_' or '-')")
    return text


def validate_experiment_name(name: Any) -> str:
    if not isinstance(name, str):
        raise _fail(f"Invalid experiment name: {shown(str(name))} (must be a string)")
    if name.strip() == "":
        raise _fail(f"Invalid experiment name: {shown(name)} (must not be empty)")
    if len(name) > MAX_EXPERIMENT_NAME_LENGTH:
        raise _fail(
            f"{exceeds('name', MAX_EXPERIMENT_NAME_LENGTH)} "
            f"(invalid experiment name {name[:40]!r}...)"
        )
    if "\x00" in name:
        raise _fail(f"Invalid experiment name: {shown(name)} (contains a NUL character)")
    return validate_utf8(name, "experiment name")


def validate_model_name(name: Any) -> str:
    """Registered model names are directory names: no '/', ':', '%', NUL, nor '.', '..'."""
    if not isinstance(name, str) or name.strip() == "":
        raise _fail(
            "Missing value for required parameter 'name'. "
            f"(invalid registered model name {shown(name)}: must be a non-empty string)"
        )
    if len(name) > MAX_ENTITY_KEY_LENGTH:
        raise _fail(f"Invalid registered model name {name[:40]!r}...: too long")
    for bad in ("/", ":"):
        if bad in name:
            raise _fail(
                f"Invalid model name {name!r}. Names cannot contain '/' or ':'. (registered "
                "model name cannot contain path separator)"
            )
    for bad in ("%", "\\", "\x00"):
        if bad in name:
            raise _fail(f"Invalid registered model name {name!r}: must not contain {bad!r}")
    norm = posixpath.normpath(name)
    if norm != name or name in (".", "..") or name.startswith("."):
        raise _fail(f"Invalid registered model name {name!r}: must not be a relative path")
    return validate_utf8(name, "registered model name")


# Names Windows reserves for devices, with or without an extension ("CON", "nul.txt").
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)
_WINDOWS_FORBIDDEN = '<>"|?*'
# Files of the mlruns tree a model directory must never take the name of: ``models/`` sits
# where experiment directories do, so ``models/meta.yaml`` would read as an experiment's.
_RESERVED_MODEL_NAMES = frozenset({"meta.yaml"})


def validate_new_model_name(value: Any) -> str:
    """A name for a model being created or renamed: :func:`validate_model_name`, and a name
    that round-trips through object stores, Windows and line-based listings: no control or
    invisible formatting characters (newline, tab, right-to-left override...), none of
    ``<>"|?*``, no Windows device name, no trailing dot or space. Existing models with such
    names (written by MLflow) stay readable: lookups check only :func:`validate_model_name`."""
    import unicodedata

    name = validate_model_name(value)
    for ch in name:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            raise _fail(
                f"Invalid registered model name {name!r}: contains the control or invisible "
                f"character U+{ord(ch):04X} ({unicodedata.name(ch, category)}), which listings "
                "and other systems show differently or not at all"
            )
        if ch in _WINDOWS_FORBIDDEN:
            raise _fail(
                f"Invalid registered model name {name!r}: must not contain {ch!r} "
                "(not allowed in file names on Windows)"
            )
    if name.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
        raise _fail(
            f"Invalid registered model name {name!r}: a device name on Windows "
            "(CON, PRN, AUX, NUL, COM1-9, LPT1-9)"
        )
    if name.endswith((".", " ")):
        raise _fail(
            f"Invalid registered model name {name!r}: must not end with a dot or a space "
            "(Windows drops them)"
        )
    if name in _RESERVED_MODEL_NAMES:
        raise _fail(f"Invalid registered model name {name!r}: reserved by the mlruns layout")
    return name


def validate_alias(alias: Any) -> str:
    if not isinstance(alias, str) or alias == "":
        raise _fail(
            "Registered model alias name cannot be empty. "
            f"(invalid alias {shown(alias)}: must be a non-empty string)"
        )
    if len(alias) > MAX_REGISTERED_MODEL_ALIAS_LENGTH:
        raise _fail(
            f"{exceeds('Registered model alias name', MAX_REGISTERED_MODEL_ALIAS_LENGTH)} "
            f"(invalid alias {alias[:40]!r}...)"
        )
    if not _ALIAS_RE.fullmatch(alias):
        raise _fail(
            f"Invalid alias name: {alias!r}. Names may only contain alphanumerics, "
            "underscores (_), and dashes (-)."
        )
    if alias.lower() == "latest":
        raise _fail(f"'latest' alias name (case insensitive) is reserved. (alias {alias!r})")
    if _VERSION_ALIAS_RE.fullmatch(alias):
        raise _fail(f"Version alias name {alias!r} is reserved.")
    return alias


def validate_dataset_input(item: Any) -> None:
    """A run's dataset input (``DatasetInput``): MLflow's fields as strings (``schema`` and
    ``profile`` may be None) with no NUL or lone surrogate, and tags with string keys and
    values, as MLflow's ``_validate_dataset_inputs`` requires (less its SQL column sizes,
    which its file store does not apply either)."""
    dataset = getattr(item, "dataset", None)
    if dataset is None or not hasattr(item, "tags"):
        raise _fail(f"Invalid dataset input {shown(item)}: expected a DatasetInput with a dataset")
    for field in ("name", "digest", "source_type", "source", "schema", "profile"):
        value = getattr(dataset, field, None)
        if value is None and field in ("schema", "profile"):
            continue
        if not isinstance(value, str):
            raise _fail(f"Invalid dataset {field} {shown(value)}: must be a string")
        validate_value_length(value, 2**31, f"dataset {field}")
    if isinstance(item.tags, str | bytes) or not isinstance(item.tags, Iterable):
        raise _fail(f"Invalid dataset input tags {shown(item.tags)}: expected a list of InputTag")
    for tag in item.tags:
        key, value = getattr(tag, "key", None), getattr(tag, "value", None)
        if not isinstance(key, str) or not isinstance(value, str):
            raise _fail(f"Invalid dataset input tag {shown(tag)}: key and value must be strings")
        validate_value_length(key, MAX_ENTITY_KEY_LENGTH, "dataset input tag key")
        validate_value_length(value, MAX_TAG_VAL_LENGTH, f"value of dataset input tag {key!r}")


def tag_items(tags: Mapping[str, Any] | Iterable[Any] | None) -> list[tuple[str, Any]]:
    """Tags as a dict or as objects with ``.key``/``.value`` (MLflow accepts both)."""
    if tags is None:
        return []
    if isinstance(tags, Mapping):
        return list(tags.items())
    if isinstance(tags, str | bytes) or not isinstance(tags, Iterable):
        raise InvalidParameterValue(f"Invalid tags {shown(tags)}: expected a dict")
    items: list[tuple[str, Any]] = []
    for t in tags:
        if not hasattr(t, "key") or not hasattr(t, "value"):
            raise InvalidParameterValue(f"Invalid tag {shown(t)}: expected a dict or tag objects")
        items.append((t.key, t.value))
    return items
