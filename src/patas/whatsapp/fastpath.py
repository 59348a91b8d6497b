"""The webhook POST on the server's hot path, in front of Django's request cycle.

`patas web` answers POST /webhooks/whatsapp here: the size is checked on Content-Length before a
byte is read (413), the body is read up to the limit, the same checks as the Django view run
(`accept`: signature 403, JSON 400, shape 400), and the delivery goes to the group-commit writer
(`IngestBatcher`); the answer waits for the commit. Everything else, including the GET
handshake, goes to Django. Why: Django's per-request cycle (middleware, a sync view in one
thread) serialises requests, so SQLite commits one delivery at a time; measured figures are in
docs/performance.md ("Webhook ingest"). The Django view stays the reference path (tests, WSGI).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.db import DatabaseError

from patas.whatsapp.accept import Refusal, accept, limit, too_large
from patas.whatsapp.batcher import IngestBatcher
from patas.whatsapp.parse import Parsed

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class WebhookFastPath:
    def __init__(self, app: ASGIApp, path: str, batcher: IngestBatcher | None = None) -> None:
        self.app = app
        self.path = path  # the webhook's URL, from the URLconf
        self.batcher = batcher or IngestBatcher()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = await self._handle(scope, receive, send)
        _observe(status, time.perf_counter() - started)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> int:
        checked = await _checked_delivery(scope, receive)
        if isinstance(checked, Refusal):
            return await _respond(send, checked.status, checked.reason.encode(), b"text/plain")
        body, parsed = checked
        try:
            result = await asyncio.wrap_future(self.batcher.submit(body, parsed))
        except DatabaseError:
            log.error("webhook not stored: database error; answering 503 so Meta retries")
            return await _respond(send, 503, b"database unavailable", b"text/plain")
        except Exception:
            log.exception("webhook not stored")
            return await _respond(send, 500, b"internal error", b"text/plain")
        answer = {
            "stored": result.messages,
            "statuses": result.statuses,
            "duplicates": result.duplicates,
        }
        return await _respond(send, 200, json.dumps(answer).encode(), b"application/json")


async def _checked_delivery(scope: Scope, receive: Receive) -> tuple[bytes, Parsed] | Refusal:
    """Size from Content-Length first (nothing read), then the body and `accept`'s checks."""
    headers = {k.lower(): v for k, v in scope.get("headers", [])}
    refused = too_large(_int(headers.get(b"content-length")))
    if refused:
        return refused
    body = await _read_body(receive, limit())
    if body is None:
        return too_large(limit() + 1) or Refusal(413, "body too large")
    signature = headers.get(b"x-hub-signature-256", b"").decode("latin-1") or None
    accepted = accept(body, signature)
    return accepted if isinstance(accepted, Refusal) else (body, accepted)


def _int(raw: bytes | None) -> int:
    try:
        return int(raw or 0)
    except ValueError:
        return 0


async def _read_body(receive: Receive, cap: int) -> bytes | None:
    """The request body, or None as soon as it grows past `cap` (the rest is never read)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes, content_type: bytes) -> int:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"x-content-type-options", b"nosniff"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
    return status


def _observe(status: int, seconds: float) -> None:
    try:
        from patas.core.metrics import WEBHOOK_LATENCY
    except ImportError:  # metrics are optional for the webhook
        return
    WEBHOOK_LATENCY.labels(str(status)).observe(seconds)
