"""Every state change of the safety app: one function each, each written to the audit log."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils.translation import gettext as _

from patas.core import audit, clock
from patas.messaging.models import Message
from patas.messaging.outbox import send_text
from patas.participants.models import Participant
from patas.safety import helplines
from patas.safety.models import Alert, AlertNote
from patas.safety.triage import RANK, Hit

log = logging.getLogger(__name__)
CONTEXT_MESSAGES = 5


class AlertError(ValueError):
    """A step that does not apply to the alert in its current state; nothing was changed."""


def sla_due(severity: str, now: datetime) -> datetime:
    minutes = settings.ALERT_SLA_MINUTES.get(severity)
    if minutes is None:
        raise AlertError(f"no SLA configured for severity {severity!r}")
    return now + timedelta(minutes=int(minutes))


def _context_ids(message: Message) -> list[int]:
    """His last few messages before this one (in and out), oldest first."""
    earlier = (
        Message.objects.filter(participant=message.participant, id__lt=message.pk)
        .order_by("-id")
        .values_list("id", flat=True)[:CONTEXT_MESSAGES]
    )
    return sorted(earlier)


def raise_alert(message: Message, hits: Sequence[Hit], *, actor: str = audit.SYSTEM) -> Alert:
    """An alert for a message triage flagged; high severity notifies the on-call supervisor."""
    if not hits:
        raise AlertError("an alert needs at least one triage hit")
    strongest = max(hits, key=lambda h: RANK[h.severity])
    now = clock.now()
    alert = Alert.objects.create(
        participant_id=message.participant_id,
        message=message,
        category=strongest.category,
        severity=strongest.severity,
        hits=[
            {
                "category": h.category,
                "severity": h.severity,
                "phrase": h.phrase,
                "language": h.language,
            }
            for h in hits
        ],
        created_at=now,
        due_at=sla_due(strongest.severity, now),
        context_message_ids=_context_ids(message),
    )
    audit.record(
        actor,
        "safety.alert_raised",
        alert,
        severity=alert.severity,
        category=alert.category,
        message_id=message.pk,
    )
    if alert.severity == Alert.Severity.HIGH:
        transaction.on_commit(lambda: notify_oncall(alert.pk))
    return alert


def notify_oncall(alert_id: int) -> bool:
    """E-mail the on-call supervisor about a high alert (no message text: mail is not private)."""
    alert = Alert.objects.get(pk=alert_id)
    recipients = list(settings.ONCALL_EMAIL)
    if not recipients or alert.notified_at is not None:
        return False
    subject = _("patas: high-severity safety alert %(ref)s") % {"ref": alert.ref}
    body = _(
        "A safety alert needs a supervisor.\n\nAlert: %(ref)s\nCategory: %(category)s\n"
        "Severity: %(severity)s\nHandle by: %(due)s UTC\n\nOpen the console to see it."
    ) % {
        "ref": alert.ref,
        "category": alert.category,
        "severity": alert.severity,
        "due": f"{alert.due_at:%Y-%m-%d %H:%M}",
    }
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
    except Exception:  # a mail outage must not lose the alert: it stays in the console queue
        log.exception("could not e-mail the on-call supervisor about alert %s", alert.ref)
        return False
    Alert.objects.filter(pk=alert.pk).update(notified_at=clock.now())
    audit.record(audit.SYSTEM, "safety.oncall_notified", alert, recipients=len(recipients))
    return True


def helpline_due(participant: Participant, now: datetime, *, exclude: Alert | None = None) -> bool:
    """Pure enough: no second helpline reply while an alert for him is active and recent."""
    since = now - timedelta(hours=settings.HELPLINE_REPEAT_HOURS)
    recent = Alert.objects.filter(
        participant=participant, status__in=Alert.ACTIVE, helpline_sent_at__gte=since
    )
    if exclude is not None:
        recent = recent.exclude(pk=exclude.pk)
    return not recent.exists()


def send_helpline(alert: Alert, participant: Participant) -> Message | None:
    """The caring reply with his country's helplines, unless he had it moments ago."""
    now = clock.now()
    if not helpline_due(participant, now, exclude=alert):
        return None
    try:
        body = helplines.reply_text(participant)
    except (KeyError, LookupError, OSError, ValueError) as exc:
        # A broken pack must not cost the alert (the routing transaction would roll it back).
        log.exception("no helpline reply for alert %s", alert.ref)
        audit.record(audit.SYSTEM, "safety.helpline_failed", alert, error=str(exc)[:300])
        return None
    reply = send_text(participant, body, Message.Purpose.SAFETY)
    Alert.objects.filter(pk=alert.pk).update(helpline_sent_at=now)
    alert.helpline_sent_at = now
    audit.record(audit.SYSTEM, "safety.helpline_sent", alert, message_id=reply.pk)
    return reply


def _note(alert: Alert, user: Any, kind: str, text: str) -> AlertNote:
    return AlertNote.objects.create(
        alert=alert,
        author=user if getattr(user, "pk", None) else None,
        kind=kind,
        text=text,
        created_at=clock.now(),
    )


def _require_active(alert: Alert, step: str) -> None:
    if not alert.is_active:
        raise AlertError(f"alert {alert.ref} is {alert.status}: it cannot be {step}")


def acknowledge(alert: Alert, user: Any) -> Alert:
    _require_active(alert, "acknowledged")
    if alert.status != Alert.Status.OPEN:
        raise AlertError(f"alert {alert.ref} is already {alert.status}")
    with transaction.atomic():
        alert.status, alert.acknowledged_at, alert.acknowledged_by = (
            Alert.Status.ACKNOWLEDGED,
            clock.now(),
            user,
        )
        alert.save(update_fields=["status", "acknowledged_at", "acknowledged_by"])
        _note(alert, user, "acknowledge", "")
        audit.record(audit.actor_for(user), "safety.alert_acknowledged", alert)
    return alert


def add_note(alert: Alert, user: Any, text: str) -> AlertNote:
    if not text.strip():
        raise AlertError("a note needs some text")
    with transaction.atomic():
        note = _note(alert, user, "note", text.strip())
        audit.record(audit.actor_for(user), "safety.alert_note_added", alert, note_id=note.pk)
    return note


def escalate(alert: Alert, user: Any, reason: str) -> Alert:
    _require_active(alert, "escalated")
    if not reason.strip():
        raise AlertError("say why the alert is escalated")
    with transaction.atomic():
        alert.status, alert.escalated_at = Alert.Status.ESCALATED, clock.now()
        alert.due_at = min(alert.due_at, sla_due(Alert.Severity.HIGH, clock.now()))
        alert.notified_at = None  # an escalation goes to the on-call supervisor again
        alert.save(update_fields=["status", "escalated_at", "due_at", "notified_at"])
        _note(alert, user, "escalate", reason.strip())
        audit.record(audit.actor_for(user), "safety.alert_escalated", alert)
    transaction.on_commit(lambda: notify_oncall(alert.pk))
    return alert


def resolve(alert: Alert, user: Any, outcome: str) -> Alert:
    _require_active(alert, "resolved")
    if not outcome.strip():
        raise AlertError("say how the alert was resolved")
    with transaction.atomic():
        alert.status, alert.resolved_at, alert.resolved_by = (
            Alert.Status.RESOLVED,
            clock.now(),
            user,
        )
        alert.save(update_fields=["status", "resolved_at", "resolved_by"])
        _note(alert, user, "resolve", outcome.strip())
        audit.record(audit.actor_for(user), "safety.alert_resolved", alert)
    return alert
