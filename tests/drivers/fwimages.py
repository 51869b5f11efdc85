"""Test firmware images for the update tests, signed with the simulator's TEST-ONLY key."""

from __future__ import annotations

import functools
import random
from pathlib import Path

from drivers.firmware.image import FirmwareImage, build_image
from drivers.firmware.keys import load_private_key, trusted_keys

KEYS = Path(__file__).resolve().parents[2] / "drivers" / "sim" / "firmware"


@functools.cache
def signing_key() -> bytes:
    """The simulator's TEST-ONLY private key (raw)."""
    return load_private_key(KEYS / "TEST-ONLY-signing-key.pem")


@functools.cache
def trusted() -> dict[bytes, bytes]:
    """The TEST-ONLY public key, as the bench trusts it."""
    return trusted_keys([KEYS / "TEST-ONLY-signing-key.pub.pem"])


def make_image(size: int, *, version: str = "2.5.0", model: str = "PT-300", hw: tuple[str, ...] = ("C", "D"),
               key: bytes | None = None, seed: int = 1) -> FirmwareImage:
    """An image of ``size`` payload bytes (seeded noise) for the good profile's PT-300 hw C by default."""
    payload = random.Random(seed).randbytes(size)
    return build_image(payload, model=model, version=version, hw_revisions=hw, private_key=key or signing_key())
