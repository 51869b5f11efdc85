"""What the bench host checks in every request, and the findings it records.

Per message type, the fields a request must carry (:data:`REQUIRED`; ``2|35`` means either),
the numeric fields' formats, the STAN (field 11) not reused by one terminal (field 41) while
the host runs, a reversal naming an authorisation the host saw (field 90, else field 11) with
the same amount, and, when the session ends, a reversal for every authorisation the host
answered late, never, by a close or with garbage. Finding codes are listed in docs/iso8583.md.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from typing import Any

from drivers.codecs.pan import luhn_ok, redact

#: Fields each request must carry ("2|35": one of them).
REQUIRED: dict[str, tuple[str, ...]] = {
    "0100": ("2|35", "3", "4", "7", "11", "12", "13", "22", "41", "42", "49"),
    "0400": ("3", "4", "7", "11", "41", "49"),
    "0401": ("3", "4", "7", "11", "41", "49"),
    "0800": ("7", "11", "70"),
}
#: Fixed numeric fields and their lengths (the ASCII spec itself takes any text).
#: STANs and authorisations the host remembers (per host, all terminals): checks look this far back.
WINDOW = 100_000
_DIGITS = {"3": 6, "4": 12, "7": 10, "11": 6, "12": 6, "13": 4, "22": 3, "49": 3, "70": 3, "90": 42}


@dataclass(frozen=True)
class Finding:
    """One problem in what the unit sent (codes: ISO-...); no full PAN or track data in it."""

    code: str
    message: str
    mti: str = ""
    stan: str = ""
    terminal: str = ""
    peer: str = ""
    at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON and the run's evidence."""
        return asdict(self)


@dataclass
class _Auth:
    amount: str
    answer: str
    expect_reversal: bool
    reversed: bool = False


class Session:
    """The host's memory of one session (start to stop): authorisations, STANs, reversals.

    Not thread-safe on its own: the host calls it from its one loop thread.
    """

    def __init__(self, window: int = WINDOW) -> None:
        # Bounded, so a host that runs for days (a 24-hour soak, `bench host` on a bench network) keeps
        # constant memory, and a terminal whose 6-digit STAN wrapped after 999,999 messages is not
        # taken for one that reused it: only the last ``window`` STANs and authorisations are kept.
        self._window = window
        self._auths: OrderedDict[tuple[str, str], _Auth] = OrderedDict()
        self._owed: dict[tuple[str, str], _Auth] = {}  # out of the window but still owed a reversal
        self._stans: OrderedDict[tuple[str, str], str] = OrderedDict()  # (terminal, STAN) -> what used it

    def check(self, fields: dict[str, str]) -> tuple[list[tuple[str, str]], bool, str]:
        """Findings (code, message) for one request; whether it misses required fields; the STAN it reverses."""
        mti = fields.get("t", "")
        out: list[tuple[str, str]] = []
        missing = [f for f in REQUIRED.get(mti, ()) if not any(fields.get(k) for k in f.split("|"))]
        for f in missing:
            out.append(("ISO-FIELD-MISSING", f"{mti} without field {f.replace('|', ' or ')}"))
        for key, size in _DIGITS.items():
            value = fields.get(key)
            if value is not None and not (len(value) == size and value.isascii() and value.isdigit()):
                out.append(("ISO-FIELD-FORMAT", f"{mti} field {key} is not {size} digits"))
        pan = fields.get("2")
        if pan is not None and not (13 <= len(pan) <= 19 and pan.isascii() and pan.isdigit() and luhn_ok(pan)):
            out.append(("ISO-PAN-FORMAT", f"{mti} field 2 is not a 13-19 digit PAN with a good check digit"))
        terminal, stan = fields.get("41", ""), fields.get("11", "")
        reverses = ""
        if mti in ("0400", "0401"):
            reverses, found = self._reversal(fields, terminal, stan)
            out += found
        elif stan:
            if (terminal, stan) in self._stans:
                out.append(("ISO-STAN-REUSED", f"{mti} STAN {stan} already used by {self._stans[terminal, stan]}"
                                               f" from terminal {redact(terminal)!r}"))
            else:
                self._use_stan((terminal, stan), mti)
        return out, bool(missing), reverses

    def _use_stan(self, key: tuple[str, str], what: str) -> None:
        self._stans[key] = what
        if len(self._stans) > self._window:
            self._stans.popitem(last=False)

    def _reversal(self, fields: dict[str, str], terminal: str, stan: str) -> tuple[str, list[tuple[str, str]]]:
        mti, out = fields["t"], []
        original = fields.get("90", "")
        names = original[4:10] if len(original) >= 10 else stan
        if original and stan:  # its own STAN: fresh, or the one of the reversal it repeats
            tag = f"reversal of {names}"
            used = self._stans.get((terminal, stan))
            if used is None:
                self._use_stan((terminal, stan), tag)
            elif used != tag:
                out.append(("ISO-STAN-REUSED", f"{mti} STAN {stan} already used by {used}"))
        auth = self._auths.get((terminal, names)) or self._owed.get((terminal, names))
        if auth is None:
            out.append(("ISO-REVERSAL-UNKNOWN", f"{mti} names authorisation STAN {names!r}, which this host did "
                                                f"not see from terminal {redact(terminal)!r}"))
            return "", out
        if fields.get("4") and fields["4"] != auth.amount:
            out.append(("ISO-REVERSAL-AMOUNT", f"{mti} for STAN {names} is for amount {fields['4']}, the "
                                               f"authorisation was for {auth.amount}"))
        auth.reversed = True
        self._owed.pop((terminal, names), None)
        return names, out

    def note_auth(self, fields: dict[str, str], answer: str, expect_reversal: bool) -> None:
        """Remember an authorisation the host acted on (``expect_reversal``: the unit got no valid answer)."""
        key = (fields.get("41", ""), fields.get("11", ""))
        if key not in self._auths:
            self._auths[key] = _Auth(fields.get("4", ""), answer, expect_reversal)
            if len(self._auths) > self._window:
                old_key, old = self._auths.popitem(last=False)
                if old.expect_reversal and not old.reversed:
                    self._owed[old_key] = old

    def missing_reversals(self) -> list[tuple[str, str, str, str]]:
        """(code, message, terminal, STAN) for every timed-out authorisation never reversed."""
        return [("ISO-REVERSAL-MISSING", f"authorisation STAN {stan} (amount {auth.amount}, answered {auth.answer}) "
                                         f"was never reversed", terminal, stan)
                for (terminal, stan), auth in [*self._owed.items(), *self._auths.items()]
                if auth.expect_reversal and not auth.reversed]
