"""Read-only questions about men in programs (console, exports, other apps)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from patas.messaging.models import Message
from patas.participants.models import Participant
from patas.programs.models import DayProgress, Enrolment
from patas.programs.pack import get_pack

ACTIVE = (Enrolment.Status.ENROLLED, Enrolment.Status.PAUSED)


def enrolment_of(participant: Participant | int) -> Enrolment | None:
    pk = participant if isinstance(participant, int) else participant.pk
    return Enrolment.objects.filter(participant_id=pk).first()


def is_enrolled(participant: Participant | int) -> bool:
    """In a program now (enrolled or paused; not completed, removed or opted out)."""
    pk = participant if isinstance(participant, int) else participant.pk
    return Enrolment.objects.filter(participant_id=pk, status__in=ACTIVE).exists()


def current_day(participant: Participant | int) -> int:
    """His program day (0 before day 1 starts or when not enrolled)."""
    enrolment = enrolment_of(participant)
    return enrolment.current_day if enrolment else 0


def days_in_program(enrolment: Enrolment) -> int:
    """Days he was in the program: days started, capped at the program's length."""
    return min(enrolment.current_day, get_pack(enrolment.program_id).program.days)


def checkins_answered(enrolment: Enrolment) -> int:
    return DayProgress.objects.filter(enrolment=enrolment, checkin_at__isnull=False).count()


def completed(enrolment: Enrolment) -> bool:
    """Completion by the program's rule (HEP: reached the last day, not removed, did not leave)."""
    rule = get_pack(enrolment.program_id).program.completion
    if rule.exclude_removed and enrolment.status == Enrolment.Status.REMOVED:
        return False
    if rule.exclude_opted_out and (
        enrolment.status == Enrolment.Status.OPTED_OUT
        or enrolment.participant.opted_out_at is not None
    ):
        return False
    if days_in_program(enrolment) < rule.min_day_reached:
        return False
    return checkins_answered(enrolment) >= rule.min_checkins


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    direction: str  # "in" / "out"
    kind: str  # message type
    purpose: str
    text: str
    status: str
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None


def history(participant: Participant, limit: int = 1000) -> list[HistoryLine]:
    """What was sent to him and what he wrote, oldest first, with delivery and read times."""
    rows = (
        Message.objects.filter(participant=participant)
        .order_by("created_at", "id")
        .values_list(
            "created_at",
            "direction",
            "type",
            "purpose",
            "text",
            "status",
            "sent_at",
            "delivered_at",
            "read_at",
        )[:limit]
    )
    return [HistoryLine(*row) for row in rows]


def days(participant: Participant) -> list[dict[str, Any]]:
    """His days: started, opener, opened, content sent, check-in answer and time, reminders."""
    rows = (
        DayProgress.objects.filter(enrolment__participant=participant)
        .order_by("day")
        .values(
            "day",
            "started_at",
            "opener_sent_at",
            "opened_at",
            "content_sent_at",
            "checkin_answer",
            "checkin_at",
            "reminders",
        )
    )
    return [dict(row) for row in rows]


def summary(participant: Participant) -> dict[str, Any]:
    """One line for exports: status, days in program, check-ins, completion, consent."""
    enrolment = enrolment_of(participant)
    consent = participant.consents.filter(subject="participant").order_by("-answered_at").first()
    out: dict[str, Any] = {
        "consent_version": consent.version if consent else "",
        "consent_answer": consent.answer if consent else "",
        "consent_at": consent.answered_at if consent else None,
    }
    if enrolment is None:
        return {**out, "enrolled": False}
    return {
        **out,
        "enrolled": True,
        "program": enrolment.program_id,
        "program_version": enrolment.program_version,
        "status": enrolment.status,
        "enrolled_at": enrolment.enrolled_at,
        "days_in_program": days_in_program(enrolment),
        "checkins": checkins_answered(enrolment),
        "completed": completed(enrolment),
    }
