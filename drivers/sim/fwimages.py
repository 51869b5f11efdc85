"""The simulator's test firmware images, signed with its TEST-ONLY key, the same bytes every time.

``python -m drivers.sim.fwimages [FOLDER]`` writes the images the stock plans name into
``testplans/firmware/`` (the default). Ed25519 signatures are deterministic and the payload is a
counted text pattern, so a rebuild gives the committed files byte for byte (a test checks it):
the files stay small in git (the pattern compresses), and a plan works from a fresh clone without
a build step. Other sizes (the benchmark's 1 MiB image, the tests' images) come from
:func:`sim_image` at run time.

These images prove nothing (the signing key is public): they are for the simulated unit only.
"""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

from drivers.firmware.image import FirmwareImage, build_image, parse_image
from drivers.firmware.keys import load_private_key

#: The simulator's TEST-ONLY key pair.
KEY_DIR = Path(__file__).parent / "firmware"
SIGNING_KEY = KEY_DIR / "TEST-ONLY-signing-key.pem"
PUBLIC_KEY = KEY_DIR / "TEST-ONLY-signing-key.pub.pem"
#: The stock plans' payload size: over 100 chunks of the good profile's 504 bytes (a link that drops
#: every 50th chunk drops two), small enough to flash in about a second on an unpaced pty.
STOCK_SIZE = 64 * 1024


@functools.cache
def _signing_key() -> bytes:
    return load_private_key(SIGNING_KEY)


def payload(size: int, label: str) -> bytes:
    """``size`` bytes of a numbered text pattern naming ``label`` (compressible, never all the same)."""
    out = bytearray()
    line = 0
    while len(out) < size:
        out += f"{label} TEST-ONLY firmware payload, line {line:07d}\n".encode()
        line += 1
    return bytes(out[:size])


def sim_image(version: str = "2.5.0", size: int = STOCK_SIZE, *, model: str = "PT-300",
               hw: tuple[str, ...] = ("C", "D")) -> FirmwareImage:
    """An image for the good profile's PT-300 hw C by default, signed with the TEST-ONLY key."""
    return build_image(payload(size, f"{model} {version}"), model=model, version=version, hw_revisions=hw,
                       private_key=_signing_key())


def forged(image: FirmwareImage, version: str) -> bytes:
    """``image`` with its header's version changed and the signature left as it was (a forgery).

    The format stays sound (the payload's hash still matches): only the signature check refuses it.
    """
    old, new = image.header.version.encode(), version.encode()
    if len(old) != len(new):
        raise ValueError("a forged version keeps the length of the signed one")
    data = image.to_bytes()
    at = image.header_bytes.index(bytes([len(old)]) + old) + 1
    return data[:at] + new + data[at + len(new):]


def stock_images() -> dict[str, bytes]:
    """File name -> bytes of the images the stock plans name."""
    good = sim_image("2.5.0")
    return {
        "pt300-2.5.0.img": good.to_bytes(),
        "pt300-2.5.0-forged.img": forged(good, "2.5.9"),  # claims 2.5.9, signed as 2.5.0
    }


def write_images(folder: Path) -> list[Path]:
    """Write :func:`stock_images` into ``folder``; return the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in stock_images().items():
        (folder / name).write_bytes(data)
        written.append(folder / name)
    return written


def main(argv: list[str] | None = None) -> int:
    """Write the stock test images (``python -m drivers.sim.fwimages [FOLDER]``)."""
    parser = argparse.ArgumentParser(prog="python -m drivers.sim.fwimages", description=__doc__.split("\n")[0])
    parser.add_argument("folder", nargs="?", default="testplans/firmware", type=Path)
    args = parser.parse_args(argv)
    for path in write_images(args.folder):
        header = parse_image(path.read_bytes()).header
        sys.stdout.write(f"{path}: {header.model} {header.version}, {path.stat().st_size} bytes\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
