"""Screenshots of a running dashboard in headless Chromium (the README's, and the browser tests').

Usage: ``python -m bench.web.screenshots URL OUTDIR [--token TOKEN] [--page NAME=PATH ...]``, with
``bench serve`` running at URL: writes ``dashboard-overview.png`` and one PNG per ``--page``.
Needs Debian's ``chromium`` and ``chromium-driver`` and the ``selenium`` package (the test extra).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

_LOG = logging.getLogger(__name__)

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WIDTH = 1360


def chromium(width: int = WIDTH, height: int = 900) -> WebDriver:
    """Headless Chromium driven by Debian's chromedriver, its console log kept (``get_log('browser')``)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--hide-scrollbars", "--force-device-scale-factor=1"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=opts, service=Service(CHROMEDRIVER))


def full_page(driver: WebDriver, path: Path, width: int = WIDTH) -> Path:
    """The whole page (not just the window) as a PNG at ``path``."""
    for _ in range(2):  # the page's height at the new width, then the window's frame around it
        height = int(driver.execute_script("return document.documentElement.scrollHeight"))
        frame = int(driver.execute_script("return window.outerHeight - window.innerHeight"))
        driver.set_window_size(width, min(max(height, 600), 4000) + max(frame, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(path))
    return path


def take(base: str, out: Path, pages: dict[str, str], token: str | None = None) -> list[Path]:
    """Open each page (name -> path under ``base``) and save ``out/dashboard-NAME.png``."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver = chromium()
    written = []
    try:
        if token:
            driver.get(f"{base.rstrip('/')}/?token={token}")
        for name, path in pages.items():
            driver.get(base.rstrip("/") + path)
            WebDriverWait(driver, 20).until(lambda d: d.execute_script("return document.readyState") == "complete")
            written.append(full_page(driver, out / f"dashboard-{name}.png"))
    finally:
        driver.quit()
    return written


def main(argv: list[str] | None = None) -> int:
    """The command line: see the module's docstring."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--token")
    ap.add_argument("--page", action="append", default=[], metavar="NAME=PATH")
    args = ap.parse_args(argv)
    pages = {"overview": "/"}
    for item in args.page:
        name, _, path = item.partition("=")
        pages[name] = path
    for path in take(args.url, args.outdir, pages, args.token):
        sys.stdout.write(f"wrote {path}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
