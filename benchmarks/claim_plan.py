"""The claim of one number among several: its query plan and time, at 300,000 queued rows.

    python benchmarks/claim_plan.py [--rows 300000] [--numbers 3] [--database-url URL]

Queues `--rows` messages, all due at the same instant (a day's fan-out), for men spread over
`--numbers` numbers; then prints the plan of the first number's claim query (EXPLAIN ANALYZE on
PostgreSQL, EXPLAIN QUERY PLAN on SQLite) and times `claim_batch` for each number. The plan
should read `outbox_due` as one range (phone_number_id = X, due_at <= now) in (due_at, id)
order and stop after the batch: no sort, no scan of the other numbers' rows.
SQLite in a temp directory unless --database-url (an empty PostgreSQL database; migrated).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from numbers_common import populate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--numbers", type=int, default=3)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--reuse", action="store_true", help="the database is populated already")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="claim-plan-"))
    numbers = [str(1001 + i) for i in range(args.numbers)]
    os.environ.setdefault("PATAS_DATA_DIR", str(workdir))  # set it to use --reuse
    os.environ["PATAS_DATABASE_URL"] = args.database_url or f"sqlite:///{workdir / 'plan.db'}"
    os.environ["PATAS_WHATSAPP_NUMBERS"] = ",".join(numbers)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patas.settings")
    started = time.monotonic()
    if args.reuse:
        import django

        django.setup()
    else:
        populate(args.rows, numbers)
    took = time.monotonic() - started
    print(f"queued {args.rows:,} rows over {len(numbers)} numbers in {took:.0f} s")
    print(f"load average {os.getloadavg()[0]:.1f} (2 cores)")
    explain(numbers[0], args.batch)
    time_claims(numbers, args.batch)


def explain(number: str, batch: int) -> None:
    from django.db import connection, transaction

    from patas.core import clock
    from patas.messaging import claim

    qs = claim.due_queryset(clock.now(), phone_number_id=number)
    postgres = connection.vendor == "postgresql"
    if postgres:
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    prefix = "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " if postgres else "EXPLAIN QUERY PLAN "
    print(f"\n{connection.vendor}: plan of number {number}'s claim (LIMIT {batch * 2}):")
    with transaction.atomic(), connection.cursor() as cursor:
        query = qs.values(*claim._CANDIDATE_FIELDS)[: batch * 2].query
        sql, params = query.sql_with_params()
        cursor.execute(prefix + sql, params)
        for row in cursor.fetchall():
            print("  ", row[0] if postgres else row[-1])
        transaction.set_rollback(True)  # EXPLAIN ANALYZE ... FOR UPDATE locked the rows


def time_claims(numbers: list[str], batch: int) -> None:
    from patas.messaging import claim

    print(f"\nclaim_batch(limit={batch}) per number, 3 claims each (ms):")
    for number in numbers:
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            rows = claim.claim_batch("plan", batch, phone_number_id=number)
            times.append((time.perf_counter() - t0) * 1000)
            assert len(rows) == batch, len(rows)
        print(f"  {number}: " + ", ".join(f"{t:.0f}" for t in times))


if __name__ == "__main__":
    sys.exit(main())
