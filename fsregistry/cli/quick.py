"""``fsreg ls models`` without loading typer, click and rich.

Loading typer and building the command tree costs more than the command itself, and listing
models is what people (and scripts) run most. A command line made only of what the typer
command accepts (``[--debug] ls models`` then ``-t/--tracking-uri``, ``--registry-uri``,
``-f/--filter``, ``--order-by`` (repeatable), ``--max N`` and ``--json``, as ``--opt value``,
``-o value`` or ``--opt=value``, the last one winning as in click) runs here, through the same
function the typer command calls. Anything else — help, completion, an unknown option, a
value that looks like an option or a number click would parse differently — goes to typer,
which then parses it, prints its usage errors and runs the command as always.

Errors are those typer's standalone mode gives: a closed output pipe exits 1 quietly, Ctrl-C
exits 130; the CLI's own error handling (one line, exit code 1) is :func:`fsregistry.cli.app.main`'s.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

_VALUE_OPTIONS = {
    "--tracking-uri": "tracking_uri",
    "-t": "tracking_uri",
    "--registry-uri": "registry_uri",
    "--filter": "filter",
    "-f": "filter",
    "--order-by": "order_by",
    "--max": "max",
}


@dataclass
class LsModels:
    """A parsed ``fsreg ls models`` command line."""

    debug: bool = False
    tracking_uri: str | None = None
    registry_uri: str | None = None
    filter: str | None = None
    order_by: list[str] = field(default_factory=list)
    max: int = 100
    as_json: bool = False

    def run(self) -> None:
        from fsregistry.cli.registry_listing import list_models

        list_models(
            self.tracking_uri,
            self.registry_uri,
            self.filter,
            self.order_by or None,
            self.max,
            self.as_json,
        )


def parse(argv: Sequence[str]) -> LsModels | None:
    """The command line as an ``ls models`` invocation, or None when typer must handle it."""
    if os.name == "nt" or any(k.startswith("_") and k.endswith("_COMPLETE") for k in os.environ):
        return None  # typer expands wildcards on Windows; completion requests are typer's
    command = LsModels()
    i = 0
    while i < len(argv) and argv[i] == "--debug":
        command.debug = True
        i += 1
    if list(argv[i : i + 2]) != ["ls", "models"]:
        return None
    i += 2
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--json":
            command.as_json = True
            continue
        name, eq, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        key = _VALUE_OPTIONS.get(name)
        if key is None:
            return None
        if not eq:
            if i >= len(argv):
                return None
            value = argv[i]
            i += 1
        if value.startswith("-"):
            return None
        if key == "order_by":
            command.order_by.append(value)
        elif key == "max":
            if not (value.isascii() and value.isdigit()):
                return None
            command.max = int(value)
        else:
            setattr(command, key, value)
    return command


def run(command: LsModels, set_debug: Callable[[bool], None]) -> None:
    """Run a parsed command with the error handling of typer's standalone mode."""
    set_debug(command.debug)
    try:
        command.run()
    except KeyboardInterrupt:
        sys.exit(130)
    except OSError as e:
        if e.errno != errno.EPIPE:
            raise
        # As click does: no second error when the interpreter flushes the closed pipe.
        sys.stdout = _QuietPipe(sys.stdout)
        sys.stderr = _QuietPipe(sys.stderr)
        sys.exit(1)


class _QuietPipe:
    """A stream whose ``flush`` ignores a closed pipe (click's ``PacifyFlushWrapper``)."""

    def __init__(self, wrapped: TextIO) -> None:
        self.wrapped = wrapped

    def flush(self) -> None:
        try:
            self.wrapped.flush()
        except OSError as e:
            if e.errno != errno.EPIPE:
                raise

    def __getattr__(self, attr: str) -> Any:
        return getattr(self.wrapped, attr)


__all__ = ["LsModels", "parse", "run"]
