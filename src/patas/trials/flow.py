"""The trial inside the program: consent -> baseline -> arm -> the program or surveys only.

    consent accepted (programs.hooks.on_consented)
      -> status `baseline`, the chat baseline (`baseline_form`) starts at once
    baseline completed (surveys.hooks.on_completed), or `baseline_wait_hours` after consent
      -> assigned by sequential permuted blocks within strata (`trials.actions.assign_next`)
      -> treatment: `programs.actions.enrol` (groups placement through `on_enrolled`)
      -> control: status `surveys_only` (no enrolment: the engine never delivers to him)
    endline for both arms (`flow_endline`), partners' phone sessions for enumerators.

Men who opt out during the baseline are not randomised (they withdrew before assignment).
Nothing sent to a man names his arm: he hears what the consent said, and the surveys.
The pure decisions are `stratum_of`, `endline_due` and `gets_program`; the rest applies them.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from patas.core import audit, clock
from patas.core.prepared import Prepared
from patas.participants.models import IntakeSession, Participant
from patas.programs.pack import get_pack
from patas.programs.schema import Program, TrialSettings
from patas.surveys import actions as surveys
from patas.surveys.models import SessionBase, Status, SurveySession
from patas.trials import actions as trials
from patas.trials.models import Assignment, Trial, TrialMember

log = logging.getLogger(__name__)

CONTROL = "control"
MISSING = "missing"


class FlowError(ValueError):
    """The program's trial section disagrees with the trial on record (nothing was changed)."""


# ---- pure decisions ---------------------------------------------------------------------------


def stratum_of(names: Sequence[str], baseline: Mapping[str, Any], intake: Mapping[str, Any]) -> str:
    """The stratum label from baseline answers (first) or intake answers: "a=1|b=missing"."""
    parts = []
    for name in names:
        value = baseline.get(name)
        if value in (None, ""):
            value = intake.get(name)
        parts.append(f"{name}={MISSING if value in (None, '') else value}")
    return "|".join(parts)


def endline_due(assigned_at: datetime, program_days: int, after_days: int) -> datetime:
    """When his endline is due: his program would have ended, plus `after_days` (both arms)."""
    return assigned_at + timedelta(days=program_days + after_days)


def gets_program(arm: str) -> bool:
    """Every arm but control receives the program at assignment."""
    return arm != CONTROL


# ---- the trial of the program -----------------------------------------------------------------


def settings_of(program: Program | None = None) -> TrialSettings | None:
    """The program's trial section when it is enabled, else None."""
    program = program or get_pack().program
    cfg = program.trial
    return cfg if cfg is not None and cfg.enabled else None


def trial_name(program: Program, cfg: TrialSettings) -> str:
    return cfg.name or program.id


def trial_for(program: Program, cfg: TrialSettings, actor: str = audit.SYSTEM) -> Trial:
    """The trial on record for the program, created (audited) on first use.

    Raises FlowError when the record and the program's section disagree: an assignment is
    never made under a design other than the one recorded.
    """
    name = trial_name(program, cfg)
    trial = Trial.objects.filter(name=name).first()
    if trial is None:
        return trials.create_trial(
            name,
            cfg.arms,
            cfg.seed,
            procedure=cfg.procedure,
            block_sizes=cfg.block_sizes,
            strata=cfg.strata_from,
            control_condition=cfg.control,
            actor=actor,
        )
    recorded = ([list(a) for a in trial.arms], trial.seed, trial.procedure, trial.block_sizes)
    wanted = ([[a, w] for a, w in cfg.arms.items()], cfg.seed, cfg.procedure, cfg.block_sizes)
    if recorded != wanted:
        raise FlowError(
            f"trial {name!r} on record has arms/seed/procedure/blocks {recorded}, the program "
            f"says {wanted}: give the changed design a new trial name"
        )
    return trial


def _set_status(
    participant: Participant, status: str, action: str, actor: str, **details: Any
) -> None:
    Participant.objects.filter(pk=participant.pk).update(status=status)
    participant.status = status
    audit.record(actor, action, participant, **details)


def _actor(participant: Participant) -> str:
    return f"participant:{participant.ref}"


# ---- consent -> baseline ----------------------------------------------------------------------


def on_consent(participant: Participant, preferred: Any = None) -> bool:
    """Hook `programs.hooks.on_consented`: with a trial, start his baseline instead of enrolling."""
    pack = get_pack()
    cfg = settings_of(pack.program)
    if cfg is None:
        return False
    start_baseline(participant, pack.program, cfg)
    return True


def start_baseline(
    participant: Participant, program: Program, cfg: TrialSettings, actor: str = ""
) -> TrialMember:
    """He joins the trial: status `baseline`, and the chat baseline starts now."""
    actor = actor or _actor(participant)
    now = clock.now()
    with transaction.atomic():
        trial = trial_for(program, cfg)
        member, created = TrialMember.objects.get_or_create(
            trial=trial,
            participant=participant,
            defaults={
                "consented_at": now,
                "randomise_by": now + timedelta(hours=cfg.baseline_wait_hours),
            },
        )
        if not created:
            raise FlowError(f"{participant} is already in trial {trial.name}")
        _set_status(
            participant,
            Participant.Status.BASELINE,
            "trial.baseline_started",
            actor,
            trial=trial.name,
            form=cfg.baseline_form,
        )
        surveys.start_chat_survey(participant, cfg.baseline_form, actor=actor)
    return member


# ---- baseline -> arm --------------------------------------------------------------------------


def on_survey_completed(session: SessionBase) -> None:
    """Hook `surveys.hooks.on_completed`: his baseline randomises him; a waitlist endline enrols."""
    if not isinstance(session, SurveySession):
        return
    member = (
        TrialMember.objects.filter(participant_id=session.participant_id)
        .select_related("trial", "participant")
        .order_by("-id")
        .first()
    )
    pack = get_pack()
    cfg = settings_of(pack.program)
    if member is None or cfg is None or member.trial.name != trial_name(pack.program, cfg):
        return
    form_id = session.form.form_id
    if form_id == cfg.baseline_form and member.phase == TrialMember.Phase.BASELINE:
        randomise(member, actor=_actor(member.participant))
    elif form_id == cfg.endline_form and cfg.control == "waitlist" and member.arm == CONTROL:
        _enrol(member.participant, actor=_actor(member.participant))


def _baseline_session(participant_id: int, form_id: str) -> SurveySession | None:
    return (
        SurveySession.objects.filter(participant_id=participant_id, form__form_id=form_id)
        .select_related("form")
        .defer("form__source")
        .order_by("-started_at", "-id")
        .first()
    )


def _intake_answers(participant_id: int) -> dict[str, Any]:
    session = IntakeSession.objects.filter(participant_id=participant_id).first()
    return dict(session.answers) if session else {}


def randomise(member: TrialMember, actor: str = audit.SYSTEM) -> Assignment | None:
    """Assign him to an arm now (baseline complete or overdue) and apply what the arm gets.

    An open baseline is closed first (answers after assignment would not be baseline).
    Returns None when he was already assigned (a second call changes nothing).
    """
    pack = get_pack()
    cfg = settings_of(pack.program)
    if cfg is None:
        raise FlowError("the program has no enabled trial section")
    with transaction.atomic():
        member = TrialMember.objects.select_for_update().select_related("trial").get(pk=member.pk)
        if member.phase != TrialMember.Phase.BASELINE:
            return None
        participant = Participant.objects.get(pk=member.participant_id)
        baseline = _baseline_session(participant.pk, cfg.baseline_form)
        if baseline is not None and baseline.status == Status.OPEN:
            surveys.abandon(baseline, reason="randomised before the baseline was finished")
        intake = _intake_answers(participant.pk)
        stratum = stratum_of(cfg.strata_from, baseline.answers if baseline else {}, intake)
        row = trials.assign_next(member.trial, participant, stratum=stratum, actor=actor)
        missing = baseline is None or baseline.status != Status.COMPLETED
        member.phase, member.arm, member.assigned_at = TrialMember.Phase.ASSIGNED, row.arm, row.at
        member.randomise_by, member.baseline_missing = None, missing
        member.endline_due_at = endline_due(row.at, pack.program.days, cfg.endline_after_days)
        member.save()
        if gets_program(row.arm):
            _enrol(participant, actor=actor, preferred=intake.get("time"))
        else:
            _set_status(participant, Participant.Status.SURVEYS_ONLY, "trial.surveys_only", actor)
    return row


def _enrol(participant: Participant, actor: str, preferred: Any = None) -> None:
    from patas.programs import actions as programs  # programs imports hooks only, not us

    if participant.opted_out_at is not None:
        return  # assigned (intention to treat) but never contacted again
    if preferred is None:
        preferred = _intake_answers(participant.pk).get("time")
    programs.enrol(participant, preferred=preferred, actor=actor)


# Every 15 minutes, and nearly always nobody: compiled once (core.prepared).
_OVERDUE = Prepared(
    lambda now, limit: (
        TrialMember.objects.filter(
            phase=TrialMember.Phase.BASELINE,
            randomise_by__lte=now,
            participant__opted_out_at__isnull=True,
        )
        .order_by("randomise_by", "pk")
        .values_list("pk")[:limit]
    ),
    shape=("limit",),
)


def randomise_overdue(now: datetime, limit: int = 500) -> int:
    """Randomise men whose baseline was not finished in time (baseline missing, documented)."""
    ids = [pk for (pk,) in _OVERDUE(now=now, limit=limit)]
    if not ids:
        return 0
    members = TrialMember.objects.in_bulk(ids)
    done = 0
    # Sequential blocks: each man takes the next slot of his stratum, in the order due.
    for member in (members[pk] for pk in ids if pk in members):
        done += randomise(member) is not None
    return done
