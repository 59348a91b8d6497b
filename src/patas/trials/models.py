"""Trials, randomisations and the append-only assignment record."""

from __future__ import annotations

from typing import Any

from django.db import models

from patas.core import clock


class AppendOnlyError(RuntimeError):
    """An assignment was to be changed or deleted: the record is append-only."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("assignments are never updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("assignments are never deleted")


class Trial(models.Model):
    """A randomised trial: its arms (with weights), seed and default procedure."""

    class ControlCondition(models.TextChoices):
        SURVEYS_ONLY = "surveys_only", "nothing but the surveys"
        PLACEBO = "placebo", "a placebo content pack"
        WAITLIST = "waitlist", "the program after the endline (waitlist)"

    name = models.SlugField(max_length=80, unique=True)
    arms = models.JSONField()  # [["control", 1], ["treatment", 1]]
    seed = models.BigIntegerField()
    procedure = models.CharField(max_length=20, default="stratified")
    block_sizes = models.JSONField(default=list, blank=True)  # sequential designs
    strata = models.JSONField(default=list, blank=True)  # names of the stratifying variables
    # what the control arm receives (the program engine reads it; consent said the same)
    control_condition = models.CharField(
        max_length=20, choices=ControlCondition.choices, default=ControlCondition.SURVEYS_ONLY
    )
    placebo_pack = models.CharField(max_length=120, blank=True)  # content pack for placebo
    created_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return self.name


class Randomisation(models.Model):
    """One run of the assignment procedure (a batch, or the sequential stream of one trial)."""

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="randomisations")
    batch = models.CharField(max_length=80, blank=True)
    procedure = models.CharField(max_length=20)
    seed = models.BigIntegerField()
    n_units = models.PositiveIntegerField(default=0)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"{self.trial} {self.procedure} {self.batch}"


class Assignment(models.Model):
    """One unit's arm. Written once; never updated or deleted (the DB constraint backs it)."""

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="assignments")
    randomisation = models.ForeignKey(Randomisation, on_delete=models.PROTECT, null=True)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, null=True, blank=True
    )
    unit_id = models.CharField(max_length=80)
    arm = models.CharField(max_length=40)
    stratum = models.CharField(max_length=200, blank=True)
    batch = models.CharField(max_length=80, blank=True)
    cluster = models.CharField(max_length=80, blank=True)
    procedure = models.CharField(max_length=20)
    seed = models.BigIntegerField()
    block = models.IntegerField(null=True, blank=True)
    position = models.IntegerField(null=True, blank=True)
    misfit = models.BooleanField(default=False)
    at = models.DateTimeField(default=clock.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["trial", "unit_id"], name="one_assignment_per_unit"),
            # sequential designs: one man per slot (NULL block/position never collide)
            models.UniqueConstraint(
                fields=["trial", "stratum", "block", "position"], name="one_unit_per_block_slot"
            ),
        ]
        indexes = [models.Index(fields=["trial", "stratum", "block", "position"])]

    def __str__(self) -> str:
        return f"{self.trial}:{self.unit_id}={self.arm}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("assignments are never updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("assignments are never deleted")


class GroupPlacement(models.Model):
    """Second stage: a treated unit placed in a peer group. Append-only like assignments."""

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="placements")
    unit_id = models.CharField(max_length=80)
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.PROTECT, null=True, blank=True
    )
    group = models.CharField(max_length=80)
    batch = models.CharField(max_length=80, blank=True)
    method = models.CharField(max_length=40)  # random | stratified:<variable>
    seed = models.BigIntegerField()
    at = models.DateTimeField(default=clock.now)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["trial", "unit_id"], name="one_group_per_unit")
        ]

    def __str__(self) -> str:
        return f"{self.trial}:{self.unit_id}->{self.group}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("group placements are never updated")
        super().save(*args, **kwargs)


class TrialMember(models.Model):
    """A man's way through the trial inside the program (`trials.flow`): baseline, arm, endline.

    The due columns are `randomise_by` (baseline not finished in time) and `endline_due_at`;
    the worker's jobs pick rows whose time has come, set-based.
    """

    class Phase(models.TextChoices):
        BASELINE = "baseline", "baseline, before randomisation"
        ASSIGNED = "assigned", "assigned to an arm"

    trial = models.ForeignKey(Trial, on_delete=models.PROTECT, related_name="members")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.CASCADE, related_name="+"
    )
    phase = models.CharField(max_length=10, choices=Phase.choices, default=Phase.BASELINE)
    consented_at = models.DateTimeField(default=clock.now)
    randomise_by = models.DateTimeField(null=True, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    arm = models.CharField(max_length=40, blank=True)
    baseline_missing = models.BooleanField(default=False)  # randomised without a baseline
    endline_due_at = models.DateTimeField(null=True, blank=True)
    endline_invited_at = models.DateTimeField(null=True, blank=True)
    endline_reminded_at = models.DateTimeField(null=True, blank=True)
    endline_started_at = models.DateTimeField(null=True, blank=True)
    partner_baseline_at = models.DateTimeField(null=True, blank=True)  # her session created
    partner_endline_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["trial", "participant"], name="one_member_per_trial")
        ]
        indexes = [
            models.Index(
                fields=["randomise_by"],
                name="member_randomise_due",
                condition=models.Q(phase="baseline"),
            ),
            models.Index(
                fields=["endline_due_at"],
                name="member_endline_due",
                condition=models.Q(endline_invited_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trial}:{self.participant_id} {self.phase} {self.arm}"
