"""Headless Chromium (Debian's, never downloaded) driven by Playwright, plus axe-core checks.

One browser for the whole session; a fresh context (cookies, viewport, JavaScript on/off)
per page opened. Browser tests run on SQLite only: the database is not what they test.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import Flask
from playwright.sync_api import Browser, Page, sync_playwright

from domain.models import Meeting
from tests.support.processes import LiveServer

CHROMIUM = os.environ.get("OPENFLOOR_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
PHONE_320 = {"width": 320, "height": 640}
PHONE_375 = {"width": 375, "height": 667}
DESKTOP = {"width": 1280, "height": 900}

_axe = Axe()


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Browser tests use SQLite only (the database is covered by the client tests)."""
    return sqlite_url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def site(app: Flask, live_server: LiveServer, meeting: Meeting) -> LiveServer:
    """The app over real HTTP with CSRF on, as in production, and one open meeting."""
    app.config["WTF_CSRF_ENABLED"] = True
    return live_server


class Pages:
    """Opens pages in fresh browser contexts and fails the test on CSP or script errors."""

    def __init__(self, browser: Browser, base_url: str) -> None:
        self.browser = browser
        self.base_url = base_url
        self.problems: list[str] = []
        self._contexts: list[Any] = []

    def open(
        self, path: str, viewport: dict[str, int] = DESKTOP, *, javascript: bool = True
    ) -> Page:
        context = self.browser.new_context(
            base_url=self.base_url, viewport=viewport, java_script_enabled=javascript
        )
        self._contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: self._console(message, javascript))
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.goto(path)
        return page

    def _console(self, message: Any, javascript: bool) -> None:
        if message.type != "error":
            return
        url = str((message.location or {}).get("url", ""))
        path = urlsplit(url).path
        # Without JavaScript no parser-blocking script waits for the stylesheets, and under
        # load Chromium sometimes styles the page with the vendored GOV.UK CSS before
        # openfloor.css arrives, so it asks for the GDS Transport webfont (not served here).
        # Harmless; every JavaScript-enabled page still fails on any font request.
        if not javascript and path.startswith("/assets/fonts/"):
            return
        # a page's own status (400 for an expired form, 429, 503…) is asserted by the test;
        # any failed sub-resource (script, style, font, image) is a problem
        if message.text.startswith("Failed to load resource") and not path.startswith(
            ("/static/", "/assets/")
        ):
            return
        self.problems.append(f"console: {message.text} ({url})")

    def close(self) -> None:
        for context in self._contexts:
            context.close()


@pytest.fixture
def pages(browser: Browser, site: LiveServer) -> Iterator[Pages]:
    opened = Pages(browser, site.url)
    yield opened
    opened.close()
    # a blocked inline script (missing nonce) or a script error shows up here
    assert opened.problems == []


@pytest.fixture
def shots(tmp_path: Path) -> Callable[[Page, str], Path]:
    """Save a full-page screenshot (to OPENFLOOR_SCREENSHOTS if set) and return its path."""
    folder = Path(os.environ.get("OPENFLOOR_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def assert_accessible(page: Page, what: str) -> None:
    """axe-core (WCAG 2.0/2.1/2.2 A and AA rules) finds no violations on the page."""
    results = _axe.run(
        page,
        options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]},
    )
    assert results.violations_count == 0, f"{what}: {results.generate_report()}"


def assert_fits(page: Page, what: str) -> None:
    """No sideways scrolling (WCAG 1.4.10 reflow at 320 CSS pixels)."""
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{what}: {overflow}px wider than the screen"
