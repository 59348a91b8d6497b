"""The dashboard's shared snapshot: computed once, read by every reader, refreshed by the worker
only while someone reads it."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from patas.core import clock
from patas.core.jobs import discover
from patas.core.models import JobLease
from patas.programs.models import DayProgress
from patas.recruitment import dashboard, snapshot
from recruitment import world
from recruitment.world import PASSWORD, build, make_user

pytestmark = pytest.mark.django_db
SUPERVISOR = dashboard.Viewer()


def enrolled_in(tables):
    funnel = next(t for t in tables if t.key == "funnel")
    return funnel.rows[-1][funnel.columns.index("enrolled")]


def one_more_enrolment():
    world._enrol(world._man(99, None, world.P.ENROLLED), 1, world.E.ENROLLED)


def worker_ran_the_job():
    JobLease.objects.update_or_create(name=snapshot.JOB, defaults={"last_finished_at": clock.now()})


def test_the_cache_is_a_table_that_migrate_creates():
    assert "patas_cache" in connection.introspection.table_names()


def test_first_reader_computes_then_everyone_reads_it_in_one_query(vclock):
    build()
    first, tables = snapshot.tables_for(snapshot.RESEARCHER)
    assert enrolled_in(tables) == 5 and first.at == vclock.now()
    one_more_enrolment()
    vclock.advance(timedelta(seconds=30))
    with CaptureQueriesContext(connection) as queries:
        again, tables = snapshot.tables_for(SUPERVISOR)
    assert len(queries) == 1  # the cache row; no aggregate ran
    assert again.at == first.at and enrolled_in(tables) == 5


def test_each_kind_of_reader_gets_exactly_what_a_direct_computation_gives(vclock):
    build()
    for viewer in snapshot.VIEWERS:
        _computed, tables = snapshot.tables_for(viewer)
        direct = dashboard.all_tables(viewer)
        assert [(t.key, t.columns, t.rows) for t in tables] == [
            (t.key, t.columns, t.rows) for t in direct
        ]
    _computed, supervisor = snapshot.tables_for(SUPERVISOR)
    assert all("arm" not in t.columns and "partners_share" not in t.columns for t in supervisor)


def test_recompute_now_recomputes(vclock):
    build()
    snapshot.tables_for(SUPERVISOR)
    one_more_enrolment()
    vclock.advance(timedelta(seconds=10))
    computed, tables = snapshot.tables_for(SUPERVISOR, fresh=True)
    assert computed.at == vclock.now() and enrolled_in(tables) == 6


def test_the_job_refreshes_only_what_was_read_lately(vclock):
    build()
    assert snapshot.refresh_watched(vclock.now()) == 0  # nobody reads: nothing computed
    snapshot.read("tables")
    one_more_enrolment()
    assert snapshot.refresh_watched(vclock.advance(timedelta(seconds=30))) == 0  # just computed
    assert snapshot.refresh_watched(vclock.advance(snapshot.REFRESH)) == 1  # only the tables
    computed, tables = snapshot.tables_for(SUPERVISOR)
    assert computed.at == vclock.now() and enrolled_in(tables) == 6
    later = vclock.advance(snapshot.WATCHED_FOR + timedelta(seconds=1))
    assert snapshot.refresh_watched(later) == 0  # not read since


def test_the_job_is_registered_for_the_worker():
    assert discover()[snapshot.JOB].every == snapshot.REFRESH


def test_old_figures_are_shown_at_once_while_a_worker_refreshes_them(vclock):
    build()
    first = snapshot.read("tables")
    one_more_enrolment()
    vclock.advance(timedelta(minutes=20))
    worker_ran_the_job()
    shown = snapshot.read("tables")
    assert shown.at == first.at and snapshot.is_stale(shown)
    vclock.advance(timedelta(minutes=20))  # the worker stopped: the reader computes
    assert snapshot.read("tables").at == vclock.now()


def test_titles_follow_the_readers_language(vclock):
    build()
    with translation.override("es"):
        snapshot.read("tables")
    with translation.override("en"):
        _computed, tables = snapshot.tables_for(SUPERVISOR)
        assert str(tables[0].title) == "Recruitment funnel by source"


def test_pages_read_the_snapshot_and_say_when_it_was_computed(client, vclock, settings):
    settings.LANGUAGE_CODE = "en"
    build()
    make_user("res", "researcher")
    assert client.login(username="res", password=PASSWORD)
    page = client.get("/dashboard/").content.decode()
    assert "Computed at 02/03 07:00" in page  # Lima time and "older than usual" not in page
    costs = client.get("/dashboard/costs/").content.decode()
    assert "Enrolled 5," in costs
    one_more_enrolment()
    vclock.advance(timedelta(minutes=10))
    worker_ran_the_job()
    assert "Enrolled 5," in client.get("/dashboard/costs/").content.decode()
    assert "older than usual" in client.get("/dashboard/").content.decode()
    assert "Enrolled 6," in client.get("/dashboard/costs/?fresh=1").content.decode()


def test_every_recomputation_counts_again_what_tables_share(vclock):
    build()
    snapshot.recompute("tables")
    day = DayProgress.objects.filter(day=1, checkin_at__isnull=True).first()
    day.checkin_at = vclock.now()
    day.save()
    _computed, tables = snapshot.tables_for(SUPERVISOR, fresh=True)
    by_day = next(t for t in tables if t.key == "checkins_day")
    assert by_day.rows[0][by_day.columns.index("checked_in")] == 3  # 2 in world.py, 1 new


@pytest.mark.django_db(transaction=True)
def test_the_queries_run_on_parallel_connections_with_the_same_result(vclock, monkeypatch):
    build()
    serial = snapshot.compute_tables()
    monkeypatch.setattr(snapshot, "_threads_allowed", lambda: True)
    threads = set()
    reads = dashboard.aggregate_reads

    def spy():
        threads.add(threading.current_thread().name)
        return reads()

    monkeypatch.setattr(dashboard, "aggregate_reads", spy)
    parallel = snapshot.compute_tables()
    assert {n.split("_")[0] for n in threads} == {"dashboard"} and len(threads) > 1
    for kind, tables in serial.items():
        assert [(t.key, t.rows) for t in tables] == [(t.key, t.rows) for t in parallel[kind]]
