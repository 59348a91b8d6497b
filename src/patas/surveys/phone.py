"""The phone call flow: pure functions of (call stage, action, facts) -> what happens next.

A partner call runs the safety script before any question: is it her (identity), is she alone
and able to talk (alone), her consent on the first call (consent), then the form. "Someone came
in" switches any of those screens to neutral dummy questions until the enumerator resumes. A
man's phone survey only checks it is him. The shell (`phone_actions`) applies the decisions.

Also here: a question as a web screen, and a submitted web form as the runner's answer event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.utils.translation import gettext as _

from patas.surveys.form import Form, Question, interpolate, pick
from patas.surveys.render import reply_id

IDENTITY, ALONE, CONSENT, FORM, RESCHEDULE, DUMMY, ENDED = (
    "identity",
    "alone",
    "consent",
    "form",
    "reschedule",
    "dummy",
    "ended",
)
# screens where the real subject may be on screen: "someone came in" hides them
GUARDED = {IDENTITY, ALONE, CONSENT, FORM, RESCHEDULE}

COMPLETED, PARTIAL, RESCHEDULED, NO_ANSWER, WRONG_NUMBER, REFUSED, INTERRUPTED = (
    "completed",
    "partial",
    "reschedule",
    "no_answer",
    "wrong_number",
    "refused",
    "interrupted",
)


class CallFlowError(ValueError):
    """An action that does not belong on the call's current screen (nothing changes)."""


@dataclass(frozen=True)
class Facts:
    partner: bool  # a call to a partner (the safety script applies)
    consented: bool  # she already gave consent (on an earlier call)


@dataclass(frozen=True)
class Decision:
    stage: str
    resume_stage: str = ""
    outcome: str = ""  # set when the call ends
    consent: bool | None = None  # her answer to record, if any
    interrupted: bool = False  # someone came in now
    resumed: bool = False


def after_identity(facts: Facts) -> str:
    return ALONE if facts.partner else FORM


def after_alone(facts: Facts) -> str:
    return FORM if facts.consented else CONSENT


_MOVES: dict[tuple[str, str], Any] = {
    (IDENTITY, "reached"): lambda f: Decision(after_identity(f)),
    (IDENTITY, "no_answer"): lambda f: Decision(ENDED, outcome=NO_ANSWER),
    (IDENTITY, "wrong_number"): lambda f: Decision(ENDED, outcome=WRONG_NUMBER),
    (IDENTITY, "not_available"): lambda f: Decision(RESCHEDULE),
    (ALONE, "alone_yes"): lambda f: Decision(after_alone(f)),
    (ALONE, "alone_no"): lambda f: Decision(RESCHEDULE),
    (CONSENT, "consent_yes"): lambda f: Decision(FORM, consent=True),
    (CONSENT, "consent_no"): lambda f: Decision(ENDED, outcome=REFUSED, consent=False),
    (FORM, "completed"): lambda f: Decision(ENDED, outcome=COMPLETED),
    (FORM, "stop"): lambda f: Decision(ENDED, outcome=PARTIAL),
    (FORM, "later"): lambda f: Decision(RESCHEDULE),
}


def decide(stage: str, resume_stage: str, action: str, facts: Facts) -> Decision:
    """The next screen (and outcome, consent, interruption) of a call after `action`."""
    if stage == ENDED:
        raise CallFlowError(_("This call has ended."))
    if action == "interrupt":
        if not facts.partner or stage not in GUARDED:
            raise CallFlowError(_("“Someone came in” does not apply on this screen."))
        return Decision(DUMMY, resume_stage=stage, interrupted=True)
    if stage == DUMMY:
        if action == "resume":
            return Decision(resume_stage or after_identity(facts), resumed=True)
        if action == "end_interrupted":
            return Decision(ENDED, outcome=INTERRUPTED)
        raise CallFlowError(_("Resume the survey or end the call first."))
    if stage == RESCHEDULE and action == "reschedule":
        return Decision(ENDED, outcome=RESCHEDULED)
    move = _MOVES.get((stage, action))
    if move is None:
        raise CallFlowError(_("That step does not apply on this screen."))
    decision: Decision = move(facts)
    return decision


# --- a question as a web screen ---------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    checked: bool = False


@dataclass(frozen=True)
class Screen:
    name: str
    type: str
    label: str
    hint: str
    required: bool
    options: tuple[Option, ...] = ()
    value: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def screen_for(form: Form, q: Question, lang: str, answers: dict[str, str]) -> Screen:
    """What the enumerator reads and fills for `q` (prefilled with an earlier answer)."""
    value = answers.get(q.name, "")
    chosen = set(value.split()) if q.type == "select_multiple" else {value}
    options = tuple(
        Option(
            c.name if q.type == "select_one" else str(i),
            c.label_for(lang, form.default_lang),
            c.name in chosen,
        )
        for i, c in enumerate(q.choices, start=1)
    )
    hint = pick(q.hint, lang, form.default_lang) if q.hint else ""
    return Screen(
        name=q.name,
        type=q.type,
        label=interpolate(q.label_for(lang, form.default_lang), answers) or q.name,
        hint=interpolate(hint, answers),
        required=q.required is not None,
        options=options,
        value=value,
    )


def notes_before(form: Form, q: Question, lang: str, answers: dict[str, str]) -> tuple[str, ...]:
    """The notes just before `q` in the form (read aloud with it)."""
    notes: list[str] = []
    for earlier in reversed(form.questions[: form.index(q.name)]):
        if earlier.type == "calculate":
            continue
        if earlier.type != "note":
            break
        notes.append(interpolate(earlier.label_for(lang, form.default_lang), answers))
    return tuple(reversed(notes))


def answer_event(q: Question, posted: dict[str, list[str]]) -> tuple[str, str]:
    """(text, reply_id) for the runner from a submitted screen; unambiguous for every type.

    select_one goes as the choice's reply id, select_multiple as choice numbers ("1,3"), so a
    choice named "1" is never confused with the first choice.
    """
    values = [v for v in posted.get("value", []) if v.strip()]
    if q.type == "select_one":
        return ("", reply_id(q, values[0])) if values else ("", "")
    if q.type == "select_multiple":
        return (",".join(values), "")
    return (values[0].strip() if values else "", "")


# --- the content pack's call script and dummy questions -------------------------------------


@dataclass(frozen=True)
class DummyQuestion:
    text: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Script:
    lang: str
    lines: dict[str, str]
    dummy: tuple[DummyQuestion, ...]
    consent_version: str

    def say(self, key: str) -> str:
        return self.lines.get(key, "")


SCRIPT_LINES = ("identity", "identity_men", "alone", "reschedule", "consent", "refused", "goodbye")


def surveys_dir() -> Path:
    return Path(settings.CONTENT_DIR) / settings.DEFAULT_PROGRAM / "surveys"


def script_for(lang: str, directory: Path | None = None) -> Script:
    folder = directory or surveys_dir()
    script_file, dummy_file = folder / "call_script.yaml", folder / "dummy.yaml"
    return _script(str(script_file), str(dummy_file), lang, _mtime(script_file, dummy_file))


def _mtime(*paths: Path) -> float:
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: the phone survey content file is missing")
    return max(p.stat().st_mtime for p in paths)


@lru_cache(maxsize=16)
def _script(script_file: str, dummy_file: str, lang: str, mtime: float) -> Script:
    script = yaml.safe_load(Path(script_file).read_text(encoding="utf-8")) or {}
    dummy = yaml.safe_load(Path(dummy_file).read_text(encoding="utf-8")) or {}
    chosen = lang if lang in script and lang in dummy else "es"
    lines = {str(k): str(v) for k, v in (script.get(chosen) or {}).items()}
    missing = [k for k in SCRIPT_LINES if not lines.get(k)]
    if missing:
        raise ValueError(f"{script_file}: language '{chosen}' lacks lines: {', '.join(missing)}")
    questions = []
    for i, item in enumerate(dummy.get(chosen) or [], start=1):
        if not isinstance(item, dict) or not str(item.get("text", "")).strip():
            raise ValueError(f"{dummy_file}: {chosen} question {i} needs a text")
        questions.append(DummyQuestion(str(item["text"]), tuple(map(str, item.get("choices", [])))))
    if not questions:
        raise ValueError(f"{dummy_file}: no dummy questions for '{chosen}'")
    version = str(script.get("partner_consent_version", "")).strip()
    if not version:
        raise ValueError(f"{script_file}: partner_consent_version is required")
    return Script(chosen, lines, tuple(questions), version)


def appointment_from(text: str, now: datetime, tz: tzinfo, *, max_days: int = 90) -> datetime:
    """A rescheduled call time typed in the picker (local "YYYY-MM-DDTHH:MM") as aware UTC."""
    try:
        local = datetime.fromisoformat(text.strip())
    except ValueError:
        raise CallFlowError(_("Choose the day and time of the next call.")) from None
    when = (local if local.tzinfo else local.replace(tzinfo=tz)).astimezone(UTC)
    if when <= now:
        raise CallFlowError(_("The next call must be in the future."))
    if when > now + timedelta(days=max_days):
        raise CallFlowError(_("The next call must be within %(days)d days.") % {"days": max_days})
    return when
