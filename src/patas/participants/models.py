"""The men who talk to the program number."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import models

from patas.core import clock
from patas.core.crypto import EncryptedTextField
from patas.whatsapp.numbers import default_number

SERVICE_WINDOW = timedelta(hours=24)


class Participant(models.Model):
    """One WhatsApp user of the program number.

    Keyed by the business-scoped user id when WhatsApp gives one, else by the phone (wa_id).
    Phone and profile name are encrypted; `phone_hash` (a keyed HMAC) finds him by phone.
    """

    class Status(models.TextChoices):
        NEW = "new", "new"  # wrote, intake not started
        INTAKE = "intake", "in intake"
        INELIGIBLE = "ineligible", "ineligible"
        DECLINED = "declined", "declined consent"
        WAITING_PARTNER = "waiting_partner", "waiting for partner consent"
        BASELINE = "baseline", "baseline survey, before randomisation"  # trial
        SURVEYS_ONLY = "surveys_only", "surveys only (trial control arm)"  # no program delivery
        ENROLLED = "enrolled", "enrolled"
        PAUSED = "paused", "paused"
        COMPLETED = "completed", "completed"
        REMOVED = "removed", "removed by staff"
        ERASED = "erased", "erased on request"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    wa_user_id = models.CharField(max_length=128, unique=True, null=True, blank=True)
    phone_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    phone = EncryptedTextField(null=True, blank=True)
    profile_name = EncryptedTextField(null=True, blank=True)
    language = models.CharField(max_length=8, default="es")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.NEW, db_index=True
    )
    created_at = models.DateTimeField(default=clock.now)
    # The 24-hour customer-service window is open until last_inbound_at + 24 h.
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    opted_out_at = models.DateTimeField(null=True, blank=True, db_index=True)
    is_synthetic = models.BooleanField(default=False)  # made by the simulator
    # Our number he talks to: the one he first wrote to (the default when that one is not
    # configured, or he did not write first). Everything to him goes out from it.
    phone_number_id = models.CharField(max_length=40, default=default_number)

    class Meta:
        indexes = [models.Index(fields=["status", "opted_out_at"])]

    def __str__(self) -> str:
        return f"participant {self.uid.hex[:8]}"

    @property
    def ref(self) -> str:
        return self.uid.hex[:8].upper()

    def window_open(self, at=None) -> bool:  # type: ignore[no-untyped-def]
        at = at or clock.now()
        return self.last_inbound_at is not None and at < self.last_inbound_at + SERVICE_WINDOW

    @property
    def address(self) -> str:
        """What the send API's `to` takes: the phone when known, else the user id."""
        return self.phone or self.wa_user_id or ""


class Consent(models.Model):
    """His answer to a consent text of a given version (one row per answer, never edited)."""

    class Answer(models.TextChoices):
        ACCEPT = "accept", "accepted"
        DECLINE = "decline", "declined"

    class Channel(models.TextChoices):
        WHATSAPP = "whatsapp", "WhatsApp"
        PHONE = "phone", "phone call"
        CONSOLE = "console", "recorded in the console"

    class Subject(models.TextChoices):
        PARTICIPANT = "participant", "the man himself"
        PARTNER = "partner", "his partner"

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="consents")
    subject = models.CharField(max_length=12, choices=Subject.choices, default=Subject.PARTICIPANT)
    version = models.CharField(max_length=60)
    answer = models.CharField(max_length=8, choices=Answer.choices)
    answered_at = models.DateTimeField(default=clock.now)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WHATSAPP)
    recorded_by = models.CharField(max_length=120, blank=True)  # audit actor when not himself

    class Meta:
        indexes = [models.Index(fields=["participant", "subject", "answered_at"])]

    def __str__(self) -> str:
        return f"consent {self.version} {self.answer}"


class IntakeSession(models.Model):
    """Where a new man is in the intake conversation, and what he answered so far."""

    participant = models.OneToOneField(Participant, on_delete=models.CASCADE, related_name="intake")
    step = models.CharField(max_length=20, default="start")
    answers = models.JSONField(default=dict, blank=True)  # age, has_partner, region, time...
    # Recruitment attribution: the first thing he wrote and the ad referral, if any.
    first_text = EncryptedTextField(blank=True, default="")
    referral = models.JSONField(null=True, blank=True)
    # The partner's number, until the surveys app keeps partners: encrypted, with a lookup hash.
    partner_phone = EncryptedTextField(null=True, blank=True)
    partner_phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    started_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, blank=True)
    not_understood = models.PositiveSmallIntegerField(default=0)
    last_nudged_on = models.DateField(null=True, blank=True)  # "waiting_partner" once a day

    def __str__(self) -> str:
        return f"intake {self.step}"
