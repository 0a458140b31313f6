"""Metric-history charts for ``fsreg plot``: braille line charts for a terminal (no plotting
library), and PNG/SVG files through matplotlib (the ``plot`` extra, imported only then).

A braille character holds 2 x 4 dots, so a chart ``width`` characters wide and ``height``
rows high has a 2w x 4h grid; each series is drawn as lines between its consecutive points
(step on x, value on y; NaN and infinite values are left out, as MLflow's UI does). On a
colour terminal all series share one chart, one colour each; otherwise each series gets its
own chart, so they stay apart without colour.
"""

from __future__ import annotations

import io
import itertools
import math
import os
from collections.abc import Sequence
from typing import NamedTuple

# ANSI colours for series on a colour terminal (cycled).
COLOURS = ("36", "33", "35", "32", "31", "34")
_DOT = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))  # [row][column] bit


class Series(NamedTuple):
    """One line: its label and its ``(step, value)`` points in logging order."""

    label: str
    points: Sequence[tuple[float, float]]


def finite(series: Series) -> Series:
    """The series without NaN or infinite values, sorted by step (stable)."""
    pts = [(x, y) for x, y in series.points if math.isfinite(x) and math.isfinite(y)]
    return Series(series.label, sorted(pts, key=lambda p: p[0]))


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def braille_chart(
    series: Sequence[Series], width: int = 60, height: int = 12, colour: bool = False
) -> str:
    """One chart of every series (see the module docstring); lines end with newlines."""
    drawn = [s for s in (finite(s) for s in series) if s.points]
    if not drawn:
        return "(no finite values to draw)\n"
    xs = [x for s in drawn for x, _ in s.points]
    ys = [y for s in drawn for _, y in s.points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    cols, rows = width * 2, height * 4
    cells: dict[tuple[int, int], tuple[int, int]] = {}  # (row, col) -> (bits, series index)

    def to_dot(x: float, y: float) -> tuple[int, int]:
        dx = 0 if x1 == x0 else round((x - x0) / (x1 - x0) * (cols - 1))
        dy = rows // 2 if y1 == y0 else round((y1 - y) / (y1 - y0) * (rows - 1))
        return dx, dy

    def plot(dx: int, dy: int, index: int) -> None:
        key = (dy // 4, dx // 2)
        bits, _ = cells.get(key, (0, index))
        cells[key] = (bits | _DOT[dy % 4][dx % 2], index)

    for index, s in enumerate(drawn):
        dots = [to_dot(x, y) for x, y in s.points]
        for (ax, ay), (bx, by) in itertools.pairwise(dots):
            steps = max(abs(bx - ax), abs(by - ay), 1)
            for i in range(steps + 1):
                plot(round(ax + (bx - ax) * i / steps), round(ay + (by - ay) * i / steps), index)
        plot(*dots[0], index)
        plot(*dots[-1], index)

    # The extremes label the top and bottom rows; the middle row, the value at its centre.
    middle = (height - 1) // 2
    labels = {0: _fmt(y1), height - 1: _fmt(y0)}
    labels[middle] = _fmt(y1 - (middle * 4 + 1.5) / (rows - 1) * (y1 - y0))
    if y1 == y0:
        labels = {(rows // 2) // 4: _fmt(y0)}
    margin = max(len(v) for v in labels.values()) + 1
    out = []
    for r in range(height):
        line = []
        for c in range(width):
            bits, index = cells.get((r, c), (0, 0))
            char = chr(0x2800 + bits) if bits else " "
            if bits and colour:
                char = f"\x1b[{COLOURS[index % len(COLOURS)]}m{char}\x1b[0m"
            line.append(char)
        out.append(f"{labels.get(r, ''):>{margin}}┤{''.join(line).rstrip()}")
    left, right = f"step {_fmt(x0)}", _fmt(x1)
    out.append(" " * margin + "└" + "─" * width)
    out.append(" " * (margin + 1) + left + right.rjust(max(width - len(left), len(right) + 1)))
    return "\n".join(out) + "\n"


def terminal_charts(
    metric: str, series: Sequence[Series], width: int, height: int, colour: bool
) -> str:
    """What ``fsreg plot`` prints: one coloured chart with a legend, or one chart per series."""
    if colour:
        legend = "  ".join(
            f"\x1b[{COLOURS[i % len(COLOURS)]}m━\x1b[0m {s.label}" for i, s in enumerate(series)
        )
        return f"{metric}   {legend}\n" + braille_chart(series, width, height, colour=True)
    return "\n".join(f"{metric} · {s.label}\n" + braille_chart([s], width, height) for s in series)


def save_figure(
    metric: str, series: Sequence[Series], path: str, size_px: tuple[int, int] = (800, 450)
) -> None:
    """Write the series as a line chart to ``path`` (``.png`` or ``.svg``) with matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display needed; set before pyplot loads
        import matplotlib.pyplot as plt
    except ImportError as e:
        from fsregistry.exceptions import FsRegistryException

        raise FsRegistryException(
            "Writing a chart file needs matplotlib: pip install 'fsregistry[plot]' "
            "(or drop -o to draw in the terminal)"
        ) from e
    dpi = 100
    fig, ax = plt.subplots(figsize=(size_px[0] / dpi, size_px[1] / dpi), dpi=dpi)
    try:
        for s in (finite(s) for s in series):
            ax.plot([x for x, _ in s.points], [y for _, y in s.points], marker=".", label=s.label)
        ax.set_xlabel("step")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best")
        buffer = io.BytesIO()
        fig.savefig(buffer, dpi=dpi, format=os.path.splitext(path)[1][1:].lower())
    finally:
        plt.close(fig)
    # Written whole or not at all (the storage layer's atomic replace).
    from fsregistry.storage.local import LocalStorage

    folder, name = os.path.split(os.path.abspath(path))
    LocalStorage(folder).write(name, buffer.getvalue())


__all__ = ["Series", "braille_chart", "finite", "save_figure", "terminal_charts"]
