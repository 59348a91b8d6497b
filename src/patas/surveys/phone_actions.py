"""State changes of phone surveys: assigning calls, placing them, and every step of a call.

Each function applies a decision of the pure call flow (`phone.decide`) or of the form runner
(`chat.step`) in one transaction and writes the audit log. Nothing here sends a message to
anyone: a phone survey's questions are read aloud by the enumerator.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from patas.core import audit, clock
from patas.core.prepared import save_fields
from patas.participants.models import Participant
from patas.surveys import actions, chat, phone
from patas.surveys.actions import SurveyError
from patas.surveys.models import (
    CallAttempt,
    Mode,
    Partner,
    PartnerSurveySession,
    SessionBase,
    Status,
    SurveyForm,
    SurveySession,
)
from patas.surveys.phrases import words_for
from patas.surveys.session_rows import locked_attempt, locked_call

PhoneSession = SurveySession | PartnerSurveySession
REOPENABLE = {Status.OPEN, Status.TIMED_OUT}


# --- assigning ------------------------------------------------------------------------------


def _runner_start(record: SurveyForm, lang: str) -> tuple[str, dict[str, Any]]:
    form = actions.form_of(record)
    lang = form.lang(lang)
    outcome = chat.start(form, lang, words_for(lang), clock.now(), actions.LOCAL_TZ)
    return lang, outcome.state


@transaction.atomic
def assign_partner_call(
    partner: Partner, form_id: str, *, enumerator: Any, actor: str = audit.SYSTEM
) -> PartnerSurveySession:
    """Give a partner's phone survey to an enumerator (before her consent, which the first call
    collects; the form stays hidden on the call until she has agreed)."""
    if partner.consent_answer == Partner.ConsentAnswer.DECLINE:
        raise SurveyError(f"{partner} declined: she is not called again")
    if enumerator is None:
        raise SurveyError("a phone survey needs an enumerator")
    record = actions.form_record(form_id)
    if record.audience != SurveyForm.Audience.PARTNERS:
        raise SurveyError(f"'{form_id}' is not a partners' form")
    existing = PartnerSurveySession.objects.filter(
        partner=partner, form__form_id=form_id, mode=Mode.PHONE, status__in=REOPENABLE
    ).first()
    if existing is not None:
        raise SurveyError(f"{partner} already has the phone survey '{form_id}' assigned")
    lang, state = _runner_start(record, partner.language)
    session = PartnerSurveySession.objects.create(
        partner=partner, form=record, mode=Mode.PHONE, lang=lang, state=state, enumerator=enumerator
    )
    audit.record(actor, "partner_survey.assigned", session, form_id=form_id, to=enumerator.pk)
    return session


@transaction.atomic
def assign_phone_survey(
    participant: Participant, form_id: str, *, enumerator: Any, actor: str = audit.SYSTEM
) -> SurveySession:
    """Give a man's survey to an enumerator, to be run by phone."""
    if participant.opted_out_at is not None:
        raise SurveyError(f"{participant} opted out: he is not called")
    if enumerator is None:
        raise SurveyError("a phone survey needs an enumerator")
    record = actions.form_record(form_id)
    if record.audience != SurveyForm.Audience.MEN:
        raise SurveyError(f"'{form_id}' is not a men's form")
    lang, state = _runner_start(record, participant.language)
    session = SurveySession.objects.create(
        participant=participant,
        form=record,
        mode=Mode.PHONE,
        lang=lang,
        state=state,
        enumerator=enumerator,
    )
    audit.record(actor, "survey.assigned", session, form_id=form_id, to=enumerator.pk)
    return session


# --- calls ----------------------------------------------------------------------------------


def session_of(attempt: CallAttempt, *, lock: bool = False) -> PhoneSession:
    """The survey this call is about, with its subject and form record (not the form's source:
    `actions.form_of` reads it once per process). `lock`: its row locked for an answer."""
    if attempt.partner_session_id is not None:
        model: Any = PartnerSurveySession
        rows = model.objects.select_related("partner", "form").defer("partner__phone")
        pk = attempt.partner_session_id
    else:
        model = SurveySession
        rows = model.objects.select_related("participant", "form")
        pk = int(attempt.session_id or 0)
    if lock:
        rows = rows.select_for_update(of=("self",))
    session: PhoneSession = rows.defer("form__source").get(pk=pk)
    return session


def facts_of(session: PhoneSession) -> phone.Facts:
    if isinstance(session, PartnerSurveySession):
        return phone.Facts(partner=True, consented=session.partner.consented)
    return phone.Facts(partner=False, consented=True)


def attempts_of(session: PhoneSession) -> Any:
    if isinstance(session, PartnerSurveySession):
        return CallAttempt.objects.filter(partner_session=session)
    return CallAttempt.objects.filter(session=session)


@transaction.atomic
def start_call(session: PhoneSession, user: Any) -> CallAttempt:
    """Place a call (or go back to the call already in progress on this survey)."""
    current = attempts_of(session).filter(ended_at=None).order_by("-started_at").first()
    if current is not None:
        return current
    if session.status not in REOPENABLE:
        raise SurveyError(f"{session} is {session.status}: there is nothing left to call about")
    if isinstance(session, PartnerSurveySession) and (
        session.partner.consent_answer == Partner.ConsentAnswer.DECLINE
    ):
        raise SurveyError(f"{session.partner} declined: she is not called again")
    actor = audit.actor_for(user)
    if session.status == Status.TIMED_OUT:  # idle between calls: a phone survey waits for her
        type(session)._default_manager.filter(pk=session.pk).update(
            status=Status.OPEN, ended_at=None
        )
        audit.record(actor, "survey.resumed", session)
    attempt = CallAttempt(enumerator=user, stage=phone.IDENTITY)
    if isinstance(session, PartnerSurveySession):
        attempt.partner_session = session
    else:
        attempt.session = session
    attempt.save()
    audit.record(actor, "call.started", attempt)
    return attempt


def _locked(attempt: CallAttempt) -> CallAttempt:
    return CallAttempt.objects.select_for_update().get(pk=attempt.pk)


@transaction.atomic
def call_action(
    attempt: CallAttempt, action: str, user: Any, *, when: datetime | None = None
) -> CallAttempt:
    """One button of the call script (reached, alone_yes, consent_no, interrupt, resume, ...)."""
    attempt = _locked(attempt)
    session = session_of(attempt)
    decision = phone.decide(attempt.stage, attempt.resume_stage, action, facts_of(session))
    if decision.outcome == phone.RESCHEDULED and when is None:
        raise phone.CallFlowError(_("Choose the day and time of the next call."))
    actor = audit.actor_for(user)
    if decision.consent is not None and isinstance(session, PartnerSurveySession):
        script = phone.script_for(session.lang)
        actions.record_partner_consent(
            session.partner, version=script.consent_version, accepted=decision.consent, actor=actor
        )
    _move(attempt, decision, actor)
    if decision.outcome:
        _end(attempt, session, decision.outcome, actor, when=when)
    return attempt


def _move(attempt: CallAttempt, decision: phone.Decision, actor: str) -> None:
    attempt.stage = decision.stage
    attempt.resume_stage = decision.resume_stage
    fields = ["stage", "resume_stage"]
    if decision.interrupted:
        attempt.interrupted = True
        fields.append("interrupted")
        audit.record(actor, "call.interrupted", attempt, screen=decision.resume_stage)
    if decision.resumed:
        audit.record(actor, "call.resumed", attempt, screen=decision.stage)
    attempt.save(update_fields=fields)


def _end(
    attempt: CallAttempt,
    session: PhoneSession,
    outcome: str,
    actor: str,
    *,
    when: datetime | None = None,
) -> None:
    attempt.stage = phone.ENDED
    attempt.outcome = outcome
    attempt.ended_at = clock.now()
    attempt.appointment_at = when if outcome == phone.RESCHEDULED else None
    attempt.save(update_fields=["stage", "outcome", "ended_at", "appointment_at"])
    details: dict[str, Any] = {"outcome": outcome}
    if attempt.appointment_at is not None:
        details["appointment"] = attempt.appointment_at.isoformat()
    audit.record(actor, "call.ended", attempt, **details)
    if outcome in {phone.REFUSED, phone.WRONG_NUMBER}:
        actions.abandon(session, reason=f"call: {outcome}", actor=actor)


# --- the form on a call ---------------------------------------------------------------------


@transaction.atomic
def answer_on_call(
    attempt: CallAttempt, text: str, reply_id: str, user: Any, *, back: bool = False
) -> chat.Outcome:
    """The enumerator's entry for the current question (or "back"); saved at once."""
    attempt = locked_attempt(attempt.pk)
    if attempt.stage != phone.FORM:
        raise phone.CallFlowError(_("The form is not open on this call."))
    session: PhoneSession = (
        locked_call(attempt.partner_session_id)
        if attempt.partner_session_id is not None
        else session_of(attempt, lock=True)
    )
    if isinstance(session, PartnerSurveySession) and not session.partner.consented:
        raise SurveyError(f"{session.partner} has not consented: record her consent first")
    if not back and not text.strip() and not reply_id:
        text = skip_word(session.lang)  # left empty: skipped (refused when required)
    event = chat.Event("back") if back else chat.Event("answer", text=text, reply_id=reply_id)
    actor = audit.actor_for(user)
    outcome = _step(session, event, actor)
    if outcome.done and outcome.state.get("status") == chat.COMPLETED:
        _move(attempt, phone.Decision(phone.ENDED), actor)
        _end(attempt, session, phone.COMPLETED, actor)
    return outcome


def skip_word(lang: str) -> str:
    """A word the runner reads as "no answer" in this language."""
    words = words_for(lang)
    if not words.skip_words:
        raise SurveyError(f"the runner's words for '{lang}' have no skip word")
    return sorted(words.skip_words)[0]


def _step(locked: SessionBase, event: chat.Event, actor: str) -> chat.Outcome:
    """The form runner on a phone session read locked in this transaction: the new state is
    saved, no prompt is sent."""
    if locked.status not in REOPENABLE:
        raise SurveyError(f"{locked} is {locked.status}, not open")
    words = words_for(locked.lang)
    now = clock.now()
    form = actions.form_of(locked.form)
    outcome = chat.step(form, locked.state, event, words, now, actions.LOCAL_TZ)
    locked.state = outcome.state
    locked.status = Status.COMPLETED if outcome.state["status"] == chat.COMPLETED else Status.OPEN
    locked.last_activity_at = now
    locked.ended_at = now if locked.status == Status.COMPLETED else None
    save_fields(locked, actions.ANSWER_FIELDS)  # save(update_fields=...), cheaper
    actions._audit_outcome(actor, locked, outcome)  # the question, never the answer; hooks
    return outcome
