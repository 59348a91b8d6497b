"""The outbox sender for one phone number: claim due rows, send them, record the results.

    sender = Sender(holder="worker-1")
    sender.drain(now)        # no threads: claim, send (asyncio.run), record, until nothing is due
    sender.start() / sender.step() / sender.stop()   # the worker's pipelined mode (a thread
                                                      # sends while this thread does the DB)

Exactly one sender per number runs at a time: it holds the lease row
`core.JobLease(name="sender:<phone_number_id>")`, renewed every few seconds; when its holder
dies the lease expires and another worker takes over (and reclaims the rows it had leased).
It claims only its number's rows (`Message.phone_number_id`); the worker runs one per
configured number (whatsapp.numbers), each with its own lease and rate.

Results are written in bulk (`record_outcomes`): sent (wamid, sent_at); transient errors back to
`queued` with exponential backoff and jitter until MAX_ATTEMPTS, then failed; permanent errors
failed once; 131047 -> needs_template; quality limits stop the number's bulk sending and alert.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from django.conf import settings
from django.db import connection, transaction

from patas.core import audit, clock
from patas.core.jobs import release as release_lease
from patas.core.jobs import try_acquire
from patas.core.metrics import MESSAGES_SENT, SEND_ERRORS
from patas.core.models import JobLease
from patas.core.prepared import Prepared
from patas.messaging import claim
from patas.messaging.claim import Claimed
from patas.messaging.dispatch import RECIPIENT_GAP, Outcome, Pace, max_in_flight_for, send_all
from patas.messaging.models import Message
from patas.whatsapp import numbers
from patas.whatsapp.client import CloudClient
from patas.whatsapp.errors import Action, gives_up, retry_delay

log = logging.getLogger(__name__)

SENDER_LEASE = timedelta(seconds=10)
RENEW_EVERY = 3.0  # seconds
# A sender that took a number over requeues the rows another holder has not renewed for this
# long. Longer than the fence (8 s) plus a worker's longest pause after a database error (8 s),
# so a holder that lost the database for up to ~20 s records its sends before anyone resends
# them; short enough that a killed worker's rows go out within about half a minute.
HANDOVER = timedelta(seconds=30)
HANDOVER_CHECK = timedelta(seconds=RENEW_EVERY)
BULK_STOP = timedelta(hours=24)  # until an admin resumes it (resume_bulk)
_RECORD_FIELDS = [
    "status",
    "status_reason",
    "wamid",
    "sent_at",
    "failed_at",
    "due_at",
    "attempts",
    "lease_until",
    "leased_by",
    "error_code",
    "error_title",
]


def lease_name(phone_number_id: str) -> str:
    return f"sender:{phone_number_id}"


# Bulk stop (131048 / 131064 / 131049) ----------------------------------------------------
def bulk_stop_name(phone_number_id: str) -> str:
    return f"bulk-stop:{phone_number_id}"


def stop_bulk(phone_number_id: str, code: int | None, now: datetime | None = None) -> None:
    """Stop bulk sending (program, reminders, relay, surveys) on a number; alert an admin."""
    now = now or clock.now()
    JobLease.objects.update_or_create(
        name=bulk_stop_name(phone_number_id),
        defaults={"holder": f"error {code}", "expires_at": now + BULK_STOP, "last_started_at": now},
    )
    log.error(
        "bulk sending stopped on number %s after error %s: an admin must check the "
        "number's quality rating",
        phone_number_id,
        code,
    )
    audit.record(
        audit.SYSTEM,
        "sender.bulk_stopped",
        object_type="whatsapp.number",
        object_id=phone_number_id,
        code=code,
        until=(now + BULK_STOP).isoformat(),
    )


def resume_bulk(phone_number_id: str, actor: str = audit.SYSTEM) -> None:
    JobLease.objects.filter(name=bulk_stop_name(phone_number_id)).update(expires_at=None)
    audit.record(
        actor, "sender.bulk_resumed", object_type="whatsapp.number", object_id=phone_number_id
    )


def bulk_stopped(phone_number_id: str, now: datetime | None = None) -> bool:
    now = now or clock.now()
    return bool(_BULK_STOP(name=bulk_stop_name(phone_number_id), now=now))


# Asked before every claim: compiled once (core.prepared).
_BULK_STOP = Prepared(
    lambda name, now: JobLease.objects.filter(name=name, expires_at__gt=now).values_list("pk")[:1]
)


# Recording results --------------------------------------------------------------------------
def settle(outcome: Outcome, now: datetime, rng: random.Random) -> dict[str, Any] | None:
    """The row's new fields after one outcome (pure); None when it goes back untouched."""
    row, result = outcome.row, outcome.result
    if result is None:
        return None
    attempts = row.attempts + 1
    fields: dict[str, Any] = {
        "status": Message.Status.SENT,
        "status_reason": "",
        "wamid": None,
        "sent_at": None,
        "failed_at": None,
        "due_at": None,
        "attempts": attempts,
        "lease_until": None,
        "leased_by": "",
        "error_code": result.error_code,
        "error_title": result.error_title,
    }
    if result.ok:
        fields.update(wamid=result.wamid, sent_at=now)
        return fields
    verdict = result.verdict
    if verdict.action is Action.RETRY or verdict.action is Action.STOP_BULK:
        if gives_up(attempts):
            fields.update(
                status=Message.Status.FAILED,
                failed_at=now,
                status_reason=f"gave up after {attempts} attempts: {verdict.reason}",
            )
        else:
            delay = retry_delay(attempts, verdict, rng)
            fields.update(
                status=Message.Status.QUEUED,
                due_at=now + timedelta(seconds=delay),
                status_reason=f"retrying: {verdict.reason}",
            )
    elif verdict.action is Action.NEEDS_TEMPLATE:
        fields.update(status=Message.Status.NEEDS_TEMPLATE, status_reason=claim.OUTSIDE_WINDOW)
    else:
        fields.update(status=Message.Status.FAILED, failed_at=now, status_reason=verdict.reason)
    fields["status_reason"] = fields["status_reason"][:200]
    return fields


@dataclass
class Tally:
    counts: Counter[str] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        self.counts.update(other.counts)

    @property
    def attempted(self) -> int:
        return sum(v for k, v in self.counts.items() if k != "unsent")


def record_outcomes(
    outcomes: list[Outcome],
    holder: str,
    phone_number_id: str,
    now: datetime | None = None,
    rng: random.Random | None = None,
) -> Tally:
    """Write a batch of outcomes with a few statements; returns counts by new status."""
    now = now or clock.now()
    rng = rng or random.Random()
    tally = Tally()
    sent: list[tuple[int, str]] = []
    updates: list[Message] = []
    unsent: list[int] = []
    notable: dict[str, list[str]] = {}
    stop_code: int | None = None
    for outcome in outcomes:
        result = outcome.result
        if result is not None and result.ok and result.wamid:
            sent.append((outcome.row.id, result.wamid))
            MESSAGES_SENT.labels(phone_number_id).inc()
            continue
        if result is not None and not result.ok:
            code = result.error_code if result.error_code is not None else result.http_status
            SEND_ERRORS.labels(phone_number_id, str(code)).inc()
        fields = settle(outcome, now, rng)
        if fields is None:
            unsent.append(outcome.row.id)
            tally.counts["unsent"] += 1
            continue
        updates.append(Message(pk=outcome.row.id, **fields))
        tally.counts[str(fields["status"])] += 1
        if fields["status"] in (Message.Status.FAILED, Message.Status.NEEDS_TEMPLATE):
            notable.setdefault(str(fields["status"]), []).append(str(outcome.row.id))
        if result is not None and result.verdict.action is Action.STOP_BULK:
            stop_code = result.error_code
    with transaction.atomic():
        for start in range(0, len(sent), 400):
            mark_sent(sent[start : start + 400], now)
        tally.counts[str(Message.Status.SENT)] += len(sent)
        if updates:
            Message.objects.bulk_update(updates, _RECORD_FIELDS, batch_size=500)
        claim.release(unsent, holder)
        for status, ids in notable.items():
            audit.record_many(audit.SYSTEM, f"outbox.{status}", "messaging.message", ids)
    if stop_code is not None and not bulk_stopped(phone_number_id, now):
        stop_bulk(phone_number_id, stop_code, now)
    return tally


def mark_sent(sent: list[tuple[int, str]], now: datetime) -> None:
    """One UPDATE for many sent rows, each with its own wamid (the sender's hot path:
    Django's bulk_update costs about ten times more CPU for the same statement)."""
    if not sent:
        return
    table = Message._meta.db_table
    values = ", ".join(["(%s, %s)"] * len(sent))
    # Only the table name and placeholders are formatted in; every value is a parameter.
    sql = (
        f"WITH v(id, wamid) AS (VALUES {values}) "  # noqa: S608
        f"UPDATE {table} SET status = %s, wamid = v.wamid, sent_at = %s, "
        "attempts = attempts + 1, lease_until = NULL, leased_by = '', error_code = NULL, "
        "error_title = '', status_reason = '' "
        f"FROM v WHERE {table}.id = v.id"
    )
    params: list[Any] = [item for pair in sent for item in pair]
    params += [Message.Status.SENT.value, connection.ops.adapt_datetimefield_value(now)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# The sender ---------------------------------------------------------------------------------
class Sender:
    def __init__(
        self,
        holder: str,
        *,
        phone_number_id: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        mps: float | None = None,
        pace: Pace | None = None,
        gap: float = RECIPIENT_GAP,
        batch_size: int | None = None,
    ) -> None:
        self.holder = holder
        self.phone_number_id = phone_number_id or numbers.default_number()
        self.transport = transport
        self.mps = mps or numbers.configured().get(self.phone_number_id, settings.WHATSAPP_MPS)
        self.pace = pace
        self.gap = gap
        # About half a second of sending per claim keeps leases short and memory small.
        self.batch_size = batch_size or max(10, int(self.mps / 2))
        self.rng = random.Random()
        self.holding = False
        self.thread: Any = None  # SenderThread in pipelined mode
        self._renewed_at = 0.0
        self._handed_back = datetime.min.replace(tzinfo=UTC)

    @property
    def lease_name(self) -> str:
        return lease_name(self.phone_number_id)

    def hold_lease(self, now: datetime | None = None) -> bool:
        """Take or renew the number's sender lease; then hand back abandoned rows."""
        now = now or clock.now()
        had = self.holding
        self.holding = try_acquire(self.lease_name, self.holder, SENDER_LEASE, now, due_only=False)
        if self.holding and not had:
            log.info("%s holds the sender lease for %s", self.holder, self.phone_number_id)
        if self.holding and (not had or now - self._handed_back >= HANDOVER_CHECK):
            self._handed_back = now
            # Only the holder of this lease leases outbox rows, so rows still `sending` under
            # another name belong to a sender that lost it. They go back to the queue once
            # nobody has renewed them for HANDOVER, not a minute later when their own lease
            # ends; and not at once, so a sender that was only cut off from the database
            # (fenced, see sender_thread.FENCE) can first record what it did send.
            claim.reclaim_expired(
                now,
                exclude_holder=self.holder,
                idle_for=HANDOVER,
                phone_number_id=self.phone_number_id,
            )
        return self.holding

    def release_lease(self) -> None:
        if self.holding:
            release_lease(self.lease_name, self.holder, None)
            self.holding = False

    def claim(self, limit: int, now: datetime) -> list[Claimed]:
        return claim.claim_batch(
            self.holder,
            limit,
            now,
            skip_bulk=bulk_stopped(self.phone_number_id, now),
            phone_number_id=self.phone_number_id,
        )

    def client(self) -> CloudClient:
        return CloudClient.from_settings(
            self.transport,
            phone_number_id=self.phone_number_id,
            max_connections=max_in_flight_for(self.mps),
        )

    def drain(self, now: datetime | None = None, *, max_rounds: int = 1000) -> Tally:
        """Send everything due at `now` in batches, without threads (ticks, simulator, tests)."""
        tally = Tally()
        for _ in range(max_rounds):
            at = now or clock.now()
            if not self.hold_lease(at):
                break
            rows = self.claim(self.batch_size, at)
            if not rows:
                break
            outcomes = asyncio.run(self._send(rows))
            round_tally = record_outcomes(
                outcomes, self.holder, self.phone_number_id, now or clock.now(), self.rng
            )
            tally.add(round_tally)
            if len(rows) < self.batch_size and not round_tally.counts["unsent"]:
                # A short claim took every row that was due and not held back, and every one
                # was attempted (a failure retries later, not now): looking again would find
                # nothing. Rows handed back unsent (a man's later messages after his first
                # failed) are due again at once, so then we look again.
                break
        return tally

    async def _send(self, rows: list[Claimed]) -> list[Outcome]:
        client = self.client()
        try:
            return await send_all(client, rows, mps=self.mps, pace=self.pace, gap=self.gap)
        finally:
            await client.aclose()
