"""The dashboard of a 100,000-man program: build it in SQL, render it, time it.

    PATAS_DATA_DIR=/tmp/patas-bench python benchmarks/dashboard.py [--men 100000] [--repeat 5]

Bulk-creates a synthetic program (patas.recruitment.synthetic) in a fresh SQLite database
(or PATAS_DATABASE_URL), then times: every aggregate (queries and time), the dashboard page
as the console serves it (HTML, charts as separate SVG requests), every chart, the costs page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path


def setup(args: argparse.Namespace) -> None:
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


def timed(fn, repeat: int) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    """Median and max wall time; the median CPU time of this process goes to CPU[-1]."""
    times, cpu, result = [], [], None
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time()
        result = fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    CPU.append(statistics.median(cpu))
    return statistics.median(times), max(times), result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--men", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, help="Reuse this SQLite folder if populated.")
    args = parser.parse_args()
    setup(args)

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from patas.recruitment import charts, dashboard
    from patas.recruitment.synthetic import populate

    print(f"database: {connection.vendor}; men: {args.men:,}")
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
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    viewer = dashboard.Viewer(show_arm=True, show_partners=True)
    print(
        f"\n{'aggregate':<16}{'queries':>8}{'median ms':>11}{'max ms':>9}{'CPU ms':>8}{'rows':>7}"
    )
    wall = cpu = 0.0
    for key in dashboard.AGGREGATES:
        with CaptureQueriesContext(connection) as queries:
            dashboard.table(key, viewer)
        median, worst, table = timed(
            lambda key=key: dashboard.table(key, dashboard.Viewer(True, True)), args.repeat
        )
        wall, cpu = wall + median, cpu + CPU[-1]
        rows = len(table.rows)  # type: ignore[attr-defined]
        print(
            f"{key:<16}{len(queries):>8}{median * 1000:>11.0f}{worst * 1000:>9.0f}"
            f"{CPU[-1] * 1000:>8.0f}{rows:>7}"
        )
    print(f"{'sum':<16}{'':>8}{wall * 1000:>11.0f}{'':>9}{cpu * 1000:>8.0f}")

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
    for label, path in (
        ("page, computed", "/dashboard/?fresh=1"),
        ("page, cached", "/dashboard/"),
        ("one chart", "/dashboard/chart/retention.svg"),
        ("one CSV", "/dashboard/csv/enrolment.csv"),
        ("costs page", "/dashboard/costs/"),
    ):
        median, worst, response = timed(lambda path=path: client.get(path), args.repeat)
        status = response.status_code  # type: ignore[attr-defined]
        print(
            f"GET {path:<32} {label:<15} {status}  median {median * 1000:.0f} ms, "
            f"max {worst * 1000:.0f} ms, CPU {CPU[-1] * 1000:.0f} ms"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
