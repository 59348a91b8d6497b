"""The fake Cloud API's outgoing side: signed webhook posts (inbound messages and statuses).

Status callbacks are collected as sends are accepted and posted in batches (up to
`STATUS_BATCH` statuses per post, one post per status kind, in the order sent, delivered,
read). A server (`patas fake-whatsapp`) flushes them by itself every `FLUSH_EVERY` seconds;
in-process users call `await flush_statuses(app)` when they want them delivered.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import TYPE_CHECKING, Any

import httpx

from patas.whatsapp.signature import HEADER, sign

if TYPE_CHECKING:
    from patas.whatsapp.fake import FakeCloudAPI

STATUS_BATCH = 100
FLUSH_EVERY = 0.1


def document(
    *values: dict[str, Any],
    waba_id: str,
    phone_number_id: str,
    display_phone_number: str = "",
) -> dict[str, Any]:
    """A webhook body as Meta sends it: one entry, one `messages` change per value (each value
    holds `messages` + `contacts`, or `statuses`)."""
    metadata = {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id}
    changes = [
        {"field": "messages", "value": {"messaging_product": "whatsapp", "metadata": metadata, **v}}
        for v in values
    ]
    return {"object": "whatsapp_business_account", "entry": [{"id": waba_id, "changes": changes}]}


def envelope(app: FakeCloudAPI, phone_number_id: str, value: dict[str, Any]) -> dict[str, Any]:
    cfg = app.config
    return document(
        value,
        waba_id=cfg.waba_id,
        phone_number_id=phone_number_id,
        display_phone_number=cfg.display_phone_number,
    )


def status_item(pending: dict[str, Any], status: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": pending["wamid"],
        "status": status,
        "timestamp": str(int(pending["at"])),
        "recipient_id": pending["to"],
    }
    if status != "read":
        item["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "utility"}
    return item


def inbound_value(request: dict[str, Any], at: float) -> dict[str, Any]:
    """The `value` of an inbound message from a control request:
    {"from": "519...", "text": "hola"} | {"from": ..., "button_reply": {"id", "title"}}
    | {"from": ..., "message": {...a raw message object...}}; optional "name", "user_id"."""
    sender = str(request["from"])
    message: dict[str, Any] = {
        "from": sender,
        "id": f"wamid.IN{uuid.uuid4().hex}",
        "timestamp": str(int(at)),
    }
    if "message" in request:
        message.update(request["message"])
    elif "button_reply" in request:
        message.update(
            type="interactive",
            interactive={"type": "button_reply", "button_reply": request["button_reply"]},
        )
    else:
        message.update(type="text", text={"body": str(request.get("text", ""))})
    contact: dict[str, Any] = {
        "profile": {"name": request.get("name", "Fake User")},
        "wa_id": sender,
    }
    if request.get("user_id"):
        contact["user_id"] = message["from_user_id"] = request["user_id"]
    return {"contacts": [contact], "messages": [message]}


async def post(app: FakeCloudAPI, document: dict[str, Any]) -> int:
    """POST one signed webhook body; returns the webhook's HTTP status (0 if unreachable)."""
    url = app.config.webhook_url
    if not url:
        return 0
    raw = json.dumps(document).encode()
    headers = {HEADER: sign(raw, app.config.app_secret), "Content-Type": "application/json"}
    transport = getattr(app, "webhook_transport", None)
    try:
        async with httpx.AsyncClient(transport=transport, timeout=10.0) as client:
            response = await client.post(url, content=raw, headers=headers)
    except httpx.TransportError:
        return 0
    app.webhook_posts += 1
    return response.status_code


async def post_inbound(app: FakeCloudAPI, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    if not app.config.webhook_url:
        return 400, {"error": {"message": "no webhook URL configured", "code": 100}}
    if "from" not in request:
        return 400, {"error": {"message": "'from' is required", "code": 100}}
    phone_number_id = str(request.get("phone_number_id", "100000000000001"))
    document = envelope(app, phone_number_id, inbound_value(request, app.now()))
    status = await post(app, document)
    return 200, {
        "webhook_status": status,
        "id": document["entry"][0]["changes"][0]["value"]["messages"][0]["id"],
    }


async def flush_statuses(app: FakeCloudAPI) -> int:
    """Post every pending status callback; returns how many posts were made."""
    pending, app._statuses = app._statuses, []
    posts = 0
    for start in range(0, len(pending), STATUS_BATCH):
        chunk = pending[start : start + STATUS_BATCH]
        for status in app.config.statuses:
            by_number: dict[str, list[dict[str, Any]]] = {}
            for item in chunk:
                by_number.setdefault(item["phone_number_id"], []).append(status_item(item, status))
            for number, items in by_number.items():
                await post(app, envelope(app, number, {"statuses": items}))
                posts += 1
    return posts


def schedule_statuses(app: FakeCloudAPI) -> None:
    """In a server, make sure a flusher will post the pending statuses soon."""
    if not getattr(app, "auto_flush", False):
        return
    task = getattr(app, "_flusher", None)
    if task is None or task.done():
        app._flusher = asyncio.get_running_loop().create_task(_flush_soon(app))  # type: ignore[attr-defined]


async def _flush_soon(app: FakeCloudAPI) -> None:
    started = time.monotonic()
    await asyncio.sleep(FLUSH_EVERY)
    while app._statuses:
        await flush_statuses(app)
        if time.monotonic() - started > 60:
            break
