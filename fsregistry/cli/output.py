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


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(c) for c in row] for row in rows]
    plain = plain_table(headers, cells)
    if plain is not None:
        sys.stdout.write(plain)
        sys.stdout.flush()  # as rich does: a closed pipe fails here, not at exit
        return
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for header in headers:
        # Fold rather than cut: ids must stay whole to be copied into the next command.
        table.add_column(header, overflow="fold")
    for row in cells:
        table.add_row(*row)
    _console().print(table)


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


def print_kv(data: Mapping[str, Any]) -> None:
    console = _console()
    for key, value in data.items():
        if isinstance(value, Mapping):
            console.print(f"[bold]{key}[/bold]:" + ("" if value else " -"))
            for k in sorted(value):
                console.print(f"  {k}: {value[k]}", markup=False)
        else:
            console.print(f"[bold]{key}[/bold]: ", end="")
            console.print(str(value), markup=False)
