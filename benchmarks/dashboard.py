"""The dashboard of a 100,000-man program: build it in SQL, render it, time it.

    python benchmarks/dashboard.py [--men 100000] [--repeat 5] [--data-dir DIR]
        [--database-url postgres://postgres@127.0.0.1:5432/dash_100k]

Bulk-creates a synthetic program (patas.recruitment.synthetic) in a fresh SQLite database
(or the PostgreSQL database given; a populated one is reused), then times: every aggregate
(queries and time), the worker's recomputation of the dashboard's snapshot, the dashboard page
computed (`?fresh=1`) and as usually served (from the snapshot), every chart, the costs page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def setup(args: argparse.Namespace) -> None:
    if args.database_url:
        os.environ["PATAS_DATABASE_URL"] = args.database_url
    if args.data_dir:
        os.environ["PATAS_DATA_DIR"] = str(args.data_dir)
    elif "PATAS_DATABASE_URL" not in os.environ:
        folder = Path(tempfile.mkdtemp(prefix="patas-dash-"))
        os.environ["PATAS_DATA_DIR"] = str(folder)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patas.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, skip_checks=True)


CPU: list[float] = []
SERVER: list[float] = []


def server_seconds() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (same machine, /proc);
    0 on SQLite, whose work is this process' own CPU time."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def timed(fn, repeat: int) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    """Median and max wall time; the median CPU time of this process goes to CPU[-1], that of
    the PostgreSQL backend (same connection) to SERVER[-1]."""
    times, cpu, server, result = [], [], [], None
    for _ in range(repeat):
        t, c, b = time.perf_counter(), time.process_time(), server_seconds()
        result = fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        server.append(server_seconds() - b)
    CPU.append(statistics.median(cpu))
    SERVER.append(statistics.median(server))
    return statistics.median(times), max(times), result


@contextmanager
def one_backend() -> Iterator[None]:
    """PostgreSQL: no parallel workers, so one backend's CPU time is all the server's work."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--men", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, help="Reuse this SQLite folder if populated.")
    parser.add_argument(
        "--database-url",
        help="e.g. postgres://postgres@127.0.0.1:5432/dash_100k (reused if populated); "
        "keep --data-dir too: it holds the field encryption key",
    )
    parser.add_argument("--threads", type=int, help="connections for the snapshot's queries")
    parser.add_argument("--only-snapshot", action="store_true", help="time the snapshot alone")
    args = parser.parse_args()
    setup(args)

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from patas.recruitment import charts, cost_counts, dashboard, snapshot
    from patas.recruitment.synthetic import populate

    load = os.getloadavg()[0]
    print(f"database: {connection.vendor}; men: {args.men:,}; load average {load:.1f}")
    from patas.participants.models import Participant

    t = time.perf_counter()
    if Participant.objects.exists():
        folder = os.environ.get("PATAS_DATA_DIR")
        print(f"reusing {Participant.objects.count():,} participants in {folder}")
        counts = {}
    else:
        counts = populate(args.men, seed=7)
    print(
        f"populate: {time.perf_counter() - t:.1f} s  "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items())
    )
    with connection.cursor() as cursor:  # fresh statistics for the planner, as in production
        cursor.execute("ANALYZE")

    if args.threads:
        snapshot.THREADS = args.threads
    if args.only_snapshot:
        median, worst, _ = timed(lambda: snapshot.recompute("tables"), args.repeat)
        print(
            f"snapshot.recompute('tables'), {snapshot.THREADS} threads: median "
            f"{median * 1000:.0f} ms, max {worst * 1000:.0f} ms, CPU {CPU[-1] * 1000:.0f} ms, "
            f"load {os.getloadavg()[0]:.1f}"
        )
        return
    viewer = dashboard.Viewer(show_arm=True, show_partners=True)
    print(
        "\none at a time, one connection (PostgreSQL: no parallel workers; server CPU = "
        "the backend's)"
    )
    print(
        f"{'aggregate':<16}{'queries':>8}{'median ms':>11}{'max ms':>9}{'CPU ms':>8}"
        f"{'server CPU':>11}{'rows':>7}"
    )
    wall = cpu = server = 0.0
    with one_backend():
        for key in [*dashboard.AGGREGATES, "costs"]:
            if key == "costs":
                build = cost_counts.measure
            else:
                build = lambda key=key: dashboard.table(key, dashboard.Viewer(True, True))  # noqa: E731
            with CaptureQueriesContext(connection) as queries:
                build()
            median, worst, table = timed(build, args.repeat)
            wall, cpu, server = wall + median, cpu + CPU[-1], server + SERVER[-1]
            rows = len(getattr(table, "rows", ()))
            print(
                f"{key:<16}{len(queries):>8}{median * 1000:>11.0f}{worst * 1000:>9.0f}"
                f"{CPU[-1] * 1000:>8.0f}{SERVER[-1] * 1000:>11.0f}{rows:>7}"
            )
    print(f"{'sum':<16}{'':>8}{wall * 1000:>11.0f}{'':>9}{cpu * 1000:>8.0f}{server * 1000:>11.0f}")

    median, worst, _ = timed(
        lambda: dashboard.all_tables(dashboard.Viewer(True, True)), args.repeat
    )
    print(
        f"all_tables (check-ins shared): median {median * 1000:.0f} ms, CPU {CPU[-1] * 1000:.0f} ms"
    )
    tables = dashboard.all_tables(viewer)
    median, worst, _ = timed(lambda: [charts.render(t) for t in tables], args.repeat)
    print(
        f"all {len(tables)} charts (matplotlib SVG): median {median * 1000:.0f} ms, "
        f"max {worst * 1000:.0f} ms, CPU {CPU[-1] * 1000:.0f} ms"
    )

    user = get_user_model().objects.create_user(f"bench{time.time_ns()}", password="x")
    user.groups.add(Group.objects.get_or_create(name="researcher")[0])
    client = Client()
    client.force_login(user)
    print()
    for part in snapshot.PARTS:
        median, worst, _ = timed(lambda part=part: snapshot.recompute(part), args.repeat)
        print(
            f"snapshot.recompute({part!r}) (the worker's job): median {median * 1000:.0f} ms, "
            f"max {worst * 1000:.0f} ms, CPU {CPU[-1] * 1000:.0f} ms"
        )
    for label, path in (
        ("page, computed", "/dashboard/?fresh=1"),
        ("page, usual", "/dashboard/"),
        ("one chart", "/dashboard/chart/retention.svg"),
        ("one CSV", "/dashboard/csv/enrolment.csv"),
        ("costs, computed", "/dashboard/costs/?fresh=1"),
        ("costs, usual", "/dashboard/costs/"),
    ):
        median, worst, response = timed(lambda path=path: client.get(path), args.repeat)
        status = response.status_code  # type: ignore[attr-defined]
        print(
            f"GET {path:<32} {label:<15} {status}  median {median * 1000:.0f} ms, "
            f"max {worst * 1000:.0f} ms, CPU {CPU[-1] * 1000:.0f} ms"
        )
    print(f"load average at the end: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
