"""The decoded files of one run, in the compact form a process keeps for every run it searched.

A search keeps one summary per run of each experiment it searched (``run_index``): at 100,000
runs what a summary costs decides whether a search fits in memory (issue 24: 300 MB for a
full search of 100,000 runs). A run of 20 params, 14 tags and 10 metrics kept as dicts of
fresh strings and tuples costs ~5 KB; :class:`RunFiles` keeps it in ~1.5 KB:

- each of ``meta``, ``params`` and ``tags`` is a tuple of values whose keys' positions are one
  dict shared by every run with the same keys (:func:`layout`: a tree's runs mostly log the
  same keys);
- metrics are two byte strings of packed numbers (values; timestamps and steps) in the same
  way, with the dataset name and digest of each only where one is set;
- the caller may share repeated strings (``strings``: a dict the run index keeps per
  experiment: parameter values, tag values, user names repeat across runs).

The collector never tracks the parts (tuples of plain values, bytes, dicts of strings to
ints; not arrays, which it does track): a full collection walks one object per run, not every decoded value. Read-only once
made. The mapping properties (``meta``, ``params``, ``tags``, ``metrics``) build a fresh dict
on each access, for building runs; searches, which look at a few keys of every run, use
:meth:`RunFiles.meta_get`, :meth:`~RunFiles.param`, :meth:`~RunFiles.tag` and
:meth:`~RunFiles.metric_value`.
"""

from __future__ import annotations

import binascii
import struct
import sys
from array import array
from collections.abc import Iterable, Mapping, Sequence
from itertools import repeat
from typing import Any, NamedTuple

from fsregistry.entities.tracking import LatestMetric

# Positions of keys, shared by every run with the same keys (see ``layout``). Bounded: past
# this many distinct key sets the cache starts afresh (runs keep the dicts they hold).
_LAYOUTS: dict[tuple[str, ...], dict[str, int]] = {}
_MAX_LAYOUTS = 4096
_FLOAT = struct.Struct("d")
# Longer strings are seldom repeated: not worth an entry in a ``strings`` table.
_SHARED_MAX = 200


def layout(keys: tuple[str, ...]) -> dict[str, int]:
    """The shared ``{key: position}`` of runs whose keys are ``keys``, in this order."""
    at = _LAYOUTS.get(keys)
    if at is None:
        if len(_LAYOUTS) >= _MAX_LAYOUTS:
            _LAYOUTS.clear()
        at = _LAYOUTS[keys] = {sys.intern(k): i for i, k in enumerate(keys)}
    return at


def share(values: Iterable[Any], strings: dict[str, str] | None) -> tuple[Any, ...]:
    """``values`` as a tuple, short strings replaced by an equal one already in ``strings``."""
    if strings is None:
        return tuple(values)
    get = strings.setdefault
    return tuple([get(v, v) if v.__class__ is str and len(v) <= _SHARED_MAX else v for v in values])


def share_strings(values: Iterable[str], strings: dict[str, str] | None) -> tuple[str, ...]:
    """``share`` for values that are all strings (params, tags), whatever their length."""
    if strings is None:
        return tuple(values)
    get = strings.setdefault
    return tuple(map(get, values, values))


class RunFiles:
    """The decoded files of one run directory: ``meta.yaml``, the latest value of each metric,
    params, tags, and the ``meta.yaml`` records of its inputs and outputs (MLflow 3's
    ``outputs/<model_id>/meta.yaml``). See the module docstring for the form."""

    __slots__ = (
        "_datasets",
        "_meta",
        "_meta_at",
        "_metrics_at",
        "_params",
        "_params_at",
        "_points",
        "_tags",
        "_tags_at",
        "_values",
        "inputs",
        "outputs",
    )

    def __init__(
        self,
        meta: Mapping[str, Any],
        metrics: Mapping[str, LatestMetric] | None = None,
        params: Mapping[str, str] | None = None,
        tags: Mapping[str, str] | None = None,
        inputs: tuple[dict[str, Any], ...] = (),
        outputs: tuple[dict[str, Any], ...] = (),
        *,
        strings: dict[str, str] | None = None,
    ) -> None:
        self._meta_at = layout(tuple(meta))
        self._meta = share(meta.values(), strings)
        params_ = params or {}
        self._params_at = layout(tuple(params_))
        self._params = share_strings(params_.values(), strings)
        tags_ = tags or {}
        self._tags_at = layout(tuple(tags_))
        self._tags = share_strings(tags_.values(), strings)
        metrics = metrics or {}
        self._metrics_at = layout(tuple(metrics))
        points = metrics.values()
        try:
            self._values: bytes | tuple[LatestMetric, ...] = array(
                "d", [p[0] for p in points]
            ).tobytes()
            self._points: bytes | None = array(
                "q", [n for p in points for n in (p[1], p[2])]
            ).tobytes()
        except (OverflowError, TypeError):  # beyond int64 (no MLflow writer makes them)
            self._values, self._points = tuple(points), None
        self._datasets: tuple[tuple[str | None, str | None], ...] | None = None
        if any(p[3] is not None or p[4] is not None for p in points):
            self._datasets = share_pairs(((p[3], p[4]) for p in points), strings)
        self.inputs = inputs
        self.outputs = outputs

    # -- what a search looks up, key by key -----------------------------------------------
    def meta_get(self, key: str, default: Any = None) -> Any:
        i = self._meta_at.get(key)
        return default if i is None else self._meta[i]

    def param(self, key: str) -> str | None:
        i = self._params_at.get(key)
        return None if i is None else self._params[i]

    def tag(self, key: str) -> str | None:
        i = self._tags_at.get(key)
        return None if i is None else self._tags[i]

    def metric_value(self, key: str) -> float | None:
        i = self._metrics_at.get(key)
        if i is None:
            return None
        values = self._values
        if type(values) is bytes:
            return _FLOAT.unpack_from(values, 8 * i)[0]  # type: ignore[no-any-return]
        return values[i][0]  # type: ignore[index]

    # -- plain mappings, made on each access ----------------------------------------------
    @property
    def meta(self) -> dict[str, Any]:
        return dict(zip(self._meta_at, self._meta, strict=True))

    @property
    def params(self) -> dict[str, str]:
        return dict(zip(self._params_at, self._params, strict=True))

    @property
    def tags(self) -> dict[str, str]:
        return dict(zip(self._tags_at, self._tags, strict=True))

    @property
    def metrics(self) -> dict[str, LatestMetric]:
        at, values, points = self._metrics_at, self._values, self._points
        if points is None:
            return dict(zip(at, values, strict=True))  # type: ignore[arg-type]
        n = len(at)
        floats = struct.unpack(f"{n}d", values)  # type: ignore[arg-type]
        ints = struct.unpack(f"{2 * n}q", points)
        datasets = self._datasets
        if datasets is None:
            plain: Iterable[str | None] = repeat(None)  # endless: zip stops at the shortest
            points_of = zip(floats, ints[0::2], ints[1::2], plain, plain, strict=False)
            return dict(zip(at, points_of, strict=True))
        names = [d[0] for d in datasets]
        digests = [d[1] for d in datasets]
        points_of = zip(floats, ints[0::2], ints[1::2], names, digests, strict=True)
        return dict(zip(at, points_of, strict=True))

    def latest_metrics(self) -> dict[str, LatestMetric]:
        """``metrics``, as a method (a bound method is what a built run keeps to make its
        metric objects when first asked, see ``RunData.from_latest``)."""
        return self.metrics

    def metric_values(self) -> dict[str, float]:
        """The latest value of each metric, without its timestamp, step and dataset."""
        at, values = self._metrics_at, self._values
        if type(values) is bytes:
            return dict(zip(at, struct.unpack(f"{len(at)}d", values), strict=True))
        return {key: point[0] for key, point in zip(at, values, strict=True)}  # type: ignore[index]

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, RunFiles):
            return NotImplemented
        return (
            self.meta == other.meta
            and self.params == other.params
            and self.tags == other.tags
            and self.metrics == other.metrics
            and self.inputs == other.inputs
            and self.outputs == other.outputs
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return (
            f"RunFiles(meta={self.meta!r}, metrics={self.metrics!r}, params={self.params!r}, "
            f"tags={self.tags!r}, inputs={self.inputs!r}, outputs={self.outputs!r})"
        )


class RowShape(NamedTuple):
    """The keys of a run's flat row (:func:`row_of`), as positions shared by every run with
    the same keys (:func:`layout`), and the row's width."""

    meta_at: dict[str, int]
    params_at: dict[str, int]
    tags_at: dict[str, int]
    metrics_at: dict[str, int]
    width: int


def row_shape(keys: Sequence[Sequence[str]]) -> RowShape:
    """The shape of rows whose keys (:func:`row_of`) are ``keys``: meta, params, tags and
    metric keys. Raises TypeError or ValueError on keys no writer makes."""
    meta, params, tags, metrics = keys
    for group in keys:
        if type(group) is not list or any(type(k) is not str for k in group):
            raise TypeError("damaged row keys")
    width = len(meta) + len(params) + len(tags) + 4
    return RowShape(
        layout(tuple(meta)),
        layout(tuple(params)),
        layout(tuple(tags)),
        layout(tuple(metrics)),
        width,
    )


def row_of(files: RunFiles) -> tuple[list[list[str]], list[Any]]:
    """A run as its keys and one flat row of plain values (the run index's shard lines):
    meta values, param and tag values by sorted key (the same key sets give the same keys
    whatever order the files were listed in), the metrics (:func:`packed_metrics`), then the
    metrics' dataset (name, digest) pairs (None when no metric has one), inputs and outputs.
    Rows of runs with the same keys share one decoded shape (:func:`files_from_row`)."""
    params, tags, metrics = files.params, files.tags, files.metrics
    param_keys, tag_keys, metric_keys = sorted(params), sorted(tags), sorted(metrics)
    points = [metrics[k] for k in metric_keys]
    datasets = None
    if any(p[3] is not None or p[4] is not None for p in points):
        datasets = [[p[3], p[4]] for p in points]
    keys = [list(files._meta_at), param_keys, tag_keys, metric_keys]
    row = [
        *files._meta,
        *(params[k] for k in param_keys),
        *(tags[k] for k in tag_keys),
        packed_metrics(points),
        datasets,
        list(files.inputs),
        list(files.outputs),
    ]
    return keys, row


def packed_metrics(points: Sequence[LatestMetric]) -> str | list[Any]:
    """The latest value of each metric, then each one's timestamp and step, as one base64
    text of little-endian float64s and int64s: a reader decodes one string, not three numbers
    per metric (a cold search decodes every run of its shards). A plain list of the same
    numbers where one is beyond int64 (no MLflow writer makes them)."""
    try:
        values = array("d", [p[0] for p in points])
        ints = array("q", [n for p in points for n in (p[1], p[2])])
    except (OverflowError, TypeError):
        return [*(p[0] for p in points), *(n for p in points for n in (p[1], p[2]))]
    if sys.byteorder == "big":
        values.byteswap()
        ints.byteswap()
    return binascii.b2a_base64(values.tobytes() + ints.tobytes(), newline=False).decode("ascii")


def files_from_row(
    shape: RowShape, row: list[Any], start: int, strings: dict[str, str] | None
) -> RunFiles:
    """The run whose :func:`row_of` row is ``row[start:]``, keys given by ``shape``. One
    slice per part and no mapping built: what a fresh process does for every run of its
    shards. Raises TypeError or ValueError on a row no writer makes."""
    if len(row) - start != shape.width:
        raise ValueError("damaged row: wrong width")
    files = RunFiles.__new__(RunFiles)
    at = start + len(shape.meta_at)
    files._meta_at = shape.meta_at
    files._meta = _meta_values(row[start:at], strings)
    files._params_at, start, at = shape.params_at, at, at + len(shape.params_at)
    files._params = share_strings(row[start:at], strings)
    files._tags_at, start, at = shape.tags_at, at, at + len(shape.tags_at)
    files._tags = share_strings(row[start:at], strings)
    n = len(shape.metrics_at)
    metrics, datasets, inputs, outputs = row[at:]
    if type(inputs) is not list or type(outputs) is not list:
        raise TypeError("damaged inputs or outputs")
    files._metrics_at = shape.metrics_at
    files._datasets = None
    if datasets is not None:
        if type(datasets) is not list or len(datasets) != n:
            raise TypeError("damaged metric datasets")
        pairs = [(name, digest) for name, digest in datasets]
        if any(not (v is None or type(v) is str) for pair in pairs for v in pair):
            raise TypeError("damaged metric datasets")
        files._datasets = share_pairs(pairs, strings)
    if type(metrics) is str:
        _unpack_metrics(files, metrics, n)
    elif type(metrics) is list and len(metrics) == 3 * n:
        _metrics_from_numbers(files, metrics[:n], metrics[n:])
    else:
        raise TypeError("damaged metrics")
    files.inputs = tuple(inputs)
    files.outputs = tuple(outputs)
    return files


def _unpack_metrics(files: RunFiles, packed: str, n: int) -> None:
    """Set the metric values and points of ``files`` from :func:`packed_metrics` text."""
    raw = binascii.a2b_base64(packed)  # binascii.Error is a ValueError
    if len(raw) != 24 * n:
        raise ValueError("damaged metrics: wrong length")
    if sys.byteorder == "big":
        values, ints = array("d", raw[: 8 * n]), array("q", raw[8 * n :])
        values.byteswap()
        ints.byteswap()
        files._values, files._points = values.tobytes(), ints.tobytes()
    else:
        files._values, files._points = raw[: 8 * n], raw[8 * n :]


def _metrics_from_numbers(files: RunFiles, values: list[Any], points: list[Any]) -> None:
    """Set the metric values and points of ``files`` from plain numbers: packed, or as
    ``RunFiles`` keeps numbers beyond int64."""
    n = len(values)
    try:
        files._values = array("d", values).tobytes()
        files._points = array("q", points).tobytes()
    except OverflowError:  # beyond int64 (no MLflow writer makes them): as RunFiles keeps them
        if any(type(p) is not int for p in points):
            raise TypeError("damaged metric points") from None
        names = files._datasets or [(None, None)] * n
        try:
            floats = [float(v) for v in values]
        except OverflowError:
            raise ValueError("damaged metric value") from None
        files._values = tuple(
            (v, t, s, *d)
            for v, t, s, d in zip(floats, points[0::2], points[1::2], names, strict=True)
        )
        files._points = None


def _meta_values(values: list[Any], strings: dict[str, str] | None) -> tuple[Any, ...]:
    """``share`` for ``meta.yaml`` values, lists as tuples (``records.plain_meta``)."""
    if strings is None:
        return tuple(tuple(v) if v.__class__ is list else v for v in values)
    get = strings.setdefault
    return tuple(
        [
            get(v, v)
            if v.__class__ is str and len(v) <= _SHARED_MAX
            else (tuple(v) if v.__class__ is list else v)
            for v in values
        ]
    )


def share_pairs(
    pairs: Iterable[tuple[str | None, str | None]], strings: dict[str, str] | None
) -> tuple[tuple[str | None, str | None], ...]:
    return tuple(share(pair, strings) for pair in pairs)


__all__ = [
    "RowShape",
    "RunFiles",
    "files_from_row",
    "layout",
    "packed_metrics",
    "row_of",
    "row_shape",
    "share",
]
