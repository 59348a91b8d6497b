"""The fan-out's fast write and read paths (executemany on SQLite, COPY on PostgreSQL) and its
two lanes on PostgreSQL: same rows as the ORM would write, nothing decided twice."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, transaction

from patas.core.fastread import values_list_of_dicts
from patas.messaging.models import Message
from patas.messaging.outbox import Outgoing, enqueue_many, text_payload
from patas.participants.models import Participant
from patas.programs import day_content, jobs
from patas.programs.apply import VALUE_FIELDS
from patas.programs.bulk import insert_days, insert_outbox
from patas.programs.models import DayProgress, Enrolment

SKIP = {"id", "uid"}


def _man(n: int, now, **fields) -> Participant:  # type: ignore[no-untyped-def]
    return Participant.objects.create(
        wa_user_id=f"PE.bulk{n}",
        profile_name=f"Hombre{n} Apellido",
        status="enrolled",
        last_inbound_at=now - timedelta(hours=3),
        **fields,
    )


def _enrol(man: Participant, now, **fields) -> Enrolment:  # type: ignore[no-untyped-def]
    values = {
        "program_id": "test-program",
        "program_version": "t1",
        "current_day": 3,
        "phase": "content",
        "day_started_at": now - timedelta(days=1),
        "next_wake_at": now,
        "enrolled_at": now - timedelta(days=4),
        "last_reply_at": now - timedelta(hours=20),
    }
    values.update(fields)
    return Enrolment.objects.create(participant=man, **values)


def _row(message: Message) -> dict:
    return {k: v for k, v in message.__dict__.items() if not k.startswith("_") and k not in SKIP}


@pytest.mark.django_db
def test_insert_outbox_writes_what_enqueue_many_writes(vclock):
    now = vclock.now()
    man = _man(1, now)
    template = {"type": "template", "template": {"name": "t_opener", "language": {"code": "es"}}}
    items = [
        Outgoing(man.pk, text_payload("Hola\tcon\\barra\ny salto"), "program"),
        Outgoing(man.pk, template, "program", now + timedelta(minutes=5), "t_opener Juan 4"),
        Outgoing(man.pk, {"type": "text", "text": {"body": "ñandú 👋"}}, "reminder", None, "x"),
    ]
    assert insert_outbox(items, now) == 3
    fast = list(Message.objects.order_by("id"))
    Message.objects.all().delete()
    enqueue_many(items)
    orm = list(Message.objects.order_by("id"))
    assert [_row(m) for m in fast] == [_row(m) for m in orm]
    assert len({m.uid for m in fast}) == 3


@pytest.mark.django_db(transaction=True)
def test_insert_days_keeps_the_days_that_exist(vclock):
    now = vclock.now()
    enrolment = _enrol(_man(1, now), now)
    other = _enrol(_man(2, now), now)
    DayProgress.objects.create(enrolment=enrolment, day=4, started_at=now, reminders=2)
    later = now + timedelta(hours=1)
    with transaction.atomic():  # twice in one transaction: the staging table starts empty
        insert_days([(enrolment.pk, 4, {}), (enrolment.pk, 5, {"opener_sent_at": later})], later)
        insert_days([(other.pk, 4, {"opened_at": later, "content_sent_at": later})], later)
    days = {(d.enrolment_id, d.day): d for d in DayProgress.objects.all()}
    assert set(days) == {(enrolment.pk, 4), (enrolment.pk, 5), (other.pk, 4)}
    assert days[(enrolment.pk, 4)].started_at == now and days[(enrolment.pk, 4)].reminders == 2
    assert days[(enrolment.pk, 5)].opener_sent_at == later
    assert days[(other.pk, 4)].opened_at == later and days[(other.pk, 4)].started_at == later


@pytest.mark.django_db
def test_fast_read_returns_what_values_returns(vclock):
    now = vclock.now()
    _enrol(_man(1, now), now, miss_you_at=now + timedelta(days=2))
    _enrol(_man(2, now, opted_out_at=now), now, reminders_on=now.date())
    qs = Enrolment.objects.order_by("pk").values(*VALUE_FIELDS, "program_id")
    fast = values_list_of_dicts(qs)
    assert fast == list(qs)
    assert fast[0]["enrolled_at"].utcoffset() == timedelta(0)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="lanes run on PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_two_lanes_wake_every_man_once(vclock, test_pack, monkeypatch):
    monkeypatch.setattr(jobs, "CHUNK", 7)
    monkeypatch.setattr(jobs, "LANES", 2)
    now = vclock.now()
    men = [_man(n, now) for n in range(60)]
    for man in men:
        _enrol(man, now)
    assert jobs._lanes() == 2
    sent = jobs.wake_due(now)
    assert sent == Message.objects.count() > 0
    assert list(Enrolment.objects.values_list("current_day", flat=True).distinct()) == [4]
    assert DayProgress.objects.filter(day=4).count() == 60
    per_man = Counter(Message.objects.values_list("participant_id", flat=True))
    day_four = len(day_content.day_items(test_pack, 4, "es"))  # his window is open: content
    assert len(per_man) == 60 and set(per_man.values()) == {day_four}
    assert jobs.wake_due(now) == 0
