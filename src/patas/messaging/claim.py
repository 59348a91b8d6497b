"""Claiming due outbox rows for one sender, under a lease.

    claimed = claim_batch(holder, limit=500, phone_number_id="1001")  # now `sending`
    reclaim_expired(phone_number_id="1001")          # expired leases go back to `queued`

Each number has its own sender, which claims only the rows going out from its number
(`Message.phone_number_id`, index `outbox_due` on (phone_number_id, due_at, id)); every helper
here takes the number. Without one (tests, scripts) they act on every number's rows.

A row is claimable when it is `queued`, due (`due_at <= now`) and no earlier message to the same
man is still on its way (`sending`, or waiting for a retry): messages to one man go in order.
On PostgreSQL the rows are locked with `FOR UPDATE SKIP LOCKED`, so several claimers never
block each other or take the same row; on SQLite the whole claim is one IMMEDIATE transaction
(SQLite has one writer at a time).

Before a row is handed to the sender two safety nets apply, in bulk: a message to an opted-out
man is cancelled (except the opt-out confirmation itself), and a free-form message whose man's
24-hour window is closed is set to `needs_template` without being attempted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q

from patas.core import audit, clock
from patas.core.prepared import Prepared, PreparedUpdate
from patas.messaging import personalise
from patas.messaging.models import Message
from patas.participants.models import SERVICE_WINDOW, Participant
from patas.whatsapp import numbers

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
OUTSIDE_WINDOW = "outside the 24-hour window"
OPTED_OUT = "opted out before it was sent"
NO_ADDRESS = "no WhatsApp address for the recipient"
OPT_OUT_PURPOSE = Message.Purpose.OPT_OUT
# Purposes that stop while a number's bulk sending is stopped (quality / spam limits):
# replies to men who wrote, safety and opt-out confirmations still go out.
BULK_PURPOSES = frozenset(
    {
        Message.Purpose.PROGRAM,
        Message.Purpose.REMINDER,
        Message.Purpose.RELAY,
        Message.Purpose.SURVEY,
    }
)


@dataclass(frozen=True)
class Claimed:
    """A claimed row, as the sender needs it (plain data: safe to hand to another thread)."""

    id: int
    participant_id: int
    to: str
    payload: dict[str, Any]
    attempts: int
    purpose: str


def due_queryset(now: datetime, *, skip_bulk: bool = False, phone_number_id: str = "") -> Any:
    """Queued outbound rows due at `now` (of one number, if given), in the order they should go
    (due_at, id)."""
    qs = Message.objects.filter(
        status=Message.Status.QUEUED, due_at__lte=now, direction=Message.Direction.OUT
    )
    if phone_number_id:
        qs = qs.filter(phone_number_id=phone_number_id)
    if skip_bulk:
        qs = qs.exclude(purpose__in=list(BULK_PURPOSES))
    return qs.order_by("due_at", "id")


_BLOCKERS = Prepared(
    lambda men: (
        Message.objects.filter(direction=Message.Direction.OUT, participant_id__in=men)
        .filter(Q(status=Message.Status.SENDING) | Q(status=Message.Status.QUEUED, attempts__gt=0))
        .values_list("participant_id", "id", "status")
    )
)


def drop_blocked(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows whose man has an earlier message in flight (`sending`) or waiting for its retry
    (`queued` after a failed attempt) wait their turn. One indexed query for the whole batch
    (a per-row NOT EXISTS lets the planner pick a plan that scans the outbox once per row)."""
    men = {row["participant_id"] for row in rows if row["participant_id"] is not None}
    if not men:
        return rows
    in_flight: set[int] = set()
    first_retry: dict[int, int] = {}
    for man, ident, status in _BLOCKERS(men=men):
        if status == Message.Status.SENDING:
            in_flight.add(man)
        elif ident < first_retry.get(man, ident + 1):
            first_retry[man] = ident
    return [
        row
        for row in rows
        if row["participant_id"] not in in_flight
        and row["id"] <= first_retry.get(row["participant_id"], row["id"])
    ]


_CANDIDATE_FIELDS = (
    "id",
    "participant_id",
    "payload",
    "attempts",
    "purpose",
    "requires_window",
    "participant__wa_user_id",
    "participant__last_inbound_at",
    "participant__opted_out_at",
)


def _candidates(now: datetime, skip_bulk: bool, number: str, limit: int) -> Any:
    qs = due_queryset(now, skip_bulk=skip_bulk, phone_number_id=number)
    if connection.vendor == "postgresql":
        qs = qs.select_for_update(skip_locked=True, of=("self",))
    return qs.values_list(*_CANDIDATE_FIELDS)[:limit]


# Every claim, many times a second in production: compiled once per number (core.prepared).
_CANDIDATES = Prepared(_candidates, shape=("skip_bulk", "number", "limit"))
_PHONES = Prepared(lambda men: Participant.objects.filter(id__in=men).values_list("id", "phone"))
_LEASE = PreparedUpdate(
    lambda ids, until, holder: (
        Message.objects.filter(id__in=ids, status=Message.Status.QUEUED),
        {"status": Message.Status.SENDING, "lease_until": until, "leased_by": holder},
    )
)


def claim_batch(
    holder: str,
    limit: int = 500,
    now: datetime | None = None,
    *,
    lease: timedelta = LEASE,
    skip_bulk: bool = False,
    phone_number_id: str = "",
) -> list[Claimed]:
    """Lease up to `limit` due rows (of `phone_number_id`) to `holder`; returns those to send,
    in (due_at, id) order."""
    now = now or clock.now()
    with transaction.atomic():
        due = _CANDIDATES(now=now, skip_bulk=skip_bulk, number=phone_number_id, limit=limit * 2)
        rows = drop_blocked([dict(zip(_CANDIDATE_FIELDS, row, strict=True)) for row in due])
        rows = rows[:limit]
        if not rows:
            return []
        # Phones are encrypted: decrypt only those of the men we are about to message.
        phones = dict(_PHONES(men={r["participant_id"] for r in rows}))
        send, verdicts = partition(rows, phones, now)
        send = with_first_names(send)
        _LEASE(ids=[c.id for c in send], until=now + lease, holder=holder)
        _apply_verdicts(verdicts, now)
    return send


def partition(
    rows: list[dict[str, Any]], phones: dict[int, str | None], now: datetime
) -> tuple[list[Claimed], dict[str, list[int]]]:
    """Split due rows into those to send and those settled without an attempt (pure)."""
    send: list[Claimed] = []
    verdicts: dict[str, list[int]] = {OPTED_OUT: [], OUTSIDE_WINDOW: [], NO_ADDRESS: []}
    for row in rows:
        man = row["participant_id"]
        address = (phones.get(man) or row["participant__wa_user_id"]) if man else None
        last_inbound = row["participant__last_inbound_at"]
        if not address:
            verdicts[NO_ADDRESS].append(row["id"])
        elif row["participant__opted_out_at"] is not None and row["purpose"] != OPT_OUT_PURPOSE:
            verdicts[OPTED_OUT].append(row["id"])
        elif row["requires_window"] and (
            last_inbound is None or now >= last_inbound + SERVICE_WINDOW
        ):
            verdicts[OUTSIDE_WINDOW].append(row["id"])
        else:
            send.append(
                Claimed(row["id"], man, address, row["payload"], row["attempts"], row["purpose"])
            )
    return send, verdicts


def with_first_names(send: list[Claimed]) -> list[Claimed]:
    """Templates that greet him by name get it now (messaging.personalise): one query, and a
    decryption only for the men who get such a template in this claim."""
    wanting = {c.participant_id for c in send if personalise.wants_name(c.payload)}
    if not wanting:
        return send
    names = dict(Participant.objects.filter(id__in=wanting).values_list("id", "profile_name"))
    return [
        replace(
            c,
            payload=personalise.fill(
                c.payload, personalise.first_name(names.get(c.participant_id))
            ),
        )
        if c.participant_id in wanting
        else c
        for c in send
    ]


def _apply_verdicts(verdicts: dict[str, list[int]], now: datetime) -> None:
    outcomes: dict[str, dict[str, Any]] = {
        OPTED_OUT: {"status": Message.Status.CANCELLED},
        OUTSIDE_WINDOW: {"status": Message.Status.NEEDS_TEMPLATE},
        NO_ADDRESS: {"status": Message.Status.FAILED, "failed_at": now},
    }
    for reason, ids in verdicts.items():
        if not ids:
            continue
        Message.objects.filter(id__in=ids, status=Message.Status.QUEUED).update(
            status_reason=reason, lease_until=None, leased_by="", **outcomes[reason]
        )
        audit.record_many(
            audit.SYSTEM,
            f"outbox.{outcomes[reason]['status']}",
            "messaging.message",
            [str(i) for i in ids],
            reason=reason,
        )


# The job (every minute) and each sender's handover check (every pass) ask first whether any
# row is `sending`: compiled once (core.prepared), on the partial index `outbox_leased`.
_IN_FLIGHT = Prepared(
    lambda: Message.objects.filter(status=Message.Status.SENDING).values_list("pk")[:1]
)


def reclaim_expired(
    now: datetime | None = None,
    *,
    exclude_holder: str = "",
    idle_for: timedelta | None = None,
    phone_number_id: str = "",
) -> int:
    """Rows left `sending` by a holder whose lease ran out go back to `queued` (one UPDATE).
    `idle_for`: also rows whose holder has not renewed them for that long (a sender that took
    the number over hands back the rows of one that stopped renewing). Only `phone_number_id`'s
    rows when given: one worker sends for several numbers under one name, and taking over one
    number must not touch another number's rows.

    They may or may not have reached Meta before the holder died: sending is at least once.
    """
    now = now or clock.now()
    if not _IN_FLIGHT():
        return 0  # nothing is being sent at all: the usual answer, without building the UPDATE
    qs = _of_number(Message.objects.filter(status=Message.Status.SENDING), phone_number_id)
    # lease_until is set to (last claim or renewal) + LEASE, so "idle for d" is this bound:
    qs = qs.filter(lease_until__lt=now + LEASE - idle_for if idle_for is not None else now)
    if exclude_holder:
        qs = qs.exclude(leased_by=exclude_holder)
    with transaction.atomic():
        count = qs.update(status=Message.Status.QUEUED, lease_until=None, leased_by="")
        if count:
            audit.record(
                audit.SYSTEM, "outbox.reclaimed", object_type="messaging.outbox", count=count
            )
    return count


def renew(
    holder: str,
    now: datetime | None = None,
    *,
    lease: timedelta = LEASE,
    phone_number_id: str = "",
) -> int:
    """Extend the lease of the rows `holder` is still sending (from `phone_number_id`)."""
    now = now or clock.now()
    qs = Message.objects.filter(status=Message.Status.SENDING, leased_by=holder)
    return _of_number(qs, phone_number_id).update(lease_until=now + lease)


def rehome_orphans() -> int:
    """Unsent rows of a number that is no longer configured go out from the default number
    (one UPDATE; a worker does it when it starts). No sender claims such rows: without this
    they would wait for ever after a number is removed from PATAS_WHATSAPP_NUMBERS."""
    known = numbers.configured()
    waiting = [Message.Status.QUEUED, Message.Status.SENDING, Message.Status.NEEDS_TEMPLATE]
    qs = Message.objects.filter(direction=Message.Direction.OUT, status__in=waiting).exclude(
        phone_number_id__in=list(known)
    )
    with transaction.atomic():
        count = qs.update(phone_number_id=next(iter(known)))
        if count:
            log.warning(
                "%s unsent messages were on numbers no longer configured: "
                "they go out from the default number %s",
                count,
                next(iter(known)),
            )
            audit.record(
                audit.SYSTEM,
                "outbox.rehomed",
                object_type="messaging.outbox",
                count=count,
                to=next(iter(known)),
            )
    return count


def _of_number(qs: Any, phone_number_id: str) -> Any:
    return qs.filter(phone_number_id=phone_number_id) if phone_number_id else qs


def release(ids: list[int], holder: str) -> int:
    """Rows claimed but not attempted go back to `queued`, as they were."""
    if not ids:
        return 0
    return Message.objects.filter(
        id__in=ids, status=Message.Status.SENDING, leased_by=holder
    ).update(status=Message.Status.QUEUED, lease_until=None, leased_by="")
