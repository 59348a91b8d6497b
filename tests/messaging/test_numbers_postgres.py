"""Two real `patas worker` processes and two numbers drain 4,000 messages to the fake Cloud API
on loopback: each message reaches the fake exactly once, from its man's number, and when the
worker sending for one number stops, the other worker takes that number over. PostgreSQL only
(SKIP LOCKED, several processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection

from messaging.test_sender_postgres import database_url, free_port, get_json, until
from patas.core import clock
from patas.core.crypto import lookup_hash
from patas.core.models import JobLease
from patas.messaging.models import Message
from patas.messaging.outbox import Outgoing, enqueue_many, text_payload
from patas.participants.models import Participant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

A, B = "1001", "1002"
MEN = 1000  # half on each number
PER_MAN = 4
TOTAL = MEN * PER_MAN
MPS = 200  # per number: about 10 s of sending each, long enough to stop a worker half-way
DEADLINE = 120.0


def queue_everything() -> dict[str, str]:
    """Men on A and B, four messages each; returns body -> the number it must go out from."""
    now = clock.now()
    Participant.objects.bulk_create(
        [
            Participant(
                phone=f"5197{i:07d}",
                phone_hash=lookup_hash(f"5197{i:07d}"),
                status=Participant.Status.ENROLLED,
                last_inbound_at=now - timedelta(hours=1),
                phone_number_id=A if i % 2 else B,
            )
            for i in range(MEN)
        ],
        batch_size=2000,
    )
    men = dict(Participant.objects.values_list("id", "phone_number_id"))
    # The numbers are looked up by enqueue_many (the callers that do not pass them).
    enqueue_many(Outgoing(pid, text_payload(f"{pid}/{n}")) for n in range(PER_MAN) for pid in men)
    return {f"{pid}/{n}": number for pid, number in men.items() for n in range(PER_MAN)}


def sent_from(number: str) -> int:
    return Message.objects.filter(status=Message.Status.SENT, phone_number_id=number).count()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_two_workers_two_numbers_each_message_once_from_its_number(settings):
    settings.WHATSAPP_NUMBERS = {A: float(MPS), B: float(MPS)}  # as the workers have them
    expected = queue_everything()
    port = free_port()
    env = {
        **os.environ,
        "PATAS_DATABASE_URL": database_url(),
        "PATAS_WHATSAPP_API_URL": f"http://127.0.0.1:{port}",
        "PATAS_WHATSAPP_NUMBERS": f"{A}:{MPS},{B}:{MPS}",
        "PATAS_LOG_LEVEL": "WARNING",
    }
    patas = [sys.executable, "-m", "patas"]
    fake = subprocess.Popen(
        [*patas, "fake-whatsapp", "--port", str(port), "--statuses", ""],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    workers = {
        f"w{i}": subprocess.Popen([*patas, "worker", "--name", f"w{i}"], env=env) for i in range(2)
    }
    try:
        started = time.monotonic()
        until(lambda: sent_from(A) > TOTAL // 6, DEADLINE, "a third of number A's messages")
        # Stop the worker that sends for A: the other takes A over (and keeps or takes B).
        holder = JobLease.objects.get(name=f"sender:{A}").holder
        workers[holder].send_signal(signal.SIGTERM)
        assert workers[holder].wait(30) == 0
        until(
            lambda: Message.objects.filter(status=Message.Status.SENT).count() == TOTAL,
            DEADLINE - (time.monotonic() - started),
            "all messages sent",
        )
        other = next(name for name in workers if name != holder)
        leases = dict(
            JobLease.objects.filter(name__startswith="sender:").values_list("name", "holder")
        )
        received = get_json(f"http://127.0.0.1:{port}/_fake/messages")["messages"]
        stats = get_json(f"http://127.0.0.1:{port}/_fake/stats")
    finally:
        for proc in workers.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(30) for proc in workers.values()]
        fake.terminate()
        fake.wait(10)
    assert codes == [0, 0]
    assert leases == {f"sender:{A}": other, f"sender:{B}": other}

    bodies = Counter(r["body"]["text"]["body"] for r in received)
    assert len(bodies) == TOTAL and set(bodies.values()) == {1}  # none missing, none twice
    assert {r["body"]["text"]["body"]: r["phone_number_id"] for r in received} == expected
    rows = Message.objects.filter(direction="out")
    assert {r["wamid"]: r["phone_number_id"] for r in received} == dict(
        rows.values_list("wamid", "phone_number_id")
    )
    for number in (A, B):
        assert stats["by_number"][number]["accepted"] == TOTAL // 2
        assert stats["by_number"][number]["max_in_1s"] <= MPS  # each under its own limit
