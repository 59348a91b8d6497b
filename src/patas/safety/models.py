"""Safety alerts raised by triage, and the notes supervisors add while handling them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from patas.core import clock


class Alert(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "open"
        ACKNOWLEDGED = "acknowledged", "acknowledged"
        ESCALATED = "escalated", "escalated"
        RESOLVED = "resolved", "resolved"

    class Severity(models.TextChoices):
        HIGH = "high", "high"
        MEDIUM = "medium", "medium"
        LOW = "low", "low"

    ACTIVE = (Status.OPEN, Status.ACKNOWLEDGED, Status.ESCALATED)

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    participant = models.ForeignKey(
        "participants.Participant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="safety_alerts",
    )
    message = models.ForeignKey(
        "messaging.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="safety_alerts",
    )
    category = models.CharField(max_length=24, db_index=True)  # the strongest hit's category
    severity = models.CharField(max_length=8, choices=Severity.choices, db_index=True)
    # Every hit: [{"category", "severity", "phrase", "language"}] (the lexicon's words, not his).
    hits = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=14, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    created_at = models.DateTimeField(default=clock.now, db_index=True)
    due_at = models.DateTimeField(db_index=True)  # the SLA: handle by then
    # Ids of his last messages before this one, oldest first, for the supervisor's context.
    context_message_ids = models.JSONField(default=list, blank=True)
    helpline_sent_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)  # on-call e-mail sent
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["participant", "status"])]

    def __str__(self) -> str:
        return f"alert {self.ref} {self.severity} {self.category} {self.status}"

    @property
    def ref(self) -> str:
        return self.uid.hex[:8].upper()

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class AlertNote(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=16, default="note")  # note, acknowledge, escalate, resolve
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note on {self.alert_id}"
