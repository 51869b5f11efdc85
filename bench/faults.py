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


class Category(StrEnum):
    """Whose fault it is, and so what kind of repair it needs."""

    HARDWARE = "hardware"
    SOFTWARE = "software"
    CONFIGURATION = "configuration"
    CONSUMABLE = "consumable"
    BENCH = "bench"
    OPERATOR = "operator"


@dataclass(frozen=True)
class Fault:
    """One fault code with its meaning and the repair it calls for."""

    code: str
    title: str
    category: Category
    part: str
    action: str

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

_ROWS: tuple[tuple[str, str, Category, str, str], ...] = (
    # code, title, category, suspected part, repair action
    ("LINK-NO-RESPONSE", "unit does not answer on its diagnostic link", _H, "main board / serial cable",
     "check the cable and the unit's power; if the unit is on and silent, suspect the main board"),
    ("LINK-GARBAGE", "unit answers garbage on its diagnostic link", _H, "serial cable / line settings",
     "check baud rate and cable; a persistent fault points at the main board's UART"),
    ("LINK-NAK-STORM", "unit rejects frames repeatedly (line noise)", _H, "serial cable / connector",
     "reseat or replace the cable; clean the connector"),
    ("LINK-REBOOT", "unit rebooted during the test", _H, "power supply / main board",
     "check the battery and adapter; repeated resets point at the power circuit or firmware crash"),
    ("LINK-UNSUPPORTED", "unit does not support a required diagnostic command", _S, "firmware",
     "update the diagnostic firmware to a version that implements the command"),
    ("UNIT-FAULT", "unit reported an unspecified fault", _H, "unit", "inspect the step log"),
    ("UNIT-POST-RAM", "power-on self-test: RAM failed", _H, "main board (RAM)", "replace the main board"),
    ("UNIT-POST-FLASH", "power-on self-test: flash failed", _H, "main board (flash)",
     "reflash the firmware; if it persists, replace the main board"),
    ("UNIT-POST-RTC", "power-on self-test: real-time clock failed", _H, "RTC / coin cell",
     "replace the RTC backup cell; if it persists, replace the main board"),
    ("UNIT-POST-SE", "power-on self-test: secure element failed", _H, "secure element",
     "return to factory: the secure element cannot be replaced on the bench"),
    ("UNIT-POST", "power-on self-test: a subsystem failed", _H, "unit subsystem",
     "see the failed subsystem in the step log"),
    ("UNIT-IDENTITY", "unit identity does not match what the plan expects", _C, "unit configuration",
     "check that the right unit is on the bench and that the plan matches its model"),
    ("FW-OUTDATED", "firmware older than required", _S, "firmware",
     "update required: install the current firmware, then test again"),
    ("FW-CRASH", "the firmware crashed or its watchdog reset the unit (event log)", _S, "firmware",
     "reflash the firmware; if the resets go on, test the power supply and the main board"),
    ("FW-UPDATE-FAILED", "a firmware update did not finish (event log, or the update over the link)", _S, "firmware",
     "reflash the firmware from the vendor's image, then test again"),
    ("FW-SIGNATURE", "the firmware failed its signature check (event log, or the image to flash)", _S, "firmware",
     "reflash the vendor's signed firmware; if the check fails again, return to factory"),
    ("FW-ROLLBACK", "the new firmware did not boot: the unit went back to the old one", _S, "firmware / flash",
     "check the image is the vendor's for this hardware revision and flash it again; if it fails again, "
     "suspect the flash (main board)"),
    ("FW-WRONG-MODEL", "the firmware image is for another model or hardware revision", _O, "firmware image",
     "pick the image for this unit's model and hardware revision (bench firmware inspect shows both)"),
    ("FW-DOWNGRADE", "the firmware image is older than the firmware the unit runs", _O, "firmware image",
     "use the current image, or allow the downgrade on purpose (--allow-downgrade)"),
    ("FW-UNTRUSTED-IMAGE", "the firmware image is not signed by a key the bench trusts (nothing was sent)", _O,
     "firmware image", "flash the vendor's signed image, and check the plan's keys name the vendor's public key"),
    ("FW-IMAGE-CORRUPT", "the firmware image file is damaged, truncated or not an image", _O, "firmware image",
     "get the image again from the vendor and check it with bench firmware inspect"),
    ("SEC-TAMPER", "tamper detected: keys erased, unit locked", _H, "security mesh / tamper switch",
     "return to factory for reactivation; do not open the unit further"),
    ("PWR-BATT-LOW", "battery charge or voltage too low", _K, "battery",
     "charge the battery and test again; if it does not hold charge, replace the battery"),
    ("PWR-BATT-DEAD", "battery does not hold charge", _K, "battery", "replace the battery"),
    ("PWR-NO-ADAPTER", "no power adapter detected", _H, "adapter / charging socket",
     "check the adapter and the socket; replace the adapter or the charging port"),
    ("PWR-NOT-CHARGING", "adapter present but the battery is not charging", _H, "charging circuit",
     "replace the battery; if it persists, the charging circuit on the main board"),
    ("PWR-EXCESS-CURRENT", "the unit draws more current than it should (a leak or a short on the board)", _H,
     "main board / power circuit", "look for a warm component with a thermal camera; replace the main board"),
    ("PWR-BROWNOUT", "the unit stops or restarts at a supply voltage it should run on", _H, "power regulator / main board",
     "check the input connector and the regulator's capacitors; replace the main board"),
    ("PWR-NO-RECOVERY", "the unit did not start again when the supply came back", _H, "power regulator / main board",
     "check the power-on circuit; replace the main board"),
    ("PWR-INRUSH", "the power-on current surge is too high or too long", _H, "input capacitors / main board",
     "check the input capacitors and the soft-start; replace the main board"),
    ("PWR-SLOW-CHARGE", "the battery charges with too little current", _H, "charging circuit",
     "check the charging socket and the battery; replace the charging circuit's board"),
    ("NET-NO-LINK", "network interface has no link", _H, "network module / cable",
     "check the cable or antenna; replace the network module"),
    ("NET-WEAK-SIGNAL", "radio signal below limit", _H, "antenna / radio module",
     "check the antenna connection; replace the radio module"),
    ("NET-TLS", "TLS handshake with the host failed (event log)", _C, "network configuration / certificates",
     "check the unit's clock and its host certificates; reload the terminal configuration"),
    ("NET-SLOW", "network round trip above limit", _C, "network configuration",
     "check the network settings and the bench network; then the module"),
    ("LOG-ERRORS", "recent errors in the unit's event log", _H, "see decoded log entries",
     "act on the decoded error codes listed in the step"),
    ("ICC-NO-READER", "no card reader found", _B, "bench card reader / pcscd",
     "connect the reader; check that pcscd is running"),
    ("ICC-NO-CARD", "no card in the reader", _O, "test card", "insert the test card"),
    ("ICC-NO-ATR", "card reader: no ATR from a known-good card", _H, "card reader (contacts)",
     "clean the card reader contacts; if it persists, replace the card reader"),
    ("ICC-BAD-ATR", "card reader: malformed ATR (structure or TCK)", _H, "card reader",
     "clean the contacts and retry; replace the card reader"),
    ("ICC-REMOVED", "card removed during a transaction", _O, "test card / card reader latch",
     "keep the card inserted; if the reader loses it by itself, check the card latch"),
    ("ICC-ERROR", "card reader transmission error", _H, "card reader", "clean the contacts; replace the reader"),
    ("ICC-SLOW", "card reader response time above limit", _H, "card reader", "replace the card reader"),
    ("ICC-APP", "payment application could not be selected or read", _S, "card / kernel",
     "try another test card; update the EMV kernel"),
    ("CTLS-NO-CARD", "contactless: no card detected on tap", _H, "contactless antenna",
     "check the antenna cable; replace the contactless module"),
    ("MSR-NO-READ", "magstripe: swipe not read", _H, "magstripe head", "clean the magstripe head; replace it"),
    ("MSR-BAD-LRC", "magstripe: track LRC or format error", _H, "magstripe head",
     "clean the head and swipe again; replace the head if errors persist"),
    ("PRN-OFFLINE", "printer offline", _H, "printer mechanism", "check the printer cable and power"),
    ("PRN-COVER", "printer cover open", _H, "printer cover / cover sensor",
     "close the cover; if it is closed, replace the printer cover sensor"),
    ("PRN-PAPER-END", "printer out of paper", _K, "paper roll", "load a paper roll"),
    ("PRN-PAPER-NEAR-END", "printer paper near end", _K, "paper roll", "replace the paper roll soon"),
    ("PRN-CUTTER", "printer autocutter error", _H, "autocutter", "clear the jam; replace the autocutter"),
    ("PRN-HEAD-HOT", "printer head overheated", _H, "print head", "let it cool; replace the head if it recurs"),
    ("PRN-FATAL", "printer unrecoverable error", _H, "printer mechanism", "replace the printer mechanism"),
    ("PRN-SLOW", "printer throughput below limit", _H, "printer mechanism", "check the motor; replace the mechanism"),
    ("PRN-PRINT", "printed page rejected by the operator", _H, "print head", "clean the print head; replace it"),
    ("KEY-DEAD", "key never registered", _H, "keypad", "replace the keypad membrane"),
    ("KEY-STUCK", "key stuck down", _H, "keypad", "clean the keypad; replace the membrane"),
    ("KEY-BOUNCE", "key bounces (double events)", _H, "keypad", "replace the keypad membrane"),
    ("DSP-PIXELS", "display read-back mismatch (dead pixels)", _H, "display", "replace the display"),
    ("DSP-BACKLIGHT", "display backlight failure", _H, "display backlight", "replace the display"),
    ("DSP-REJECTED", "display pattern rejected by the operator", _H, "display", "replace the display"),
    # Seen at intake (bench/checks/intake.py): what only a person looking at the unit can tell.
    ("DSP-CRACKED", "screen cracked", _H, "display (glass / touch panel)", "replace the display assembly"),
    ("KEY-LOOSE", "keys missing or loose", _H, "keypad", "replace the keypad (membrane and keycaps)"),
    ("CASE-LOOSE", "housing loose, cracked or its clips broken", _H, "housing",
     "tighten the housing screws; replace the housing if it is cracked or a clip is broken"),
    ("PORT-DAMAGED", "power, reset or network port loose or damaged", _H, "I/O port board",
     "reseat the port board's connector; replace the port board if the socket is loose or bent"),
    ("CASE-LIQUID", "liquid damage", _H, "main board",
     "power off, open, clean and dry the boards, then test again; replace the main board if corrosion remains"),
    ("SEC-SEALS", "tamper-evident seals broken", _H, "housing seals",
     "do not open the unit further: read its tamper state; a unit opened outside an authorised repair goes "
     "back to the factory"),
    ("TXN-DECLINED", "test sale declined by the bench host", _C, "host behaviour / unit's terminal settings",
     "read the response code in the step: with the bench host set to approve, check the unit's terminal and "
     "merchant IDs and currency; a decline the behaviour file asks for is expected"),
    ("TXN-HOST-TIMEOUT", "no valid answer from the host in time (timed out, closed or garbage)", _H,
     "network module / host address", "check the host address the unit was given and its network cable or "
     "Wi-Fi; if the bench host's log shows the request and its answer, replace the unit's network module"),
    ("TXN-NETWORK", "test sale could not reach the host", _H, "network module / cable",
     "check the cable or Wi-Fi and run the comms step; if the link is up, replace the network module"),
    ("TXN-CARD-READ", "test sale: the card could not be read", _H, "card reader (chip, contactless or magstripe)",
     "the step names the card and its interface: clean that reader and run its card or magstripe steps; "
     "replace the reader if they fail too"),
    ("TXN-AMOUNT", "test sale: the amount entered or sent is not the amount keyed", _H, "keypad / payment firmware",
     "run the keypad step; if every key passes, reinstall the payment application"),
    ("TXN-PAPER-OUT", "test sale approved but no receipt: paper out", _K, "receipt paper roll",
     "load a paper roll and test again; if the roll is full, check the paper sensor"),
    ("TXN-PRINTER", "test sale approved but the receipt did not print", _H, "receipt printer",
     "run the printer steps; clean or replace the print mechanism"),
    ("TXN-REVERSAL-MISSING", "a timed-out sale was not reversed (the customer would be charged)", _S,
     "payment firmware", "update or reinstall the payment application; do not return the unit to service "
     "until a timed-out sale is reversed"),
    ("TXN-MALFORMED", "the bench host found the unit's ISO 8583 messages badly formed", _S, "payment firmware",
     "the step's evidence lists the host's findings (missing fields, reused STAN...); update or reinstall "
     "the payment application"),
    ("TXN-TIMEOUT", "the unit gave no result for a test sale in time", _H, "unit",
     "the step log names the last stage the sale reached (amount, card, online, print): test that part"),
    ("TXN-SLOW", "a stage of a test sale took longer than its limit", _H, "the slow stage's part",
     "card stage: the card reader; online: the network module; print: the printer; see the step's figures"),
    ("TXN-FAILURES", "test sales failed during the soak", _H, "the part the failure causes name",
     "read the soak's Failures by cause chart: card-read points at the reader, network at the network module, "
     "paper-out at the roll; test that part alone"),
    ("SOAK-DRIFT", "the unit drifted during the soak (latency, head temperature or battery)", _H,
     "the drifting part", "latency: network module or card reader; head temperature: print head; battery: "
     "battery or charging circuit; compare the first and last ten minutes in the report"),
    ("SOAK-INCOMPLETE", "the soak did not reach its end in time: the unit could not keep up", _H, "unit",
     "the report shows where sales fell behind their arrivals; test the slowest stage's part"),
    ("SOAK-FAILED", "the soak failed", _H, "unit", "see the soak's figures and charts"),
    ("BENCH-PORT", "serial port will not open", _B, "bench serial port / cable",
     "check the port name and that no other program holds it"),
    ("BENCH-CONFIG", "bench configuration error", _B, "station file", "fix the station file"),
    ("BENCH-INSTRUMENT", "bench instrument error (supply, multimeter, oscilloscope)", _B, "bench instrument",
     "check its address and cable, and the command and instrument error the step log names"),
    ("BENCH-ERROR", "bench equipment error", _B, "bench", "see the step log"),
    ("BENCH-NO-INSTRUMENT", "the station has no instrument for this step", _B, "none (not tested)",
     "test the unit on a station with the instrument (power supply, multimeter, oscilloscope)"),
    ("OP-NO-RESPONSE", "no operator response", _O, "operator", "repeat the step with an operator present"),
    ("RUN-ABORTED", "run interrupted before it finished", _O, "none (not tested)",
     "test again: the steps after the interruption did not run"),
    ("OP-SKIPPED", "step skipped by the operator", _O, "none (not tested)",
     "test again with every step: the unit is signed off only when every step ran and passed"),
    ("STEP-TIMEOUT", "step did not finish within its timeout", _H, "unit", "see the step log"),
    ("CFG-MISSING", "a setting the merchant needs is not set on the unit", _C, "unit configuration",
     "set it from the merchant's profile (after a return to factory: terminal id, merchant id, host, network)"),
    ("CFG-MISMATCH", "a setting differs from the merchant's profile", _C, "unit configuration",
     "set it as the merchant's profile says, or update the profile if the merchant changed it"),
    ("TEST-FAILED", "a test of the unit failed", _H, "the part the test exercises",
     "read the test's message and log; test that part alone"),
    ("TEST-ERROR", "a test crashed (an error in the test, not a verdict on the unit)", _B, "the test",
     "fix the test: its log shows the error; run it again"),
    ("TEST-SKIPPED", "a test was skipped", _O, "none (not tested)",
     "run every test: the unit is signed off only when every test ran and passed"),
)

FAULTS: dict[str, Fault] = {row[0]: Fault(*row) for row in _ROWS}


def lookup(code: str) -> Fault:
    """Return the fault for ``code``; an unknown code gets a generic hardware fault row."""
    fault = FAULTS.get(code)
    if fault is not None:
        return fault
    return Fault(code, f"fault {code}", Category.HARDWARE, "unknown", "see the step log")


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
