"""Response rates by arm for the researcher dashboard (read-only, a few aggregate queries)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q

from patas.surveys.models import PartnerSurveySession, Status, SurveySession
from patas.trials.export import waves_of
from patas.trials.models import Assignment, Trial

STAGES = ("started", "completed")


def response_rates(trial: Trial) -> list[dict[str, Any]]:
    """Per arm: assigned, and for each wave (m_bl, m_el, p_bl, p_el) how many started
    (any session) and completed it, with the completed share of the assigned.

    [{"arm": "control", "assigned": 120, "m_bl_started": 118, "m_bl_completed": 110,
      "m_bl_rate": 0.917, ...}, ...]
    """
    qs = Assignment.objects.filter(trial=trial)
    counts: dict[str, Any] = {"assigned": Count("id")}
    for prefix, form_id, whose in waves_of(trial):
        for stage in STAGES:
            flag = f"{prefix}_{stage}"
            qs = qs.annotate(**{flag: Exists(_sessions(whose, form_id, stage))})
            counts[flag] = Count("id", filter=Q(**{flag: True}))
    rows = list(qs.order_by().values("arm").annotate(**counts).order_by("arm"))
    for row in rows:
        for prefix, _form, _whose in waves_of(trial):
            done = row[f"{prefix}_completed"]
            row[f"{prefix}_rate"] = round(done / row["assigned"], 3) if row["assigned"] else 0.0
    return rows


def _sessions(whose: str, form_id: str, stage: str) -> Any:
    if whose == "men":
        qs: Any = SurveySession.objects.filter(participant_id=OuterRef("participant_id"))
    else:
        qs = PartnerSurveySession.objects.filter(partner__participant_id=OuterRef("participant_id"))
    qs = qs.filter(form__form_id=form_id)
    if stage == "completed":
        return qs.filter(status=Status.COMPLETED)
    # a phone session waiting for her call exists before anyone asked her anything
    return qs.exclude(status=Status.OPEN, last_activity_at=F("started_at"))
