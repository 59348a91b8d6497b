"""Periodic work of the trial inside the program (`trials.flow`, `trials.flow_endline`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from patas.core.jobs import periodic
from patas.trials import flow, flow_endline


@periodic(every=timedelta(minutes=15))
def randomise_overdue_baselines(now: datetime) -> int:
    return flow.randomise_overdue(now)


@periodic(every=timedelta(minutes=5))
def invite_due_endlines(now: datetime) -> int:
    return flow_endline.invite_due_endlines(now)


@periodic(every=timedelta(minutes=30))
def remind_endlines(now: datetime) -> int:
    return flow_endline.remind_endlines(now)


@periodic(every=timedelta(minutes=15))
def create_partner_sessions(now: datetime) -> int:
    return flow_endline.create_partner_sessions(now)
