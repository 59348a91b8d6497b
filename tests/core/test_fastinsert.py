"""core.fastinsert: one unnest INSERT (PostgreSQL) or one executemany (SQLite) writes what the
ORM would."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection

from patas.core.fastinsert import insert_returning_ids, insert_rows, insert_unnest
from patas.messaging.models import Message, StatusEvent
from patas.participants.models import Participant
from patas.whatsapp.models import WebhookEvent

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")


def message_columns(man: Participant, wamids: list[str], when) -> dict[str, list]:
    return {
        "uid": [uuid.uuid4() for _ in wamids],
        "participant_id": [man.pk] * len(wamids),
        "wamid": wamids,
        "payload": [{"body": 'ñ "x"'}] + [{"body": "b"}] * (len(wamids) - 1),
        "created_at": [when] * len(wamids),
        "flags": [["x"]] * len(wamids),
    }


def test_insert_rows_writes_what_the_orm_reads_back_on_either_database(vclock):
    man = Participant.objects.create(wa_user_id="PE.fast0")
    fixed = {"direction": "in", "status": "received", "requires_window": False}
    insert_rows(Message, message_columns(man, ["w.1", "w.2"], vclock.now()), fixed)
    first = Message.objects.get(wamid="w.1")
    assert first.participant_id == man.pk and first.created_at == vclock.now()
    assert first.payload == {"body": 'ñ "x"'} and first.flags == ["x"] and first.attempts == 0
    assert (first.direction, first.status, first.requires_window) == ("in", "received", False)
    assert isinstance(first.uid, uuid.UUID)
    # A row that breaks a unique constraint is skipped with ignore_conflicts, refused without.
    again = message_columns(man, ["w.2", "w.3"], vclock.now())
    insert_rows(Message, again, fixed, ignore_conflicts=True)
    assert sorted(Message.objects.values_list("wamid", flat=True)) == ["w.1", "w.2", "w.3"]
    with pytest.raises(IntegrityError):
        insert_rows(Message, message_columns(man, ["w.1"], vclock.now()), fixed)
    insert_rows(Message, {"wamid": []}, fixed)  # nothing to write: no statement, no error


def test_returned_ids_name_the_rows_written_in_order(vclock):
    WebhookEvent.objects.create(body=b"before", received_at=vclock.now())  # ids do not start at 1
    bodies = [b"\x00first", b"second", "tercero \u00f1".encode()]
    ids = insert_returning_ids(
        WebhookEvent,
        {
            "body": bodies,
            "received_at": [vclock.now() + timedelta(seconds=i) for i in range(3)],
            "messages": [1, 0, 2],
            "note": ["", "n", ""],
        },
        {"outcome": WebhookEvent.Outcome.PARSED},
    )
    assert len(ids) == 3 and ids == sorted(ids)
    written = {e.pk: e for e in WebhookEvent.objects.filter(pk__in=ids)}
    for i, pk in enumerate(ids):
        event = written[pk]
        assert bytes(event.body) == bodies[i] and event.messages == [1, 0, 2][i]
        assert event.received_at == vclock.now() + timedelta(seconds=i)
        assert (event.outcome, event.statuses) == (WebhookEvent.Outcome.PARSED, 0)
    assert insert_returning_ids(WebhookEvent, {"body": []}) == []


def test_insert_rows_fixed_values_and_per_call_defaults(vclock):
    columns = {"wamid": ["a", "a"], "status": ["sent", "read"], "billable": [True, None]}
    columns["at"] = [vclock.now(), vclock.now()]
    insert_rows(StatusEvent, columns, {"applied": True})
    vclock.advance(timedelta(seconds=60))
    insert_rows(StatusEvent, {**columns, "wamid": ["b", "b"]})
    rows = {(e.wamid, e.status): e for e in StatusEvent.objects.all()}
    assert rows["a", "sent"].applied and rows["a", "read"].billable is None
    assert not rows["b", "sent"].applied  # the field's default, not the first call's fixed
    assert rows["b", "sent"].received_at == vclock.now()  # default computed per call
    assert rows["a", "sent"].received_at == vclock.now() - timedelta(seconds=60)


@postgres_only
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


@postgres_only
def test_mistakes_are_refused_not_written():
    with pytest.raises(ValueError, match="no field"):
        insert_unnest(WebhookEvent, {"bodyy": [b"a"]})
    with pytest.raises(ValueError, match="uid is unique"):
        insert_unnest(Message, {"wamid": ["w"]}, {"direction": "in", "status": "received"})
    assert not Message.objects.exists() and not WebhookEvent.objects.exists()


def test_mistakes_are_refused_on_either_database():
    with pytest.raises(ValueError, match="no field"):
        insert_rows(StatusEvent, {"wamidd": ["a"]})
    with pytest.raises(ValueError, match="uid is unique"):
        insert_rows(Message, {"wamid": ["w"]}, {"direction": "in", "status": "received"})
    assert not Message.objects.exists() and not StatusEvent.objects.exists()
