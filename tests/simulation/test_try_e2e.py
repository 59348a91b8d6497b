"""In a real headless Chromium: a designer talks through intake and day 1 on /try/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from django.contrib.auth import get_user_model

import browser

DEMO_PACK = Path(__file__).resolve().parents[2] / "content" / "hablemos-entre-patas"
PASSWORD = "rehearse the program"

pytestmark = browser.MARKS


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


def test_intake_and_day_one_in_the_browser(urls_loaded, live_server, pack_without_trial, open_page):
    get_user_model().objects.create_user("disenadora", password=PASSWORD)
    page = open_page(timeout_ms=30000)
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
    # Wait for his enrolment before skipping: a skip before it changes nothing (a race under load).
    page.wait_for_selector("text=ya estás dentro")
    page.click("text=Skip to the next day")
    page.wait_for_selector("text=Preséntate en tu grupo con tu apodo")
    assert page.locator(".bubble.out img").count() >= 1  # the expert's image card
