"""Writing raw webhook events and inbound messages: one INSERT each per batch.

On PostgreSQL both go through `core.fastinsert` (one `unnest` INSERT, no model instances):
Django's `bulk_create` cost about as much CPU as everything else the webhook does per message
(docs/performance.md, "Webhook ingest"). The message INSERT is also the duplicate check there:
it skips wamids already stored (`ON CONFLICT (wamid) DO NOTHING RETURNING wamid`), which is
exact even when two web processes store the same wamid at once, and saves the SELECT that
SQLite does first. On SQLite the messages go in with `insert_rows` (one executemany) and the
events with `insert_returning_ids` (their ids are needed, and there is one per delivery: a
prepared INSERT instead of `bulk_create`'s model instance and compiled query).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from patas.core.fastinsert import insert_returning_ids, insert_rows, insert_unnest
from patas.messaging.models import Message
from patas.whatsapp.models import WebhookEvent

INBOUND = {
    "direction": Message.Direction.IN,
    "status": Message.Status.RECEIVED,
    "requires_window": False,
}


def _columns(rows: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    return {name: [row[name] for row in rows] for name in rows[0]}


def insert_events(rows: Sequence[dict[str, Any]]) -> list[int]:
    """WebhookEvent rows (field name -> value); returns their ids, in order."""
    return insert_returning_ids(WebhookEvent, _columns(rows))


def dedup_by_insert() -> bool:
    """True where `insert_messages` itself says which wamids were new (PostgreSQL)."""
    return connection.vendor == "postgresql"


def recount_events(counts: dict[int, tuple[int, int]]) -> None:
    """Set (messages, duplicates) of these events, in one statement."""
    ids = sorted(counts)
    table = connection.ops.quote_name(WebhookEvent._meta.db_table)
    sql = (
        f"UPDATE {table} AS e SET messages = v.m, duplicates = v.d "  # noqa: S608
        "FROM unnest(%s::bigint[], %s::integer[], %s::integer[]) AS v(id, m, d) WHERE e.id = v.id"
    )
    with connection.cursor() as cursor:
        # Table name from the model; the counts are parameters.
        cursor.execute(sql, [ids, [counts[i][0] for i in ids], [counts[i][1] for i in ids]])


def stored_wamids(wamids: Sequence[str]) -> list[str]:
    """Which of these wamids are stored already: plain SQL, because compiling the ORM query
    cost more CPU than running it (once per webhook batch)."""
    table = connection.ops.quote_name(Message._meta.db_table)
    marks = ", ".join(["%s"] * len(wamids))
    with connection.cursor() as cursor:
        # Table name from the model; the wamids are parameters.
        cursor.execute(f"SELECT wamid FROM {table} WHERE wamid IN ({marks})", list(wamids))  # noqa: S608
        return [row[0] for row in cursor.fetchall()]


def insert_messages(rows: Sequence[dict[str, Any]]) -> set[str] | None:
    """Inbound Message rows (field name -> value, besides INBOUND's); returns the wamids
    stored, or None where the database cannot say (SQLite: every row is taken as stored)."""
    if connection.vendor != "postgresql":
        # ignore_conflicts: the same wamid posted concurrently is stored once (unique wamid).
        insert_rows(Message, _columns(rows), INBOUND, ignore_conflicts=True)
        return None
    stored = insert_unnest(
        Message, _columns(rows), INBOUND, conflict_target="wamid", returning="wamid"
    )
    return set(stored)
