"""Periodic work of the groups app."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from patas.core.jobs import periodic

from . import relay


@periodic(every=timedelta(minutes=10))
def send_group_digests(now: datetime) -> int:
    """Digests of due digest groups, and backlogs of members whose window is open again."""
    with transaction.atomic():
        return relay.run_digests(now)
