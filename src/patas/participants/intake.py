"""The intake conversation as a pure function: (state, his answer, rules) -> next state.

    welcome -> age -> lives with partner -> region -> preferred time -> consent
            -> [partner's number, when the program waits for her agreement] -> outcome

Answers are understood generously: "25", "veinticinco", "tengo 25 años", "twenty five";
"sí/si/claro/ok/yes"; buttons. What to send is returned as message keys of the content pack;
the shell (programs.actions) renders and enqueues them and applies the outcome.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any


class Outcome:
    ENROLLED = "enrolled"
    INELIGIBLE = "ineligible"
    DECLINED = "declined"
    WAITING_PARTNER = "waiting_partner"


@dataclass(frozen=True)
class IntakeRules:
    consent_version: str
    min_age: int = 18
    max_age: int = 60
    require_partner: bool = True
    ask_region: bool = True
    ask_preferred_time: bool = True
    partner_consent: bool = False


@dataclass(frozen=True)
class IntakeState:
    step: str = "start"
    answers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class IntakeResult:
    step: str
    answers: dict[str, Any]
    send: tuple[tuple[str, dict[str, Any]], ...] = ()  # (message key, placeholder values)
    outcome: str = ""  # one of Outcome, or "" while the conversation goes on
    understood: bool = True


QUESTIONS = {
    "age": "ask_age",
    "partner": "ask_partner",
    "region": "ask_region",
    "time": "ask_preferred_time",
    "consent": "consent",
    "partner_number": "ask_partner_number",
}


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(bare.casefold().split()).strip(" .,;:!?¡¿\"'()")


# ---- understanding answers -------------------------------------------------------------------

_UNITS = {
    "cero": 0,
    "uno": 1,
    "un": 1,
    "una": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
    "once": 11,
    "doce": 12,
    "trece": 13,
    "catorce": 14,
    "quince": 15,
    "dieciseis": 16,
    "diecisiete": 17,
    "dieciocho": 18,
    "diecinueve": 19,
    "veinte": 20,
    "veintiuno": 21,
    "veintiun": 21,
    "veintidos": 22,
    "veintitres": 23,
    "veinticuatro": 24,
    "veinticinco": 25,
    "veintiseis": 26,
    "veintisiete": 27,
    "veintiocho": 28,
    "veintinueve": 29,
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "treinta": 30,
    "cuarenta": 40,
    "cincuenta": 50,
    "sesenta": 60,
    "setenta": 70,
    "ochenta": 80,
    "noventa": 90,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}


def parse_age(text: str) -> int | None:
    """The first number in his answer, in digits or in Spanish/English words."""
    folded = fold(text)
    digits = re.search(r"\d{1,3}", folded)
    if digits:
        return int(digits.group())
    words = re.split(r"[\s\-]+", folded)
    for i, word in enumerate(words):
        if word in _TENS:
            value = _TENS[word]
            rest = words[i + 1 : i + 3]
            if rest[:1] == ["y"]:
                rest = rest[1:]
            if rest and rest[0] in _UNITS and _UNITS[rest[0]] < 10:
                value += _UNITS[rest[0]]
            return value
        if word in _UNITS:
            return _UNITS[word]
    return None


_YES = {
    "si",
    "yes",
    "claro",
    "ok",
    "okay",
    "okey",
    "dale",
    "sip",
    "yeah",
    "yep",
    "acepto",
    "de acuerdo",
    "por supuesto",
    "sure",
    "i agree",
    "agree",
    "si acepto",
    "claro que si",
}
_NO = {"no", "nop", "nope", "no gracias", "no thanks", "no acepto", "nel", "i don't agree"}


def parse_yes_no(text: str, reply_id: str) -> bool | None:
    if reply_id in {"yes", "accept"}:
        return True
    if reply_id in {"no", "decline"}:
        return False
    folded = fold(text)
    first = re.split(r"[\s,.;!]+", folded)[0] if folded else ""
    if folded in _YES or first in {"si", "claro", "yes", "ok", "dale", "acepto"}:
        return True
    if folded in _NO or first in {"no", "nop", "nope"}:
        return False
    return None


_SLOTS = {
    "morning": {"manana", "en la manana", "morning", "in the morning", "temprano"},
    "midday": {"mediodia", "al mediodia", "medio dia", "midday", "noon", "tarde"},
    "evening": {"noche", "en la noche", "evening", "night", "in the evening"},
}
_HOUR = re.compile(r"^(?:a las |at )?(\d{1,2})(?:[:h.](\d{2}))?\s*(am|pm)?$")


def parse_time(text: str, reply_id: str) -> str | int | None:
    """A slot ('morning'/'midday'/'evening') or an hour 0-23; None when not understood."""
    if reply_id in _SLOTS:
        return reply_id
    folded = fold(text).replace("a.m", "am").replace("p.m", "pm")
    for slot, words in _SLOTS.items():
        if folded in words:
            return slot
    match = _HOUR.match(folded)
    if match:
        hour = int(match.group(1))
        if match.group(3) == "pm" and hour < 12:
            hour += 12
        elif match.group(3) == "am" and hour == 12:
            hour = 0
        return hour if hour <= 23 else None
    return None


def parse_phone(text: str) -> str | None:
    digits = "".join(ch for ch in text if ch.isdigit())
    return digits if 8 <= len(digits) <= 15 else None


# ---- the conversation ------------------------------------------------------------------------


def _ask(step: str, rules: IntakeRules) -> tuple[str, dict[str, Any]]:
    key = QUESTIONS[step]
    return (key, {"version": rules.consent_version} if step == "consent" else {})


def next_question(after: str, rules: IntakeRules) -> str:
    """The step that follows `after`, skipping questions the program does not ask."""
    order = ["age", "partner", "region", "time", "consent"]
    skip = {
        "partner": not rules.require_partner,
        "region": not rules.ask_region,
        "time": not rules.ask_preferred_time,
    }
    start = order.index(after) + 1 if after in order else 0
    for step in order[start:]:
        if not skip.get(step, False):
            return step
    return "done"


def advance(state: IntakeState, text: str, reply_id: str, rules: IntakeRules) -> IntakeResult:
    """One of his messages moves the intake on by at most one question."""
    answers = dict(state.answers)
    if state.step == "start":
        first = next_question("start", rules)
        return IntakeResult(first, answers, (("welcome", {}), _ask(first, rules)))
    handler = _HANDLERS.get(state.step)
    if handler is None:  # finished: nothing more is said
        return IntakeResult(state.step, answers, ())
    return handler(state.step, answers, text, reply_id, rules)


def _not_understood(step: str, answers: dict[str, Any], rules: IntakeRules) -> IntakeResult:
    return IntakeResult(
        step, answers, (("not_understood", {}), _ask(step, rules)), understood=False
    )


def _move_on(step: str, answers: dict[str, Any], rules: IntakeRules) -> IntakeResult:
    following = next_question(step, rules)
    return IntakeResult(following, answers, (_ask(following, rules),))


def _close(answers: dict[str, Any], key: str, outcome: str) -> IntakeResult:
    return IntakeResult("done", answers, ((key, {}),), outcome)


def _on_age(
    step: str, answers: dict[str, Any], text: str, reply_id: str, rules: IntakeRules
) -> IntakeResult:
    age = parse_age(text)
    if age is None or age > 120:
        return _not_understood(step, answers, rules)
    answers["age"] = age
    if not rules.min_age <= age <= rules.max_age:
        return _close(answers, "ineligible_closing", Outcome.INELIGIBLE)
    return _move_on(step, answers, rules)


def _on_partner(
    step: str, answers: dict[str, Any], text: str, reply_id: str, rules: IntakeRules
) -> IntakeResult:
    lives_with = parse_yes_no(text, reply_id)
    if lives_with is None:
        return _not_understood(step, answers, rules)
    answers["lives_with_partner"] = lives_with
    if not lives_with:
        return _close(answers, "ineligible_closing", Outcome.INELIGIBLE)
    return _move_on(step, answers, rules)


def _on_region(
    step: str, answers: dict[str, Any], text: str, reply_id: str, rules: IntakeRules
) -> IntakeResult:
    region = " ".join(text.split())[:100]
    if not region:
        return _not_understood(step, answers, rules)
    answers["region"] = region
    return _move_on(step, answers, rules)


def _on_time(
    step: str, answers: dict[str, Any], text: str, reply_id: str, rules: IntakeRules
) -> IntakeResult:
    chosen = parse_time(text, reply_id)
    if chosen is None:
        return _not_understood(step, answers, rules)
    answers["time"] = chosen
    return _move_on(step, answers, rules)


def _on_consent(
    step: str, answers: dict[str, Any], text: str, reply_id: str, rules: IntakeRules
) -> IntakeResult:
    accepted = parse_yes_no(text, reply_id)
    if accepted is None:
        return _not_understood(step, answers, rules)
    answers["consent"] = "accept" if accepted else "decline"
    answers["consent_version"] = rules.consent_version
    if not accepted:
        return _close(answers, "declined_closing", Outcome.DECLINED)
    if rules.partner_consent:
        return IntakeResult("partner_number", answers, (_ask("partner_number", rules),))
    return IntakeResult("done", answers, (), Outcome.ENROLLED)


def _on_partner_number(
    step: str, answers: dict[str, Any], text: str, reply_id: str, rules: IntakeRules
) -> IntakeResult:
    phone = parse_phone(text)
    if phone is None:
        return _not_understood(step, answers, rules)
    # The number itself is not kept in `answers` (stored in clear): the shell encrypts it.
    answers["partner_number_given"] = True
    return IntakeResult(
        "waiting_partner", answers, (("waiting_partner", {}),), Outcome.WAITING_PARTNER
    )


_HANDLERS = {
    "age": _on_age,
    "partner": _on_partner,
    "region": _on_region,
    "time": _on_time,
    "consent": _on_consent,
    "partner_number": _on_partner_number,
}
