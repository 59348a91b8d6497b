"""Cross-cutting records: the audit log and job leases."""

from __future__ import annotations

from django.db import models

from patas.core import clock


class AuditEntry(models.Model):
    """Who did what to which object, and when. Append-only."""

    at = models.DateTimeField(default=clock.now, db_index=True)
    actor = models.CharField(
        max_length=120
    )  # "user:<username>", "system", "participant:<pseudonym>"
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        target = f"{self.object_type}:{self.object_id}"
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {target}"


class JobLease(models.Model):
    """One row per periodic job (or per sender): who runs it now and until when.

    A worker takes the lease with a conditional UPDATE; a crashed holder's lease simply expires,
    so runs never overlap across workers and never stay stuck.
    """

    name = models.CharField(max_length=120, primary_key=True)
    holder = models.CharField(max_length=120, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name
