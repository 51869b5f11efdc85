"""The serial opener: the same driver over pyserial, a simulated printer on the other end of a pty."""

from __future__ import annotations

import os
import threading

import pytest

from drivers import escpos
from drivers.errors import EquipmentError
from drivers.registry import open_device
from drivers.sim.printer import SimPrinter


def test_serial_printer_on_a_pty() -> None:
    """The same driver over pyserial: a SimPrinter answers on the other end of a pty."""
    master, slave = os.openpty()
    sim = SimPrinter()
    stop = threading.Event()

    def serve() -> None:
        import select

        while not stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                replies = sim.feed(os.read(master, 4096))
                if replies:
                    os.write(master, replies)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        with open_device("printer", f"serial://{os.ttyname(slave)}?baud=38400") as p:
            assert p.status().ready
            assert p.identify().model == "TM-T88V"
            p.write(escpos.line("over serial"))
            p.wait_printed(timeout=2.0)
        assert b"over serial" in bytes(sim.page)
    finally:
        stop.set()
        t.join()
        os.close(master)
        os.close(slave)



def test_a_missing_port_is_an_equipment_error() -> None:
    with pytest.raises(EquipmentError) as info:
        open_device("printer", "serial:///dev/does-not-exist?baud=38400")
    assert info.value.fault_code == "BENCH-PORT"
