"""Keep card numbers and track data out of logs, records and reports.

* :func:`mask_pan` keeps the first six and last four digits (PCI DSS display rule).
* :func:`redact` masks every Luhn-valid 13-19 digit run (also written in groups of
  four, or as BCD hex inside an EMV tag ``5A``) and removes track 1 (``%B...^...^...?``)
  and track 2 / track-2-equivalent data (``;PAN=YYMM...?``, ``PAN=YYMM...``, and the
  BCD hex form ``PAN D YYMM ...`` of EMV tags ``57`` / ``9F6B``) from any text.
* :class:`RedactingFilter` applies :func:`redact` to every log record it sees.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_LOG = logging.getLogger(__name__)


def luhn_ok(digits: str) -> bool:
    """True when ``digits`` (only digits) pass the Luhn check."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def mask_pan(pan: str) -> str:
    """Mask a PAN to first six and last four: ``4761739001010010`` -> ``476173******0010``.

    Spaces and dashes are dropped first; a value too short to mask safely is fully starred.
    """
    digits = re.sub(r"[ -]", "", pan)
    if len(digits) < 13:
        return "*" * len(digits)
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def _best_pan(digits: str) -> tuple[str, str]:
    """Split ``digits`` into (prefix, pan): the longest Luhn-valid 13-19 digit suffix, else all."""
    for n in (16, 19, 18, 17, 15, 14, 13):
        if n <= len(digits) and luhn_ok(digits[-n:]):
            return digits[:-n], digits[-n:]
    return "", digits


_TRACK1 = re.compile(r"%?B(\d{12,19})\^[^^\r\n]{0,26}\^[^?\r\n]*\??")
_TRACK2 = re.compile(r";?(\d(?: ?\d){11,22}) ?[=Dd] ?\d(?: ?\d){3}[\d ]*(?<! )[Ff]?\??")
_TAG57 = re.compile(r"(?i)(57|9F ?6B) ?([0-9A-F]{2}) ?(\d(?: ?\d){11,18}) ?D ?\d(?: ?\d){3}[\d ]*(?<! )F?")
_DIGITS = re.compile(r"(?<![0-9])\d(?:[ -]?\d){12,18}(?![0-9])")
_TAG5A = re.compile(r"(?i)5A ?(0[6-9A])( ?(?:[0-9]{2} ?){5,9}[0-9][0-9F])")


def _track1(m: re.Match[str]) -> str:
    return f"[track1 removed {mask_pan(m.group(1))}]"


def _track2(m: re.Match[str]) -> str:
    raw = m.group(1)
    prefix, pan = _best_pan(raw.replace(" ", ""))
    keep = 0  # keep the prefix digits as written (with their spaces)
    seen = 0
    while seen < len(prefix):
        seen += raw[keep].isdigit()
        keep += 1
    while prefix and keep < len(raw) and raw[keep] == " ":
        keep += 1
    return f"{raw[:keep]}[track2 removed {mask_pan(pan)}]"


def _tag57(m: re.Match[str]) -> str:
    return f"{m.group(1)}{m.group(2)}[track2 removed {mask_pan(m.group(3).replace(' ', ''))}]"


def _tag5a(m: re.Match[str]) -> str:
    length = int(m.group(1), 16)
    body = m.group(2).replace(" ", "")
    value = body[: 2 * length]
    rest = body[2 * length :]
    digits = value.rstrip("Ff")
    if len(value) != 2 * length or not digits.isdigit() or not 12 <= len(digits) <= 19:
        return m.group(0)
    return f"5A{m.group(1)}{mask_pan(digits)}{rest}"


def _digits(m: re.Match[str]) -> str:
    raw = m.group(0)
    digits = re.sub(r"[ -]", "", raw)
    if 13 <= len(digits) <= 19 and luhn_ok(digits):
        return mask_pan(digits)
    return raw


def redact(text: str) -> str:
    """Return ``text`` with track data removed and every Luhn-valid PAN masked."""
    # Every pattern below needs at least 12 digits: most texts (step messages, log lines)
    # have fewer, and skip five regex passes (this runs on every stored field).
    if len(text) < 12 or sum(map(str.isdigit, text)) < 12:
        return text
    text = _TRACK1.sub(_track1, text)
    text = _TAG57.sub(_tag57, text)
    text = _TRACK2.sub(_track2, text)
    text = _TAG5A.sub(_tag5a, text)
    return _DIGITS.sub(_digits, text)


def redact_data(value: Any, skip_keys: frozenset[str] = frozenset()) -> Any:
    """``value`` (plain data: text, lists, tuples, dicts) with every text passed through :func:`redact`.

    Dict entries under ``skip_keys`` (ids, hashes, timestamps, binary data) are left as they are;
    tuples come back as lists, as JSON would have them.
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return [redact_data(v, skip_keys) for v in value]
    if isinstance(value, dict):
        return {k: v if k in skip_keys else redact_data(v, skip_keys) for k, v in value.items()}
    return value


class RedactingFilter(logging.Filter):
    """A logging filter that passes every record's message through :func:`redact`.

    Attach it to a handler (``handler.addFilter(RedactingFilter())``) so nothing that
    handler writes carries a full PAN or track data. Exception text is redacted too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep the raw template, redacted
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
