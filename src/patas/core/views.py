"""Health, readiness and metrics endpoints for load balancers and Prometheus."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from patas.core.metrics import REGISTRY, WEBHOOK_LATENCY


def healthz(request: HttpRequest) -> HttpResponse:
    """Alive: the process answers (no dependency checked, so a DB outage does not kill it)."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> HttpResponse:
    """Ready: the database answers. A load balancer stops sending traffic while it does not."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        return JsonResponse({"status": "unavailable", "database": str(exc)[:200]}, status=503)
    return JsonResponse({"status": "ready"})


def metrics(request: HttpRequest) -> HttpResponse:
    try:
        body = generate_latest(REGISTRY)
    except DatabaseError:
        return HttpResponse("database unavailable\n", status=503, content_type="text/plain")
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


class WebhookTimingMiddleware:
    """Times webhook requests into the `patas_webhook_seconds` histogram."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/webhooks/"):
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        WEBHOOK_LATENCY.labels(str(response.status_code)).observe(time.perf_counter() - started)
        return response
