"""Process-wide settings of one ``fsreg`` invocation (``--debug``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class State:
    debug: bool = False


state = State()

__all__ = ["State", "state"]
