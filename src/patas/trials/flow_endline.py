"""Endline for both arms, its one reminder, partners' phone sessions, and the invite router step.

- `invite_due_endlines`: men whose `endline_due_at` has come get the survey invitation: the
  `survey_invite` template outside the 24-hour window, the same words as a button message
  inside it (free). One INSERT of messages, one UPDATE, one audit INSERT per batch.
- `remind_endlines`: once, `endline_reminder_hours` after the invitation, if he has not started.
- `invite_step` (router order 35): his tap on the invitation (or any message of a man who is
  not in the program any more) starts the endline over chat; a man still in baseline whose
  baseline stopped gets it resumed.
- `create_partner_sessions`: her baseline and endline phone sessions, dealt round-robin to the
  enumerators (fewest open sessions first).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, QuerySet

from patas.core import audit, clock
from patas.core.access import ENUMERATOR
from patas.core.prepared import Prepared
from patas.messaging.models import Message
from patas.messaging.outbox import Outgoing, enqueue_many
from patas.messaging.router import Inbound, Result, men_of
from patas.participants.models import SERVICE_WINDOW, Participant
from patas.programs.pack import Pack, get_pack
from patas.programs.payloads import pick, template_payload, template_text
from patas.programs.schema import TrialSettings
from patas.surveys import actions as surveys
from patas.surveys import chat
from patas.surveys.models import Mode, Partner, PartnerSurveySession, Status
from patas.surveys.phrases import words_for
from patas.trials import flow
from patas.trials.models import TrialMember

INVITE_ROLE = "survey_invite"
INVITE_PREFIX = "trial_survey:"
NOT_IN_PROGRAM = (Participant.Status.SURVEYS_ONLY, Participant.Status.COMPLETED)


def _active() -> tuple[Pack, TrialSettings] | None:
    pack = get_pack()
    cfg = flow.settings_of(pack.program)
    return (pack, cfg) if cfg is not None else None


# ---- invitations (pure payloads, set-based shell) ---------------------------------------------


def invite_payload(pack: Pack, lang: str, form_id: str, window_open: bool) -> dict[str, Any]:
    """The invitation in his language: the template outside his window, a button inside."""
    program = pack.program
    template = program.templates.get(INVITE_ROLE)
    if template is None:
        raise flow.FlowError(f"the program has no `{INVITE_ROLE}` template for survey invitations")
    default = program.default_language
    reply = f"{INVITE_PREFIX}{form_id}"
    if not window_open:
        return template_payload(template, lang, default, [], reply)
    title = pick(template.button, lang, default) or form_id
    return {
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": template_text(template, lang, default, [])},
            "action": {"buttons": [{"type": "reply", "reply": {"id": reply, "title": title}}]},
        },
    }


def _invite(rows: list[dict[str, Any]], pack: Pack, form_id: str, now: datetime) -> None:
    languages = pack.program.languages
    items = []
    for row in rows:
        lang = row["participant__language"]
        lang = lang if lang in languages else pack.program.default_language
        seen = row["participant__last_inbound_at"]
        window = seen is not None and now < seen + SERVICE_WINDOW
        payload = invite_payload(pack, lang, form_id, window)
        items.append(Outgoing(row["participant_id"], payload, Message.Purpose.SURVEY))
    enqueue_many(items)


DUE_FIELDS = ("pk", "participant_id", "participant__language", "participant__last_inbound_at")


def _due_rows(members: QuerySet[TrialMember], limit: int) -> QuerySet[Any, Any]:
    return (
        members.filter(participant__opted_out_at__isnull=True)
        .exclude(participant__status=Participant.Status.ERASED)
        .order_by("pk")
        .values_list(*DUE_FIELDS)[:limit]
    )


# Both looks run every few minutes and usually find nothing: compiled once (core.prepared).
_TO_INVITE = Prepared(
    lambda trial, now, limit: _due_rows(
        TrialMember.objects.filter(
            trial__name=trial, endline_due_at__lte=now, endline_invited_at__isnull=True
        ),
        limit,
    ),
    shape=("limit",),
)
_TO_REMIND = Prepared(
    lambda trial, before, limit: _due_rows(
        TrialMember.objects.filter(
            trial__name=trial,
            endline_invited_at__lte=before,
            endline_reminded_at__isnull=True,
            endline_started_at__isnull=True,
        ),
        limit,
    ),
    shape=("limit",),
)


def invite_due_endlines(now: datetime, limit: int = 5000) -> int:
    """Invite every man whose endline is due (both arms): set-based."""
    active = _active()
    if active is None:
        return 0
    pack, cfg = active
    trial = flow.trial_name(pack.program, cfg)
    due = partial(_TO_INVITE, trial=trial, now=now, limit=limit)
    return _send_invitations(due, pack, cfg, now, "endline_invited_at", "invited")


def remind_endlines(now: datetime, limit: int = 5000) -> int:
    """One reminder to men who have not started the endline `endline_reminder_hours` later."""
    active = _active()
    if active is None:
        return 0
    pack, cfg = active
    trial = flow.trial_name(pack.program, cfg)
    before = now - timedelta(hours=cfg.endline_reminder_hours)
    due = partial(_TO_REMIND, trial=trial, before=before, limit=limit)
    return _send_invitations(due, pack, cfg, now, "endline_reminded_at", "reminded")


def _send_invitations(
    due: Callable[[], list[tuple[Any, ...]]],
    pack: Pack,
    cfg: TrialSettings,
    now: datetime,
    stamp: str,
    verb: str,
) -> int:
    """Invite one chunk of the `due` men to the endline, stamp `stamp` on them, audit as one."""
    if not due():
        return 0  # the usual answer (every few minutes): no transaction opened for it
    with transaction.atomic():
        rows = [dict(zip(DUE_FIELDS, row, strict=True)) for row in due()]
        if not rows:
            return 0
        ids = [r["pk"] for r in rows]
        _invite(rows, pack, cfg.endline_form, now)
        TrialMember.objects.filter(pk__in=ids).update(**{stamp: now})
        audit.record_many(
            audit.SYSTEM,
            f"trial.endline_{verb}",
            TrialMember._meta.label_lower,
            [str(i) for i in ids],
            form=cfg.endline_form,
        )
    return len(rows)


# ---- the router step --------------------------------------------------------------------------


def invite_step(inbound: Inbound) -> Result:
    """Order 35: start his endline on his tap (or any word once he is out of the program)."""
    participant = inbound.participant
    tapped = inbound.reply_id.startswith(INVITE_PREFIX)
    if participant.status == Participant.Status.BASELINE:
        return _resume_baseline(participant)
    member = (
        TrialMember.objects.select_for_update()
        .filter(
            participant=participant,
            endline_invited_at__isnull=False,
            endline_started_at__isnull=True,
        )
        .first()
    )
    if member is not None and (tapped or participant.status in NOT_IN_PROGRAM):
        return _start_endline(member, participant)
    return Result.DONE if tapped else Result.CONTINUE  # a stale tap: nothing more to do


# The router's look for every batch (core.prepared: compiled once per list size).
_INVITED = Prepared(
    lambda men: TrialMember.objects.filter(
        participant_id__in=men, endline_invited_at__isnull=False, endline_started_at__isnull=True
    ).values_list("participant_id")
)


def invite_interested(inbounds: Sequence[Inbound]) -> set[int]:
    """The batch's messages `invite_step` may act on (`router.Interested`): taps on an invite,
    men in their baseline, men invited to their endline who have not started it."""
    invited = {man for (man,) in _INVITED(men=men_of(inbounds))}
    return {
        i.message.pk
        for i in inbounds
        if i.reply_id.startswith(INVITE_PREFIX)
        or i.participant.status == Participant.Status.BASELINE
        or i.participant.pk in invited
    }


def _resume_baseline(participant: Participant) -> Result:
    active = _active()
    if active is None:
        return Result.CONTINUE
    actor = f"participant:{participant.ref}"
    surveys.start_chat_survey(participant, active[1].baseline_form, actor=actor)
    return Result.DONE


def _start_endline(member: TrialMember, participant: Participant) -> Result:
    active = _active()
    if active is None:
        return Result.CONTINUE
    actor = f"participant:{participant.ref}"
    session = surveys.start_chat_survey(participant, active[1].endline_form, actor=actor)
    member.endline_started_at = clock.now()
    member.save(update_fields=["endline_started_at"])
    audit.record(actor, "trial.endline_started", member, session=str(session.uid))
    return Result.DONE


# ---- partners' phone sessions -----------------------------------------------------------------


def enumerators() -> list[Any]:
    """Active enumerators, fewest open sessions first (ties by id): the round-robin order."""
    users = get_user_model().objects.filter(is_active=True, groups__name=ENUMERATOR)
    counts = dict(
        PartnerSurveySession.objects.filter(status=Status.OPEN, enumerator__in=users)
        .values_list("enumerator_id")
        .annotate(n=Count("id"))
        .values_list("enumerator_id", "n")
    )
    return sorted(users.distinct(), key=lambda u: (counts.get(u.pk, 0), u.pk))


def create_partner_sessions(now: datetime, limit: int = 2000) -> int:
    """Her baseline (at his consent) and endline (when his is due) sessions, for enumerators."""
    active = _active()
    if active is None:
        return 0
    pack, cfg = active
    staff: list[Any] = []

    def dealt_to() -> list[Any]:
        """The enumerators, read once and only when a wave has sessions to deal (most runs
        have none: this job runs every 15 minutes)."""
        if not staff:
            staff.extend(enumerators())
        return staff

    trial = flow.trial_name(pack.program, cfg)
    made = _partner_wave(
        dict(_BASELINE_PAIRS(trial=trial, limit=limit)),
        "partner_baseline_at",
        cfg.partner_baseline_form,
        dealt_to,
        now,
    )
    made += _partner_wave(
        dict(_ENDLINE_PAIRS(trial=trial, now=now, limit=limit)),
        "partner_endline_at",
        cfg.partner_endline_form,
        dealt_to,
        now,
    )
    return made


def _with_partner(members: QuerySet[TrialMember], limit: int) -> QuerySet[Any, Any]:
    """(his participant id, member id) of the men of `members` whose partner can be reached."""
    reachable = Partner.objects.exclude(consent_answer=Partner.ConsentAnswer.DECLINE)
    members = members.filter(participant_id__in=reachable.values("participant_id"))
    return members.order_by("pk").values_list("participant_id", "pk")[:limit]


# Both looks run every 15 minutes and usually find nothing: compiled once (core.prepared).
_BASELINE_PAIRS = Prepared(
    lambda trial, limit: _with_partner(
        TrialMember.objects.filter(trial__name=trial, partner_baseline_at__isnull=True), limit
    ),
    shape=("limit",),
)
_ENDLINE_PAIRS = Prepared(
    lambda trial, now, limit: _with_partner(
        TrialMember.objects.filter(
            trial__name=trial, partner_endline_at__isnull=True, endline_due_at__lte=now
        ),
        limit,
    ),
    shape=("limit",),
)


def _partner_wave(
    pairs: dict[int, int],
    stamp: str,
    form_id: str,
    dealt_to: Callable[[], list[Any]],
    now: datetime,
) -> int:
    """Sessions for the partners of `pairs` (his participant id -> member id), dealt out."""
    if not pairs:
        return 0
    partners = list(
        Partner.objects.exclude(consent_answer=Partner.ConsentAnswer.DECLINE)
        .filter(participant_id__in=list(pairs))
        .order_by("participant_id", "-created_at")
    )
    chosen: dict[int, Partner] = {}
    for partner in partners:  # her most recent record per man
        chosen.setdefault(partner.participant_id, partner)
    picked = list(chosen.values())
    if not picked:
        return 0
    staff = dealt_to()
    if not staff:
        return 0  # nobody to call her yet: the next run will deal them
    record = surveys.form_record(form_id)
    form = surveys.form_of(record)
    states: dict[str, dict[str, Any]] = {}
    rows = []
    for i, partner in enumerate(picked):
        lang = form.lang(partner.language)
        if lang not in states:
            states[lang] = chat.start(form, lang, words_for(lang), now, surveys.LOCAL_TZ).state
        rows.append(
            PartnerSurveySession(
                partner=partner,
                form=record,
                mode=Mode.PHONE,
                lang=lang,
                state=states[lang],
                status=Status.OPEN,
                started_at=now,
                last_activity_at=now,
                enumerator=staff[i % len(staff)],
            )
        )
    with transaction.atomic():
        made = PartnerSurveySession.objects.bulk_create(rows, batch_size=2000)
        member_ids = [pairs[p.participant_id] for p in picked]
        TrialMember.objects.filter(pk__in=member_ids).update(**{stamp: now})
        audit.record_many(
            audit.SYSTEM,
            "partner_survey.assigned",
            PartnerSurveySession._meta.label_lower,
            [str(s.pk) for s in made if s.pk is not None],
            form_id=form_id,
        )
    return len(rows)
