"""Several WhatsApp numbers (issue #10): each man on his number, each number its own sender,
lease, rate and rows. Two numbers configured: A (the default, 5/s) and B (20/s)."""

from __future__ import annotations

import logging
from datetime import timedelta

import httpx
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messaging.outbox_helpers import make_man, queue_texts
from patas.core import clock, env, worker
from patas.core.models import JobLease
from patas.messaging import claim
from patas.messaging import sender as sender_mod
from patas.messaging.dispatch import InstantPace
from patas.messaging.models import Message
from patas.messaging.outbox import Outgoing, enqueue_many, send_text, text_payload
from patas.messaging.sender import Sender
from patas.participants.models import Participant
from patas.programs.bulk import insert_outbox
from patas.whatsapp import numbers
from patas.whatsapp.fake import FakeCloudAPI
from whatsapp.payloads import post
from whatsapp.payloads import text_payload as inbound_text

pytestmark = pytest.mark.django_db

A, B = "1001", "1002"


@pytest.fixture(autouse=True)
def two_numbers(settings):
    settings.WHATSAPP_NUMBERS = {A: 5.0, B: 20.0}


def fake_worker(name: str = "w1") -> tuple[FakeCloudAPI, worker.Worker]:
    pace = InstantPace()
    app = FakeCloudAPI(time_source=pace.monotonic)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return app, worker.Worker(name, transport=transport, pace=pace, gap=0.0)


def numbers_sent(app: FakeCloudAPI) -> dict[str, str]:
    """Body -> the number (from the URL) it was sent from."""
    return {r["body"]["text"]["body"]: r["phone_number_id"] for r in app.received}


# Configuration -----------------------------------------------------------------------------
def test_numbers_are_read_in_order_with_their_rates(monkeypatch):
    monkeypatch.setenv("PATAS_WHATSAPP_NUMBERS", " 111:1000, 222 ,333:80.5")
    assert env.env_numbers("PATAS_WHATSAPP_NUMBERS", 80.0) == {
        "111": 1000.0,
        "222": 80.0,
        "333": 80.5,
    }
    monkeypatch.delenv("PATAS_WHATSAPP_NUMBERS")
    assert env.env_numbers("PATAS_WHATSAPP_NUMBERS", 80.0) == {}


@pytest.mark.parametrize("entry", ["12a", "111:fast", "111:0", "111:-5", "111:nan", ":80"])
def test_a_bad_entry_fails_naming_it(monkeypatch, entry):
    monkeypatch.setenv("PATAS_WHATSAPP_NUMBERS", f"999:100,{entry}")
    with pytest.raises(ImproperlyConfigured, match=f"PATAS_WHATSAPP_NUMBERS.*'{entry}'"):
        env.env_numbers("PATAS_WHATSAPP_NUMBERS", 80.0)


def test_a_number_listed_twice_fails(monkeypatch):
    monkeypatch.setenv("PATAS_WHATSAPP_NUMBERS", "111,111:50")
    with pytest.raises(ImproperlyConfigured, match="listed twice"):
        env.env_numbers("PATAS_WHATSAPP_NUMBERS", 80.0)


def test_unset_means_the_one_number_at_the_one_rate(settings):
    settings.WHATSAPP_NUMBERS = {}
    settings.WHATSAPP_PHONE_NUMBER_ID, settings.WHATSAPP_MPS = "777", 33.0
    assert numbers.configured() == {"777": 33.0}
    assert numbers.default_number() == "777" and not numbers.several()
    assert Participant.objects.create(wa_user_id="u").phone_number_id == "777"


def test_the_first_number_is_the_default_and_unknown_numbers_go_to_it():
    assert numbers.default_number() == A
    assert numbers.assign(B) == B
    assert numbers.assign("9999") == A and numbers.assign("") == A


# Enqueueing ----------------------------------------------------------------------------------
def test_every_enqueue_path_writes_the_mans_number():
    ana, ben = make_man("51900000001", number=A), make_man("51900000002", number=B)
    send_text(ben, "single")
    with CaptureQueriesContext(connection) as queries:
        enqueue_many(Outgoing(m.pk, text_payload(f"bulk {m.pk}")) for m in (ana, ben) * 50)
    looks = [q for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(looks) == 1  # one look-up for all the men, not one per man
    insert_outbox(
        [
            Outgoing(ana.pk, text_payload("fan-out a"), phone_number_id=A),
            Outgoing(ben.pk, text_payload("fan-out b"), phone_number_id=B),
            Outgoing(ben.pk, text_payload("fan-out looked up")),
            Outgoing(ben.pk, text_payload("fan-out gone"), phone_number_id="4242"),
        ],
        clock.now(),
    )
    rows = dict(Message.objects.values_list("text", "phone_number_id"))
    assert rows["single"] == B
    assert rows[f"bulk {ana.pk}"] == A and rows[f"bulk {ben.pk}"] == B
    assert rows["fan-out a"] == A and rows["fan-out b"] == B
    assert rows["fan-out looked up"] == B and rows["fan-out gone"] == B


def test_a_man_on_a_number_no_longer_configured_gets_the_default():
    lost = make_man("51900000003", number="4242")
    enqueue_many([Outgoing(lost.pk, text_payload("hola"))])
    assert Message.objects.get(text="hola").phone_number_id == A


def test_the_program_fanout_sends_from_each_mans_number(vclock):
    """The engine's shell reads the number with the enrolment (no query per man)."""
    from patas.programs.apply import state_from_row

    ben = make_man("51900000002", number=B)
    row = {
        "id": 1,
        "participant_id": ben.pk,
        "status": "enrolled",
        "time_zone": "America/Lima",
        "send_hour": 9,
        "current_day": 1,
        "phase": "content",
        "enrolled_at": vclock.now(),
        "day_started_at": None,
        "content_from": 0,
        "day_checked_in": False,
        "wake": "day_start",
        "last_reply_at": None,
        "reminders_today": 0,
        "reminders_on": None,
        "miss_you_at": None,
        "participant__language": "es",
        "participant__last_inbound_at": None,
        "participant__opted_out_at": None,
        "participant__phone_number_id": B,
    }
    assert state_from_row(row).phone_number_id == B


# Claiming -----------------------------------------------------------------------------------
def test_a_numbers_claim_takes_only_its_own_rows():
    ana, ben = make_man("51900000001", number=A), make_man("51900000002", number=B)
    a_rows = queue_texts(ana, "a1", "a2")
    b_rows = queue_texts(ben, "b1", "b2")

    claimed = claim.claim_batch("w1", limit=10, phone_number_id=B)

    assert [c.id for c in claimed] == [r.id for r in b_rows]
    assert {m.status for m in Message.objects.filter(pk__in=[r.pk for r in a_rows])} == {
        Message.Status.QUEUED
    }
    assert claim.claim_batch("w1", limit=10, phone_number_id=B) == []


def test_taking_over_one_number_requeues_only_that_numbers_rows(vclock):
    ana, ben = make_man("51900000001", number=A), make_man("51900000002", number=B)
    queue_texts(ana, "a1")
    queue_texts(ben, "b1")
    claim.claim_batch("dead", phone_number_id=A)
    claim.claim_batch("dead", phone_number_id=B)
    vclock.advance(sender_mod.HANDOVER + timedelta(seconds=1))  # "dead" stopped renewing

    sender = Sender("w2", phone_number_id=B)
    assert sender.hold_lease()

    status = dict(Message.objects.values_list("text", "status"))
    assert status == {"a1": Message.Status.SENDING, "b1": Message.Status.QUEUED}
    assert claim.renew("dead", phone_number_id=A) == 1


def test_two_numbers_have_two_senders_at_once_and_one_each():
    a1, b1 = Sender("w1", phone_number_id=A), Sender("w1", phone_number_id=B)
    a2, b2 = Sender("w2", phone_number_id=A), Sender("w2", phone_number_id=B)
    assert a1.hold_lease() and b2.hold_lease()  # one worker may hold A while another holds B
    assert not a2.hold_lease() and not b1.hold_lease()  # a second holder is refused
    leases = dict(JobLease.objects.filter(name__startswith="sender:").values_list("name", "holder"))
    assert leases == {f"sender:{A}": "w1", f"sender:{B}": "w2"}
    assert a1.mps == 5.0 and b2.mps == 20.0  # each at its own configured rate


# The worker ---------------------------------------------------------------------------------
def test_one_tick_sends_each_mans_messages_from_his_own_number():
    app, w = fake_worker()
    assert [(s.phone_number_id, s.mps) for s in w.senders] == [(A, 5.0), (B, 20.0)]
    ana, ben = make_man("51900000001", number=A), make_man("51900000002", number=B)
    queue_texts(ana, "a1", "a2")
    queue_texts(ben, "b1", "b2", "b3")

    report = w.tick()

    assert report.sent == {"sent": 5}
    assert numbers_sent(app) == {"a1": A, "a2": A, "b1": B, "b2": B, "b3": B}
    sent_rows = Message.objects.filter(status=Message.Status.SENT)
    assert {r["wamid"]: r["phone_number_id"] for r in app.received} == dict(
        sent_rows.values_list("wamid", "phone_number_id")
    )


def test_each_numbers_rate_is_its_own():
    """A at 5/s and B at 20/s: neither is held to the other's rate (the fake counts arrivals
    on the virtual clock, per number)."""
    app, w = fake_worker()
    for i in range(20):
        queue_texts(make_man(f"5190000{i:04d}", number=A), f"a{i}")
        queue_texts(make_man(f"5191000{i:04d}", number=B), f"b{i}")

    w.tick()

    by_number = app.stats()["by_number"]
    assert by_number[A]["accepted"] == by_number[B]["accepted"] == 20
    assert by_number[A]["max_in_1s"] <= 5
    assert 5 < by_number[B]["max_in_1s"] <= 20
    a_span = by_number[A]["last_at"] - by_number[A]["first_at"]
    b_span = by_number[B]["last_at"] - by_number[B]["first_at"]
    assert a_span >= 3.0 and b_span < 1.5


def test_bulk_stop_on_one_number_holds_only_its_bulk_messages():
    app, w = fake_worker()
    ana, ben = make_man("51900000001", number=A), make_man("51900000002", number=B)
    queue_texts(ana, "a program")
    queue_texts(ana, "a reply", purpose=Message.Purpose.SYSTEM)
    queue_texts(ben, "b program")
    sender_mod.stop_bulk(A, 131048)

    w.tick()

    assert numbers_sent(app) == {"a reply": A, "b program": B}
    assert Message.objects.get(text="a program").status == Message.Status.QUEUED


# Inbound: which number a man is on -----------------------------------------------------------
def inbound_to(client, number: str, wamid: str, phone: str, text: str = "hola") -> None:
    body = inbound_text(wamid, text, phone=phone, user_id=f"PE.{phone}")
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = number
    assert post(client, body).status_code == 200


def test_a_mans_first_message_to_b_puts_him_on_b_and_his_replies_go_from_b(client):
    inbound_to(client, B, "wamid.IN1", "51955500001")
    inbound_to(client, A, "wamid.IN2", "51955500001", "otra vez")  # later, to A: he stays on B
    man = Participant.objects.get(wa_user_id="PE.51955500001")
    assert man.phone_number_id == B
    inbound = dict(Message.objects.filter(direction="in").values_list("wamid", "phone_number_id"))
    assert inbound == {"wamid.IN1": B, "wamid.IN2": A}  # where each one came in

    # (the recorded payload's time is long past: open his window; the router is not under test)
    Participant.objects.filter(pk=man.pk).update(last_inbound_at=clock.now())
    Message.objects.filter(direction="in").update(routed_at=clock.now())
    send_text(man, "respuesta")
    enqueue_many([Outgoing(man.pk, text_payload("programa"))])
    app, w = fake_worker()
    w.tick()
    assert numbers_sent(app) == {"respuesta": B, "programa": B}


def test_a_message_to_an_unconfigured_number_is_stored_and_the_man_goes_on_the_default(
    client, caplog
):
    with caplog.at_level(logging.WARNING, logger="patas.whatsapp.ingest"):
        inbound_to(client, "5555", "wamid.IN9", "51955500009")
    man = Participant.objects.get(wa_user_id="PE.51955500009")
    assert man.phone_number_id == A
    assert Message.objects.get(wamid="wamid.IN9").phone_number_id == "5555"
    assert any(
        "5555" in r.getMessage() and "not configured" in r.getMessage() for r in caplog.records
    )


def test_a_new_man_writing_to_both_numbers_in_one_batch_goes_on_the_first(vclock):
    from patas.participants.actions import Sender as Writer
    from patas.participants.actions import find_or_create_many

    now = clock.now()
    ids = find_or_create_many(
        [
            Writer(user_id="PE.x", at=now, phone_number_id=A),
            Writer(user_id="PE.x", at=now - timedelta(seconds=5), phone_number_id=B),
        ]
    )
    assert Participant.objects.get(pk=ids["user:PE.x"]).phone_number_id == B


def test_metrics_show_each_numbers_due_backlog(client):
    queue_texts(make_man("51900000001", number=A), "a1")
    queue_texts(make_man("51900000002", number=B), "b1", "b2")
    body = client.get("/metrics").content.decode()
    assert "patas_outbox_due 3.0" in body
    assert f'patas_outbox_due_by_number{{number="{A}"}} 1.0' in body
    assert f'patas_outbox_due_by_number{{number="{B}"}} 2.0' in body


def test_rows_of_a_number_no_longer_configured_go_out_from_the_default(caplog):
    ben = make_man("51900000002", number="4242")
    Message.objects.create(
        direction="out",
        participant=ben,
        type="text",
        text="old",
        payload=text_payload("old"),
        status="queued",
        due_at=clock.now(),
        phone_number_id="4242",
    )
    queue_texts(make_man("51900000003", number=B), "b1")
    app, w = fake_worker()
    with caplog.at_level(logging.WARNING):
        w.run(until_idle=True, install_signals=False)
    assert numbers_sent(app) == {"old": A, "b1": B}
    assert any("no longer configured" in r.getMessage() for r in caplog.records)
