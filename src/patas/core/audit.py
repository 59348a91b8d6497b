"""Writing the audit log. Every `actions.py` function calls `record` for its state change."""

from __future__ import annotations

from typing import Any

from django.db import models as dj_models

from patas.core import clock
from patas.core.fastinsert import insert_rows
from patas.core.models import AuditEntry

SYSTEM = "system"
COLUMNS = ("at", "actor", "action", "object_type", "object_id", "details")


def actor_for(user: Any) -> str:
    """The audit name of a console user (or the system when there is none)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return SYSTEM
    return f"user:{user.get_username()}"


def record(
    actor: str,
    action: str,
    obj: dj_models.Model | None = None,
    *,
    object_type: str = "",
    object_id: str = "",
    **details: Any,
) -> None:
    record_entries(
        [entry(actor, action, obj, object_type=object_type, object_id=object_id, **details)]
    )


def entry(
    actor: str,
    action: str,
    obj: dj_models.Model | None = None,
    *,
    object_type: str = "",
    object_id: str = "",
    **details: Any,
) -> AuditEntry:
    """An audit row not saved yet, for `record_entries` (batch paths: one INSERT for many)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    return AuditEntry(
        at=clock.now(),
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=details,
    )


def record_entries(entries: list[AuditEntry]) -> None:
    """Write rows made by `entry` in one statement, in their order. Without the ORM's save
    (core.fastinsert): every state change writes one, so this is on every hot path."""
    insert_rows(AuditEntry, {name: [getattr(e, name) for e in entries] for name in COLUMNS})


def record_many(
    actor: str, action: str, object_type: str, object_ids: list[str], **details: Any
) -> None:
    """One audit row per object, written in one statement (bulk paths)."""
    if not object_ids:
        return
    at = clock.now()
    insert_rows(
        AuditEntry,
        {"object_id": list(object_ids)},
        {
            "at": at,
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "details": details,
        },
    )
