"""Merchant profiles: the shipped one loads; every mistake is one line naming file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.errors import PlanError
from bench.unitconfig.compare import compare
from bench.unitconfig.profile import load_profile

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "testplans" / "merchants" / "demo-cafe.toml"


def test_the_demo_profile_loads_flat() -> None:
    profile = load_profile(DEMO)
    assert (profile.name, profile.merchant) == ("demo-cafe", "Demo Café")
    assert profile.settings["merchant_id"] == "104110070110001"
    assert profile.settings["receipt_header.2"] == "1 MAIN STREET, SHANGHAI"
    assert profile.settings["network.wifi.address"] == "192.168.10.20/24"
    assert profile.settings["network.cellular.apn"] == "cmnet"


@pytest.mark.parametrize(("text", "line", "says"), [
    ('merchant = "x"\n', None, "needs a [settings] table"),
    ('[settings]\nterminal_id = "PT3001"\n', 2, "terminal id must be 8 letters"),
    ('[settings]\nmerchant_id = "1041-1007"\n', 2, "merchant id must be 1 to 15"),
    ('[settings]\nacquirer_host = "10.0.0.1:8583"\n', 2, "tcp://HOST:PORT"),
    ('[settings]\nacquirer_host = "tcp://10.0.0.1:99999"\n', 2, "port 1 to 65535"),
    ('[settings]\nacquirer_host = "tcp://10.0.0.1:0"\n', 2, "port 1 to 65535"),
    ('[settings]\nacquirer_host = "tcp://' + "h" * 200 + ':8583"\n', 2, "at most 128 bytes"),
    ('[settings]\ntimezone = "Shanghai time"\n', 2, "time zone name"),
    ('[settings]\ntimezone = "Mars/Base"\n', 2, "a time zone of the tz database"),
    ('[settings]\nreceipt_header = ["A", "B", "C", "D", "E"]\n', 2, "1 to 4 lines"),
    ('[settings]\nreceipt_header = ["' + "X" * 33 + '"]\n', 2, "line 1 must be printable text of 1 to 32"),
    ('[settings]\ncolour = "red"\n', 2, "unknown setting 'colour'"),
    ('[settings.network.lora]\nmode = "dhcp"\n', 1, "unknown interface 'lora'"),
    ('[settings.network.wifi]\nmode = "auto"\n', 2, "Wi-Fi mode must be dhcp, static or off"),
    ('[settings.network.wifi]\naddress = "192.168.10.20"\n', 2, "with its prefix"),
    ('[settings.network.eth]\ngateway = "192.168.1.300"\n', 2, "Ethernet gateway must be an IPv4 address"),
    ('[settings.network.eth]\npassword = "x"\n', 2, "unknown network field 'password'"),
    ('[settings]\nterminal_id = \n', 2, "TOML error"),
    ('colour = 1\n[settings]\ntimezone = "UTC"\n', 1, "unknown field 'colour'"),
])
def test_a_mistake_is_one_line_with_file_and_line(tmp_path: Path, text: str, line: int | None, says: str) -> None:
    f = tmp_path / "m.toml"
    f.write_text(text)
    with pytest.raises(PlanError) as info:
        load_profile(f)
    message = str(info.value)
    assert says in message and str(f) in message and "\n" not in message
    if line is not None:
        assert f"{f}:{line}" in message


def test_differences_are_said_in_a_technicians_words() -> None:
    expected = load_profile(DEMO).settings
    reported = {**expected, "merchant_id": "", "terminal_id": "PT300099", "network.wifi.ssid": "OLD-NET"}
    del reported["receipt_header.2"]
    said = [(d.fault, d.says()) for d in compare(expected, reported)]
    assert said == [
        ("CFG-MISMATCH", "terminal id is PT300099, expected PT300001"),
        ("CFG-MISSING", "merchant id is not set (expected 104110070110001)"),
        ("CFG-MISSING", "receipt header line 2 is not set (expected 1 MAIN STREET, SHANGHAI)"),
        ("CFG-MISMATCH", "Wi-Fi SSID is OLD-NET, expected DEMO-POS"),
    ]
    assert compare(expected, {**expected, "extra.setting": "x"}) == []
