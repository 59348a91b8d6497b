"""Writing the audit log. Every `actions.py` function calls `record` for its state change."""

from __future__ import annotations

from typing import Any

from django.db import models as dj_models

from patas.core import clock
from patas.core.models import AuditEntry

SYSTEM = "system"


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
) -> AuditEntry:
    row = entry(actor, action, obj, object_type=object_type, object_id=object_id, **details)
    row.save(force_insert=True)
    return row


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
    """Write rows made by `entry` in one statement, in their order."""
    AuditEntry.objects.bulk_create(entries, batch_size=2000)


def record_many(
    actor: str, action: str, object_type: str, object_ids: list[str], **details: Any
) -> None:
    """One audit row per object, written in one statement (bulk paths)."""
    at = clock.now()
    AuditEntry.objects.bulk_create(
        [
            AuditEntry(
                at=at,
                actor=actor,
                action=action,
                object_type=object_type,
                object_id=oid,
                details=details,
            )
            for oid in object_ids
        ],
        batch_size=2000,
    )
