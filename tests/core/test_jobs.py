"""The job registry: every due job's lease taken in one UPDATE, never by two workers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from patas.core import jobs
from patas.core.models import JobLease

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_jobs(monkeypatch):
    ran: list[str] = []
    registry = {
        name: jobs.Job(name, every, lambda now, name=name: ran.append(name) or 1, lease)
        for name, every, lease in [
            ("test.often", timedelta(minutes=1), timedelta(minutes=5)),
            ("test.hourly", timedelta(hours=1), timedelta(hours=2)),
        ]
    }
    monkeypatch.setattr(jobs, "REGISTRY", registry)
    monkeypatch.setattr(jobs, "_discovered", True)
    return ran


def test_due_jobs_run_once_and_wait_for_their_next_time(vclock, two_jobs):
    now = vclock.now()
    assert jobs.run_due_jobs("w1", now) == {"test.often": 1, "test.hourly": 1}
    assert jobs.run_due_jobs("w2", now + timedelta(seconds=30)) == {}
    assert jobs.run_due_jobs("w2", now + timedelta(minutes=1)) == {"test.often": 1}
    assert two_jobs == ["test.often", "test.hourly", "test.often"]
    hourly = JobLease.objects.get(name="test.hourly")
    assert (hourly.holder, hourly.next_run_at) == ("", now + timedelta(hours=1))


def test_a_lease_held_elsewhere_is_not_taken_until_it_expires(vclock, two_jobs):
    now = vclock.now()
    jobs.due_jobs(now)  # creates the lease rows
    JobLease.objects.filter(name="test.hourly").update(
        holder="w1", expires_at=now + timedelta(hours=2)
    )
    due = jobs.due_jobs(now)
    assert [j.name for j in jobs.acquire_due(due, "w2", now)] == ["test.often"]
    taken = JobLease.objects.get(name="test.often")
    assert (taken.holder, taken.expires_at) == ("w2", now + timedelta(minutes=5))
    later = now + timedelta(hours=2, seconds=1)  # w1 died: its lease expired
    assert [j.name for j in jobs.acquire_due(due, "w2", later)] == ["test.often", "test.hourly"]
    assert JobLease.objects.get(name="test.hourly").expires_at == later + timedelta(hours=2)


def test_a_failing_job_keeps_its_error_and_the_others_run(vclock, two_jobs, monkeypatch):
    def broken(now):
        raise RuntimeError("the digest broke")

    monkeypatch.setitem(
        jobs.REGISTRY,
        "test.hourly",
        jobs.Job("test.hourly", timedelta(hours=1), broken, timedelta(hours=2)),
    )
    now = vclock.now()
    assert jobs.run_due_jobs("w1", now) == {"test.often": 1}
    leases = {lease.name: lease for lease in JobLease.objects.all()}
    assert "the digest broke" in leases["test.hourly"].last_error
    assert leases["test.often"].last_error == ""
    assert {lease.holder for lease in leases.values()} == {""}
    assert leases["test.hourly"].next_run_at == now + timedelta(hours=1)
