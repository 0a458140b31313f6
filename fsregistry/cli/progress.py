"""A spinner on stderr for commands that can take more than a second (``gc``, ``doctor``,
``copy``, ``models prepare-env``; ``artifacts download`` has its byte-counting bar,
:mod:`fsregistry.cli.download_progress`).

Drawn with rich only when stderr is a terminal and ``FSREG_NO_PROGRESS`` is unset; it is
transient (it leaves nothing on the screen when the command ends, so the command's own output
reads as before) and never touches stdout, so pipes, ``--json`` and scripts see exactly what
they saw without it. Not on a terminal it does nothing at all.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Say = Callable[[str], None]


def wanted() -> bool:
    """Whether a spinner is drawn (stderr is a terminal, ``FSREG_NO_PROGRESS`` unset)."""
    try:
        return sys.stderr.isatty() and not os.environ.get("FSREG_NO_PROGRESS")
    except (AttributeError, ValueError):
        return False


@contextmanager
def spinner(message: str) -> Iterator[Say]:
    """Show ``message`` with a spinner while the block runs; yields a function that replaces
    the message (a no-op when no spinner is drawn)."""
    if not wanted():
        yield lambda _text: None
        return
    from rich.console import Console

    with Console(stderr=True).status(message) as status:
        yield lambda text: status.update(text)


@contextmanager
def logs_on_spinner(logger_name: str, say: Say, prefix: str = "") -> Iterator[None]:
    """Route ``logger_name``'s INFO messages to the spinner's text for the block."""
    import logging  # only here: ``fsreg --help`` need not load it

    class ToSpinner(logging.Handler):
        """Shows each log message as the spinner's text."""

        def emit(self, record: logging.LogRecord) -> None:
            say(f"{prefix}{record.getMessage()}")

    logger = logging.getLogger(logger_name)
    handler = ToSpinner(logging.INFO)
    saved = logger.handlers[:], logger.level, logger.propagate
    logger.handlers, logger.propagate = [handler], False
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.handlers, logger.propagate = saved[0], saved[2]
        logger.setLevel(saved[1])


__all__ = ["Say", "logs_on_spinner", "spinner", "wanted"]
