"""The case report as a technician and the customer get it: a real case on the simulated bench, through the CLI."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from bench.cli.main import main

PAN = "4111111111111111"
REPORT_KEYS = {"schema", "case", "unit", "intake", "timeline", "judgement", "plan", "parts_used", "labour", "result",
               "before_after", "customer_summary", "plan_after_failing_runs"}


def bench(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ended:
        main(list(args))
    got = capsys.readouterr()
    return int(ended.value.code or 0), got.out, got.err


class Page(HTMLParser):
    """The page's tags, attributes, section ids and the text of each table row."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.ids: list[str] = []
        self.rows: list[list[str]] = []
        self.text: list[str] = []
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs
        self.ids += [v for k, v in attrs if k == "id" and v]
        if tag == "tr":
            self._row = []
        elif tag == "td" and self._row is not None:
            self._row.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._row:
            self._row[-1] += data


@pytest.fixture
def repaired_case(capsys: pytest.CaptureFixture[str], tmp_db: str, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """C1: a flat battery (with a PAN and markup in the complaint), a new battery, a pass, closed."""
    monkeypatch.chdir(tmp_path)
    db, runs = tmp_db, str(tmp_path / "runs")
    assert bench(capsys, "case", "open", "SN-1", "--complaint", f"<b>dies</b> mid-sale, card {PAN}",
                 "--customer", "Shop & Co", "--db", db)[0] == 0
    assert bench(capsys, "run", "pos-quick", "--sim", "--scenario", "battery-low", "--case", "C1", "--db", db,
                 "--report", runs)[0] == 1
    assert bench(capsys, "case", "repair", "C1", "--action", "replace", "--part", "PT3-BAT-15", "--note",
                 f"new pack; test card {PAN}", "--technician", "bo", "--db", db)[0] == 0
    assert bench(capsys, "run", "pos-quick", "--sim", "--case", "C1", "--db", db, "--report", runs)[0] == 0
    code, out, err = bench(capsys, "case", "close", "C1", "--db", db)
    assert (code, out, err) == (0, "case C1 closed: repaired\ncase report: reports/cases/C1/case.html\n", "")
    return db, tmp_path / "reports" / "cases" / "C1"


@pytest.mark.slow
def test_the_html_report_of_a_repaired_case(repaired_case: tuple[str, Path]) -> None:
    _, folder = repaired_case
    text = (folder / "case.html").read_text(encoding="utf-8")
    page = Page()
    page.feed(text)
    page.close()
    assert text.startswith("<!DOCTYPE html>") and PAN not in text
    # Self-contained and inert: no script, nothing fetched, the complaint's markup shown as text.
    assert "script" not in page.tags and "img" not in page.tags and "link" not in page.tags
    assert not [v for k, v in page.attrs if k in ("src", "href") and v and "//" in v]
    assert "<b>dies</b>" not in text and "&lt;b&gt;dies&lt;/b&gt; mid-sale, card 411111******1111" in text
    assert "Shop &amp; Co" in text
    assert {"customer-summary", "unit", "intake", "timeline", "judgement", "plan", "before-after", "parts",
            "result"} <= set(page.ids)
    # Before and after names the fixed measurement, its values and limit.
    assert ["battery", "charge_percent", "8 %", "87 %", "20 ≤ x ≤ 100 %", "fixed"] in page.rows
    assert ["battery", "voltage", "3.41 V", "7.6 V", "", "changed"] in page.rows
    # The timeline: the failing run, the repair, the passing run, in order.
    timeline = [r for r in page.rows if len(r) == 4 and (r[1].startswith("run ") or r[1].startswith("repair:"))]
    assert [(r[1].split()[0], r[2], r[3]) for r in timeline] == [
        ("run", "FAIL", "PWR-BATT-LOW"), ("repair:", "", "new pack; test card 411111******1111"), ("run", "PASS", "")]
    words = "".join(page.text)
    assert ("For the customer. Your PT-300 terminal (serial SN-1) came in because: <b>dies</b> mid-sale, card "
            "411111******1111. What was wrong: battery charge or voltage too low. What we did: replaced the battery "
            "pack 7.4 V 2-cell. It passed all our tests afterwards and is ready to go back into service.") in words
    assert ["PT3-BAT-15", "battery pack 7.4 V 2-cell", "26.00 EUR"] in page.rows
    assert "Labour 10 min at 48 EUR/h (catalogue times): 8.00 EUR; total 34.00 EUR." in words
    assert "REPAIRED" in words and "Judgement: none" in words
    assert "The plan after the failing runs (up to run " in words
    assert ["2", "replace the battery pack 7.4 V 2-cell only if the fault persists", "PT3-BAT-15", "26.00 EUR",
            "10 min", "PWR-BATT-LOW"] in page.rows


@pytest.mark.slow
def test_the_json_and_markdown_reports_of_a_repaired_case(repaired_case: tuple[str, Path],
                                                          capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db, folder = repaired_case
    for name in ("case.json", "case.md"):
        assert PAN not in (folder / name).read_text(encoding="utf-8")
    d = json.loads((folder / "case.json").read_text(encoding="utf-8"))
    assert set(d) == REPORT_KEYS and d["schema"] == "bench.case/1"
    assert (d["case"]["case"], d["case"]["result"], d["unit"]["model"], d["unit"]["firmware"]) == (
        "C1", "repaired", "PT-300", "2.4.1")
    assert [t["kind"] for t in d["timeline"]] == ["run", "repair", "run"]
    assert d["judgement"]["verdict"] == "none"
    assert d["judgement"]["summary"] == "none: no fault left in the unit over 2 run(s) (1 resolved)"  # it was reproduced
    assert [(f["fault"], f["resolved"]) for f in d["judgement"]["findings"]] == [("PWR-BATT-LOW", True)]
    assert d["plan"]["actions"] == [] and d["parts_used"][0]["number"] == "PT3-BAT-15"
    # Nothing is left to plan once the unit passed; the plan the repair followed is the one after the failing run.
    earlier = d["plan_after_failing_runs"]
    assert earlier["last_failing_run"] == d["timeline"][0]["run_id"]
    assert [(a["what"], a["part_number"], a["conditional"]) for a in earlier["actions"]] == [
        ("charge the battery and test again", None, False),
        ("replace the battery pack 7.4 V 2-cell", "PT3-BAT-15", True)]
    assert (d["labour"]["minutes"], d["labour"]["total_cost"]) == (10, 34.0)
    fixed = [c for c in d["before_after"]["changes"] if c["change"] == "fixed"]
    assert [(c["step"], c["name"], c["before"], c["after"]) for c in fixed] == [("battery", "charge_percent", 8, 87)]
    assert d["before_after"]["counts"]["still failing"] == 0 and d["before_after"]["after_verdict"] == "PASS"
    md = (folder / "case.md").read_text(encoding="utf-8")
    assert md.startswith("# Case C1: PT-300 SN-1 (closed, repaired)\n")
    assert "| battery | charge_percent | 8 % | 87 % | 20 ≤ x ≤ 100 % | fixed |" in md
    assert "\\<b>dies\\</b>" in md  # markup from the complaint made inert
    # bench case report rewrites one format where it is told to; the bytes do not change.
    code, out, _ = bench(capsys, "case", "report", "C1", "--db", db, "--format", "json", "--out", str(tmp_path / "x"))
    assert (code, out) == (0, f"case report: {tmp_path / 'x' / 'case.json'}\n")
    assert (tmp_path / "x" / "case.json").read_bytes() == (folder / "case.json").read_bytes()
    assert [p.name for p in (tmp_path / "x").iterdir()] == ["case.json"]


def test_the_report_of_a_fresh_case_and_usage_errors(capsys: pytest.CaptureFixture[str], tmp_db: str,
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    bench(capsys, "case", "open", "SN-9", "--complaint", "no power", "--db", tmp_db)
    code, out, _ = bench(capsys, "case", "report", "C1", "--db", tmp_db, "--json")
    assert code == 0 and json.loads(out) == {"case": "C1", "files": {
        "html": "reports/cases/C1/case.html", "md": "reports/cases/C1/case.md", "json": "reports/cases/C1/case.json"}}
    d = json.loads(Path("reports/cases/C1/case.json").read_text(encoding="utf-8"))
    assert (d["timeline"], d["before_after"], d["result"]["status"], d["judgement"]["verdict"]) == ([], None, "open", "none")
    assert d["customer_summary"] == ("Your terminal (serial SN-9) came in because: no power. Our tests did not find a "
                                     "fault in the terminal itself. The repair is still in progress.")
    code, out, err = bench(capsys, "case", "report", "C7", "--db", tmp_db)
    assert (code, out, err) == (2, "", "bench: error: no case C7 in the store (bench case list shows the cases)\n")
    code, _, err = bench(capsys, "case", "report", "C1", "--format", "pdf", "--db", tmp_db)
    assert code == 2 and "'pdf' is not one of 'html', 'md', 'json'" in err


@pytest.mark.slow
def test_a_tampered_unit_goes_back_to_the_factory(capsys: pytest.CaptureFixture[str], tmp_db: str,
                                                  tmp_path: Path) -> None:
    bench(capsys, "case", "open", "SN-2", "--complaint", "asks for keys", "--db", tmp_db)
    assert bench(capsys, "run", "pos-quick", "--sim", "--scenario", "tampered", "--case", "C1", "--db", tmp_db,
                 "--report", str(tmp_path / "runs"))[0] == 1
    code, out, _ = bench(capsys, "case", "show", "C1", "--db", tmp_db)
    assert code == 0 and "plan: return to factory: tamper detected: keys erased, unit locked (SEC-TAMPER)\n" in out
    bench(capsys, "case", "repair", "C1", "--action", "return-to-factory", "--note", "RMA 55", "--db", tmp_db)
    out_dir = tmp_path / "c"
    code, out, _ = bench(capsys, "case", "close", "C1", "--db", tmp_db, "--out", str(out_dir))
    assert (code, out.splitlines()[-1]) == (0, f"case report: {out_dir / 'case.html'}")
    d = json.loads((out_dir / "case.json").read_text(encoding="utf-8"))
    form = d["plan"]["return_to_factory"]
    assert (form["serial"], form["faults"], d["result"]["result"]) == ("SN-2", ["SEC-TAMPER"], "returned")
    assert d["plan_after_failing_runs"] is None  # its last run failed: the plan is the case's own
    assert d["customer_summary"].endswith("What we did: sent it to the manufacturer. It is with the manufacturer, "
                                          "who will repair and reactivate it.")
    page = Page()
    page.feed((out_dir / "case.html").read_text(encoding="utf-8"))
    assert "Return to factory" in page.text and "RETURNED" in page.text


@pytest.mark.slow
def test_the_customer_reads_their_summary_in_their_language(repaired_case: tuple[str, Path], tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from drivers.i18n import set_language

    db, _ = repaired_case
    out = tmp_path / "for-customer"
    assert bench(capsys, "case", "report", "C1", "--customer-lang", "zh_CN", "--out", str(out), "--db", db)[0] == 0
    page, md = (out / "case.html").read_text("utf-8"), (out / "case.md").read_text("utf-8")
    # The technician's report stays in the bench's language (English); the customer's summary is Chinese.
    assert "<h2>Unit and complaint</h2>" in page and "## Unit and complaint" in md
    summary = ("您的 PT-300 终端（序列号 SN-1）送修原因：&lt;b&gt;dies&lt;/b&gt; mid-sale, card 411111******1111。故障：")
    assert f'<section class="customer" id="customer-summary" lang="zh-CN"><strong>For the customer.</strong> {summary}' in page
    assert page.rstrip().endswith("</html>") and "维修后已通过我们的全部测试，可以重新投入使用。</section>" in page
    assert "> 您的 PT-300 终端（序列号 SN-1）送修原因：" in md
    data = json.loads((out / "case.json").read_text("utf-8"))
    assert data["customer_summary"].startswith("Your PT-300 terminal (serial SN-1) came in because:")
    # And the other way round: a Chinese bench, an English-speaking customer.
    monkeypatch.setenv("BENCH_LANG", "zh_CN")
    try:
        assert bench(capsys, "case", "report", "C1", "--customer-lang", "en", "--out", str(out), "--db", db)[0] == 0
    finally:
        set_language("en")
    page = (out / "case.html").read_text("utf-8")
    assert "<h2>设备与故障描述</h2>" in page and '<html lang="zh-CN">' in page
    assert "<strong>致客户：</strong> Your PT-300 terminal (serial SN-1) came in because:" in page
    assert json.loads((out / "case.json").read_text("utf-8")) == data
