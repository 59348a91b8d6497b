"""core.fastinsert: one unnest INSERT (PostgreSQL) writes what the ORM would."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from patas.core.fastinsert import insert_unnest
from patas.messaging.models import Message
from patas.participants.models import Participant
from patas.whatsapp.models import WebhookEvent

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only"),
]


def test_rows_keys_defaults_order_and_conflicts(vclock):
    man = Participant.objects.create(wa_user_id="PE.fast1")
    events = insert_unnest(
        WebhookEvent, {"body": [b"a", b"b\x00"], "messages": [1, 2]}, returning="id"
    )
    assert events == sorted(events)
    assert [bytes(e.body) for e in WebhookEvent.objects.order_by("id")] == [b"a", b"b\x00"]
    rows = {
        "uid": [uuid.uuid4(), uuid.uuid4()],
        "participant_id": [man.pk, man.pk],  # by column name
        "webhook_event": events,  # by field name
        "wamid": ["wamid.1", "wamid.2"],
        "payload": [{"body": 'ñ "x"'}, {"body": "b"}],
        "created_at": [vclock.now(), vclock.now()],
    }
    fixed = {"direction": "in", "status": "received", "requires_window": False}
    stored = insert_unnest(Message, rows, fixed, conflict_target="wamid", returning="wamid")
    assert stored == ["wamid.1", "wamid.2"]
    first = Message.objects.get(wamid="wamid.1")
    assert (first.participant_id, first.webhook_event_id) == (man.pk, events[0])
    assert first.payload == {"body": 'ñ "x"'} and first.flags == [] and first.attempts == 0
    rows["uid"] = [uuid.uuid4(), uuid.uuid4()]
    rows["wamid"] = ["wamid.2", "wamid.3"]
    assert insert_unnest(Message, rows, fixed, conflict_target="wamid", returning="wamid") == [
        "wamid.3"
    ]


def test_mistakes_are_refused_not_written():
    with pytest.raises(ValueError, match="no field"):
        insert_unnest(WebhookEvent, {"bodyy": [b"a"]})
    with pytest.raises(ValueError, match="uid is unique"):
        insert_unnest(Message, {"wamid": ["w"]}, {"direction": "in", "status": "received"})
    assert not Message.objects.exists() and not WebhookEvent.objects.exists()
