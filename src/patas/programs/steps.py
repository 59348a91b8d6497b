"""Router steps of this app: intake (40), program (60), fallback (90)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from patas.core import clock
from patas.core.prepared import Prepared
from patas.messaging.models import Message
from patas.messaging.router import Inbound, Result, men_of, messages_of
from patas.participants import intake
from patas.participants.models import IntakeSession, Participant
from patas.programs import actions, commands, engine, schedule
from patas.programs.apply import VALUE_FIELDS, apply_decisions, state_from_row
from patas.programs.models import Enrolment
from patas.programs.pack import get_pack

IN_INTAKE = (Participant.Status.NEW, Participant.Status.INTAKE)
ACTIVE = (Enrolment.Status.ENROLLED, Enrolment.Status.PAUSED)


def intake_step(inbound: Inbound) -> Result:
    """Men who are new or in intake: the next intake question (or the closing)."""
    if inbound.participant.status not in IN_INTAKE:
        return Result.CONTINUE
    actions.advance_intake(inbound.participant, inbound.message, inbound.text, inbound.reply_id)
    return Result.DONE


def _checkin(reply_id: str) -> tuple[int, str] | None:
    parts = reply_id.split(":", 2)
    if len(parts) == 3 and parts[0] == "checkin" and parts[1].isdigit():
        return int(parts[1]), parts[2]
    return None


# The router's look for every batch (core.prepared: compiled once per list size).
_ENROLLED = Prepared(
    lambda men: Enrolment.objects.filter(participant_id__in=men, status__in=ACTIVE).values_list(
        "participant_id"
    )
)


def enrolled(inbounds: Sequence[Inbound]) -> set[int]:
    """The batch's messages from men enrolled or paused (`router.Interested`)."""
    return messages_of(inbounds, {man for (man,) in _ENROLLED(men=men_of(inbounds))})


@dataclass(frozen=True)
class HourAnswer:
    """His answer to HORA: `actions.change_hour` checks and applies it."""

    chosen: str | int


def program_event(
    inbound: Inbound, status: str, phase: str, awaiting_hour: bool
) -> engine.Event | HourAnswer | Result:
    """Pure: what an enrolled or paused man's message means to the program (the same for one by
    one and for batches): an engine event, his new hour, or a router result with nothing to do."""
    answer = _checkin(inbound.reply_id)
    if answer is not None:
        return engine.CheckIn(answer[0], answer[1])
    command = commands.command_of(inbound.text) if not inbound.reply_id else None
    if command == "pause" and status == Enrolment.Status.ENROLLED:
        return engine.Pause()
    if command == "resume" and status == Enrolment.Status.PAUSED:
        return engine.Resume()
    if command == "hour":
        return engine.AskHour()
    if awaiting_hour:
        chosen = intake.parse_time(inbound.text, inbound.reply_id)
        if chosen is not None:
            return HourAnswer(chosen)
    opener = inbound.reply_id.startswith("open_day:")
    if status == Enrolment.Status.ENROLLED and (opener or phase == Enrolment.Phase.OPENER):
        return engine.OpenDay()
    return Result.DONE if opener else Result.CONTINUE


def program_step(inbound: Inbound) -> Result:
    """Enrolled men: check-in answers, opener taps, PAUSA/SEGUIR/HORA, his new hour."""
    enrolment = Enrolment.objects.filter(participant=inbound.participant, status__in=ACTIVE).first()
    if enrolment is None:
        return Result.CONTINUE
    actor = actions.actor_of(inbound.participant)
    what = program_event(inbound, enrolment.status, enrolment.phase, enrolment.awaiting_hour)
    if isinstance(what, Result):
        return what
    if isinstance(what, HourAnswer):
        actions.change_hour(enrolment, what.chosen, actor)
    else:
        actions.run_event(enrolment, what, actor)
    return Result.DONE


def intake_quiet(inbound: Inbound) -> bool:
    """`intake_step` passes the message on and changes nothing (`router.Quiet`)."""
    return inbound.participant.status not in IN_INTAKE


def intake_batch(inbounds: Sequence[Inbound]) -> set[int]:
    """`intake_step` for many men's answers at once (`router.Batch`): the answers that keep
    their intake going (`actions.advance_intake_many`). A man's first message, and an answer
    that ends his intake, go on one by one."""
    answers = {
        inbound.participant.pk: (inbound.participant, inbound.text, inbound.reply_id)
        for inbound in inbounds
        if inbound.participant.status == Participant.Status.INTAKE
    }
    if not answers:
        return set()
    taken = actions.advance_intake_many(answers)
    return {inbound.message.pk for inbound in inbounds if inbound.participant.pk in taken}


def program_batch(inbounds: Sequence[Inbound]) -> set[int]:
    """`program_step` for many men's first messages at once (`router.Batch`): their enrolments
    locked and read in one query, the engine's decisions written set-based (`apply_decisions`).
    New hours, and messages the step has nothing to do with, go on one by one."""
    by_man = {inbound.participant.pk: inbound for inbound in inbounds}
    rows: dict[int, dict[str, Any]] = {}
    active = Enrolment.objects.select_for_update(of=("self",)).filter(
        participant_id__in=list(by_man), status__in=ACTIVE
    )
    for row in active.order_by("pk").values(*VALUE_FIELDS, "program_id", "awaiting_hour"):
        rows.setdefault(row["participant_id"], row)  # the enrolment program_step would pick
    now = clock.now()
    decided = []
    actors: dict[int, str] = {}
    taken: set[int] = set()
    for man, row in rows.items():
        inbound = by_man[man]
        what = program_event(inbound, row["status"], row["phase"], row["awaiting_hour"])
        if isinstance(what, (Result, HourAnswer)):
            continue
        state = state_from_row(row)
        decided.append((state, engine.decide(state, what, now, get_pack(row["program_id"]))))
        actors[man] = actions.actor_of(inbound.participant)
        taken.add(inbound.message.pk)
    apply_decisions(decided, now, actors=actors)
    return taken


# Men with no enrolment who may still write in: what they hear, at most once a (local) day.
# Nothing names his arm: a man in the control arm and one waiting for assignment hear the same.
WAITING_KEYS: dict[str, str] = {
    Participant.Status.WAITING_PARTNER: "waiting_partner",
    Participant.Status.BASELINE: "between_surveys",
    Participant.Status.SURVEYS_ONLY: "between_surveys",
}


def _first_nudge_today(participant: Participant, today: date) -> bool:
    """Claim today's one answer for him (his intake session keeps the date); False if taken."""
    return bool(
        IntakeSession.objects.filter(participant=participant)
        .exclude(last_nudged_on=today)
        .update(last_nudged_on=today)
    )


def fallback_step(inbound: Inbound) -> Result:
    """Nobody took his message: a short answer at most once a (local) day; closed men: silence."""
    participant = inbound.participant
    pack = get_pack()
    today = schedule.local_date(clock.now(), pack.program.time_zone)
    waiting = WAITING_KEYS.get(participant.status)
    if waiting is not None:  # (a pack without the text stays silent, as before it existed)
        if waiting in pack.messages and _first_nudge_today(participant, today):
            actions.say(participant, waiting, Message.Purpose.SYSTEM)
        return Result.DONE
    enrolment = (
        Enrolment.objects.filter(participant=participant)
        .exclude(status__in=[Enrolment.Status.REMOVED, Enrolment.Status.OPTED_OUT])
        .first()
    )
    if enrolment is None:
        return Result.DONE  # ineligible or declined: nothing more is sent
    claimed = (
        Enrolment.objects.filter(pk=enrolment.pk)
        .exclude(fallback_on=today)
        .update(fallback_on=today)
    )
    if claimed:
        actions.say(participant, "fallback_help", Message.Purpose.SYSTEM)
    return Result.DONE
