"""core.planner: with statistics, SQLite's planner finds due rows through their own index
instead of reading every man (the overdue-baseline look of `trials.flow`)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from patas.core import jobs, planner
from patas.participants.models import Participant
from patas.trials.flow import _OVERDUE
from patas.trials.models import Trial, TrialMember

pytestmark = pytest.mark.django_db
sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's planner")


def plan_of(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
        return " / ".join(str(row[-1]) for row in cursor.fetchall())


def men_mostly_assigned(vclock, count: int = 400) -> None:
    """Many men, nearly all randomised already: a few members still due for randomisation."""
    trial = Trial.objects.create(name="planner", seed=1, arms=[["control", 1], ["treatment", 1]])
    men = Participant.objects.bulk_create(
        [Participant(wa_user_id=f"PE.plan{i}") for i in range(count)]
    )
    TrialMember.objects.bulk_create(
        [
            TrialMember(
                trial=trial,
                participant=man,
                phase=TrialMember.Phase.BASELINE if i % 100 == 0 else TrialMember.Phase.ASSIGNED,
                randomise_by=vclock.now() + timedelta(hours=i % 5),
            )
            for i, man in enumerate(men)
        ]
    )


@sqlite_only
def test_statistics_turn_a_read_of_every_man_into_a_look_at_the_due_rows(vclock):
    men_mostly_assigned(vclock)
    overdue = _OVERDUE.build(now=vclock.now() + timedelta(days=1), limit=500)
    before = [pk for (pk,) in overdue]
    # Without statistics SQLite starts from the men who have not opted out: all of them.
    assert "member_randomise_due" not in plan_of(overdue)
    assert planner.refresh_statistics() is True
    after_plan = plan_of(overdue)
    assert "member_randomise_due" in after_plan, after_plan
    assert [pk for (pk,) in overdue] == before and len(before) == 4  # the same rows either way


@sqlite_only
def test_the_job_refreshes_them_every_six_hours(vclock):
    men_mostly_assigned(vclock)
    assert jobs.discover()["patas.core.jobs.refresh_planner_statistics"].every == timedelta(hours=6)
    assert jobs.refresh_planner_statistics(vclock.now()) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'trials_trialmember'")
        assert cursor.fetchone()[0] > 0


def test_elsewhere_the_database_keeps_its_own(vclock):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite is the case above")
    assert planner.refresh_statistics() is False
