"""Fuzz PAN redaction (``make fuzz``; not part of ``make test``, whose property tests are smaller).

Writes random Luhn-valid PANs (13-19 digits) the way people and devices do (digit scripts mixed or
not, groups of 3-6 or one group, any whitespace, dots, slashes, dashes, ISO 8583 length, zero
padding) into random text, and checks that :func:`drivers.codecs.pan.redact` never lets the PAN's
digits through in order and keeps its last four. Then feeds it text that holds many digits but no
card number (timestamps, decimals, hex, versions, IP addresses) and counts what it changed.

Usage: ``python tests/fuzz/fuzz_redact.py [TEXTS] [SEED]``; prints one summary line, exits 1 on a leak.
"""

from __future__ import annotations

import random
import sys
import time
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from drivers.codecs.pan import luhn_ok, redact

SCRIPTS = (0x30, 0xFF10, 0x0660, 0x06F0, 0x0966, 0x09E6, 0x0E50, 0x1D7CE)
WHITESPACE = (" ", "  ", "\t", "\u00a0", "\u2007", "\u202f", "\u3000", " \u00a0")
PUNCTUATION = (".", "/", "-", " - ", "\u2013", "\uff0e", "\uff0f")
BOUNDARIES = (" | ", ": ", "\n", " card ", " (", ") ", "; ")
NOISE = "abcXYZ éü≤°µ,:;()[]#\n\t" + "0123456789" + "\u0660\uff11"


def pan(rng: random.Random) -> str:
    body = [rng.randrange(1, 10)] + [rng.randrange(10) for _ in range(rng.randrange(13, 20) - 2)]
    for check in range(10):
        digits = "".join(map(str, [*body, check]))
        if luhn_ok(digits):
            return digits
    raise AssertionError("unreachable")


def written(rng: random.Random, digits: str) -> str:
    base = rng.choice(SCRIPTS)
    chars = [chr((rng.choice(SCRIPTS) if rng.random() < 0.2 else base) + int(d)) for d in digits]
    if rng.random() < 0.5:
        prefix = rng.choice(("", str(len(digits)), f"0{len(digits)}", "000"))
        return prefix + "".join(chars)
    sizes: list[int] = []
    while sum(sizes) < len(digits):
        sizes.append(rng.randrange(3, 7))
    sizes[-1] -= sum(sizes) - len(digits)
    groups, k = [], 0
    for size in sizes:
        groups.append("".join(chars[k : k + size]))
        k += size
    punct = rng.choice(PUNCTUATION)
    spaced = rng.random() < 0.5
    return groups[0] + "".join((rng.choice(WHITESPACE) if spaced else punct) + g for g in groups[1:])


def noise(rng: random.Random) -> str:
    return "".join(rng.choice(NOISE) for _ in range(rng.randrange(0, 30)))


def useful(rng: random.Random) -> str:
    kind = rng.randrange(5)
    n = rng.randrange(2, 8)
    if kind == 0:
        fmt = rng.choice(("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%d/%m/%Y %H:%M", "%Y%m%dT%H%M%S"))
        t0 = datetime(2000, 1, 1, tzinfo=UTC)
        return " ".join((t0 + timedelta(seconds=rng.randrange(10**9))).strftime(fmt) for _ in range(n))
    if kind == 1:
        return rng.choice((", ", " V, ", " ")).join(f"{rng.uniform(0, 1000):.{rng.randrange(1, 5)}f}" for _ in range(n))
    if kind == 2:
        raw = rng.randbytes(rng.randrange(8, 40))
        return (raw.hex(" ") if rng.random() < 0.5 else raw.hex()).upper()
    if kind == 3:
        return " ".join(".".join(str(rng.randrange(100)) for _ in range(3)) for _ in range(n))
    return " ".join(".".join(str(rng.randrange(256)) for _ in range(4)) for _ in range(n))


def seen(text: str) -> str:
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text if c.isdecimal() or c == "*")


def main(texts: int, seed: int) -> int:
    rng = random.Random(seed)
    t0 = time.perf_counter()
    leaks = 0
    for _ in range(texts):
        digits = pan(rng)
        text = noise(rng) + rng.choice(BOUNDARIES) + written(rng, digits) + rng.choice(BOUNDARIES) + noise(rng)
        out = seen(redact(text))
        if digits in out or digits[-4:] not in out:
            leaks += 1
            if leaks <= 5:
                print(f"LEAK {text!r} -> {redact(text)!r}")
    changed = 0
    unhex = 0
    for _ in range(texts):
        text = useful(rng)
        if redact(text) != text:
            changed += 1
            unhex += not all(c in "0123456789ABCDEF " for c in text)
    elapsed = time.perf_counter() - t0
    print(f"redact fuzz: {texts} PAN texts, {leaks} leaks; {texts} useful texts, {changed} changed "
          f"({unhex} not hex: should be 0); {elapsed:.1f} s, seed {seed}")
    return 1 if leaks or unhex else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000,
                  int(sys.argv[2]) if len(sys.argv) > 2 else 1))
