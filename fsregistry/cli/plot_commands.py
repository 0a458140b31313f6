"""``fsreg plot RUN... --metric NAME [-o FILE]``: metric histories as a picture.

Without ``-o`` it draws braille line charts in the terminal (no plotting library needed;
:mod:`fsregistry.cli.charts`), one coloured chart on a colour terminal, one chart per run
otherwise. With ``-o file.png`` or ``-o file.svg`` it writes the chart with matplotlib (the
``plot`` extra). ``--json`` prints the histories instead: ``{metric, runs: [{run_id, label,
points: [{step, value, timestamp}]}]}``.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import Annotated

import typer

from fsregistry.cli import completion
from fsregistry.cli.common import JsonFlag, TrackingUri, json_number
from fsregistry.cli.output import print_json
from fsregistry.cli.stores import read_client
from fsregistry.exceptions import InvalidParameterValue

FORMATS = (".png", ".svg")


def register(app: typer.Typer) -> None:
    """Attach ``plot`` to the CLI."""

    @app.command("plot")
    def plot(
        run_ids: Annotated[
            list[str],
            typer.Argument(help="Run ids.", metavar="RUN...", shell_complete=completion.run_ids),
        ],
        metric: Annotated[str, typer.Option("--metric", "-m", help="The metric to draw.")],
        output: Annotated[
            str | None,
            typer.Option("--output", "-o", help="Write a .png or .svg file (needs matplotlib)."),
        ] = None,
        width: Annotated[
            int | None, typer.Option("--width", help="Terminal chart width in characters.", min=8)
        ] = None,
        height: Annotated[
            int, typer.Option("--height", help="Terminal chart height in rows.", min=3)
        ] = 12,
        tracking_uri: TrackingUri = None,
        as_json: JsonFlag = False,
    ) -> None:
        """Draw metric histories: a braille chart in the terminal, or a PNG/SVG file."""
        from fsregistry.cli.charts import Series, save_figure, terminal_charts

        if output is not None and os.path.splitext(output)[1].lower() not in FORMATS:
            raise InvalidParameterValue(
                f"Invalid output file {output!r}: the name must end with .png or .svg"
            )
        client = read_client(tracking_uri)
        series, raw = [], []
        for run_id in run_ids:
            run = client.get_run(run_id)
            history = sorted(client.get_metric_history(run_id, metric), key=lambda m: m.step)
            label = f"{run.info.run_name} ({run_id[:8]})" if run.info.run_name else run_id[:8]
            series.append(Series(label, [(float(m.step), m.value) for m in history]))
            raw.append(
                {
                    "run_id": run_id,
                    "label": label,
                    "points": [
                        {"step": m.step, "value": json_number(m.value), "timestamp": m.timestamp}
                        for m in history
                    ],
                }
            )
        if not any(s.points for s in series):
            raise InvalidParameterValue(
                f"No values of metric {metric!r} in run(s) {', '.join(run_ids)}"
            )
        if as_json:
            print_json({"metric": metric, "runs": raw})
            return
        if output is not None:
            save_figure(metric, series, output)
            print(f"Wrote {output}")
            return
        on_terminal = sys.stdout.isatty()
        columns = shutil.get_terminal_size((80, 24)).columns if on_terminal else 80
        chart_width = width or max(20, min(columns - 14, 120))
        colour = on_terminal and "NO_COLOR" not in os.environ
        sys.stdout.write(terminal_charts(metric, series, chart_width, height, colour))
