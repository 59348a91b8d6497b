"""How sending stands, number by number: what an operator looks at first when men say they got
nothing (the console's Sending page and `patas outbox`).

    for number in sending_status(now):
        number.sender_holder, number.bulk_stopped_until, number.due, number.oldest_due, ...

Only indexed reads, a fixed number of queries whatever the size of the outbox: the queued rows
through the partial index `outbox_due`, the rows in flight through `outbox_leased`, the rows
waiting for a template through `outbox_needs_template`. Nothing here scans sent messages (their
rates are in the Prometheus metrics, docs/deployment.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min, Q

from patas.core import clock
from patas.core.models import JobLease
from patas.messaging import sender
from patas.messaging.models import Message
from patas.whatsapp import numbers

# A backlog this old means men get their messages late: the page and the command flag it.
LATE = timedelta(minutes=10)


@dataclass(frozen=True)
class NumberStatus:
    phone_number_id: str
    configured: bool  # False: rows left on a number no longer in PATAS_WHATSAPP_NUMBERS
    mps: float
    sender_holder: str  # the worker sending for this number now; "" when none is
    sender_until: datetime | None
    bulk_stopped_until: datetime | None  # program, reminders, relay and surveys held back
    bulk_stop_reason: str
    due: int  # queued and due now: waiting for the sender
    later: int  # queued for later (tomorrow's content, retries after a back-off)
    oldest_due: datetime | None
    sending: int  # claimed by the sender, answer not recorded yet
    needs_template: int  # free-form content held for a closed 24-hour window

    @property
    def has_sender(self) -> bool:
        return bool(self.sender_holder)

    def late_by(self, now: datetime) -> timedelta:
        """How long the oldest due message has waited (zero when nothing is due)."""
        if self.oldest_due is None:
            return timedelta(0)
        return max(timedelta(0), now - self.oldest_due)

    def problems(self, now: datetime) -> list[str]:
        """Short codes of what needs a person: no_sender, bulk_stopped, late, unconfigured."""
        found = []
        if (self.due or self.sending) and not self.has_sender:
            found.append("no_sender")
        if self.bulk_stopped_until is not None:
            found.append("bulk_stopped")
        if self.late_by(now) >= LATE:
            found.append("late")
        if not self.configured:
            found.append("unconfigured")
        return found


def sending_status(now: datetime | None = None) -> list[NumberStatus]:
    """Every configured number, then any other number that still has unsent rows."""
    now = now or clock.now()
    outbox = Message.objects.filter(direction=Message.Direction.OUT)
    queued = (
        outbox.filter(status=Message.Status.QUEUED)
        .values("phone_number_id")
        .annotate(
            due=Count("id", filter=Q(due_at__lte=now)),
            later=Count("id", filter=Q(due_at__gt=now)),
            oldest_due=Min("due_at", filter=Q(due_at__lte=now)),
        )
    )
    waiting = (
        outbox.filter(status__in=[Message.Status.SENDING, Message.Status.NEEDS_TEMPLATE])
        .values("phone_number_id", "status")
        .annotate(n=Count("id"))
    )
    counts: dict[str, dict[str, int]] = {}
    oldest: dict[str, datetime] = {}
    for row in queued:
        counts.setdefault(row["phone_number_id"], {}).update(due=row["due"], later=row["later"])
        if row["oldest_due"] is not None:
            oldest[row["phone_number_id"]] = row["oldest_due"]
    for row in waiting:
        counts.setdefault(row["phone_number_id"], {})[row["status"]] = row["n"]
    leases = _leases(now)
    configured = numbers.configured()
    ordered = list(configured) + sorted(set(counts) - set(configured))
    return [
        _status(number, configured, counts.get(number, {}), oldest.get(number), leases)
        for number in ordered
    ]


def _leases(now: datetime) -> dict[str, JobLease]:
    """Live sender and bulk-stop leases by name (one query)."""
    return {
        lease.name: lease
        for lease in JobLease.objects.filter(
            Q(name__startswith="sender:") | Q(name__startswith="bulk-stop:"), expires_at__gt=now
        )
    }


def _status(
    number: str,
    configured: dict[str, float],
    counts: dict[str, int],
    oldest_due: datetime | None,
    leases: dict[str, JobLease],
) -> NumberStatus:
    held = leases.get(sender.lease_name(number))
    stop = leases.get(sender.bulk_stop_name(number))
    return NumberStatus(
        phone_number_id=number,
        configured=number in configured,
        mps=configured.get(number, 0.0),
        sender_holder=held.holder if held else "",
        sender_until=held.expires_at if held else None,
        bulk_stopped_until=stop.expires_at if stop else None,
        bulk_stop_reason=stop.holder if stop else "",
        due=counts.get("due", 0),
        later=counts.get("later", 0),
        oldest_due=oldest_due,
        sending=counts.get(Message.Status.SENDING, 0),
        needs_template=counts.get(Message.Status.NEEDS_TEMPLATE, 0),
    )
