"""What a repair case is, as stored: the case, its repair records, and how a case id is written.

A case id is the store's integer, shown and accepted as ``C<id>`` (``C12``; a bare ``12`` too).
Every free text (complaint, notes, reasons) is stored through :func:`drivers.codecs.pan.redact`,
so a case never holds a full PAN.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bench.errors import UsageError
from drivers.i18n import N_

OPEN, CLOSED = "open", "closed"
REPAIRED, UNREPAIRED, RETURNED = "repaired", "unrepaired", "returned"
RESULTS = (REPAIRED, UNREPAIRED, RETURNED)

#: What a technician may record doing to a unit (``bench case repair --action``).
ACTIONS = ("replace", "reseat", "clean", "reflash", "update", "return-to-factory", "reactivated", "adjust", "other")
RETURN_TO_FACTORY, REACTIVATED = "return-to-factory", "reactivated"

#: The words a person reads for a case's status and result and a repair's action (the values stay codes:
#: ``--json``, the store); :func:`word` gives them.
_WORDS = {
    OPEN: N_("open"), CLOSED: N_("closed"),
    REPAIRED: N_("repaired"), UNREPAIRED: N_("unrepaired"), RETURNED: N_("returned"),
    "replace": N_("replace"), "reseat": N_("reseat"), "clean": N_("clean"), "reflash": N_("reflash"),
    "update": N_("update"), RETURN_TO_FACTORY: N_("return-to-factory"), REACTIVATED: N_("reactivated"),
    "adjust": N_("adjust"), "other": N_("other"),
}

_CASE_ID = re.compile(r"[Cc]?(\d{1,18})")


def word(code: str) -> str:
    """A status, result or repair action as a person reads it (a :class:`~drivers.i18n.Text`); an unknown code as is."""
    return _WORDS.get(code, code)


def parse_case_id(text: str) -> int:
    """``C12`` or ``12`` -> 12.

    Raises:
        UsageError: anything else (exit 2).
    """
    found = _CASE_ID.fullmatch(text.strip())
    if found is None or int(found.group(1)) == 0:
        raise UsageError(N_("{text!r} is not a case id: give it as C<number>, e.g. C12", text=text))
    return int(found.group(1))


def label(case_id: int) -> str:
    """How a case id is shown: ``C12``."""
    return f"C{case_id}"


@dataclass(frozen=True)
class Case:
    """One repair case as stored."""

    case_id: int
    serial: str
    model: str | None
    complaint: str
    customer_ref: str | None
    last_worked: str | None
    software_update: str | None
    opened_at: datetime
    opened_by: str
    status: str  # open, closed
    closed_at: datetime | None = None
    result: str | None = None  # repaired, unrepaired, returned (closed cases)
    close_reason: str | None = None

    @property
    def label(self) -> str:
        """``C<id>``."""
        return label(self.case_id)

    @property
    def is_open(self) -> bool:
        """Whether runs and repairs may still be added."""
        return self.status == OPEN

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {
            "case": self.label,
            "id": self.case_id,
            "serial": self.serial,
            "model": self.model,
            "complaint": self.complaint,
            "customer_ref": self.customer_ref,
            "last_worked": self.last_worked,
            "software_update": self.software_update,
            "opened_at": iso(self.opened_at),
            "opened_by": self.opened_by,
            "status": self.status,
            "closed_at": iso(self.closed_at),
            "result": self.result,
            "close_reason": self.close_reason,
        }


@dataclass(frozen=True)
class Repair:
    """One thing a technician did to the case's unit."""

    repair_id: int
    case_id: int
    at: datetime
    technician: str
    action: str
    part_number: str | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        return {"id": self.repair_id, "case": label(self.case_id), "at": iso(self.at), "technician": self.technician,
                "action": self.action, "part_number": self.part_number, "note": self.note}


def iso(t: datetime | None) -> str | None:
    """An aware time as ISO 8601 in UTC (``None`` stays ``None``)."""
    return t.astimezone(UTC).isoformat() if t else None


__all__ = ["ACTIONS", "CLOSED", "OPEN", "REACTIVATED", "REPAIRED", "RESULTS", "RETURNED", "RETURN_TO_FACTORY",
           "UNREPAIRED", "Case", "Repair", "iso", "label", "parse_case_id"]
