"""Survey data as ODK/Kobo users expect it: one row per submission, columns named after questions.

select_multiple answers are space-separated choice names; metadata columns start with "_"
(submission id, respondent pseudonym, start, end, mode, enumerator, status, language, form
version). The arm appears only when a researcher's export passes the assignment. Men and
partners are always written to separate files.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from patas.surveys.actions import form_of
from patas.surveys.form import Question
from patas.surveys.models import (
    PartnerSurveySession,
    SessionBase,
    Status,
    SurveyForm,
    SurveySession,
)

META = [
    "_uuid",
    "_respondent",
    "_form_version",
    "_start",
    "_end",
    "_mode",
    "_enumerator",
    "_status",
    "_lang",
]
EXPORTED = {
    "text",
    "integer",
    "decimal",
    "select_one",
    "select_multiple",
    "date",
    "calculate",
    "start",
    "end",
    "today",
}
NUMERIC = {"integer", "decimal"}


def _questions(form_id: str) -> list[Question]:
    """Exported questions of every version of the form, newest version's order first."""
    seen: dict[str, Question] = {}
    for record in SurveyForm.objects.filter(form_id=form_id).order_by("-installed_at", "-id"):
        for q in form_of(record).questions:
            if q.type in EXPORTED and q.name not in seen:
                seen[q.name] = q
    return list(seen.values())


def _meta_value(q: Question, session: SessionBase) -> Any:
    if q.type == "start":
        return session.started_at
    if q.type == "end":
        return session.ended_at
    return session.started_at.date().isoformat()  # today


def _row(session: SessionBase, respondent: str, questions: list[Question]) -> dict[str, Any]:
    answers = session.answers
    row: dict[str, Any] = {
        "_uuid": str(session.uid),
        "_respondent": respondent,
        "_form_version": session.form.version,
        "_start": session.started_at,
        "_end": session.ended_at,
        "_mode": session.mode,
        "_enumerator": session.enumerator.get_username() if session.enumerator else "",
        "_status": session.status,
        "_lang": session.lang,
    }
    for q in questions:
        row[q.name] = (
            _meta_value(q, session)
            if q.type in {"start", "end", "today"}
            else answers.get(q.name, "")
        )
    return row


def _statuses(include_partial: bool) -> list[str]:
    return list(Status) if include_partial else [Status.COMPLETED]


def men_frame(
    form_id: str, *, arms: Mapping[int, str] | None = None, include_partial: bool = False
) -> pd.DataFrame:
    questions = _questions(form_id)
    sessions = (
        SurveySession.objects.filter(form__form_id=form_id, status__in=_statuses(include_partial))
        .select_related("form", "participant", "enumerator")
        .defer("form__source")
        .order_by("started_at", "id")
    )
    rows = []
    for s in sessions:
        row = _row(s, s.participant.ref, questions)
        if arms is not None:
            row["_arm"] = arms.get(s.participant_id, "")
        rows.append(row)
    return _typed(rows, questions, arms is not None)


def partners_frame(
    form_id: str, *, arms: Mapping[int, str] | None = None, include_partial: bool = False
) -> pd.DataFrame:
    """Her answers; `arms` is keyed by the man's participant id (her arm is his)."""
    questions = _questions(form_id)
    sessions = (
        PartnerSurveySession.objects.filter(
            form__form_id=form_id, status__in=_statuses(include_partial)
        )
        .select_related("form", "partner", "enumerator")
        .defer("form__source")
        .order_by("started_at", "id")
    )
    rows = []
    for s in sessions:
        row = _row(s, s.partner.ref, questions)
        if arms is not None:
            row["_arm"] = arms.get(s.partner.participant_id, "")
        rows.append(row)
    return _typed(rows, questions, arms is not None)


def _typed(rows: list[dict[str, Any]], questions: list[Question], with_arm: bool) -> pd.DataFrame:
    columns = META + [q.name for q in questions] + (["_arm"] if with_arm else [])
    frame = pd.DataFrame(rows, columns=columns)
    for column in ("_start", "_end"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    for q in questions:
        if q.type in NUMERIC:
            frame[q.name] = pd.to_numeric(frame[q.name].replace("", None), errors="coerce")
        elif q.type in {"start", "end"}:
            frame[q.name] = pd.to_datetime(frame[q.name], utc=True)
        else:
            frame[q.name] = frame[q.name].fillna("").astype(str)
    for column in META:
        if column not in {"_start", "_end"}:
            frame[column] = frame[column].fillna("").astype(str)
    if with_arm:
        frame["_arm"] = frame["_arm"].fillna("").astype(str)
    return frame


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    return path


def write_dta(frame: pd.DataFrame, path: Path, *, label: str = "") -> Path:
    """Stata 118 (unicode); times as %tc in UTC."""
    out = frame.copy()
    dates = {}
    for column in out.columns:
        if isinstance(out[column].dtype, pd.DatetimeTZDtype):
            out[column] = out[column].dt.tz_convert("UTC").dt.tz_localize(None)
            dates[column] = "tc"
    out.to_stata(
        path, write_index=False, version=118, convert_dates=dates, data_label=label[:80] or None
    )
    return path


def export_form(
    form_id: str,
    out_dir: Path,
    *,
    arms: Mapping[int, str] | None = None,
    include_partial: bool = False,
) -> list[Path]:
    """Write <form>_men.csv/.dta and <form>_partners.csv/.dta (each only if it has rows, or if
    the form is for that audience). Returns the files written."""
    records = SurveyForm.objects.filter(form_id=form_id)
    if not records.exists():
        raise ValueError(f"no survey form '{form_id}' is installed")
    audiences = set(records.values_list("audience", flat=True))
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    frames = {
        SurveyForm.Audience.MEN: men_frame(form_id, arms=arms, include_partial=include_partial),
        SurveyForm.Audience.PARTNERS: partners_frame(
            form_id, arms=arms, include_partial=include_partial
        ),
    }
    for audience, frame in frames.items():
        if frame.empty and audience not in audiences:
            continue
        stem = out_dir / f"{form_id}_{audience}"
        written.append(write_csv(frame, stem.with_suffix(".csv")))
        written.append(write_dta(frame, stem.with_suffix(".dta"), label=f"{form_id} {audience}"))
    return written
