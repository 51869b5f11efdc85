"""The fault table: every code a printer condition maps to is in it, most specific condition first."""

from __future__ import annotations

import dataclasses

import pytest

from bench.faults import FAULTS, PRINTER_CONDITIONS, printer_fault
from drivers.interfaces import PrinterStatus


def test_every_printer_condition_is_a_status_flag_with_a_fault_in_the_table() -> None:
    flags = {f.name for f in dataclasses.fields(PrinterStatus)}
    for condition, code in PRINTER_CONDITIONS:
        assert condition in flags
        assert code in FAULTS, code


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (PrinterStatus(), None),
        (PrinterStatus(offline=True), "PRN-OFFLINE"),
        (PrinterStatus(offline=True, cover_open=True), "PRN-COVER"),
        (PrinterStatus(offline=True, paper_end=True, stopped_by_paper_end=True), "PRN-PAPER-END"),
        (PrinterStatus(paper_near_end=True), "PRN-PAPER-NEAR-END"),
        (PrinterStatus(offline=True, auto_recoverable_error=True, error=True), "PRN-HEAD-HOT"),
        (PrinterStatus(offline=True, unrecoverable_error=True, error=True), "PRN-FATAL"),
        (PrinterStatus(offline=True, cutter_error=True, error=True), "PRN-CUTTER"),
        (PrinterStatus(feed_button=True, paper_feeding=True), None),
        (PrinterStatus(cover_open=True, paper_end=True, paper_near_end=True), "PRN-COVER"),
    ],
)
def test_the_most_specific_condition_is_the_fault(status: PrinterStatus, code: str | None) -> None:
    assert printer_fault(status.conditions) == code


def test_paper_near_end_counts_only_when_asked() -> None:
    assert printer_fault(["paper_near_end"], near_end=False) is None
    assert printer_fault(["offline", "paper_near_end"], near_end=False) == "PRN-OFFLINE"
