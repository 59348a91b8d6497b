"""Fast INSERTs for the daily fan-out: outbox rows and new days, with `executemany`.

Django's `bulk_create` prepares every value of every field through the ORM (and SQLite caps a
statement at 999 parameters, so ~28 outbox rows per INSERT): at 100,000 men that dominates the
pass. Here constant columns (defaults, `now`) are prepared once per call, the few varying ones
per row, and one prepared statement is executed for all rows. The rows are the same as
`messaging.outbox.enqueue_many` writes (same defaults, same `requires_window` rule).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from django.db import connection
from django.db.models import Field

from patas.messaging.models import Message
from patas.messaging.outbox import Outgoing, describe
from patas.programs.models import DayProgress

VARYING = ("uid", "participant", "type", "payload", "text", "purpose", "requires_window", "due_at")
BATCH = 5000


def _fields(model: Any) -> list[Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _insert_sql(table: str, columns: Sequence[str], ignore_conflicts: bool = False) -> str:
    quote = connection.ops.quote_name
    cols = ", ".join(quote(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    # Table and column names come from the models, never from input.
    return f"INSERT INTO {quote(table)} ({cols}) VALUES ({marks}){tail}"  # noqa: S608


def _execute(sql: str, rows: list[tuple[Any, ...]]) -> None:
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            cursor.executemany(sql, rows[start : start + BATCH])


def insert_outbox(items: Iterable[Outgoing], now: datetime) -> int:
    """Queued outbound rows for `items`, as enqueue_many would write them; returns the count."""
    fields = _fields(Message)
    fixed = {
        "direction": Message.Direction.OUT,
        "status": Message.Status.QUEUED,
        "created_at": now,
    }
    template: list[Any] = []
    for f in fields:
        value = fixed[f.name] if f.name in fixed else f.get_default()
        template.append(None if f.name in VARYING else f.get_db_prep_save(value, connection))
    at = {f.name: i for i, f in enumerate(fields)}
    i_uid, i_man, i_type, i_payload = at["uid"], at["participant"], at["type"], at["payload"]
    i_text, i_purpose, i_window, i_due = (
        at["text"],
        at["purpose"],
        at["requires_window"],
        at["due_at"],
    )

    def get(name: str) -> Field:
        return cast(Field, Message._meta.get_field(name))

    uid_f, payload_f, due_f = get("uid"), get("payload"), get("due_at")
    hex_uuids = not connection.features.has_native_uuid_field
    json_cache: dict[int, tuple[Any, Any]] = {}
    due_cache: dict[datetime | None, Any] = {None: due_f.get_db_prep_save(now, connection)}
    rows = []
    for item in items:
        payload = item.payload
        key = id(payload)
        cached = json_cache.get(key)
        if cached is None:  # keep the payload itself so its id is not reused during the call
            cached = json_cache[key] = (payload_f.get_db_prep_save(payload, connection), payload)
        due = item.due_at
        if due not in due_cache:
            due_cache[due] = due_f.get_db_prep_save(due, connection)
        kind = str(payload.get("type", "text"))
        row = template.copy()
        uid = uuid.uuid4()
        row[i_uid] = uid.hex if hex_uuids else uid_f.get_db_prep_save(uid, connection)
        row[i_man] = item.participant_id
        row[i_type] = kind
        row[i_payload] = cached[0]
        row[i_text] = item.text or describe(payload)
        row[i_purpose] = str(item.purpose)
        row[i_window] = kind != "template"
        row[i_due] = due_cache[due]
        rows.append(tuple(row))
    if rows:
        _execute(_insert_sql(Message._meta.db_table, [f.column for f in fields]), rows)
    return len(rows)


def insert_days(days: Iterable[tuple[int, int, dict[str, Any]]], started_at: datetime) -> int:
    """New DayProgress rows (enrolment id, day, other fields), started now; existing ones stay."""
    fields = _fields(DayProgress)
    const = {
        f.name: f.get_db_prep_save(
            started_at if f.name == "started_at" else f.get_default(), connection
        )
        for f in fields
        if f.name not in ("enrolment", "day")
    }
    prepared: dict[tuple[str, Any], Any] = {}

    def value(f: Field, extra: dict[str, Any]) -> Any:
        if f.name not in extra:
            return const[f.name]
        key = (f.name, extra[f.name])
        if key not in prepared:
            prepared[key] = f.get_db_prep_save(extra[f.name], connection)
        return prepared[key]

    rows = [
        tuple(
            enrolment_id if f.name == "enrolment" else day if f.name == "day" else value(f, extra)
            for f in fields
        )
        for enrolment_id, day, extra in days
    ]
    if rows:
        sql = _insert_sql(
            DayProgress._meta.db_table, [f.column for f in fields], ignore_conflicts=True
        )
        _execute(sql, rows)
    return len(rows)
