"""The checks a webhook POST passes before anything is stored, shared by the Django view and
the server's fast path: size, signature over the raw bytes, JSON, WhatsApp shape."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from patas.whatsapp import signature
from patas.whatsapp.parse import Parsed, PayloadError, parse

log = logging.getLogger("patas.whatsapp.views")


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str


def limit() -> int:
    return int(settings.WHATSAPP_WEBHOOK_MAX_BYTES)


def too_large(size: int) -> Refusal | None:
    """Checked on the declared Content-Length before reading, and on the bytes read."""
    if size <= limit():
        return None
    log.warning("webhook refused: body over %d bytes", limit())
    return Refusal(413, f"body larger than {limit()} bytes")


def accept(body: bytes, signature_header: str | None) -> Parsed | Refusal:
    """Parsed content of a genuine WhatsApp delivery, or why it is refused (nothing stored)."""
    refused = too_large(len(body))
    if refused:
        return refused
    if not signature.is_valid(body, signature_header, settings.WHATSAPP_APP_SECRET):
        log.warning("webhook refused: %s", "bad signature" if signature_header else "no signature")
        return Refusal(403, "invalid signature")
    try:
        data = _without_lone_surrogates(json.loads(body), body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: nesting deeper than the interpreter's stack (a 400, not a 500)
        log.warning("webhook refused: malformed JSON (%s)", str(exc)[:200])
        return Refusal(400, f"malformed JSON: {str(exc)[:200]}")
    try:
        return parse(data)
    except PayloadError as exc:
        log.warning("webhook refused: not a WhatsApp payload (%s)", exc)
        return Refusal(400, f"not a WhatsApp webhook payload: {exc}")


def _without_lone_surrogates(data: Any, body: bytes) -> Any:
    """JSON may escape half an emoji (`\\ud83d` alone); such a string cannot be stored as
    UTF-8, so the half becomes U+FFFD and the message is kept. Paired escapes are already one
    character after `json.loads`; only bodies with a surrogate escape pay for the check."""
    if b"\\ud" not in body.lower():
        return data
    text = json.dumps(data, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        repaired = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return json.loads(repaired)
    return data
