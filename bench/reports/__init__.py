"""Reports rendered from one run record: JSON now; JUnit XML, HTML and the fault report build on it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bench.record import RunRecord


def report_dir_name(rec: RunRecord) -> str:
    """``20261124-221503-PT3-000123-1a2b3c4d``: sorts by time, names the unit and the run."""
    serial = rec.unit.serial if rec.unit else "unknown"
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", serial)[:40]
    return f"{rec.started_at:%Y%m%d-%H%M%S}-{safe}-{rec.run_id[:8]}"


def write_json(rec: RunRecord, path: Path) -> Path:
    """Write the versioned JSON record (docs/run-record.schema.json) to ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(rec.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path
