"""Putting messages in the outbox. Call these inside the transaction of the state change.

`payload` is the Cloud API send body without `messaging_product`, `recipient_type` and `to`,
e.g. {"type": "text", "text": {"body": "Hola"}}; the sender adds the rest.

Every row carries the number it goes out from: the man's (`Participant.phone_number_id`). A
caller that has it passes it in `Outgoing.phone_number_id` (the fan-out reads it with the
enrolments); otherwise it is looked up here, one query per call for all its men (none when only
one number is configured). A number no longer configured becomes the default (whatsapp.numbers).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection

from patas.core import clock
from patas.core.fastinsert import insert_rows
from patas.messaging.models import Message
from patas.participants.models import Participant
from patas.whatsapp import numbers


@dataclass(frozen=True)
class Outgoing:
    """One message to enqueue (the pure core returns these; the shell writes them)."""

    participant_id: int
    payload: dict[str, Any]
    purpose: str = Message.Purpose.SYSTEM
    due_at: datetime | None = None
    text: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    phone_number_id: str = ""  # his number, when the caller knows it ("": looked up)


def text_payload(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body, "preview_url": False}}


def numbers_of(participant_ids: Iterable[int]) -> dict[int, str]:
    """The number each of these men is on, as configured now: one query per few thousand
    men (SQLite takes at most 999 parameters in a statement)."""
    ids = sorted(set(participant_ids))
    size = min(5000, connection.features.max_query_params or 5000)
    found: dict[int, str] = {}
    for start in range(0, len(ids), size):
        rows = Participant.objects.filter(id__in=ids[start : start + size]).values_list(
            "id", "phone_number_id"
        )
        found.update((pk, numbers.assign(number)) for pk, number in rows)
    return found


def resolve_numbers(items: list[Outgoing]) -> list[str]:
    """The number each item goes out from, in order (set-based: at most one query)."""
    known = numbers.configured()
    if len(known) == 1:
        only = next(iter(known))
        return [only] * len(items)
    missing = [item.participant_id for item in items if item.phone_number_id not in known]
    found = numbers_of(missing) if missing else {}
    default = next(iter(known))
    return [
        item.phone_number_id
        if item.phone_number_id in known
        else found.get(item.participant_id, default)
        for item in items
    ]


def _fields(item: Outgoing, now: datetime, number: str) -> dict[str, Any]:
    """An outbox row's own columns (the rest are the model's defaults), as plain values: a
    fastinsert array takes them as they are (an enum member is not a plain string there)."""
    msg_type = str(item.payload.get("type", "text"))
    return {
        "direction": str(Message.Direction.OUT),
        "participant_id": item.participant_id,
        "phone_number_id": number,
        "type": msg_type,
        "payload": item.payload,
        "text": item.text or describe(item.payload),
        "purpose": str(item.purpose),
        "status": str(Message.Status.QUEUED),
        "requires_window": msg_type != "template",
        "due_at": item.due_at or now,
        "created_at": now,
    }


def _row(item: Outgoing, now: datetime, number: str) -> Message:
    return Message(**_fields(item, now, number))


def enqueue(item: Outgoing) -> Message:
    row = _row(item, clock.now(), resolve_numbers([item])[0])
    row.save()
    return row


def enqueue_many(items: Iterable[Outgoing], batch_size: int = 5000) -> int:
    """Set-based enqueue for bulk paths (fan-out, relay, digests): one INSERT per batch, in
    the items' order (ids ascend with it, so each man's messages go out in that order), through
    fastinsert (bulk_create prepared all 31 fields of every row)."""
    now = clock.now()
    listed = list(items)
    where = resolve_numbers(listed)
    for start in range(0, len(listed), batch_size):
        rows = [
            _fields(item, now, number)
            for item, number in zip(
                listed[start : start + batch_size], where[start : start + batch_size], strict=True
            )
        ]
        columns = {name: [row[name] for row in rows] for name in rows[0]}
        columns["uid"] = [uuid.uuid4() for _ in rows]
        insert_rows(Message, columns)
    return len(listed)


def send_text(
    participant: Participant,
    body: str,
    purpose: str = Message.Purpose.SYSTEM,
    due_at: datetime | None = None,
) -> Message:
    item = Outgoing(
        participant.pk,
        text_payload(body),
        purpose,
        due_at,
        body,
        phone_number_id=participant.phone_number_id,
    )
    return enqueue(item)


def describe(payload: dict[str, Any]) -> str:
    """The readable text of a send body, for the console and exports."""
    kind = payload.get("type")
    if kind == "text":
        return str(payload.get("text", {}).get("body", ""))
    if kind == "interactive":
        inner = payload.get("interactive", {})
        return str(inner.get("body", {}).get("text", ""))
    if kind == "template":
        tpl = payload.get("template", {})
        return f"[template {tpl.get('name', '')}]"
    if kind in {"image", "video", "audio", "document"}:
        media = payload.get(kind, {})
        return str(media.get("caption", f"[{kind}]"))
    return f"[{kind}]"


def cancel_pending(participant_id: int, reason: str, purposes: Iterable[str] | None = None) -> int:
    """Cancel queued messages to one man (opt-out, removal, pause): one UPDATE."""
    qs = Message.objects.filter(
        participant_id=participant_id,
        direction=Message.Direction.OUT,
        status__in=[Message.Status.QUEUED, Message.Status.NEEDS_TEMPLATE],
    )
    if purposes is not None:
        qs = qs.filter(purpose__in=list(purposes))
    return qs.update(status=Message.Status.CANCELLED, status_reason=reason[:200])
