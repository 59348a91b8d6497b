"""Form logic shared by every runner (chat now, the console's phone runner later): pure functions.

Answers are ODK instance values: strings ("" when empty), select_multiple as space-separated
choice names, dates as YYYY-MM-DD. Expressions see them typed (numbers, dates) so that
`${age} > 20` and `${dob} < today()` behave as in ODK Collect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

from patas.surveys import xpath
from patas.surveys.form import Form, Question, Texts

Answers = dict[str, str]


def typed_values(form: Form, answers: Answers) -> dict[str, xpath.Value]:
    values: dict[str, xpath.Value] = {}
    for name, raw in answers.items():
        if not form.has(name) or raw == "":
            values[name] = raw
            continue
        kind = form.question(name).type
        if kind in {"integer", "decimal"}:
            values[name] = xpath.to_number(raw)
        elif kind == "date":
            try:
                values[name] = date.fromisoformat(raw)
            except ValueError:
                values[name] = raw
        else:
            values[name] = raw
    return values


def context(
    form: Form, answers: Answers, now: datetime, tz: tzinfo = UTC, current: xpath.Value = ""
) -> xpath.Context:
    return xpath.Context(values=typed_values(form, answers), current=current, now=now, tz=tz)


def is_relevant(q: Question, ctx: xpath.Context) -> bool:
    return all(xpath.to_bool(xpath.evaluate(cond, ctx)) for cond in q.relevant)


@dataclass(frozen=True)
class Stop:
    """Where `advance` stopped: the next question (None at the end) and the notes passed."""

    index: int | None
    notes: tuple[int, ...]
    answers: Answers


def advance(form: Form, answers: Answers, start: int, now: datetime, tz: tzinfo = UTC) -> Stop:
    """Walk from `start` to the next relevant question, computing calculates and collecting notes.

    Calculates are all recomputed first (ODK keeps them up to date whatever the position), and
    answers of questions that are not relevant are cleared as they are passed, as ODK does.
    """
    answers = recalculate(form, answers, now, tz)
    notes: list[int] = []
    for index in range(start, len(form.questions)):
        q = form.questions[index]
        ctx = context(form, answers, now, tz)
        if not is_relevant(q, ctx):
            answers.pop(q.name, None)
            continue
        if q.type == "calculate" and q.calculation is not None:
            answers[q.name] = xpath.to_string(xpath.evaluate(q.calculation, ctx))
        elif q.type == "note":
            notes.append(index)
        elif q.answered:
            return Stop(index, tuple(notes), answers)
    return Stop(None, tuple(notes), answers)


def recalculate(form: Form, answers: Answers, now: datetime, tz: tzinfo = UTC) -> Answers:
    answers = dict(answers)
    for q in form.questions:
        if q.type == "calculate" and q.calculation is not None:
            ctx = context(form, answers, now, tz)
            if is_relevant(q, ctx):
                answers[q.name] = xpath.to_string(xpath.evaluate(q.calculation, ctx))
            else:
                answers.pop(q.name, None)
    return answers


def finalize(form: Form, answers: Answers, now: datetime, tz: tzinfo = UTC) -> Answers:
    """The submitted answers: calculates recomputed in order, non-relevant answers cleared."""
    answers = dict(answers)
    for q in form.questions:
        ctx = context(form, answers, now, tz)
        if not is_relevant(q, ctx):
            answers.pop(q.name, None)
        elif q.type == "calculate" and q.calculation is not None:
            answers[q.name] = xpath.to_string(xpath.evaluate(q.calculation, ctx))
    return answers


@dataclass(frozen=True)
class Problem:
    """Why an answer was refused: a runner phrase key, and the form's own message if it has one."""

    key: str  # "required" | "invalid"
    message: Texts


def check(
    form: Form, q: Question, value: str, answers: Answers, now: datetime, tz: tzinfo = UTC
) -> Problem | None:
    """Required and constraint checks of a candidate value (already parsed to its ODK form)."""
    ctx = context(form, answers, now, tz)
    if value == "":
        if q.required is not None and xpath.to_bool(xpath.evaluate(q.required, ctx)):
            return Problem("required", q.required_message)
        return None  # ODK does not check constraints of empty answers
    if q.constraint is None:
        return None
    typed = typed_values(form, {**answers, q.name: value}).get(q.name, value)
    ctx.current = typed
    ctx.values[q.name] = typed
    if xpath.to_bool(xpath.evaluate(q.constraint, ctx)):
        return None
    return Problem("invalid", q.constraint_message)


def defaults(form: Form) -> Answers:
    return {q.name: q.default for q in form.questions if q.default and q.answered}
