"""ISO/IEC 7816 helpers: ATR parsing, status-word text and the few APDUs checks build.

Pure functions over bytes; no reader, no I/O. The ATR parser never raises on a
malformed ATR: it returns an :class:`Atr` whose ``errors`` say what is wrong, so a
check can report "bad TCK" as a measurement instead of an exception.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

_LOG = logging.getLogger(__name__)

TS_DIRECT = 0x3B
TS_INVERSE = 0x3F


@dataclass(frozen=True)
class InterfaceBytes:
    """The TAi, TBi, TCi and TDi bytes of one group ``i`` (1-based); None when absent."""

    index: int
    ta: int | None = None
    tb: int | None = None
    tc: int | None = None
    td: int | None = None


@dataclass(frozen=True)
class Atr:
    """A parsed Answer-To-Reset.

    Attributes:
        raw: the ATR bytes as received.
        ts: initial character (0x3B direct, 0x3F inverse convention).
        t0: format byte (high nibble: which of TA1..TD1 follow; low nibble: historical byte count).
        groups: interface byte groups in order.
        historical: the historical bytes.
        tck: the check byte, when present.
        tck_required: True when a protocol other than T=0 is offered (ISO 7816-3 §8.2.5).
        tck_ok: True/False when TCK is required, None when it is not.
        protocols: protocols offered, in the order the TDi bytes give them (T=0 when no TD1).
        errors: what is wrong with the structure, one phrase each (empty = valid).
    """

    raw: bytes
    ts: int | None = None
    t0: int | None = None
    groups: tuple[InterfaceBytes, ...] = ()
    historical: bytes = b""
    tck: int | None = None
    tck_required: bool = False
    tck_ok: bool | None = None
    protocols: tuple[int, ...] = ()
    errors: tuple[str, ...] = field(default=())

    @property
    def valid(self) -> bool:
        """True when the structure and (where required) the TCK are correct."""
        return not self.errors

    @property
    def default_protocol(self) -> int | None:
        """The first protocol offered (the one used without PPS), or None for an empty ATR."""
        return self.protocols[0] if self.protocols else None

    @property
    def hex(self) -> str:
        """The ATR as spaced upper-case hex (``3B 68 00 ...``)."""
        return self.raw.hex(" ").upper()

    def describe(self) -> str:
        """One line: hex, protocols and validity."""
        prots = ", ".join(f"T={t}" for t in self.protocols) or "none"
        state = "valid" if self.valid else "; ".join(self.errors)
        return f"{self.hex} ({prots}; {state})"


def parse_atr(data: bytes) -> Atr:
    """Parse an ATR; structural problems are reported in ``Atr.errors``, never raised."""
    raw = bytes(data)
    errors: list[str] = []
    if not raw:
        return Atr(raw, errors=("empty ATR (card mute)",))
    ts = raw[0]
    if ts not in (TS_DIRECT, TS_INVERSE):
        errors.append(f"invalid TS {ts:02X} (expected 3B or 3F)")
    if len(raw) < 2:
        errors.append("ATR truncated after TS")
        return Atr(raw, ts=ts, errors=tuple(errors))
    t0 = raw[1]
    pos = 2
    groups: list[InterfaceBytes] = []
    protocols: list[int] = []
    y = t0 >> 4
    index = 1
    truncated = False
    while True:
        values: dict[str, int | None] = {"ta": None, "tb": None, "tc": None, "td": None}
        for bit, name in ((0x1, "ta"), (0x2, "tb"), (0x4, "tc"), (0x8, "td")):
            if y & bit:
                if pos >= len(raw):
                    truncated = True
                    break
                values[name] = raw[pos]
                pos += 1
        group = InterfaceBytes(index, values["ta"], values["tb"], values["tc"], values["td"])
        if y:
            groups.append(group)
        td = values["td"]
        if truncated or td is None:
            break
        protocols.append(td & 0x0F)
        y = td >> 4
        index += 1
    if truncated:
        errors.append(f"ATR truncated in interface bytes (group {index})")
    if not protocols:
        protocols.append(0)
    k = t0 & 0x0F
    historical = raw[pos : pos + k]
    if len(historical) < k:
        errors.append(f"ATR truncated in historical bytes ({len(historical)} of {k})")
    pos += len(historical)
    tck_required = any(p != 0 for p in protocols)
    tck: int | None = None
    tck_ok: bool | None = None
    rest = raw[pos:]
    if tck_required:
        if not rest:
            errors.append("TCK missing")
            tck_ok = False
        else:
            tck = rest[0]
            check = 0
            for b in raw[1 : pos + 1]:
                check ^= b
            tck_ok = check == 0
            if not tck_ok:
                expected = tck ^ check
                errors.append(f"bad TCK {tck:02X} (expected {expected:02X})")
            rest = rest[1:]
    if rest:
        errors.append(f"{len(rest)} unexpected byte(s) after the ATR")
    return Atr(
        raw,
        ts=ts,
        t0=t0,
        groups=tuple(groups),
        historical=historical,
        tck=tck,
        tck_required=tck_required,
        tck_ok=tck_ok,
        protocols=tuple(dict.fromkeys(protocols)),
        errors=tuple(errors),
    )


def compute_tck(atr_without_tck: bytes) -> int:
    """The TCK that makes T0..TCK XOR to zero, for an ATR given without its TCK."""
    check = 0
    for b in atr_without_tck[1:]:
        check ^= b
    return check


# --------------------------------------------------------------------------- status words

_SW_EXACT: dict[int, str] = {
    0x9000: "success",
    0x6200: "warning: state of non-volatile memory unchanged",
    0x6281: "warning: part of returned data may be corrupted",
    0x6282: "warning: end of file reached before reading Le bytes",
    0x6283: "warning: selected file invalidated",
    0x6284: "warning: FCI not formatted correctly",
    0x6400: "execution error: state of non-volatile memory unchanged",
    0x6581: "execution error: memory failure",
    0x6700: "wrong length",
    0x6881: "logical channel not supported",
    0x6882: "secure messaging not supported",
    0x6981: "command incompatible with file structure",
    0x6982: "security status not satisfied",
    0x6983: "authentication method blocked",
    0x6984: "referenced data invalidated",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed (no current EF)",
    0x6A80: "incorrect parameters in the data field",
    0x6A81: "function not supported",
    0x6A82: "file or application not found",
    0x6A83: "record not found",
    0x6A84: "not enough memory space in the file",
    0x6A86: "incorrect parameters P1-P2",
    0x6A88: "referenced data not found",
    0x6B00: "wrong parameters P1-P2",
    0x6D00: "instruction code not supported",
    0x6E00: "class not supported",
    0x6F00: "no precise diagnosis",
}


def sw_text(sw1: int, sw2: int) -> str:
    """Describe a status word in words, e.g. ``6A82`` -> ``file or application not found``."""
    sw = (sw1 << 8) | sw2
    if sw in _SW_EXACT:
        return _SW_EXACT[sw]
    if sw1 == 0x61:
        return f"{sw2 or 256} more bytes available (GET RESPONSE)"
    if sw1 == 0x6C:
        return f"wrong Le: exact length is {sw2 or 256}"
    if sw1 == 0x63 and sw2 & 0xF0 == 0xC0:
        return f"verification failed, {sw2 & 0x0F} tries left"
    generic = {
        0x62: "warning (memory unchanged)",
        0x63: "warning (memory changed)",
        0x64: "execution error (memory unchanged)",
        0x65: "execution error (memory changed)",
        0x67: "wrong length",
        0x68: "function in CLA not supported",
        0x69: "command not allowed",
        0x6A: "wrong parameters",
    }
    return generic.get(sw1, "unknown status")


def sw_hex(sw1: int, sw2: int) -> str:
    """The status word as four hex digits (``9000``)."""
    return f"{sw1:02X}{sw2:02X}"


# --------------------------------------------------------------------------- APDUs


def select_by_name(name: bytes, *, first: bool = True) -> bytes:
    """SELECT by DF name / AID (``00 A4 04 00 Lc name 00``)."""
    p2 = 0x00 if first else 0x02
    return bytes([0x00, 0xA4, 0x04, p2, len(name)]) + name + b"\x00"


def read_record(sfi: int, record: int, le: int = 0) -> bytes:
    """READ RECORD ``record`` of short file ``sfi`` (``00 B2 rec (sfi<<3|4) Le``)."""
    return bytes([0x00, 0xB2, record, (sfi << 3) | 0x04, le])


def get_response(le: int) -> bytes:
    """GET RESPONSE for ``le`` bytes (``00 C0 00 00 Le``)."""
    return bytes([0x00, 0xC0, 0x00, 0x00, le & 0xFF])


def with_le(apdu: bytes, le: int) -> bytes:
    """The same command with its Le set to ``le`` (added for case 1/3, replaced for case 2/4)."""
    if len(apdu) < 4:
        raise ValueError(f"APDU too short: {apdu.hex()}")
    if len(apdu) == 4:
        return apdu + bytes([le & 0xFF])
    if len(apdu) == 5:
        return apdu[:4] + bytes([le & 0xFF])
    lc = apdu[4]
    if len(apdu) == 5 + lc:
        return apdu + bytes([le & 0xFF])
    return apdu[: 5 + lc] + bytes([le & 0xFF])


PSE = b"1PAY.SYS.DDF01"
PPSE = b"2PAY.SYS.DDF01"
