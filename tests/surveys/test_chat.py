"""The pure chat runner: prompts, tolerant answers, skip logic, constraints, back, timeout."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from patas.surveys import chat, render
from patas.surveys.form import Form

from .helpers import small_form, words

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def body(payload: dict[str, Any]) -> str:
    if payload["type"] == "text":
        return str(payload["text"]["body"])
    return str(payload["interactive"]["body"]["text"])


def say(
    form: Form, state: dict[str, Any], text: str = "", reply_id: str = "", lang: str = "es"
) -> chat.Outcome:
    return chat.step(form, state, chat.event_for(text, reply_id, words(lang)), words(lang), NOW)


def test_start_sends_notes_then_the_first_question() -> None:
    form = small_form()
    out = chat.start(form, "es", words(), NOW)
    assert [body(p) for p in out.prompts] == ["Hola amigo", "¿Qué edad tiene?"]
    assert out.state["current"] == "age" and not out.done


def test_whole_survey_with_skip_logic_and_tolerant_answers() -> None:
    form = small_form()
    state = chat.start(form, "es", words(), NOW).state
    out = say(form, state, "veinticinco")
    assert out.answered == "age" and out.state["answers"]["age"] == "25"
    buttons = out.prompts[0]["interactive"]
    assert buttons["type"] == "button"
    assert [b["reply"]["id"] for b in buttons["action"]["buttons"]] == [
        "survey:partner:yes",
        "survey:partner:no",
    ]
    out = say(form, out.state, "NO")  # typed, any case: years is skipped by relevant
    assert out.state["current"] == "mood"
    out = say(form, out.state, reply_id="survey:mood:a2")  # a tapped list row
    assert out.state["answers"]["mood"] == "a2"
    out = say(form, out.state, "1 y 3")
    assert out.state["answers"]["topics"] == "money chores"
    out = say(form, out.state, "arequipa")
    assert out.state["answers"]["region"] == "r2"
    out = say(form, out.state, "Nada más")
    assert out.done and out.state["status"] == chat.COMPLETED
    assert out.state["answers"] == {
        "age": "25",
        "partner": "no",
        "mood": "a2",
        "topics": "money chores",
        "region": "r2",
        "twice": "50",
        "intro_name": "amigo",
        "comment": "Nada más",
    }
    assert body(out.prompts[-1]) == words().say("done")


def test_wrong_answers_are_re_asked_with_the_right_message() -> None:
    form = small_form()
    state = chat.start(form, "en", words("en"), NOW).state
    out = say(form, state, "old", lang="en")
    assert out.problem == "answer_integer" and out.state["current"] == "age"
    assert body(out.prompts[0]) == words("en").say("answer_integer")
    assert body(out.prompts[1]) == "How old are you?"
    out = say(form, out.state, "70", lang="en")  # the form's constraint message, in English
    assert out.problem == "invalid" and body(out.prompts[0]) == "You must be 18 to 60."
    out = say(form, out.state, "skip", lang="en")  # required: cannot be skipped
    assert out.problem == "required" and body(out.prompts[0]) == words("en").say("required")
    out = say(form, out.state, "40", lang="en")
    out = say(form, out.state, "yes", lang="en")
    assert out.state["current"] == "years"
    out = say(form, out.state, "41", lang="en")  # constraint refers to another answer
    assert out.problem == "invalid" and body(out.prompts[0]) == "Cannot exceed your age."
    out = say(form, out.state, "12", lang="en")
    assert out.state["answers"]["years"] == "12" and out.state["current"] == "mood"
    assert out.state["errors"] == 0


def test_select_multiple_constraint_and_bad_numbers() -> None:
    form = small_form()
    state = chat.start(form, "es", words(), NOW).state
    for text in ("30", "si", "3", "1"):
        state = say(form, state, text).state
    assert state["current"] == "topics"
    out = say(form, state, "1,4")
    assert out.problem == "invalid" and body(out.prompts[0]) == "Ninguno va solo."
    out = say(form, out.state, "1,9")
    assert out.problem == "answer_choices"
    out = say(form, out.state, "4")
    assert out.state["answers"]["topics"] == "none"


def test_back_re_asks_the_previous_answered_question_and_skip_logic_follows() -> None:
    form = small_form()
    state = chat.start(form, "es", words(), NOW).state
    for text in ("30", "sí", "5"):
        state = say(form, state, text).state
    assert state["current"] == "mood" and state["answers"]["years"] == "5"
    out = say(form, state, "Atrás")
    assert out.state["current"] == "years" and out.answered == ""
    out = say(form, out.state, "atras")
    assert out.state["current"] == "partner"
    out = say(form, out.state, "no")  # now years is not relevant: it is cleared when passed
    assert out.state["current"] == "mood"
    assert "years" not in out.state["answers"]
    state = out.state
    for text in ("1", "2", "3", "ok"):
        state = say(form, state, text).state
    assert state["status"] == chat.COMPLETED and "years" not in state["answers"]


def test_back_on_the_first_question_says_so() -> None:
    form = small_form()
    state = chat.start(form, "es", words(), NOW).state
    out = say(form, state, "atrás")
    assert body(out.prompts[0]) == words().say("no_previous")
    assert out.state["current"] == "age"


def test_stale_button_is_not_taken_as_this_answer() -> None:
    form = small_form()
    state = chat.start(form, "es", words(), NOW).state
    for text in ("30", "no"):
        state = say(form, state, text).state
    out = say(form, state, reply_id="survey:partner:yes")  # an old button, while mood is asked
    assert out.problem == "answer_choice" and out.state["current"] == "mood"


def test_timeout_and_resume() -> None:
    form = small_form()
    state = say(form, chat.start(form, "es", words(), NOW).state, "30").state
    out = chat.step(form, state, chat.Event("timeout"), words(), NOW)
    assert out.done and out.state["status"] == chat.TIMED_OUT and out.prompts == []
    assert say(form, out.state, "sí").prompts == []  # closed sessions ignore answers
    out = chat.step(form, out.state, chat.Event("resume"), words(), NOW)
    assert body(out.prompts[0]) == words().say("resume")
    assert out.state["current"] == "partner" and out.state["answers"]["age"] == "30"


def test_rendering_buttons_list_and_numbered_text() -> None:
    form = small_form()
    w = words()
    partner = render.render_question(form, form.question("partner"), "es", {}, w)[0]
    assert partner["interactive"]["type"] == "button"
    mood = render.render_question(form, form.question("mood"), "es", {}, w)[0]
    rows = mood["interactive"]["action"]["sections"][0]["rows"]
    assert mood["interactive"]["type"] == "list" and len(rows) == 5
    assert all(len(r["title"]) <= 24 for r in rows)
    assert rows[4]["title"].endswith("…") and rows[4]["description"].startswith("Muy mal, con")
    assert len(mood["interactive"]["action"]["button"]) <= 20
    region = render.render_question(form, form.question("region"), "es", {}, w)[0]
    assert region["type"] == "text" and "11. Otra" in region["text"]["body"]
    assert w.say("skip_hint") in region["text"]["body"]  # not required: can be skipped
    topics = render.render_question(form, form.question("topics"), "es", {}, w)[0]
    assert topics["type"] == "text" and w.say("choose_many") in topics["text"]["body"]


def test_shorten_cuts_at_a_word() -> None:
    assert render.shorten("Muy en desacuerdo totalmente", 20) == "Muy en desacuerdo…"
    assert render.shorten("Corto", 20) == "Corto"
    assert len(render.shorten("x" * 40, 20)) == 20


def test_truncated_button_titles_keep_the_full_wording_in_the_body() -> None:
    from patas.surveys.form import load_form

    source = (
        "| survey |\n| | type | name | label |\n| | select_one c | q | Which? |\n"
        "| choices |\n| | list_name | name | label |\n"
        "| | c | a | Totalmente de acuerdo con esto |\n| | c | b | No |\n"
    )
    form = load_form(source.encode(), file_name="c.md")
    payload = render.render_question(form, form.questions[0], "default", {}, words())[0]
    titles = [b["reply"]["title"] for b in payload["interactive"]["action"]["buttons"]]
    assert titles == ["Totalmente de…", "No"]
    assert "• Totalmente de acuerdo con esto" in payload["interactive"]["body"]["text"]


def test_dates_decimals_and_number_words() -> None:
    from patas.surveys.form import load_form

    source = (
        "| survey |\n| | type | name | label | constraint |\n"
        "| | date | dob | Born? | . < today() |\n| | decimal | kg | Weight? | |\n"
        "| | integer | kids | Kids? | |\n"
    )
    form = load_form(source.encode(), file_name="d.md")
    state = chat.start(form, "en", words("en"), NOW).state
    out = say(form, state, "31/02/1990", lang="en")
    assert out.problem == "answer_date"
    out = say(form, out.state, "01/01/2030", lang="en")
    assert out.problem == "invalid"
    out = say(form, out.state, "17/05/1990", lang="en")
    out = say(form, out.state, "72,5", lang="en")
    out = say(form, out.state, "Three", lang="en")
    assert out.state["answers"] == {"dob": "1990-05-17", "kg": "72.5", "kids": "3"}
