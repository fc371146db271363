"""Browser tests of the staff back office (docs/back-office.md): Debian's headless Chromium driven by
Selenium through Debian's chromedriver, against pytest-django's live server on the PostgreSQL test
database. Absent browser: skipped with the reason, except in CI (`CI` set), where it fails.

Screenshots of every step go to BROWSER_SCREENSHOTS_DIR (default var/browser-screenshots/, ignored by
git; CI keeps that folder)."""
from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
SCREENSHOTS = Path(os.environ.get("BROWSER_SCREENSHOTS_DIR",
                                  Path(__file__).resolve().parents[2] / "var" / "browser-screenshots"))


def _browser_missing() -> str:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not (Path(path).exists() or shutil.which(path))]
    return ", ".join(missing)


class Browser:
    """A headless Chromium session: pages by path of the live server, screenshots per step, and the
    console's messages (read and cleared by `console_errors`)."""

    def __init__(self, driver: object, base_url: str, folder: Path) -> None:
        self.driver = driver
        self.base_url = base_url
        self.folder = folder
        self.step = 0

    def open(self, path: str) -> None:
        self.driver.get(f"{self.base_url}{path}")  # type: ignore[attr-defined]

    def screenshot(self, name: str) -> Path:
        self.step += 1
        target = self.folder / f"{self.step:02d}-{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"
        self.driver.save_screenshot(str(target))  # type: ignore[attr-defined]
        return target

    def console_errors(self, *, ignore: str | None = None) -> list[str]:
        entries = self.driver.get_log("browser")  # type: ignore[attr-defined]
        return [e["message"] for e in entries if e["level"] == "SEVERE" and not (ignore and ignore in e["message"])]


@pytest.fixture
def browser(request) -> Iterator[Browser]:
    missing = _browser_missing()  # before the live server and its database: a skip costs nothing
    if missing:
        message = f"headless Chromium not installed ({missing}): run scripts/install_browser.sh as root"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    live_server = request.getfixturevalue("live_server")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000",
                     "--disable-gpu", "--no-first-run", "--disable-extensions"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    folder = SCREENSHOTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield Browser(driver, live_server.url, folder)
    finally:
        driver.quit()
