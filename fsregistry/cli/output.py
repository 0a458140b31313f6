"""How the CLI prints: rich tables and key/value blocks for people, JSON for scripts.

A table piped to another program with plain ASCII cells is written directly, byte for byte
what rich writes there (no colours, columns two spaces apart, each cell padded to its
column's width): importing and running rich costs more than the rest of ``fsreg ls models``.
Everything else (a terminal, forced colours, markup or emoji codes rich would interpret,
other characters, whose width rich measures) goes through rich.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

# Piped output is for grep and cut: never wrap it at an imagined 80 columns.
_PIPE_WIDTH = 100_000
# Cells rich prints as they are: printable ASCII without "[" (markup) or ":name:" (emoji).
_VERBATIM = re.compile(r"[ -Z\\-~]*\Z")
_EMOJI_CODE = re.compile(r":[!#&()*+\-.0-9A-Z_a-z]+:")
# Environment rich reads that could turn colours or terminal behaviour on for a pipe.
_RICH_ENV = ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "JUPYTER_COLUMNS")


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], indent: int = 0) -> None:
    cells = [[str(c) for c in row] for row in rows]
    plain = plain_table(headers, cells)
    if plain is not None:
        if indent:
            plain = "".join(" " * indent + line for line in plain.splitlines(keepends=True))
        sys.stdout.write(plain)
        sys.stdout.flush()  # as rich does: a closed pipe fails here, not at exit
        return
    from rich.padding import Padding
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for header in headers:
        # Fold rather than cut: ids must stay whole to be copied into the next command.
        table.add_column(header, overflow="fold")
    for row in cells:
        table.add_row(*row)
    _console().print(Padding(table, (0, 0, 0, indent), expand=False) if indent else table)


def plain_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str | None:
    """The table exactly as rich would print it to a pipe, or None when rich must do it."""
    if not headers or any(len(row) != len(headers) for row in rows) or not _plain_output():
        return None
    columns = list(zip(headers, *rows, strict=True)) if rows else [(h,) for h in headers]
    widths = []
    for column in columns:
        for cell in column:
            if not _VERBATIM.match(cell) or (":" in cell and _EMOJI_CODE.search(cell)):
                return None
        widths.append(max(map(len, column)))
    # rich pads each cell by one space on each side, except at the table's outer edges.
    if sum(widths) + 2 * (len(widths) - 1) >= _PIPE_WIDTH:
        return None
    last = len(widths) - 1
    lines = []
    for row in (headers, *rows):
        line = ""
        for i, (cell, width) in enumerate(zip(row, widths, strict=True)):
            line += (" " if i else "") + cell.ljust(width) + (" " if i < last else "")
        lines.append(line)
    return "\n".join(lines) + "\n"


def _plain_output() -> bool:
    """Whether rich would print to stdout without any styling or wrapping."""
    if os.name == "nt" or any(name in os.environ for name in _RICH_ENV):
        return False
    if hasattr(builtins, "get_ipython"):
        return False  # rich renders for notebooks differently
    try:
        return not sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _console() -> Any:
    from rich.console import Console

    width = None if sys.stdout.isatty() else _PIPE_WIDTH
    return Console(width=width, highlight=False, soft_wrap=not sys.stdout.isatty())


def local_time(ms: Any) -> str:
    """Epoch milliseconds as a local time in ISO form with its UTC offset; "-" for none."""
    if ms is None or isinstance(ms, bool) or not isinstance(ms, int | float):
        return "-" if ms is None else str(ms)
    from datetime import datetime

    moment = datetime.fromtimestamp(ms / 1000).astimezone()
    return moment.isoformat(sep=" ", timespec="seconds")


def human_size(size: Any) -> str:
    """A byte count as B, KB, MB, GB (powers of 1024, as ``ls -h``); "" for none."""
    if size is None or not isinstance(size, int):
        return "" if size is None else str(size)
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


_BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int = 24) -> str:
    """A one-line chart of ``values`` (at most ``width`` evenly spread points; a blank for a
    NaN or infinity), "" for fewer than two values."""
    if len(values) < 2:
        return ""
    if len(values) > width:
        values = [values[round(i * (len(values) - 1) / (width - 1))] for i in range(width)]
    finite = [v for v in values if v == v and v not in (float("inf"), float("-inf"))]
    low, high = (min(finite), max(finite)) if finite else (0.0, 0.0)
    span = high - low
    out = []
    for v in values:
        if v != v or v in (float("inf"), float("-inf")):
            out.append(" ")
        elif span == 0:
            out.append(_BLOCKS[3])
        else:
            out.append(_BLOCKS[min(7, int((v - low) / span * 8))])
    return "".join(out)


def human_value(value: Any) -> str:
    """One value as people read it: no ``None``, lists comma-separated, floats to 6 digits."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return ", ".join(human_value(v) for v in value) or "-"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={human_value(v)}" for k, v in sorted(value.items())) or "-"
    return str(value)


def humanize(data: Any, key: str = "") -> Any:
    """``data`` (JSON output) with times (keys ending ``_time``/``_timestamp``) as local ISO
    times and sizes (``file_size``) as KB/MB, recursively; other values unchanged."""
    if isinstance(data, Mapping):
        return {k: humanize(v, k) for k, v in data.items()}
    if isinstance(data, list):
        return [humanize(v, key) for v in data]
    if key.endswith(("_time", "_timestamp")):
        return local_time(data)
    if key in ("file_size", "size"):
        return human_size(data)
    return data


def _is_scalar(value: Any) -> bool:
    if isinstance(value, Mapping):
        return False
    if isinstance(value, list):
        return all(not isinstance(v, Mapping | list) for v in value)
    return True


def print_kv(data: Mapping[str, Any], title: str | None = None) -> None:
    """A record for people: ``key: value`` lines, then each nested mapping (or list of
    mappings) as its own titled table; nothing printed as a Python repr."""
    out = sys.stdout
    if title is not None:
        out.write(f"\n{title}:\n")
    scalars = [(k, v) for k, v in data.items() if _is_scalar(v)]
    width = max((len(k) for k, _ in scalars), default=0)
    prefix = "  " if title is not None else ""
    for key, value in scalars:
        out.write(f"{prefix}{key + ':':<{width + 1}} {human_value(value)}\n")
    out.flush()
    for key, value in data.items():
        if _is_scalar(value):
            continue
        if isinstance(value, Mapping) and any(not _is_scalar(v) for v in value.values()):
            print_kv(value, title=key if title is None else f"{title}.{key}")
            continue
        out.write(f"\n{key if title is None else f'{title}.{key}'}:")
        if not value:
            out.write(" -\n")
            continue
        out.write("\n")
        out.flush()
        if isinstance(value, Mapping):
            print_table(
                ["Key", "Value"], [[k, human_value(value[k])] for k in sorted(value)], indent=2
            )
        else:
            headers = list(dict.fromkeys(k for row in value for k in row))
            print_table(
                headers, [[human_value(row.get(h)) for h in headers] for row in value], indent=2
            )
