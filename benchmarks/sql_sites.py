"""Count the SQL statements of a simulation by the line of patas code that issued them.

    python benchmarks/sql_sites.py --men 100 [--top 60]

Runs `patas simulate` in process on a fresh SQLite data dir with a Django execute wrapper that
records, for every statement, the innermost frame in patas code (outside the few helpers that
only carry statements for others). Prints the total, then the busiest lines with how many
statements each issued, how many of those Django's query compiler built (the costly kind;
the rest are plain SQL or went through `core.prepared` or `core.fastinsert`), and the wall time
spent running them below the ORM (the database's work and Django's cursor; `--sort time` lists
the costliest lines first). A line that
issues about one statement per tick (1,300-1,500 in a 30-day run) is a look the worker
repeats; one that grows with the men is per-message work. The wrapper's stack walk slows the
run by about a third: use it to find statements, and `benchmarks/simulate.py` to time them.
Not run in CI.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

COMPILER = "/django/db/models/sql/compiler.py"
CARRIERS = ("/core/prepared.py", "/core/fastinsert.py", "/core/fastread.py")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--men", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--top", type=int, default=60)
    parser.add_argument(
        "--sort", choices=("count", "time"), default="count", help="busiest lines by what"
    )
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="patas-sql-"))
    os.environ.update(PATAS_DATA_DIR=str(data), PATAS_LOG_LEVEL="WARNING")
    os.environ.pop("PATAS_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patas.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    counts: collections.Counter[str] = collections.Counter()
    compiled: collections.Counter[str] = collections.Counter()
    seconds: collections.Counter[str] = collections.Counter()

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        site, by_orm = _site()
        counts[site] += 1
        compiled[site] += by_orm
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seconds[site] += time.perf_counter() - started

    call_command("migrate", verbosity=0)
    with connection.execute_wrapper(wrapper):
        call_command(
            "simulate",
            men=args.men,
            days=30,
            seed=args.seed,
            effect=0.3,
            out=data / "out",
            no_progress=True,
            stdout=open(os.devnull, "w"),  # noqa: SIM115
        )
    print(
        f"men={args.men} statements={sum(counts.values())} by the ORM={compiled.total()} "
        f"running them={sum(seconds.values()):.1f}s"
    )
    print(f"{'all':>8} {'ORM':>8} {'ms':>8}  site")
    busiest = counts if args.sort == "count" else seconds
    for site, _ in busiest.most_common(args.top):
        print(f"{counts[site]:8d} {compiled[site]:8d} {seconds[site] * 1000:8.0f}  {site}")


def _site() -> tuple[str, bool]:
    """The innermost patas line, and whether Django's query compiler built the statement."""
    stack = traceback.extract_stack(limit=60)[:-2]
    by_orm = any(frame.filename.endswith(COMPILER) for frame in stack)
    for frame in reversed(stack):
        name = frame.filename
        if "/patas/" in name and not name.endswith(CARRIERS) and "benchmarks" not in name:
            return f"{name.split('/patas/')[-1]}:{frame.lineno} {frame.name}", by_orm
    return "(outside patas)", by_orm


if __name__ == "__main__":
    sys.exit(main())
