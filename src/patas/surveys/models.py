"""Survey instruments, sessions of the men, and — in tables of their own — partners and theirs.

Partner data lives apart: `Partner` points at the man (`related_name="+"`, so nothing reachable
from a Participant leads to her), and her sessions are `PartnerSurveySession` rows, which no
query over the men's sessions can join to.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from patas.core import clock
from patas.core.crypto import EncryptedTextField


class SurveyForm(models.Model):
    """One version of an XLSForm instrument, kept as its source so a session always replays it."""

    class Audience(models.TextChoices):
        MEN = "men", "men"
        PARTNERS = "partners", "partners"

    form_id = models.CharField(max_length=100, db_index=True)
    version = models.CharField(max_length=60, blank=True)
    title = models.CharField(max_length=200, blank=True)
    audience = models.CharField(max_length=10, choices=Audience.choices, default=Audience.MEN)
    file_name = models.CharField(max_length=200)  # its suffix says how to read `source`
    source = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    installed_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["form_id", "sha256"], name="survey_form_once"),
        ]

    def __str__(self) -> str:
        return f"{self.form_id} {self.version}".strip()


class Mode(models.TextChoices):
    CHAT = "chat", "chat (WhatsApp)"
    PHONE = "phone", "phone (enumerator)"


class Status(models.TextChoices):
    OPEN = "open", "open"
    COMPLETED = "completed", "completed"
    ABANDONED = "abandoned", "abandoned"
    TIMED_OUT = "timed_out", "timed out"


class SessionBase(models.Model):
    """What every survey session has; the respondent is added by each concrete table."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    form = models.ForeignKey(SurveyForm, on_delete=models.PROTECT, related_name="+")
    mode = models.CharField(max_length=5, choices=Mode.choices, default=Mode.CHAT)
    lang = models.CharField(max_length=8, default="es")
    # the runner's state: answers so far, current question, history for "back"
    state = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    started_at = models.DateTimeField(default=clock.now)
    last_activity_at = models.DateTimeField(default=clock.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    enumerator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def answers(self) -> dict[str, str]:
        return dict(self.state.get("answers", {}))

    @property
    def current_question(self) -> str | None:
        return self.state.get("current")


class SurveySession(SessionBase):
    """A man's run through one instrument."""

    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.CASCADE, related_name="survey_sessions"
    )

    class Meta:
        indexes = [
            models.Index(fields=["participant", "status"]),
            models.Index(
                fields=["last_activity_at"],
                name="survey_open_activity",
                condition=models.Q(status="open"),
            ),
        ]
        constraints = [
            # at most one open chat survey per man: the router knows which one he answers
            models.UniqueConstraint(
                fields=["participant"],
                name="survey_one_open_chat",
                condition=models.Q(status="open", mode="chat"),
            ),
        ]

    def __str__(self) -> str:
        return f"survey {self.uid.hex[:8]} {self.status}"


class Partner(models.Model):
    """A man's partner, surveyed apart under the safety protocol. Nothing here reaches him."""

    class ConsentAnswer(models.TextChoices):
        ACCEPT = "accept", "accepted"
        DECLINE = "decline", "declined"

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # related_name="+": a Participant has no accessor that leads to her
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.CASCADE, related_name="+"
    )
    phone = EncryptedTextField(null=True, blank=True)
    phone_hash = models.CharField(max_length=64, null=True, blank=True, db_index=True)
    language = models.CharField(max_length=8, default="es")
    created_at = models.DateTimeField(default=clock.now)
    consent_version = models.CharField(max_length=60, blank=True)
    consent_answer = models.CharField(max_length=8, choices=ConsentAnswer.choices, blank=True)
    consent_at = models.DateTimeField(null=True, blank=True)
    consent_recorded_by = models.CharField(max_length=120, blank=True)  # audit actor

    def __str__(self) -> str:
        return f"partner {self.uid.hex[:8]}"

    @property
    def ref(self) -> str:
        return self.uid.hex[:8].upper()

    @property
    def consented(self) -> bool:
        return self.consent_answer == self.ConsentAnswer.ACCEPT


class PartnerSurveySession(SessionBase):
    """A partner's run through one instrument (by phone with an enumerator, usually)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="sessions")

    class Meta:
        indexes = [
            models.Index(fields=["partner", "status"]),
            models.Index(
                fields=["last_activity_at"],
                name="partner_survey_open_activity",
                condition=models.Q(status="open"),
            ),
        ]

    def __str__(self) -> str:
        return f"partner survey {self.uid.hex[:8]} {self.status}"


class CallAttempt(models.Model):
    """One phone call an enumerator placed for a phone survey (hers or a man's), and its outcome.

    Exactly one of `partner_session` / `session` is set. A call on a partner's session is her
    data (`partner_data`), so the access layer treats it as such.
    """

    class Outcome(models.TextChoices):
        COMPLETED = "completed", _("completed")
        PARTIAL = "partial", _("partial")
        RESCHEDULE = "reschedule", _("reschedule")
        NO_ANSWER = "no_answer", _("no answer")
        WRONG_NUMBER = "wrong_number", _("wrong number")
        REFUSED = "refused", _("refused")
        INTERRUPTED = "interrupted", _("interrupted")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    partner_session = models.ForeignKey(
        PartnerSurveySession,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="call_attempts",
    )
    session = models.ForeignKey(
        SurveySession,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="call_attempts",
    )
    enumerator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=clock.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    stage = models.CharField(max_length=12, default="identity")
    resume_stage = models.CharField(max_length=12, blank=True)  # where "resume" goes back to
    interrupted = models.BooleanField(default=False)  # someone came in at least once
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    appointment_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["enumerator", "ended_at"])]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(partner_session__isnull=False, session__isnull=True)
                    | models.Q(partner_session__isnull=True, session__isnull=False)
                ),
                name="call_attempt_one_session",
            ),
        ]

    def __str__(self) -> str:
        return f"call {self.uid.hex[:8]} {self.outcome or self.stage}"

    @property
    def partner_data(self) -> bool:
        return self.partner_session_id is not None

    @property
    def open(self) -> bool:
        return self.ended_at is None
