"""Periodic work of the messaging app (run by the worker through `patas.core.jobs`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from patas.core.jobs import periodic
from patas.messaging import claim


@periodic(every=timedelta(minutes=1))
def reclaim_expired_leases(now: datetime) -> int:
    """Outbox rows left `sending` by a dead sender go back to the queue."""
    return claim.reclaim_expired(now)
