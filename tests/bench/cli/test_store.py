"""bench history / trend / stats / report on hand-built stores, the drift rule, and one real run."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from stored import store_run

from bench.cli import cli
from bench.cli.store import parse_since
from bench.measure import Limit, Measurement
from bench.record import Finding, Outcome, RunRecord, StepRecord, UnitInfo, Verdict
from bench.reports.format import drift, outside
from bench.reports.render import write_reports
from bench.store.engine import Store

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC)
VOLT = Limit(min=7.0, max=8.6, unit="V", fault="PWR-BATT-LOW")
FW = Limit(equals=True, fault="FW-OUTDATED")


def make_run(n: int, serial: str, *, voltage: float = 7.9, fw_ok: bool = True, model: str = "PT-300",
             station: str = "bench-7", duration: float = 10.0) -> RunRecord:
    """Run number ``n`` (its start is n hours after T0) of one unit: battery and firmware steps."""
    started = T0 + timedelta(hours=n)
    v_ok = VOLT.min <= voltage <= VOLT.max  # type: ignore[operator]
    steps = [
        StepRecord(0, "battery", "power.battery", Outcome.PASS if v_ok else Outcome.FAIL, started, 0.5,
                   fault=None if v_ok else "PWR-BATT-LOW",
                   measurements=[Measurement("voltage", voltage, "V", VOLT, v_ok, None if v_ok else "PWR-BATT-LOW")]),
        StepRecord(1, "firmware", "unit.identify", Outcome.PASS if fw_ok else Outcome.FAIL,
                   started + timedelta(seconds=1), 0.1, fault=None if fw_ok else "FW-OUTDATED",
                   measurements=[Measurement("firmware_current", fw_ok, None, FW, fw_ok,
                                             None if fw_ok else "FW-OUTDATED")]),
    ]
    faults = [s.fault for s in steps if s.fault]
    return RunRecord(
        run_id=f"{n:08d}-0000-4000-8000-{serial.replace('-', '').lower()[:12]:0>12}", plan_name="pos-full",
        plan_version="1.0", plan_hash="12" * 32, station=station, operator="ana", started_at=started,
        ended_at=started + timedelta(seconds=duration), verdict=Verdict.FAIL if faults else Verdict.PASS,
        unit=UnitInfo(model, serial, "C", "2.4.1"), steps=steps,
        findings=[Finding(f, f"fault {f}", "hardware", "part", "action", True, []) for f in faults],
        summary="fail" if faults else "all steps passed", bench_version="0.1.0",
    )


def store_runs(url: str, *runs: RunRecord) -> None:
    """Persist records the way the runner does."""
    with Store.open(url) as store:
        for rec in runs:
            store_run(store, rec)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def bench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


# --------------------------------------------------------------------------- history


def test_history_newest_first_with_last_pass(tmp_db: str) -> None:
    store_runs(tmp_db, make_run(1, "PT3-000123", voltage=3.4), make_run(2, "PT3-000123"),
               make_run(3, "PT3-000123", fw_ok=False), make_run(4, "OTHER-1"))
    code, out = invoke("history", "PT3-000123", "--db", tmp_db)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "PT3-000123 (PT-300): 3 run(s), newest first (UTC)"
    assert [ln.split()[1] for ln in lines[1:4]] == ["11:00:00", "10:00:00", "09:00:00"]
    assert "FAIL" in lines[1] and "FW-OUTDATED" in lines[1] and "PASS" in lines[2] and "PWR-BATT-LOW" in lines[3]
    assert lines[4] == "last passed on 2024-05-01 10:00:00 UTC (run 00000002, pos-full 1.0, station bench-7)"
    code, out = invoke("history", "PT3-000123", "--limit", "1", "--json", "--db", tmp_db)
    data = json.loads(out)
    assert [r["run_id"][:8] for r in data["runs"]] == ["00000003"]
    assert data["last_pass"]["run_id"].startswith("00000002")


def test_history_never_passed_and_unknown_serial(tmp_db: str) -> None:
    store_runs(tmp_db, make_run(1, "PT3-9", voltage=3.0))
    code, out = invoke("history", "PT3-9", "--db", tmp_db)
    assert code == 0 and out.splitlines()[-1] == "never passed on record"
    code, out = invoke("history", "NO-SUCH", "--db", tmp_db)
    assert (code, out) == (0, "no runs on record for serial NO-SUCH\n")
    code, out = invoke("history", "NO-SUCH", "--json", "--db", tmp_db)
    assert code == 0 and json.loads(out) == {"serial": "NO-SUCH", "runs": [], "last_pass": None}


# --------------------------------------------------------------------------- drift and trend


def test_drift_rule() -> None:
    # mean of the last five within 10 % of the span (0.16 V) of min 7
    assert drift([8.0, 7.9, 7.2, 7.1, 7.15, 7.1, 7.12], 7.0, 8.6).kind == "near-min"
    assert drift([8.4, 8.5, 8.5, 8.55, 8.5], 7.0, 8.6).kind == "near-max"
    # falling five runs in a row, about to reach min 7 (not yet near it)
    falling = drift([8.2, 8.0, 7.8, 7.6, 7.4], 7.0, 8.6)
    assert falling.warning and falling.kind == "trend-to-min" and "~2 runs" in falling.message
    # one-sided limit: no span, only the trend counts
    assert drift([60, 50, 40, 30, 25], 20, None).kind == "trend-to-min"
    assert drift([0, 0, 0, 0, 0], None, 0).kind == "none"  # a counter sitting at max 0 is fine
    # stable, noisy, or falling too slowly to matter: no warning
    assert not drift([7.9, 7.95, 7.9, 7.92, 7.9, 7.91], 7.0, 8.6).warning
    assert not drift([8.0, 7.7, 8.1, 7.8, 8.0], 7.0, 8.6).warning
    assert not drift([8.05, 8.04, 8.03, 8.02, 8.01], 7.0, 8.6).warning
    assert drift([3.4, 7.9, 3.3], 7.0, 8.6).kind == "out-of-limits"
    assert drift([7.9, 3.4, 7.9], 7.0, 8.6).message == "mean of last 3 (6.4) below min 7"
    assert drift([7.9, 7.1], 7.0, 8.6).kind == "too-few"
    assert drift([1.0, 2.0, 3.0], None, None).kind == "none"


def test_trend_warns_on_a_series_approaching_a_limit(tmp_db: str) -> None:
    values = [8.3, 8.2, 8.0, 7.8, 7.6, 7.4]
    store_runs(tmp_db, *(make_run(i, "PT3-1", voltage=v) for i, v in enumerate(values)),
               *(make_run(10 + i, "PT3-2", voltage=v) for i, v in enumerate([7.9, 7.95, 7.9, 7.92, 7.9])))
    code, out = invoke("trend", "voltage", "--serial", "PT3-1", "--db", tmp_db)
    assert code == 0
    assert out.splitlines()[0] == "voltage (serial PT3-1): last 6 value(s), limits 7 ≤ x ≤ 8.6 V"
    assert "DRIFT WARNING (trend-to-min)" in out
    code, out = invoke("trend", "voltage", "--serial", "PT3-2", "--db", tmp_db)
    assert code == 0 and "DRIFT WARNING" not in out and "no drift: stable within limits" in out
    code, out = invoke("trend", "voltage", "--serial", "PT3-1", "--limit", "2", "--json", "--db", tmp_db)
    data = json.loads(out)
    assert [p["value"] for p in data["points"]] == [7.6, 7.4]
    assert data["drift"]["kind"] == "too-few" and data["limit_min"] == 7.0
    code, out = invoke("trend", "nothing", "--db", tmp_db)
    assert (code, out) == (0, "no numeric values of 'nothing' on record\n")


def test_trend_never_says_within_limits_under_a_value_that_is_not(tmp_db: str) -> None:
    """Rows marked out of limits, or outside the newest limits they were not judged by, are never "stable"."""
    older_plan = make_run(0, "PT3-7", voltage=3.4)  # passed an older plan's min 3 V; today's is 7 V
    older_plan.steps[0].measurements[0] = Measurement("voltage", 3.4, "V", Limit(min=3.0, unit="V"), True)
    older_plan.steps[0].outcome, older_plan.steps[0].fault, older_plan.verdict = Outcome.PASS, None, Verdict.PASS
    # The low value is shown, but older than the last five the drift rules look at.
    store_runs(tmp_db, *(make_run(i, "PT3-6", voltage=v) for i, v in enumerate([7.9, 3.4, 7.9, 7.95, 7.9, 7.9, 7.9])),
               older_plan, *(make_run(10 + i, "PT3-7", voltage=v) for i, v in enumerate([7.9, 7.95, 7.9, 7.9, 7.9, 7.9])))
    for serial, marked in (("PT3-6", [False, True, False, False, False, False, False]),
                           ("PT3-7", [True, False, False, False, False, False, False])):
        code, out = invoke("trend", "voltage", "--serial", serial, "--db", tmp_db)
        assert code == 0
        rows = [ln for ln in out.splitlines() if ln.startswith("  20")]
        assert [ln.endswith("<< out of limits") for ln in rows] == marked
        assert "3.4 V" in next(ln for ln in rows if ln.endswith("<< out of limits"))
        assert "within limits" not in out.replace("latest value within limits", "")
        assert out.splitlines()[-1] == "no drift: latest value within limits, but 1 of the 7 values shown is not (3.4)"
        data = json.loads(invoke("trend", "voltage", "--serial", serial, "--json", "--db", tmp_db)[1])
        assert data["drift"] == {"warning": False, "kind": "was-out-of-limits",
                                 "message": out.splitlines()[-1].removeprefix("no drift: ")}


@given(st.lists(st.tuples(st.floats(-100, 100), st.booleans()), min_size=1, max_size=25),
       st.one_of(st.none(), st.floats(-100, 100)), st.one_of(st.none(), st.floats(-100, 100)))
def test_drift_within_limits_is_true_of_every_value_given(points: list[tuple[float, bool]], lo: float | None,
                                                           hi: float | None) -> None:
    values, passed = [v for v, _ in points], [ok for _, ok in points]
    judged = drift(values, lo, hi, passed)
    if "within limits" in judged.message:
        claimed = values if judged.message == "stable within limits" else values[-1:]
        oks = passed if judged.message == "stable within limits" else passed[-1:]
        assert not any(outside(v, lo, hi, ok) for v, ok in zip(claimed, oks, strict=True))


# --------------------------------------------------------------------------- stats


def test_stats_yield_and_pareto(tmp_db: str) -> None:
    store_runs(
        tmp_db,
        make_run(1, "A", voltage=3.0, duration=10),                  # A fails first, then passes
        make_run(2, "A", duration=20),
        make_run(3, "B", duration=30),                               # B passes first time
        make_run(4, "C", voltage=3.0, fw_ok=False, duration=40),     # C fails twice
        make_run(5, "C", fw_ok=False, station="bench-8", duration=50),
        make_run(6, "D", model="PT-500", duration=60),
    )
    code, out = invoke("stats", "--json", "--db", tmp_db)
    data = json.loads(out)
    assert data["runs"] == 6 and data["units"] == 4
    assert data["first_pass_yield"] == pytest.approx(0.5)
    assert data["failures_by_fault"] == [{"fault": "FW-OUTDATED", "count": 2}, {"fault": "PWR-BATT-LOW", "count": 2}]
    assert data["mean_duration_s"] == pytest.approx(35.0)
    code, out = invoke("stats", "--db", tmp_db)
    assert code == 0
    assert "first-pass yield: 50.0% (2 of 4 units passed their first run)" in out
    assert "mean time per run: 35.0 s" in out
    pareto = out.split("(pareto; FAIL runs showing each code):\n")[1].splitlines()
    assert pareto[0].split()[:2] == ["FW-OUTDATED", "2"] and pareto[1].split()[:2] == ["PWR-BATT-LOW", "2"]
    assert "cum 100%" in pareto[1]
    data = json.loads(invoke("stats", "--model", "PT-500", "--json", "--db", tmp_db)[1])
    assert (data["runs"], data["first_pass_yield"]) == (1, 1.0)
    data = json.loads(invoke("stats", "--station", "bench-8", "--json", "--db", tmp_db)[1])
    assert data["runs"] == 1 and data["failures_by_fault"] == [{"fault": "FW-OUTDATED", "count": 1}]
    data = json.loads(invoke("stats", "--since", "2024-05-01T12:30", "--json", "--db", tmp_db)[1])
    assert data["runs"] == 2


def test_stats_an_interrupted_first_run_does_not_count_against_first_pass_yield(tmp_db: str) -> None:
    aborted = make_run(1, "A")
    aborted.verdict, aborted.summary = Verdict.ABORTED, "interrupted by SIGTERM (kill, a service stop or a shutdown)"
    store_runs(tmp_db, aborted, make_run(2, "A"), make_run(3, "B", voltage=3.0))
    for args in ((), ("--since", "2024-05-01")):
        code, out = invoke("stats", *args, "--db", tmp_db)
        assert code == 0
        assert "first-pass yield: 50.0% (1 of 2 units passed their first run)" in out, args
        assert "verdicts: ABORTED 1, FAIL 1, PASS 1" in out


def test_parse_since() -> None:
    assert parse_since("2024-05-01") == datetime(2024, 5, 1, tzinfo=UTC)
    assert abs((datetime.now(UTC) - parse_since("7d")) - timedelta(days=7)) < timedelta(seconds=5)
    code, out = invoke("stats", "--since", "last tuesday")
    assert code == 2 and "--since" in out


# --------------------------------------------------------------------------- report


def test_report_rerenders_a_stored_run(tmp_db: str, tmp_path: Path) -> None:
    rec = make_run(1, "PT3-000123", voltage=3.4)
    store_runs(tmp_db, make_run(0, "PT3-000123"), rec)
    # what `bench run` writes at run time ...
    with Store.open(tmp_db) as store:
        written = write_reports(rec, tmp_path / "run", ["json", "html", "junit"], store)
    # ... equals what the store gives back later
    code, out = invoke("report", rec.run_id[:8], "--format", "json", "--db", tmp_db)
    assert code == 0 and out == written["json"].read_text("utf-8")
    assert json.loads(out) == rec.to_dict()
    code, html1 = invoke("report", rec.run_id, "--db", tmp_db)
    code, html2 = invoke("report", "latest", "--format", "html", "--db", tmp_db)
    assert html1 == html2 == written["html"].read_text("utf-8")
    code, junit = invoke("report", "latest", "--format", "junit", "--db", tmp_db)
    assert junit == written["junit"].read_text("utf-8")
    code, out = invoke("report", "latest", "--format", "rma", "--out", str(tmp_path), "--json", "--db", tmp_db)
    files = json.loads(out)["files"]
    assert sorted(files) == ["rma.json", "rma.md"]
    assert "| Last passed on this bench | 2024-05-01 08:00:00 UTC" in Path(files["rma.md"]).read_text("utf-8")
    code, out = invoke("report", "latest", "--format", "rma-json", "--json", "--db", tmp_db)
    assert json.loads(out)["content"]["unit"]["serial"] == "PT3-000123"


def test_report_unknown_run_is_a_one_line_usage_error(tmp_db: str) -> None:
    store_runs(tmp_db, make_run(1, "PT3-1"))
    proc = bench("report", "ffffffff", "--db", tmp_db)
    assert proc.returncode == 2
    assert proc.stderr == "bench: error: no run 'ffffffff' in the store\n"
    proc = bench("report", "latest", "--db", f"sqlite:///{Path(tmp_db[10:]).parent / 'empty.db'}")
    assert proc.returncode == 2 and proc.stderr == "bench: error: the store has no runs yet\n"


def test_help_does_not_import_the_store() -> None:
    code = ("import sys; from bench.cli import cli; "
            "print(any(m.startswith(('sqlalchemy', 'bench.store', 'bench.reports')) for m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "False", proc.stderr
    out = bench("--help").stdout
    for cmd in ("history", "trend", "stats", "report"):
        assert cmd in out


def test_history_and_trend_on_a_current_sqlite_store_skip_sqlalchemy(tmp_db: str, tmp_path: Path) -> None:
    store_runs(tmp_db, make_run(1, "SN-1", voltage=7.8), make_run(2, "SN-1", voltage=6.5))
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sys\n"
        "from bench.cli import main\n"
        "try:\n"
        "    main()\n"
        "finally:\n"
        "    print('SQLALCHEMY' if 'sqlalchemy' in sys.modules else 'LIGHT', file=sys.stderr)\n"
    )
    for args, shown in ((["history", "SN-1"], "last passed on 2024-05-01 09:00:00 UTC"),
                        (["trend", "voltage", "--serial", "SN-1"], "6.5")):
        proc = subprocess.run([sys.executable, str(probe), *args, "--db", tmp_db], cwd=ROOT, capture_output=True,
                              text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert shown in proc.stdout
        assert proc.stderr.strip().endswith("LIGHT"), proc.stderr
    # a store this bench has never opened goes through the full store (which creates it)
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    proc = subprocess.run([sys.executable, str(probe), "history", "SN-1", "--db", fresh], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "no runs on record for serial SN-1" in proc.stdout
    assert proc.stderr.strip().endswith("SQLALCHEMY")


# --------------------------------------------------------------------------- the real thing


@pytest.mark.slow
def test_real_run_then_report_and_history(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'bench.db'}"
    proc = bench("run", "testplans/pos-full.yaml", "--sim", "--scenario", "battery-low", "--db", db,
                 "--report", str(tmp_path / "reports"), timeout=300)
    assert proc.returncode == 1, proc.stderr
    (folder,) = (tmp_path / "reports").iterdir()
    for fmt, check in (("html", "PWR-BATT-LOW"), ("junit", 'type="PWR-BATT-LOW"'), ("rma", "never on record")):
        out = tmp_path / f"out.{fmt}"
        proc = bench("report", "latest", "--format", fmt, "--out", str(out), "--db", db)
        assert proc.returncode == 0, proc.stderr
        assert check in out.read_text("utf-8"), fmt
    assert "<script" not in (tmp_path / "out.html").read_text("utf-8")
    proc = bench("report", "latest", "--format", "json", "--db", db)
    assert json.loads(proc.stdout) == json.loads((folder / "run.json").read_text("utf-8"))
    proc = bench("history", "PT3-000123", "--db", db)
    assert proc.returncode == 0
    assert "FAIL" in proc.stdout and "PWR-BATT-LOW" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "never passed on record"


def test_unknown_synchronous_level_is_a_one_line_usage_error(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}?synchronous=fast"
    for args in (["history", "SN-1"], ["stats"], ["run", "testplans/pos-quick.yaml", "--sim"]):
        proc = bench(*args, "--db", url)
        assert proc.returncode == 2, proc.stderr
        assert proc.stderr == (f"bench: error: bad store URL {url!r}: synchronous=fast "
                               "(expected one of: full, normal, extra, off; default full)\n")
    assert not (tmp_path / "b.db").exists()  # refused before anything was opened or run


def test_runs_left_open_by_another_host_are_closed_only_when_told(tmp_db: str) -> None:
    import sqlalchemy as sa

    from bench.store.engine import parse_url

    left = make_run(1, "PT3-000777")
    left.verdict, left.ended_at = Verdict.RUNNING, None
    store_runs(tmp_db, left)
    engine = sa.create_engine(parse_url(tmp_db))
    with engine.begin() as conn:  # a bench PC that died mid-run, sharing this store
        conn.execute(sa.text("UPDATE runs SET hostname = 'bench-9', pid = 1"))
    engine.dispose()
    code, out = invoke("history", "PT3-000777", "--db", tmp_db)
    assert code == 0 and " RUNNING " in out  # this host cannot know that bench-9 is gone
    code, out = invoke("runs", "open", "--db", tmp_db)
    assert code == 0 and left.run_id in out and "host bench-9" in out
    done = bench("runs", "abandon", "--host", "bench-9", "--db", tmp_db, "--json")
    assert done.returncode == 0 and json.loads(done.stdout) == {"host": "bench-9", "aborted": [left.run_id]}
    assert left.run_id in done.stderr  # the warning says which run was marked
    code, out = invoke("history", "PT3-000777", "--db", tmp_db, "--json")
    assert [r["verdict"] for r in json.loads(out)["runs"]] == ["ABORTED"]
    assert invoke("runs", "open", "--db", tmp_db)[1] == "no runs are open\n"
    assert invoke("runs", "abandon", "--host", "bench-9", "--db", tmp_db)[1].startswith("marked ABORTED: 0 run(s)")


# --------------------------------------------------------------------------- verdicts that must not lie

DECLINABLE = """\
plan: declinable
version: "1.0"
steps:
  - name: identify
    check: unit.identify
  - name: battery
    check: power.battery
    prompt: "Is the battery tester connected?"
  - name: battery-again
    check: power.battery
    requires: [battery]
"""


@pytest.mark.slow
def test_a_run_whose_steps_the_operator_declined_is_incomplete_everywhere(tmp_path: Path) -> None:
    """Declined prompts: not PASS, not "all steps passed", exit 1; history, stats, JUnit and run.json agree."""
    import jsonschema

    plan = tmp_path / "plan.yaml"
    plan.write_text(DECLINABLE)
    (tmp_path / "no.yaml").write_text('answers: {"*": false}\n')
    (tmp_path / "yes.yaml").write_text('answers: {"*": true}\n')
    db = f"sqlite:///{tmp_path / 'bench.db'}"
    junit = tmp_path / "junit.xml"
    proc = bench("run", str(plan), "--sim", "--operator-script", str(tmp_path / "no.yaml"), "--db", db,
                 "--report", str(tmp_path / "reports"), "--junit", str(junit))
    assert proc.returncode == 1, proc.stderr
    verdict = next(line for line in proc.stdout.splitlines() if line.startswith("Verdict:"))
    assert verdict == ("Verdict: INCOMPLETE  (1 pass, 2 skip)  not signed off: the operator skipped battery "
                       "(so battery-again did not run) -> test again with every step")
    assert "all steps passed" not in proc.stdout
    assert "OP-SKIPPED" in proc.stdout
    (folder,) = (tmp_path / "reports").iterdir()
    record = json.loads((folder / "run.json").read_text("utf-8"))
    jsonschema.validate(record, json.loads((ROOT / "docs" / "run-record.schema.json").read_text("utf-8")))
    assert record["verdict"] == "INCOMPLETE"
    assert [(s["outcome"], s["fault"]) for s in record["steps"]] == [("PASS", None), ("SKIP", "OP-SKIPPED"),
                                                                     ("SKIP", None)]
    xml = junit.read_text("utf-8")
    assert 'failures="1"' in xml and 'type="RUN-INCOMPLETE"' in xml  # CI does not show it green
    rma = bench("report", "latest", "--format", "rma", "--db", db).stdout
    assert "**Verdict: INCOMPLETE**" in rma and "the unit is not signed off: not tested: battery." in rma
    history = bench("history", "PT3-000123", "--db", db).stdout.splitlines()
    assert "INCOMPLETE" in history[1] and "OP-SKIPPED" in history[1]
    assert history[-1] == "never passed on record"
    stats = bench("stats", "--db", db).stdout
    assert "first-pass yield: 0.0% (0 of 1 units passed their first run)" in stats
    assert "verdicts: INCOMPLETE 1" in stats

    proc = bench("run", str(plan), "--sim", "--operator-script", str(tmp_path / "yes.yaml"), "--db", db,
                 "--report", str(tmp_path / "reports"), "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["verdict"] == "PASS"
    history = bench("history", "PT3-000123", "--db", db).stdout.splitlines()
    passed = json.loads(bench("history", "PT3-000123", "--db", db, "--json").stdout)["last_pass"]
    assert history[-1].startswith("last passed on ") and passed["run_id"][:8] in history[-1]
    assert "INCOMPLETE" in history[2]  # the first run stays what it was
    for args in ((), ("--since", "2000-01-01")):  # summary rows and the scan of a window agree
        data = json.loads(bench("stats", *args, "--json", "--db", db).stdout)
        assert (data["units"], data["first_pass_yield"]) == (1, 0.0), args
        assert data["verdicts"] == {"INCOMPLETE": 1, "PASS": 1}, args
