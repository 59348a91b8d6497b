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
    return {name: typed_value(form, name, raw) for name, raw in answers.items()}


def typed_value(form: Form, name: str, raw: str) -> xpath.Value:
    """One answer as expressions see it: numbers and dates typed, everything else as given."""
    if raw == "":
        return raw
    kind = form.typed_kinds.get(name)  # only numbers and dates are typed
    if kind is None:
        return raw
    if kind in {"integer", "decimal"}:
        return xpath.to_number(raw)
    if kind == "date":
        try:
            return date.fromisoformat(raw)
        except ValueError:
            return raw
    return raw


def context(
    form: Form, answers: Answers, now: datetime, tz: tzinfo = UTC, current: xpath.Value = ""
) -> xpath.Context:
    return xpath.Context(values=typed_values(form, answers), current=current, now=now, tz=tz)


class _Walk:
    """Answers and their typed context, changed together as a walk through the form sets and
    clears them: the context is built once per walk, not once per question (a 40-question
    survey walked to the end re-typed every answer 40 times)."""

    def __init__(self, form: Form, answers: Answers, now: datetime, tz: tzinfo) -> None:
        self.form, self.answers = form, dict(answers)
        self.ctx = context(form, self.answers, now, tz)

    def relevant(self, q: Question) -> bool:
        return is_relevant(q, self.ctx)

    def clear(self, name: str) -> None:
        self.answers.pop(name, None)
        self.ctx.values.pop(name, None)

    def calculate(self, q: Question) -> None:
        assert q.calculation is not None
        raw = xpath.to_string(xpath.evaluate(q.calculation, self.ctx))
        self.answers[q.name] = raw
        self.ctx.values[q.name] = typed_value(self.form, q.name, raw)


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
    walk = _recalculated(form, answers, now, tz)
    notes: list[int] = []
    for index in range(start, len(form.questions)):
        q = form.questions[index]
        if not walk.relevant(q):
            walk.clear(q.name)
            continue
        if q.type == "calculate" and q.calculation is not None:
            walk.calculate(q)
        elif q.type == "note":
            notes.append(index)
        elif q.answered:
            return Stop(index, tuple(notes), walk.answers)
    return Stop(None, tuple(notes), walk.answers)


def recalculate(form: Form, answers: Answers, now: datetime, tz: tzinfo = UTC) -> Answers:
    return _recalculated(form, answers, now, tz).answers


def _recalculated(form: Form, answers: Answers, now: datetime, tz: tzinfo) -> _Walk:
    """A walk whose calculates are recomputed: `advance` goes on with it (its context already
    typed) instead of typing every answer again."""
    walk = _Walk(form, answers, now, tz)
    for q in form.calculates:
        if walk.relevant(q):
            walk.calculate(q)
        else:
            walk.clear(q.name)
    return walk


def finalize(form: Form, answers: Answers, now: datetime, tz: tzinfo = UTC) -> Answers:
    """The submitted answers: calculates recomputed in order, non-relevant answers cleared."""
    walk = _Walk(form, answers, now, tz)
    for q in form.questions:
        if not walk.relevant(q):
            walk.clear(q.name)
        elif q.type == "calculate" and q.calculation is not None:
            walk.calculate(q)
    return walk.answers


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
