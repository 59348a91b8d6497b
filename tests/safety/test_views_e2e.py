"""In a real headless Chromium: a supervisor watches the queue fill by itself and handles an alert.

Screenshots go to the test's tmp folder (look at them when changing the templates).
"""

from __future__ import annotations

import browser
from browser import log_in
from patas.safety.models import Alert
from safety.views_world import build_world, raise_triage_alert, say

PASSWORD = "correct horse battery"
pytestmark = browser.MARKS


def test_supervisor_sees_a_new_alert_appear_and_resolves_it(
    urls_loaded, live_server, open_page, tmp_path, settings
):  # type: ignore[no-untyped-def]
    page = open_page()
    world = build_world(tmp_path, settings, with_partner=False)
    world.users["supervisor"].set_password(PASSWORD)
    world.users["supervisor"].save()
    base = live_server.url
    log_in(page, base, "supervisor", PASSWORD)
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
