"""In a real headless Chromium: a designer talks through intake and day 1 on /try/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.db import connection

CHROMIUM = Path("/usr/bin/chromium")
DEMO_PACK = Path(__file__).resolve().parents[2] / "content" / "hablemos-entre-patas"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "rehearse the program"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium"),
]


@pytest.fixture
def pack_without_trial(tmp_path, settings):
    """The demo pack without its trial section: a rehearsal goes straight into the program."""
    root = tmp_path / "content" / "hablemos-entre-patas"
    shutil.copytree(DEMO_PACK, root)
    program = yaml.safe_load((root / "program.yaml").read_text(encoding="utf-8"))
    program.pop("trial", None)
    (root / "program.yaml").write_text(yaml.safe_dump(program, allow_unicode=True), "utf-8")
    settings.CONTENT_DIR = root.parent
    return root


@pytest.fixture
def browser_page(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still plain synchronous calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser.new_page()
        browser.close()
    if connection.vendor == "postgresql":  # let the test database be dropped afterwards
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


def test_intake_and_day_one_in_the_browser(live_server, pack_without_trial, browser_page):
    get_user_model().objects.create_user("disenadora", password=PASSWORD)
    page = browser_page
    page.goto(f"{live_server.url}/login/?next=/try/")
    page.fill("input[name=username]", "disenadora")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_selector(".try-form")

    def say(text: str) -> None:
        page.fill("input[name=text]", text)
        page.click(".try-form button[type=submit]")
        page.wait_for_selector(f".bubble.in:has-text('{text}')")

    def tap(title: str) -> None:
        page.locator(".bubble .buttons button", has_text=title).last.click()

    say("Hola, quiero unirme")
    page.wait_for_selector("text=¿Cuántos años tienes?")
    say("treinta")
    page.wait_for_selector("text=¿Vives con tu pareja?")
    tap("Sí")
    page.wait_for_selector(".bubble.out >> nth=3")
    say("Lima")
    page.wait_for_selector("text=¿A qué hora prefieres")
    tap("En la noche")
    page.wait_for_selector(".bubble .buttons button:has-text('Sí, acepto')")
    tap("Sí, acepto")
    page.click("text=Skip to the next day")
    page.wait_for_selector("text=Preséntate en tu grupo con tu apodo")
    assert page.locator(".bubble.out img").count() >= 1  # the expert's image card
