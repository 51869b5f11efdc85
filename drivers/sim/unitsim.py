"""The simulated unit as a transport-free state machine: bytes in, bytes out, time explicit.

:class:`UnitSim` speaks the unit side of docs/protocol.md from a validated profile
(:mod:`drivers.sim.unitprofile`). ``feed(data, now)`` takes bytes from the host and
returns bytes to send; ``poll(now)`` returns bytes that became due with time (a BOOT
event after a reboot, event retransmissions, delayed answers, scripted events);
``next_deadline()`` says when to poll next. The pty process in :mod:`drivers.sim.unit`
and the tests drive it the same way.

What a person does to the unit (press keys, swipe a card) comes in through
:meth:`UnitSim.operator_action`, never through the link: the pty process serves it on a
separate control socket, so the diagnostic protocol stays what a real unit speaks.
"""

from __future__ import annotations

import heapq
import random
import time
import zlib
from array import array
from collections import deque
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from drivers import unitproto as up
from drivers.errors import ProtocolError
from drivers.link import (
    ERR_BAD_PAYLOAD,
    ERR_UNSUPPORTED,
    MAX_PAYLOAD,
    RESPONSE_BIT,
    T_ACK,
    T_ERROR,
    T_EVENT,
    T_NAK,
    Frame,
    FrameDecoder,
    encode_frame,
)
from drivers.sim.unitprofile import parse_time

EVENT_RETRY_S = 0.25
EVENT_RETRIES = 3
EVENT_QUEUE = 64  # events waiting behind the one in flight; a full queue drops the oldest

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


class UnitSim:
    """A simulated POS unit over bytes, configured by a validated profile dict."""

    def __init__(self, profile: Mapping[str, Any], *, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        self.profile = profile
        self.faults: Mapping[str, Any] = profile["faults"]
        self._rng = random.Random(self.faults["seed"])
        self._decoder = FrameDecoder(MAX_PAYLOAD)
        self._outbox: list[tuple[float, bytes]] = []
        self._frames_sent = 0
        self._chunks_read = 0
        self.commands = 0
        self._since_boot = 0
        self.boot_count = 1
        self._booting_until: float | None = None
        self._boot_reason = "power_on"
        self._silent = False
        self._power_off = False
        self._cache: tuple[tuple[int, int, bytes], bytes] | None = None
        self._last_data: bytes | None = None
        self._event_seq = 0
        self._events: deque[tuple[int, bytes]] = deque()  # (seq, frame): the head is in flight
        self._event_retry_at = 0.0
        self._event_retries = 0
        self.events_dropped = 0
        self._script = sorted(
            ((now + float(item["at"]), dict(item)) for item in profile["script"]), key=lambda x: x[0]
        )
        self.log_generation = 1
        self.log_image = build_log_image(profile)
        self._t0 = now
        self._timed: list[tuple[float, int, str, dict[str, Any], str]] = []  # operator-made events
        self._timed_count = 0
        self.keypad_on = False
        self.msr_on = False
        self.display = Display(profile["display"], self.faults["dead_pixels"])
        self.display.fill("off")
        self._msr_rng = random.Random(self.faults["seed"])
        self._swipes = 0
        self._misread_block: set[int] = set()

    # ------------------------------------------------------------------ public

    @property
    def booting(self) -> bool:
        """True while the unit reboots (input is dropped)."""
        return self._booting_until is not None

    @property
    def powered_off(self) -> bool:
        """True once the unit lost power and everything due before was sent."""
        return self._power_off and not self._outbox

    def feed(self, data: bytes, now: float | None = None) -> bytes:
        """Take bytes from the host; return the bytes the unit sends now."""
        now = time.monotonic() if now is None else now
        if self._power_off or self._booting_until is not None:
            return self.poll(now)
        rx_noise = self.faults["rx_noise"]
        if rx_noise and data:
            self._chunks_read += 1
            if self._chunks_read % rx_noise == 0:
                # The receive line flips a bit of the chunk's last byte (a frame's CRC, as the host
                # writes a frame at a time): the frame fails its CRC and the unit NAKs it.
                data = data[:-1] + bytes((data[-1] ^ (1 << self._rng.randrange(8)),))
        crc_before = self._decoder.crc_errors
        frames = self._decoder.feed(data)
        if self._decoder.crc_errors > crc_before:
            self._send(encode_frame(0, T_NAK), now, data=False)
        for frame in frames:
            if self._booting_until is not None or self._power_off:
                break  # the rest of the input is lost with the reboot
            self._handle(frame, now)
        return self.poll(now)

    def poll(self, now: float | None = None) -> bytes:
        """Return bytes that became due by ``now`` (boot event, retransmissions, slow answers)."""
        now = time.monotonic() if now is None else now
        if self._booting_until is not None and now >= self._booting_until:
            self._finish_boot(now)
        if not self._power_off and self._booting_until is None:
            while self._script and self._script[0][0] <= now:
                _, item = self._script.pop(0)
                self.emit_event(str(item.pop("event")), {k: v for k, v in item.items() if k != "at"}, now)
            while self._timed and self._timed[0][0] <= now:
                _, _, kind, data, gate = heapq.heappop(self._timed)
                if (gate == "keypad" and self.keypad_on) or (gate == "msr" and self.msr_on):
                    self.emit_event(kind, data, now)
            if self._events and now >= self._event_retry_at:
                if self._event_retries > 0:
                    self._event_retries -= 1
                    self._event_retry_at = now + EVENT_RETRY_S
                    self._send(self._events[0][1], now)
                else:  # the host never ACKed it: give up on this one, go on with the next
                    self.events_dropped += 1
                    self._next_event_out(now)
        out = [frame for due, frame in self._outbox if due <= now]
        self._outbox = [(due, frame) for due, frame in self._outbox if due > now]
        return b"".join(out)

    def next_deadline(self) -> float | None:
        """The monotonic time at which ``poll`` has something to do, or None."""
        times = [due for due, _ in self._outbox]
        if self._booting_until is not None:
            times.append(self._booting_until)
        if self._events:
            times.append(self._event_retry_at)
        if self._script:
            times.append(self._script[0][0])
        if self._timed:
            times.append(self._timed[0][0])
        return min(times) if times else None

    def reboot(self, now: float, reason: str = "commanded") -> None:
        """Start a reboot: silent for the profile's boot_time, then a BOOT event."""
        self._booting_until = now + float(self.profile["boot_time"])
        self._boot_reason = reason
        self._events.clear()

    def emit_event(self, kind: str, data: Mapping[str, Any], now: float) -> None:
        """Queue an unsolicited event; events go out in order, one at a time.

        The event in flight is resent every EVENT_RETRY_S until the host ACKs it (at most
        EVENT_RETRIES times); only then does the next one go out, so a lost frame or a lost
        ACK delays the events behind it but never loses one.
        """
        payload = encode_event(kind, data, self)
        seq = self._event_seq
        self._event_seq = (self._event_seq + 1) & 0xFF
        if len(self._events) > EVENT_QUEUE:  # the oldest waiting one goes; the one in flight stays
            del self._events[1]
            self.events_dropped += 1
        self._events.append((seq, encode_frame(seq, T_EVENT, payload)))
        if len(self._events) == 1:
            self._send_head(now)

    def _next_event_out(self, now: float) -> None:
        """The event in flight is done with (ACKed or given up on): send the next one, if any."""
        self._events.popleft()
        if self._events:
            self._send_head(now)

    def _send_head(self, now: float) -> None:
        self._event_retries = EVENT_RETRIES
        self._event_retry_at = now + EVENT_RETRY_S
        self._send(self._events[0][1], now)

    # ------------------------------------------------------------------ the operator's hands

    def operator_action(self, action: str, details: Mapping[str, Any], now: float | None = None) -> dict[str, Any]:
        """Something a person does to the unit: ``press_keys``, ``swipe_card``, or look at it (``state``).

        Returns a small JSON-able answer. Raises ValueError for an unknown action or card.
        """
        now = time.monotonic() if now is None else now
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

    # ------------------------------------------------------------------ internals

    def _send(self, frame: bytes, now: float, *, data: bool = True) -> None:
        if data:
            self._last_data = frame
        self._frames_sent += 1
        noise = self.faults["noise"]
        if noise and self._frames_sent % noise == 0:
            corrupted = bytearray(frame)
            corrupted[self._rng.randrange(1, len(frame))] ^= self._rng.randrange(1, 256)
            frame = bytes(corrupted)
        self._outbox.append((now + self.faults["slow_ms"] / 1000.0, frame))

    def _finish_boot(self, now: float) -> None:
        self._booting_until = None
        self._decoder.reset()
        self._cache = None
        self._last_data = None
        self._event_seq = 0
        self._since_boot = 0
        self.boot_count += 1
        self.emit_event("boot", {"reason": self._boot_reason}, now)

    def _handle(self, frame: Frame, now: float) -> None:
        if frame.type == T_NAK:
            if self._last_data is not None:
                self._send(self._last_data, now)
            return
        if frame.type == T_ACK:
            if self._events and frame.seq == self._events[0][0]:
                self._next_event_out(now)
            return
        if frame.type == 0 or frame.type >= RESPONSE_BIT or self._silent:
            return
        key = (frame.seq, frame.type, frame.payload)
        if self._cache is not None and self._cache[0] == key and frame.type != up.CMD_HELLO:
            self._send(encode_frame(frame.seq, T_ACK), now, data=False)
            self._send(self._cache[1], now)
            return
        self.commands += 1
        self._since_boot += 1
        if self.faults["garbage"]:
            self._outbox.append((now, self._rng.randbytes(self._rng.randrange(4, 48))))
        else:
            self._send(encode_frame(frame.seq, T_ACK), now, data=False)
            answer = encode_frame(frame.seq, *self._execute(frame, now))
            self._cache = (key, answer)
            self._send(answer, now)
        faults = self.faults
        if faults["power_off_after"] is not None and self.commands >= faults["power_off_after"]:
            self._power_off = True
        elif faults["silent_after"] is not None and self.commands >= faults["silent_after"]:
            self._silent = True
        elif faults["reboot_after"] is not None and self._since_boot >= faults["reboot_after"]:
            self.reboot(now, "watchdog")

    def _execute(self, frame: Frame, now: float) -> tuple[int, bytes]:
        cmd = frame.type
        name = up.COMMAND_NAMES.get(cmd, f"0x{cmd:02X}")
        cap = up.COMMAND_CAPABILITY.get(cmd)
        handler = _HANDLERS.get(cmd)
        if handler is None or (cap is not None and cap not in self.profile["capabilities"]):
            return T_ERROR, _error(cmd, ERR_UNSUPPORTED, f"{name} not supported by this unit")
        try:
            payload = handler(self, frame.payload, now)
        except _BadRequest as exc:
            return T_ERROR, _error(cmd, ERR_BAD_PAYLOAD, str(exc))
        except _Unsupported as exc:
            return T_ERROR, _error(cmd, ERR_UNSUPPORTED, str(exc))
        return cmd | RESPONSE_BIT, payload

    # ------------------------------------------------------------------ commands

    def _hello(self, payload: bytes, now: float) -> bytes:
        prof = self.profile
        self._cache = None
        w = up.Writer().u8(up.PROTOCOL_VERSION).u16(prof["max_payload"])
        w.str(prof["model"]).str(prof["serial"]).str(prof["hw_revision"]).str(prof["firmware"])
        w.u8(len(prof["capabilities"]))
        for cap in prof["capabilities"]:
            w.str(cap)
        return w.bytes()

    def _ping(self, payload: bytes, now: float) -> bytes:
        return payload

    def _reboot(self, payload: bytes, now: float) -> bytes:
        self.reboot(now + self.faults["slow_ms"] / 1000.0, "commanded")
        return b""

    def _self_test(self, payload: bytes, now: float) -> bytes:
        results = self.profile["self_test"]
        w = up.Writer().u8(len(results))
        for subsystem, result in results.items():
            if result == "pass":
                code, detail = 0, ""
            elif isinstance(result, dict):
                code, detail = int(result["code"]), str(result.get("detail", ""))
            else:
                code, detail = int(result), ""
            w.str(subsystem).u16(code).str(detail)
        return w.bytes()

    def _battery(self, payload: bytes, now: float) -> bytes:
        b = self.profile["battery"]
        flags = (up.BATT_CHARGING if b["charging"] else 0) | (up.BATT_ADAPTER if b["adapter_present"] else 0)
        return up.Writer().u16(round(float(b["voltage"]) * 1000)).u8(b["charge_percent"]).u8(flags).bytes()

    def _tamper(self, payload: bytes, now: float) -> bytes:
        t = self.profile["tamper"]
        flags = up.TAMPER_TAMPERED if t["tampered"] else 0
        flags |= up.TAMPER_KEYS_PRESENT if t["keys_present"] else 0
        w = up.Writer().u8(flags).u8(len(t["flags"]))
        for flag in t["flags"]:
            w.str(str(flag))
        return w.bytes()

    def _comms(self, payload: bytes, now: float) -> bytes:
        interfaces = self.profile["comms"]
        w = up.Writer().u8(len(interfaces))
        for name, iface in interfaces.items():
            signal = up.SIGNAL_NONE if iface["signal_dbm"] is None else int(iface["signal_dbm"])
            rtt = up.RTT_NONE if iface["rtt_ms"] is None else round(float(iface["rtt_ms"]) * 1000)
            w.str(name).u8(1 if iface["link"] else 0).i16(signal).u32(rtt)
        return w.bytes()

    def _log_read(self, payload: bytes, now: float) -> bytes:
        if len(payload) != 6:
            raise _BadRequest("LOG_READ wants u32 offset, u16 max_len")
        offset = int.from_bytes(payload[:4], "big")
        max_len = int.from_bytes(payload[4:], "big")
        total = len(self.log_image)
        if offset > total:
            raise _BadRequest(f"offset {offset} beyond log end {total}")
        size = min(max_len, self.profile["max_payload"] - up.LOG_READ_HEADER)
        chunk = self.log_image[offset : offset + size]
        return up.Writer().u32(self.log_generation).u32(total).u32(offset).raw(chunk).bytes()


    def _flag(self, payload: bytes, name: str) -> bool:
        if len(payload) != 1 or payload[0] > 1:
            raise _BadRequest(f"{name} wants u8 on/off")
        return payload[0] == 1

    def _keypad_enable(self, payload: bytes, now: float) -> bytes:
        on = self._flag(payload, "KEYPAD_ENABLE")
        if on and not self.keypad_on:
            for key in self.faults["stuck_keys"]:  # held down already: reported as soon as test mode starts
                self._key(now + 0.05, "key_down", key)
        self.keypad_on = on
        return up.encode_key_layout(self.profile["keys"])

    def _msr_enable(self, payload: bytes, now: float) -> bytes:
        self.msr_on = self._flag(payload, "MSR_ENABLE")
        return up.encode_msr_tracks(self.profile["msr"]["tracks"])

    def _display_info(self, payload: bytes, now: float) -> bytes:
        spec = self.profile["display"]
        flags = up.DISPLAY_FLAG_BACKLIGHT_SENSE | (up.DISPLAY_FLAG_CHECKSUM if spec["checksum"] else 0)
        return up.encode_display_info(
            spec["width"], spec["height"], spec["bits_per_pixel"], spec["text_rows"], spec["text_columns"], flags
        )

    def _display_write(self, payload: bytes, now: float) -> bytes:
        try:
            r = up.Reader(payload, "DISPLAY_WRITE")
            row, column, text = r.u8(), r.u8(), r.str()
        except ProtocolError as exc:
            raise _BadRequest(str(exc)) from exc
        d = self.display
        if row >= len(d.text) or column >= int(self.profile["display"]["text_columns"]):
            raise _BadRequest(f"row {row}, column {column} is off the display")
        line = d.text[row].ljust(column)
        d.text[row] = (line[:column] + text + line[column + len(text) :])[: int(self.profile["display"]["text_columns"])]
        return b""

    def _display_pattern(self, payload: bytes, now: float) -> bytes:
        if len(payload) != 1 or payload[0] >= len(up.DISPLAY_PATTERNS):
            raise _BadRequest("DISPLAY_PATTERN wants u8 pattern 0..4")
        pattern = up.DISPLAY_PATTERNS[payload[0]]
        if pattern == "colour_bars" and self.display.bpp == 1:
            raise _Unsupported("colour bars need a colour display")
        self.display.fill(pattern)
        return b""

    def _display_checksum(self, payload: bytes, now: float) -> bytes:
        if not self.profile["display"]["checksum"]:
            raise _Unsupported("this display cannot read back its frame buffer")
        d = self.display
        return up.encode_display_checksum(zlib.crc32(d.frame_bytes()), d.width, d.height)

    def _display_backlight(self, payload: bytes, now: float) -> bytes:
        if len(payload) != 1 or payload[0] > 100:
            raise _BadRequest("DISPLAY_BACKLIGHT wants u8 level 0..100")
        level = payload[0]
        self.display.backlight = level
        if self.faults["backlight_failed"]:
            current = 0.1  # leakage through a driver with an open LED string
        else:
            current = float(self.profile["display"]["backlight_ma"]) * level / 100 + (0.4 if level else 0.0)
        return up.encode_backlight_answer(current)


class _BadRequest(Exception):
    """A request payload the simulated unit cannot parse (answered with ERR_BAD_PAYLOAD)."""


class _Unsupported(Exception):
    """A request this unit's hardware cannot do (answered with ERR_UNSUPPORTED)."""


_HANDLERS = {
    up.CMD_HELLO: UnitSim._hello,
    up.CMD_PING: UnitSim._ping,
    up.CMD_REBOOT: UnitSim._reboot,
    up.CMD_SELF_TEST: UnitSim._self_test,
    up.CMD_BATTERY: UnitSim._battery,
    up.CMD_TAMPER: UnitSim._tamper,
    up.CMD_COMMS_TEST: UnitSim._comms,
    up.CMD_LOG_READ: UnitSim._log_read,
    up.CMD_KEYPAD_ENABLE: UnitSim._keypad_enable,
    up.CMD_MSR_ENABLE: UnitSim._msr_enable,
    up.CMD_DISPLAY_INFO: UnitSim._display_info,
    up.CMD_DISPLAY_WRITE: UnitSim._display_write,
    up.CMD_DISPLAY_PATTERN: UnitSim._display_pattern,
    up.CMD_DISPLAY_CHECKSUM: UnitSim._display_checksum,
    up.CMD_DISPLAY_BACKLIGHT: UnitSim._display_backlight,
}


def _error(cmd: int, code: int, text: str) -> bytes:
    return up.Writer().u8(cmd).u8(code).str(text).bytes()


def encode_event(kind: str, data: Mapping[str, Any], sim: UnitSim | None = None) -> bytes:
    """Encode an event payload (see docs/protocol.md, "Events")."""
    if kind not in up.EVENT_CODES:
        raise ValueError(f"unknown event kind {kind!r} (known: {', '.join(up.EVENT_CODES)})")
    w = up.Writer().u8(up.EVENT_CODES[kind])
    if kind == "boot":
        reason = str(data.get("reason", "power_on"))
        count = sim.boot_count if sim else int(str(data.get("boot_count", 1)))
        w.u8(up.BOOT_REASONS.index(reason)).u32(count)
        w.str(str(sim.profile["firmware"]) if sim else str(data.get("firmware", "")))
    elif kind in ("key_down", "key_up"):
        w.str(str(data.get("key", "")))
        if "t_ms" in data:
            w.u32(int(str(data["t_ms"])))
    elif kind == "card_swipe":
        w.u8(0 if data.get("ok", True) else 1)
        for track in ("track1", "track2", "track3"):
            w.str(str(data.get(track, "")))
    elif kind == "tamper":
        w.u8(1 if data.get("tampered", True) else 0)
    elif kind == "power":
        w.u8(1 if data.get("adapter_present", True) else 0).u8(int(str(data.get("charge_percent", 0))))
    return w.bytes()


def build_log_image(profile: Mapping[str, Any], now: datetime | None = None) -> bytes:
    """Serialise the profile's event log (plus ``event_log_fill`` synthetic entries), oldest first."""
    now = now or datetime.now(UTC)
    entries: list[tuple[datetime, int, str, str]] = []
    for entry in profile["event_log"]:
        entries.append((parse_time(entry["time"], now), int(entry["code"]), entry["severity"], entry["text"]))
    fill = int(profile["event_log_fill"])
    span = timedelta(days=30)
    for i in range(fill):
        when = now - span + span * i / max(fill, 1)
        entries.append((when, 0x0100 + i % 7, "info", f"fill entry {i:05d}: periodic status report ok"))
    entries.sort(key=lambda e: e[0])
    return b"".join(up.encode_log_entry(int(t.timestamp()), c, sev, text) for t, c, sev, text in entries)
