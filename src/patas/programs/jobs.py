"""The engine's worker job: every minute, decide for every enrolment whose time has come.

Set-based: due enrolments are read in chunks with `.values()` (one query per chunk), decided in
Python, and written with `enqueue_many`, one bulk INSERT of new days and grouped UPDATEs. On
PostgreSQL each chunk is locked with SKIP LOCKED so a router event for the same man waits.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, connections, transaction
from django.db.models import F, Q, QuerySet

from patas.core import audit
from patas.core.jobs import periodic
from patas.core.prepared import Prepared
from patas.messaging.models import Message
from patas.programs import engine
from patas.programs.apply import (
    CHUNK,
    VALUE_FIELDS,
    apply_decisions,
    state_from_row,
)
from patas.programs.models import Enrolment
from patas.programs.pack import Pack, get_pack

log = logging.getLogger(__name__)
ACTIVE = (Enrolment.Status.ENROLLED, Enrolment.Status.PAUSED)
SENT = (Message.Status.SENT, Message.Status.DELIVERED, Message.Status.READ)
LANES = 2


@periodic(every=timedelta(minutes=1))
def run_program_engine(now: datetime) -> int:
    """One pass: mirror opt-outs, open pending days he answered, re-open with templates, wake.

    Day starts are recorded per man in DayProgress; the audit log gets one line per pass that
    did something (opt-outs, removals and completions are audited per man by their actions).
    """
    counts = {
        "opted_out": mirror_opt_outs(now),
        "opened": open_answered_days(now),
        "reopened": reopen_needs_template(now),
        "woken": wake_due(now),
    }
    done = sum(counts.values())
    if done:
        audit.record(
            audit.SYSTEM, "programs.engine_pass", object_type="programs.job", counts=counts
        )
    return done


def _locked(qs):  # type: ignore[no-untyped-def]
    if connection.features.has_select_for_update_skip_locked:
        return qs.select_for_update(skip_locked=True, of=("self",))
    return qs


def _lanes() -> int:
    """Two lanes on PostgreSQL: while one waits for the database to write its chunk, the other
    decides the next (SKIP LOCKED keeps their chunks apart). Inside a caller's transaction
    (tests) another connection would not see its rows, and SQLite has one writer: one lane."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    return LANES


FIELDS = (*VALUE_FIELDS, "program_id")


def _chunk_of(enrolments: QuerySet[Enrolment], after: int, limit: int) -> QuerySet[Any, Any]:
    """The next chunk of `enrolments` by id, locked on PostgreSQL."""
    chunk = _locked(enrolments.filter(pk__gt=after).order_by("pk"))
    return chunk.values_list(*FIELDS)[:limit]


# Every minute, and most passes find nothing: compiled once (core.prepared).
_OPENERS_ANSWERED = Prepared(
    lambda after, limit: _chunk_of(
        Enrolment.objects.filter(
            status=Enrolment.Status.ENROLLED,
            phase=Enrolment.Phase.OPENER,
            participant__last_inbound_at__gt=F("opener_sent_at"),
            participant__opted_out_at__isnull=True,
        ),
        after,
        limit,
    ),
    shape=("limit",),
)
_DUE = Prepared(
    lambda now, after, limit: _chunk_of(
        Enrolment.objects.filter(
            status=Enrolment.Status.ENROLLED,
            next_wake_at__lte=now,
            participant__opted_out_at__isnull=True,
        ),
        after,
        limit,
    ),
    shape=("limit",),
)


def _run(
    read: Prepared, args: dict[str, Any], event: engine.Event, now: datetime, limit: int | None
) -> int:
    """Decide `event` for every enrolment `read` gives, chunk by chunk; returns rows sent."""
    lanes = _lanes()
    if lanes == 1 or limit is not None:
        return _run_lane(read, args, event, now, limit)
    with ThreadPoolExecutor(lanes, thread_name_prefix="patas-engine") as pool:
        futures = [pool.submit(_lane_thread, read, args, event, now) for _ in range(lanes)]
        return sum(future.result() for future in futures)


def _lane_thread(read: Prepared, args: dict[str, Any], event: engine.Event, now: datetime) -> int:
    try:
        return _run_lane(read, args, event, now, None)
    finally:
        connections.close_all()  # this thread's own connection


def _run_lane(
    read: Prepared, args: dict[str, Any], event: engine.Event, now: datetime, limit: int | None
) -> int:
    """Lock the next chunk (by id), decide, write, commit; until none is left."""
    last_id, total, seen = 0, 0, 0
    packs: dict[str, Pack] = {}
    while limit is None or seen < limit:
        with transaction.atomic():
            rows = [
                dict(zip(FIELDS, row, strict=True))
                for row in read(**args, after=last_id, limit=CHUNK)
            ]
            if not rows:
                break
            last_id = rows[-1]["id"]
            seen += len(rows)
            decided = []
            for row in rows:
                program_id = row["program_id"]
                if program_id not in packs:
                    packs[program_id] = get_pack(program_id)
                state = state_from_row(row)
                decided.append((state, engine.decide(state, event, now, packs[program_id])))
            total += apply_decisions(decided, now)
    return total


_OPTED_OUT = Prepared(
    lambda: Enrolment.objects.filter(
        status__in=ACTIVE, participant__opted_out_at__isnull=False
    ).values_list("pk")
)
_NEEDING_TEMPLATE = Prepared(
    lambda: Enrolment.objects.filter(
        participant_id__in=Message.objects.filter(
            direction=Message.Direction.OUT,
            status=Message.Status.NEEDS_TEMPLATE,
            purpose=Message.Purpose.PROGRAM,
            requires_window=True,
        ).values("participant_id"),
        status=Enrolment.Status.ENROLLED,
        phase=Enrolment.Phase.CONTENT,
    ).values_list(*FIELDS)
)


def mirror_opt_outs(now: datetime) -> int:
    """Men who opted out (participants.opted_out_at) leave their program: one UPDATE."""
    ids = [str(pk) for (pk,) in _OPTED_OUT()]
    if not ids:
        return 0
    Enrolment.objects.filter(pk__in=[int(i) for i in ids]).update(
        status=Enrolment.Status.OPTED_OUT,
        next_wake_at=None,
        ended_at=now,
        end_reason="opted out",
    )
    audit.record_many(audit.SYSTEM, "programs.opted_out", "programs.enrolment", ids)
    return len(ids)


def open_answered_days(now: datetime) -> int:
    """A day pending his tap opens when he wrote anything after the opener went out."""
    return _run(_OPENERS_ANSWERED, {}, engine.OpenDay(), now, None)


def reopen_needs_template(now: datetime) -> int:
    """Content the sender refused (window closed, 131047): cancel it, send the day's opener."""
    rows = [dict(zip(FIELDS, row, strict=True)) for row in _NEEDING_TEMPLATE()]
    if not rows:
        return 0
    decided = []
    with transaction.atomic():
        for row in rows:
            state = state_from_row(row)
            sent = _items_sent_today(state)
            Message.objects.filter(
                participant_id=state.participant_id,
                direction=Message.Direction.OUT,
                status=Message.Status.NEEDS_TEMPLATE,
                purpose=Message.Purpose.PROGRAM,
            ).update(status=Message.Status.CANCELLED, status_reason="waiting for the day opener")
            pack = get_pack(row["program_id"])
            decided.append((state, engine.decide(state, engine.NeedsTemplate(sent), now, pack)))
        return apply_decisions(decided, now)


def _items_sent_today(state: engine.State) -> int:
    """How many of today's content items already went out (they are sent in order)."""
    if state.day_started_at is None:
        return 0
    return Message.objects.filter(
        Q(participant_id=state.participant_id)
        & Q(direction=Message.Direction.OUT)
        & Q(purpose=Message.Purpose.PROGRAM)
        & Q(requires_window=True)
        & Q(created_at__gte=state.day_started_at)
        & Q(status__in=SENT)
    ).count()


def wake_due(now: datetime, limit: int | None = None) -> int:
    """Every enrolment whose next_wake_at has come: start days, send reminders, complete."""
    return _run(_DUE, {"now": now}, engine.Wake(), now, limit)
