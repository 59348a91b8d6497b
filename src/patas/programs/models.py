"""A man's enrolment in a program, and what happened on each of his days.

`Enrolment` holds everything the delivery engine needs to decide (the pure `engine.State` is
read from it); `next_wake_at` is the engine's due column: the worker fetches enrolments whose
wake time has come, decides, and writes the results back in bulk.
"""

from __future__ import annotations

from django.db import models

from patas.core import clock


class Enrolment(models.Model):
    class Status(models.TextChoices):
        ENROLLED = "enrolled", "enrolled"
        PAUSED = "paused", "paused"
        COMPLETED = "completed", "completed"
        REMOVED = "removed", "removed by staff"
        OPTED_OUT = "opted_out", "opted out"  # mirror of participants.opted_out_at

    class Phase(models.TextChoices):
        """Where the current day is."""

        WAITING = "waiting", "waiting for the day to start"
        OPENER = "opener", "opener template sent, waiting for his tap"
        CONTENT = "content", "content sent"

    class Wake(models.TextChoices):
        DAY_START = "day_start", "start the next day"
        REMINDER = "reminder", "check-in nudge or miss-you"

    participant = models.OneToOneField(
        "participants.Participant", on_delete=models.CASCADE, related_name="enrolment"
    )
    program_id = models.CharField(max_length=80)
    program_version = models.CharField(max_length=40)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ENROLLED, db_index=True
    )
    time_slot = models.CharField(max_length=10, default="evening")  # morning/midday/evening/hour
    send_hour = models.PositiveSmallIntegerField(default=19)  # local hour, 0-23
    time_zone = models.CharField(max_length=64, default="America/Lima")

    current_day = models.PositiveSmallIntegerField(default=0)  # 0 = before day 1
    phase = models.CharField(max_length=8, choices=Phase.choices, default=Phase.WAITING)
    day_started_at = models.DateTimeField(null=True, blank=True)
    opener_sent_at = models.DateTimeField(null=True, blank=True)
    content_from = models.PositiveSmallIntegerField(default=0)  # first item still to send
    day_checked_in = models.BooleanField(default=False)

    next_wake_at = models.DateTimeField(null=True, blank=True)
    wake = models.CharField(max_length=10, choices=Wake.choices, default=Wake.DAY_START)

    last_reply_at = models.DateTimeField(null=True, blank=True)
    reminders_today = models.PositiveSmallIntegerField(default=0)
    reminders_on = models.DateField(null=True, blank=True)  # local date reminders_today counts
    miss_you_at = models.DateTimeField(null=True, blank=True)
    fallback_on = models.DateField(null=True, blank=True)  # fallback help at most once a day
    awaiting_hour = models.BooleanField(default=False)  # asked HORA, waiting for his answer

    enrolled_at = models.DateTimeField(default=clock.now)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_days = models.PositiveSmallIntegerField(default=0)  # local days spent paused
    ended_at = models.DateTimeField(null=True, blank=True)  # completed/removed/opted out
    end_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["next_wake_at"],
                name="enrolment_due",
                condition=models.Q(status="enrolled"),
            ),
            models.Index(
                fields=["opener_sent_at"],
                name="enrolment_opener",
                condition=models.Q(status="enrolled", phase="opener"),
            ),
        ]

    def __str__(self) -> str:
        return f"enrolment {self.pk} day {self.current_day} {self.status}"


class DayProgress(models.Model):
    """One of his days: when it started, whether he opened it, what he answered."""

    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="days")
    day = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    opener_sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)  # tapped, or window already open
    content_sent_at = models.DateTimeField(null=True, blank=True)  # content enqueued
    checkin_answer = models.CharField(max_length=100, blank=True)
    checkin_at = models.DateTimeField(null=True, blank=True)
    reminders = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "day"], name="day_progress_once"),
        ]
        # The dashboard's check-in rates count these three columns over every man-day:
        # with them in one index the count reads the index alone, already in day order.
        indexes = [
            models.Index(fields=["day", "opened_at", "checkin_at"], name="day_progress_counts"),
        ]

    def __str__(self) -> str:
        return f"day {self.day} of enrolment {self.enrolment_id}"
