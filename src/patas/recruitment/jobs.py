"""The worker keeps the dashboard's figures fresh while someone reads them (`snapshot`)."""

from __future__ import annotations

from datetime import datetime

from patas.core.jobs import periodic
from patas.recruitment import snapshot


@periodic(every=snapshot.REFRESH, name=snapshot.JOB)
def refresh_dashboard(now: datetime) -> int:
    return snapshot.refresh_watched(now)
