"""Test helpers: deliver due outbox rows like the sender would, inject his messages, run time.

`deliver` marks due queued rows sent, respecting the window rule of the real sender: a
free-form row outside his 24-hour window becomes `needs_template`. `World` jumps the virtual
clock from one due moment to the next (outbox due times, engine wakes, scripted replies),
running the engine job and the router at each, so a 30-day run takes a few hundred steps.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Min

from patas.core import clock
from patas.core.clock import VirtualClock
from patas.messaging import router
from patas.messaging.models import Message
from patas.participants import actions as participant_actions
from patas.participants.models import Participant
from patas.programs import jobs
from patas.programs.models import Enrolment

_phones = itertools.count(51900000001)


def new_man(language: str = "es") -> Participant:
    man = participant_actions.find_or_create_from_inbound(phone=str(next(_phones)))
    if man.language != language:
        Participant.objects.filter(pk=man.pk).update(language=language)
        man.refresh_from_db()
    return man


def deliver(now: datetime) -> list[Message]:
    """Send every due queued row (window rule like the real sender); returns the sent rows."""
    due = list(
        Message.objects.filter(direction="out", status="queued", due_at__lte=now)
        .select_related("participant")
        .order_by("due_at", "id")
    )
    sent = []
    for row in due:
        man = row.participant
        if man is not None and man.opted_out_at is not None and row.purpose != "opt_out":
            row.status = "cancelled"
        elif row.requires_window and man is not None and not man.window_open(now):
            row.status = "needs_template"
        else:
            row.status, row.sent_at = "sent", now
            sent.append(row)
        row.save(update_fields=["status", "sent_at"])
    return sent


def inject(
    man: Participant,
    text: str = "",
    reply_id: str = "",
    now: datetime | None = None,
    referral: dict[str, Any] | None = None,
) -> str:
    """He writes (or taps): an inbound row, his window opens, and the router runs on it."""
    message = store(man, text, reply_id, now, referral)
    return router.route(message)


def store(
    man: Participant,
    text: str = "",
    reply_id: str = "",
    now: datetime | None = None,
    referral: dict[str, Any] | None = None,
) -> Message:
    """His message as the webhook stores it (his window opens), not routed yet."""
    if reply_id.startswith(("open_day:",)):
        kind, payload = "button", {"payload": reply_id, "text": text}
    elif reply_id:
        kind, payload = (
            "interactive",
            {"type": "button_reply", "button_reply": {"id": reply_id, "title": text}},
        )
    else:
        kind, payload = "text", {"body": text}
    if referral:
        payload["referral"] = referral
    moment = now or clock.now()
    message = Message.objects.create(
        direction="in",
        participant=man,
        type=kind,
        payload=payload,
        text=text,
        status="received",
        created_at=moment,
    )
    Participant.objects.filter(pk=man.pk).update(last_inbound_at=moment)
    message.participant.refresh_from_db()
    return message


Reaction = Callable[["World", Message], None]


@dataclass
class World:
    clock: VirtualClock
    reactions: dict[int, Reaction] = field(default_factory=dict)  # participant id -> persona
    pending: list[tuple[datetime, int, str, str]] = field(default_factory=list)

    def later(self, man_id: int, delay: timedelta, text: str = "", reply_id: str = "") -> None:
        self.pending.append((self.clock.now() + delay, man_id, text, reply_id))

    def tick(self) -> None:
        now = self.clock.now()
        due = sorted(p for p in self.pending if p[0] <= now)
        self.pending = [p for p in self.pending if p[0] > now]
        for _, man_id, text, reply_id in due:
            inject(Participant.objects.get(pk=man_id), text, reply_id, now)
        jobs.run_program_engine(now)
        for row in deliver(now):
            react = self.reactions.get(row.participant_id or 0)
            if react is not None:
                react(self, row)

    def next_moment(self) -> datetime | None:
        wake = Enrolment.objects.filter(status="enrolled").aggregate(m=Min("next_wake_at"))["m"]
        queued = Message.objects.filter(direction="out", status="queued").aggregate(
            m=Min("due_at")
        )["m"]
        moments = [m for m in (wake, queued, *(p[0] for p in self.pending)) if m is not None]
        return min(moments) if moments else None

    def run_until(self, target: datetime) -> None:
        self.tick()
        while True:
            now = self.clock.now()
            moment = self.next_moment()
            if moment is None or moment > target:
                if target > now:
                    self.clock.set(target)
                    self.tick()
                return
            self.clock.set(max(moment, now + timedelta(seconds=1)))
            self.tick()

    def run_days(self, days: float) -> None:
        self.run_until(self.clock.now() + timedelta(days=days))


# Personas -----------------------------------------------------------------------------------


def engaged(world: World, row: Message) -> None:
    """Taps every opener and reminder within minutes; answers every check-in."""
    payload = row.payload
    if row.type == "template":
        for component in payload["template"].get("components", []):
            if component["type"] == "button":
                tap = component["parameters"][0]["payload"]
                world.later(row.participant_id or 0, timedelta(minutes=5), "Abrir", tap)
    elif row.type == "interactive":
        buttons = payload["interactive"]["action"].get("buttons", [])
        first = buttons[0]["reply"]["id"] if buttons else ""
        if first.startswith("checkin:"):
            world.later(row.participant_id or 0, timedelta(minutes=30), "done", first)


def silent(world: World, row: Message) -> None:
    """Never answers anything."""


def messages_both_ways(man: Participant) -> tuple[list[tuple], list[tuple]]:
    """His outbox (what, how, when) and his inbound messages' routes, in order: what two runs of
    the same story must agree on."""
    out = list(
        Message.objects.filter(participant=man, direction="out")
        .order_by("id")
        .values_list("purpose", "type", "text", "payload", "status", "due_at")
    )
    routes = list(
        Message.objects.filter(participant=man, direction="in")
        .order_by("id")
        .values_list("text", "route")
    )
    return out, routes
