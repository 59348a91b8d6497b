"""Periodic work of the safety app: the retention purge of old message bodies."""

from __future__ import annotations

from datetime import datetime, timedelta

from patas.core import privacy
from patas.core.jobs import periodic


@periodic(every=timedelta(hours=6))
def purge_old_message_bodies(now: datetime) -> int:
    """Message bodies older than PATAS_RETENTION_DAYS are emptied (metadata stays)."""
    return privacy.purge_message_bodies(now)
