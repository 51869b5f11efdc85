"""How a soak's summary rides in the run record: a JSON attachment of the soak step.

The check ``soak.sales`` attaches :meth:`bench.soak.stats.SoakTally.summary` (with the profile and
the run's own counters) under :data:`SUMMARY_ATTACHMENT`; the HTML report draws its charts from it
(:mod:`bench.reports.soakchart`) and ``--json`` carries it like any attachment.
"""

from __future__ import annotations

import json
from typing import Any

SUMMARY_ATTACHMENT = "summary.json"  # saved as <step>-summary.json
SUMMARY_MIME = "application/vnd.bench.soak+json"


def encode_summary(summary: dict[str, Any]) -> bytes:
    """The attachment's bytes."""
    return json.dumps(summary, sort_keys=True).encode("utf-8")


def soak_summary(step: Any) -> dict[str, Any] | None:
    """The soak summary attached to a step record, or None (not a soak step, or unreadable)."""
    for attachment in getattr(step, "attachments", ()):
        if attachment.name == SUMMARY_ATTACHMENT and attachment.mime == SUMMARY_MIME:
            try:
                data = json.loads(attachment.data)
            except ValueError:
                return None
            return data if isinstance(data, dict) else None
    return None


def rate_points(summary: dict[str, Any]) -> list[tuple[float, float]] | None:
    """The profile's rate curve as (soak seconds, per minute) points, from a summary."""
    profile = summary.get("profile")
    rate = profile.get("rate") if isinstance(profile, dict) else None
    if not isinstance(rate, list):
        return None
    try:
        return [(float(p["at_s"]), float(p["per_minute"])) for p in rate]
    except (KeyError, TypeError, ValueError):
        return None
