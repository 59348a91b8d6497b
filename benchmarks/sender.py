"""Sender throughput against the fake Cloud API on loopback.

    python benchmarks/sender.py [--messages 30000] [--mps 1000] [--seconds 40] [--db URL]

Starts `patas fake-whatsapp` on a free port, queues one message to each of N men (one bulk
insert), runs the worker's pipelined sender (a thread for HTTP, this thread for the database)
and prints the sustained messages/s and the most messages the fake received in any 1 s window.
The database is a fresh SQLite file in a temporary directory unless --db is given.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def fetch(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as response:
        return json.loads(response.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=30000)
    parser.add_argument("--mps", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=40.0, help="stop sending after this")
    parser.add_argument("--db", default="", help="PATAS_DATABASE_URL (default: temp SQLite)")
    parser.add_argument(
        "--templates",
        action="store_true",
        help="queue day-opener templates that greet each man by name (filled at claim time)",
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="patas-bench-sender-"))
    port = free_port()
    os.environ["PATAS_DATA_DIR"] = str(workdir)
    os.environ["PATAS_DATABASE_URL"] = args.db or f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["PATAS_WHATSAPP_API_URL"] = f"http://127.0.0.1:{port}"
    os.environ["PATAS_WHATSAPP_MPS"] = str(args.mps)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patas.settings")
    fake = subprocess.Popen(
        [sys.executable, "-m", "patas", "fake-whatsapp", "--port", str(port), "--statuses", ""],
        stdout=subprocess.DEVNULL,
    )
    try:
        run(args, port)
    finally:
        fake.terminate()
        fake.wait(10)


def opener_template() -> dict:
    """A day opener as the engine queues it: his name's marker, filled when it is claimed."""
    from patas.messaging.personalise import FIRST_NAME

    body = [{"type": "text", "text": FIRST_NAME}, {"type": "text", "text": "4"}]
    button = [{"type": "payload", "payload": "open_day:4"}]
    return {
        "type": "template",
        "template": {
            "name": "day_opener",
            "language": {"code": "es_PE"},
            "components": [
                {"type": "body", "parameters": body},
                {"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": button},
            ],
        },
    }


def run(args: argparse.Namespace, port: int) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    from patas.core import clock
    from patas.core.crypto import lookup_hash
    from patas.messaging.models import Message
    from patas.messaging.outbox import Outgoing, enqueue_many, text_payload
    from patas.messaging.sender import Sender
    from patas.messaging.sender_thread import PipelinedSender
    from patas.participants.models import Participant

    call_command("migrate", verbosity=0)
    wait_for(f"http://127.0.0.1:{port}/_fake/stats")
    started = time.monotonic()
    now = clock.now()
    men = [
        Participant(
            phone=f"519{i:08d}",
            phone_hash=lookup_hash(f"519{i:08d}"),
            status=Participant.Status.ENROLLED,
            last_inbound_at=now - timedelta(hours=1),
            profile_name=f"Hombre{i} Apellido" if args.templates else None,
        )
        for i in range(args.messages)
    ]
    Participant.objects.bulk_create(men, batch_size=2000)
    ids = list(Participant.objects.order_by("id").values_list("id", flat=True))
    if args.templates:
        opener = opener_template()
        enqueue_many(Outgoing(pid, opener, text="Hola {{first_name}}, día 4") for pid in ids)
    else:
        enqueue_many(Outgoing(pid, text_payload(f"Día 1, mensaje para {pid}")) for pid in ids)
    print(f"queued {len(ids)} messages in {time.monotonic() - started:.1f} s")

    pipe = PipelinedSender(Sender("bench", mps=args.mps))
    t0 = time.monotonic()
    cpu0 = time.process_time()
    fake_cpu0 = fetch(f"http://127.0.0.1:{port}/_fake/stats")["cpu_seconds"]
    while time.monotonic() - t0 < args.seconds:
        pipe.step(wait=0.02)
        if pipe.tally.counts["sent"] >= len(ids):
            break
    pipe.stop()
    elapsed = time.monotonic() - t0
    cpu = time.process_time() - cpu0

    stats = fetch(f"http://127.0.0.1:{port}/_fake/stats")
    received = stats["accepted"]
    span = (stats["last_at"] - stats["first_at"]) if received > 1 else 0.0
    sent_rows = Message.objects.filter(status=Message.Status.SENT).count()
    print(f"messages received by the fake: {received} (rejected {stats['rejected']})")
    print(f"rows recorded as sent:          {sent_rows}")
    print(f"sender ran {elapsed:.1f} s; first to last receive {span:.1f} s")
    if span > 0:
        print(f"sustained rate:                 {(received - 1) / span:.0f} messages/s")
    print(
        f"most received in any 1 s:       {stats['max_in_1s']} by arrival "
        f"({stats.get('arrival_clock')} clock), {stats.get('max_in_1s_handled')} by when the "
        f"fake handled them (limit {args.mps:.0f})"
    )
    if received:
        print(
            f"sender CPU (both threads):      {cpu:.1f} s = {cpu / received * 1000:.2f} ms/message"
            f" -> at most {received / cpu:.0f} messages/s per core for the sender alone"
        )
    if received:
        fake_cpu = stats["cpu_seconds"] - fake_cpu0
        print(f"fake CPU:                       {fake_cpu / received * 1000:.2f} ms/request")
    print(f"load average after the run:     {os.getloadavg()[0]:.1f} (2 cores)")


if __name__ == "__main__":
    main()
