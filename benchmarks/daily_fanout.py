"""Daily fan-out: decide and enqueue one day's messages for N enrolled men (SQLite by default).

    python benchmarks/daily_fanout.py                # 100,000 men, demo pack
    python benchmarks/daily_fanout.py --men 20000 --open-share 0.3 --tracemalloc

Setup (not timed): a fresh database in a temporary PATAS_DATA_DIR, N participants and their
enrolments bulk-created, all due now, on day 4 of the program. A share of them (--open-share)
wrote recently, so their 24-hour window is open and the day's content goes out directly; the
others get the `day_opener` template. Timed: `programs.jobs.wake_due(now)`, the pass the worker
runs: chunks of due enrolments read with .values(), decided in Python, written with bulk
INSERTs (outbox, days) and grouped UPDATEs.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(data_dir: str) -> None:
    os.environ["PATAS_DATA_DIR"] = data_dir
    os.environ.setdefault("PATAS_CONTENT_DIR", str(ROOT / "content"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patas.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, skip_checks=True)


def populate(men: int, open_share: float, now: datetime) -> None:
    from patas.participants.models import Participant
    from patas.programs.models import Enrolment
    from patas.programs.pack import get_pack

    program = get_pack().program
    window_open = int(men * open_share)
    people = [
        Participant(
            wa_user_id=f"bench-{i}",
            status="enrolled",
            language="es" if i % 5 else "en",
            profile_name=f"Hombre{i} Apellido",
            last_inbound_at=now - (timedelta(hours=3) if i < window_open else timedelta(days=3)),
            created_at=now - timedelta(days=5),
        )
        for i in range(men)
    ]
    Participant.objects.bulk_create(people, batch_size=5000)
    ids = list(Participant.objects.order_by("pk").values_list("pk", flat=True))
    hours = [program.send_hours.morning, program.send_hours.midday, program.send_hours.evening]
    Enrolment.objects.bulk_create(
        [
            Enrolment(
                participant_id=pk,
                program_id=program.id,
                program_version=program.version,
                time_slot="evening",
                send_hour=hours[n % 3],
                time_zone=program.time_zone,
                current_day=3,
                phase="content",
                day_started_at=now - timedelta(days=1),
                next_wake_at=now,
                wake="day_start",
                enrolled_at=now - timedelta(days=4),
                last_reply_at=now - timedelta(hours=20),
            )
            for n, pk in enumerate(ids)
        ],
        batch_size=5000,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--men", type=int, default=100_000)
    parser.add_argument(
        "--open-share",
        type=float,
        default=0.3,
        help="share of men whose 24-hour window is open (content goes direct)",
    )
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="measure peak Python allocations (slows the pass down)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="patas-fanout-") as data_dir:
        setup_django(data_dir)
        from django.db import connection

        from patas.core import clock
        from patas.messaging.models import Message
        from patas.programs import jobs
        from patas.programs.pack import get_pack

        # 19:00 in Lima on a weekday: outside quiet hours.
        now = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
        t0 = time.perf_counter()
        populate(args.men, args.open_share, now)
        get_pack()  # load the pack before timing (the worker has it cached)
        print(f"setup: {args.men:,} men in {time.perf_counter() - t0:.1f} s ({connection.vendor})")

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if args.tracemalloc:
            tracemalloc.start()
        with clock.virtual_clock(now):
            t1, cpu1 = time.perf_counter(), time.process_time()
            enqueued = jobs.wake_due(now)
            elapsed, cpu = time.perf_counter() - t1, time.process_time() - cpu1
        peak_py = tracemalloc.get_traced_memory()[1] if args.tracemalloc else 0
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

        templates = Message.objects.filter(type="template").count()
        print(
            f"pass: {elapsed:.2f} s for {args.men:,} men -> {enqueued:,} outbox rows "
            f"({templates:,} day openers, {enqueued - templates:,} content messages)"
        )
        print(f"rate: {args.men / elapsed:,.0f} men/s, {enqueued / elapsed:,.0f} rows/s")
        print(
            f"cpu: {cpu:.2f} s of this process's CPU time during the pass (wall minus this is"
            f" waiting: disk, or other processes on a shared machine; load average"
            f" {os.getloadavg()[0]:.1f})"
        )
        print(
            f"memory: peak RSS {rss_after / 1024:.0f} MB (before the pass "
            f"{rss_before / 1024:.0f} MB)"
            + (f", peak Python allocations {peak_py / 2**20:.0f} MB" if args.tracemalloc else "")
        )
        target = 30.0
        print(
            f"target: under {target:.0f} s for 100,000 men -> "
            f"{'met' if elapsed * 100_000 / args.men < target else 'NOT met'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
