"""Each behaviour, seen from a unit's side of a real TCP connection."""

from __future__ import annotations

import socket

import iso8583
import pytest
from iso8583.specs import default_ascii

from drivers.acquirer.host import GARBAGE
from tests.drivers.acquirer.conftest import wait_for
from tests.drivers.acquirer.isoclient import Client, auth, echo

RULES = """
rules:
  - card: "541333"
    answer: decline
    code: "51"
  - amount: 5400
    answer: decline
    code: "54"
  - amount: 1313
    answer: never
  - amount: 777
    answer: close
  - amount: 666
    answer: garbage
  - amount: 2000
    answer: late
    delay: 0.3
    code: "00"
  - nth: 3
    mti: "0800"
    answer: decline
    code: "91"
"""


def test_approve_answers_00_with_the_request_fields_echoed(make_host):
    host = make_host(RULES)
    with Client(host.address) as unit:
        answer = unit.request(auth("000001", 1250))
    assert answer["t"] == "0110" and answer["39"] == "00"
    assert answer["11"] == "000001" and answer["4"] == "000000001250" and answer["41"] == "TERM0001"
    assert len(answer["38"]) == 6 and "2" not in answer  # an approval code; the PAN is not sent back
    ins = [e for e in host.exchanges() if e.direction == "in"]
    assert ins[0].behaviour == "approve" and ins[0].fields["2"] == "476173******0010"


@pytest.mark.parametrize(("fields", "code"), [
    (auth("000001", pan="5413330089020011"), "51"),
    (auth("000001", 5400), "54"),
])
def test_decline_answers_the_rule_code(make_host, fields, code):
    host = make_host(RULES)
    with Client(host.address) as unit:
        answer = unit.request(fields)
    assert answer["39"] == code and "38" not in answer
    assert host.exchanges()[0].behaviour == f"decline {code}"


def test_nth_message_of_a_type(make_host):
    host = make_host(RULES)
    with Client(host.address) as unit:
        codes = [unit.request(echo(f"00000{i}"))["39"] for i in range(1, 5)]
    assert codes == ["00", "00", "91", "00"]


def test_never_answers_and_keeps_the_connection(make_host):
    host = make_host(RULES)
    with Client(host.address) as unit:
        unit.send(auth("000001", 1313))
        unit.sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            unit.sock.recv(1)
        unit.sock.settimeout(5)
        assert unit.request(echo("000002"))["t"] == "0810"
    assert [e.behaviour for e in host.exchanges() if e.direction == "in"] == ["never", "approve"]


def test_late_answers_after_the_delay_while_the_connection_goes_on(make_host):
    host = make_host(RULES)
    with Client(host.address) as unit:
        unit.send(auth("000001", 2000))
        assert unit.request(echo("000002"))["t"] == "0810"  # served while the late answer waits
        late = unit.recv()
    assert late["t"] == "0110" and late["11"] == "000001" and late["39"] == "00"
    outs = [e for e in host.exchanges() if e.direction == "out"]
    assert outs[-1].mti == "0110" and outs[-1].latency_ms is not None and outs[-1].latency_ms >= 300


def test_close_ends_the_connection_without_an_answer(make_host):
    host = make_host(RULES)
    with Client(host.address) as unit:
        unit.send(auth("000001", 777))
        assert unit.read_frame() == b""
    assert host.exchanges()[0].behaviour == "close"


def test_garbage_is_a_well_framed_body_that_does_not_decode(make_host):
    host = make_host(RULES)
    with Client(host.address) as unit:
        unit.send(auth("000001", 666))
        body = unit.read_frame()
    assert body == GARBAGE
    with pytest.raises(iso8583.DecodeError):
        iso8583.decode(body, default_ascii)
    assert wait_for(lambda: len(host.exchanges()) == 2)
    assert [(e.direction, e.behaviour) for e in host.exchanges()] == [("in", "garbage"), ("out", "garbage")]


def test_many_units_at_once(make_host):
    import threading

    host = make_host()
    codes: dict[int, list[str]] = {}

    def unit_of_slot(slot: int) -> None:
        with Client(host.address) as unit:
            codes[slot] = [unit.request(auth(f"{n:06d}", 100 + n, terminal=f"SLOT{slot:04d}"))["39"]
                           for n in range(1, 21)]

    threads = [threading.Thread(target=unit_of_slot, args=(slot,)) for slot in range(1, 17)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == {slot: ["00"] * 20 for slot in range(1, 17)}
    assert len(host.exchanges()) == 16 * 20 * 2
    assert host.findings() == []


def test_connections_beyond_the_bound_are_a_finding_and_closed(make_host):
    host = make_host(max_connections=2)
    with Client(host.address) as a, Client(host.address) as b:
        assert a.request(echo("000001"))["39"] == "00" and b.request(echo("000002"))["39"] == "00"
        with Client(host.address) as c:
            assert c.read_frame() == b""
        assert [f.code for f in host.findings()] == ["ISO-CONN-LIMIT"]
        assert a.request(echo("000003"))["39"] == "00"


def test_port_in_use_is_one_equipment_error():
    from drivers.acquirer import AcquirerHost
    from drivers.errors import EquipmentError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(EquipmentError, match="port is in use"):
            AcquirerHost(port=port).start()
