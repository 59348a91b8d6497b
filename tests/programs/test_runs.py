"""Whole 30-day runs on the virtual clock, through the router, the engine job and a fake sender."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from patas.messaging import router
from patas.messaging.models import Message
from patas.participants.models import Consent, IntakeSession, Participant
from patas.programs import hooks, queries, schedule
from patas.programs.models import DayProgress, Enrolment

from .world import World, engaged, inject, new_man, silent

pytestmark = pytest.mark.django_db
LIMA_10AM = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # Monday 10:00 in Lima
ENGINE = ("program", "reminder")
MINE = {"opt_out", "intake", "program", "fallback"}


@pytest.fixture(autouse=True)
def only_these_steps(monkeypatch):
    """Run the router with opt-out and this app's steps only (others are tested by their owners)."""
    monkeypatch.setattr(router, "_steps", {k: v for k, v in router._steps.items() if k in MINE})
    monkeypatch.setattr(hooks, "on_enrolled", [])
    monkeypatch.setattr(hooks, "on_consented", [])


@pytest.fixture
def world(vclock, test_pack):
    vclock.set(LIMA_10AM)
    return World(vclock)


def enrol_by_chat(world, man, time="evening"):
    for text, reply in [
        ("hola", ""),
        ("tengo 34 años", ""),
        ("", "yes"),
        ("Comas", ""),
        ("", time),
        ("", "accept"),
    ]:
        inject(man, text, reply)
        world.clock.advance(timedelta(minutes=1))
    man.refresh_from_db()
    return Enrolment.objects.get(participant=man)


def out_rows(man, **filters):
    return list(
        Message.objects.filter(participant=man, direction="out", **filters).order_by("due_at", "id")
    )


def local(moment):
    return moment.astimezone(schedule.zone("America/Lima"))


def assert_never_in_quiet_hours(man, pack):
    for row in out_rows(man, purpose__in=ENGINE):
        assert not schedule.in_quiet(row.due_at, "America/Lima", pack.program.quiet_hours), (
            f"{row.text!r} due at {local(row.due_at)} is inside quiet hours"
        )


def assert_nothing_free_form_outside_the_window(man):
    assert not out_rows(man, status="needs_template")
    for row in out_rows(man, status="sent", requires_window=True):
        assert row.sent_at is not None


def test_an_engaged_man_lives_30_days_in_order(world, test_pack):
    man = new_man()
    world.reactions[man.pk] = engaged
    enrolment = enrol_by_chat(world, man)
    assert man.status == "enrolled" and enrolment.send_hour == 19
    assert local(enrolment.next_wake_at).hour == 19

    world.run_days(32)

    enrolment.refresh_from_db()
    assert enrolment.status == "completed" and enrolment.current_day == 30
    days = list(DayProgress.objects.filter(enrolment=enrolment).order_by("day"))
    assert [d.day for d in days] == list(range(1, 31))
    assert all(d.opened_at and d.checkin_answer == "done" for d in days)
    for d in days:  # each day starts at his hour, on consecutive local dates
        assert (local(d.started_at).hour, local(d.started_at).minute) == (19, 0)
    dates = [local(d.started_at).date() for d in days]
    assert all(b - a == timedelta(days=1) for a, b in zip(dates, dates[1:], strict=False))

    content = out_rows(man, purpose="program", type__in=["text", "audio", "interactive"])
    assert len(content) == 30 * 4
    day5 = [r for r in content if r.text.startswith("[es] day 5 ") or "d5." in str(r.payload)]
    assert [r.type for r in day5] == ["text", "audio", "text", "interactive"]
    gaps = {(b.due_at - a.due_at) for a, b in zip(day5, day5[1:], strict=False)}
    assert gaps == {timedelta(seconds=60)}
    assert day5[-1].payload["interactive"]["action"]["buttons"][0]["reply"]["id"] == (
        "checkin:5:done"
    )
    assert not out_rows(man, purpose="reminder")  # he always answered: no nudges
    assert len(out_rows(man, text="[es] program_completed")) == 1
    assert_never_in_quiet_hours(man, test_pack)
    assert_nothing_free_form_outside_the_window(man)
    assert queries.completed(enrolment) and queries.days_in_program(enrolment) == 30
    summary = queries.summary(man)
    assert summary["checkins"] == 30 and summary["consent_version"] == "C-1"


def test_a_man_who_never_answers_gets_templates_and_capped_reminders(world, test_pack):
    man = new_man()
    world.reactions[man.pk] = silent
    enrolment = enrol_by_chat(world, man)
    world.run_days(32)

    enrolment.refresh_from_db()
    assert enrolment.status == "completed"
    assert_nothing_free_form_outside_the_window(man)
    assert_never_in_quiet_hours(man, test_pack)
    openers = out_rows(man, type="template", purpose="program")
    # Day 1 went out directly (his window was still open from the intake); 29 openers after.
    assert len(openers) == 29
    assert openers[0].payload["template"]["components"][1]["parameters"][0]["payload"] == (
        "open_day:2"
    )
    reminders = out_rows(man, purpose="reminder")
    per_day = Counter(local(r.due_at).date() for r in reminders)
    assert max(per_day.values()) == 1  # never more than max_per_day
    assert len(reminders) == 30
    free_form = [r for r in reminders if r.type != "template"]
    assert [r.text for r in free_form] == ["[es] checkin_nudge"]  # day 1: window still open
    miss_you = [r for r in reminders if r.type == "template"]
    assert miss_you[0].payload["template"]["name"] == "t_rem"
    assert enrolment.miss_you_at is not None
    days = DayProgress.objects.filter(enrolment=enrolment)
    assert days.count() == 30 and days.filter(opened_at__isnull=False).count() == 1


def test_pause_and_resume(world, test_pack):
    man = new_man()
    world.reactions[man.pk] = engaged
    enrolment = enrol_by_chat(world, man)
    world.run_days(5)  # days 1..5 started (day 1 on the first evening)
    enrolment.refresh_from_db()
    assert enrolment.current_day == 5
    inject(man, "Pausa")
    enrolment.refresh_from_db()
    assert enrolment.status == "paused" and enrolment.next_wake_at is None
    paused_at = world.clock.now()
    world.run_days(4)
    assert [r.text for r in out_rows(man, created_at__gte=paused_at)] == ["[es] pause_confirmation"]
    inject(man, "SEGUIR")
    enrolment.refresh_from_db()
    assert enrolment.status == "enrolled"
    resumed_at = world.clock.now()
    world.run_days(30)
    enrolment.refresh_from_db()
    assert enrolment.status == "completed"
    day6 = DayProgress.objects.get(enrolment=enrolment, day=6)
    assert day6.started_at > resumed_at and local(day6.started_at).hour == 19
    day5 = DayProgress.objects.get(enrolment=enrolment, day=5)
    assert day6.started_at - day5.started_at == timedelta(days=5)  # paused 4 days, then on
    assert DayProgress.objects.filter(enrolment=enrolment).count() == 30
    assert_never_in_quiet_hours(man, test_pack)
    assert_nothing_free_form_outside_the_window(man)


def test_opting_out_on_day_9_stops_everything(world, test_pack):
    man = new_man()
    world.reactions[man.pk] = engaged
    enrolment = enrol_by_chat(world, man)
    world.run_days(8.5)
    enrolment.refresh_from_db()
    assert enrolment.current_day == 9
    inject(man, "SALIR")
    out_at = world.clock.now()
    world.run_days(25)
    after = out_rows(man, created_at__gte=out_at)
    assert [r.text for r in after if r.status != "cancelled"] == ["[es] opt_out_confirmation"]
    enrolment.refresh_from_db()
    assert enrolment.status == "opted_out" and enrolment.current_day == 9
    assert not queries.completed(enrolment) and not queries.is_enrolled(man)


def test_a_17_year_old_gets_the_kind_closing_and_nothing_more(world, test_pack):
    man = new_man()
    inject(man, "hola, vi el anuncio", referral={"source_id": "ad-1", "source_type": "ad"})
    inject(man, "diecisiete")
    inject(man, "¿y ahora?")
    man.refresh_from_db()
    assert man.status == "ineligible"
    assert [r.text for r in out_rows(man)] == [
        "[es] welcome",
        "[es] ask_age",
        "[es] ineligible_closing",
    ]
    session = IntakeSession.objects.get(participant=man)
    assert session.first_text == "hola, vi el anuncio"
    assert session.referral == {"source_id": "ad-1", "source_type": "ad"}
    assert not Enrolment.objects.filter(participant=man).exists()


def test_refusing_consent_is_stored_and_closes_kindly(world, test_pack):
    man = new_man()
    for text, reply in [
        ("hola", ""),
        ("45", ""),
        ("claro", ""),
        ("Arequipa", ""),
        ("noche", ""),
        ("no, gracias", ""),
    ]:
        inject(man, text, reply)
    inject(man, "hola?")
    man.refresh_from_db()
    assert man.status == "declined"
    texts = [r.text for r in out_rows(man)]
    assert texts[-1] == "[es] declined_closing" and "[es] consent C-1" in texts
    consent = Consent.objects.get(participant=man)
    assert (consent.version, consent.answer, consent.channel) == ("C-1", "decline", "whatsapp")
    world.run_days(3)
    assert [r.text for r in out_rows(man)][-1] == "[es] declined_closing"


def test_commands_are_case_and_accent_insensitive_and_hour_changes(world, test_pack):
    man = new_man()
    enrolment = enrol_by_chat(world, man)
    inject(man, " hora ")
    assert out_rows(man)[-1].text == "[es] ask_preferred_time"
    inject(man, "", "morning")
    enrolment.refresh_from_db()
    assert enrolment.send_hour == 8 and not enrolment.awaiting_hour
    assert out_rows(man)[-1].text == "[es] hour_changed 08:00"
    assert local(enrolment.next_wake_at).hour == 8
    assert enrolment.next_wake_at > world.clock.now()


def test_fallback_help_at_most_once_a_day(world, test_pack):
    man = new_man()
    enrol_by_chat(world, man)
    inject(man, "una pregunta")
    inject(man, "otra pregunta")
    assert [r.text for r in out_rows(man)].count("[es] fallback_help") == 1
    world.clock.advance(timedelta(days=1))
    inject(man, "y otra más")
    assert [r.text for r in out_rows(man)].count("[es] fallback_help") == 2


def test_participant_status_mirrors_the_program(world, test_pack):
    man = new_man()
    enrol_by_chat(world, man)
    inject(man, "PAUSE")
    assert Participant.objects.get(pk=man.pk).status == "paused"
    inject(man, "resume")
    assert Participant.objects.get(pk=man.pk).status == "enrolled"
