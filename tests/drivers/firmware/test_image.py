"""The signed image format: built, read back, verified; anything altered, cut or padded is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.errors import ConfigError
from drivers.firmware.image import MAGIC, ImageError, build_image, parse_image, verify_image
from drivers.firmware.keys import load_private_key, load_public_key, trusted_keys

KEYS = Path(__file__).resolve().parents[3] / "drivers" / "sim" / "firmware"
PRIVATE = KEYS / "TEST-ONLY-signing-key.pem"
PUBLIC = KEYS / "TEST-ONLY-signing-key.pub.pem"
PAYLOAD = bytes(range(256)) * 8


def _image(**fields: object) -> bytes:
    args: dict[str, object] = {"model": "PT-300", "version": "2.5.0", "hw_revisions": ("C", "D"), **fields}
    return build_image(PAYLOAD, private_key=load_private_key(PRIVATE), **args).to_bytes()  # type: ignore[arg-type]


GOOD = _image()
TRUSTED = trusted_keys([PUBLIC])


def test_an_image_reads_back_as_built_and_verifies() -> None:
    image = parse_image(GOOD)
    assert (image.header.model, image.header.version, image.header.hw_revisions) == ("PT-300", "2.5.0", ("C", "D"))
    assert image.payload == PAYLOAD and image.size == len(GOOD) and image.to_bytes() == GOOD
    assert image.header.fits("PT-300", "C") and not image.header.fits("PT-300", "B")
    assert not image.header.fits("PT-500", "C")
    assert verify_image(image, TRUSTED) == image.header.key_id


def test_an_image_signed_by_an_untrusted_key_is_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = Ed25519PrivateKey.generate().private_bytes(s.Encoding.Raw, s.PrivateFormat.Raw, s.NoEncryption())
    image = build_image(PAYLOAD, model="PT-300", version="2.5.0", hw_revisions=("C",), private_key=other)
    with pytest.raises(ImageError, match="does not trust") as info:
        verify_image(parse_image(image.to_bytes()), TRUSTED)
    assert info.value.fault_code == "FW-UNTRUSTED-IMAGE"


@pytest.mark.parametrize(("data", "says"), [
    (b"", "ends inside its magic"),
    (b"MZ\x90\x00" + GOOD[4:], "not a firmware image"),
    (MAGIC + b"\x02" + GOOD[5:], "image format 2"),
    (GOOD[:-1], "ends inside its payload"),
    (GOOD + b"\x00", "1 byte after its payload"),
    (GOOD[:-1] + bytes((GOOD[-1] ^ 1,)), "payload's SHA-256 differs"),
])
def test_a_damaged_image_is_refused_saying_what_is_wrong(data: bytes, says: str) -> None:
    with pytest.raises(ImageError, match=says) as info:
        parse_image(data)
    assert info.value.fault_code == "FW-IMAGE-CORRUPT"


def test_an_altered_header_fails_its_signature() -> None:
    # The version "2.5.0" becomes "2.6.0": the format and hash still hold, the signature does not.
    at = GOOD.index(b"2.5.0")
    image = parse_image(GOOD[:at] + b"2.6.0" + GOOD[at + 5:])
    assert image.header.version == "2.6.0"
    with pytest.raises(ImageError, match="signature is wrong") as info:
        verify_image(image, TRUSTED)
    assert info.value.fault_code == "FW-UNTRUSTED-IMAGE"


@pytest.mark.parametrize("fields", [
    {"model": ""}, {"model": "PT 300"}, {"model": "x" * 33}, {"version": "2.5.0\n"}, {"hw_revisions": ()},
    {"hw_revisions": tuple("ABCDEFGHIJKLMNOPQ")}, {"hw_revisions": ("revision-C",)}, {"hw_revisions": ("C", "C")},
])
def test_a_field_out_of_range_is_refused_when_building(fields: dict[str, object]) -> None:
    with pytest.raises(ImageError):
        _image(**fields)


def test_key_files_that_are_not_ed25519_keys_are_one_line_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key\n")
    for loader in (load_private_key, load_public_key):
        with pytest.raises(ConfigError) as info:
            loader(bad)
        assert str(bad) in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="not a PEM public key"):
        load_public_key(PRIVATE)
    with pytest.raises(ConfigError, match="no such public key"):
        load_public_key(tmp_path / "missing.pem")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_change_to_an_image_is_refused_and_never_crashes(data: st.DataObject) -> None:
    image = bytearray(GOOD)
    header_end = len(parse_image(GOOD).header_bytes) + 64
    kind = data.draw(st.sampled_from(["flip", "cut", "insert"]))
    # Most of the image is payload: aim half the changes at the header and signature.
    hi = data.draw(st.sampled_from([header_end, len(image)]))
    at = data.draw(st.integers(0, hi - 1))
    if kind == "flip":
        image[at] ^= data.draw(st.integers(1, 255))
    elif kind == "cut":
        del image[at:at + data.draw(st.integers(1, 64))]
    else:
        image[at:at] = data.draw(st.binary(min_size=1, max_size=16))
    try:
        verify_image(parse_image(bytes(image)), TRUSTED)
    except ImageError as exc:
        assert exc.fault_code in ("FW-IMAGE-CORRUPT", "FW-UNTRUSTED-IMAGE") and "\n" not in str(exc)
    else:
        pytest.fail(f"a changed image was accepted ({kind} at {at})")
