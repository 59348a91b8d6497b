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

from django.apps import apps
from django.db import transaction
from django.db.models import Q

from patas.core import clock
from patas.core.models import JobLease

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
    free = Q(expires_at__isnull=True) | Q(expires_at__lt=now) | Q(holder=holder)
    due = Q(next_run_at__isnull=True) | Q(next_run_at__lte=now) if due_only else Q()
    with transaction.atomic():
        taken = JobLease.objects.filter(Q(name=name) & free & due).update(
            holder=holder, expires_at=now + lease, last_started_at=now
        )
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


def due_jobs(now: datetime) -> list[Job]:
    """Jobs that may be due, read in one query (the lease UPDATE still decides who runs them)."""
    registry = discover()
    not_due = set(
        JobLease.objects.filter(name__in=list(registry), next_run_at__gt=now).values_list(
            "name", flat=True
        )
    )
    return [job for name, job in registry.items() if name not in not_due]


def run_due_jobs(holder: str, now: datetime | None = None) -> dict[str, int | None]:
    """Run every registered job that is due and not running elsewhere; returns counts by job."""
    now = now or clock.now()
    done: dict[str, int | None] = {}
    for job in due_jobs(now):
        if not try_acquire(job.name, holder, job.lease, now):
            continue
        error = ""
        try:
            done[job.name] = job.func(now)
        except Exception:  # a failing job must not stop the worker; the error is kept on its lease
            error = traceback.format_exc()[-4000:]
            log.exception("job %s failed", job.name)
        release(job.name, holder, now + job.every, error)
    return done
