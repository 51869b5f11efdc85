"""The fixtures, named after a station's roles: ``station``, ``unit``, ``card_reader``, ``printer``,
``host``, the instruments ``supply``, ``dmm`` and ``scope``, ``operator`` and ``measure``.

Each hands the test the same driver object ``bench run`` uses, opened on first use and closed
when the session ends. Without a bench (no ``--bench-sim`` or ``--bench-station``) a test that
asks for one is skipped with the reason; a role the station lacks skips the test, naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from bench.errors import BenchError, exit_code
from bench.operator import Operator
from bench.pytestplugin.measure import Measure
from bench.pytestplugin.session import BenchSession, RoleMissing, SlotBench
from bench.pytestplugin.steps import TestStep
from drivers.codecs.pan import redact
from drivers.i18n import N_, _, tr

SESSION = pytest.StashKey[BenchSession]()
STEP = pytest.StashKey[tuple[SlotBench, TestStep]]()

NO_BENCH = N_("no bench: run pytest with --bench-sim (the simulated bench) or --bench-station FILE")


@dataclass(frozen=True)
class StationView:
    """The station a test runs on: its name, the slot, and the roles it has (role -> URL)."""

    name: str
    slot: int
    urls: Mapping[str, str]
    _slot: SlotBench

    @property
    def roles(self) -> list[str]:
        """The roles this slot has, sorted."""
        return sorted(self.urls)

    def device(self, role: str) -> Any:
        """The open device in ``role`` (the test is skipped when the station has none)."""
        return _device(self._slot, role)


def step_name(item: pytest.Item) -> str:
    """A test's step name in the run record: its node id without the slot parameter (``[slot2]``),
    card numbers masked (a test parametrised with a card's number keeps it in its id)."""
    head, bracket, params = redact(item.nodeid).partition("[")
    if not bracket:
        return head
    kept = [p for p in params.removesuffix("]").split("-") if not (p.startswith("slot") and p[4:].isdigit())]
    return f"{head}[{'-'.join(kept)}]" if kept else head


@pytest.fixture
def bench_slot(request: pytest.FixtureRequest) -> SlotBench:
    """The slot this test runs on (one per slot of a multi-up bench); every other fixture builds on it."""
    session = request.config.stash.get(SESSION, None)
    if session is None:
        pytest.skip(tr(NO_BENCH))
    number = int(getattr(request, "param", session.slot_numbers[0]))
    try:
        slot = session.slot(number)
    except BenchError as exc:
        # The simulator, the station or the store did not start: no bench test can run or be recorded.
        # One line and bench's exit code (3 equipment, 2 usage), not the same traceback on every test.
        pytest.exit(_("bench could not start: {error}").format(error=tr(exc)), returncode=exit_code(exc))
    request.node.stash[STEP] = (slot, TestStep(step_name(request.node)))
    return slot


def _device(slot: SlotBench, role: str) -> Any:
    try:
        return slot.device(role)
    except RoleMissing as missing:
        what = role.replace("_", " ")
        if missing.unstarted:
            pytest.skip(_("the simulated bench started without a {what}: no collected test names the {role} fixture "
                          "among its arguments").format(what=what, role=role))
        if slot.multi:
            pytest.skip(_("the station has no {what} in slot {slot} (role {role!r})").format(what=what, slot=slot.number,
                                                                                            role=role))
        pytest.skip(_("the station has no {what} (role {role!r})").format(what=what, role=role))


@pytest.fixture
def station(bench_slot: SlotBench) -> StationView:
    """The station: its name, this test's slot, and role -> URL."""
    session_name = bench_slot.record.station
    return StationView(session_name, bench_slot.number, dict(bench_slot.urls), bench_slot)


@pytest.fixture
def unit(bench_slot: SlotBench) -> Any:
    """The unit under test (:class:`drivers.interfaces.Unit`), on its diagnostic link."""
    return _device(bench_slot, "unit")


@pytest.fixture
def card_reader(bench_slot: SlotBench) -> Any:
    """The card reader (:class:`drivers.interfaces.CardReader`), through PC/SC."""
    return _device(bench_slot, "card_reader")


@pytest.fixture
def printer(bench_slot: SlotBench) -> Any:
    """The receipt printer (:class:`drivers.interfaces.Printer`)."""
    return _device(bench_slot, "printer")


@pytest.fixture
def host(bench_slot: SlotBench) -> Any:
    """The bench acquirer host (:class:`drivers.acquirer.device.HostDevice`): its URL goes in a test sale."""
    return _device(bench_slot, "host")


@pytest.fixture
def supply(bench_slot: SlotBench) -> Any:
    """The programmable DC power supply (:class:`drivers.instruments.interfaces.PowerSupply`), through PyVISA."""
    return _device(bench_slot, "supply")


@pytest.fixture
def dmm(bench_slot: SlotBench) -> Any:
    """The digital multimeter (:class:`drivers.instruments.interfaces.Multimeter`), through PyVISA."""
    return _device(bench_slot, "dmm")


@pytest.fixture
def scope(bench_slot: SlotBench) -> Any:
    """The oscilloscope (:class:`drivers.instruments.interfaces.Oscilloscope`), through PyVISA."""
    return _device(bench_slot, "scope")


@pytest.fixture
def operator(bench_slot: SlotBench) -> Operator:
    """Who does what a test asks of a person: ``perform("insert_card", ...)``, ``confirm(...)``.

    On the simulated bench the simulator does it (and a scenario's answers reply); on a station,
    the person at the terminal, or ``--bench-operator-script``.
    """
    return bench_slot.operator


@pytest.fixture
def measure(request: pytest.FixtureRequest, bench_slot: SlotBench) -> Measure:
    """``measure(name, value, *, min=None, max=None, equals=None, unit=None, fault=None)``: see docs/pytest.md."""
    _, step = request.node.stash[STEP]
    return Measure(step.measurements.append, request.node.user_properties)
