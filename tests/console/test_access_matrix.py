"""Every console URL x every role: allowed or refused, per the table below.

The URLs come from the URL resolver, so a page added later without a row here fails
`test_every_console_url_has_a_row` until someone decides who may open it. A second test opens
every page as every role and greps the HTML for a partner's answers and phone: nothing of hers
may show up anywhere except on the call page of the enumerator assigned to her survey.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from groups.factories import PROGRAM
from patas.messaging.models import Message
from patas.recruitment.models import Source
from patas.whatsapp import numbers
from safety.views_world import PARTNER_PHONE, PARTNER_SECRET, REPO, World, build_world

pytestmark = pytest.mark.django_db

A, D, ANY = "allowed", "denied", "any"  # ANY: public pages (login/logout), checked for no error
ROLES = (
    "admin",
    "supervisor",
    "facilitator",  # the objects are in his group
    "other_facilitator",  # a facilitator of another group
    "enumerator",  # assigned to her survey and to his phone survey
    "researcher",
    "anonymous",
)
# URLs that are not console pages (each with its reason).
NOT_CONSOLE = {
    "webhook": "Meta's webhook: signature-checked, no login (tests/whatsapp)",
    "healthz": "health probe for the load balancer",
    "readyz": "readiness probe",
    "metrics": "Prometheus metrics (tests/core)",
    "set_language": "Django's language switch (a POST any visitor may make)",
    "pack_media": "content packs' media, public so Meta can fetch them (tests/programs)",
}
NOT_CONSOLE_NAMESPACES = {"admin": "Django admin: staff login of its own"}


@dataclass
class Page:
    name: str  # namespace:name
    expect: str  # one letter per role in ROLES order: A allowed, D denied, * any
    args: Callable[[World], list[Any]] = lambda w: []
    method: str = "get"
    data: dict[str, str] = field(default_factory=dict)
    query: str = ""
    variant: str = ""

    @property
    def id(self) -> str:
        return f"{self.name}{'[' + self.variant + ']' if self.variant else ''}"


#  roles: admin supervisor facilitator other_facilitator enumerator researcher anonymous
PAGES = [
    Page("console:home", "AAAAAAD"),
    Page("console:login", "*******"),
    Page("console:logout", "*******", method="post"),
    Page("console:groups", "AAAADAD"),
    Page("console:thread", "AAADDAD", lambda w: [w.mine.uid]),
    Page("console:thread_posts", "AAADDAD", lambda w: [w.mine.uid]),
    Page("console:post", "AAADDDD", lambda w: [w.mine.uid], "post", {"text": "hola"}),
    Page("console:code_post", "AAADDAD", lambda w: [w.post.uid], "post", {"code": ""}),
    Page("console:post_action", "AAADDDD", lambda w: [w.post.uid, "pin"], "post"),
    Page("console:inbox", "AAAADDD"),
    Page("console:member", "AAADDDD", lambda w: [w.member.uid]),
    Page("console:reply", "AAADDDD", lambda w: [w.member.uid], "post", {"text": "hola"}),
    Page("console:note", "AAADDDD", lambda w: [w.member.uid], "post", {"text": "nota"}),
    Page("console:remove", "AAADDDD", lambda w: [w.member.uid], "post", {"reason": "prueba"}),
    Page("console:content", "AAAAAAD"),
    Page("console:content_day", "AAAAAAD", lambda w: [1]),
    Page("console:manage_groups", "ADDDDDD"),
    Page("console:manage_group", "ADDDDDD", lambda w: [w.mine.uid]),
    Page("console:facilitators", "ADDDDDD"),
    Page("console:agreement", "AADDDAD"),
    Page("safety:queue", "AADDDDD"),
    Page("safety:queue_rows", "AADDDDD"),
    Page("safety:alert", "AADDDDD", lambda w: [w.alert.uid]),
    Page("safety:alert_step", "AADDDDD", lambda w: [w.alert.uid, "note"], "post", {"text": "n"}),
    Page("safety:flag_post", "AAADDDD", lambda w: [w.post.uid], "post", {"severity": "low"}),
    Page(
        "safety:flag_message",
        "AAADDDD",
        lambda w: [w.post.message.uid],
        "post",
        {"severity": "low"},
    ),
    Page("messaging:sending", "AADDDDD"),
    Page("messaging:resume", "ADDDDDD", lambda w: [numbers.default_number()], "post"),
    Page("safety:find_person", "ADDDDDD"),
    Page("safety:person", "ADDDDDD", lambda w: [w.man.uid]),
    Page("safety:erase", "ADDDDDD", lambda w: [w.man.uid]),
    Page("safety:export", "ADDDDDD", lambda w: [w.man.uid]),
    # the rehearsal chat: every console user talks to the program as his own fictional man
    Page("simulation:try", "AAAAAAD"),
    Page("simulation:messages", "AAAAAAD"),
    Page("simulation:send", "AAAAAAD", method="post", data={"text": "hola"}),
    Page("simulation:next_day", "AAAAAAD", method="post"),
    Page("simulation:media", "******D", lambda w: ["x/media/none.png"]),
    Page("recruitment:dashboard", "AADDDAD"),
    Page("recruitment:chart", "AADDDAD", lambda w: ["funnel"]),
    Page("recruitment:csv", "AADDDAD", lambda w: ["funnel"]),
    Page("recruitment:sources", "AADDDAD"),
    Page("recruitment:source_qr", "AADDDAD", lambda w: ["FB1", "svg"], query="phone=51900000001"),
    Page("recruitment:spend", "AADDDAD"),
    Page("recruitment:costs", "AADDDAD"),
    Page("recruitment:variants", "AADDDAD"),
    Page("surveys:calls", "AADDAAD"),
    Page("surveys:summary", "AADDDAD"),
    Page("surveys:call", "DDDDADD", lambda w: ["partner", w.partner_session.uid], variant="her"),
    Page("surveys:call", "AADDADD", lambda w: ["men", w.men_session.uid], variant="his"),
    Page("surveys:start", "DDDDADD", lambda w: ["partner", w.partner_session.uid], "post"),
    Page("surveys:step", "DDDDADD", lambda w: ["partner", w.partner_session.uid], "post"),
    Page("surveys:answer", "DDDDADD", lambda w: ["partner", w.partner_session.uid], "post"),
]
LETTER = {"A": A, "D": D, "*": ANY}


def _walk(patterns: list[Any], namespace: str = "") -> Iterator[tuple[str, str]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = entry.namespace or namespace
            yield from _walk(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace, entry.name


def console_url_names() -> set[str]:
    names = set()
    for namespace, name in _walk(get_resolver().url_patterns):
        if namespace in NOT_CONSOLE_NAMESPACES or name in NOT_CONSOLE:
            continue
        names.add(f"{namespace}:{name}" if namespace else name)
    return names


def test_every_console_url_has_a_row() -> None:
    missing = console_url_names() - {p.name for p in PAGES}
    assert not missing, f"console URLs with no row in the access table: {sorted(missing)}"
    for page in PAGES:
        assert len(page.expect) == len(ROLES), page.id


def _pages_present() -> list[Page]:
    present = console_url_names()
    return [p for p in PAGES if p.name in present]


@pytest.fixture
def world(tmp_path, settings, vclock) -> World:  # type: ignore[no-untyped-def]
    found = build_world(tmp_path, settings)
    card = REPO / "content" / "hablemos-entre-patas" / "rate-card.yaml"
    shutil.copy(card, tmp_path / PROGRAM / "rate-card.yaml")  # the costs page reads it
    Source.objects.create(code="FB1", name="Facebook 1")
    return found


def _client_as(world: World, role: str) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", raise_request_exception=False)
    if role != "anonymous":
        client.force_login(world.users[role])
    return client


def outcome(response: Any) -> str:
    code = response.status_code
    location = response.get("Location", "") if code in (301, 302) else ""
    if code in (403, 404) or (location and "/login/" in location):
        return D
    if code == 200 or location:
        return A
    return f"HTTP {code}"


def request(world: World, page: Page, role: str) -> Any:
    url = reverse(page.name, args=page.args(world))
    if page.query:
        url += "?" + page.query
    client = _client_as(world, role)
    return getattr(client, page.method)(url, page.data or None)


@pytest.mark.parametrize("page", _pages_present(), ids=lambda p: p.id)
def test_each_role_on_each_page(world: World, page: Page) -> None:
    wrong = []
    for role, letter in zip(ROLES, page.expect, strict=True):
        got = outcome(request(world, page, role))
        expected = LETTER[letter]
        if got.startswith("HTTP") or (expected != ANY and got != expected):
            wrong.append(f"{role}: expected {expected}, got {got}")
    assert not wrong, f"{page.id}: " + "; ".join(wrong)


HER_MARKS = (PARTNER_SECRET, PARTNER_PHONE, PARTNER_PHONE[2:], "944 433 322")


def _may_see_her(page: Page, role: str) -> bool:
    """Only the enumerator assigned to her survey, on the phone runner's pages."""
    return role == "enumerator" and page.name.startswith("surveys:")


@pytest.mark.parametrize(
    "page", [p for p in _pages_present() if p.method == "get"], ids=lambda p: p.id
)
def test_no_page_shows_her_answers_or_phone(world: World, page: Page) -> None:
    leaks = []
    for role in ROLES:
        if _may_see_her(page, role):
            continue
        body = request(world, page, role).content.decode("utf-8", "replace")
        leaks += [f"{role} sees {mark!r}" for mark in HER_MARKS if mark in body]
    assert not leaks, f"{page.id}: " + "; ".join(leaks)


def test_nothing_of_hers_is_sent_to_him(world: World) -> None:
    sent = Message.objects.filter(participant=world.man).values_list("text", flat=True)
    assert not [t for t in sent if any(mark in t for mark in HER_MARKS)]


def test_her_data_is_really_on_the_assigned_enumerators_call_page(world: World) -> None:
    """The control for the grep above: the marks are findable where she may be seen."""
    page = next(p for p in PAGES if p.variant == "her")
    body = request(world, page, "enumerator").content.decode()
    assert any(mark in body for mark in HER_MARKS)
