"""``bench station check`` on a real simulated bench (a unit on a pty, a reader behind pcscd, a
USB printer on pyusb's API), with a slot whose devices are missing, and interrupted with Ctrl-C."""

from __future__ import annotations

import json
import os
import select
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.cli.main import main
from bench.scenario import load_scenario
from drivers.registry import open_device
from drivers.sim.bench import SimBench

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim() -> Iterator[SimBench]:
    with SimBench(load_scenario("good").devices, ("unit", "card_reader", "printer")) as bench_:
        yield bench_


def bench(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "station.toml"
    f.write_text(text)
    return f


def two_slots(tmp_path: Path, sim: SimBench) -> Path:
    urls = sim.urls
    return write(tmp_path, f"""\
name = "fixture-t"
[devices]
printer = "{urls['printer']}"
[slots.1]
unit = "{urls['unit']}"
card_reader = "{urls['card_reader']}"
[slots.2]
unit = "{tmp_path / 'no-such-pty'}"
card_reader = "pcsc://No Such Reader"
""")


def test_todays_station_file_all_answering_exits_0(sim: SimBench, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    lines = "".join(f'{role} = "{url}"\n' for role, url in sim.urls.items())
    f = write(tmp_path, f'name = "sim"\n[devices]\n{lines}')
    code, out, err = bench(capsys, "station", "check", str(f))
    assert code == 0, err
    assert f"Station sim ({f}): 1 slot checked, 3 devices" in out
    assert "\nslot 1\n" in out and "shared" not in out
    assert "OK    PT-300 serial PT3-000123, firmware 2.4.1" in out
    reader = next(line for line in out.splitlines() if line.lstrip().startswith("card_reader "))
    assert "OK    Virtual PCD" in reader and reader.endswith((", no card", ", card in"))
    assert "printer" in out and ": ready" in out and "FAIL" not in out
    assert out.rstrip().endswith("3 of 3 devices answered.")


def test_a_slot_with_missing_devices_exits_3_and_says_why(sim: SimBench, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    f = two_slots(tmp_path, sim)
    code, out, err = bench(capsys, "station", "check", str(f))
    assert code == 3 and err == ""
    slot1, slot2 = out.split("\nslot 1\n")[1].split("\nslot 2\n")
    assert "PT3-000123" in slot1 and "FAIL" not in slot1
    unit2 = next(line for line in slot2.splitlines() if line.lstrip().startswith("unit "))
    assert "FAIL" in unit2 and f"cannot open unit port {tmp_path / 'no-such-pty'}" in unit2
    assert "No such file or directory" in unit2
    reader2 = next(line for line in slot2.splitlines() if line.lstrip().startswith("card_reader "))
    assert "FAIL  no card reader matches 'No Such Reader'" in reader2
    shared = out.split("\nshared\n")[1].split("\nslot 1\n")[0]
    assert "printer" in shared and ": ready" in shared  # the shared printer is checked once, on its own
    assert "3 of 5 devices answered; not answering: slot 2." in out


def test_json_per_slot(sim: SimBench, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = bench(capsys, "station", "check", str(two_slots(tmp_path, sim)), "--json")
    doc = json.loads(out)
    assert code == 3 and doc["station"] == "fixture-t" and doc["ok"] is False
    assert [s["slot"] for s in doc["slots"]] == [1, 2]
    assert [(s["ok"], [d["role"] for d in s["devices"]]) for s in doc["slots"]] == [
        (True, ["unit", "card_reader"]), (False, ["unit", "card_reader"])]
    unit1 = doc["slots"][0]["devices"][0]
    assert unit1["ok"] is True and unit1["url"] == sim.urls["unit"]
    assert unit1["identity"] == {"model": "PT-300", "serial": "PT3-000123", "firmware": "2.4.1", "hw_revision": "C"}
    assert doc["slots"][0]["devices"][1]["identity"]["reader"].startswith("Virtual PCD")
    unit2 = doc["slots"][1]["devices"][0]
    assert unit2["ok"] is False and unit2["fault_code"] == "BENCH-PORT" and "no-such-pty" in unit2["error"]
    assert "identity" not in unit2
    (printer,) = doc["shared"]
    assert printer["role"] == "printer" and printer["ok"] is True and printer["identity"]["ready"] is True


def test_slot_option_checks_only_those_slots(sim: SimBench, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    f = two_slots(tmp_path, sim)
    code, out, err = bench(capsys, "station", "check", str(f), "--slot", "1")
    assert code == 0, err
    assert "\nslot 1\n" in out and "slot 2" not in out and "3 of 3 devices answered." in out
    code, out, err = bench(capsys, "station", "check", str(f), "--slot", "3")
    assert code == 2 and out == ""
    assert err == "bench: error: station fixture-t has no slot 3 (its slots: 1, 2)\n"


def test_two_slots_reaching_the_same_reader_is_a_problem(sim: SimBench, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    name = sim.urls["card_reader"].removeprefix("pcsc://").replace("%20", " ")
    f = write(tmp_path, f'[slots.1]\ncard_reader = "{sim.urls["card_reader"]}"\n'
                        f'[slots.2]\ncard_reader = "pcsc://{name}"\n')  # written differently, the same reader
    code, out, _ = bench(capsys, "station", "check", str(f))
    assert code == 3
    assert f"problem: slots 1 and 2 both reach card reader '{name}'" in out and "2 of 2 devices answered." in out
    code, out, _ = bench(capsys, "station", "check", str(f), "--json")
    doc = json.loads(out)
    assert code == 3 and doc["ok"] is False and doc["problems"] == [f"slots 1 and 2 both reach card reader '{name}'"]


def test_devices_are_closed_afterwards(sim: SimBench, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = bench(capsys, "station", "check", str(two_slots(tmp_path, sim)))
    assert code == 3
    for role in ("unit", "printer"):  # the unit's port is opened exclusively: it would be busy
        with open_device(role, sim.urls[role]) as device:
            assert device.url == sim.urls[role]


@pytest.mark.parametrize(("text", "expected"), [
    ('[slots.1]\nunit = "/dev/a"\n[slots.2]\nunit = "/dev/a"\n',
     ":4: slots 1 and 2 both name unit '/dev/a'; a device every slot uses goes in [devices] (at slots.2.unit)"),
    ('[slots.99]\nunit = "/dev/a"\n', ":1: slot '99' is not a slot number; slots are numbered 1 to 64 (at slots.99)"),
])
def test_a_bad_station_file_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  text: str, expected: str) -> None:
    f = write(tmp_path, text)
    code, out, err = bench(capsys, "station", "check", str(f))
    assert code == 2 and out == "" and err == f"bench: error: {f}{expected}\n"


def test_a_url_the_driver_refuses_is_shown_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = bench(capsys, "station", "check", str(write(tmp_path, '[devices]\nprinter = "usb://xyz"\n')))
    assert code == 2
    assert "printer      usb://xyz  FAIL  printer URL 'usb://xyz': expected usb://VID:PID in hex" in out


def test_ctrl_c_closes_every_device_and_exits_130(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Two units that never answer: Ctrl-C while both are being asked; every port is closed before the exit."""
    ptys = [os.openpty() for _ in range(2)]
    names = [os.ttyname(slave) for _, slave in ptys]
    for _, slave in ptys:
        os.close(slave)  # from now on only the bench holds the units' ports
    f = write(tmp_path, f'[slots.1]\nunit = "{names[0]}"\n[slots.2]\nunit = "{names[1]}"\n')

    def ctrl_c_once_both_are_asked() -> None:
        waiting = {master for master, _ in ptys}
        while waiting:
            ready, _, _ = select.select(list(waiting), [], [], 30)
            assert ready, "the bench never wrote to the units"
            for master in ready:
                try:
                    if os.read(master, 256):
                        waiting.discard(master)
                except OSError:  # no one has the port open yet
                    pass
        os.kill(os.getpid(), signal.SIGINT)
        os.close(ptys[1][0])  # slot 2's cable pulled: its check ends at once, slot 1's only after its timeouts

    helper = threading.Thread(target=ctrl_c_once_both_are_asked)
    try:
        helper.start()
        code, out, err = bench(capsys, "station", "check", str(f))
        helper.join(30)
        assert code == 130 and out == ""
        assert [line for line in err.splitlines() if line] == ["bench: interrupted (SIGINT)"]
        held = {os.path.realpath(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")}
        assert not held & set(names)
    finally:
        os.close(ptys[0][0])


def test_the_host_is_started_where_the_station_says_and_a_port_in_use_is_its_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = write(tmp_path, '[devices]\nhost = "tcp://127.0.0.1:0"\n')
    code, out, _ = bench(capsys, "station", "check", str(f), "--json")
    assert code == 0
    [host] = json.loads(out)["slots"][0]["devices"]
    assert host["ok"] and host["identity"]["listening"].startswith("tcp://127.0.0.1:")
    assert not host["identity"]["listening"].endswith(":0")
    with open_device("host", "tcp://127.0.0.1:0") as taken:
        code, out, _ = bench(capsys, "station", "check", str(write(tmp_path, f'[devices]\nhost = "{taken.url}"\n')))
    assert code == 3
    assert f"host         {taken.url}  FAIL  bench host: cannot listen on 127.0.0.1:" in out
    assert "the port is in use" in out


def test_instruments_are_listed_with_their_idn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from drivers.sim.instrumentbench import RIGOL_SUPPLY

    with SimBench(load_scenario("good").devices, ("supply", "dmm", "scope")) as instruments:
        urls = instruments.urls
        f = write(tmp_path, f'name = "lab"\n[devices]\nscope = "{urls["scope"]}"\n'
                            f'[slots.1]\nsupply = "{urls["supply"]}"\ndmm = "{urls["dmm"]}"\n'
                            f'[slots.2]\nsupply = "{instruments.instruments.url("supply", RIGOL_SUPPLY)}"\n')
        code, out, err = bench(capsys, "station", "check", str(f))
        assert code == 0, err
        assert "OK    Keysight Technologies E36103B (serial MY59000123, firmware 2.0.3-1.0.4-1.12)" in out
        assert "OK    Keysight Technologies 34461A (serial MY53000456, firmware A.02.17" in out
        assert "OK    RIGOL TECHNOLOGIES DP832 (serial DP8C000001, firmware 00.01.16)" in out
        assert "OK    RIGOL TECHNOLOGIES DS1104Z (serial DS1ZA000000789, firmware 00.04.04.SP4)" in out
        assert out.rstrip().endswith("4 of 4 devices answered.")
        code, out, _ = bench(capsys, "station", "check", str(f), "--json")
        doc = json.loads(out)
        assert doc["shared"][0]["identity"] == {"manufacturer": "RIGOL TECHNOLOGIES", "model": "DS1104Z",
                                                "serial": "DS1ZA000000789", "firmware": "00.04.04.SP4"}
        assert doc["slots"][0]["devices"][0]["identity"]["model"] == "E36103B"
        missing = f"visa://TCPIP::10.9.9.9::INSTR?backend={instruments.instruments.backend}&timeout=0.2"
        code, out, _ = bench(capsys, "station", "check", str(write(tmp_path, f'[devices]\ndmm = "{missing}"\n')))
    assert code == 3
    assert "FAIL  multimeter at TCPIP0::10.9.9.9::inst0::INSTR: no instrument answers" in out


def test_an_instrument_url_the_driver_refuses_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = bench(capsys, "station", "check", str(write(tmp_path, '[devices]\nscope = "visa://nonsense"\n')))
    assert code == 2
    assert "FAIL  scope: 'nonsense' is not a VISA resource name" in out
