"""``bench serve`` in headless Chromium (Debian chromium + chromium-driver, through Selenium) on PostgreSQL.

The store is a fresh PostgreSQL database filled with a few hundred runs (tests/fleetdata.py); the
dashboard is the real command in its own process. Set ``BENCH_SCREENSHOTS=docs/img`` to keep the
README's screenshots taken here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import fleetdata
import pytest
from pgcluster import create_database

from bench.record import UnitInfo
from bench.store.engine import Store

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
WAIT_S = 60  # an upper bound for a page to update, not a timing: the test waits for what it must see


@pytest.fixture(scope="module")
def fleet(pg_url: str) -> tuple[str, fleetdata.Written]:
    url = create_database(pg_url, f"web_{uuid.uuid4().hex[:10]}")
    with Store.open(url) as store:
        written = fleetdata.fill(store, 300)
    return url, written


def _serve(db: str, *more: str) -> tuple[subprocess.Popen[str], dict[str, object]]:
    proc = subprocess.Popen([sys.executable, "-m", "bench", "serve", "--db", db, "--port", "0", "--json",
                             "--refresh", "0.5", *more], cwd=ROOT, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(10)
        raise AssertionError(f"bench serve did not start: {proc.stderr.read() if proc.stderr else ''}")
    return proc, json.loads(line)


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@pytest.fixture(scope="module")
def server(fleet: tuple[str, fleetdata.Written]) -> Iterator[str]:
    proc, info = _serve(fleet[0])
    try:
        yield str(info["url"]).rstrip("/")
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from bench.web.screenshots import chromium

    driver = chromium()
    try:
        yield driver
    finally:
        driver.quit()


def _load(driver: object, url: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)  # type: ignore[attr-defined]
    WebDriverWait(driver, WAIT_S).until(lambda d: d.execute_script("return document.readyState") == "complete")


def _console_errors(driver: object) -> list[dict[str, object]]:
    return [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]  # type: ignore[attr-defined]


def test_every_page_loads_without_console_errors(browser: object, server: str,
                                                 fleet: tuple[str, fleetdata.Written]) -> None:
    written = fleet[1]
    pages = ["/", "/benches/bench-1", "/benches/bench-9", "/models/PT-300", f"/units/{written.serials[0]}",
             f"/units/{quote(fleetdata.XSS, safe='')}", f"/runs/{written.running_id}", "/lots",
             "/search?q=SN000"]
    browser.get_log("browser")  # type: ignore[attr-defined]
    for page in pages:
        _load(browser, server + page)
        title = browser.title  # type: ignore[attr-defined]
        assert title.endswith("· bench"), (page, title)
        assert _console_errors(browser) == [], page


def test_the_pareto_shows_the_counts_written(browser: object, server: str, fleet: tuple[str, fleetdata.Written]) -> None:
    _load(browser, server + "/")
    # read in one go: live refresh may swap the section between two WebDriver calls
    pairs = browser.execute_script(  # type: ignore[attr-defined]
        "return Array.from(document.querySelectorAll('#pareto g.bar'))"
        ".map(g => [g.querySelector('text').textContent, g.querySelector('text.count').textContent])")
    shown = {fault: int(count) for fault, count in pairs}
    assert shown == fleet[1].pareto_week
    counts = list(shown.values())
    assert counts == sorted(counts, reverse=True)


def test_search_finds_a_serial(browser: object, server: str, fleet: tuple[str, fleetdata.Written]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    serial = fleet[1].serials[7]
    _load(browser, server + "/")
    box = browser.find_element(By.CSS_SELECTOR, "form.search input[name=q]")  # type: ignore[attr-defined]
    box.send_keys(serial[:-1])
    box.submit()
    WebDriverWait(browser, WAIT_S).until(lambda d: "/search" in d.current_url)
    links = [a.text for a in browser.find_elements(By.CSS_SELECTOR, "ul.found a")]  # type: ignore[attr-defined]
    assert serial in links
    browser.find_element(By.LINK_TEXT, serial).click()  # type: ignore[attr-defined]
    WebDriverWait(browser, WAIT_S).until(lambda d: d.find_element(By.ID, "serial").text == serial)
    assert _console_errors(browser) == []


def test_the_xss_unit_shows_as_text(browser: object, server: str) -> None:
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    _load(browser, server + f"/units/{quote(fleetdata.XSS, safe='')}")
    assert browser.find_element(By.ID, "serial").text == fleetdata.XSS  # type: ignore[attr-defined]
    assert browser.execute_script("return document.querySelectorAll('main script').length") == 0  # type: ignore[attr-defined]
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # type: ignore[attr-defined]  # noqa: B018
    _load(browser, server + "/")
    assert f"pos-full: {fleetdata.XSS}" in browser.find_element(By.ID, "benches").text  # type: ignore[attr-defined]
    assert _console_errors(browser) == []


def test_a_run_started_during_the_test_appears_live(browser: object, server: str,
                                                    fleet: tuple[str, fleetdata.Written], tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _load(browser, server + "/")
    browser.execute_script("window.benchMarker = 'same page'")  # type: ignore[attr-defined]
    today_before = browser.find_element(By.ID, "figures").text  # type: ignore[attr-defined]
    # a run starting on a bench, as the runner writes it
    with Store.open(fleet[0]) as store:
        rec = fleetdata.make_run(station="bench-3", model="PT-500", serial="SN-LIVE-1",
                                 started=datetime.now(UTC) - timedelta(seconds=1), fault=None)
        store.start_run(rec)
        store.set_unit(rec.run_id, UnitInfo("PT-500", "SN-LIVE-1"))
    WebDriverWait(browser, WAIT_S).until(lambda d: "SN-LIVE-1" in d.find_element(By.ID, "running").text)
    # and a real run on the simulated bench: it ends, and today's figures count it
    done = subprocess.run([sys.executable, "-m", "bench", "run", "pos-quick", "--sim", "--db", fleet[0],
                           "--report", str(tmp_path / "reports")], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    WebDriverWait(browser, WAIT_S).until(lambda d: d.find_element(By.ID, "figures").text != today_before)
    # the simulated bench's own heartbeat (bench run writes one) shows it in the benches' table
    WebDriverWait(browser, WAIT_S).until(lambda d: "sim" in d.execute_script(
        "return Array.from(document.querySelectorAll('#benches a')).map(a => a.textContent)"))
    assert browser.execute_script("return window.benchMarker") == "same page"  # type: ignore[attr-defined]
    assert _console_errors(browser) == []


def test_screenshots(browser: object, pg_url: str, tmp_path: Path) -> None:
    """The README's screenshots, of a store without the XSS unit (``BENCH_SCREENSHOTS=docs/img`` keeps them)."""
    from bench.web.screenshots import full_page

    url = create_database(pg_url, f"shots_{uuid.uuid4().hex[:10]}")
    with Store.open(url) as store:
        written = fleetdata.fill(store, 400, xss=False)
    proc, info = _serve(url)
    shots = Path(os.environ.get("BENCH_SCREENSHOTS") or tmp_path)
    try:
        base = str(info["url"]).rstrip("/")
        for name, page in (("overview", "/"), ("unit", f"/units/{written.serials[3]}"),
                           ("run", f"/runs/{written.failed_id}")):
            _load(browser, base + page)
            png = full_page(browser, shots / f"dashboard-{name}.png")  # type: ignore[arg-type]
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert _console_errors(browser) == []
    finally:
        _stop(proc)


def test_a_token_guards_a_dashboard_beyond_loopback(fleet: tuple[str, fleetdata.Written]) -> None:
    env = {k: v for k, v in os.environ.items() if k != "BENCH_SERVE_TOKEN"}
    refused = subprocess.run([sys.executable, "-m", "bench", "serve", "--db", fleet[0], "--host", "0.0.0.0"],
                             cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert refused.returncode == 2 and len(refused.stderr.splitlines()) == 1
    assert "give --token or set BENCH_SERVE_TOKEN" in refused.stderr
    proc, info = _serve(fleet[0], "--host", "0.0.0.0", "--token", "t0ken")
    try:
        assert info["token_required"] is True
        import socket

        assert info["url"] == f"http://{socket.gethostname()}:{info['port']}/"  # an address others can open, not 0.0.0.0
        base = f"http://127.0.0.1:{info['port']}"
        from selenium.webdriver.common.by import By

        from bench.web.screenshots import chromium

        driver = chromium()
        try:
            _load(driver, base + "/lots")
            assert "a token is needed" in driver.find_element(By.TAG_NAME, "body").text
            _load(driver, base + "/lots?token=t0ken")
            assert driver.current_url == base + "/lots"  # the token left the address bar
            assert "Inspection lots" in driver.find_element(By.TAG_NAME, "h1").text
            driver.get_log("browser")
            _load(driver, base + "/")  # the cookie carries on, the live stream too
            assert _console_errors(driver) == []
        finally:
            driver.quit()
    finally:
        _stop(proc)
