"""Claiming due outbox rows: order, per-man serialisation, safety nets, leases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from messaging.outbox_helpers import make_man, queue_texts
from patas.core.models import AuditEntry
from patas.messaging import claim
from patas.messaging.models import Message

pytestmark = pytest.mark.django_db


def test_claims_due_rows_oldest_first_under_a_lease(vclock):
    ana = make_man("51900000001")
    later = queue_texts(ana, "later", due_in=timedelta(minutes=5))
    first, second = queue_texts(make_man("51900000002"), "one", "two")
    third = queue_texts(make_man("51900000003"), "three", due_in=timedelta(seconds=-30))

    claimed = claim.claim_batch("w1", limit=10)

    assert [c.id for c in claimed] == [third[0].id, first.id, second.id]
    assert claimed[0].to == "51900000003" and claimed[0].payload["text"]["body"] == "three"
    row = Message.objects.get(pk=first.pk)
    assert row.status == Message.Status.SENDING and row.leased_by == "w1"
    assert row.lease_until == vclock.now() + claim.LEASE
    assert Message.objects.get(pk=later[0].pk).status == Message.Status.QUEUED
    assert claim.claim_batch("w2", limit=10) == []  # nothing left that is due


def test_limit_is_respected():
    man = make_man("51900000001")
    queue_texts(man, *[f"m{i}" for i in range(7)])
    assert len(claim.claim_batch("w1", limit=3)) == 3
    assert Message.objects.filter(status=Message.Status.SENDING).count() == 3


def test_a_man_waits_while_an_earlier_message_is_in_flight_or_retrying(vclock):
    man = make_man("51900000001")
    first, second = queue_texts(man, "first", "second")
    Message.objects.filter(pk=first.pk).update(
        status=Message.Status.SENDING,
        leased_by="w0",
        lease_until=vclock.now() + timedelta(minutes=1),
    )
    assert claim.claim_batch("w1") == []
    # first failed transiently and waits for its retry: second must not overtake it
    Message.objects.filter(pk=first.pk).update(
        status=Message.Status.QUEUED, attempts=1, due_at=vclock.now() + timedelta(seconds=30)
    )
    assert claim.claim_batch("w1") == []
    vclock.advance(timedelta(seconds=31))
    # the retry goes first, alone; the next one follows once it is through
    assert [c.id for c in claim.claim_batch("w1")] == [first.pk]
    Message.objects.filter(pk=first.pk).update(status=Message.Status.SENT)
    assert [c.id for c in claim.claim_batch("w1")] == [second.pk]


def test_a_later_scheduled_message_does_not_block_an_earlier_due_one(vclock):
    man = make_man("51900000001")
    queue_texts(man, "tomorrow", due_in=timedelta(days=1))
    now_msg = queue_texts(man, "now")
    assert [c.id for c in claim.claim_batch("w1")] == [now_msg[0].pk]


def test_closed_window_is_not_attempted_and_needs_a_template():
    man = make_man("51900000001", window_open=False)
    free_form = queue_texts(man, "hola")[0]
    template = Message.objects.create(
        direction=Message.Direction.OUT,
        participant=man,
        type="template",
        payload={"type": "template", "template": {"name": "day", "language": {"code": "es"}}},
        status=Message.Status.QUEUED,
        requires_window=False,
        due_at=free_form.due_at,
    )

    claimed = claim.claim_batch("w1")

    assert [c.id for c in claimed] == [template.pk]
    row = Message.objects.get(pk=free_form.pk)
    assert row.status == Message.Status.NEEDS_TEMPLATE
    assert row.status_reason == "outside the 24-hour window"
    assert row.attempts == 0 and row.leased_by == ""
    assert AuditEntry.objects.filter(
        action="outbox.needs_template", object_id=str(free_form.pk)
    ).exists()


def test_opted_out_men_get_nothing_but_the_confirmation():
    man = make_man("51900000001", opted_out=True)
    program = queue_texts(man, "día 3")[0]
    confirmation = queue_texts(man, "adiós", purpose=Message.Purpose.OPT_OUT)[0]
    assert [c.id for c in claim.claim_batch("w1")] == [confirmation.pk]
    row = Message.objects.get(pk=program.pk)
    assert row.status == Message.Status.CANCELLED
    assert row.status_reason == claim.OPTED_OUT


def test_bulk_purposes_are_skipped_when_asked():
    man = make_man("51900000001")
    queue_texts(man, "contenido")
    safety = queue_texts(make_man("51900000002"), "Línea 100", purpose=Message.Purpose.SAFETY)
    assert [c.id for c in claim.claim_batch("w1", skip_bulk=True)] == [safety[0].pk]


def test_expired_leases_return_to_the_queue_and_live_ones_stay(vclock):
    man = make_man("51900000001")
    dead, alive = queue_texts(make_man("51900000002"), "dead"), queue_texts(man, "alive")
    Message.objects.filter(pk=dead[0].pk).update(
        status=Message.Status.SENDING, leased_by="crashed", lease_until=vclock.now()
    )
    Message.objects.filter(pk=alive[0].pk).update(
        status=Message.Status.SENDING,
        leased_by="busy",
        lease_until=vclock.now() + timedelta(seconds=30),
    )
    vclock.advance(timedelta(seconds=1))
    assert claim.reclaim_expired() == 1
    assert Message.objects.get(pk=dead[0].pk).status == Message.Status.QUEUED
    assert Message.objects.get(pk=alive[0].pk).status == Message.Status.SENDING
    assert AuditEntry.objects.filter(action="outbox.reclaimed").count() == 1


def test_renew_and_release_only_touch_the_holders_rows(vclock):
    mine = queue_texts(make_man("51900000001"), "mine")[0]
    theirs = queue_texts(make_man("51900000002"), "theirs")[0]
    claim.claim_batch("w1", limit=1)
    Message.objects.filter(pk=theirs.pk).update(status=Message.Status.SENDING, leased_by="w2")
    vclock.advance(timedelta(seconds=40))
    assert claim.renew("w1") == 1
    assert Message.objects.get(pk=mine.pk).lease_until == vclock.now() + claim.LEASE
    assert claim.release([mine.pk, theirs.pk], "w1") == 1
    assert Message.objects.get(pk=mine.pk).status == Message.Status.QUEUED
    assert Message.objects.get(pk=theirs.pk).status == Message.Status.SENDING
