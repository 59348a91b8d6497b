"""The analysis dataset from patas' own data (`patas export-trial`).

One row per assigned unit: a pseudonym (U000001...), arm, stratum, batch, cluster, misfit,
group (second stage); the men's and partners' baseline and endline answers as
`<m|p>_<bl|el>_<question>` (completed sessions only; numeric codes as numbers;
`select_multiple` as space-separated choice names; who-decides answers also as
`p_<wave>_dec_<item>_shared` = 1 when she decides alone or with him); response indicators
`<m|p>_<bl|el>_responded`; participation `days_in_program`, `checkins`, `completed` (the
program's completion rule; 0 for men never enrolled). De-identified: no phone, no name, no
intake answers (region is free text), no free-text survey answers, no participant ids.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from django.db.models import Count

from patas.programs.models import DayProgress, Enrolment
from patas.programs.pack import get_pack
from patas.programs.schema import Completion
from patas.surveys.actions import form_of
from patas.surveys.form import Form
from patas.surveys.models import PartnerSurveySession, Status, SurveyForm, SurveySession
from patas.trials.actions import assignments_frame
from patas.trials.models import Assignment, GroupPlacement, Trial

SurveySource = Callable[[Trial, list[str]], pd.DataFrame]

# (column prefix, form id, whose) for the four waves; the program's trial section may rename.
WAVES = (
    ("m_bl", "men_baseline", "men"),
    ("m_el", "men_endline", "men"),
    ("p_bl", "partner_baseline", "partners"),
    ("p_el", "partner_endline", "partners"),
)
ANSWER_TYPES = {"integer", "decimal", "select_one", "select_multiple", "calculate"}
SHARED = {"her", "both"}  # who decides: she alone, or together with him


def waves_of(trial: Trial) -> list[tuple[str, str, str]]:
    """The form ids of the trial's program when it names this trial, else the demo names."""
    from patas.trials import flow

    program = get_pack().program
    cfg = program.trial
    if cfg is None or flow.trial_name(program, cfg) != trial.name:
        return list(WAVES)
    forms = [cfg.baseline_form, cfg.endline_form, cfg.partner_baseline_form]
    forms.append(cfg.partner_endline_form)
    return [(prefix, form, whose) for (prefix, _, whose), form in zip(WAVES, forms, strict=True)]


def _answer_names(form_id: str) -> list[str]:
    record = SurveyForm.objects.filter(form_id=form_id).order_by("-installed_at", "-id").first()
    return [] if record is None else answer_names(form_of(record))


def answer_names(form: Form) -> list[str]:
    """The questions of a form that have an answer column in the dataset."""
    return [q.name for q in form.questions if q.type in ANSWER_TYPES]


def _latest_answers(form_id: str, whose: str, trial: Trial) -> dict[int, dict[str, Any]]:
    """The man's id -> answers of the latest completed session of this form."""
    men = Assignment.objects.filter(trial=trial).values("participant_id")
    qs: Any
    if whose == "men":
        qs = SurveySession.objects.filter(participant_id__in=men).values_list(
            "participant_id", "state"
        )
    else:
        qs = PartnerSurveySession.objects.filter(partner__participant_id__in=men).values_list(
            "partner__participant_id", "state"
        )
    rows = qs.filter(form__form_id=form_id, status=Status.COMPLETED).order_by("ended_at", "id")
    return {pid: dict((state or {}).get("answers", {})) for pid, state in rows}


def wave_frame(prefix: str, form_id: str, whose: str, trial: Trial) -> pd.DataFrame:
    """participant_id + `<prefix>_<question>` columns + `<prefix>_responded`."""
    answers = _latest_answers(form_id, whose, trial)
    names = _answer_names(form_id)
    raw = pd.DataFrame([[a.get(n, "") for n in names] for a in answers.values()], columns=names)
    frame = code_answers(raw, prefix)
    frame.insert(0, "participant_id", list(answers))
    frame[f"{prefix}_responded"] = 1
    return frame


def code_answers(raw: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Pure: submitted answers (a column per question, "" when unanswered) coded as the dataset
    holds them: `<prefix>_<question>`, numbers when every answer is one, else text, plus the
    who-decides `_shared` columns. `simulation/truth.py` codes its answers with it too."""
    frame = pd.DataFrame(index=raw.index)
    shared_columns: dict[str, pd.Series] = {}
    for name in raw.columns:
        column = f"{prefix}_{name}"
        values = raw[name].replace("", None)
        numbers = pd.to_numeric(values, errors="coerce")
        if numbers.notna().sum() == values.notna().sum():
            frame[column] = numbers
        else:
            frame[column] = values.fillna("").astype(str)
        if name.startswith("dec_"):
            shared = values.isin(SHARED).astype(float)
            shared_columns[f"{column}_shared"] = shared.where(values.notna())
    for column, shared in shared_columns.items():
        frame[column] = shared
    return frame


def completed_by_rule(frame: pd.DataFrame, rule: Completion, days: int) -> pd.Series:
    """Pure: the program's completion rule over columns current_day, status, opted_out,
    checkins (one row per enrolment)."""
    done = frame["current_day"].clip(upper=days) >= rule.min_day_reached
    if rule.exclude_removed:
        done &= frame["status"] != Enrolment.Status.REMOVED
    if rule.exclude_opted_out:
        done &= (frame["status"] != Enrolment.Status.OPTED_OUT) & ~frame["opted_out"]
    return (done & (frame["checkins"] >= rule.min_checkins)).astype(int)


def participation(trial: Trial) -> pd.DataFrame:
    """participant_id, days_in_program, checkins, completed for the trial's enrolled men."""
    program = get_pack().program
    men = Assignment.objects.filter(trial=trial).values("participant_id")
    columns = ["participant_id", "current_day", "status", "opted_out_at"]
    enrolments = pd.DataFrame.from_records(
        Enrolment.objects.filter(participant_id__in=men).values_list(
            "participant_id", "current_day", "status", "participant__opted_out_at"
        ),
        columns=columns,
    )
    checkins = dict(
        DayProgress.objects.filter(enrolment__participant_id__in=men, checkin_at__isnull=False)
        .values_list("enrolment__participant_id")
        .annotate(n=Count("id"))
        .values_list("enrolment__participant_id", "n")
    )
    enrolments["checkins"] = enrolments["participant_id"].map(checkins).fillna(0).astype(int)
    enrolments["opted_out"] = enrolments["opted_out_at"].notna()
    enrolments["days_in_program"] = enrolments["current_day"].clip(upper=program.days)
    enrolments["completed"] = completed_by_rule(enrolments, program.completion, program.days)
    return enrolments[["participant_id", "days_in_program", "checkins", "completed"]]


def survey_columns(trial: Trial, unit_ids: list[str]) -> pd.DataFrame:
    """unit_id + answers of men and partners at baseline and endline + participation."""
    units = pd.DataFrame.from_records(
        Assignment.objects.filter(trial=trial).values_list("unit_id", "participant_id"),
        columns=["unit_id", "participant_id"],
    )
    units = units[units.unit_id.isin(unit_ids)]
    for prefix, form_id, whose in waves_of(trial):
        units = units.merge(
            wave_frame(prefix, form_id, whose, trial), on="participant_id", how="left"
        )
        units[f"{prefix}_responded"] = units[f"{prefix}_responded"].fillna(0).astype(int)
    units = units.merge(participation(trial), on="participant_id", how="left")
    for column in ("days_in_program", "checkins", "completed"):
        units[column] = units[column].fillna(0).astype(int)
    return units.drop(columns=["participant_id"])


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


def export_trial(trial: Trial) -> pd.DataFrame:
    """The full dataset of `patas export-trial` (text columns as strings, "" when missing, so
    every format, Stata's included, can hold them)."""
    frame = build_dataset(trial, surveys=survey_columns)
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]) and frame[column].dtype != bool:
            frame[column] = frame[column].fillna("").astype(str)
    return frame
