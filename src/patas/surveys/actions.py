"""Every state change of surveys: one function each, each writing the audit log.

The pure runner (`chat`) decides; these functions load the session, apply its outcome (session
row, outbox rows for the next prompts) in one transaction, and record what changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet

from patas.core import audit, clock
from patas.core.crypto import lookup_hash
from patas.core.prepared import Prepared, save_fields
from patas.messaging.models import Message
from patas.messaging.outbox import Outgoing, enqueue_many
from patas.participants.models import Participant
from patas.surveys import chat, hooks
from patas.surveys.form import Form, load_form
from patas.surveys.models import (
    Mode,
    Partner,
    PartnerSurveySession,
    SessionBase,
    Status,
    SurveyForm,
    SurveySession,
)
from patas.surveys.phrases import RunnerWords, words_for
from patas.surveys.session_rows import locked_call

LOCAL_TZ = ZoneInfo("America/Lima")
FORM_SUFFIXES = (".md", ".xlsx", ".xls", ".csv")


class SurveyError(ValueError):
    """A survey action that cannot be done as asked (nothing was changed)."""


# --- Instruments ----------------------------------------------------------------------------


def surveys_dir() -> Path:
    return Path(settings.CONTENT_DIR) / settings.DEFAULT_PROGRAM / "surveys"


def audience_of(form: Form) -> str:
    return (
        SurveyForm.Audience.PARTNERS
        if form.form_id.startswith("partner")
        else SurveyForm.Audience.MEN
    )


def install_form(path: Path, *, audience: str = "", actor: str = audit.SYSTEM) -> SurveyForm:
    """Check an XLSForm and keep it; the same file twice gives the same row."""
    data = path.read_bytes()
    form = load_form(data, file_name=path.name)  # FormError names the sheet and row
    digest = hashlib.sha256(data).hexdigest()
    record, created = SurveyForm.objects.get_or_create(
        form_id=form.form_id,
        sha256=digest,
        defaults={
            "version": form.version,
            "title": form.title,
            "file_name": path.name,
            "source": data,
            "audience": audience or audience_of(form),
        },
    )
    if created:
        audit.record(
            actor, "survey.form_installed", record, form_id=form.form_id, version=form.version
        )
    return record


def find_form_file(form_id: str, directory: Path | None = None) -> Path:
    folder = directory or surveys_dir()
    for suffix in FORM_SUFFIXES:
        candidate = folder / f"{form_id}{suffix}"
        if candidate.is_file():
            return candidate
    raise SurveyError(f"no survey form '{form_id}' in {folder}")


def form_record(form_id: str) -> SurveyForm:
    """The newest installed version of a form, installing it from the content pack if needed."""
    record = SurveyForm.objects.filter(form_id=form_id).order_by("-installed_at", "-id").first()
    return record or install_form(find_form_file(form_id))


_FORMS: dict[tuple[int, str], Form] = {}
ANSWER_FIELDS = ("state", "status", "last_activity_at", "ended_at")  # what an answer changes


def form_of(record: SurveyForm) -> Form:
    """The parsed form of an installed record, parsed once per process (its source is only read
    from the database on the first use, so session queries can leave the blob out)."""
    key = (record.pk, record.sha256)
    form = _FORMS.get(key)
    if form is None:
        source = SurveyForm.objects.values_list("source", flat=True).get(pk=record.pk)
        form = load_form(bytes(source), file_name=record.file_name)
        if len(_FORMS) >= 64:
            _FORMS.clear()
        _FORMS[key] = form
    return form


def _words(lang: str) -> RunnerWords:
    return words_for(lang)


# --- Men's chat surveys ---------------------------------------------------------------------


def _enqueue(participant_id: int, prompts: Sequence[dict[str, Any]]) -> int:
    return enqueue_many(
        Outgoing(participant_id, payload, purpose=Message.Purpose.SURVEY) for payload in prompts
    )


def _sessions() -> QuerySet[SurveySession]:
    return SurveySession.objects.select_related("form").defer("form__source")


def open_chat_session(participant: Participant, *, lock: bool = False) -> SurveySession | None:
    sessions = _sessions().select_for_update(of=("self",)) if lock else _sessions()
    return sessions.filter(participant=participant, status=Status.OPEN, mode=Mode.CHAT).first()


@transaction.atomic
def start_chat_survey(
    participant: Participant, form_id: str, *, lang: str = "", actor: str = audit.SYSTEM
) -> SurveySession:
    """Start a form over WhatsApp (or resume his unfinished one) and send its first prompts."""
    if participant.opted_out_at is not None:
        raise SurveyError(f"{participant} opted out: no survey is sent to him")
    record = form_record(form_id)
    current = open_chat_session(participant)
    if current is not None:
        if current.form.form_id == form_id:
            return current
        raise SurveyError(f"{participant} already has the open survey '{current.form.form_id}'")
    unfinished = (
        SurveySession.objects.filter(
            participant=participant,
            form=record,
            mode=Mode.CHAT,
            status__in=[Status.TIMED_OUT, Status.ABANDONED],
        )
        .order_by("-started_at")
        .first()
    )
    if unfinished is not None:
        return resume(unfinished, actor=actor)
    form = form_of(record)
    now = clock.now()
    lang = form.lang(lang or participant.language)
    outcome = chat.start(form, lang, _words(lang), now, LOCAL_TZ)
    session = SurveySession.objects.create(
        participant=participant,
        form=record,
        mode=Mode.CHAT,
        lang=lang,
        state=outcome.state,
        status=_status(outcome),
        started_at=now,
        last_activity_at=now,
        ended_at=now if outcome.done else None,
    )
    _enqueue(participant.pk, outcome.prompts)
    audit.record(actor, "survey.started", session, form_id=form_id, mode=Mode.CHAT)
    return session


def _status(outcome: chat.Outcome) -> str:
    return {chat.COMPLETED: Status.COMPLETED, chat.TIMED_OUT: Status.TIMED_OUT}.get(
        outcome.state["status"], Status.OPEN
    )


def _apply(session: SessionBase, outcome: chat.Outcome, now: datetime) -> None:
    session.state = outcome.state
    session.status = _status(outcome)
    session.last_activity_at = now
    if session.status != Status.OPEN:
        session.ended_at = now


@transaction.atomic
def answer(
    session: SurveySession,
    text: str = "",
    reply_id: str = "",
    actor: str = "",
    *,
    locked: bool = False,
) -> chat.Outcome:
    """His message as the answer to the current question; the next prompts go to the outbox.

    `locked=True` says the caller already holds the row (the router step read it for update).
    """
    if not locked:
        session = _sessions().select_for_update(of=("self",)).get(pk=session.pk)
    if session.status != Status.OPEN:
        raise SurveyError(f"{session} is {session.status}, not open")
    outcome = _take_answer(session, text, reply_id)
    _enqueue(session.participant_id, outcome.prompts)
    _audit_outcome(actor or f"participant:{session.participant_id}", session, outcome)
    return outcome


def _take_answer(session: SessionBase, text: str, reply_id: str) -> chat.Outcome:
    """One step of the form for a man's or an enumerator's entry; the session row is saved."""
    words = _words(session.lang)
    now = clock.now()
    event = chat.event_for(text, reply_id, words)
    outcome = chat.step(form_of(session.form), session.state, event, words, now, LOCAL_TZ)
    _apply(session, outcome, now)
    save_fields(session, ANSWER_FIELDS)  # session.save(update_fields=...), cheaper
    return outcome


def _audit_outcome(actor: str, session: SessionBase, outcome: chat.Outcome) -> None:
    if outcome.answered:  # the question, never the answer: answers stay in the survey tables
        audit.record(actor, "survey.answered", session, question=outcome.answered)
    if outcome.done and outcome.state["status"] == chat.COMPLETED:
        audit.record(actor, "survey.completed", session)
        hooks.completed(session)


@transaction.atomic
def resume(session: SurveySession, *, actor: str = audit.SYSTEM) -> SurveySession:
    """Reopen an unfinished chat session and ask its current question again."""
    session = _sessions().select_for_update(of=("self",)).get(pk=session.pk)
    if session.status == Status.COMPLETED:
        raise SurveyError(f"{session} is completed and cannot be resumed")
    if session.status == Status.OPEN:
        return session
    words = _words(session.lang)
    now = clock.now()
    outcome = chat.step(
        form_of(session.form), session.state, chat.Event("resume"), words, now, LOCAL_TZ
    )
    _apply(session, outcome, now)
    session.ended_at = None
    session.save(update_fields=["state", "status", "last_activity_at", "ended_at"])
    _enqueue(session.participant_id, outcome.prompts)
    audit.record(actor, "survey.resumed", session)
    return session


@transaction.atomic
def abandon(session: SessionBase, *, reason: str = "", actor: str = audit.SYSTEM) -> None:
    """Close an open session without completing it (answers so far are kept)."""
    model: type[SurveySession] | type[PartnerSurveySession] = (
        PartnerSurveySession if isinstance(session, PartnerSurveySession) else SurveySession
    )
    updated = model._default_manager.filter(pk=session.pk, status=Status.OPEN).update(
        status=Status.ABANDONED, ended_at=clock.now()
    )
    if updated:
        audit.record(actor, "survey.abandoned", session, reason=reason[:200])


def abandon_open_surveys(
    participant: Participant, *, reason: str, actor: str = audit.SYSTEM
) -> int:
    """Abandon every open session of a man (opt-out, removal, erasure): one UPDATE."""
    open_sessions = SurveySession.objects.filter(participant=participant, status=Status.OPEN)
    ids = [str(pk) for pk in open_sessions.values_list("pk", flat=True)]
    if ids:
        SurveySession.objects.filter(pk__in=ids).update(
            status=Status.ABANDONED, ended_at=clock.now()
        )
        audit.record_many(
            actor, "survey.abandoned", "surveys.surveysession", ids, reason=reason[:200]
        )
    return len(ids)


# Every 15 minutes, usually nothing: compiled once (core.prepared).
_STALE_CHATS = Prepared(
    lambda before: SurveySession.objects.filter(
        status=Status.OPEN, last_activity_at__lt=before
    ).values_list("pk")
)
_STALE_CALLS = Prepared(
    lambda before: PartnerSurveySession.objects.filter(
        status=Status.OPEN, last_activity_at__lt=before
    ).values_list("pk")
)


def close_stale_sessions(now: datetime, idle: timedelta) -> int:
    """Time out open sessions idle for longer than `idle`: set-based, one UPDATE per table."""
    total = 0
    for model, stale in ((SurveySession, _STALE_CHATS), (PartnerSurveySession, _STALE_CALLS)):
        ids = [str(pk) for (pk,) in stale(before=now - idle)]
        if not ids:
            continue  # the usual answer: no transaction opened for it
        with transaction.atomic():
            # Only those still open: one may have been answered since the look.
            model.objects.filter(pk__in=ids, status=Status.OPEN).update(
                status=Status.TIMED_OUT, ended_at=now
            )
            audit.record_many(audit.SYSTEM, "survey.timed_out", model._meta.label_lower, ids)
        total += len(ids)
    return total


# --- Bulk: many men answering at once -------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    participant_id: int
    text: str = ""
    reply_id: str = ""


@transaction.atomic
def answer_many(replies: Iterable[Reply]) -> int:
    """Apply many men's answers in a few statements (for batches that passed triage already).

    One SELECT of their open sessions, then `answer_sessions`. Returns how many answers were
    taken (a refused answer is asked again, and does not count).
    """
    by_man = {r.participant_id: r for r in replies}
    sessions = open_chat_sessions(by_man)
    entries = [(s, by_man[pid].text, by_man[pid].reply_id) for pid, s in sessions.items()]
    return sum(1 for outcome in answer_sessions(entries) if outcome.answered)


def open_chat_sessions(men: Iterable[int], *, lock: bool = False) -> dict[int, SurveySession]:
    """{man: his open chat session} in one query; the one `open_chat_session` would pick."""
    sessions = _sessions().select_for_update(of=("self",)) if lock else _sessions()
    found: dict[int, SurveySession] = {}
    for session in sessions.filter(
        participant_id__in=list(men), status=Status.OPEN, mode=Mode.CHAT
    ).order_by("pk"):
        found.setdefault(session.participant_id, session)
    return found


def answer_sessions(entries: Sequence[tuple[SurveySession, str, str]]) -> list[chat.Outcome]:
    """Each man's message as the answer to his own open session (held by the caller), with the
    same outcome, outbox rows and audit rows as `answer` one by one: the runner in memory, one
    UPDATE run for the sessions, one INSERT of the prompts (each man's in order), one of the
    audit rows, then the completion hooks."""
    now = clock.now()
    outgoing: list[Outgoing] = []
    audit_rows = []
    outcomes = []
    completed = []
    for session, text, reply_id in entries:
        words = _words(session.lang)
        event = chat.event_for(text, reply_id, words)
        outcome = chat.step(form_of(session.form), session.state, event, words, now, LOCAL_TZ)
        _apply(session, outcome, now)
        outgoing += [
            Outgoing(session.participant_id, p, purpose=Message.Purpose.SURVEY)
            for p in outcome.prompts
        ]
        actor = f"participant:{session.participant_id}"
        if outcome.answered:  # the question, never the answer (as `_audit_outcome`)
            audit_rows.append(
                audit.entry(actor, "survey.answered", session, question=outcome.answered)
            )
        if outcome.done and outcome.state["status"] == chat.COMPLETED:
            audit_rows.append(audit.entry(actor, "survey.completed", session))
            completed.append(session)
        outcomes.append(outcome)
    _save_states([session for session, _, _ in entries])
    enqueue_many(outgoing)
    audit.record_entries(audit_rows)
    for session in completed:
        hooks.completed(session)
    return outcomes


def _save_states(sessions: list[SurveySession]) -> None:
    """One prepared UPDATE run for every session (executemany: one round trip on psycopg's
    pipeline, a C loop on SQLite); Django's bulk_update builds a CASE per row and is slower."""
    if not sessions:
        return
    table = connection.ops.quote_name(SurveySession._meta.db_table)
    sql = (
        # the table name comes from the model and is quoted; every value is a parameter
        f"UPDATE {table} SET state = %s, status = %s, last_activity_at = %s, ended_at = %s"  # noqa: S608
        " WHERE id = %s"
    )
    when = connection.ops.adapt_datetimefield_value
    rows = [
        (json.dumps(s.state), s.status, when(s.last_activity_at), when(s.ended_at), s.pk)
        for s in sessions
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


# --- Partners (kept apart) ------------------------------------------------------------------


@transaction.atomic
def add_partner(
    participant: Participant, phone: str, *, language: str = "es", actor: str = audit.SYSTEM
) -> Partner:
    if not phone.strip():
        raise SurveyError("a partner needs a phone number")
    partner = Partner.objects.create(
        participant=participant, phone=phone, phone_hash=lookup_hash(phone), language=language
    )
    audit.record(actor, "partner.added", partner)
    return partner


@transaction.atomic
def record_partner_consent(
    partner: Partner, *, version: str, accepted: bool, actor: str
) -> Partner:
    """Her answer to the consent script, read to her on the first call (recorded by staff)."""
    if not version:
        raise SurveyError("the consent version is required")
    partner.consent_version = version
    partner.consent_answer = (
        Partner.ConsentAnswer.ACCEPT if accepted else Partner.ConsentAnswer.DECLINE
    )
    partner.consent_at = clock.now()
    partner.consent_recorded_by = actor
    partner.save(
        update_fields=["consent_version", "consent_answer", "consent_at", "consent_recorded_by"]
    )
    audit.record(actor, "partner.consent", partner, version=version, answer=partner.consent_answer)
    return partner


@transaction.atomic
def start_partner_survey(
    partner: Partner, form_id: str, *, enumerator: Any = None, actor: str = audit.SYSTEM
) -> PartnerSurveySession:
    """Open a phone survey of a partner who consented (the console's phone runner drives it)."""
    if not partner.consented:
        raise SurveyError(f"{partner} has not consented: record her consent first")
    record = form_record(form_id)
    if record.audience != SurveyForm.Audience.PARTNERS:
        raise SurveyError(f"'{form_id}' is not a partners' form")
    form = form_of(record)
    now = clock.now()
    lang = form.lang(partner.language)
    outcome = chat.start(form, lang, _words(lang), now, LOCAL_TZ)
    session = PartnerSurveySession.objects.create(
        partner=partner,
        form=record,
        mode=Mode.PHONE,
        lang=lang,
        state=outcome.state,
        status=_status(outcome),
        started_at=now,
        last_activity_at=now,
        enumerator=enumerator,
    )
    audit.record(actor, "partner_survey.started", session, form_id=form_id)
    return session


@transaction.atomic
def answer_partner(
    session: PartnerSurveySession, text: str = "", reply_id: str = "", *, actor: str
) -> chat.Outcome:
    """An enumerator's entry for the current question (nothing is ever sent to anyone)."""
    session = locked_call(session.pk)
    if session.status != Status.OPEN:
        raise SurveyError(f"{session} is {session.status}, not open")
    outcome = _take_answer(session, text, reply_id)
    _audit_outcome(actor, session, outcome)
    return outcome
