"""Periodic work of surveys: close chat and phone sessions nobody touched for too long."""

from __future__ import annotations

from datetime import datetime, timedelta

from patas.core.env import env_int
from patas.core.jobs import periodic
from patas.surveys import actions

# A man who stops answering keeps his session open this long (he can resume it by replying);
# after that it is timed out, and `actions.start_chat_survey` resumes it where he left off.
IDLE_HOURS = env_int("PATAS_SURVEY_IDLE_HOURS", 72)


@periodic(every=timedelta(minutes=15))
def time_out_idle_surveys(now: datetime) -> int:
    return actions.close_stale_sessions(now, timedelta(hours=IDLE_HOURS))
