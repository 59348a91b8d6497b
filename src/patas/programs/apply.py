"""The engine's shell: Enrolment rows -> engine.State, and Decisions -> SQL, set-based.

`apply_decisions` writes any number of decisions with a handful of statements: one bulk INSERT
for the outbox, one for new days, one UPDATE per set of changes shared by many men (a day's
fan-out has few: men share the day number, the start time and their time zone's next wake),
and one `executemany` for the changes only a few men share.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from django.db import connection
from django.db.models import BooleanField, F, Field, Model, QuerySet
from django.db.models.expressions import RawSQL

from patas.core import audit
from patas.core.rowupdate import Add, Row, update_each
from patas.messaging.models import Message
from patas.messaging.outbox import Outgoing
from patas.participants.models import Participant
from patas.programs.bulk import insert_days, insert_outbox
from patas.programs.engine import Decision, State
from patas.programs.models import DayProgress, Enrolment

ENROLMENT_FIELDS = (
    "id",
    "participant_id",
    "status",
    "time_zone",
    "send_hour",
    "current_day",
    "phase",
    "enrolled_at",
    "day_started_at",
    "content_from",
    "day_checked_in",
    "wake",
    "last_reply_at",
    "reminders_today",
    "reminders_on",
    "miss_you_at",
)
PARTICIPANT_FIELDS = (
    "participant__language",
    "participant__last_inbound_at",
    "participant__opted_out_at",
    "participant__phone_number_id",
)
VALUE_FIELDS = ENROLMENT_FIELDS + PARTICIPANT_FIELDS
CANCELLED_BY_ENGINE = (Message.Purpose.PROGRAM, Message.Purpose.REMINDER)
CHUNK = 5000
# A set of changes shared by at least this many men is one grouped UPDATE (a day's fan-out);
# rarer ones go row by row in one `executemany` (`core.rowupdate`): a grouped UPDATE per man
# costs an ORM compile each.
SHARED = 8


def state_from_row(row: dict[str, Any]) -> State:
    """A State from a `.values(*VALUE_FIELDS)` row."""
    return State(
        enrolment_id=row["id"],
        participant_id=row["participant_id"],
        status=row["status"],
        language=row["participant__language"] or "",
        time_zone=row["time_zone"],
        send_hour=row["send_hour"],
        current_day=row["current_day"],
        phase=row["phase"],
        enrolled_at=row["enrolled_at"],
        day_started_at=row["day_started_at"],
        opener_sent_at=row.get("opener_sent_at"),
        content_from=row["content_from"],
        day_checked_in=row["day_checked_in"],
        next_wake_at=row.get("next_wake_at"),
        wake=row["wake"],
        last_reply_at=row["last_reply_at"],
        last_inbound_at=row["participant__last_inbound_at"],
        reminders_today=row["reminders_today"],
        reminders_on=row["reminders_on"],
        miss_you_at=row["miss_you_at"],
        opted_out=row["participant__opted_out_at"] is not None,
        phone_number_id=row.get("participant__phone_number_id") or "",
    )


def state_of(enrolment: Enrolment) -> State:
    row = Enrolment.objects.filter(pk=enrolment.pk).values(*VALUE_FIELDS).get()
    return state_from_row(row)


def _chunks(ids: Sequence[int], size: int = CHUNK) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _among(model: type[Model], ids: Sequence[int], field: str = "id") -> QuerySet:
    """model rows whose `field` is in `ids`. On PostgreSQL one array parameter (`= ANY(%s)`):
    an IN list of 5,000 placeholders costs more to build and parse than the rows it names."""
    if connection.vendor != "postgresql":
        return model._default_manager.filter(**{f"{field}__in": ids})
    quote = connection.ops.quote_name
    target = cast(Field, model._meta.get_field(field))
    column = f"{quote(model._meta.db_table)}.{quote(target.column)}"
    # The column name comes from the model, the ids are a parameter.
    match = RawSQL(f"{column} = ANY(%s)", (list(ids),), output_field=BooleanField())  # noqa: S611
    return model._default_manager.filter(match)


def _group(pairs: Iterable[tuple[int, dict[str, Any]]]) -> dict[tuple, list[int]]:
    groups: dict[tuple, list[int]] = defaultdict(list)
    for pk, changes in pairs:
        if changes:
            groups[tuple(sorted(changes.items()))].append(pk)
    return groups


def apply_decisions(
    decided: Sequence[tuple[State, Decision]],
    now: datetime,
    actor: str = audit.SYSTEM,
    *,
    actors: Mapping[int, str] | None = None,
) -> int:
    """Write decisions; returns how many outbox rows were enqueued. Call inside a transaction.
    `actors`: the audit actor of some men (participant id -> actor), `actor` for the others."""
    decided = [(s, d) for s, d in decided if not d.empty or d.cancel_pending or d.audit]
    if not decided:
        return 0
    _cancel([s.participant_id for s, d in decided if d.cancel_pending])
    sent = insert_outbox(
        (
            Outgoing(
                s.participant_id,
                x.payload,
                x.purpose,
                x.due_at,
                x.text,
                phone_number_id=s.phone_number_id,
            )
            for s, d in decided
            for x in d.send
        ),
        now,
    )
    _update_enrolments(decided)
    _write_days(decided, now)
    _update_participants(decided)
    _audit(decided, actor, actors or {})
    return sent


def _cancel(participant_ids: list[int]) -> None:
    for ids in _chunks(participant_ids):
        _among(Message, ids, "participant").filter(
            direction=Message.Direction.OUT,
            status__in=[Message.Status.QUEUED, Message.Status.NEEDS_TEMPLATE],
            purpose__in=CANCELLED_BY_ENGINE,
        ).update(status=Message.Status.CANCELLED, status_reason="program paused or ended")


def _update_enrolments(decided: Sequence[tuple[State, Decision]]) -> None:
    few: list[Row] = []
    for key, pks in _group((s.enrolment_id, d.changes) for s, d in decided).items():
        if len(pks) < SHARED:
            few += [((pk,), dict(key)) for pk in pks]
            continue
        for ids in _chunks(pks):
            _among(Enrolment, ids).update(**dict(key))
    update_each(Enrolment, few)


def _write_days(decided: Sequence[tuple[State, Decision]], now: datetime) -> None:
    """New days in one INSERT (with their first changes); other days' changes as UPDATEs."""
    insert_days(
        (
            (s.enrolment_id, d.new_day, d.day_changes if d.day == d.new_day else {})
            for s, d in decided
            if d.new_day
        ),
        now,
    )
    by_day: dict[tuple[int, tuple], list[int]] = defaultdict(list)
    for s, d in decided:
        if d.day and d.day_changes and d.day != d.new_day:
            by_day[(d.day, tuple(sorted(d.day_changes.items())))].append(s.enrolment_id)
    few: list[Row] = []
    for (day, key), pks in by_day.items():
        changes: dict[str, Any] = dict(key)
        if len(pks) < SHARED:
            if "reminders" in changes:
                changes["reminders"] = Add(changes["reminders"])
            few += [((pk, day), changes) for pk in pks]
            continue
        if "reminders" in changes:
            changes["reminders"] = F("reminders") + changes["reminders"]
        for ids in _chunks(pks):
            _among(DayProgress, ids, "enrolment").filter(day=day).update(**changes)
    update_each(DayProgress, few, keys=("enrolment", "day"))


def _update_participants(decided: Sequence[tuple[State, Decision]]) -> None:
    by_status: dict[str, list[int]] = defaultdict(list)
    for s, d in decided:
        if d.participant_status:
            by_status[d.participant_status].append(s.participant_id)
    for status, pks in by_status.items():
        for ids in _chunks(pks):
            _among(Participant, ids).update(status=status)


def _audit(
    decided: Sequence[tuple[State, Decision]], actor: str, actors: Mapping[int, str]
) -> None:
    """One INSERT for every audit row of the decisions, each man's in his decision's order."""
    audit.record_entries(
        [
            audit.entry(
                actors.get(s.participant_id, actor),
                action,
                object_type="programs.enrolment",
                object_id=str(s.enrolment_id),
            )
            for s, d in decided
            for action in d.audit
        ]
    )
