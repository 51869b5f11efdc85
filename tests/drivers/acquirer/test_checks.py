"""What the host checks in the requests it receives: fields, STANs, reversals."""

from __future__ import annotations

import pytest

from tests.drivers.acquirer.isoclient import Client, auth, reversal

NEVER_1313 = """
rules:
  - amount: 1313
    answer: never
  - amount: 2000
    answer: late
    delay: 0.2
"""


def _codes(host):
    return [f.code for f in host.findings()]


def test_a_missing_required_field_is_a_finding_and_a_format_error_answer(make_host):
    host = make_host()
    request = auth("000001")
    del request["22"]
    with Client(host.address) as unit:
        answer = unit.request(request)
    assert answer["39"] == "30"
    assert _codes(host) == ["ISO-FIELD-MISSING"]
    assert "field 22" in host.findings()[0].message


def test_track_2_stands_for_the_pan(make_host):
    host = make_host()
    request = auth("000001")
    del request["2"]
    request["35"] = "4761739001010010=28122011758928889"
    with Client(host.address) as unit:
        assert unit.request(request)["39"] == "00"
    assert host.findings() == []


@pytest.mark.parametrize(("key", "value", "code"), [
    ("4", "00000012.50 ", "ISO-FIELD-FORMAT"),
    ("11", "ABCDEF", "ISO-FIELD-FORMAT"),
    ("2", "4761739001010011", "ISO-PAN-FORMAT"),  # check digit off
])
def test_malformed_values_are_findings(make_host, key, value, code):
    host = make_host()
    with Client(host.address) as unit:
        unit.request(auth("000001", **{key: value}))
    assert code in _codes(host)


def test_stan_reuse_by_one_terminal_is_a_finding_not_across_terminals(make_host):
    host = make_host()
    with Client(host.address) as unit:
        unit.request(auth("000007"))
        unit.request(auth("000007", terminal="TERM0002"))
        assert host.findings() == []
        unit.request(auth("000007", 50))
    assert _codes(host) == ["ISO-STAN-REUSED"]
    assert host.exchanges()[-2].findings == ("ISO-STAN-REUSED",)


def test_a_reversal_after_a_timeout_is_matched(make_host):
    host = make_host(NEVER_1313)
    with Client(host.address) as unit:
        unit.send(auth("000001", 1313))
        unit.sock.settimeout(0.2)  # the unit's own timeout
        with pytest.raises(TimeoutError):
            unit.recv()
        unit.sock.settimeout(5)
        assert unit.request(reversal("000002", "000001", 1313))["39"] == "00"
    host.stop()
    assert host.findings() == []
    assert [e.reverses for e in host.exchanges() if e.mti == "0400"] == ["000001"]


def test_a_late_answer_then_a_reversal_by_field_11(make_host):
    host = make_host(NEVER_1313)
    with Client(host.address) as unit:
        unit.send(auth("000001", 2000))
        unit.send(reversal("", "000001", 2000, with_90=False))
        answers = sorted(unit.recv()["t"] for _ in range(2))
    host.stop()
    assert answers == ["0110", "0410"]
    assert host.findings() == []


def test_a_missing_reversal_is_a_finding_at_the_end_of_the_session(make_host):
    host = make_host(NEVER_1313)
    with Client(host.address) as unit:
        unit.send(auth("000001", 1313))
        unit.request(auth("000002", 50))  # approved: needs no reversal
    assert host.findings() == []
    host.stop()
    [finding] = host.findings()
    assert finding.code == "ISO-REVERSAL-MISSING" and finding.stan == "000001" and finding.terminal == "TERM0001"


def test_a_reversal_of_nothing_seen_or_of_another_amount(make_host):
    host = make_host()
    with Client(host.address) as unit:
        unit.request(auth("000001", 1000))
        unit.request(reversal("000002", "000099", 1000))
        unit.request(reversal("000003", "000001", 999))
    assert _codes(host) == ["ISO-REVERSAL-UNKNOWN", "ISO-REVERSAL-AMOUNT"]


def test_a_repeated_reversal_keeps_its_stan(make_host):
    host = make_host()
    with Client(host.address) as unit:
        unit.request(auth("000001"))
        unit.request(reversal("000002", "000001"))
        repeat = reversal("000002", "000001")
        repeat["t"] = "0401"
        assert unit.request(repeat)["t"] == "0410"
    assert host.findings() == []


def _fields(mti: str, stan: str, terminal: str = "TERM0001", **more: str) -> dict[str, str]:
    base = {"t": mti, "2": "4761739001010010", "3": "000000", "4": "000000001000", "7": "1207012345", "11": stan,
            "12": "012345", "13": "1207", "22": "051", "41": terminal, "42": "MERCHANT0000001", "49": "978"}
    return {**base, **more}


def test_the_session_remembers_a_window_so_a_wrapped_stan_is_not_a_reuse_and_memory_stays_bounded():
    from drivers.acquirer.checks import Session

    session = Session(window=10)
    for n in range(1, 26):
        found, _, _ = session.check(_fields("0100", f"{n:06d}"))
        assert found == []
        session.note_auth(_fields("0100", f"{n:06d}"), "00", expect_reversal=(n == 2))
    assert len(session._stans) == 10 and len(session._auths) == 10
    assert session.check(_fields("0100", "000003"))[0] == []  # long out of the window: a wrapped counter
    reused = session.check(_fields("0100", "000025"))[0]
    assert [code for code, _ in reused] == ["ISO-STAN-REUSED"]
    # An authorisation still owed its reversal is kept beyond the window, and its reversal still matches it.
    assert [(t, s) for _, _, t, s in session.missing_reversals()] == [("TERM0001", "000002")]
    original = "0100" + "000002" + "1207012345" + "0" * 22
    found, _, reverses = session.check(_fields("0400", "000900", **{"90": original}))
    assert found == [] and reverses == "000002" and session.missing_reversals() == []
