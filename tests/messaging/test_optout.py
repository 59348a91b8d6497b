"""Router step 10: opt-out words stop everything; VOLVER/START bring him back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from patas.messaging import optout, router
from patas.messaging.models import Message
from patas.messaging.outbox import Outgoing, enqueue_many, text_payload
from patas.participants.models import Participant
from patas.programs.texts import system_text

WHEN = datetime(2026, 3, 2, 11, 59, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["SALIR", "  sálir ", "Stop", "stop!", "baja.", "BAJA", "Parar", "¡Cancelar!", "salir\n"],
)
def test_opt_out_words_after_folding(text):
    assert optout.is_opt_out(text)


@pytest.mark.parametrize(
    "text",
    ["no quiero que me hagan stop", "stop please", "salir a correr", "", "sal", "bajar"],
)
def test_sentences_that_contain_a_word_are_not_opt_outs(text):
    assert not optout.is_opt_out(text)


@pytest.mark.parametrize("text", ["VOLVER", " volver. ", "Start", "vólver"])
def test_opt_in_words(text):
    assert optout.is_opt_in(text)


def test_words_come_from_settings(settings):
    settings.OPT_OUT_WORDS = ["Dejar de recibir"]
    assert optout.is_opt_out("dejar  de RECIBIR")
    assert not optout.is_opt_out("stop")


def test_the_step_is_registered_at_order_10():
    step = next(s for s in router.steps() if s.name == "opt_out")
    assert (step.order, step.handler) == (10, optout.handle)


# --- through the router, with a queued day ------------------------------------------------------

pytestmark_db = pytest.mark.django_db


def make_man() -> Participant:
    return Participant.objects.create(
        wa_user_id="PE.77", phone="51987000077", last_inbound_at=WHEN, language="es"
    )


def queue_day(man: Participant) -> None:
    start = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)
    enqueue_many(
        Outgoing(
            man.pk,
            text_payload(f"día 2, paso {i}"),
            Message.Purpose.PROGRAM,
            start + timedelta(minutes=i),
        )
        for i in range(6)
    )


def inbound(man: Participant, text: str, wamid: str) -> Message:
    return Message.objects.create(
        direction=Message.Direction.IN,
        participant=man,
        type="text",
        payload={"body": text},
        text=text,
        status=Message.Status.RECEIVED,
        wamid=wamid,
    )


def outbound(man: Participant):
    return Message.objects.filter(participant=man, direction=Message.Direction.OUT)


@pytestmark_db
@pytest.mark.parametrize("word", ["  sálir ", "Stop", "baja."])
def test_opt_out_stops_the_queued_day_and_sends_one_confirmation(vclock, word):
    man = make_man()
    queue_day(man)
    assert router.route(inbound(man, word, "wamid.in1")) == "opt_out"
    assert outbound(man).filter(status=Message.Status.CANCELLED).count() == 6
    pending = outbound(man).filter(status=Message.Status.QUEUED)
    assert list(pending.values_list("text", flat=True)) == [
        system_text(man, "opt_out_confirmation")
    ]
    # He writes again (even STOP again): stored, routed, nothing sent back.
    man.refresh_from_db()
    assert router.route(inbound(man, "hola?", "wamid.in2")) == "opt_out"
    assert router.route(inbound(man, "STOP", "wamid.in3")) == "opt_out"
    assert outbound(man).filter(status=Message.Status.QUEUED).count() == 1
    assert Message.objects.filter(participant=man, direction=Message.Direction.IN).count() == 3


@pytestmark_db
def test_a_sentence_with_stop_is_not_an_opt_out(vclock):
    man = make_man()
    queue_day(man)
    step = router.Inbound(
        message=inbound(man, "no quiero que me hagan stop", "wamid.s1"),
        participant=man,
        text="no quiero que me hagan stop",
    )
    assert optout.handle(step) is router.Result.CONTINUE
    man.refresh_from_db()
    assert man.opted_out_at is None
    assert outbound(man).filter(status=Message.Status.QUEUED).count() == 6


@pytestmark_db
def test_volver_resubscribes(vclock):
    man = make_man()
    queue_day(man)
    router.route(inbound(man, "SALIR", "wamid.v1"))
    man.refresh_from_db()
    vclock.advance(timedelta(hours=1))
    assert router.route(inbound(man, "Volver", "wamid.v2")) == "opt_out"
    man.refresh_from_db()
    assert man.opted_out_at is None
    texts = list(
        outbound(man)
        .filter(status=Message.Status.QUEUED)
        .order_by("id")
        .values_list("text", flat=True)
    )
    assert texts == [
        system_text(man, "opt_out_confirmation"),
        system_text(man, "opt_in_confirmation"),
    ]
    # The cancelled day stays cancelled: the program engine schedules what comes next.
    assert outbound(man).filter(status=Message.Status.CANCELLED).count() == 6


@pytestmark_db
def test_volver_from_a_subscribed_man_goes_on_down_the_chain(vclock):
    man = make_man()
    step = router.Inbound(
        message=inbound(man, "volver", "wamid.w1"), participant=man, text="volver"
    )
    assert optout.handle(step) is router.Result.CONTINUE
    assert not outbound(man).exists()
