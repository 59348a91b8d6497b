"""participants.actions: finding men from inbound messages, opting out and back in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from patas.core.crypto import lookup_hash
from patas.core.models import AuditEntry
from patas.messaging.models import Message
from patas.messaging.outbox import Outgoing, enqueue_many, text_payload
from patas.participants import actions
from patas.participants.models import Participant
from patas.programs.texts import system_text

pytestmark = pytest.mark.django_db


def queued_day(man: Participant, count: int = 5) -> None:
    """A day of program messages waiting in the outbox (one template, the rest in the window)."""
    start = datetime(2026, 3, 3, 13, 0, tzinfo=UTC)
    items = [
        Outgoing(
            man.pk,
            {"type": "template", "template": {"name": "day_opener"}},
            Message.Purpose.PROGRAM,
            start,
        )
    ]
    items += [
        Outgoing(
            man.pk, text_payload(f"paso {i}"), Message.Purpose.PROGRAM, start + timedelta(minutes=i)
        )
        for i in range(1, count)
    ]
    enqueue_many(items)


def test_find_or_create_by_user_id_then_phone(vclock):
    at = vclock.now() - timedelta(minutes=1)
    first = actions.find_or_create_from_inbound(
        user_id="PE.abc", phone="+51 987 654 321", profile_name="Jorge", at=at
    )
    assert first.phone == "51987654321"
    assert first.phone_hash == lookup_hash("51987654321")
    assert first.last_inbound_at == at
    again = actions.find_or_create_from_inbound(phone="51987654321")
    assert again.pk == first.pk
    assert again.last_inbound_at == vclock.now()  # no time given: now
    assert Participant.objects.count() == 1


def test_future_time_is_capped_at_now(vclock):
    man = actions.find_or_create_from_inbound(user_id="PE.x", at=vclock.now() + timedelta(days=1))
    assert man.last_inbound_at == vclock.now()


def test_sender_needs_an_identity():
    with pytest.raises(ValueError, match="user id or a phone"):
        actions.Sender(user_id="", phone="+ -")


def test_find_or_create_many_is_set_based(vclock, django_assert_max_num_queries):
    senders = [actions.Sender(user_id=f"PE.{i}", phone=f"5190000{i:04d}") for i in range(200)]
    # Batched statements (SQLite takes ~80 rows per INSERT here), never one per man.
    with django_assert_max_num_queries(12):
        ids = actions.find_or_create_many(senders)
    assert len(set(ids.values())) == 200
    assert AuditEntry.objects.filter(action="participant.created_from_inbound").count() == 200
    with django_assert_max_num_queries(4):
        again = actions.find_or_create_many(senders)
    assert again == ids


def test_opt_out_cancels_the_queued_day_and_confirms_once(vclock):
    man = Participant.objects.create(wa_user_id="PE.1", language="es")
    queued_day(man)
    assert actions.opt_out(man, via_text="SALIR") is True
    assert actions.opt_out(man, via_text="STOP") is False  # already out: no second confirmation
    man.refresh_from_db()
    assert man.opted_out_at == vclock.now()
    out = Message.objects.filter(participant=man, direction=Message.Direction.OUT)
    assert out.filter(purpose=Message.Purpose.PROGRAM, status=Message.Status.CANCELLED).count() == 5
    confirmation = out.get(status=Message.Status.QUEUED)
    assert confirmation.purpose == Message.Purpose.OPT_OUT
    assert confirmation.text == system_text(man, "opt_out_confirmation")
    assert confirmation.payload["text"]["body"] == confirmation.text
    entry = AuditEntry.objects.get(action="participant.opted_out")
    assert entry.details == {"via_text": "SALIR", "cancelled": 5}
    assert entry.actor == f"participant:{man.ref}"


def test_opt_out_leaves_sent_messages_alone(vclock):
    man = Participant.objects.create(wa_user_id="PE.2")
    Message.objects.create(
        direction=Message.Direction.OUT,
        participant=man,
        type="text",
        status=Message.Status.SENT,
        wamid="wamid.sent",
    )
    actions.opt_out(man, via_text="baja")
    assert Message.objects.get(wamid="wamid.sent").status == Message.Status.SENT


def test_opt_in_clears_and_confirms(vclock):
    man = Participant.objects.create(wa_user_id="PE.3", language="en")
    assert actions.opt_in(man) is False  # never out: nothing to do, nothing sent
    actions.opt_out(man, via_text="STOP")
    assert actions.opt_in(man) is True
    man.refresh_from_db()
    assert man.opted_out_at is None
    texts = list(
        Message.objects.filter(participant=man, direction=Message.Direction.OUT)
        .order_by("id")
        .values_list("text", flat=True)
    )
    assert texts == [
        system_text(man, "opt_out_confirmation"),
        system_text(man, "opt_in_confirmation"),
    ]
    assert AuditEntry.objects.filter(action="participant.opted_in").count() == 1
