"""Bad bytes on the wire: a finding each, the connection handled, the server still serving."""

from __future__ import annotations

import pytest

from tests.drivers.acquirer.conftest import wait_for
from tests.drivers.acquirer.isoclient import Client, auth


def _still_serves(host):
    with Client(host.address) as unit:
        assert unit.request(auth("999999", terminal="OTHER001"))["39"] == "00"


@pytest.mark.parametrize(("data", "code"), [
    (b"\x00\x00", "ISO-FRAME-LENGTH"),
    (b"\xff\xff" + b"0" * 100, "ISO-FRAME-LENGTH"),
    (b"GET / HTTP/1.1\r\n\r\n", "ISO-FRAME-LENGTH"),
    (b"\x00\x64" + b"0100", "ISO-FRAME-SHORT"),  # then the unit hangs up
    (b"\x00", "ISO-FRAME-SHORT"),
    (b"\x00\x06\xff\xfe\xfd\xfc\xfb\xfa", "ISO-MALFORMED"),  # not even an MTI
    (b"\x00\x14" + b"0200" + b"0" * 16, "ISO-MTI-UNKNOWN"),
])
def test_bad_frames_close_the_connection(make_host, data, code):
    host = make_host()
    with Client(host.address) as unit:
        unit.send_raw(data)
        unit.sock.shutdown(1)  # the unit is done sending
        assert unit.read_frame() == b""
    assert wait_for(lambda: [f.code for f in host.findings()]) == [code]
    _still_serves(host)


def test_a_stalled_frame_is_cut_off(make_host):
    host = make_host(frame_timeout=0.2)
    with Client(host.address) as unit:
        unit.send_raw(b"\x00\x64" + b"0100")
        assert unit.read_frame() == b""
    assert [f.code for f in host.findings()] == ["ISO-FRAME-SHORT"]
    _still_serves(host)


@pytest.mark.parametrize("body", [
    b"0100" + "Ä".encode() * 8,  # non-ASCII bitmap
    b"0100" + b"4000000000000000" + b"99" + b"1",  # field 2 longer than the spec allows
    b"0100" + b"7000000000000000" + b"164761739001010010" + b"000000",  # field 4 cut short
])
def test_a_known_mti_that_does_not_decode_is_answered_30(make_host, body):
    host = make_host()
    with Client(host.address) as unit:
        unit.send_raw(len(body).to_bytes(2, "big") + body)
        answer = unit.recv()
        assert answer["t"] == "0110" and answer["39"] == "30"
        assert unit.request(auth("000001"))["39"] == "00"  # the connection goes on
    assert [f.code for f in host.findings()] == ["ISO-MALFORMED"]
    assert "4761739001010010" not in repr(host.exchanges())
