"""Several numbers at once: the worker's senders, one per number, each at its own rate.

    python benchmarks/send_numbers.py [--numbers 2] [--mps 400] [--seconds 60]
                                      [--database-url URL]

1. Starts `patas fake-whatsapp` with `--mps` (its limit is per number, as Meta's is).
2. Queues `numbers x mps x seconds` messages, one per man, the men spread over the numbers in
   turn (SQLite in a temp directory unless --database-url: an empty PostgreSQL database).
3. Runs the real worker loop (`Worker.run`: jobs, routing and a pipelined sender per number,
   each with its own thread and rate limit) in this process for `--seconds`.
4. Prints, for each number: messages the fake accepted, the sustained rate (first to last
   arrival), the most arrivals in any sliding 1 s window, 130429 refusals; and checks that each
   message went out from its man's number. Then the process' CPU per message.

The sender needs about 0.43 ms of CPU per message on this 2-core machine (docs/performance.md):
two numbers at 1,000/s do not fit next to the fake; 2 x 400/s does.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from numbers_common import numbers_env, populate
from sender import fetch, free_port, wait_for


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--numbers", type=int, default=2)
    parser.add_argument("--mps", type=float, default=400.0, help="each number's rate")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    numbers = [str(1001 + i) for i in range(args.numbers)]
    messages = int(args.mps * args.seconds) * len(numbers)
    workdir = Path(tempfile.mkdtemp(prefix="send-numbers-"))
    port = free_port()
    os.environ["PATAS_DATA_DIR"] = str(workdir)
    os.environ["PATAS_DATABASE_URL"] = args.database_url or f"sqlite:///{workdir / 'n.db'}"
    os.environ["PATAS_WHATSAPP_API_URL"] = f"http://127.0.0.1:{port}"
    os.environ["PATAS_WHATSAPP_NUMBERS"] = numbers_env(numbers, args.mps)
    os.environ["PATAS_LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patas.settings")
    database = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    print(f"{len(numbers)} numbers x {args.mps:.0f}/s for {args.seconds:.0f} s: {messages:,}")
    print(f"database: {database}; load average at start {load()} (2 cores)")
    started = time.monotonic()
    populate(messages, numbers)
    print(f"queued in {time.monotonic() - started:.0f} s (not timed)")
    fake_cmd = [sys.executable, "-m", "patas", "fake-whatsapp", "--port", str(port)]
    fake = subprocess.Popen(
        [*fake_cmd, "--statuses", "", "--mps", str(args.mps)], stdout=subprocess.DEVNULL
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/_fake/stats")
        run(args, port, numbers)
    finally:
        fake.terminate()
        fake.wait(10)


def run(args: argparse.Namespace, port: int, numbers: list[str]) -> None:
    from patas.core.worker import Worker  # (populate has set Django up)

    worker = Worker("bench")
    print("senders: " + ", ".join(f"{s.phone_number_id} at {s.mps:.0f}/s" for s in worker.senders))
    threading.Timer(args.seconds, worker.stop).start()
    cpu0, t0 = time.process_time(), time.monotonic()
    worker.run(install_signals=False)
    cpu, elapsed = time.process_time() - cpu0, time.monotonic() - t0
    report(args, port, numbers, cpu, elapsed)


def report(
    args: argparse.Namespace, port: int, numbers: list[str], cpu: float, elapsed: float
) -> None:
    from patas.messaging.models import Message

    base = f"http://127.0.0.1:{port}/_fake"
    stats = fetch(f"{base}/stats")
    record = fetch(f"{base}/messages?fields=to,phone_number_id,wamid")["messages"]
    refusals = fetch(f"{base}/errors")["errors"]
    rows = dict(Message.objects.filter(wamid__isnull=False).values_list("wamid", "phone_number_id"))
    wrong = sum(1 for r in record if rows.get(r["wamid"]) != r["phone_number_id"])
    print(f"\nran {elapsed:.1f} s; load average at the end {load()} (2 cores)")
    print("number | accepted | first - last arrival | sustained | max in any 1 s | 130429 | limit")
    origin = stats["first_at"] or 0.0
    for number in numbers:
        s = stats["by_number"].get(number, {})
        accepted = s.get("accepted", 0)
        span = (s["last_at"] - s["first_at"]) if accepted > 1 else 0.0
        rate = (accepted - 1) / span if span else 0.0
        refused = sum(1 for r in refusals if r["phone_number_id"] == number)
        window = f"{s['first_at'] - origin:5.1f} - {s['last_at'] - origin:5.1f} s" if s else "-"
        print(
            f"{number:>6} | {accepted:8,} | {window:>20} | {rate:7.1f}/s | "
            f"{s.get('max_in_1s', 0):14} | {refused:6} | {args.mps:.0f}"
        )
    total = len(record)
    duplicates = total - len({r["to"] for r in record})
    print(f"sent from the wrong number: {wrong}; duplicates: {duplicates}")
    per_message = cpu / max(1, total) * 1000
    print(f"CPU of this process (the worker): {cpu:.1f} s = {per_message:.2f} ms/message")


def load() -> str:
    return "{:.1f} / {:.1f} / {:.1f}".format(*os.getloadavg())


if __name__ == "__main__":
    main()
