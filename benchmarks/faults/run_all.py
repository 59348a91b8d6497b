"""Run every fault script, one after the other, and print a summary.

    python benchmarks/faults/run_all.py            # the documented sizes
    python benchmarks/faults/run_all.py --short    # smaller (10 minutes at load average 11)
    python benchmarks/faults/run_all.py --no-postgres   # SQLite-only scenarios

Each script prints its own line of counts and exits non-zero when something is lost or a stated
guarantee is broken; this exits non-zero if any of them did. PostgreSQL scenarios make their
own `fault_*` databases on --server (default postgres://postgres@127.0.0.1:5432) and drop them.
`database_down.py --real-postgres` (stopping the machine's PostgreSQL) is never run from here.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import api_errors
import bad_bodies
import common
import database_down
import duplicate_webhooks
import kill_worker

DOWN_SHORT = ["--messages", "1500", "--down", "10", "--inbound", "200"]
Scenario = tuple[str, Callable[[list[str]], int], list[str], list[str], bool]

# name, main, full-size arguments, short arguments, needs PostgreSQL
SCENARIOS: list[Scenario] = [
    ("1 kill -9 the sender", kill_worker.main, [], ["--messages", "4000"], True),
    ("2 database down (proxy)", database_down.main, [], DOWN_SHORT, True),
    ("3 130429 + 5xx storm", api_errors.main, [], ["--seconds", "15", "--messages", "2000"], False),
    ("4 same webhook x10", duplicate_webhooks.main, [], ["--deliveries", "30"], False),
    ("5 bad bodies", bad_bodies.main, [], ["--repeat", "10"], False),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--short", action="store_true", help="the sizes CI runs")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite-only scenarios")
    parser.add_argument("--server", default=common.PG_SERVER, help="PostgreSQL server URL")
    args = parser.parse_args(argv)
    results = []
    for name, run, full, short, postgres in SCENARIOS:
        if postgres and args.no_postgres:
            results.append((name, "skipped", 0.0))
            continue
        extra = ["--server", args.server]
        if run is duplicate_webhooks.main and args.no_postgres:
            extra += ["--database", "sqlite"]
        print(f"\n== {name}", flush=True)
        started = time.monotonic()
        try:
            code = run([*(short if args.short else full), *extra])
        except Exception as exc:  # a crashed scenario is a failed one; go on with the rest
            print(f"crashed: {type(exc).__name__}: {exc}")
            code = 2
        outcome = "OK" if code == 0 else f"FAILED ({code})"
        results.append((name, outcome, time.monotonic() - started))
    print("\n== summary")
    for name, outcome, seconds in results:
        print(f"{name:28} {outcome:12} {seconds:6.0f} s")
    return 0 if all(o in ("OK", "skipped") for _, o, _ in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
