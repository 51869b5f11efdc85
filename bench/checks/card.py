"""Card reader checks: reader presence, ATR, EMV selection and reading, latency, insert/remove, tap.

Checks that need a card take the param ``card`` (the test card profile the operator is
asked to insert); in simulation the scripted operator's ``insert_card`` handler inserts
that virtual card. PANs are only ever reported masked.
"""

from __future__ import annotations

import logging
import re
import statistics
import time
from dataclasses import dataclass, field

from bench.checks.base import CheckSpec, Param, StepContext
from bench.errors import CardError
from bench.measure import Limit
from drivers.codecs import tlv
from drivers.codecs.iso7816 import PPSE, PSE, parse_atr, read_record, select_by_name, sw_hex, sw_text
from drivers.codecs.pan import mask_pan
from drivers.i18n import N_, join_texts
from drivers.interfaces import ApduResponse, CardReader

_LOG = logging.getLogger(__name__)

ROLE = "card_reader"
DEFAULT_CARD = "emv-visa-contact"
#: One contact test card per scheme the bench knows: Visa, Mastercard, UnionPay.
DEFAULT_COMPAT_CARDS = ("emv-visa-contact", "emv-mastercard-contact", "emv-unionpay-contact")
_STATE_KEY = "card.inserted"


def _reader(ctx: StepContext) -> CardReader:
    return ctx.device(ROLE, CardReader)


def _wait_budget(ctx: StepContext, wanted: float) -> float:
    return ctx.budget(wanted, floor=0.1)


def _ensure_card(ctx: StepContext, reader: CardReader, card: str, timeout: float) -> None:
    """Ask the operator for ``card`` unless this run already has it in the reader."""
    inserted: dict[str, str] = ctx.state.setdefault(_STATE_KEY, {})
    if inserted.get(reader.url) == card and reader.card_present():
        return
    reader.disconnect()
    ctx.operator.perform("insert_card", N_("Insert the test card {card!r} into {url}", card=card, url=reader.url),
                         card=card, reader=reader.url)
    took = reader.wait_for_insert(_wait_budget(ctx, timeout))
    inserted[reader.url] = card
    ctx.note(f"card {card} present after {took * 1000:.0f} ms")


def _check_sw(resp: ApduResponse, what: str, fault: str = "ICC-APP") -> None:
    if resp.ok:
        return
    detail = f"{what}: card answered {sw_hex(resp.sw1, resp.sw2)} ({sw_text(resp.sw1, resp.sw2)})"
    if resp.sw1 in (0x6F, 0x64, 0x65):
        raise CardError(N_("the card reported an internal error ({status})", status=sw_text(resp.sw1, resp.sw2)),
                        fault_code="ICC-ERROR", detail=detail)
    raise CardError(N_("the card refused a payment command ({status})", status=sw_text(resp.sw1, resp.sw2)),
                    fault_code=fault, detail=detail)


@dataclass
class EmvApp:
    """An application found on the card."""

    aid: bytes
    label: str = ""
    priority: int = 99


@dataclass
class EmvSession:
    """What selecting and reading found."""

    apps: list[EmvApp] = field(default_factory=list)
    selected: EmvApp | None = None
    records: int = 0
    pan: str | None = None


def _apps_from(objs: list[tlv.Tlv]) -> list[EmvApp]:
    apps = []
    for entry in tlv.find_all(objs, 0x61):
        aid = entry.find(0x4F)
        if aid is None:
            continue
        label = entry.find(0x50)
        prio = entry.find(0x87)
        apps.append(EmvApp(aid.value, label.value.decode("ascii", "replace") if label else "",
                           prio.value[0] & 0x0F if prio and prio.value else 99))
    return sorted(apps, key=lambda a: a.priority)


def _parse(resp: ApduResponse, what: str) -> list[tlv.Tlv]:
    try:
        return tlv.parse(resp.data)
    except tlv.TlvError as exc:
        raise CardError(N_("the card's payment application gave a malformed answer"), fault_code="ICC-APP",
                        detail=f"{what}: {exc}") from exc


def emv_select(reader: CardReader, interface: str) -> EmvSession:
    """Select PSE (contact) or PPSE (contactless), list the applications, select the first."""
    session = EmvSession()
    directory = PSE if interface == "contact" else PPSE
    name = directory.decode()
    resp = reader.transmit(select_by_name(directory))
    _check_sw(resp, f"SELECT {name}")
    fci = _parse(resp, f"SELECT {name}")
    if interface == "contact":
        sfi_obj = tlv.find(fci, 0x88)
        sfi = sfi_obj.value[0] if sfi_obj and sfi_obj.value else 1
        for rec in range(1, 17):
            r = reader.transmit(read_record(sfi, rec))
            if r.sw == 0x6A83:
                break
            _check_sw(r, f"READ RECORD {sfi}/{rec} of {name}")
            session.apps += _apps_from(_parse(r, f"READ RECORD {sfi}/{rec}"))
    else:
        session.apps = _apps_from(fci)
    if not session.apps:
        raise CardError(N_("{name} lists no payment application", name=name), fault_code="ICC-APP")
    first = session.apps[0]
    r = reader.transmit(select_by_name(first.aid))
    _check_sw(r, f"SELECT {first.aid.hex().upper()}")
    session.selected = first
    return session


def _afl(reader: CardReader) -> list[tuple[int, int]]:
    """Records to read from GET PROCESSING OPTIONS' AFL; [] when GPO is not supported."""
    resp = reader.transmit(bytes.fromhex("80A8000002830000"))
    if not resp.ok:
        return []
    objs = _parse(resp, "GET PROCESSING OPTIONS")
    fmt1 = tlv.find(objs, 0x80)
    afl = b""
    if fmt1 is not None:
        afl = fmt1.value[2:]
    else:
        fmt2 = tlv.find(objs, 0x94)
        afl = fmt2.value if fmt2 else b""
    out = []
    for i in range(0, len(afl) - 3, 4):
        sfi = afl[i] >> 3
        out += [(sfi, rec) for rec in range(afl[i + 1], afl[i + 2] + 1)]
    return out


def read_app_records(reader: CardReader, session: EmvSession) -> EmvSession:
    """Read the selected application's records (from the AFL, else SFI 1-3 until 6A83)."""
    wanted = _afl(reader)
    if not wanted:
        wanted = [(sfi, rec) for sfi in (1, 2, 3) for rec in range(1, 9)]
    for sfi, rec in wanted:
        r = reader.transmit(read_record(sfi, rec))
        if r.sw == 0x6A83:
            continue
        _check_sw(r, f"READ RECORD {sfi}/{rec}")
        objs = _parse(r, f"READ RECORD {sfi}/{rec}")
        session.records += 1
        pan = tlv.find(objs, 0x5A)
        if pan is not None and session.pan is None:
            session.pan = pan.value.hex().upper().rstrip("F")
        t2 = tlv.find(objs, 0x57)
        if t2 is not None and session.pan is None:
            session.pan = t2.value.hex().upper().split("D")[0]
    return session


# --------------------------------------------------------------------------- checks


def reader_present(ctx: StepContext) -> None:
    """The reader the station names is listed by the card service."""
    reader = _reader(ctx)
    names = reader.list_readers()
    ctx.measure("reader.count", len(names))
    ctx.measure("reader.present", reader.reader_name in names,
                says=N_("the card reader {reader!r} is not connected to this PC", reader=reader.reader_name))
    ctx.note(f"reader {reader.reader_name!r}; listed: {', '.join(names)}")


def atr(ctx: StepContext) -> None:
    """The card answers reset with a well-formed ATR offering the expected protocol."""
    reader = _reader(ctx)
    _ensure_card(ctx, reader, ctx.params["card"], ctx.params["insert_timeout"])
    info = reader.connect(_wait_budget(ctx, 5.0))
    parsed = parse_atr(info.atr)
    ctx.note(f"ATR {parsed.describe()}, negotiated {info.protocol}")
    ctx.measure("atr.hex", parsed.hex)
    ctx.measure("atr.protocol", info.protocol)
    ctx.measure("atr.tck_ok", parsed.tck_ok is not False,
                says=N_("the card's answer to reset has a bad checksum (TCK)"))
    ctx.measure("atr.valid", parsed.valid, says=N_("the card's answer to reset is malformed"))
    expected = ctx.params["protocol"]
    if expected != "any" and expected != info.protocol:
        ctx.fail(N_("card negotiated {protocol}, expected {expected}", protocol=info.protocol, expected=expected),
                 "ICC-BAD-ATR")
    pattern = ctx.params["atr_regex"]
    if pattern and not re.fullmatch(pattern, info.atr.hex().upper()):
        ctx.fail(N_("the card's answer to reset is not the one this plan expects"), "ICC-BAD-ATR",
                 detail=f"ATR {info.atr.hex().upper()} does not match /{pattern}/")


def emv_select_check(ctx: StepContext) -> None:
    """Select PSE/PPSE, read the application list and select the first application."""
    reader = _reader(ctx)
    _ensure_card(ctx, reader, ctx.params["card"], ctx.params["insert_timeout"])
    reader.connect(_wait_budget(ctx, 5.0))
    session = emv_select(reader, ctx.params["interface"])
    ctx.measure("emv.aids", len(session.apps))
    ctx.measure("emv.aid", session.apps[0].aid.hex().upper())
    ctx.note("applications: " + ", ".join(f"{a.aid.hex().upper()} {a.label}" for a in session.apps))


def read_records(ctx: StepContext) -> None:
    """Read the selected application's records and find the (masked) PAN."""
    reader = _reader(ctx)
    _ensure_card(ctx, reader, ctx.params["card"], ctx.params["insert_timeout"])
    reader.connect(_wait_budget(ctx, 5.0))
    session = read_app_records(reader, emv_select(reader, ctx.params["interface"]))
    ctx.measure("emv.records", session.records)
    ctx.measure("emv.pan_masked", mask_pan(session.pan) if session.pan else "")


def apdu_latency(ctx: StepContext) -> None:
    """Time N command round trips (SELECT of the directory, GET RESPONSE included)."""
    reader = _reader(ctx)
    _ensure_card(ctx, reader, ctx.params["card"], ctx.params["insert_timeout"])
    reader.connect(_wait_budget(ctx, 5.0))
    command = select_by_name(PSE if ctx.params["interface"] == "contact" else PPSE)
    times: list[float] = []
    errors: list[str] = []
    count = int(ctx.params["count"])
    for _ in range(count):
        ctx.check_cancelled()
        # A slow reader must end as "slow" with its figures, not as a step timeout: stop
        # sampling while there is still time for two more of the slowest round trips.
        if times and ctx.remaining() < 2 * max(times) / 1000 + 0.5:
            ctx.note(f"stopped after {len(times)} of {count} round trips: the step's time is running out")
            break
        t0 = time.perf_counter()
        resp = reader.transmit(command, timeout=_wait_budget(ctx, 5.0))
        times.append((time.perf_counter() - t0) * 1000)
        if not resp.ok:
            errors.append(sw_hex(resp.sw1, resp.sw2))
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    ctx.measure("apdu.errors", len(errors))
    if errors:
        ctx.note(f"{len(errors)} of {len(times)} APDUs failed: {', '.join(sorted(set(errors)))}")
    ctx.measure("apdu.p50_ms", round(statistics.median(times), 3), unit="ms")
    ctx.measure("apdu.p95_ms", round(p95, 3), unit="ms")
    ctx.measure("apdu.max_ms", round(times[-1], 3), unit="ms")


def insert_remove(ctx: StepContext) -> None:
    """The reader sees a card inserted and removed within the time limits."""
    reader = _reader(ctx)
    card = ctx.params["card"]
    timeout = ctx.params["timeout"]
    reader.disconnect()
    if reader.card_present():
        ctx.operator.perform("remove_card", N_("Remove the card from {url}", url=reader.url), reader=reader.url)
        reader.wait_for_remove(_wait_budget(ctx, timeout))
    t0 = time.monotonic()
    ctx.operator.perform("insert_card", N_("Insert the test card {card!r} into {url}", card=card, url=reader.url),
                         card=card, reader=reader.url)
    reader.wait_for_insert(_wait_budget(ctx, timeout))
    ctx.measure("insert.detect_ms", round((time.monotonic() - t0) * 1000, 1), unit="ms")
    t0 = time.monotonic()
    ctx.operator.perform("remove_card", N_("Remove the card from {url}", url=reader.url), reader=reader.url)
    try:
        reader.wait_for_remove(_wait_budget(ctx, timeout))
    except CardError as exc:
        raise CardError(exc.message, fault_code="ICC-ERROR", detail=getattr(exc, "detail", None)) from exc
    ctx.state.setdefault(_STATE_KEY, {}).pop(reader.url, None)
    ctx.measure("remove.detect_ms", round((time.monotonic() - t0) * 1000, 1), unit="ms")


def contactless_tap(ctx: StepContext) -> None:
    """A tapped contactless card is detected, answers PPSE, and leaves the field."""
    reader = _reader(ctx)
    card = ctx.params["card"]
    timeout = ctx.params["timeout"]
    reader.disconnect()
    t0 = time.monotonic()
    ctx.operator.perform("tap_card", N_("Tap the contactless card {card!r} on {url}", card=card, url=reader.url),
                         card=card, reader=reader.url)
    try:
        reader.wait_for_insert(_wait_budget(ctx, timeout))
    except CardError as exc:
        raise CardError(N_("no contactless card detected within {timeout:g} s", timeout=timeout),
                        fault_code="CTLS-NO-CARD") from exc
    ctx.measure("ctls.detect_ms", round((time.monotonic() - t0) * 1000, 1), unit="ms")
    reader.connect(_wait_budget(ctx, 2.0))
    session = emv_select(reader, "contactless")
    ctx.measure("emv.aids", len(session.apps))
    reader.wait_for_remove(_wait_budget(ctx, timeout))
    ctx.state.setdefault(_STATE_KEY, {}).pop(reader.url, None)


def compatibility(ctx: StepContext) -> None:
    """Run select + read on each card in ``cards``, asking the operator to insert each."""
    reader = _reader(ctx)
    failed: list[str] = []
    codes: list[str] = []
    passed = 0
    for card in ctx.params["cards"]:
        ctx.check_cancelled()
        verdict = "pass"
        try:
            _ensure_card(ctx, reader, card, ctx.params["insert_timeout"])
            info = reader.connect(_wait_budget(ctx, 5.0))
            interface = "contactless" if ctx.params["interface"] == "contactless" else "contact"
            if ctx.params["interface"] == "auto" and parse_atr(info.atr).historical[:2] == b"\x80\x4f":
                interface = "contactless"
            session = read_app_records(reader, emv_select(reader, interface))
            ctx.note(f"{card}: {len(session.apps)} app(s), {session.records} record(s)")
        except CardError as exc:
            verdict = exc.fault_code or "ICC-ERROR"
            failed.append(N_("{card}: {error} [{fault}]", card=card, error=exc.message, fault=verdict))
            codes.append(verdict)
        finally:
            reader.disconnect()
        ctx.measure(f"compat.{card}", verdict)
        if verdict == "pass":
            passed += 1
    ctx.measure("compat.passed", passed)
    if failed:
        # The same fault on every failing card names the reader's fault; a mix is a compatibility problem.
        code = codes[0] if len(set(codes)) == 1 else "ICC-APP"
        ctx.fail(N_("{failed} of {total} cards failed: {which}", failed=len(failed), total=len(ctx.params["cards"]),
                    which=join_texts(failed, separator=";")), code)


_CARD = Param(str, DEFAULT_CARD, N_("test card profile the operator inserts"))
_INSERT_TIMEOUT = Param((int, float), 15.0, N_("seconds to wait for the card to be inserted"))
_INTERFACE = Param(str, "contact", N_("contact (PSE) or contactless (PPSE)"))

CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "card.reader_present", reader_present, N_("the card reader is listed by pcscd"), devices=(ROLE,),
        measurements={"reader.count": Limit(min=1), "reader.present": Limit(equals=True)},
        fault="ICC-NO-READER",
    ),
    CheckSpec(
        "card.atr", atr, N_("the card answers reset with a valid ATR"), devices=(ROLE,),
        params={"card": _CARD, "insert_timeout": _INSERT_TIMEOUT,
                "protocol": Param(str, "any", N_("expected protocol: T=0, T=1 or any")),
                "atr_regex": Param(str, "", N_("regex the ATR hex (no spaces, upper case) must match"))},
        measurements={"atr.hex": None, "atr.protocol": None, "atr.tck_ok": Limit(equals=True),
                      "atr.valid": Limit(equals=True)},
        fault="ICC-BAD-ATR",
    ),
    CheckSpec(
        "card.emv_select", emv_select_check, N_("select PSE/PPSE and the first payment application"),
        devices=(ROLE,),
        params={"card": _CARD, "insert_timeout": _INSERT_TIMEOUT, "interface": _INTERFACE},
        measurements={"emv.aids": Limit(min=1), "emv.aid": None}, fault="ICC-APP",
    ),
    CheckSpec(
        "card.read_records", read_records, N_("read the application's records; report the masked PAN"),
        devices=(ROLE,), params={"card": _CARD, "insert_timeout": _INSERT_TIMEOUT, "interface": _INTERFACE},
        measurements={"emv.records": Limit(min=1), "emv.pan_masked": Limit(regex=r"\d{6}\*+\d{4}")},
        fault="ICC-APP",
    ),
    CheckSpec(
        "card.apdu_latency", apdu_latency, N_("APDU round-trip time (p50/p95/max)"), devices=(ROLE,),
        params={"card": _CARD, "insert_timeout": _INSERT_TIMEOUT, "interface": _INTERFACE,
                "count": Param(int, 20, N_("round trips to time"), bounds=(1, 10_000))},
        measurements={"apdu.errors": Limit(max=0, fault="ICC-ERROR"),
                      "apdu.p50_ms": Limit(max=50, unit="ms"), "apdu.p95_ms": Limit(max=100, unit="ms"),
                      "apdu.max_ms": Limit(max=250, unit="ms")},
        fault="ICC-SLOW",
    ),
    CheckSpec(
        "card.insert_remove", insert_remove, N_("the reader detects card insertion and removal"), devices=(ROLE,),
        params={"card": _CARD, "timeout": Param((int, float), 15.0, N_("seconds for each operator action"))},
        measurements={"insert.detect_ms": Limit(max=2000, unit="ms"),
                      "remove.detect_ms": Limit(max=2000, unit="ms")},
        fault="ICC-NO-CARD",
    ),
    CheckSpec(
        "card.contactless_tap", contactless_tap, N_("a tapped contactless card is detected and answers PPSE"),
        devices=(ROLE,),
        params={"card": Param(str, "emv-contactless", N_("contactless test card profile")),
                "timeout": Param((int, float), 15.0, N_("seconds to wait for the tap"))},
        measurements={"ctls.detect_ms": Limit(max=2000, unit="ms"), "emv.aids": Limit(min=1)},
        fault="CTLS-NO-CARD",
    ),
    CheckSpec(
        "card.compatibility", compatibility, N_("select and read on each card of a list"), devices=(ROLE,),
        params={"cards": Param(list, list(DEFAULT_COMPAT_CARDS), N_("card profiles, in order")),
                "insert_timeout": _INSERT_TIMEOUT,
                "interface": Param(str, "contact", N_("contact, contactless or auto (from the ATR)"))},
        measurements={"compat.passed": Limit(min=1)}, fault="ICC-APP",
    ),
)
