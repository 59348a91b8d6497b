"""Relay groups: who is in which group under which pseudonym, and what was said in it.

A group's posts enter the relay stream with a per-group sequence number (`GroupPost.seq`,
given when a post is released: at once in `live`, on approval in `moderated`). Each membership
keeps `seen_seq`, the last sequence number delivered to him (or skipped because he wrote it).
Whatever lies between his `seen_seq` and the group's `last_seq` is his backlog, delivered as a
digest when the group's digest is due or when his 24-hour window next opens.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from patas.core import clock


class Group(models.Model):
    class RelayMode(models.TextChoices):
        LIVE = "live", _("live")
        DIGEST = "digest", _("digest")
        MODERATED = "moderated", _("moderated")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    program = models.CharField(max_length=80, default="")
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="facilitated_groups",
    )
    size_cap = models.PositiveIntegerField(default=50)
    relay_mode = models.CharField(max_length=10, choices=RelayMode.choices, default=RelayMode.LIVE)
    digest_every_hours = models.PositiveIntegerField(default=6)
    next_digest_at = models.DateTimeField(null=True, blank=True)
    last_seq = models.PositiveIntegerField(default=0)  # last sequence number released
    digested_seq = models.PositiveIntegerField(default=0)  # digest groups: released to digests

    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def deliverable_seq(self) -> int:
        """Backlogs are delivered up to here (digest groups: up to the last digest run)."""
        return self.digested_seq if self.relay_mode == self.RelayMode.DIGEST else self.last_seq


class Membership(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    participant = models.ForeignKey(
        "participants.Participant", on_delete=models.CASCADE, related_name="group_memberships"
    )
    pseudonym = models.CharField(max_length=60)
    stratum = models.CharField(max_length=80, blank=True)  # recorded at placement
    joined_at = models.DateTimeField(default=clock.now)
    left_at = models.DateTimeField(null=True, blank=True)
    removed_reason = models.CharField(max_length=300, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    seen_seq = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["group", "pseudonym"], name="pseudonym_unique_in_group"
            ),
            models.UniqueConstraint(
                fields=["participant"],
                condition=models.Q(left_at__isnull=True),
                name="one_active_group_per_participant",
            ),
        ]
        indexes = [models.Index(fields=["group", "left_at", "seen_seq"])]

    def __str__(self) -> str:
        return f"{self.pseudonym} ({self.group})"

    @property
    def active(self) -> bool:
        return self.left_at is None


class GroupPost(models.Model):
    class Status(models.TextChoices):
        PENDING_APPROVAL = "pending_approval", _("pending approval")
        HELD = "held", _("held")  # kept from the group (safety triage)
        QUEUED = "queued", _("queued for the digest")
        RELAYED = "relayed", _("relayed")
        HIDDEN = "hidden", _("hidden")
        PRIVATE = "private", _("private reply")  # facilitator to one man, never relayed

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="posts")
    author = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="posts"
    )
    facilitator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    message = models.OneToOneField(
        "messaging.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="group_post",
    )
    text = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices)
    pinned = models.BooleanField(default=False)
    seq = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    relayed_at = models.DateTimeField(null=True, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    private_to = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="private_posts"
    )
    in_reply_to = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replies"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["group", "seq"]),
            models.Index(fields=["group", "created_at"]),
            models.Index(fields=["group", "status"]),
        ]

    def __str__(self) -> str:
        return f"post {self.uid.hex[:8]} {self.status}"

    @property
    def by_facilitator(self) -> bool:
        return self.author_id is None


class MemberNote(models.Model):
    """A facilitator's note about one man (console only, never sent)."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"note {self.pk} on {self.membership_id}"


class Code(models.Model):
    """One code of the qualitative codebook (configurable in the Django admin)."""

    key = models.SlugField(max_length=60, unique=True)
    label = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.label


class CodeAssignment(models.Model):
    """One coder's code for one post (one code per coder and post: kappa needs that)."""

    post = models.ForeignKey(GroupPost, on_delete=models.CASCADE, related_name="codes")
    code = models.ForeignKey(Code, on_delete=models.PROTECT, related_name="assignments")
    coder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["post", "coder"], name="one_code_per_coder_and_post")
        ]

    def __str__(self) -> str:
        return f"{self.code_id} on post {self.post_id} by {self.coder_id}"
