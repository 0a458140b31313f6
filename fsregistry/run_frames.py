"""Runs as MLflow's pandas DataFrame, built page by page.

``mlflow.search_runs(output_format="pandas")`` over a large store would otherwise hold every
:class:`~fsregistry.entities.Run` of the answer and then a second copy of their values in the
frame's columns. :class:`FrameBuilder` takes one page of runs at a time into plain column
lists (a key first seen on a later page gets its missing value for the rows before it), so
only one page of runs is alive at once; :meth:`FrameBuilder.frame` makes the DataFrame.

The shape is MLflow's: info columns, then ``metrics.*`` (NaN where a run lacks the metric),
``params.*`` and ``tags.*`` (None where missing), each group sorted by key; ``start_time``
and ``end_time`` as UTC datetimes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from fsregistry.entities import Run

if TYPE_CHECKING:
    import pandas

INFO_COLUMNS = ("run_id", "experiment_id", "status", "artifact_uri", "start_time", "end_time")


class FrameBuilder:
    """Column lists of MLflow's runs frame, filled one page of runs at a time."""

    def __init__(self) -> None:
        self._rows = 0
        self._info: dict[str, list[Any]] = {c: [] for c in INFO_COLUMNS}
        # (prefix, missing value) -> key -> column
        self._groups: dict[tuple[str, Any], dict[str, list[Any]]] = {
            ("metrics", math.nan): {},
            ("params", None): {},
            ("tags", None): {},
        }

    def add(self, runs: Iterable[Run]) -> None:
        """Take in a page of runs (they need not be kept afterwards)."""
        for run in runs:
            for c in INFO_COLUMNS:
                self._info[c].append(getattr(run.info, c))
            data = run.data
            values: dict[str, Mapping[str, Any]] = {
                "metrics": data.metrics,
                "params": data.params,
                "tags": data.tags,
            }
            for (prefix, missing), columns in self._groups.items():
                present = values[prefix]
                for key in present:
                    if key not in columns:
                        columns[key] = [missing] * self._rows
                for key, column in columns.items():
                    column.append(present.get(key, missing))
            self._rows += 1

    def frame(self) -> pandas.DataFrame:
        """The DataFrame of every run taken in, in the order they came."""
        import pandas

        data: dict[str, list[Any]] = dict(self._info)
        for (prefix, _missing), columns in self._groups.items():
            for key in sorted(columns):
                data[f"{prefix}.{key}"] = columns[key]
        df = pandas.DataFrame(data)
        for col in ("start_time", "end_time"):
            df[col] = pandas.to_datetime(df[col], unit="ms", utc=True)
        return df


def runs_to_pandas(runs: Iterable[Run]) -> pandas.DataFrame:
    """MLflow's DataFrame shape: info columns, then ``metrics.*``, ``params.*``, ``tags.*``."""
    builder = FrameBuilder()
    builder.add(runs)
    return builder.frame()


__all__ = ["INFO_COLUMNS", "FrameBuilder", "runs_to_pandas"]
