"""Station files: today's one-slot form unchanged, ``[slots.N]`` for multi-up fixtures, and every
way a file can be wrong as one PlanError naming the file, the field and the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.errors import PlanError, UsageError
from bench.station import Station, load_station

ROOT = Path(__file__).resolve().parents[2]

MULTI = """\
name = "fixture-a"
operator = "Dana"
[devices]
printer = "usb://04b8:0e15"
[slots.10]
unit = "/dev/ttyUSB9"
card_reader = "pcsc://ACS ACR39U 09 00"
[slots.2]
unit = "/dev/ttyUSB1"
card_reader = "pcsc://ACS ACR39U 01 00"
"""


def write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "station.toml"
    f.write_text(text)
    return f


def test_todays_one_slot_file_is_slot_1_unchanged() -> None:
    st = load_station(ROOT / "stations" / "example.toml")
    devices = {"unit": "/dev/ttyUSB0", "card_reader": "pcsc://*", "printer": "usb://04b8:0e15"}
    assert st.name == "bench-1" and st.devices == devices
    assert st.slots == {1: devices} and st.shared == {}
    assert st.slot_numbers == [1] and st.slot_urls(1) == devices
    assert st.select_slots() == [1]


def test_a_station_built_the_one_slot_way_has_slot_1() -> None:
    st = Station("b", {"unit": "/dev/ttyS0"})
    assert st.slot_numbers == [1] and st.slot_urls(1) == {"unit": "/dev/ttyS0"}


def test_slots_with_shared_devices(tmp_path: Path) -> None:
    st = load_station(write(tmp_path, MULTI))
    assert st.name == "fixture-a" and st.operator == "Dana"
    assert st.slot_numbers == [2, 10]
    assert st.shared == {"printer": "usb://04b8:0e15"}
    assert st.devices == st.shared  # several slots: a one-unit run sees the shared devices only
    assert st.slots[2] == {"unit": "/dev/ttyUSB1", "card_reader": "pcsc://ACS ACR39U 01 00"}
    assert st.slot_urls(10) == {"printer": "usb://04b8:0e15", "unit": "/dev/ttyUSB9",
                                "card_reader": "pcsc://ACS ACR39U 09 00"}
    assert st.select_slots([10, 2, 10]) == [2, 10] and st.select_slots([10]) == [10]


def test_unknown_slot_is_a_usage_error_naming_the_slots(tmp_path: Path) -> None:
    st = load_station(write(tmp_path, MULTI))
    with pytest.raises(UsageError, match=r"station fixture-a has no slot 3 \(its slots: 2, 10\)"):
        st.select_slots([2, 3])
    with pytest.raises(UsageError, match="no slot 1 "):
        st.slot_urls(1)


def test_a_file_with_one_slot_table_runs_as_one_unit(tmp_path: Path) -> None:
    st = load_station(write(tmp_path, '[devices]\nprinter = "usb://1:2"\n[slots.1]\nunit = "/dev/ttyS0"\n'))
    assert st.name == "station" and st.slot_numbers == [1]
    assert st.devices == st.slot_urls(1) == {"printer": "usb://1:2", "unit": "/dev/ttyS0"}


def test_devices_may_be_left_out_when_slots_exist(tmp_path: Path) -> None:
    st = load_station(write(tmp_path, '[slots.1]\nunit = "/dev/ttyS0"\n[slots.2]\nunit = "/dev/ttyS1"\n'))
    assert st.shared == {} and st.devices == {} and st.slot_urls(2) == {"unit": "/dev/ttyS1"}


BAD = [
    # (file text, what the message says, line, field)
    ('name = "x"\n[slots.0]\nunit = "/dev/a"\n', "slot '0' is not a slot number; slots are numbered 1 to 64", 2, "slots.0"),
    ('[slots.65]\nunit = "/dev/a"\n', "slot '65' is not a slot number", 1, "slots.65"),
    ('[slots.first]\nunit = "/dev/a"\n', "slot 'first' is not a slot number", 1, "slots.first"),
    ('[slots.01]\nunit = "/dev/a"\n', "slot '01' is not a slot number", 1, "slots.01"),
    ('[slots."-1"]\nunit = "/dev/a"\n', "slot '-1' is not a slot number", 1, "slots.-1"),
    ('[slots]\n1 = "/dev/a"\n', "[slots.1] must be a table of role", 2, "slots.1"),
    ('slots = 3\n', "slots must be tables written [slots.1]", 1, "slots"),
    ('[slots]\n', "a station with [slots] needs at least one slot", 1, "slots"),
    ('[slots.1]\nunit = "/dev/a"\n[slots.2]\n', "[slots.2] names no device", 3, "slots.2"),
    ('[slots.1]\nunit = "/dev/a"\nscanner = "x"\n', "unknown device role 'scanner'; known: unit, card_reader, printer", 3,
     "slots.1.scanner"),
    ('[slots.1]\nunit = ""\n', "a device URL must be non-empty text", 2, "slots.1.unit"),
    ('[slots.1]\nunit = 7\n', "a device URL must be non-empty text", 2, "slots.1.unit"),
    ('[slots.1]\nunit = "/dev/' + "a" * 1000 + '"\n', "a device URL has at most 1000 characters", 2, "slots.1.unit"),
    ('[devices]\nprinter = "usb://1:2"\n[slots.1]\nunit = "/dev/a"\n[slots.2]\nunit = "/dev/b"\nprinter = "usb://3:4"\n',
     "printer is both shared ([devices] printer = 'usb://1:2') and in [slots.2] ('usb://3:4'); keep one", 7,
     "slots.2.printer"),
    ('[slots.1]\nunit = "/dev/a"\n[slots.2]\nunit = "/dev/a"\n',
     "slots 1 and 2 both name unit '/dev/a'; a device every slot uses goes in [devices]", 4, "slots.2.unit"),
    ('[slots.1]\ncard_reader = "/dev/a"\n', "a card_reader URL cannot be a device path ('/dev/a'); known: pcsc://", 2,
     "slots.1.card_reader"),
    ('[devices]\nunit = "ftp://x"\n', "a unit URL cannot start with ftp:// ('ftp://x')", 2, "devices.unit"),
    ('[devices]\nscanner = "x"\n', "unknown device role 'scanner'", 2, "devices.scanner"),
    ('[devices]\n', "a station needs a [devices] table (unit, card_reader, printer) or [slots.N] tables", 1, "devices"),
    ('name = "x"\n', "a station needs a [devices] table", None, "devices"),
    ('devices = "x"\n', "a station needs a [devices] table", 1, "devices"),
    ('[devices]\nunit = "/dev/a"\n[extra]\n', "unknown field 'extra'; allowed: db, description, devices, lang, name, "
     "operator, slots", 3, "extra"),
    ('name = 3\n[devices]\nunit = "/dev/a"\n', "name must be text of at most 1000 characters", 1, "name"),
]


@pytest.mark.parametrize(("text", "message", "line", "field"), BAD)
def test_every_problem_is_one_plan_error_with_file_field_and_line(
    tmp_path: Path, text: str, message: str, line: int | None, field: str
) -> None:
    f = write(tmp_path, text)
    with pytest.raises(PlanError) as info:
        load_station(f)
    err = info.value
    assert message in str(err)
    assert (err.path, err.line, err.field) == (str(f), line, field)
    where = f"{f}:{line}: " if line else f"{f}: "
    assert str(err).startswith(where) and str(err).endswith(f"(at {field})") and "\n" not in str(err)


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    f = write(tmp_path, '[slots.1]\nunit = "/dev/a"\n[slots.1]\nunit = "/dev/b"\n')
    with pytest.raises(PlanError, match=r"station.toml:3: TOML error: "):
        load_station(f)


def test_a_file_that_is_not_a_regular_file_or_too_big_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="station file"):
        load_station(tmp_path)
    big = write(tmp_path, "# " + "x" * (1 << 20) + "\n[devices]\nunit = '/dev/a'\n")
    with pytest.raises(PlanError, match="station file"):
        load_station(big)


def test_host_is_a_role_shared_or_per_slot(tmp_path: Path) -> None:
    st = load_station(write(tmp_path, '[devices]\nhost = "tcp://127.0.0.1:8583?behaviour=/b.yaml"\n'
                                      '[slots.1]\nunit = "/dev/a"\n[slots.2]\nunit = "/dev/b"\n'))
    assert st.shared == {"host": "tcp://127.0.0.1:8583?behaviour=/b.yaml"}
    assert st.slot_urls(2)["host"] == "tcp://127.0.0.1:8583?behaviour=/b.yaml"
    st = load_station(write(tmp_path, '[slots.1]\nunit = "/dev/a"\nhost = "tcp://0.0.0.0:0"\n'
                                      '[slots.2]\nunit = "/dev/b"\nhost = "tcp://0.0.0.0:0"\n'))
    assert st.slots[1]["host"] == st.slots[2]["host"] == "tcp://0.0.0.0:0"  # port 0: a host each


@pytest.mark.parametrize(("text", "message", "line", "field"), [
    ('[devices]\nhost = "/dev/ttyS0"\n', "a host URL cannot be a device path ('/dev/ttyS0'); known: tcp://", 2,
     "devices.host"),
    ('[devices]\nhost = "http://x:1"\n', "a host URL cannot start with http://", 2, "devices.host"),
    ('[slots.1]\nhost = "tcp://10.0.0.1:8583"\n[slots.2]\nhost = "tcp://10.0.0.1:8583"\n',
     "slots 1 and 2 both name host 'tcp://10.0.0.1:8583'", 4, "slots.2.host"),
    ('[slots.1]\nunit = "/dev/a"\nhosts = "tcp://x:1"\n', "unknown device role 'hosts'; known: unit, card_reader, "
     "printer, host", 3, "slots.1.hosts"),
])
def test_a_bad_host_line_is_a_plan_error(tmp_path: Path, text: str, message: str, line: int, field: str) -> None:
    f = write(tmp_path, text)
    with pytest.raises(PlanError) as info:
        load_station(f)
    assert message in str(info.value)
    assert (info.value.line, info.value.field) == (line, field)


def test_the_example_station_names_the_host_in_a_comment() -> None:
    text = (ROOT / "stations" / "example.toml").read_text()
    assert '# host = "tcp://' in text
    line = next(x for x in text.splitlines() if x.startswith("# host = "))
    st = load_station_text(line[2:].split("#")[0])
    assert st.devices["host"].startswith("tcp://")


def load_station_text(devices_line: str) -> Station:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return load_station(write(Path(folder), f"[devices]\n{devices_line}\n"))


def test_instruments_are_roles_shared_or_per_slot(tmp_path: Path) -> None:
    st = load_station(write(tmp_path, '[devices]\nscope = "visa://TCPIP::10.0.0.23::INSTR"\n'
                                      '[slots.1]\nunit = "/dev/a"\nsupply = "visa://TCPIP::10.0.0.21::INSTR"\n'
                                      'dmm = "visa://USB0::0x2A8D::0x1301::MY1::INSTR?backend=@py"\n'
                                      '[slots.2]\nunit = "/dev/b"\nsupply = "visa://TCPIP::10.0.0.22::INSTR"\n'))
    assert st.shared == {"scope": "visa://TCPIP::10.0.0.23::INSTR"}
    assert set(st.slot_urls(1)) == {"unit", "supply", "dmm", "scope"}
    assert "dmm" not in st.slot_urls(2)  # a slot may go without an instrument


@pytest.mark.parametrize(("text", "message"), [
    ('[devices]\nsupply = "usb://04b8:0e15"\n', "a supply URL cannot start with usb://"),
    ('[devices]\ndmm = "/dev/usbtmc0"\n', "a dmm URL cannot be a device path ('/dev/usbtmc0'); known: visa://"),
    ('[slots.1]\nscope = "visa://TCPIP::10.0.0.23::INSTR"\n[slots.2]\nscope = "visa://TCPIP::10.0.0.23::INSTR"\n',
     "slots 1 and 2 both name scope"),
])
def test_a_bad_instrument_line_is_a_plan_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PlanError) as info:
        load_station(write(tmp_path, text))
    assert message in str(info.value)


def test_the_example_station_names_the_instruments_in_comments() -> None:
    text = (ROOT / "stations" / "example.toml").read_text()
    for role in ("supply", "dmm", "scope"):
        line = next(x for x in text.splitlines() if x.startswith(f"# {role} = "))
        assert load_station_text(line[2:].split("#")[0]).devices[role].startswith("visa://")
