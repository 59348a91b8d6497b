"""Survey answers routed as a batch: the same sessions, outbox rows, audit rows and routes as one
by one, in far fewer statements; anything an earlier step would act on goes one by one."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patas.core.models import AuditEntry
from patas.messaging import router
from patas.messaging.models import Message
from patas.participants.models import Participant
from patas.safety.models import Alert
from patas.surveys import actions
from patas.surveys.models import SurveySession

from .conftest import make_participant
from .test_actions import inbound

pytestmark = pytest.mark.django_db

# What each man types, round by round; some answers are refused and asked again.
SCRIPT = ["30", "sí", "5", "bien", "dinero", "lima", "nada más", "gracias"]
MEN = 7


def _special(index: int, round_: int) -> str | None:
    """Messages an earlier step acts on, or the survey step declines, for some men."""
    if index == 2 and round_ == 1:
        return "a veces me quiero matar"  # a triage hit: held, alert, helpline, still an answer
    if index == 3 and round_ == 3:
        return "SALIR"  # opt-out: his later messages are stored, never answered
    return None


def _play(men: list[Participant]) -> None:
    for man in men:
        actions.start_chat_survey(man, "small")
    for round_, said in enumerate(SCRIPT):
        for index, man in enumerate(men):
            inbound(man, _special(index, round_) or said)
            if index == 1:
                inbound(man, "otra cosa")  # his second message in the batch: one by one
            if index == 4 and round_ == 2:
                inbound(man, "Listo", reply_id="day:3:done")  # another flow's button
        router.route_pending()


def _what_happened(men: list[Participant]) -> list[tuple]:
    """Per man: his session, his outbox in order, his audit rows, his messages' routes; ids of
    men and sessions replaced by placeholders so two sets of men compare."""
    seen = []
    for man in men:
        session = SurveySession.objects.get(participant=man)
        ids = {
            f"participant:{man.pk}": "participant:M",
            f"participant:{man.ref}": "participant:ref",
            str(session.pk): "S",
            str(man.pk): "M",
        }
        out = list(
            Message.objects.filter(participant=man, direction="out")
            .order_by("id")
            .values_list("purpose", "type", "text", "payload", "status")
        )
        routes = list(
            Message.objects.filter(participant=man, direction="in")
            .order_by("id")
            .values_list("route", "held")
        )
        trail = [
            (ids.get(a.actor, a.actor), a.action, a.object_type, a.details)
            for a in AuditEntry.objects.filter(
                object_id__in=[str(session.pk), str(man.pk)],
                object_type__in=["surveys.surveysession", "participants.participant"],
            ).order_by("id")
        ]
        alerts = Alert.objects.filter(message__participant=man).count()
        seen.append((session.status, session.state, out, routes, trail, alerts))
    return seen


def test_batches_do_what_one_by_one_does(small_record, vclock, monkeypatch) -> None:
    batched = [make_participant(n) for n in range(1, MEN + 1)]
    _play(batched)
    with_batches = _what_happened(batched)

    monkeypatch.setattr(router, "route_batches", lambda batch, skips: set())
    single = [make_participant(n) for n in range(101, 101 + MEN)]
    _play(single)
    one_by_one = _what_happened(single)

    assert with_batches == one_by_one
    assert Message.objects.filter(route="open_survey").count() > MEN * 4  # it was exercised
    assert {status for status, *_ in with_batches} == {"completed", "open", "abandoned"}
    assert with_batches[2][5] == 1  # the triage hit raised its alert in both runs
    assert ("opt_out", False) in with_batches[3][3]  # and SALIR was an opt-out
    assert with_batches[3][0] == "abandoned"  # which abandoned his open survey


def test_a_batch_of_answers_takes_a_few_statements(small_record, vclock, monkeypatch) -> None:
    men = [make_participant(n) for n in range(1, 31)]
    for man in men:
        actions.start_chat_survey(man, "small")
        inbound(man, "30")
    router.route_pending()  # their first messages: attribution acts, so one by one
    for man in men:
        inbound(man, "sí")
    with CaptureQueriesContext(connection) as batch:
        assert router.route_pending() == 30
    assert Message.objects.filter(route="open_survey").count() == 60
    assert {s.current_question for s in SurveySession.objects.all()} == {"years"}
    for man in men:
        inbound(man, "5")
    monkeypatch.setattr(router, "route_batches", lambda batch, skips: set())
    with CaptureQueriesContext(connection) as single:
        router.route_pending(limit=1)  # one message, one by one
    # one by one costs about a dozen statements per message; the batch about that for all 30
    print(f"statements: batch of 30 {len(batch)}, one message {len(single)}")
    assert len(batch) < 2 * len(single), (len(batch), len(single))


def test_a_failing_batch_changes_nothing_and_its_messages_go_one_by_one(
    small_record, vclock, monkeypatch, caplog
) -> None:
    men = [make_participant(n) for n in range(1, 4)]
    for man in men:
        actions.start_chat_survey(man, "small")
        inbound(man, "hola")  # refused (not a number): asked again
    router.route_pending()  # first messages go one by one (attribution)
    for man in men:
        inbound(man, "30")

    def broken(entries):
        for session, _, _ in entries:  # a partial write first, which the rollback must undo
            session.state = {**session.state, "current": "broken"}
            session.save()
        raise RuntimeError("disk full")

    monkeypatch.setattr(actions, "answer_sessions", broken)
    assert router.route_pending() == 3
    assert "could not route its batch" in caplog.text
    routes = Message.objects.filter(direction="in").values_list("route", flat=True)
    assert list(routes) == ["open_survey"] * 6
    assert {s.current_question for s in SurveySession.objects.all()} == {"partner"}
