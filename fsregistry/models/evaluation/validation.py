"""Model validation: :class:`MetricThreshold` and :func:`validate_evaluation_results`.

A threshold on a metric may set ``threshold`` (the candidate's value must be >= it when greater
is better, <= otherwise), ``min_absolute_change`` (candidate vs baseline + change) and
``min_relative_change`` (candidate vs baseline + change * |baseline|; a zero baseline falls back
to "strictly better by 1e-10"). Every failed check is collected, and one
:class:`~fsregistry.exceptions.ModelValidationFailedException` lists them one per line, in the
order the thresholds were given, with MLflow's wording (so a CI log reads the same under
either library). Comparisons with change thresholds use ``Decimal`` as MLflow does.
"""

from __future__ import annotations

import logging
import operator
import os
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from fsregistry.exceptions import InvalidParameterValue, ModelValidationFailedException
from fsregistry.models.evaluation.base import EvaluationResult

_logger = logging.getLogger(__name__)


class MetricThresholdClassException(InvalidParameterValue):
    """A :class:`MetricThreshold` was built with bad arguments (MLflow's class)."""

    def __init__(self, message: str) -> None:
        super().__init__("Could not instantiate MetricThreshold class: " + message)


class MetricThreshold:
    """A metric's validation thresholds. Same as MLflow's (same argument checks)."""

    def __init__(
        self,
        threshold: float | None = None,
        min_absolute_change: float | None = None,
        min_relative_change: float | None = None,
        greater_is_better: bool | None = None,
    ) -> None:
        if threshold is not None and type(threshold) not in {int, float}:
            raise MetricThresholdClassException("`threshold` parameter must be a number.")
        if min_absolute_change is not None and (
            type(min_absolute_change) not in {int, float} or min_absolute_change <= 0
        ):
            raise MetricThresholdClassException(
                "`min_absolute_change` parameter must be a positive number."
            )
        if min_relative_change is not None:
            if not isinstance(min_relative_change, float):
                raise MetricThresholdClassException(
                    "`min_relative_change` parameter must be a floating point number."
                )
            if not 0 <= min_relative_change <= 1:
                raise MetricThresholdClassException(
                    "`min_relative_change` parameter must be between 0 and 1."
                )
        if greater_is_better is None:
            raise MetricThresholdClassException("`greater_is_better` parameter must be defined.")
        if not isinstance(greater_is_better, bool):
            raise MetricThresholdClassException("`greater_is_better` parameter must be a boolean.")
        if threshold is None and min_absolute_change is None and min_relative_change is None:
            raise MetricThresholdClassException("no threshold was specified.")
        self._threshold = threshold
        self._min_absolute_change = min_absolute_change
        self._min_relative_change = min_relative_change
        self._greater_is_better = greater_is_better

    @property
    def threshold(self) -> float | None:
        """The value the metric must reach."""
        return self._threshold

    @property
    def min_absolute_change(self) -> float | None:
        """The minimum absolute improvement over the baseline."""
        return self._min_absolute_change

    @property
    def min_relative_change(self) -> float | None:
        """The minimum improvement over the baseline, relative to |baseline|."""
        return self._min_relative_change

    @property
    def greater_is_better(self) -> bool:
        """Whether a greater value is better."""
        return self._greater_is_better

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> MetricThreshold:
        """Build from ``{"threshold": ..., "greater_is_better": ...}`` (fsregistry's gate file
        format; not in MLflow). Unknown keys are refused."""
        allowed = {"threshold", "min_absolute_change", "min_relative_change", "greater_is_better"}
        if not isinstance(spec, Mapping) or set(spec) - allowed:
            raise MetricThresholdClassException(
                f"expected a mapping with keys among {sorted(allowed)}, got {spec!r}"
            )
        return cls(**dict(spec))

    def __str__(self) -> str:
        parts = []
        if self._threshold is not None:
            parts.append(f"Threshold: {self._threshold}.")
        if self._min_absolute_change is not None:
            parts.append(f"Minimum Absolute Change: {self._min_absolute_change}.")
        if self._min_relative_change is not None:
            parts.append(f"Minimum Relative Change: {self._min_relative_change}.")
        parts.append(
            "Greater value is better." if self._greater_is_better else "Lower value is better."
        )
        return " ".join(parts)


class _Check:
    """One metric's outcome against its threshold."""

    def __init__(self, name: str, candidate: Any, threshold: MetricThreshold, baseline: Any):
        self.name = name
        self.candidate = candidate
        self.baseline = baseline
        self.threshold = threshold
        self.missing_candidate = False
        self.missing_baseline = False
        self.threshold_failed = False
        self.absolute_failed = False
        self.relative_failed = False

    def ok(self) -> bool:
        return not (
            self.missing_candidate
            or self.missing_baseline
            or self.threshold_failed
            or self.absolute_failed
            or self.relative_failed
        )

    def __str__(self) -> str:
        n = self.name
        if self.ok():
            return f"Metric {n} passed the validation."
        if self.missing_candidate:
            return (
                f"Metric validation failed: metric {n} was missing from the evaluation result "
                "of the candidate model."
            )
        out = []
        if self.threshold_failed:
            out.append(
                f"Metric {n} value threshold check failed: candidate model {n} = "
                f"{self.candidate}, {n} threshold = {self.threshold.threshold}."
            )
        if self.missing_baseline:
            out.append(
                f"Model comparison failed: metric {n} was missing from the evaluation result "
                "of the baseline model."
            )
        else:
            if self.absolute_failed:
                out.append(
                    f"Metric {n} minimum absolute change check failed: candidate model {n} = "
                    f"{self.candidate}, baseline model {n} = {self.baseline}, {n} minimum "
                    f"absolute change threshold = {self.threshold.min_absolute_change}."
                )
            if self.relative_failed:
                out.append(
                    f"Metric {n} minimum relative change check failed: candidate model {n} = "
                    f"{self.candidate}, baseline model {n} = {self.baseline}, {n} minimum "
                    f"relative change threshold = {self.threshold.min_relative_change}."
                )
        return " ".join(out)


def failed_thresholds(
    thresholds: Mapping[str, MetricThreshold],
    candidate: Mapping[str, Any],
    baseline: Mapping[str, Any],
) -> list[str]:
    """One message per failed metric (empty when validation passes). MLflow's ``_validate``."""
    messages = []
    for name, spec in thresholds.items():
        check = _Check(name, candidate.get(name), spec, baseline.get(name))
        _evaluate_check(check, name, spec, candidate, baseline)
        if not check.ok():
            messages.append(str(check))
    return messages


def _evaluate_check(
    check: _Check,
    name: str,
    spec: MetricThreshold,
    candidate: Mapping[str, Any],
    baseline: Mapping[str, Any],
) -> None:
    if name not in candidate:
        check.missing_candidate = True
        return
    value = candidate[name]
    base = baseline[name] if baseline and name in baseline else None
    better = operator.ge if spec.greater_is_better else operator.le
    move = operator.add if spec.greater_is_better else operator.sub
    if spec.threshold is not None:
        check.threshold_failed = not better(value, spec.threshold)
    if (spec.min_relative_change or spec.min_absolute_change) and name not in baseline:
        check.missing_baseline = True
        return
    if spec.min_absolute_change is not None:
        check.absolute_failed = not better(
            Decimal(value), Decimal(move(base, spec.min_absolute_change))
        )
    if spec.min_relative_change is not None:
        if base == 0:
            _logger.warning(
                "Cannot perform relative model comparison for metric %s as baseline metric "
                "value is 0. Falling back to simple comparison.",
                name,
            )
            check.relative_failed = not better(Decimal(value), Decimal(move(base, 1e-10)))
            return
        change = (value - base) if spec.greater_is_better else (base - value)
        check.relative_failed = change / abs(base) < spec.min_relative_change  # type: ignore[arg-type]


def check_thresholds_argument(thresholds: Any) -> dict[str, MetricThreshold]:
    """``thresholds`` must be a dict of metric name -> MetricThreshold (MLflow's check)."""
    if type(thresholds) is not dict or not all(
        type(k) is str and isinstance(v, MetricThreshold) for k, v in thresholds.items()
    ):
        raise InvalidParameterValue(
            "The validation thresholds argument must be a dictionary that maps strings to "
            "MetricThreshold objects."
        )
    return thresholds


def validate_metrics(
    thresholds: Mapping[str, MetricThreshold],
    candidate: Mapping[str, Any],
    baseline: Mapping[str, Any],
) -> None:
    """Raise :class:`ModelValidationFailedException` listing every failed threshold."""
    failures = failed_thresholds(thresholds, candidate, baseline)
    if failures:
        raise ModelValidationFailedException(os.linesep.join(failures))


def validate_evaluation_results(
    validation_thresholds: dict[str, MetricThreshold],
    candidate_result: EvaluationResult,
    baseline_result: EvaluationResult | None = None,
) -> None:
    """Check a candidate's results against thresholds and a baseline's. Same as MLflow 3's."""
    check_thresholds_argument(validation_thresholds)
    _logger.info("Validating candidate model metrics against baseline")
    validate_metrics(
        validation_thresholds,
        candidate_result.metrics,
        baseline_result.metrics if baseline_result else {},
    )
    _logger.info("Model validation passed!")
