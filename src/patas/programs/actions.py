"""State changes of intake and programs. Each one writes the audit log.

Intake: `advance_intake` (router step 40), `enrol`, `record_partner_consent`.
The program: `open_day`, `record_checkin`, `pause`, `resume`, `ask_hour`, `change_hour`,
`remove`, `complete`, each running the pure engine on one enrolment and applying its decision.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction

from patas.core import audit, clock
from patas.core.crypto import lookup_hash
from patas.messaging.models import Message
from patas.messaging.outbox import Outgoing, enqueue_many
from patas.participants import intake
from patas.participants.models import Consent, IntakeSession, Participant
from patas.programs import engine, hooks, schedule
from patas.programs.apply import apply_decisions, state_of
from patas.programs.models import Enrolment
from patas.programs.pack import Pack, get_pack
from patas.programs.payloads import system_payload
from patas.programs.schema import Program
from patas.programs.texts import language_of, render

log = logging.getLogger(__name__)


class ProgramError(ValueError):
    """A request the program cannot honour (named in the message); nothing was changed."""


def actor_of(participant: Participant) -> str:
    return f"participant:{participant.ref}"


def rules_of(program: Program) -> intake.IntakeRules:
    i = program.intake
    return intake.IntakeRules(
        consent_version=i.consent_version,
        min_age=i.min_age,
        max_age=i.max_age,
        require_partner=i.require_partner,
        ask_region=i.ask_region,
        ask_preferred_time=i.ask_preferred_time,
        partner_consent=i.partner_consent,
    )


def _say(participant: Participant, pack: Pack, sends: Any, purpose: str) -> None:
    """Enqueue system texts now (intake answers his message at once: no quiet-hour delay)."""
    enqueue_many(_said(participant, pack, sends, purpose))


def _said(participant: Participant, pack: Pack, sends: Any, purpose: str) -> list[Outgoing]:
    lang = language_of(participant, pack)
    return [
        Outgoing(
            participant.pk,
            system_payload(pack, key, lang, **values),
            purpose,
            text=render(pack.text(key, lang), **values),
        )
        for key, values in sends
    ]


def say(
    participant: Participant, key: str, purpose: str = Message.Purpose.SYSTEM, **values: Any
) -> None:
    """Answer him now with one system text of his program's pack."""
    _say(participant, get_pack(), [(key, values)], purpose)


# ---- intake ----------------------------------------------------------------------------------


def advance_intake(
    participant: Participant, message: Message | None, text: str, reply_id: str = ""
) -> str:
    """One message of a man in intake: answer him and apply the outcome. Returns the new step."""
    pack = get_pack()
    rules = rules_of(pack.program)
    now = clock.now()
    with transaction.atomic():
        session, created = IntakeSession.objects.select_for_update().get_or_create(
            participant=participant,
            defaults={
                "first_text": text[:1000],
                "started_at": now,
                "updated_at": now,
                "referral": (message.payload or {}).get("referral") if message else None,
            },
        )
        result = _next_answer(session, text, reply_id, rules)
        _say(participant, pack, result.send, Message.Purpose.INTAKE)
        _answered(session, result, now)
        if result.outcome == intake.Outcome.WAITING_PARTNER:
            _keep_partner_number(participant, session, text)
        if result.outcome:
            session.finished_at, session.outcome = now, result.outcome
        session.save()
        if created or participant.status == Participant.Status.NEW:
            _set_status(participant, Participant.Status.INTAKE, "participant.intake_started")
        _apply_outcome(participant, session, result, pack)
    return result.step


def advance_intake_many(answers: dict[int, tuple[Participant, str, str]]) -> set[int]:
    """Many men's next intake answers at once ({man: (participant, text, reply id)}): their
    sessions locked and read in one query, the pure intake for each, the replies in one INSERT,
    the sessions in one UPDATE. Only answers that keep the conversation going are taken (as
    `advance_intake` would, nothing is audited for them); a man without a session yet, or whose
    answer ends his intake (consent, ineligible, waiting for his partner), is left for
    `advance_intake`. Returns the men taken. Call inside a transaction."""
    pack = get_pack()
    rules = rules_of(pack.program)
    now = clock.now()
    sessions = IntakeSession.objects.select_for_update(of=("self",)).filter(
        participant_id__in=list(answers), finished_at__isnull=True
    )
    replies: list[Outgoing] = []
    changed: list[IntakeSession] = []
    for session in sessions.order_by("participant_id"):
        participant, text, reply_id = answers[session.participant_id]
        result = _next_answer(session, text, reply_id, rules)
        if result.outcome:
            continue
        replies += _said(participant, pack, result.send, Message.Purpose.INTAKE)
        _answered(session, result, now)
        changed.append(session)
    enqueue_many(replies)
    IntakeSession.objects.bulk_update(changed, ["step", "answers", "updated_at", "not_understood"])
    return {session.participant_id for session in changed}


def _next_answer(
    session: IntakeSession, text: str, reply_id: str, rules: intake.IntakeRules
) -> intake.IntakeResult:
    return intake.advance(
        intake.IntakeState(session.step, dict(session.answers)), text, reply_id, rules
    )


def _answered(session: IntakeSession, result: intake.IntakeResult, now: datetime) -> None:
    """The session after his answer (saved by the caller; the outcome is set apart)."""
    session.step, session.answers, session.updated_at = result.step, result.answers, now
    session.not_understood += 0 if result.understood else 1


def _set_status(
    participant: Participant, status: str, action: str, actor: str = "", **details: Any
) -> None:
    Participant.objects.filter(pk=participant.pk).update(status=status)
    participant.status = status
    audit.record(actor or actor_of(participant), action, participant, **details)


def _apply_outcome(
    participant: Participant, session: IntakeSession, result: intake.IntakeResult, pack: Pack
) -> None:
    outcome = result.outcome
    if not outcome:
        return
    if outcome == intake.Outcome.INELIGIBLE:
        _set_status(
            participant,
            Participant.Status.INELIGIBLE,
            "participant.ineligible",
            step=session.step,
            age=result.answers.get("age"),
        )
        return
    version = str(result.answers.get("consent_version", ""))
    answer = (
        Consent.Answer.ACCEPT
        if result.answers.get("consent") == "accept"
        else (Consent.Answer.DECLINE)
    )
    record_consent(participant, answer=answer, version=version)
    if outcome == intake.Outcome.DECLINED:
        _set_status(participant, Participant.Status.DECLINED, "participant.declined")
    elif outcome == intake.Outcome.WAITING_PARTNER:
        _set_status(participant, Participant.Status.WAITING_PARTNER, "participant.waiting_partner")
    elif outcome == intake.Outcome.ENROLLED:
        enrol_after_consent(participant, preferred=result.answers.get("time"), pack=pack)


def _keep_partner_number(participant: Participant, session: IntakeSession, text: str) -> None:
    """Her number goes to the surveys app's Partner (encrypted); the session keeps it if not."""
    phone = intake.parse_phone(text) or ""
    try:
        from patas.surveys.actions import add_partner
    except ImportError:  # surveys not installed: keep it encrypted on the session
        session.partner_phone, session.partner_phone_hash = phone, lookup_hash(phone)
        return
    add_partner(participant, phone, language=participant.language, actor=actor_of(participant))


def record_consent(
    participant: Participant,
    *,
    answer: str,
    version: str,
    channel: str = Consent.Channel.WHATSAPP,
    subject: str = Consent.Subject.PARTICIPANT,
    actor: str = "",
) -> Consent:
    if not version:
        raise ProgramError("a consent needs the version of the text that was shown")
    consent = Consent.objects.create(
        participant=participant,
        subject=subject,
        version=version,
        answer=answer,
        answered_at=clock.now(),
        channel=channel,
        recorded_by=actor,
    )
    audit.record(
        actor or actor_of(participant),
        "participant.consent",
        participant,
        subject=subject,
        version=version,
        answer=answer,
        channel=channel,
    )
    return consent


def _preferred_hour(preferred: Any, program: Program) -> tuple[str, int]:
    if isinstance(preferred, int) and 0 <= preferred <= 23:
        return "hour", preferred
    slot = preferred if preferred in schedule.SLOTS else program.default_send_time
    return slot, schedule.slot_hour(slot, program.send_hours)


def enrol(
    participant: Participant, *, preferred: Any = None, pack: Pack | None = None, actor: str = ""
) -> Enrolment:
    """Enrol him: day 1 starts at the next preferred hour in the program's time zone."""
    pack = pack or get_pack()
    program = pack.program
    if Enrolment.objects.filter(participant=participant).exists():
        raise ProgramError(f"{participant} is already enrolled in a program")
    if participant.opted_out_at is not None:
        raise ProgramError(f"{participant} has opted out: he cannot be enrolled")
    now = clock.now()
    slot, hour = _preferred_hour(preferred, program)
    first = schedule.first_day_start(now, hour, program.time_zone, program.quiet_hours)
    with transaction.atomic():
        enrolment = Enrolment.objects.create(
            participant=participant,
            program_id=program.id,
            program_version=program.version,
            time_slot=slot,
            send_hour=hour,
            time_zone=program.time_zone,
            enrolled_at=now,
            next_wake_at=first,
            wake=Enrolment.Wake.DAY_START,
        )
        _set_status(
            participant,
            Participant.Status.ENROLLED,
            "programs.enrolled",
            actor,
            program=program.id,
            version=program.version,
            first_day=first.isoformat(),
        )
        start = schedule.format_local(first, program.time_zone)
        _say(participant, pack, [("enrolled", {"start": start})], Message.Purpose.INTAKE)
        hooks.enrolled(enrolment)
    return enrolment


def enrol_after_consent(
    participant: Participant, *, preferred: Any = None, pack: Pack | None = None, actor: str = ""
) -> Enrolment | None:
    """Consent is complete: enrol him, unless a hook (the trial's baseline) takes him over."""
    if hooks.consented(participant, preferred):
        return None
    return enrol(participant, preferred=preferred, pack=pack, actor=actor)


def record_partner_consent(
    participant: Participant,
    *,
    agreed: bool,
    actor: str,
    version: str = "",
    channel: str = Consent.Channel.PHONE,
) -> Enrolment | None:
    """Her recorded agreement (by an enumerator or admin) enrols him; a refusal closes quietly.

    Nothing is sent to him when she declines: what she says never triggers a message to him.
    """
    if participant.status != Participant.Status.WAITING_PARTNER:
        raise ProgramError(f"{participant} is not waiting for his partner's consent")
    pack = get_pack()
    version = version or pack.program.intake.consent_version
    answer = Consent.Answer.ACCEPT if agreed else Consent.Answer.DECLINE
    with transaction.atomic():
        record_consent(
            participant,
            answer=answer,
            version=version,
            channel=channel,
            subject=Consent.Subject.PARTNER,
            actor=actor,
        )
        if not agreed:
            _set_status(
                participant, Participant.Status.INELIGIBLE, "participant.partner_declined", actor
            )
            return None
        session = IntakeSession.objects.filter(participant=participant).first()
        preferred = session.answers.get("time") if session else None
        return enrol_after_consent(participant, preferred=preferred, pack=pack, actor=actor)


# ---- the program -----------------------------------------------------------------------------


def run_event(
    enrolment: Enrolment, event: engine.Event, actor: str, now: datetime | None = None
) -> engine.Decision:
    """Run the engine on one enrolment for one event and apply its decision (one transaction)."""
    now = now or clock.now()
    with transaction.atomic():
        list(Enrolment.objects.select_for_update().filter(pk=enrolment.pk).values_list("pk"))
        state = state_of(enrolment)
        pack = get_pack(enrolment.program_id)
        decision = engine.decide(state, event, now, pack)
        apply_decisions([(state, decision)], now, actor)
    enrolment.refresh_from_db()
    return decision


def open_day(enrolment: Enrolment, actor: str = audit.SYSTEM) -> engine.Decision:
    return run_event(enrolment, engine.OpenDay(), actor)


def record_checkin(
    enrolment: Enrolment, day: int, answer: str, actor: str = audit.SYSTEM
) -> engine.Decision:
    return run_event(enrolment, engine.CheckIn(day, answer), actor)


def pause(enrolment: Enrolment, actor: str = audit.SYSTEM) -> engine.Decision:
    return run_event(enrolment, engine.Pause(), actor)


def resume(enrolment: Enrolment, actor: str = audit.SYSTEM) -> engine.Decision:
    return run_event(enrolment, engine.Resume(), actor)


def ask_hour(enrolment: Enrolment, actor: str = audit.SYSTEM) -> engine.Decision:
    return run_event(enrolment, engine.AskHour(), actor)


def change_hour(
    enrolment: Enrolment, preferred: str | int, actor: str = audit.SYSTEM
) -> engine.Decision:
    """New preferred time: a slot (morning/midday/evening) or an hour 0-23."""
    program = get_pack(enrolment.program_id).program
    if not (preferred in schedule.SLOTS or (isinstance(preferred, int) and 0 <= preferred < 24)):
        raise ProgramError(
            f"{preferred!r} is not a time slot ({', '.join(schedule.SLOTS)}) or an hour 0-23"
        )
    slot, hour = _preferred_hour(preferred, program)
    return run_event(enrolment, engine.HourChange(slot, hour), actor)


def remove(enrolment: Enrolment, reason: str, actor: str) -> engine.Decision:
    """Staff remove him from the program (for cause): pending content is cancelled."""
    if not reason.strip():
        raise ProgramError("a removal needs a reason")
    if enrolment.status not in (Enrolment.Status.ENROLLED, Enrolment.Status.PAUSED):
        raise ProgramError(f"{enrolment} is {enrolment.status}: only active men can be removed")
    return run_event(enrolment, engine.Remove(reason), actor)


def complete(enrolment: Enrolment, actor: str = audit.SYSTEM) -> engine.Decision:
    """End his program as completed now (the engine does this after the last day)."""
    now = clock.now()
    with transaction.atomic():
        state = state_of(enrolment)
        pack = get_pack(enrolment.program_id)
        decision = engine.complete(state, now, pack)
        apply_decisions([(state, decision)], now, actor)
    enrolment.refresh_from_db()
    return decision
