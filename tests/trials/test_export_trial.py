"""`patas export-trial`: columns, de-identification, and the demo plan running on the export."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command

from patas.core.crypto import lookup_hash
from patas.participants.models import Participant
from patas.programs.models import Enrolment
from patas.programs.pack import get_pack
from patas.surveys import actions as surveys
from patas.surveys.models import Partner, PartnerSurveySession, Status, SurveySession
from patas.trials import actions as trials
from patas.trials import analyze, flow, plan
from patas.trials.export import export_trial
from patas.trials.models import Trial
from programs.world import inject, new_man

from .flow_pack import write_trial_pack

pytestmark = pytest.mark.django_db

PLAN = Path(__file__).resolve().parents[2] / "content/hablemos-entre-patas/analysis-plan.yaml"
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def _answer(q, rng: np.random.Generator, treated: bool, wave: str) -> str:
    if q.name == "age":
        return str(rng.integers(18, 61))
    if q.name == "drink_days":
        return str(rng.integers(0, 8))
    if q.type == "calculate":
        return str(int(rng.random() < (0.12 if treated and wave == "el" else 0.2)))
    names = [c.name for c in q.choices]
    if q.type == "select_multiple":
        return " ".join(sorted(set(rng.choice(names, 2))))
    if treated and wave == "el" and q.name.startswith("com_"):
        return names[-1] if rng.random() < 0.6 else str(rng.choice(names))
    return str(rng.choice(names))


def _answers(form_id: str, rng: np.random.Generator, treated: bool) -> dict[str, str]:
    form = surveys.form_of(surveys.form_record(form_id))
    wave = "el" if form_id.endswith("endline") else "bl"
    kinds = {"integer", "select_one", "select_multiple", "calculate"}
    return {q.name: _answer(q, rng, treated, wave) for q in form.questions if q.type in kinds}


def _session(model, form_id, rng, treated, **who):
    record = surveys.form_record(form_id)
    state = {"answers": _answers(form_id, rng, treated), "status": "completed"}
    return model(form=record, state=state, status=Status.COMPLETED, ended_at=START, **who)


def demo_trial(n: int = 160, seed: int = 5) -> Trial:
    """Men assigned by the in-program sequential procedure, with demo-form answers."""
    rng = np.random.default_rng(seed)
    program = get_pack().program
    trial = flow.trial_for(program, program.trial)
    men, her, endline = [], [], []
    for i in range(n):
        phone = f"5199{i:07d}"
        man = Participant.objects.create(phone=phone, phone_hash=lookup_hash(phone))
        row = trials.assign_next(trial, man, stratum=f"conflict_freq={rng.integers(0, 4)}")
        treated = row.arm == "treatment"
        men.append(_session(SurveySession, "men_baseline", rng, False, participant=man))
        partner = Partner.objects.create(participant=man, phone=f"5198{i:07d}")
        her.append(_session(PartnerSurveySession, "partner_baseline", rng, False, partner=partner))
        if rng.random() < 0.85:
            endline.append(_session(SurveySession, "men_endline", rng, treated, participant=man))
            endline.append(
                _session(PartnerSurveySession, "partner_endline", rng, treated, partner=partner)
            )
        if treated:
            Enrolment.objects.create(
                participant=man,
                program_id=program.id,
                program_version=program.version,
                current_day=30 if rng.random() < 0.67 else int(rng.integers(1, 30)),
            )
    SurveySession.objects.bulk_create(men + [s for s in endline if isinstance(s, SurveySession)])
    PartnerSurveySession.objects.bulk_create(
        her + [s for s in endline if isinstance(s, PartnerSurveySession)]
    )
    return trial


def test_the_export_has_the_plans_columns_and_no_identifiers(tmp_path):
    trial = demo_trial()
    frame = export_trial(trial)
    assert len(frame) == 160 and set(frame.arm) == {"control", "treatment"}
    for column in (
        "pseudonym",
        "stratum",
        "batch",
        "m_bl_age",
        "m_bl_jv_agree",
        "m_el_satisfaction",
        "p_bl_any_physical",
        "p_el_dec_food_shared",
        "p_el_consent_asks",
        "m_bl_responded",
        "p_el_responded",
        "days_in_program",
        "checkins",
        "completed",
    ):
        assert column in frame.columns, column
    assert not {"unit_id", "participant_id", "phone", "region"} & set(frame.columns)
    assert frame.m_bl_age.between(18, 60).all()
    assert set(frame.p_el_dec_food_shared.dropna()) <= {0.0, 1.0}
    assert frame.completed[frame.arm == "control"].eq(0).all()
    assert frame.completed[frame.arm == "treatment"].mean() > 0.4
    for suffix in (".csv", ".dta", ".parquet"):
        out = tmp_path / f"trial{suffix}"
        call_command("export_trial", out=str(out))
        assert out.stat().st_size > 0
    text = (tmp_path / "trial.csv").read_text()
    assert "5199000" not in text and "5198000" not in text  # no phone digits
    back = pd.read_stata(tmp_path / "trial.dta")
    assert len(back) == 160 and "p_el_responded" in back.columns


def test_the_demo_plan_runs_on_the_export(tmp_path):
    demo_trial(n=240, seed=8)
    out = tmp_path / "trial.csv"
    call_command("export_trial", out=str(out))
    data = pd.read_csv(out)
    the_plan = plan.load(PLAN).model_copy(update={"ri": plan.RI(draws=50, seed=1)})
    result = analyze.run(the_plan, data)
    primary = result.estimates[result.estimates.family == "primary"]
    assert len(primary) == 4 and primary.q_value.notna().all()
    assert primary.set_index("outcome").loc["communication_index", "estimate"] > 0
    report = tmp_path / "report"
    call_command("analyze", data=str(out), plan=str(PLAN), out=str(report))
    assert (report / "estimates.csv").exists() and (report / "report.html").exists()


def test_free_text_answers_never_reach_the_export(vclock, tmp_path, settings):
    vclock.set(START)
    write_trial_pack(tmp_path, settings)
    man = new_man()
    for text, reply in [("hola", ""), ("30", ""), ("si", ""), ("Miraflores", "")]:
        inject(man, text, reply)
    inject(man, "", "evening")
    inject(man, "", "accept")
    inject(man, "33")
    inject(man, "1", "survey:conflict_freq:1")
    inject(man, "Pepe el Grande")
    vclock.set(START + timedelta(hours=1))
    frame = export_trial(Trial.objects.get())
    assert list(frame.m_bl_age) == [33] and list(frame.m_bl_responded) == [1]
    assert "m_bl_nickname" not in frame.columns
    flat = frame.to_csv()
    digits = "".join(ch for ch in man.phone if ch.isdigit())
    assert "Pepe" not in flat and "Miraflores" not in flat and digits not in flat
