"""In a real headless Chromium: a supervisor watches the queue fill by itself and handles an alert.

Screenshots go to the test's tmp folder (look at them when changing the templates).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import connection

from patas.safety.models import Alert
from safety.views_world import build_world, raise_triage_alert, say

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery"
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
def urls_loaded(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """Import the URLconf with the database open (patas.core.metrics queries it on import)."""
    with django_db_blocker.unblock():
        import patas.core.metrics  # noqa: F401
    yield
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture
def page(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        tab = browser.new_page(viewport={"width": 1100, "height": 800}, locale="en-US")
        tab.set_default_timeout(15000)
        yield tab
        browser.close()


def test_supervisor_sees_a_new_alert_appear_and_resolves_it(
    urls_loaded, live_server, page, tmp_path, settings
):  # type: ignore[no-untyped-def]
    world = build_world(tmp_path, settings, with_partner=False)
    world.users["supervisor"].set_password(PASSWORD)
    world.users["supervisor"].save()
    base = live_server.url
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit] >> nth=-1")
    page.wait_for_url(re.compile(r".*/groups/$"))
    page.click("text=Safety alerts")
    page.wait_for_selector(f"#alert-rows >> text=Open {world.alert.ref}")

    fresh = raise_triage_alert(say(world.member, "a esa la voy a matar", held=True))
    page.wait_for_selector(f"#alert-rows >> text=Open {fresh.ref}")  # no reload: htmx polling
    page.screenshot(path=str(tmp_path / "safety-queue.png"), full_page=True)

    page.click(f"text=Open {fresh.ref}")
    page.wait_for_selector(".held-message")
    assert "a esa la voy a matar" in page.inner_text(".held-message")
    page.click("text=Acknowledge (I am on it)")
    page.wait_for_selector(".flash >> text=Alert acknowledged.")
    page.fill("form[action$='/resolve/'] textarea[name=text]", "Hablé con él; derivado a Línea 100")
    page.click("form[action$='/resolve/'] button[type=submit]")
    page.wait_for_selector(".flash >> text=Alert resolved.")
    page.screenshot(path=str(tmp_path / "safety-alert.png"), full_page=True)
    fresh.refresh_from_db()
    assert fresh.status == Alert.Status.RESOLVED
