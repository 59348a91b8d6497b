"""Four real `patas worker` processes drain 20,000 messages to the fake Cloud API on loopback:
every message reaches the fake exactly once, in order per man, even when the sending worker is
stopped half-way and another takes over. PostgreSQL only (SKIP LOCKED, several processes)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import defaultdict
from datetime import timedelta

import pytest
from django.db import connection

from patas.core import clock
from patas.core.crypto import lookup_hash
from patas.core.models import JobLease
from patas.messaging.models import Message
from patas.messaging.outbox import Outgoing, enqueue_many, text_payload
from patas.participants.models import Participant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MEN = 5000
PER_MAN = 4
TOTAL = MEN * PER_MAN
DEADLINE = 150.0  # seconds for the drain at most (about 35 s on a quiet machine)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database_url() -> str:
    d = connection.settings_dict
    auth = d["USER"] + (f":{d['PASSWORD']}" if d["PASSWORD"] else "")
    return f"postgres://{auth}@{d['HOST'] or '127.0.0.1'}:{d['PORT'] or 5432}/{d['NAME']}"


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.loads(response.read())


def pause(seconds: float) -> None:
    threading.Event().wait(seconds)  # waiting for other processes, not for time to pass


def until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        pause(0.25)


def queue_everything() -> None:
    now = clock.now()
    Participant.objects.bulk_create(
        [
            Participant(
                phone=f"5198{i:07d}",
                phone_hash=lookup_hash(f"5198{i:07d}"),
                status=Participant.Status.ENROLLED,
                last_inbound_at=now - timedelta(hours=1),
            )
            for i in range(MEN)
        ],
        batch_size=2000,
    )
    ids = list(Participant.objects.values_list("id", flat=True))
    enqueue_many(Outgoing(pid, text_payload(f"{pid}/{n}")) for n in range(PER_MAN) for pid in ids)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_four_workers_send_twenty_thousand_messages_exactly_once():
    queue_everything()
    port = free_port()
    env = {
        **os.environ,
        "PATAS_DATABASE_URL": database_url(),
        "PATAS_WHATSAPP_API_URL": f"http://127.0.0.1:{port}",
        "PATAS_WHATSAPP_MPS": "1000",
        "PATAS_LOG_LEVEL": "WARNING",
    }
    patas = [sys.executable, "-m", "patas"]
    fake = subprocess.Popen(
        [*patas, "fake-whatsapp", "--port", str(port), "--statuses", ""],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    workers = [subprocess.Popen([*patas, "worker", "--name", f"w{i}"], env=env) for i in range(4)]
    try:
        started = time.monotonic()
        until(
            lambda: Message.objects.filter(status=Message.Status.SENT).count() > TOTAL // 3,
            DEADLINE,
            "a third of the messages",
        )
        # stop the worker that sends; another must take over
        holder = JobLease.objects.get(name="sender:100000000000001").holder
        first = next(w for i, w in enumerate(workers) if holder == f"w{i}")
        first.send_signal(signal.SIGTERM)
        assert first.wait(30) == 0
        until(
            lambda: Message.objects.filter(status=Message.Status.SENT).count() == TOTAL,
            DEADLINE - (time.monotonic() - started),
            "all messages sent",
        )
        new_holder = JobLease.objects.get(name="sender:100000000000001").holder
        assert new_holder and new_holder != holder
        received = get_json(f"http://127.0.0.1:{port}/_fake/messages")["messages"]
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(30) for proc in workers]
        fake.terminate()
        fake.wait(10)
    assert codes == [0, 0, 0, 0]

    bodies = [r["body"]["text"]["body"] for r in received]
    assert len(bodies) == TOTAL and len(set(bodies)) == TOTAL  # none missing, none twice
    rows = dict(Message.objects.filter(direction="out").values_list("text", "wamid"))
    assert {r["body"]["text"]["body"]: r["wamid"] for r in received} == rows
    per_man = defaultdict(list)
    for body in bodies:
        pid, n = body.split("/")
        per_man[pid].append(int(n))
    assert all(seq == list(range(PER_MAN)) for seq in per_man.values())  # in order per man
