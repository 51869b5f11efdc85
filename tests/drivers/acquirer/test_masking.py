"""No full PAN, track data or PIN block reaches the host's exchanges, findings or log, whatever the layout."""

from __future__ import annotations

import json
import logging
import re

import pytest

from tests.drivers.acquirer.isoclient import PAN, Client, auth, reversal

SECRETS = ("1758928889", "1234567890ABCDEF")  # track 2's discretionary data, the PIN block

LAYOUTS = [
    {"2": "4761 7390 0101 0010"},
    {"2": "4761-7390-0101-0010"},
    {"2": "4761.7390.0101.0010"},
    {"2": "4761\t7390\t0101\t0010"},
    {"35": "4761739001010010=28122011758928889"},
    {"35": "4761739001010010D28122011758928889"},
    {"35": ";4761739001010010=28122011758928889?"},
    {"45": "B4761739001010010^TEST/CARD^28122011758928889"},
    {"48": "card 4761 7390 0101 0010 exp 12/28"},
    {"52": "1234567890ABCDEF"},
    {"55": "5A0847617390010100105F340101"},
    {"55": "57114761739001010010D28122011758928889F"},
]


def leaks(text: str) -> list[str]:
    """Lines of ``text`` that carry the PAN (separators dropped) or a secret."""
    return [line for line in text.splitlines()
            if PAN in re.sub(r"[^0-9]", "", line) or any(s in line for s in SECRETS)]


@pytest.mark.parametrize("extra", LAYOUTS)
def test_nothing_in_clear(make_host, caplog, extra):
    host = make_host("rules:\n  - amount: 1313\n    answer: never\n")
    request = auth("000001", 1313, **extra)
    if "35" in extra:
        del request["2"]
    caplog.set_level(logging.DEBUG, logger="drivers.acquirer")
    with Client(host.address) as unit:
        unit.send(request)
        unit.request(auth("000001", 50, **extra))  # a reused STAN: a finding about this message
        unit.request(reversal("000003", "000404"))  # a reversal of nothing: another
        bad = b"0100" + b"7000000000000000" + b"164761739001010010" + b"0000"  # field 3 cut short
        unit.send_raw(len(bad).to_bytes(2, "big") + bad)
        unit.recv()
    host.stop()  # the missing reversal
    assert {f.code for f in host.findings()} >= {"ISO-STAN-REUSED", "ISO-REVERSAL-UNKNOWN", "ISO-MALFORMED",
                                                  "ISO-REVERSAL-MISSING"}
    evidence = "\n".join(json.dumps(e.to_dict()) for e in host.exchanges())
    evidence += "\n" + "\n".join(e.line() for e in host.exchanges())
    evidence += "\n" + "\n".join(json.dumps(f.to_dict()) for f in host.findings())
    assert "476173" in evidence  # the masked PAN is there: the check looks at the right text
    assert leaks(evidence) == []
    assert leaks(caplog.text) == []
    assert "476173" in caplog.text
