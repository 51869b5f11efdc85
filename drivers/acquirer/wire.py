"""ISO 8583 on the bench host's wire: framing, the codec (pyiso8583, ASCII spec) and masking.

Every message is a 2-byte big-endian length followed by that many bytes of one ISO 8583
message in pyiso8583's shipped ``default_ascii`` spec (ASCII MTI, 16-hex-digit bitmaps,
ASCII LLVAR/LLLVAR lengths). A length of 0 or over :data:`MAX_FRAME` cannot be a message:
the stream is out of step and the connection is closed.

:func:`masked` is the only view of a message that leaves this package: the PAN (field 2) is
masked first-6/last-4, track 2 (35) and track 1 (45) are replaced by a note carrying the
masked PAN, the PIN block (52) is dropped, and every other value goes through
:func:`drivers.codecs.pan.redact` (a PAN a unit puts in a free-text field is masked too).
"""

from __future__ import annotations

import re
from typing import Any

import iso8583
from iso8583.specs import default_ascii

from drivers.codecs.pan import mask_pan, redact

SPEC: dict[str, Any] = default_ascii
#: Largest message body accepted (bytes); the default ASCII spec's usual messages are under 1 kB.
MAX_FRAME = 8192
#: Request MTIs the host answers, and the MTI of each answer.
ANSWERS = {"0100": "0110", "0400": "0410", "0401": "0410", "0800": "0810"}

DecodeError = iso8583.DecodeError
EncodeError = iso8583.EncodeError

_TRACK_PAN = re.compile(r"^[;%]?B?(\d{12,19})")


def frame(body: bytes) -> bytes:
    """``body`` with its 2-byte big-endian length in front."""
    if not 0 < len(body) <= 0xFFFF:
        raise ValueError(f"a frame holds 1-65535 bytes, not {len(body)}")
    return len(body).to_bytes(2, "big") + body


def frame_length(header: bytes) -> int:
    """The body length a 2-byte header announces."""
    return int.from_bytes(header[:2], "big")


def decode(body: bytes) -> dict[str, str]:
    """One message's fields (``"t"`` the MTI, ``"p"`` the bitmap, ``"2"``...); raises :data:`DecodeError`."""
    fields, _ = iso8583.decode(bytes(body), SPEC)
    return fields


def encode(fields: dict[str, str]) -> bytes:
    """The bytes of one message (without its frame); raises :data:`EncodeError`."""
    raw, _ = iso8583.encode(dict(fields), SPEC)
    return bytes(raw)


def _track_note(value: str, which: str) -> str:
    m = _TRACK_PAN.match(value)
    return f"[{which} removed {mask_pan(m.group(1))}]" if m else f"[{which} removed]"


def masked(fields: dict[str, str]) -> dict[str, str]:
    """A copy of ``fields`` safe to log and keep: no full PAN, no track data, no PIN block."""
    out: dict[str, str] = {}
    for key, value in fields.items():
        if key == "2":
            out[key] = mask_pan(value)
        elif key == "35":
            out[key] = _track_note(value, "track2")
        elif key == "45":
            out[key] = _track_note(value, "track1")
        elif key == "52":
            out[key] = "[PIN block removed]"
        elif key in ("t", "p", "1"):
            out[key] = value
        else:
            out[key] = redact(value)
    return out


def pan_prefix(fields: dict[str, str]) -> str:
    """The PAN's digits (field 2, else the start of track 2), for matching by BIN; "" when absent."""
    if fields.get("2"):
        return fields["2"]
    m = _TRACK_PAN.match(fields.get("35", ""))
    return m.group(1) if m else ""


def aid(fields: dict[str, str]) -> str:
    """The card application's AID from the ICC data (field 55, hex TLV: 4F, 84 or 9F06); "" when absent."""
    from drivers.codecs import tlv

    text = fields.get("55", "")
    if not text:
        return ""
    try:
        objs = tlv.parse(bytes.fromhex(text))
    except ValueError:
        return ""
    for tag in (0x4F, 0x84, 0x9F06):
        obj = tlv.find(objs, tag)
        if obj is not None:
            return obj.value.hex().upper()
    return ""
