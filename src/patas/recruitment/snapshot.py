"""The dashboard's figures, kept where every web process finds them (Django's cache).

Computing the tables of a 100,000-man program takes 1.4 to 1.7 s of CPU, and the costs page
more than 1 s (docs/performance.md). Readers should not wait for that. The worker recomputes both
(`recruitment.jobs.refresh_dashboard`) and stores them in the cache shared by all processes
(`settings.CACHES`: a table in the program's database by default, so there is no other service
to run). Pages read the last snapshot with one query.

The job recomputes only while someone reads the dashboard: an idle program, or a simulation
ticking through weeks, does not pay for a second of SQL every few minutes. After a quiet spell,
the first reader sees the last figures with their time and a note; the next worker pass
(within REFRESH) brings new ones. A page computes in the request only when it has nothing to show:
no snapshot yet, or an old one while no worker runs the job. "Recompute now" (`?fresh=1`)
also computes in the request, for the reader who asked for it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.cache import cache
from django.db import connection, connections

from patas.core import clock
from patas.core.models import JobLease
from patas.recruitment import cost_counts, dashboard

REFRESH = timedelta(minutes=2)  # the job's period, and how old figures may be while read
WATCHED_FOR = timedelta(minutes=30)  # the job keeps refreshing this long after the last read
JOB = "patas.recruitment.jobs.refresh_dashboard"
PREFIX = "patas:dashboard:"
RESEARCHER = dashboard.Viewer(show_arm=True, show_partners=True)
# The readers the console has: researchers, and supervisors and admins (no arms, no partners).
VIEWERS = (RESEARCHER, dashboard.Viewer())


@dataclass(frozen=True)
class Computed:
    """One part's figures, when they were computed and how long that took."""

    at: datetime
    seconds: float
    value: Any

    def age(self, now: datetime) -> timedelta:
        return now - self.at


def kind(viewer: dashboard.Viewer) -> str:
    return f"arm{int(viewer.show_arm)}-partners{int(viewer.show_partners)}"


# Tables that share one query (through the reader's per-computation cache) run together.
TOGETHER = (("checkins_day", "checkins_module"),)
THREADS = 3  # independent queries at once (PostgreSQL): 2 cores here, more in production
Batch = tuple[dashboard.Viewer, tuple[str, ...]]


def _batches() -> list[Batch]:
    """(reader, table keys) that can run at the same time; the slowest (funnel) first.
    Tables that do not depend on the reader (all but surveys and changes) are computed once."""
    together = {key: keys for keys in TOGETHER for key in keys}
    batches: list[Batch] = []
    for key in dashboard.AGGREGATES:
        keys = together.get(key, (key,))
        if key not in dashboard.BY_VIEWER and key == keys[0]:
            batches.append((VIEWERS[0], keys))
    return batches + [(viewer, dashboard.BY_VIEWER) for viewer in VIEWERS]


def _compute(batch: Batch, threaded: bool) -> dict[tuple[str, str], dashboard.Table]:
    reader, keys = batch
    viewer = reader.fresh()  # shared by this batch's tables only
    try:
        with dashboard.aggregate_reads():
            return {(kind(viewer), key): dashboard.AGGREGATES[key](viewer) for key in keys}
    finally:
        if threaded:
            connections.close_all()  # this thread's own connections


def _threads_allowed() -> bool:
    """PostgreSQL runs each connection's queries in its own server process. SQLite runs them
    in this process, where threads measured no faster. Other connections see committed rows
    only, so a caller's open transaction (a test's) keeps everything on its connection."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def compute_tables() -> dict[str, list[dashboard.Table]]:
    """Every table for each kind of reader, the independent queries on THREADS connections."""
    batches = _batches()
    if _threads_allowed():
        with ThreadPoolExecutor(THREADS, thread_name_prefix="dashboard") as pool:
            results = list(pool.map(lambda batch: _compute(batch, True), batches))
    else:
        results = [_compute(batch, False) for batch in batches]
    found = {key: table for result in results for key, table in result.items()}
    common = kind(VIEWERS[0])
    return {
        kind(v): [found.get((kind(v), key)) or found[common, key] for key in dashboard.AGGREGATES]
        for v in VIEWERS
    }


PARTS: dict[str, Callable[[], Any]] = {
    "tables": compute_tables,
    "costs": cost_counts.measure,  # (Counts, PerMan | None); the projection is arithmetic
}


def recompute(part: str) -> Computed:
    """Compute one part now and store it for every process."""
    at, started = clock.now(), time.perf_counter()
    with dashboard.aggregate_reads():
        value = PARTS[part]()
    done = Computed(at, round(time.perf_counter() - started, 3), value)
    cache.set(PREFIX + part, done, timeout=None)
    return done


def _worker_refreshes(now: datetime) -> bool:
    """Has a worker run the refresh job lately (it runs every REFRESH, working or not)?"""
    recent = now - 3 * REFRESH
    return JobLease.objects.filter(name=JOB, last_finished_at__gte=recent).exists()


def read(part: str, *, fresh: bool = False) -> Computed:
    """The last figures of `part`, computed here only if there are none worth showing."""
    now = clock.now()
    found = cache.get_many([PREFIX + part, PREFIX + "read:" + part])
    last: Computed | None = found.get(PREFIX + part)
    if fresh or last is None or (last.age(now) > 2 * REFRESH and not _worker_refreshes(now)):
        last = recompute(part)
    read_at = found.get(PREFIX + "read:" + part)
    if read_at is None or now - read_at > REFRESH / 2:  # at most one write a minute
        cache.set(PREFIX + "read:" + part, now, timeout=None)
    return last


def tables_for(
    viewer: dashboard.Viewer, *, fresh: bool = False
) -> tuple[Computed, list[dashboard.Table]]:
    """The dashboard's tables as this reader may see them, and when they were computed."""
    last = read("tables", fresh=fresh)
    tables = last.value.get(kind(viewer))
    if tables is None:  # a kind of reader the console does not have: compute, keep nothing
        tables = dashboard.all_tables(viewer)
    return last, tables


def is_stale(last: Computed) -> bool:
    """Older than the worker would leave them: the page says newer figures are coming."""
    return last.age(clock.now()) > REFRESH + timedelta(seconds=30)


def refresh_watched(now: datetime) -> int:
    """The job: recompute each part read in the last WATCHED_FOR and older than half a
    period (a reader's "Recompute now" may have just done it). Returns parts recomputed."""
    keys = [PREFIX + p for p in PARTS] + [PREFIX + "read:" + p for p in PARTS]
    found = cache.get_many(keys)
    done = 0
    for part in PARTS:
        read_at = found.get(PREFIX + "read:" + part)
        last = found.get(PREFIX + part)
        if read_at is None or now - read_at > WATCHED_FOR:
            continue
        if last is None or last.age(now) >= REFRESH / 2:
            recompute(part)
            done += 1
    return done


def forget() -> None:
    """Drop every stored figure and read mark (tests; after restoring a database)."""
    cache.delete_many([PREFIX + p for p in PARTS] + [PREFIX + "read:" + p for p in PARTS])
