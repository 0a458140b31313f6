"""How the CLI prints: rich tables and key/value blocks for people, JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.table import Table

    table = Table(box=None, header_style="bold", pad_edge=False)
    for header in headers:
        # Fold rather than cut: ids must stay whole to be copied into the next command.
        table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*[str(c) for c in row])
    _console().print(table)


def _console() -> Any:
    from rich.console import Console

    # Piped output is for grep and cut: never wrap it at an imagined 80 columns.
    width = None if sys.stdout.isatty() else 100_000
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
