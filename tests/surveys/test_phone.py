"""A whole partner call through the console pages, with the safety script, as an enumerator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from patas.core.models import AuditEntry
from patas.participants.models import Participant
from patas.surveys import actions
from patas.surveys.models import CallAttempt, Partner, PartnerSurveySession, Status

from .phone_helpers import HER_PHONE, assigned_partner, install_partner_form, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(tmp_path: Path, man: Participant, vclock) -> dict[str, object]:  # type: ignore[no-untyped-def]
    install_partner_form(tmp_path)
    enumerator = staff("ana", "enumerator")
    session = assigned_partner(man, enumerator)
    client = Client()
    client.force_login(enumerator)
    return {"client": client, "session": session, "enumerator": enumerator}


def url(name: str, session: PartnerSurveySession) -> str:
    return reverse(f"surveys:{name}", kwargs={"kind": "partner", "uid": session.uid})


def press(client: Client, session: PartnerSurveySession, action: str, **extra: str) -> str:
    response = client.post(url("step", session), {"action": action, **extra}, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def give(client: Client, session: PartnerSurveySession, question: str, *values: str) -> str:
    data: dict[str, object] = {"question": question, "value": list(values)}
    response = client.post(url("answer", session), data, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def attempt_of(session: PartnerSurveySession) -> CallAttempt:
    return CallAttempt.objects.filter(partner_session=session).latest("started_at")


def test_a_whole_first_call_to_her(call, vclock) -> None:  # type: ignore[no-untyped-def]
    client, session = call["client"], call["session"]
    listing = client.get(reverse("surveys:calls")).content.decode()
    assert session.partner.ref in listing and "Bienestar familiar" in listing
    page = client.get(url("call", session)).content.decode()
    assert HER_PHONE in page and "Nunca deje un mensaje de voz" in page  # the reminder
    english = client.get(url("call", session), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Never leave a voicemail" in english and "Start a call" in english

    client.post(url("start", session))
    page = client.get(url("call", session)).content.decode()
    assert "estudio de bienestar familiar" in page and "Llegó alguien" in page
    page = press(client, session, "reached")
    assert "¿Está sola y puede" in page  # the alone check, before any question
    page = press(client, session, "alone_yes")
    assert "¿Acepta participar?" in page and "¿Tiene hijos?" not in page
    page = press(client, session, "consent_yes")
    partner = Partner.objects.get(pk=session.partner_id)
    assert partner.consented and partner.consent_recorded_by == "user:ana"
    assert "Gracias por aceptar." in page and "¿Tiene hijos?" in page  # note read with it

    page = give(client, session, "children", "yes")
    assert "¿Cuántos hijos?" in page  # relevant: asked because she has children
    page = give(client, session, "kids", "40")
    assert "Entre 1 y 15." in page and "¿Cuántos hijos?" in page  # re-asked with the message
    page = give(client, session, "kids", "2")
    assert "¿Cuántas veces discutieron?" in page
    # a choice named "1" is the choice "Una vez", not the first choice ("Nunca", named "0")
    page = give(client, session, "argue", "1")
    session.refresh_from_db()
    assert session.answers["argue"] == "1" and session.answers["kids"] == "2"

    page = press(client, session, "interrupt")  # someone came in
    assert "servicios de salud" in page and "¿Algo más?" not in page
    assert "¿Tiene hijos?" not in page and "Bienestar familiar" not in page
    rejected = give(client, session, "comment", "x")  # the real form stays closed
    assert "El formulario no está abierto en esta llamada." in rejected
    assert attempt_of(session).interrupted
    page = press(client, session, "resume")
    assert "¿Algo más?" in page

    page = client.post(
        url("answer", session), {"question": "comment", "back": "1"}, follow=True
    ).content.decode()
    assert "¿Cuántas veces discutieron?" in page and 'value="1" checked' in page
    give(client, session, "argue", "2")
    page = give(client, session, "comment", "todo bien <script>alert(1)</script>")
    session.refresh_from_db()
    assert session.status == Status.COMPLETED
    assert session.answers == {
        "children": "yes",
        "kids": "2",
        "argue": "2",
        "comment": "todo bien <script>alert(1)</script>",
    }
    attempt = attempt_of(session)
    assert (attempt.outcome, attempt.interrupted, attempt.enumerator) == (
        "completed",
        True,
        call["enumerator"],
    )
    actions_logged = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"call.started", "call.interrupted", "call.resumed", "call.ended"} <= actions_logged
    assert {"partner.consent", "survey.answered", "survey.completed"} <= actions_logged


def test_skip_logic_required_and_optional_answers(call) -> None:  # type: ignore[no-untyped-def]
    client, session = call["client"], call["session"]
    client.post(url("start", session))
    for action in ("reached", "alone_yes", "consent_yes"):
        press(client, session, action)
    page = give(client, session, "children")
    assert "Esta pregunta necesita una respuesta." in page  # required: asked again
    page = give(client, session, "children", "no")
    assert "¿Cuántos hijos?" not in page and "¿Cuántas veces discutieron?" in page
    page = give(client, session, "argue")  # optional, left empty: skipped
    assert "¿Algo más?" in page
    give(client, session, "comment")
    session.refresh_from_db()
    assert session.status == Status.COMPLETED
    assert session.answers == {"children": "no", "argue": "", "comment": ""}


def test_not_alone_reschedules_and_consent_is_asked_once(call, vclock) -> None:  # type: ignore[no-untyped-def]
    client, session = call["client"], call["session"]
    client.post(url("start", session))
    press(client, session, "reached")
    page = press(client, session, "alone_no")
    assert 'type="datetime-local"' in page
    page = press(client, session, "reschedule", when="2026-02-01T10:00")
    assert "La próxima llamada debe ser en el futuro." in page
    assert attempt_of(session).ended_at is None  # nothing changed
    press(client, session, "reschedule", when="2026-03-04T19:00")
    attempt = attempt_of(session)
    assert attempt.outcome == "reschedule"
    assert attempt.appointment_at == datetime(2026, 3, 5, 0, 0, tzinfo=UTC)
    listing = call["client"].get(reverse("surveys:calls")).content.decode()
    assert "04/03/2026 19:00" in listing  # the appointment, in Lima time

    vclock.advance(timedelta(hours=80))  # idle between calls: the runner times it out
    assert actions.close_stale_sessions(vclock.now(), timedelta(hours=72)) == 1
    client.post(url("start", session))  # the next call reopens it
    session.refresh_from_db()
    assert session.status == Status.OPEN
    press(client, session, "reached")
    page = press(client, session, "alone_yes")
    assert "¿Acepta participar?" in page  # the first call ended before her consent
    press(client, session, "consent_yes")
    press(client, session, "later")  # she must go: another time
    press(client, session, "reschedule", when="2026-03-07T09:00")
    client.post(url("start", session))
    press(client, session, "reached")
    page = press(client, session, "alone_yes")
    assert "¿Acepta participar?" not in page and "¿Tiene hijos?" in page  # consent once
    outcomes = CallAttempt.objects.filter(partner_session=session).order_by("started_at")
    assert [a.outcome for a in outcomes] == ["reschedule", "reschedule", ""]


def test_refusal_ends_politely_and_is_recorded(call) -> None:  # type: ignore[no-untyped-def]
    client, session = call["client"], call["session"]
    client.post(url("start", session))
    press(client, session, "reached")
    press(client, session, "alone_yes")
    page = press(client, session, "consent_no")
    assert "muchas gracias por su tiempo" in page
    session.refresh_from_db()
    partner = Partner.objects.get(pk=session.partner_id)
    assert partner.consent_answer == "decline" and session.status == Status.ABANDONED
    assert attempt_of(session).outcome == "refused"
    client.post(url("start", session))  # she is not called again
    assert CallAttempt.objects.filter(partner_session=session).count() == 1


@pytest.mark.parametrize(
    ("action", "outcome"), [("no_answer", "no_answer"), ("wrong_number", "wrong_number")]
)
def test_no_answer_and_wrong_number(call, action: str, outcome: str) -> None:  # type: ignore[no-untyped-def]
    client, session = call["client"], call["session"]
    client.post(url("start", session))
    press(client, session, action)
    assert attempt_of(session).outcome == outcome
    assert AuditEntry.objects.filter(action="call.ended", details__outcome=outcome).exists()


def test_interrupted_call_ends_with_the_interrupted_outcome(call) -> None:  # type: ignore[no-untyped-def]
    client, session = call["client"], call["session"]
    client.post(url("start", session))
    press(client, session, "reached")
    press(client, session, "interrupt")
    press(client, session, "end_interrupted")
    assert attempt_of(session).outcome == "interrupted"


def test_the_form_is_hidden_until_she_consents(call) -> None:  # type: ignore[no-untyped-def]
    client, session = call["client"], call["session"]
    client.post(url("start", session))
    page = give(client, session, "children", "yes")
    assert "El formulario no está abierto en esta llamada." in page
    session.refresh_from_db()
    assert session.answers == {}
