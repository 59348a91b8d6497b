"""Status callbacks: stored once per (wamid, status), applied to outbound messages forward only."""

from __future__ import annotations

import copy
import itertools
from datetime import UTC, datetime, timedelta

import pytest

from patas.messaging.models import Message, StatusEvent
from patas.participants.models import Participant
from patas.whatsapp.ingest import apply_pending_statuses
from whatsapp.payloads import first_status, load, post

pytestmark = pytest.mark.django_db

OUT = "wamid.HBgLNTE5ODc2NTQzMjEVAgARGBJGQ0YzQjk0QzAxRjI1OTlBNkMA"
SENT_AT = datetime(2026, 3, 2, 11, 59, 31, tzinfo=UTC)
DELIVERED_AT = SENT_AT + timedelta(seconds=1)
READ_AT = SENT_AT + timedelta(seconds=29)


def outbound(status=Message.Status.SENDING, wamid=OUT) -> Message:
    man = Participant.objects.create(wa_user_id="PE.1a2b3c4d5e6f7081")
    return Message.objects.create(
        direction=Message.Direction.OUT,
        participant=man,
        type="text",
        payload={"type": "text", "text": {"body": "Hola"}},
        text="Hola",
        status=status,
        wamid=wamid,
    )


@pytest.mark.parametrize("order", list(itertools.permutations(["sent", "delivered", "read"])))
def test_any_order_ends_as_read_with_every_timestamp(client, vclock, order):
    message = outbound()
    for status in order:
        assert post(client, load(f"status_{status}")).status_code == 200
    message.refresh_from_db()
    assert message.status == Message.Status.READ
    assert (message.sent_at, message.delivered_at, message.read_at) == (
        SENT_AT,
        DELIVERED_AT,
        READ_AT,
    )
    assert (message.pricing_category, message.billable) == ("service", True)
    assert StatusEvent.objects.filter(wamid=OUT, applied=True).count() == 3


def test_status_redelivered_is_stored_once(client, vclock):
    outbound()
    answers = [post(client, load("status_delivered")).json() for _ in range(3)]
    assert [a["statuses"] for a in answers] == [1, 0, 0]
    assert [a["duplicates"] for a in answers] == [0, 1, 1]
    assert StatusEvent.objects.count() == 1


def test_delivered_may_be_skipped(client, vclock):
    message = outbound()
    post(client, load("status_sent"))
    post(client, load("status_read"))
    message.refresh_from_db()
    assert message.status == Message.Status.READ
    assert message.delivered_at is None


def test_sender_sent_at_is_kept(client, vclock):
    message = outbound(status=Message.Status.SENT)
    own = datetime(2026, 3, 2, 11, 59, 31, 500000, tzinfo=UTC)
    Message.objects.filter(pk=message.pk).update(sent_at=own)
    post(client, load("status_sent"))
    message.refresh_from_db()
    assert (message.status, message.sent_at) == (Message.Status.SENT, own)


def test_failed_records_the_error(client, vclock):
    message = outbound(status=Message.Status.SENT)
    post(client, load("status_failed"))
    message.refresh_from_db()
    assert message.status == Message.Status.FAILED
    assert (message.error_code, message.error_title) == (131026, "Message undeliverable")
    assert message.failed_at == SENT_AT + timedelta(seconds=2)


def test_failed_does_not_undo_read(client, vclock):
    message = outbound()
    post(client, load("status_read"))
    post(client, load("status_failed"))
    message.refresh_from_db()
    assert message.status == Message.Status.READ
    assert message.error_code is None
    assert message.failed_at is not None  # its time is still kept


def test_status_of_an_unknown_message_waits_until_the_sender_records_it(client, vclock):
    post(client, load("status_delivered"))
    event = StatusEvent.objects.get()
    assert not event.applied
    message = outbound(status=Message.Status.SENT)
    assert apply_pending_statuses([OUT]) == 1
    message.refresh_from_db()
    assert message.status == Message.Status.DELIVERED
    assert StatusEvent.objects.get().applied


def test_inbound_message_with_that_wamid_is_not_touched(client, vclock):
    message = outbound()
    Message.objects.filter(pk=message.pk).update(
        direction=Message.Direction.IN, status=Message.Status.RECEIVED
    )
    post(client, load("status_read"))
    message.refresh_from_db()
    assert (message.status, message.read_at) == (Message.Status.RECEIVED, None)


def test_several_statuses_in_one_payload(client, vclock):
    first = outbound()
    second = Message.objects.create(
        direction=Message.Direction.OUT,
        participant=first.participant,
        type="text",
        payload={},
        status=Message.Status.SENDING,
        wamid="wamid.second",
    )
    body = load("status_delivered")
    other = copy.deepcopy(first_status(body))
    other["id"] = "wamid.second"
    other["status"] = "read"
    body["entry"][0]["changes"][0]["value"]["statuses"].append(other)
    assert post(client, body).json() == {"stored": 0, "statuses": 2, "duplicates": 0}
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Message.Status.DELIVERED, Message.Status.READ)
