"""The soak engine's own logic on a small stand-in unit: pacing, counting, resets, judging, the summary.

The soak on the real simulated unit (pty, bench host on a socket) is tested in tests/bench/cli/test_soak_cli.py.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from bench import checks
from bench.checks.base import Progress, StepContext
from bench.errors import DeviceError
from bench.operator import ScriptedOperator
from bench.soak.record import soak_summary
from drivers.interfaces import Identity, TxnRequest, TxnResult, Unit, UnitPrinterState

PROFILE = """soak: 1
name: tiny
duration: 4m
time_scale: 2400
seed: 3
rate:
  - {at: 0m, per_minute: 30}
  - {at: 4m, per_minute: 30}
cards: {emv-visa-contact: 1, msr-unionpay: 1}
amounts: {min: 100, max: 900, currency: "978"}
online_timeout: 1s
limits:
  approval_rate: {min: 0.9}
  failures: {max: 0}
  total_ms: {p95: 50}
"""


class StandIn(Unit):
    """Answers every sale at once; ``decline_every``/``fail_cause``/``reset_at`` shape the answers."""

    url = "standin://"

    def __init__(self, *, decline_every: int = 0, fail_cause: str = "", reset_at: int = 0) -> None:
        self.requests: list[TxnRequest] = []
        self.decline_every, self.fail_cause, self.reset_at = decline_every, fail_cause, reset_at
        self.hellos = 0
        self.temp = 30.0

    def sale(self, request: TxnRequest, timeout: float, on_stage: Any = None) -> TxnResult:
        self.requests.append(request)
        n = len(self.requests)
        if n == self.reset_at:
            raise DeviceError("the unit restarted by itself during TXN_START", fault_code="LINK-REBOOT")
        self.temp += 0.5
        stages = {"amount": 2, "card": 5, "online": 3, "print": 4, "total": 14}
        if self.fail_cause and n % 3 == 0:
            return TxnResult(request.txn_id, "failed", "", self.fail_cause, "476173******0010", amount=request.amount,
                             stages_ms=stages)
        if self.decline_every and n % self.decline_every == 0:
            return TxnResult(request.txn_id, "declined", "51", "", "476173******0010", amount=request.amount,
                             stages_ms=stages)
        return TxnResult(request.txn_id, "approved", "00", "", "476173******0010", amount=request.amount,
                         flags=4, stages_ms=stages)

    def printer_status(self) -> UnitPrinterState:
        return UnitPrinterState(False, False, False, False, self.temp, 5000, len(self.requests))

    def identify(self) -> Identity:
        self.hellos += 1
        return Identity(1, 512, "PT-300", "PT3-1", "C", "2.4.1", ("txn",))

    def close(self) -> None: ...
    def self_test(self) -> Any: raise NotImplementedError
    def battery(self) -> Any: raise DeviceError("no battery", fault_code="LINK-UNSUPPORTED")
    def tamper(self) -> Any: raise NotImplementedError
    def event_log(self) -> Any: raise NotImplementedError
    def comms_test(self) -> Any: raise NotImplementedError
    def reboot(self, wait: float = 10.0) -> Any: raise NotImplementedError
    def next_event(self, timeout: float) -> Any: return None
    def keypad_enable(self, on: bool) -> Any: raise NotImplementedError
    def display_info(self) -> Any: raise NotImplementedError
    def display_write(self, row: int, column: int, text: str) -> None: raise NotImplementedError
    def display_pattern(self, pattern: str) -> None: raise NotImplementedError
    def display_checksum(self) -> Any: raise NotImplementedError
    def display_backlight(self, level: int) -> float: raise NotImplementedError
    def msr_enable(self, on: bool) -> Any: raise NotImplementedError


class Host:
    url = "tcp://127.0.0.1:8583"

    def close(self) -> None: ...


def soak(tmp_path: Path, unit: StandIn, profile: str = PROFILE, timeout: float = 60.0, scale: float = 2400
         ) -> tuple[StepContext, set[str], list[Progress]]:
    f = tmp_path / "p.yaml"
    f.write_text(profile)
    spec = checks.get("soak.sales")
    seen: list[Progress] = []
    ctx = StepContext(step="soak", spec=spec, params={"profile": str(f), "time_scale": scale}, limits={},
                      devices={"unit": unit, "host": Host()},  # type: ignore[dict-item]
                      operator=ScriptedOperator({"*": True}), deadline=time.monotonic() + timeout,
                      progress=lambda step, p: seen.append(p))
    faults: set[str] = set()
    try:
        spec.func(ctx)
    except DeviceError as exc:
        faults.add(exc.fault_code or spec.fault)
    faults |= {m.fault or spec.fault for m in ctx.measurements if not m.passed}
    return ctx, faults, seen


def measured(ctx: StepContext) -> dict[str, Any]:
    return {m.name: m.value for m in ctx.measurements}


def test_a_good_unit_gets_every_planned_sale_at_the_host_url_and_passes(tmp_path: Path) -> None:
    unit = StandIn()
    ctx, faults, seen = soak(tmp_path, unit)
    got = measured(ctx)
    assert faults == set()
    assert got["transactions"] == got["planned"] == len(unit.requests) > 60  # ~120 expected at 30/min for 4 min
    assert {r.host for r in unit.requests} == {"tcp://127.0.0.1:8583"}
    assert {r.card for r in unit.requests} == {"emv-visa-contact", "msr-unionpay"}
    assert [r.txn_id for r in unit.requests] == list(range(1, len(unit.requests) + 1))
    assert got["approval_rate"] == 1.0 and got["failures"] == 0
    summary = soak_summary(ctx)
    assert summary is not None and summary["approved"] == len(unit.requests)
    assert summary["profile"]["name"] == "tiny" and summary["time_scale"] == 2400
    assert seen[-1].done == len(unit.requests) and seen[-1].counts["approved"] == len(unit.requests)


def test_declines_fail_the_approval_rate_with_txn_declined(tmp_path: Path) -> None:
    ctx, faults, _ = soak(tmp_path, StandIn(decline_every=4))
    assert faults == {"TXN-DECLINED"}
    assert 0.7 < measured(ctx)["approval_rate"] < 0.8


def test_failures_name_their_most_common_cause(tmp_path: Path) -> None:
    ctx, faults, _ = soak(tmp_path, StandIn(fail_cause="paper-out"))
    assert faults == {"TXN-PAPER-OUT"}
    failed = next(m for m in ctx.measurements if m.name == "failures")
    assert "paper-out" in failed.message
    by_card = soak_summary(ctx)["failures_by_card"]  # type: ignore[index]
    assert set(by_card) <= {"emv-visa-contact", "msr-unionpay"} and sum(by_card.values()) == failed.value


def test_a_reset_unit_is_reconnected_and_counted_and_the_soak_goes_on(tmp_path: Path) -> None:
    unit = StandIn(reset_at=10)
    ctx, faults, _ = soak(tmp_path, unit)
    got = measured(ctx)
    assert got["unit_resets"] == 1 and unit.hellos == 1
    assert got["transactions"] == got["planned"]  # it went on after the reset
    assert faults == {"LINK-REBOOT"}  # the sale lost to the reset is a failure, named by its cause
    assert soak_summary(ctx)["failures_by_cause"] == {"unit-reset": 1}  # type: ignore[index]


def test_a_soak_longer_than_its_step_stops_and_says_so(tmp_path: Path) -> None:
    ctx, faults, _ = soak(tmp_path, StandIn(), timeout=7.0, scale=60)  # 4 soak minutes need 4 s at 60x: 7 s is
    got = measured(ctx)                                                # too short once the judging margin is kept
    assert "SOAK-INCOMPLETE" in faults
    assert 0 < got["transactions"] < got["planned"]


def test_the_sales_follow_the_schedule_not_the_units_speed(tmp_path: Path) -> None:
    from bench.soak.profile import parse_profile_text
    from bench.soak.schedule import arrivals

    last_due = arrivals(parse_profile_text(PROFILE))[-1].at_s / 2400
    t0 = time.monotonic()
    ctx, _, _ = soak(tmp_path, StandIn())
    # The stand-in answers at once; the last sale still waits for its arrival time.
    assert time.monotonic() - t0 >= last_due
    assert measured(ctx)["max_lag_s"] < 60  # and none waited a soak minute behind its time


@pytest.mark.parametrize("bad", ["duration: 0m", "seed: x"])
def test_a_bad_profile_is_a_plan_error(tmp_path: Path, bad: str) -> None:
    from bench.errors import PlanError

    with pytest.raises(PlanError):
        soak(tmp_path, StandIn(), PROFILE.replace("duration: 4m" if "duration" in bad else "seed: 3", bad))


def test_failed_sales_fail_a_soak_whose_profile_sets_no_limits(tmp_path: Path) -> None:
    # No limits: still every sale is judged (failures max 0), so a unit failing sales cannot pass.
    profile = PROFILE.split("limits:")[0]
    ctx, faults, _ = soak(tmp_path, StandIn(fail_cause="host-timeout"), profile)
    assert faults == {"TXN-HOST-TIMEOUT"}
    assert next(m for m in ctx.measurements if m.name == "failures").value > 0
    ctx, faults, _ = soak(tmp_path, StandIn(decline_every=4), profile)
    assert faults == set()  # declines are the host's answers: judged only by an approval_rate limit


def test_a_seed_that_draws_no_sale_does_not_pass(tmp_path: Path) -> None:
    # 1 sale expected in the minute; seed 0 draws none (a Poisson draw of 0 has a 37 % chance).
    profile = PROFILE.split("limits:")[0].replace("duration: 4m", "duration: 1m").replace("seed: 3", "seed: 0").replace(
        "  - {at: 0m, per_minute: 30}\n  - {at: 4m, per_minute: 30}", "  - {at: 0m, per_minute: 1}")
    ctx, faults, _ = soak(tmp_path, StandIn(), profile)
    assert measured(ctx)["planned"] == 0
    assert faults == {"SOAK-INCOMPLETE"}


class Stuck(StandIn):
    """Sale ``timeout_at`` gets no result in time and runs on 3 status queries; sale ``busy_at`` finds the unit busy."""

    def __init__(self, *, timeout_at: int = 0, busy_at: int = 0) -> None:
        super().__init__()
        self.timeout_at, self.busy_at, self.running, self.statuses = timeout_at, busy_at, 0, 0

    def sale(self, request: TxnRequest, timeout: float, on_stage: Any = None) -> TxnResult:
        if self.running:  # the unit is still in the sale the bench gave up on
            raise DeviceError("the unit is busy: sale 1 is running", fault_code="UNIT-FAULT")
        if len(self.requests) + 1 == self.busy_at:
            self.requests.append(request)
            raise DeviceError("the unit is busy: sale 1 is running", fault_code="UNIT-FAULT")
        if len(self.requests) + 1 == self.timeout_at:
            self.requests.append(request)
            self.running = 3
            raise DeviceError("no result in time", fault_code="TXN-TIMEOUT")
        return super().sale(request, timeout, on_stage)

    def txn_status(self, txn_id: int) -> TxnResult:
        self.statuses += 1
        self.running = max(0, self.running - 1)
        return TxnResult(txn_id, "running" if self.running else "approved", "00")


def test_after_a_sale_the_bench_gave_up_on_the_soak_waits_for_the_unit_and_goes_on(tmp_path: Path) -> None:
    unit = Stuck(timeout_at=5)
    ctx, faults, _ = soak(tmp_path, unit)
    got = measured(ctx)
    assert unit.statuses >= 3 and got["transactions"] == got["planned"]  # no "busy" for the next sale
    assert faults == {"TXN-TIMEOUT"}
    assert soak_summary(ctx)["failures_by_cause"] == {"unit-timeout": 1}  # type: ignore[index]


def test_a_soak_the_unit_ends_early_keeps_what_it_measured(tmp_path: Path) -> None:
    ctx, faults, _ = soak(tmp_path, Stuck(busy_at=20))
    assert "UNIT-FAULT" in faults
    got = measured(ctx)
    assert got["transactions"] == 19 and got["planned"] > 19
    summary = soak_summary(ctx)
    assert summary is not None and summary["approved"] == 19
    assert any("stopped after 19 of" in n for n in ctx.notes)


def test_the_arrivals_are_drawn_as_the_soak_goes_not_kept_in_a_list(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import bench.checks.soak as engine
    from bench.soak.schedule import iter_arrivals

    drawn: list[int] = []
    unit = StandIn()

    def counting(profile: Any) -> Any:
        drawn.append(0)
        for a in iter_arrivals(profile):
            drawn[-1] += 1
            if len(drawn) == 2:  # the soak's own pass: never more than one arrival ahead of the sales sent
                assert drawn[-1] <= len(unit.requests) + 1
            yield a

    monkeypatch.setattr(engine, "iter_arrivals", counting)
    ctx, faults, _ = soak(tmp_path, unit)
    assert faults == set() and measured(ctx)["planned"] == len(unit.requests) == drawn[0] == drawn[1]


def test_without_receipts_the_units_terminal_is_found_at_the_host_and_reversals_judged(tmp_path: Path) -> None:
    # Every sale times out at the host (no receipt names the terminal); the unit never reverses:
    # the profile allows the failures, the reversals it owes still fail the soak.
    from drivers.acquirer.checks import Finding
    from drivers.acquirer.records import Exchange

    class NoAnswer(StandIn):
        def sale(self, request: TxnRequest, timeout: float, on_stage: Any = None) -> TxnResult:
            self.requests.append(request)
            return TxnResult(request.txn_id, "failed", "", "host-timeout", "476173******0010", amount=request.amount,
                             stan=len(self.requests), stages_ms={"total": 5})

    def auth(stan: int, terminal: str) -> Exchange:
        return Exchange(time.time(), "in", 1, "127.0.0.1:1", "0100",
                        {"t": "0100", "11": f"{stan:06d}", "41": terminal, "2": "476173******0010"})

    class Acquirer:
        dropped = 0

        def exchanges(self) -> list[Exchange]:
            return [auth(n, "PT3UNIT1") for n in range(1, 200)] + [auth(1, "OTHER001")]

        def missing_reversals(self) -> list[Finding]:
            return [Finding("ISO-NO-REVERSAL", "no reversal", "0100", "000001", "PT3UNIT1"),
                    Finding("ISO-NO-REVERSAL", "no reversal", "0100", "000001", "OTHER001")]

    class OwnHost(Host):
        host = Acquirer()

    f = tmp_path / "p.yaml"
    f.write_text(PROFILE.replace("failures: {max: 0}", "failures: {max: 1000}").replace(
        "  approval_rate: {min: 0.9}\n", "").replace("  total_ms: {p95: 50}\n", ""))
    spec = checks.get("soak.sales")
    ctx = StepContext(step="soak", spec=spec, params={"profile": str(f), "time_scale": 2400}, limits={},
                      devices={"unit": NoAnswer(), "host": OwnHost()},  # type: ignore[dict-item]
                      operator=ScriptedOperator({"*": True}), deadline=time.monotonic() + 60)
    spec.func(ctx)
    got = measured(ctx)
    assert got["reversals_missing"] == 1  # its own, not the other terminal's
    assert {m.fault for m in ctx.measurements if not m.passed} == {"TXN-REVERSAL-MISSING"}


def test_approvals_the_bench_host_never_gave_fail_the_soak(tmp_path: Path) -> None:
    from drivers.acquirer.checks import Finding
    from drivers.acquirer.records import Exchange

    class Receipted(StandIn):  # approves every sale, its receipt naming terminal PT3UNIT1
        def sale(self, request: TxnRequest, timeout: float, on_stage: Any = None) -> TxnResult:
            self.requests.append(request)
            return TxnResult(request.txn_id, "approved", "00", "", "476173******0010", amount=request.amount,
                             flags=4, stan=len(self.requests), stages_ms={"total": 5},
                             receipt=("TID PT3UNIT1",))

    def answer(stan: int, code: str) -> Exchange:
        return Exchange(time.time(), "out", 1, "127.0.0.1:1", "0110", {"t": "0110", "11": f"{stan:06d}",
                                                                      "41": "PT3UNIT1", "39": code})

    def run(approved_at_host: int) -> dict[str, Any]:
        class Acquirer:
            dropped = 0

            def exchanges(self) -> list[Exchange]:
                return [answer(n, "00" if n <= approved_at_host else "05") for n in range(1, 1000)]

            def missing_reversals(self) -> list[Finding]:
                return []

        class OwnHost(Host):
            host = Acquirer()

        f = tmp_path / "p.yaml"
        f.write_text(PROFILE)
        spec = checks.get("soak.sales")
        ctx = StepContext(step="soak", spec=spec, params={"profile": str(f), "time_scale": 2400}, limits={},
                          devices={"unit": Receipted(), "host": OwnHost()},  # type: ignore[dict-item]
                          operator=ScriptedOperator({"*": True}), deadline=time.monotonic() + 60)
        spec.func(ctx)
        return {m.name: m for m in ctx.measurements}

    assert run(999)["approvals_not_at_host"].passed
    offline = run(10)["approvals_not_at_host"]
    assert not offline.passed and offline.value > 50 and offline.fault == "TXN-MALFORMED"


def test_a_plan_naming_a_bad_or_unknown_profile_fails_when_it_is_loaded(tmp_path: Path) -> None:
    from bench.errors import PlanError
    from bench.plan import parse_plan

    plan = "plan: p\nversion: '1'\nsteps:\n  - name: soak\n    check: soak.sales\n    params: {{profile: {}}}\n"
    assert parse_plan(plan.format("short")).steps[0].params["profile"] == "short"  # a stock profile by name
    bad = tmp_path / "bad.yaml"
    bad.write_text(PROFILE.replace("duration: 4m", "duration: 0m"))
    with pytest.raises(PlanError) as err:
        parse_plan(plan.format(bad), path="p.yaml")
    assert str(err.value).startswith(f"{bad}:3: ")  # the profile's own line
    with pytest.raises(PlanError, match=r"^p.yaml:6: profile: no soak profile named 'nosuch'"):
        parse_plan(plan.format("nosuch"), path="p.yaml")
