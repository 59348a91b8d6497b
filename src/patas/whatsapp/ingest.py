"""Storing a verified, parsed webhook in one transaction (the shell around `parse`).

Stores the raw event, finds or creates the senders (a new man goes on the number he wrote to,
`metadata.phone_number_id`; a number not configured is logged and he goes on the default),
inserts inbound messages once per wamid, records status callbacks once per (wamid, status) and
applies them to the outbound messages (set-based, in `whatsapp.statuses`).
Routing is not done here: the worker calls `messaging.router.route_pending()` later.

Inbound `Message.payload` is the type's own object as WhatsApp sent it (`{"body": ...}` for text,
`{"type": "button_reply", "button_reply": {...}}` for interactive, `{"payload", "text"}` for a
template button), plus `referral` when the man came from a click-to-WhatsApp ad. A message of a
type patas does not know keeps the whole raw message under `raw`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction

from patas.core import clock
from patas.core.fastinsert import insert_rows
from patas.core.prepared import Prepared
from patas.messaging.models import StatusEvent
from patas.participants.actions import Sender, find_or_create_many
from patas.whatsapp import inbound_rows, numbers
from patas.whatsapp import statuses as status_updates
from patas.whatsapp.models import WebhookEvent
from patas.whatsapp.parse import InboundMessage, Parsed, StatusError, StatusUpdate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestResult:
    event_id: int
    messages: int  # newly stored inbound messages
    duplicates: int  # inbound messages and status callbacks seen before
    statuses: int  # newly stored status callbacks
    applied: int  # status callbacks that matched an outbound message


@dataclass
class _Plan:
    """What one delivery adds: its new messages and statuses, and how many it repeats."""

    body: bytes
    parsed: Parsed
    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    duplicates: int = 0


def store(body: bytes, parsed: Parsed) -> IngestResult:
    """Store one webhook delivery; every write happens in one transaction."""
    return store_many([(body, parsed)])[0]


def store_many(deliveries: Sequence[tuple[bytes, Parsed]]) -> list[IngestResult]:
    """Store several deliveries in one transaction (group commit), set-based across all of them.

    A message or status repeated within the batch counts as a duplicate of its first delivery.
    """
    now = clock.now()
    with transaction.atomic():
        plans = _plan(deliveries)
        events = inbound_rows.insert_events([_event(plan, now) for plan in plans])
        fresh = [
            (event, m) for event, plan in zip(events, plans, strict=True) for m in plan.messages
        ]
        if fresh:
            stored = _insert_messages(fresh, now)
            if stored is not None:
                _count_stored_before(plans, events, stored)
        statuses = [s for plan in plans for s in plan.statuses]
        matched: set[str] = set()
        if statuses:
            _insert_statuses(statuses, now)
            matched = _apply(statuses)
    return [
        IngestResult(
            event_id=event,
            messages=len(plan.messages),
            duplicates=plan.duplicates,
            statuses=len(plan.statuses),
            applied=sum(1 for s in plan.statuses if s.wamid in matched),
        )
        for event, plan in zip(events, plans, strict=True)
    ]


# Once per webhook delivery with statuses: compiled once per list size (core.prepared).
_STATUSES_SEEN = Prepared(
    lambda wamids: StatusEvent.objects.filter(wamid__in=wamids).values_list("wamid", "status")
)


def _plan(deliveries: Sequence[tuple[bytes, Parsed]]) -> list[_Plan]:
    wamids = {m.wamid for _, parsed in deliveries for m in parsed.messages}
    seen: set[Any] = set()
    if wamids and not inbound_rows.dedup_by_insert():
        seen.update(inbound_rows.stored_wamids(sorted(wamids)))
    status_wamids = {s.wamid for _, parsed in deliveries for s in parsed.statuses}
    if status_wamids:
        seen.update(_STATUSES_SEEN(wamids=sorted(status_wamids)))
    plans = []
    for body, parsed in deliveries:
        plan = _Plan(body, parsed)
        for message in parsed.messages:
            if message.wamid in seen:
                plan.duplicates += 1
            else:
                seen.add(message.wamid)
                plan.messages.append(message)
        for status in parsed.statuses:
            key = (status.wamid, status.status[:16])
            if key in seen:
                plan.duplicates += 1
            else:
                seen.add(key)
                plan.statuses.append(status)
        plans.append(plan)
    return plans


def _event(plan: _Plan, now: datetime) -> dict[str, Any]:
    other = plan.parsed.other_changes
    return {
        "received_at": now,
        "body": plan.body,
        "outcome": WebhookEvent.Outcome.UNKNOWN
        if plan.parsed.has_unknown
        else WebhookEvent.Outcome.PARSED,
        "messages": len(plan.messages),
        "statuses": len(plan.statuses),
        "duplicates": plan.duplicates,
        "note": f"other changes: {other}" if other else "",
    }


def _insert_messages(fresh: list[tuple[int, InboundMessage]], now: datetime) -> set[str] | None:
    """Inbound rows for new wamids; returns the wamids stored (None: all of them)."""
    _warn_unknown_numbers({m.phone_number_id for _, m in fresh})
    senders = [
        Sender(
            user_id=m.user_id,
            phone=m.wa_id,
            profile_name=m.profile_name,
            at=m.timestamp,
            phone_number_id=m.phone_number_id,
        )
        for _, m in fresh
    ]
    ids = find_or_create_many(senders)
    default = numbers.default_number()
    rows = [
        {
            "uid": uuid.uuid4(),
            "participant_id": ids[sender.key],
            "phone_number_id": m.phone_number_id[:40] or default,
            "type": m.type[:20],
            "payload": _payload(m),
            "text": m.text,
            "wamid": m.wamid,
            "context_wamid": m.context_wamid[:200],
            "created_at": now,
            "provider_timestamp": m.timestamp,
            "webhook_event_id": event,
            "flags": list(m.flags),
        }
        for (event, m), sender in zip(fresh, senders, strict=True)
    ]
    return inbound_rows.insert_messages(rows)


def _warn_unknown_numbers(received_on: set[str]) -> None:
    """Messages to a number patas is not configured for are stored as usual; a new man among
    their senders goes on the default number. Say so: the number may be missing from
    PATAS_WHATSAPP_NUMBERS."""
    known = numbers.configured()
    for number in sorted(received_on - known.keys() - {""}):
        log.warning(
            "inbound message to WhatsApp number %s, which is not configured "
            "(PATAS_WHATSAPP_NUMBERS): stored; a new man goes on the default number %s",
            number,
            next(iter(known)),
            extra={"phone_number_id": number},
        )


def _count_stored_before(plans: list[_Plan], events: list[int], stored: set[str]) -> None:
    """Messages the INSERT skipped were stored before (by an earlier delivery, or by another
    process a moment ago): count them as duplicates of their delivery, in one UPDATE."""
    recount: dict[int, tuple[int, int]] = {}
    for event, plan in zip(events, plans, strict=True):
        before = [m for m in plan.messages if m.wamid not in stored]
        if before:
            plan.messages = [m for m in plan.messages if m.wamid in stored]
            plan.duplicates += len(before)
            recount[event] = (len(plan.messages), plan.duplicates)
    if recount:
        inbound_rows.recount_events(recount)


def _payload(m: InboundMessage) -> dict[str, Any]:
    payload: dict[str, Any] = {"raw": m.raw} if m.unknown_type else dict(m.content)
    if m.referral:
        payload["referral"] = m.referral
    return payload


def _insert_statuses(statuses: list[StatusUpdate], now: datetime) -> None:
    insert_rows(
        StatusEvent,
        {
            "wamid": [s.wamid for s in statuses],
            "status": [s.status[:16] for s in statuses],
            "at": [s.timestamp for s in statuses],
            "error_code": [s.errors[0].code if s.errors else None for s in statuses],
            "pricing_category": [s.pricing_category[:30] for s in statuses],
            "billable": [s.billable for s in statuses],
        },
        {"received_at": now},
        ignore_conflicts=True,  # a redelivery racing this one: stored once
    )


def apply_statuses(statuses: list[StatusUpdate]) -> int:
    """Apply status callbacks to the outbound messages they name; returns how many matched."""
    matched = _apply(statuses)
    return sum(1 for s in statuses if s.wamid in matched)


def _apply(statuses: list[StatusUpdate]) -> set[str]:
    return status_updates.apply(statuses)


def apply_pending_statuses(wamids: list[str]) -> int:
    """Apply callbacks that arrived before the sender recorded these wamids (the sender calls
    this after saving provider ids); returns how many were applied."""
    pending = StatusEvent.objects.filter(wamid__in=wamids, applied=False).order_by("at", "id")
    updates = [
        StatusUpdate(
            wamid=e.wamid,
            status=e.status,
            timestamp=e.at,
            recipient="",
            errors=(StatusError(e.error_code, ""),) if e.error_code is not None else (),
            pricing_category=e.pricing_category,
            billable=e.billable,
        )
        for e in pending
    ]
    return apply_statuses(updates) if updates else 0
