"""Signed firmware images: the format (docs/firmware.md), building one, reading and verifying one.

An image is a header, an Ed25519 signature over the header, and the payload. The header names
the model, the version and the hardware revisions the image fits, and holds the payload's
length and SHA-256, so the signature covers the payload too. Every field is bounded and every
byte is accounted for: a truncated, padded, altered or unsigned image is refused with one line
saying what is wrong, never half-read.

Layout (integers big-endian)::

    magic        4   b"PBFW"
    format       u8  1
    model        u8 length + ASCII (1..32)
    version      u8 length + ASCII (1..32)
    hw revisions u8 count (1..16), each u8 length + ASCII (1..8)
    key id       8   the first 8 bytes of SHA-256 of the signing public key
    payload len  u32 (1 .. MAX_PAYLOAD)
    payload hash 32  SHA-256 of the payload
    signature    64  Ed25519 over every header byte above
    payload      payload len bytes
"""

from __future__ import annotations

import hashlib
import re
import struct
from dataclasses import dataclass

from drivers.errors import ConfigError
from drivers.i18n import N_

MAGIC = b"PBFW"
FORMAT_VERSION = 1
MAX_PAYLOAD = 64 * 1024 * 1024
#: The largest image file: the largest payload and a header's worth more (a header is under 1 KiB).
MAX_IMAGE = MAX_PAYLOAD + 4096
SIGNATURE_LEN = 64
KEY_ID_LEN = 8
_TEXT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
_LIMITS = {"model": 32, "version": 32, "hw revision": 8}


class ImageError(ConfigError):
    """The image is malformed, truncated, altered, not signed by a trusted key, or not for this unit.

    ``fault_code`` says which: ``FW-IMAGE-CORRUPT`` (format, length, hash), ``FW-UNTRUSTED-IMAGE``, or, from
    :func:`drivers.unitfirmware.check_image`, ``FW-WRONG-MODEL`` and ``FW-DOWNGRADE``.
    """

    def __init__(self, message: str, *, fault_code: str = "FW-IMAGE-CORRUPT", path: str | None = None) -> None:
        super().__init__(message, path=path)
        self.fault_code = fault_code


@dataclass(frozen=True)
class ImageHeader:
    """What an image says it is."""

    model: str
    version: str
    hw_revisions: tuple[str, ...]
    key_id: bytes
    payload_length: int
    payload_sha256: bytes

    def encode(self) -> bytes:
        """The header's bytes (what the signature covers)."""
        out = bytearray(MAGIC)
        out.append(FORMAT_VERSION)
        out += _text(self.model, "model")
        out += _text(self.version, "version")
        if not 1 <= len(self.hw_revisions) <= 16:
            raise ImageError(N_("an image fits 1 to 16 hardware revisions, not {hw_revisions_len}", hw_revisions_len=len(self.hw_revisions)))
        if len(set(self.hw_revisions)) != len(self.hw_revisions):
            raise ImageError(N_("hardware revisions named twice: {items}", items=', '.join(self.hw_revisions)))
        out.append(len(self.hw_revisions))
        for rev in self.hw_revisions:
            out += _text(rev, "hw revision")
        if len(self.key_id) != KEY_ID_LEN:
            raise ImageError(N_("a key id is {KEY_ID_LEN} bytes", KEY_ID_LEN=KEY_ID_LEN))
        out += self.key_id
        if not 1 <= self.payload_length <= MAX_PAYLOAD:
            raise ImageError(N_("a payload is 1 to {MAX_PAYLOAD} bytes, not {payload_length}", MAX_PAYLOAD=MAX_PAYLOAD, payload_length=self.payload_length))
        out += struct.pack(">I", self.payload_length)
        if len(self.payload_sha256) != 32:
            raise ImageError(N_("a payload hash is 32 bytes (SHA-256)"))
        out += self.payload_sha256
        return bytes(out)

    def fits(self, model: str, hw_revision: str) -> bool:
        """Whether the image is for this model and hardware revision."""
        return model == self.model and hw_revision in self.hw_revisions


@dataclass(frozen=True)
class FirmwareImage:
    """A parsed image: the header, its bytes, the signature and the payload (hash checked)."""

    header: ImageHeader
    header_bytes: bytes
    signature: bytes
    payload: bytes

    @property
    def size(self) -> int:
        """The whole image's length in bytes."""
        return len(self.header_bytes) + SIGNATURE_LEN + len(self.payload)

    def to_bytes(self) -> bytes:
        """The image as a file holds it."""
        return self.header_bytes + self.signature + self.payload


def _text(value: str, what: str) -> bytes:
    limit = _LIMITS[what]
    if not isinstance(value, str) or not _TEXT.fullmatch(value) or len(value) > limit:
        raise ImageError(N_("{what} {value!r}: 1 to {limit} letters, digits and . _ + - (starting with a letter or digit)", what=what, value=value, limit=limit))
    data = value.encode("ascii")
    return bytes((len(data),)) + data


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise ImageError(N_("the image ends inside its {what} (truncated: {data_len} bytes)", what=what, data_len=len(self.data)))
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def u8(self, what: str) -> int:
        return self.take(1, what)[0]

    def text(self, what: str) -> str:
        n = self.u8(what)
        raw = self.take(n, what)
        try:
            value = raw.decode("ascii")
        except UnicodeDecodeError:
            raise ImageError(N_("the image's {what} is not ASCII text", what=what)) from None
        if not _TEXT.fullmatch(value) or len(value) > _LIMITS[what]:
            raise ImageError(N_("the image's {what} {value!r} is not a valid {what}", what=what, value=value))
        return value


def _read_header(r: _Reader) -> tuple[ImageHeader, bytes, bytes]:
    """Read the header and the signature; return the header, its bytes and the signature."""
    if r.take(len(MAGIC), "magic") != MAGIC:
        raise ImageError(N_("not a firmware image (it does not start with PBFW)"))
    fmt = r.u8("format version")
    if fmt != FORMAT_VERSION:
        raise ImageError(N_("image format {fmt} is not one this bench reads (it reads format {FORMAT_VERSION})", fmt=fmt, FORMAT_VERSION=FORMAT_VERSION))
    model = r.text("model")
    version = r.text("version")
    count = r.u8("hw revision")
    if not 1 <= count <= 16:
        raise ImageError(N_("the image names {count} hardware revisions (1 to 16 allowed)", count=count))
    revisions = tuple(r.text("hw revision") for _ in range(count))
    key_id = r.take(KEY_ID_LEN, "key id")
    (length,) = struct.unpack(">I", r.take(4, "payload length"))
    if not 1 <= length <= MAX_PAYLOAD:
        raise ImageError(N_("the image's payload length {length} is out of range (1 to {MAX_PAYLOAD})", length=length, MAX_PAYLOAD=MAX_PAYLOAD))
    digest = r.take(32, "payload hash")
    header_bytes = r.data[:r.pos]
    signature = r.take(SIGNATURE_LEN, "signature")
    return ImageHeader(model, version, revisions, key_id, length, digest), header_bytes, signature


def parse_header(data: bytes) -> tuple[ImageHeader, bytes, bytes]:
    """Read an image's header and signature alone (what FW_BEGIN carries, docs/protocol.md §5b).

    Returns the header, the header's bytes (what the signature covers) and the signature.

    Raises:
        ImageError: FW-IMAGE-CORRUPT: not a header, a field out of range, bytes missing or left over.
    """
    r = _Reader(data)
    out = _read_header(r)
    if r.pos != len(data):
        raise ImageError(N_("{value} bytes after the header's signature", value=len(data) - r.pos))
    return out


def parse_image(data: bytes) -> FirmwareImage:
    """Read an image: its format, lengths and payload hash (the signature is :func:`verify_image`'s job).

    Raises:
        ImageError: FW-IMAGE-CORRUPT, saying what is wrong (not an image, truncated, trailing
            bytes, a field out of range, the payload's hash differs).
    """
    r = _Reader(data)
    header, header_bytes, signature = _read_header(r)
    payload = r.take(header.payload_length, "payload")
    if r.pos != len(data):
        extra = len(data) - r.pos
        raise ImageError(N_("the image has 1 byte after its payload") if extra == 1
                         else N_("the image has {extra} bytes after its payload", extra=extra))
    if hashlib.sha256(payload).digest() != header.payload_sha256:
        raise ImageError(N_("the payload's SHA-256 differs from the header's: the image was altered or damaged"))
    return FirmwareImage(header, header_bytes, signature, payload)


def key_id_of(public_key: bytes) -> bytes:
    """The key id an image names: the first 8 bytes of SHA-256 of the raw 32-byte public key."""
    return hashlib.sha256(public_key).digest()[:KEY_ID_LEN]


def build_image(payload: bytes, *, model: str, version: str, hw_revisions: tuple[str, ...],
                private_key: bytes) -> FirmwareImage:
    """Build and sign an image with a raw 32-byte Ed25519 private key (test images: docs/firmware.md).

    Raises:
        ImageError: a field out of range.
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    key = Ed25519PrivateKey.from_private_bytes(private_key)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    header = ImageHeader(model, version, tuple(hw_revisions), key_id_of(public), len(payload),
                         hashlib.sha256(payload).digest())
    header_bytes = header.encode()
    return FirmwareImage(header, header_bytes, key.sign(header_bytes), bytes(payload))


def verify_image(image: FirmwareImage, trusted: dict[bytes, bytes]) -> bytes:
    """Check the signature against the trusted public keys (key id -> raw 32-byte key); return the key id.

    Raises:
        ImageError: FW-UNTRUSTED-IMAGE: signed by a key that is not trusted, or the signature is wrong (the
            bench refuses it: the unit's own refusal is FW-SIGNATURE, a fault of its firmware).
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    key = trusted.get(image.header.key_id)
    if key is None:
        raise ImageError(N_("the image is signed by key {hex}, which this bench does not trust", hex=image.header.key_id.hex()),
                         fault_code="FW-UNTRUSTED-IMAGE")
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(image.signature, image.header_bytes)
    except InvalidSignature:
        raise ImageError(N_("the image's signature is wrong: the header was altered or signed by another key"),
                         fault_code="FW-UNTRUSTED-IMAGE") from None
    return image.header.key_id
