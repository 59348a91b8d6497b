"""A small simulation end to end, through the real webhook, router, engine and sender."""

from datetime import timedelta

import pytest

from patas.messaging.models import Message
from patas.participants.models import Participant
from patas.programs import queries
from patas.programs.models import Enrolment
from patas.simulation import outputs
from patas.simulation.runner import Options, Simulation
from patas.surveys.models import CallAttempt, PartnerSurveySession

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_small_simulation_agrees_with_the_database(tmp_path):
    sim = Simulation(Options(men=12, seed=5))
    sim.run()
    outputs.mark_synthetic(sim)
    summary = outputs.summarise(sim, 0.0)

    # Nothing lost: every posted inbound stored once; every row patas sent reached the fake.
    assert summary.inbound_posted > 0
    assert summary.inbound_stored == summary.inbound_posted
    assert summary.outbound_sent_by_patas == summary.outbound_received_by_fake > 0
    assert summary.lost == 0
    # The fake handed each send to the men once and kept none (a long run's memory stays flat).
    assert sim.world.fake.taken == summary.outbound_received_by_fake
    assert sim.world.fake.received == []
    sent = Message.objects.filter(direction="out", wamid__isnull=False)
    assert sent.values("wamid").distinct().count() == sent.count() == summary.outbound_sent_by_patas

    # The summary's figures are the database's.
    assert summary.participants_in_database == Participant.objects.filter(is_synthetic=True).count()
    enrolments = list(Enrolment.objects.all())
    assert summary.enrolled == len(enrolments) > 0
    assert summary.completed == sum(queries.completed(e) for e in enrolments)

    # The program ran: days opened with the approved template.
    day_content = Message.objects.filter(direction="out", purpose="program", type="template")
    assert day_content.exists()

    # Partners were surveyed through the console's call screen: every finished partner survey
    # has the call that completed it, after the safety script, by the demo's enumerator.
    done = PartnerSurveySession.objects.filter(status="completed")
    assert done.exists()
    completing = CallAttempt.objects.filter(outcome="completed", partner_session__in=done)
    assert completing.count() == done.count()
    assert set(completing.values_list("enumerator__username", flat=True)) == {"enumerador.demo"}
    assert CallAttempt.objects.filter(outcome="no_answer").exists()  # not every call is picked up

    # And the outputs are written.
    outputs.write_dashboard(tmp_path, summary)
    assert (tmp_path / "dashboard" / "index.html").exists()
    path = outputs.write_summary(tmp_path, summary)
    assert '"lost": 0' in path.read_text()
    assert sim.end - sim.options.start >= timedelta(days=30)


def test_a_run_writes_sqlite_without_fsync_and_restores_it_after():
    from django.db import connection

    from patas.simulation.runner import _scratch_writes

    # SQLite's PRAGMA synchronous (1 = NORMAL, 0 = OFF); PostgreSQL's own setting, which the
    # simulation must leave as configured.
    query = "PRAGMA synchronous" if connection.vendor == "sqlite" else "SHOW synchronous_commit"

    def durability() -> str:
        with connection.cursor() as cursor:
            cursor.execute(query)
            return str(cursor.fetchone()[0])

    before = durability()
    with _scratch_writes():
        during = durability()
    after = durability()
    if connection.vendor == "sqlite":
        assert (before, during, after) == ("1", "0", "1")  # NORMAL, OFF while simulating, NORMAL
    else:
        assert before == during == after
