"""State changes of participants. Each function writes the audit log.

Inbound senders are keyed by the WhatsApp business-scoped user id when present, else by a keyed
hash of the phone (`lookup_hash`); phone and profile name are stored encrypted. A new man is
put on the number he wrote to (the default when it is not configured) and stays on it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property

from django.db import connection, transaction

from patas.core import audit, clock
from patas.core.crypto import lookup_hash, normalise_phone
from patas.core.sqltime import datetime_adapter
from patas.messaging.models import Message
from patas.messaging.outbox import Outgoing, cancel_pending, enqueue, text_payload
from patas.participants import hooks
from patas.participants.models import Participant
from patas.whatsapp import numbers


@dataclass(frozen=True)
class Sender:
    """Who wrote an inbound message, as the channel identified him."""

    user_id: str = ""  # business-scoped user id (BSUID)
    phone: str = ""  # wa_id
    profile_name: str = ""
    at: datetime | None = None  # when he wrote: opens the 24-hour window
    phone_number_id: str = ""  # our number he wrote to: a new man stays on it

    def __post_init__(self) -> None:
        if not self.user_id and not normalise_phone(self.phone):
            raise ValueError("an inbound sender needs a user id or a phone")

    # Cached: a batch asks each sender's key and hash several times, and the hash is an HMAC.
    @cached_property
    def key(self) -> str:
        return f"user:{self.user_id}" if self.user_id else f"phone:{normalise_phone(self.phone)}"

    @cached_property
    def phone_hash(self) -> str | None:
        return lookup_hash(self.phone) if normalise_phone(self.phone) else None


def _participant_actor(participant: Participant) -> str:
    return f"participant:{participant.ref}"


def find_or_create_from_inbound(
    *, user_id: str = "", phone: str = "", profile_name: str = "", at: datetime | None = None
) -> Participant:
    """The participant who wrote, created when new; his 24-hour window opens at `at`."""
    sender = Sender(user_id=user_id, phone=phone, profile_name=profile_name, at=at)
    ids = find_or_create_many([sender])
    return Participant.objects.get(pk=ids[sender.key])


def find_or_create_many(senders: Sequence[Sender]) -> dict[str, int]:
    """Set-based: participant ids by `Sender.key`, creating the new ones in one INSERT.

    Also moves `last_inbound_at` forward (never back) to each sender's latest `at`, capped at
    now (a clock ahead of ours must not hold the window open longer).
    """
    if not senders:
        return {}
    now = clock.now()
    latest: dict[str, Sender] = {}
    earliest: dict[str, Sender] = {}  # a new man goes on the number he wrote to first
    for sender in senders:
        known = latest.get(sender.key)
        if known is None or _at(sender, now) > _at(known, now):
            latest[sender.key] = sender
        first = earliest.get(sender.key)
        if first is None or _at(sender, now) < _at(first, now):
            earliest[sender.key] = sender
    # No savepoint when the caller has a transaction (the webhook's batch): a failure here
    # fails the whole batch anyway, and a savepoint is two more round trips per batch.
    with transaction.atomic(savepoint=False):
        found = _match(list(latest.values()))
        _touch_window({found[k]: _at(s, now) for k, s in latest.items() if k in found})
        missing = [
            replace(s, phone_number_id=earliest[k].phone_number_id)
            for k, s in latest.items()
            if k not in found
        ]
        if missing:
            found.update(_create(missing, now))  # created with their window already open
    return found


def _at(sender: Sender, now: datetime) -> datetime:
    return min(sender.at or now, now)


def _match(senders: list[Sender]) -> dict[str, int]:
    user_ids = sorted({s.user_id for s in senders if s.user_id})
    hashes = sorted({h for s in senders if (h := s.phone_hash)})
    rows = _by_user_id_or_phone_hash(user_ids, hashes)
    by_user = {u: pk for pk, u, _ in rows if u}
    by_hash = {h: pk for pk, _, h in rows if h}
    found: dict[str, int] = {}
    for sender in senders:
        pk = by_user.get(sender.user_id) if sender.user_id else None
        if pk is None and sender.phone_hash:
            pk = by_hash.get(sender.phone_hash)
            if pk is not None and sender.user_id:
                _attach_user_id(pk, sender.user_id)
        if pk is not None:
            found[sender.key] = pk
    return found


def _attach_user_id(pk: int, user_id: str) -> None:
    """A man first known by phone now also has a user id: key him on it from now on."""
    changed = Participant.objects.filter(pk=pk, wa_user_id__isnull=True).update(wa_user_id=user_id)
    if changed:
        audit.record(
            audit.SYSTEM,
            "participant.user_id_attached",
            object_type="participants.participant",
            object_id=str(pk),
        )


def _create(senders: list[Sender], now: datetime) -> dict[str, int]:
    rows = [
        Participant(
            uid=uuid.uuid4(),
            wa_user_id=s.user_id or None,
            phone_hash=s.phone_hash,
            phone=normalise_phone(s.phone) or None,
            profile_name=s.profile_name or None,
            created_at=now,
            last_inbound_at=_at(s, now),
            phone_number_id=numbers.assign(s.phone_number_id),
        )
        for s in senders
    ]
    # ignore_conflicts: a concurrent request may create the same man first (PostgreSQL);
    # we then read back whichever row won.
    Participant.objects.bulk_create(rows, ignore_conflicts=True)
    mine = {row.uid for row in rows}
    found = _match(senders)
    created = Participant.objects.filter(pk__in=found.values(), uid__in=mine)
    created_ids = [str(pk) for pk in created.values_list("id", flat=True)]
    if created_ids:
        audit.record_many(
            audit.SYSTEM,
            "participant.created_from_inbound",
            "participants.participant",
            created_ids,
        )
    return found


def _by_user_id_or_phone_hash(user_ids: list[str], hashes: list[str]) -> list[tuple]:
    """(id, wa_user_id, phone_hash) of the participants with one of these keys: plain SQL,
    because compiling the ORM query cost more CPU than running it (once per webhook batch)."""
    if not user_ids and not hashes:
        return []
    table = connection.ops.quote_name(Participant._meta.db_table)
    where = " OR ".join(
        f"{column} IN ({', '.join(['%s'] * len(values))})"
        for column, values in (("wa_user_id", user_ids), ("phone_hash", hashes))
        if values
    )
    # Table and column names are fixed here; the keys are parameters.
    sql = f"SELECT id, wa_user_id, phone_hash FROM {table} WHERE {where}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*user_ids, *hashes])
        return list(cursor.fetchall())


def _touch_window(latest_by_id: dict[int, datetime]) -> None:
    """Move each man's last_inbound_at forward to his time (never back)."""
    if not latest_by_id:
        return
    if connection.vendor == "postgresql":
        _touch_window_postgres(latest_by_id)
        return
    # SQLite: one plain statement run for each man (`executemany`, a loop in C). An ORM
    # UPDATE per distinct time was one compile per man, since men write at their own times.
    adapt = datetime_adapter(connection)
    table = connection.ops.quote_name(Participant._meta.db_table)
    sql = (
        f"UPDATE {table} SET last_inbound_at = %s "  # noqa: S608  (table name fixed here)
        "WHERE id = %s AND (last_inbound_at IS NULL OR last_inbound_at < %s)"
    )
    params = [(adapt(at), pk, adapt(at)) for pk, at in sorted(latest_by_id.items())]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _touch_window_postgres(latest_by_id: dict[int, datetime]) -> None:
    """One UPDATE for every man and his own time (a batch of webhooks has many times).
    Rows are locked in id order, so two web processes never wait on each other in a cycle."""
    ids = sorted(latest_by_id)
    table = connection.ops.quote_name(Participant._meta.db_table)
    # Table name fixed here; ids and times are parameters.
    sql = (
        f"UPDATE {table} AS p SET last_inbound_at = v.at "  # noqa: S608
        f"FROM (SELECT id FROM {table} WHERE id = ANY(%s) ORDER BY id FOR UPDATE) AS locked, "
        "unnest(%s::bigint[], %s::timestamptz[]) AS v(id, at) "
        "WHERE p.id = v.id AND locked.id = v.id "
        "AND (p.last_inbound_at IS NULL OR p.last_inbound_at < v.at)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids, ids, [latest_by_id[pk] for pk in ids]])


def _confirmation(participant: Participant, key: str) -> Outgoing:
    from patas.programs.texts import system_text

    body = system_text(participant, key)
    return Outgoing(participant.pk, text_payload(body), Message.Purpose.OPT_OUT, text=body)


def opt_out(participant: Participant, via_text: str) -> bool:
    """Stop every message to him at once and confirm once. False if he was already out."""
    now = clock.now()
    with transaction.atomic():
        changed = Participant.objects.filter(pk=participant.pk, opted_out_at__isnull=True).update(
            opted_out_at=now
        )
        if not changed:
            return False
        participant.opted_out_at = now
        cancelled = cancel_pending(participant.pk, "opt-out")
        hooks.opted_out(participant)
        enqueue(_confirmation(participant, "opt_out_confirmation"))
        audit.record(
            _participant_actor(participant),
            "participant.opted_out",
            participant,
            via_text=via_text[:100],
            cancelled=cancelled,
        )
    return True


def opt_in(participant: Participant) -> bool:
    """He asked to receive messages again: clear the opt-out and confirm. False if not out."""
    with transaction.atomic():
        changed = Participant.objects.filter(pk=participant.pk, opted_out_at__isnull=False).update(
            opted_out_at=None
        )
        if not changed:
            return False
        participant.opted_out_at = None
        enqueue(_confirmation(participant, "opt_in_confirmation"))
        audit.record(_participant_actor(participant), "participant.opted_in", participant)
    return True
