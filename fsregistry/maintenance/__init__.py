"""Keeping a store healthy: ``doctor`` finds (and safely repairs) damage, ``gc`` removes for
good what users deleted. Built on the storage layer and the layout; the CLI sits on top."""

from __future__ import annotations

from fsregistry.maintenance.doctor import Finding, diagnose, repair
from fsregistry.maintenance.gc import GcPlan, GcResult, execute_gc, parse_duration, plan_gc

__all__ = [
    "Finding",
    "GcPlan",
    "GcResult",
    "diagnose",
    "execute_gc",
    "parse_duration",
    "plan_gc",
    "repair",
]
