"""``bench case`` and ``bench run --case`` as a technician sees them: output, --json, exit codes, one-line errors."""

from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pytest
from pgcluster import create_database

import bench.cli.case as case_cli
from bench.cases.store import CaseStore
from bench.cli.main import main
from bench.store.engine import Store

PAN = "4111111111111111"
CASE_KEYS = {"case", "id", "serial", "model", "complaint", "customer_ref", "last_worked", "software_update",
             "opened_at", "opened_by", "status", "closed_at", "result", "close_reason"}
REPAIR_KEYS = {"id", "case", "at", "technician", "action", "part_number", "note"}
ONE_UNIT = ("--case needs a one-unit run: not with --units, --slot or a multi-up station (test the case's unit on "
            "its own)")
RUN_KEYS = {"run_id", "started_at", "ended_at", "verdict", "plan", "plan_version", "station", "serial", "faults"}


def bench(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the real CLI in this process: exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as ended:
        main(list(args))
    got = capsys.readouterr()
    return int(ended.value.code or 0), got.out, got.err


def one_error(err: str) -> str:
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def opened(capsys: pytest.CaptureFixture[str], tmp_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)  # closing writes the case report under ./reports/cases
    code, out, err = bench(capsys, "case", "open", "SN-1", "--complaint", f"chip cards not read, card {PAN}",
                           "--customer", "ACME-42", "--operator", "ana", "--db", tmp_db)
    assert (code, err) == (0, "")
    assert out == ("case C1 opened for unit SN-1: chip cards not read, card 411111******1111\n"
                   "test it: bench run PLAN --station FILE --case C1\n")
    return tmp_db


# --------------------------------------------------------------------------- open


def test_open_json(capsys: pytest.CaptureFixture[str], tmp_db: str) -> None:
    code, out, _ = bench(capsys, "case", "open", "SN-1", "--complaint", "dead", "--model", "PT-300",
                         "--last-worked", "Friday", "--software-update", "none", "--db", tmp_db, "--json")
    d = json.loads(out)
    assert code == 0 and set(d) == CASE_KEYS
    assert (d["case"], d["model"], d["last_worked"], d["software_update"], d["status"]) == (
        "C1", "PT-300", "Friday", "none", "open")


def test_open_twice_and_without_complaint_are_usage_errors(capsys: pytest.CaptureFixture[str], opened: str) -> None:
    code, out, err = bench(capsys, "case", "open", "SN-1", "--complaint", "again", "--db", opened)
    assert (code, out) == (2, "")
    assert one_error(err) == "bench: error: unit SN-1 already has an open case, C1: close it before opening another"
    code, _, err = bench(capsys, "case", "open", "SN-2", "--db", opened)
    assert code == 2 and "--complaint" in one_error(err)
    code, _, err = bench(capsys, "case", "open", "SN-2", "--complaint", " ", "--db", opened)
    assert code == 2 and one_error(err).startswith("bench: error: a case needs the customer's complaint")


def test_at_a_terminal_the_left_out_options_are_asked(capsys: pytest.CaptureFixture[str], tmp_db: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(case_cli, "interactive", lambda: True)
    monkeypatch.setattr("sys.stdin", io.StringIO("ACME-9\nlast week\n2.4.1 on Monday\n"))
    code, out, err = bench(capsys, "case", "open", "SN-1", "--complaint", "dead", "--model", "PT-300",
                           "--db", tmp_db, "--json")
    assert code == 0
    assert err == "Customer reference: When did it last work: Recent software updates: "  # --model was given
    d = json.loads(out)
    assert (d["customer_ref"], d["last_worked"], d["software_update"]) == ("ACME-9", "last week", "2.4.1 on Monday")
    monkeypatch.setattr("sys.stdin", io.StringIO(f"PT-500\nticket for card {PAN}\n\n\n"))
    code, out, err = bench(capsys, "case", "open", "SN-2", "--complaint", "dead", "--db", tmp_db, "--json")
    d = json.loads(out)
    assert code == 0 and err.startswith("Model (empty: from the unit): Customer reference: ")
    assert (d["model"], d["customer_ref"], d["last_worked"], d["software_update"]) == (
        "PT-500", "ticket for card 411111******1111", None, None)


def test_without_a_terminal_nothing_is_asked(capsys: pytest.CaptureFixture[str], tmp_db: str,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.StringIO("ACME-9\nlast week\n")
    monkeypatch.setattr("sys.stdin", stdin)
    code, out, _ = bench(capsys, "case", "open", "SN-1", "--complaint", "dead", "--db", tmp_db, "--json")
    d = json.loads(out)
    assert code == 0 and (d["customer_ref"], d["last_worked"], d["model"]) == (None, None, None)
    assert stdin.read() == "ACME-9\nlast week\n"  # untouched


# --------------------------------------------------------------------------- list, show


def test_list_and_its_filters(capsys: pytest.CaptureFixture[str], opened: str) -> None:
    bench(capsys, "case", "open", "SN-2", "--complaint", "screen cracked", "--db", opened)
    bench(capsys, "case", "close", "C2", "--unrepaired", "not worth repairing", "--db", opened)
    code, out, _ = bench(capsys, "case", "list", "--db", opened)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert lines[0].startswith("C1     open               SN-1             ?          opened ")
    assert lines[0].endswith("runs 0  chip cards not read, card 411111******1111")
    assert lines[1].startswith("C2     closed unrepaired  SN-2 ")
    for flags, want in ((["--open"], ["C1"]), (["--closed"], ["C2"]), (["--serial", "SN-2"], ["C2"]),
                        (["--open", "--serial", "SN-2"], [])):
        code, out, _ = bench(capsys, "case", "list", *flags, "--db", opened, "--json")
        got = json.loads(out)
        assert code == 0 and [c["case"] for c in got] == want
        assert all(set(c) == CASE_KEYS | {"runs"} for c in got)
    code, out, _ = bench(capsys, "case", "list", "--open", "--serial", "SN-2", "--db", opened)
    assert (code, out) == (0, "no cases\n")
    code, _, err = bench(capsys, "case", "list", "--open", "--closed", "--db", opened)
    assert code == 2 and one_error(err) == "bench: error: give --open or --closed, not both"


def test_show_text_and_json(capsys: pytest.CaptureFixture[str], opened: str) -> None:
    bench(capsys, "case", "repair", "C1", "--action", "replace", "--part", "CR-200", "--note",
          f"new reader, tested with {PAN}", "--technician", "bo", "--db", opened)
    code, out, _ = bench(capsys, "case", "show", "c1", "--db", opened)
    lines = out.splitlines()
    assert code == 0
    assert lines[:3] == ["case C1: unit SN-1, open", "complaint: chip cards not read, card 411111******1111",
                         "customer: ACME-42; last worked: -; software update: -"]
    assert lines[3].startswith("opened ") and lines[3].endswith(" UTC by ana")
    assert lines[4:6] == ["runs: none yet", "repairs (1):"]
    assert lines[6].endswith(" UTC  replace CR-200  by bo: new reader, tested with 411111******1111")
    assert lines[7:] == ["judgement: none: no runs yet", "plan: nothing to do (no open fault in the unit)"]
    code, out, _ = bench(capsys, "case", "show", "1", "--db", opened, "--json")
    d = json.loads(out)
    assert code == 0 and set(d) == CASE_KEYS | {"runs", "repairs", "judgement", "plan"}
    assert d["runs"] == [] and [set(r) for r in d["repairs"]] == [REPAIR_KEYS]
    assert (d["judgement"]["verdict"], d["judgement"]["findings"], d["plan"]["actions"]) == ("none", [], [])
    assert PAN not in out


@pytest.mark.parametrize(("args", "line"), [
    (["show", "C9"], "bench: error: no case C9 in the store (bench case list shows the cases)"),
    (["show", "x1"], "bench: error: 'x1' is not a case id: give it as C<number>, e.g. C12"),
    (["repair", "C9", "--action", "clean", "--note", "x"], "bench: error: no case C9 in the store (bench case list shows the cases)"),
    (["close", "C9"], "bench: error: no case C9 in the store (bench case list shows the cases)"),
    (["repair", "C1", "--action", "replace", "--note", "x"],
     "bench: error: --action replace needs --part PN (the part number fitted)"),
])
def test_usage_errors_exit_2_in_one_line(capsys: pytest.CaptureFixture[str], opened: str, args: list[str],
                                         line: str) -> None:
    code, out, err = bench(capsys, "case", *args, "--db", opened)
    assert (code, out, one_error(err)) == (2, "", line)


def test_an_unknown_action_is_a_usage_error(capsys: pytest.CaptureFixture[str], opened: str) -> None:
    code, _, err = bench(capsys, "case", "repair", "C1", "--action", "polish", "--note", "x", "--db", opened)
    assert code == 2 and "'polish' is not one of 'replace', 'reseat'" in one_error(err)


# --------------------------------------------------------------------------- repair, close


def test_repair_json(capsys: pytest.CaptureFixture[str], opened: str) -> None:
    code, out, _ = bench(capsys, "case", "repair", "C1", "--action", "reseat", "--note", "reseated the flex",
                         "--db", opened)
    assert code == 0 and out.startswith("case C1: recorded reseat by ")
    code, out, _ = bench(capsys, "case", "repair", "C1", "--action", "return-to-factory", "--note", "RMA 7781",
                         "--technician", "bo", "--db", opened, "--json")
    d = json.loads(out)
    assert code == 0 and set(d) == REPAIR_KEYS and (d["id"], d["action"], d["technician"]) == (2, "return-to-factory", "bo")


def test_close_without_a_passing_run_exits_1_and_stays_open(capsys: pytest.CaptureFixture[str], opened: str) -> None:
    code, out, err = bench(capsys, "case", "close", "C1", "--db", opened)
    assert (code, out) == (1, "")
    assert one_error(err) == ("bench: case C1 cannot close as repaired: it has no judged run; test the unit until a "
                              "run passes (bench run PLAN --case C1), or close it with --unrepaired REASON")
    code, out, _ = bench(capsys, "case", "close", "C1", "--unrepaired", "customer declined the quote", "--db", opened)
    assert (code, out) == (0, "case C1 closed: unrepaired (customer declined the quote)\n"
                                 "case report: reports/cases/C1/case.html\n")
    assert sorted(p.name for p in Path("reports/cases/C1").iterdir()) == ["case.html", "case.json", "case.md"]
    code, out, err = bench(capsys, "case", "close", "C1", "--db", opened)
    assert (code, out, one_error(err)) == (
        2, "", "bench: error: case C1 is closed (unrepaired); open a new case for unit SN-1")
    code, _, err = bench(capsys, "case", "repair", "C1", "--action", "clean", "--note", "x", "--db", opened)
    assert code == 2 and "case C1 is closed" in one_error(err)


def test_close_json_of_a_returned_unit(capsys: pytest.CaptureFixture[str], opened: str) -> None:
    bench(capsys, "case", "repair", "C1", "--action", "return-to-factory", "--note", "RMA 7781", "--db", opened)
    code, out, _ = bench(capsys, "case", "close", "C1", "--db", opened, "--json")
    d = json.loads(out)
    assert code == 0 and set(d) == CASE_KEYS | {"report"} and d["report"] == "reports/cases/C1"
    assert (d["status"], d["result"], d["close_reason"]) == ("closed", "returned", "returned to the factory: RMA 7781")


# --------------------------------------------------------------------------- bench run --case


@pytest.mark.slow
def test_runs_join_the_case_and_it_closes_repaired(capsys: pytest.CaptureFixture[str], opened: str,
                                                   tmp_path: Path) -> None:
    report = str(tmp_path / "r")
    code, out, err = bench(capsys, "run", "pos-quick", "--sim", "--scenario", "battery-low", "--case", "C1",
                           "--db", opened, "--report", report)
    assert code == 1 and out.splitlines()[-1] == "Case C1", err
    code, out, _ = bench(capsys, "case", "close", "C1", "--db", opened)
    assert code == 1
    code, out, _ = bench(capsys, "case", "show", "C1", "--db", opened)
    shown_lines = out.splitlines()
    at = shown_lines.index("judgement: consumable: battery charge or voltage too low -> battery")
    assert shown_lines[at + 1].split() == ["1.", "PWR-BATT-LOW", "consumable", "severity", "4", "battery;", "open:",
                                           "battery", "charge", "or", "voltage", "too", "low"]
    assert shown_lines[at + 2] == "plan (2 action(s)):"
    assert shown_lines[at + 3] == "  1. charge the battery and test again, 10 min: PWR-BATT-LOW"
    assert shown_lines[at + 4].startswith("  2. replace the battery pack 7.4 V 2-cell [PT3-BAT-15 26.00 EUR], 10 min "
                                          "(only if the fault persists)")
    code, out, _ = bench(capsys, "case", "show", "C1", "--db", opened, "--json")
    shown = json.loads(out)
    assert shown["judgement"]["verdict"] == "consumable"
    assert [(f["fault"], f["kind"], f["part"], f["severity"], f["resolved"]) for f in shown["judgement"]["findings"]] == [
        ("PWR-BATT-LOW", "consumable", "battery", 4, False)]
    assert [(a["order"], a["kind"], a["part_number"]) for a in shown["plan"]["actions"]] == [
        (1, "other", None), (2, "replace", "PT3-BAT-15")]
    assert shown["plan"]["first_pass_minutes"] == 10 and shown["plan"]["return_to_factory"] is None
    bench(capsys, "case", "repair", "C1", "--action", "replace", "--part", "BAT-7", "--note", "new battery",
          "--db", opened)
    code, out, _ = bench(capsys, "run", "pos-quick", "--sim", "--case", "C1", "--db", opened, "--report", report,
                         "--json")
    rec = json.loads(out)
    assert (code, rec["verdict"], rec["case"], rec["case_note"], rec["unit"]["serial"]) == (0, "PASS", "C1", None, "SN-1")
    code, out, _ = bench(capsys, "case", "show", "C1", "--db", opened, "--json")
    shown = json.loads(out)
    assert shown["model"] == "PT-300"  # learnt from the unit
    assert [(r["verdict"], r["faults"]) for r in shown["runs"]] == [("FAIL", ["PWR-BATT-LOW"]), ("PASS", [])]
    assert all(set(r) == RUN_KEYS for r in shown["runs"])
    code, out, _ = bench(capsys, "case", "show", "C1", "--db", opened)
    assert " FAIL       pos-quick 1.0  PWR-BATT-LOW" in out and PAN not in out
    code, out, _ = bench(capsys, "case", "close", "C1", "--db", opened, "--out", str(tmp_path / "case"))
    assert (code, out) == (0, f"case C1 closed: repaired\ncase report: {tmp_path / 'case' / 'case.html'}\n")


@pytest.mark.slow
def test_a_run_of_another_unit_is_stored_but_not_attached(capsys: pytest.CaptureFixture[str], opened: str,
                                                          tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from drivers.sim.scenario import SimDevices

    real = SimDevices.with_serial
    monkeypatch.setattr(SimDevices, "with_serial", lambda self, serial: real(self, "SN-OTHER"))
    code, out, err = bench(capsys, "run", "pos-quick", "--sim", "--case", "C1", "--db", opened,
                           "--report", str(tmp_path / "r"))
    assert code == 0  # the unit passed; the case is another matter
    line = one_error(err)
    assert line.startswith("bench: the unit tested is SN-OTHER, not SN-1: run ")
    assert line.endswith(" is stored but not attached to case C1")
    assert "Case C1" not in out
    with Store.open(opened) as store:
        run = store.latest_run()
        assert run is not None and CaseStore(store).run_ids(1) == []
    assert line == f"bench: the unit tested is SN-OTHER, not SN-1: run {run.run_id[:8]} is stored but not attached to case C1"


@pytest.mark.parametrize(("args", "line"), [
    (["--case", "C9"], "bench: error: no case C9 in the store (bench case list shows the cases)"),
    (["--case", "nine"], "bench: error: 'nine' is not a case id: give it as C<number>, e.g. C12"),
    (["--case", "C1", "--units", "2"], f"bench: error: {ONE_UNIT}"),
    (["--case", "C1", "--units", "1"], f"bench: error: {ONE_UNIT}"),
])
def test_run_case_usage_errors_before_anything_runs(capsys: pytest.CaptureFixture[str], opened: str,
                                                    tmp_path: Path, args: list[str], line: str) -> None:
    code, out, err = bench(capsys, "run", "pos-quick", "--sim", *args, "--db", opened, "--report", str(tmp_path / "r"))
    assert (code, out, one_error(err)) == (2, "", line)
    with Store.open(opened) as store:
        assert store.latest_run() is None


def test_run_for_a_closed_case_is_refused(capsys: pytest.CaptureFixture[str], opened: str, tmp_path: Path) -> None:
    bench(capsys, "case", "close", "C1", "--unrepaired", "withdrawn", "--db", opened)
    code, out, err = bench(capsys, "run", "pos-quick", "--sim", "--case", "C1", "--db", opened,
                           "--report", str(tmp_path / "r"))
    assert (code, out, one_error(err)) == (
        2, "", "bench: error: case C1 is closed (unrepaired); open a new case for unit SN-1")
    with Store.open(opened) as store:
        assert store.latest_run() is None


# --------------------------------------------------------------------------- PostgreSQL


@pytest.mark.slow
def test_bench_case_on_postgresql(capsys: pytest.CaptureFixture[str], pg_url: str, tmp_path: Path) -> None:
    db = create_database(pg_url, f"t_{uuid.uuid4().hex[:12]}")
    assert bench(capsys, "case", "open", "SN-1", "--complaint", f"declined {PAN}", "--db", db)[0] == 0
    code, out, _ = bench(capsys, "run", "pos-quick", "--sim", "--case", "C1", "--db", db,
                         "--report", str(tmp_path / "r"))
    assert code == 0 and out.splitlines()[-1] == "Case C1"
    assert bench(capsys, "case", "repair", "C1", "--action", "clean", "--note", "contacts", "--db", db)[0] == 0
    code, out, _ = bench(capsys, "case", "show", "C1", "--db", db, "--json")
    d = json.loads(out)
    assert (len(d["runs"]), len(d["repairs"]), d["complaint"]) == (1, 1, "declined 411111******1111")
    assert bench(capsys, "case", "close", "C1", "--db", db, "--out", str(tmp_path / "c")) == (
        0, f"case C1 closed: repaired\ncase report: {tmp_path / 'c' / 'case.html'}\n", "")
    assert json.loads((tmp_path / "c" / "case.json").read_text())["result"]["result"] == "repaired"


def test_the_cli_offers_every_repair_action() -> None:
    from bench.cases.model import ACTIONS

    assert case_cli._ACTIONS == ACTIONS  # kept apart so `bench --help` does not import the cases package
