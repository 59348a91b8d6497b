"""Check-ins, opener taps and commands routed as a batch do what routing one by one does: the
same enrolments, days, outbox and audit rows for every man, over a month."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patas.core import clock
from patas.core.models import AuditEntry
from patas.messaging import router
from patas.messaging.models import Message
from patas.participants.models import Participant
from patas.programs import hooks, jobs
from patas.programs.models import DayProgress, Enrolment

from .test_runs import enrol_by_chat
from .world import World, deliver, engaged, messages_both_ways, new_man, store

LIMA_10AM = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
MINE = {"opt_out", "intake", "program", "fallback"}
MEN = 6


@pytest.fixture(autouse=True)
def only_these_steps(monkeypatch):
    monkeypatch.setattr(router, "_steps", {k: v for k, v in router._steps.items() if k in MINE})
    monkeypatch.setattr(hooks, "on_enrolled", [])
    monkeypatch.setattr(hooks, "on_consented", [])


class BatchWorld(World):
    """Like World, but the moment's messages are all stored first and routed together, as the
    worker does (`route_pending`), so they can go in batches."""

    routed: list[int]

    def tick(self) -> None:
        now = self.clock.now()
        due = sorted(p for p in self.pending if p[0] <= now)
        self.pending = [p for p in self.pending if p[0] > now]
        for _, man_id, text, reply_id in due:
            store(Participant.objects.get(pk=man_id), text, reply_id, now)
        while router.route_pending():
            pass
        jobs.run_program_engine(now)
        for row in deliver(now):
            react = self.reactions.get(row.participant_id or 0)
            if react is not None:
                react(self, row)


def _month() -> list[Participant]:
    with clock.virtual_clock(LIMA_10AM) as vclock:
        return _play(BatchWorld(vclock))


def _play(world: World) -> list[Participant]:
    men = [new_man() for _ in range(MEN)]
    for index, man in enumerate(men):
        world.reactions[man.pk] = engaged
        enrol_by_chat(world, man, time="evening" if index % 2 else "morning")
    day = timedelta(days=1)
    world.later(men[1].pk, 3 * day, "Pausa")
    world.later(men[1].pk, 5 * day, "SEGUIR")
    world.later(men[2].pk, 2 * day, "HORA")
    world.later(men[2].pk, 2 * day + timedelta(minutes=2), "8")  # his new hour: one by one
    world.later(men[3].pk, 4 * day, "hola, qué tal")  # nothing the program takes: fallback
    world.later(men[4].pk, 10 * day, "SALIR")
    world.run_days(34)
    return men


def _what_happened(men: list[Participant]) -> list[tuple]:
    seen = []
    for man in men:
        enrolment = Enrolment.objects.get(participant=man)
        actors = {f"participant:{man.ref}": "him"}
        objects = {
            ("programs.enrolment", str(enrolment.pk)): "E",
            ("participants.participant", str(man.pk)): "M",
        }
        state = Enrolment.objects.filter(pk=enrolment.pk).values(
            "status", "current_day", "phase", "send_hour", "awaiting_hour", "next_wake_at"
        )[0]
        days = list(
            DayProgress.objects.filter(enrolment=enrolment)
            .order_by("day")
            .values_list("day", "started_at", "opened_at", "checkin_answer", "reminders")
        )
        out, routes = messages_both_ways(man)
        trail = [
            (
                actors.get(a.actor, a.actor),
                a.action,
                objects[(a.object_type, a.object_id)],
                a.details,
            )
            for a in AuditEntry.objects.filter(
                object_id__in=[pk for _, pk in objects], object_type__in=[t for t, _ in objects]
            ).order_by("id")
            if (a.object_type, a.object_id) in objects
        ]
        seen.append((state, days, out, routes, trail))
    return seen


@pytest.mark.django_db(transaction=True)
def test_batches_do_what_one_by_one_does(test_pack, monkeypatch) -> None:
    batched: list[int] = []
    real = router.route_batches

    def counted(batch, skips):
        done = real(batch, skips)
        batched.append(len(done))
        return done

    monkeypatch.setattr(router, "route_batches", counted)
    with_batches = _what_happened(_month())
    call_command("flush", interactive=False, verbosity=0)
    monkeypatch.setattr(router, "route_batches", lambda batch, skips: set())
    one_by_one = _what_happened(_month())

    assert with_batches == one_by_one
    routes = [route for *_, routes, _ in with_batches for _, route in routes]
    assert routes.count("program") > MEN * 20  # check-ins and opener taps, every day
    assert sum(batched) > MEN * 20 and max(batched) > 1  # most of them went in batches
    statuses = [state["status"] for state, *_ in with_batches]
    assert statuses.count("completed") >= 3 and "opted_out" in statuses


@pytest.mark.django_db
def test_a_batch_of_check_ins_takes_a_few_statements(vclock, test_pack, monkeypatch) -> None:
    vclock.set(LIMA_10AM)
    world = BatchWorld(vclock)
    men = [new_man() for _ in range(20)]
    for man in men:
        enrol_by_chat(world, man)
    world.run_days(1)  # day 1 started for all: its check-in buttons are out
    taps = [
        row.payload["interactive"]["action"]["buttons"][0]["reply"]["id"]
        for row in Message.objects.filter(direction="out", type="interactive").order_by("id")
        if "checkin:" in str(row.payload)
    ]
    assert len(taps) == 20
    for man, tap in zip(men, taps, strict=True):
        store(man, "listo", tap)
    with CaptureQueriesContext(connection) as batch:
        assert router.route_pending() == 20
    assert Message.objects.filter(route="program").count() >= 20
    assert DayProgress.objects.filter(day=1, checkin_answer="done").count() == 20
    print(f"statements for 20 check-ins in a batch: {len(batch)}")
    assert len(batch) < 60
