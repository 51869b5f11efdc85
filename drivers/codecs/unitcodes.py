"""Decoding the unit's event-log error codes into words a technician understands.

Codes are 16-bit: the high byte names the subsystem, the low byte the event. The
table follows docs/protocol.md; an unknown code is shown as such, never dropped.
"""

from __future__ import annotations

SUBSYSTEMS: dict[int, str] = {
    0x00: "system",
    0x01: "power",
    0x02: "card reader",
    0x03: "contactless",
    0x04: "magstripe",
    0x05: "printer",
    0x06: "keypad",
    0x07: "display",
    0x08: "comms",
    0x09: "security",
    0x0A: "firmware",
}

EVENTS: dict[int, str] = {
    0x0001: "power on",
    0x0002: "watchdog reset",
    0x0003: "firmware crash (exception)",
    0x0004: "clock lost, set to default",
    0x0101: "battery low",
    0x0102: "battery deep discharge",
    0x0103: "adapter disconnected",
    0x0104: "charging fault",
    0x0201: "card reader: no ATR",
    0x0202: "card reader: parity errors",
    0x0203: "card reader: card removed during transaction",
    0x0301: "contactless: field error",
    0x0302: "contactless: collision",
    0x0401: "magstripe: LRC error",
    0x0402: "magstripe: no data",
    0x0501: "printer: paper end",
    0x0502: "printer: cover open",
    0x0503: "printer: cutter jam",
    0x0504: "printer: head overheat",
    0x0505: "printer: paper near end",
    0x0506: "printer: paper loaded",
    0x0601: "keypad: key stuck",
    0x0701: "display: backlight fault",
    0x0801: "comms: link down",
    0x0802: "comms: host unreachable",
    0x0803: "comms: TLS handshake failed",
    0x0901: "security: tamper switch",
    0x0902: "security: keys erased",
    0x0A01: "firmware: update applied",
    0x0A02: "firmware: update failed",
    0x0A03: "firmware: signature check failed",
}


def describe(code: int) -> str:
    """``0x0501`` -> ``"E0501 printer: paper end"``; unknown codes still name their subsystem."""
    text = EVENTS.get(code)
    if text is None:
        subsystem = SUBSYSTEMS.get(code >> 8, "unknown subsystem")
        text = f"{subsystem}: unknown event {code & 0xFF:#04x}"
    return f"E{code:04X} {text}"
