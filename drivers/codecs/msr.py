"""Magstripe track checks: ISO 7811 LRC and ISO 7813 track formats, without keeping track data.

A unit sends each track as its head read it: start sentinel, data, end sentinel and the
LRC character (docs/protocol.md, ``card_swipe``). :func:`summarize_swipe` checks every
track's character set, format and LRC and returns an :class:`~drivers.interfaces.MsrSwipe`
that holds only verdicts and the masked PAN; the caller drops the raw strings.

Character sets and LRC (ISO/IEC 7811-2):

* track 1: 6-bit alphanumeric, characters ``0x20``-``0x5F``, value = code - ``0x20``;
* tracks 2 and 3: 4-bit numeric, characters ``0x30``-``0x3F``, value = code - ``0x30``.

The LRC is the XOR of the values of every character from the start sentinel through the
end sentinel; it is sent as one more character of the same set. (The parity bit of each
character, and of the LRC, is checked by the reader's hardware and never reaches the host.)
"""

from __future__ import annotations

import logging
import re

from drivers.codecs.pan import luhn_ok, mask_pan
from drivers.interfaces import MsrSwipe, TrackRead

_LOG = logging.getLogger(__name__)

_SETS = {1: (0x20, 0x3F), 2: (0x30, 0x0F), 3: (0x30, 0x0F)}  # offset, value mask
_MAX_LEN = {1: 79, 2: 40, 3: 107}  # characters from start to end sentinel, ISO 7811-2
_START = {1: "%", 2: ";", 3: ";"}
_TRACK1 = re.compile(r"%B(\d{12,19})\^([\x20-\x5D\x5F]{2,26})\^(\d{4})(\d{3})([\x20-\x3E\x40-\x5D\x5F]*)\?")
_TRACK2 = re.compile(r";(\d{12,19})=(\d{4})(\d{3})(\d*)\?")
_TRACK3 = re.compile(r";[\x30-\x3E]*\?")


def lrc(track: int, chars: str) -> str:
    """The ISO 7811 LRC character of ``chars`` (start sentinel through end sentinel) on ``track``.

    Raises:
        ValueError: a character outside the track's character set.
    """
    offset, mask = _SETS[track]
    value = 0
    for ch in chars:
        code = ord(ch) - offset
        if not 0 <= code <= mask:
            raise ValueError(f"character 0x{ord(ch):02X} is not in the track {track} character set")
        value ^= code
    return chr(offset + value)


def with_lrc(track: int, chars: str) -> str:
    """``chars`` followed by its LRC character (what a head sends)."""
    return chars + lrc(track, chars)


def check_track(track: int, raw: str) -> tuple[TrackRead, str | None]:
    """Check one track as the unit sent it (with its LRC character).

    Returns:
        The verdicts (no track data in them) and the PAN found in it (None when the
        format is wrong or the track has no PAN). The PAN is for the caller to mask.
    """
    if not raw:
        return TrackRead(track, False, False, False, 0, "not read"), None
    offset, mask = _SETS[track]
    bad = [ch for ch in raw if not 0 <= ord(ch) - offset <= mask]
    if bad:
        return TrackRead(track, True, False, False, len(raw), "characters outside the track character set"), None
    end = raw.rfind("?")
    if end < 0 or end != len(raw) - 2:
        problem = "no end sentinel" if end < 0 else "no LRC character after the end sentinel"
        return TrackRead(track, True, False, False, len(raw), problem), None
    body, got = raw[: end + 1], raw[end + 1]
    lrc_ok = lrc(track, body) == got
    problems = [] if lrc_ok else ["LRC mismatch"]
    pan: str | None = None
    if not body.startswith(_START[track]):
        problems.append("no start sentinel")
    elif len(body) > _MAX_LEN[track]:
        problems.append(f"longer than {_MAX_LEN[track]} characters")
    else:
        pattern = {1: _TRACK1, 2: _TRACK2, 3: _TRACK3}[track]
        match = pattern.fullmatch(body)
        if match is None:
            problems.append("not in ISO 7813 format" if track != 3 else "not a numeric track")
        elif track in (1, 2):
            pan = match.group(1)
    format_ok = not [p for p in problems if p != "LRC mismatch"]
    return TrackRead(track, True, format_ok, lrc_ok, len(raw), "; ".join(problems)), pan


def summarize_swipe(unit_ok: bool, track1: str, track2: str, track3: str = "") -> MsrSwipe:
    """Check a swipe's tracks and keep only the verdicts and the masked PAN.

    Args:
        unit_ok: the unit's status byte said the read was good.
        track1, track2, track3: the tracks as the unit sent them (empty when not read).
    """
    reads: list[TrackRead] = []
    pans: dict[int, str] = {}
    for number, raw in ((1, track1), (2, track2), (3, track3)):
        read, pan = check_track(number, raw)
        reads.append(read)
        if pan is not None:
            pans[number] = pan
    pan = pans.get(2) or pans.get(1) or ""
    agree = len(set(pans.values())) <= 1
    return MsrSwipe(
        unit_ok=unit_ok,
        tracks=tuple(reads),
        masked_pan=mask_pan(pan) if pan else "",
        pan_luhn_ok=bool(pan) and luhn_ok(pan),
        pans_agree=agree,
    )


def describe(swipe: MsrSwipe) -> str:
    """One line for notes and logs: per-track verdicts and the masked PAN (never track data)."""
    parts = []
    for t in swipe.tracks:
        if not t.present:
            if t.track != 3:
                parts.append(f"track {t.track} not read")
            continue
        state = "ok" if t.format_ok and t.lrc_ok else t.problem
        parts.append(f"track {t.track} {state}")
    if swipe.masked_pan:
        parts.append(f"PAN {swipe.masked_pan}" + ("" if swipe.pan_luhn_ok else " (fails Luhn)"))
    if not swipe.pans_agree:
        parts.append("track 1 and 2 PANs differ")
    if not swipe.unit_ok:
        parts.append("unit reported a read error")
    return ", ".join(parts)
