"""Checks of the unit itself: identity and firmware, power-on self-test, tamper state, event log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bench.checks.base import CheckSpec, Param, StepContext
from bench.checks.unitfirmware import CHECKS as FIRMWARE_CHECKS
from bench.measure import Limit
from bench.version import is_older
from drivers.codecs import unitcodes
from drivers.i18n import N_

_POST_FAULTS = {
    "ram": "UNIT-POST-RAM",
    "flash": "UNIT-POST-FLASH",
    "rtc": "UNIT-POST-RTC",
    "secure_element": "UNIT-POST-SE",
}


def identify(ctx: StepContext) -> None:
    """Read the unit's identity; fail with FW-OUTDATED when its firmware is older than required."""
    ident = ctx.unit.identify()
    ctx.note(f"{ident.model} serial {ident.serial} hw {ident.hw_revision} firmware {ident.firmware}")
    ctx.measure("model", ident.model)
    ctx.measure("serial", ident.serial)
    ctx.measure("hw_revision", ident.hw_revision)
    ctx.measure("firmware", ident.firmware)
    minimum = ctx.params["min_firmware"]
    if minimum:
        outdated = is_older(ident.firmware, minimum)
        older = N_("firmware {firmware} is older than the minimum {minimum}", firmware=ident.firmware, minimum=minimum)
        ctx.measure("firmware_current", not outdated, limit=Limit(equals=True, fault="FW-OUTDATED"), says=older)
        if outdated:
            ctx.fail(N_("{older}: update required", older=older), "FW-OUTDATED")


def self_test(ctx: StepContext) -> None:
    """Read the power-on self-test; each failed subsystem is a fault naming that part."""
    results = ctx.unit.self_test()
    for r in results:
        code = _POST_FAULTS.get(r.subsystem, "UNIT-POST")
        detail = f" ({r.detail})" if r.detail else ""
        ctx.note(f"{r.subsystem}: {'pass' if r.passed else f'FAIL code {r.code:#06x}'}{detail}")
        ctx.measure(f"post.{r.subsystem}", "pass" if r.passed else f"fail {r.code:#06x}",
                    limit=Limit(equals="pass", fault=code))
    required = ctx.params["subsystems"]
    seen = {r.subsystem for r in results}
    missing = [s for s in required if s not in seen]
    ctx.measure("post.subsystems_missing", len(missing), limit=Limit(max=0, fault="UNIT-POST"))
    if missing:
        ctx.note(f"subsystems not reported: {', '.join(missing)}")


def tamper(ctx: StepContext) -> None:
    """Read the security state; a tampered unit or erased keys is SEC-TAMPER."""
    state = ctx.unit.tamper()
    if state.flags:
        ctx.note(f"tamper flags: {', '.join(state.flags)}")
    ctx.measure("tampered", state.tampered, says=N_("the unit reports it was tampered with"))
    ctx.measure("keys_present", state.keys_present, says=N_("the unit's payment keys are erased"))


def config(ctx: StepContext) -> None:
    """The unit's configuration against its merchant's profile; with ``write``, set it and check again
    (:func:`bench.checks.unitconfig.config`, imported when a plan uses it)."""
    from bench.checks import unitconfig

    unitconfig.config(ctx)


def _merchant_profile(ref: object) -> None:
    from bench.checks import unitconfig

    unitconfig.check_profile(ref)


def event_log(ctx: StepContext) -> None:
    """Download the event log; error entries newer than ``max_age_hours`` fail the step."""
    entries = ctx.unit.event_log()
    now = datetime.now(UTC)
    horizon = now - timedelta(hours=float(ctx.params["max_age_hours"]))
    ignore = {int(str(c), 16) if isinstance(c, str) else int(c) for c in ctx.params["ignore_codes"]}
    recent = [e for e in entries if e.severity == "error" and e.timestamp >= horizon and e.code not in ignore]
    ctx.measure("log.entries", len(entries))
    for e in recent[-20:]:
        ctx.note(f"{e.timestamp:%Y-%m-%d %H:%M} {unitcodes.describe(e.code)}{f' - {e.text}' if e.text else ''}")
    if len(recent) > 20:
        ctx.note(f"... and {len(recent) - 20} more recent errors")
    m = ctx.measure("log.recent_errors", len(recent))
    if not m.passed:
        codes = sorted({unitcodes.describe(e.code) for e in recent})
        ctx.fail(N_("{count} error(s) in the last {hours:g} h: {codes}", count=len(recent),
                    hours=ctx.params["max_age_hours"], codes="; ".join(codes[:5])),
                 "LOG-ERRORS")


def reboot(ctx: StepContext) -> None:
    """Reboot the unit and measure how long it takes to come back."""
    import time

    t0 = time.monotonic()
    ident = ctx.unit.reboot(wait=min(float(ctx.params["wait"]), ctx.remaining()))
    ctx.measure("boot_time_s", round(time.monotonic() - t0, 3), unit="s")
    ctx.note(f"back up: {ident.model} firmware {ident.firmware}")


def link(ctx: StepContext) -> None:
    """How the diagnostic link held up over the run so far: damaged frames both ways, resends, lost events.

    Every damaged frame was resent, so the results above stand; a noisy line still deserves a
    look at the cable and the unit's serial port, and the figures go into the unit's history.
    """
    c = ctx.unit.link_counters()
    if not c:
        ctx.note("this unit's driver keeps no link counters")
        return
    frames = c["frames_sent"] + c["frames_received"]
    from_unit, to_unit = c["naks_sent"], c["naks_received"]
    damaged_pct = round(100.0 * (from_unit + to_unit) / frames, 2) if frames else 0.0
    ctx.measure("link.frames", frames)
    ctx.measure("link.damaged_from_unit", from_unit)
    ctx.measure("link.damaged_to_unit", to_unit)
    ctx.measure("link.damaged_pct", damaged_pct, unit="%")
    ctx.measure("link.retransmissions", c["retransmissions"])
    ctx.measure("link.timeouts", c["timeouts"])
    ctx.measure("link.events_missed", c["events_missed"])
    reconnects = c.get("reconnects", 0)
    if reconnects:  # a unit behind a serial server: only then is a dropped connection the network's
        ctx.measure("link.reconnects", reconnects)
        ctx.note(N_("the network link to the unit's serial server dropped {count} time(s) and was taken again; "
                    "the requests in flight were sent again (check the network if this repeats)", count=reconnects))
    if damaged_pct > float(ctx.params["noisy_pct"]):
        ctx.note(f"noisy serial link: {damaged_pct:g}% of {frames} frames damaged ({from_unit} from the unit, "
                 f"{to_unit} to it) and resent; the results stand, but check the cable and the unit's serial port")
    if c["timeouts"]:
        ctx.note(f"{c['timeouts']} tries got no answer in time (see the steps that failed or were retried)")
    if c["events_missed"]:
        ctx.note(f"{c['events_missed']} event(s) the unit sent never arrived: key and swipe results may be "
                 "incomplete")


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "unit.identify",
        identify,
        N_("identity handshake: model, serial, hardware revision, firmware (minimum version)"),
        devices=("unit",),
        params={"min_firmware": Param(str, "", N_("oldest acceptable firmware; older fails with FW-OUTDATED"))},
        measurements={
            "model": None,
            "serial": None,
            "hw_revision": None,
            "firmware": None,
            "firmware_current": None,
        },
        fault="UNIT-IDENTITY",
    ),
    CheckSpec(
        "unit.self_test",
        self_test,
        N_("power-on self-test results, one per subsystem"),
        devices=("unit",),
        params={"subsystems": Param(list, ["ram", "flash", "rtc", "secure_element"],
                                    N_("subsystems that must report"))},
        measurements={"post.subsystems_missing": None},
        fault="UNIT-POST",
    ),
    CheckSpec(
        "unit.tamper",
        tamper,
        N_("security state: not tampered, keys present"),
        devices=("unit",),
        measurements={
            "tampered": Limit(equals=False, fault="SEC-TAMPER"),
            "keys_present": Limit(equals=True, fault="SEC-TAMPER"),
        },
        fault="SEC-TAMPER",
    ),
    CheckSpec(
        "unit.config",
        config,
        N_("configuration for the merchant (ids, acquirer host, network, time zone, receipt header) against its "
           "profile"),
        devices=("unit",),
        params={
            "profile": Param(str,
                             help=N_("the merchant profile: a file, or a name in testplans/merchants/ (demo-cafe)"),
                             validate=_merchant_profile),
            "write": Param(bool, False,
                           N_("write the profile's values for the settings that differ, then check again")),
        },
        measurements={"config.differences_found": None, "config.written": None},
        fault="CFG-MISMATCH",
    ),
    CheckSpec(
        "unit.event_log",
        event_log,
        N_("event log: no error entries newer than a given age, decoded to text"),
        devices=("unit",),
        params={
            "max_age_hours": Param(float, 168.0, N_("errors older than this are history, not faults")),
            "ignore_codes": Param(list, [], N_("codes (hex text like '0x0A01' or numbers) never counted")),
        },
        measurements={"log.entries": None, "log.recent_errors": Limit(max=0, fault="LOG-ERRORS")},
        fault="LOG-ERRORS",
    ),
    CheckSpec(
        "unit.reboot",
        reboot,
        N_("reboot the unit and time how long it takes to answer again"),
        devices=("unit",),
        params={"wait": Param(float, 30.0, N_("seconds to wait for the unit to come back"))},
        measurements={"boot_time_s": Limit(max=20.0, unit="s", fault="LINK-REBOOT")},
        fault="LINK-REBOOT",
    ),
    CheckSpec(
        "unit.link",
        link,
        N_("diagnostic link health over the run: damaged frames both ways, resends, lost events"),
        devices=("unit",),
        params={"noisy_pct": Param((int, float), 1.0, N_("note a noisy line above this share of damaged frames (%)"))},
        measurements={
            "link.frames": None,
            "link.damaged_from_unit": None,
            "link.damaged_to_unit": None,
            "link.damaged_pct": None,
            "link.retransmissions": None,
            "link.timeouts": None,
            "link.events_missed": None,
            "link.reconnects": None,
        },
        fault="LINK-NAK-STORM",
    ),
    *FIRMWARE_CHECKS,  # unit.firmware_update, unit.update_state (bench/checks/unitfirmware.py)
)
