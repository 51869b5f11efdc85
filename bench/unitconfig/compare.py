"""What a unit reports against its merchant's profile: every difference, in a technician's words."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bench.unitconfig.profile import label
from drivers.i18n import N_


@dataclass(frozen=True)
class Difference:
    """One setting that is not as the merchant's profile wants it.

    ``kind`` is ``missing`` (the unit has no value) or ``different``; ``fault`` the fault code
    (``CFG-MISSING``, ``CFG-MISMATCH``).
    """

    key: str
    expected: str
    actual: str | None

    @property
    def kind(self) -> str:
        """``missing`` or ``different``."""
        return "missing" if self.actual is None or self.actual == "" else "different"

    @property
    def fault(self) -> str:
        """The fault code of this difference."""
        return "CFG-MISSING" if self.kind == "missing" else "CFG-MISMATCH"

    def says(self) -> str:
        """One line: ``merchant id is not set (expected 104110070110001)``."""
        what = label(self.key)
        if self.kind == "missing":
            return N_("{what} is not set (expected {expected})", what=what, expected=self.expected)
        return N_("{what} is {actual}, expected {expected}", what=what, actual=self.actual, expected=self.expected)


def compare(expected: Mapping[str, str], reported: Mapping[str, str]) -> list[Difference]:
    """Every setting of ``expected`` the unit does not have as expected, in the profile's order.

    Settings the profile does not name are not compared (a unit has many).
    """
    out: list[Difference] = []
    for key, want in expected.items():
        got = reported.get(key)
        if got != want:
            out.append(Difference(key, want, got))
    return out
