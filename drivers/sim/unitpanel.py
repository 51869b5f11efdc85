"""The simulated unit's human-facing half: display, keypad and magstripe head, and a person's hands.

:class:`Panel` holds what the unit shows (:class:`Display`) and turns what a person does to the
unit (press keys, swipe a card) into events at the time they happen. The unit sends them only
while the matching test mode is on (KEYPAD_ENABLE, MSR_ENABLE), as on a real unit; the link
session (:mod:`drivers.sim.unitsim`) asks for the due ones with :meth:`Panel.due_events`.
"""

from __future__ import annotations

import heapq
import random
from array import array
from collections.abc import Mapping
from typing import Any

KEY_GAP_S = 0.15  # a person pressing one key after another
KEY_HOLD_S = 0.08  # how long a key is held down
BOUNCE_S = (0.002, 0.005)  # a bouncing contact: up and down again this soon after the press
SWIPE_DELAY_S = 0.4  # from "swipe the card" to the head reading it

# Magstripe test cards the simulated operator can swipe (ISO 7813 fields; test PANs only).
MSR_CARDS: dict[str, dict[str, str]] = {
    "msr-test": {"pan": "4761739001010010", "name": "BENCH/TEST CARD", "expiry": "3012", "service": "201",
                 "track1_dd": "0000000000", "track2_dd": "00000"},
    "msr-mastercard": {"pan": "5413330089010434", "name": "BENCH/MASTERCARD", "expiry": "3012",
                       "service": "201", "track1_dd": "0000000000", "track2_dd": "00000"},
    "msr-unionpay": {"pan": "6212345678900000003", "name": "BENCH/UNIONPAY", "expiry": "3012",
                     "service": "201", "track1_dd": "0000000000", "track2_dd": "00000"},
}
_COLOUR_BARS = (0xFFFF, 0xFFE0, 0x07FF, 0x07E0, 0xF81F, 0xF800, 0x001F, 0x0000)  # RGB565


def track_lrc(track: int, chars: str) -> str:
    """ISO 7811 LRC character: XOR of the character values (track 1 code - 0x20, else - 0x30)."""
    offset = 0x20 if track == 1 else 0x30
    value = 0
    for ch in chars:
        value ^= ord(ch) - offset
    return chr(offset + value)


class Display:
    """The simulated display: a frame buffer with stuck pixels, a text layer and a backlight."""

    def __init__(self, spec: Mapping[str, Any], stuck: list[list[Any]]) -> None:
        self.width = int(spec["width"])
        self.height = int(spec["height"])
        self.bpp = int(spec["bits_per_pixel"])
        self.white = 1 if self.bpp == 1 else 0xFFFF
        self.pixels = array("H", bytes(2 * self.width * self.height))
        self.stuck = [(int(p[0]), int(p[1]), p[2] == "on" if len(p) > 2 else False) for p in stuck]
        self.pattern = "off"
        self.text = [""] * int(spec["text_rows"])
        self.backlight = 100

    def fill(self, pattern: str) -> None:
        """Draw a test pattern (then the stuck pixels show through)."""
        w, h, white = self.width, self.height, self.white
        for y in range(h):
            for x in range(w):
                if pattern == "on":
                    value = white
                elif pattern == "checkerboard":
                    value = white if (x + y) % 2 == 0 else 0
                elif pattern == "stripes":
                    value = white if y % 2 == 0 else 0
                elif pattern == "colour_bars":
                    value = _COLOUR_BARS[x * 8 // w]
                else:
                    value = 0
                self.pixels[y * w + x] = value
        for x, y, on in self.stuck:
            if 0 <= x < w and 0 <= y < h:
                self.pixels[y * w + x] = white if on else 0
        self.pattern = pattern
        self.text = [""] * len(self.text)

    def frame_bytes(self) -> bytes:
        """The frame buffer as docs/protocol.md defines it for DISPLAY_CHECKSUM."""
        out = bytearray()
        w = self.width
        for y in range(self.height):
            row = self.pixels[y * w : (y + 1) * w]
            if self.bpp == 1:
                for start in range(0, w, 8):
                    byte = 0
                    for i, value in enumerate(row[start : start + 8]):
                        byte |= (1 if value else 0) << (7 - i)
                    out.append(byte)
            else:
                for value in row:
                    out += value.to_bytes(2, "big")
        return bytes(out)


class Panel:
    """Display, keypad and magstripe head of one simulated unit, configured by its validated profile.

    Args:
        profile: the unit's validated profile (``keys``, ``display``, ``msr``, ``faults``).
        now: the monotonic time the unit starts; key timestamps (``t_ms``) count from it.
    """

    def __init__(self, profile: Mapping[str, Any], now: float) -> None:
        self.profile = profile
        self.faults: Mapping[str, Any] = profile["faults"]
        self._t0 = now
        self._timed: list[tuple[float, int, str, dict[str, Any], str]] = []  # (when, n, kind, data, gate)
        self._timed_count = 0
        self.keypad_on = False
        self.msr_on = False
        self.display = Display(profile["display"], self.faults["dead_pixels"])
        self.display.fill("off")
        self._msr_rng = random.Random(self.faults["seed"])
        self._swipes = 0
        self._misread_block: set[int] = set()

    def operator_action(self, action: str, details: Mapping[str, Any], now: float) -> dict[str, Any]:
        """Something a person does to the unit: ``press_keys``, ``swipe_card``, or look at it (``state``).

        Returns a small JSON-able answer. Raises ValueError for an unknown action or card.
        """
        if action == "press_keys":
            keys = [str(k) for k in details.get("keys") or self.profile["keys"]]
            return {"done_in_s": round(self._press_keys(keys, now) - now, 3)}
        if action == "swipe_card":
            self._swipe(str(details.get("card") or "msr-test"), now)
            return {"done_in_s": SWIPE_DELAY_S}
        if action == "state":
            d = self.display
            return {"keypad": self.keypad_on, "msr": self.msr_on, "pattern": d.pattern, "text": list(d.text),
                    "backlight": d.backlight}
        raise ValueError(f"unknown operator action {action!r} (known: press_keys, swipe_card, state)")

    def set_keypad(self, on: bool, now: float) -> None:
        """Enter or leave keypad test mode; a key held down already is reported as soon as it starts."""
        if on and not self.keypad_on:
            for key in self.faults["stuck_keys"]:
                self._key(now + 0.05, "key_down", key)
        self.keypad_on = on

    def due_events(self, now: float) -> list[tuple[str, dict[str, Any]]]:
        """The events that happened by ``now`` while their test mode was on, oldest first."""
        out = []
        while self._timed and self._timed[0][0] <= now:
            _, _, kind, data, gate = heapq.heappop(self._timed)
            if (gate == "keypad" and self.keypad_on) or (gate == "msr" and self.msr_on):
                out.append((kind, data))
        return out

    def next_time(self) -> float | None:
        """When the next key edge or swipe happens, or None."""
        return self._timed[0][0] if self._timed else None

    def _at(self, when: float, kind: str, data: dict[str, Any], gate: str) -> None:
        self._timed_count += 1
        heapq.heappush(self._timed, (when, self._timed_count, kind, data, gate))

    def _key(self, when: float, kind: str, key: str) -> None:
        self._at(when, kind, {"key": key, "t_ms": round((when - self._t0) * 1000) & 0xFFFFFFFF}, "keypad")

    def _press_keys(self, keys: list[str], now: float) -> float:
        faults = self.faults
        t = now + 0.2
        for key in keys:
            if key in faults["dead_keys"] or key in faults["stuck_keys"] or key not in self.profile["keys"]:
                pass  # a dead key says nothing; a stuck one is down already
            elif key in faults["bouncing_keys"]:
                self._key(t, "key_down", key)
                self._key(t + BOUNCE_S[0], "key_up", key)
                self._key(t + BOUNCE_S[1], "key_down", key)
                self._key(t + KEY_HOLD_S, "key_up", key)
            else:
                self._key(t, "key_down", key)
                self._key(t + KEY_HOLD_S, "key_up", key)
            t += KEY_GAP_S
        return t

    def _swipe(self, card: str, now: float) -> None:
        if card not in MSR_CARDS:
            raise ValueError(f"unknown magstripe card {card!r} (known: {', '.join(MSR_CARDS)})")
        c = MSR_CARDS[card]
        misreads = self.faults["msr_misreads"]
        index = self._swipes
        self._swipes += 1
        if misreads is not None:
            if index % misreads["of"] == 0:  # a new block of N swipes: pick which K fail
                block = range(index, index + misreads["of"])
                self._misread_block = set(self._msr_rng.sample(list(block), misreads["fail"]))
            if index in self._misread_block:
                self._at(now + SWIPE_DELAY_S, "card_swipe", {"ok": False}, "msr")
                return
        raw = {
            "track1": f"%B{c['pan']}^{c['name']}^{c['expiry']}{c['service']}{c['track1_dd']}?",
            "track2": f";{c['pan']}={c['expiry']}{c['service']}{c['track2_dd']}?",
        }
        data: dict[str, Any] = {"ok": True}
        for number in self.profile["msr"]["tracks"]:
            name = f"track{number}"
            if name not in raw:
                continue
            lrc = track_lrc(number, raw[name])
            if self.faults["msr_bad_lrc"]:
                offset = 0x20 if number == 1 else 0x30
                lrc = chr(offset + ((ord(lrc) - offset) ^ 0x01))
            data[name] = raw[name] + lrc
        self._at(now + SWIPE_DELAY_S, "card_swipe", data, "msr")
