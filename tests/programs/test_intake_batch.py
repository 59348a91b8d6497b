"""Intake answers routed as a batch do what routing them one by one does: the same sessions,
statuses, replies, enrolments and audit rows for every man, including those whose answers are
not understood, who are too young, who have no partner or who decline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from patas.core import clock
from patas.core.models import AuditEntry
from patas.messaging import router
from patas.participants.models import IntakeSession, Participant
from patas.programs import hooks
from patas.programs.models import Enrolment

from .world import messages_both_ways, new_man, store

LIMA_10AM = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
MINE = {"opt_out", "intake", "program", "fallback"}
GOES_ON = [("hola", ""), ("tengo 34 años", ""), ("", "yes"), ("Comas", ""), ("", "evening")]
SCRIPTS = [
    [*GOES_ON, ("", "accept")],
    [
        ("hola", ""),
        ("treinta y dos", ""),
        ("", "yes"),
        ("Ate", ""),
        ("", "morning"),
        ("", "accept"),
    ],
    [("hola", ""), ("no sé", ""), ("veintiocho", ""), ("qué?", ""), ("", "yes"), ("SJL", "")],
    [("hola", ""), ("tengo 15", "")],  # too young
    [("hola", ""), ("40", ""), ("", "no")],  # no partner
    [*GOES_ON, ("", "decline")],
    [*GOES_ON, ("", "accept")],
    [("hola", ""), ("25", ""), ("", "yes"), ("SALIR", "")],
]


@pytest.fixture(autouse=True)
def only_these_steps(monkeypatch):
    monkeypatch.setattr(router, "_steps", {k: v for k, v in router._steps.items() if k in MINE})
    monkeypatch.setattr(hooks, "on_enrolled", [])
    monkeypatch.setattr(hooks, "on_consented", [])


def _intake_of_everyone() -> list[Participant]:
    """Every man's next answer arrives at the same moment, round after round, and the round is
    routed as the worker routes what is pending."""
    with clock.virtual_clock(LIMA_10AM) as vclock:
        men = [new_man() for _ in SCRIPTS]
        for turn in range(max(len(script) for script in SCRIPTS)):
            for man, script in zip(men, SCRIPTS, strict=True):
                if turn < len(script):
                    man.refresh_from_db()
                    store(man, *script[turn], vclock.now())
            while router.route_pending():
                pass
            vclock.advance(timedelta(minutes=3))
    return men


def _what_happened(men: list[Participant]) -> list[tuple]:
    seen = []
    for man in men:
        man.refresh_from_db()
        session = IntakeSession.objects.filter(participant=man).values(
            "step", "answers", "not_understood", "outcome", "finished_at", "updated_at"
        )[0]
        enrolment = list(
            Enrolment.objects.filter(participant=man).values("status", "send_hour", "current_day")
        )
        out, routes = messages_both_ways(man)
        trail = list(
            AuditEntry.objects.filter(actor=f"participant:{man.ref}")
            .order_by("id")
            .values_list("action", "details")
        )
        seen.append((man.status, session, enrolment, out, routes, trail))
    return seen


@pytest.mark.django_db(transaction=True)
def test_intake_batches_do_what_one_by_one_does(test_pack, monkeypatch) -> None:
    batched: list[set[int]] = []
    real = router.route_batches

    def counted(batch, skips):
        done = real(batch, skips)
        batched.append(done)
        return done

    monkeypatch.setattr(router, "route_batches", counted)
    with_batches = _what_happened(_intake_of_everyone())
    call_command("flush", interactive=False, verbosity=0)
    monkeypatch.setattr(router, "route_batches", lambda batch, skips: set())
    one_by_one = _what_happened(_intake_of_everyone())

    assert with_batches == one_by_one
    taken = set().union(*batched)
    statuses = [status for status, *_ in with_batches]
    assert statuses == [
        "enrolled",
        "enrolled",
        "intake",
        "ineligible",
        "ineligible",
        "declined",
        "enrolled",
        "intake",
    ]
    assert Participant.objects.filter(opted_out_at__isnull=False).count() == 1  # SALIR
    not_understood = [session["not_understood"] for _, session, *_ in with_batches]
    assert max(not_understood) >= 2
    # the middle of every conversation went in batches of several men
    assert len(taken) >= 20 and max(len(done) for done in batched) >= 5
