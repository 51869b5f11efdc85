"""BER-TLV parsing of real-shaped EMV templates."""

from __future__ import annotations

import pytest

from drivers.codecs import tlv


def _ppse() -> bytes:
    e1 = tlv.build(0x61, tlv.build(0x4F, bytes.fromhex("A0000000031010")) + tlv.build(0x50, b"VISA")
                   + tlv.build(0x87, b"\x01"))
    e2 = tlv.build(0x61, tlv.build(0x4F, bytes.fromhex("A0000000041010")) + tlv.build(0x50, b"MASTERCARD")
                   + tlv.build(0x87, b"\x02"))
    return tlv.build(0x6F, tlv.build(0x84, b"2PAY.SYS.DDF01") + tlv.build(0xA5, tlv.build(0xBF0C, e1 + e2)))


def test_build_gives_exact_bytes() -> None:
    assert tlv.build(0x87, b"\x01") == bytes.fromhex("870101")
    assert tlv.build(0xBF0C, b"") == bytes.fromhex("BF0C00")
    assert tlv.build(0x70, b"\x00" * 200)[:3] == bytes.fromhex("7081C8")
    assert tlv.encode_length(0x1234) == bytes.fromhex("821234")


def test_nested_fci() -> None:
    data = _ppse()
    assert data.hex().upper().startswith("6F43840E325041592E5359532E4444463031A531BF0C2E"
                                         "61124F07A0000000031010")
    objs = tlv.parse(data)
    assert [o.tag_hex for o in objs] == ["6F"]
    fci = objs[0]
    assert fci.constructed
    assert fci.find(0x84).value == b"2PAY.SYS.DDF01"  # type: ignore[union-attr]
    bf0c = tlv.find(objs, 0xBF0C)
    assert bf0c is not None and bf0c.constructed and bf0c.tag_hex == "BF0C"
    entries = tlv.find_all(objs, 0x61)
    assert [e.find(0x4F).value.hex().upper() for e in entries] == ["A0000000031010", "A0000000041010"]  # type: ignore[union-attr]
    assert [e.find(0x50).value for e in entries] == [b"VISA", b"MASTERCARD"]  # type: ignore[union-attr]


def test_record_with_two_byte_tags_and_padding() -> None:
    rec = bytes.fromhex("701F5A0847617390010100105F24032912315F25032001015F280208405F3401010000")
    objs = tlv.parse(rec)
    assert tlv.find(objs, 0x5F24).value == bytes.fromhex("291231")  # type: ignore[union-attr]
    assert tlv.find(objs, 0x5F34).value == b"\x01"  # type: ignore[union-attr]
    assert [o.tag_hex for o in tlv.walk(objs)] == ["70", "5A", "5F24", "5F25", "5F28", "5F34"]


def test_long_length_form() -> None:
    value = bytes(range(256)) * 2
    objs = tlv.parse(tlv.build(0x9F4B, value))
    assert objs[0].tag == 0x9F4B and objs[0].value == value


@pytest.mark.parametrize(
    "data, message",
    [
        ("9F", "truncated tag"),
        ("5A", "missing length"),
        ("5A0847", "needs 8 bytes, 1 left"),
        ("5A84000000010", None),
        ("6F035A0247", "needs 2 bytes, 1 left"),
    ],
)
def test_malformed(data: str, message: str | None) -> None:
    raw = bytes.fromhex(data if len(data) % 2 == 0 else data + "0")
    with pytest.raises(tlv.TlvError) as err:
        tlv.parse(raw)
    if message:
        assert message in str(err.value)
