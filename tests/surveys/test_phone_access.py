"""Who may open a phone call: her enumerator only; his calls also admins and supervisors."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from patas.groups.models import Group, Membership
from patas.participants.models import Participant
from patas.surveys import actions, phone_actions
from patas.surveys.models import CallAttempt, PartnerSurveySession, SurveySession

from .conftest import make_participant
from .helpers import SMALL_FORM
from .phone_helpers import HER_PHONE, assigned_partner, install_partner_form, staff

pytestmark = pytest.mark.django_db
ROLES = ["admin", "supervisor", "facilitator", "enumerator", "researcher"]


@pytest.fixture
def world(tmp_path: Path, man: Participant, vclock) -> dict[str, object]:  # type: ignore[no-untyped-def]
    install_partner_form(tmp_path)
    (tmp_path / "small.md").write_text(SMALL_FORM, encoding="utf-8")
    actions.install_form(tmp_path / "small.md")
    users = {role: staff(role, role) for role in ROLES}
    users["other_enumerator"] = staff("other", "enumerator")
    users["nobody"] = staff("nobody")
    her_session = assigned_partner(man, users["enumerator"])
    his_session = phone_actions.assign_phone_survey(man, "small", enumerator=users["enumerator"])
    group = Group.objects.create(name="Grupo Lima", facilitator=users["facilitator"])
    membership = Membership.objects.create(group=group, participant=man, pseudonym="Puma Sereno")
    return {"users": users, "her": her_session, "his": his_session, "member": membership}


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def call_url(name: str, kind: str, session: PartnerSurveySession | SurveySession) -> str:
    return reverse(f"surveys:{name}", kwargs={"kind": kind, "uid": session.uid})


HER_CALL = {"enumerator"}
HIS_CALL = {"enumerator", "admin", "supervisor"}


@pytest.mark.parametrize("role", [*ROLES, "other_enumerator", "nobody"])
def test_who_opens_her_call_and_his(world, role: str) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world["users"][role])
    her = client.get(call_url("call", "partner", world["her"]))
    his = client.get(call_url("call", "men", world["his"]))
    assert her.status_code == (200 if role in HER_CALL else 404)
    assert his.status_code == (200 if role in HIS_CALL else 404)
    if role not in HER_CALL:
        assert HER_PHONE not in her.content.decode()


@pytest.mark.parametrize(
    "role", ["admin", "supervisor", "facilitator", "researcher", "other_enumerator"]
)
def test_nobody_else_can_act_on_her_call(world, role: str) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world["users"][role])
    her = world["her"]
    assert client.post(call_url("start", "partner", her)).status_code == 404
    assert client.post(call_url("step", "partner", her), {"action": "reached"}).status_code == 404
    answer = client.post(call_url("answer", "partner", her), {"question": "children"})
    assert answer.status_code == 404
    assert not CallAttempt.objects.exists()


def test_a_wrong_kind_or_unknown_call_is_not_found(world) -> None:  # type: ignore[no-untyped-def]
    client = client_for(world["users"]["enumerator"])
    assert client.get(call_url("call", "men", world["her"])).status_code == 404
    assert client.get(call_url("call", "other", world["his"])).status_code == 404


def test_anonymous_users_are_sent_to_log_in(world) -> None:  # type: ignore[no-untyped-def]
    response = Client().get(call_url("call", "partner", world["her"]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_researchers_see_only_counts(world) -> None:  # type: ignore[no-untyped-def]
    enumerator = client_for(world["users"]["enumerator"])
    enumerator.post(call_url("start", "partner", world["her"]))
    enumerator.post(call_url("step", "partner", world["her"]), {"action": "no_answer"})
    client = client_for(world["users"]["researcher"])
    assert client.get(reverse("surveys:calls")).url == reverse("surveys:summary")  # type: ignore[attr-defined]
    page = client.get(reverse("surveys:summary")).content.decode()
    assert "no contesta</td><td>1</td>" in page.replace("\n", "")
    her, his = world["her"], world["his"]
    for secret in (her.partner.ref, his.participant.ref, HER_PHONE, str(her.uid)):
        assert secret not in page
    assert (
        client_for(world["users"]["facilitator"]).get(reverse("surveys:summary")).status_code == 404
    )


def test_my_calls_lists_only_what_is_mine(world) -> None:  # type: ignore[no-untyped-def]
    mine = client_for(world["users"]["enumerator"]).get(reverse("surveys:calls")).content.decode()
    assert world["her"].partner.ref in mine and world["his"].participant.ref in mine
    other = client_for(world["users"]["other_enumerator"]).get(reverse("surveys:calls"))
    assert world["her"].partner.ref not in other.content.decode()
    supervisor = client_for(world["users"]["supervisor"]).get(reverse("surveys:calls"))
    text = supervisor.content.decode()
    assert world["his"].participant.ref in text and world["her"].partner.ref not in text
    assert (
        client_for(world["users"]["facilitator"]).get(reverse("surveys:calls")).status_code == 404
    )


def test_nothing_of_hers_on_the_mans_pages(world) -> None:  # type: ignore[no-untyped-def]
    enumerator = client_for(world["users"]["enumerator"])
    her = world["her"]
    enumerator.post(call_url("start", "partner", her))
    for action in ("reached", "alone_yes", "consent_yes"):
        enumerator.post(call_url("step", "partner", her), {"action": action})
    enumerator.post(call_url("answer", "partner", her), {"question": "children", "value": "yes"})
    her.refresh_from_db()
    assert her.answers == {"children": "yes"}
    member_url = reverse("console:member", kwargs={"uid": world["member"].uid})
    for role in ("admin", "supervisor", "facilitator"):
        page = client_for(world["users"][role]).get(member_url)
        assert page.status_code == 200
        text = page.content.decode()
        for secret in (her.partner.ref, HER_PHONE, "¿Tiene hijos?", "Bienestar familiar"):
            assert secret not in text
    his_call = client_for(world["users"]["admin"]).get(call_url("call", "men", world["his"]))
    text = his_call.content.decode()
    assert world["his"].participant.ref in text
    for secret in (her.partner.ref, HER_PHONE, "¿Tiene hijos?"):
        assert secret not in text


def test_a_mans_phone_survey_sends_him_nothing(world) -> None:  # type: ignore[no-untyped-def]
    from patas.messaging.models import Message

    client = client_for(world["users"]["enumerator"])
    his = world["his"]
    client.post(call_url("start", "men", his))
    page = client.post(call_url("step", "men", his), {"action": "reached"}, follow=True)
    assert "¿Qué edad tiene?" in page.content.decode()  # straight to the form: no safety script
    page = client.post(call_url("answer", "men", his), {"question": "age", "value": "12"})
    assert "Debe tener entre 18 y 60 años." in page.content.decode()
    client.post(call_url("answer", "men", his), {"question": "age", "value": "34"})
    his.refresh_from_db()
    assert his.answers["age"] == "34" and his.current_question == "partner"
    assert not Message.objects.filter(direction=Message.Direction.OUT).exists()
    interrupt = client.post(call_url("step", "men", his), {"action": "interrupt"}, follow=True)
    assert "«Llegó alguien» no corresponde en esta pantalla." in interrupt.content.decode()


def test_a_man_cannot_be_given_a_partners_form_and_she_is_not_assigned_twice(world) -> None:  # type: ignore[no-untyped-def]
    man = make_participant(2)
    enumerator = world["users"]["enumerator"]
    with pytest.raises(actions.SurveyError, match="not a men's form"):
        phone_actions.assign_phone_survey(man, "partner_small", enumerator=enumerator)
    with pytest.raises(actions.SurveyError, match="already has"):
        phone_actions.assign_partner_call(
            world["her"].partner, "partner_small", enumerator=enumerator
        )


def test_text_from_forms_and_answers_is_escaped(world) -> None:  # type: ignore[no-untyped-def]
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    from patas.surveys import phone

    request = RequestFactory().get("/")
    request.user = world["users"]["enumerator"]
    screen = phone.Screen("comment", "text", "<b>label</b>", "", False, value="<script>x</script>")
    context = {
        "kind": "partner",
        "session": world["her"],
        "attempt": object(),
        "stage": "form",
        "screen": screen,
        "notes": ("<i>note</i>",),
        "script": phone.script_for("es"),
        "past": [],
    }
    page = render_to_string("surveys/call.html", context, request=request)
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "<b>label</b>" not in page and "<i>note</i>" not in page
