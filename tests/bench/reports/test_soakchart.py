"""The soak's charts: well-formed SVG holding each series, axes with units, every text escaped, nothing fetched."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from bench.reports.soakchart import MAX_BARS, failures_chart, latency_chart, soak_section, throughput_chart
from bench.soak.stats import SoakTally

NS = {"s": "http://www.w3.org/2000/svg"}
RATE = [(0.0, 20.0), (900.0, 120.0), (2700.0, 120.0), (3600.0, 10.0)]


def tally() -> SoakTally:
    t = SoakTally()
    for second in range(0, 600, 6):  # ten minutes, ten sales a minute, slower as it goes
        t.add(second, "approved", "", {"total": 1000 + second})
    t.add(30, "declined", response_code="05")
    for cause in ("host-timeout", "host-timeout", "<script>alert(1)</script>", "paper-out"):
        t.add(400, "failed", cause)
    t.add(900, "approved", "", {"total": 5000})  # minute 15 after a gap: its own point
    return t


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text")]


def points(el: ET.Element) -> list[tuple[float, float]]:
    return [(float(a), float(b)) for a, b in (p.split(",") for p in el.attrib["points"].split())]


def test_latency_chart_draws_p50_p95_and_the_rate_with_units() -> None:
    s = tally().summary()
    root = parse(latency_chart(s, RATE))
    p50 = root.find("s:g[@class='p50']", NS)
    p95 = root.find("s:g[@class='p95']", NS)
    assert p50 is not None and p95 is not None
    lines = p50.findall("s:polyline", NS)
    assert len(lines) == 1 and len(points(lines[0])) == 10  # minutes 0-9 joined
    assert len(p50.findall("s:circle", NS)) == 1  # minute 15 stands alone after the gap
    # Later minutes are slower: higher values are drawn higher (smaller y).
    ys = [y for _, y in points(lines[0])]
    assert ys == sorted(ys, reverse=True)
    p95_y = [y for _, y in points(p95.findall("s:polyline", NS)[0])]
    assert all(a <= b for a, b in zip(p95_y, ys, strict=True))  # p95 at or above p50
    rate = root.find("s:polyline[@class='rate']", NS)
    assert rate is not None and len(points(rate)) == 4
    words = texts(root)
    assert {"total time (ms)", "arrivals per minute", "soak time (min)", "p50", "p95", "arrival rate"} <= set(words)
    assert "0" in words and "60" in words  # the x axis runs to the rate curve's end


def test_latency_chart_without_rate_or_sales() -> None:
    root = parse(latency_chart(SoakTally().summary()))
    assert root.find("s:polyline[@class='rate']", NS) is None
    assert "no completed sale" in texts(root)


def test_throughput_chart_stacks_each_minute() -> None:
    s = tally().summary()
    root = parse(throughput_chart(s))
    rects = root.findall("s:rect", NS)
    by_class: dict[str, int] = {}
    for r in rects:
        by_class[r.attrib["class"]] = by_class.get(r.attrib["class"], 0) + 1
    assert by_class == {"approved": 11, "declined": 1, "failed": 1}
    failed = root.find("s:rect[@class='failed']", NS)
    assert failed is not None and "".join(failed.itertext()) == "minute 6: 4 failed"
    assert "sales per minute" in texts(root)


def test_a_long_soak_is_drawn_in_groups_of_minutes() -> None:
    t = SoakTally()
    for minute in range(0, 600):
        t.add(minute * 60, "approved")
    root = parse(throughput_chart(t.summary()))
    bars = root.findall("s:rect[@class='approved']", NS)
    assert len(bars) == MAX_BARS
    assert "sales per minute (5-min means)" in texts(root)
    assert "".join(bars[1].itertext()) == "minutes 5-9: 1 approved a minute"


def test_failures_chart_ranks_causes_and_escapes_them() -> None:
    svg = failures_chart(tally().summary())
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = parse(svg)
    causes = [t for t in root.findall("s:text[@class='cause']", NS)]
    assert ["".join(c.itertext()) for c in causes] == ["host-timeout", "<script>alert(1)</script>", "paper-out"]
    widths = [float(r.attrib["width"]) for r in root.findall("s:rect[@class='bar']", NS)]
    assert widths[0] == 2 * widths[1] == 2 * widths[2]
    assert [("".join(c.itertext())) for c in root.findall("s:text[@class='count']", NS)] == ["2", "1", "1"]


def test_failures_chart_says_when_nothing_failed() -> None:
    root = parse(failures_chart(SoakTally().summary()))
    assert "no failed sale" in texts(root) and root.find("s:rect", NS) is None


def test_the_section_holds_the_three_charts_and_references_nothing() -> None:
    html = soak_section(tally().summary(), RATE)
    root = ET.fromstring(html)
    assert root.tag == "section" and len(root.findall("figure/{http://www.w3.org/2000/svg}svg")) == 3
    assert [f.findtext("figcaption") for f in root.findall("figure")] == [
        "Latency over soak time", "Throughput", "Failures by cause"]
    for attr in ("href", "src", "<script", "url("):
        assert attr not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_the_same_summary_draws_the_same_bytes() -> None:
    s: dict[str, Any] = tally().summary()
    assert soak_section(s, RATE) == soak_section(tally().summary(), RATE)
