"""Keep card numbers and track data out of logs, records and reports.

* :func:`mask_pan` keeps the first six and last four digits (PCI DSS display rule), whatever
  the layout it is given: ``4761.7390.0101.0010`` -> ``476173******0010``.
* :func:`redact` removes track 1 (``%B...^...^...?``) and track 2 / track-2-equivalent data
  (``;PAN=YYMM...?``, ``PAN=YYMM...``, and the BCD hex form ``PAN D YYMM ...`` of EMV tags
  ``57`` / ``9F6B``, also without its tag when it starts a hex token), masks the BCD hex PAN of EMV tag ``5A``, and then masks every PAN a
  scanner finds in the rest of the text.
* :class:`RedactingFilter` applies :func:`redact` to every log record it sees.

What counts as a PAN (the scanner's rule):

* Digits are any Unicode decimal digit (``str.isdecimal``: ASCII, full-width ``０``-``９``,
  Arabic-Indic, Devanagari, ...); a masked PAN is written in ASCII.
* A *run* is digits joined by separator runs of at most three characters: any whitespace
  but a line break (space, tab, NBSP, double spaces, ...), ``.``, ``/``, ``-`` and the other
  dashes, and their full-width forms. A *group* is a stretch of digits with no separator.
* A PAN is 13-19 digits of a run, not starting with 0, passing the Luhn check, and laid out
  as people and devices write card numbers:

  - one group (``4761739001010010``), or groups of 3-6 digits (the last one 1-6) all
    separated alike (whitespace of any kind counts as one separator, so
    ``4761\\t7390\\u00a00101  0010`` is one layout): ``4761 7390 0101 0010``,
    ``3782 822463 10005``, ``4222 2222 2222 2``; the first group may carry leading zeros
    (zero padding); the PAN ends where a group ends, so what follows it (`` 12/25``, a CVV) stays;
  - or, inside one group, right after its ISO 8583 length (``16`` or ``016`` + 16 digits).

  Where several readings are possible the one starting first wins, and at one start a
  single group, then 16, 15, 19, 14, 13, 18, 17 digits; but a reading that starts with
  ``62`` (UnionPay, 16-19 digits, 19 common on debit cards) tries 19, 18, 17, 16, ... so a
  19-digit PAN is never cut to a Luhn-valid 16-digit start with its last three digits in clear.
  Track 2 data likewise takes a 17-19 digit PAN starting with ``62`` before a 16-digit tail.
* Not a PAN: fewer than 13 digits, a failed Luhn check, digit runs broken by ``:``, ``,``
  or a line break (timestamps, lists), mixed separators (``2026-12-06 2026-12-07``), groups
  of one or two digits or of more than six (dates, versions, IP addresses, spaced hex bytes,
  ``20261206T210540 20261207T080000``), and digits inside
  a hex token with two or more hex letters (an ATR or an APDU written without spaces; EMV
  PANs in hex are found by their tags above). A 13-19 digit Luhn-valid number written like
  a card number (an IMEI, say) is masked: a false alarm costs less than a leak.

Cost: texts with fewer than 12 digits (most step messages and log lines) are returned after
one count of their digits (``str.isdigit`` sees every script), and texts without 12 digits
in one run after one regex search; only the rest meet the track patterns and the scanner.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

_LOG = logging.getLogger(__name__)

def _digit_values(text: str) -> list[int]:
    """The value of every decimal digit in ``text`` (any script), in order; the rest is dropped."""
    return [ord(c) - 48 if c <= "9" else unicodedata.decimal(c) for c in text if c.isdecimal()]


def _luhn(values: list[int]) -> bool:
    total = 0
    for i, d in enumerate(reversed(values)):
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def luhn_ok(digits: str) -> bool:
    """True when ``digits`` (only decimal digits, in any script) pass the Luhn check."""
    if not digits.isdecimal():
        return False
    return _luhn(_digit_values(digits))


def mask_pan(pan: str) -> str:
    """Mask a PAN to first six and last four: ``4761739001010010`` -> ``476173******0010``.

    Every character that is not a decimal digit (spaces, dots, tabs, ...) is dropped first and
    digits of any script are written in ASCII; a value too short to mask safely is fully starred.
    """
    return _mask("".join(map(str, _digit_values(pan))))


def _mask(digits: str) -> str:
    """:func:`mask_pan` of ASCII digits."""
    if len(digits) < 13:
        return "*" * len(digits)
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:]


def _best_pan(digits: str) -> tuple[str, str]:
    """Split ``digits`` into (prefix, pan): a Luhn-valid 13-19 digit suffix, else all.

    A 17-19 digit suffix starting with ``62`` (UnionPay) comes first: a 19-digit UnionPay PAN
    can have a Luhn-valid 16-digit tail (``6205500000000000004``), which would leave ``620`` in clear.
    """
    for n in (19, 18, 17):
        if n <= len(digits) and digits[-n:].startswith("62") and luhn_ok(digits[-n:]):
            return digits[:-n], digits[-n:]
    for n in (16, 19, 18, 17, 15, 14, 13):
        if n <= len(digits) and luhn_ok(digits[-n:]):
            return digits[:-n], digits[-n:]
    return "", digits


_TRACK1 = re.compile(r"%?B(\d{12,19})\^[^^\r\n]{0,26}\^[^?\r\n]*\??")
_TRACK2 = re.compile(r";?(\d(?: ?\d){11,22}) ?= ?\d(?: ?\d){3}[\d ]*(?<! )[Ff]?\??")
# Track 2 equivalent in hex without its tag: digits at the start of a hex token, D, YYMM.
# (Spaced hex bytes carry their tag, 57 or 9F6B, which _TAG57 reads.)
_TRACK2_HEX = re.compile(r"(?<![0-9A-Fa-f])(\d{12,22})[Dd]\d{4}\d*[Ff]?")
_TAG57 = re.compile(r"(?i)(57|9F ?6B) ?([0-9A-F]{2}) ?(\d(?: ?\d){11,18}) ?D ?\d(?: ?\d){3}[\d ]*(?<! )F?")
_TAG5A = re.compile(r"(?i)5A ?(0[6-9A])( ?(?:[0-9]{2} ?){5,9}[0-9][0-9F])")


def _track1(m: re.Match[str]) -> str:
    return f"[track1 removed {mask_pan(m.group(1))}]"


def _track2(m: re.Match[str]) -> str:
    raw = m.group(1)
    prefix, pan = _best_pan(raw.replace(" ", ""))
    if unicodedata.decimal(pan[0]) == 0 or not luhn_ok(pan):  # not a card: zero-filled hex bytes with a 0D, say
        return m.group(0)
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


# --------------------------------------------------------------------------- the scanner
# A separator: whitespace that does not break a line (str.isspace() but not str.splitlines()), or a
# dot, slash or dash (also full-width). One character class: the pre-check below runs on many texts.
_SEP_CHARS = ("\t\x1f \xa0\u1680\u2000-\u200a\u202f\u205f\u3000"
              "./\\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d\uff0e\uff0f")
_SEP = f"[{_SEP_CHARS}]"
_RUN = re.compile(rf"\d(?:{_SEP}{{0,3}}\d)*")
_RUN12 = re.compile(rf"\d(?:{_SEP}{{0,3}}\d){{11}}")
_SIGN = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"}
                      | {"\uff0e": ".", "\uff0f": "/"})
_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_HEX = frozenset("0123456789ABCDEFabcdef")
_HEX_LETTERS = frozenset("ABCDEFabcdef")
#: At one start: a single group first, then these PAN lengths, most common first.
_LENGTHS = (16, 15, 19, 14, 13, 18, 17)
#: At a start reading ``62`` (UnionPay, 16-19 digits): longest first.
_LENGTHS_62 = (19, 18, 17, 16, 15, 14, 13)


def _signature(sep: str) -> str:
    """A separator as a layout: any whitespace run is one space, dashes are ``-``."""
    out = ""
    for c in sep.translate(_SIGN):
        if c.isspace():
            c = " "
        if not (c == " " and out.endswith(" ")):
            out += c
    return out


def _in_hex(text: str, first: int, last: int) -> bool:
    """True when ``text[first:last + 1]`` (digits) is glued to a hex token with two or more hex letters."""
    s, t = first, last + 1
    while s > 0 and text[s - 1] in _ALNUM:
        s -= 1
    while t < len(text) and text[t] in _ALNUM:
        t += 1
    if s == first and t == last + 1:
        return False
    token = text[s:t]
    return all(c in _HEX for c in token) and sum(c in _HEX_LETTERS for c in token) >= 2


class _Run:
    """One run of digits and separators, read into digit values, positions and groups."""

    def __init__(self, text: str, base: int, run: str) -> None:
        self.values: list[int] = []
        self.pos: list[int] = []
        self.grp: list[int] = []
        self.sigs: list[str] = []  # sigs[g]: the separator between group g and g + 1
        self.gstart: list[int] = [0]
        self.gend: list[int] = []
        sep_from = -1
        for k, c in enumerate(run):
            if c.isdecimal():
                if sep_from >= 0:
                    self.sigs.append(_signature(run[sep_from:k]))
                    self.gend.append(len(self.values))
                    self.gstart.append(len(self.values))
                    sep_from = -1
                self.values.append(ord(c) - 48 if c <= "9" else unicodedata.decimal(c))
                self.pos.append(base + k)
                self.grp.append(len(self.gstart) - 1)
            elif sep_from < 0:
                sep_from = k
        self.gend.append(len(self.values))
        n = len(self.values)
        # zero[i]: every digit of i's group before i is 0 (zero padding)
        self.zero = [True] * n
        for i in range(1, n):
            if self.grp[i] == self.grp[i - 1]:
                self.zero[i] = self.zero[i - 1] and self.values[i - 1] == 0
        # Digits glued into a hex token (an ATR, an APDU) at either end of the run are not read.
        self.lo, self.hi = 0, n
        if n and _in_hex(text, self.pos[0], self.pos[self.gend[0] - 1]):
            self.lo = self.gend[0]
        if n and _in_hex(text, self.pos[self.gstart[-1]], self.pos[-1]):
            self.hi = self.gstart[-1]

    def pan_at(self, i: int) -> int:
        """The end (digit index) of the PAN starting at digit ``i``, or 0."""
        v, grp, g0, hi = self.values, self.grp, self.grp[i], self.hi
        if v[i] == 0:
            return 0
        if self.zero[i]:
            end = self.gend[g0]
            if 13 <= end - i <= 19 and end <= hi and _luhn(v[i:end]):
                return end
            if 3 <= self.gend[g0] - i <= 6:
                unionpay = v[i] == 6 and i + 1 < len(v) and v[i + 1] == 2
                for length in _LENGTHS_62 if unionpay else _LENGTHS:
                    end = i + length
                    if end > hi or (end < len(v) and grp[end] == grp[end - 1]) or grp[end - 1] == g0:
                        continue  # past the readable digits, not at a group's end, or one group (done)
                    g1 = grp[end - 1]
                    if len(set(self.sigs[g0:g1])) != 1:
                        continue
                    if not all(3 <= self.gend[g] - self.gstart[g] <= 6 for g in range(g0 + 1, g1)):
                        continue
                    if self.gend[g1] - self.gstart[g1] > 6:
                        continue
                    if _luhn(v[i:end]):
                        return end
        if i >= 2 and grp[i - 2] == g0:  # ISO 8583 LLVAR: the length, then the PAN, in one group
            length = 10 * v[i - 2] + v[i - 1]
            end = i + length
            if 13 <= length <= 19 and end <= self.gend[g0] and end <= hi and _luhn(v[i:end]):
                return end
        return 0


def _scan(text: str) -> str:
    """``text`` with every PAN the scanner finds (see the module docstring) masked."""
    out: list[str] = []
    done = 0
    for m in _RUN.finditer(text):
        if len(m.group(0)) < 13:
            continue
        run = _Run(text, m.start(), m.group(0))
        i = run.lo
        while i <= run.hi - 13:
            end = run.pan_at(i)
            if not end:
                i += 1
                continue
            out.append(text[done : run.pos[i]])
            out.append(_mask("".join(map(str, run.values[i:end]))))
            done = run.pos[end - 1] + 1
            i = end
    if not out:
        return text
    out.append(text[done:])
    return "".join(out)


def redact(text: str) -> str:
    """Return ``text`` with track data removed and every PAN masked (the rule: the module docstring)."""
    # Every pattern needs at least 12 digits: most texts (step messages, log lines) have fewer,
    # and skip everything after one count (this runs on every stored field).
    if len(text) < 12:
        return text
    if sum(map(str.isdigit, text)) < 12:  # isdigit: every decimal digit, and a few more
        return text
    if _RUN12.search(text) is None:
        return text
    text = _TRACK1.sub(_track1, text)
    text = _TAG57.sub(_tag57, text)
    text = _TRACK2.sub(_track2, text)
    text = _TRACK2_HEX.sub(_track2, text)
    text = _TAG5A.sub(_tag5a, text)
    return _scan(text)


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
