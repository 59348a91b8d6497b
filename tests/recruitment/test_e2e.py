"""End to end in headless Chromium: a researcher opens the dashboard; screenshot for docs/."""

from __future__ import annotations

from pathlib import Path

import browser
from browser import log_in
from patas.recruitment.synthetic import populate
from recruitment.world import PASSWORD, make_user

IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
pytestmark = browser.MARKS


def test_a_researcher_opens_the_dashboard(urls_loaded, live_server, open_page):
    page = open_page(width=1200, height=1500, timeout_ms=30000)
    populate(1500, seed=5)
    make_user("rosa", "researcher")
    base = live_server.url
    log_in(page, base, "rosa", PASSWORD)
    page.goto(f"{base}/dashboard/")
    page.wait_for_selector("#funnel table.data")
    page.wait_for_function(
        "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)"
    )
    assert page.locator("section.dash").count() == 10
    assert "FB-A" in page.locator("#funnel").inner_text()
    IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG / "dashboard.png"))
    with page.expect_download() as download:
        page.click("#retention a.csv")
    assert download.value.suggested_filename == "retention.csv"

    # a facilitator gets nothing
    page.context.clear_cookies()
    make_user("carlos", "facilitator")
    log_in(page, base, "carlos", PASSWORD)
    assert page.goto(f"{base}/dashboard/").status == 404
