"""Partners apart from the men; exports that reopen in pandas (CSV and Stata)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from patas.participants.models import Participant
from patas.surveys import actions
from patas.surveys.export import META, export_form, men_frame
from patas.surveys.models import Partner, PartnerSurveySession, Status

from .conftest import make_participant

pytestmark = pytest.mark.django_db


def finish_small(man: Participant, age: str, topics: str) -> None:
    session = actions.start_chat_survey(man, "small")
    for text in (age, "sí", "2", "1", topics, "saltar", "saltar"):
        session.refresh_from_db()
        if session.status != Status.OPEN:
            break
        actions.answer(session, text)


def test_partner_lives_apart_and_needs_consent(man: Participant, vclock) -> None:
    partner = actions.add_partner(man, "+51 999 111 222")
    assert partner.phone == "+51 999 111 222" and partner.phone_hash
    assert not hasattr(man, "partner") and not hasattr(man, "partner_set")
    assert Partner._meta.get_field("participant").remote_field.related_name == "+"
    with pytest.raises(actions.SurveyError, match="has not consented"):
        actions.start_partner_survey(partner, "partner_baseline")
    actions.record_partner_consent(
        partner, version="2026-01", accepted=True, actor="user:enumerator1"
    )
    with pytest.raises(actions.SurveyError, match="not a partners' form"):
        actions.start_partner_survey(partner, "men_baseline")
    enumerator = get_user_model().objects.create_user("enum1", password="x" * 12)
    session = actions.start_partner_survey(partner, "partner_baseline", enumerator=enumerator)
    assert session.mode == "phone" and session.current_question == "ctl_jealous"
    outcome = actions.answer_partner(session, "3", actor="user:enum1")
    assert outcome.answered == "ctl_jealous"
    session.refresh_from_db()
    assert session.answers["ctl_jealous"] == "3"
    # nothing was sent to anyone, and the man's survey tables know nothing of her
    from patas.messaging.models import Message

    assert not Message.objects.filter(direction=Message.Direction.OUT).exists()
    assert not man.survey_sessions.exists()
    assert PartnerSurveySession.objects.count() == 1


def test_export_men_csv_and_dta_reopen_with_expected_columns(
    small_record, vclock, tmp_path: Path
) -> None:
    first, second, third = (make_participant(i) for i in (1, 2, 3))
    finish_small(first, "30", "1,3")
    finish_small(second, "45", "4")
    actions.start_chat_survey(third, "small")  # unfinished: left out unless asked
    files = export_form("small", tmp_path)
    assert sorted(p.name for p in files) == ["small_men.csv", "small_men.dta"]
    csv = pd.read_csv(tmp_path / "small_men.csv", keep_default_na=False)
    dta = pd.read_stata(tmp_path / "small_men.dta")
    questions = [
        "age",
        "partner",
        "years",
        "mood",
        "topics",
        "region",
        "twice",
        "intro_name",
        "comment",
    ]
    for frame in (csv, dta):
        assert list(frame.columns) == META + questions
        assert len(frame) == 2
        assert list(frame["topics"]) == ["money chores", "none"]
        assert list(frame["age"]) == [30, 45]
        assert list(frame["_respondent"]) == [first.ref, second.ref]
        assert set(frame["_mode"]) == {"chat"}
    assert "_arm" not in csv.columns
    assert str(dta["_start"].dtype).startswith("datetime64")
    partial = men_frame("small", include_partial=True)
    assert len(partial) == 3 and set(partial["_status"]) == {"completed", "open"}


def test_researcher_export_adds_the_arm_and_partners_go_to_their_own_file(
    vclock, tmp_path: Path
) -> None:
    man = make_participant(1)
    partner = actions.add_partner(man, "51999000111")
    actions.record_partner_consent(partner, version="v1", accepted=True, actor="user:e")
    session = actions.start_partner_survey(partner, "partner_baseline")
    actions.answer_partner(session, "2", actor="user:e")
    files = export_form(
        "partner_baseline", tmp_path, arms={man.pk: "treatment"}, include_partial=True
    )
    assert sorted(p.name for p in files) == [
        "partner_baseline_partners.csv",
        "partner_baseline_partners.dta",
    ]
    frame = pd.read_stata(tmp_path / "partner_baseline_partners.dta")
    assert list(frame["_arm"]) == ["treatment"]
    assert list(frame["_respondent"]) == [partner.ref]
    assert "ctl_jealous" in frame.columns and "any_physical" in frame.columns


def test_export_command(small_record, vclock, tmp_path: Path) -> None:
    man = make_participant(1)
    finish_small(man, "30", "2")
    arms = tmp_path / "arms.csv"
    arms.write_text(f"participant_id,arm\n{man.pk},control\n")
    call_command(
        "export_surveys", "--form", "small", "--out", str(tmp_path / "out"), "--arms", str(arms)
    )
    frame = pd.read_csv(tmp_path / "out" / "small_men.csv", keep_default_na=False)
    assert list(frame["_arm"]) == ["control"]


def test_export_of_an_unknown_form_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no survey form 'nope' is installed"):
        export_form("nope", tmp_path)
    assert not tmp_path.joinpath("nope_men.csv").exists()
