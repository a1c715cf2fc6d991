"""The dashboard in a real browser (Debian's chromium via playwright) against the real serve
path: ``hotline demo`` places calls through the IVR machine and the live ACD, the supervisor
logs in, watches the figures change over server-sent events, and opens the hourly plot with
the published bands of ``dialplans/centre.yaml``. Screenshots are kept as test artefacts
(``$HOTLINE_TEST_ARTEFACTS`` or pytest's tmp dir; the path is printed)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from tests.banner import read_banner
from tests.ivr.web.conftest import PASSWORD, free_port

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
DAY = "2026-11-23"
pytestmark = [pytest.mark.real("chromium"), pytest.mark.timeout(300)]


@pytest.fixture
def artefacts(tmp_path) -> Path:
    where = Path(os.environ.get("HOTLINE_TEST_ARTEFACTS") or tmp_path / "screenshots")
    where.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {where}")
    return where


@pytest.fixture
def demo(web_db, tmp_path):
    """``hotline demo`` (no SIP) with the dashboard on a free port; SIGTERM at the end."""
    port = free_port()
    log = open(tmp_path / "demo.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "ivr.cli", "--log-format", "json", "demo", "--no-sip", "--web",
         f"127.0.0.1:{port}", "--speed", "60", "--minutes", "480", "--day", DAY, "--from", "10",
         "--live-file", str(tmp_path / "live.json")],
        cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=log, text=True)
    banner = read_banner(proc, 90)
    if not any(f"127.0.0.1:{port}" in b for b in banner):
        proc.kill()
        pytest.fail(f"demo did not start its dashboard: {''.join(banner)}")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _answered(page) -> int:
    return sum(int(t) for t in page.locator("#board td.answered").all_inner_texts())


def test_supervisor_watches_queues_change_and_opens_the_hourly_plot(demo, artefacts):
    from playwright.sync_api import sync_playwright

    from queue_engine.scenario import load_centre

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS,
                                    headless=True)
        try:
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.goto(demo + "/")
            assert "/login" in page.url  # no session: the login form, not the figures
            page.fill("input[name=username]", "sup")
            page.fill("input[name=password]", PASSWORD["sup"])
            page.click("form.login button[type=submit]")
            page.wait_for_selector("#board table.wall")
            assert "answered within" in page.inner_text("#board .sldef")
            first = _answered(page)
            page.wait_for_function(
                "n => [...document.querySelectorAll('#board td.answered')]"
                ".reduce((a, td) => a + parseInt(td.textContent), 0) > n", arg=first,
                timeout=60_000)
            assert _answered(page) > first
            assert int(page.get_attribute("#board", "data-updates") or 0) >= 1
            assert "live" in page.inner_text("#conn")
            page.screenshot(path=str(artefacts / "board.png"))

            page.click("nav a[href='/hourly']")
            page.wait_for_selector("#chart-wait")
            bands = load_centre(ROOT / "dialplans" / "centre.yaml").bands()
            weekday = date.fromisoformat(DAY).weekday()
            band_hours = [h for h in range(24) if weekday * 24 + h in bands]
            assert page.locator("#chart-wait rect.band").count() == len(band_hours)
            deadline = time.monotonic() + 90  # answered rows are written when the talk ends
            while page.locator("#chart-wait rect.actual").count() == 0 \
                    and time.monotonic() < deadline:
                page.wait_for_timeout(2000)
                page.reload()
            assert page.locator("#chart-wait rect.actual").count() >= 1  # today's calls
            assert page.locator("#hourly-table tbody tr").count() >= len(band_hours)
            page.screenshot(path=str(artefacts / "hourly.png"), full_page=True)

            page.click("nav a[href='/whatif']")  # the service's what-if, in its worker
            page.select_option("select[name=skill]", "documents")
            page.fill("input[name=h10]", "2")
            page.click("form.whatif button[type=submit]")
            page.wait_for_selector("#whatif-charts svg", timeout=90_000)
            assert page.locator("#whatif-charts rect.actual").count() >= 1
            page.screenshot(path=str(artefacts / "whatif.png"), full_page=True)
        finally:
            browser.close()
    assert (artefacts / "board.png").stat().st_size > 10_000
