"""The intake conversation, pure: generous understanding, the order of questions, outcomes."""

import pytest

from patas.participants.intake import (
    IntakeRules,
    IntakeState,
    Outcome,
    advance,
    parse_age,
    parse_time,
    parse_yes_no,
)

RULES = IntakeRules(consent_version="C-1")


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("25", 25),
        ("veinticinco", 25),
        ("tengo 25 años", 25),
        ("twenty five", 25),
        ("twenty-five", 25),
        ("Treinta y dos", 32),
        ("cuarenta y siete años", 47),
        ("diecisiete", 17),
        ("I am 60", 60),
        ("sesenta", 60),
        ("eighteen", 18),
    ],
)
def test_ages_are_understood_generously(text, age):
    assert parse_age(text) == age


def test_an_answer_without_a_number_is_not_an_age():
    assert parse_age("no sé") is None


@pytest.mark.parametrize("text", ["sí", "si", "Claro", "ok", "YES", "Sí, claro", "dale"])
def test_yes_words(text):
    assert parse_yes_no(text, "") is True


@pytest.mark.parametrize("text", ["no", "No gracias", "nop"])
def test_no_words(text):
    assert parse_yes_no(text, "") is False


def test_buttons_win_over_text():
    assert parse_yes_no("whatever", "yes") is True
    assert parse_yes_no("whatever", "decline") is False


@pytest.mark.parametrize(
    ("text", "reply", "expected"),
    [
        ("", "evening", "evening"),
        ("En la mañana", "", "morning"),
        ("noche", "", "evening"),
        ("20", "", 20),
        ("7 pm", "", 19),
        ("a las 8", "", 8),
        ("8:00", "", 8),
        ("99", "", None),
    ],
)
def test_preferred_time(text, reply, expected):
    assert parse_time(text, reply) == expected


def _talk(*answers, rules=RULES):
    state = IntakeState()
    said = []
    result = None
    for text, reply in [("hola", ""), *answers]:
        result = advance(state, text, reply, rules)
        said.append([key for key, _ in result.send])
        state = IntakeState(result.step, result.answers)
    return result, said


def test_the_whole_conversation_to_enrolment():
    result, said = _talk(
        ("tengo 30", ""), ("", "yes"), ("Comas", ""), ("", "morning"), ("", "accept")
    )
    assert said == [
        ["welcome", "ask_age"],
        ["ask_partner"],
        ["ask_region"],
        ["ask_preferred_time"],
        ["consent"],
        [],
    ]
    assert result.outcome == Outcome.ENROLLED
    assert result.answers == {
        "age": 30,
        "lives_with_partner": True,
        "region": "Comas",
        "time": "morning",
        "consent": "accept",
        "consent_version": "C-1",
    }


def test_consent_carries_its_version():
    state = IntakeState("time", {})
    result = advance(state, "", "evening", RULES)
    assert result.send == (("consent", {"version": "C-1"}),)


def test_age_17_gets_the_kind_closing_and_nothing_more():
    result, said = _talk(("17", ""))
    assert result.outcome == Outcome.INELIGIBLE and said[-1] == ["ineligible_closing"]
    after = advance(IntakeState(result.step, result.answers), "hola?", "", RULES)
    assert after.send == () and after.outcome == ""


def test_not_living_with_a_partner_is_ineligible():
    result, _ = _talk(("40", ""), ("no", ""))
    assert result.outcome == Outcome.INELIGIBLE


def test_refusing_consent_closes_kindly():
    result, said = _talk(("40", ""), ("si", ""), ("Lima", ""), ("noche", ""), ("", "decline"))
    assert result.outcome == Outcome.DECLINED and said[-1] == ["declined_closing"]


def test_an_answer_not_understood_asks_again_without_moving():
    result = advance(IntakeState("age", {}), "mmm", "", RULES)
    assert result.step == "age" and not result.understood
    assert [k for k, _ in result.send] == ["not_understood", "ask_age"]


def test_questions_the_program_does_not_ask_are_skipped():
    rules = IntakeRules(
        consent_version="C-2", require_partner=False, ask_region=False, ask_preferred_time=False
    )
    result, said = _talk(("33", ""), ("sí", ""), rules=rules)
    assert said == [["welcome", "ask_age"], ["consent"], []]
    assert result.outcome == Outcome.ENROLLED


def test_partner_consent_asks_her_number_and_waits():
    rules = IntakeRules(consent_version="C-1", partner_consent=True)
    state = IntakeState("consent", {})
    result = advance(state, "", "accept", rules)
    assert result.step == "partner_number" and result.send == (("ask_partner_number", {}),)
    result = advance(IntakeState(result.step, result.answers), "+51 987 654 321", "", rules)
    assert result.outcome == Outcome.WAITING_PARTNER
    assert "987" not in str(result.answers)  # her number is never kept in clear
