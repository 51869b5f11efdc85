"""Reports rendered from one run record: JSON, JUnit XML, HTML and the fault report (see render.py)."""

from __future__ import annotations

import re

from bench.record import RunRecord


def report_dir_name(rec: RunRecord) -> str:
    """``20261124-221503-PT3-000123-1a2b3c4d``: sorts by time, names the unit and the run."""
    serial = rec.unit.serial if rec.unit else "unknown"
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", serial)[:40]
    return f"{rec.started_at:%Y%m%d-%H%M%S}-{safe}-{rec.run_id[:8]}"
