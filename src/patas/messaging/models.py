"""Messages in and out. The outbox is this table: due work is `status=queued` + `due_at`."""

from __future__ import annotations

import uuid

from django.db import models

from patas.core import clock
from patas.whatsapp.numbers import default_number


class Message(models.Model):
    class Direction(models.TextChoices):
        IN = "in", "inbound"
        OUT = "out", "outbound"

    class Status(models.TextChoices):
        # inbound
        RECEIVED = "received", "received"
        # outbound lifecycle
        QUEUED = "queued", "queued"  # waiting for due_at, or for a retry
        SENDING = "sending", "sending"  # claimed by a sender under a lease
        SENT = "sent", "sent"
        DELIVERED = "delivered", "delivered"
        READ = "read", "read"
        FAILED = "failed", "failed"  # permanent: never retried
        NEEDS_TEMPLATE = "needs_template", "needs a template (window closed)"
        CANCELLED = "cancelled", "cancelled"  # opt-out, removal, pause before it went out

    class Purpose(models.TextChoices):
        """What the message is for: drives costs, reports and what an opt-out cancels."""

        SYSTEM = "system", "system"
        INTAKE = "intake", "intake"
        PROGRAM = "program", "program content"
        REMINDER = "reminder", "reminder"
        RELAY = "relay", "group relay"
        FACILITATOR = "facilitator", "facilitator"
        SURVEY = "survey", "survey"
        SAFETY = "safety", "safety"
        OPT_OUT = "opt_out", "opt-out confirmation"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    direction = models.CharField(max_length=3, choices=Direction.choices)
    participant = models.ForeignKey(
        "participants.Participant",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
        # No index of its own: (participant, created_at) below serves every look-up by man, and
        # each index costs every outbox row of the day's fan-out (docs/performance.md).
        db_index=False,
    )
    # Our WhatsApp number: outbound, the one it goes out from (his number, see
    # whatsapp.numbers); inbound, the one he wrote to (as the webhook said).
    phone_number_id = models.CharField(max_length=40, default=default_number)
    # WhatsApp message type: text, interactive, template, image, audio, button, reaction, ...
    type = models.CharField(max_length=20)
    # Outbound: the send body without `to` (the sender adds it). Inbound: the parsed content.
    payload = models.JSONField(default=dict)
    # Human-readable text of the message (console, search, triage); emptied on erasure.
    text = models.TextField(blank=True)
    purpose = models.CharField(max_length=12, choices=Purpose.choices, default=Purpose.SYSTEM)
    status = models.CharField(max_length=16, choices=Status.choices)
    status_reason = models.CharField(max_length=200, blank=True)
    # Free-form messages need the 24-hour window; templates do not.
    requires_window = models.BooleanField(default=True)
    # Unique through Meta.constraints, not `unique=True`: on PostgreSQL that would add a second
    # index (varchar_pattern_ops, for LIKE) that nothing uses and every insert pays for.
    wamid = models.CharField(max_length=200, null=True, blank=True)
    context_wamid = models.CharField(max_length=200, blank=True)  # the message this one answers

    created_at = models.DateTimeField(default=clock.now)
    due_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    leased_by = models.CharField(max_length=120, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error_code = models.IntegerField(null=True, blank=True)
    error_title = models.CharField(max_length=300, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    pricing_category = models.CharField(max_length=30, blank=True)
    billable = models.BooleanField(null=True)

    # Inbound only: when WhatsApp says it was sent, which raw event carried it, and routing.
    provider_timestamp = models.DateTimeField(null=True, blank=True)
    webhook_event = models.ForeignKey(
        "whatsapp.WebhookEvent", null=True, blank=True, on_delete=models.SET_NULL
    )
    routed_at = models.DateTimeField(null=True, blank=True)
    route = models.CharField(max_length=40, blank=True)  # which handler took it
    held = models.BooleanField(default=False)  # kept from the group by triage or moderation
    flags = models.JSONField(default=list, blank=True)  # e.g. ["unknown_type"]

    class Meta:
        indexes = [
            # The outbox: due queued rows of one number, oldest first. Each number's sender
            # claims `phone_number_id = X AND due_at <= now ORDER BY due_at, id LIMIT n`: one
            # index range, read in order, n entries (docs/performance.md, "Several numbers").
            # With `id` the ORDER BY needs no sort; without it PostgreSQL sorted every due row
            # (2.5 s per claim with 240,000 queued rows that share one due_at).
            models.Index(
                fields=["phone_number_id", "due_at", "id"],
                name="outbox_due",
                condition=models.Q(status="queued"),
            ),
            # Rows whose lease may have expired.
            models.Index(
                fields=["lease_until"],
                name="outbox_leased",
                condition=models.Q(status="sending"),
            ),
            # What holds a man's next message back (claim.drop_blocked, every claim): his rows
            # in flight or waiting for a retry. Without it the look read every message of
            # every man in the batch: 133 ms for 200 men after a simulated month of 300 men,
            # 0.3 ms with it (docs/performance.md, "Session 6").
            models.Index(
                fields=["participant"],
                name="outbox_blocking",
                condition=models.Q(direction="out")
                & (models.Q(status="sending") | models.Q(status="queued", attempts__gt=0)),
            ),
            # Content the sender refused for a closed window: the engine looks for it every
            # minute (`reopen_needs_template`). Without this index that look scanned the whole
            # outbox each time (52 ms at 12,500 messages, growing with every message sent).
            models.Index(
                fields=["participant"],
                name="outbox_needs_template",
                condition=models.Q(status="needs_template"),
            ),
            # Inbound waiting for the router.
            models.Index(
                fields=["id"],
                name="inbound_unrouted",
                condition=models.Q(direction="in", routed_at__isnull=True),
            ),
            # The router's own look (`route_pending`, every tick): with `participant IS NOT
            # NULL` in its WHERE, SQLite would not use the index above and scanned the whole
            # table by id instead (20 ms at 16,000 messages, every tick).
            models.Index(
                fields=["id"],
                name="inbound_to_route",
                condition=models.Q(
                    direction="in", routed_at__isnull=True, participant__isnull=False
                ),
            ),
            models.Index(fields=["participant", "created_at"]),
            # The retention purge (every 6 hours) looks for bodies older than a cutoff: without
            # this it read the whole table each time (122 ms after a simulated month of 1,355
            # men, growing with every message).
            models.Index(fields=["created_at"], name="message_created"),
        ]
        constraints = [
            # Inbound: the same message posted twice is stored once (ON CONFLICT (wamid)).
            models.UniqueConstraint(fields=["wamid"], name="message_wamid_once"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.type} {self.status}"


class StatusEvent(models.Model):
    """A status callback, stored once per (wamid, status) so redeliveries are recognised."""

    wamid = models.CharField(max_length=200)
    status = models.CharField(max_length=16)
    at = models.DateTimeField()
    error_code = models.IntegerField(null=True, blank=True)
    pricing_category = models.CharField(max_length=30, blank=True)
    billable = models.BooleanField(null=True)
    received_at = models.DateTimeField(default=clock.now)
    applied = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["wamid", "status"], name="status_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.wamid} {self.status}"
