"""Raw webhook events, kept as received (before anything else is done with them)."""

from __future__ import annotations

from django.db import models

from patas.core import clock


class WebhookEvent(models.Model):
    class Outcome(models.TextChoices):
        STORED = "stored", "stored"
        PARSED = "parsed", "parsed"
        UNKNOWN = "unknown", "contains unknown types"
        INVALID = "invalid", "not a WhatsApp payload"

    received_at = models.DateTimeField(default=clock.now, db_index=True)
    body = models.BinaryField()  # the raw bytes the signature was computed over
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.STORED)
    messages = models.PositiveIntegerField(default=0)
    statuses = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    note = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"webhook {self.pk} {self.outcome}"
