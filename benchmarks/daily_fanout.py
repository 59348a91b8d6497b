"""Daily fan-out: decide and enqueue one day's messages for N enrolled men.

    python benchmarks/daily_fanout.py                # 100,000 men, SQLite, demo pack
    python benchmarks/daily_fanout.py --men 20000 --open-share 0.3 --tracemalloc
    python benchmarks/daily_fanout.py --men 1000000 \\
        --database-url postgres://postgres@127.0.0.1:5432/scale_fanout --drop

Setup (not timed): N participants and their enrolments, all due now, on day 4 of the program. A
share of them (--open-share) wrote recently, so their 24-hour window is open and the day's
content goes out directly; the others get the `day_opener` template. On SQLite the database is
a fresh file and the rows are bulk-created; on PostgreSQL the database named in the URL is
created if missing (an existing one must be empty, or pass --wipe) and the rows are written
with INSERT ... SELECT over generate_series (a few seconds for a million).

Timed: `programs.jobs.wake_due(now)`, the pass the worker runs every minute. Printed: wall and
CPU time of this process, PostgreSQL's CPU (this connection's backend plus the WAL writer,
checkpointer and background writer, read from /proc), rows/s, RSS over the pass. Checked: the
outbox and DayProgress rows in the database are exactly what the engine decided.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _measure import (  # noqa: E402
    MemorySampler,
    PostgresCpu,
    create_database,
    database_name,
    drop_database,
    load_average,
)

TABLES = ("participants_participant", "messaging_message", "core_auditentry")


def setup_django(data_dir: str, database_url: str) -> None:
    os.environ["PATAS_DATA_DIR"] = data_dir
    os.environ.setdefault("PATAS_CONTENT_DIR", str(ROOT / "content"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patas.settings")
    if database_url:
        os.environ["PATAS_DATABASE_URL"] = database_url
    sys.path.insert(0, str(ROOT / "src"))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, skip_checks=True)


def populate_sqlite(men: int, open_share: float, now: datetime) -> None:
    from patas.participants.models import Participant
    from patas.programs.models import Enrolment

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
    values = enrolment_values(now)
    Enrolment.objects.bulk_create(
        [
            Enrolment(participant_id=pk, send_hour=values["send_hours"][n % 3], **values["fixed"])
            for n, pk in enumerate(ids)
        ],
        batch_size=5000,
    )


def enrolment_values(now: datetime) -> dict[str, Any]:
    from patas.programs.pack import get_pack

    program = get_pack().program
    hours = program.send_hours
    return {
        "send_hours": [hours.morning, hours.midday, hours.evening],
        "fixed": {
            "program_id": program.id,
            "program_version": program.version,
            "time_slot": "evening",
            "time_zone": program.time_zone,
            "current_day": 3,
            "phase": "content",
            "day_started_at": now - timedelta(days=1),
            "next_wake_at": now,
            "wake": "day_start",
            "enrolled_at": now - timedelta(days=4),
            "last_reply_at": now - timedelta(hours=20),
        },
    }


Expr = tuple[str, list[Any]]  # SQL with %s placeholders, and their values


def insert_select(model: Any, expressions: dict[str, Expr], source: Expr) -> int:
    """INSERT INTO model's table SELECT ... FROM `source`: columns named in `expressions` take
    that SQL, every other column its model default (so a new field cannot break the setup)."""
    from django.db import connection

    columns, selects, values = [], [], []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(connection.ops.quote_name(f.column))
        sql, params = expressions.get(
            f.name, ("%s", [f.get_db_prep_save(f.get_default(), connection)])
        )
        selects.append(sql)
        values.extend(params)
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(selects)} FROM {source[0]}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values + source[1])
        return int(cursor.rowcount)


def populate_postgres(men: int, open_share: float, now: datetime) -> None:
    """The same rows as populate_sqlite, written by PostgreSQL itself.

    Names are Fernet tokens drawn from a pool of 1,000 encryptions (encrypting a million names
    one by one would take longer than the pass); the pass decrypts each man's token anyway."""
    from django.db import connection, transaction

    from patas.core.crypto import encrypt
    from patas.participants.models import Participant
    from patas.programs.models import Enrolment

    names = [encrypt(f"Hombre{i} Apellido") for i in range(1000)]
    window = now - timedelta(hours=3), now - timedelta(days=3)
    with transaction.atomic():
        insert_select(
            Participant,
            {
                "uid": ("gen_random_uuid()", []),
                "wa_user_id": ("'bench-' || i", []),
                "status": ("'enrolled'", []),
                "language": ("CASE WHEN i %% 5 = 0 THEN 'en' ELSE 'es' END", []),
                "profile_name": ("(%s::text[])[i %% 1000 + 1]", [names]),
                "last_inbound_at": (
                    "CASE WHEN i < %s THEN %s::timestamptz ELSE %s::timestamptz END",
                    [int(men * open_share), *window],
                ),
                "created_at": ("%s::timestamptz", [now - timedelta(days=5)]),
            },
            ("generate_series(0, %s) AS i", [men - 1]),
        )
        values = enrolment_values(now)
        slot = "(%s::int[])[(row_number() OVER (ORDER BY p.id) - 1) %% 3 + 1]"
        insert_select(
            Enrolment,
            {
                "participant": ("p.id", []),
                "send_hour": (slot, [values["send_hours"]]),
                **{name: ("%s", [value]) for name, value in values["fixed"].items()},
            },
            (f"{Participant._meta.db_table} p", []),
        )
    with connection.cursor() as cursor:
        for table in (Participant._meta.db_table, Enrolment._meta.db_table):
            cursor.execute(f"ANALYZE {table}")


def count_decisions(jobs: Any) -> dict[str, int]:
    """Wrap jobs.apply_decisions to count what the engine decided (sends, new days)."""
    tally = {"sends": 0, "new_days": 0, "men": 0}
    original: Callable[..., int] = jobs.apply_decisions
    lock = threading.Lock()  # the pass runs in lanes (threads) on PostgreSQL

    def counting(decided: Any, now: datetime, *args: Any, **kwargs: Any) -> int:
        with lock:
            tally["men"] += len(decided)
            tally["sends"] += sum(len(d.send) for _, d in decided)
            tally["new_days"] += sum(1 for _, d in decided if d.new_day)
        return original(decided, now, *args, **kwargs)

    jobs.apply_decisions = counting
    return tally


def prepare(args: argparse.Namespace, now: datetime) -> None:
    from django.db import connection

    if args.database_url:
        from patas.participants.models import Participant

        if Participant.objects.exists():
            if not args.wipe:
                raise SystemExit("the database has participants: pass --wipe to empty it")
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
        populate_postgres(args.men, args.open_share, now)
    else:
        populate_sqlite(args.men, args.open_share, now)


def run(args: argparse.Namespace) -> bool:
    from django.db import connection

    from patas.core import clock
    from patas.messaging.models import Message
    from patas.programs import jobs
    from patas.programs.models import DayProgress
    from patas.programs.pack import get_pack

    # 19:00 in Lima on a weekday: outside quiet hours.
    now = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    t0 = time.perf_counter()
    prepare(args, now)
    get_pack()  # load the pack before timing (the worker has it cached)
    print(f"setup: {args.men:,} men in {time.perf_counter() - t0:.1f} s ({connection.vendor})")

    tally = count_decisions(jobs)
    if args.lanes:
        jobs.LANES = args.lanes
    pg = connection.vendor == "postgresql"
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if args.tracemalloc:
        tracemalloc.start()
    postgres = PostgresCpu(database_name(args.database_url) if pg else "-")
    with clock.virtual_clock(now), MemorySampler() as memory, postgres:
        t1, cpu1 = time.perf_counter(), time.process_time()
        enqueued = jobs.wake_due(now)
        elapsed, cpu = time.perf_counter() - t1, time.process_time() - cpu1
    load = load_average()
    peak_py = tracemalloc.get_traced_memory()[1] if args.tracemalloc else 0
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    templates = Message.objects.filter(type="template").count()
    outbox, days = Message.objects.count(), DayProgress.objects.count()
    print(
        f"pass: {elapsed:.2f} s wall for {args.men:,} men -> {enqueued:,} outbox rows "
        f"({templates:,} day openers, {enqueued - templates:,} content messages)"
    )
    print(f"rate: {args.men / elapsed:,.0f} men/s, {enqueued / elapsed:,.0f} outbox rows/s")
    lanes = jobs._lanes() if pg else 1
    print(
        f"cpu: this process {cpu:.2f} s"
        + (
            f"; PostgreSQL: backends of this database {postgres.seconds('backends'):.2f} s, "
            f"server writers {postgres.seconds('writers'):.2f} s; {lanes} lane(s)"
            if pg
            else ""
        )
    )
    print(f"load: {load} (wall beyond CPU is waiting: for a core, the disk, locks)")
    print(
        f"memory: peak RSS {rss_after / 1024:.0f} MB (before the pass {rss_before / 1024:.0f} MB);"
        f" {memory.summary()}"
        + (f"; peak Python allocations {peak_py / 2**20:.0f} MB" if args.tracemalloc else "")
    )
    ok = outbox == enqueued == tally["sends"] and days == tally["new_days"] == tally["men"]
    print(
        f"check: engine decided {tally['sends']:,} messages and {tally['new_days']:,} new days for"
        f" {tally['men']:,} men; database has {outbox:,} outbox rows, {days:,} DayProgress rows"
        f" -> {'OK' if ok else 'FAILED'}"
    )
    target, per = (120.0, 1_000_000) if connection.vendor == "postgresql" else (30.0, 100_000)
    print(
        f"target: under {target:.0f} s for {per:,} men (scaled from {args.men:,}) -> "
        f"{'met' if elapsed * per / args.men < target else 'NOT met'}"
    )
    return ok


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
    parser.add_argument("--database-url", default="", help="postgres://...; default SQLite")
    parser.add_argument(
        "--lanes", type=int, default=0, help="PostgreSQL: chunks in flight (default jobs.LANES)"
    )
    parser.add_argument("--wipe", action="store_true", help="empty an existing database first")
    parser.add_argument("--drop", action="store_true", help="drop the PostgreSQL database after")
    args = parser.parse_args()

    if args.database_url:
        create_database(args.database_url)
    try:
        with tempfile.TemporaryDirectory(prefix="patas-fanout-") as data_dir:
            setup_django(data_dir, args.database_url)
            ok = run(args)
            from django.db import connections

            connections.close_all()
    finally:
        if args.database_url and args.drop:
            drop_database(args.database_url)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
