"""Small makers for the outbox tests: men with an open window, queued messages, the fake."""

from __future__ import annotations

from datetime import timedelta

import httpx

from patas.core import clock
from patas.core.crypto import lookup_hash
from patas.messaging.dispatch import InstantPace
from patas.messaging.models import Message
from patas.messaging.outbox import Outgoing, enqueue_many, text_payload
from patas.messaging.sender import Sender
from patas.participants.models import Participant
from patas.whatsapp.fake import FakeCloudAPI, FakeConfig


def make_man(
    phone: str, *, window_open: bool = True, opted_out: bool = False, number: str = ""
) -> Participant:
    """A man with an open window (unless told), on `number` (default: the default number)."""
    now = clock.now()
    extra = {"phone_number_id": number} if number else {}
    return Participant.objects.create(
        phone=phone,
        phone_hash=lookup_hash(phone),
        status=Participant.Status.ENROLLED,
        last_inbound_at=now - timedelta(hours=1) if window_open else now - timedelta(days=2),
        opted_out_at=now if opted_out else None,
        **extra,
    )


def queue_texts(
    man: Participant,
    *bodies: str,
    purpose: str = Message.Purpose.PROGRAM,
    due_in: timedelta = timedelta(0),
) -> list[Message]:
    due = clock.now() + due_in
    enqueue_many(Outgoing(man.pk, text_payload(b), purpose, due, b) for b in bodies)
    return list(Message.objects.filter(participant=man, text__in=bodies).order_by("id"))


def fake_and_sender(
    config: FakeConfig | None = None,
    *,
    holder: str = "worker-a",
    mps: float = 80.0,
    gap: float = 0.5,
) -> tuple[FakeCloudAPI, Sender]:
    pace = InstantPace()
    app = FakeCloudAPI(config, time_source=pace.monotonic)
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    sender = Sender(holder, transport=transport, mps=mps, pace=pace, gap=gap)
    return app, sender


def bodies_to(app: FakeCloudAPI, phone: str) -> list[str]:
    return [r["body"]["text"]["body"] for r in app.received if r["to"] == phone]


def statuses(*messages: Message) -> list[str]:
    return [Message.objects.get(pk=m.pk).status for m in messages]
