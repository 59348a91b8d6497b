"""The analysis dataset from patas' own data (the seam for `patas export-trial`).

Built today: one row per assigned unit with its arm, stratum, batch, cluster, misfit flag,
group (second stage) and a pseudonymous id; no phone, no name. Not built yet: the baseline and
endline answers of men and partners, participation and completion. They need the surveys data
model; `survey_columns` is the one place to add them (joined on `unit_id`).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from patas.trials.actions import assignments_frame
from patas.trials.models import GroupPlacement, Trial

SurveySource = Callable[[Trial, list[str]], pd.DataFrame]


def survey_columns(trial: Trial, unit_ids: list[str]) -> pd.DataFrame:
    """Baseline/endline answers per unit (columns named after the questions). Not yet built."""
    raise NotImplementedError("survey answers need the surveys data model (see module doc)")


def build_dataset(trial: Trial, surveys: SurveySource | None = None) -> pd.DataFrame:
    """De-identified analysis rows for a trial; `surveys` adds answer columns when available."""
    frame = assignments_frame(trial).drop(columns=["at", "seed", "block", "position"])
    groups = pd.DataFrame.from_records(
        GroupPlacement.objects.filter(trial=trial).values("unit_id", "group"),
        columns=["unit_id", "group"],
    )
    frame = frame.merge(groups, on="unit_id", how="left")
    frame.insert(0, "pseudonym", [f"U{i + 1:06d}" for i in range(len(frame))])
    if surveys is not None:
        answers = surveys(trial, frame.unit_id.tolist())
        frame = frame.merge(answers, on="unit_id", how="left")
    return frame.drop(columns=["unit_id"])
