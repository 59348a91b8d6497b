"""A registry of periodic work, declared by each app in its `jobs.py`.

    from patas.core.jobs import periodic

    @periodic(every=timedelta(minutes=1))
    def send_due_reminders(now: datetime) -> int:
        ...                     # returns how many things it did (for logs and metrics)

The worker calls `run_due_jobs`; a job's run is guarded by a lease row (`JobLease`) taken with a
conditional UPDATE, so two workers never run the same job at once, and a crashed worker's
lease expires by itself.
"""

from __future__ import annotations

import importlib
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.db import connection, transaction

from patas.core import clock, planner
from patas.core.models import JobLease
from patas.core.prepared import Prepared

log = logging.getLogger(__name__)

JobFunc = Callable[[datetime], "int | None"]


@dataclass(frozen=True)
class Job:
    name: str
    every: timedelta
    func: JobFunc
    lease: timedelta


REGISTRY: dict[str, Job] = {}
_known_leases: set[str] = set()
_discovered = False


def periodic(
    *, every: timedelta, name: str | None = None, lease: timedelta | None = None
) -> Callable[[JobFunc], JobFunc]:
    def decorate(func: JobFunc) -> JobFunc:
        job_name = name or f"{func.__module__}.{func.__name__}"
        REGISTRY[job_name] = Job(
            job_name, every, func, lease or max(every * 2, timedelta(minutes=5))
        )
        return func

    return decorate


def discover() -> dict[str, Job]:
    """Import `jobs` of every patas app once so their decorators register."""
    global _discovered
    if not _discovered:
        for config in apps.get_app_configs():
            if config.name.startswith("patas."):
                try:
                    importlib.import_module(f"{config.name}.jobs")
                except ModuleNotFoundError as exc:
                    if exc.name != f"{config.name}.jobs":
                        raise
        _discovered = True
    return REGISTRY


def try_acquire(
    name: str, holder: str, lease: timedelta, now: datetime, *, due_only: bool = True
) -> bool:
    """Take the named lease if it is free (or expired) and, when `due_only`, the job is due."""
    if name not in _known_leases:  # the row exists once created: skip the lookup after that
        JobLease.objects.get_or_create(name=name)
        _known_leases.add(name)
    # Plain SQL, as acquire_due: each sender renews its lease this way on every pass.
    at = connection.ops.adapt_datetimefield_value
    sql = (
        f"UPDATE {_TABLE} SET holder = %s, expires_at = {_ts()}, "  # noqa: S608
        f"last_started_at = {_ts()} WHERE name = %s "
        f"AND (expires_at IS NULL OR expires_at < {_ts()} OR holder = %s)"
    )
    params: list[Any] = [holder, at(now + lease), at(now), name, at(now), holder]
    if due_only:
        sql += f" AND (next_run_at IS NULL OR next_run_at <= {_ts()})"
        params.append(at(now))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        taken = cursor.rowcount
    if taken == 0 and not JobLease.objects.filter(name=name).exists():
        _known_leases.discard(name)  # the row went away (a test's rollback): make it again
        return try_acquire(name, holder, lease, now, due_only=due_only)
    return taken == 1


def release(name: str, holder: str, next_run_at: datetime | None, error: str = "") -> None:
    JobLease.objects.filter(name=name, holder=holder).update(
        holder="",
        expires_at=None,
        last_finished_at=clock.now(),
        next_run_at=next_run_at,
        last_error=error,
    )


# Every tick: compiled once (core.prepared).
_NEXT_RUNS = Prepared(
    lambda names: JobLease.objects.filter(name__in=names).values_list("name", "next_run_at")
)


def due_jobs(now: datetime) -> list[Job]:
    """Jobs that may be due, read in one query (the lease UPDATE still decides who runs them).

    A job whose lease row does not exist yet (first run, or a test's rollback) gets it here.
    """
    registry = discover()
    next_runs = dict(_NEXT_RUNS(names=list(registry)))
    missing = [name for name in registry if name not in next_runs]
    if missing:
        JobLease.objects.bulk_create(
            [JobLease(name=name) for name in missing], ignore_conflicts=True
        )
    return [job for name, job in registry.items() if (next_runs.get(name) or now) <= now]


def acquire_due(jobs: list[Job], holder: str, now: datetime) -> list[Job]:
    """Take the leases of those of `jobs` that are still due and free, in one UPDATE.

    The conditions are the same as `try_acquire`'s, checked per row by the database, so two
    workers never both take a job; the SELECT after it reads back which ones this holder took.
    Plain SQL: the ORM's CASE over ten jobs cost more CPU than the statement itself, and the
    worker runs this every second (the simulator thousands of times).
    """
    if not jobs:
        return []
    at = connection.ops.adapt_datetimefield_value
    names = [job.name for job in jobs]
    marks = ", ".join(["%s"] * len(names))
    expires = " ".join([f"WHEN %s THEN {_ts()}"] * len(jobs))
    take = (
        f"UPDATE {_TABLE} SET holder = %s, last_started_at = {_ts()}, "  # noqa: S608
        f"expires_at = CASE name {expires} END WHERE name IN ({marks}) "
        f"AND (expires_at IS NULL OR expires_at < {_ts()} OR holder = %s) "
        f"AND (next_run_at IS NULL OR next_run_at <= {_ts()})"
    )
    params: list[Any] = [holder, at(now)]
    params += [item for job in jobs for item in (job.name, at(now + job.lease))]
    params += [*names, at(now), holder, at(now)]
    taken_by_us = (
        f"SELECT name FROM {_TABLE} WHERE name IN ({marks}) "  # noqa: S608
        f"AND holder = %s AND last_started_at = {_ts()}"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(take, params)
        cursor.execute(taken_by_us, [*names, holder, at(now)])
        taken = {row[0] for row in cursor.fetchall()}
    return [job for job in jobs if job.name in taken]


def run_due_jobs(holder: str, now: datetime | None = None) -> dict[str, int | None]:
    """Run every registered job that is due and not running elsewhere; returns counts by job.

    The leases cost three statements and one UPDATE to release them, however many jobs run (a
    worker ticks every second; the simulator thousands of times). If the process dies in the
    middle, the leases of the jobs it ran expire by themselves and those jobs run again.
    """
    now = now or clock.now()
    done: dict[str, int | None] = {}
    errors: dict[str, str] = {}
    ran = acquire_due(due_jobs(now), holder, now)
    for job in ran:
        try:
            done[job.name] = job.func(now)
        except Exception:  # a failing job must not stop the worker; the error is kept on its lease
            errors[job.name] = traceback.format_exc()[-4000:]
            log.exception("job %s failed", job.name)
    release_many(ran, holder, now, errors)
    return done


def release_many(jobs: list[Job], holder: str, now: datetime, errors: dict[str, str]) -> None:
    """Release the leases of `jobs` run at `now` in one UPDATE, each due again `every` later."""
    if not jobs:
        return
    at = connection.ops.adapt_datetimefield_value
    names = [job.name for job in jobs]
    next_runs = " ".join([f"WHEN %s THEN {_ts()}"] * len(jobs))
    failed = " ".join(["WHEN %s THEN %s"] * len(errors))
    last_error = f"CASE name {failed} ELSE '' END" if errors else "''"
    sql = (
        f"UPDATE {_TABLE} SET holder = '', expires_at = NULL, "  # noqa: S608
        f"last_finished_at = {_ts()}, next_run_at = CASE name {next_runs} END, "
        f"last_error = {last_error} "
        f"WHERE name IN ({', '.join(['%s'] * len(names))}) AND holder = %s"
    )
    params: list[Any] = [at(clock.now())]
    params += [item for job in jobs for item in (job.name, at(now + job.every))]
    params += [item for pair in errors.items() for item in pair]
    params += [*names, holder]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


_TABLE = JobLease._meta.db_table


def _ts() -> str:
    """A datetime parameter (PostgreSQL wants the type of a CASE branch spelled out)."""
    return "CAST(%s AS timestamptz)" if connection.vendor == "postgresql" else "%s"


# The core app's own periodic work (its `jobs` module is this registry). Statistics only need
# refreshing when a table has grown many times over: every 6 hours is plenty.
@periodic(every=timedelta(hours=6))
def refresh_planner_statistics(now: datetime) -> int:
    """SQLite's table statistics, so its planner picks the right index (`core.planner`)."""
    return int(planner.refresh_statistics())
