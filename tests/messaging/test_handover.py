"""Taking a number over from another sender without sending anything twice.

A sender that stops renewing its lease is either dead (kill -9) or only cut off from the
database. The new holder cannot tell which, so it waits HANDOVER before it resends the rows the
other one still holds; a sender cut off from the database stops sending by itself before its
lease runs out (the fence) and records what it did send when it gets back.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from messaging.outbox_helpers import bodies_to, fake_and_sender, make_man, queue_texts, statuses
from messaging.test_dispatch_pacing import fake_client, rows
from patas.messaging import sender as sender_mod
from patas.messaging import sender_thread
from patas.messaging.dispatch import Dispatcher
from patas.messaging.models import Message

pytestmark = pytest.mark.django_db


def test_a_dead_senders_rows_go_out_from_the_new_holder_after_the_handover(vclock):
    app_a, a = fake_and_sender(holder="worker-a")
    app_b, b = fake_and_sender(holder="worker-b")
    assert a.hold_lease()
    rows_ = queue_texts(make_man("51900000001"), "uno", "dos")
    assert len(a.claim(10, vclock.now())) == 2  # claimed, then worker-a is killed -9
    vclock.advance(sender_mod.SENDER_LEASE + timedelta(seconds=1))
    assert b.drain().attempted == 0 and b.holding  # b holds the number, a's rows wait
    assert statuses(*rows_) == [Message.Status.SENDING] * 2
    vclock.advance(sender_mod.HANDOVER - sender_mod.SENDER_LEASE)  # 30 s since a renewed
    assert b.drain().counts["sent"] == 2
    assert bodies_to(app_b, "51900000001") == ["uno", "dos"] and app_a.received == []


def test_a_sender_cut_off_from_the_database_records_its_sends_before_the_handover(vclock):
    app_a, a = fake_and_sender(holder="worker-a")
    app_b, b = fake_and_sender(holder="worker-b")
    assert a.hold_lease()
    rows_ = queue_texts(make_man("51900000001"), "uno", "dos")
    claimed = a.claim(10, vclock.now())
    outcomes = asyncio.run(a._send(claimed))  # sent, but the database went away: not recorded
    vclock.advance(sender_mod.SENDER_LEASE + timedelta(seconds=1))
    assert b.drain().attempted == 0  # b took the number over and does not resend a's rows
    vclock.advance(timedelta(seconds=10))  # the database is back: a records what it sent
    sender_mod.record_outcomes(outcomes, a.holder, a.phone_number_id, vclock.now())
    assert not a.hold_lease()
    vclock.advance(sender_mod.HANDOVER)
    assert b.drain().attempted == 0
    assert statuses(*rows_) == [Message.Status.SENT] * 2
    assert bodies_to(app_a, "51900000001") == ["uno", "dos"] and app_b.received == []


def test_past_the_fence_the_dispatcher_sends_nothing_and_hands_rows_back():
    app, client, pace = fake_client(200)
    got = []

    async def go():
        dispatcher = Dispatcher(client, got.append, mps=200, pace=pace)
        dispatcher.fence = time.monotonic() - 1  # the lease may have lapsed
        dispatcher.submit(rows(5))
        await dispatcher.drain()

    asyncio.run(go())
    assert len(got) == 5 and all(o.result is None for o in got)
    assert app.received == []


def test_the_pipelined_sender_fences_itself_a_margin_before_its_lease_ends():
    app, a = fake_and_sender(holder="worker-a")
    pipe = sender_thread.PipelinedSender(a)
    try:
        before = time.monotonic()
        pipe.step(0)
        assert pipe.thread is not None and pipe.thread.dispatcher is not None
        fence = pipe.thread.dispatcher.fence
        lease = sender_mod.SENDER_LEASE.total_seconds()
        assert before + sender_thread.FENCE <= fence <= time.monotonic() + lease - 1
    finally:
        pipe.stop()
