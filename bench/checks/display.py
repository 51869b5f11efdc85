"""Display checks: test patterns read back by CRC-32 and judged by the operator; the backlight.

The bench computes the frame buffer every pattern must produce from the display's
geometry (DISPLAY_INFO) itself, so a unit with stuck or dead pixels cannot agree with it.
Frame buffer layout (docs/protocol.md): rows top to bottom; 1 bit per pixel packed eight
to a byte, leftmost pixel in the most significant bit, each row padded to a whole byte;
or 16 bits per pixel, RGB565 big-endian.
"""

from __future__ import annotations

import contextlib
import logging
import zlib

from bench.checks.base import CheckSpec, Param, StepContext
from bench.errors import BenchError
from bench.measure import Limit
from drivers.i18n import N_, Text, join_texts

_LOG = logging.getLogger(__name__)

PATTERNS = ("off", "on", "checkerboard", "stripes", "colour_bars")
DESCRIPTIONS = {
    "off": N_("a completely dark screen (every pixel off)"),
    "on": N_("a completely lit screen with no dark dots"),
    "checkerboard": N_("an even, fine checkerboard over the whole screen"),
    "stripes": N_("even, fine horizontal stripes over the whole screen"),
    "colour_bars": N_("eight vertical colour bars: white, yellow, cyan, green, magenta, red, blue, black"),
}
COLOUR_BARS = (0xFFFF, 0xFFE0, 0x07FF, 0x07E0, 0xF81F, 0xF800, 0x001F, 0x0000)  # RGB565


def question(pattern: str) -> Text:
    """The operator's question for a pattern (scripts answer by this text)."""
    return N_("Does the display show {what}?", what=DESCRIPTIONS[pattern])


def _lit(pattern: str, x: int, y: int) -> bool:
    if pattern == "on":
        return True
    if pattern == "checkerboard":
        return (x + y) % 2 == 0
    if pattern == "stripes":
        return y % 2 == 0
    return False


def expected_frame(pattern: str, width: int, height: int, bits_per_pixel: int) -> bytes:
    """The frame buffer bytes a healthy display holds after DISPLAY_PATTERN ``pattern``.

    Raises:
        ValueError: an unknown pattern, colour bars on a monochrome display, or an unknown depth.
    """
    if pattern not in PATTERNS:
        raise ValueError(f"unknown pattern {pattern!r}")  # i18n: a programming error (plans are checked before)
    if bits_per_pixel == 1:
        if pattern == "colour_bars":
            raise ValueError("colour bars need a colour display")  # i18n: a programming error
        stride = (width + 7) // 8
        rows = []
        for y in range(height):
            row = bytearray(stride)
            for x in range(width):
                if _lit(pattern, x, y):
                    row[x // 8] |= 0x80 >> (x % 8)
            rows.append(bytes(row))
        return b"".join(rows)
    if bits_per_pixel == 16:
        out = bytearray()
        for y in range(height):
            for x in range(width):
                bar = COLOUR_BARS[x * 8 // width]
                value = bar if pattern == "colour_bars" else (0xFFFF if _lit(pattern, x, y) else 0)
                out += value.to_bytes(2, "big")
        return bytes(out)
    raise ValueError(f"unsupported colour depth {bits_per_pixel} bits per pixel")  # i18n: a programming error


def expected_crc(pattern: str, width: int, height: int, bits_per_pixel: int) -> int:
    """CRC-32 (ISO-HDLC, as zlib) of :func:`expected_frame`."""
    return zlib.crc32(expected_frame(pattern, width, height, bits_per_pixel))


def patterns(ctx: StepContext) -> None:
    """Show each test pattern; compare the unit's frame-buffer CRC with the bench's, ask the operator."""
    unit = ctx.unit
    info = unit.display_info()
    ctx.note(f"display {info.width}x{info.height}, {'colour' if info.colour else 'monochrome'}, "
             f"{info.text_rows}x{info.text_columns} characters"
             f"{'' if info.checksum else ', no frame-buffer read-back (operator judges alone)'}")
    confirm = bool(ctx.params["confirm"])
    bad_pixels: list[str] = []
    rejected: list[str] = []
    for pattern in ctx.params["patterns"]:
        pattern = str(pattern)
        if pattern not in PATTERNS:
            ctx.fail(N_("unknown display pattern {pattern!r} in the plan (known: {known})", pattern=pattern,
                        known=", ".join(PATTERNS)),
                     "BENCH-CONFIG")
        if pattern == "colour_bars" and not info.colour:
            ctx.note("colour bars skipped: monochrome display")
            continue
        ctx.check_cancelled()
        unit.display_pattern(pattern)
        if info.checksum:
            got = unit.display_checksum()
            want = expected_crc(pattern, info.width, info.height, info.bits_per_pixel)
            same = (got.crc32, got.width, got.height) == (want, info.width, info.height)
            ctx.measure(f"{pattern}.checksum_ok", same, limit=Limit(equals=True, fault="DSP-PIXELS"))
            if not same:
                bad_pixels.append(pattern)
                ctx.note(f"{pattern}: frame buffer CRC-32 {got.crc32:#010x} ({got.width}x{got.height}), "
                         f"expected {want:#010x} ({info.width}x{info.height})")
        if confirm:
            ok = ctx.operator.confirm(question(pattern), timeout=_confirm_timeout(ctx))
            ctx.measure(f"{pattern}.operator_ok", ok, limit=Limit(equals=True, fault="DSP-REJECTED"))
            if not ok:
                rejected.append(pattern)
    text = str(ctx.params["text"])
    if text:
        unit.display_pattern("off")
        unit.display_write(0, 0, text[: info.text_columns])
        if confirm:
            ok = ctx.operator.confirm(N_("Does the display show the text {text!r}?", text=text[: info.text_columns]),
                                      timeout=_confirm_timeout(ctx))
            ctx.measure("text.operator_ok", ok, limit=Limit(equals=True, fault="DSP-REJECTED"))
            if not ok:
                rejected.append("text")
    if bad_pixels:
        ctx.fail(N_("frame buffer differs from the pattern for {patterns}: dead or stuck pixels",
                    patterns=", ".join(bad_pixels)),
                 "DSP-PIXELS")
    if rejected:
        ctx.fail(N_("operator rejected the display for {patterns}", patterns=", ".join(rejected)), "DSP-REJECTED")


def _confirm_timeout(ctx: StepContext) -> float:
    return max(1.0, min(float(ctx.params["confirm_timeout"]), ctx.remaining() - 1.0))


def backlight(ctx: StepContext) -> None:
    """Step the backlight through its levels and read the current it draws; ~0 mA is a failed backlight."""
    unit = ctx.unit
    min_ma = float(ctx.params["min_ma"])
    max_off = float(ctx.params["max_off_ma"])
    failed: list[str] = []
    try:
        for level in ctx.params["levels"]:
            level = int(level)
            ctx.check_cancelled()
            current = unit.display_backlight(level)
            if level > 0:
                want = round(min_ma * level / 100.0, 2)
                m = ctx.measure(f"backlight.{level}_ma", current, unit="mA",
                                limit=Limit(min=want, unit="mA", fault="DSP-BACKLIGHT"))
                if not m.passed:
                    failed.append(N_("{current:g} mA at {level} % (expected at least {want:g} mA)", current=current,
                                     level=level, want=want))
            else:
                m = ctx.measure("backlight.0_ma", current, unit="mA",
                                limit=Limit(max=max_off, unit="mA", fault="DSP-BACKLIGHT"))
                if not m.passed:
                    failed.append(N_("{current:g} mA when off (expected at most {max_off:g} mA)", current=current,
                                     max_off=max_off))
            ctx.note(f"backlight {level} %: {current:g} mA")
    finally:
        with contextlib.suppress(BenchError):
            unit.display_backlight(int(ctx.params["restore_level"]))
    if ctx.params["confirm"]:
        ok = ctx.operator.confirm(N_("Is the display backlight on and even?"), timeout=_confirm_timeout(ctx))
        ctx.measure("backlight.operator_ok", ok, limit=Limit(equals=True, fault="DSP-BACKLIGHT"))
    if failed:
        ctx.fail(N_("backlight failure: {failures}", failures=join_texts(failed, separator=";")), "DSP-BACKLIGHT")


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "display.patterns",
        patterns,
        N_("test patterns: frame-buffer CRC-32 against the bench's own, operator confirms each; text"),
        devices=("unit",),
        params={
            "patterns": Param(list, ["off", "on", "checkerboard", "stripes", "colour_bars"],
                              N_("patterns to show (colour_bars only on colour displays)")),
            "text": Param(str, "BENCH TEST 0123456789", N_("text to write on the first row ('' = skip)")),
            "confirm": Param(bool, True, N_("ask the operator to confirm each pattern")),
            "confirm_timeout": Param((int, float), 60.0, N_("seconds the operator has for each answer")),
        },
        measurements={"on.checksum_ok": None, "on.operator_ok": None, "text.operator_ok": None},
        fault="DSP-PIXELS",
    ),
    CheckSpec(
        "display.backlight",
        backlight,
        N_("backlight levels: the current drawn at each level (a dead backlight reads ~0 mA)"),
        devices=("unit",),
        params={
            "levels": Param(list, [100, 50, 10, 0], N_("levels to set, in percent")),
            "min_ma": Param((int, float), 10.0, N_("least current at 100 % (scaled down for lower levels)")),
            "max_off_ma": Param((int, float), 2.0, N_("most current with the backlight off")),
            "restore_level": Param(int, 100, N_("level to leave the backlight at"), bounds=(0, 100)),
            "confirm": Param(bool, False, N_("also ask the operator whether the backlight is on")),
            "confirm_timeout": Param((int, float), 60.0, N_("seconds the operator has to answer")),
        },
        measurements={"backlight.100_ma": None},
        fault="DSP-BACKLIGHT",
    ),
)
