"""The simulated printer's state machine: DLE EOT answers, GS I/GS r, held bytes, validated faults."""

from __future__ import annotations

import pytest

from drivers import escpos
from drivers.errors import ConfigError
from drivers.sim.printer import PrinterFaults, PrinterStalled, SimPrinter


@pytest.mark.parametrize(
    ("faults", "raw"),
    [
        ({}, "12 12 12 12"),
        ({"offline": True}, "1a 12 12 12"),
        ({"cover_open": True}, "1a 16 12 12"),
        ({"paper_end": True}, "1a 32 12 72"),
        ({"paper_near_end": True}, "12 12 12 1e"),
        ({"head_overheat": True}, "3a 52 52 12"),
        ({"fatal": True}, "1a 52 32 12"),
        ({"feed_button": True}, "52 1a 12 12"),
    ],
)
def test_faults_answer_dle_eot(faults: dict[str, bool], raw: str) -> None:
    p = SimPrinter(faults=PrinterFaults.from_mapping(faults))
    got = b"".join(p.feed(escpos.status_request(n)) for n in (1, 2, 3, 4))
    assert got.hex(" ") == raw


def test_cutter_jam_shows_after_a_cut() -> None:
    p = SimPrinter(faults=PrinterFaults(cutter_jam=True))
    assert p.feed(escpos.status_request(3)) == b"\x12"
    p.feed(escpos.cut())
    assert p.feed(escpos.status_request(3)) == b"\x1a"
    assert p.feed(escpos.status_request(1)) == b"\x1a"  # offline too
    assert p.cuts == 1


def test_gs_i_and_gs_r() -> None:
    p = SimPrinter()
    assert p.feed(escpos.info_request(escpos.INFO_MODEL)) == b"_TM-T88V\x00"
    assert p.feed(escpos.info_request(escpos.INFO_MANUFACTURER)) == b"_EPSON\x00"
    assert p.feed(escpos.paper_sensor_request()) == b"\x00"
    p.set_fault("paper_near_end", True)
    assert p.feed(escpos.paper_sensor_request()) == b"\x03"


def test_commands_split_across_writes_and_page_kept() -> None:
    p = SimPrinter()
    data = escpos.line("hello") + escpos.raster(16, 2, b"\xff\xff\x00\x00") + escpos.status_request(1)
    replies = b"".join(p.feed(data[i : i + 3]) for i in range(0, len(data), 3))
    assert replies == b"\x12"
    assert bytes(p.page) == data[:-3]
    assert p.lines_printed == 1


def test_offline_after_bytes_holds_then_stalls() -> None:
    p = SimPrinter(faults=PrinterFaults(offline_after_bytes=10, buffer_size=20))
    p.feed(b"0123456789")
    assert p.feed(escpos.status_request(1)) == b"\x12"
    p.feed(b"abc")  # beyond the limit: held, not printed
    assert p.feed(escpos.status_request(1)) == b"\x1a"
    assert bytes(p.page) == b"0123456789"
    with pytest.raises(PrinterStalled):
        p.feed(b"x" * 40)
    p.set_fault("offline_after_bytes", None)  # back online: held bytes print
    p.feed(b"")
    assert bytes(p.page) == b"0123456789abc"


def test_fault_mapping_is_validated() -> None:
    with pytest.raises(ConfigError):
        PrinterFaults.from_mapping({"cover_opened": True})
    with pytest.raises(ConfigError):
        PrinterFaults.from_mapping({"cover_open": "yes"})
    with pytest.raises(ConfigError):
        PrinterFaults.from_mapping({"slow_lines_per_s": 0})
    assert PrinterFaults.from_mapping({"offline_after_bytes": 5}).offline_after_bytes == 5
