"""What ``fsreg doctor`` says about the registry audit trail (:mod:`fsregistry.registry.history`).

The events are never repaired or deleted (they are the record); two warnings, not fixable:

- ``history_gap``: a registered model changed after its last event, longer ago than the age
  limit: a change made by MLflow or an older fsregistry, or one whose process died (or whose
  storage failed) between the change and its event. The store writes the event after the
  change, so the reverse (an event for a change that did not happen) cannot arise; the
  missing event cannot be recreated. Models with no event at all (written before the trail
  existed, or by MLflow only) are not reported.
- ``stray_history_file``: a file under ``.fsreg-history.trash/`` that is not an event file
  of a model (``<model>/<ns>-<nonce>.json``); readers skip it.

Only the listing and the models' ``meta.yaml`` files doctor reads anyway are used: an event's
time is in its file name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from fsregistry.maintenance.diagnosis import WARNING, Finding
from fsregistry.mlruns import layout
from fsregistry.mlruns.metafile import MalformedMetaFile, load_meta

EVENT_NAME = re.compile(r"^(\d{19})-[0-9a-f]{12}\.json$")


def history_findings(
    files: Iterable[str], contents: Mapping[str, bytes], min_age_s: float, now: float
) -> list[Finding]:
    """The two warnings above, from the store's file listing and the bytes doctor read."""
    findings: list[Finding] = []
    last_event_ms: dict[str, int] = {}
    prefix = f"{layout.HISTORY}/"
    for path in files:
        if not path.startswith(prefix):
            continue
        parts = path[len(prefix) :].split("/")
        match = EVENT_NAME.match(parts[-1]) if len(parts) == 2 else None
        if match is None:
            findings.append(
                Finding(
                    "stray_history_file",
                    path,
                    "Not an event file of the registry audit trail; history readers skip it",
                    fixable=False,
                    severity=WARNING,
                )
            )
            continue
        ms = int(match.group(1)) // 1_000_000
        last_event_ms[parts[0]] = max(ms, last_event_ms.get(parts[0], 0))
    for name, last in sorted(last_event_ms.items()):
        meta_path = layout.registered_model_meta(name)
        raw = contents.get(meta_path)
        if raw is None:
            continue  # deleted, renamed away: its history ends with that event
        try:
            meta = load_meta(raw, meta_path)
        except MalformedMetaFile:
            continue  # reported as malformed_yaml
        changed = meta.get("last_updated_timestamp")
        if not isinstance(changed, int) or isinstance(changed, bool) or changed <= last:
            continue
        if (now * 1000 - changed) / 1000 < min_age_s:
            continue  # its event may be on its way
        findings.append(
            Finding(
                "history_gap",
                meta_path,
                f"Registered model {name!r} changed at {changed} (epoch ms), after its last "
                f"audit-trail event ({last}): a change made by MLflow or an older fsregistry, "
                "or interrupted between the change and its event, which cannot be recreated",
                fixable=False,
                severity=WARNING,
            )
        )
    return findings


__all__ = ["history_findings"]
