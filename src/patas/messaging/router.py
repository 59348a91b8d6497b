"""The inbound router: one chain of handlers, registered by the apps that own each step.

Order (DESIGN.md section 4), first match wins:
    opt-out (10) -> safety triage (20, may hold and continue) -> open survey (30) -> intake (40)
    -> group member (50) -> program engine (60) -> fallback help (90)

A handler takes an `Inbound` and returns DONE (stop here) or CONTINUE. Apps register in their
AppConfig.ready() so `messaging` never imports their internals.

A step may also register `interested`: given a batch's inbound messages, the ids of those it
might act on, found with one query for the whole batch (men with an open survey, group members,
enrolled men...). `route_pending` skips the step for the other messages, so a man who is in no
group costs no group query. Only a man's first message in the batch is skipped this way: his
later ones may follow from what the first one changed, so they run every step. What other men's
messages in the batch change is seen by his first message as if it had been routed before them
(the facts are read when the batch starts; several workers routing at once reorder the same way).

A step may also register `batch`: its handler for many men's first messages at once, in one
transaction (e.g. survey answers: one query for the sessions, one UPDATE, one INSERT of prompts).
A message goes to it only when every earlier step is skipped for it or says, with its pure
`quiet` check, that it would pass the message on and change nothing (no opt-out word, no
triage hit). The messages the batch takes are marked routed in the same transaction; the rest,
and everything if the batch fails, go through the chain one by one as before.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from patas.core import clock
from patas.core.prepared import Prepared, PreparedUpdate, save_fields
from patas.messaging.models import Message
from patas.participants.models import Participant

log = logging.getLogger(__name__)


class Result(enum.Enum):
    DONE = "done"
    CONTINUE = "continue"


@dataclass
class Inbound:
    """An inbound message on its way through the router."""

    message: Message
    participant: Participant
    # What the man chose or typed: button/list reply id, else the text (stripped).
    reply_id: str = ""
    text: str = ""
    notes: dict[str, Any] = field(default_factory=dict)  # handlers leave facts for later ones


Handler = Callable[[Inbound], Result]
# The ids of the batch's messages a step may act on (one query for the batch); see the docstring.
Interested = Callable[[Sequence[Inbound]], Collection[int]]
# The step for many men's first messages at once; returns the ids of the messages it took.
Batch = Callable[[Sequence[Inbound]], Collection[int]]
# Pure: True when the step would return CONTINUE for this message and change nothing.
Quiet = Callable[[Inbound], bool]


@dataclass(frozen=True, order=True)
class Step:
    order: int
    name: str
    handler: Handler = field(compare=False)
    interested: Interested | None = field(default=None, compare=False)
    batch: Batch | None = field(default=None, compare=False)
    quiet: Quiet | None = field(default=None, compare=False)


_steps: dict[str, Step] = {}


def register(
    name: str,
    order: int,
    handler: Handler,
    interested: Interested | None = None,
    *,
    batch: Batch | None = None,
    quiet: Quiet | None = None,
) -> None:
    _steps[name] = Step(order, name, handler, interested, batch, quiet)


def men_of(inbounds: Sequence[Inbound]) -> list[int]:
    return list({inbound.participant.pk for inbound in inbounds})


def messages_of(inbounds: Sequence[Inbound], men: Collection[int]) -> set[int]:
    """The ids of the messages written by `men` (for `interested` functions)."""
    return {inbound.message.pk for inbound in inbounds if inbound.participant.pk in men}


def steps() -> list[Step]:
    return sorted(_steps.values())


def inbound_for(message: Message) -> Inbound:
    payload = message.payload or {}
    reply_id = ""
    if message.type == "interactive":
        inner = payload.get("button_reply") or payload.get("list_reply") or {}
        reply_id = str(inner.get("id", ""))
    elif message.type == "button":
        reply_id = str(payload.get("payload", ""))
    assert message.participant is not None
    return Inbound(
        message=message,
        participant=message.participant,
        reply_id=reply_id,
        text=(message.text or "").strip(),
    )


def _unrouted(ids: list[int]) -> QuerySet[Message, Any]:
    """Those of `ids` not routed yet, locked (skipping rows another worker holds)."""
    unrouted = Message.objects.filter(pk__in=ids, routed_at__isnull=True)
    if connection.features.has_select_for_update_skip_locked:
        unrouted = unrouted.select_for_update(skip_locked=True, of=("self",))
    return unrouted.values_list("pk")


# Taken for every message or batch routed: compiled once per list size (core.prepared).
_UNROUTED = Prepared(_unrouted)
_MARK_ROUTED = PreparedUpdate(
    lambda ids, at, route: (Message.objects.filter(pk__in=ids), {"routed_at": at, "route": route})
)


def route(message: Message, skip: Collection[str] = ()) -> str:
    """Run one inbound message through the chain, in one transaction; returns the step name.
    Steps named in `skip` are known not to act on it (see `interested`)."""
    with transaction.atomic():
        # Take the row (and re-check it) inside the transaction, so two workers, or a worker and
        # the rehearsal page, never route the same message twice.
        if not _UNROUTED(ids=[message.pk]):
            return "already routed"
        inbound = inbound_for(message)
        taken = "none"
        for step in steps():
            if step.name in skip:
                continue
            if step.handler(inbound) is Result.DONE:
                taken = step.name
                break
        message.routed_at, message.route = clock.now(), taken
        save_fields(message, ("routed_at", "route", "held"))
    return taken


# Every tick, and in quiet hours nothing is waiting: the ids first, compiled once (a look at
# the partial index), then the rows with their men only when there are some.
_PENDING = Prepared(
    lambda participant_id, limit: (
        Message.objects.filter(
            direction=Message.Direction.IN, routed_at__isnull=True, participant__isnull=False
        )
        .filter(**({} if participant_id is None else {"participant_id": participant_id}))
        .order_by("id")
        .values_list("pk")[:limit]
    ),
    shape=("limit",),
)


def route_pending(limit: int = 500, participant_id: int | None = None) -> int:
    """Route inbound messages not routed yet, oldest first (the worker's job)."""
    ids = [pk for (pk,) in _PENDING(participant_id=participant_id, limit=limit)]
    if not ids:
        return 0
    # His phone and name stay encrypted unless a step reads them (a helpline's country does):
    # two decryptions per message for nothing otherwise.
    with_man = (
        Message.objects.filter(pk__in=ids, routed_at__isnull=True)
        .select_related("participant")
        .defer("participant__phone", "participant__profile_name")
    )
    pending = list(with_man.order_by("id"))
    skips = skipped_steps(pending)
    done = route_batches(pending, skips)
    for message in pending:
        if message.pk in done:
            continue
        try:
            route(message, skips.get(message.pk, ()))
        except Exception as exc:  # one broken message must not stop routing for everyone
            log.exception("routing message %s failed", message.pk)
            Message.objects.filter(pk=message.pk).update(
                routed_at=clock.now(),
                route="error",
                flags=[*message.flags, "route_error"],
                status_reason=f"routing failed: {type(exc).__name__}: {exc}"[:200],
            )
    return len(pending)


def skipped_steps(batch: Sequence[Message]) -> dict[int, set[str]]:
    """{message id: steps not interested in it}, for each man's first message in the batch.
    A step whose `interested` fails is run for every message (slower, never wrong)."""
    first: dict[int, Message] = {}
    for message in batch:
        if message.participant_id is not None:
            first.setdefault(message.participant_id, message)
    inbounds = [inbound_for(message) for message in first.values()]
    skips: dict[int, set[str]] = {}
    for step in steps():
        if step.interested is None or not inbounds:
            continue
        try:
            wanted = step.interested(inbounds)
        except Exception:
            log.exception(
                "step %s could not say which messages it wants; running it for all", step.name
            )
            continue
        for inbound in inbounds:
            if inbound.message.pk not in wanted:
                skips.setdefault(inbound.message.pk, set()).add(step.name)
    return skips


def route_batches(batch: Sequence[Message], skips: dict[int, set[str]]) -> set[int]:
    """Give each step with a `batch` handler the men's first messages it may take at once (see
    the module docstring); returns the ids of the messages routed this way."""
    firsts: dict[int, Message] = {}
    for message in batch:
        if message.participant_id is not None:
            firsts.setdefault(message.participant_id, message)
    left = [inbound_for(message) for message in firsts.values()]
    done: set[int] = set()
    chain = steps()
    for position, step in enumerate(chain):
        if step.batch is None:
            continue
        earlier = chain[:position]
        eligible = [
            inbound
            for inbound in left
            if step.name not in skips.get(inbound.message.pk, ())
            and all(_passes(before, inbound, skips) for before in earlier)
        ]
        if eligible:
            done |= _route_batch(step.name, step.batch, eligible)
        left = [inbound for inbound in left if inbound.message.pk not in done]
    return done


def _passes(step: Step, inbound: Inbound, skips: dict[int, set[str]]) -> bool:
    """Would `step` surely pass this message on, changing nothing?"""
    if step.name in skips.get(inbound.message.pk, ()):
        return True
    return step.quiet is not None and step.quiet(inbound)


def _route_batch(name: str, handler: Batch, inbounds: list[Inbound]) -> set[int]:
    """Run one step's batch handler in one transaction and mark what it took as routed."""
    try:
        with transaction.atomic():
            ids = [inbound.message.pk for inbound in inbounds]
            free = {pk for (pk,) in _UNROUTED(ids=ids)}  # another worker may hold some
            taken = set(handler([i for i in inbounds if i.message.pk in free])) & free
            _MARK_ROUTED(ids=taken, at=clock.now(), route=name)
    except Exception:  # the batch is undone; its messages go through the chain one by one
        log.exception("step %s could not route its batch; routing one by one", name)
        return set()
    return taken
