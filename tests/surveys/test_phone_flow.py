"""The pure call flow and screen helpers of the phone runner (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from patas.surveys import phone
from patas.surveys.render import reply_id

from .helpers import small_form

HER = phone.Facts(partner=True, consented=False)
HER_AGAIN = phone.Facts(partner=True, consented=True)
HIM = phone.Facts(partner=False, consented=True)


def test_a_first_call_to_her_goes_identity_alone_consent_form() -> None:
    assert phone.decide("identity", "", "reached", HER).stage == "alone"
    assert phone.decide("alone", "", "alone_yes", HER).stage == "consent"
    agreed = phone.decide("consent", "", "consent_yes", HER)
    assert agreed.stage == "form" and agreed.consent is True and not agreed.outcome
    refused = phone.decide("consent", "", "consent_no", HER)
    assert (refused.stage, refused.outcome, refused.consent) == ("ended", "refused", False)


def test_a_later_call_skips_consent_and_a_man_goes_straight_to_the_form() -> None:
    assert phone.decide("alone", "", "alone_yes", HER_AGAIN).stage == "form"
    assert phone.decide("identity", "", "reached", HIM).stage == "form"


@pytest.mark.parametrize(
    ("stage", "action", "outcome"),
    [
        ("identity", "no_answer", "no_answer"),
        ("identity", "wrong_number", "wrong_number"),
        ("form", "completed", "completed"),
        ("form", "stop", "partial"),
        ("reschedule", "reschedule", "reschedule"),
        ("dummy", "end_interrupted", "interrupted"),
    ],
)
def test_each_ending_has_its_outcome(stage: str, action: str, outcome: str) -> None:
    decision = phone.decide(stage, "form", action, HER_AGAIN)
    assert (decision.stage, decision.outcome) == ("ended", outcome)


def test_not_alone_or_not_now_leads_to_the_reschedule_screen() -> None:
    assert phone.decide("alone", "", "alone_no", HER).stage == "reschedule"
    assert phone.decide("identity", "", "not_available", HER).stage == "reschedule"
    assert phone.decide("form", "", "later", HER_AGAIN).stage == "reschedule"


def test_someone_came_in_hides_the_screen_and_resume_goes_back_to_it() -> None:
    came_in = phone.decide("form", "", "interrupt", HER_AGAIN)
    assert (came_in.stage, came_in.resume_stage, came_in.interrupted) == ("dummy", "form", True)
    with pytest.raises(phone.CallFlowError):
        phone.decide("dummy", "form", "completed", HER_AGAIN)  # the real form stays hidden
    back = phone.decide("dummy", "form", "resume", HER_AGAIN)
    assert (back.stage, back.resumed) == ("form", True)


def test_actions_out_of_place_are_refused() -> None:
    with pytest.raises(phone.CallFlowError):
        phone.decide("identity", "", "consent_yes", HER)
    with pytest.raises(phone.CallFlowError):
        phone.decide("ended", "", "reached", HER)
    with pytest.raises(phone.CallFlowError):
        phone.decide("form", "", "interrupt", HIM)  # no dummy questions on a man's call


def test_answers_from_the_web_form_are_unambiguous() -> None:
    form = small_form()
    mood, topics, age = (form.question(n) for n in ("mood", "topics", "age"))
    assert phone.answer_event(mood, {"value": ["a2"]}) == ("", reply_id(mood, "a2"))
    assert phone.answer_event(mood, {}) == ("", "")
    assert phone.answer_event(topics, {"value": ["1", "3"]}) == ("1,3", "")
    assert phone.answer_event(age, {"value": [" 34 "]}) == ("34", "")


def test_a_screen_prefills_the_earlier_answer_and_reads_the_notes_before() -> None:
    form = small_form()
    screen = phone.screen_for(form, form.question("topics"), "en", {"topics": "money none"})
    assert screen.label == "What do you argue about?"
    assert [o.checked for o in screen.options] == [True, False, False, True]
    assert [o.value for o in screen.options] == ["1", "2", "3", "4"]
    notes = phone.notes_before(form, form.question("age"), "es", {"intro_name": "amigo"})
    assert notes == ("Hola amigo",)


def test_an_appointment_is_local_time_in_the_future() -> None:
    lima = ZoneInfo("America/Lima")
    now = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
    when = phone.appointment_from("2026-03-03T18:30", now, lima)
    assert when == datetime(2026, 3, 3, 23, 30, tzinfo=UTC)
    for bad in ("", "tomorrow", "2026-03-01T10:00", (now + timedelta(days=200)).isoformat()):
        with pytest.raises(phone.CallFlowError):
            phone.appointment_from(bad, now, lima)


def test_the_content_pack_has_the_script_and_neutral_dummy_questions() -> None:
    for lang in ("es", "en"):
        script = phone.script_for(lang)
        assert script.lang == lang and script.consent_version
        assert len(script.dummy) >= 5
        words = " ".join(q.text + " ".join(q.choices) for q in script.dummy).lower()
        for sensitive in ("pareja", "partner", "violencia", "violence", "sexual", "relación"):
            assert sensitive not in words
