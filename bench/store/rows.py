"""Records to rows and back: what the store writes for a step, a measurement, a finding.

Backend-neutral: every value here is what both SQLite (``sqlite3``) and PostgreSQL (psycopg)
take as is, except times, which each backend converts with its own ``time`` function
(:func:`sqlite_time` for SQLite: naive-UTC ISO text, exactly what SQLAlchemy's SQLite
``DATETIME`` writes, so either path reads the other's rows).

No full PAN is ever written: every free text goes through :func:`redact` first.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bench.i18n.stored import revive, text_json
from bench.measure import Limit, Measurement
from bench.record import AttachmentRecord, Finding, Outcome, StepRecord
from drivers.codecs.pan import redact, redact_data


def sqlite_time(t: datetime) -> str:
    """An aware time as SQLite stores it: naive UTC, ``YYYY-MM-DD HH:MM:SS.ffffff``.

    Raises:
        ValueError: ``t`` is naive (the store only takes timezone-aware times).
    """
    if t.tzinfo is None:
        raise ValueError(f"naive datetime {t!r}: the store only takes timezone-aware times")  # i18n: a programming error
    return t.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def aware_time(t: datetime) -> datetime:
    """An aware time in UTC, as PostgreSQL takes it.

    Raises:
        ValueError: ``t`` is naive.
    """
    if t.tzinfo is None:
        raise ValueError(f"naive datetime {t!r}: the store only takes timezone-aware times")  # i18n: a programming error
    return t.astimezone(UTC)


def utc(value: Any) -> datetime:
    """A stored time as an aware UTC datetime (SQLite gives naive UTC text, PostgreSQL a datetime)."""
    t = datetime.fromisoformat(value) if isinstance(value, str) else value
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def micros(start: datetime, end: datetime) -> int:
    """Whole microseconds from ``start`` to ``end`` (exact, so sums of durations are too)."""
    d = end - start
    return (d.days * 86_400 + d.seconds) * 1_000_000 + d.microseconds


# --------------------------------------------------------------------------- writing


def step_row(run_id: str, step: StepRecord) -> dict[str, Any]:
    """The ``steps`` row of a step (``started_at`` still a datetime)."""
    return {
        "run_id": run_id,
        "idx": step.index,
        "name": step.name,
        "check_name": step.check,
        "outcome": step.outcome.value,
        "started_at": step.started_at,
        "duration_s": step.duration_s,
        "attempts": step.attempts,
        "fault": step.fault,
        "message": redact(step.message),
        "log": json.dumps([redact(line) for line in step.log], ensure_ascii=False) if step.log else "[]",
        "message_text": text_json(step.message),
    }


def measurement_row(seq: int, m: Measurement) -> dict[str, Any]:
    """The ``measurements`` row of a measurement, without ``step_id``, ``measured_at`` and ``run_id``."""
    value = m.value
    kind = type(value)
    number: float | None
    # Most values are plain numbers: their JSON is their repr, and there is nothing to redact.
    if (kind is float and math.isfinite(value)) or kind is int:
        value_json, number = repr(value), float(value)
    else:
        value = redact_data(value)
        value_json = json.dumps(value, ensure_ascii=False)
        number = (
            float(value)
            if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            else None
        )
    limit = m.limit
    return {
        "seq": seq,
        "name": m.name,
        "value_json": value_json,
        "value_num": number,
        "unit": m.unit,
        "limit_json": _limit_json(limit) if limit else None,
        "limit_min": limit.min if limit else None,
        "limit_max": limit.max if limit else None,
        "passed": m.passed,
        "fault": m.fault,
        "message": redact(m.message),
        "message_text": text_json(m.message) if m.message else None,
    }


def attachment_row(seq: int, a: AttachmentRecord) -> dict[str, Any]:
    """The ``attachments`` row of an attachment, without ``step_id`` (text attachments redacted)."""
    return {"seq": seq, "name": a.name, "mime": a.mime, "data": _redact_attachment(a)}


def finding_rows(run_id: str, findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """The ``findings`` rows of a run's diagnosis, in order."""
    return [
        {
            "run_id": run_id,
            "seq": i,
            "fault": f.fault,
            "title": redact(f.title),
            "category": f.category,
            "part": f.part,
            "action": redact(f.action),
            "in_unit": f.in_unit,
            "steps": json.dumps(list(f.steps), ensure_ascii=False),
            "consequences": json.dumps([redact(c) for c in f.consequences], ensure_ascii=False),
            "texts": _finding_texts(f),
        }
        for i, f in enumerate(findings)
    ]


def _finding_texts(f: Finding) -> str | None:
    texts = {k: json.loads(j) for k in ("title", "part", "action") if (j := text_json(getattr(f, k))) is not None}
    return json.dumps(texts, ensure_ascii=False, sort_keys=True) if texts else None


_LIMIT_JSON: dict[int, tuple[Limit, str]] = {}


def _limit_json(limit: Limit) -> str:
    """A limit's JSON, remembered per limit object (a plan's steps share theirs)."""
    hit = _LIMIT_JSON.get(id(limit))
    if hit is not None and hit[0] is limit:
        return hit[1]
    text = json.dumps(redact_data(limit.to_dict()), ensure_ascii=False)
    if len(_LIMIT_JSON) >= 4096:
        _LIMIT_JSON.clear()
    _LIMIT_JSON[id(limit)] = (limit, text)
    return text


def _redact_attachment(a: AttachmentRecord) -> bytes:
    if not a.mime.startswith("text/"):
        return a.data
    try:
        text = a.data.decode("utf-8")
    except UnicodeDecodeError:
        return a.data
    masked = redact(text)
    return a.data if masked == text else masked.encode("utf-8")


# --------------------------------------------------------------------------- reading


def step_record(row: Sequence[Any]) -> StepRecord:
    """A step from ``idx, name, check_name, outcome, started_at, duration_s, attempts, fault, message, log,
    message_text``."""
    idx, name, check, outcome, started, duration, attempts, fault, message, log, message_text = row
    return StepRecord(index=idx, name=name, check=check, outcome=Outcome(outcome), started_at=utc(started),
                      duration_s=duration, attempts=attempts, fault=fault, message=revive(message, message_text),
                      log=json.loads(log))


def measurement(row: Sequence[Any]) -> Measurement:
    """A measurement from ``name, value_json, unit, limit_json, passed, fault, message, message_text``."""
    name, value_json, unit, limit_json, passed, fault, message, message_text = row
    limit = None
    if limit_json is not None:
        d = json.loads(limit_json)
        if "one_of" in d:
            d["one_of"] = tuple(d["one_of"])
        limit = Limit(**d)
    return Measurement(name=name, value=json.loads(value_json), unit=unit, limit=limit, passed=bool(passed),
                       fault=fault, message=revive(message, message_text))


def finding(row: Sequence[Any]) -> Finding:
    """A finding from ``fault, title, category, part, action, in_unit, steps, consequences, texts``."""
    fault, title, category, part, action, in_unit, steps, consequences, texts = row
    kept = _stored_texts(texts)
    return Finding(fault=fault, title=revive(title, kept.get("title")), category=category,
                   part=revive(part, kept.get("part")), action=revive(action, kept.get("action")),
                   in_unit=bool(in_unit), steps=json.loads(steps), consequences=json.loads(consequences))


def _stored_texts(texts: str | None) -> dict[str, str]:
    """A finding's ``texts`` column: field -> the JSON of its translatable text ({} when none or unreadable)."""
    if not texts:
        return {}
    try:
        found = json.loads(texts)
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {k: json.dumps(v, ensure_ascii=False) for k, v in found.items()}
