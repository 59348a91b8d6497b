"""End to end in a real headless Chromium: the facilitator's day in the console.

Screenshots land in docs/img/ for docs/facilitator-guide.md.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from django.db import connection

import browser
from browser import log_in
from groups.factories import inbound, make_group, make_member, make_user
from patas.groups.models import GroupPost
from patas.messaging import router
from patas.messaging.dispatch import InstantPace
from patas.messaging.sender import Sender
from patas.whatsapp.fake import FakeCloudAPI

IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
PASSWORD = "correct horse battery"
pytestmark = browser.MARKS


@pytest.fixture
def browser_page(open_page):
    return open_page(locale="es-PE")


def deliver_outbox() -> FakeCloudAPI:
    pace = InstantPace()
    fake = FakeCloudAPI(time_source=pace.monotonic)
    sender = Sender("e2e", transport=httpx.ASGITransport(app=fake), pace=pace, gap=0.0)

    def drain():
        try:
            sender.drain()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(drain).result()
    return fake


def test_a_facilitator_sees_a_relayed_message_live_and_replies(
    urls_loaded, live_server, pack, browser_page
):
    page, base = browser_page, live_server.url
    IMG.mkdir(parents=True, exist_ok=True)
    facilitator = make_user("carlos", "facilitator", PASSWORD)
    other = make_user("miguel", "facilitator", PASSWORD)
    group = make_group(name="Grupo Lima 1", facilitator=facilitator)
    members = [make_member(group) for _ in range(4)]
    foreign = make_group(name="Grupo Cusco 2", facilitator=other)
    make_member(foreign)

    log_in(page, base, "carlos", PASSWORD)
    assert "Grupo Lima 1" in page.content() and "Grupo Cusco 2" not in page.content()
    page.screenshot(path=str(IMG / "groups.png"))

    page.click("text=Grupo Lima 1")
    page.wait_for_selector("#thread")
    page.evaluate("window.__not_reloaded = true")

    # A man writes on WhatsApp: the router relays it; the open thread shows it by itself.
    words = "Hoy conversé con mi pareja sin levantar la voz <b>de verdad</b>"
    router.route(inbound(members[0].participant, words))
    page.wait_for_selector(f"#thread >> text={members[0].pseudonym}")
    assert page.evaluate("window.__not_reloaded === true")
    assert page.locator("#thread .post .text").first.inner_text() == words  # escaped, as text
    page.screenshot(path=str(IMG / "thread.png"))

    page.fill("textarea[name=text]", "¡Bien ahí! ¿Quién más lo intentó hoy?")
    page.click("text=Enviar al grupo")
    page.wait_for_selector(".flash")
    post = GroupPost.objects.get(facilitator=facilitator)
    assert post.text == "¡Bien ahí! ¿Quién más lo intentó hoy?"

    # The sender delivers the outbox to the fake Cloud API (in its own thread: it runs its
    # own event loop, and this thread already has Playwright's).
    fake = deliver_outbox()
    got = [r["to"] for r in fake.received if "Quién más" in r["body"]["text"]["body"]]
    assert sorted(got) == sorted(m.participant.phone for m in members)
    relayed = [r["to"] for r in fake.received if "sin levantar" in r["body"]["text"]["body"]]
    assert sorted(relayed) == sorted(m.participant.phone for m in members[1:])

    # His page, then the phone-sized thread, for the guide.
    page.click(f"#thread >> text={members[0].pseudonym} >> nth=0")
    page.wait_for_selector("#reply")
    page.screenshot(path=str(IMG / "member.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/groups/{group.uid}/")
    page.screenshot(path=str(IMG / "thread-phone.png"))

    # Another facilitator's group does not exist for him.
    response = page.goto(f"{base}/groups/{foreign.uid}/")
    assert response is not None and response.status == 404


def test_inbox_and_content_preview_screens(urls_loaded, live_server, pack, browser_page):
    page, base = browser_page, live_server.url
    facilitator = make_user("carlos", "facilitator", PASSWORD)
    group = make_group(name="Grupo Lima 1", facilitator=facilitator)
    member = make_member(group)
    make_member(group)
    router.route(inbound(member.participant, "Necesito hablar con alguien", held=True))
    log_in(page, base, "carlos", PASSWORD)
    page.click("text=Bandeja")
    page.wait_for_selector("text=Necesito hablar con alguien")
    page.screenshot(path=str(IMG / "inbox.png"), full_page=True)
    page.goto(f"{base}/content/day/1/")
    page.wait_for_selector(".phone-screen")
    page.screenshot(path=str(IMG / "content-preview.png"), full_page=True)
