"""The sender against the in-process fake Cloud API, on virtual time (no sleeping)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from messaging.outbox_helpers import bodies_to, fake_and_sender, make_man, queue_texts, statuses
from patas.core.models import AuditEntry, JobLease
from patas.messaging import sender as sender_mod
from patas.messaging.models import Message
from patas.whatsapp.errors import MAX_ATTEMPTS
from patas.whatsapp.fake import FakeConfig

pytestmark = pytest.mark.django_db


def test_sends_everything_due_and_records_wamids(vclock):
    app, sender = fake_and_sender()
    men = [make_man(f"5190000000{i}") for i in range(5)]
    rows = [m for man in men for m in queue_texts(man, f"hola {man.pk}", f"día {man.pk}")]

    tally = sender.drain()

    assert tally.counts["sent"] == 10
    assert len(app.received) == 10
    for row in Message.objects.filter(pk__in=[r.pk for r in rows]):
        assert row.status == Message.Status.SENT and row.sent_at == vclock.now()
        assert row.attempts == 1 and row.leased_by == "" and row.lease_until is None
    assert {r.wamid for r in Message.objects.filter(pk__in=[r.pk for r in rows])} == {
        r["wamid"] for r in app.received
    }
    assert sender.drain().attempted == 0  # nothing is sent twice


def test_messages_to_one_man_go_in_order_one_at_a_time():
    app, sender = fake_and_sender(gap=0.5)
    ana, ben = make_man("51911111111"), make_man("51922222222")
    queue_texts(ana, *[f"a{i}" for i in range(6)])
    queue_texts(ben, *[f"b{i}" for i in range(6)])
    sender.drain()
    assert bodies_to(app, "51911111111") == [f"a{i}" for i in range(6)]
    assert bodies_to(app, "51922222222") == [f"b{i}" for i in range(6)]


def test_undeliverable_recipient_is_failed_once_and_never_retried(vclock):
    app, sender = fake_and_sender(FakeConfig(recipient_errors={"51900000009": 131026}))
    lost = queue_texts(make_man("51900000009"), "hola")[0]
    fine = queue_texts(make_man("51900000001"), "hola")[0]

    sender.drain()
    for _ in range(3):
        vclock.advance(timedelta(hours=1))
        sender.drain()

    row = Message.objects.get(pk=lost.pk)
    assert row.status == Message.Status.FAILED and row.attempts == 1
    assert row.error_code == 131026 and "undeliverable" in row.status_reason
    assert [r["to"] for r in app.rejected] == ["51900000009"]  # tried exactly once
    assert statuses(fine) == [Message.Status.SENT]
    assert AuditEntry.objects.filter(action="outbox.failed", object_id=str(lost.pk)).exists()


def test_a_130429_storm_delays_then_delivers_everything(vclock):
    app, sender = fake_and_sender(mps=1000)
    men = [make_man(f"519000{i:05d}") for i in range(60)]
    rows = [queue_texts(man, f"m{man.pk}")[0] for man in men]
    app.configure({"storm": {"code": 130429, "count": 45}})

    first = sender.drain()
    assert first.counts["queued"] > 0  # some hit the storm and wait for their retry
    retrying = Message.objects.filter(status=Message.Status.QUEUED)
    assert all(r.due_at > vclock.now() and r.attempts == 1 for r in retrying)
    rounds = 0
    while Message.objects.exclude(status=Message.Status.SENT).exists() and rounds < 20:
        vclock.advance(timedelta(seconds=30))
        sender.drain()
        rounds += 1

    assert statuses(*rows) == [Message.Status.SENT] * 60
    assert sorted(r["to"] for r in app.received) == sorted(m.phone for m in men)
    assert len({r["to"] for r in app.received}) == 60  # each exactly once


def test_transient_errors_give_up_after_the_bounded_attempts(vclock):
    app, sender = fake_and_sender(FakeConfig(recipient_errors={"51900000005": 131000}))
    row = queue_texts(make_man("51900000005"), "hola")[0]
    for _ in range(MAX_ATTEMPTS + 3):
        sender.drain()
        vclock.advance(timedelta(hours=1))
    row.refresh_from_db()
    assert row.status == Message.Status.FAILED and row.attempts == MAX_ATTEMPTS
    assert row.status_reason.startswith(f"gave up after {MAX_ATTEMPTS} attempts")
    assert len(app.rejected) == MAX_ATTEMPTS


def test_131047_becomes_needs_template_and_later_messages_wait_their_turn():
    app, sender = fake_and_sender(FakeConfig(recipient_errors={"51900000007": 131047}))
    first, second = queue_texts(make_man("51900000007"), "uno", "dos")
    sender.drain()
    first.refresh_from_db()
    assert first.status == Message.Status.NEEDS_TEMPLATE
    assert first.status_reason == "outside the 24-hour window"
    assert statuses(second) == [Message.Status.NEEDS_TEMPLATE]  # tried after, in order
    assert [r["code"] for r in app.rejected] == [131047, 131047]


def test_window_closed_is_not_attempted():
    app, sender = fake_and_sender()
    row = queue_texts(make_man("51900000008", window_open=False), "hola")[0]
    sender.drain()
    assert statuses(row) == [Message.Status.NEEDS_TEMPLATE]
    assert app.received == [] and app.rejected == []


def test_quality_limit_stops_bulk_sending_and_alerts(vclock, caplog):
    app, sender = fake_and_sender(FakeConfig(recipient_errors={"51900000002": 131048}))
    queue_texts(make_man("51900000002"), "contenido")
    sender.drain()
    assert sender_mod.bulk_stopped(sender.phone_number_id)
    assert AuditEntry.objects.filter(action="sender.bulk_stopped").count() == 1
    assert "bulk sending stopped" in caplog.text

    program = queue_texts(make_man("51900000003"), "día 2")[0]
    safety = queue_texts(make_man("51900000004"), "Línea 100", purpose=Message.Purpose.SAFETY)[0]
    vclock.advance(timedelta(minutes=1))
    sender.drain()
    assert statuses(program, safety) == [Message.Status.QUEUED, Message.Status.SENT]

    sender_mod.resume_bulk(sender.phone_number_id, actor="user:admin")
    sender.drain()
    assert statuses(program) == [Message.Status.SENT]


def test_a_killed_workers_leased_rows_are_sent_by_another(vclock):
    app, sender = fake_and_sender(holder="worker-b")
    rows = queue_texts(make_man("51900000001"), "uno", "dos")
    Message.objects.filter(pk__in=[r.pk for r in rows]).update(
        status=Message.Status.SENDING,
        leased_by="worker-a",
        lease_until=vclock.now() - timedelta(seconds=1),
    )
    sender.drain()
    assert statuses(*rows) == [Message.Status.SENT] * 2
    assert bodies_to(app, "51900000001") == ["uno", "dos"]


def test_only_one_sender_per_number_and_take_over_after_the_lease_expires(vclock):
    app_a, a = fake_and_sender(holder="worker-a")
    app_b, b = fake_and_sender(holder="worker-b")
    assert a.hold_lease()
    queue_texts(make_man("51900000001"), "hola")
    assert b.drain().attempted == 0 and not b.holding
    vclock.advance(sender_mod.SENDER_LEASE - timedelta(seconds=1))
    assert a.hold_lease()  # renewed in time
    vclock.advance(sender_mod.SENDER_LEASE - timedelta(seconds=1))
    assert not b.hold_lease()
    vclock.advance(timedelta(seconds=2))  # a died: its lease ran out
    assert b.drain().counts["sent"] == 1
    assert len(app_b.received) == 1 and app_a.received == []
    assert JobLease.objects.get(name=a.lease_name).holder == "worker-b"
    assert not a.hold_lease()


def test_released_lease_is_free_at_once():
    _, a = fake_and_sender(holder="worker-a")
    _, b = fake_and_sender(holder="worker-b")
    assert a.hold_lease()
    a.release_lease()
    assert b.hold_lease()


def test_rate_limit_is_honoured_in_virtual_time():
    app, sender = fake_and_sender(mps=20)
    pace = sender.pace
    men = [make_man(f"519000{i:05d}") for i in range(100)]
    for man in men:
        queue_texts(man, "hola")
    sender.batch_size = 100
    sender.drain()
    assert len(app.received) == 100
    assert pace is not None and pace.monotonic() >= 4.0  # 100 at 20/s takes at least 4 s
    assert app.stats()["max_in_1s"] == 19  # 20 less the 5% margin, in the fake's time too
