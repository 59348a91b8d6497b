"""Triage in the router: held messages, alerts, the helpline reply once, supervisor actions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import TestCase

from patas.core.models import AuditEntry
from patas.messaging import router
from patas.messaging.models import Message
from patas.safety import actions
from patas.safety.models import Alert

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def only_triage(monkeypatch):  # type: ignore[no-untyped-def]
    """Route through the triage step alone: the other apps' steps have tests of their own."""
    monkeypatch.setattr(router, "_steps", {"triage": router._steps["triage"]})


def route(message: Message) -> Message:
    router.route(Message.objects.select_related("participant").get(pk=message.pk))
    message.refresh_from_db()
    return message


def helplines_to(participant) -> list[Message]:  # type: ignore[no-untyped-def]
    return list(
        Message.objects.filter(
            participant=participant, direction="out", purpose=Message.Purpose.SAFETY
        )
    )


def test_a_disclosure_is_held_alerted_and_answered_with_his_helplines(
    vclock, mini_pack, make_participant, inbound, settings
):  # type: ignore[no-untyped-def]
    settings.ONCALL_EMAIL = ["oncall@example.org"]
    man = make_participant()
    inbound(man, "hola causa")
    msg = inbound(man, "anoche le pegue a mi esposa")
    with TestCase.captureOnCommitCallbacks(execute=True):
        route(msg)
    assert msg.held is True
    alert = Alert.objects.get(message=msg)
    assert (alert.category, alert.severity, alert.status) == ("violence_disclosed", "high", "open")
    assert alert.due_at == vclock.now() + timedelta(minutes=60)
    assert alert.context_message_ids == [msg.pk - 1]
    [reply] = helplines_to(man)
    assert "Linea 100: 100 (las 24 horas)" in reply.text
    assert len(mail.outbox) == 1 and alert.ref in mail.outbox[0].subject
    assert "esposa" not in mail.outbox[0].body  # his words never go by e-mail
    assert AuditEntry.objects.filter(action="safety.alert_raised", object_id=str(alert.pk)).exists()


def test_everyday_talk_is_neither_held_nor_alerted(mini_pack, make_participant, inbound):  # type: ignore[no-untyped-def]
    msg = route(inbound(make_participant(), "me mata de risa este grupo"))
    assert msg.held is False
    assert not Alert.objects.exists()


def test_the_helpline_reply_is_sent_once_when_he_writes_three_times(
    vclock, mini_pack, make_participant, inbound
):  # type: ignore[no-untyped-def]
    man = make_participant()
    for text in ["me quiero matar", "ya no quiero vivir", "me quiero matar en serio"]:
        route(inbound(man, text))
    assert Alert.objects.filter(participant=man).count() == 3
    assert len(helplines_to(man)) == 1
    assert Message.objects.filter(participant=man, direction="in", held=True).count() == 3


def test_the_helpline_comes_again_after_the_alerts_are_resolved(
    vclock, mini_pack, make_participant, inbound
):  # type: ignore[no-untyped-def]
    man = make_participant()
    route(inbound(man, "me quiero matar"))
    supervisor = User.objects.create_user("sup")
    for alert in Alert.objects.filter(participant=man):
        actions.resolve(alert, supervisor, "called him, he is safe")
    route(inbound(man, "me quiero matar"))
    assert len(helplines_to(man)) == 2


def test_english_speaker_outside_peru_gets_the_default_helplines(
    mini_pack, make_participant, inbound
):  # type: ignore[no-untyped-def]
    man = make_participant(phone="447700900123", language="en")
    route(inbound(man, "I want to kill myself"))
    [reply] = helplines_to(man)
    assert reply.text.startswith("Thank you") and "Emergencias: 911" in reply.text


def test_supervisor_steps_are_audited_and_checked(vclock, mini_pack, make_participant, inbound):  # type: ignore[no-untyped-def]
    route(inbound(make_participant(), "la voy a matar"))
    alert = Alert.objects.get()
    sup = User.objects.create_user("sup")
    actions.acknowledge(alert, sup)
    actions.add_note(alert, sup, "llamamos, no contesta")
    actions.escalate(alert, sup, "amenaza concreta")
    actions.resolve(alert, sup, "derivado a la policia")
    assert alert.status == "resolved"
    assert list(alert.notes.values_list("kind", flat=True)) == [
        "acknowledge",
        "note",
        "escalate",
        "resolve",
    ]
    done = set(AuditEntry.objects.filter(object_id=str(alert.pk)).values_list("action", flat=True))
    assert {
        "safety.alert_acknowledged",
        "safety.alert_note_added",
        "safety.alert_escalated",
        "safety.alert_resolved",
    } <= done
    with pytest.raises(actions.AlertError, match="resolved"):
        actions.acknowledge(alert, sup)
    with pytest.raises(actions.AlertError, match="text"):
        actions.add_note(alert, sup, "   ")


def test_escalation_mails_the_on_call_again_and_medium_alerts_do_not(
    vclock, mini_pack, make_participant, inbound, settings
):  # type: ignore[no-untyped-def]
    settings.ONCALL_EMAIL = ["oncall@example.org"]
    with TestCase.captureOnCommitCallbacks(execute=True):
        route(inbound(make_participant(), "estoy desesperado no se que hacer"))
    alert = Alert.objects.get()
    assert alert.severity == "medium" and mail.outbox == []
    assert alert.due_at == vclock.now() + timedelta(hours=8)
    with TestCase.captureOnCommitCallbacks(execute=True):
        actions.escalate(alert, User.objects.create_user("sup"), "no contesta el telefono")
    assert len(mail.outbox) == 1
    alert.refresh_from_db()
    assert alert.due_at == vclock.now() + timedelta(minutes=60)  # escalated: the high SLA


def test_a_pack_without_the_helpline_text_still_holds_and_alerts(
    mini_pack, make_participant, inbound
):  # type: ignore[no-untyped-def]
    (mini_pack / "messages.yaml").write_text("relay_line:\n  text: {es: x, en: x}\n")
    man = make_participant()
    msg = route(inbound(man, "me quiero matar"))
    assert msg.held is True and Alert.objects.filter(message=msg).exists()
    assert helplines_to(man) == []
    assert AuditEntry.objects.filter(action="safety.helpline_failed").exists()
