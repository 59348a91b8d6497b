"""The chat runner: a pure function of (form, state, event, now) -> prompts, new state, done.

State is a JSON-able dict kept on the session row:
    {"lang": "es", "answers": {name: value}, "current": name | None,
     "history": [answered names, oldest first], "status": "open" | "completed" | "timed_out",
     "errors": n}
Events: an answer (text and/or a reply id), "back", a timeout, a resume. Prompts are Cloud API
send bodies for `messaging.outbox`. Nothing here touches the database or the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from patas.surveys import engine, render
from patas.surveys.answers import parse_answer
from patas.surveys.form import Form, pick
from patas.surveys.phrases import RunnerWords, fold

State = dict[str, Any]

OPEN = "open"
COMPLETED = "completed"
TIMED_OUT = "timed_out"


@dataclass(frozen=True)
class Event:
    kind: str  # "answer" | "back" | "timeout" | "resume"
    text: str = ""
    reply_id: str = ""


@dataclass(frozen=True)
class Outcome:
    prompts: list[render.Payload]
    state: State
    done: bool = False
    answered: str = ""  # the question whose answer was saved by this event, if any
    problem: str = ""  # the phrase key when the answer was refused
    changes: dict[str, str] = field(default_factory=dict)


def event_for(text: str, reply_id: str, words: RunnerWords) -> Event:
    """What an inbound message means to the runner: "back" in the man's words, else an answer."""
    if not reply_id and fold(text) in words.back_words:
        return Event("back")
    return Event("answer", text=text, reply_id=reply_id)


def start(form: Form, lang: str, words: RunnerWords, now: datetime, tz: tzinfo = UTC) -> Outcome:
    lang = form.lang(lang)
    state: State = {
        "lang": lang,
        "answers": engine.defaults(form),
        "current": None,
        "history": [],
        "status": OPEN,
        "errors": 0,
    }
    return _forward(form, state, 0, words, now, tz, [])


def step(
    form: Form, state: State, event: Event, words: RunnerWords, now: datetime, tz: tzinfo = UTC
) -> Outcome:
    state = _copy(state)
    if event.kind == "timeout":
        state["status"] = TIMED_OUT
        return Outcome([], state, done=True)
    if state["status"] != OPEN and event.kind != "resume":
        return Outcome([], state, done=True)
    if event.kind == "resume":
        state["status"] = OPEN
        return _ask_current(form, state, words, [render.text(words.say("resume"))])
    if event.kind == "back":
        return _back(form, state, words)
    return _answer(form, state, event, words, now, tz)


def _copy(state: State) -> State:
    return {**state, "answers": dict(state["answers"]), "history": list(state["history"])}


def _ask_current(
    form: Form, state: State, words: RunnerWords, before: list[render.Payload]
) -> Outcome:
    if state["current"] is None:
        return Outcome(before, state, done=state["status"] != OPEN)
    q = form.question(state["current"])
    prompts = render.render_question(form, q, state["lang"], state["answers"], words)
    return Outcome(before + prompts, state)


def _back(form: Form, state: State, words: RunnerWords) -> Outcome:
    if not state["history"]:
        return _ask_current(form, state, words, [render.text(words.say("no_previous"))])
    state["current"] = state["history"].pop()
    return _ask_current(form, state, words, [])


def _answer(
    form: Form, state: State, event: Event, words: RunnerWords, now: datetime, tz: tzinfo
) -> Outcome:
    if state["current"] is None:
        return Outcome([], state, done=True)
    q = form.question(state["current"])
    lang = state["lang"]
    parsed = parse_answer(form, q, lang, event.text, event.reply_id, words)
    if parsed.value is None:
        return _refuse(form, state, words, words.say(parsed.problem), parsed.problem)
    problem = engine.check(form, q, parsed.value, state["answers"], now, tz)
    if problem is not None:
        message = pick(problem.message, lang, form.default_lang) or words.say(problem.key)
        return _refuse(form, state, words, message, problem.key)
    state["answers"][q.name] = parsed.value
    state["history"].append(q.name)
    state["errors"] = 0
    outcome = _forward(form, state, form.index(q.name) + 1, words, now, tz, [])
    return Outcome(
        outcome.prompts,
        outcome.state,
        outcome.done,
        answered=q.name,
        changes={q.name: parsed.value},
    )


def _refuse(form: Form, state: State, words: RunnerWords, message: str, key: str) -> Outcome:
    state["errors"] = int(state.get("errors", 0)) + 1
    outcome = _ask_current(form, state, words, [render.text(message)])
    return Outcome(outcome.prompts, outcome.state, problem=key)


def _forward(
    form: Form,
    state: State,
    start_at: int,
    words: RunnerWords,
    now: datetime,
    tz: tzinfo,
    before: list[render.Payload],
) -> Outcome:
    stop = engine.advance(form, state["answers"], start_at, now, tz)
    state["answers"] = stop.answers
    prompts = list(before)
    for index in stop.notes:
        prompts.append(render.render_note(form, form.questions[index], state["lang"], stop.answers))
    if stop.index is None:
        state["answers"] = engine.finalize(form, stop.answers, now, tz)
        state["current"] = None
        state["status"] = COMPLETED
        prompts.append(render.text(words.say("done")))
        return Outcome(prompts, state, done=True)
    state["current"] = form.questions[stop.index].name
    q = form.questions[stop.index]
    prompts += render.render_question(form, q, state["lang"], stop.answers, words)
    return Outcome(prompts, state)
