"""The dashboard's routes through Starlette's TestClient on a filled SQLite store: pages, JSON, guard, escaping."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import fleetdata
import pytest
from starlette.testclient import TestClient

from bench.cli.serve import is_loopback
from bench.store.engine import Store
from bench.web.app import create_app
from bench.web.live import Watcher
from bench.web.pool import StorePool

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, fleetdata.Written]:
    url = f"sqlite:///{tmp_path_factory.mktemp('web') / 'bench.db'}"
    with Store.open(url) as store:
        written = fleetdata.fill(store, 200)
    return url, written


@pytest.fixture(scope="module")
def client(filled: tuple[str, fleetdata.Written]) -> Iterator[TestClient]:
    with TestClient(create_app(filled[0], interval=60)) as c:
        yield c


def _pages(w: fleetdata.Written) -> list[str]:
    return ["/", "/benches/bench-1", "/benches/bench-9", "/models/PT-300", f"/units/{w.serials[0]}",
            f"/units/{quote(fleetdata.XSS, safe='')}", f"/runs/{w.running_id}", f"/runs/{w.running_id}/report",
            "/lots", "/search?q=SN", "/search?q=nothing-like-it"]


def test_every_page_answers_with_html_escaped_and_masked(client: TestClient, filled: tuple[str, fleetdata.Written]) -> None:
    for path in _pages(filled[1]):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/html"), path
        assert "<script>alert" not in r.text, path
        assert fleetdata.PAN not in r.text, path
        assert "content-security-policy" in r.headers, path


def test_overview_pareto_shows_the_weeks_fail_counts(client: TestClient, filled: tuple[str, fleetdata.Written]) -> None:
    html = client.get("/").text
    bars = dict(re.findall(r'<g class="bar" data-fault="([^"]+)" data-count="(\d+)"', html))
    assert {k: int(v) for k, v in bars.items()} == filled[1].pareto_week
    data = client.get("/?format=json").json()
    assert {f["fault"]: f["runs"] for f in data["overview"]["pareto_week"]} == filled[1].pareto_week


def test_overview_lists_benches_up_and_down_and_the_run_in_progress(client: TestClient,
                                                                    filled: tuple[str, fleetdata.Written]) -> None:
    data = client.get("/?format=json").json()
    assert (data["benches_up"], data["benches_down"]) == (2, 1)
    assert [r["run_id"] for r in data["overview"]["running"]] == [filled[1].running_id]
    html = client.get("/").text
    assert "SN-RUNNING" in html and "bench-9" in html
    assert "pos-full: &lt;script&gt;alert(1)&lt;/script&gt;" in html  # what the down bench was doing, as text


def test_the_xss_unit_shows_as_text_and_its_pan_masked(client: TestClient) -> None:
    r = client.get(f"/units/{quote(fleetdata.XSS, safe='')}")
    assert '<span id="serial">&lt;script&gt;alert(1)&lt;/script&gt;</span>' in r.text
    data = client.get(f"/units/{quote(fleetdata.XSS, safe='')}?format=json").json()
    assert data["serial"] == fleetdata.XSS  # JSON carries the text itself; a script decides how to show it
    run_id = data["runs"][0]["run_id"]
    run = client.get(f"/runs/{run_id}?format=json").json()
    assert fleetdata.PAN not in str(run) and "411111******1111" in str(run)
    report = client.get(f"/runs/{run_id}/report").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in report and "<script>alert" not in report


def test_unit_page_has_history_trend_and_links_to_reports(client: TestClient, filled: tuple[str, fleetdata.Written]) -> None:
    serial = filled[1].serials[0]
    html = client.get(f"/units/{serial}").text
    data = client.get(f"/units/{serial}?format=json").json()
    assert data["runs"] and all(r["serial"] == serial for r in data["runs"])
    assert [t["name"] for t in data["trends"]] == ["battery_voltage"]
    assert '<svg class="spark"' in html
    for r in data["runs"]:
        assert f'href="/runs/{r["run_id"]}"' in html


def test_bench_model_lots_and_json_twins(client: TestClient) -> None:
    bench = client.get("/benches/bench-2?format=json").json()
    assert bench["status"]["state"] == "running" and bench["running"][0]["serial"] == "SN-RUNNING"
    assert all(r["station"] == "bench-2" for r in bench["runs"])
    model = client.get("/models/PT-310?format=json").json()
    assert model["runs"] and all(r["model"] == "PT-310" for r in model["runs"])
    lots = client.get("/lots?format=json").json()["lots"]
    assert [(lot["lot"], lot["inspected"], lot["state"]) for lot in lots] == [("LOT-1", 3, "OPEN")]
    assert "3 / " in client.get("/lots").text


def test_a_model_and_a_bench_with_a_slash_in_the_name_have_their_pages(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    with Store.open(url) as store:
        fleetdata.store_run(store, fleetdata.make_run(station="bay/2", model="PT/300", serial="SN-SLASH",
                                                      started=datetime.now(UTC), fault=None))
    with TestClient(create_app(url, interval=60)) as c:
        unit = c.get("/units/SN-SLASH").text
        for link in ("/models/PT%2F300", "/benches/bay%2F2"):
            assert f'href="{link}"' in unit  # the unit page links to them, and the links answer
            assert c.get(link).status_code == 200, link
        assert [r["model"] for r in c.get("/models/PT%2F300?format=json").json()["runs"]] == ["PT/300"]


def test_search_lists_prefix_matches_and_goes_to_an_exact_serial(client: TestClient,
                                                                 filled: tuple[str, fleetdata.Written]) -> None:
    serial = filled[1].serials[5]
    r = client.get(f"/search?q={serial}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/units/{serial}"
    found = client.get("/search?q=sn0001&format=json").json()["units"]
    assert found and all(u["serial"].startswith("SN0001") for u in found)
    assert "no unit whose serial starts with" in client.get("/search?q=zz-none").text


def test_search_says_when_more_units_match_than_it_lists(client: TestClient) -> None:
    found = client.get("/search?q=SN&format=json").json()  # 120 serials SN00000..SN00119
    assert len(found["units"]) == 20 and found["more"] is True
    assert "the first 20 units whose serial starts with “SN” (more match: type more of it):" in client.get("/search?q=SN").text
    few = client.get("/search?q=SN0001&format=json").json()
    assert len(few["units"]) == 10 and few["more"] is False
    assert "10 unit(s) whose serial starts with “SN0001”:" in client.get("/search?q=SN0001").text


def test_search_for_a_serial_that_starts_longer_ones_opens_its_unit(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    with Store.open(url) as store:
        for serial in ("PT3-000123", "PT3-000123-01", "pt3-000123-02"):
            fleetdata.store_run(store, fleetdata.make_run(station="bench-1", model="PT-300", serial=serial,
                                                          started=datetime.now(UTC), fault=None))
    with TestClient(create_app(url, interval=60)) as c:
        r = c.get("/search?q=pt3-000123", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/units/PT3-000123"
        assert len(c.get("/search?q=PT3-000123&format=json").json()["units"]) == 3  # the JSON lists them all
        assert "3 unit(s)" in c.get("/search?q=PT3-00012").text


def test_unknown_subjects_are_404(client: TestClient) -> None:
    for path in ("/units/NO-SUCH", "/benches/no-such", "/models/no-such", "/runs/ffffffff", "/nowhere"):
        assert client.get(path).status_code == 404, path
    assert client.get("/units/NO-SUCH?format=json").json() == {"error": "no runs of a unit with serial 'NO-SUCH' in the store"}


def test_a_nul_character_in_the_address_is_a_400_not_a_server_error(client: TestClient) -> None:
    for path in ("/units/%00", "/models/a%00b", "/benches/%00", "/runs/%00", "/search?q=%00", "/lots?format=%00"):
        r = client.get(path)
        assert r.status_code == 400, path  # PostgreSQL refuses NUL in text: it must not get that far
        assert r.text == "bad request: a NUL character in the address\n"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_read_only_other_methods_are_405(client: TestClient, method: str) -> None:
    r = client.request(method, "/")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"


def test_head_answers(client: TestClient) -> None:
    assert client.head("/lots").status_code == 200


def test_with_a_token_every_request_needs_it(filled: tuple[str, fleetdata.Written]) -> None:
    with TestClient(create_app(filled[0], token="s3cret", interval=60)) as c:
        assert c.get("/").status_code == 401
        assert c.get("/static/dash.css").status_code == 401
        assert c.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/?format=json", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        r = c.get("/lots?token=s3cret&format=json", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/lots?format=json"
        assert "HttpOnly" in r.headers["set-cookie"] and "SameSite=Strict" in r.headers["set-cookie"]
        assert c.get("/lots?format=json").status_code == 200  # the cookie, from now on
        c.cookies.clear()
        assert c.get("/lots?token=wrong").status_code == 401


def test_a_token_with_spaces_or_semicolons_still_logs_a_person_in(filled: tuple[str, fleetdata.Written]) -> None:
    token = "mot de;passe=1"
    with TestClient(create_app(filled[0], token=token, interval=60)) as c:
        r = c.get(f"/lots?token={quote(token, safe='')}", follow_redirects=False)
        assert r.status_code == 303
        assert r.headers["set-cookie"].startswith("bench_token=mot%20de%3Bpasse%3D1; Path=/;")  # one cookie value
        assert c.get("/lots?format=json").status_code == 200  # the browser's cookie lets the person in


def test_the_watcher_counts_a_version_when_a_run_starts(filled: tuple[str, fleetdata.Written], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bench.db'}"
    with Store.open(url) as store:
        fleetdata.fill(store, 20)

    async def scenario() -> list[int]:
        pool = StorePool(url, workers=1)
        watcher = Watcher(pool, interval=60)
        try:
            await watcher.check()
            first = watcher.version
            await watcher.check()
            same = watcher.version
            with Store.open(url) as store:
                rec = fleetdata.make_run(station="bench-4", model="PT-500", serial="SN-NEW",
                                         started=datetime.now(UTC) - timedelta(seconds=5), fault=None)
                store.start_run(rec)
            await watcher.check()
            return [first, same, watcher.version]
        finally:
            pool.close()

    first, same, after = asyncio.run(scenario())
    assert same == first and after == first + 1


def test_loopback_addresses() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "localhost"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.5", "bench-host"))


def test_serve_beyond_loopback_without_token_is_refused(tmp_db: str) -> None:
    env = {k: v for k, v in __import__("os").environ.items() if k != "BENCH_SERVE_TOKEN"}
    proc = subprocess.run([sys.executable, "-m", "bench", "serve", "--host", "0.0.0.0", "--db", tmp_db],
                          cwd=ROOT, capture_output=True, text=True, timeout=60, env=env)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "bench: error: --host 0.0.0.0 listens beyond this machine: give --token or set BENCH_SERVE_TOKEN "
        "(or keep the default 127.0.0.1)"]
    assert proc.stdout == ""


def test_behind_a_proxy_the_token_link_goes_back_to_the_page_under_the_prefix(filled: tuple[str, fleetdata.Written]) -> None:
    import http.client
    import json

    proc = subprocess.Popen([sys.executable, "-m", "bench", "serve", "--db", filled[0], "--port", "0", "--json",
                             "--root-path", "/bench", "--token", "t0k"], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        port = json.loads(proc.stdout.readline())["port"]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/lots?token=t0k&format=json")  # the proxy took /bench off
        r = conn.getresponse()
        assert (r.status, r.getheader("location")) == (303, "/bench/lots?format=json")
        r.read()
        conn.request("GET", "/benches/%E6%B5%8B%E8%AF%95%E5%8F%B0%20%231?token=t0k")  # a bench named 测试台 #1
        r = conn.getresponse()
        assert (r.status, r.getheader("location")) == (303, "/bench/benches/%E6%B5%8B%E8%AF%95%E5%8F%B0%20%231")
    finally:
        proc.terminate()
        proc.wait(20)


def test_ctrl_c_with_a_page_open_stops_quietly(filled: tuple[str, fleetdata.Written]) -> None:
    import http.client
    import json
    import signal

    proc = subprocess.Popen([sys.executable, "-m", "bench", "serve", "--db", filled[0], "--port", "0", "--json"],
                            cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        port = json.loads(proc.stdout.readline())["port"]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/events")  # a browser with a page open holds this stream
        stream = conn.getresponse()
        assert stream.readline().startswith(b"retry:")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert "Traceback" not in err and "ERROR" not in err, err


def test_serve_on_a_sqlite_file_that_is_not_there_says_so_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    proc = subprocess.run([sys.executable, "-m", "bench", "serve", "--db", f"sqlite:///{missing}", "--port", "0"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        f"bench: error: no store at {missing}: bench serve shows a store the benches write, and creates none"]
    assert not missing.exists()


def test_a_root_path_without_its_leading_slash_still_prefixes_the_links(filled: tuple[str, fleetdata.Written]) -> None:
    import http.client
    import json

    proc = subprocess.Popen([sys.executable, "-m", "bench", "serve", "--db", filled[0], "--port", "0", "--json",
                             "--root-path", "bench/"], cwd=ROOT, text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        port = json.loads(proc.stdout.readline())["port"]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/lots")
        r = conn.getresponse()
        html = r.read().decode()
        assert r.status == 200 and 'href="/bench/lots"' in html and 'src="/bench/static/live.js"' in html
    finally:
        proc.terminate()
        proc.wait(20)


def test_pages_speak_the_process_language(filled: tuple[str, fleetdata.Written]) -> None:
    from bench import i18n
    from drivers.i18n import current_language

    before = current_language()
    i18n.activate("zh_CN")
    try:
        with TestClient(create_app(filled[0], interval=60)) as c:
            html = c.get("/").text
            model = c.get("/models/PT-300").text
            lots = c.get("/lots").text
            units = [c.get(f"/units/{serial}").text for serial in filled[1].serials[:10]]
            data = c.get("/units/NO-SUCH?format=json").json()
    finally:
        i18n.activate(before)
    assert '<html lang="zh-CN">' in html and "进行中的测试" in html and "故障帕累托图" in html
    assert re.search(r"<td>\d{4}年\d{1,2}月\d{1,2}日 \d\d:\d\d:\d\d</td>", html)  # a bench's last beat, the Chinese way
    assert not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", html)
    assert re.search(r'<span class="badge v-(PASS|FAIL)">(通过|失败)</span>', model)  # verdicts in the reader's word
    assert not re.search(r'<span class="badge v-\w+">[A-Z]+</span>', model)
    assert "<td>进行中</td>" in lots and ">OPEN<" not in lots  # the lot's state
    passed = [page for page in units if "最近一次通过" in page]
    assert passed and all(re.search(r"测试台 [\w-]+（<a href=\"/runs/[\w-]+\">\w{8}</a>）", page) for page in passed)
    with TestClient(create_app(filled[0], interval=60)) as c:
        english = [c.get(f"/units/{serial}").text for serial in filled[1].serials[:10]]
    assert all(re.search(r"bench [\w-]+ \(<a href=\"/runs/[\w-]+\">\w{8}</a>\)", page) for page in english
               if "last passed" in page)
    assert data == {"error": "no runs of a unit with serial 'NO-SUCH' in the store"}  # machine output stays English


def test_a_store_that_cannot_be_read_is_a_503_page_not_a_traceback(tmp_path: Path) -> None:
    from bench.errors import EquipmentError

    def unreachable(url: str | None) -> object:
        raise EquipmentError("cannot open store postgresql://bench@nowhere/bench: connection refused")

    pool = StorePool("postgresql://bench@nowhere/bench", workers=1, opener=unreachable)  # type: ignore[arg-type]
    with TestClient(create_app(None, interval=60, pool=pool)) as c:
        r = c.get("/")
        assert r.status_code == 503
        assert "the store cannot be read: cannot open store postgresql://bench@nowhere/bench: connection refused" in r.text
        assert c.get("/lots?format=json").json() == {
            "error": "the store cannot be read: cannot open store postgresql://bench@nowhere/bench: connection refused"}
