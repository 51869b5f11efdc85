"""The one table of fault codes: what each means, whose fault it is, and what to do.

Every fault code a check, driver or scenario uses lives here. Reports quote the
title, the suspected part and the repair action; the diagnosis groups findings by
category. Codes are ``AREA-WHAT`` in capitals; the area prefixes are:
``LINK`` unit link, ``UNIT`` unit firmware/self-test, ``FW`` firmware, ``SEC``
security, ``PWR`` power, ``NET`` comms, ``LOG`` event log, ``ICC`` contact card
reader, ``CTLS`` contactless, ``MSR`` magstripe, ``PRN`` printer, ``KEY`` keypad,
``DSP`` display, ``CASE`` housing, ``PORT`` the unit's outside ports, ``TXN`` a test sale end to end (keypad, card, bench host, receipt),
``BENCH`` the bench itself, ``OP`` the operator, ``TEST`` a test of the pytest plugin (docs/pytest.md), ``CFG`` the unit's settings for its merchant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from drivers.i18n import N_, Text


class Category(StrEnum):
    """Whose fault it is, and so what kind of repair it needs."""

    HARDWARE = "hardware"
    SOFTWARE = "software"
    CONFIGURATION = "configuration"
    CONSUMABLE = "consumable"
    BENCH = "bench"
    OPERATOR = "operator"

    @property
    def label(self) -> Text:
        """The category in words, for people: a Text whose English is the value (the language-neutral key)."""
        return _CATEGORY_LABELS[self]


_CATEGORY_LABELS: dict[Category, Text] = {
    Category.HARDWARE: N_("hardware"),
    Category.SOFTWARE: N_("software"),
    Category.CONFIGURATION: N_("configuration"),
    Category.CONSUMABLE: N_("consumable"),
    Category.BENCH: N_("bench"),
    Category.OPERATOR: N_("operator"),
}


@dataclass(frozen=True)
class Fault:
    """One fault code with its meaning and the repair it calls for.

    ``title``, ``part`` and ``action`` are :class:`~drivers.i18n.Text`: English as a ``str`` (reports'
    JSON, the store), in the technician's language when shown (``tr``). The code stays English.
    """

    code: str
    title: Text
    category: Category
    part: Text
    action: Text

    @property
    def in_unit(self) -> bool:
        """True when the unit is at fault, False when the bench or the operator is."""
        return self.category not in (Category.BENCH, Category.OPERATOR)


_H, _S, _C, _K, _B, _O = (
    Category.HARDWARE,
    Category.SOFTWARE,
    Category.CONFIGURATION,
    Category.CONSUMABLE,
    Category.BENCH,
    Category.OPERATOR,
)

_ROWS: tuple[tuple[str, Text, Category, Text, Text], ...] = (
    # code, title, category, suspected part, repair action
    ("LINK-NO-RESPONSE", N_("unit does not answer on its diagnostic link"), _H, N_("main board / serial cable"),
     N_("check the cable and the unit's power; if the unit is on and silent, suspect the main board")),
    ("LINK-GARBAGE", N_("unit answers garbage on its diagnostic link"), _H, N_("serial cable / line settings"),
     N_("check baud rate and cable; a persistent fault points at the main board's UART")),
    ("LINK-NAK-STORM", N_("unit rejects frames repeatedly (line noise)"), _H, N_("serial cable / connector"),
     N_("reseat or replace the cable; clean the connector")),
    ("LINK-REBOOT", N_("unit rebooted during the test"), _H, N_("power supply / main board"),
     N_("check the battery and adapter; repeated resets point at the power circuit or firmware crash")),
    ("LINK-UNSUPPORTED", N_("unit does not support a required diagnostic command"), _S, N_("firmware"),
     N_("update the diagnostic firmware to a version that implements the command")),
    ("UNIT-FAULT", N_("unit reported an unspecified fault"), _H, N_("unit"), N_("inspect the step log")),
    ("UNIT-POST-RAM", N_("power-on self-test: RAM failed"), _H, N_("main board (RAM)"), N_("replace the main board")),
    ("UNIT-POST-FLASH", N_("power-on self-test: flash failed"), _H, N_("main board (flash)"),
     N_("reflash the firmware; if it persists, replace the main board")),
    ("UNIT-POST-RTC", N_("power-on self-test: real-time clock failed"), _H, N_("RTC / coin cell"),
     N_("replace the RTC backup cell; if it persists, replace the main board")),
    ("UNIT-POST-SE", N_("power-on self-test: secure element failed"), _H, N_("secure element"),
     N_("return to factory: the secure element cannot be replaced on the bench")),
    ("UNIT-POST", N_("power-on self-test: a subsystem failed"), _H, N_("unit subsystem"),
     N_("see the failed subsystem in the step log")),
    ("UNIT-IDENTITY", N_("unit identity does not match what the plan expects"), _C, N_("unit configuration"),
     N_("check that the right unit is on the bench and that the plan matches its model")),
    ("FW-OUTDATED", N_("firmware older than required"), _S, N_("firmware"),
     N_("update required: install the current firmware, then test again")),
    ("FW-CRASH", N_("the firmware crashed or its watchdog reset the unit (event log)"), _S, N_("firmware"),
     N_("reflash the firmware; if the resets go on, test the power supply and the main board")),
    ("FW-UPDATE-FAILED", N_("a firmware update did not finish (event log, or the update over the link)"), _S, N_("firmware"),
     N_("reflash the firmware from the vendor's image, then test again")),
    ("FW-SIGNATURE", N_("the firmware failed its signature check (event log, or the image to flash)"), _S, N_("firmware"),
     N_("reflash the vendor's signed firmware; if the check fails again, return to factory")),
    ("FW-ROLLBACK", N_("the new firmware did not boot: the unit went back to the old one"), _S, N_("firmware / flash"),
     N_("check the image is the vendor's for this hardware revision and flash it again; if it fails again, "
     "suspect the flash (main board)")),
    ("FW-WRONG-MODEL", N_("the firmware image is for another model or hardware revision"), _O, N_("firmware image"),
     N_("pick the image for this unit's model and hardware revision (bench firmware inspect shows both)")),
    ("FW-DOWNGRADE", N_("the firmware image is older than the firmware the unit runs"), _O, N_("firmware image"),
     N_("use the current image, or allow the downgrade on purpose (--allow-downgrade)")),
    ("FW-UNTRUSTED-IMAGE", N_("the firmware image is not signed by a key the bench trusts (nothing was sent)"), _O,
     N_("firmware image"), N_("flash the vendor's signed image, and check the plan's keys name the vendor's public key")),
    ("FW-IMAGE-CORRUPT", N_("the firmware image file is damaged, truncated or not an image"), _O, N_("firmware image"),
     N_("get the image again from the vendor and check it with bench firmware inspect")),
    ("SEC-TAMPER", N_("tamper detected: keys erased, unit locked"), _H, N_("security mesh / tamper switch"),
     N_("return to factory for reactivation; do not open the unit further")),
    ("PWR-BATT-LOW", N_("battery charge or voltage too low"), _K, N_("battery"),
     N_("charge the battery and test again; if it does not hold charge, replace the battery")),
    ("PWR-BATT-DEAD", N_("battery does not hold charge"), _K, N_("battery"), N_("replace the battery")),
    ("PWR-NO-ADAPTER", N_("no power adapter detected"), _H, N_("adapter / charging socket"),
     N_("check the adapter and the socket; replace the adapter or the charging port")),
    ("PWR-NOT-CHARGING", N_("adapter present but the battery is not charging"), _H, N_("charging circuit"),
     N_("replace the battery; if it persists, the charging circuit on the main board")),
    ("PWR-EXCESS-CURRENT", N_("the unit draws more current than it should (a leak or a short on the board)"), _H,
     N_("main board / power circuit"), N_("look for a warm component with a thermal camera; replace the main board")),
    ("PWR-BROWNOUT", N_("the unit stops or restarts at a supply voltage it should run on"), _H, N_("power regulator / main board"),
     N_("check the input connector and the regulator's capacitors; replace the main board")),
    ("PWR-NO-RECOVERY", N_("the unit did not start again when the supply came back"), _H, N_("power regulator / main board"),
     N_("check the power-on circuit; replace the main board")),
    ("PWR-INRUSH", N_("the power-on current surge is too high or too long"), _H, N_("input capacitors / main board"),
     N_("check the input capacitors and the soft-start; replace the main board")),
    ("PWR-SLOW-CHARGE", N_("the battery charges with too little current"), _H, N_("charging circuit"),
     N_("check the charging socket and the battery; replace the charging circuit's board")),
    ("NET-NO-LINK", N_("network interface has no link"), _H, N_("network module / cable"),
     N_("check the cable or antenna; replace the network module")),
    ("NET-WEAK-SIGNAL", N_("radio signal below limit"), _H, N_("antenna / radio module"),
     N_("check the antenna connection; replace the radio module")),
    ("NET-TLS", N_("TLS handshake with the host failed (event log)"), _C, N_("network configuration / certificates"),
     N_("check the unit's clock and its host certificates; reload the terminal configuration")),
    ("NET-SLOW", N_("network round trip above limit"), _C, N_("network configuration"),
     N_("check the network settings and the bench network; then the module")),
    ("LOG-ERRORS", N_("recent errors in the unit's event log"), _H, N_("see decoded log entries"),
     N_("act on the decoded error codes listed in the step")),
    ("ICC-NO-READER", N_("no card reader found"), _B, N_("bench card reader / pcscd"),
     N_("connect the reader; check that pcscd is running")),
    ("ICC-NO-CARD", N_("no card in the reader"), _O, N_("test card"), N_("insert the test card")),
    ("ICC-NO-ATR", N_("card reader: no ATR from a known-good card"), _H, N_("card reader (contacts)"),
     N_("clean the card reader contacts; if it persists, replace the card reader")),
    ("ICC-BAD-ATR", N_("card reader: malformed ATR (structure or TCK)"), _H, N_("card reader"),
     N_("clean the contacts and retry; replace the card reader")),
    ("ICC-REMOVED", N_("card removed during a transaction"), _O, N_("test card / card reader latch"),
     N_("keep the card inserted; if the reader loses it by itself, check the card latch")),
    ("ICC-ERROR", N_("card reader transmission error"), _H, N_("card reader"), N_("clean the contacts; replace the reader")),
    ("ICC-SLOW", N_("card reader response time above limit"), _H, N_("card reader"), N_("replace the card reader")),
    ("ICC-APP", N_("payment application could not be selected or read"), _S, N_("card / kernel"),
     N_("try another test card; update the EMV kernel")),
    ("CTLS-NO-CARD", N_("contactless: no card detected on tap"), _H, N_("contactless antenna"),
     N_("check the antenna cable; replace the contactless module")),
    ("MSR-NO-READ", N_("magstripe: swipe not read"), _H, N_("magstripe head"), N_("clean the magstripe head; replace it")),
    ("MSR-BAD-LRC", N_("magstripe: track LRC or format error"), _H, N_("magstripe head"),
     N_("clean the head and swipe again; replace the head if errors persist")),
    ("PRN-OFFLINE", N_("printer offline"), _H, N_("printer mechanism"), N_("check the printer cable and power")),
    ("PRN-COVER", N_("printer cover open"), _H, N_("printer cover / cover sensor"),
     N_("close the cover; if it is closed, replace the printer cover sensor")),
    ("PRN-PAPER-END", N_("printer out of paper"), _K, N_("paper roll"), N_("load a paper roll")),
    ("PRN-PAPER-NEAR-END", N_("printer paper near end"), _K, N_("paper roll"), N_("replace the paper roll soon")),
    ("PRN-CUTTER", N_("printer autocutter error"), _H, N_("autocutter"), N_("clear the jam; replace the autocutter")),
    ("PRN-HEAD-HOT", N_("printer head overheated"), _H, N_("print head"), N_("let it cool; replace the head if it recurs")),
    ("PRN-FATAL", N_("printer unrecoverable error"), _H, N_("printer mechanism"), N_("replace the printer mechanism")),
    ("PRN-SLOW", N_("printer throughput below limit"), _H, N_("printer mechanism"), N_("check the motor; replace the mechanism")),
    ("PRN-PRINT", N_("printed page rejected by the operator"), _H, N_("print head"), N_("clean the print head; replace it")),
    ("KEY-DEAD", N_("key never registered"), _H, N_("keypad"), N_("replace the keypad membrane")),
    ("KEY-STUCK", N_("key stuck down"), _H, N_("keypad"), N_("clean the keypad; replace the membrane")),
    ("KEY-BOUNCE", N_("key bounces (double events)"), _H, N_("keypad"), N_("replace the keypad membrane")),
    ("DSP-PIXELS", N_("display read-back mismatch (dead pixels)"), _H, N_("display"), N_("replace the display")),
    ("DSP-BACKLIGHT", N_("display backlight failure"), _H, N_("display backlight"), N_("replace the display")),
    ("DSP-REJECTED", N_("display pattern rejected by the operator"), _H, N_("display"), N_("replace the display")),
    # Seen at intake (bench/checks/intake.py): what only a person looking at the unit can tell.
    ("DSP-CRACKED", N_("screen cracked"), _H, N_("display (glass / touch panel)"), N_("replace the display assembly")),
    ("KEY-LOOSE", N_("keys missing or loose"), _H, N_("keypad"), N_("replace the keypad (membrane and keycaps)")),
    ("CASE-LOOSE", N_("housing loose, cracked or its clips broken"), _H, N_("housing"),
     N_("tighten the housing screws; replace the housing if it is cracked or a clip is broken")),
    ("PORT-DAMAGED", N_("power, reset or network port loose or damaged"), _H, N_("I/O port board"),
     N_("reseat the port board's connector; replace the port board if the socket is loose or bent")),
    ("CASE-LIQUID", N_("liquid damage"), _H, N_("main board"),
     N_("power off, open, clean and dry the boards, then test again; replace the main board if corrosion remains")),
    ("SEC-SEALS", N_("tamper-evident seals broken"), _H, N_("housing seals"),
     N_("do not open the unit further: read its tamper state; a unit opened outside an authorised repair goes "
     "back to the factory")),
    ("TXN-DECLINED", N_("test sale declined by the bench host"), _C, N_("host behaviour / unit's terminal settings"),
     N_("read the response code in the step: with the bench host set to approve, check the unit's terminal and "
     "merchant IDs and currency; a decline the behaviour file asks for is expected")),
    ("TXN-HOST-TIMEOUT", N_("no valid answer from the host in time (timed out, closed or garbage)"), _H,
     N_("network module / host address"), N_("check the host address the unit was given and its network cable or "
     "Wi-Fi; if the bench host's log shows the request and its answer, replace the unit's network module")),
    ("TXN-NETWORK", N_("test sale could not reach the host"), _H, N_("network module / cable"),
     N_("check the cable or Wi-Fi and run the comms step; if the link is up, replace the network module")),
    ("TXN-CARD-READ", N_("test sale: the card could not be read"), _H, N_("card reader (chip, contactless or magstripe)"),
     N_("the step names the card and its interface: clean that reader and run its card or magstripe steps; "
     "replace the reader if they fail too")),
    ("TXN-AMOUNT", N_("test sale: the amount entered or sent is not the amount keyed"), _H, N_("keypad / payment firmware"),
     N_("run the keypad step; if every key passes, reinstall the payment application")),
    ("TXN-PAPER-OUT", N_("test sale approved but no receipt: paper out"), _K, N_("receipt paper roll"),
     N_("load a paper roll and test again; if the roll is full, check the paper sensor")),
    ("TXN-PRINTER", N_("test sale approved but the receipt did not print"), _H, N_("receipt printer"),
     N_("run the printer steps; clean or replace the print mechanism")),
    ("TXN-REVERSAL-MISSING", N_("a timed-out sale was not reversed (the customer would be charged)"), _S,
     N_("payment firmware"), N_("update or reinstall the payment application; do not return the unit to service "
     "until a timed-out sale is reversed")),
    ("TXN-MALFORMED", N_("the bench host found the unit's ISO 8583 messages badly formed"), _S, N_("payment firmware"),
     N_("the step's evidence lists the host's findings (missing fields, reused STAN...); update or reinstall "
     "the payment application")),
    ("TXN-TIMEOUT", N_("the unit gave no result for a test sale in time"), _H, N_("unit"),
     N_("the step log names the last stage the sale reached (amount, card, online, print): test that part")),
    ("TXN-SLOW", N_("a stage of a test sale took longer than its limit"), _H, N_("the slow stage's part"),
     N_("card stage: the card reader; online: the network module; print: the printer; see the step's figures")),
    ("TXN-FAILURES", N_("test sales failed during the soak"), _H, N_("the part the failure causes name"),
     N_("read the soak's Failures by cause chart: card-read points at the reader, network at the network module, "
     "paper-out at the roll; test that part alone")),
    ("SOAK-DRIFT", N_("the unit drifted during the soak (latency, head temperature or battery)"), _H,
     N_("the drifting part"), N_("latency: network module or card reader; head temperature: print head; battery: "
     "battery or charging circuit; compare the first and last ten minutes in the report")),
    ("SOAK-INCOMPLETE", N_("the soak did not reach its end in time: the unit could not keep up"), _H, N_("unit"),
     N_("the report shows where sales fell behind their arrivals; test the slowest stage's part")),
    ("SOAK-FAILED", N_("the soak failed"), _H, N_("unit"), N_("see the soak's figures and charts")),
    ("BENCH-PORT", N_("serial port will not open"), _B, N_("bench serial port / cable"),
     N_("check the port name and that no other program holds it")),
    ("BENCH-NET", N_("the unit's serial server cannot be reached over the network"), _B,
     N_("network / serial server"),
     N_("check that the serial server is powered and on the network, that ser2net runs and listens on the "
        "station file's port (docs/fleet.md), and that no firewall is in the way")),
    ("BENCH-CONFIG", N_("bench configuration error"), _B, N_("station file"), N_("fix the station file")),
    ("BENCH-INSTRUMENT", N_("bench instrument error (supply, multimeter, oscilloscope)"), _B, N_("bench instrument"),
     N_("check its address and cable, and the command and instrument error the step log names")),
    ("BENCH-ERROR", N_("bench equipment error"), _B, N_("bench"), N_("see the step log")),
    ("BENCH-NO-INSTRUMENT", N_("the station has no instrument for this step"), _B, N_("none (not tested)"),
     N_("test the unit on a station with the instrument (power supply, multimeter, oscilloscope)")),
    ("OP-NO-RESPONSE", N_("no operator response"), _O, N_("operator"), N_("repeat the step with an operator present")),
    ("RUN-ABORTED", N_("run interrupted before it finished"), _O, N_("none (not tested)"),
     N_("test again: the steps after the interruption did not run")),
    ("OP-SKIPPED", N_("step skipped by the operator"), _O, N_("none (not tested)"),
     N_("test again with every step: the unit is signed off only when every step ran and passed")),
    ("STEP-TIMEOUT", N_("step did not finish within its timeout"), _H, N_("unit"), N_("see the step log")),
    ("CFG-MISSING", N_("a setting the merchant needs is not set on the unit"), _C, N_("unit configuration"),
     N_("set it from the merchant's profile (after a return to factory: terminal id, merchant id, host, network)")),
    ("CFG-MISMATCH", N_("a setting differs from the merchant's profile"), _C, N_("unit configuration"),
     N_("set it as the merchant's profile says, or update the profile if the merchant changed it")),
    ("TEST-FAILED", N_("a test of the unit failed"), _H, N_("the part the test exercises"),
     N_("read the test's message and log; test that part alone")),
    ("TEST-ERROR", N_("a test crashed (an error in the test, not a verdict on the unit)"), _B, N_("the test"),
     N_("fix the test: its log shows the error; run it again")),
    ("TEST-SKIPPED", N_("a test was skipped"), _O, N_("none (not tested)"),
     N_("run every test: the unit is signed off only when every test ran and passed")),
)

FAULTS: dict[str, Fault] = {row[0]: Fault(*row) for row in _ROWS}


def lookup(code: str) -> Fault:
    """Return the fault for ``code``; an unknown code gets a generic hardware fault row."""
    fault = FAULTS.get(code)
    if fault is not None:
        return fault
    return Fault(code, N_("fault {code}", code=code), Category.HARDWARE, N_("unknown"), N_("see the step log"))


# --------------------------------------------------------------------------- printer conditions

PRINTER_CONDITIONS: tuple[tuple[str, str], ...] = (
    ("cover_open", "PRN-COVER"),
    ("paper_end", "PRN-PAPER-END"),
    ("cutter_error", "PRN-CUTTER"),
    ("auto_recoverable_error", "PRN-HEAD-HOT"),
    ("unrecoverable_error", "PRN-FATAL"),
    ("offline", "PRN-OFFLINE"),
    ("paper_near_end", "PRN-PAPER-NEAR-END"),
)
"""A printer's status condition (a ``PrinterStatus`` flag the driver names) and its fault code,
most specific first: a printer with its cover open is offline too, and the cover is the fault."""


def printer_fault(conditions: Iterable[str], *, near_end: bool = True) -> str | None:
    """The fault code of the most specific condition shown (None when none is a fault).

    Args:
        conditions: condition names, e.g. ``PrinterStatus.conditions`` or ``PrinterError.conditions``.
        near_end: whether "paper near end" counts (it does not stop printing).
    """
    shown = set(conditions)
    for name, code in PRINTER_CONDITIONS:
        if name in shown and (near_end or name != "paper_near_end"):
            return code
    return None
