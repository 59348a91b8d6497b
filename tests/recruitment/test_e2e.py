"""End to end in headless Chromium: a researcher opens the dashboard; screenshot for docs/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from patas.recruitment.synthetic import populate
from recruitment.world import PASSWORD, make_user

CHROMIUM = Path("/usr/bin/chromium")
IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]


@pytest.fixture(scope="session")
def urls_loaded(django_db_setup, django_db_blocker):
    """patas.core.metrics queries the database on import: import it with the database open."""
    with django_db_blocker.unblock():
        import patas.core.metrics  # noqa: F401


@pytest.fixture
def page(monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 1500}, locale="en-US")
        page.set_default_timeout(30000)
        yield page
        browser.close()


def test_a_researcher_opens_the_dashboard(urls_loaded, live_server, page):
    populate(1500, seed=5)
    make_user("rosa", "researcher")
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "rosa")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit] >> nth=-1")
    page.wait_for_url(re.compile(r".*/groups/$"))
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
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "carlos")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit] >> nth=-1")
    page.wait_for_url(re.compile(r".*/groups/$"))
    assert page.goto(f"{base}/dashboard/").status == 404
