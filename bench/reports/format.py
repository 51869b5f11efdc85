"""The pieces every report shares: redaction, value and time formatting, drift.

Every renderer first passes the record through :func:`redacted`, so no full PAN or track
data reaches any report even when a device put one in a message or a log line; the record's
translatable texts (:class:`~drivers.i18n.Text`) stay translatable through it. Values, times and
numbers are written in the current language (:func:`drivers.i18n.using_language` around a render).
:func:`drift` is the one definition of "this measurement is drifting towards a limit",
used by the HTML report and ``bench trend`` (documented in ``docs/reports.md``).
Reports read a unit's past through :class:`~bench.store.history.RunHistory`, a read-only
interface, never the whole store.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bench.i18n import format_datetime, format_number
from bench.i18n.stored import redact_text
from bench.record import AttachmentRecord, RunRecord
from bench.reports.jsontext import dumps_indented
from drivers.codecs.pan import redact, redact_data
from drivers.i18n import N_, Text, _

if TYPE_CHECKING:
    from bench.store.history import RunHistory, RunSummary

#: Drift: the mean of the last DRIFT_WINDOW values within DRIFT_MARGIN of the limit span from a limit.
DRIFT_WINDOW = 5
DRIFT_MARGIN = 0.10
#: Drift: a monotonic run of DRIFT_WINDOW values whose trend line reaches a limit within this many runs.
DRIFT_HORIZON = 10
#: Fewer values than this say nothing about drift.
DRIFT_MIN_POINTS = 3

_SKIP_REDACT = frozenset({"run_id", "hash", "started_at", "ended_at", "data_b64", "schema"})


def redacted(rec: RunRecord) -> RunRecord:
    """A copy of ``rec`` with every free text (and text attachment) PAN-redacted.

    Everything but ids, hashes, timestamps and binary attachments goes through
    drivers.codecs.pan's redaction, so a field added to the record later is covered too.
    """
    out = RunRecord.from_dict(redact_data(rec.to_dict(), _SKIP_REDACT))
    for step in out.steps:
        step.attachments = [_redact_attachment(a) for a in step.attachments]
    _keep_texts(rec, out)
    return out


def _keep_texts(rec: RunRecord, out: RunRecord) -> None:
    """Put the translatable texts of ``rec`` (redacted) where the plain-data round trip left their English."""
    if isinstance(rec.summary, Text):
        out.summary = redact_text(rec.summary)
    for step, copy in zip(rec.steps, out.steps, strict=True):
        if isinstance(step.message, Text):
            copy.message = redact_text(step.message)
        copy.measurements = [replace(mc, message=redact_text(m.message)) if isinstance(m.message, Text) else mc
                             for m, mc in zip(step.measurements, copy.measurements, strict=True)]
    for f, fc in zip(rec.findings, out.findings, strict=True):
        for name in ("title", "part", "action"):
            if isinstance(getattr(f, name), Text):
                setattr(fc, name, redact_text(getattr(f, name)))


def redacted_json(rec: RunRecord) -> str:
    """``redacted(rec).to_dict()`` as indented JSON (what run.json holds), redacted as it is written."""
    data = rec.to_dict()
    for step, out in zip(rec.steps, data["steps"], strict=True):
        for a, d in zip(step.attachments, out["attachments"], strict=True):
            mime = redact(a.mime)
            if mime.startswith("text/"):  # its body is base64 (data_b64 is skipped): redact it here
                d["data_b64"] = _redact_attachment(AttachmentRecord(a.name, mime, a.data)).to_dict()["data_b64"]
    return dumps_indented(data, redact, _SKIP_REDACT)


def _redact_attachment(a: AttachmentRecord) -> AttachmentRecord:
    if not a.mime.startswith("text/"):
        return a
    try:
        text = a.data.decode("utf-8")
    except UnicodeDecodeError:
        return a
    masked = redact(text)
    return a if masked == text else AttachmentRecord(a.name, a.mime, masked.encode("utf-8"))


# --------------------------------------------------------------------------- shared bits


def is_number(value: Any) -> bool:
    """True for a finite int or float (not a bool)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def fmt_value(value: Any) -> str:
    """A measured value for people: ``3.41``, ``yes``/``no`` for a truth value, ``'2.4.1'`` as ``2.4.1``."""
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, float):
        return f"{value:g}"
    if value is None:
        return "-"
    return str(value)


def fmt_time(t: datetime | None) -> str:
    """``2026-11-24 22:20:04 UTC`` / ``2026年11月24日 22:20:04 UTC`` (in UTC, so they read the same at every station)."""
    if t is None:
        return "-"
    return format_datetime(t.astimezone(UTC)) + " UTC"


def fmt_seconds(seconds: float, decimals: int | None = 2) -> str:
    """A duration for people: ``12.34 s``, the number in the current language (``decimals=None``: as needed)."""
    return _("{seconds} s").format(seconds=format_number(seconds, decimals=decimals))


def run_duration(rec: RunRecord) -> float | None:
    """Seconds from start to end, or ``None`` for a run still open."""
    if rec.ended_at is None:
        return None
    return (rec.ended_at - rec.started_at).total_seconds()


def last_pass_before(history: RunHistory, rec: RunRecord) -> RunSummary | None:
    """The unit's newest PASS run that started before ``rec`` (so a re-render of an old run says the same)."""
    if rec.unit is None:
        return None
    found = history.last_pass(rec.unit.serial)
    if found is None:
        return None
    if found.started_at < rec.started_at and found.run_id != rec.run_id:
        return found
    for summary in history.history(rec.unit.serial):
        earlier = summary.started_at < rec.started_at and summary.run_id != rec.run_id
        if summary.verdict.value == "PASS" and earlier:
            return summary
    return None


# --------------------------------------------------------------------------- drift


@dataclass(frozen=True)
class Drift:
    """The drift judgement of a series of values against its limits."""

    warning: bool
    # "none", "too-few", "out-of-limits", "near-min", "near-max", "trend-to-min", "trend-to-max", "was-out-of-limits"
    kind: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {"warning": self.warning, "kind": self.kind, "message": self.message}


def outside(value: float, lo: float | None, hi: float | None, passed: bool = True) -> bool:
    """True for a value shown as out of limits: it failed its own limits, or lies outside ``lo``..``hi``.

    ``lo`` and ``hi`` are the newest limits (the band a trend draws); an older value may have
    been judged against other limits when it was measured (``passed``).
    """
    return not passed or (lo is not None and value < lo) or (hi is not None and value > hi)


def drift(values: Sequence[float], lo: float | None, hi: float | None,
          passed: Sequence[bool] | None = None) -> Drift:
    """Judge whether a measurement's recent values approach a limit (definition in docs/reports.md).

    Args:
        values: the values in chronological order (oldest first): every value shown.
        lo: the lower limit, if any.
        hi: the upper limit, if any.
        passed: whether each value passed its own limits when it was measured (default: all did).

    Whatever it says is true of every value given: "stable within limits" only when none of
    them is :func:`outside` the limits; a series whose newest value is within them but an
    earlier one is not is ``was-out-of-limits`` (no drift warning, but never "within limits").

    A warning is raised when, over the last :data:`DRIFT_WINDOW` values (at least
    :data:`DRIFT_MIN_POINTS`):

    * the newest value is outside the limits (``out-of-limits``); or
    * their mean lies within :data:`DRIFT_MARGIN` (10 %) of the limit span from a limit
      (``near-min``/``near-max``; only with both limits: a one-sided limit has no span); or
    * they move strictly in one direction towards a limit and their least-squares line
      reaches it within :data:`DRIFT_HORIZON` more runs (``trend-to-min``/``trend-to-max``).
    """
    if lo is None and hi is None:
        return Drift(False, "none", N_("no numeric limits"))
    if len(values) < DRIFT_MIN_POINTS:
        return Drift(False, "too-few", N_("{n} value(s): too few to judge drift", n=len(values)))
    ok = list(passed) if passed is not None else [True] * len(values)
    last = values[-1]
    if outside(last, lo, hi, ok[-1]):
        return Drift(True, "out-of-limits", N_("latest value {value} is outside the limits", value=_g(last)))
    window = list(values[-DRIFT_WINDOW:])
    mean = sum(window) / len(window)
    if lo is not None and hi is not None and hi > lo:
        margin = DRIFT_MARGIN * (hi - lo)
        n, avg, m = len(window), _g(mean), _g(margin)
        if mean - lo <= margin:
            text = (N_("mean of last {n} ({mean}) below min {limit}", n=n, mean=avg, limit=_g(lo)) if mean < lo else
                    N_("mean of last {n} ({mean}) within {margin} of min {limit}", n=n, mean=avg, margin=m, limit=_g(lo)))
            return Drift(True, "near-min", text)
        if hi - mean <= margin:
            text = (N_("mean of last {n} ({mean}) above max {limit}", n=n, mean=avg, limit=_g(hi)) if mean > hi else
                    N_("mean of last {n} ({mean}) within {margin} of max {limit}", n=n, mean=avg, margin=m, limit=_g(hi)))
            return Drift(True, "near-max", text)
    if len(window) == DRIFT_WINDOW:
        steps = [b - a for a, b in itertools.pairwise(window)]
        slope = _slope(window)
        if lo is not None and all(s < 0 for s in steps) and slope < 0:
            runs = math.ceil((last - lo) / -slope - 1e-9)
            if runs <= DRIFT_HORIZON:
                return Drift(True, "trend-to-min", N_("falling {n} runs in a row; reaches min {limit} in ~{runs} runs",
                                                      n=DRIFT_WINDOW, limit=_g(lo), runs=runs))
        if hi is not None and all(s > 0 for s in steps) and slope > 0:
            runs = math.ceil((hi - last) / slope - 1e-9)
            if runs <= DRIFT_HORIZON:
                return Drift(True, "trend-to-max", N_("rising {n} runs in a row; reaches max {limit} in ~{runs} runs",
                                                      n=DRIFT_WINDOW, limit=_g(hi), runs=runs))
    out = [v for v, good in zip(values, ok, strict=True) if outside(v, lo, hi, good)]
    if out:
        shown = ", ".join(_g(v) for v in out[-3:]) + (", ..." if len(out) > 3 else "")
        text = (N_("latest value within limits, but {n} of the {total} values shown is not ({values})", n=len(out),
                   total=len(values), values=shown) if len(out) == 1 else
                N_("latest value within limits, but {n} of the {total} values shown are not ({values})", n=len(out),
                   total=len(values), values=shown))
        return Drift(False, "was-out-of-limits", text)
    return Drift(False, "none", N_("stable within limits"))


def _g(x: float) -> str:
    return f"{x:g}"


def _slope(ys: Sequence[float]) -> float:
    n = len(ys)
    mx = (n - 1) / 2
    my = sum(ys) / n
    den = sum((i - mx) ** 2 for i in range(n))
    return sum((i - mx) * (y - my) for i, y in enumerate(ys)) / den if den else 0.0


__all__ = ["Drift", "drift", "fmt_seconds", "fmt_time", "fmt_value", "is_number", "last_pass_before", "outside", "redacted",
           "redacted_json", "run_duration"]
