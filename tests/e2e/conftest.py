"""Playwright with Debian's Chromium (never a downloaded browser); phone and desktop viewports;
axe-core from the npm registry (installed by ``make test`` / ``.ci/run``, never from a CDN)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.utils import timezone

from lagebild.analytics.services import load_indicators
from lagebild.core.models import Role
from lagebild.core.scoping import authority_scope
from lagebild.field import services as field
from lagebild.field.measures import MeasureInput

from ..test_analytics_cockpit import INDICATORS

CHROMIUM = os.environ.get("LAGEBILD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
REPO = Path(__file__).resolve().parents[2]
AXE = Path(os.environ.get("LAGEBILD_AXE", REPO / ".venv/axe/node_modules/axe-core/axe.min.js"))

# Points around the focus area "Zentrum" of the test city, and two further away.
POINTS = [(51.514, 7.465), (51.5145, 7.4655), (51.515, 7.466), (51.53, 7.43), (51.52, 7.49)]


class _RequestsInFlight:
    """WSGI wrapper that counts requests the live server is still answering."""

    def __init__(self, app) -> None:
        self.app = app
        self.count = 0
        self._lock = threading.Lock()

    def _change(self, delta: int) -> None:
        with self._lock:
            self.count += delta

    def __call__(self, environ, start_response):
        self._change(1)
        try:
            result = self.app(environ, start_response)
        except BaseException:
            self._change(-1)
            raise
        return _ClosingResult(result, lambda: self._change(-1))


class _ClosingResult:
    def __init__(self, result, on_close) -> None:
        self._result = result
        self._on_close = on_close

    def __iter__(self):
        return iter(self._result)

    def close(self) -> None:
        try:
            if hasattr(self._result, "close"):
                self._result.close()
        finally:
            self._on_close()


@pytest.fixture(autouse=True)
def _live_server_quiet_before_flush(request) -> Iterator[None]:
    """Waits at the end of each browser test until the live server has answered every request.

    With SQLite the live server's threads share the test's in-memory connection. A request
    still running after the browser closed (a map fetching its points, say) would otherwise
    run during the table flush or the next test's set-up and corrupt either. Autouse fixtures
    are set up after pytest-django's database fixture and before the pages, so this teardown
    runs after the pages are closed and before the flush.
    """
    if "live_server" not in request.fixturenames:
        yield
        return
    httpd = request.getfixturevalue("live_server").thread.httpd
    app = httpd.get_app()
    if not isinstance(app, _RequestsInFlight):
        app = _RequestsInFlight(app)
        httpd.set_app(app)
    yield
    deadline = time.monotonic() + 15
    quiet_checks = 0
    while quiet_checks < 2 and time.monotonic() < deadline:
        quiet_checks = quiet_checks + 1 if app.count == 0 else 0
        time.sleep(0.05)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}; install Debian's 'chromium' package.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def _context(browser, viewport: dict, *, mobile: bool) -> object:
    context = browser.new_context(
        viewport=viewport,
        device_scale_factor=2 if mobile else 1,
        is_mobile=mobile,
        has_touch=mobile,
        locale="de-DE",
        timezone_id="Europe/Berlin",
    )
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def phone(browser) -> Iterator[object]:
    context = _context(browser, PHONE, mobile=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(browser) -> Iterator[object]:
    context = _context(browser, DESKTOP, mobile=False)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="session")
def axe_script() -> Path:
    if not AXE.is_file():
        pytest.fail(
            f"axe-core not found at {AXE}. 'make test' installs it with npm (Debian: apt-get install npm); "
            "LAGEBILD_AXE points to another axe.min.js."
        )
    return AXE


@pytest.fixture
def analytics_world(world, kod, polizei, make_user, police, tmp_path) -> None:
    """Indicators and 100 incidents of city and police over the last 60 days."""
    path = tmp_path / "indicators.json"
    path.write_text(json.dumps(INDICATORS), encoding="utf-8")
    load_indicators(path)
    make_user("polizei-analyse", police, Role.ANALYST)
    now = timezone.now()
    for day in range(0, 60, 3):
        for position, (lat, lon) in enumerate(POINTS):
            user = kod if position % 2 else polizei
            with authority_scope(user.authority_id):
                field.incident_create(
                    user=user,
                    category=world["categories"]["begging"],
                    occurred_at=now - dt.timedelta(days=day, hours=position),
                    lat=lat,
                    lon=lon,
                    measures=[MeasureInput(type="dispersal_order")],
                )
