"""Prometheus metrics.

Counters and histograms live in the process that does the work (webhook latency in `web`,
sends and errors in `worker`, which serves them with `--metrics-port`). Queue gauges are read
from the database at scrape time through indexed queries, so every process reports the same
queue whatever its role.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from patas.core import clock

REGISTRY = CollectorRegistry(auto_describe=True)

WEBHOOK_LATENCY = Histogram(
    "patas_webhook_seconds",
    "Time to answer a webhook request, by outcome",
    ["status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5),
    registry=REGISTRY,
)
MESSAGES_SENT = Counter(
    "patas_messages_sent", "Messages accepted by the Cloud API", ["number"], registry=REGISTRY
)
SEND_ERRORS = Counter(
    "patas_send_errors",
    "Send attempts refused, by error code",
    ["number", "code"],
    registry=REGISTRY,
)


class QueueCollector(Collector):
    """Outbox depth, due backlog and its oldest due item, from the database."""

    def describe(self) -> list[Any]:
        # Registering must not query the database (it may not exist yet, e.g. before migrate).
        return []

    def collect(self) -> Iterator[Any]:
        from django.db.models import Count, Min

        from patas.messaging.models import Message

        now = clock.now()
        queued = Message.objects.filter(status=Message.Status.QUEUED)
        # One pass over the due rows, per number (the totals are the sums: no second query).
        by_number = list(
            queued.filter(due_at__lte=now)
            .order_by()
            .values("phone_number_id")
            .annotate(n=Count("id"), oldest=Min("due_at"))
        )
        due = {
            "n": sum(row["n"] for row in by_number),
            "oldest": min((row["oldest"] for row in by_number), default=None),
        }
        sending = Message.objects.filter(status=Message.Status.SENDING).count()
        unrouted = Message.objects.filter(
            direction=Message.Direction.IN, routed_at__isnull=True
        ).count()
        oldest = (now - due["oldest"]).total_seconds() if due["oldest"] else 0.0
        yield _gauge("patas_outbox_due", "Queued messages whose time has come", due["n"])
        yield _gauge("patas_outbox_sending", "Messages claimed by a sender now", sending)
        yield _gauge("patas_outbox_oldest_due_seconds", "Age of the oldest due message", oldest)
        yield _gauge("patas_inbound_unrouted", "Inbound messages not yet routed", unrouted)
        per_number = GaugeMetricFamily(
            "patas_outbox_due_by_number",
            "Queued messages whose time has come, by the number they go out from",
            labels=["number"],
        )
        for row in by_number:
            per_number.add_metric([row["phone_number_id"]], row["n"])
        yield per_number


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc)
    family.add_metric([], value)
    return family


REGISTRY.register(QueueCollector())
