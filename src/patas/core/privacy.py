"""Privacy tools: audited views of identifying data, erasure, subject access, retention, keys.

`core` imports no other app: models are found by label or by their field types at call time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, models, transaction
from django.db.models.functions import Cast
from django.http import Http404

from patas.core import access, audit, clock, crypto
from patas.core.crypto import EncryptedTextField

PARTICIPANT = "participants.participant"
MESSAGE = "messaging.message"
WEBHOOK_EVENT = "whatsapp.webhookevent"


class PrivacyError(ValueError):
    """A privacy request that cannot be done as asked; nothing was changed."""


# --- identifying data, viewed on purpose ---------------------------------------------------------


def reveal_phone(user: Any, participant: Any) -> str:
    """His phone number for a user allowed to see it; every view is written to the audit log."""
    if not access.can_view_identifying(user, participant):
        raise Http404("not found")
    audit.record(audit.actor_for(user), "privacy.identifying_viewed", participant, field="phone")
    return str(participant.phone or "")


def find_participant(ref: str) -> Any:
    """A participant by his 8-character reference (or full uid); a clear error otherwise."""
    model = apps.get_model(PARTICIPANT)
    key = ref.strip().lower().replace("-", "")
    if len(key) < 8 or any(ch not in "0123456789abcdef" for ch in key):
        raise PrivacyError(f"{ref!r} is not a participant reference (8 hex characters)")
    rows = list(
        model._default_manager.annotate(uid_text=Cast("uid", models.CharField())).filter(
            uid_text__startswith=key[:8]
        )[:50]
    )
    rows = [p for p in rows if p.uid.hex.startswith(key)]
    if not rows:
        raise PrivacyError(f"no participant with reference {ref!r}")
    if len(rows) > 1:
        raise PrivacyError(f"reference {ref!r} matches {len(rows)} participants: give the full uid")
    return rows[0]


# --- erasure -------------------------------------------------------------------------------------


def encrypted_columns() -> Iterator[tuple[type[models.Model], list[EncryptedTextField]]]:
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            yield model, fields


def _rows_about(model: type[models.Model], participant: Any) -> models.QuerySet[Any] | None:
    """Rows of `model` that belong to him: himself, or rows with a foreign key to him."""
    if model._meta.label_lower == PARTICIPANT:
        return model._default_manager.filter(pk=participant.pk)
    participant_model = apps.get_model(PARTICIPANT)
    keys = [
        f.name
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model is participant_model
    ]
    if not keys:
        return None
    query = models.Q()
    for key in keys:
        query |= models.Q(**{key: participant.pk})
    return model._default_manager.filter(query)


def _blank_identifying(participant: Any) -> dict[str, int]:
    """Every encrypted column (and its lookup hash) of rows about him: his, his partner's..."""
    done: dict[str, int] = {}
    for model, fields in encrypted_columns():
        rows = _rows_about(model, participant)
        if rows is None:
            continue
        values: dict[str, Any] = {f.name: (None if f.null else "") for f in fields}
        for field in model._meta.concrete_fields:
            if field.name.endswith("_hash") and not field.is_relation:
                values[field.name] = None if field.null else ""
        done[model._meta.label_lower] = rows.update(**values)
    return done


def _blank_raw_events(participant: Any, message_ids: list[int], secrets: list[str]) -> int:
    """Raw webhook bodies that carried his messages or name his number/user id: emptied."""
    event = _model(WEBHOOK_EVENT)
    if event is None:
        return 0
    linked = set(
        apps.get_model(MESSAGE)
        ._default_manager.filter(pk__in=message_ids)
        .exclude(webhook_event=None)
        .values_list("webhook_event_id", flat=True)
    )
    needles = [s.encode() for s in secrets if s]
    bodies = event._default_manager.exclude(body=b"").values_list("pk", "body")
    for pk, body in bodies.iterator(chunk_size=2000):
        if pk not in linked and any(n in bytes(body) for n in needles):
            linked.add(pk)
    return event._default_manager.filter(pk__in=linked).update(body=b"", note="emptied on erasure")


def _blank_group_posts(message_ids: list[int], participant: Any) -> int:
    post = _model("groups.grouppost")
    if post is None:
        return 0
    mine = models.Q(message_id__in=message_ids) | models.Q(author__participant=participant)
    return post._default_manager.filter(mine).update(text="")


def _model(label: str) -> type[models.Model] | None:
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def erase(participant: Any, actor: str) -> dict[str, int]:
    """Erase a man on request: identifying data and message bodies go; trial data stays.

    Removed: phone, profile name, WhatsApp user id, phone hash, every encrypted column of rows
    about him (his partner's phone among them), the text and payload of his messages (in and out),
    his group posts' text, raw webhook bodies that carried them. Kept, de-identified: his uid,
    status history, assignment, survey answers, message metadata (times, statuses, purposes).
    """
    message_model = apps.get_model(MESSAGE)
    secrets = [
        crypto.normalise_phone(participant.phone or ""),
        participant.wa_user_id or "",
        participant.profile_name or "",
    ]
    with transaction.atomic():
        if connection.vendor == "sqlite":  # overwrite freed bytes instead of leaving them
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA secure_delete=ON")
        his = message_model._default_manager.filter(participant=participant)
        ids = list(his.values_list("pk", flat=True))
        counts = _blank_identifying(participant)
        counts["messages"] = message_model._default_manager.filter(pk__in=ids).update(
            text="", payload={}, context_wamid=""
        )
        counts["queued_cancelled"] = message_model._default_manager.filter(
            pk__in=ids, status="queued"
        ).update(status="cancelled", status_reason="erased")
        counts["group_posts"] = _blank_group_posts(ids, participant)
        counts["webhook_events"] = _blank_raw_events(participant, ids, secrets)
        apps.get_model(PARTICIPANT)._default_manager.filter(pk=participant.pk).update(
            wa_user_id=None, status="erased", opted_out_at=participant.opted_out_at or clock.now()
        )
        audit.record(actor, "privacy.erased", participant, counts=counts)
    _flush_sqlite()
    participant.refresh_from_db()
    return counts


def _flush_sqlite() -> None:
    """Move the WAL into the database file and truncate it, so old page images are gone."""
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# --- subject access ------------------------------------------------------------------------------


def export_person(participant: Any, actor: str) -> dict[str, Any]:
    """Everything patas holds about him, for him (never his partner's data: it is hers)."""
    message_model = apps.get_model(MESSAGE)
    messages = [
        {
            "at": m.created_at.isoformat(),
            "direction": m.direction,
            "type": m.type,
            "text": m.text,
            "status": m.status,
        }
        for m in message_model._default_manager.filter(participant=participant).order_by("id")
    ]
    data: dict[str, Any] = {
        "reference": participant.ref,
        "phone": participant.phone,
        "name": participant.profile_name,
        "language": participant.language,
        "status": participant.status,
        "created_at": participant.created_at.isoformat(),
        "opted_out_at": participant.opted_out_at.isoformat() if participant.opted_out_at else None,
        "messages": messages,
        "groups": _related_rows(
            "groups.membership", participant, ["pseudonym", "joined_at", "left_at"]
        ),
        "surveys": _related_rows(
            "surveys.surveysession", participant, ["mode", "status", "started_at", "state"]
        ),
    }
    audit.record(actor, "privacy.subject_access_export", participant, messages=len(messages))
    return data


def _related_rows(label: str, participant: Any, fields: list[str]) -> list[dict[str, Any]]:
    model = _model(label)
    if model is None:
        return []
    rows = model._default_manager.filter(participant=participant).values(*fields)
    return [
        {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in row.items()}
        for row in rows
    ]


# --- retention -----------------------------------------------------------------------------------


def purge_message_bodies(now: datetime, days: int | None = None) -> int:
    """Empty text and payload of messages older than the retention age (one UPDATE)."""
    days = settings.RETENTION_DAYS if days is None else days
    if days < 1:
        raise PrivacyError(f"PATAS_RETENTION_DAYS={days}: expected at least 1 day")
    cutoff = now - timedelta(days=days)
    message_model = apps.get_model(MESSAGE)
    old = (
        message_model._default_manager.filter(created_at__lt=cutoff)
        .exclude(status__in=["queued", "sending"])
        .filter(~models.Q(text="") | ~models.Q(payload={}))
    )
    purged = old.update(text="", payload={})
    event = _model(WEBHOOK_EVENT)
    if event is not None:
        purged += (
            event._default_manager.filter(received_at__lt=cutoff)
            .exclude(body=b"")
            .update(body=b"", note="emptied by retention")
        )
    if purged:
        audit.record(
            audit.SYSTEM,
            "privacy.retention_purged",
            object_type="messaging.message",
            rows=purged,
            older_than_days=days,
        )
    return purged


# --- key rotation --------------------------------------------------------------------------------


def rotate_keys(batch: int = 1000) -> dict[str, int]:
    """Re-encrypt every encrypted column under the first key of PATAS_FIELD_KEY.

    Values are read (any listed key decrypts) and written back (the first key encrypts), a batch
    per UPDATE statement.
    """
    counts: dict[str, int] = {}
    for model, fields in encrypted_columns():
        manager = model._default_manager
        for field in fields:
            rows = manager.exclude(**{f"{field.name}__isnull": True}).exclude(**{field.name: ""})
            pending: list[models.Model] = []
            done = 0
            for pk, value in rows.values_list("pk", field.name).iterator(chunk_size=batch):
                pending.append(model(pk=pk, **{field.name: value}))
                if len(pending) >= batch:
                    done += _write_back(model, field.name, pending)
            done += _write_back(model, field.name, pending)
            counts[f"{model._meta.label_lower}.{field.name}"] = done
    audit.record(audit.SYSTEM, "privacy.keys_rotated", object_type="crypto", columns=counts)
    return counts


def _write_back(model: type[models.Model], field: str, rows: list[models.Model]) -> int:
    if not rows:
        return 0
    with transaction.atomic():
        model._default_manager.bulk_update(rows, [field])
    written = len(rows)
    rows.clear()
    return written
