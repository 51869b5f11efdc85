"""A unit behind a serial server: the simulated unit's pty published by Debian's ser2net, reached as rfc2217://."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from ser2net import Ser2net, config, require_ser2net

from drivers.errors import EquipmentError, LinkTimeout
from drivers.link import Link
from drivers.netport import is_network, server_of
from drivers.sim.bench import SimUnitProcess
from drivers.sim.unitprofile import load_profile
from drivers.unit import open_unit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Ser2net]:
    """A simulated unit on a pty, and ser2net publishing that pty."""
    require_ser2net()
    unit = SimUnitProcess(load_profile("good"), tmp_path / "unit0")
    unit.start()
    try:
        with Ser2net(tmp_path / "unit0", tmp_path) as server:
            yield server
    finally:
        unit.stop()


def test_network_urls_and_their_servers() -> None:
    assert is_network("rfc2217://bench7:4001") and is_network("SOCKET://10.0.0.5:4001")
    assert not is_network("/dev/ttyUSB0") and not is_network("loop://")
    assert server_of("rfc2217://bench7:4001?timeout=5") == "bench7:4001"


@pytest.mark.slow
def test_a_unit_behind_ser2net_answers_and_a_dropped_link_is_taken_again(served: Ser2net) -> None:
    unit = open_unit(served.url)
    try:
        assert unit.identify().serial == "PT3-000123"
        served.kill()  # the server goes away between two requests: the next one meets a dead connection
        served.start()
        assert unit.identify().serial == "PT3-000123"
        assert len(unit.event_log()) > 0
        stats = unit.stats
        assert stats.reconnects == 1 and stats.timeouts == 0
    finally:
        unit.close()


@pytest.mark.slow
def test_a_serial_server_that_stays_down_is_a_bench_fault_not_a_hang(served: Ser2net) -> None:
    link = Link(served.url, reconnect_wait=0.5).open()
    try:
        served.kill()
        with pytest.raises(EquipmentError) as info:
            link.request(0x01, b"\x01\x02\x00", name="HELLO")
        assert info.value.fault_code == "BENCH-NET"
        assert re.fullmatch(rf"cannot reach the serial server 127\.0\.0\.1:{served.port} of unit port "
                            rf"rfc2217://127\.0\.0\.1:{served.port}: connection refused \(the link dropped and "
                            r"was not back within \d+ s\)", str(info.value)), str(info.value)
    finally:
        link.close()
    with pytest.raises(EquipmentError) as info:
        Link(served.url).open()
    assert info.value.fault_code == "BENCH-NET" and "connection refused" in str(info.value)


@pytest.mark.slow
def test_a_unit_port_gone_behind_a_server_that_answers_is_the_units_doing(tmp_path: Path) -> None:
    """ser2net is there but the unit's port is not (a unit whose own USB port is its serial port, powered off)."""
    require_ser2net()
    unit = SimUnitProcess(load_profile("good"), tmp_path / "unit0")
    unit.start()
    with Ser2net(tmp_path / "unit0", tmp_path) as server:
        link = Link(server.url, reconnect_wait=0.5).open()
        try:
            unit.stop()  # its pty goes: ser2net hangs up, and refuses the port until it is back
            with pytest.raises(LinkTimeout, match="went away") as info:
                link.request(0x01, b"\x01\x02\x00", name="HELLO")
            assert info.value.fault_code == "LINK-NO-RESPONSE"
            assert "it says 'Device open failure" in (info.value.detail or ""), info.value.detail
        finally:
            link.close()
        unit.start()  # the unit back: the same URL reaches it
        again = open_unit(server.url)
        try:
            assert again.identify().serial == "PT3-000123"
        finally:
            again.close()
            unit.stop()


@pytest.mark.slow
def test_a_local_port_that_goes_away_is_still_the_units_doing(tmp_path: Path) -> None:
    """No reconnect on a pty: a unit powered off ends the call at once, as before (docs/protocol.md §3)."""
    unit = SimUnitProcess(load_profile("good"), tmp_path / "unit0")
    unit.start()
    link = Link(str(tmp_path / "unit0")).open()
    try:
        unit.stop()
        with pytest.raises(LinkTimeout, match="went away"):
            link.request(0x01, b"\x01\x02\x00", name="HELLO")
    finally:
        link.close()


@pytest.mark.slow
def test_a_unit_in_use_by_another_bench_is_refused_in_the_servers_words(
        served: Ser2net, capfd: pytest.CaptureFixture[str]) -> None:
    first = open_unit(served.url)
    try:
        with pytest.raises(EquipmentError) as info:
            open_unit(served.url)
        assert info.value.fault_code == "BENCH-PORT"
        assert str(info.value) == (f"the serial server 127.0.0.1:{served.port} would not give unit port "
                                   f"{served.url}: it says 'Port already in use'")
        assert first.identify().serial == "PT3-000123"  # the run in progress keeps its unit
    finally:
        first.close()
    assert "Traceback" not in capfd.readouterr().err  # pyserial's reader thread died quietly


def test_the_ser2net_example_in_the_docs_is_the_tested_template() -> None:
    text = (ROOT / "docs" / "fleet.md").read_text()
    found = re.search(r"<!-- ser2net example: (\S+) (\d+) (\S+) -->\n```yaml\n(.*?)```", text, re.S)
    assert found, "docs/fleet.md lost its ser2net.yaml example"
    device, port, host, example = found.groups()
    assert example == config(device, int(port), host=host)
