"""Fuzz the unit-link frame decoder with a million frames (``make fuzz``; not part of ``make test``).

Feeds the decoder a stream of valid, corrupted, truncated and random frames in random chunk
sizes, and checks what a noisy RS-232 line demands of it:

* it only ever returns frames or raises :class:`bench.errors.ProtocolError`, never anything else;
* every valid frame that is not damaged by a neighbour is decoded, byte for byte;
* it never returns a frame that was not sent (a CRC-16 collision would show here);
* work per byte is bounded (frames per second is printed).

Usage: ``python tests/fuzz/fuzz_link.py [FRAMES] [SEED]``; prints one summary line and writes
it to ``fuzz-result.json`` when ``--out`` is given.
"""

from __future__ import annotations

import json
import platform
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.errors import ProtocolError
from drivers.codecs.linkframe import MAX_PAYLOAD, Frame, FrameDecoder, encode_frame


def run(frames: int, seed: int) -> dict[str, object]:
    """Fuzz ``frames`` frames; return the summary."""
    rng = random.Random(seed)
    decoder = FrameDecoder()
    sent_valid: list[Frame] = []
    got: list[Frame] = []
    protocol_errors = 0
    kinds = {"valid": 0, "corrupted": 0, "truncated": 0, "random": 0}
    t0 = time.perf_counter()
    total_bytes = 0
    pending = bytearray()

    def feed(chunk: bytes) -> None:
        nonlocal protocol_errors
        try:
            got.extend(decoder.feed(chunk))
        except ProtocolError:
            protocol_errors += 1

    for i in range(frames):
        roll = rng.random()
        payload = rng.randbytes(rng.choice((0, 1, 8, 32, rng.randrange(0, 256))))
        frame = Frame(i & 0xFF, rng.randrange(256), payload)
        raw = bytearray(encode_frame(frame.seq, frame.type, frame.payload))
        if roll < 0.70:
            kinds["valid"] += 1
            sent_valid.append(frame)
        elif roll < 0.85:
            kinds["corrupted"] += 1
            pos = rng.randrange(1, len(raw))
            raw[pos] ^= 1 << rng.randrange(8)
        elif roll < 0.95:
            kinds["truncated"] += 1
            raw = raw[: rng.randrange(1, len(raw))]
        else:
            kinds["random"] += 1
            raw = bytearray(rng.randbytes(rng.randrange(1, 64)))
        pending += raw
        total_bytes += len(raw)
        if roll >= 0.70 and roll < 0.95:
            # A damaged frame is followed by a quiet line, as after a burst of noise: the
            # receiver gives up the partial frame on idle (Link calls expire()).
            _flush(pending, rng, feed)
            got.extend(decoder.expire())
        elif len(pending) > 4096 or i == frames - 1:
            _flush(pending, rng, feed)
    _flush(pending, rng, feed)
    got.extend(decoder.expire())
    elapsed = time.perf_counter() - t0
    sent_keys = {(f.seq, f.type, f.payload) for f in sent_valid}
    got_keys = [(f.seq, f.type, f.payload) for f in got]
    phantom = sum(1 for k in got_keys if k not in sent_keys)
    decoded_valid = sum(1 for k in got_keys if k in sent_keys)
    return {
        "frames": frames,
        "seed": seed,
        "kinds": kinds,
        "bytes": total_bytes,
        "valid_sent": len(sent_valid),
        "valid_decoded": decoded_valid,
        "valid_lost": len(sent_valid) - decoded_valid,
        "phantom_frames": phantom,
        "protocol_errors": protocol_errors,
        "other_exceptions": 0,
        "seconds": round(elapsed, 2),
        "frames_per_s": round(frames / elapsed),
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "max_payload": MAX_PAYLOAD,
    }


def _flush(pending: bytearray, rng: random.Random, feed: object) -> None:
    data = bytes(pending)
    pending.clear()
    i = 0
    while i < len(data):
        n = rng.choice((1, 2, 7, 64, 512, 4096))
        feed(data[i : i + n])  # type: ignore[operator]
        i += n


def main() -> int:
    """Run, print the summary, and exit non-zero on any broken promise."""
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    frames = int(args[0]) if args else 1_000_000
    seed = int(args[1]) if len(args) > 1 else 2026
    try:
        result = run(frames, seed)
    except Exception as exc:  # the point of a fuzzer: any other exception is the finding
        print(f"FUZZ FAILED: {type(exc).__name__}: {exc}")
        return 1
    line = (f"fuzz: {result['frames']:,} frames ({result['bytes']:,} bytes, seed {seed}) in {result['seconds']} s "
            f"({result['frames_per_s']:,} frames/s): valid {result['valid_decoded']:,}/{result['valid_sent']:,} decoded, "
            f"{result['valid_lost']} lost, {result['phantom_frames']} phantom, "
            f"{result['protocol_errors']} ProtocolError, 0 other exceptions")
    print(line)
    if "--out" in sys.argv:
        Path("fuzz-result.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0 if result["phantom_frames"] == 0 and result["valid_lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
