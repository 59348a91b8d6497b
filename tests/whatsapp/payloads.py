"""Recorded webhook payloads (tests/fixtures/whatsapp) and helpers to sign and post them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from django.conf import settings

from patas.whatsapp.signature import sign

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "whatsapp"
URL = "/webhooks/whatsapp"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def first_message(body: dict[str, Any]) -> dict[str, Any]:
    return body["entry"][0]["changes"][0]["value"]["messages"][0]


def first_status(body: dict[str, Any]) -> dict[str, Any]:
    return body["entry"][0]["changes"][0]["value"]["statuses"][0]


def text_payload(
    wamid: str, body: str, *, phone: str = "51987654321", user_id: str = "PE.1a2b3c4d5e6f7081"
) -> dict[str, Any]:
    """The recorded text message with another id and text."""
    payload = copy.deepcopy(load("message_text"))
    message = first_message(payload)
    message.update({"id": wamid, "text": {"body": body}, "from": phone, "from_user_id": user_id})
    contact = payload["entry"][0]["changes"][0]["value"]["contacts"][0]
    contact.update({"wa_id": phone, "user_id": user_id})
    return payload


def encode(body: dict[str, Any] | bytes) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def post(client: Any, body: dict[str, Any] | bytes, *, signature: str | None = "auto") -> Any:
    raw = encode(body)
    headers = {}
    if signature == "auto":
        headers["HTTP_X_HUB_SIGNATURE_256"] = sign(raw, settings.WHATSAPP_APP_SECRET)
    elif signature is not None:
        headers["HTTP_X_HUB_SIGNATURE_256"] = signature
    return client.post(URL, data=raw, content_type="application/json", **headers)
