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

import struct
import sys
from array import array
from collections.abc import Iterable, Mapping
from itertools import repeat
from typing import Any

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


def share_pairs(
    pairs: Iterable[tuple[str | None, str | None]], strings: dict[str, str] | None
) -> tuple[tuple[str | None, str | None], ...]:
    return tuple(share(pair, strings) for pair in pairs)


__all__ = ["RunFiles", "layout", "share"]
