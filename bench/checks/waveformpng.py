"""A captured waveform as a PNG picture for the report, drawn with Pillow (no plotting library)."""

from __future__ import annotations

import io
from collections.abc import Sequence

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 28, 36
_TRACE, _AXIS, _GRID, _TEXT, _MARK = (9, 105, 218), (110, 119, 129), (216, 222, 228), (36, 41, 47), (188, 76, 0)


def waveform_png(times_s: Sequence[float], values: Sequence[float], *, title: str, unit: str,
                 marks: Sequence[tuple[float, str]] = ()) -> bytes:
    """Draw ``values`` against ``times_s`` (seconds; shown in ms) with dashed vertical ``marks`` (time, label)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), "white")
    draw = ImageDraw.Draw(image)
    t0, t1 = (times_s[0], times_s[-1]) if len(times_s) > 1 else (0.0, 1.0)
    low, high = min(0.0, *values) if values else 0.0, max(values) if values else 1.0
    high = high if high > low else low + 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def xy(t: float, v: float) -> tuple[float, float]:
        return (LEFT + (t - t0) / ((t1 - t0) or 1.0) * plot_w, TOP + (1 - (v - low) / (high - low)) * plot_h)

    for i in range(5):  # horizontal grid with value labels
        v = low + (high - low) * i / 4
        y = xy(t0, v)[1]
        draw.line([(LEFT, y), (WIDTH - RIGHT, y)], fill=_GRID)
        draw.text((4, y - 6), f"{v:.3g}", fill=_AXIS)
    for i in range(6):  # time labels
        t = t0 + (t1 - t0) * i / 5
        x = xy(t, low)[0]
        draw.line([(x, TOP), (x, HEIGHT - BOTTOM)], fill=_GRID)
        draw.text((x - 12, HEIGHT - BOTTOM + 6), f"{t * 1000:.2f}", fill=_AXIS)
    draw.text((WIDTH - RIGHT - 24, HEIGHT - 14), "ms", fill=_AXIS)
    draw.text((4, 8), f"{title} ({unit})", fill=_TEXT)
    draw.rectangle([LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM], outline=_AXIS)
    for t, label in marks:
        x = xy(t, low)[0]
        for y in range(TOP, HEIGHT - BOTTOM, 8):
            draw.line([(x, y), (x, y + 4)], fill=_MARK)
        draw.text((x + 4, TOP + 4), label, fill=_MARK)
    if len(values) > 1:
        draw.line([xy(t, v) for t, v in zip(times_s, values, strict=False)], fill=_TRACE, width=2)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
