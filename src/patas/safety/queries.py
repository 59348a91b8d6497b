"""What the supervisors' pages read: the alert queue, one alert with its context, time left.

Read only; state changes are in `safety.actions`. Men are shown by pseudonym (or his reference
when he has no group), never by phone or name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from patas.core.models import AuditEntry
from patas.groups.models import GroupPost, Membership
from patas.messaging.models import Message
from patas.participants.models import Participant
from patas.safety.models import Alert
from patas.safety.triage import RANK

QUEUE_LIMIT = 200
FACILITATOR_FLAG = "flagged_by_facilitator"
CATEGORY_LABELS = {
    "violence_disclosed": gettext_lazy("violence disclosed"),
    "threat": gettext_lazy("threat to harm someone"),
    "self_harm": gettext_lazy("self-harm or suicide"),
    "child_abuse": gettext_lazy("child abuse"),
    "weapons": gettext_lazy("weapons"),
    "crisis": gettext_lazy("crisis"),
    FACILITATOR_FLAG: gettext_lazy("flagged by facilitator"),
}
SEVERITY_LABELS = {
    "high": gettext_lazy("high"),
    "medium": gettext_lazy("medium"),
    "low": gettext_lazy("low"),
}
STATUS_LABELS = {
    "open": gettext_lazy("open"),
    "acknowledged": gettext_lazy("acknowledged"),
    "escalated": gettext_lazy("escalated"),
    "resolved": gettext_lazy("resolved"),
}

NOTE_LABELS = {
    "note": gettext_lazy("note"),
    "acknowledge": gettext_lazy("acknowledged"),
    "escalate": gettext_lazy("escalated"),
    "resolve": gettext_lazy("resolved"),
}


def label(labels: dict[str, Any], key: str) -> str:
    return str(labels.get(key, key.replace("_", " ")))


def _severity_rank() -> Case:
    return Case(
        *[When(severity=name, then=Value(-rank)) for name, rank in RANK.items()],
        default=Value(0),
        output_field=IntegerField(),
    )


def queue(status: str | None = None) -> QuerySet[Alert]:
    """Active alerts (or one status), most severe first, then the soonest SLA."""
    rows = Alert.objects.select_related("participant")
    rows = rows.filter(status=status) if status else rows.filter(status__in=Alert.ACTIVE)
    return rows.annotate(rank=_severity_rank()).order_by("rank", "due_at", "id")


def time_left(due_at: datetime, now: datetime) -> tuple[str, bool]:
    """("1 h 05 min left", False) or ("overdue by 12 min", True): pure, for the queue."""
    delta = due_at - now
    overdue = delta < timedelta(0)
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        span = _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    elif hours:
        span = _("%(h)d h %(m)02d min") % {"h": hours, "m": mins}
    else:
        span = _("%(m)d min") % {"m": mins}
    if overdue:
        return _("overdue by %(span)s") % {"span": span}, True
    return _("%(span)s left") % {"span": span}, False


def pseudonyms_of(participant_ids: list[int]) -> dict[int, str]:
    """His pseudonym in his current (or last) group, one query for many men."""
    names: dict[int, str] = {}
    rows = Membership.objects.filter(participant_id__in=participant_ids).order_by("joined_at")
    for pid, pseudonym in rows.values_list("participant_id", "pseudonym"):
        names[pid] = pseudonym
    return names


def who(participant: Participant | None, names: dict[int, str]) -> str:
    if participant is None:
        return _("(no participant)")
    return names.get(participant.pk) or _("participant %(ref)s") % {"ref": participant.ref}


@dataclass
class QueueRow:
    alert: Alert
    who: str
    time_left: str
    overdue: bool

    @property
    def category(self) -> str:
        return label(CATEGORY_LABELS, self.alert.category)

    @property
    def severity(self) -> str:
        return label(SEVERITY_LABELS, self.alert.severity)

    @property
    def status(self) -> str:
        return label(STATUS_LABELS, self.alert.status)


def queue_rows(alerts: QuerySet[Alert], now: datetime) -> list[QueueRow]:
    rows = list(alerts[:QUEUE_LIMIT])
    names = pseudonyms_of([a.participant_id for a in rows if a.participant_id])
    result = []
    for alert in rows:
        left, overdue = time_left(alert.due_at, now)
        result.append(QueueRow(alert, who(alert.participant, names), left, overdue))
    return result


def alert_page(alert: Alert, now: datetime) -> dict[str, Any]:
    """The held message, his messages before it, hits, notes and the alert's audit trail."""
    names = pseudonyms_of([alert.participant_id] if alert.participant_id else [])
    context = list(Message.objects.filter(pk__in=alert.context_message_ids).order_by("id"))
    left, overdue = time_left(alert.due_at, now)
    post = (
        GroupPost.objects.filter(message_id=alert.message_id).select_related("group").first()
        if alert.message_id
        else None
    )
    member = (
        Membership.objects.filter(participant_id=alert.participant_id)
        .order_by("-joined_at")
        .first()
        if alert.participant_id
        else None
    )
    trail = AuditEntry.objects.filter(object_type="safety.alert", object_id=str(alert.pk))
    return {
        "alert": alert,
        "who": who(alert.participant, names),
        "message": alert.message,
        "post": post,
        "member": member,
        "context": context,
        "hits": [
            dict(hit, category_label=label(CATEGORY_LABELS, hit.get("category", "")))
            for hit in alert.hits
        ],
        "category": label(CATEGORY_LABELS, alert.category),
        "severity": label(SEVERITY_LABELS, alert.severity),
        "status": label(STATUS_LABELS, alert.status),
        "notes": [
            (note, label(NOTE_LABELS, note.kind)) for note in alert.notes.select_related("author")
        ],
        "trail": list(trail.order_by("at", "id")),
        "time_left": left,
        "overdue": overdue,
    }


def active_flag_for(message: Message) -> Alert | None:
    return Alert.objects.filter(
        message=message, category=FACILITATOR_FLAG, status__in=Alert.ACTIVE
    ).first()
