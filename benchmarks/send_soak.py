"""Sending soak: minutes at the full rate to the fake Cloud API, the limit never exceeded.

    python benchmarks/send_soak.py [--seconds 300] [--mps 1000] [--database-url URL]
                                   [--no-fake-limit] [--messages N]

1. Starts `patas fake-whatsapp` (the lean server: it stamps every request with the kernel's
   receive time, i.e. when it arrived, as Meta counts; `--mps` makes it answer 130429 above the
   limit in any sliding second, as Meta would, unless --no-fake-limit).
2. Queues `mps x seconds` messages, one to each of as many men, with one bulk insert, in a
   separate process (so the sender's memory is measured from a clean start). SQLite in a temp
   directory unless --database-url (use an empty database; it is migrated).
3. Runs the worker's pipelined sender in this process for `--seconds`, printing every 10 s:
   messages sent, rate over the last 10 s, this process' RSS and CPU, the load average.
4. Prints the verdict: sustained rate, the most messages in any sliding 1 s window counted
   three ways (arrivals at the fake, when the fake handled them, when the sender sent them),
   sent / received / duplicates / lost, 130429 refusals, RSS first / max / last, CPU per
   message of the sender and of the fake.

The machine's other load matters: the sender and the fake each need most of a core at
1,000 messages/s. Read the load average lines before believing a low rate.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from array import array
from datetime import timedelta
from pathlib import Path
from typing import Any

from sender import fetch, free_port, wait_for

SAMPLE_EVERY = 10.0  # seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--mps", type=float, default=1000.0)
    parser.add_argument("--messages", type=int, default=0, help="default: mps x seconds")
    parser.add_argument("--database-url", default="", help="default: a temp SQLite file")
    parser.add_argument("--no-fake-limit", action="store_true", help="the fake never refuses")
    parser.add_argument("--populate", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.populate:
        populate(args.populate)
        return
    messages = args.messages or int(args.mps * args.seconds)
    workdir = Path(tempfile.mkdtemp(prefix="send-soak-"))
    port = free_port()
    os.environ["PATAS_DATA_DIR"] = str(workdir)
    os.environ["PATAS_DATABASE_URL"] = args.database_url or f"sqlite:///{workdir / 'soak.db'}"
    os.environ["PATAS_WHATSAPP_API_URL"] = f"http://127.0.0.1:{port}"
    os.environ["PATAS_WHATSAPP_MPS"] = str(args.mps)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patas.settings")
    database = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    print(f"send soak: {messages:,} messages at --mps {args.mps:.0f} for {args.seconds:.0f} s")
    print(f"database: {database}; load average at start {load()} (2 cores)")
    started = time.monotonic()
    subprocess.run([sys.executable, __file__, "--populate", str(messages)], check=True)
    print(f"queued {messages:,} messages in {time.monotonic() - started:.0f} s (not timed)")
    fake_cmd = [sys.executable, "-m", "patas", "fake-whatsapp", "--port", str(port)]
    fake_cmd += ["--statuses", "", "--no-bodies"]
    if not args.no_fake_limit:
        fake_cmd += ["--mps", str(args.mps)]
    fake = subprocess.Popen(fake_cmd, stdout=subprocess.DEVNULL)
    try:
        wait_for(f"http://127.0.0.1:{port}/_fake/stats")
        soak(args, port, messages, fake.pid)
    finally:
        fake.terminate()
        fake.wait(10)


def populate(count: int) -> None:
    """Men with an open window and one queued text each: raw INSERTs (Django's bulk_create
    prepares every value of every field: minutes for 300,000 rows on a busy machine)."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from patas.core import clock
    from patas.core.crypto import lookup_hash
    from patas.messaging.outbox import Outgoing, text_payload
    from patas.participants.models import Participant
    from patas.programs.bulk import insert_outbox

    call_command("migrate", verbosity=0)
    now = clock.now()
    fields = [f for f in Participant._meta.concrete_fields if not f.primary_key]
    fixed = {"status": Participant.Status.ENROLLED, "last_inbound_at": now - timedelta(hours=1)}
    constant = {
        f.name: f.get_db_prep_save(fixed.get(f.name, f.get_default()), connection()) for f in fields
    }
    by_name = {f.name: f for f in fields}
    with transaction.atomic():
        for start in range(0, count, 5000):
            rows = []
            for i in range(start, min(count, start + 5000)):
                varying = {"uid": uuid.uuid4().hex, "phone_hash": lookup_hash(phone(i))}
                varying["phone"] = by_name["phone"].get_db_prep_save(phone(i), connection())
                rows.append(tuple(varying.get(f.name, constant[f.name]) for f in fields))
            insert_rows(Participant._meta.db_table, [f.column for f in fields], rows)
    ids = Participant.objects.order_by("id").values_list("id", flat=True)
    text = "Día 1, mensaje para {}"
    with transaction.atomic():
        insert_outbox((Outgoing(pid, text_payload(text.format(pid))) for pid in ids), now)
    if connection().vendor == "postgresql":
        # Planner statistics for the new rows, as autovacuum would gather on a production
        # server (it may be off on a test server, as on ours).
        with connection().cursor() as cursor:
            cursor.execute("ANALYZE")


def connection() -> Any:
    from django.db import connection

    return connection


def insert_rows(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """executemany on SQLite; COPY on PostgreSQL (its executemany is one INSERT per row)."""
    db = connection()
    quote = db.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            with cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(columns))
        cursor.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", rows)  # noqa: S608


def phone(i: int) -> str:
    return f"519{i:08d}"


def soak(args: argparse.Namespace, port: int, messages: int, fake_pid: int) -> None:
    import django

    django.setup()
    from patas.core import heap
    from patas.messaging.sender import Sender

    heap.settle()  # as the worker does before it starts sending

    fake_cpu0 = fetch(f"http://127.0.0.1:{port}/_fake/stats")["cpu_seconds"]
    pipe = recording_pipe(Sender("soak", mps=args.mps))
    wall_offset = time.time() - time.monotonic()  # sender's pace clock -> the fake's clock
    samples: list[dict[str, float]] = []
    t0 = time.monotonic()
    cpu0 = time.process_time()
    next_sample = t0 + SAMPLE_EVERY
    last_sent = 0
    print(" time | sent    | last 10 s | RSS MB | CPU s | slots let go | waiting to send | load")
    while time.monotonic() - t0 < args.seconds:
        pipe.step(wait=0.02)
        if pipe.tally.counts["sent"] >= messages:
            break
        if time.monotonic() >= next_sample:
            next_sample += SAMPLE_EVERY
            sent = pipe.tally.counts["sent"]
            sample = {"t": time.monotonic() - t0, "sent": sent, "rss": rss_mb("self")}
            sample["rate"] = (sent - last_sent) / SAMPLE_EVERY
            samples.append(sample)
            last_sent = sent
            print(
                f"{sample['t']:4.0f}s | {sent:7,} | {sample['rate']:6.0f}/s | "
                f"{sample['rss']:6.1f} | {time.process_time() - cpu0:5.1f} | "
                f"{slots_let_go(pipe):9.2f} s | {waiting(pipe):15,} | {load()}"
            )
    let_go = slots_let_go(pipe)
    pipe.stop()
    elapsed = time.monotonic() - t0
    cpu = time.process_time() - cpu0
    report(args, port, messages, pipe, samples, elapsed, cpu, wall_offset, fake_cpu0, fake_pid)
    print(
        f"schedule time let go (the sender was late by more than its catch-up tolerance, or "
        f"had nothing to send): {let_go:.2f} s = {let_go * args.mps:.0f} messages not sent"
    )


def waiting(pipe: Any) -> int:
    """Rows in the sender thread not yet sent (about one per man here): 0 means the claims
    did not keep up, and the schedule time let go was starvation, not lateness."""
    dispatcher = pipe.thread.dispatcher if pipe.thread else None
    return len(dispatcher.chains) if dispatcher else 0


def slots_let_go(pipe: Any) -> float:
    """Seconds of the sender's schedule it let go (see ratelimit.Schedule.unused)."""
    dispatcher = pipe.thread.dispatcher if pipe.thread else None
    schedule = dispatcher.bucket.schedule if dispatcher else None
    return float(schedule.unused) if schedule else 0.0


def report(
    args: argparse.Namespace,
    port: int,
    messages: int,
    pipe: Any,
    samples: list[dict[str, float]],
    elapsed: float,
    cpu: float,
    wall_offset: float,
    fake_cpu0: float,
    fake_pid: int,
) -> None:
    from django.db.models import Count

    from patas.messaging.models import Message
    from patas.messaging.ratelimit import ceiling, max_in_window

    base = f"http://127.0.0.1:{port}/_fake"
    stats = fetch(f"{base}/stats")
    fake_rss = rss_mb(str(fake_pid))
    record = fetch(f"{base}/messages?fields=to,arrived,at,wamid")["messages"]
    refusals = fetch(f"{base}/errors")["errors"]
    arrivals = sorted(r["arrived"] for r in record)
    received = len(record)
    recipients = {r["to"] for r in record}
    issued = {r["wamid"] for r in record}
    by_status = dict(Message.objects.values_list("status").annotate(n=Count("id")))
    sent_rows = list(
        Message.objects.filter(status=Message.Status.SENT).values_list("wamid", flat=True)
    )
    lost = sum(1 for wamid in sent_rows if wamid not in issued)
    span = arrivals[-1] - arrivals[0] if received > 1 else 0.0
    rate = (received - 1) / span if span else 0.0
    sender_times = sorted(pipe.sent_at)
    limit = args.mps
    print()
    print(f"ran {elapsed:.1f} s; load average at the end {load()} (2 cores)")
    print(f"the sender's ceiling: {ceiling(limit)} in any 1 s (limit {limit:.0f})")
    print(f"sustained rate, first to last arrival: {rate:.1f} messages/s over {span:.1f} s")
    if samples:
        steady = [s["rate"] for s in samples[1:]] or [samples[0]["rate"]]
        print(f"  per 10 s (after the first): min {min(steady):.0f}/s, max {max(steady):.0f}/s")
    verdict = "OK" if rate >= 0.99 * limit else "NOT MET"
    print(f"  target >= {0.99 * limit:.0f}/s (within 1% of the limit): {verdict}")
    print("most messages in any sliding 1 s window:")
    at_fake = max_in_window(arrivals)
    print(f"  at the fake, by arrival (kernel receive time, what Meta counts): {at_fake}")
    print(
        f"  at the fake, by when it handled them (incl. its own queueing):   "
        f"{max_in_window([r['at'] for r in record])}"
    )
    print(
        f"  at the sender, by when it sent them:                           "
        f"{max_in_window(sender_times)}"
    )
    print(f"  target <= {limit:.0f} by arrival: {'OK' if at_fake <= limit else 'NOT MET'}")
    print(
        f"  refused by the fake with 130429 (over its limit): "
        f"{sum(1 for r in refusals if r['code'] == 130429)}"
        f"{'' if not args.no_fake_limit else ' (limit off)'}"
    )
    print_delays(pipe, record, wall_offset)
    print(f"queued {messages:,}; rows by status at the end: {by_status}")
    print(
        f"received by the fake {received:,}; distinct recipients {len(recipients):,}; "
        f"duplicates {received - len(recipients)}"
    )
    print(
        f"recorded as sent {len(sent_rows):,}; lost (sent, but the fake never issued that "
        f"wamid) {lost}"
    )
    print_memory(samples, fake_rss)
    fake_cpu = stats["cpu_seconds"] - fake_cpu0
    attempts = len(sender_times) or 1
    print(
        f"CPU: sender {cpu:.1f} s = {cpu / attempts * 1000:.2f} ms/message; "
        f"fake {fake_cpu:.1f} s = {fake_cpu / max(1, received) * 1000:.2f} ms/request"
    )


def print_delays(pipe: Any, record: list[dict[str, Any]], wall_offset: float) -> None:
    """Send -> arrival, for men who got one message: the jitter the margin must absorb."""
    arrived = {int(r["to"]): r["arrived"] for r in record}
    delays = sorted(
        (arrived[to] - (at + wall_offset)) * 1000
        for to, at in zip(pipe.sent_to, pipe.sent_at, strict=True)
        if to in arrived
    )
    if not delays:
        return
    pick = [delays[min(len(delays) - 1, int(len(delays) * q))] for q in (0.5, 0.99, 0.999)]
    print(
        f"send -> arrival (ms): p50 {pick[0]:.2f}, p99 {pick[1]:.2f}, "
        f"p99.9 {pick[2]:.2f}, max {delays[-1]:.2f}"
    )


def print_memory(samples: list[dict[str, float]], fake_rss: float) -> None:
    if not samples:
        return
    rss = [s["rss"] for s in samples]
    print(
        f"sender process RSS every {SAMPLE_EVERY:.0f} s (MB): first {rss[0]:.1f}, "
        f"max {max(rss):.1f}, last {rss[-1]:.1f} ({len(rss)} samples; includes this "
        f"script's 16 bytes per message of send records)"
    )
    print(f"fake's RSS at the end: {fake_rss:.0f} MB")


def recording_pipe(sender: Any) -> Any:
    """The worker's PipelinedSender, also keeping (recipient, send time) of every attempt in
    compact arrays (16 bytes a message)."""
    from patas.messaging.sender_thread import PipelinedSender

    class RecordingPipe(PipelinedSender):
        def __init__(self, sender: Any) -> None:
            super().__init__(sender)
            self.sent_at = array("d")  # the sender's pace clock (monotonic) at the request
            self.sent_to = array("q")

        def _record(self) -> int:
            outcomes = self._buffer
            done = super()._record()  # may raise: then nothing is counted twice
            for outcome in outcomes:
                if outcome.result is not None:
                    self.sent_at.append(outcome.at)
                    self.sent_to.append(int(outcome.row.to))
            return done

    return RecordingPipe(sender)


def rss_mb(pid: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def load() -> str:
    return "{:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg())


if __name__ == "__main__":
    main()
