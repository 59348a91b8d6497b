"""The WhatsApp webhook: GET verification handshake, POST deliveries.

A POST is checked in order of cost: size (413, before reading or hashing), signature over the
raw bytes (403, nothing stored), JSON (400), shape (400), then stored in one transaction (200).
While the database is unavailable the answer is 503, so Meta retries later.
"""

from __future__ import annotations

import hmac
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from patas.whatsapp import ingest, signature
from patas.whatsapp.accept import Refusal, accept, limit, too_large
from patas.whatsapp.parse import Parsed

log = logging.getLogger(__name__)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return verify(request)
    return receive(request)


def verify(request: HttpRequest) -> HttpResponse:
    """Meta's subscription handshake: echo hub.challenge when the verify token matches."""
    mode = request.GET.get("hub.mode", "")
    token = request.GET.get("hub.verify_token", "")
    challenge = request.GET.get("hub.challenge", "")
    expected = settings.WHATSAPP_VERIFY_TOKEN
    if mode != "subscribe" or not hmac.compare_digest(token.encode(), expected.encode()):
        log.warning("webhook verification refused (mode=%r)", mode)
        return HttpResponse("verification failed", status=403, content_type="text/plain")
    return HttpResponse(challenge, content_type="text/plain")


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def receive(request: HttpRequest) -> HttpResponse:
    accepted = too_large(_declared_length(request)) or _accept_body(request)
    if isinstance(accepted, Refusal):
        return HttpResponse(accepted.reason, status=accepted.status, content_type="text/plain")
    try:
        result = ingest.store(request.body, accepted)
    except DatabaseError:
        log.exception("webhook not stored: database error; answering 503 so Meta retries")
        return HttpResponse(UNAVAILABLE, status=503, content_type="text/plain")
    return JsonResponse(answer(result))


def _accept_body(request: HttpRequest) -> Parsed | Refusal:
    try:
        body = request.body
    except RequestDataTooBig:  # over Django's own DATA_UPLOAD_MAX_MEMORY_SIZE
        return Refusal(413, f"body larger than {limit()} bytes")
    return accept(body, request.headers.get(signature.HEADER))


UNAVAILABLE = "database unavailable"


def answer(result: ingest.IngestResult) -> dict[str, int]:
    return {"stored": result.messages, "statuses": result.statuses, "duplicates": result.duplicates}
