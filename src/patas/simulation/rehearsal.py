"""Talking to the program as a man would, from the console (`/try/`), without a WhatsApp account.

Each console user gets a rehearsal man of his own (a fictional number, flagged synthetic). What
the user types goes in as a signed Cloud API webhook body through the real webhook view, is
routed at once, and the replies are the outbox rows the program wrote for him: the same path a
man's message takes, so what a designer sees is what a man will get.
"""

from __future__ import annotations

import json
import time
from typing import Any

from django.conf import settings
from django.test import RequestFactory

from patas.core import audit, clock
from patas.core.crypto import lookup_hash
from patas.messaging import personalise
from patas.messaging.models import Message
from patas.messaging.router import route_pending
from patas.participants.models import Participant
from patas.programs import actions as program_actions
from patas.programs import engine
from patas.programs import media as pack_media
from patas.programs.models import Enrolment
from patas.whatsapp.fake_webhook import document as webhook_document
from patas.whatsapp.signature import HEADER, sign
from patas.whatsapp.views import webhook

# 599 is not a country calling code: these numbers can never reach a real person.
PREFIX = "5990"


def phone_of(user: Any) -> str:
    return f"{PREFIX}{user.pk:08d}"


def rehearsal_man(user: Any) -> Participant | None:
    return Participant.objects.filter(phone_hash=lookup_hash(phone_of(user))).first()


def say(user: Any, *, text: str = "", reply_id: str = "", title: str = "") -> None:
    """Send what the user typed or tapped, as a webhook body, and route it now."""
    if reply_id.startswith(("open_day:", "remind:")) or (reply_id and not title):
        message: dict[str, Any] = {
            "type": "button",
            "button": {"payload": reply_id, "text": title or reply_id},
        }
    elif reply_id:
        message = {
            "type": "interactive",
            "interactive": {
                "type": "button_reply",
                "button_reply": {"id": reply_id, "title": title},
            },
        }
    else:
        message = {"type": "text", "text": {"body": text[:4096]}}
    phone = phone_of(user)
    value = {
        "contacts": [{"profile": {"name": user.get_username()}, "wa_id": phone}],
        "messages": [
            {
                "from": phone,
                "id": f"wamid.TRY{time.time_ns()}",
                "timestamp": str(int(clock.now().timestamp())),
                **message,
            }
        ],
    }
    document = webhook_document(
        value,
        waba_id=settings.WHATSAPP_BUSINESS_ACCOUNT_ID,
        phone_number_id=settings.WHATSAPP_PHONE_NUMBER_ID,
    )
    body = json.dumps(document).encode()
    request = RequestFactory().post(
        "/webhooks/whatsapp",
        data=body,
        content_type="application/json",
        headers={HEADER: sign(body, settings.WHATSAPP_APP_SECRET)},
    )
    response = webhook(request)
    if response.status_code != 200:
        raise RuntimeError(f"the webhook refused the rehearsal message ({response.status_code})")
    Participant.objects.filter(phone_hash=lookup_hash(phone), is_synthetic=False).update(
        is_synthetic=True
    )
    man = rehearsal_man(user)
    if man is not None:
        route_pending(participant_id=man.pk)


def next_day(user: Any) -> bool:
    """Start his next program day now (rehearsal only): the engine's own day start."""
    man = rehearsal_man(user)
    enrolment = Enrolment.objects.filter(participant=man).first() if man else None
    if enrolment is None or enrolment.status != Enrolment.Status.ENROLLED:
        return False
    Enrolment.objects.filter(pk=enrolment.pk).update(
        next_wake_at=clock.now(), wake=Enrolment.Wake.DAY_START
    )
    enrolment.refresh_from_db()
    audit.record(
        audit.actor_for(user), "rehearsal.next_day", enrolment, day=enrolment.current_day + 1
    )
    program_actions.run_event(enrolment, engine.Wake(), audit.actor_for(user))
    return True


def thread(user: Any, limit: int = 200) -> list[Message]:
    man = rehearsal_man(user)
    if man is None:
        return []
    rows = Message.objects.filter(participant=man).order_by("-created_at", "-id")[:limit]
    return list(reversed(rows))


def bubbles(user: Any) -> list[dict[str, Any]]:
    """The chat page's bubbles, his first name in the templates that greet him."""
    man = rehearsal_man(user)
    name = personalise.first_name(man.profile_name if man else None)
    return [bubble(m, name) for m in thread(user)]


def bubble(message: Message, name: str = personalise.NO_NAME) -> dict[str, Any]:
    """What the chat page shows for one message: text, media, buttons to tap."""
    payload = message.payload or {}
    buttons: list[tuple[str, str]] = []
    media = ""
    if message.type == "interactive" and message.direction == Message.Direction.OUT:
        inner = payload.get("interactive", {})
        action = inner.get("action", {})
        buttons = [(b["reply"]["id"], b["reply"]["title"]) for b in action.get("buttons", [])]
        buttons += [
            (r["id"], r["title"]) for s in action.get("sections", []) for r in s.get("rows", [])
        ]
    elif message.type == "template":
        for component in payload.get("template", {}).get("components", []):
            for parameter in component.get("parameters", []):
                if parameter.get("type") == "payload":
                    buttons.append((parameter["payload"], "▶"))
    elif message.type in {"image", "video", "audio", "document"}:
        media = pack_media.relative_of(str(payload.get(message.type, {}).get("link", "")))
    return {
        "out": message.direction == Message.Direction.OUT,
        "text": personalise.shown(message.text, name),
        "buttons": buttons,
        "media": media,
        "type": message.type,
        "status": message.status,
        "at": message.created_at,
    }
