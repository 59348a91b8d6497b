"""Applying status callbacks to outbound messages, set-based.

A delivery may carry hundreds of statuses (Meta batches them; a busy number gets thousands a
minute). They are applied with one `UPDATE ... FROM (VALUES ...)` per round of up to CHUNK
statuses, each row with its own status, time, price and error, instead of one UPDATE each.

Out-of-order safety is the same as applying them one by one, in the order they came: a status
only moves a message forward (`MOVABLE`), its own time is filled only once, and when one batch
holds several statuses of the same message they go in successive rounds, in their order (the
k-th status of a message goes in round k), so each round touches a message at most once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from patas.core.prepared import Prepared, PreparedUpdate
from patas.core.sqltime import datetime_adapter
from patas.messaging.models import Message, StatusEvent
from patas.whatsapp.parse import StatusUpdate

# Which outbound states each status may move a message from: sent -> delivered -> read only
# forward; `failed` does not undo a read. The status's own timestamp is filled regardless.
MOVABLE: dict[str, tuple[str, ...]] = {
    "sent": ("sending",),
    "delivered": ("sending", "sent"),
    "read": ("sending", "sent", "delivered"),
    "failed": ("sending", "sent", "delivered"),
}
TIME_FIELD = {
    "sent": "sent_at",
    "delivered": "delivered_at",
    "read": "read_at",
    "failed": "failed_at",
}
CHUNK = 400  # rows per statement: 7 parameters each stays under SQLite's 32,766


def apply(statuses: Sequence[StatusUpdate]) -> set[str]:
    """Apply status callbacks in order; returns the wamids that named an outbound message."""
    tracked = [s for s in statuses if s.status in TIME_FIELD]
    if not tracked:
        return set()
    matched = _outbound_wamids({s.wamid for s in tracked})
    for round_ in rounds([s for s in tracked if s.wamid in matched]):
        for start in range(0, len(round_), CHUNK):
            _update(round_[start : start + CHUNK])
    if matched:
        _MARK_APPLIED(wamids=matched)
    return matched


def rounds(statuses: Sequence[StatusUpdate]) -> list[list[StatusUpdate]]:
    """Split into rounds where each wamid appears at most once, keeping each wamid's order."""
    out: list[list[StatusUpdate]] = []
    seen: dict[str, int] = {}
    for status in statuses:
        k = seen.get(status.wamid, 0)
        seen[status.wamid] = k + 1
        if k == len(out):
            out.append([])
        out[k].append(status)
    return out


def _outbound_wamids(wamids: set[str]) -> set[str]:
    found: set[str] = set()
    names = sorted(wamids)
    # 512: `Prepared` pads a list to the next power of two, and a SQLite older than 3.32
    # allows 999 parameters.
    for start in range(0, len(names), 512):
        found.update(str(wamid) for (wamid,) in _OUTBOUND(wamids=names[start : start + 512]))
    return found


# Once per webhook body: compiled once per list size (core.prepared).
_OUTBOUND = Prepared(
    lambda wamids: Message.objects.filter(
        wamid__in=wamids, direction=Message.Direction.OUT
    ).values_list("wamid")
)
_MARK_APPLIED = PreparedUpdate(
    lambda wamids: (StatusEvent.objects.filter(wamid__in=wamids, applied=False), {"applied": True})
)


def _update(batch: Sequence[StatusUpdate]) -> None:
    table = Message._meta.db_table
    values = ", ".join([_row()] * len(batch))
    params: list[Any] = []
    at = datetime_adapter(connection)
    for s in batch:
        error = s.errors[0] if s.errors and s.status == "failed" else None
        params += [
            s.wamid,
            s.status,
            at(s.timestamp),
            s.pricing_category[:30] or None,
            s.billable,
            error.code if error else None,
            (error.title if error else "")[:300],
        ]
    # Only the table name, column names and placeholders are formatted in; values are parameters.
    sql = (
        f"WITH v(wamid, status, at, pricing, billable, error_code, error_title) "  # noqa: S608
        f"AS (VALUES {values}) UPDATE {table} SET {_assignments(table)} "
        f"FROM v WHERE {table}.wamid = v.wamid AND {table}.direction = 'out'"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _cast(placeholder: str, pg_type: str) -> str:
    """PostgreSQL needs the VALUES column types spelled out (a column of NULLs is text)."""
    return f"CAST({placeholder} AS {pg_type})" if connection.vendor == "postgresql" else placeholder


def _row() -> str:
    at, billable, code = _cast("%s", "timestamptz"), _cast("%s", "boolean"), _cast("%s", "integer")
    return f"(%s, %s, {at}, %s, {billable}, {code}, %s)"


def _movable(table: str) -> str:
    branches = " ".join(
        f"WHEN '{status}' THEN {table}.status IN ({', '.join(repr(s) for s in sources)})"
        for status, sources in MOVABLE.items()
    )
    return f"(CASE v.status {branches} ELSE FALSE END)"


def _assignments(table: str) -> str:
    movable = _movable(table)
    parts = [f"status = CASE WHEN {movable} THEN v.status ELSE {table}.status END"]
    for status, column in TIME_FIELD.items():
        parts.append(
            f"{column} = CASE WHEN v.status = '{status}' "
            f"THEN COALESCE({table}.{column}, v.at) ELSE {table}.{column} END"
        )
    failed = f"v.status = 'failed' AND {movable}"
    parts += [
        f"error_code = CASE WHEN {failed} THEN v.error_code ELSE {table}.error_code END",
        f"error_title = CASE WHEN {failed} THEN v.error_title ELSE {table}.error_title END",
        f"pricing_category = COALESCE(v.pricing, {table}.pricing_category)",
        f"billable = COALESCE(v.billable, {table}.billable)",
    ]
    return ", ".join(parts)
